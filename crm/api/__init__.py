"""The JSON API (``/api/v1``) and the pages that manage its personal tokens.

The API views authenticate with bearer tokens, never with the session cookie,
so the API blueprint is exempt from CSRF; the token pages are ordinary pages of
a nested blueprint (``api.tokens``) that keeps CSRF and HTML error pages.
"""

from flask import Blueprint

from crm.extensions import csrf

bp = Blueprint("api", __name__, template_folder="templates")
tokens_bp = Blueprint("tokens", __name__, template_folder="templates")

from crm.api import tokens, views  # noqa: E402, F401

bp.register_blueprint(tokens_bp)
csrf.exempt(bp)
