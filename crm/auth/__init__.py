from flask import Blueprint

bp = Blueprint("auth", __name__, template_folder="templates")

from crm.auth import views  # noqa: E402, F401
