"""The confirmation step in a real browser: a save that moves a published figure
shows which figure goes from what to what, asks why, and records it."""

from __future__ import annotations

from datetime import date

import pytest

from tests.browser.conftest import assert_page_ok, screenshot, visit

pytestmark = pytest.mark.browser


@pytest.fixture
def locked_1995(live_server):
    """A framework signed in 1995 and the year 1995 locked (no other record is that
    old, so other browser tests never meet this lock); unlocked afterwards."""
    from crm.extensions import db
    from crm.frameworks.services import create_framework
    from crm.partners.services import create_partner
    from crm.reports import services
    from crm.reports.counting import Period

    officer = live_server.create_user("admin", lang="en")
    with live_server.app.test_request_context():
        actor = db.session.merge(officer)
        partner = create_partner({"name_en": "Old Partner", "type": "syrian_cso"}, actor=actor)
        framework = create_framework(
            {
                "title_en": "Memorandum of 1995",
                "title_ar": "مذكرة عام 1995",
                "instrument": "mou",
                "status": "in_force",
                "partner_ids": [partner.id],
                "signed_on": date(1995, 5, 5),
            },
            actor=actor,
        )
        period = services.lock_period(Period.year(1995), actor=None, name="Report 1995")
        db.session.commit()
        ids = (framework.id, period.id)
    yield ids
    with live_server.app.test_request_context():
        from crm.reports.models import ReportingPeriod

        period = db.session.get(ReportingPeriod, ids[1])
        if period.is_locked:
            services.unlock_period(period, actor=None, reason="End of the browser test.")
        db.session.commit()


def test_moving_a_published_figure_is_confirmed_with_a_reason(logged_in_page, locked_1995):
    framework_id, _period_id = locked_1995
    page = logged_in_page("outreach", "ar")
    visit(page, f"/frameworks/{framework_id}/edit")
    page.fill("#signed_on", "1996-01-10")
    assert page.locator("#signed_on-words").inner_text() == "10 كانون الثاني 1996"
    with page.expect_navigation(wait_until="load"):
        page.locator("main form .form-actions [type=submit]").first.click()
    assert page.locator("#confirm-save").count() == 1
    text = page.locator("main").inner_text()
    assert "5 أيار 1995" in text and "10 كانون الثاني 1996" in text
    assert "Report 1995" in text
    assert_page_ok(page, "ar")
    screenshot(page, "confirm-save-ar")
    page.fill("#restatement_reason", "تاريخ التوقيع في النسخة الموقّعة هو 10 كانون الثاني 1996.")
    with page.expect_navigation(wait_until="load"):
        page.locator("#confirm-save button[name=_confirm]").click()
    assert f"/frameworks/{framework_id}" in page.url
    visit(page, "/reports/?kind=year&year=1995")
    section = page.locator("#recorded-restatements").inner_text()
    assert "تاريخ التوقيع في النسخة الموقّعة" in section
    assert_page_ok(page, "ar")
