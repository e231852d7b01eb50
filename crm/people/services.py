"""People: the rules for pseudonymous records, encrypted identities, consent, erasure,
risk flags and attendance. Views, the CLI, the importer and the API all call these.

What never leaves this module in clear: the identity (names, contact details,
notes), the safe contact channel, and the free-text reasons given to see an
identity or to override a refusal. They are encrypted with AES-256-GCM under
``CRM_DATA_KEY`` and bound to their row; the audit trail and the logs get ids,
codes, field names and lengths, never values.

Consent: the current consent for a scope is the latest recorded event of that
scope (append order); nothing recorded means no consent. Every export, list or
share that depends on consent goes through :func:`consenting_people_query` or
:func:`has_consent`, so a withdrawal acts at once.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, exists, func, or_, select, update
from sqlalchemy.orm import aliased

from crm import clock
from crm.audit.models import AuditEntry
from crm.audit.services import record
from crm.codes import AgeBand, ConsentMethod, ConsentScope, Governorate, Sex, VictimGroup
from crm.crypto import decrypt_json, decrypt_text, encrypt_json, encrypt_text, keyring
from crm.db import utcnow
from crm.engagements.models import Engagement, EngagementPerson
from crm.errors import ConflictError, NotFound, PermissionDenied, ServiceError, ValidationError
from crm.extensions import db
from crm.i18n import normalize_digits
from crm.people.models import ConsentEvent, IdentityAccess, Person, PersonVictimGroup
from crm.security import Permission

log = logging.getLogger(__name__)

# Unambiguous symbols only: no 0/O, no 1/I/L. 31 ** 8 (about 8.5e11) codes.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_PREFIX = "V"
CODE_LENGTH = 8

IDENTITY_FIELDS = ("name_ar", "name_en", "phone", "email", "address", "notes")
# What "do not contact" withholds: anything that would let someone reach the person.
CONTACT_FIELDS = ("phone", "email", "address", "safe_contact_channel")
MAX_LENGTHS = {
    "name_ar": 200,
    "name_en": 200,
    "phone": 40,
    "email": 254,
    "address": 500,
    "notes": 5000,
    "safe_contact_channel": 500,
}
REASON_MIN_LENGTH = 10
OVERRIDE_REASON_MIN_LENGTH = 20
REASON_MAX_LENGTH = 1000
PURPOSES = ("view", "edit")
ATTRIBUTE_FIELDS = ("sex", "age_band", "governorate_of_origin", "current_country")

REQUIRED = _l("This field is required.")


class ReauthenticationRequired(ServiceError):
    """The actor must confirm their password again before this act."""


# --- small readers ------------------------------------------------------------------


def _text(value: Any) -> str | None:
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def _code(enum_cls: Any, value: Any, field: str, errors: dict[str, list[Any]]) -> Any:
    if value is None or value == "":
        return None
    try:
        return enum_cls(value)
    except ValueError:
        errors.setdefault(field, []).append(_l("Choose a value from the list."))
        return None


def _date(value: Any, field: str, errors: dict[str, list[Any]]) -> date | None:
    if isinstance(value, date):
        return value
    if value is None or value == "":
        return None
    try:
        return date.fromisoformat(normalize_digits(str(value)).strip())
    except ValueError:
        errors.setdefault(field, []).append(_l("Enter a date as YYYY-MM-DD."))
        return None


def _is_country(code: str) -> bool:
    from babel import Locale

    return len(code) == 2 and code.isalpha() and code in Locale("en").territories


def _is_language(code: str) -> bool:
    from babel import Locale

    return len(code) == 2 and code.isalpha() and code in Locale("en").languages


def _require(actor: Any, *permissions: Permission) -> None:
    if actor is None or not all(actor.can(p) for p in permissions):
        raise PermissionDenied()


def _check_version(person: Person, version: Any) -> None:
    try:
        stale = int(str(version)) != person.version
    except (TypeError, ValueError):
        stale = True
    if stale:
        raise ConflictError(current=person)


def _require_recent_authentication() -> None:
    from crm.auth.services import recently_authenticated

    if not recently_authenticated():
        raise ReauthenticationRequired("recent re-authentication needed")


def _touch(person: Person) -> None:
    """Mark the row changed, so its version moves even when only links changed."""
    person.updated_at = utcnow()


# --- codes --------------------------------------------------------------------------


def generate_code() -> str:
    """A fresh random code such as ``V-7KQ4-MX2P``: from the OS's secure random
    source, not derived from anything about the person, not sequential."""
    for _attempt in range(20):
        chars = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        code = f"{CODE_PREFIX}-{chars[:4]}-{chars[4:]}"
        taken = db.session.execute(select(Person.id).where(Person.code == code)).first()
        if not taken:
            return code
    raise RuntimeError("no free person code after 20 draws")  # pragma: no cover


def _code_chars(text: str | None) -> str:
    return "".join(ch for ch in normalize_digits(text or "").upper() if ch.isalnum())


def _format_code(chars: str) -> str:
    head, tail = chars[:4], chars[4:]
    return f"{CODE_PREFIX}-{head}" + (f"-{tail}" if tail else "")


def normalize_code(text: str | None) -> str | None:
    """The code typed in any form (``v7kq4mx2p``, ``7KQ4 MX2P``…) as stored, or None."""
    chars = _code_chars(text)
    if len(chars) == CODE_LENGTH + 1 and chars.startswith(CODE_PREFIX):
        chars = chars[1:]
    if len(chars) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in chars):
        return None
    return _format_code(chars)


def code_prefixes(text: str | None) -> list[str]:
    """The starts of stored codes a search for ``text`` matches. A leading "V" may
    be the prefix or the first symbol of the code, so both are tried."""
    chars = _code_chars(text)
    candidates = [chars]
    if chars.startswith(CODE_PREFIX):
        candidates.append(chars[1:])
    prefixes = []
    for candidate in candidates:
        if len(candidate) <= CODE_LENGTH and all(ch in CODE_ALPHABET for ch in candidate):
            prefixes.append(_format_code(candidate) if candidate else f"{CODE_PREFIX}-")
    return prefixes


# --- reading ------------------------------------------------------------------------


def get_person(person_id: int, *, actor: Any) -> Person:
    """The person if the actor may see it; NotFound otherwise (no existence oracle)."""
    person = db.session.get(Person, person_id)
    if person is None or not person.can_view(actor):
        raise NotFound()
    return person


def person_query(filters: Mapping[str, Any], *, actor: Any) -> Select[Any]:
    """The people a list, an export or the API shows for ``filters``.

    Filters: ``q`` (the start of a code), ``sex``, ``age_band``, ``governorate``,
    ``victim_group`` (lists of codes), ``country``, ``at_risk``, ``do_not_contact``
    (booleans), ``consent`` (a scope: people who currently consent to it),
    ``archived`` (only for those who may restore records).
    """
    _require(actor, Permission.PEOPLE_VIEW)
    stmt = select(Person)
    if filters.get("archived") and actor.can(Permission.RECORDS_RESTORE):
        stmt = stmt.where(Person.archived_at.is_not(None))
    else:
        stmt = stmt.where(Person.archived_at.is_(None))
    if filters.get("q"):
        prefixes = code_prefixes(filters["q"])
        # Text that cannot be part of a code matches nothing (identities are not searchable).
        stmt = stmt.where(
            or_(*(Person.code.startswith(p, autoescape=True) for p in prefixes))
            if prefixes
            else Person.id.is_(None)
        )
    for key, column in (
        ("sex", Person.sex),
        ("age_band", Person.age_band),
        ("governorate", Person.governorate_of_origin),
    ):
        if filters.get(key):
            stmt = stmt.where(column.in_(list(filters[key])))
    if filters.get("country"):
        stmt = stmt.where(Person.current_country == filters["country"])
    if filters.get("victim_group"):
        stmt = stmt.where(
            Person.id.in_(
                select(PersonVictimGroup.person_id).where(
                    PersonVictimGroup.code.in_(list(filters["victim_group"]))
                )
            )
        )
    for key, column in (("at_risk", Person.at_risk), ("do_not_contact", Person.do_not_contact)):
        if filters.get(key) is not None:
            stmt = stmt.where(column.is_(bool(filters[key])))
    if filters.get("consent"):
        stmt = stmt.where(Person.id.in_(_consenting_ids(ConsentScope(filters["consent"]))))
    return stmt


def people_counts(*, actor: Any) -> dict[str, int]:
    """For the focal point's home page: records on the list, at risk, not to contact."""
    _require(actor, Permission.PEOPLE_VIEW)
    active = Person.archived_at.is_(None)
    row = db.session.execute(
        select(
            func.count(),
            func.count().filter(Person.at_risk.is_(True)),
            func.count().filter(Person.do_not_contact.is_(True)),
        ).where(active)
    ).one()
    return {"total": int(row[0]), "at_risk": int(row[1]), "do_not_contact": int(row[2])}


def history(person: Person, *, limit: int = 50) -> list[AuditEntry]:
    """The audit entries of a person, newest first (the page shows action, who, when)."""
    return list(
        db.session.execute(
            select(AuditEntry)
            .where(
                AuditEntry.object_type == Person.__tablename__, AuditEntry.object_id == person.id
            )
            .order_by(AuditEntry.id.desc())
            .limit(limit)
        ).scalars()
    )


# --- anonymous record ---------------------------------------------------------------


def _read_attributes(data: Mapping[str, Any], errors: dict[str, list[Any]]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if "sex" in data:
        values["sex"] = _code(Sex, data["sex"], "sex", errors)
    if "age_band" in data:
        values["age_band"] = _code(AgeBand, data["age_band"], "age_band", errors)
    if "governorate_of_origin" in data:
        values["governorate_of_origin"] = _code(
            Governorate, data["governorate_of_origin"], "governorate_of_origin", errors
        )
    if "current_country" in data:
        country = (_text(data["current_country"]) or "").upper() or None
        if country and not _is_country(country):
            errors.setdefault("current_country", []).append(_l("Choose a country from the list."))
        values["current_country"] = country
    for flag in ("at_risk", "do_not_contact"):
        if flag in data:
            values[flag] = bool(data[flag])
    return values


def _read_victim_groups(data: Mapping[str, Any], errors: dict[str, list[Any]]) -> list[Any] | None:
    if "victim_groups" not in data:
        return None
    groups: list[VictimGroup] = []
    for raw in data["victim_groups"] or []:
        group = _code(VictimGroup, raw, "victim_groups", errors)
        if group is not None and group not in groups:
            groups.append(group)
    return sorted(groups, key=list(VictimGroup).index)


def _set_victim_groups(person: Person, groups: list[VictimGroup]) -> None:
    wanted = set(groups)
    for link in list(person.victim_groups):
        if link.code not in wanted:
            person.victim_groups.remove(link)
    present = {link.code for link in person.victim_groups}
    for group in groups:
        if group not in present:
            person.victim_groups.append(PersonVictimGroup(code=group))


def create_person(data: Mapping[str, Any], *, actor: Any) -> Person:
    """Record a person under a new random code.

    ``data``: the anonymous attributes (``sex``, ``age_band``,
    ``governorate_of_origin``, ``current_country``, ``victim_groups``), the flags
    (``at_risk``, ``do_not_contact``) and, for those who may see identities,
    identity fields (``name_ar``, ``name_en``, ``phone``, ``email``, ``address``,
    ``notes``, ``safe_contact_channel``). An identity is only stored with the
    person's consent to store it, given as ``consent_on``, ``consent_method`` and
    ``consent_language`` and recorded as the first consent event.
    """
    _require(actor, Permission.PEOPLE_EDIT)
    errors: dict[str, list[Any]] = {}
    values = _read_attributes(data, errors)
    groups = _read_victim_groups(data, errors) or []
    identity_given = any(_text(data.get(k)) for k in (*IDENTITY_FIELDS, "safe_contact_channel"))
    identity: dict[str, str] = {}
    channel: str | None = None
    consent: dict[str, Any] = {}
    if identity_given:
        _require(actor, Permission.IDENTITY_VIEW)
        identity, channel = _read_identity(data, errors)
        consent = _read_consent_details(data, errors, prefix="consent_")
    if errors:
        raise ValidationError(errors)
    person = Person(code=generate_code(), created_by_id=actor.id, **values)
    db.session.add(person)
    db.session.flush()  # the id binds the ciphertexts to this row
    _set_victim_groups(person, groups)
    if identity_given:
        _append_consent(person, ConsentScope.STORE, granted=True, actor=actor, **consent)
        _store_identity(person, identity, channel)
    changes = {k: (None, v) for k, v in values.items() if v not in (None, False)}
    if groups:
        changes["victim_groups"] = ([], groups)
    record(
        "person.create",
        person,
        actor=actor,
        changes=changes,
        details={"code": person.code, "identity": bool(identity or channel)},
    )
    return person


def update_person(person: Person, data: Mapping[str, Any], *, actor: Any, version: Any) -> Person:
    """Change the anonymous attributes and the risk flags (optimistic locking)."""
    _require(actor, Permission.PEOPLE_EDIT)
    if not person.can_edit(actor):
        raise NotFound()
    _check_version(person, version)
    errors: dict[str, list[Any]] = {}
    values = _read_attributes(data, errors)
    groups = _read_victim_groups(data, errors)
    if errors:
        raise ValidationError(errors)
    changes = {k: (getattr(person, k), v) for k, v in values.items() if getattr(person, k) != v}
    old_groups = person.victim_group_codes
    if groups is not None and groups != old_groups:
        changes["victim_groups"] = (old_groups, groups)
        _set_victim_groups(person, groups)
    for field, (_old, new) in changes.items():
        if field != "victim_groups":
            setattr(person, field, new)
    if changes:
        _touch(person)
        record("person.update", person, actor=actor, changes=changes)
    return person


def archive_person(person: Person, *, actor: Any) -> None:
    """Take a person out of lists and counts (nothing is deleted)."""
    _require(actor, Permission.PEOPLE_EDIT)
    if not person.can_edit(actor):
        raise NotFound()
    person.archived_at = utcnow()
    record("person.archive", person, actor=actor)


def restore_person(person: Person, *, actor: Any) -> None:
    _require(actor, Permission.RECORDS_RESTORE)
    if person.archived_at is None or not person.can_view(actor):
        raise NotFound()
    person.archived_at = None
    record("person.restore", person, actor=actor)


# --- identity -----------------------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    """A decrypted identity, for one page. Never log it, flash it or audit it."""

    name_ar: str | None = None
    name_en: str | None = None
    phone: str | None = None
    email: str | None = None
    address: str | None = None
    notes: str | None = None
    safe_contact_channel: str | None = None
    # True when "do not contact" withheld contact details that are on record.
    contact_withheld: bool = False

    @property
    def is_empty(self) -> bool:
        return not any(getattr(self, f.name) for f in fields(self) if f.name != "contact_withheld")

    def as_form_data(self) -> dict[str, str]:
        return {
            f.name: getattr(self, f.name) or ""
            for f in fields(self)
            if f.name != "contact_withheld"
        }

    def __repr__(self) -> str:  # never print an identity by accident
        return "<Identity>"


def _read_identity(
    data: Mapping[str, Any], errors: dict[str, list[Any]]
) -> tuple[dict[str, str], str | None]:
    identity: dict[str, str] = {}
    for key in IDENTITY_FIELDS:
        value = _text(data.get(key))
        if value is None:
            continue
        if key == "phone":
            value = normalize_digits(value)
            allowed = set("0123456789+-() ./")
            if not any(ch.isdigit() for ch in value) or any(ch not in allowed for ch in value):
                errors.setdefault("phone", []).append(
                    _l("Enter a phone number with digits, spaces and + - ( ) only.")
                )
        if key == "email":
            try:
                value = validate_email(value, check_deliverability=False).normalized
            except EmailNotValidError:
                errors.setdefault("email", []).append(_l("Enter a valid e-mail address."))
        if len(value) > MAX_LENGTHS[key]:
            errors.setdefault(key, []).append(
                _l("Keep this under %(max)s characters.", max=MAX_LENGTHS[key])
            )
        identity[key] = value
    channel = _text(data.get("safe_contact_channel"))
    if channel and len(channel) > MAX_LENGTHS["safe_contact_channel"]:
        errors.setdefault("safe_contact_channel", []).append(
            _l("Keep this under %(max)s characters.", max=MAX_LENGTHS["safe_contact_channel"])
        )
    if (identity or channel) and not (identity.get("name_ar") or identity.get("name_en")):
        errors.setdefault("name_ar", []).append(
            _l("Enter the name in Arabic or in Latin script (or both).")
        )
    return identity, channel


def _store_identity(person: Person, identity: Mapping[str, str], channel: str | None) -> None:
    person.identity_enc = (
        encrypt_json(dict(identity), person.identity_context) if identity else None
    )
    person.safe_contact_channel_enc = (
        encrypt_text(channel, person.safe_contact_context) if channel else None
    )


def _decrypt_identity(person: Person) -> Identity:
    """The stored identity in clear (a DecryptionError if the key or row is wrong)."""
    document = (
        decrypt_json(person.identity_enc, person.identity_context) if person.identity_enc else {}
    )
    channel = (
        decrypt_text(person.safe_contact_channel_enc, person.safe_contact_context)
        if person.safe_contact_channel_enc
        else None
    )
    values = {k: document.get(k) for k in IDENTITY_FIELDS}
    return Identity(**values, safe_contact_channel=channel)


def _withhold_contact(identity: Identity) -> Identity:
    held = any(getattr(identity, k) for k in CONTACT_FIELDS)
    values = identity.as_form_data()
    for key in CONTACT_FIELDS:
        values[key] = None
    return Identity(**{k: v or None for k, v in values.items()}, contact_withheld=held)


def _read_reason(value: Any, minimum: int, field: str = "reason") -> str:
    reason = _text(value) or ""
    if not reason:
        raise ValidationError({field: [_l("Say why you need this.")]})
    if len(reason) < minimum:
        raise ValidationError(
            {field: [_l("Give a reason of at least %(min)s characters.", min=minimum)]}
        )
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError(
            {field: [_l("Keep this under %(max)s characters.", max=REASON_MAX_LENGTH)]}
        )
    return reason


def reveal_identity(person: Person, *, actor: Any, reason: Any, purpose: str = "view") -> Identity:
    """Show an identity: a deliberate act with a stated reason, recorded each time.

    The audit row carries the purpose and the length of the reason; the reason
    itself is kept encrypted with the person (it may quote them) and is erased
    with the identity. For a person who must not be contacted, contact details
    are withheld.
    """
    _require(actor, Permission.IDENTITY_VIEW)
    if not person.can_see_identity(actor):
        raise NotFound()
    if purpose not in PURPOSES:
        raise ValidationError({"purpose": [_l("Choose a value from the list.")]})
    if purpose == "edit":
        _require(actor, Permission.PEOPLE_EDIT)
    text = _read_reason(reason, REASON_MIN_LENGTH)
    access = IdentityAccess(person_id=person.id, user_id=actor.id, purpose=purpose)
    access.reason_enc = encrypt_text(text, access.reason_context)
    db.session.add(access)
    record(
        "person.identity_view",
        person,
        actor=actor,
        details={"purpose": purpose, "reason_given": True, "reason_length": len(text)},
    )
    identity = _decrypt_identity(person)
    return _withhold_contact(identity) if person.do_not_contact else identity


def identity_for_conflict(person: Person, *, actor: Any) -> Identity:
    """The saved identity, shown beside the user's own input after a conflicting
    save (the user is mid-way through an edit they gave a reason for); recorded."""
    _require(actor, Permission.IDENTITY_VIEW, Permission.PEOPLE_EDIT)
    if not person.can_see_identity(actor):
        raise NotFound()
    record("person.identity_view", person, actor=actor, details={"purpose": "edit_conflict"})
    identity = _decrypt_identity(person)
    return _withhold_contact(identity) if person.do_not_contact else identity


def identity_accesses(person: Person, *, actor: Any, limit: int = 20) -> list[dict[str, Any]]:
    """Who saw this identity, when, and why (for the identity page only)."""
    _require(actor, Permission.IDENTITY_VIEW)
    rows = db.session.execute(
        select(IdentityAccess)
        .where(IdentityAccess.person_id == person.id)
        .order_by(IdentityAccess.id.desc())
        .limit(limit)
    ).scalars()
    out = []
    for row in rows:
        reason = decrypt_text(row.reason_enc, row.reason_context) if row.reason_enc else None
        out.append({"at": row.at, "user": row.user, "purpose": row.purpose, "reason": reason})
    return out


def update_identity(person: Person, data: Mapping[str, Any], *, actor: Any, version: Any) -> Person:
    """Enter or change an identity. Fields missing from ``data`` keep their value;
    contact fields of a person who must not be contacted cannot be changed here.
    A non-empty identity needs current consent to store it."""
    _require(actor, Permission.IDENTITY_VIEW, Permission.PEOPLE_EDIT)
    if not person.can_edit(actor) or not person.can_see_identity(actor):
        raise NotFound()
    _check_version(person, version)
    current = _decrypt_identity(person).as_form_data()
    merged = dict(current)
    for key in (*IDENTITY_FIELDS, "safe_contact_channel"):
        if key in data and not (person.do_not_contact and key in CONTACT_FIELDS):
            merged[key] = data[key] or ""
    errors: dict[str, list[Any]] = {}
    identity, channel = _read_identity(merged, errors)
    if errors:
        raise ValidationError(errors)
    if (identity or channel) and not has_consent(person, ConsentScope.STORE):
        raise ValidationError(
            {"": [_l("Record the person's consent to store personal data first.")]}
        )
    before = {k: _text(v) for k, v in current.items()}
    after = {**{k: identity.get(k) for k in IDENTITY_FIELDS}, "safe_contact_channel": channel}
    changed = sorted(k for k in after if before.get(k) != after[k])
    if not changed:
        return person
    _store_identity(person, identity, channel)
    _touch(person)
    # Field names only: which parts changed, never what they say.
    record("person.identity_update", person, actor=actor, details={"fields": changed})
    return person


# --- consent ------------------------------------------------------------------------


def _consenting_ids(scope: ConsentScope) -> Select[Any]:
    """Ids of people whose latest event for ``scope`` grants it."""
    later = aliased(ConsentEvent)
    return select(ConsentEvent.person_id).where(
        ConsentEvent.scope == scope,
        ConsentEvent.granted.is_(True),
        ~exists(
            select(later.id).where(
                later.person_id == ConsentEvent.person_id,
                later.scope == scope,
                later.id > ConsentEvent.id,
            )
        ),
    )


def consenting_people_query(
    scope: ConsentScope | str, *, include_archived: bool = False
) -> Select[Any]:
    """People who consent to ``scope`` right now (their latest event grants it).

    Every export, share and list that depends on consent must start from this
    query (or :func:`has_consent`): a withdrawal recorded a moment ago is already
    reflected, because nothing is cached.
    """
    stmt = select(Person).where(Person.id.in_(_consenting_ids(ConsentScope(scope))))
    if not include_archived:
        stmt = stmt.where(Person.archived_at.is_(None))
    return stmt


def current_consents(person: Person) -> dict[ConsentScope, ConsentEvent | None]:
    """The latest event per scope (None: never recorded, which means no consent)."""
    latest = (
        select(func.max(ConsentEvent.id))
        .where(ConsentEvent.person_id == person.id)
        .group_by(ConsentEvent.scope)
    )
    events = db.session.execute(select(ConsentEvent).where(ConsentEvent.id.in_(latest))).scalars()
    found = {event.scope: event for event in events}
    return {scope: found.get(scope) for scope in ConsentScope}


def has_consent(person: Person, scope: ConsentScope | str) -> bool:
    """Whether the person's latest event for ``scope`` grants it (read now)."""
    scope = ConsentScope(scope)
    granted = db.session.execute(
        select(ConsentEvent.granted)
        .where(ConsentEvent.person_id == person.id, ConsentEvent.scope == scope)
        .order_by(ConsentEvent.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    return bool(granted)


def consent_history(person: Person) -> list[ConsentEvent]:
    """Every consent event of the person, oldest first (append-only)."""
    return list(
        db.session.execute(
            select(ConsentEvent)
            .where(ConsentEvent.person_id == person.id)
            .order_by(ConsentEvent.id)
        ).scalars()
    )


def _read_consent_details(
    data: Mapping[str, Any], errors: dict[str, list[Any]], *, prefix: str = ""
) -> dict[str, Any]:
    """``on``, ``method`` and ``language`` of a consent event (keys may be prefixed)."""
    on = _date(data.get(f"{prefix}on"), f"{prefix}on", errors)
    if on is None and f"{prefix}on" not in errors:
        errors[f"{prefix}on"] = [REQUIRED]
    elif on is not None and on > clock.today():
        errors.setdefault(f"{prefix}on", []).append(_l("The date cannot be in the future."))
    method = _code(ConsentMethod, data.get(f"{prefix}method"), f"{prefix}method", errors)
    if method is None and f"{prefix}method" not in errors:
        errors[f"{prefix}method"] = [REQUIRED]
    language = (_text(data.get(f"{prefix}language")) or "").lower() or None
    if language and not _is_language(language):
        errors.setdefault(f"{prefix}language", []).append(_l("Choose a value from the list."))
    return {"on": on, "method": method, "language": language}


def _check_order(person: Person, scope: ConsentScope, on: date | None, errors: dict) -> None:
    """An event cannot be dated before the last one of its scope: history reads in order."""
    if on is None:
        return
    last = db.session.execute(
        select(ConsentEvent.on)
        .where(ConsentEvent.person_id == person.id, ConsentEvent.scope == scope)
        .order_by(ConsentEvent.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    if last is not None and on < last:
        errors.setdefault("on", []).append(
            _l("The date cannot be before the last consent event of this scope.")
        )


def _append_consent(
    person: Person,
    scope: ConsentScope,
    *,
    granted: bool,
    actor: Any,
    on: date | None,
    method: ConsentMethod | None = None,
    language: str | None = None,
    override: bool = False,
    override_reason: str | None = None,
) -> ConsentEvent:
    event = ConsentEvent(
        person_id=person.id,
        scope=scope,
        granted=granted,
        on=on,
        method=method,
        language=language,
        override=override,
        recorded_by_id=actor.id if actor is not None else None,
    )
    if override_reason:  # set before the insert: the row cannot change afterwards
        event.override_reason_enc = encrypt_text(override_reason, event.override_context)
    db.session.add(event)
    db.session.flush()
    return event


def record_consent(person: Person, data: Mapping[str, Any], *, actor: Any) -> ConsentEvent:
    """Append a consent event: ``scope``, ``granted`` (bool), ``on``, ``method``,
    ``language``. It applies at once. Withdrawing consent to store erases the
    identity, which needs its own confirmation: use :func:`erase_identity`."""
    _require(actor, Permission.PEOPLE_EDIT)
    if not person.can_edit(actor):
        raise NotFound()
    errors: dict[str, list[Any]] = {}
    scope = _code(ConsentScope, data.get("scope"), "scope", errors)
    if scope is None and "scope" not in errors:
        errors["scope"] = [REQUIRED]
    if data.get("granted") is None:
        errors["granted"] = [REQUIRED]
    granted = bool(data.get("granted"))
    details = _read_consent_details(data, errors)
    if scope is not None:
        _check_order(person, scope, details["on"], errors)
    if scope == ConsentScope.STORE and data.get("granted") is not None and not granted:
        errors.setdefault("granted", []).append(
            _l("Withdrawing consent to store erases the identity: use “Erase identity”.")
        )
    if errors:
        raise ValidationError(errors)
    event = _append_consent(person, scope, granted=granted, actor=actor, **details)
    record(
        "person.consent",
        person,
        actor=actor,
        details={
            "event_id": event.id,
            "scope": scope,
            "granted": granted,
            "method": details["method"],
            "language": details["language"],
        },
    )
    return event


def overridable_scopes(person: Person) -> list[ConsentScope]:
    """Scopes the person refused (latest event withdraws) that an override may lift.

    A refusal to store cannot be overridden: the identity is already erased.
    """
    return [
        scope
        for scope, event in current_consents(person).items()
        if event is not None and not event.granted and scope != ConsentScope.STORE
    ]


def override_refusal(person: Person, data: Mapping[str, Any], *, actor: Any) -> ConsentEvent:
    """Act despite a refusal (``scope``, ``on``, ``reason``): needs its own
    permission, a reason and a recent re-authentication; recorded in the history
    as an override and audited (the reason encrypted, never in the audit row)."""
    _require(actor, Permission.CONSENT_OVERRIDE, Permission.PEOPLE_EDIT)
    if not person.can_edit(actor):
        raise NotFound()
    _require_recent_authentication()
    errors: dict[str, list[Any]] = {}
    scope = _code(ConsentScope, data.get("scope"), "scope", errors)
    if scope is None and "scope" not in errors:
        errors["scope"] = [REQUIRED]
    elif scope is not None and scope not in overridable_scopes(person):
        errors.setdefault("scope", []).append(
            _l("Only a current refusal can be overridden, and never a refusal to store.")
        )
    on = _date(data.get("on"), "on", errors)
    if on is None and "on" not in errors:
        errors["on"] = [REQUIRED]
    elif on is not None and on > clock.today():
        errors.setdefault("on", []).append(_l("The date cannot be in the future."))
    if scope is not None:
        _check_order(person, scope, on, errors)
    try:
        reason = _read_reason(data.get("reason"), OVERRIDE_REASON_MIN_LENGTH)
    except ValidationError as exc:
        errors.update(exc.errors)
        reason = ""
    if errors:
        raise ValidationError(errors)
    event = _append_consent(
        person, scope, granted=True, actor=actor, on=on, override=True, override_reason=reason
    )
    record(
        "person.consent_override",
        person,
        actor=actor,
        details={"event_id": event.id, "scope": scope, "reason_length": len(reason)},
    )
    return event


def override_reason(event: ConsentEvent, *, actor: Any) -> str | None:
    _require(actor, Permission.IDENTITY_VIEW)
    if event.override_reason_enc is None:
        return None
    return decrypt_text(event.override_reason_enc, event.override_context)


# --- erasure ------------------------------------------------------------------------


def erase_identity(person: Person, data: Mapping[str, Any], *, actor: Any) -> ConsentEvent:
    """The person withdrew consent to store: erase their identity everywhere.

    ``data``: ``on``, ``method``, ``language`` of the withdrawal, and
    ``confirm_code`` (the person's code, typed again: erasure cannot be undone).
    Needs a recent re-authentication. Clears the identity, the safe contact
    channel, the reasons given to see the identity or to override a refusal, and
    the free text of the person's follow-ups. The record, its code, its anonymous
    attributes, its engagement links and every count stay as they were.
    """
    _require(actor, Permission.PEOPLE_EDIT)
    if not person.can_edit(actor):
        raise NotFound()
    _require_recent_authentication()
    errors: dict[str, list[Any]] = {}
    details = _read_consent_details(data, errors)
    _check_order(person, ConsentScope.STORE, details["on"], errors)
    if normalize_code(_text(data.get("confirm_code"))) != person.code:
        errors["confirm_code"] = [_l("Type the person's code exactly to confirm.")]
    if errors:
        raise ValidationError(errors)
    from crm.followups.models import FollowUp

    event = _append_consent(person, ConsentScope.STORE, granted=False, actor=actor, **details)
    had_identity = person.identity_enc is not None or person.safe_contact_channel_enc is not None
    person.identity_enc = None
    person.safe_contact_channel_enc = None
    person.identity_erased_at = utcnow()
    _touch(person)
    db.session.flush()
    db.session.execute(
        update(ConsentEvent)
        .where(ConsentEvent.person_id == person.id, ConsentEvent.override_reason_enc.is_not(None))
        .values(override_reason_enc=None)
        .execution_options(synchronize_session="fetch")
    )
    db.session.execute(
        update(IdentityAccess)
        .where(IdentityAccess.person_id == person.id)
        .values(reason_enc=None)
        .execution_options(synchronize_session="fetch")
    )
    # Free text about the person may name them: keep the follow-up, drop the words.
    cleared = db.session.execute(
        update(FollowUp)
        .where(
            FollowUp.person_id == person.id,
            (FollowUp.description.is_not(None)) | (FollowUp.title != person.code),
        )
        .values(description=None, title=person.code, version=FollowUp.version + 1)
        .execution_options(synchronize_session="fetch")
    )
    record(
        "person.erase",
        person,
        actor=actor,
        details={
            "event_id": event.id,
            "had_identity": had_identity,
            "follow_ups_cleared": int(getattr(cleared, "rowcount", 0) or 0),
        },
    )
    return event


# --- risk flags and contact ---------------------------------------------------------


def contact_refusal(person: Person) -> Any:
    """Why this person may not be contacted now (a message), or None if they may."""
    if person.archived_at is not None:
        return _l("This record is archived.")
    if person.do_not_contact:
        return _l("This person must not be contacted.")
    if not has_consent(person, ConsentScope.CONTACT):
        return _l("This person has not consented to be contacted.")
    return None


def may_contact(person: Person) -> bool:
    return contact_refusal(person) is None


def ensure_contact_allowed(person: Person, field: str = "person_id") -> None:
    """For follow-ups that contact a person (and anything else that would): refuses
    a person flagged "do not contact" or without current consent to contact."""
    message = contact_refusal(person)
    if message is not None:
        raise ValidationError({field: [message]})


# --- attendance ---------------------------------------------------------------------


def find_engagement(ref: Any, *, actor: Any) -> Engagement:
    """The engagement with this reference (any case), if the actor may see it."""
    text = _text(ref)
    if not text:
        raise ValidationError({"ref": [REQUIRED]})
    engagement = db.session.execute(
        select(Engagement).where(func.upper(Engagement.ref) == text.upper())
    ).scalar_one_or_none()
    if engagement is None or engagement.archived_at is not None or not engagement.can_view(actor):
        raise ValidationError({"ref": [_l("No engagement has this reference.")]})
    return engagement


def _linked(engagement: Engagement, person: Person) -> bool:
    return (
        db.session.execute(
            select(EngagementPerson.person_id).where(
                EngagementPerson.engagement_id == engagement.id,
                EngagementPerson.person_id == person.id,
            )
        ).first()
        is not None
    )


def add_attendance(engagement: Engagement, person: Person, *, actor: Any) -> None:
    """Record that ``person`` attended ``engagement``."""
    _require(actor, Permission.PEOPLE_EDIT)
    if not person.can_edit(actor) or not engagement.can_view(actor):
        raise NotFound()
    if engagement.archived_at is not None:
        raise NotFound()
    if _linked(engagement, person):
        raise ValidationError({"ref": [_l("This person is already listed for this engagement.")]})
    db.session.add(EngagementPerson(engagement_id=engagement.id, person_id=person.id))
    db.session.flush()
    record("person.attendance_add", person, actor=actor, details={"engagement_id": engagement.id})


def remove_attendance(engagement: Engagement, person: Person, *, actor: Any) -> None:
    _require(actor, Permission.PEOPLE_EDIT)
    if not person.can_edit(actor) or not _linked(engagement, person):
        raise NotFound()
    db.session.execute(
        EngagementPerson.__table__.delete().where(
            EngagementPerson.engagement_id == engagement.id,
            EngagementPerson.person_id == person.id,
        )
    )
    record(
        "person.attendance_remove", person, actor=actor, details={"engagement_id": engagement.id}
    )


def attended_engagements_query(person: Person, *, actor: Any) -> Select[Any]:
    """The engagements a person attended that the actor may see, latest first."""
    _require(actor, Permission.PEOPLE_VIEW, Permission.ENGAGEMENTS_VIEW)
    stmt = (
        select(Engagement)
        .where(
            Engagement.id.in_(
                select(EngagementPerson.engagement_id).where(
                    EngagementPerson.person_id == person.id
                )
            )
        )
        .order_by(Engagement.start_date.desc(), Engagement.id.desc())
    )
    if not actor.can(Permission.RECORDS_RESTORE):
        stmt = stmt.where(Engagement.archived_at.is_(None))
    return stmt


def attendees_query(engagement: Engagement, *, actor: Any) -> Select[Any]:
    """The (not archived) people who attended an engagement, by code: for the
    engagement page of those who may see people."""
    _require(actor, Permission.PEOPLE_VIEW)
    return (
        select(Person)
        .where(
            Person.archived_at.is_(None),
            Person.id.in_(
                select(EngagementPerson.person_id).where(
                    EngagementPerson.engagement_id == engagement.id
                )
            ),
        )
        .order_by(Person.code)
    )


def unique_people_reached(engagement_ids: Select[Any] | Iterable[int]) -> int:
    """How many distinct (not archived) people attended any of ``engagement_ids``
    (a ``select(Engagement.id)…`` such as the ``held_in_period`` set, or ids).

    Erased identities still count: erasure never moves a figure.
    """
    ids = engagement_ids if isinstance(engagement_ids, Select) else list(engagement_ids)
    stmt = select(func.count(func.distinct(EngagementPerson.person_id))).where(
        EngagementPerson.engagement_id.in_(ids),
        EngagementPerson.person_id.in_(select(Person.id).where(Person.archived_at.is_(None))),
    )
    return int(db.session.execute(stmt).scalar_one())


# --- sharing ------------------------------------------------------------------------


def sharing_export_query() -> Select[Any]:
    """The people whose records may go into an export meant for sharing with
    jurisdictions: current consent to share AND to store (an erased identity has
    nothing to share), not archived. Read at the moment of the export."""
    return (
        consenting_people_query(ConsentScope.SHARE_WITH_JURISDICTIONS)
        .where(
            Person.id.in_(_consenting_ids(ConsentScope.STORE)),
            Person.identity_enc.is_not(None),
        )
        .order_by(Person.id)
    )


SHARING_COLUMNS = (
    "code",
    "sex",
    "age_band",
    "governorate_of_origin",
    "current_country",
    "victim_groups",
    "at_risk",
    "do_not_contact",
    *IDENTITY_FIELDS,
)


def sharing_export_rows(*, actor: Any, batch_size: int = 500) -> Iterator[dict[str, Any]]:
    """Rows for an export meant for sharing (columns :data:`SHARING_COLUMNS`).

    The caller (the export) checks the stated purpose and recent re-authentication
    and audits the file with its hash; this checks the permissions, reads consent
    at the moment of export and withholds contact details of anyone flagged
    "do not contact".
    """
    _require(actor, Permission.EXPORT_PERSONAL, Permission.IDENTITY_VIEW)
    last_id = 0
    while True:
        batch = list(
            db.session.execute(
                sharing_export_query().where(Person.id > last_id).limit(batch_size)
            ).scalars()
        )
        if not batch:
            return
        for person in batch:
            identity = _decrypt_identity(person)
            if person.do_not_contact:
                identity = _withhold_contact(identity)
            yield {
                "code": person.code,
                "sex": person.sex.value if person.sex else None,
                "age_band": person.age_band.value if person.age_band else None,
                "governorate_of_origin": (
                    person.governorate_of_origin.value if person.governorate_of_origin else None
                ),
                "current_country": person.current_country,
                "victim_groups": [g.value for g in person.victim_group_codes],
                "at_risk": person.at_risk,
                "do_not_contact": person.do_not_contact,
                **{k: getattr(identity, k) for k in IDENTITY_FIELDS},
            }
        last_id = batch[-1].id


# --- key rotation -------------------------------------------------------------------


@dataclass
class RotationResult:
    key_id: str
    total: int = 0
    rotated: int = 0
    already_current: int = 0


def _rotate(blob: bytes | None, context: str, key_id: str) -> tuple[bytes | None, bool]:
    """The value re-encrypted under the current key, and whether it changed."""
    if blob is None:
        return None, False
    ring = keyring()
    if ring.key_id_of(blob) == key_id:
        return blob, False
    return ring.encrypt(ring.decrypt(blob, context.encode()), context.encode()), True


def rotate_keys(
    *, batch_size: int = 500, progress: Callable[[int, int], None] | None = None
) -> RotationResult:
    """Re-encrypt every identity and safe contact channel (and the encrypted
    reasons) under the first key of ``CRM_DATA_KEY``, in batches, in the caller's
    transaction. A value that does not decrypt stops everything (nothing is
    committed): keep the old key in the list until this has run."""
    key_id = keyring().current_id
    result = RotationResult(key_id=key_id)
    people = Person.__table__
    has_value = (people.c.identity_enc.is_not(None)) | (
        people.c.safe_contact_channel_enc.is_not(None)
    )
    result.total = int(
        db.session.execute(select(func.count()).select_from(people).where(has_value)).scalar_one()
    )
    done = 0
    last_id = 0
    while True:
        rows = db.session.execute(
            select(people.c.id, people.c.identity_enc, people.c.safe_contact_channel_enc)
            .where(has_value, people.c.id > last_id)
            .order_by(people.c.id)
            .limit(batch_size)
        ).all()
        if not rows:
            break
        for person_id, identity_enc, channel_enc in rows:
            new_identity, changed_identity = _rotate(
                identity_enc, f"people.identity.{person_id}", key_id
            )
            new_channel, changed_channel = _rotate(
                channel_enc, f"people.safe_contact_channel.{person_id}", key_id
            )
            if changed_identity or changed_channel:
                # Core UPDATE: a key change is not an edit, so the version stays.
                db.session.execute(
                    update(people)
                    .where(people.c.id == person_id)
                    .values(identity_enc=new_identity, safe_contact_channel_enc=new_channel)
                )
                result.rotated += 1
            else:
                result.already_current += 1
        done += len(rows)
        last_id = rows[-1][0]
        if progress:
            progress(done, result.total)
    _rotate_column(
        ConsentEvent.__table__,
        "override_reason_enc",
        "consent_events.override_reason",
        key_id,
        batch_size,
    )
    _rotate_column(
        IdentityAccess.__table__, "reason_enc", "identity_accesses.reason", key_id, batch_size
    )
    record(
        "people.key_rotation",
        actor=None,
        object_type=Person.__tablename__,
        details={"key_id": key_id, "rotated": result.rotated, "total": result.total},
    )
    return result


def _rotate_column(table: Any, column: str, context: str, key_id: str, batch_size: int) -> None:
    """Re-encrypt one column of reasons (their context names the person)."""
    col = table.c[column]
    last_id = 0
    while True:
        rows = db.session.execute(
            select(table.c.id, table.c.person_id, col)
            .where(col.is_not(None), table.c.id > last_id)
            .order_by(table.c.id)
            .limit(batch_size)
        ).all()
        if not rows:
            return
        for row_id, person_id, blob in rows:
            new, changed = _rotate(blob, f"{context}.{person_id}", key_id)
            if changed:
                db.session.execute(update(table).where(table.c.id == row_id).values({column: new}))
        last_id = rows[-1][0]
