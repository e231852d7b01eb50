"""``crm tokens``: personal API tokens from the command line (for scripts).

    crm tokens create EMAIL --name NAME [--scope read|write] [--days N]
    crm tokens revoke EMAIL (--name NAME | --all)
    crm tokens revoke --prefix PREFIX

``create`` prints the token once, alone on standard output, so that a script can
capture it; everything else goes to standard error. The same services as the
token pages create and revoke them, and write the audit rows. Exit status 0 on
success, 1 on a refusal (unknown or inactive account, no such token, …), 2 on
wrong usage.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from typing import Any

import click
from flask.cli import with_appcontext
from flask_babel import gettext as _
from flask_babel import ngettext

from crm.cli import fail, localized, unit_of_work

SCOPES = {"read": "read", "write": "read_write"}
DEFAULT_DAYS = 90


@click.group("tokens")
def tokens_group() -> None:
    """Personal API tokens."""


def _account(email: str) -> Any:
    from sqlalchemy import func, select

    from crm.auth.models import User
    from crm.extensions import db

    user = db.session.execute(
        select(User).where(func.lower(User.email) == email.strip().lower())
    ).scalar_one_or_none()
    if user is None:
        fail(_("No account has the e-mail address %(email)s.", email=email))
    if not user.active:
        fail(_("The account %(email)s is disabled.", email=user.email))
    return user


@tokens_group.command("create")
@click.argument("email")
@click.option("--name", "name", required=True, help="What the token is for (e.g. the script).")
@click.option(
    "--scope",
    "scope",
    type=click.Choice(sorted(SCOPES)),
    default="read",
    show_default=True,
    help="read: read only; write: read and write (within the account's role).",
)
@click.option(
    "--days",
    "days",
    type=click.IntRange(1, 730),
    default=DEFAULT_DAYS,
    show_default=True,
    help="Days until the token expires.",
)
@with_appcontext
@localized
def create_command(email: str, name: str, scope: str, days: int) -> None:
    """Create a token for an existing account and print it once."""
    from crm.api.services import create_token
    from crm.db import utcnow
    from crm.errors import ValidationError

    try:
        with unit_of_work():
            owner = _account(email)
            expires = (utcnow() + timedelta(days=days)).date()
            token, secret = create_token(
                owner,
                {"name": name, "scope": SCOPES[scope], "expires_on": expires},
                actor=None,
            )
            expires_at = token.expires_at
    except ValidationError as exc:
        for messages in exc.errors.values():
            for message in messages:
                click.echo(str(message), err=True)
        sys.exit(1)
    click.echo(secret)
    click.echo(
        _(
            "Token “%(name)s” created for %(email)s, valid until %(date)s. It is shown only "
            "this once.",
            name=name,
            email=owner.email,
            date=expires_at.date().isoformat() if expires_at else "-",
        ),
        err=True,
    )


@tokens_group.command("revoke")
@click.argument("email", required=False)
@click.option("--name", "name", default=None, help="The name of the token to revoke.")
@click.option("--all", "revoke_all", is_flag=True, help="Every live token of the account.")
@click.option("--prefix", "prefix", default=None, help="The first characters of the token.")
@with_appcontext
@localized
def revoke_command(
    email: str | None, name: str | None, revoke_all: bool, prefix: str | None
) -> None:
    """End one token (or every token of an account) at once."""
    from sqlalchemy import select

    from crm.api.models import ApiToken
    from crm.api.services import revoke_token
    from crm.extensions import db

    if prefix:
        if email or name or revoke_all:
            raise click.UsageError(_("Give either --prefix, or EMAIL with --name or --all."))
    elif not email or (name is None) == (not revoke_all):
        raise click.UsageError(_("Give either --prefix, or EMAIL with --name or --all."))
    with unit_of_work():
        stmt = select(ApiToken).where(ApiToken.revoked_at.is_(None))
        if prefix:
            stmt = stmt.where(ApiToken.prefix == prefix.strip())
        else:
            owner = _account(email or "")
            stmt = stmt.where(ApiToken.user_id == owner.id)
            if name is not None:
                stmt = stmt.where(ApiToken.name == name.strip())
        tokens = list(db.session.execute(stmt.order_by(ApiToken.id)).scalars())
        if not tokens:
            fail(_("No live token matches."))
        for token in tokens:
            revoke_token(token, actor=None)
        count = len(tokens)
    click.echo(ngettext("Revoked %(num)s token.", "Revoked %(num)s tokens.", count), err=True)


COMMANDS = [tokens_group]
