"""The JSON API: tokens, permissions, lists and records, writes, errors in JSON."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from crm.api.models import ApiToken
from crm.codes import Role
from crm.db import utcnow
from crm.engagements.models import Engagement


def bearer(secret, **headers):
    return {"Authorization": f"Bearer {secret}", **headers}


def error_code(response):
    assert response.is_json, response.data[:200]
    return response.get_json()["error"]["code"]


# --- authentication ----------------------------------------------------------------


def test_no_token_is_401_in_json(client):
    response = client.get("/api/v1/partners")
    assert response.status_code == 401
    assert error_code(response) == "missing_token"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_session_cookie_does_not_open_the_api(client, login_as):
    login_as(Role.ADMIN)
    assert client.get("/api/v1/partners").status_code == 401


@pytest.mark.parametrize("how", ["unknown", "revoked", "expired", "inactive"])
def test_dead_tokens_are_refused(db, client, make_token, how):
    token, secret = make_token(Role.OUTREACH)
    if how == "unknown":
        secret = secret[:-3] + "xyz"
    elif how == "revoked":
        token.revoked_at = utcnow()
    elif how == "expired":
        token.expires_at = utcnow() - timedelta(seconds=1)
    else:
        from crm.auth.models import User

        db.session.get(User, token.user_id).active = False
    db.session.commit()
    response = client.get("/api/v1/partners", headers=bearer(secret))
    assert response.status_code == 401
    assert error_code(response) == "invalid_token"


def test_tokens_are_stored_only_as_a_hash(db, make_token):
    _token, secret = make_token()
    stored = db.session.execute(select(ApiToken)).scalar_one()
    assert secret not in (stored.token_hash, stored.prefix)
    assert stored.prefix == secret[:12]
    assert len(stored.token_hash) == 64


def test_messages_follow_the_language_asked_for(client):
    english = client.get("/api/v1/partners?lang=en").get_json()["error"]["message"]
    arabic = client.get("/api/v1/partners", headers={"Accept-Language": "ar"}).get_json()["error"][
        "message"
    ]
    assert "token" in english
    assert arabic != english
    assert any("\u0600" <= ch <= "\u06ff" for ch in arabic)


def test_unknown_api_paths_answer_json(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert error_code(response) == "not_found"


# --- permissions -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "reports", "partners"),
    [
        (Role.ADMIN, 200, 200),
        (Role.OUTREACH, 200, 200),
        (Role.FOCAL_POINT, 200, 200),
        (Role.REPORTING, 200, 200),
        (Role.VIEWER, 200, 200),
    ],
)
def test_every_role_reads_what_its_role_reads(client, make_token, role, reports, partners):
    _token, secret = make_token(role)
    assert client.get("/api/v1/outcome3?year=2024", headers=bearer(secret)).status_code == reports
    assert client.get("/api/v1/partners", headers=bearer(secret)).status_code == partners


def test_confidential_records_are_404_for_a_viewer_token(db, client, make_token, make_partner):
    secret_partner = make_partner(ref="P-SECRET", confidential=True)
    open_partner = make_partner(ref="P-OPEN")
    db.session.commit()
    _token, viewer = make_token(Role.VIEWER)
    assert (
        client.get(f"/api/v1/partners/{secret_partner.id}", headers=bearer(viewer)).status_code
        == 404
    )
    listed = client.get("/api/v1/partners", headers=bearer(viewer)).get_json()["items"]
    assert [p["ref"] for p in listed] == ["P-OPEN"]
    _token, officer = make_token(Role.OUTREACH)
    assert (
        client.get(f"/api/v1/partners/{secret_partner.id}", headers=bearer(officer)).status_code
        == 200
    )
    assert (
        client.get(f"/api/v1/partners/{open_partner.id}", headers=bearer(viewer)).status_code == 200
    )


def test_a_read_token_cannot_write(client, make_token):
    _token, secret = make_token(Role.OUTREACH, scope="read")
    response = client.post("/api/v1/engagements", json={"title_en": "x"}, headers=bearer(secret))
    assert response.status_code == 403
    assert error_code(response) == "insufficient_scope"


def test_a_viewer_cannot_write_even_with_a_write_token(client, make_token):
    _token, secret = make_token(Role.VIEWER, scope="read_write")
    response = client.post("/api/v1/engagements", json={"title_en": "x"}, headers=bearer(secret))
    assert response.status_code == 403
    assert error_code(response) == "forbidden"


# --- reading -----------------------------------------------------------------------


def test_outcome3_is_the_same_json_as_the_command_line(
    db, client, make_token, make_engagement, runner
):
    import json

    make_engagement(ref="E-1", start_date=date(2024, 3, 1), women=4, men=3)
    db.session.commit()
    _token, secret = make_token(Role.REPORTING)
    by_api = client.get("/api/v1/outcome3?year=2024", headers=bearer(secret)).get_json()
    by_range = client.get(
        "/api/v1/outcome3?from=2024-01-01&to=2024-12-31", headers=bearer(secret)
    ).get_json()
    cli = runner.invoke(args=["report", "outcome3", "--year", "2024", "--format", "json"])
    assert cli.exit_code == 0, cli.output
    assert by_api == by_range == json.loads(cli.stdout)
    assert by_api["engagements"]["held_in_period"] == 1


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?year=abc",
        "?year=2024&from=2024-01-01",
        "?from=2024-02-30&to=2024-03-01",
        "?from=2024-05-01&to=2024-01-01",
    ],
)
def test_outcome3_refuses_bad_periods_with_400(client, make_token, query):
    _token, secret = make_token(Role.REPORTING)
    response = client.get(f"/api/v1/outcome3{query}", headers=bearer(secret))
    assert response.status_code == 400
    assert error_code(response) == "invalid_parameter"


def test_lists_page_with_a_cursor_and_keep_the_web_filters(db, client, make_token, make_partner):
    for i in range(5):
        make_partner(ref=f"P-{i}", type="media" if i % 2 else "syrian_cso")
    db.session.commit()
    _token, secret = make_token(Role.OUTREACH)
    first = client.get("/api/v1/partners?limit=2", headers=bearer(secret)).get_json()
    assert [p["ref"] for p in first["items"]] == ["P-0", "P-1"]
    second = client.get(
        f"/api/v1/partners?limit=2&after={first['next']}", headers=bearer(secret)
    ).get_json()
    assert [p["ref"] for p in second["items"]] == ["P-2", "P-3"]
    media = client.get("/api/v1/partners?type=media", headers=bearer(secret)).get_json()
    assert [p["ref"] for p in media["items"]] == ["P-1", "P-3"]
    assert media["next"] is None
    bad = client.get("/api/v1/partners?after=forged", headers=bearer(secret))
    assert bad.status_code == 400 and error_code(bad) == "invalid_cursor"
    assert client.get("/api/v1/partners?limit=0", headers=bearer(secret)).status_code == 400


def test_framework_counterparts_outside_reach_are_counted_not_named(
    db, client, make_token, make_partner, make_framework
):
    hidden = make_partner(ref="P-HID", confidential=True)
    shown = make_partner(ref="P-SHOWN")
    framework = make_framework(ref="F-1", partners=[hidden, shown])
    db.session.commit()
    _token, secret = make_token(Role.VIEWER)
    body = client.get(f"/api/v1/frameworks/{framework.id}", headers=bearer(secret)).get_json()
    assert body["partners"] == [{"id": shown.id, "ref": "P-SHOWN"}]
    assert body["hidden_partners"] == 1
    assert "P-HID" not in str(body)


# --- writing -----------------------------------------------------------------------

NEW = {
    "ref": "E-API-1",
    "title_en": "Consultation",
    "category": "victims_survivors",
    "type": "consultation",
    "format": "online",
    "status": "held",
    "start_date": "2024-03-01",
    "women": 3,
    "men": 2,
}


def test_an_engagement_is_created_and_updated_with_its_version(db, client, make_token):
    _token, secret = make_token(Role.OUTREACH, scope="read_write")
    created = client.post("/api/v1/engagements", json=NEW, headers=bearer(secret))
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["ref"] == "E-API-1" and body["participants_total"] == 5
    assert created.headers["Location"].endswith(f"/api/v1/engagements/{body['id']}")
    assert created.headers["ETag"] == f'"{body["version"]}"'
    url = f"/api/v1/engagements/{body['id']}"

    missing = client.patch(url, json={"men": 4}, headers=bearer(secret))
    assert missing.status_code == 428
    changed = client.patch(
        url, json={"men": 4}, headers=bearer(secret, **{"If-Match": created.headers["ETag"]})
    )
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["men"] == 4
    stale = client.patch(url, json={"men": 5, "version": body["version"]}, headers=bearer(secret))
    assert stale.status_code == 409
    assert stale.get_json()["error"]["current_version"] == changed.get_json()["version"]
    stored = db.session.execute(select(Engagement).where(Engagement.ref == "E-API-1")).scalar_one()
    assert stored.men == 4


def test_validation_errors_are_422_per_field_in_the_language_asked(client, make_token):
    _token, secret = make_token(Role.OUTREACH, scope="read_write")
    future = (date.today() + timedelta(days=30)).isoformat()
    response = client.post(
        "/api/v1/engagements?lang=ar",
        json={**NEW, "start_date": future, "women": "many", "colour": "red"},
        headers=bearer(secret),
    )
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert set(fields) == {"women", "colour"}
    response = client.post(
        "/api/v1/engagements", json={**NEW, "start_date": future}, headers=bearer(secret)
    )
    assert response.status_code == 422
    assert "start_date" in response.get_json()["error"]["fields"]
    english = response.get_json()["error"]["fields"]["start_date"][0]
    assert english.startswith("An engagement that was held cannot start in the future")


def test_a_body_that_is_not_json_is_refused(client, make_token):
    _token, secret = make_token(Role.OUTREACH, scope="read_write")
    response = client.post("/api/v1/engagements", data="ref=x", headers=bearer(secret))
    assert response.status_code == 415
    response = client.post("/api/v1/engagements", json=[1, 2], headers=bearer(secret))
    assert response.status_code == 400


def test_no_csrf_token_is_needed_by_the_api(client, make_token, csrf):
    _token, secret = make_token(Role.OUTREACH, scope="read_write")
    assert client.post("/api/v1/engagements", json=NEW, headers=bearer(secret)).status_code == 201


def test_changing_an_engagement_outside_reach_is_404(db, client, make_token, make_engagement):
    archived = make_engagement(ref="E-ARCH", archived_at=utcnow())
    db.session.commit()
    _token, secret = make_token(Role.OUTREACH, scope="read_write")
    url = f"/api/v1/engagements/{archived.id}"
    assert client.get(url, headers=bearer(secret)).status_code == 404
    assert (
        client.patch(url, json={"men": 1, "version": 1}, headers=bearer(secret)).status_code == 404
    )


# --- rate limits -------------------------------------------------------------------


def test_each_token_has_its_own_rate_limit(app, client, make_token):
    app.config["API_RATE_LIMIT"] = "3 per minute"
    try:
        _token, first = make_token(Role.OUTREACH)
        _token, second = make_token(Role.OUTREACH)
        codes = [
            client.get("/api/v1/partners", headers=bearer(first)).status_code for _ in range(4)
        ]
        assert codes == [200, 200, 200, 429]
        limited = client.get("/api/v1/partners", headers=bearer(first))
        assert error_code(limited) == "rate_limited"
        assert client.get("/api/v1/partners", headers=bearer(second)).status_code == 200
    finally:
        del app.config["API_RATE_LIMIT"]


def test_repeated_bad_tokens_are_slowed_down(app, client):
    app.config["API_AUTH_FAILURE_LIMIT"] = "3 per minute"
    try:
        headers = {"Authorization": "Bearer crm_guess"}
        codes = [
            client.get(
                "/api/v1/partners", headers=headers, environ_base={"REMOTE_ADDR": "203.0.113.9"}
            ).status_code
            for _ in range(5)
        ]
        assert codes[:3] == [401, 401, 401]
        assert codes[-1] == 429
    finally:
        del app.config["API_AUTH_FAILURE_LIMIT"]
