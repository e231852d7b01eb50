"""``crm import partners|frameworks|engagements FILE [--dry-run]``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from flask import g
from flask.cli import with_appcontext
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select

from crm.cli import localized, unit_of_work
from crm.i18n import format_number
from crm.imports.kinds import KINDS
from crm.imports.services import PROGRESS_EVERY, ImportResult, RowError, SystemActor, run_import


def _actor(email: str | None) -> Any:
    if not email:
        return SystemActor()
    from crm.auth.models import User
    from crm.extensions import db

    user = db.session.execute(
        select(User).where(func.lower(User.email) == email.strip().lower())
    ).scalar_one_or_none()
    if user is None or not user.active:
        click.echo(_("There is no active account %(email)s.", email=email), err=True)
        sys.exit(1)
    return user


class Progress:
    """A line on standard error every few thousand rows, rewritten in place on a
    terminal."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.shown = False

    def __call__(self, rows: int, total: int | None) -> None:
        if total is not None and not self.shown:
            return  # a short file: no progress line at all
        text = ngettext(
            "%(count)s row read…", "%(count)s rows read…", rows, count=format_number(rows)
        )
        if self.tty:
            click.echo("\r" + text, err=True, nl=False)
        else:
            click.echo(text, err=True)
        self.shown = True

    def end(self) -> None:
        if self.shown and self.tty:
            click.echo("", err=True)


def _report(result: ImportResult) -> None:
    counts = [
        (_("Rows read"), result.rows),
        (_("Would be created") if result.dry_run else _("Created"), result.created),
        (_("Would be updated") if result.dry_run else _("Updated"), result.updated),
        (_("Unchanged"), result.unchanged),
    ]
    for label, number in counts:
        click.echo(f"{label}: {format_number(number)}")


@click.command("import")
@click.argument("kind", type=click.Choice(sorted(KINDS)))
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and report; write nothing.")
@click.option("--lang", type=click.Choice(["ar", "en"]), default=None, help="Language of messages.")
@click.option(
    "--user",
    "user_email",
    default=None,
    help="Record the import as made by this account (its permissions apply).",
)
@with_appcontext
@localized
def import_command(
    kind: str, file: Path, dry_run: bool, lang: str | None, user_email: str | None
) -> None:
    """Import partners, frameworks or engagements from a CSV or XLSX file.

    All or nothing: if any row is invalid nothing is written and every problem is
    listed as "row N, column C: reason". Rows are matched on their ref: an
    existing reference updates that record.
    """
    if not file.is_file():
        click.echo(_("The file %(path)s does not exist.", path=str(file)), err=True)
        sys.exit(1)
    g.pop("crm_rollback", None)  # this command is a unit of work of its own
    actor = _actor(user_email)
    progress = Progress()

    def show_error(error: RowError) -> None:
        progress.end()
        progress.shown = False
        click.echo(error.text() if error.row else str(error.message), err=True)

    with unit_of_work():
        result = run_import(
            kind,
            file,
            actor=actor,
            dry_run=dry_run,
            on_error=show_error,
            on_progress=progress,
            progress_every=PROGRESS_EVERY * 5,
        )
    progress.end()
    if result.file_problem is not None:
        click.echo(_("Nothing was imported."), err=True)
        sys.exit(1)
    for note in result.notes:
        click.echo(note, err=True)
    if not result.ok:
        hidden = result.error_count - len(result.errors)
        if hidden > 0:
            click.echo(
                ngettext("… and %(num)d more problem.", "… and %(num)d more problems.", hidden),
                err=True,
            )
        click.echo(
            ngettext(
                "%(num)d row has problems; nothing was imported.",
                "%(num)d rows have problems; nothing was imported.",
                max(result.bad_rows, 1),
            ),
            err=True,
        )
        sys.exit(1)
    _report(result)
    if dry_run:
        click.echo(_("Dry run: the file is valid and nothing was written."))
