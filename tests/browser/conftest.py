"""Browser tests: the app served on a free local port, driven by Debian's Chromium
through Playwright (its own browser download is not used: it cannot run here).

Reuse these for the screens of your area:

    @pytest.mark.browser
    def test_partner_list(logged_in_page, live_server):
        page = logged_in_page("outreach", "ar", "phone")
        visit(page, "/partners/")
        assert_page_ok(page, "ar")
        screenshot(page, "partners-list-ar-phone")

`logged_in_page(role, lang, size)` signs a new user of that role in through the
sign-in form; `browser_page(lang, size)` is a page nobody signed in on.
`signed_in_page(role, lang, size)` is a page of the seeded database (`seeded`: the
`crm demo` history and one record of each kind, `seeded.ids`), in a context of that
role's seeded user kept for the session, faster when many pages are opened. Sizes are
the keys of SIZES. `assert_page_ok` checks `<html lang dir>`, that nothing was
logged as an error in the console or thrown by a script, and that no request
left the app's origin.

Without /usr/bin/chromium the tests are skipped (`apt-get install chromium`),
unless CRM_REQUIRE_BROWSER=1, as in CI, where they fail.
"""

from __future__ import annotations

import itertools
import os
import threading
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SIZES = {"desktop": (1280, 800), "phone": (390, 844)}
BROWSER_LOCALES = {"ar": "ar-SY", "en": "en-GB"}
DIRECTIONS = {"ar": "rtl", "en": "ltr"}
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
PASSWORD = "Tulip-harbour-4817-quietly"

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/browser/ carries the `browser` marker."""
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)


# --- the server ---------------------------------------------------------------------


@dataclass
class LiveServer:
    url: str
    app: Any
    _emails: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def create_user(self, role: str, *, lang: str = "ar", name: str | None = None) -> Any:
        """A new active account, made through the app's own user service."""
        from crm.auth.services import create_user
        from crm.extensions import db

        number = next(self._emails)
        with self.app.app_context():
            user = create_user(
                {
                    "email": f"{role}.{number}@example.org",
                    "name": name or f"{role.replace('_', ' ').title()} {number}",
                    "role": role,
                    "locale": lang,
                    "password": PASSWORD,
                },
                actor=None,
            )
            db.session.commit()
            return user


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The app on a temporary SQLite file, served by werkzeug on 127.0.0.1:<free port>."""
    from werkzeug.serving import WSGIRequestHandler, make_server

    class QuietHandler(WSGIRequestHandler):
        def log_request(self, *args: Any, **kwargs: Any) -> None:
            pass  # one line per request would bury a failure's own output

    from crm import create_app
    from crm.crypto import new_key_string

    instance = tmp_path_factory.mktemp("browser-instance")
    with pytest.MonkeyPatch.context() as mp:
        # The instance folder is chosen from the environment when the app is built.
        mp.setenv("CRM_INSTANCE_PATH", str(instance))
        app = create_app(
            {
                "TESTING": True,
                "INSTANCE_PATH": str(instance),
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'browser.sqlite'}",
                "SECRET_KEY": "browser-tests-" + "x" * 40,
                "DATA_KEY": new_key_string(),
            }
        )
    with app.app_context(), warnings.catch_warnings():
        # Flask-Migrate's stock env.py asks for the deprecated get_engine() first.
        warnings.filterwarnings("ignore", "'get_engine' is deprecated", DeprecationWarning)
        from crm.cli import upgrade_schema

        upgrade_schema()  # what `crm serve` does on start

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", app)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            from crm.extensions import db

            db.engine.dispose()


@pytest.fixture(autouse=True)
def db() -> None:
    """Replaces the suite's autouse `db` fixture here. That one swaps the shared
    `db.session` for a session on the suite's own database, rolled back after each
    test: the live server's threads would read and write there, not in their SQLite
    file, and what a session-scoped fixture seeds would vanish after the first test."""


# --- the browser --------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        if os.environ.get("CRM_REQUIRE_BROWSER") == "1":
            pytest.fail("Chromium not installed (CRM_REQUIRE_BROWSER=1): apt-get install chromium")
        pytest.skip("Chromium not installed: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Watch:
    """What a page did that it should not have."""

    origin: str
    errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)

    def on_console(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append(f"console error: {message.text} ({message.location})")

    def on_page_error(self, error: Any) -> None:
        self.errors.append(f"uncaught script error: {error}")

    def on_request(self, request: Any) -> None:
        url = request.url
        if url.startswith(("data:", "about:", "blob:")):
            return
        if url == self.origin or url.startswith(self.origin + "/"):
            return
        self.foreign_requests.append(url)


_WATCHES: dict[int, Watch] = {}


def _watch(page: Any) -> Watch:
    try:
        return _WATCHES[id(page)]
    except KeyError:
        raise AssertionError("this page was not made by browser_page/logged_in_page") from None


def new_context(chromium: Any, lang: str, size: str) -> Any:
    """A browser context whose Accept-Language asks for `lang`, at a SIZES size."""
    width, height = SIZES[size]
    phone = size == "phone"
    context = chromium.new_context(
        viewport={"width": width, "height": height},
        locale=BROWSER_LOCALES[lang],
        is_mobile=phone,
        has_touch=phone,
        device_scale_factor=2 if phone else 1,
    )
    context.set_default_timeout(10_000)
    return context


def watched_page(context: Any, origin: str) -> Any:
    """A new page of `context`, watched for errors and requests to other origins."""
    page = context.new_page()
    watch = Watch(origin)
    page.on("console", watch.on_console)
    page.on("pageerror", watch.on_page_error)
    page.on("request", watch.on_request)
    _WATCHES[id(page)] = watch
    return page


@pytest.fixture
def browser_page(chromium: Any, live_server: LiveServer) -> Iterator[Callable[..., Any]]:
    """browser_page(lang="ar", size="desktop"): a new page in a new browser context
    whose Accept-Language asks for `lang`, watched for errors and foreign requests."""
    contexts: list[Any] = []

    def make(lang: str = "ar", size: str = "desktop") -> Any:
        context = new_context(chromium, lang, size)
        contexts.append(context)
        return watched_page(context, live_server.url)

    yield make
    for context in contexts:
        for page in context.pages:
            _WATCHES.pop(id(page), None)
        context.close()


@pytest.fixture
def logged_in_page(browser_page: Callable[..., Any], live_server: LiveServer) -> Callable[..., Any]:
    """logged_in_page(role, lang="ar", size="desktop"): a page signed in as a new
    user of `role` whose saved language is `lang`, on the home page."""

    def make(role: str, lang: str = "ar", size: str = "desktop") -> Any:
        user = live_server.create_user(role, lang=lang)
        page = browser_page(lang, size)
        sign_in(page, user.email, PASSWORD)
        page.crm_user = user
        return page

    return make


# --- seeded records and signed-in pages -----------------------------------------------

ROLES = ("admin", "outreach", "focal_point", "reporting", "viewer")
# The people signed in through these tests; Arabic readers get Arabic names, so a page
# shows what it will show them.
NAMES = {
    "ar": {
        "admin": "هالة المدير",
        "outreach": "ريم الخطيب",
        "focal_point": "سامر العلي",
        "reporting": "نور الحلبي",
        "viewer": "عمر الشامي",
    },
    "en": {
        "admin": "Hala Admin",
        "outreach": "Rim Khatib",
        "focal_point": "Samer Ali",
        "reporting": "Nour Halabi",
        "viewer": "Omar Shami",
    },
}


@dataclass
class Seeded:
    """What the seeded database holds: one record of each kind to open (``ids``) and
    the signed-in users, one per role and language (``users[(role, lang)]``)."""

    ids: dict[str, Any]
    users: dict[tuple[str, str], Any]


@pytest.fixture(scope="session")
def seeded(live_server: LiveServer) -> Seeded:
    """The demonstration history of `crm demo` (partners, frameworks, engagements,
    people, follow-ups and reports since 2018, all made through the areas' services),
    plus what it lacks: a contact person, a person with an identity who refused to be
    contacted, follow-ups assigned to the signed-in users, and those users."""
    from datetime import date, timedelta

    from sqlalchemy import func, select
    from sqlalchemy.orm import aliased

    from crm import demo
    from crm.api.services import create_token
    from crm.auth.models import User
    from crm.engagements.models import Engagement, EngagementPerson
    from crm.extensions import db
    from crm.followups.services import create_follow_up
    from crm.frameworks.models import Framework, FrameworkPartner
    from crm.partners.models import Partner
    from crm.partners.services import create_contact
    from crm.people.services import create_person, record_consent

    users = {
        (role, lang): live_server.create_user(role, lang=lang, name=NAMES[lang][role])
        for lang in ("ar", "en")
        for role in ROLES
    }
    with live_server.app.app_context():
        demo.build()
        actor = db.session.execute(select(User).where(User.email == demo.DEMO_EMAIL)).scalar_one()
        # The most linked records make the fullest record pages.
        amended = aliased(Framework)
        framework = db.session.execute(
            select(Framework)
            .join(amended, amended.amends_id == Framework.id)
            .where(Framework.archived_at.is_(None))
            .group_by(Framework.id)
            .order_by(func.count().desc(), Framework.id)
            .limit(1)
        ).scalar_one()
        partner = db.session.execute(
            select(Partner)
            .join(FrameworkPartner, FrameworkPartner.partner_id == Partner.id)
            .where(Partner.confidential.is_(False), Partner.archived_at.is_(None))
            .group_by(Partner.id)
            .order_by(func.count().desc(), Partner.id)
            .limit(1)
        ).scalar_one()
        engagement_id = db.session.execute(
            select(EngagementPerson.engagement_id)
            .group_by(EngagementPerson.engagement_id)
            .order_by(func.count().desc(), EngagementPerson.engagement_id)
            .limit(1)
        ).scalar_one()
        engagement = db.session.get(Engagement, engagement_id)
        contact = create_contact(
            partner,
            {
                "name_ar": "ليلى حداد",
                "name_en": "Layla Haddad",
                "role": "Coordinator",
                "email": "layla.haddad@example.org",
                "phone": "+49 30 1234567",
            },
            actor=actor,
        )
        person = create_person(
            {
                "sex": "female",
                "age_band": "30_44",
                "governorate_of_origin": "homs",
                "current_country": "DE",
                "victim_groups": ["missing_disappeared"],
                "name_ar": "سلمى الحورانية",
                "name_en": "Salma Hourani",
                "phone": "+49 30 7654321",
                "consent_on": date(2024, 2, 1),
                "consent_method": "written",
                "consent_language": "ar",
            },
            actor=actor,
        )
        record_consent(
            person,
            {
                "scope": "contact",
                "granted": False,
                "on": date(2024, 5, 1),
                "method": "oral",
                "language": "ar",
            },
            actor=actor,
        )
        today = date.today()
        follow_ups = []
        for lang in ("ar", "en"):
            for subject, title, days in (
                ({"engagement_id": engagement.id}, "إرسال محضر الاجتماع إلى الرابطة", -3),
                ({"framework_id": framework.id}, "Prepare the renewal of the memorandum", 0),
                ({"partner_id": partner.id}, "الاتصال بالشريك لتحديد موعد الزيارة", 12),
            ):
                follow_ups.append(
                    create_follow_up(
                        {
                            **subject,
                            "title": title,
                            "due_on": today + timedelta(days=days),
                            "assignee_id": users[("outreach", lang)].id,
                        },
                        actor=actor,
                    )
                )
        for lang in ("ar", "en"):
            create_token(
                db.session.get(User, users[("outreach", lang)].id),
                {"name": "Reporting spreadsheet", "scope": "read"},
                actor=db.session.get(User, users[("admin", lang)].id),
            )
        db.session.commit()
        ids = {
            "partner_id": partner.id,
            "contact_id": contact.id,
            "framework_id": framework.id,
            "engagement_id": engagement.id,
            "person_id": person.id,
            "follow_up_id": follow_ups[0].id,
            "user_id": actor.id,
        }
    return Seeded(ids, users)


@pytest.fixture(scope="session")
def signed_in_contexts(chromium: Any) -> Iterator[dict[tuple[str, str, str], Any]]:
    """The browser contexts of the seeded users, one per (role, lang, size), kept for
    the whole session: each signs in once, then every test opens a page in it."""
    contexts: dict[tuple[str, str, str], Any] = {}
    yield contexts
    for context in contexts.values():
        context.close()


@pytest.fixture
def signed_in_page(
    chromium: Any,
    live_server: LiveServer,
    seeded: Seeded,
    signed_in_contexts: dict[tuple[str, str, str], Any],
) -> Iterator[Callable[..., Any]]:
    """signed_in_page(role, lang="ar", size="desktop"): a new page of the seeded user
    of that role and language (who signed in through the form in this context)."""
    pages: list[Any] = []

    def make(role: str, lang: str = "ar", size: str = "desktop") -> Any:
        user = seeded.users[(role, lang)]
        context = signed_in_contexts.get((role, lang, size))
        if context is None:
            context = new_context(chromium, lang, size)
            first = watched_page(context, live_server.url)
            sign_in(first, user.email, PASSWORD)
            _WATCHES.pop(id(first), None)
            first.close()
            signed_in_contexts[(role, lang, size)] = context
        page = watched_page(context, live_server.url)
        page.crm_user = user
        pages.append(page)
        return page

    yield make
    for page in pages:
        _WATCHES.pop(id(page), None)
        page.close()


# --- helpers for tests --------------------------------------------------------------


def origin_of(page: Any) -> str:
    return _watch(page).origin


def visit(page: Any, path: str, *, status: int = 200) -> Any:
    """Open `path` of the live server and check the answer's status."""
    response = page.goto(origin_of(page) + path, wait_until="load")
    assert response is not None, f"no response for {path}"
    assert response.status == status, f"{path} answered {response.status}, expected {status}"
    return response


def sign_in(page: Any, email: str, password: str) -> None:
    """Sign in through the sign-in form, as a person would."""
    visit(page, "/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    with page.expect_navigation(wait_until="load"):
        page.locator("main form[method=post] [type=submit]").first.click()
    assert "/login" not in page.url, f"sign-in failed, still on {page.url}"


def assert_page_ok(page: Any, lang: str) -> None:
    """The page is in `lang` with its direction, and nothing went wrong in it."""
    html = page.locator("html")
    assert html.get_attribute("lang") == lang
    assert html.get_attribute("dir") == DIRECTIONS[lang]
    watch = _watch(page)
    assert not watch.errors, "errors in the page:\n" + "\n".join(watch.errors)
    assert not watch.foreign_requests, "requests to another origin:\n" + "\n".join(
        watch.foreign_requests
    )


def text_side(page: Any, selector: str) -> str:
    """Which side of its box the text of the first `selector` starts from:
    "right" in a right-to-left page, "left" in a left-to-right one."""
    box = page.locator(selector).first.evaluate(
        """element => {
            const range = document.createRange();
            range.selectNodeContents(element);
            const text = range.getBoundingClientRect();
            const own = element.getBoundingClientRect();
            return {gapLeft: text.left - own.left, gapRight: own.right - text.right};
        }"""
    )
    return "right" if box["gapRight"] < box["gapLeft"] else "left"


def screenshot(page: Any, name: str, *, max_height: int | None = None) -> Path:
    """Save a full-page screenshot to tests/browser/screenshots/<name>.png; with
    `max_height` (CSS pixels), only the top of a longer page (a long list on a phone
    takes a second to capture whole, and its first screens show its layout)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    options: dict[str, Any] = {"path": str(path), "full_page": True}
    if max_height and page.evaluate("document.documentElement.scrollHeight") > max_height:
        width = page.viewport_size["width"]
        options["clip"] = {"x": 0, "y": 0, "width": width, "height": max_height}
    page.screenshot(**options)
    return path
