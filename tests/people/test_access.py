"""Who reaches which people page and action, object-level 404s, and that no identity
reaches a user without the right, the audit trail or the logs."""

from __future__ import annotations

import logging
from datetime import date

import pytest
from sqlalchemy import event, select, update

from crm.audit.models import AuditEntry
from crm.codes import Role
from crm.people import services
from crm.people.models import Person
from tests.fixtures.people import IDENTITY, IDENTITY_STRINGS

REASON = "Preparing the follow-up call agreed at the consultation"
TODAY = date.today().isoformat()

# Expected status of a GET, by role: 200 (or 302 to the password check) when
# allowed, 403 when the role lacks the permission.
PAGES = {
    "index": (
        "/people/",
        {"admin": 200, "outreach": 200, "focal_point": 200, "reporting": 200, "viewer": 403},
    ),
    "view": (
        "/people/{id}",
        {"admin": 200, "outreach": 200, "focal_point": 200, "reporting": 200, "viewer": 403},
    ),
    "new": (
        "/people/new",
        {"admin": 403, "outreach": 403, "focal_point": 200, "reporting": 403, "viewer": 403},
    ),
    "edit": (
        "/people/{id}/edit",
        {"admin": 403, "outreach": 403, "focal_point": 200, "reporting": 403, "viewer": 403},
    ),
    "identity": (
        "/people/{id}/identity",
        {"admin": 403, "outreach": 403, "focal_point": 200, "reporting": 403, "viewer": 403},
    ),
    "consent": (
        "/people/{id}/consent",
        {"admin": 403, "outreach": 403, "focal_point": 200, "reporting": 403, "viewer": 403},
    ),
    "override": (
        "/people/{id}/consent/override",
        {"admin": 403, "outreach": 403, "focal_point": 200, "reporting": 403, "viewer": 403},
    ),
    "erase": (
        "/people/{id}/erase",
        {"admin": 403, "outreach": 403, "focal_point": 200, "reporting": 403, "viewer": 403},
    ),
}

# POSTs that change something: (path, data); only the focal point may send them
# (restore: only the administrator).
ACTIONS = {
    "new": ("/people/new", {"sex": "male"}),
    "edit": ("/people/{id}/edit", {"version": "1", "sex": "male"}),
    "identity": ("/people/{id}/identity", {"reason": REASON}),
    "identity_save": ("/people/{id}/identity/save", {"version": "2", "name_en": "Changed"}),
    "consent": (
        "/people/{id}/consent",
        {"scope": "contact", "granted": "given", "on": TODAY, "method": "oral"},
    ),
    "override": (
        "/people/{id}/consent/override",
        {"scope": "share_with_jurisdictions", "on": TODAY, "reason": "x" * 30},
    ),
    "erase": ("/people/{id}/erase", {"on": TODAY, "method": "oral", "confirm_code": "{code}"}),
    "archive": ("/people/{id}/archive", {}),
    "attendance_add": ("/people/{id}/engagements", {"ref": "{ref}"}),
    "attendance_remove": ("/people/{id}/engagements/{engagement_id}/remove", {}),
}
OTHERS = [Role.ADMIN, Role.OUTREACH, Role.REPORTING, Role.VIEWER]


@pytest.fixture
def subject(make_person, make_engagement, people_actor):
    """A person with an identity, a refusal, and an engagement attended."""
    person = make_person(
        identity=IDENTITY,
        consents={"contact": True, "share_with_jurisdictions": False},
        at_risk=True,
    )
    engagement = make_engagement()
    services.add_attendance(engagement, person, actor=people_actor)
    return person, engagement


def _fill(template: str, person, engagement) -> str:
    return template.format(
        id=person.id, code=person.code, ref=engagement.ref, engagement_id=engagement.id
    )


@pytest.mark.parametrize("role", list(Role))
def test_each_role_reaches_exactly_its_pages(client, login_as, subject, role):
    person, engagement = subject
    login_as(role)
    for name, (path, expected) in PAGES.items():
        response = client.get(_fill(path, person, engagement))
        assert response.status_code == expected[role.value], (role, name, response.status_code)


@pytest.mark.parametrize("role", OTHERS)
def test_no_other_role_can_change_people(db, client, login_as, subject, role):
    person, engagement = subject
    login_as(role)
    before = db.session.execute(select(AuditEntry.id)).scalars().all()
    for name, (path, data) in ACTIONS.items():
        payload = {k: _fill(v, person, engagement) for k, v in data.items()}
        response = client.post(_fill(path, person, engagement), data=payload)
        assert response.status_code == 403, (role, name)
        for needle in IDENTITY_STRINGS:
            assert needle not in response.text
    assert db.session.execute(select(AuditEntry.id)).scalars().all() == before
    db.session.expire_all()
    assert db.session.get(Person, person.id).identity_enc is not None


def test_only_an_administrator_restores(client, login_as, make_person, people_actor):
    person = make_person()
    services.archive_person(person, actor=people_actor)
    login_as(Role.FOCAL_POINT)
    assert client.post(f"/people/{person.id}/restore").status_code == 403


def test_records_out_of_reach_answer_404(
    db, client, login_as, subject, make_person, people_actor, make_engagement
):
    person, engagement = subject
    archived = make_person(identity=IDENTITY)
    services.archive_person(archived, actor=people_actor)
    login_as(Role.FOCAL_POINT)
    for target in (archived.id, 999_999):
        for path, _expected in PAGES.values():
            if "{id}" not in path:
                continue
            url = path.format(id=target)
            assert client.get(url).status_code == 404, url
        for path, data in ACTIONS.values():
            if "{id}" not in path:
                continue
            url = path.format(id=target, engagement_id=engagement.id)
            payload = {k: _fill(v, person, engagement) for k, v in data.items()}
            assert client.post(url, data=payload).status_code == 404, url
    # Removing a link that does not exist, or an engagement that does not exist.
    other = make_engagement()
    assert client.post(f"/people/{person.id}/engagements/{other.id}/remove").status_code == 404
    assert client.post(f"/people/{person.id}/engagements/999999/remove").status_code == 404
    assert client.post(f"/people/{archived.id}/restore").status_code == 403  # not the focal point's


@pytest.mark.parametrize("role", OTHERS)
def test_no_identity_on_any_page_of_a_user_without_the_right(client, login_as, subject, role):
    person, engagement = subject
    login_as(role)
    pages = [
        client.get("/people/"),
        client.get(f"/people/?q={person.code}"),
        client.get(f"/people/{person.id}"),
        client.get(f"/people/{person.id}/identity"),
        client.post(f"/people/{person.id}/identity", data={"reason": REASON}),
        client.get(f"/engagements/{engagement.id}"),
        client.get("/"),
    ]
    for page in pages:
        for needle in IDENTITY_STRINGS:
            assert needle not in page.text, (role, page.request.path, needle)
    if role != Role.VIEWER:
        assert person.code in pages[2].text  # they do see the record itself
        assert "This person is at risk." in pages[2].text


def test_the_audit_trail_never_holds_an_identity(db, client, login_as, subject, make_user):
    person, _engagement = subject
    user = login_as(Role.FOCAL_POINT)
    client.post(f"/people/{person.id}/identity", data={"reason": "Calling Salma Zenobia Hourani"})
    client.post(
        f"/people/{person.id}/consent/override",
        data={
            "scope": "share_with_jurisdictions",
            "on": TODAY,
            "reason": "Court order about Hourani, Qaboun case",
        },
    )
    page = client.post(
        f"/people/{person.id}/identity?purpose=edit", data={"reason": REASON, "purpose": "edit"}
    )
    assert IDENTITY["phone"] in page.text
    client.post(
        f"/people/{person.id}/identity/save",
        data={
            **IDENTITY,
            "notes": "Salma Zenobia moved to Qaboun",
            "version": str(db.session.get(Person, person.id).version),
        },
    )
    client.post(
        f"/people/{person.id}/erase",
        data={"on": TODAY, "method": "oral", "confirm_code": person.code},
    )
    actions = (
        db.session.execute(select(AuditEntry.action).where(AuditEntry.object_id == person.id))
        .scalars()
        .all()
    )
    assert {
        "person.identity_view",
        "person.consent_override",
        "person.identity_update",
        "person.erase",
    } <= set(actions)
    for row in db.session.execute(select(AuditEntry)).scalars():
        blob = f"{row.action}|{row.object_type}|{row.details}|{row.address}"
        for needle in IDENTITY_STRINGS:
            assert needle not in blob, (row.action, needle)
    assert user.id


def test_no_identity_in_any_application_log_nor_sql_parameter(db, client, login_as, caplog):
    """Everything logged while a person is created, shown, changed and erased, and
    every parameter sent to the database (what SQL logging would print)."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="sqlalchemy.engine")
    sent: list[str] = []

    def capture(_conn, _cursor, statement, parameters, _context, _many):
        sent.append(f"{statement} {parameters!r}")

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        _create_show_change_and_erase(db, client, login_as)
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    assert len(sent) > 50, "no SQL was seen: the test would prove nothing"
    assert any("people.views" in r.name for r in caplog.records)  # the unreadable one
    logged = [r.getMessage() + repr(r.args) for r in caplog.records]
    for text in logged + sent:
        for needle in IDENTITY_STRINGS:
            assert needle not in text, needle


def _create_show_change_and_erase(db, client, login_as) -> None:
    login_as(Role.FOCAL_POINT)
    created = client.post(
        "/people/new",
        data={
            **IDENTITY,
            "sex": "female",
            "consent_on": TODAY,
            "consent_method": "oral",
            "consent_language": "ar",
        },
    )
    assert created.status_code == 302
    person = db.session.execute(select(Person)).scalar_one()
    client.post(
        f"/people/{person.id}/consent",
        data={"scope": "contact", "granted": "given", "on": TODAY, "method": "oral"},
    )
    shown = client.post(f"/people/{person.id}/identity", data={"reason": REASON})
    assert IDENTITY["email"] in shown.text
    client.post(
        f"/people/{person.id}/identity?purpose=edit", data={"reason": REASON, "purpose": "edit"}
    )
    saved = client.post(
        f"/people/{person.id}/identity/save",
        data={**IDENTITY, "notes": IDENTITY["notes"] + " again", "version": str(person.version)},
    )
    assert saved.status_code == 302
    db.session.expire_all()
    person = db.session.get(Person, person.id)
    bad = client.post(
        f"/people/{person.id}/identity/save",
        data={**IDENTITY, "email": "Salma Zenobia at nowhere", "version": str(person.version)},
    )
    assert bad.status_code == 400
    # A value moved to another row does not decrypt: the error is logged, by id.
    copy = client.post(
        "/people/new",
        data={"name_en": "Copy Target", "consent_on": TODAY, "consent_method": "oral"},
    )
    assert copy.status_code == 302
    target = db.session.execute(select(Person).where(Person.id != person.id)).scalar_one()
    db.session.execute(
        update(Person).where(Person.id == target.id).values(identity_enc=person.identity_enc)
    )
    db.session.flush()
    assert client.post(f"/people/{target.id}/identity", data={"reason": REASON}).status_code == 500
    erased = client.post(
        f"/people/{person.id}/erase",
        data={"on": TODAY, "method": "oral", "confirm_code": person.code},
    )
    assert erased.status_code == 302
