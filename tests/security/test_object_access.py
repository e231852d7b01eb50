"""Object-level access: a record outside a user's reach looks exactly like one that
does not exist. 404 on view, edit, download and export; absent from lists,
search, counts, filters, pick lists and the report's record lists.

Out of reach: confidential records for a viewer, archived records for everyone
but an administrator, identities for everyone but a focal point."""

from __future__ import annotations

import io
from datetime import date, timedelta
from typing import Any

import pytest

from crm.extensions import db
from tests.conftest import TEST_PASSWORD, sign_in
from tests.fixtures.people import IDENTITY, IDENTITY_STRINGS
from tests.security.routes import PDF

CONF = "Qzxconf"  # a word only the confidential records hold
ARCH = "Qzxarch"  # a word only the archived records hold
MISSING = 987654


@pytest.fixture
def hidden(db, records_admin, make_partner, make_contact, make_framework, make_engagement):
    """Hidden records, each next to a visible twin."""
    from werkzeug.datastructures import FileStorage

    from crm.frameworks.services import add_document, archive_framework
    from crm.partners.services import archive_partner

    visible = make_partner(name_en="Visible association", acronym="VIS")
    confidential = make_partner(
        name_en=f"{CONF} confidential partner",
        acronym="QZXC",
        confidential=True,
        security_note=f"{CONF} note",
    )
    make_contact(confidential, name_en=f"{CONF} contact", email="hidden@example.org")
    archived = make_partner(name_en=f"{ARCH} archived partner")
    archived_contact = make_contact(archived, name_en=f"{ARCH} archived contact")
    archive_partner(archived, actor=records_admin)
    conf_framework = make_framework(
        title_en=f"{CONF} confidential framework",
        confidential=True,
        partners=[visible],
        signed_on=date(2024, 3, 1),
    )
    arch_framework = make_framework(
        title_en=f"{ARCH} archived framework", partners=[visible], signed_on=date(2024, 3, 2)
    )
    documents = {}
    for framework in (conf_framework, arch_framework):
        documents[framework.id] = add_document(
            framework,
            FileStorage(io.BytesIO(PDF), filename="signed.pdf", content_type="application/pdf"),
            actor=records_admin,
        )
    archive_framework(arch_framework, actor=records_admin)
    shared_framework = make_framework(
        title_en="Protocol with many", partners=[visible, confidential], signed_on=date(2024, 3, 3)
    )
    arch_engagement = make_engagement(
        title_en=f"{ARCH} archived engagement", start_date=date(2024, 3, 5)
    )
    from crm.db import utcnow

    arch_engagement.archived_at = utcnow()
    engagement = make_engagement(title_en="Open consultation", start_date=date(2024, 3, 6))
    engagement.partners = [visible, confidential]
    db.session.flush()
    return {
        "visible": visible,
        "confidential": confidential,
        "archived": archived,
        "archived_contact": archived_contact,
        "conf_framework": conf_framework,
        "arch_framework": arch_framework,
        "shared_framework": shared_framework,
        "documents": documents,
        "arch_engagement": arch_engagement,
        "engagement": engagement,
    }


def status(client: Any, url: str, method: str = "GET", **kwargs: Any) -> int:
    response = client.open(url, method=method, **kwargs)
    response.close()
    return response.status_code


def text_of(client: Any, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def same_as_missing(client: Any, url: str, real_id: int, method: str = "GET") -> int:
    """The answer for the hidden record, checked equal to the answer for an id
    that does not exist (no existence oracle)."""
    real = status(client, url.format(real_id), method)
    fake = status(client, url.format(MISSING), method)
    assert real == fake, (url.format(real_id), real, fake)
    return real


# --- confidential records, for a viewer ----------------------------------------------


def test_confidential_records_are_missing_for_a_viewer(client, make_user, hidden):
    sign_in(client, make_user(role="viewer"))
    partner, framework = hidden["confidential"], hidden["conf_framework"]
    document = hidden["documents"][framework.id]
    assert same_as_missing(client, "/partners/{}", partner.id) == 404
    assert same_as_missing(client, "/frameworks/{}", framework.id) == 404
    assert same_as_missing(client, f"/frameworks/{{}}/documents/{document.id}", framework.id) == 404
    # no edit right at all: the same refusal for every id
    for url in ("/partners/{}/edit", "/frameworks/{}/edit", "/frameworks/{}/amend"):
        assert same_as_missing(client, url, partner.id if "partners" in url else framework.id) in (
            403,
            404,
        )
    for url in (
        "/",
        "/partners/",
        f"/partners/?q={CONF}",
        "/partners/?confidential=1",
        "/partners/needs-translation",
        "/frameworks/",
        f"/frameworks/?q={CONF}",
        f"/frameworks/?partner={partner.id}",
        "/frameworks/alerts",
        f"/frameworks/{hidden['shared_framework'].id}",
        "/engagements/",
        f"/engagements/?partner={partner.id}",
        f"/engagements/{hidden['engagement'].id}",
    ):
        page = text_of(client, url)
        assert f"{CONF} " not in page and "QZXC" not in page, url
        assert f'/partners/{partner.id}"' not in page, url
        assert f'/frameworks/{framework.id}"' not in page, url
    # counts: a search for the hidden word finds nothing, and says so
    for url in (f"/partners/?q={CONF}", f"/frameworks/?q={CONF}"):
        assert 'class="empty-state"' in text_of(client, url), url


def test_the_report_names_no_confidential_record_for_a_viewer(client, make_user, hidden, app):
    from crm.reports.counting import FRAMEWORKS, Period
    from crm.reports.views import records_url

    sign_in(client, make_user(role="viewer"))
    with app.test_request_context():
        url = records_url(
            f"{FRAMEWORKS}.concluded_to_date", Period(date(2024, 1, 1), date(2024, 12, 31))
        )
    page = text_of(client, url)
    assert f"{CONF} " not in page
    assert f'/frameworks/{hidden["conf_framework"].id}"' not in page


# --- archived records, for everyone but an administrator ------------------------------


@pytest.mark.parametrize("role", ["outreach", "focal_point", "reporting", "viewer"])
def test_archived_records_are_missing_for_non_administrators(client, make_user, hidden, role):
    user = make_user(role=role)
    sign_in(client, user)
    partner, framework = hidden["archived"], hidden["arch_framework"]
    engagement, contact = hidden["arch_engagement"], hidden["archived_contact"]
    document = hidden["documents"][framework.id]
    gets = {
        "/partners/{}": partner.id,
        "/partners/{}/edit": partner.id,
        f"/partners/{{}}/contacts/{contact.id}/edit": partner.id,
        "/partners/{}/contacts/new": partner.id,
        "/frameworks/{}": framework.id,
        "/frameworks/{}/edit": framework.id,
        "/frameworks/{}/amend": framework.id,
        f"/frameworks/{{}}/documents/{document.id}": framework.id,
        "/engagements/{}": engagement.id,
        "/engagements/{}/edit": engagement.id,
        "/follow-ups/new?partner={}": partner.id,
        "/follow-ups/new?framework={}": framework.id,
        "/follow-ups/new?engagement={}": engagement.id,
    }
    for url, real_id in gets.items():
        answer = same_as_missing(client, url, real_id)
        assert answer in (403, 404), (url, answer)
        if "edit" not in url and "new" not in url and "amend" not in url:
            assert answer == 404, url  # every role may view these record types
        elif role in ("outreach", "focal_point"):
            assert answer == 404, url  # they may edit: the record is what they lack
    posts = {
        "/partners/{}/archive": partner.id,
        "/frameworks/{}/archive": framework.id,
        "/engagements/{}/archive": engagement.id,
        "/engagements/{}/cancel": engagement.id,
        "/frameworks/{}/documents": framework.id,
        f"/frameworks/{{}}/documents/{document.id}/remove": framework.id,
        f"/partners/{{}}/contacts/{contact.id}/archive": partner.id,
    }
    for url, real_id in posts.items():
        assert same_as_missing(client, url, real_id, "POST") in (403, 404), url
    for url in (
        "/",
        "/partners/",
        f"/partners/?q={ARCH}",
        "/partners/?archived=1",
        "/frameworks/",
        f"/frameworks/?q={ARCH}",
        "/frameworks/?archived=1",
        f"/frameworks/?partner={partner.id}",
        "/engagements/",
        f"/engagements/?q={ARCH}",
        "/engagements/?archived=1",
        f"/engagements/?partner={partner.id}",
        "/engagements/calendar?month=2024-03",
        "/engagements/incomplete",
    ):
        page = text_of(client, url)
        assert f"{ARCH} " not in page, (role, url)
    if role in ("outreach", "focal_point"):
        # pick lists of the forms
        for url in ("/engagements/new", "/frameworks/new", "/engagements/quick"):
            assert f"{ARCH} " not in text_of(client, url), url


@pytest.mark.parametrize("name", ["partners", "frameworks", "engagements"])
def test_exports_leave_out_what_the_user_cannot_see(client, make_user, hidden, name):
    """An outreach officer exports a list: archived records are not in the file,
    whatever the address asks for, and the page's count leaves them out."""
    from tests.security.files import cells, download

    sign_in(client, make_user(role="outreach"))
    visible = {
        "partners": "Visible association",
        "frameworks": "Protocol with many",
        "engagements": "Open consultation",
    }[name]
    queries = ("", f"?q={ARCH}", "?archived=1", f"?ids={hidden['archived'].id}")
    for query in queries:
        url = f"/exports/{name}{query}"
        page = client.get(url)
        if page.status_code == 302:  # confidential rows in the file: password first
            client.post("/reauthenticate", data={"password": TEST_PASSWORD, "next": "/"})
            page = client.get(url)
        assert page.status_code == 200, (url, page.status_code)
        assert f"{ARCH} " not in page.get_data(as_text=True)
        response = download(client, url)
        assert response.status_code == 200 and "text/csv" in response.content_type, url
        content = " ".join(str(c) for row in cells(response) for c in row)
        assert ARCH not in content, url
        if query == "":
            assert visible in content, "the control: what the user sees is exported"


def test_exports_answer_404_for_a_list_that_does_not_exist(client, make_user):
    sign_in(client, make_user(role="outreach"))
    assert status(client, "/exports/people") == 404
    assert status(client, "/exports/users") == 404


# --- people ---------------------------------------------------------------------------


@pytest.fixture
def person(make_person):
    return make_person(identity=IDENTITY, consents={"contact": True}, sex="female")


@pytest.mark.parametrize("role", ["admin", "outreach", "reporting", "viewer"])
def test_identities_are_out_of_reach_except_for_focal_points(client, make_user, person, role):
    user = make_user(role=role)
    sign_in(client, user)
    for url in ("/people/{}/identity", "/people/{}/identity?purpose=edit"):
        assert same_as_missing(client, url, person.id) in (403, 404)
        assert same_as_missing(client, url, person.id, "POST") in (403, 404)
    assert same_as_missing(client, "/people/{}/identity/save", person.id, "POST") in (403, 404)
    pages = ["/", "/people/", f"/people/{person.id}", "/people/?q=Salma", "/engagements/"]
    for url in pages:
        response = client.get(url)
        if response.status_code != 200:
            assert response.status_code in (403, 404)
            continue
        body = response.get_data(as_text=True)
        for value in IDENTITY_STRINGS:
            assert value not in body, (role, url, value)


def test_an_archived_person_is_missing_for_a_focal_point(
    client, make_user, make_person, people_actor
):
    from crm.people.services import archive_person

    person = make_person(identity=IDENTITY)
    code = person.code
    archive_person(person, actor=people_actor)
    db.session.flush()
    sign_in(client, make_user(role="focal_point"))
    for url in (
        "/people/{}",
        "/people/{}/edit",
        "/people/{}/identity",
        "/people/{}/consent",
        "/people/{}/erase",
        "/people/{}/consent/override",
    ):
        assert same_as_missing(client, url, person.id) == 404, url
    assert same_as_missing(client, "/people/{}/identity", person.id, "POST") == 404
    for url in ("/people/", f"/people/?q={code}", "/people/?archived=1", "/"):
        page = text_of(client, url)
        assert f'/people/{person.id}"' not in page, url
        assert f">{code}<" not in page, url
    assert 'class="empty-state"' in text_of(client, f"/people/?q={code}")


def test_a_follow_up_about_a_hidden_record_is_missing(client, make_user, make_follow_up, hidden):
    """A follow-up on an archived engagement: not in "my follow-ups", not editable,
    not on the dashboard."""
    user = make_user(role="outreach")
    follow_up = make_follow_up(
        title=f"{ARCH} follow-up",
        assignee_id=user.id,
        engagement_id=hidden["arch_engagement"].id,
        due_on=date.today() - timedelta(days=1),
    )
    sign_in(client, user)
    assert same_as_missing(client, "/follow-ups/{}/edit", follow_up.id) == 404
    assert same_as_missing(client, "/follow-ups/{}/complete", follow_up.id, "POST") in (404, 302)
    for url in ("/", "/follow-ups/"):
        assert f"{ARCH} " not in text_of(client, url), url


def test_an_administrator_still_reaches_archived_records(client, make_user, hidden):
    """The control: the same addresses answer for the one role that may restore."""
    sign_in(client, make_user(role="admin"))
    assert status(client, f"/partners/{hidden['archived'].id}") == 200
    assert status(client, f"/frameworks/{hidden['arch_framework'].id}") == 200
    assert status(client, f"/engagements/{hidden['arch_engagement'].id}") == 200
    assert ARCH in text_of(client, "/partners/?archived=1")


# --- the API ----------------------------------------------------------------------------


def _api_status(client: Any, secret: str, url: str) -> int:
    response = client.get(url, headers={"Authorization": f"Bearer {secret}"})
    assert response.headers["Content-Type"] == "application/json"
    return response.status_code


def _api_same_as_missing(client: Any, secret: str, url: str, real_id: int) -> int:
    real = _api_status(client, secret, url.format(real_id))
    assert real == _api_status(client, secret, url.format(MISSING)), url
    return real


@pytest.mark.parametrize("role", ["viewer", "outreach", "reporting", "focal_point"])
def test_the_api_hides_what_the_pages_hide(client, make_token, hidden, role):
    """Confidential records for a viewer, archived ones for everyone but an
    administrator: 404 like a missing id, and absent from every list."""
    _token, secret = make_token(role)
    hidden_ids = {
        "partners": [hidden["archived"].id],
        "frameworks": [hidden["arch_framework"].id],
        "engagements": [hidden["arch_engagement"].id],
    }
    if role == "viewer":
        hidden_ids["partners"].append(hidden["confidential"].id)
        hidden_ids["frameworks"].append(hidden["conf_framework"].id)
    for path, ids in hidden_ids.items():
        for record_id in ids:
            assert _api_same_as_missing(client, secret, f"/api/v1/{path}/{{}}", record_id) == 404
        for query in ("", f"?q={ARCH}", f"?q={CONF}", "?archived=1", "?confidential=1"):
            response = client.get(
                f"/api/v1/{path}{query}", headers={"Authorization": f"Bearer {secret}"}
            )
            assert response.status_code in (200, 400), (path, query)
            if response.status_code == 200:
                listed = {item["id"] for item in response.get_json()["items"]}
                assert not listed & set(ids), (path, query)
                assert f"{ARCH} " not in response.get_data(as_text=True)
                if role == "viewer":
                    assert f"{CONF} " not in response.get_data(as_text=True)
    # a record that links a hidden partner counts it without naming it
    engagement = client.get(
        f"/api/v1/engagements/{hidden['engagement'].id}",
        headers={"Authorization": f"Bearer {secret}"},
    ).get_json()
    if role == "viewer":
        assert engagement["hidden_partners"] == 1
        assert [p["id"] for p in engagement["partners"]] == [hidden["visible"].id]
