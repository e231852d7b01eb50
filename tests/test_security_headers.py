"""The headers of security.md on every response: pages, error pages, static files."""

from __future__ import annotations

import pytest

REQUIRED = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def assert_security_headers(response):
    for name, value in REQUIRED.items():
        assert response.headers.get(name) == value, name
    csp = response.headers["Content-Security-Policy"]
    for directive in (
        "default-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "script-src 'self'",
    ):
        assert directive in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp


@pytest.mark.parametrize("path", ["/login", "/no-such-page", "/static/css/app.css"])
def test_headers_on_pages_errors_and_static_files(client, path):
    response = client.get(path)
    response.close()
    assert_security_headers(response)


def test_authenticated_pages_are_not_cached(client, login_as):
    login_as("outreach")
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert_security_headers(response)


def test_server_error_page_has_headers_and_no_trace(app, client, login_as):
    login_as("admin")

    def boom():
        raise RuntimeError("SELECT secret FROM partners WHERE name='ضحية'")

    app.view_functions["main.index"], original = boom, app.view_functions["main.index"]
    boom._crm_access = original._crm_access
    try:
        response = client.get("/")
    finally:
        app.view_functions["main.index"] = original
    assert response.status_code == 500
    assert_security_headers(response)
    assert "SELECT" not in response.text and "Traceback" not in response.text
    assert "ضحية" not in response.text


def test_hsts_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    secure = client.get("/login", base_url="https://crm.example.org")
    assert "max-age=" in secure.headers["Strict-Transport-Security"]


def test_no_asset_from_another_origin(client, login_as):
    login_as("admin")
    for path in ("/login", "/"):
        page = client.get(path).text
        for marker in ('src="http', 'src="//', 'href="http', 'href="//', "url(http"):
            assert marker not in page, (path, marker)


def test_pages_have_no_inline_script_or_style(client, login_as):
    login_as("admin")
    page = client.get("/").text
    assert "<script>" not in page and "style=" not in page and "<style" not in page
    assert " onclick=" not in page
