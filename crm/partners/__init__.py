"""Partners (counterparts) and their contact persons."""

from flask import Blueprint

bp = Blueprint("partners", __name__, url_prefix="/partners", template_folder="templates")

from crm.partners import views  # noqa: E402, F401
