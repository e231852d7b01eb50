"""The JSON API, version 1: the Outcome 3 figures, partners, frameworks and
engagements (read), and engagements (create and update).

Lists take the same filters as the web lists (the same ListSpec reads them and
the same ``*_query(filters, actor=...)`` selects the records, so a token sees
exactly what its owner sees in the web) and are paged by keyset: ``limit`` (1 to
200, 50 by default) and ``after``, the opaque ``next`` cursor of the previous
page. Records outside the token owner's reach answer 404.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import current_app, jsonify, request, url_for
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from crm.api import bp
from crm.api.auth import api_view, current_actor
from crm.api.errors import ApiError
from crm.api.serializers import (
    engagement_json,
    framework_json,
    partner_json,
    read_engagement_input,
)
from crm.i18n import normalize_digits
from crm.security import Permission, public

P = Permission
DEFAULT_LIMIT = 50
MAX_LIMIT = 200


# --- paging ------------------------------------------------------------------------


def _serializer(kind: str) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=f"crm.api.cursor.{kind}")


def _limit() -> int:
    raw = request.args.get("limit")
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    try:
        value = int(normalize_digits(raw))
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_LIMIT:
        raise ApiError(
            400,
            "invalid_parameter",
            _l("limit must be a whole number from 1 to %(max)s.", max=MAX_LIMIT),
        )
    return value


def _after(kind: str) -> int:
    raw = request.args.get("after")
    if not raw:
        return 0
    try:
        value = _serializer(kind).loads(raw)
    except BadSignature:
        value = None
    if not isinstance(value, int) or value < 0:
        raise ApiError(
            400, "invalid_cursor", _l("This cursor is not valid: start from the first page.")
        )
    return value


def _page(kind: str, stmt: Any, model: Any, render: Any) -> Any:
    """One page of ``stmt`` in id order after the cursor, and the next cursor."""
    from crm.extensions import db

    limit = _limit()
    after = _after(kind)
    rows = (
        db.session.execute(stmt.where(model.id > after).order_by(model.id).limit(limit + 1))
        .scalars()
        .all()
    )
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = _serializer(kind).dumps(rows[-1].id) if more and rows else None
    return jsonify(items=[render(r) for r in rows], next=cursor)


MAX_ID = 2**31 - 1  # the largest id a database column holds


def _id_or_404(value: int) -> int:
    if not 1 <= value <= MAX_ID:
        raise ApiError(404)
    return value


def _record_response(body: dict[str, Any], status: int = 200, location: str | None = None) -> Any:
    response = jsonify(body)
    response.status_code = status
    response.headers["ETag"] = f'"{body["version"]}"'
    if location:
        response.headers["Location"] = location
    return response


# --- the OpenAPI document ----------------------------------------------------------


@bp.get("/api/v1/openapi.json")
@public
def openapi() -> Any:
    """The OpenAPI 3 description of this API (public: it holds no data)."""
    from crm.api.openapi import document

    return jsonify(document())


# --- Outcome 3 ---------------------------------------------------------------------


def _date_arg(name: str) -> date:
    raw = normalize_digits(request.args.get(name, "")).strip()
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise ApiError(
            400, "invalid_parameter", _l("%(name)s must be a date as YYYY-MM-DD.", name=name)
        ) from exc


@bp.get("/api/v1/outcome3")
@api_view(P.REPORTS_VIEW)
def outcome3() -> Any:
    """The Outcome 3 figures for ``year`` or for ``from``–``to``, exactly as
    ``crm report outcome3 --format json`` prints them: the frozen figures of a
    locked period (with ``locked``), today's data with ``live=1``."""
    from crm.reports.counting import MAX_YEAR, MIN_YEAR, Period
    from crm.reports.services import channel_report

    has_year = bool(request.args.get("year"))
    has_range = bool(request.args.get("from") or request.args.get("to"))
    if has_year == has_range:
        raise ApiError(
            400, "invalid_parameter", _l("Give either year, or from and to (YYYY-MM-DD).")
        )
    if has_year:
        try:
            year = int(normalize_digits(request.args["year"]))
        except ValueError:
            year = 0
        if not MIN_YEAR <= year <= MAX_YEAR:
            raise ApiError(
                400,
                "invalid_parameter",
                _l("year must lie between %(first)s and %(last)s.", first=MIN_YEAR, last=MAX_YEAR),
            )
        start, end = date(year, 1, 1), date(year, 12, 31)
    else:
        start, end = _date_arg("from"), _date_arg("to")
    live = request.args.get("live", "0")
    if live not in ("0", "1"):
        raise ApiError(400, "invalid_parameter", _l("live must be 0 or 1."))
    try:
        p = Period(start, end)
    except ValueError as exc:
        raise ApiError(
            400,
            "invalid_parameter",
            _l("The period must end on or after its first day, between 1990 and 2999."),
        ) from exc
    return jsonify(channel_report(p, live=live == "1").as_json())


# --- partners ----------------------------------------------------------------------


@bp.get("/api/v1/partners")
@api_view(P.PARTNERS_VIEW)
def partners() -> Any:
    from crm.partners.models import Partner
    from crm.partners.services import partner_query
    from crm.partners.views import PARTNER_LIST

    actor = current_actor()
    stmt = partner_query(PARTNER_LIST.parse_filters(request.args), actor=actor)
    return _page("partners", stmt, Partner, lambda p: partner_json(p, actor))


@bp.get("/api/v1/partners/<int:partner_id>")
@api_view(P.PARTNERS_VIEW)
def partner(partner_id: int) -> Any:
    from crm.partners.services import get_partner

    actor = current_actor()
    return _record_response(partner_json(get_partner(_id_or_404(partner_id), actor=actor), actor))


# --- frameworks --------------------------------------------------------------------


@bp.get("/api/v1/frameworks")
@api_view(P.FRAMEWORKS_VIEW)
def frameworks() -> Any:
    from crm.frameworks.models import Framework
    from crm.frameworks.services import framework_query
    from crm.frameworks.views import FRAMEWORK_LIST

    actor = current_actor()
    stmt = framework_query(FRAMEWORK_LIST.parse_filters(request.args), actor=actor)
    return _page("frameworks", stmt, Framework, lambda f: framework_json(f, actor))


@bp.get("/api/v1/frameworks/<int:framework_id>")
@api_view(P.FRAMEWORKS_VIEW)
def framework(framework_id: int) -> Any:
    from crm.frameworks.services import get_framework

    actor = current_actor()
    return _record_response(
        framework_json(get_framework(_id_or_404(framework_id), actor=actor), actor)
    )


# --- engagements -------------------------------------------------------------------


def _engagement_filters(actor: Any) -> dict[str, Any]:
    from crm.engagements.views import ENGAGEMENT_LIST

    filters = ENGAGEMENT_LIST.parse_filters(request.args)
    if filters.pop("mine", False):  # as the web list does it
        filters["created_by"] = actor.id
    return filters


@bp.get("/api/v1/engagements")
@api_view(P.ENGAGEMENTS_VIEW)
def engagements() -> Any:
    from crm.engagements.models import Engagement
    from crm.engagements.services import engagement_query

    actor = current_actor()
    stmt = engagement_query(_engagement_filters(actor), actor=actor)
    return _page("engagements", stmt, Engagement, lambda e: engagement_json(e, actor))


@bp.get("/api/v1/engagements/<int:engagement_id>")
@api_view(P.ENGAGEMENTS_VIEW)
def engagement(engagement_id: int) -> Any:
    from crm.engagements.services import get_engagement

    actor = current_actor()
    return _record_response(
        engagement_json(get_engagement(_id_or_404(engagement_id), actor=actor), actor)
    )


def _json_body() -> dict[str, Any]:
    if not request.is_json:
        raise ApiError(415)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", _l("The body must be a JSON object."))
    return body


@bp.post("/api/v1/engagements")
@api_view(P.ENGAGEMENTS_VIEW, P.ENGAGEMENTS_EDIT, write=True)
def create_engagement() -> Any:
    """Record an engagement; the same rules as the web form (422 with a message
    per field otherwise)."""
    from crm.engagements.services import create_engagement as create

    actor = current_actor()
    body = _json_body()
    reason = _restatement_reason(body)
    data = read_engagement_input(body, partial=False)
    created = _guarded(lambda: create(data, actor=actor), reason=reason, actor=actor)
    return _record_response(
        engagement_json(created, actor),
        201,
        url_for("api.engagement", engagement_id=created.id),
    )


def _restatement_reason(body: dict[str, Any]) -> str | None:
    """``restatement_reason`` of the body: why a published figure changes."""
    reason = body.pop("restatement_reason", None)
    if reason is not None and not isinstance(reason, str):
        raise ApiError(422, fields={"restatement_reason": [_l("Must be text or null.")]})
    return reason


def _guarded(apply: Any, *, reason: str | None, actor: Any) -> Any:
    """A write that would move a figure of a locked period needs a
    ``restatement_reason`` (409 ``restatement_required`` with the figures
    otherwise); with one, it is saved and the restatement recorded, as on the web."""
    from crm.reports import restatements

    shifts = restatements.simulate(apply)
    if shifts and not (reason or "").strip():
        raise ApiError(
            409,
            "restatement_required",
            _l(
                "This change moves published figures of a locked period. Send it again "
                "with restatement_reason saying why."
            ),
            extra={
                "restatement": [
                    {"period": s.period_name, "figure": s.key, "from": s.before, "to": s.after}
                    for s in shifts
                ]
            },
        )
    checked = restatements.check_reason(restatements.Impact([], shifts), reason)
    saved = apply()
    if shifts:
        restatements.record_restatements(shifts, obj=saved, reason=checked or "", actor=actor)
    return saved


def _if_match() -> int | None:
    header = request.headers.get("If-Match")
    if not header:
        return None
    value = header.strip()
    if value.startswith("W/"):
        value = value[2:]
    value = value.strip('"')
    try:
        return int(value)
    except ValueError as exc:
        raise ApiError(
            400, "invalid_parameter", _l('If-Match must be the record\'s ETag, e.g. "3".')
        ) from exc


@bp.patch("/api/v1/engagements/<int:engagement_id>")
@api_view(P.ENGAGEMENTS_VIEW, P.ENGAGEMENTS_EDIT, write=True)
def update_engagement(engagement_id: int) -> Any:
    """Change the fields given. The version read (If-Match, or ``version`` in the
    body) is required: a record changed since answers 409."""
    from crm.engagements.models import Engagement
    from crm.engagements.services import get_engagement
    from crm.engagements.services import update_engagement as update
    from crm.extensions import db

    actor = current_actor()
    record = get_engagement(_id_or_404(engagement_id), actor=actor)
    body = _json_body()
    version = _if_match()
    if "version" in body:
        given = body.pop("version")
        if not isinstance(given, int) or isinstance(given, bool):
            raise ApiError(422, fields={"version": [_l("Must be a whole number.")]})
        version = given if version is None else version
    if version is None:
        raise ApiError(428)
    reason = _restatement_reason(body)
    data = read_engagement_input(body, partial=True)
    updated = _guarded(
        lambda: update(record, data, actor=actor, version=version), reason=reason, actor=actor
    )
    db.session.flush()
    fresh = db.session.execute(select(Engagement).where(Engagement.id == updated.id)).scalar_one()
    return _record_response(engagement_json(fresh, actor))
