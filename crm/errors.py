"""Errors that services raise, and the error pages."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from flask import Flask, render_template, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class ServiceError(Exception):
    """Base of the errors a service raises for the caller to show.

    Raising one dooms the request's transaction: whatever the view then shows, the
    request ends with a rollback, so a half-applied change is never committed.
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> ServiceError:
        from flask import g, has_app_context

        if has_app_context():
            g.crm_rollback = True
        return super().__new__(cls)


class ValidationError(ServiceError):
    """Input breaks a rule. ``errors`` maps a field name (or "" for the whole form)
    to translatable messages, so each message can be shown next to its field."""

    def __init__(self, errors: Mapping[str, Sequence[Any]] | str | Any):
        if not isinstance(errors, Mapping):
            errors = {"": [errors]}
        self.errors: dict[str, list[Any]] = {k: list(v) for k, v in errors.items()}
        super().__init__("; ".join(f"{k}: {[str(m) for m in v]}" for k, v in self.errors.items()))

    def apply_to_form(self, form: Any) -> None:
        """Attach each message to its form field; others go to ``form.form_errors``."""
        for name, messages in self.errors.items():
            field = getattr(form, name, None) if name else None
            if field is not None and hasattr(field, "errors"):
                field.errors = [*list(field.errors or []), *messages]
            else:
                form.form_errors.extend(messages)


class PermissionDenied(ServiceError):
    """The actor may not do this."""

    def __init__(self, message: Any = None):
        self.message = message or _l("You do not have permission to do this.")
        super().__init__(str(self.message))


class NotFound(ServiceError):
    """The record does not exist or is outside the actor's reach (the two look alike)."""


class ConflictError(ServiceError):
    """Someone else saved the record since the form was loaded."""

    def __init__(self, current: Any):
        self.current = current
        super().__init__("stale version")


ERROR_TEMPLATES = {400: "400", 403: "403", 404: "404", 405: "404", 413: "413", 429: "429"}


def register_error_pages(app: Flask) -> None:
    def render_error(code: int) -> tuple[str, int]:
        template = ERROR_TEMPLATES.get(code, "500")
        try:
            return render_template(f"errors/{template}.html", code=code), code
        except Exception:  # the error page must never raise
            log.exception("error page %s failed to render", code)
            return "Error / خطأ", code

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        if request.blueprint == "api" or request.path.startswith("/api/"):
            from crm.api.errors import json_error  # the API answers in JSON

            return json_error(exc.code or 500)
        return render_error(exc.code or 500)

    @app.errorhandler(PermissionDenied)
    def permission_denied(_exc: PermissionDenied) -> Any:
        return render_error(403)

    @app.errorhandler(NotFound)
    def not_found(_exc: NotFound) -> Any:
        return render_error(404)

    @app.errorhandler(Exception)
    def server_error(exc: Exception) -> Any:
        # Ids only: the message of an exception may quote personal data.
        log.error("unhandled %s on %s %s", type(exc).__name__, request.method, request.endpoint)
        log.debug("traceback", exc_info=exc)
        from crm.extensions import db

        db.session.rollback()
        if request.path.startswith("/api/"):
            from crm.api.errors import json_error

            return json_error(500)
        return render_error(500)
