"""`crm frameworks alerts`: raise the expiry and review follow-ups (run it daily)."""

from __future__ import annotations

from datetime import date

import click
from flask import current_app
from flask_babel import ngettext

from crm import clock
from crm.cli import fail, localized, unit_of_work
from crm.frameworks import bp
from crm.i18n import format_number


@bp.cli.command("alerts")
@click.option(
    "--window-days", type=int, default=None, help="Days ahead to look (default: ALERT_WINDOW_DAYS)."
)
@click.option(
    "--today", "today", default=None, help="The day to count from, YYYY-MM-DD (default: today)."
)
@localized
def alerts_command(window_days: int | None, today: str | None) -> None:
    """Raise a follow-up for each framework expiring or due for review soon."""
    from crm.frameworks.services import raise_framework_alerts

    try:
        day = date.fromisoformat(today) if today else clock.today()
    except ValueError:
        fail("--today: YYYY-MM-DD", 2)
        return
    window = (
        window_days if window_days is not None else int(current_app.config["ALERT_WINDOW_DAYS"])
    )
    with unit_of_work():
        created = raise_framework_alerts(day, window_days=window)
    count = len(created)
    click.echo(
        ngettext(
            "%(count)s follow-up raised.",
            "%(count)s follow-ups raised.",
            count,
            count=format_number(count),
        )
    )
