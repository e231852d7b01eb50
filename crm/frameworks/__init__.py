"""Cooperation frameworks: MoUs, protocols and agreements, their amendments,
documents and alerts."""

from flask import Blueprint

bp = Blueprint("frameworks", __name__, url_prefix="/frameworks", template_folder="templates")

from crm.frameworks import cli, views  # noqa: E402, F401
