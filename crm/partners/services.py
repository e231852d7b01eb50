"""The rules for partners and their contact persons.

Views, the importer, the CLI and the API all call these functions with a mapping
of field name -> value (the import column names of interfaces.md). Values may be
typed (``True``, ``date``, a code) or plain text (``"yes"``, ``"2024-01-31"``, a
code or its English or Arabic label, lists separated by ``;``). An update changes
only the fields it is given.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, false, select

from crm.audit.services import record
from crm.codes import PartnerType, VictimGroup
from crm.crypto import DecryptionError, decrypt_text, encrypt_text
from crm.db import utcnow
from crm.errors import NotFound, PermissionDenied, ValidationError
from crm.extensions import db
from crm.i18n import normalize_digits
from crm.partners import values as v
from crm.partners.models import Contact, Partner, PartnerVictimGroup
from crm.partners.records import check_version, has_control_characters, next_ref, touch_and_flush
from crm.search import matches, search_text
from crm.security import Permission

REF_PREFIX = "P"

# Every field a caller may give, with the label its messages and history use.
PARTNER_FIELDS: dict[str, Any] = {
    "ref": _l("Reference"),
    "name_ar": _l("Name in Arabic"),
    "name_en": _l("Name in English"),
    "acronym": _l("Acronym"),
    "type": _l("Type"),
    "country": _l("Country"),
    "city": _l("City"),
    "women_led": _l("Women-led"),
    "victim_groups": _l("Victim groups"),
    "languages": _l("Languages"),
    "email": _l("E-mail address"),
    "phone": _l("Phone"),
    "website": _l("Website"),
    "confidential": _l("Confidential"),
    "do_not_name_publicly": _l("Do not name publicly"),
    "security_note": _l("Security note"),
    "notes": _l("Notes"),
}
CONTACT_FIELDS: dict[str, Any] = {
    "name_ar": _l("Name in Arabic"),
    "name_en": _l("Name in English"),
    "role": _l("Role"),
    "email": _l("E-mail address"),
    "phone": _l("Phone"),
    "preferred_language": _l("Preferred language"),
    "agreed_to_contact": _l("Agreed to be contacted"),
}
# Fields only users who see confidential records may set.
CONFIDENTIAL_FIELDS = ("security_note", "confidential")

MAX_LENGTHS = {
    "ref": 64,
    "name_en": 300,
    "name_ar": 300,
    "acronym": 50,
    "city": 120,
    "email": 254,
    "phone": 64,
    "website": 500,
    "security_note": 5000,
    "notes": 20000,
    "role": 200,
}
CONTACT_NAME_LENGTH = 200
_PHONE = re.compile(r"^\+?[0-9][0-9 ()./-]{2,62}$")

MSG_NAME = _l("Enter the name in Arabic or in English (at least one).")
MSG_REF_TAKEN = _l("Another record already has this reference.")
MSG_REF_CHARS = _l("A reference cannot contain control or direction characters.")
MSG_TYPE = _l("Choose a type from the list.")
MSG_COUNTRY = _l("Choose a country from the list (ISO 3166 two-letter code).")
MSG_YES_NO = _l("Answer yes or no.")
MSG_VICTIM_GROUP = _l("Choose victim groups from the list.")
MSG_LANGUAGE = _l("Use two-letter language codes (ISO 639-1), such as ar or en.")
MSG_EMAIL = _l("Enter a valid e-mail address.")
MSG_PHONE = _l("Enter a phone number, such as +90 555 123 4567.")
MSG_WEBSITE = _l("Enter a web address starting with http:// or https://.")


# --- who may do what -------------------------------------------------------------


def can_see_confidential(actor: Any) -> bool:
    return bool(actor.can(Permission.CONFIDENTIAL_VIEW))


def can_see_contacts(actor: Any) -> bool:
    """Contact persons are personal data at organisations that may be at risk: only
    roles that see confidential records see them."""
    return can_see_confidential(actor)


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied()


# --- reading plain values --------------------------------------------------------


def _length(errors: dict[str, list[Any]], name: str, value: str | None, limit: int) -> None:
    if value is not None and len(value) > limit:
        errors.setdefault(name, []).append(
            _l("This is too long: at most %(max)s characters.", max=limit)
        )


def _email(value: Any) -> str | None:
    value = v.text(value)
    if value is None:
        return None
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise v.BadValue(value) from exc


def _phone(value: Any) -> str | None:
    value = v.text(value)
    if value is None:
        return None
    value = normalize_digits(value)
    if not _PHONE.match(value):
        raise v.BadValue(value)
    return value


def _website(value: Any) -> str | None:
    value = v.text(value)
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise v.BadValue(value)
    return value


def _country(value: Any) -> str | None:
    value = v.text(value)
    if value is None:
        return None
    value = value.upper()
    if not v.is_country(value):
        raise v.BadValue(value)
    return value


def _languages(value: Any) -> list[str]:
    codes = []
    for item in v.to_list(value):
        code = str(item).strip().lower()
        if not v.is_language(code):
            raise v.BadValue(item)
        if code not in codes:
            codes.append(code)
    return codes


def _victim_groups(value: Any) -> list[VictimGroup]:
    groups: list[VictimGroup] = []
    for item in v.to_list(value):
        code = v.to_code(VictimGroup, item)
        if code is not None and code not in groups:
            groups.append(code)
    return groups


_READERS: dict[str, tuple[Any, Any]] = {
    # field: (reader, message when the value cannot be read)
    "ref": (v.text, None),
    "name_en": (v.text, None),
    "name_ar": (v.text, None),
    "acronym": (v.text, None),
    "type": (lambda value: v.to_code(PartnerType, value), MSG_TYPE),
    "country": (_country, MSG_COUNTRY),
    "city": (v.text, None),
    "women_led": (v.to_bool, MSG_YES_NO),
    "victim_groups": (_victim_groups, MSG_VICTIM_GROUP),
    "languages": (_languages, MSG_LANGUAGE),
    "email": (_email, MSG_EMAIL),
    "phone": (_phone, MSG_PHONE),
    "website": (_website, MSG_WEBSITE),
    "confidential": (v.to_bool, MSG_YES_NO),
    "do_not_name_publicly": (v.to_bool, MSG_YES_NO),
    "security_note": (v.text, None),
    "notes": (v.text, None),
}


def read_fields(
    data: Mapping[str, Any], readers: Mapping[str, tuple[Any, Any]]
) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    values: dict[str, Any] = {}
    errors: dict[str, list[Any]] = {}
    unknown = [key for key in data if key not in readers]
    if unknown:
        errors[""] = [_l("Unknown fields: %(names)s.", names=", ".join(sorted(unknown)))]
    for name, (reader, message) in readers.items():
        if name not in data:
            continue
        try:
            values[name] = reader(data[name])
        except (v.BadValue, ValueError):
            errors.setdefault(name, []).append(message or MSG_YES_NO)
        else:
            limit = MAX_LENGTHS.get(name)
            if limit and isinstance(values[name], str):
                _length(errors, name, values[name], limit)
    return values, errors


def check_ref(
    values: dict[str, Any], errors: dict[str, list[Any]], model: Any, own_id: int | None
) -> None:
    ref = values.get("ref")
    if ref is None:
        return
    if has_control_characters(ref):
        errors.setdefault("ref", []).append(MSG_REF_CHARS)
        return
    taken = db.session.execute(
        select(model.id).where(model.ref == ref, model.id != (own_id or 0))
    ).first()
    if taken:
        errors.setdefault("ref", []).append(MSG_REF_TAKEN)


# --- partners --------------------------------------------------------------------


def _validate_partner(
    data: Mapping[str, Any], *, partner: Partner | None, actor: Any
) -> dict[str, Any]:
    values, errors = read_fields(data, _READERS)
    if not can_see_confidential(actor):
        # A POST may not set what the role cannot see (mass assignment).
        if values.get("security_note") or values.get("confidential"):
            raise PermissionDenied()
        values.pop("security_note", None)
        values.pop("confidential", None)

    def final(name: str) -> Any:
        if name in values:
            return values[name]
        return getattr(partner, name, None) if partner is not None else None

    if not final("name_en") and not final("name_ar") and "name_en" not in errors:
        errors.setdefault("name_en", []).append(MSG_NAME)
        errors.setdefault("name_ar", []).append(MSG_NAME)
    if final("type") is None and "type" not in errors:
        errors.setdefault("type", []).append(MSG_TYPE)
    if partner is not None and "ref" in values and values["ref"] is None:
        values.pop("ref")  # a reference is never removed
    check_ref(values, errors, Partner, partner.id if partner else None)
    if errors:
        raise ValidationError(errors)
    return values


def security_note(partner: Partner, *, actor: Any) -> str | None:
    """The decrypted security note, for users who may see it; None otherwise."""
    if not can_see_confidential(actor) or not partner.security_note_enc:
        return None
    try:
        return decrypt_text(partner.security_note_enc, _note_context(partner))
    except DecryptionError:
        return None


def _note_context(partner: Partner) -> str:
    return f"partners.security_note.{partner.id}"


def _current(partner: Partner, name: str) -> Any:
    if name == "victim_groups":
        return sorted(g.code for g in partner.victim_groups)
    if name == "security_note":
        if not partner.security_note_enc:
            return None
        try:
            return decrypt_text(partner.security_note_enc, _note_context(partner))
        except DecryptionError:
            return "?"
    if name == "languages":
        return list(partner.languages or [])
    return getattr(partner, name)


def _apply(partner: Partner, values: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    changes: dict[str, tuple[Any, Any]] = {}
    for name, value in values.items():
        old = _current(partner, name)
        new = sorted(value) if name == "victim_groups" else value
        if old == new:
            continue
        changes[name] = (old, new)
        if name == "victim_groups":
            partner.victim_groups = [PartnerVictimGroup(code=code) for code in value]
        elif name == "security_note":
            partner.security_note_enc = (
                encrypt_text(value, _note_context(partner)) if value else None
            )
        else:
            setattr(partner, name, value)
    partner.search_text = search_text(
        partner.name_en, partner.name_ar, partner.acronym, partner.ref
    )
    return changes


def create_partner(data: Mapping[str, Any], *, actor: Any) -> Partner:
    """A new partner; a reference is made up when none is given."""
    _require(actor.can(Permission.PARTNERS_EDIT))
    values = _validate_partner(data, partner=None, actor=actor)
    note = values.pop("security_note", None)
    partner = Partner(
        ref=values.pop("ref", None) or next_ref(Partner, REF_PREFIX),
        type=values.pop("type"),
        created_by_id=getattr(actor, "id", None),
        women_led=False,
        confidential=False,
        do_not_name_publicly=False,
        languages=[],
    )
    changes = _apply(partner, values)
    db.session.add(partner)
    db.session.flush()
    if note:
        # The id binds the encrypted note to its row, so it is set once the row exists.
        partner.security_note_enc = encrypt_text(note, _note_context(partner))
        changes["security_note"] = (None, note)
        db.session.flush()
    changes = {"ref": (None, partner.ref), "type": (None, partner.type), **changes}
    record("partner.create", partner, actor=actor, changes=changes)
    return partner


def update_partner(
    partner: Partner, data: Mapping[str, Any], *, actor: Any, version: Any = None
) -> Partner:
    """Change the given fields. ``version`` None skips the optimistic check."""
    _require(partner.can_edit(actor))
    check_version(partner, version)
    values = _validate_partner(data, partner=partner, actor=actor)
    changes = _apply(partner, values)
    if changes:
        touch_and_flush(partner)
        record("partner.update", partner, actor=actor, changes=changes)
    return partner


def archive_partner(partner: Partner, *, actor: Any, version: Any = None) -> Partner:
    """Out of lists and counts; nothing is deleted. An administrator may restore it."""
    _require(partner.can_edit(actor))
    check_version(partner, version)
    if partner.archived_at is None:
        partner.archived_at = utcnow()
        touch_and_flush(partner)
        record("partner.archive", partner, actor=actor)
    return partner


def restore_partner(partner: Partner, *, actor: Any) -> Partner:
    _require(actor.can(Permission.RECORDS_RESTORE) and actor.can(Permission.PARTNERS_EDIT))
    if partner.archived_at is not None:
        partner.archived_at = None
        touch_and_flush(partner)
        record("partner.restore", partner, actor=actor)
    return partner


def get_partner(partner_id: Any, *, actor: Any) -> Partner:
    """The partner, or NotFound when it does not exist or is outside the actor's reach."""
    try:
        partner = db.session.get(Partner, int(partner_id))
    except (TypeError, ValueError):
        partner = None
    if partner is None or not partner.can_view(actor):
        raise NotFound()
    return partner


def partner_query(filters: Mapping[str, Any], *, actor: Any) -> Select[Any]:
    """The partners matching ``filters`` that ``actor`` may see (lists, exports, API).

    Filters: ``q`` (words of a name, acronym or reference, in either script),
    ``type``, ``country`` and ``victim_group`` (lists of codes), ``women_led``,
    ``confidential`` (booleans), ``missing`` ("ar" or "en": a name to translate),
    ``ids`` (a list of ids), ``archived`` (True: only archived, for administrators).
    """
    stmt = select(Partner)
    if not actor.can(Permission.PARTNERS_VIEW):
        return stmt.where(false())
    if filters.get("archived") and actor.can(Permission.RECORDS_RESTORE):
        stmt = stmt.where(Partner.archived_at.is_not(None))
    else:
        stmt = stmt.where(Partner.archived_at.is_(None))
    if not can_see_confidential(actor):
        stmt = stmt.where(Partner.confidential.is_(False))
    elif filters.get("confidential") is not None:
        stmt = stmt.where(Partner.confidential.is_(bool(filters["confidential"])))
    condition = matches(Partner.search_text, filters.get("q"))
    if condition is not None:
        stmt = stmt.where(condition)
    if filters.get("type"):
        stmt = stmt.where(Partner.type.in_(list(filters["type"])))
    if filters.get("country"):
        stmt = stmt.where(Partner.country.in_(list(filters["country"])))
    if filters.get("women_led") is not None:
        stmt = stmt.where(Partner.women_led.is_(bool(filters["women_led"])))
    if filters.get("victim_group"):
        stmt = stmt.where(
            Partner.id.in_(
                select(PartnerVictimGroup.partner_id).where(
                    PartnerVictimGroup.code.in_(list(filters["victim_group"]))
                )
            )
        )
    missing = filters.get("missing")
    if missing == "ar":
        stmt = stmt.where(Partner.name_ar.is_(None))
    elif missing == "en":
        stmt = stmt.where(Partner.name_en.is_(None))
    elif missing == "any":
        stmt = stmt.where(Partner.name_ar.is_(None) | Partner.name_en.is_(None))
    if filters.get("ids") is not None:
        stmt = stmt.where(Partner.id.in_(list(filters["ids"])))
    return stmt


def public_name(partner: Partner, language: str) -> str:
    """The name to print in anything published outside the Mechanism.

    A partner marked "do not name publicly" (or confidential) is only described:
    "Syrian civil society organisation (name withheld)", in ``language``.
    """
    if partner.do_not_name_publicly or partner.confidential:
        with force_locale(language):
            return _("%(type)s (name withheld)", type=partner.type.label)
    return partner.name_for(language)


# --- contact persons -------------------------------------------------------------


def _preferred_language(value: Any) -> str | None:
    value = v.text(value)
    if value is None:
        return None
    value = value.lower()
    if not v.is_language(value):
        raise v.BadValue(value)
    return value


_CONTACT_READERS: dict[str, tuple[Any, Any]] = {
    "name_en": (v.text, None),
    "name_ar": (v.text, None),
    "role": (v.text, None),
    "email": (_email, MSG_EMAIL),
    "phone": (_phone, MSG_PHONE),
    "preferred_language": (_preferred_language, MSG_LANGUAGE),
    "agreed_to_contact": (v.to_bool, MSG_YES_NO),
}


def _validate_contact(data: Mapping[str, Any], contact: Contact | None) -> dict[str, Any]:
    values, errors = read_fields(data, _CONTACT_READERS)
    for name in ("name_en", "name_ar"):
        if name in values:
            _length(errors, name, values[name], CONTACT_NAME_LENGTH)
    name_en = values["name_en"] if "name_en" in values else getattr(contact, "name_en", None)
    name_ar = values["name_ar"] if "name_ar" in values else getattr(contact, "name_ar", None)
    if not name_en and not name_ar and "name_en" not in errors:
        errors.setdefault("name_en", []).append(MSG_NAME)
        errors.setdefault("name_ar", []).append(MSG_NAME)
    if errors:
        raise ValidationError(errors)
    return values


def create_contact(partner: Partner, data: Mapping[str, Any], *, actor: Any) -> Contact:
    _require(partner.can_edit(actor) and can_see_contacts(actor))
    values = _validate_contact(data, None)
    contact = Contact(
        partner=partner,
        created_by_id=getattr(actor, "id", None),
        **{"agreed_to_contact": False, **values},
    )
    db.session.add(contact)
    db.session.flush()
    changes = {k: (None, val) for k, val in values.items() if val not in (None, False)}
    record(
        "contact.create", contact, actor=actor, changes=changes, details={"partner_id": partner.id}
    )
    return contact


def update_contact(
    contact: Contact, data: Mapping[str, Any], *, actor: Any, version: Any = None
) -> Contact:
    _require(contact.partner.can_edit(actor) and can_see_contacts(actor))
    check_version(contact, version)
    values = _validate_contact(data, contact)
    changes = {
        k: (getattr(contact, k), val) for k, val in values.items() if getattr(contact, k) != val
    }
    for name, value in values.items():
        setattr(contact, name, value)
    if changes:
        touch_and_flush(contact)
        record(
            "contact.update",
            contact,
            actor=actor,
            changes=changes,
            details={"partner_id": contact.partner_id},
        )
    return contact


def archive_contact(contact: Contact, *, actor: Any) -> Contact:
    _require(contact.partner.can_edit(actor) and can_see_contacts(actor))
    if contact.archived_at is None:
        contact.archived_at = utcnow()
        touch_and_flush(contact)
        record("contact.archive", contact, actor=actor, details={"partner_id": contact.partner_id})
    return contact


def get_contact(partner: Partner, contact_id: Any, *, actor: Any) -> Contact:
    if not can_see_contacts(actor):
        raise NotFound()
    try:
        contact = db.session.get(Contact, int(contact_id))
    except (TypeError, ValueError):
        contact = None
    if contact is None or contact.partner_id != partner.id or contact.archived_at is not None:
        raise NotFound()
    return contact


def contacts_of(partner: Partner, *, actor: Any) -> list[Contact]:
    if not can_see_contacts(actor):
        return []
    return list(
        db.session.execute(
            select(Contact)
            .where(Contact.partner_id == partner.id, Contact.archived_at.is_(None))
            .order_by(Contact.id)
        ).scalars()
    )
