"""``crm report``: the Outcome 3 figures, and locking a published period.

    crm report outcome3 (--year Y | --ga-year Y | --from YYYY-MM-DD --to YYYY-MM-DD)
        [--format table|json|csv|xlsx] [--output FILE] [--lang ar|en] [--live]
    crm report lock (--year Y | --ga-year Y | --from D --to D) [--name NAME]
    crm report unlock (--year Y | --ga-year Y | --from D --to D) --reason TEXT

Exit status 0 on success, 1 on bad input (a translated message on standard
error), 2 on wrong usage (click's usage errors).
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Any

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


def _period(year: str | None, ga_year: str | None, start: str | None, end: str | None) -> Any:
    """The period the options name (exactly one of --year, --ga-year, --from/--to)."""
    from crm.reports.counting import Period

    chosen = [name for name, value in (("--year", year), ("--ga-year", ga_year)) if value]
    if start or end:
        chosen.append("--from/--to")
    if len(chosen) != 1:
        raise click.UsageError(_("Give exactly one of --year Y, --ga-year Y or --from … --to …."))
    if (start is None) != (end is None):
        raise click.UsageError(_("--from and --to go together."))
    if year:
        return Period.year(_parse_year(year))
    if ga_year:
        return Period.ga_year(_parse_year(ga_year))
    first, last = _parse_date(start or ""), _parse_date(end or "")
    try:
        return Period(first, last)
    except ValueError:
        fail(_("The last day must be on or after the first day."))


def period_options(func: Any) -> Any:
    for option in reversed(
        [
            click.option(
                "--year", "year", metavar="Y", help="Calendar year (1 January to 31 December)."
            ),
            click.option(
                "--ga-year",
                "ga_year",
                metavar="Y",
                help="General Assembly year (1 February Y to 31 January Y+1).",
            ),
            click.option("--from", "start", metavar="YYYY-MM-DD", help="First day (with --to)."),
            click.option("--to", "end", metavar="YYYY-MM-DD", help="Last day (with --from)."),
        ]
    ):
        func = option(func)
    return func


def _refused(exc: Any) -> None:
    """A service's refusal as messages on standard error, exit status 1."""
    for messages in exc.errors.values():
        for message in messages:
            click.echo(str(message), err=True)
    sys.exit(1)


@report_group.command("outcome3")
@period_options
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
    "--published",
    is_flag=True,
    hidden=True,
    help="Kept for older scripts: small counts of people are always suppressed.",
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

    p = _period(year, ga_year, start, end)
    if fmt == "xlsx" and not output and sys.stdout.isatty():
        fail(_("An XLSX file is binary: write it to a file with --output FILE."))
    language = lang or cli_language()
    with unit_of_work():
        exported = services.export_report(p, fmt, actor=None, language=language, live=live)
        locked = services.locked_record(p)
        restated = locked is not None and services.restatement(locked).any
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
    if locked is not None and live:
        click.echo(
            _("This period is locked: these are today's data, not the published figures."),
            err=True,
        )
    elif locked is not None:
        click.echo(
            _("This period is locked: these are the figures frozen when it was locked."), err=True
        )
        if restated:
            click.echo(
                _("Restatement: today's data would give different figures (see --live)."), err=True
            )


@report_group.command("lock")
@period_options
@click.option("--name", "name", default=None, help="Name of the published period.")
@with_appcontext
@localized
def lock_command(
    year: str | None, ga_year: str | None, start: str | None, end: str | None, name: str | None
) -> None:
    """Freeze the figures of a period and the ids of the records behind them."""
    from crm.errors import ValidationError
    from crm.reports import services, texts

    p = _period(year, ga_year, start, end)
    if services.locked_record(p) is not None:
        fail(_("This period is locked already."))
    try:
        with unit_of_work():
            existing = services.period_record(p)
            chosen = name or (existing.name if existing else texts.period_label(p))
            period = services.lock_period(p, actor=None, name=chosen)
            figures = period.snapshot["figures"]
            label = period.name
    except ValidationError as exc:
        _refused(exc)
    click.echo(
        _(
            "Locked “%(name)s”: %(frameworks)s cooperation frameworks, %(engagements)s "
            "engagements with victims and survivors.",
            name=label,
            frameworks=figures["cooperation_frameworks"]["headline"],
            engagements=figures["engagements"]["headline"],
        )
    )


@report_group.command("unlock")
@period_options
@click.option("--reason", "reason", required=True, help="Why the period is unlocked (audited).")
@with_appcontext
@localized
def unlock_command(
    year: str | None, ga_year: str | None, start: str | None, end: str | None, reason: str
) -> None:
    """Reopen a locked period; its frozen figures stay on record."""
    from crm.errors import ValidationError
    from crm.reports import services

    p = _period(year, ga_year, start, end)
    try:
        with unit_of_work():
            locked = services.locked_record(p)
            if locked is None:
                fail(_("This period is not locked."))
                return
            label = locked.name
            services.unlock_period(locked, actor=None, reason=reason)
    except ValidationError as exc:
        _refused(exc)
    click.echo(_("Unlocked “%(name)s”: its figures follow the data again.", name=label))


COMMANDS = [report_group]
