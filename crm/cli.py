"""The ``crm`` command: serve, db, users, audit, and what the areas add."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any

import click
from flask import Flask, current_app, g
from flask.cli import FlaskGroup, with_appcontext
from flask_babel import force_locale
from flask_babel import gettext as _

from crm.extensions import db


def cli_language() -> str:
    """CLI messages follow CRM_LANG, else the system's LANG, else English."""
    for name in ("CRM_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "")
        if value:
            return "ar" if value.lower().startswith("ar") else "en"
    return "en"


@contextmanager
def unit_of_work() -> Iterator[None]:
    """One transaction for a command: committed at the end, rolled back on error."""
    try:
        yield
    except BaseException:
        db.session.rollback()
        raise
    if g.get("crm_rollback"):
        db.session.rollback()
    else:
        db.session.commit()


def localized(func: Callable[..., Any]) -> Callable[..., Any]:
    """Run a command in the CLI language (``--lang`` on a command wins, if it has one)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        language = kwargs.get("lang") or cli_language()
        with force_locale(language):
            return func(*args, **kwargs)

    return wrapper


def fail(message: str, code: int = 1) -> None:
    click.echo(message, err=True)
    sys.exit(code)


def upgrade_schema() -> None:
    from flask_migrate import upgrade

    upgrade()


def ensure_schema() -> None:
    """On a fresh installation, create the schema before the first command needs it."""
    from sqlalchemy import inspect

    fresh = not inspect(db.session.connection()).has_table("users")
    if fresh:
        db.session.rollback()  # Alembic works on its own connection
        upgrade_schema()


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@with_appcontext
@localized
def serve_command(host: str, port: int) -> None:
    """Create or upgrade the schema, then serve the app."""
    from waitress import serve

    from crm.auth.services import issue_setup_token

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    upgrade_schema()
    with unit_of_work():
        token = issue_setup_token()
    base = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"  # noqa: S104
    if token:
        setup_url = f"{base}/setup/{token}"
        message = _(
            "No account exists yet. Create the first administrator at: %(url)s", url=setup_url
        )
        click.echo(message)
    click.echo(_("Serving on %(url)s (press Ctrl+C to stop)", url=base))
    serve(app, host=host, port=port, threads=8, ident="crm")


@click.group("users")
def users_group() -> None:
    """Manage accounts."""


@users_group.command("create")
@click.argument("email")
@click.option(
    "--role",
    required=True,
    type=click.Choice(["admin", "outreach", "focal_point", "reporting", "viewer"]),
)
@click.option("--name", default=None)
@click.option("--locale", "locale", type=click.Choice(["ar", "en"]), default=None)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
@localized
def users_create(
    email: str, role: str, name: str | None, locale: str | None, password_stdin: bool
) -> None:
    """Create an account (the first administrator, for instance)."""
    from crm.auth.services import create_user
    from crm.errors import ValidationError

    ensure_schema()
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt(_("Password"), hide_input=True, confirmation_prompt=True)
    try:
        with unit_of_work():
            user = create_user(
                {
                    "email": email,
                    "role": role,
                    "name": name,
                    "locale": locale,
                    "password": password,
                },
                actor=None,
            )
    except ValidationError as exc:
        for field, messages in exc.errors.items():
            for message in messages:
                click.echo(f"{field}: {message}" if field else str(message), err=True)
        sys.exit(1)
    click.echo(
        _("Created the account %(email)s (%(role)s).", email=user.email, role=user.role.label)
    )


@click.group("audit")
def audit_group() -> None:
    """The audit trail."""


@audit_group.command("verify")
@with_appcontext
@localized
def audit_verify() -> None:
    """Check the hash chain of the audit trail; name the first broken row."""
    from crm.audit.services import verify_chain

    problem = verify_chain()
    if problem:
        fail(
            _(
                "The audit trail is broken at row %(id)s: %(reason)s",
                id=problem.entry_id,
                reason=problem.reason,
            )
        )
    click.echo(_("The audit trail is intact."))


COMMANDS: list[click.Command] = [serve_command, users_group, audit_group]


def register(app: Flask) -> None:
    """The core commands and those of the areas (blueprints add their own groups,
    e.g. ``crm people rotate-key`` and ``crm frameworks alerts``)."""
    from crm.api.cli import tokens_group
    from crm.demo import demo_command
    from crm.imports.cli import import_command
    from crm.reports.cli import report_group

    for command in (*COMMANDS, import_command, report_group, tokens_group, demo_command):
        app.cli.add_command(command)


def _create_app() -> Flask:
    from crm import create_app

    return create_app()


def main() -> None:
    cli = FlaskGroup(
        create_app=_create_app,
        add_default_commands=False,
        add_version_option=False,
        load_dotenv=False,
    )
    cli(prog_name="crm")
