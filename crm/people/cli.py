"""``crm people rotate-key``: re-encrypt identities under the current data key."""

from __future__ import annotations

import click
from flask_babel import gettext as _

from crm.cli import fail, localized, unit_of_work
from crm.crypto import DecryptionError, keyring
from crm.i18n import format_number
from crm.people import bp, services


@bp.cli.command("rotate-key")
@click.option(
    "--batch-size",
    default=500,
    show_default=True,
    type=click.IntRange(1, 10_000),
    help="Rows read and rewritten at a time.",
)
@localized
def rotate_key(batch_size: int) -> None:
    """Re-encrypt every identity under the first key of CRM_DATA_KEY.

    Put the new key first in CRM_DATA_KEY and keep the old ones after it until
    this has run; it is one transaction, so an interruption changes nothing.
    Only the people area's values are re-encrypted (identities, safe contact
    channels, recorded reasons): other areas' encrypted values still need the old key.
    """
    key_id = keyring().current_id
    click.echo(_("Re-encrypting identities under the key %(key)s…", key=key_id))

    def progress(done: int, total: int) -> None:
        click.echo(
            _(
                "%(done)s of %(total)s people done",
                done=format_number(done),
                total=format_number(total),
            )
        )

    try:
        with unit_of_work():
            result = services.rotate_keys(batch_size=batch_size, progress=progress)
    except DecryptionError:
        fail(
            _(
                "A value could not be decrypted with any configured key; nothing was "
                "changed. Keep every old key in CRM_DATA_KEY after the new one."
            )
        )
        return
    click.echo(
        _(
            "Done: %(rotated)s re-encrypted, %(current)s already under %(key)s.",
            rotated=format_number(result.rotated),
            current=format_number(result.already_current),
            key=result.key_id,
        )
    )
    click.echo(
        _(
            "Other encrypted values (partners' security notes, second-factor secrets) "
            "are not re-encrypted by this command: keep the old key until they are."
        )
    )
