"""The audit trail: every row chained to the one before, and nothing can be changed."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from crm.audit.models import AuditEntry
from crm.audit.services import GENESIS, record, verify_chain


def test_rows_are_chained(db, make_user):
    actor = make_user(role="admin")
    first = record("test.one", actor=actor, details={"n": 1})
    second = record("test.two", actor=actor, details={"n": 2})
    assert second.prev_hash == first.hash
    assert verify_chain() is None


def test_sensitive_values_are_redacted(db, make_user):
    actor = make_user(role="admin")
    entry = record(
        "test.change",
        actor=actor,
        changes={"password_hash": ("old", "new"), "city": ("Gaziantep", "Berlin")},
    )
    details = json.loads(entry.details)
    assert details["changes"]["password_hash"] == {"changed": True, "value": "[redacted]"}
    assert details["changes"]["city"] == {"old": "Gaziantep", "new": "Berlin"}
    assert "old" not in json.dumps(details["changes"]["password_hash"])


def test_the_database_refuses_to_change_or_delete_a_row(db, make_user):
    entry = record("test.fixed", actor=make_user())
    with pytest.raises(DatabaseError), db.session.begin_nested():
        db.session.execute(
            text("UPDATE audit_log SET action = 'x' WHERE id = :id"), {"id": entry.id}
        )
    with pytest.raises(DatabaseError), db.session.begin_nested():
        db.session.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": entry.id})


def test_verify_names_the_row_where_the_chain_breaks(db, make_user):
    actor = make_user()
    record("test.a", actor=actor)
    middle = record("test.b", actor=actor)
    record("test.c", actor=actor)
    # An attacker with database access drops the trigger and edits a row.
    dialect = db.session.get_bind().dialect.name
    if dialect == "sqlite":
        db.session.execute(text("DROP TRIGGER audit_log_no_update"))
    else:
        db.session.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change"))
    db.session.execute(
        text("UPDATE audit_log SET details = '{\"forged\": true}' WHERE id = :id"),
        {"id": middle.id},
    )
    db.session.expire_all()
    problem = verify_chain()
    assert problem is not None and problem.entry_id == middle.id
    assert "hash" in problem.reason


def test_first_row_starts_from_genesis(db):
    first = db.session.execute(
        select(AuditEntry).order_by(AuditEntry.id).limit(1)
    ).scalar_one_or_none()
    if first is None:
        first = record("test.first")
    assert first.prev_hash == GENESIS or len(first.prev_hash) == 64


def test_cli_verify(runner, db, make_user):
    record("test.cli", actor=make_user())
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0
    assert "intact" in result.output
