"""Follow-ups: what is owed, by whom, by when."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from crm.audit.models import AuditEntry
from crm.codes import FollowUpStatus
from crm.db import utcnow
from crm.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from crm.extensions import db
from crm.followups.services import (
    complete_follow_up,
    create_follow_up,
    follow_up_counts,
    follow_ups_for,
    get_follow_up,
    my_follow_ups,
    update_follow_up,
)

TODAY = date(2025, 5, 10)


@pytest.fixture(autouse=True)
def in_a_request(app):
    """Messages are lazy: they render in the language of a request (English here)."""
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield


@pytest.fixture
def officer(make_user):
    return make_user(role="outreach")


def errors_of(exc_info):
    return {k: [str(m) for m in v] for k, v in exc_info.value.errors.items()}


def test_a_follow_up_on_an_engagement_goes_to_its_author_by_default(app, officer, make_engagement):
    engagement = make_engagement()
    follow_up = create_follow_up(
        {
            "title": "Send the minutes",
            "due_on": "٢٠٢٥-٠٥-٢٠",
            "engagement_id": str(engagement.id),
        },
        actor=officer,
    )
    assert follow_up.assignee_id == officer.id
    assert follow_up.due_on == date(2025, 5, 20)
    assert follow_up.status == FollowUpStatus.OPEN
    assert follow_up.subject is engagement
    assert follow_ups_for(engagement, actor=officer) == [follow_up]
    entry = db.session.execute(
        select(AuditEntry).where(
            AuditEntry.object_type == "follow_ups", AuditEntry.object_id == follow_up.id
        )
    ).scalar_one()
    assert entry.action == "follow_up.create"
    assert "Send the minutes" not in entry.details  # free text stays out of the trail


def test_follow_ups_attach_to_people_frameworks_and_partners(
    app, make_user, make_attendee, make_engagement_partner
):
    focal_point = make_user(role="focal_point")
    person = make_attendee()
    partner = make_engagement_partner()
    on_person = create_follow_up({"title": "Call back", "person_id": person.id}, actor=focal_point)
    on_partner = create_follow_up({"title": "Renew", "partner_id": partner.id}, actor=focal_point)
    assert on_person.person is person and on_partner.partner is partner
    with pytest.raises(ValidationError):
        create_follow_up(
            {"title": "Two", "person_id": person.id, "partner_id": partner.id}, actor=focal_point
        )


def test_rules(app, officer, make_user):
    viewer = make_user(role="viewer")
    with pytest.raises(ValidationError) as exc:
        create_follow_up(
            {"title": " ", "due_on": "next week", "assignee_id": viewer.id, "status": "maybe"},
            actor=officer,
        )
    assert errors_of(exc) == {
        "title": ["Say what needs to be done."],
        "due_on": ["Enter a date as YYYY-MM-DD."],
        "assignee_id": ["Choose a person from the list."],
        "status": ["Choose a value from the list."],
    }


def test_an_assignee_must_be_able_to_see_the_record(app, officer, make_user, make_engagement):
    engagement = make_engagement()
    reporting = make_user(role="reporting")
    follow_up = create_follow_up(
        {"title": "Check figures", "engagement_id": engagement.id, "assignee_id": reporting.id},
        actor=officer,
    )
    assert follow_up.assignee is reporting


def test_records_out_of_reach_answer_not_found(app, officer, make_engagement):
    archived = make_engagement(archived_at=utcnow())
    with pytest.raises(NotFound):
        create_follow_up({"title": "x", "engagement_id": archived.id}, actor=officer)
    with pytest.raises(NotFound):
        create_follow_up({"title": "x", "engagement_id": 999_999}, actor=officer)


def test_viewers_may_not_see_or_make_follow_ups(app, officer, make_user, make_follow_up):
    viewer = make_user(role="viewer")
    with pytest.raises(PermissionDenied):
        create_follow_up({"title": "x"}, actor=viewer)
    follow_up = make_follow_up(assignee_id=officer.id)
    with pytest.raises(NotFound):
        get_follow_up(follow_up.id, actor=viewer)
    assert get_follow_up(follow_up.id, actor=officer) is follow_up


def test_complete_and_reopen(app, officer, make_follow_up):
    follow_up = make_follow_up(assignee_id=officer.id)
    complete_follow_up(follow_up, actor=officer, version=follow_up.version)
    assert follow_up.status == FollowUpStatus.DONE and follow_up.completed_at is not None
    complete_follow_up(follow_up, actor=officer)  # twice changes nothing
    update_follow_up(follow_up, {"status": "open"}, actor=officer)
    assert follow_up.status == FollowUpStatus.OPEN and follow_up.completed_at is None
    actions = db.session.execute(
        select(AuditEntry.action).where(AuditEntry.object_id == follow_up.id)
    ).scalars()
    assert list(actions).count("follow_up.complete") == 1


def test_update_checks_the_version(app, officer, make_follow_up):
    follow_up = make_follow_up(assignee_id=officer.id)
    loaded = follow_up.version
    update_follow_up(follow_up, {"due_on": "2025-06-01"}, actor=officer, version=loaded)
    with pytest.raises(ConflictError):
        update_follow_up(follow_up, {"title": "Other"}, actor=officer, version=loaded)
    entry = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "follow_up.update")
    ).scalar_one()
    assert json.loads(entry.details)["changes"]["due_on"]["new"] == "2025-06-01"


def test_system_follow_ups_are_raised_once_per_key(app, officer):
    data = {
        "title": "Framework expires",
        "auto_key": "framework:1:expiry:2025-06-30",
        "assignee_id": officer.id,
    }
    first = create_follow_up(data, actor=None)
    again = create_follow_up(data, actor=None)
    assert first is again


def test_my_follow_ups_are_grouped_by_urgency(
    app, officer, make_user, make_follow_up, make_engagement
):
    def owed(due, **kw):
        return make_follow_up(assignee_id=officer.id, due_on=due, **kw)

    overdue = owed(TODAY - timedelta(days=1))
    due_today = owed(TODAY)
    due_in_14 = owed(TODAY + timedelta(days=14))
    later = owed(TODAY + timedelta(days=15))
    undated = owed(None)
    owed(TODAY - timedelta(days=3), status=FollowUpStatus.DONE)
    owed(TODAY - timedelta(days=3), status=FollowUpStatus.CANCELLED)
    owed(TODAY - timedelta(days=3), engagement_id=make_engagement(archived_at=utcnow()).id)
    make_follow_up(assignee_id=make_user().id, due_on=TODAY - timedelta(days=1))

    groups = my_follow_ups(officer, TODAY)

    assert groups == {
        "overdue": [overdue],
        "due_soon": [due_today, due_in_14],
        "later": [later, undated],
    }
    assert follow_up_counts(officer, TODAY) == {
        "overdue": 1,
        "due_soon": 2,
        "later": 2,
        "open": 5,
    }


def test_counts_are_zero_for_a_newcomer(app, officer):
    assert follow_up_counts(officer, TODAY) == {"overdue": 0, "due_soon": 0, "later": 0, "open": 0}
