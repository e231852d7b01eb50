"""Importing and exporting records: files in, files out, all or nothing."""

from flask import Blueprint

bp = Blueprint("imports", __name__, template_folder="templates")

from crm.imports import cli, views  # noqa: E402, F401
