"""Every payload of the corpus, saved into every free-text field through the
services, stays text on every page that shows it, in English and in Arabic: no
element, attribute or script of its own, no template evaluated, and text with
bidirectional controls isolated from the interface around it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from tests.security import dom
from tests.security.conftest import TODAY, World, use

LANGUAGES = ("en", "ar")


class Walk:
    """Visits pages and collects every problem, so one run shows them all."""

    def __init__(self, client: Any, language: str) -> None:
        self.client = client
        self.language = language
        self.failures: list[str] = []
        self.visited = 0

    def check(
        self,
        url: str,
        expect: Iterable[str] = (),
        *,
        data: Any = None,
        status: int | tuple[int, ...] = 200,
    ) -> dom.Page | None:
        response = self.client.post(url, data=data) if data is not None else self.client.get(url)
        self.visited += 1
        where = f"[{self.language}] {'POST ' if data is not None else ''}{url}"
        allowed = status if isinstance(status, tuple) else (status,)
        if response.status_code not in allowed:
            self.failures.append(f"{where}: status {response.status_code}")
            return None
        html = response.get_data(as_text=True)
        page = dom.parse(html)
        for problem in dict.fromkeys(dom.problems(html, page=page)):
            self.failures.append(f"{where}: {dom.visible_bidi(problem)}")
        for text in expect:
            if not page.shows(text):
                self.failures.append(f"{where}: does not show {dom.visible_bidi(text)!r}")
        direction = "rtl" if self.language == "ar" else "ltr"
        if not page.find_all("html", lang=self.language, dir=direction):
            self.failures.append(f"{where}: not an {self.language} page ({direction})")
        return page

    def done(self) -> None:
        assert not self.failures, f"{len(self.failures)} problems:\n" + "\n".join(self.failures)


def texts(world: World, kind: str, records: Iterable[Any]) -> list[str]:
    return [t for r in records for t in world.shown(kind, r)]


# --- lists, dashboard, search, calendar, alerts, administration, report --------------


def test_lists_dashboard_search_and_administration_show_hostile_text_as_text(client, world, app):
    from crm.partners.services import archive_partner
    from crm.reports.counting import ENGAGEMENTS, FRAMEWORKS, Period
    from crm.reports.views import records_url

    period = Period(TODAY - timedelta(days=400), TODAY + timedelta(days=1))
    with app.test_request_context():
        report = {
            "framework": records_url(f"{FRAMEWORKS}.concluded_to_date", period),
            "engagement": records_url(f"{ENGAGEMENTS}.held_in_period", period),
            "person": records_url(f"{ENGAGEMENTS}.unique_people", period),
        }
    all_partners = world.partners + world.acronym_partners + world.untranslated
    for language in LANGUAGES:
        use(client, world.viewer, language)
        walk = Walk(client, language)
        walk.check("/partners/", texts(world, "partner", all_partners))
        walk.check("/partners/?q=alert", texts(world, "partner", world.partners[:1]))
        walk.check("/partners/?q=" + "شريك", [])
        walk.check("/partners/needs-translation", texts(world, "partner", world.untranslated))
        walk.check("/frameworks/", texts(world, "framework", world.frameworks))
        walk.check("/frameworks/?q=alert", texts(world, "framework", world.frameworks[:1]))
        walk.check("/frameworks/alerts", texts(world, "framework", world.frameworks))
        walk.check("/engagements/", texts(world, "engagement", world.engagements))
        walk.check("/engagements/?q=alert", texts(world, "engagement", world.engagements[:1]))
        walk.check("/engagements/incomplete", texts(world, "engagement", world.engagements[1::2]))
        walk.check(
            f"/engagements/calendar?month={TODAY:%Y-%m}",
            # a day shows its first few engagements
            texts(world, "engagement", world.engagements[:2]),
        )
        walk.check("/follow-ups/", texts(world, "follow_up", world.follow_ups))
        walk.check("/people/", [])
        walk.check("/", texts(world, "follow_up", world.follow_ups[:1]))
        walk.check("/account", [world.viewer.name])
        walk.check("/account/api-tokens", texts(world, "token", world.tokens))
        walk.check("/reports/", [])
        walk.check("/reports/periods", texts(world, "period", world.periods))
        walk.check("/reports/print", [])
        walk.check(report["framework"], texts(world, "framework", world.frameworks))
        walk.check(report["engagement"], texts(world, "engagement", world.engagements[::2]))
        walk.check(report["person"], [])
        walk.done()

    # The administrator: accounts, every token, and the archived records.
    archive_partner(world.partners[-1], actor=world.admin)
    archived = world.shown("partner", world.partners[-1])
    for language in LANGUAGES:
        use(client, world.admin, language)
        walk = Walk(client, language)
        walk.check("/admin/users", [u.name for u in world.staff])
        for user in world.staff:
            walk.check(f"/admin/users/{user.id}", [user.name])
        walk.check("/admin/users/new", [])
        walk.check("/admin/api-tokens", [*texts(world, "token", world.tokens), world.viewer.name])
        walk.check("/partners/?archived=1", archived)
        walk.check(f"/partners/{world.partners[-1].id}", archived)
        walk.done()


# --- record pages and new-record forms -----------------------------------------------


def test_record_pages_show_hostile_text_as_text(client, world):
    for language in LANGUAGES:
        use(client, world.viewer, language)
        walk = Walk(client, language)
        for partner, contact in zip(world.partners, world.contacts, strict=True):
            shown = world.shown("partner", partner) + world.shown("contact", contact)
            walk.check(f"/partners/{partner.id}", shown)
        for partner in world.acronym_partners:
            walk.check(f"/partners/{partner.id}", world.shown("partner", partner))
        walk.check(f"/partners/{world.partners[0].id}/contacts/new", [])
        walk.check("/partners/new", [])
        for framework in world.frameworks:
            shown = world.shown("framework", framework)
            walk.check(f"/frameworks/{framework.id}", shown)
            walk.check(f"/frameworks/{framework.id}/amend", shown)
        walk.check("/frameworks/new", [])
        for engagement in world.engagements:
            walk.check(f"/engagements/{engagement.id}", world.shown("engagement", engagement))
        walk.check("/engagements/new", [])
        walk.check("/engagements/quick", [])
        walk.check(f"/follow-ups/new?engagement={world.engagements[0].id}", [])
        for person in world.people:
            walk.check(f"/people/{person.id}", [])
            walk.check(f"/people/{person.id}/consent", [])
            walk.check(f"/people/{person.id}/erase", [])
            walk.check(f"/people/{person.id}/identity", [])
        walk.check("/people/new", [])
        walk.done()


# --- edit forms and conflict pages ---------------------------------------------------


def _edit_then_conflict(
    walk: Walk, edit_url: str, colleague_saves: Callable[[], Any], expect: list[str]
) -> None:
    """Open the edit form (checked), let a colleague save first, then send the form
    as it was: the conflict page (checked) shows both versions."""
    page = walk.check(edit_url, expect)
    if page is None:
        return
    form = dom.form_with(page.html, "version")
    colleague_saves()
    from crm.extensions import db

    db.session.flush()
    action = form["attrs"].get("action") or edit_url
    walk.check(action, expect, data=dom.as_multidict(form["fields"]), status=(200, 409))


def test_edit_forms_and_conflict_pages_show_hostile_text_as_text(client, world):
    from crm.engagements.services import update_engagement
    from crm.followups.services import update_follow_up
    from crm.frameworks.services import update_framework
    from crm.partners.services import update_contact, update_partner
    from crm.people.services import update_person

    admin = world.admin
    for language in LANGUAGES:
        use(client, world.viewer, language)
        walk = Walk(client, language)
        for partner, contact in zip(world.partners, world.contacts, strict=True):
            _edit_then_conflict(
                walk,
                f"/partners/{partner.id}/edit",
                lambda p=partner: update_partner(p, {"women_led": not p.women_led}, actor=admin),
                world.shown("partner", partner),
            )
            _edit_then_conflict(
                walk,
                f"/partners/{partner.id}/contacts/{contact.id}/edit",
                lambda c=contact: update_contact(
                    c, {"agreed_to_contact": not c.agreed_to_contact}, actor=admin
                ),
                world.shown("contact", contact),
            )
        for framework in world.frameworks:
            _edit_then_conflict(
                walk,
                f"/frameworks/{framework.id}/edit",
                lambda f=framework: update_framework(
                    f, {"next_review_on": TODAY + timedelta(days=30 + f.version)}, actor=admin
                ),
                world.shown("framework", framework),
            )
        for engagement in world.engagements:
            _edit_then_conflict(
                walk,
                f"/engagements/{engagement.id}/edit",
                lambda e=engagement: update_engagement(
                    e, {"women": (e.women or 0) + 1}, actor=world.viewer
                ),
                world.shown("engagement", engagement),
            )
        for follow_up in world.follow_ups:
            _edit_then_conflict(
                walk,
                f"/follow-ups/{follow_up.id}/edit",
                lambda f=follow_up: update_follow_up(
                    f, {"due_on": TODAY + timedelta(days=5 + f.version)}, actor=world.viewer
                ),
                world.shown("follow_up", follow_up),
            )
        for person in world.people:
            _edit_then_conflict(
                walk,
                f"/people/{person.id}/edit",
                lambda p=person: update_person(
                    p, {"at_risk": not p.at_risk}, actor=world.viewer, version=p.version
                ),
                [],
            )
        walk.done()


# --- identities ----------------------------------------------------------------------


def test_identities_and_their_conflict_pages_show_hostile_text_as_text(client, world):
    """A focal point shows an identity (and its edit form) with a stated reason that
    is itself hostile; both come back on the identity page. Then a colleague
    changes the identity while the form is open."""
    from crm.extensions import db
    from crm.people.services import update_identity

    for language in LANGUAGES:
        use(client, world.viewer, language)
        walk = Walk(client, language)
        for person in world.people:
            # the identity, and the reason of the overridden refusal
            identity, override = world.shown("person", person)
            shown = [identity]
            reason = identity
            walk.check(
                f"/people/{person.id}/identity",
                [identity, override],
                data={"reason": reason, "purpose": "view"},
            )
            page = walk.check(
                f"/people/{person.id}/identity?purpose=edit",
                shown,
                data={"reason": reason, "purpose": "edit"},
            )
            if page is None:
                continue
            form = dom.form_with(page.html, "version")
            update_identity(
                person,
                {"address": f"Gaziantep {language}"},
                actor=world.viewer,
                version=person.version,
            )
            db.session.flush()
            walk.check(form["attrs"]["action"], shown, data=dom.as_multidict(form["fields"]))
        walk.done()


# --- what the address says -----------------------------------------------------------


def test_hostile_addresses_are_text_on_lists_exports_and_error_pages(client, make_user):
    """Filters, search words and paths come from the address: the search box, the
    filter chips, the export page and the error pages show them as text."""
    from urllib.parse import quote, urlencode

    from tests.security.payloads import pack

    viewer = make_user(role="focal_point", name=pack(200)[0])
    lists = (
        "/partners/",
        "/partners/needs-translation",
        "/frameworks/",
        "/engagements/",
        "/people/",
        "/exports/partners",
        "/exports/engagements",
    )
    for language in LANGUAGES:
        use(client, viewer, language)
        walk = Walk(client, language)
        for text in pack(200):
            hostile = {"q": text, "country": text, "type": text, "status": text, "sort": text}
            for path in lists:
                # the list of names to translate has no search box
                shown = [] if "needs-translation" in path else [text]
                walk.check(f"{path}?{urlencode(hostile)}", shown)
            for url in (
                f"/engagements/calendar?month={quote(text)}",
                f"/reports/?{urlencode({'year': text, 'start': text, 'end': text})}",
                f"/reports/records?{urlencode({'figure': text})}",
                f"/follow-ups/new?{urlencode({'partner': text, 'engagement': text})}",
                f"/partners/{quote(text, safe='')}",
                f"/nothing-here/{quote(text, safe='')}",
            ):
                walk.check(url, [], status=(200, 400, 404))
        walk.done()
