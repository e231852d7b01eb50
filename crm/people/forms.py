"""Forms of the people area. They only read input; the rules are in services.py."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from crm.codes import AgeBand, ConsentMethod, ConsentScope, Governorate, Sex, VictimGroup
from crm.forms import CrmForm, LocalDateField, MultiCheckboxField, VersionedForm, choices
from crm.people.services import (
    MAX_LENGTHS,
    OVERRIDE_REASON_MIN_LENGTH,
    REASON_MAX_LENGTH,
    REASON_MIN_LENGTH,
)

REQUIRED = _l("This field is required.")
NOT_RECORDED = _l("Not recorded")
CHOOSE = _l("Choose…")
# Offered first for the language of consent; the list is the same in every form.
CONSENT_LANGUAGES = ("ar", "en", "ku", "tr", "fr", "de", "nl", "sv")


def country_choices() -> list[tuple[str, str]]:
    """ISO 3166-1 countries, named and sorted in the reader's language."""
    from babel import Locale

    from crm.i18n import current_language

    names = Locale.parse(current_language()).territories
    codes = [c for c in Locale("en").territories if len(c) == 2 and c.isalpha()]
    return sorted(((c, names.get(c, c)) for c in codes), key=lambda item: item[1])


def country_name(code: str | None) -> str:
    if not code:
        return ""
    from babel import Locale

    from crm.i18n import current_language

    return Locale.parse(current_language()).territories.get(code, code)


def language_name(code: str | None) -> str:
    if not code:
        return ""
    from babel import Locale

    from crm.i18n import current_language

    return Locale.parse(current_language()).languages.get(code, code)


def _optional(codes: Any) -> list[Any]:
    return choices([("", NOT_RECORDED), *((c.value, c.label) for c in codes)])


class PersonFields:
    """The anonymous attributes and the risk flags."""

    sex = SelectField(_l("Sex"), choices=_optional(Sex), validators=[Optional()])
    age_band = SelectField(_l("Age band"), choices=_optional(AgeBand), validators=[Optional()])
    governorate_of_origin = SelectField(
        _l("Governorate of origin"), choices=_optional(Governorate), validators=[Optional()]
    )
    current_country = SelectField(
        _l("Country where the person lives now"), choices=[], validators=[Optional()]
    )
    victim_groups = MultiCheckboxField(
        _l("Victim groups"), choices=VictimGroup.choices(), validators=[Optional()]
    )
    at_risk = BooleanField(
        _l("At risk"),
        description=_l("Shows a warning on every page about this person."),
    )
    do_not_contact = BooleanField(
        _l("Do not contact"),
        description=_l("Hides contact details and every way to contact this person."),
    )

    def _set_countries(self) -> None:
        self.current_country.choices = choices([("", NOT_RECORDED), *country_choices()])  # type: ignore[attr-defined]


class PersonForm(PersonFields, VersionedForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._set_countries()

    def data_for_service(self) -> dict[str, Any]:
        return {
            "sex": self.sex.data or None,
            "age_band": self.age_band.data or None,
            "governorate_of_origin": self.governorate_of_origin.data or None,
            "current_country": self.current_country.data or None,
            "victim_groups": list(self.victim_groups.data or []),
            "at_risk": bool(self.at_risk.data),
            "do_not_contact": bool(self.do_not_contact.data),
        }


def _language_choices() -> list[Any]:
    return choices([("", NOT_RECORDED), *((c, language_name(c)) for c in CONSENT_LANGUAGES)])


class IdentityFields:
    """Names, contact details and notes: stored encrypted."""

    name_ar = StringField(
        _l("Name in Arabic"),
        validators=[Optional(), Length(max=MAX_LENGTHS["name_ar"])],
        render_kw={"autocomplete": "off", "lang": "ar", "dir": "rtl"},
    )
    name_en = StringField(
        _l("Name in Latin script"),
        validators=[Optional(), Length(max=MAX_LENGTHS["name_en"])],
        render_kw={"autocomplete": "off", "dir": "ltr"},
    )
    phone = StringField(
        _l("Phone"),
        validators=[Optional(), Length(max=MAX_LENGTHS["phone"])],
        render_kw={"autocomplete": "off", "dir": "ltr", "inputmode": "tel"},
    )
    email = EmailField(
        _l("E-mail address"),
        validators=[Optional(), Length(max=MAX_LENGTHS["email"])],
        render_kw={"autocomplete": "off"},
    )
    address = TextAreaField(
        _l("Address or location"),
        validators=[Optional(), Length(max=MAX_LENGTHS["address"])],
        render_kw={"autocomplete": "off", "rows": 2},
    )
    notes = TextAreaField(
        _l("Notes"),
        validators=[Optional(), Length(max=MAX_LENGTHS["notes"])],
        render_kw={"rows": 4},
    )
    safe_contact_channel = TextAreaField(
        _l("Safe contact channel"),
        description=_l("How to reach the person without putting them at risk."),
        validators=[Optional(), Length(max=MAX_LENGTHS["safe_contact_channel"])],
        render_kw={"autocomplete": "off", "rows": 2},
    )

    CONTACT_FIELD_NAMES = ("phone", "email", "address", "safe_contact_channel")

    def identity_data(self) -> dict[str, Any]:
        names = ("name_ar", "name_en", "phone", "email", "address", "notes", "safe_contact_channel")
        # Fields withheld from this form (deleted from it) are not part of the data.
        return {n: self[n].data for n in names if n in self._fields}  # type: ignore[attr-defined,index]


class NewPersonForm(PersonFields, CrmForm):
    """A new person, anonymous only (for those who may not enter identities)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._set_countries()

    data_for_service = PersonForm.data_for_service


class NewPersonWithIdentityForm(IdentityFields, NewPersonForm):
    """A new person with an identity, which needs the consent to store it."""

    consent_on = LocalDateField(
        _l("Consent to store given on"), validators=[Optional()], render_kw={"dir": "ltr"}
    )
    consent_method = SelectField(
        _l("How consent was given"),
        choices=_optional(ConsentMethod),
        validators=[Optional()],
    )
    consent_language = SelectField(_l("Language of consent"), choices=[], validators=[Optional()])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.consent_language.choices = _language_choices()

    def data_for_service(self) -> dict[str, Any]:  # type: ignore[override]
        return {
            **PersonForm.data_for_service(self),
            **self.identity_data(),
            "consent_on": self.consent_on.data,
            "consent_method": self.consent_method.data or None,
            "consent_language": self.consent_language.data or None,
        }


class IdentityForm(IdentityFields, VersionedForm):
    def __init__(self, *args: Any, withhold_contact: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if withhold_contact:
            # The person must not be contacted: their contact details are neither
            # shown nor changeable here (the service ignores them too).
            for name in self.CONTACT_FIELD_NAMES:
                delattr(self, name)


class RevealForm(CrmForm):
    """The "show identity" step: why the identity is needed, in the user's words."""

    reason = TextAreaField(
        _l("Why do you need to see this identity?"),
        description=_l(
            "Recorded with your name and the time. Give the task, not personal details."
        ),
        validators=[
            DataRequired(message=REQUIRED),
            Length(
                min=REASON_MIN_LENGTH,
                max=REASON_MAX_LENGTH,
                message=_l("Give a reason of %(min)d to %(max)d characters."),
            ),
        ],
        render_kw={"rows": 3, "autocomplete": "off"},
    )
    purpose = HiddenField(default="view")


def _scope_choices() -> list[Any]:
    return ConsentScope.choices()


class ConsentForm(CrmForm):
    scope = SelectField(
        _l("Scope"), choices=_scope_choices(), validators=[DataRequired(message=REQUIRED)]
    )
    granted = RadioField(
        _l("Consent"),
        choices=choices([("given", _l("Given")), ("withdrawn", _l("Withdrawn or refused"))]),
        validators=[DataRequired(message=REQUIRED)],
    )
    on = LocalDateField(
        _l("Date"), validators=[DataRequired(message=REQUIRED)], render_kw={"dir": "ltr"}
    )
    method = SelectField(
        _l("Method"),
        choices=choices([("", CHOOSE), *((c.value, c.label) for c in ConsentMethod)]),
        validators=[DataRequired(message=REQUIRED)],
    )
    language = SelectField(_l("Language"), choices=[], validators=[Optional()])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.language.choices = _language_choices()

    def data_for_service(self) -> dict[str, Any]:
        return {
            "scope": self.scope.data,
            "granted": self.granted.data == "given",
            "on": self.on.data,
            "method": self.method.data or None,
            "language": self.language.data or None,
        }


class OverrideForm(CrmForm):
    scope = SelectField(
        _l("Refused scope"), choices=[], validators=[DataRequired(message=REQUIRED)]
    )
    on = LocalDateField(
        _l("Date"), validators=[DataRequired(message=REQUIRED)], render_kw={"dir": "ltr"}
    )
    reason = TextAreaField(
        _l("Reason for overriding the refusal"),
        description=_l("The legal basis or the emergency. Recorded and audited."),
        validators=[
            DataRequired(message=REQUIRED),
            Length(
                min=OVERRIDE_REASON_MIN_LENGTH,
                max=REASON_MAX_LENGTH,
                message=_l("Give a reason of %(min)d to %(max)d characters."),
            ),
        ],
        render_kw={"rows": 4, "autocomplete": "off"},
    )

    def __init__(self, *args: Any, scopes: list[ConsentScope] = (), **kwargs: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        self.scope.choices = choices((s.value, s.label) for s in scopes)


class EraseForm(CrmForm):
    on = LocalDateField(
        _l("Consent to store withdrawn on"),
        validators=[DataRequired(message=REQUIRED)],
        render_kw={"dir": "ltr"},
    )
    method = SelectField(
        _l("How it was withdrawn"),
        choices=choices([("", CHOOSE), *((c.value, c.label) for c in ConsentMethod)]),
        validators=[DataRequired(message=REQUIRED)],
    )
    language = SelectField(_l("Language"), choices=[], validators=[Optional()])
    confirm_code = StringField(
        _l("Type the person's code to confirm"),
        validators=[DataRequired(message=REQUIRED)],
        render_kw={"autocomplete": "off", "dir": "ltr", "spellcheck": "false"},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.language.choices = _language_choices()

    def data_for_service(self) -> dict[str, Any]:
        return {
            "on": self.on.data,
            "method": self.method.data or None,
            "language": self.language.data or None,
            "confirm_code": self.confirm_code.data,
        }


class AttendanceForm(CrmForm):
    ref = StringField(
        _l("Engagement reference"),
        validators=[DataRequired(message=REQUIRED), Length(max=64)],
        render_kw={"dir": "ltr", "autocomplete": "off"},
    )


class ConfirmForm(CrmForm):
    """A POST that holds only the CSRF token (archive, restore, remove a link)."""
