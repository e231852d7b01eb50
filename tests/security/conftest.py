"""A hostile world: one record of every type per pack of payloads, each free-text
field holding the pack, made through the services as the application would; and
the people who look at it, whose own names are payloads too."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import sign_in
from tests.security.payloads import pack

TODAY = date.today()


@dataclass
class World:
    viewer: Any  # a focal point: sees every record type, identities included
    admin: Any  # runs accounts and restores archived records
    staff: list[Any] = field(default_factory=list)
    partners: list[Any] = field(default_factory=list)
    acronym_partners: list[Any] = field(default_factory=list)
    untranslated: list[Any] = field(default_factory=list)
    contacts: list[Any] = field(default_factory=list)
    frameworks: list[Any] = field(default_factory=list)
    engagements: list[Any] = field(default_factory=list)
    follow_ups: list[Any] = field(default_factory=list)
    people: list[Any] = field(default_factory=list)
    tokens: list[Any] = field(default_factory=list)
    periods: list[Any] = field(default_factory=list)
    # (record, the payload strings its pages must show)
    texts: dict[tuple[str, int], list[str]] = field(default_factory=dict)

    def shown(self, kind: str, obj: Any) -> list[str]:
        return self.texts[(kind, obj.id)]


def _identity(text: str, n: int) -> dict[str, Any]:
    return {
        "name_ar": text,
        "name_en": text,
        "phone": f"+90 532 555 01{n:02d}",
        "email": f"person{n}@example.org",
        "address": text,
        "notes": text,
        "safe_contact_channel": text,
        "consent_on": TODAY,
        "consent_method": "written",
        "consent_language": "ar",
    }


def build_world(make_user: Callable[..., Any]) -> World:
    from types import SimpleNamespace

    from flask import g

    from crm.api.services import create_token
    from crm.db import utcnow
    from crm.engagements.services import create_engagement
    from crm.followups.services import create_follow_up
    from crm.frameworks.services import create_framework
    from crm.partners.services import create_contact, create_partner
    from crm.people import services as people

    names = pack(200)
    world = World(
        viewer=make_user(role="focal_point", name=names[0]),
        admin=make_user(role="admin", name=names[1 % len(names)]),
    )
    world.staff = [make_user(role="outreach", name=n) for n in names]

    # Partners: every text field holds a pack of 120 characters (the city's limit);
    # the acronym holds 50, so the packs that do not fit the partners with a
    # pack go to partners of their own ("acronym partners").
    acronyms = pack(50)
    for i, text in enumerate(pack(120)):
        partner = create_partner(
            {
                "name_en": text,
                "name_ar": text,
                "acronym": acronyms[i],
                "type": "victims_association",
                "country": "TR",
                "city": text,
                "website": "https://example.org/?" + text,
                "email": f"partner{i}@example.org",
                "security_note": text,
                "notes": text,
            },
            actor=world.admin,
        )
        world.partners.append(partner)
        world.texts[("partner", partner.id)] = [text, acronyms[i]]
        contact = create_contact(
            partner,
            {"name_en": text, "name_ar": text, "role": text, "email": f"c{i}@example.org"},
            actor=world.admin,
        )
        world.contacts.append(contact)
        world.texts[("contact", contact.id)] = [text]
    for i, acronym in enumerate(acronyms[len(world.partners) :]):
        partner = create_partner(
            {"name_en": f"Acronym partner {i}", "acronym": acronym, "type": "media"},
            actor=world.admin,
        )
        world.acronym_partners.append(partner)
        world.texts[("partner", partner.id)] = [acronym]
    # Partners waiting for a translation (their Arabic name is missing).
    for text in pack(300):
        partner = create_partner(
            {"name_en": text, "type": "syrian_cso", "acronym": None}, actor=world.admin
        )
        world.untranslated.append(partner)
        world.texts[("partner", partner.id)] = [text]

    for i, text in enumerate(pack(500)):
        framework = create_framework(
            {
                "title_en": text,
                "title_ar": text,
                "instrument": "mou",
                "status": "in_force",
                "signed_on": TODAY - timedelta(days=300),
                "expires_on": TODAY + timedelta(days=20),
                "next_review_on": TODAY + timedelta(days=10),
                "purposes": text,
                "notes": text,
                "responsible_id": world.staff[i % len(world.staff)].id,
                "partner_ids": [p.id for p in world.partners[:3]],
            },
            actor=world.admin,
        )
        world.frameworks.append(framework)
        world.texts[("framework", framework.id)] = [text]

    for i, text in enumerate(pack(200)):
        person = people.create_person(
            {"sex": "female", "age_band": "30_44", **_identity(text, i)}, actor=world.viewer
        )
        people.record_consent(
            person,
            {"scope": "contact", "granted": False, "on": TODAY, "method": "oral"},
            actor=world.viewer,
        )
        # The refusal overridden, with a hostile reason (shown with the identity).
        reason = f"{text} (reason {i})"
        g.crm_session = SimpleNamespace(reauthenticated_at=utcnow())
        try:
            people.override_refusal(
                person, {"scope": "contact", "on": TODAY, "reason": reason}, actor=world.viewer
            )
        finally:
            g.pop("crm_session", None)
        world.people.append(person)
        world.texts[("person", person.id)] = [text, reason]

    for i, text in enumerate(pack(120)):
        engagement = create_engagement(
            {
                "title_en": text,
                "title_ar": text,
                "category": "victims_survivors",
                "type": "consultation",
                "format": "in_person",
                # every other one held last week, the others planned and incomplete
                "status": "held" if i % 2 == 0 else "planned",
                "start_date": TODAY - timedelta(days=2) if i % 2 == 0 else TODAY,
                "country": "TR",
                "city": text,
                "summary_en": text,
                "summary_ar": text,
                "outcomes_en": text,
                "outcomes_ar": text,
                "follow_up_actions": text,
                "women": 3,
                "men": 2,
                "partner_ids": [world.partners[i % len(world.partners)].id],
                "staff_ids": [world.staff[i % len(world.staff)].id],
                "person_ids": [world.people[i % len(world.people)].id],
            },
            actor=world.viewer,
        )
        world.engagements.append(engagement)
        world.texts[("engagement", engagement.id)] = [text]

    subjects = [
        ("engagement_id", world.engagements[0]),
        ("partner_id", world.partners[0]),
        ("framework_id", world.frameworks[0]),
        ("person_id", world.people[0]),
    ]
    for i, text in enumerate(pack(300)):
        key, subject = subjects[i % len(subjects)]
        follow_up = create_follow_up(
            {
                "title": text,
                "description": text,
                "due_on": TODAY + timedelta(days=1),
                "assignee_id": world.viewer.id,
                key: subject.id,
            },
            actor=world.viewer,
        )
        world.follow_ups.append(follow_up)
        world.texts[("follow_up", follow_up.id)] = [text]

    for text in pack(100):
        token, _secret = create_token(
            world.viewer, {"name": text, "scope": "read"}, actor=world.viewer
        )
        world.tokens.append(token)
        world.texts[("token", token.id)] = [text]

    from crm.reports.services import create_period

    reporter = make_user(role="reporting", name=names[-1])
    for i, text in enumerate(pack(200)):
        start = date(2000 + i, 2, 1)
        period = create_period(text, start, date(2001 + i, 1, 31), actor=reporter)
        world.periods.append(period)
        world.texts[("period", period.id)] = [text]
    return world


@pytest.fixture
def world(db: Any, make_user: Callable[..., Any], app: Flask) -> Iterator[World]:
    from flask_babel import force_locale

    with force_locale("en"):
        built = build_world(make_user)
    db.session.flush()
    # Showing identities is throttled per session; these tests show many.
    previous = app.config.get("IDENTITY_VIEWS_RATE_LIMIT")
    app.config["IDENTITY_VIEWS_RATE_LIMIT"] = "10000 per hour"
    yield built
    if previous is None:
        app.config.pop("IDENTITY_VIEWS_RATE_LIMIT", None)
    else:
        app.config["IDENTITY_VIEWS_RATE_LIMIT"] = previous


def use(client: FlaskClient, user: Any, language: str) -> None:
    """Sign ``client`` in as ``user``, reading the application in ``language``."""
    from crm.extensions import db

    user.locale = language
    db.session.flush()
    sign_in(client, user)
    client.set_language(language)
