"""Form base class and fields shared by every area."""

from __future__ import annotations

from datetime import date
from typing import Any

from babel import dates as babel_dates
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectMultipleField,
    widgets,
)
from wtforms.validators import NumberRange, Optional

from crm.i18n import FORMAT_LOCALES, normalize_digits


def choices(pairs: Any) -> list[SelectChoice]:
    """WTForms options from ``(value, label)`` pairs (tuples are deprecated there)."""
    return [SelectChoice(value, label) for value, label in pairs]


class CrmForm(FlaskForm):
    """Base of every form: translated WTForms messages come from Flask-Babel."""

    class Meta:
        locales: Any = False

        def get_translations(self, form: Any) -> Any:
            from flask_wtf.i18n import translations

            return translations


class VersionedForm(CrmForm):
    """A form for a record two people may edit: the version travels with it."""

    version = HiddenField()


class LocalIntegerField(IntegerField):
    """Whole numbers typed in Western or Arabic-Indic digits.

    Rendered as text with a numeric keyboard: a browser's number input refuses
    Arabic-Indic digits before the server can read them.
    """

    widget = widgets.TextInput()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        render_kw = {"inputmode": "numeric", "dir": "ltr", **(kwargs.pop("render_kw", None) or {})}
        super().__init__(*args, render_kw=render_kw, **kwargs)

    def process_formdata(self, valuelist: list[Any]) -> None:
        if valuelist:
            valuelist = [normalize_digits(str(v)).strip() for v in valuelist]
        super().process_formdata(valuelist)


class DateTextInput(widgets.TextInput):
    """A date as text in an explicit format, never the browser's date picker (which
    follows the browser's language: mm/dd/yyyy in an English browser), followed by
    the date in words in the page's language (filled as it is typed by
    ``static/js/dates.js``; from the server when the page is drawn)."""

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        from crm.i18n import current_language, digit_preference, format_date

        kwargs.pop("type", None)  # a template asking for type="date" gets text anyway
        words_id = f"{field.id}-words"
        described = " ".join(x for x in (kwargs.get("aria-describedby") or "", words_id) if x)
        kwargs["aria-describedby"] = described
        kwargs.setdefault("placeholder", "YYYY-MM-DD")
        kwargs.setdefault("autocomplete", "off")
        kwargs.setdefault("spellcheck", "false")
        kwargs["data-date-input"] = words_id
        html = super().__call__(field, **kwargs)
        language = current_language()
        months = "|".join(
            babel_dates.get_month_names("wide", locale=FORMAT_LOCALES.get(language, language))[m]
            for m in range(1, 13)
        )
        words = format_date(field.data, "long") if isinstance(field.data, date) else ""
        digits = "arab" if language == "ar" and digit_preference() == "arab" else "latn"
        output = Markup(
            '<output class="date-words" id="{id}" for="{for_}" aria-live="polite" '
            'data-months="{months}" data-digits="{digits}" data-ambiguous="{ambiguous}" '
            'data-invalid="{invalid}">{words}</output>'
        ).format(
            id=words_id,
            for_=field.id,
            months=months,
            digits=digits,
            ambiguous=_("%(value)s could be %(one)s or %(other)s: type the date as YYYY-MM-DD."),
            invalid=_("Not a date yet: type it as YYYY-MM-DD."),
            words=words,
        )
        return html + output


class LocalDateField(DateField):
    """A date typed as text: ISO (YYYY-MM-DD) in Western or Arabic-Indic digits,
    or a day/month form only when it cannot be read two ways (``crm.dates``)."""

    widget = DateTextInput()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        render_kw = {"dir": "ltr", **(kwargs.pop("render_kw", None) or {})}
        super().__init__(*args, render_kw=render_kw, **kwargs)

    def process_formdata(self, valuelist: list[Any]) -> None:
        from crm.dates import DateProblem, parse_date

        if not valuelist:
            return
        self.raw_data = [str(v) for v in valuelist]
        try:
            self.data = parse_date(valuelist[0])
        except DateProblem as exc:
            self.data = None
            raise ValueError(str(exc.message)) from exc

    def _value(self) -> str:
        if self.raw_data:
            return " ".join(self.raw_data)
        return self.data.isoformat() if isinstance(self.data, date) else ""


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes, for multi-valued codes (victim groups, strategies…)."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def count_field(label: Any) -> LocalIntegerField:
    return LocalIntegerField(
        label,
        validators=[
            Optional(),
            NumberRange(min=0, message=_l("Enter a whole number, 0 or more.")),
        ],
    )
