"""The migrations are the schema: `upgrade head` gives exactly the models, and every
revision goes down and up again, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from crm import ROOT, create_app
from crm.extensions import db
from tests.conftest import app_config, throwaway_database


@pytest.fixture
def empty_database(tmp_path) -> Iterator[str]:
    with throwaway_database("crm_migrations", tmp_path) as url:
        yield url


@pytest.fixture
def migration_app(empty_database, tmp_path):
    app = create_app(app_config(empty_database, str(tmp_path)))
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def _differences(app) -> list:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={"compare_type": True, "render_as_batch": True},
        )
        return compare_metadata(context, db.metadata)


def test_upgrade_head_equals_the_models(migration_app):
    upgrade()
    assert _differences(migration_app) == []


def test_every_revision_goes_down_and_up_again(migration_app):
    script = ScriptDirectory.from_config(
        migration_app.extensions["migrate"].migrate.get_config(str(ROOT / "migrations"))
    )
    revisions = list(reversed(list(script.walk_revisions())))
    upgrade()
    tables_at_head = set(inspect(db.engine).get_table_names())
    for _ in revisions:
        downgrade(revision="-1")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    for revision in revisions:
        upgrade(revision=revision.revision)
        downgrade(revision="-1")
        upgrade(revision=revision.revision)
    assert set(inspect(db.engine).get_table_names()) == tables_at_head
    assert _differences(migration_app) == []


def test_migrated_database_refuses_to_rewrite_history(migration_app):
    """The append-only triggers come from the migrations, not only from create_all."""
    from sqlalchemy.exc import DatabaseError

    upgrade()
    with db.engine.connect() as connection:
        connection.execute(
            text(
                "INSERT INTO audit_log (at, action, details, prev_hash, hash) "
                "VALUES (CURRENT_TIMESTAMP, 'test', '{}', :p, :h)"
            ),
            {"p": "0" * 64, "h": "1" * 64},
        )
        connection.commit()
        for statement in ("UPDATE audit_log SET action = 'forged'", "DELETE FROM audit_log"):
            with pytest.raises(DatabaseError):
                connection.execute(text(statement))
            connection.rollback()
        if db.engine.dialect.name == "sqlite":
            query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
        else:
            query = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
        triggers = set(connection.execute(text(query)).scalars())
    assert {t for t in triggers if t.startswith("consent_events_")}
    assert {t for t in triggers if t.startswith("audit_log_")}
