"""How an API request is authenticated, limited and answered.

:func:`api_view` wraps every view of ``/api/v1``:

1. marks it with ``crm.security.token_auth`` (the global gate lets it through:
   the API authenticates its own requests, never with the session cookie);
2. reads ``Authorization: Bearer <token>``; a missing, unknown, revoked or
   expired token, or one whose owner is deactivated, answers 401 (and counts
   against the caller's address: too many failures answer 429);
3. checks the permissions the view needs against the owner's role *and* the
   token's scope (403 otherwise), and the ``read_write`` scope for writes;
4. applies the per-token rate limit (Flask-Limiter, keyed on the token);
5. runs the view in the language the client asked for (``?lang=`` or
   ``Accept-Language``), turning the services' errors into JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import current_app, g, request
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from crm.api.errors import ApiError, api_language, error_response
from crm.api.services import TokenActor, authenticate
from crm.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from crm.extensions import limiter
from crm.security import Permission, token_auth

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_RATE_LIMIT = "120 per minute;5000 per hour"
DEFAULT_WRITE_RATE_LIMIT = "30 per minute"
DEFAULT_FAILURE_LIMIT = "30 per minute"


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def _failures_exceeded(hit: bool) -> bool:
    """Failed authentications per address (a guessing attempt), in the limiter's
    storage (Redis when configured, so every worker counts)."""
    if not limiter.enabled or not limiter.initialized:
        return False
    from limits import parse_many

    key = request.remote_addr or "unknown"
    value = current_app.config.get("API_AUTH_FAILURE_LIMIT", DEFAULT_FAILURE_LIMIT)
    exceeded = False
    for item in parse_many(value):
        if hit:
            exceeded |= not limiter.limiter.hit(item, "api-auth-failure", key)
        else:
            exceeded |= not limiter.limiter.test(item, "api-auth-failure", key)
    return exceeded


def _authenticate() -> TokenActor:
    if _failures_exceeded(hit=False):
        raise ApiError(429)
    secret = bearer_token()
    found = authenticate(secret) if secret else None
    if found is None:
        _failures_exceeded(hit=True)
        if secret:
            raise ApiError(401, "invalid_token", _l("This token is unknown, revoked or expired."))
        raise ApiError(401, "missing_token")
    token, user = found
    actor = TokenActor(user, token)
    g.api_token = token
    g.api_actor = actor
    g._login_user = actor  # current_user, for code that asks it
    return actor


def _token_key() -> str:
    token = g.get("api_token")
    if token is None:
        return f"address:{request.remote_addr}"
    # The id names the token; the hash part keeps two tokens apart even if an id
    # is reused (a restored database, tests).
    return f"token:{token.id}:{token.token_hash[:16]}"


def _rate_limit() -> str:
    return str(current_app.config.get("API_RATE_LIMIT", DEFAULT_RATE_LIMIT))


def _write_rate_limit() -> str:
    return str(current_app.config.get("API_WRITE_RATE_LIMIT", DEFAULT_WRITE_RATE_LIMIT))


def current_actor() -> TokenActor:
    return g.api_actor


def api_view(*permissions: Permission, write: bool = False) -> Callable[[F], F]:
    """Authenticate with a bearer token, check permissions and scope, rate-limit
    per token, answer errors in JSON (see the module's docstring)."""

    def decorate(view: F) -> F:
        limited = limiter.limit(_rate_limit, key_func=_token_key)(view)
        if write:
            # Both limits: the write one is checked first, then the general one.
            limited = _stack(
                limited, limiter.limit(_write_rate_limit, key_func=_token_key, scope="api-write")
            )

        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with force_locale(api_language()):
                try:
                    actor = _authenticate()
                    if write and actor.token.scope != "read_write":
                        raise ApiError(
                            403,
                            "insufficient_scope",
                            _l("This token may only read; use a read and write token."),
                        )
                    if not all(actor.can(p) for p in permissions):
                        raise ApiError(403)
                    return limited(*args, **kwargs)
                except ApiError as exc:
                    return error_response(exc)
                except ValidationError as exc:
                    fields = {name or "_record": messages for name, messages in exc.errors.items()}
                    return error_response(ApiError(422, fields=fields))
                except ConflictError as exc:
                    current = getattr(exc.current, "version", None)
                    return error_response(ApiError(409, extra={"current_version": current}))
                except PermissionDenied:
                    return error_response(ApiError(403))
                except NotFound:
                    return error_response(ApiError(404))

        return token_auth(*permissions)(wrapper)  # type: ignore[return-value]

    return decorate


def _stack(
    inner: Callable[..., Any], decorator: Callable[[Callable[..., Any]], Callable[..., Any]]
) -> Callable[..., Any]:
    """Apply a second Flask-Limiter limit around ``inner``: Flask-Limiter skips a
    decorator stacked on one of its own wrappers, so the outer limit wraps a plain
    function that calls ``inner``."""

    def plain(*args: Any, **kwargs: Any) -> Any:
        return inner(*args, **kwargs)

    plain.__name__ = inner.__name__ + "_write"
    plain.__qualname__ = plain.__name__
    plain.__module__ = inner.__module__
    return decorator(plain)
