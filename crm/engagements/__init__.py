"""Engagements with victims, survivors, civil society and States."""

from flask import Blueprint

bp = Blueprint("engagements", __name__, url_prefix="/engagements", template_folder="templates")

from crm.engagements import views  # noqa: E402, F401
