"""Forms of the report pages."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, RadioField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from crm import clock
from crm.codes import HeadlineRule
from crm.forms import (
    CrmForm,
    LocalDateField,
    LocalIntegerField,
    VersionedForm,
    choices,
    count_field,
)
from crm.i18n import LANGUAGE_NAMES
from crm.reports.counting import MAX_YEAR, MIN_YEAR, Period

YEAR_RANGE = NumberRange(
    min=MIN_YEAR, max=MAX_YEAR, message=_l("Enter a year between 1990 and 2999.")
)
PERIOD_KINDS = (
    ("year", _l("Calendar year (1 January to 31 December)")),
    ("ga_year", _l("General Assembly year (1 February to 31 January)")),
    ("range", _l("Dates of your choice")),
)


class PeriodForm(CrmForm):
    """Which period the report shows; a GET form, read from the address."""

    class Meta:
        csrf = False

    kind = RadioField(_l("Period"), choices=choices(PERIOD_KINDS), default="year")
    year = LocalIntegerField(
        _l("Year"),
        validators=[Optional(), YEAR_RANGE],
        description=_l("A General Assembly year is named after the year it starts in."),
    )
    start = LocalDateField(_l("First day"), validators=[Optional()])
    end = LocalDateField(_l("Last day"), validators=[Optional()])

    def validate(self, extra_validators: Any = None) -> bool:
        if not super().validate(extra_validators):
            return False
        if self.kind.data == "range":
            missing = False
            for field in (self.start, self.end):
                if field.data is None:
                    field.errors = [*field.errors, _l("Enter a date as YYYY-MM-DD.")]
                    missing = True
            if missing:
                return False
            if self.start.data > self.end.data:
                self.end.errors = [
                    *self.end.errors,
                    _l("The last day must be on or after the first day."),
                ]
                return False
            try:
                Period(self.start.data, self.end.data)
            except ValueError:
                self.start.errors = [*self.start.errors, _l("Enter a year between 1990 and 2999.")]
                return False
        elif self.year.data is None:
            self.year.errors = [*self.year.errors, _l("Enter a year.")]
            return False
        return True

    def period(self) -> Period:
        if self.kind.data == "range":
            return Period(self.start.data, self.end.data)
        if self.kind.data == "ga_year":
            return Period.ga_year(self.year.data)
        return Period.year(self.year.data)

    @classmethod
    def for_period(cls, p: Period) -> dict[str, str]:
        """The query-string arguments that show ``p``."""
        if p.kind == "year":
            return {"kind": "year", "year": str(p.start.year)}
        if p.kind == "ga_year":
            return {"kind": "ga_year", "year": str(p.start.year)}
        return {"kind": "range", "start": p.start.isoformat(), "end": p.end.isoformat()}


def default_period() -> Period:
    return Period.year(clock.today().year)


class LockForm(CrmForm):
    """Lock the figures of the period shown (reporting officer)."""

    name = StringField(
        _l("Name of the published period"),
        validators=[DataRequired(message=_l("Give the period a name.")), Length(max=200)],
        description=_l("For instance: Report on 2024 results."),
    )
    start = HiddenField()
    end = HiddenField()
    version = HiddenField()


class UnlockForm(VersionedForm):
    reason = StringField(
        _l("Why is the period unlocked?"),
        validators=[
            DataRequired(message=_l("Say why the period is unlocked.")),
            Length(max=1000),
        ],
        description=_l("Kept with the figures that were published, in the audit trail."),
    )
    confirm = BooleanField(
        _l("I understand that the figures of this period may change once it is unlocked."),
        validators=[DataRequired(message=_l("Confirm to unlock the period."))],
    )


class NewPeriodForm(CrmForm):
    name = StringField(
        _l("Name"),
        validators=[DataRequired(message=_l("Give the period a name.")), Length(max=200)],
    )
    start = LocalDateField(
        _l("First day"), validators=[DataRequired(message=_l("Enter a date as YYYY-MM-DD."))]
    )
    end = LocalDateField(
        _l("Last day"), validators=[DataRequired(message=_l("Enter a date as YYYY-MM-DD."))]
    )


class SettingForm(VersionedForm):
    year = LocalIntegerField(
        _l("Year"), validators=[DataRequired(message=_l("Enter a year.")), YEAR_RANGE]
    )
    headline_rule = SelectField(
        _l("O3.1 headline: count"),
        choices=HeadlineRule.choices(),
        default=HeadlineRule.CONCLUDED_TO_DATE.value,
    )
    frameworks_baseline = count_field(_l("Cooperation frameworks: baseline"))
    frameworks_target = count_field(_l("Cooperation frameworks: target"))
    engagements_baseline = count_field(_l("Engagements: baseline"))
    engagements_target = count_field(_l("Engagements: target"))


EXPORT_FORMATS = (
    ("xlsx", _l("Excel workbook (XLSX), one sheet per breakdown")),
    ("csv", _l("CSV (UTF-8)")),
    ("json", _l("JSON")),
)


class ExportForm(CrmForm):
    format = SelectField(_l("File format"), choices=choices(EXPORT_FORMATS), default="xlsx")
    language = SelectField(_l("Language of the file"), choices=choices(LANGUAGE_NAMES.items()))
    live = HiddenField()
    start = HiddenField()
    end = HiddenField()
