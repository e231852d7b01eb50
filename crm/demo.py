"""``crm demo``: a fictional, realistic, bilingual history of the outreach work."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from crm.cli import localized


@click.command("demo")
@click.option("--lang", "lang", type=click.Choice(["ar", "en"]), default=None, hidden=True)
@with_appcontext
@localized
def demo_command(lang: str | None) -> None:
    """Fill an empty database with demonstration data (2018 to today)."""
    raise SystemExit(1)
