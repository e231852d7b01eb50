"""A save that moves a published figure, or changes what a figure reads, is shown
before it happens and, once confirmed with a reason, recorded as a restatement."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from crm.audit.models import AuditEntry
from crm.codes import Role
from crm.engagements.models import Engagement
from crm.frameworks.models import Framework
from crm.reports import services
from crm.reports.counting import Period
from crm.reports.models import RecordedRestatement
from tests.confirming import carried, confirm, is_confirmation

Y2024 = Period.year(2024)


def framework_form(framework, **overrides):
    data = {
        "title_en": framework.title_en or "",
        "title_ar": framework.title_ar or "",
        "ref": framework.ref,
        "instrument": framework.instrument.value,
        "status": framework.status.value,
        "partner_ids": [str(p.id) for p in framework.partners],
        "purposes": "",
        "signed_on": framework.signed_on.isoformat() if framework.signed_on else "",
        "in_force_from": "",
        "expires_on": "",
        "terminated_on": "",
        "next_review_on": "",
        "responsible_id": "",
        "notes": "",
        "version": str(framework.version),
    }
    data.update(overrides)
    return data


@pytest.fixture
def locked_2024(make_user):
    def lock():
        return services.lock_period(
            Y2024, actor=make_user(role=Role.REPORTING), name="Report on 2024 results"
        )

    return lock


def restatements(db):
    return db.session.execute(select(RecordedRestatement)).scalars().all()


def test_moving_a_locked_figure_is_shown_then_recorded_with_who_and_why(
    db, client, login_as, make_framework, locked_2024
):
    framework = make_framework(title_en="MoU with the families", signed_on=date(2024, 6, 1))
    locked_2024()
    officer = login_as(Role.OUTREACH, locale="en")
    url = f"/frameworks/{framework.id}/edit"

    page = client.post(url, data=framework_form(framework, signed_on="2025-01-05"))
    assert is_confirmation(page)
    text = page.text
    # Which field, in words; which published figure, from what to what.
    assert "1 June 2024" in text and "5 January 2025" in text
    assert "Report on 2024 results" in text
    assert 'data-figure="cooperation_frameworks.concluded_to_date"' in text
    row = text.split('data-figure="cooperation_frameworks.concluded_to_date"')[1].split("</tr>")[0]
    cells = re.findall(r'<td class="num">(?:<strong>)?([^<]*)', row)
    assert cells == ["1", "1", "0"]  # published, today, after this save
    db.session.refresh(framework)
    assert framework.signed_on == date(2024, 6, 1)  # nothing saved yet
    assert restatements(db) == []

    # Confirming without a reason is refused, and keeps everything typed.
    no_reason = confirm(client, url, page)
    assert no_reason.status_code == 422 and "Say why the published figures change" in no_reason.text
    assert ("signed_on", "2025-01-05") in carried(no_reason)
    db.session.refresh(framework)
    assert framework.signed_on == date(2024, 6, 1)

    saved = confirm(client, url, no_reason, reason="The signed copy is dated 5 January 2025.")
    assert saved.status_code == 302
    db.session.refresh(framework)
    assert framework.signed_on == date(2025, 1, 5)
    [restated] = restatements(db)
    assert restated.recorded_by_id == officer.id
    assert restated.reason == "The signed copy is dated 5 January 2025."
    assert restated.object_ref == framework.ref
    assert {"key": "cooperation_frameworks.concluded_to_date", "from": 1, "to": 0} in (
        restated.changes
    )
    audit = db.session.execute(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "period.restate")
    ).scalar_one()
    assert audit == 1

    # The report of the period shows it; the published figure itself stays frozen.
    login_as(Role.REPORTING, locale="en")
    report = client.get("/reports/?kind=year&year=2024").text
    assert "Restatements recorded" in report
    assert "The signed copy is dated 5 January 2025." in report
    assert framework.ref in report and "1 → 0" in report


def test_a_stale_confirmation_is_asked_again(db, client, login_as, make_framework, locked_2024):
    framework = make_framework(signed_on=date(2024, 6, 1))
    locked_2024()
    login_as(Role.OUTREACH, locale="en")
    url = f"/frameworks/{framework.id}/edit"
    page = client.post(url, data=framework_form(framework, signed_on="2025-01-05"))
    data = [(k, v) for k, v in carried(page) if k != "_impact"]
    from werkzeug.datastructures import MultiDict

    again = client.post(
        url,
        data=MultiDict(
            [*data, ("_impact", "0" * 64), ("_confirm", "1"), ("restatement_reason", "x")]
        ),
    )
    assert is_confirmation(again)
    db.session.refresh(framework)
    assert framework.signed_on == date(2024, 6, 1)


def test_removing_counterparts_shows_who_goes_and_nothing_is_lost_going_back(
    db, client, login_as, make_framework, make_partner
):
    keep = make_partner(name_en="Keeps Association")
    gone_one = make_partner(name_en="First Leaving Group")
    gone_two = make_partner(name_en="Second Leaving Group")
    framework = make_framework(partners=[keep, gone_one, gone_two])
    new = make_partner(name_en="Newcomer Network")
    login_as(Role.OUTREACH, locale="en")
    url = f"/frameworks/{framework.id}/edit"
    data = framework_form(
        framework, partner_ids=[str(keep.id), str(new.id)], notes="Typed by hand, keep me."
    )
    page = client.post(url, data=data)
    assert is_confirmation(page)  # no locked period: the removal alone asks
    removed = page.text.split('class="confirm-removed"')[1].split("</td>")[0]
    assert "First Leaving Group" in removed and "Second Leaving Group" in removed
    assert "Keeps Association" not in removed
    added = page.text.split('class="confirm-added"')[1].split("</td>")[0]
    assert "Newcomer Network" in added
    db.session.refresh(framework)
    assert len(framework.partners) == 3

    back = confirm(client, url, page, back=True)
    assert back.status_code == 200 and 'id="confirm-save"' not in back.text
    assert "Typed by hand, keep me." in back.text
    db.session.refresh(framework)
    assert len(framework.partners) == 3

    saved = confirm(client, url, page)
    assert saved.status_code == 302
    db.session.refresh(framework)
    assert {p.id for p in framework.partners} == {keep.id, new.id}


def test_a_new_engagement_in_a_locked_year_is_a_restatement(db, client, login_as, locked_2024):
    locked_2024()
    login_as(Role.OUTREACH, locale="ar")
    data = {
        "title_ar": "جلسة استماع",
        "category": "victims_survivors",
        "type": "consultation",
        "format": "in_person",
        "status": "held",
        "start_date": "2024-03-12",
        "women": "4",
        "men": "2",
    }
    page = client.post("/engagements/new", data=data)
    assert is_confirmation(page)
    assert 'data-figure="engagements.held_in_period"' in page.text
    assert "12 آذار 2024" in page.text or "Report on 2024 results" in page.text
    assert db.session.execute(select(func.count()).select_from(Engagement)).scalar_one() == 0
    saved = confirm(client, "/engagements/new", page, reason="سجلّ متأخر لجلسة عُقدت فعلًا")
    assert saved.status_code == 302
    [restated] = restatements(db)
    assert {"key": "engagements.held_in_period", "from": 0, "to": 1} in restated.changes
    assert restated.object_type == "engagements"


def test_a_change_outside_locked_figures_saves_at_once(
    db, client, login_as, make_framework, locked_2024
):
    framework = make_framework(signed_on=date(2024, 6, 1))
    locked_2024()
    login_as(Role.OUTREACH, locale="en")
    saved = client.post(
        f"/frameworks/{framework.id}/edit", data=framework_form(framework, notes="Only a note.")
    )
    assert saved.status_code == 302
    assert restatements(db) == []


def test_the_api_needs_a_reason_to_move_a_locked_figure(
    db, client, make_token, make_engagement, locked_2024
):
    engagement = make_engagement(start_date=date(2024, 5, 5))
    locked_2024()
    _token, secret = make_token(role=Role.OUTREACH, scope="read_write")
    headers = {"Authorization": f"Bearer {secret}"}
    url = f"/api/v1/engagements/{engagement.id}"
    refused = client.patch(
        url, json={"version": engagement.version, "status": "cancelled"}, headers=headers
    )
    assert refused.status_code == 409
    error = refused.get_json()["error"]
    assert error["code"] == "restatement_required"
    assert {
        "period": "Report on 2024 results",
        "figure": "engagements.held_in_period",
        "from": 1,
        "to": 0,
    } in error["restatement"]
    db.session.refresh(engagement)
    assert engagement.status.value == "held"
    done = client.patch(
        url,
        json={
            "version": engagement.version,
            "status": "cancelled",
            "restatement_reason": "It was called off; logged as held by mistake.",
        },
        headers=headers,
    )
    assert done.status_code == 200, done.get_json()
    [restated] = restatements(db)
    assert restated.reason == "It was called off; logged as held by mistake."


def test_framework_archive_in_a_locked_year_is_confirmed(
    db, client, login_as, make_framework, locked_2024
):
    framework = make_framework(signed_on=date(2024, 6, 1))
    locked_2024()
    login_as(Role.OUTREACH, locale="en")
    url = f"/frameworks/{framework.id}/archive"
    page = client.post(url, data={"version": str(framework.version)})
    assert is_confirmation(page)
    db.session.refresh(framework)
    assert framework.archived_at is None
    done = confirm(client, url, page, reason="Entered twice.")
    assert done.status_code == 302
    db.session.refresh(framework)
    assert framework.archived_at is not None
    assert db.session.execute(select(Framework.id).where(Framework.id == framework.id)).first()
    [restated] = restatements(db)
    assert restated.reason == "Entered twice."


def test_cancelling_a_counted_engagement_of_a_locked_year_is_confirmed(
    db, client, login_as, make_engagement, locked_2024
):
    engagement = make_engagement(start_date=date(2024, 5, 5))
    locked_2024()
    login_as(Role.OUTREACH, locale="en")
    url = f"/engagements/{engagement.id}/cancel"
    page = client.post(url, data={"version": str(engagement.version)})
    assert is_confirmation(page)
    assert 'data-figure="engagements.held_in_period"' in page.text
    back = confirm(client, url, page, back=True)
    assert back.status_code == 302 and back.location.endswith(f"/engagements/{engagement.id}")
    db.session.refresh(engagement)
    assert engagement.status.value == "held"
    done = confirm(client, url, page, reason="Called off by the association.")
    assert done.status_code == 302
    db.session.refresh(engagement)
    assert engagement.status.value == "cancelled"
    assert restatements(db)[0].reason == "Called off by the association."
