"""Deny by default: every route has an access rule, and the rule holds for every role."""

from __future__ import annotations

import pytest
from flask import Flask

from crm.codes import Role
from crm.security import ROLE_PERMISSIONS, access_rule

# The short, explicit list of endpoints open without signing in.
PUBLIC_ENDPOINTS = {
    "static",
    "auth.login",
    "auth.setup",
    "i18n.switch",
    "main.healthz",
    "api.openapi",
}


def endpoints(app: Flask) -> list[tuple[str, set[str], bool]]:
    seen = {}
    for rule in app.url_map.iter_rules():
        has_args = bool(rule.arguments)
        methods = set(rule.methods or ()) - {"HEAD", "OPTIONS"}
        seen.setdefault(rule.endpoint, (rule.rule, methods, has_args))
    return [(endpoint, methods, has_args) for endpoint, (_rule, methods, has_args) in seen.items()]


def test_every_endpoint_has_an_access_rule(app):
    with app.test_request_context():
        missing = [e for e, _m, _a in endpoints(app) if access_rule(e) is None]
    assert missing == [], f"routes without @require/@login_only/@public: {missing}"


def test_public_endpoints_are_only_the_listed_ones(app):
    with app.test_request_context():
        public = {e for e, _m, _a in endpoints(app) if access_rule(e).kind == "public"}
    assert public <= PUBLIC_ENDPOINTS, f"unexpected public routes: {public - PUBLIC_ENDPOINTS}"


def test_a_route_without_rule_is_refused(app, client, login_as):
    """A view someone forgot to decorate answers 403 even to an administrator."""
    login_as(Role.ADMIN)
    app.view_functions["main.index"], original = (
        lambda: "secret",
        app.view_functions["main.index"],
    )
    try:
        response = client.get("/")
    finally:
        app.view_functions["main.index"] = original
    assert response.status_code == 403
    assert "secret" not in response.text


def _simple_get_endpoints(app: Flask) -> list[str]:
    found = []
    for rule in app.url_map.iter_rules():
        if "GET" in (rule.methods or ()) and not rule.arguments:
            found.append(rule.endpoint)
    return sorted(set(found))


@pytest.mark.parametrize("role", list(Role))
def test_role_policy_holds_on_every_page(app, client, login_as, role):
    """For each role, a page needing a permission the role lacks answers 403,
    and a page it may see does not."""
    login_as(role)
    with app.test_request_context():
        cases = [(e, access_rule(e)) for e in _simple_get_endpoints(app)]
        urls = {}
        for endpoint, _rule in cases:
            from flask import url_for

            urls[endpoint] = url_for(endpoint)
    allowed_permissions = ROLE_PERMISSIONS[role]
    for endpoint, rule in cases:
        if rule.kind != "login" or endpoint.startswith("api."):
            continue
        response = client.get(urls[endpoint])
        expected_ok = set(rule.permissions) <= allowed_permissions
        if expected_ok:
            assert response.status_code != 403, f"{role} refused {endpoint}"
        else:
            assert response.status_code == 403, f"{role} reached {endpoint}"


def test_anonymous_is_sent_to_sign_in_everywhere(app, client):
    with app.test_request_context():
        from flask import url_for

        cases = [
            (e, url_for(e)) for e in _simple_get_endpoints(app) if access_rule(e).kind == "login"
        ]
    assert cases
    for endpoint, url in cases:
        response = client.get(url)
        assert response.status_code == 302, endpoint
        assert "/login?next=" in response.headers["Location"], endpoint
