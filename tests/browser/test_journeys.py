"""What people do with the app, in a real browser: signing in, recording a partner in
Arabic, correcting a form, logging an engagement on a phone with Arabic-Indic digits,
switching language, reading the report's charts, checking an import."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import (
    PASSWORD,
    SIZES,
    LiveServer,
    Seeded,
    assert_page_ok,
    screenshot,
    visit,
)

pytestmark = pytest.mark.browser

ARABIC = re.compile(r"[\u0621-\u064a]")
LATIN = re.compile(r"[A-Za-z]")


def submit(page: Any, form: str = "main form[method=post]") -> None:
    """Press the form's main button and wait for the page it leads to."""
    with page.expect_navigation(wait_until="load"):
        page.locator(f"{form} .form-actions [type=submit]").first.click()


def assert_arabic(text: str) -> None:
    assert ARABIC.search(text) and not LATIN.search(text), f"not in Arabic: {text!r}"


def test_signing_in_after_a_wrong_password(browser_page: Any, seeded: Seeded) -> None:
    user = seeded.users[("viewer", "ar")]
    page = browser_page("ar", "desktop")
    visit(page, "/login")
    page.fill("input[name=email]", user.email)
    page.fill("input[name=password]", "not-the-password")
    with page.expect_navigation(wait_until="load"):
        page.locator("main form[method=post] [type=submit]").first.click()

    assert "/login" in page.url
    summary = page.locator(".error-summary")
    assert summary.is_visible()
    assert_arabic(summary.inner_text())
    assert page.input_value("input[name=email]") == user.email  # kept
    assert page.input_value("input[name=password]") == ""  # never sent back

    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation(wait_until="load"):
        page.locator("main form[method=post] [type=submit]").first.click()

    assert "/login" not in page.url
    assert_page_ok(page, "ar")
    assert page.locator(".user-menu__name bdi").inner_text() == user.name
    screenshot(page, "journey-signed-in-ar-desktop")


def test_a_partner_recorded_in_arabic(signed_in_page: Any, live_server: LiveServer) -> None:
    page = signed_in_page("outreach", "ar")
    visit(page, "/partners/")
    with page.expect_navigation(wait_until="load"):
        page.locator("main a[href$='/partners/new']").first.click()

    page.fill("input[name=name_ar]", "رابطة عائلات قيصر")
    page.fill("input[name=acronym]", "رعق")
    page.select_option("select[name=type]", "victims_association")
    page.select_option("select[name=country]", "DE")
    page.fill("input[name=city]", "برلين")
    page.check("input[name=victim_groups][value=missing_disappeared]")
    submit(page)

    assert re.search(r"/partners/\d+$", page.url), page.url
    assert_page_ok(page, "ar")
    assert page.locator("main h1").inner_text().startswith("رابطة عائلات قيصر")
    details = page.locator("main").inner_text()
    assert "برلين" in details and "ألمانيا" in details
    screenshot(page, "journey-partner-created-ar-desktop")


def test_a_form_with_a_problem_says_so_at_the_top_and_next_to_the_field(
    signed_in_page: Any,
) -> None:
    page = signed_in_page("outreach", "ar")
    visit(page, "/partners/new")
    page.fill("input[name=name_ar]", "منتدى الذاكرة السورية")
    page.fill("input[name=city]", "غازي عنتاب")
    submit(page)  # the type is missing

    assert page.url.endswith("/partners/new")
    assert_page_ok(page, "ar")
    summary = page.locator(".error-summary")
    assert summary.is_visible()
    # The summary comes first in the form, and takes the focus so it is read out.
    assert page.evaluate(
        "document.querySelector('main form[method=post] .error-summary') !== null"
        " && document.activeElement.classList.contains('error-summary')"
    )
    link = summary.locator("a[href='#type']")
    assert_arabic(link.inner_text())
    message = page.locator("#type-error")
    assert message.is_visible()
    assert_arabic(message.inner_text())
    # The same words ("Label: message" in the summary).
    assert link.inner_text().split(": ", 1)[1] in message.inner_text()
    # The rest of what was typed is still there.
    assert page.input_value("input[name=name_ar]") == "منتدى الذاكرة السورية"
    assert page.input_value("input[name=city]") == "غازي عنتاب"
    screenshot(page, "journey-form-error-ar-desktop")

    link.click()
    assert page.evaluate("document.activeElement.id") == "type"
    page.select_option("select[name=type]", "syrian_cso")
    submit(page)
    # (The browser carries the "#type" of the link over the redirect.)
    assert re.search(r"/partners/\d+(#type)?$", page.url), page.url
    assert page.locator(".flash--success").is_visible()


def test_quick_log_on_a_phone_in_arabic_digits(
    signed_in_page: Any, live_server: LiveServer
) -> None:
    page = signed_in_page("outreach", "ar", "phone")
    visit(page, "/engagements/quick")
    assert page.evaluate("document.documentElement.scrollWidth") <= SIZES["phone"][0]

    page.fill("input[name=title_ar]", "جلسة استماع مع عائلات المفقودين في عمّان")
    page.select_option("select[name=type]", "consultation")
    page.locator("label[for=format-1]").tap()  # online: a tap on the label
    page.fill("input[name=women]", "١٢")
    page.fill("input[name=men]", "٧")
    page.fill("input[name=unspecified]", "٠")
    page.fill("input[name=under_18]", "٣")
    screenshot(page, "journey-quick-log-filled-ar-phone")
    with page.expect_navigation(wait_until="load"):
        page.locator("main form[method=post] .form-actions [type=submit]").tap()

    match = re.search(r"/engagements/(\d+)$", page.url)
    assert match, page.url
    assert_page_ok(page, "ar")
    participants = page.locator("#participants").inner_text()
    assert "12" in participants and "19" in participants  # women and the total
    from crm.engagements.models import Engagement
    from crm.extensions import db

    with live_server.app.app_context():
        saved = db.session.get(Engagement, int(match.group(1)))
        assert (saved.women, saved.men, saved.unspecified, saved.under_18) == (12, 7, 0, 3)
        assert saved.format.value == "online"
    screenshot(page, "journey-quick-log-saved-ar-phone")


def test_switching_language_keeps_the_page(
    signed_in_page: Any, live_server: LiveServer, seeded: Seeded
) -> None:
    page = signed_in_page("viewer", "ar")
    path = f"/partners/{seeded.ids['partner_id']}"
    visit(page, path)
    assert_page_ok(page, "ar")
    arabic_title = page.locator("main h1").inner_text()

    with page.expect_navigation(wait_until="load"):
        page.locator("header form.lang-switch button[value=en]").click()

    assert page.url == live_server.url + path
    assert_page_ok(page, "en")
    assert page.locator("main h1").inner_text() != arabic_title
    assert page.locator("nav.main-nav a[aria-current=page]").inner_text().strip() == "Partners"

    with page.expect_navigation(wait_until="load"):
        page.locator("header form.lang-switch button[value=ar]").click()
    assert page.url == live_server.url + path
    assert_page_ok(page, "ar")


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_the_report_draws_its_figures_as_charts(signed_in_page: Any, lang: str) -> None:
    page = signed_in_page("reporting", lang)
    visit(page, "/reports/?kind=year&year=2024")
    assert_page_ok(page, lang)

    charts = page.locator("main svg[role=img]")
    assert charts.count() >= 3
    for i in range(charts.count()):
        chart = charts.nth(i)
        box = chart.bounding_box()
        assert box and box["width"] > 100 and box["height"] > 50, box
        # Each chart is named for a screen reader, in the page's language.
        title = chart.locator("title").first.text_content()
        assert (ARABIC if lang == "ar" else LATIN).search(title), title
        assert chart.locator("rect").count() >= 2
    screenshot(page, f"journey-report-charts-{lang}-desktop")


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_an_import_is_checked_before_anything_is_written(
    signed_in_page: Any, tmp_path: Any, lang: str
) -> None:
    upload = tmp_path / "partners.csv"
    upload.write_text(
        "ref,name_en,name_ar,type,country\r\n"
        ",Caesar Families Association,رابطة عائلات قيصر الثانية,victims_association,DE\r\n"
        ",,,no_such_type,XX\r\n",
        encoding="utf-8",
    )
    page = signed_in_page("outreach", lang)
    visit(page, "/imports/")
    page.select_option("select[name=kind]", "partners")
    page.set_input_files("input[type=file]", str(upload))
    submit(page)
    # A progress page polls until the file is checked, then shows the preview.
    page.wait_for_url(re.compile(r"/imports/[\w-]+$"))
    page.locator(".import-preview").wait_for()

    assert_page_ok(page, lang)
    assert page.locator("main h1").is_visible()
    problems = page.locator(".import-preview .cell--error")
    assert problems.count() >= 1
    text = page.locator("main").inner_text()
    assert (ARABIC if lang == "ar" else LATIN).search(text)
    screenshot(page, f"journey-import-preview-{lang}-desktop")
