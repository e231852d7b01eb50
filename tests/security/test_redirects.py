"""No open redirect through ``next=``: sign-in, the language switch,
re-authentication, "mark as done", and a sweep of every route for any other."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import pytest

from tests.conftest import TEST_PASSWORD, sign_in
from tests.security import dom
from tests.security.payloads import XSS_PAYLOADS

OFF_SITE = (
    "//evil.example",
    "//evil.example/path?x=1",
    "///evil.example",
    "////evil.example",
    "/\\evil.example",
    "/\\/evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    " //evil.example",
    "/\t/evil.example",
    "/\r\n/evil.example",
    "\x00//evil.example",
    "javascript:alert(1)",
    "JavaScript:alert(document.cookie)",
    "data:text/html,<script>alert(1)</script>",
    "https://evil.example",
    "http://evil.example/",
    "https:evil.example",
    "https:/\\evil.example",
    "//localhost@evil.example",
    "http://localhost@evil.example/",
    "%2F%2Fevil.example",
    "%2f%5cevil.example",
    quote("//evil.example", safe=""),
    quote(quote("//evil.example", safe=""), safe=""),
)
# A few for the routes that verify a password (argon2 is slow by design).
FEW = ("//evil.example", "/\\evil.example", "javascript:alert(1)", "https://evil.example")


def assert_stays_on_site(response: Any, payload: str) -> None:
    location = response.headers.get("Location")
    if location is None:
        return
    assert not any(ord(ch) < 32 or ch == "\\" for ch in location), (payload, location)
    assert location == location.strip(), (payload, location)
    parts = urlsplit(urljoin("http://localhost/", location))
    assert (parts.scheme, parts.hostname) == ("http", "localhost"), (payload, location)


# --- sign-in -----------------------------------------------------------------------


@pytest.mark.parametrize("target", OFF_SITE)
def test_signed_in_visit_to_login_does_not_follow_next_off_site(client, login_as, target):
    login_as("viewer")
    response = client.get("/login", query_string={"next": target})
    assert response.status_code == 302
    assert_stays_on_site(response, target)
    assert urlsplit(response.headers["Location"]).path == "/"


@pytest.mark.parametrize("target", FEW)
def test_signing_in_does_not_follow_next_off_site(client, make_user, target):
    user = make_user(role="viewer")
    page = client.get("/login", query_string={"next": target}).get_data(as_text=True)
    dom.assert_clean(page, "login form")
    response = client.post(
        "/login", data={"email": user.email, "password": TEST_PASSWORD, "next": target}
    )
    assert response.status_code == 302
    assert_stays_on_site(response, target)
    assert urlsplit(response.headers["Location"]).path == "/"


def test_signing_in_follows_a_path_on_this_site(client, make_user):
    user = make_user(role="viewer")
    response = client.post(
        "/login", data={"email": user.email, "password": TEST_PASSWORD, "next": "/partners/?q=a"}
    )
    assert response.headers["Location"] == "/partners/?q=a"


@pytest.mark.parametrize("payload", XSS_PAYLOADS[:8])
def test_next_is_only_text_in_the_login_form(client, payload):
    html = client.get("/login", query_string={"next": payload}).get_data(as_text=True)
    page = dom.assert_clean(html, "login")
    assert page.find_all("input", name="next", value=payload)


# --- language switch ---------------------------------------------------------------


@pytest.mark.parametrize("target", OFF_SITE)
def test_language_switch_does_not_follow_next_off_site(client, login_as, target):
    login_as("viewer")
    response = client.post("/language", data={"locale": "ar", "next": target})
    assert response.status_code == 302
    assert_stays_on_site(response, target)


def test_language_switch_returns_to_the_page_and_anonymous_too(client):
    response = client.post("/language", data={"locale": "ar", "next": "/login?x=1"})
    assert response.headers["Location"] == "/login?x=1"
    response = client.post("/language", data={"locale": "en", "next": "//evil.example"})
    assert_stays_on_site(response, "//evil.example")


# --- re-authentication -------------------------------------------------------------


@pytest.mark.parametrize("target", FEW)
def test_reauthentication_does_not_follow_next_off_site(client, login_as, target):
    login_as("focal_point")
    html = client.get("/reauthenticate", query_string={"next": target}).get_data(as_text=True)
    dom.assert_clean(html, "reauthenticate")
    response = client.post("/reauthenticate", data={"password": TEST_PASSWORD, "next": target})
    assert response.status_code == 302
    assert_stays_on_site(response, target)
    assert urlsplit(response.headers["Location"]).path == "/"


# --- mark as done ------------------------------------------------------------------


@pytest.mark.parametrize("target", OFF_SITE)
def test_marking_a_follow_up_done_does_not_follow_next_off_site(
    client, login_as, make_follow_up, target
):
    me = login_as("outreach")
    follow_up = make_follow_up(assignee_id=me.id)
    response = client.post(
        f"/follow-ups/{follow_up.id}/complete", query_string={"next": target}, data={}
    )
    assert response.status_code == 302
    assert_stays_on_site(response, target)


# --- every other route -------------------------------------------------------------


def test_an_encoded_line_break_in_next_stays_an_encoded_path(client, login_as):
    login_as("viewer")
    target = "/%0d%0aLocation:%20//evil.example"
    response = client.get("/login", query_string={"next": target})
    assert_stays_on_site(response, target)
    assert response.headers.getlist("Location") == [target]


def test_no_route_redirects_off_site_whatever_next_says(app, client, world):
    """Every rule, with ``next`` (and ``return_to``, ``url``) in the query string
    and the form: for a visitor who is not signed in (sent to sign in, with the
    page to come back to), then for a user whose role may use the route (a focal
    point, or the administrator for what only they may do): any redirect stays
    here."""
    from tests.security.routes import is_api, route_arguments, url_for_rule
    from tests.security.test_requests import user_for

    arguments = route_arguments(world)
    hostile = {"next": "//evil.example", "return_to": "//evil.example", "url": "//evil.example"}
    rules = [
        r
        for r in app.url_map.iter_rules()
        if r.endpoint not in ("static", "auth.logout") and not is_api(r)
    ]
    browsers = {}
    for user in (world.viewer, world.admin):
        browsers[user.id] = app.test_client()
        sign_in(browsers[user.id], user)
    checked = 0
    for rule in rules:
        url = url_for_rule(app, rule, arguments)
        signed_in = browsers[user_for(rule.endpoint, [world.viewer, world.admin]).id]
        for browser in (client, signed_in):
            for method in ("GET", "POST"):
                if method not in rule.methods or (method == "POST" and browser is client):
                    continue
                response = browser.open(
                    url,
                    method=method,
                    query_string=hostile,
                    data=hostile if method == "POST" else None,
                )
                response.close()
                assert_stays_on_site(response, f"{method} {url}")
                checked += 1
    assert checked > 100
