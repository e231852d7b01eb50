"""Engagements: the rules, for the views, the importer, the CLI and the API alike.

Services take plain mappings whose keys are the import column names of
interfaces.md (``ref``, ``title_en``, ``title_ar``, ``category``, ``type``,
``format``, ``status``, ``start_date``, ``end_date``, ``organiser``, ``country``,
``city``, ``languages``, ``victim_groups``, ``strategies``, ``partner_ids``,
``staff_ids``, ``person_ids``, ``women``, ``men``, ``unspecified``, ``under_18``,
``summary_en``, ``summary_ar``, ``outcomes_en``, ``outcomes_ar``,
``follow_up_actions``; ``partner_refs`` and ``person_codes`` are accepted too).
Values may be typed (dates, ints, codes, lists) or the text of a CSV cell: dates
as YYYY-MM-DD, numbers in Western or Arabic-Indic digits, codes or their English or
Arabic labels, lists separated by ``;`` (or ``؛`` or ``,``).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, exists, false, func, select
from sqlalchemy.orm import Session

from crm import clock
from crm.audit.models import AuditEntry
from crm.audit.services import record
from crm.auth.models import User
from crm.codes import (
    Code,
    EngagementCategory,
    EngagementFormat,
    EngagementStatus,
    EngagementType,
    OrganiserRole,
    Strategy,
    VictimGroup,
)
from crm.db import utcnow
from crm.engagements.models import (
    Engagement,
    EngagementPartner,
    EngagementStaff,
    EngagementStrategy,
    EngagementVictimGroup,
)
from crm.engagements.places import country_codes, language_codes
from crm.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from crm.extensions import db
from crm.i18n import normalize_digits
from crm.search import matches, search_text
from crm.security import Permission

TEXT_FIELDS = {
    "title_en": 500,
    "title_ar": 500,
    "city": 120,
    "summary_en": 20_000,
    "summary_ar": 20_000,
    "outcomes_en": 20_000,
    "outcomes_ar": 20_000,
    "follow_up_actions": 20_000,
}
CODE_FIELDS: dict[str, type[Code]] = {
    "category": EngagementCategory,
    "type": EngagementType,
    "format": EngagementFormat,
    "status": EngagementStatus,
    "organiser": OrganiserRole,
}
REQUIRED_CODES = ("category", "type", "format", "status")
COUNT_FIELDS = ("women", "men", "unspecified", "under_18")
LIST_FIELDS = ("languages", "victim_groups", "strategies")
LINK_FIELDS = ("partner_ids", "partner_refs", "staff_ids", "person_ids", "person_codes")
ACCEPTED_FIELDS = frozenset(
    {"ref", "start_date", "end_date", "country"}
    | set(TEXT_FIELDS)
    | set(CODE_FIELDS)
    | set(COUNT_FIELDS)
    | set(LIST_FIELDS)
    | set(LINK_FIELDS)
)
# Larger than any real audience, smaller than the database's integer.
MAX_COUNT = 10_000_000
# A reference made up when none is given: "E-2024-7K3Q" (no 0/O, 1/I/L).
REF_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

# Messages (lazy: they render in the reader's language).
REQUIRED = _l("This field is required.")
CHOOSE = _l("Choose a value from the list.")
WHOLE_NUMBER = _l("Enter a whole number, 0 or more.")
TOO_LARGE = _l("This number is too large.")
BAD_DATE = _l("Enter a date as YYYY-MM-DD.")


def today(user: Any = None) -> date:
    """The date against which "in the future" is judged: today in the user's zone,
    else the organisation's (``crm.clock``)."""
    return clock.today(user)


# --- reading values ----------------------------------------------------------------


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _items(value: Any) -> list[Any]:
    """A list from a list, a set, or a cell separated by ; ؛ or ,."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        for separator in ("؛", ","):
            value = value.replace(separator, ";")
        return [part.strip() for part in value.split(";") if part.strip()]
    if isinstance(value, Iterable):
        return [v for v in value if v is not None and v != ""]
    return [value]


_LABELS: dict[type[Code], dict[str, Code]] = {}


def _label_lookup(codes: type[Code]) -> dict[str, Code]:
    """Codes by their value, English label and Arabic label, case-folded."""
    if codes not in _LABELS:
        lookup: dict[str, Code] = {}
        for language in ("en", "ar"):
            with force_locale(language):
                lookup.update({str(m.label).strip().casefold(): m for m in codes})
        lookup.update({m.value: m for m in codes})
        _LABELS[codes] = lookup
    return _LABELS[codes]


def parse_code(codes: type[Code], value: Any) -> Code | None:
    """A code from a code, its value, or its English or Arabic label; None if unknown."""
    if isinstance(value, codes):
        return value
    text = _text(value)
    if text is None:
        return None
    return _label_lookup(codes).get(text.casefold())


def _date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(normalize_digits(str(value).strip()))


def _count(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not value.is_integer():
            raise ValueError(value)
        number = int(value)
    else:
        text = normalize_digits(str(value)).strip()
        if not text.isdigit() and not (text.startswith("-") and text[1:].isdigit()):
            raise ValueError(value)
        number = int(text)
    if number < 0:
        raise ValueError(value)
    return number


def _ids(value: Any) -> list[int]:
    ids = []
    for item in _items(value):
        number = int(normalize_digits(str(item)).strip()) if not isinstance(item, int) else item
        if number not in ids:
            ids.append(number)
    return ids


# --- access ------------------------------------------------------------------------


def _require(actor: Any, permission: Permission) -> None:
    if actor is None or not actor.can(permission):
        raise PermissionDenied()


def get_engagement(engagement_id: int, *, actor: Any) -> Engagement:
    """The engagement, or NotFound when it does not exist or is outside ``actor``'s
    reach (archived records are only for those who may restore them)."""
    engagement = db.session.get(Engagement, engagement_id)
    if engagement is None or not engagement.can_view(actor):
        raise NotFound()
    return engagement


# --- completeness ------------------------------------------------------------------

MISSING_LABELS = {
    "title_ar": _l("Title in Arabic"),
    "title_en": _l("Title in English"),
    "summary": _l("Summary"),
    "country": _l("Country"),
    "participants": _l("Participant numbers"),
    "victim_groups": _l("Victim groups"),
    "partners": _l("Partners"),
    "staff": _l("Staff involved"),
}


def missing_fields(engagement: Engagement) -> list[str]:
    """What a quick-logged record still lacks before it is a full record (keys of
    MISSING_LABELS): both titles, a summary in either language, the country (unless
    online), participant numbers once held, victim groups for an engagement with
    victims and survivors, the partners and the staff involved."""
    missing = []
    if not engagement.title_ar:
        missing.append("title_ar")
    if not engagement.title_en:
        missing.append("title_en")
    if not (engagement.summary_en or engagement.summary_ar):
        missing.append("summary")
    if not engagement.country and engagement.format != EngagementFormat.ONLINE:
        missing.append("country")
    counts = (engagement.women, engagement.men, engagement.unspecified)
    if engagement.status == EngagementStatus.HELD and all(c is None for c in counts):
        missing.append("participants")
    if engagement.category == EngagementCategory.VICTIMS_SURVIVORS and not engagement.victim_groups:
        missing.append("victim_groups")
    if not engagement.partners:
        missing.append("partners")
    if not engagement.staff:
        missing.append("staff")
    return missing


def is_complete(engagement: Engagement) -> bool:
    return not missing_fields(engagement)


def refresh_derived(session: Session) -> None:
    """Before each flush: keep ``search_text`` and ``complete`` true to the record,
    whoever changed it (services, importer, demo data, tests)."""
    for obj in (*session.new, *session.dirty):
        if not isinstance(obj, Engagement):
            continue
        text = search_text(
            obj.ref, obj.title_en, obj.title_ar, obj.city, obj.summary_en, obj.summary_ar
        )
        if obj.search_text != text:
            obj.search_text = text
        complete = is_complete(obj)
        if obj.complete is not complete:
            obj.complete = complete


# --- validation --------------------------------------------------------------------


def new_ref(start: date | None = None) -> str:
    """A free reference such as "E-2024-7K3Q"."""
    year = (start or today()).year
    for _ in range(20):
        ref = f"E-{year}-" + "".join(secrets.choice(REF_ALPHABET) for _ in range(4))
        if not db.session.execute(select(Engagement.id).where(Engagement.ref == ref)).first():
            return ref
    return f"E-{year}-" + "".join(secrets.choice(REF_ALPHABET) for _ in range(8))


class _Cleaner:
    """Reads a mapping into typed values, collecting every error at once."""

    def __init__(self, data: Mapping[str, Any], engagement: Engagement | None, actor: Any):
        self.data = data
        self.engagement = engagement
        self.actor = actor
        self.errors: dict[str, list[Any]] = {}
        self.values: dict[str, Any] = {}
        self.links: dict[str, list[Any]] = {}

    def error(self, field: str, message: Any) -> None:
        self.errors.setdefault(field, []).append(message)

    def given(self, field: str) -> bool:
        return self.engagement is None or field in self.data

    def current(self, field: str) -> Any:
        """The value after this change: the new one if given, else the record's."""
        if field in self.values:
            return self.values[field]
        return getattr(self.engagement, field, None) if self.engagement else None

    def clean(self) -> None:
        unknown = sorted(set(self.data) - ACCEPTED_FIELDS)
        for field in unknown:
            self.error(field, _l("Unknown field."))
        self._ref()
        for field, limit in TEXT_FIELDS.items():
            if self.given(field):
                value = _text(self.data.get(field))
                if value and len(value) > limit:
                    self.error(field, _l("Use at most %(max)s characters.", max=limit))
                self.values[field] = value
        if not (self.current("title_ar") or self.current("title_en")):
            self.error("title_ar", _l("Enter a title in Arabic or in English."))
        self._codes()
        self._dates()
        self._place()
        self._counts()
        self._lists()
        self._links()

    def _ref(self) -> None:
        if not self.given("ref"):
            return
        ref = _text(self.data.get("ref"))
        if ref is None:
            if self.engagement is None:
                self.values["ref"] = None  # made up once the start date is known
            return
        if len(ref) > 64:
            self.error("ref", _l("Use at most %(max)s characters.", max=64))
            return
        taken = db.session.execute(
            select(Engagement.id).where(
                func.lower(Engagement.ref) == ref.lower(),
                Engagement.id != (self.engagement.id if self.engagement else 0),
            )
        ).first()
        if taken:
            self.error("ref", _l("Another engagement has this reference."))
        self.values["ref"] = ref

    def _codes(self) -> None:
        for field, codes in CODE_FIELDS.items():
            if not self.given(field):
                continue
            raw = self.data.get(field)
            value = parse_code(codes, raw)
            if value is None and _text(raw) is not None:
                self.error(field, CHOOSE)
            elif value is None and field in REQUIRED_CODES:
                self.error(field, REQUIRED)
            self.values[field] = value

    def _dates(self) -> None:
        for field in ("start_date", "end_date"):
            if not self.given(field):
                continue
            raw = self.data.get(field)
            if raw is None or raw == "":
                if field == "start_date":
                    self.error(field, REQUIRED)
                self.values[field] = None
                continue
            try:
                self.values[field] = _date(raw)
            except (TypeError, ValueError):
                self.error(field, BAD_DATE)
                self.values[field] = None
        start, end = self.current("start_date"), self.current("end_date")
        if start and end and end < start and "end_date" not in self.errors:
            self.error("end_date", _l("The end date cannot be before the start date."))
        if (
            start
            and self.current("status") == EngagementStatus.HELD
            and start > today(self.actor)
            and "start_date" not in self.errors
        ):
            self.error(
                "start_date",
                _l(
                    "An engagement that was held cannot start in the future. Correct the "
                    "date, or choose the status “Planned”."
                ),
            )

    def _place(self) -> None:
        if self.given("country"):
            country = _text(self.data.get("country"))
            if country is not None:
                country = country.upper()
                if country not in country_codes():
                    self.error("country", _l("Choose a country from the list."))
            self.values["country"] = country

    def _counts(self) -> None:
        for field in COUNT_FIELDS:
            if not self.given(field):
                continue
            try:
                value = _count(self.data.get(field))
            except (TypeError, ValueError):
                self.error(field, WHOLE_NUMBER)
                self.values[field] = None
                continue
            if value is not None and value > MAX_COUNT:
                self.error(field, TOO_LARGE)
            self.values[field] = value
        if any(f in self.errors for f in COUNT_FIELDS):
            return
        under_18 = self.current("under_18")
        total = sum(self.current(f) or 0 for f in ("women", "men", "unspecified"))
        if under_18 is not None and under_18 > total:
            self.error(
                "under_18",
                _l(
                    "The number under 18 cannot be more than the total of women, men "
                    "and unspecified (%(total)s).",
                    total=total,
                ),
            )

    def _lists(self) -> None:
        if self.given("languages"):
            languages = []
            for item in _items(self.data.get("languages")):
                code = str(item).strip().lower()
                if code not in language_codes():
                    self.error("languages", _l("%(code)s is not a language code.", code=item))
                elif code not in languages:
                    languages.append(code)
            self.values["languages"] = languages
        for field, codes in (("victim_groups", VictimGroup), ("strategies", Strategy)):
            if not self.given(field):
                continue
            chosen: list[Code] = []
            for item in _items(self.data.get(field)):
                code = parse_code(codes, item)
                if code is None:
                    self.error(field, CHOOSE)
                elif code not in chosen:
                    chosen.append(code)
            self.links[field] = chosen

    def _links(self) -> None:
        from crm.partners.models import Partner
        from crm.people.models import Person

        engagement = self.engagement
        if "partner_ids" in self.data or "partner_refs" in self.data:
            old = list(engagement.partners) if engagement else []
            chosen = self._resolve(
                Partner, "partner_ids", Partner.ref, "partner_refs", old, str.strip
            )
            if chosen is None:
                field = "partner_ids" if "partner_ids" in self.data else "partner_refs"
                self.error(field, _l("Choose partners from the list."))
            else:
                self.links["partners"] = chosen
        if "staff_ids" in self.data:
            old_staff = list(engagement.staff) if engagement else []
            try:
                ids = _ids(self.data.get("staff_ids"))
            except (TypeError, ValueError):
                ids = None
            found = (
                {
                    u.id: u
                    for u in db.session.execute(select(User).where(User.id.in_(ids))).scalars()
                }
                if ids
                else {}
            )
            users = [found[i] for i in ids or [] if i in found]
            if (
                ids is None
                or len(users) != len(ids)
                or any(not u.active and u not in old_staff for u in users)
            ):
                self.error("staff_ids", _l("Choose staff members from the list."))
            else:
                self.links["staff"] = sorted(users, key=lambda u: u.id)
        if "person_ids" in self.data or "person_codes" in self.data:
            # Only those who may see people records may say who attended.
            if self.actor is not None and not self.actor.can(Permission.PEOPLE_VIEW):
                raise PermissionDenied()
            old_people = list(engagement.people) if engagement else []
            people = self._resolve(
                Person,
                "person_ids",
                Person.code,
                "person_codes",
                old_people,
                lambda c: normalize_digits(c).strip().upper(),
            )
            if people is None:
                field = "person_ids" if "person_ids" in self.data else "person_codes"
                self.error(field, _l("Some of these people are not on record."))
            else:
                self.links["people"] = people

    def _resolve(
        self,
        model: Any,
        ids_field: str,
        key_column: Any,
        keys_field: str,
        old: list[Any],
        clean_key: Any,
    ) -> list[Any] | None:
        """Records named by id and by key (reference, code), or None if one of
        them does not exist or is outside the actor's reach. Existing links the
        actor cannot see are kept as they are."""
        try:
            ids = _ids(self.data.get(ids_field))
        except (TypeError, ValueError):
            return None
        keys = [clean_key(str(k)) for k in _items(self.data.get(keys_field))]
        if keys_field == "person_codes":  # codes are also typed separated by spaces
            keys = [part for key in keys for part in key.split()]
        by_id = (
            {r.id: r for r in db.session.execute(select(model).where(model.id.in_(ids))).scalars()}
            if ids
            else {}
        )
        by_key = (
            {
                getattr(r, key_column.key): r
                for r in db.session.execute(select(model).where(key_column.in_(keys))).scalars()
            }
            if keys
            else {}
        )
        chosen: dict[int, Any] = {}
        for found in [by_id.get(i) for i in ids] + [by_key.get(k) for k in keys]:
            if found is None:
                return None
            usable = _sees(self.actor, found) and (found.archived_at is None or found in old)
            if not usable:
                return None
            chosen[found.id] = found
        for hidden in old:
            if not _sees(self.actor, hidden):
                chosen[hidden.id] = hidden
        return sorted(chosen.values(), key=lambda r: r.id)


def _sees(actor: Any, record: Any) -> bool:
    return actor is None or record.can_view(actor)


def check_engagement(
    data: Mapping[str, Any], *, actor: Any, engagement: Engagement | None = None
) -> dict[str, list[Any]]:
    """Every rule ``data`` breaks, without changing anything (a form that could not
    be read whole still shows all its problems at once)."""
    cleaner = _Cleaner(data, engagement, actor)
    cleaner.clean()
    return cleaner.errors


# --- changing records ----------------------------------------------------------------


def _snapshot(engagement: Engagement) -> dict[str, Any]:
    """The audited state: columns, codes and linked ids (no names)."""
    return {
        **{f: getattr(engagement, f) for f in ("ref", "start_date", "end_date", "country")},
        **{f: getattr(engagement, f) for f in TEXT_FIELDS},
        **{f: getattr(engagement, f) for f in CODE_FIELDS},
        **{f: getattr(engagement, f) for f in COUNT_FIELDS},
        "languages": list(engagement.languages or []),
        "victim_groups": sorted(v.code.value for v in engagement.victim_groups),
        "strategies": sorted(s.code.value for s in engagement.strategies),
        "partner_ids": sorted(p.id for p in engagement.partners),
        "staff_ids": sorted(u.id for u in engagement.staff),
        "person_ids": sorted(p.id for p in engagement.people),
    }


def _apply(engagement: Engagement, cleaner: _Cleaner) -> None:
    for field, value in cleaner.values.items():
        if field != "ref":
            setattr(engagement, field, value)
    if "ref" in cleaner.values:
        engagement.ref = cleaner.values["ref"] or new_ref(engagement.start_date)
    links = cleaner.links
    if "victim_groups" in links:
        current = {v.code: v for v in engagement.victim_groups}
        engagement.victim_groups = [
            current.get(c) or EngagementVictimGroup(code=c) for c in links["victim_groups"]
        ]
    if "strategies" in links:
        current_s = {s.code: s for s in engagement.strategies}
        engagement.strategies = [
            current_s.get(c) or EngagementStrategy(code=c) for c in links["strategies"]
        ]
    for name in ("partners", "staff", "people"):
        if name in links and [o.id for o in getattr(engagement, name)] != [
            o.id for o in links[name]
        ]:
            setattr(engagement, name, links[name])


def _audit_changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {k: (before.get(k), v) for k, v in after.items() if before.get(k) != v}


def _record(action: str, engagement: Engagement, actor: Any, changes: Any = None) -> None:
    # Free-text columns are marked sensitive on the model: redacted by record().
    record(action, engagement, actor=actor, changes=changes or None)


# Fields the O3.2 figures and their breakdowns read (domain.md), and multi-valued
# fields: changing the first or taking a value out of the second is shown before saving.
FIGURE_FIELDS = ("category", "type", "format", "status", "start_date")
LIST_FIELDS = ("victim_groups", "strategies", "languages", "partner_ids", "staff_ids")


def figure_changes(
    engagement: Engagement | None,
    data: Mapping[str, Any],
    *,
    actor: Any,
    label: Any,
    show: Any,
) -> list[Any]:
    """The changes of ``data`` to ``engagement`` that the confirmation step shows.
    ``label(name)`` names a field, ``show(name, value)`` writes a value."""
    from crm.reports.restatements import list_change, scalar_change

    if engagement is None:
        return []
    current: dict[str, Any] = {
        "victim_groups": [v.code.value for v in engagement.victim_groups],
        "strategies": [s.code.value for s in engagement.strategies],
        "languages": list(engagement.languages or []),
        "partner_ids": [p.id for p in engagement.partners if p.can_view(actor)],
        "staff_ids": [u.id for u in engagement.staff],
    }
    out = []
    for name in FIGURE_FIELDS:
        if name in data:
            new = data[name]
            if name == "start_date" and not isinstance(new, date):
                try:
                    new = _date(new)
                except (TypeError, ValueError):
                    continue  # the service reports it
            out.append(
                scalar_change(
                    name,
                    label(name),
                    getattr(engagement, name),
                    new,
                    lambda value, name=name: show(name, value),
                )
            )
    for name in LIST_FIELDS:
        if name in data:
            new_values = [int(x) if name.endswith("_ids") else x for x in data[name] or []]
            out.append(
                list_change(
                    name,
                    label(name),
                    current[name],
                    new_values,
                    lambda value, name=name: show(name, [value]),
                )
            )
    return out


def create_engagement(data: Mapping[str, Any], *, actor: Any) -> Engagement:
    """Record an engagement (a full form, a quick log or an import row).

    ``actor`` None means the system (a CLI command acting for no one).
    """
    if actor is not None:
        _require(actor, Permission.ENGAGEMENTS_EDIT)
    cleaner = _Cleaner(data, None, actor)
    cleaner.clean()
    if cleaner.errors:
        raise ValidationError(cleaner.errors)
    engagement = Engagement(
        created_by_id=getattr(actor, "id", None),
        languages=[],
        victim_groups=[],
        strategies=[],
    )
    for field in ("partners", "staff", "people"):
        cleaner.links.setdefault(field, [])
    _apply(engagement, cleaner)
    db.session.add(engagement)
    db.session.flush()
    _record("engagement.create", engagement, actor, _audit_changes({}, _snapshot(engagement)))
    return engagement


def update_engagement(
    engagement: Engagement, data: Mapping[str, Any], *, actor: Any, version: int | None = None
) -> Engagement:
    """Change the fields named in ``data`` (others stay as they are).

    ``version`` is the version the user's form was loaded with; None skips the
    check (the importer, which matches rows on ``ref``).
    """
    if actor is not None and not engagement.can_edit(actor):
        raise NotFound() if not engagement.can_view(actor) else PermissionDenied()
    if engagement.archived_at is not None:
        raise ValidationError(
            {"": [_l("This engagement is archived. Restore it before changing it.")]}
        )
    cleaner = _Cleaner(data, engagement, actor)
    cleaner.clean()
    if cleaner.errors:
        raise ValidationError(cleaner.errors)
    _check_version(engagement, version)
    before = _snapshot(engagement)
    _apply(engagement, cleaner)
    changes = _audit_changes(before, _snapshot(engagement))
    if changes:
        # Also when only links changed, so the version moves for every edit.
        engagement.updated_at = utcnow()
        db.session.flush()
        _record("engagement.update", engagement, actor, changes)
    return engagement


def _check_version(engagement: Engagement, version: Any) -> None:
    if version is None or version == "":
        return
    try:
        given = int(version)
    except (TypeError, ValueError):
        given = -1
    if given != engagement.version:
        raise ConflictError(current=engagement)


def cancel_engagement(
    engagement: Engagement, *, actor: Any, version: int | None = None
) -> Engagement:
    """Mark the engagement cancelled (it stays on record and in lists)."""
    if actor is not None and not engagement.can_edit(actor):
        raise NotFound() if not engagement.can_view(actor) else PermissionDenied()
    if engagement.archived_at is not None:
        raise ValidationError(
            {"": [_l("This engagement is archived. Restore it before changing it.")]}
        )
    _check_version(engagement, version)
    if engagement.status != EngagementStatus.CANCELLED:
        old = engagement.status
        engagement.status = EngagementStatus.CANCELLED
        db.session.flush()
        _record("engagement.cancel", engagement, actor, {"status": (old, engagement.status)})
    return engagement


def archive_engagement(engagement: Engagement, *, actor: Any) -> Engagement:
    """Take the engagement out of lists and counts (nothing is deleted)."""
    if actor is not None and not engagement.can_edit(actor):
        raise NotFound() if not engagement.can_view(actor) else PermissionDenied()
    if engagement.archived_at is None:
        engagement.archived_at = utcnow()
        db.session.flush()
        _record("engagement.archive", engagement, actor)
    return engagement


def restore_engagement(engagement: Engagement, *, actor: Any) -> Engagement:
    """Bring an archived engagement back into lists and counts."""
    if actor is not None:
        _require(actor, Permission.RECORDS_RESTORE)
        _require(actor, Permission.ENGAGEMENTS_EDIT)
    if engagement.archived_at is not None:
        engagement.archived_at = None
        db.session.flush()
        _record("engagement.restore", engagement, actor)
    return engagement


# --- finding records -----------------------------------------------------------------

FILTER_KEYS = (
    "from",
    "to",
    "category",
    "type",
    "format",
    "status",
    "country",
    "partner",
    "victim_group",
    "staff",
    "q",
    "incomplete",
    "archived",
    "created_by",
)


def _values(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list | tuple | set | frozenset):
        return [v for v in value if v is not None and v != ""]
    return [value] if value != "" else []


def _code_values(codes: type[Code], value: Any) -> list[Code] | None:
    parsed = [parse_code(codes, v) for v in _values(value)]
    known = [p for p in parsed if p is not None]
    if parsed and not known:
        return None  # only unknown codes: nothing matches
    return known


def _id_values(value: Any) -> list[int]:
    ids = []
    for item in _values(value):
        item = getattr(item, "id", item)
        try:
            ids.append(int(normalize_digits(str(item))))
        except ValueError:
            continue
    return ids


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().casefold() in {"1", "yes", "true", "on", "نعم"}
    return bool(value)


def engagement_query(filters: Mapping[str, Any] | None, *, actor: Any) -> Select[Any]:
    """The engagements ``actor`` may see that match ``filters``, as a ``Select`` of
    ``Engagement`` (unordered; each row once), for lists, exports and the API.

    Filters (each optional; a list means "any of"): ``from``/``to`` (start date,
    inclusive), ``category``, ``type``, ``format``, ``status`` (codes),
    ``country`` (ISO code), ``partner`` (ids), ``victim_group`` (codes),
    ``staff`` (user ids), ``q`` (words in the references, titles, city and
    summaries), ``incomplete`` (only records still to complete), ``created_by``
    (user id), ``archived`` (only archived records, for those who may restore;
    otherwise archived records are left out).
    """
    from crm.partners.models import Partner

    _require(actor, Permission.ENGAGEMENTS_VIEW)
    filters = filters or {}
    stmt = select(Engagement)
    if _truthy(filters.get("archived")) and actor.can(Permission.RECORDS_RESTORE):
        stmt = stmt.where(Engagement.archived_at.is_not(None))
    else:
        stmt = stmt.where(Engagement.archived_at.is_(None))

    nothing = False
    for key in ("from", "to"):
        value = filters.get(key)
        if value in (None, ""):
            continue
        try:
            day = _date(value)
        except (TypeError, ValueError):
            continue  # a malformed date filters nothing, as in the list's address
        stmt = stmt.where(
            Engagement.start_date >= day if key == "from" else Engagement.start_date <= day
        )
    for key, codes in (
        ("category", EngagementCategory),
        ("type", EngagementType),
        ("format", EngagementFormat),
        ("status", EngagementStatus),
    ):
        wanted = _code_values(codes, filters.get(key))
        if wanted is None:
            nothing = True
        elif wanted:
            stmt = stmt.where(getattr(Engagement, key).in_(wanted))
    countries = [str(c).strip().upper() for c in _values(filters.get("country"))]
    if countries:
        stmt = stmt.where(Engagement.country.in_(countries))
    groups = _code_values(VictimGroup, filters.get("victim_group"))
    if groups is None:
        nothing = True
    elif groups:
        # A correlated EXISTS: a victim group is common (one engagement in a few), so
        # walking the date index and probing each row finds a page at once, where
        # "id IN (…)" would gather every matching id and sort them first.
        stmt = stmt.where(
            exists().where(
                EngagementVictimGroup.engagement_id == Engagement.id,
                EngagementVictimGroup.code.in_(groups),
            )
        )
    partner_ids = _id_values(filters.get("partner"))
    if partner_ids:
        # Filtering by a partner the actor may not see finds nothing, so the list
        # cannot reveal who works with a confidential partner.
        visible = [
            p.id
            for p in db.session.execute(select(Partner).where(Partner.id.in_(partner_ids)))
            .scalars()
            .all()
            if p.can_view(actor)
        ]
        if not visible:
            nothing = True
        else:
            stmt = stmt.where(
                Engagement.id.in_(
                    select(EngagementPartner.engagement_id).where(
                        EngagementPartner.partner_id.in_(visible)
                    )
                )
            )
    staff_ids = _id_values(filters.get("staff"))
    if staff_ids:
        stmt = stmt.where(
            Engagement.id.in_(
                select(EngagementStaff.engagement_id).where(EngagementStaff.user_id.in_(staff_ids))
            )
        )
    creators = _id_values(filters.get("created_by"))
    if creators:
        stmt = stmt.where(Engagement.created_by_id.in_(creators))
    if _truthy(filters.get("incomplete")):
        stmt = stmt.where(Engagement.complete.is_(False))
    condition = matches(Engagement.search_text, filters.get("q"))
    if condition is not None:
        stmt = stmt.where(condition)
    if nothing:
        stmt = stmt.where(false())
    return stmt


def count_capped(stmt: Select[Any], limit: int) -> tuple[int, bool]:
    """How many rows ``stmt`` holds, counting at most ``limit``: (count, more).

    A list over a million rows shows "more than 10,000" rather than spending a
    full scan on an exact figure nobody reads.
    """
    capped = stmt.order_by(None).with_only_columns(Engagement.id).limit(limit + 1).subquery()
    count = int(db.session.execute(select(func.count()).select_from(capped)).scalar_one())
    return min(count, limit), count > limit


def count_engagements(filters: Mapping[str, Any] | None, *, actor: Any) -> int:
    stmt = engagement_query(filters, actor=actor).order_by(None)
    counted = select(func.count()).select_from(stmt.with_only_columns(Engagement.id).subquery())
    return int(db.session.execute(counted).scalar_one())


def history(engagement: Engagement, limit: int = 100) -> list[tuple[AuditEntry, User | None]]:
    """The audit entries of this engagement, newest first, with their actors."""
    rows = db.session.execute(
        select(AuditEntry, User)
        .outerjoin(User, User.id == AuditEntry.actor_id)
        .where(AuditEntry.object_type == Engagement.__tablename__)
        .where(AuditEntry.object_id == engagement.id)
        .order_by(AuditEntry.id.desc())
        .limit(limit)
    ).all()
    return [(entry, user) for entry, user in rows]


def month_engagements(
    first: date, last: date, filters: Mapping[str, Any] | None, *, actor: Any, limit: int = 1000
) -> tuple[list[Engagement], dict[date, int]]:
    """Held and planned engagements starting between ``first`` and ``last``: up to
    ``limit`` of them, in date order, and how many start on each day."""
    base = engagement_query({**(filters or {}), "from": first, "to": last}, actor=actor).where(
        Engagement.status.in_([EngagementStatus.HELD, EngagementStatus.PLANNED])
    )
    rows = (
        db.session.execute(base.order_by(Engagement.start_date, Engagement.id).limit(limit))
        .scalars()
        .all()
    )
    ids = base.with_only_columns(Engagement.id).subquery()
    per_day = db.session.execute(
        select(Engagement.start_date, func.count())
        .where(Engagement.id.in_(select(ids.c.id)))
        .group_by(Engagement.start_date)
    ).all()
    return list(rows), {day: int(n) for day, n in per_day}
