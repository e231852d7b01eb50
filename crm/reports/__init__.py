"""The Outcome 3 report: counting, the report pages, exports, locked periods."""

from flask import Blueprint

bp = Blueprint("reports", __name__, template_folder="templates", url_prefix="/reports")

from crm.reports import views  # noqa: E402, F401


def _register_commands() -> None:
    """`crm report …` and `crm demo` join the console script (and `flask --app crm`)."""
    from crm import cli
    from crm.demo import demo_command
    from crm.reports.cli import report_group

    for command in (report_group, demo_command):
        if command not in cli.COMMANDS:
            cli.COMMANDS.append(command)


_register_commands()
