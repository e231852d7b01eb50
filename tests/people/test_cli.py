"""``crm people rotate-key``."""

from __future__ import annotations

from sqlalchemy import select

from crm.audit.models import AuditEntry
from crm.crypto import new_key_string
from crm.people import services
from crm.people.models import Person
from tests.fixtures.people import IDENTITY

REASON = "Checking the identity after the key rotation"


def test_rotate_key_re_encrypts_in_batches_and_reports(
    app, db, runner, make_person, people_actor, monkeypatch
):
    old = app.config["DATA_KEY"]
    people = [make_person(identity={**IDENTITY, "name_en": f"Person {n}"}) for n in range(3)]
    make_person()  # no identity: nothing to do
    monkeypatch.setitem(app.config, "DATA_KEY", f"{new_key_string('k2')},{old}")
    result = runner.invoke(
        args=["people", "rotate-key", "--batch-size", "2"], env={"CRM_LANG": "en"}
    )
    assert result.exit_code == 0, result.output
    assert "Re-encrypting identities under the key k2" in result.output
    assert "2 of 3 people done" in result.output and "3 of 3 people done" in result.output
    assert "Done: 3 re-encrypted, 0 already under k2." in result.output
    assert "keep the old key until they are" in result.output
    db.session.expire_all()
    for person in people:
        assert db.session.get(Person, person.id).identity_enc.startswith(b"v1:k2:")
    monkeypatch.setitem(app.config, "DATA_KEY", app.config["DATA_KEY"].split(",")[0])
    with app.test_request_context():
        shown = services.reveal_identity(
            db.session.get(Person, people[1].id), actor=people_actor, reason=REASON
        )
    assert shown.name_en == "Person 1"
    entry = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "people.key_rotation")
    ).scalar_one()
    assert '"rotated": 3' in entry.details


def test_rotate_key_speaks_arabic(app, runner, make_person, monkeypatch):
    make_person(identity=IDENTITY)
    monkeypatch.setitem(app.config, "DATA_KEY", f"{new_key_string('k3')},{app.config['DATA_KEY']}")
    result = runner.invoke(args=["people", "rotate-key"], env={"CRM_LANG": "ar"})
    assert result.exit_code == 0, result.output
    assert "k3" in result.output
    assert "تشفير" in result.output


def test_a_value_that_does_not_decrypt_stops_everything(app, db, runner, make_person, monkeypatch):
    first = make_person(identity=IDENTITY)
    broken = make_person(identity={"name_en": "Broken"})
    # A ciphertext moved to another row no longer decrypts (its context differs).
    db.session.execute(
        Person.__table__.update()
        .where(Person.__table__.c.id == broken.id)
        .values(identity_enc=first.identity_enc)
    )
    db.session.commit()  # (a savepoint of the test's transaction) the command's rollback stops here
    before = first.identity_enc
    monkeypatch.setitem(app.config, "DATA_KEY", f"{new_key_string('k4')},{app.config['DATA_KEY']}")
    result = runner.invoke(args=["people", "rotate-key"], env={"CRM_LANG": "en"})
    assert result.exit_code == 1
    assert "nothing was changed" in result.output
    db.session.expire_all()
    assert db.session.get(Person, first.id).identity_enc == before  # rotated, then rolled back
    assert (
        db.session.execute(
            select(AuditEntry).where(AuditEntry.action == "people.key_rotation")
        ).first()
        is None
    )
