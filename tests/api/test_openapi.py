"""The API keeps the promises of its OpenAPI document.

schemathesis reads /api/v1/openapi.json from the app in-process, generates
requests for every operation (a bounded number of examples each) with a valid
read-and-write token, and checks that no answer is a server error and that every
answer matches the document (status code, content type, body schema). Explicit
tests below prove that requests without a token, or beyond a token's reach, are
refused as documented.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from crm.codes import Role

OPERATIONS = [
    ("/api/v1/openapi.json", "GET"),
    ("/api/v1/outcome3", "GET"),
    ("/api/v1/partners", "GET"),
    ("/api/v1/partners/{partner_id}", "GET"),
    ("/api/v1/frameworks", "GET"),
    ("/api/v1/frameworks/{framework_id}", "GET"),
    ("/api/v1/engagements", "GET"),
    ("/api/v1/engagements", "POST"),
    ("/api/v1/engagements/{engagement_id}", "GET"),
    ("/api/v1/engagements/{engagement_id}", "PATCH"),
]
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def api_schema(app, db, make_token, make_framework, make_engagement, fresh_request_globals):
    """The document as schemathesis loads it from the app, with a valid token."""
    make_framework(ref="F-OA-1")
    make_engagement(ref="E-OA-1")
    _token, secret = make_token(Role.OUTREACH, scope="read_write")
    db.session.commit()
    saved = {key: app.config.get(key) for key in ("API_RATE_LIMIT", "API_WRITE_RATE_LIMIT")}
    app.config["API_RATE_LIMIT"] = app.config["API_WRITE_RATE_LIMIT"] = "100000 per minute"
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    yield schema, {"Authorization": f"Bearer {secret}"}
    for key, value in saved.items():
        if value is None:
            app.config.pop(key, None)
        else:
            app.config[key] = value


@pytest.mark.parametrize(("path", "method"), OPERATIONS)
def test_the_api_matches_its_document(api_schema, path, method):
    schema, headers = api_schema
    operation = schema[path][method]

    @settings(
        max_examples=8,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(headers=headers))
    def check(case):
        case.call_and_validate(checks=CHECKS)

    check()


@pytest.mark.parametrize(("path", "method"), OPERATIONS[1:])
def test_requests_outside_the_document_are_refused_without_server_errors(api_schema, path, method):
    """Negative cases (wrong types, out-of-range values, bodies that break the
    schema): answered 4xx, never 500."""
    schema, headers = api_schema
    operation = schema[path][method]

    @settings(
        max_examples=6,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(schemathesis.GenerationMode.NEGATIVE, headers=headers))
    def check(case):
        case.call_and_validate(checks=[not_a_server_error])

    check()


def test_the_document_describes_every_api_route(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    documented = {
        (path, method.upper())
        for path, operations in document["paths"].items()
        for method in operations
    }
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api.") and not rule.endpoint.startswith("api.tokens."):
            path = rule.rule.replace("<int:", "{").replace(">", "}")
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                routes.add((path, method))
    assert routes == documented


def test_the_document_is_public_and_the_data_is_not(client):
    assert client.get("/api/v1/openapi.json").status_code == 200
    document = client.get("/api/v1/openapi.json").get_json()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            url = (
                path.replace("{partner_id}", "1")
                .replace("{framework_id}", "1")
                .replace("{engagement_id}", "1")
            )
            if path.endswith("openapi.json"):
                continue
            response = client.open(
                url, method=method.upper(), json={} if method in ("post", "patch") else None
            )
            assert response.status_code == 401, (method, path)
            assert response.get_json()["error"]["code"] == "missing_token"
            assert "401" in operation["responses"]


TYPES = {
    "object": dict,
    "array": list,
    "string": str,
    "integer": int,
    "boolean": bool,
    "number": (int, float),
}


def conforms(value, schema, components, path="$"):
    """A small check of ``value`` against an OpenAPI 3.0 schema (types, nullable,
    required, properties, additionalProperties, items, enum)."""
    if "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[1]]
    if value is None:
        assert schema.get("nullable"), f"{path} is null but not nullable"
        return
    kind = schema.get("type")
    if kind:
        assert isinstance(value, TYPES[kind]), f"{path}: {value!r} is not {kind}"
        assert not (kind == "integer" and isinstance(value, bool)), path
    if "enum" in schema:
        assert value in schema["enum"], path
    if isinstance(value, dict):
        for name in schema.get("required", []):
            assert name in value, f"{path}.{name} is missing"
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for name, item in value.items():
            if name in properties:
                conforms(item, properties[name], components, f"{path}.{name}")
            elif isinstance(extra, dict):
                conforms(item, extra, components, f"{path}.{name}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            conforms(item, schema["items"], components, f"{path}[{i}]")


def test_a_locked_period_answers_as_the_document_says(client, make_token, o3, make_user):
    from datetime import date

    from crm.extensions import db
    from crm.reports import services
    from crm.reports.counting import Period

    o3.engagement(date(2024, 3, 3), women=3, men=30)
    services.lock_period(Period.year(2024), actor=make_user(role="reporting"), name="2024")
    o3.engagement(date(2024, 4, 4), women=2, men=10)
    db.session.commit()
    document = client.get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/api/v1/outcome3"]["get"]
    assert "live" in {p["name"] for p in operation["parameters"]}
    schemas = document["components"]["schemas"]
    locked = schemas["Outcome3"]["properties"]["locked"]
    assert set(locked["properties"]) == {"name", "locked_at", "restated"}
    _token, secret = make_token(Role.REPORTING)
    headers = {"Authorization": f"Bearer {secret}"}
    for query in ("year=2024", "year=2024&live=1", "year=2023"):
        body = client.get(f"/api/v1/outcome3?{query}", headers=headers).get_json()
        conforms(body, schemas["Outcome3"], schemas)
        assert ("locked" in body) == query.startswith("year=2024")
        if query == "year=2024":  # as published: 3 women, hidden
            assert body["engagements"]["participants"]["women"] is None
            assert body["suppressed"]
        if query.endswith("live=1"):  # today: 5 women, shown
            assert body["engagements"]["participants"]["women"] == 5
    assert body["suppressed"] == []  # 2023: nothing to suppress
    bad = client.get("/api/v1/outcome3?year=2024&live=yes", headers=headers)
    assert bad.status_code == 400
