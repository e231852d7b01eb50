"""The Outcome 3 report: counting, the report pages, exports, locked periods."""

from flask import Blueprint

bp = Blueprint("reports", __name__, template_folder="templates", url_prefix="/reports")

from crm.reports import views  # noqa: E402, F401
