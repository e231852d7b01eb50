"""The framework page and the expiry alerts follow the effective expiry, and the
page's "counted" line asks the counting rule."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from crm.codes import Role
from crm.extensions import db
from crm.followups.models import FollowUp
from crm.frameworks import services as svc

TODAY = date(2026, 3, 1)


def _extend(parent, actor, signed_on, expires_on, **values):
    data = {
        "amendment_kind": "extension",
        "status": "in_force",
        "title_en": "Extension",
        "signed_on": signed_on,
        "expires_on": expires_on,
    }
    data.update(values)
    return svc.create_amendment(parent, data, actor=actor)


def test_an_extension_silences_the_expiry_alerts(records_admin, make_framework):
    soon = make_framework(title_en="Expiring soon", expires_on=TODAY + timedelta(days=30))
    extended = make_framework(title_en="Extended", expires_on=TODAY + timedelta(days=30))
    _extend(extended, records_admin, TODAY - timedelta(days=5), TODAY + timedelta(days=700))
    past = make_framework(title_en="Past", expires_on=TODAY - timedelta(days=3))
    past_extended = make_framework(title_en="Past, extended", expires_on=TODAY - timedelta(days=3))
    _extend(past_extended, records_admin, TODAY - timedelta(days=10), None)  # open-ended
    draft_extended = make_framework(title_en="Draft", expires_on=TODAY + timedelta(days=20))
    _extend(draft_extended, records_admin, TODAY - timedelta(days=1), None, status="draft")
    # An extension that ends soon raises the alert for its framework, on its date.
    short = make_framework(title_en="Short", expires_on=TODAY - timedelta(days=40))
    _extend(short, records_admin, TODAY - timedelta(days=50), TODAY + timedelta(days=10))

    found = svc.framework_alerts(actor=records_admin, today=TODAY, window_days=90)
    assert {f.id for f in found.expiry} == {soon.id, draft_extended.id, short.id}
    assert found.date_of("expiry", short) == TODAY + timedelta(days=10)
    assert {f.id for f in found.expired_in_force} == {past.id}

    created = svc.raise_framework_alerts(TODAY, window_days=90)
    raised = {(f.framework_id, f.due_on) for f in created}
    assert raised == {
        (soon.id, TODAY + timedelta(days=30)),
        (draft_extended.id, TODAY + timedelta(days=20)),
        (short.id, TODAY + timedelta(days=10)),
        (past.id, TODAY),
    }
    titles = db.session.execute(
        select(FollowUp.title).where(FollowUp.framework_id == short.id)
    ).scalars()
    assert all(short.ref in t for t in titles)


def test_the_page_shows_the_effective_expiry_and_what_set_it(
    client, login_as, records_admin, make_framework
):
    framework = make_framework(title_en="Kept alive", expires_on=date(2024, 6, 30))
    extension = _extend(
        framework, records_admin, date(2024, 6, 1), date(2030, 6, 30), title_en="Extension one"
    )
    login_as(Role.VIEWER, locale="en")
    page = client.get(f"/frameworks/{framework.id}").text
    assert "Effective expiry: 30 Jun 2030, set by Extension " + extension.ref in page
    assert "expiry date has passed" not in page
    # Open-ended after a later renewal without an end date.
    renewal = _extend(framework, records_admin, date(2025, 1, 10), None, amendment_kind="renewal")
    page = client.get(f"/frameworks/{framework.id}").text
    assert "Effective expiry: none (open-ended), set by Renewal " + renewal.ref in page


def test_a_passed_effective_expiry_is_flagged(client, login_as, records_admin, make_framework):
    framework = make_framework(expires_on=date(2024, 6, 30))
    _extend(framework, records_admin, date(2024, 6, 1), date(2025, 1, 31))
    login_as(Role.VIEWER, locale="en")
    page = client.get(f"/frameworks/{framework.id}").text
    assert "The expiry date has passed but the status still says in force" in page


def test_an_archived_framework_page_never_says_counted(
    client, login_as, records_admin, make_framework
):
    counted = make_framework()
    archived = make_framework(archived=True)
    void = make_framework(status="void")
    login_as(Role.ADMIN, locale="en")
    assert "Yes, as a concluded framework" in client.get(f"/frameworks/{counted.id}").text
    page = client.get(f"/frameworks/{archived.id}").text
    assert "Yes, as a concluded framework" not in page
    assert "No: an archived framework counts nowhere" in page
    assert "Record an amendment" not in page
    assert "No: recorded in error (void)" in client.get(f"/frameworks/{void.id}").text
    assert client.get(f"/frameworks/{archived.id}/amend").status_code == 404


def test_the_list_the_partner_page_and_the_api_show_the_effective_expiry(
    client, login_as, records_admin, make_framework, make_partner, make_token
):
    partner = make_partner(name_en="Kept Partner")
    framework = make_framework(
        title_en="Kept alive", partners=[partner], expires_on=date(2024, 6, 30)
    )
    _extend(framework, records_admin, date(2024, 6, 1), date(2030, 6, 30))
    login_as(Role.VIEWER, locale="en")
    listing = client.get("/frameworks/?sort=expires").text
    row = listing.split("Kept alive")[1].split("</tr>")[0]
    assert "30 Jun 2030" in row and "30 Jun 2024" not in row
    partner_page = client.get(f"/partners/{partner.id}").text
    row = partner_page.split("Kept alive")[1].split("</tr>")[0]
    assert "30 Jun 2030" in row
    _token, secret = make_token(role=Role.VIEWER)
    body = client.get(
        f"/api/v1/frameworks/{framework.id}", headers={"Authorization": f"Bearer {secret}"}
    ).get_json()
    assert (body["expires_on"], body["effective_expiry"], body["concluded"]) == (
        "2024-06-30",
        "2030-06-30",
        True,
    )
