"""Every screen of the app in a real browser: each list, record, form, month view,
report, import and admin page, opened by a user whose role may see it, in Arabic and
English, on a desktop and (for the lists, the record pages and the quick log) a phone.

A screenshot of each is saved to tests/browser/screenshots/<screen>-<lang>-<size>.png
for a person to look at: the checks below find what a machine can find (direction,
errors, requests elsewhere, sideways scrolling, the heading, raw codes), the eye the
rest (alignment, mirroring, truncation, untranslated words).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest

from tests.browser.conftest import (
    SIZES,
    LiveServer,
    Seeded,
    assert_page_ok,
    screenshot,
    visit,
)

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Screen:
    name: str
    endpoint: str
    role: str
    args: tuple[str, ...] = ()  # keys of Seeded.ids, the record the page shows
    query: str = ""  # may name Seeded.ids: "engagement_id={engagement_id}"
    phone: bool = False  # also checked at phone width
    name_arg: str | None = None  # the <name> of /exports/<name>

    def path(self, live_server: LiveServer, seeded: Seeded) -> str:
        from flask import url_for

        values: dict[str, Any] = {key: seeded.ids[key] for key in self.args}
        if self.name_arg:
            values["name"] = self.name_arg
        with live_server.app.test_request_context():
            path = url_for(self.endpoint, **values)
        return path + (f"?{self.query.format(**seeded.ids)}" if self.query else "")


SCREENS = [
    # home and account
    Screen("home-focal-point", "main.index", "focal_point", phone=True),
    Screen("home-viewer", "main.index", "viewer"),
    Screen("account", "auth.account", "outreach"),
    Screen("reauthenticate", "auth.reauthenticate", "focal_point"),
    # partners
    Screen("partners", "partners.index", "outreach", phone=True),
    Screen("partners-filtered", "partners.index", "outreach", query="type=syrian_cso&q=syr"),
    Screen("partners-needs-translation", "partners.needs_translation", "outreach"),
    Screen("partner", "partners.view", "outreach", ("partner_id",), phone=True),
    Screen("partner-viewer", "partners.view", "viewer", ("partner_id",)),
    Screen("partner-new", "partners.new", "outreach"),
    Screen("partner-edit", "partners.edit", "outreach", ("partner_id",)),
    Screen("contact-new", "partners.contact_new", "outreach", ("partner_id",)),
    Screen("contact-edit", "partners.contact_edit", "outreach", ("partner_id", "contact_id")),
    # cooperation frameworks
    Screen("frameworks", "frameworks.index", "outreach", phone=True),
    Screen("frameworks-filtered", "frameworks.index", "outreach", query="status=in_force"),
    Screen("framework-alerts", "frameworks.alerts", "outreach"),
    Screen("framework", "frameworks.view", "outreach", ("framework_id",)),
    Screen("framework-new", "frameworks.new", "outreach"),
    Screen("framework-edit", "frameworks.edit", "outreach", ("framework_id",)),
    Screen("framework-amend", "frameworks.amend", "outreach", ("framework_id",)),
    # engagements
    Screen("engagements", "engagements.index", "outreach", phone=True),
    Screen(
        "engagements-filtered", "engagements.index", "outreach", query="category=victims_survivors"
    ),
    Screen(
        "engagements-month", "engagements.calendar", "outreach", query="month=2024-05", phone=True
    ),
    Screen("engagements-incomplete", "engagements.incomplete", "outreach"),
    Screen("engagement", "engagements.view", "outreach", ("engagement_id",), phone=True),
    Screen("engagement-new", "engagements.new", "outreach"),
    Screen("engagement-edit", "engagements.edit", "outreach", ("engagement_id",)),
    Screen("quick-log", "engagements.quick", "outreach", phone=True),
    # follow-ups
    Screen("follow-ups", "followups.mine", "outreach", phone=True),
    Screen("follow-up-new", "followups.new", "outreach", query="engagement_id={engagement_id}"),
    Screen("follow-up-edit", "followups.edit", "outreach", ("follow_up_id",)),
    # people
    Screen("people", "people.index", "focal_point", phone=True),
    Screen("person", "people.view", "focal_point", ("person_id",), phone=True),
    Screen("person-new", "people.new", "focal_point"),
    Screen("person-edit", "people.edit", "focal_point", ("person_id",)),
    Screen("person-consent", "people.consent", "focal_point", ("person_id",)),
    Screen("person-override", "people.override", "focal_point", ("person_id",)),
    Screen("person-erase", "people.erase", "focal_point", ("person_id",)),
    Screen("person-identity", "people.identity", "focal_point", ("person_id",)),
    # reports
    Screen("report", "reports.index", "reporting", phone=True),
    Screen("report-2023", "reports.index", "reporting", query="year=2023"),
    Screen("report-periods", "reports.periods", "reporting"),
    Screen("report-print", "reports.printable", "reporting"),
    Screen(
        "report-records",
        "reports.records",
        "reporting",
        query="figure=engagements.headline&kind=year&year=2024",
    ),
    Screen("report-settings", "reports.settings", "reporting"),
    # imports and exports
    Screen("imports", "imports.index", "outreach"),
    Screen("export-partners", "imports.export", "outreach", name_arg="partners"),
    Screen(
        "export-engagements",
        "imports.export",
        "outreach",
        query="category=victims_survivors",
        name_arg="engagements",
    ),
    Screen("export-contacts", "imports.export", "focal_point", name_arg="contacts"),
    Screen(
        "export-report",
        "imports.export",
        "reporting",
        query="figure=cooperation_frameworks.headline&kind=year&year=2024",
        name_arg="report",
    ),
    # API tokens
    Screen("api-tokens", "api.tokens.mine", "outreach"),
    Screen("admin-api-tokens", "api.tokens.admin", "admin"),
    # administration
    Screen("admin-users", "admin.users", "admin", phone=True),
    Screen("admin-user-new", "admin.user_new", "admin"),
    Screen("admin-user-edit", "admin.user_edit", "admin", ("user_id",)),
]

PHONE_SHOT = 3 * SIZES["phone"][1]

# GET endpoints that are not screens, and why.
NOT_SCREENS = {
    "static": "files",
    "main.healthz": "a health check for the load balancer, not a page",
    "auth.login": "test_shell.py (both languages and sizes) and the journeys",
    "auth.setup": "only while no account exists; the seeded database has accounts",
    "frameworks.document_download": "a file download",
    "imports.job": "the import journey uploads a file to reach it",
    "imports.status": "JSON polled by the progress page",
    "imports.template": "a file download",
    "api.openapi": "the API's description, JSON",
}

CASES = [
    pytest.param(screen, lang, size, id=f"{screen.name}-{lang}-{size}")
    for screen in SCREENS
    for size in (("desktop", "phone") if screen.phone else ("desktop",))
    for lang in ("ar", "en")
]

# A code as the database holds it (victims_association, in_force...), shown where a
# label belongs.
RAW_CODE = re.compile(r"\b[a-z]{2,}_[a-z][a-z_]*\b")
EMAIL = re.compile(r"\S+@\S+")  # may hold underscores; a <select>'s options name people so
# The words of the page's main part, without what is marked as a code or written
# left to right on purpose (e-mails, references, `<span class="code" dir="ltr">`).
WORDS_JS = """() => {
    const walker = document.createTreeWalker(document.querySelector("main"), NodeFilter.SHOW_TEXT);
    const words = [];
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        if (!node.parentElement.closest('[dir="ltr"], .code')) words.push(node.textContent);
    }
    return words.join(" ");
}"""


def test_every_page_of_the_app_is_a_screen_here(live_server: LiveServer) -> None:
    from crm.security import access_rule

    with live_server.app.app_context():
        endpoints = {
            rule.endpoint
            for rule in live_server.app.url_map.iter_rules()
            if "GET" in (rule.methods or ())
            # The JSON API (bearer tokens) has its own tests, and no screens.
            and getattr(access_rule(rule.endpoint), "kind", None) != "token"
        }
    covered = {screen.endpoint for screen in SCREENS} | set(NOT_SCREENS)
    assert endpoints - covered == set(), "GET pages no screen test opens"
    assert covered - endpoints == set(), "screens of pages that no longer exist"


@pytest.mark.parametrize(("screen", "lang", "size"), CASES)
def test_screen(
    signed_in_page: Any,
    live_server: LiveServer,
    seeded: Seeded,
    screen: Screen,
    lang: str,
    size: str,
) -> None:
    page = signed_in_page(screen.role, lang, size)
    visit(page, screen.path(live_server, seeded))
    # First, so that what failed can be looked at; three screens' worth on a phone.
    screenshot(
        page, f"{screen.name}-{lang}-{size}", max_height=PHONE_SHOT if size == "phone" else None
    )

    assert_page_ok(page, lang)
    assert page.locator("main h1").first.is_visible(), "the page has no visible main heading"
    # Against the screen's width, not innerWidth: a phone widens its layout viewport
    # to fit a page too wide for it, and innerWidth with it.
    overflow = page.evaluate("document.documentElement.scrollWidth") - SIZES[size][0]
    assert overflow <= 1, f"the page is {overflow}px wider than the screen"
    codes = RAW_CODE.findall(EMAIL.sub("", page.evaluate(WORDS_JS)))
    assert not codes, f"codes shown instead of labels: {codes}"
