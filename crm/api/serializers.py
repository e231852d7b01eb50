"""Records as the API shows them, and the JSON an API client may send.

What a record shows follows the web: counterparts and partners a token's owner
may not see are left out (only their number is given); security notes,
contact persons, free-text notes and people who attended never leave through
the API.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Any

from flask_babel import lazy_gettext as _l

from crm import clock
from crm.reports import counting

TEXT = "text"
CODE = "code"
DATE = "date"
COUNT = "count"
TEXTS = "texts"
IDS = "ids"

# Field -> kind of JSON value accepted (codes and dates are strings).
ENGAGEMENT_INPUT: dict[str, str] = {
    "ref": TEXT,
    "title_en": TEXT,
    "title_ar": TEXT,
    "category": CODE,
    "type": CODE,
    "format": CODE,
    "status": CODE,
    "organiser": CODE,
    "start_date": DATE,
    "end_date": DATE,
    "country": TEXT,
    "city": TEXT,
    "languages": TEXTS,
    "victim_groups": TEXTS,
    "strategies": TEXTS,
    "partner_ids": IDS,
    "partner_refs": TEXTS,
    "women": COUNT,
    "men": COUNT,
    "unspecified": COUNT,
    "under_18": COUNT,
    "summary_en": TEXT,
    "summary_ar": TEXT,
    "outcomes_en": TEXT,
    "outcomes_ar": TEXT,
    "follow_up_actions": TEXT,
}
MAX_LIST = 500
MAX_ID = 2**31 - 1  # what a database integer holds
MAX_TEXT = 20_000

_MESSAGES = {
    TEXT: _l("Must be text or null."),
    CODE: _l("Must be a code (text) or null."),
    DATE: _l("Must be a date as YYYY-MM-DD, or null."),
    COUNT: _l("Must be a whole number, or null."),
    TEXTS: _l("Must be a list of texts."),
    IDS: _l("Must be a list of record ids."),
}


def _valid(kind: str, value: Any) -> bool:
    if kind in (TEXT, CODE, DATE):
        return value is None or (isinstance(value, str) and len(value) <= MAX_TEXT)
    if kind == COUNT:
        return value is None or (
            isinstance(value, int) and not isinstance(value, bool) and -MAX_ID <= value <= MAX_ID
        )
    if kind == TEXTS:
        return (
            isinstance(value, list)
            and len(value) <= MAX_LIST
            and all(isinstance(v, str) and len(v) <= 500 for v in value)
        )
    if kind == IDS:
        return (
            isinstance(value, list)
            and len(value) <= MAX_LIST
            and all(
                isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= MAX_ID for v in value
            )
        )
    return False


def read_engagement_input(body: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    """The service's mapping from a JSON body; wrong types and unknown fields
    answer 422 with a message per field (the service then checks the rules)."""
    from crm.api.errors import ApiError

    fields: dict[str, list[Any]] = {}
    data: dict[str, Any] = {}
    for name, value in body.items():
        kind = ENGAGEMENT_INPUT.get(name)
        if kind is None:
            fields[str(name)] = [_l("Unknown field.")]
        elif not _valid(kind, value):
            fields[name] = [_MESSAGES[kind]]
        else:
            data[name] = value
    if "partner_ids" in data and "partner_refs" in data:
        fields["partner_refs"] = [_l("Give partner_ids or partner_refs, not both.")]
    if not partial and not data:
        fields.setdefault("_record", []).append(_l("The body holds no field."))
    if fields:
        raise ApiError(422, fields=fields)
    return data


# --- records as JSON ---------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _codes(items: Any) -> list[str]:
    return sorted(str(_plain(i.code)) for i in items)


def _links(records: Any, actor: Any) -> tuple[list[dict[str, Any]], int]:
    visible = [r for r in records if r.can_view(actor)]
    return [{"id": r.id, "ref": r.ref} for r in visible], len(records) - len(visible)


def _common(record: Any) -> dict[str, Any]:
    return {
        "id": record.id,
        "ref": record.ref,
        "version": record.version,
        "archived": record.archived_at is not None,
        "created_at": _plain(record.created_at),
        "updated_at": _plain(record.updated_at),
    }


def partner_json(partner: Any, _actor: Any) -> dict[str, Any]:
    return {
        **_common(partner),
        "name_en": partner.name_en,
        "name_ar": partner.name_ar,
        "acronym": partner.acronym,
        "type": _plain(partner.type),
        "country": partner.country,
        "city": partner.city,
        "women_led": bool(partner.women_led),
        "victim_groups": _codes(partner.victim_groups),
        "languages": list(partner.languages or []),
        "email": partner.email,
        "phone": partner.phone,
        "website": partner.website,
        "confidential": bool(partner.confidential),
        "do_not_name_publicly": bool(partner.do_not_name_publicly),
    }


def framework_json(framework: Any, actor: Any) -> dict[str, Any]:
    partners, hidden = _links(framework.partners, actor)
    amends = framework.amends
    return {
        **_common(framework),
        "title_en": framework.title_en,
        "title_ar": framework.title_ar,
        "instrument": _plain(framework.instrument),
        "status": _plain(framework.status),
        "purposes": framework.purposes,
        "signed_on": _plain(framework.signed_on),
        "in_force_from": _plain(framework.in_force_from),
        "expires_on": _plain(framework.expires_on),
        "effective_expiry": _plain(counting.framework_expiry(framework.id, clock.today()).on),
        "terminated_on": _plain(framework.terminated_on),
        "next_review_on": _plain(framework.next_review_on),
        "amends": (
            {"id": amends.id, "ref": amends.ref}
            if amends is not None and amends.can_view(actor)
            else None
        ),
        "amendment_kind": _plain(framework.amendment_kind),
        "concluded": counting.framework_counts(framework.id),
        "confidential": bool(framework.confidential),
        "partners": partners,
        "hidden_partners": hidden,
    }


def engagement_json(engagement: Any, actor: Any) -> dict[str, Any]:
    partners, hidden = _links(engagement.partners, actor)
    return {
        **_common(engagement),
        "title_en": engagement.title_en,
        "title_ar": engagement.title_ar,
        "category": _plain(engagement.category),
        "type": _plain(engagement.type),
        "format": _plain(engagement.format),
        "status": _plain(engagement.status),
        "organiser": _plain(engagement.organiser),
        "start_date": _plain(engagement.start_date),
        "end_date": _plain(engagement.end_date),
        "country": engagement.country,
        "city": engagement.city,
        "languages": list(engagement.languages or []),
        "victim_groups": _codes(engagement.victim_groups),
        "strategies": _codes(engagement.strategies),
        "partners": partners,
        "hidden_partners": hidden,
        "women": engagement.women,
        "men": engagement.men,
        "unspecified": engagement.unspecified,
        "under_18": engagement.under_18,
        "participants_total": engagement.participants_total,
        "summary_en": engagement.summary_en,
        "summary_ar": engagement.summary_ar,
        "outcomes_en": engagement.outcomes_en,
        "outcomes_ar": engagement.outcomes_ar,
        "complete": bool(getattr(engagement, "complete", False)),
    }
