"""Forms of the partners area. They only carry values: every rule is in services."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    EmailField,
    Form,
    SearchField,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
    URLField,
)
from wtforms.validators import Optional

from crm.codes import PartnerType, VictimGroup
from crm.forms import MultiCheckboxField, VersionedForm
from crm.partners import values as v
from crm.partners.services import CONTACT_FIELDS, PARTNER_FIELDS

EMPTY_CHOICE = ("", "—")


class PartnerForm(VersionedForm):
    name_ar = StringField(PARTNER_FIELDS["name_ar"])
    name_en = StringField(PARTNER_FIELDS["name_en"])
    acronym = StringField(PARTNER_FIELDS["acronym"])
    ref = StringField(
        PARTNER_FIELDS["ref"],
        description=_l("Leave empty to get the next free reference, such as P-2025-0001."),
    )
    type = SelectField(PARTNER_FIELDS["type"], validators=[Optional()])
    country = SelectField(PARTNER_FIELDS["country"], validators=[Optional()])
    city = StringField(PARTNER_FIELDS["city"])
    women_led = BooleanField(PARTNER_FIELDS["women_led"])
    victim_groups = MultiCheckboxField(PARTNER_FIELDS["victim_groups"], validators=[Optional()])
    languages = MultiCheckboxField(PARTNER_FIELDS["languages"], validators=[Optional()])
    email = EmailField(PARTNER_FIELDS["email"])
    phone = TelField(PARTNER_FIELDS["phone"])
    website = URLField(PARTNER_FIELDS["website"])
    confidential = BooleanField(
        PARTNER_FIELDS["confidential"],
        description=_l(
            "Confidential partners are hidden from viewers, in lists, counts and search."
        ),
    )
    do_not_name_publicly = BooleanField(
        PARTNER_FIELDS["do_not_name_publicly"],
        description=_l("Publications then describe the partner by its type, without its name."),
    )
    security_note = TextAreaField(
        PARTNER_FIELDS["security_note"],
        description=_l(
            "For example: based inside Syria, at risk. Stored encrypted and shown only "
            "to roles that see confidential records."
        ),
    )
    notes = TextAreaField(PARTNER_FIELDS["notes"])

    def __init__(self, *args: Any, confidential_fields: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.type.choices = [EMPTY_CHOICE, *PartnerType.choices()]
        self.type.flags.required = True  # checked by the service; marked for the reader
        self.country.choices = [EMPTY_CHOICE, *v.country_choices()]
        self.victim_groups.choices = VictimGroup.choices()
        self.languages.choices = v.language_choices(self.languages.data or [])
        if not confidential_fields:
            # Fields the role may not see are not in the form at all.
            del self.security_note
            del self.confidential

    def values(self) -> dict[str, Any]:
        """The mapping the services take."""
        return {name: self[name].data for name in PARTNER_FIELDS if name in self}


class ContactForm(VersionedForm):
    name_ar = StringField(CONTACT_FIELDS["name_ar"])
    name_en = StringField(CONTACT_FIELDS["name_en"])
    role = StringField(CONTACT_FIELDS["role"])
    email = EmailField(CONTACT_FIELDS["email"])
    phone = TelField(CONTACT_FIELDS["phone"])
    preferred_language = SelectField(CONTACT_FIELDS["preferred_language"], validators=[Optional()])
    agreed_to_contact = BooleanField(
        CONTACT_FIELDS["agreed_to_contact"],
        description=_l("Tick only if the person said yes to being contacted by the Mechanism."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.preferred_language.choices = [
            EMPTY_CHOICE,
            *v.language_choices(
                [self.preferred_language.data] if self.preferred_language.data else []
            ),
        ]

    def values(self) -> dict[str, Any]:
        return {name: self[name].data for name in CONTACT_FIELDS}


class ConfirmForm(VersionedForm):
    """A bare POST (archive, restore, remove) with its CSRF token and version."""


class PartnerFilterForm(Form):
    """The filter bar of the list: a GET form whose names are the list's filters."""

    q = SearchField(_l("Search"))
    type = SelectField(PARTNER_FIELDS["type"], validators=[Optional()])
    country = SelectField(PARTNER_FIELDS["country"], validators=[Optional()])
    victim_group = SelectField(_l("Victim group"), validators=[Optional()])
    women_led = SelectField(PARTNER_FIELDS["women_led"], validators=[Optional()])
    confidential = SelectField(PARTNER_FIELDS["confidential"], validators=[Optional()])

    def __init__(self, formdata: Any, *, confidential: bool) -> None:
        super().__init__(formdata)
        any_choice = ("", _l("Any"))
        yes_no = [any_choice, ("yes", _l("Yes")), ("no", _l("No"))]
        self.type.choices = [any_choice, *PartnerType.choices()]
        self.country.choices = [any_choice, *v.country_choices()]
        self.victim_group.choices = [any_choice, *VictimGroup.choices()]
        self.women_led.choices = yes_no
        self.confidential.choices = yes_no
        if not confidential:
            del self.confidential
