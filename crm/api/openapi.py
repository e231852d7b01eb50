"""The OpenAPI 3 description of ``/api/v1``, served at ``/api/v1/openapi.json``.

It is built from the same definitions the API uses (the lists' filters, the
code lists, the fields an engagement accepts), so it cannot drift from it, and
``tests/api/test_openapi.py`` checks every route against it with schemathesis.
The document is public: it describes the API and holds no data.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from crm.api.errors import ERRORS
from crm.api.serializers import CODE, COUNT, DATE, ENGAGEMENT_INPUT, IDS, TEXT, TEXTS
from crm.codes import (
    AmendmentKind,
    EngagementCategory,
    EngagementFormat,
    EngagementStatus,
    EngagementType,
    FrameworkStatus,
    HeadlineRule,
    Instrument,
    OrganiserRole,
    PartnerType,
    Strategy,
    VictimGroup,
)

VERSION = "1.0.0"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {**schema, "nullable": True}


def _codes(codes: type[Enum]) -> dict[str, Any]:
    return {"type": "string", "enum": [m.value for m in codes]}


STRING = {"type": "string"}
INTEGER = {"type": "integer"}
BOOLEAN = {"type": "boolean"}
DATE_STRING = {"type": "string", "format": "date"}
DATETIME = {"type": "string", "format": "date-time"}


def _object(properties: dict[str, Any], *, required: bool = True) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(properties)
    return schema


# --- schemas -----------------------------------------------------------------------


def _schemas() -> dict[str, Any]:
    common = {
        "id": INTEGER,
        "ref": STRING,
        "version": {**INTEGER, "description": "Send it back as If-Match to change the record."},
        "archived": BOOLEAN,
        "created_at": DATETIME,
        "updated_at": DATETIME,
    }
    link = _object({"id": INTEGER, "ref": STRING})
    counts = {"type": "object", "additionalProperties": INTEGER}
    engagement_input = {
        name: {
            TEXT: _nullable(STRING),
            CODE: _nullable(STRING),
            DATE: _nullable(DATE_STRING),
            COUNT: _nullable({**INTEGER, "minimum": 0}),
            TEXTS: {"type": "array", "items": STRING},
            IDS: {"type": "array", "items": INTEGER},
        }[kind]
        for name, kind in ENGAGEMENT_INPUT.items()
    }
    for name, codes in (
        ("category", EngagementCategory),
        ("type", EngagementType),
        ("format", EngagementFormat),
        ("status", EngagementStatus),
        ("organiser", OrganiserRole),
    ):
        engagement_input[name] = _nullable(
            {
                **_codes(codes),
                "description": "A code (its English or Arabic label is accepted too).",
            }
        )
    engagement_input["victim_groups"] = {"type": "array", "items": _codes(VictimGroup)}
    engagement_input["strategies"] = {"type": "array", "items": _codes(Strategy)}
    engagement_input["country"] = _nullable({**STRING, "description": "ISO 3166-1 alpha-2"})
    engagement_input["restatement_reason"] = _nullable(
        {
            **STRING,
            "description": (
                "Why published figures change: required when the write would move a "
                "figure of a locked period (otherwise 409 restatement_required, listing "
                "each figure from what to what); recorded with the restatement."
            ),
        }
    )
    engagement_input["languages"] = {
        "type": "array",
        "items": {**STRING, "description": "ISO 639-1"},
    }
    return {
        "Error": _object(
            {
                "error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {
                        "code": {**STRING, "description": "Stable: scripts may rely on it."},
                        "message": {**STRING, "description": "In the language asked for."},
                        "fields": {
                            "type": "object",
                            "description": "422 only: messages per field.",
                            "additionalProperties": {"type": "array", "items": STRING},
                        },
                        "current_version": _nullable(INTEGER),
                    },
                }
            }
        ),
        "Link": link,
        "Partner": _object(
            {
                **common,
                "name_en": _nullable(STRING),
                "name_ar": _nullable(STRING),
                "acronym": _nullable(STRING),
                "type": _codes(PartnerType),
                "country": _nullable(STRING),
                "city": _nullable(STRING),
                "women_led": BOOLEAN,
                "victim_groups": {"type": "array", "items": _codes(VictimGroup)},
                "languages": {"type": "array", "items": STRING},
                "email": _nullable(STRING),
                "phone": _nullable(STRING),
                "website": _nullable(STRING),
                "confidential": BOOLEAN,
                "do_not_name_publicly": BOOLEAN,
            }
        ),
        "Framework": _object(
            {
                **common,
                "title_en": _nullable(STRING),
                "title_ar": _nullable(STRING),
                "instrument": _codes(Instrument),
                "status": _codes(FrameworkStatus),
                "purposes": _nullable(STRING),
                "signed_on": _nullable(DATE_STRING),
                "in_force_from": _nullable(DATE_STRING),
                "expires_on": _nullable(DATE_STRING),
                "effective_expiry": _nullable(
                    {
                        **DATE_STRING,
                        "description": (
                            "Today's effective expiry: the expires_on of the latest concluded "
                            "extension or renewal signed by today, else expires_on; null when "
                            "open-ended."
                        ),
                    }
                ),
                "terminated_on": _nullable(DATE_STRING),
                "next_review_on": _nullable(DATE_STRING),
                "amends": _nullable(link),
                "amendment_kind": _nullable(_codes(AmendmentKind)),
                "concluded": {
                    **BOOLEAN,
                    "description": "Counted in the O3.1 figures (false when archived or void).",
                },
                "confidential": BOOLEAN,
                "partners": {"type": "array", "items": _ref("Link")},
                "hidden_partners": {
                    **INTEGER,
                    "description": "Counterparts the token's owner may not see.",
                },
            }
        ),
        "Engagement": _object(
            {
                **common,
                "title_en": _nullable(STRING),
                "title_ar": _nullable(STRING),
                "category": _codes(EngagementCategory),
                "type": _codes(EngagementType),
                "format": _codes(EngagementFormat),
                "status": _codes(EngagementStatus),
                "organiser": _nullable(_codes(OrganiserRole)),
                "start_date": DATE_STRING,
                "end_date": _nullable(DATE_STRING),
                "country": _nullable(STRING),
                "city": _nullable(STRING),
                "languages": {"type": "array", "items": STRING},
                "victim_groups": {"type": "array", "items": _codes(VictimGroup)},
                "strategies": {"type": "array", "items": _codes(Strategy)},
                "partners": {"type": "array", "items": _ref("Link")},
                "hidden_partners": INTEGER,
                "women": _nullable(INTEGER),
                "men": _nullable(INTEGER),
                "unspecified": _nullable(INTEGER),
                "under_18": _nullable(INTEGER),
                "participants_total": INTEGER,
                "summary_en": _nullable(STRING),
                "summary_ar": _nullable(STRING),
                "outcomes_en": _nullable(STRING),
                "outcomes_ar": _nullable(STRING),
                "complete": BOOLEAN,
            }
        ),
        "EngagementInput": {
            "type": "object",
            "description": (
                "Fields of an engagement. On creation category, type, format, status, "
                "start_date and a title are required; partners by partner_ids or partner_refs."
            ),
            "properties": engagement_input,
            "additionalProperties": False,
        },
        "EngagementPatch": {
            "type": "object",
            "description": "The fields to change; version (or If-Match) is required.",
            "properties": {**engagement_input, "version": INTEGER},
            "additionalProperties": False,
        },
        **{
            f"{name}Page": _object(
                {
                    "items": {"type": "array", "items": _ref(name)},
                    "next": _nullable(
                        {**STRING, "description": "Pass as after= for the next page."}
                    ),
                }
            )
            for name in ("Partner", "Framework", "Engagement")
        },
        "Outcome3": _outcome3_schema(counts),
    }


def _outcome3_schema(counts: dict[str, Any]) -> dict[str, Any]:
    person_count = {
        **_nullable(INTEGER),
        "description": "A count of people: null when suppressed (see suppressed).",
    }
    schema = _object(
        {
            "period": _object({"from": DATE_STRING, "to": DATE_STRING}),
            "cooperation_frameworks": {
                "type": "object",
                "required": ["headline", "headline_rule", "concluded_to_date"],
                "properties": {
                    "headline": INTEGER,
                    "headline_rule": _codes(HeadlineRule),
                    "concluded_to_date": INTEGER,
                    "concluded_in_period": INTEGER,
                    "in_force_at_end": INTEGER,
                    "civil_society_to_date": INTEGER,
                    "by_partner_type": counts,
                    "by_instrument": counts,
                },
            },
            "engagements": {
                "type": "object",
                "required": ["headline", "held_in_period", "participants"],
                "properties": {
                    "headline": INTEGER,
                    "held_in_period": INTEGER,
                    "participants": {
                        "type": "object",
                        "properties": dict.fromkeys(
                            ("total", "women", "men", "unspecified", "under_18"), person_count
                        ),
                    },
                    "unique_people": person_count,
                    "by_type": counts,
                    "by_format": counts,
                    "by_victim_group": counts,
                    "by_country": counts,
                },
            },
            "suppressed": {
                "type": "array",
                "items": STRING,
                "description": (
                    "The keys of the counts of people that are null: 1 to below - 1 "
                    "people, or a cell that would give such a count away through a total "
                    "(e.g. engagements.participants.women)."
                ),
            },
            "suppression": _object({"below": INTEGER}),
        }
    )
    schema["properties"]["locked"] = {
        **_object({"name": STRING, "locked_at": DATETIME, "restated": BOOLEAN}),
        "description": (
            "Only for a locked period: its name, when it was locked, and whether "
            "today's data would give different figures."
        ),
    }
    schema["properties"]["live"] = {
        **BOOLEAN,
        "description": "Only for a locked period: true when live=1 asked for today's data.",
    }
    schema["properties"]["restatement"] = {
        "type": "array",
        "description": (
            "Only for a locked period: each figure that today's data gives differently "
            "from the published one (null: suppressed)."
        ),
        "items": _object(
            {"figure": STRING, "published": _nullable(INTEGER), "today": _nullable(INTEGER)}
        ),
    }
    schema["description"] = (
        "A locked period answers its frozen figures, with locked, live and restatement; "
        "live=1 answers today's data instead, still with locked and restatement."
    )
    return schema


# --- parameters --------------------------------------------------------------------


def _filter_schema(spec: Any) -> dict[str, Any]:
    parse = spec.parse
    if isinstance(parse, type) and issubclass(parse, Enum):
        item: dict[str, Any] = _codes(parse)
    elif getattr(parse, "__name__", "") == "_parse_bool":
        item = {"type": "string", "enum": ["yes", "no"]}
    else:
        item = dict(STRING)
    if spec.multiple:
        return {"type": "array", "items": item}
    return item


def _filters(list_spec: Any) -> list[dict[str, Any]]:
    parameters = []
    for spec in list_spec.filters:
        parameters.append(
            {
                "name": spec.name,
                "in": "query",
                "required": False,
                "description": (
                    f"Filter as on the web list ({spec.name}); a value the list does not "
                    "accept is ignored."
                ),
                "schema": _filter_schema(spec),
                **({"style": "form", "explode": True} if spec.multiple else {}),
            }
        )
    return parameters


LANG = {
    "name": "lang",
    "in": "query",
    "required": False,
    "description": "Language of error messages (else Accept-Language).",
    "schema": {"type": "string", "enum": ["ar", "en"]},
}
PAGING = [
    {
        "name": "limit",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50},
    },
    {
        "name": "after",
        "in": "query",
        "required": False,
        "description": "The next cursor of the previous page.",
        "schema": STRING,
    },
]


def _id(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
    }


# --- operations --------------------------------------------------------------------


def _responses(*codes: int, ok: tuple[int, str, dict[str, Any]] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if ok is not None:
        status, description, schema = ok
        out[str(status)] = {
            "description": description,
            "content": {"application/json": {"schema": schema}},
        }
    for code in codes:
        out[str(code)] = {"$ref": f"#/components/responses/E{code}"}
    return out


READ_ERRORS = (401, 403, 429)


def _list(tag: str, name: str, list_spec: Any, summary: str) -> dict[str, Any]:
    return {
        "get": {
            "tags": [tag],
            "summary": summary,
            "operationId": f"list_{tag}",
            "parameters": [*_filters(list_spec), *PAGING, LANG],
            "responses": _responses(
                400, *READ_ERRORS, ok=(200, "A page of records.", _ref(f"{name}Page"))
            ),
        }
    }


def _record(tag: str, name: str, arg: str, summary: str) -> dict[str, Any]:
    return {
        "get": {
            "tags": [tag],
            "summary": summary,
            "operationId": f"get_{tag}",
            "parameters": [_id(arg), LANG],
            "responses": _responses(
                *READ_ERRORS, 404, ok=(200, "The record (ETag: its version).", _ref(name))
            ),
        }
    }


def document() -> dict[str, Any]:
    from crm.engagements.views import ENGAGEMENT_LIST
    from crm.frameworks.views import FRAMEWORK_LIST
    from crm.partners.views import PARTNER_LIST

    engagement_record = _record("engagements", "Engagement", "engagement_id", "One engagement.")
    engagement_record["patch"] = {
        "tags": ["engagements"],
        "summary": "Change an engagement (read and write tokens).",
        "operationId": "update_engagement",
        "parameters": [
            _id("engagement_id"),
            {"name": "If-Match", "in": "header", "required": False, "schema": STRING},
            LANG,
        ],
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _ref("EngagementPatch")}},
        },
        "responses": _responses(
            400,
            *READ_ERRORS,
            404,
            409,
            415,
            422,
            428,
            ok=(200, "The changed record.", _ref("Engagement")),
        ),
        "description": (
            "Only the fields given change. The version read is required, as "
            "If-Match (the ETag) or as version in the body: 409 if the record changed "
            "since. A change that moves a figure of a locked period needs "
            "restatement_reason (409 restatement_required otherwise)."
        ),
    }
    engagements = _list(
        "engagements", "Engagement", ENGAGEMENT_LIST, "Engagements, as the web list filters them."
    )
    engagements["post"] = {
        "tags": ["engagements"],
        "summary": "Record an engagement (read and write tokens).",
        "operationId": "create_engagement",
        "parameters": [LANG],
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _ref("EngagementInput")}},
        },
        "responses": _responses(
            400,
            *READ_ERRORS,
            409,
            415,
            422,
            ok=(201, "The new record (Location: its address).", _ref("Engagement")),
        ),
        "description": (
            "An engagement that moves a figure of a locked period needs "
            "restatement_reason (409 restatement_required otherwise)."
        ),
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Outreach CRM API",
            "version": VERSION,
            "description": (
                "Personal API tokens (created on the account page) authenticate each "
                "request: Authorization: Bearer <token>. A token may do what its owner's "
                "role may, within its scope (read, or read and write). Records outside "
                "the owner's reach answer 404. Errors are JSON with a stable code and a "
                "message in the language asked for (lang= or Accept-Language). Requests "
                "are limited per token (429)."
            ),
        },
        "security": [{"bearerAuth": []}],
        "tags": [
            {"name": "reports"},
            {"name": "partners"},
            {"name": "frameworks"},
            {"name": "engagements"},
        ],
        "paths": {
            "/api/v1/openapi.json": {
                "get": {
                    "tags": ["reports"],
                    "summary": "This document.",
                    "operationId": "openapi",
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "The OpenAPI document.",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
            "/api/v1/outcome3": {
                "get": {
                    "tags": ["reports"],
                    "summary": "The Outcome 3 figures of a year or of any period.",
                    "description": (
                        "Identical to crm report outcome3 --format json: the frozen figures "
                        "of a locked period (with locked), today's data with live=1."
                    ),
                    "operationId": "outcome3",
                    "parameters": [
                        {
                            "name": "year",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "integer", "minimum": 1990, "maximum": 2999},
                        },
                        {"name": "from", "in": "query", "required": False, "schema": DATE_STRING},
                        {"name": "to", "in": "query", "required": False, "schema": DATE_STRING},
                        {
                            "name": "live",
                            "in": "query",
                            "required": False,
                            "description": "1: today's data for a locked period.",
                            "schema": {"type": "string", "enum": ["0", "1"]},
                        },
                        LANG,
                    ],
                    "responses": _responses(
                        400, *READ_ERRORS, ok=(200, "The figures.", _ref("Outcome3"))
                    ),
                }
            },
            "/api/v1/partners": _list(
                "partners", "Partner", PARTNER_LIST, "Partners, as the web list filters them."
            ),
            "/api/v1/partners/{partner_id}": _record(
                "partners", "Partner", "partner_id", "One partner."
            ),
            "/api/v1/frameworks": _list(
                "frameworks",
                "Framework",
                FRAMEWORK_LIST,
                "Cooperation frameworks, as the web list filters them.",
            ),
            "/api/v1/frameworks/{framework_id}": _record(
                "frameworks", "Framework", "framework_id", "One cooperation framework."
            ),
            "/api/v1/engagements": engagements,
            "/api/v1/engagements/{engagement_id}": engagement_record,
        },
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
            "schemas": _schemas(),
            "responses": {
                f"E{code}": {
                    "description": f"{code}: {ERRORS[code][0]}",
                    "content": {"application/json": {"schema": _ref("Error")}},
                }
                for code in (400, 401, 403, 404, 409, 415, 422, 428, 429)
            },
        },
    }
