"""CSRF on every state-changing route, and no state change on GET.

Both walk ``app.url_map``, so a route added later is checked without anyone
remembering to add it here."""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Flask
from sqlalchemy import select, text

from crm.extensions import db as _db
from crm.security import access_rule
from tests.conftest import csrf_token, sign_in
from tests.security.routes import STATE_CHANGING, is_api, route_arguments, url_for_rule

# Columns that a read may legitimately touch: the server-side session's last
# activity (the idle timeout reads it).
VOLATILE = {("user_sessions", "last_seen_at"), ("user_sessions", "last_seen")}


def row_counts() -> dict[str, int]:
    return {
        table.name: _db.session.execute(select(text("count(*)")).select_from(table)).scalar_one()
        for table in _db.metadata.sorted_tables
    }


def contents() -> dict[str, str]:
    """A digest of every table's rows (volatile columns left out)."""
    digests = {}
    for table in _db.metadata.sorted_tables:
        columns = [c for c in table.columns if (table.name, c.name) not in VOLATILE]
        order = list(table.primary_key.columns) or columns
        rows = _db.session.execute(select(*columns).order_by(*order)).all()
        digests[table.name] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return digests


def user_for(endpoint: str, users: list[Any]) -> Any:
    """The first of ``users`` whose role may use ``endpoint``."""
    rule = access_rule(endpoint)
    permissions = rule.permissions if rule else ()
    for user in users:
        if all(user.can(p) for p in permissions):
            return user
    return users[0]


# --- CSRF ----------------------------------------------------------------------------


def test_every_state_changing_route_refuses_a_request_without_a_valid_token(
    app: Flask, world, csrf
):
    """No token, or a token of another session: refused with the "form could not be
    accepted" page, and nothing in the database changes."""
    arguments = route_arguments(world)
    _db.session.flush()
    other = app.test_client()
    foreign_token = csrf_token(other.get("/login").get_data(as_text=True))
    users = [world.viewer, world.admin]
    clients = {}
    for user in users:
        clients[user.id] = app.test_client()
        sign_in(clients[user.id], user)
    _db.session.flush()
    before_counts, before = row_counts(), contents()
    checked = []
    with app.app_context():
        rules = [r for r in app.url_map.iter_rules() if r.methods & STATE_CHANGING]
    for rule in rules:
        if is_api(rule):
            continue
        url = url_for_rule(app, rule, arguments)
        browser = clients[user_for(rule.endpoint, users).id]
        for method in sorted(rule.methods & STATE_CHANGING):
            for token in (None, foreign_token, "forged"):
                data = {"csrf_token": token} if token else {}
                response = browser.open(url, method=method, data=data)
                body = response.get_data(as_text=True)
                assert response.status_code == 400 and "error-400" in body, (
                    f"{method} {url} with token {token!r}: {response.status_code}"
                )
            checked.append(f"{method} {rule.endpoint}")
    assert row_counts() == before_counts
    assert contents() == before
    # the walk saw the routes it should (a sample of each area)
    for endpoint in (
        "auth.login",
        "auth.logout",
        "i18n.switch",
        "partners.edit",
        "partners.archive",
        "frameworks.document_upload",
        "engagements.quick",
        "followups.complete",
        "people.identity",
        "people.erase",
        "reports.lock",
        "imports.confirm",
        "admin.user_end_sessions",
        "api.tokens.mine",
        "api.tokens.revoke_any",
    ):
        assert f"POST {endpoint}" in checked, endpoint


def test_the_same_request_with_its_token_is_accepted(client, make_user, make_partner, csrf):
    """The control: a form's own token gets past the check (so the walk above
    proves the check, not a broken route)."""
    sign_in(client, make_user(role="outreach"))
    partner = make_partner()
    html = client.get(f"/partners/{partner.id}").get_data(as_text=True)
    response = client.post(
        f"/partners/{partner.id}/archive",
        data={"csrf_token": csrf_token(html), "version": partner.version},
    )
    assert response.status_code == 302
    assert partner.archived_at is not None


# --- GET changes nothing -------------------------------------------------------------


def test_no_get_route_changes_the_database(app: Flask, client, world):
    """Every GET route, for an administrator and for a focal point (the people
    pages, identity included): the same rows, with the same values, afterwards."""
    arguments = route_arguments(world)
    _db.session.flush()
    with app.app_context():
        rules = [r for r in app.url_map.iter_rules() if "GET" in r.methods and not is_api(r)]
    visited = []
    for user in (world.admin, world.viewer):
        sign_in(client, user)
        _db.session.flush()
        before_counts, before = row_counts(), contents()
        for rule in rules:
            url = url_for_rule(app, rule, arguments)
            response = client.get(url)
            response.close()  # a download streams its file
            assert response.status_code < 500, f"GET {url}: {response.status_code}"
            visited.append(rule.endpoint)
            after_counts = row_counts()
            assert after_counts == before_counts, f"GET {url} changed row counts: " + str(
                {k: (before_counts[k], v) for k, v in after_counts.items() if before_counts[k] != v}
            )
        after = contents()
        assert after == before, f"GETs changed {[k for k in after if after[k] != before[k]]}"
    assert "people.identity" in visited and "frameworks.document_download" in visited


def test_showing_an_identity_is_recorded_on_post_only(client, make_person, people_actor):
    """The control for the walk above: the POST of the same page writes its audit row."""
    from crm.audit.models import AuditEntry
    from tests.fixtures.people import IDENTITY

    person = make_person(identity=IDENTITY)
    sign_in(client, people_actor)

    def count() -> int:
        return _db.session.execute(select(text("count(*)")).select_from(AuditEntry)).scalar_one()

    before = count()
    client.get(f"/people/{person.id}/identity")
    assert count() == before
    client.post(
        f"/people/{person.id}/identity",
        data={"reason": "Preparing the hearing next week", "purpose": "view"},
    )
    assert count() == before + 1
