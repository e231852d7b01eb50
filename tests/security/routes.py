"""Every rule of ``app.url_map`` turned into a real address: its arguments filled
with records of the hostile world, so a request that gets past a check acts on
something real."""

from __future__ import annotations

import io
from typing import Any

from flask import Flask
from werkzeug.datastructures import FileStorage
from werkzeug.routing import Rule

from tests.security.conftest import World

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


def route_arguments(world: World) -> dict[str, Any]:
    """A value for every argument name the rules use."""
    from crm.frameworks.services import add_document
    from crm.imports.jobs import create_job

    framework = world.frameworks[0]
    document = add_document(
        framework,
        FileStorage(io.BytesIO(PDF), filename="\u202esigned.pdf", content_type="application/pdf"),
        actor=world.admin,
    )
    job = create_job(
        user=world.viewer,
        kind="partners",
        filename="partners.csv",
        stream=io.BytesIO(b"name_en,type\nA,syrian_cso\n"),
        language="en",
    )
    partner = world.partners[0]
    return {
        "partner_id": partner.id,
        "contact_id": world.contacts[0].id,
        "framework_id": framework.id,
        "document_id": document.id,
        "engagement_id": world.engagements[0].id,
        "follow_up_id": world.follow_ups[0].id,
        "person_id": world.people[0].id,
        "user_id": world.staff[0].id,
        "period_id": world.periods[0].id,
        "token_id": world.tokens[0].id,
        "job_id": job.id,
        "kind": "partners",
        "fmt": "csv",
        "name": "partners",
        "token": "not-a-setup-token",
        "filename": "css/app.css",
    }


def url_for_rule(app: Flask, rule: Rule, arguments: dict[str, Any]) -> str | None:
    missing = [a for a in rule.arguments if a not in arguments]
    assert not missing, f"{rule.rule}: no value for {missing}; add one to route_arguments()"
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **{a: arguments[a] for a in rule.arguments})


def is_api(rule: Rule) -> bool:
    """A route of the JSON API, which authenticates with a bearer token (no cookie,
    so no CSRF); the API's token pages are ordinary pages."""
    return rule.rule.startswith("/api/")
