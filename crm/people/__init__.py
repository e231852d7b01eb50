"""People: victims and survivors known by a pseudonymous code.

The ``crm people …`` commands (``crm people rotate-key``) hang on the blueprint's
own CLI group (``bp.cli``), registered with the blueprint.
"""

from flask import Blueprint

bp = Blueprint("people", __name__, template_folder="templates", url_prefix="/people")

from crm.people import cli, views  # noqa: E402,F401  (routes and commands on bp)
