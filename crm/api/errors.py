"""Errors of the JSON API: always JSON, with a stable code and a message in the
language the client asked for (``?lang=ar|en``, else ``Accept-Language``).

Body::

    {"error": {"code": "not_found", "message": "…",
               "fields": {"start_date": ["…"]}}}     # fields: 422 only

Codes never change once published; messages may be reworded and translated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flask import Response, current_app, has_request_context, jsonify, request
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

# HTTP status -> (stable code, message).
ERRORS: dict[int, tuple[str, Any]] = {
    400: ("bad_request", _l("The request is not valid.")),
    401: ("unauthorized", _l("A valid API token is required (Authorization: Bearer …).")),
    403: ("forbidden", _l("Your token does not allow this.")),
    404: ("not_found", _l("There is no such record, or it is outside your reach.")),
    405: ("method_not_allowed", _l("This method is not allowed here.")),
    406: ("not_acceptable", _l("This resource answers only in JSON.")),
    409: ("conflict", _l("The record was changed by someone else since you read it.")),
    413: ("too_large", _l("The request is too large.")),
    415: ("unsupported_media_type", _l("Send the body as JSON (Content-Type: application/json).")),
    422: ("validation_failed", _l("Some values are not valid.")),
    428: ("precondition_required", _l('Say which version you change: If-Match or "version".')),
    429: ("rate_limited", _l("Too many requests. Wait a moment and try again.")),
    500: ("server_error", _l("Something went wrong on the server. It has been logged.")),
    503: ("unavailable", _l("The service is unavailable. Try again later.")),
}


class ApiError(Exception):
    """An API failure with its status, stable code and translatable message."""

    def __init__(
        self,
        status: int,
        code: str | None = None,
        message: Any = None,
        *,
        fields: Mapping[str, Sequence[Any]] | None = None,
        extra: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ):
        default_code, default_message = ERRORS.get(status, ERRORS[500])
        self.status = status
        self.code = code or default_code
        self.message = message if message is not None else default_message
        self.fields = fields
        self.extra = dict(extra or {})
        self.headers = dict(headers or {})
        super().__init__(self.code)


def api_language() -> str:
    """``?lang=`` if it names a supported language, else the best match of
    ``Accept-Language``, else the default language."""
    supported = tuple(current_app.config.get("LANGUAGES", ("ar", "en")))
    default = current_app.config.get("BABEL_DEFAULT_LOCALE", "ar")
    if not has_request_context():
        return default
    asked = (request.args.get("lang") or "").strip().lower()
    if asked in supported:
        return asked
    return request.accept_languages.best_match(supported) or default


def _text(message: Any) -> str:
    return str(message)


def error_response(error: ApiError) -> Response:
    with force_locale(api_language()):
        body: dict[str, Any] = {"code": error.code, "message": _text(error.message)}
        if error.fields:
            body["fields"] = {
                name: [_text(m) for m in messages] for name, messages in error.fields.items()
            }
        body.update(error.extra)
    response = jsonify({"error": body})
    response.status_code = error.status
    for name, value in error.headers.items():
        response.headers[name] = value
    if error.status == 401:
        response.headers.setdefault("WWW-Authenticate", 'Bearer realm="crm"')
    if error.status == 429:
        response.headers.setdefault("Retry-After", "60")
    return response


def json_error(code: int) -> Response:
    """The JSON answer to an HTTP error raised anywhere under /api/ (the app's
    error handlers call this instead of rendering an HTML page)."""
    return error_response(ApiError(code if code in ERRORS else 500))
