"""``crm report outcome3``: the Outcome 3 figures on the command line.

    crm report outcome3 (--year Y | --from YYYY-MM-DD --to YYYY-MM-DD)
        [--format table|json|csv|xlsx] [--output FILE] [--lang ar|en]
        [--ga-year Y] [--published] [--live]

Exit status 0 on success, 1 on bad input (a translated message on standard
error), 2 on wrong usage (click's usage errors).
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click
from flask.cli import with_appcontext
from flask_babel import gettext as _

from crm.cli import fail, localized, unit_of_work
from crm.i18n import normalize_digits


@click.group("report")
def report_group() -> None:
    """Reports: the Outcome 3 figures."""


def _parse_year(value: str) -> int:
    from crm.reports.counting import MAX_YEAR, MIN_YEAR

    try:
        year = int(normalize_digits(value.strip()))
    except ValueError:
        year = 0
    if not (MIN_YEAR <= year <= MAX_YEAR):
        fail(_("Not a year between 1990 and 2999: %(value)s", value=value))
    return year


def _parse_date(value: str) -> date:
    try:
        return date.fromisoformat(normalize_digits(value.strip()))
    except ValueError:
        fail(_("Not a date in the form YYYY-MM-DD: %(value)s", value=value))
        raise  # unreachable: fail() exits


@report_group.command("outcome3")
@click.option("--year", "year", metavar="Y", help="Calendar year (1 January to 31 December).")
@click.option(
    "--ga-year",
    "ga_year",
    metavar="Y",
    help="General Assembly year (1 February Y to 31 January Y+1).",
)
@click.option("--from", "start", metavar="YYYY-MM-DD", help="First day (with --to).")
@click.option("--to", "end", metavar="YYYY-MM-DD", help="Last day (with --from).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv", "xlsx"]),
    default="table",
    show_default=True,
)
@click.option(
    "--output", "output", type=click.Path(dir_okay=False, writable=True), help="Write to FILE."
)
@click.option(
    "--lang",
    "lang",
    type=click.Choice(["ar", "en"]),
    default=None,
    help="Language of labels and messages.",
)
@click.option(
    "--published", is_flag=True, help="Suppress small counts of people, as for publication."
)
@click.option(
    "--live", is_flag=True, help="For a locked period: today's data instead of the frozen figures."
)
@with_appcontext
@localized
def outcome3_command(
    year: str | None,
    ga_year: str | None,
    start: str | None,
    end: str | None,
    fmt: str,
    output: str | None,
    lang: str | None,
    published: bool,
    live: bool,
) -> None:
    """The Outcome 3 figures of a period (the same as the web report and the API)."""
    from crm.cli import cli_language
    from crm.reports import services
    from crm.reports.counting import Period

    chosen = [name for name, value in (("--year", year), ("--ga-year", ga_year)) if value]
    if start or end:
        chosen.append("--from/--to")
    if len(chosen) != 1:
        raise click.UsageError(_("Give exactly one of --year Y, --ga-year Y or --from … --to …."))
    if (start is None) != (end is None):
        raise click.UsageError(_("--from and --to go together."))
    if year:
        p = Period.year(_parse_year(year))
    elif ga_year:
        p = Period.ga_year(_parse_year(ga_year))
    else:
        first, last = _parse_date(start or ""), _parse_date(end or "")
        try:
            p = Period(first, last)
        except ValueError:
            fail(_("The last day must be on or after the first day."))
    if fmt == "xlsx" and not output and sys.stdout.isatty():
        fail(_("An XLSX file is binary: write it to a file with --output FILE."))
    language = lang or cli_language()
    with unit_of_work():
        exported = services.export_report(
            p, fmt, actor=None, language=language, published=published, live=live
        )
        locked = services.locked_record(p)
        restated = locked is not None and not live and services.restatement(locked).any
    if output:
        try:
            Path(output).write_bytes(exported.content)
        except OSError as exc:
            fail(_("Cannot write %(file)s: %(reason)s", file=output, reason=exc.strerror or exc))
        click.echo(_("Written: %(file)s", file=output), err=True)
    else:
        sys.stdout.flush()
        sys.stdout.buffer.write(exported.content)
        sys.stdout.buffer.flush()
    if locked is not None and not live:
        click.echo(
            _("This period is locked: these are the figures frozen when it was locked."), err=True
        )
        if restated:
            click.echo(
                _("Restatement: today's data would give different figures (see --live)."), err=True
            )


COMMANDS = [report_group]
