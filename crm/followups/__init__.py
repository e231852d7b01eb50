"""Follow-ups: what is owed on an engagement, a person, a framework or a partner."""

from flask import Blueprint

bp = Blueprint("followups", __name__, url_prefix="/follow-ups", template_folder="templates")

from crm.followups import views  # noqa: E402, F401
