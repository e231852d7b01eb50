"""Follow-up pages and the dashboard panel."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from crm.codes import FollowUpStatus
from crm.db import utcnow
from crm.engagements import services as engagements
from crm.extensions import db
from crm.followups.models import FollowUp
from crm.followups.services import update_follow_up
from tests.engagements.pages import field_error, input_value, main_text, text_by_id

ROLES = ("admin", "outreach", "focal_point", "reporting", "viewer")
# FOLLOWUPS_VIEW and FOLLOWUPS_EDIT: everyone but the viewer.
WITH_FOLLOW_UPS = ("admin", "outreach", "focal_point", "reporting")


def today():
    return engagements.today()


@pytest.mark.parametrize("role", ROLES)
def test_access_to_each_page(client, login_as, make_follow_up, make_engagement, role):
    engagement = make_engagement()
    user = login_as(role)
    follow_up = make_follow_up(assignee_id=user.id, engagement_id=engagement.id)
    ok = role in WITH_FOLLOW_UPS
    for url in (
        "/follow-ups/",
        "/follow-ups/new",
        f"/follow-ups/new?engagement_id={engagement.id}",
        f"/follow-ups/{follow_up.id}/edit",
    ):
        assert client.get(url).status_code == (200 if ok else 403), url
    response = client.post(f"/follow-ups/{follow_up.id}/complete", data={})
    db.session.refresh(follow_up)
    assert response.status_code == (302 if ok else 403)
    assert follow_up.status == (FollowUpStatus.DONE if ok else FollowUpStatus.OPEN)


def test_my_follow_ups_by_urgency(client, login_as, make_follow_up, make_engagement, make_user):
    me = login_as("outreach")
    engagement = make_engagement(title_en="Workshop in Gaziantep")
    make_follow_up(
        title="Overdue thing",
        assignee_id=me.id,
        due_on=today() - timedelta(days=2),
        engagement_id=engagement.id,
    )
    make_follow_up(title="Soon thing", assignee_id=me.id, due_on=today() + timedelta(days=3))
    make_follow_up(title="Later thing", assignee_id=me.id, due_on=today() + timedelta(days=40))
    make_follow_up(title="Done thing", assignee_id=me.id, status=FollowUpStatus.DONE)
    make_follow_up(title="Someone else's", assignee_id=make_user().id)
    page = client.get("/follow-ups/").text
    assert "Overdue thing" in text_by_id(page, "overdue")
    assert "Workshop in Gaziantep" in text_by_id(page, "overdue")
    assert "Soon thing" in text_by_id(page, "due-soon")
    assert "Later thing" in text_by_id(page, "later")
    text = main_text(page)
    assert "Done thing" not in text and "Someone else's" not in text


def test_my_follow_ups_in_arabic(client, login_as, make_follow_up):
    me = login_as("outreach", locale="ar")
    client.set_language("ar")
    make_follow_up(title="إرسال المحضر", assignee_id=me.id, due_on=today() - timedelta(days=1))
    page = client.get("/follow-ups/").text
    assert 'dir="rtl"' in page and "إرسال المحضر" in page


def test_a_follow_up_from_the_engagement_page(client, login_as, make_engagement, make_user):
    engagement = make_engagement()
    colleague = make_user(role="focal_point", name="Samir Khoury")
    login_as("outreach")
    record = client.get(f"/engagements/{engagement.id}").text
    assert f"/follow-ups/new?engagement_id={engagement.id}" in record
    form = client.get(f"/follow-ups/new?engagement_id={engagement.id}").text
    assert "Samir Khoury" in form
    response = client.post(
        f"/follow-ups/new?engagement_id={engagement.id}",
        data={"title": "Send the minutes", "due_on": "٢٠٣٠-٠١-٠٢", "assignee_id": colleague.id},
    )
    assert response.headers["Location"].endswith(f"/engagements/{engagement.id}")
    follow_up = db.session.execute(select(FollowUp)).scalar_one()
    assert (follow_up.engagement_id, follow_up.assignee_id) == (engagement.id, colleague.id)
    assert follow_up.due_on.isoformat() == "2030-01-02"
    assert "Send the minutes" in text_by_id(
        client.get(f"/engagements/{engagement.id}").text, "follow-ups"
    )


def test_the_form_says_what_is_wrong_next_to_the_field(client, login_as):
    login_as("outreach")
    page = client.post(
        "/follow-ups/new", data={"title": "", "due_on": "tomorrow", "description": "Keep me"}
    ).text
    assert field_error(page, "title") == "Say what needs to be done."
    assert field_error(page, "due_on") == "Enter a date as YYYY-MM-DD."
    assert "Keep me" in page
    assert db.session.query(FollowUp).count() == 0


def test_records_out_of_reach_answer_404(client, login_as, make_engagement, make_follow_up):
    archived = make_engagement(archived_at=utcnow())
    me = login_as("outreach")
    assert client.get(f"/follow-ups/new?engagement_id={archived.id}").status_code == 404
    assert client.get("/follow-ups/new?engagement_id=999999").status_code == 404
    hidden = make_follow_up(assignee_id=me.id, engagement_id=archived.id)
    assert client.get(f"/follow-ups/{hidden.id}/edit").status_code == 404
    assert client.post(f"/follow-ups/{hidden.id}/complete").status_code == 404
    assert client.get("/follow-ups/999999/edit").status_code == 404


def test_a_follow_up_about_a_person_names_only_the_code(
    client, login_as, make_attendee, make_follow_up
):
    person = make_attendee(code="V-CODE-7777", do_not_contact=True)
    me = login_as("focal_point")
    make_follow_up(title="Check consent", assignee_id=me.id, person_id=person.id)
    page = client.get("/follow-ups/").text
    assert "V-CODE-7777" in page
    form = client.get(f"/follow-ups/new?person_id={person.id}").text
    assert "Do not contact this person." in form


def test_edit_and_conflict(client, login_as, make_follow_up):
    me = login_as("outreach")
    follow_up = make_follow_up(title="Call the association", assignee_id=me.id)
    loaded = follow_up.version
    page = client.get(f"/follow-ups/{follow_up.id}/edit").text
    assert input_value(page, "title") == "Call the association"
    update_follow_up(follow_up, {"title": "Call the association today"}, actor=me)
    db.session.flush()
    response = client.post(
        f"/follow-ups/{follow_up.id}/edit",
        data={
            "title": "Write to the association",
            "status": "open",
            "assignee_id": me.id,
            "version": loaded,
        },
    )
    assert response.status_code == 409
    assert "someone else saved this follow-up" in response.text
    assert input_value(response.text, "title") == "Write to the association"
    assert "Call the association today" in response.text
    again = client.post(
        f"/follow-ups/{follow_up.id}/edit",
        data={
            "title": "Write to the association",
            "status": "done",
            "assignee_id": me.id,
            "version": input_value(response.text, "version"),
        },
    )
    assert again.status_code == 302
    db.session.refresh(follow_up)
    assert follow_up.title == "Write to the association"
    assert follow_up.status == FollowUpStatus.DONE and follow_up.completed_at is not None


def test_done_returns_only_to_a_page_of_this_site(client, login_as, make_follow_up):
    me = login_as("outreach")
    follow_up = make_follow_up(assignee_id=me.id)
    response = client.post(f"/follow-ups/{follow_up.id}/complete?next=//evil.example/")
    assert response.headers["Location"].endswith("/follow-ups/")
    other = make_follow_up(assignee_id=me.id)
    response = client.post(f"/follow-ups/{other.id}/complete?next=/engagements/")
    assert response.headers["Location"].endswith("/engagements/")


def test_the_dashboard_counts_what_is_overdue_and_due_soon(client, login_as, make_follow_up):
    me = login_as("outreach")
    for days in (-3, -1):
        make_follow_up(
            title=f"Late {days}", assignee_id=me.id, due_on=today() + timedelta(days=days)
        )
    make_follow_up(title="Soon", assignee_id=me.id, due_on=today() + timedelta(days=14))
    make_follow_up(title="Far", assignee_id=me.id, due_on=today() + timedelta(days=15))
    panel = text_by_id(client.get("/").text, "your-work")
    assert "Follow-ups overdue 2" in panel
    assert "Follow-ups due soon 1" in panel
    assert "Late -3" in panel and "Soon" in panel and "Far" not in panel


def test_the_dashboard_in_arabic(client, login_as, make_follow_up):
    me = login_as("outreach", locale="ar")
    client.set_language("ar")
    make_follow_up(title="متابعة", assignee_id=me.id, due_on=today() - timedelta(days=1))
    page = client.get("/").text
    assert 'dir="rtl"' in page and "متابعة" in text_by_id(page, "your-work")


def test_a_viewer_has_no_work_panel(client, login_as):
    login_as("viewer")
    page = client.get("/").text
    assert 'id="your-work"' not in page


def test_the_reporting_officer_sees_follow_ups_but_not_records_to_complete(client, login_as):
    login_as("reporting")
    panel = text_by_id(client.get("/").text, "your-work")
    assert "Follow-ups overdue 0" in panel
    assert "incomplete" not in panel
