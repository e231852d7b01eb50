"""Engagement forms: the full record, the quick log, the list filters."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from crm.codes import (
    EngagementCategory,
    EngagementFormat,
    EngagementStatus,
    EngagementType,
    OrganiserRole,
    Strategy,
    VictimGroup,
)
from crm.forms import (
    CrmForm,
    LocalDateField,
    MultiCheckboxField,
    VersionedForm,
    choices,
    count_field,
)


class Required:
    """Marks a field required (the * and aria-required) and leaves the check to
    the service, so every rule answers in one place and all at once."""

    field_flags = {"required": True}

    def __call__(self, form: Any, field: Any) -> None:
        return None


def _blank(codes: Any) -> list[Any]:
    return choices([("", _l("Choose…"))]) + codes.choices()


def code_select(label: Any, codes: Any, *, required: bool = True, **kwargs: Any) -> SelectField:
    return SelectField(
        label,
        choices=_blank(codes),
        validators=[Required()] if required else [Optional()],
        **kwargs,
    )


def title_field(label: Any, language: str) -> StringField:
    return StringField(
        label,
        validators=[Length(max=500)],
        render_kw={"lang": language},
    )


DATE_FORMAT = _l("Enter a date as YYYY-MM-DD.")


def start_date_field() -> LocalDateField:
    return LocalDateField(
        _l("Start date"),
        validators=[Required()],
        invalid_value_message=DATE_FORMAT,
        description=_l("An event over several days counts once, on its first day."),
    )


class EngagementForm(VersionedForm):
    """Every field of an engagement. Choices of countries, languages, partners and
    staff are set per request by the view (``set_choices``)."""

    ref = StringField(
        _l("Reference"),
        validators=[Length(max=64)],
        description=_l("Leave empty to have one made up, such as E-2024-7K3Q."),
        render_kw={"dir": "ltr", "autocomplete": "off"},
    )
    title_ar = title_field(_l("Title in Arabic"), "ar")
    title_en = title_field(_l("Title in English"), "en")
    category = code_select(_l("Category"), EngagementCategory)
    type = code_select(_l("Type"), EngagementType)
    format = code_select(_l("Format"), EngagementFormat)
    status = code_select(_l("Status"), EngagementStatus)
    organiser = code_select(_l("Organiser"), OrganiserRole, required=False)
    start_date = start_date_field()
    end_date = LocalDateField(
        _l("End date"), validators=[Optional()], invalid_value_message=DATE_FORMAT
    )
    country = SelectField(_l("Country"), choices=[], validators=[Optional()])
    city = StringField(_l("City"), validators=[Length(max=120)])
    languages = SelectMultipleField(_l("Languages"), choices=[], validators=[Optional()])
    women = count_field(_l("Women"))
    men = count_field(_l("Men"))
    unspecified = count_field(_l("Sex not specified"))
    under_18 = count_field(_l("Of whom under 18"))
    victim_groups = MultiCheckboxField(_l("Victim groups"), choices=VictimGroup.choices())
    strategies = MultiCheckboxField(_l("Thematic strategies"), choices=Strategy.choices())
    partner_ids = SelectMultipleField(
        _l("Partners involved"), choices=[], coerce=int, validators=[Optional()]
    )
    staff_ids = SelectMultipleField(
        _l("Staff involved"), choices=[], coerce=int, validators=[Optional()]
    )
    person_codes = StringField(
        _l("People who attended (codes)"),
        description=_l("Pseudonymous codes such as V-7KQ4-MX2P, separated by commas."),
        render_kw={"dir": "ltr", "autocomplete": "off"},
    )
    summary_ar = TextAreaField(_l("Summary in Arabic"), render_kw={"lang": "ar", "rows": 5})
    summary_en = TextAreaField(_l("Summary in English"), render_kw={"lang": "en", "rows": 5})
    outcomes_ar = TextAreaField(_l("Outcomes in Arabic"), render_kw={"lang": "ar", "rows": 4})
    outcomes_en = TextAreaField(_l("Outcomes in English"), render_kw={"lang": "en", "rows": 4})
    follow_up_actions = TextAreaField(_l("Follow-up actions agreed"), render_kw={"rows": 3})

    # The service keys these fields feed (the rest have the same name).
    SERVICE_FIELDS = (
        "ref",
        "title_ar",
        "title_en",
        "category",
        "type",
        "format",
        "status",
        "organiser",
        "start_date",
        "end_date",
        "country",
        "city",
        "languages",
        "women",
        "men",
        "unspecified",
        "under_18",
        "victim_groups",
        "strategies",
        "partner_ids",
        "staff_ids",
        "person_codes",
        "summary_ar",
        "summary_en",
        "outcomes_ar",
        "outcomes_en",
        "follow_up_actions",
    )


class QuickLogForm(CrmForm):
    """The few fields that make an engagement count, for a phone in the field."""

    title_ar = title_field(_l("Title in Arabic"), "ar")
    title_en = title_field(_l("Title in English (optional)"), "en")
    # Radios: one tap each, no menu to open on a phone.
    category = RadioField(
        _l("Category"),
        choices=EngagementCategory.choices(),
        default=EngagementCategory.VICTIMS_SURVIVORS.value,
        validators=[Required()],
    )
    type = code_select(_l("Type"), EngagementType)
    format = RadioField(
        _l("Format"),
        choices=EngagementFormat.choices(),
        default=EngagementFormat.IN_PERSON.value,
        validators=[Required()],
    )
    status = RadioField(
        _l("Status"),
        choices=EngagementStatus.choices(),
        default=EngagementStatus.HELD.value,
        validators=[Required()],
    )
    start_date = start_date_field()
    country = SelectField(_l("Country"), choices=[], validators=[Optional()])
    women = count_field(_l("Women"))
    men = count_field(_l("Men"))
    unspecified = count_field(_l("Sex not specified"))
    under_18 = count_field(_l("Of whom under 18"))

    SERVICE_FIELDS = (
        "title_ar",
        "title_en",
        "category",
        "type",
        "format",
        "status",
        "start_date",
        "country",
        "women",
        "men",
        "unspecified",
        "under_18",
    )


def service_data(form: Any) -> dict[str, Any]:
    """The form's values under the service's keys. A field the form could not read
    (a malformed date or number) passes its raw text, so the service still checks
    every other rule and the form keeps the field's own message."""
    data: dict[str, Any] = {}
    for name in form.SERVICE_FIELDS:
        field = getattr(form, name, None)
        if field is None:
            continue  # removed for this user (e.g. people codes)
        if field.errors and field.raw_data:
            data[name] = field.raw_data[0] if len(field.raw_data) == 1 else field.raw_data
        else:
            data[name] = field.data
    return data


def apply_service_errors(form: Any, errors: dict[str, list[Any]]) -> None:
    """Put a service's messages next to their fields. A field the form already
    found fault with keeps its own message, unless it was left empty (then the
    service's "required" says it better)."""
    for name, messages in errors.items():
        field = getattr(form, name, None) if name else None
        if field is None or not hasattr(field, "errors"):
            form.form_errors.extend(messages)
            continue
        if field.errors:
            typed = [v for v in (field.raw_data or []) if str(v or "").strip()]
            if typed:
                continue
        field.errors = list(messages)


def validate_together(form: Any, check: Any) -> bool:
    """Validate the form, and when it fails, the service's rules too (``check(data)``
    returns the errors without changing anything), so the user sees every problem
    at once rather than one round at a time. True when the form passed."""
    form_ok = form.validate()
    for field in form:
        # "Not a valid integer value." and then the range rule's "Enter a whole
        # number, 0 or more.": the second says it better, alone.
        own = list(field.process_errors)
        if own and len(field.errors) > len(own):
            field.errors = [e for e in field.errors if e not in own]
    if not form_ok:
        apply_service_errors(form, check(service_data(form)))
    return form_ok
