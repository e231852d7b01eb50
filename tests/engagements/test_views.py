"""Engagement pages, as officers, the focal point, the reporting officer, viewers and
administrators use them."""

from __future__ import annotations

import re
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import event, select

from crm.audit.models import AuditEntry
from crm.codes import EngagementCategory, EngagementStatus
from crm.db import utcnow
from crm.engagements import services, views
from crm.engagements.models import Engagement
from crm.engagements.services import update_engagement
from crm.extensions import db
from tests.engagements.pages import (
    by_class,
    field_error,
    input_value,
    link,
    main_text,
    selected,
    text_by_id,
    textarea_value,
)

EDITORS = ("admin", "outreach", "focal_point")
READERS = ("reporting", "viewer")
ROLES = EDITORS + READERS


def form_data(**overrides):
    data = {
        "title_ar": "مشاورة مع عائلات المفقودين",
        "title_en": "Consultation with families of the missing",
        "category": "victims_survivors",
        "type": "consultation",
        "format": "in_person",
        "status": "held",
        "start_date": "2024-03-14",
        "country": "TR",
        "city": "Gaziantep",
        "women": "12",
        "men": "8",
        "unspecified": "",
        "under_18": "2",
        "summary_en": "Families asked about the search process.",
        "languages": ["ar"],  # as make_engagement: an edit keeps them
    }
    data.update(overrides)
    return data


def only(model_id_query):
    return db.session.execute(model_id_query).scalar_one()


# --- access ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_every_role_reads_lists_records_and_the_month(client, login_as, make_engagement, role):
    engagement = make_engagement(title_en="Briefing in Berlin")
    login_as(role)
    for url in (
        "/engagements/",
        "/engagements/incomplete",
        "/engagements/calendar?month=2024-03",
        f"/engagements/{engagement.id}",
    ):
        page = client.get(url)
        assert page.status_code == 200, url
        assert "Briefing in Berlin" in page.text, url


@pytest.mark.parametrize("role", ROLES)
def test_only_editors_reach_the_forms_and_actions(client, login_as, make_engagement, role):
    engagement = make_engagement()
    login_as(role)
    expected = 200 if role in EDITORS else 403
    for url in ("/engagements/new", "/engagements/quick", f"/engagements/{engagement.id}/edit"):
        assert client.get(url).status_code == expected, url
    response = client.post(f"/engagements/{engagement.id}/cancel", data={})
    assert response.status_code == (302 if role in EDITORS else 403)
    response = client.post(f"/engagements/{engagement.id}/archive", data={})
    assert response.status_code == (302 if role in EDITORS else 403)
    db.session.refresh(engagement)
    if role in EDITORS:
        assert engagement.archived_at is not None
    else:
        assert engagement.archived_at is None and engagement.status == EngagementStatus.HELD


@pytest.mark.parametrize("role", ROLES)
def test_only_the_administrator_restores(client, login_as, make_engagement, role):
    engagement = make_engagement(archived_at=utcnow())
    login_as(role)
    response = client.post(f"/engagements/{engagement.id}/restore", data={})
    db.session.refresh(engagement)
    if role == "admin":
        assert response.status_code == 302 and engagement.archived_at is None
    else:
        assert response.status_code == 403 and engagement.archived_at is not None


@pytest.mark.parametrize("role", ROLES)
def test_an_archived_record_is_not_found_except_by_the_administrator(
    client, login_as, make_engagement, role
):
    engagement = make_engagement(archived_at=utcnow(), title_en="Archived briefing")
    login_as(role)
    page = client.get(f"/engagements/{engagement.id}")
    if role == "admin":
        assert page.status_code == 200
        assert "This engagement is archived" in page.text
        assert f"/engagements/{engagement.id}/restore" in page.text
    else:
        assert page.status_code == 404
        assert "Archived briefing" not in page.text
    assert client.get("/engagements/999999").status_code == 404


def test_a_viewer_reads_without_any_way_to_change(client, login_as, make_engagement):
    engagement = make_engagement()
    login_as("viewer")
    page = client.get(f"/engagements/{engagement.id}").text
    assert f"/engagements/{engagement.id}/edit" not in page
    assert "/cancel" not in page and "/archive" not in page
    assert "/engagements/quick" not in client.get("/engagements/").text


def test_signing_in_is_required(client, make_engagement):
    engagement = make_engagement()
    for url in ("/engagements/", f"/engagements/{engagement.id}", "/engagements/quick"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_forms_carry_a_csrf_token_and_refuse_a_post_without_it(
    app, client, login_as, make_engagement, csrf
):
    engagement = make_engagement()
    login_as("outreach")
    assert 'name="csrf_token"' in client.get("/engagements/quick").text
    assert 'name="csrf_token"' in client.get(f"/engagements/{engagement.id}").text
    client.post(f"/engagements/{engagement.id}/cancel", data={})
    client.post("/engagements/quick", data=form_data())
    db.session.refresh(engagement)
    assert engagement.status == EngagementStatus.HELD
    assert db.session.query(Engagement).count() == 1


# --- recording --------------------------------------------------------------------------


def test_an_officer_records_an_engagement(client, login_as, make_engagement_partner):
    officer = login_as("outreach")
    partner = make_engagement_partner()
    response = client.post(
        "/engagements/new",
        data=form_data(
            ref="E-2024-TEST",
            victim_groups=["missing_disappeared", "detention_torture"],
            strategies=["victim_centred"],
            partner_ids=[str(partner.id)],
            staff_ids=[str(officer.id)],
            languages=["ar", "en"],
            end_date="2024-03-15",
        ),
    )
    assert response.status_code == 302
    engagement = only(select(Engagement).where(Engagement.ref == "E-2024-TEST"))
    assert response.headers["Location"].endswith(f"/engagements/{engagement.id}")
    assert engagement.complete and engagement.partners == [partner]
    page = client.get(response.headers["Location"]).text
    assert "The engagement E-2024-TEST is recorded." in page
    assert "Families of the missing and disappeared" in page
    assert partner.name_en in page


def test_arabic_indic_digits_are_accepted_in_the_form(client, login_as):
    login_as("outreach")
    response = client.post(
        "/engagements/quick",
        data=form_data(start_date="٢٠٢٤-٠٣-١٤", women="١٢", men="٣", under_18="٢"),
    )
    assert response.status_code == 302
    engagement = only(select(Engagement))
    assert engagement.start_date == date(2024, 3, 14)
    assert (engagement.women, engagement.men, engagement.under_18) == (12, 3, 2)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("end_date", "2024-03-01", "The end date cannot be before the start date."),
        ("men", "-4", "Enter a whole number, 0 or more."),
        ("men", "abc", "Enter a whole number, 0 or more."),
        ("under_18", "40", "cannot be more than the total of women, men and unspecified (20)"),
        (
            "start_date",
            "12/03/2024",
            "could be 2024-03-12 or 2024-12-03: type the date as YYYY-MM-DD.",
        ),
        ("start_date", "31/02/2024", "Enter a date as YYYY-MM-DD"),
        ("start_date", "", "This field is required."),
        ("category", "", "This field is required."),
        ("title_ar", "", "Enter a title in Arabic or in English."),
    ],
)
def test_each_rule_speaks_next_to_its_field_and_keeps_the_input(
    client, login_as, field, value, message
):
    login_as("outreach")
    data = form_data(**{field: value})
    if field == "title_ar":
        data["title_en"] = ""
    page = client.post("/engagements/new", data=data)
    assert page.status_code == 200
    assert message in field_error(page.text, field)
    assert "There is a problem" in page.text
    assert input_value(page.text, "city") == "Gaziantep"
    assert textarea_value(page.text, "summary_en") == "Families asked about the search process."
    assert db.session.query(Engagement).count() == 0


def test_a_future_held_engagement_is_refused_but_a_planned_one_is_fine(client, login_as):
    login_as("outreach")
    tomorrow = (services.today() + timedelta(days=2)).isoformat()
    page = client.post("/engagements/quick", data=form_data(start_date=tomorrow))
    assert "cannot start in the future" in field_error(page.text, "start_date")
    assert input_value(page.text, "start_date") == tomorrow
    response = client.post(
        "/engagements/quick", data=form_data(start_date=tomorrow, status="planned")
    )
    assert response.status_code == 302


def test_all_problems_show_at_once(client, login_as):
    login_as("outreach")
    page = client.post(
        "/engagements/new",
        data=form_data(title_ar="", title_en="", men="2.5", end_date="2024-01-01", country=""),
    ).text
    assert field_error(page, "men") == "Enter a whole number, 0 or more."
    assert field_error(page, "end_date") == "The end date cannot be before the start date."
    assert field_error(page, "title_ar") == "Enter a title in Arabic or in English."
    summary = text_by_id(page, "error-summary-title")
    assert summary == "There is a problem"


def test_arabic_messages_and_page_direction(client, login_as):
    login_as("outreach", locale="ar")
    client.set_language("ar")
    page = client.post("/engagements/new", data=form_data(end_date="2024-03-01", men="-1")).text
    assert 'dir="rtl"' in page and 'lang="ar"' in page
    for field in ("end_date", "men"):
        assert re.search("[\u0600-\u06ff]", field_error(page, field)), field
    assert input_value(page, "city") == "Gaziantep"


def test_a_reference_taken_by_another_engagement(client, login_as, make_engagement):
    make_engagement(ref="E-2024-SAME")
    login_as("outreach")
    page = client.post("/engagements/new", data=form_data(ref="e-2024-same")).text
    assert field_error(page, "ref") == "Another engagement has this reference."


def test_people_codes_only_for_those_who_may_see_people(client, login_as, make_attendee):
    person = make_attendee(code="V-ABCD-2345")
    login_as("outreach")
    assert 'name="person_codes"' in client.get("/engagements/new").text
    client.post("/engagements/new", data=form_data(ref="E-P-1", person_codes="V-ABCD-2345"))
    engagement = only(select(Engagement).where(Engagement.ref == "E-P-1"))
    assert engagement.people == [person]


# --- quick log ----------------------------------------------------------------------------


def test_the_quick_log_is_short_arabic_first_and_made_for_a_phone(client, login_as):
    login_as("outreach", locale="ar")
    client.set_language("ar")
    page = client.get("/engagements/quick").text
    assert 'dir="rtl"' in page
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in page
    names = re.findall(r'name="([a-z_0-9]+)"', page.split('class="form quick-log"')[1])
    fields = [n for n in dict.fromkeys(names) if n not in ("csrf_token", "locale", "next")]
    assert fields == [
        "title_ar",
        "title_en",
        "category",
        "type",
        "format",
        "status",
        "start_date",
        "country",
        "women",
        "men",
        "unspecified",
        "under_18",
    ]
    # Arabic title typed right to left; counts bring up the number pad; one tap
    # per choice (radios, not menus) for category, format and status.
    assert re.search(
        r'<input[^>]*lang="ar"[^>]*name="title_ar"|name="title_ar"[^>]*lang="ar"', page
    )
    assert page.count('inputmode="numeric"') == 4
    assert page.count('type="radio"') == 4 + 3 + 4
    assert input_value(page, "start_date") == services.today().isoformat()
    assert selected(page, "status") == ["held"]
    assert "summary_en" not in page


def test_a_quick_log_is_listed_for_completion_then_leaves_the_list(
    client, login_as, make_engagement_partner
):
    officer = login_as("outreach")
    response = client.post(
        "/engagements/quick",
        data={
            "title_ar": "لقاء مع رابطة معتقلين",
            "category": "victims_survivors",
            "type": "meeting",
            "format": "in_person",
            "status": "held",
            "start_date": "2024-05-02",
            "country": "DE",
            "women": "4",
            "men": "5",
        },
    )
    engagement = only(select(Engagement))
    assert response.headers["Location"].endswith(f"/engagements/{engagement.id}")
    record_page = client.get(response.headers["Location"]).text
    assert "This record is not complete yet." in record_page
    listed = client.get("/engagements/incomplete").text
    assert "لقاء مع رابطة معتقلين" in listed
    assert "Title in English" in listed and "Partners" in listed

    partner = make_engagement_partner()
    update_engagement(
        engagement,
        {
            "title_en": "Meeting with a detainees' association",
            "summary_ar": "ملخص",
            "victim_groups": ["detention_torture"],
            "partner_ids": [partner.id],
            "staff_ids": [officer.id],
        },
        actor=officer,
    )
    db.session.flush()
    assert "لقاء مع رابطة معتقلين" not in client.get("/engagements/incomplete").text


def test_records_to_complete_can_be_narrowed_to_mine(client, login_as, make_engagement, make_user):
    someone = make_user()
    make_engagement(title_en="Theirs to complete", created_by_id=someone.id)
    me = login_as("outreach")
    make_engagement(title_en="Mine to complete", created_by_id=me.id)
    page = client.get("/engagements/incomplete?mine=yes").text
    assert "Mine to complete" in page and "Theirs to complete" not in page


# --- editing and the conflict page ---------------------------------------------------------


def test_edit_form_is_prefilled_and_saves(client, login_as, make_engagement):
    engagement = make_engagement(victim_groups=["sgbv"])
    login_as("outreach")
    page = client.get(f"/engagements/{engagement.id}/edit").text
    assert input_value(page, "title_en") == engagement.title_en
    assert selected(page, "victim_groups") == ["sgbv"]
    assert selected(page, "category") == ["victims_survivors"]
    assert input_value(page, "version") == str(engagement.version)
    data = form_data(
        version=str(engagement.version), men="30", victim_groups=["sgbv"], languages=["ar"]
    )
    response = client.post(f"/engagements/{engagement.id}/edit", data=data)
    assert response.status_code == 302
    db.session.refresh(engagement)
    assert engagement.men == 30


def test_a_stale_save_shows_both_versions_and_loses_nothing(client, login_as, make_engagement):
    engagement = make_engagement(men=8)
    officer = login_as("outreach")
    loaded = engagement.version
    # A colleague saves first.
    update_engagement(engagement, {"men": 9, "city": "Istanbul"}, actor=officer)
    db.session.flush()

    mine = form_data(version=str(loaded), men="10", city="Gaziantep")
    page = client.post(f"/engagements/{engagement.id}/edit", data=mine)

    assert page.status_code == 409
    text = main_text(page.text)
    assert "Someone else saved this engagement" in text
    rows = by_class(page.text, "table")[0]
    assert "Men 10 9" in rows and "City Gaziantep Istanbul" in rows
    assert input_value(page.text, "men") == "10"  # the user's input is still there
    assert input_value(page.text, "version") == str(engagement.version)
    db.session.refresh(engagement)
    assert engagement.men == 9

    # Saving again, knowingly, keeps the user's version.
    again = client.post(
        f"/engagements/{engagement.id}/edit",
        data=form_data(version=input_value(page.text, "version"), men="10", city="Gaziantep"),
    )
    assert again.status_code == 302
    db.session.refresh(engagement)
    assert (engagement.men, engagement.city) == (10, "Gaziantep")


def test_an_archived_record_is_not_edited(client, login_as, make_engagement):
    engagement = make_engagement(archived_at=utcnow())
    login_as("admin")
    response = client.get(f"/engagements/{engagement.id}/edit")
    assert response.status_code == 302
    assert "Restore it before changing it" in client.get(response.headers["Location"]).text


# --- cancel, archive, restore --------------------------------------------------------------


def test_cancel_archive_restore(client, login_as, make_engagement):
    engagement = make_engagement(title_en="Field visit to Azaz")
    login_as("admin")
    client.post(f"/engagements/{engagement.id}/cancel", data={"version": engagement.version})
    db.session.refresh(engagement)
    assert engagement.status == EngagementStatus.CANCELLED
    assert "Field visit to Azaz" in client.get("/engagements/?status=cancelled").text

    response = client.post(f"/engagements/{engagement.id}/archive", data={})
    assert response.headers["Location"].endswith("/engagements/")
    assert "Field visit to Azaz" not in client.get("/engagements/").text
    assert "Field visit to Azaz" in client.get("/engagements/?archived=yes").text

    client.post(f"/engagements/{engagement.id}/restore", data={})
    assert "Field visit to Azaz" in client.get("/engagements/").text
    actions = set(
        db.session.execute(
            select(AuditEntry.action).where(AuditEntry.object_id == engagement.id)
        ).scalars()
    )
    assert {"engagement.cancel", "engagement.archive", "engagement.restore"} <= actions


def test_cancelling_with_a_stale_version_changes_nothing(client, login_as, make_engagement):
    engagement = make_engagement()
    login_as("outreach")
    response = client.post(
        f"/engagements/{engagement.id}/cancel", data={"version": engagement.version - 1}
    )
    assert (
        "Someone changed this engagement meanwhile" in client.get(response.headers["Location"]).text
    )
    db.session.refresh(engagement)
    assert engagement.status == EngagementStatus.HELD


def test_archived_records_leave_outreach_lists_and_the_archive_filter_does_nothing_there(
    client, login_as, make_engagement
):
    make_engagement(title_en="Gone", archived_at=utcnow())
    login_as("outreach")
    assert "Gone" not in client.get("/engagements/?archived=yes").text
    assert "Gone" not in client.get("/engagements/calendar?month=2024-03").text
    assert "Gone" not in client.get("/engagements/incomplete").text


# --- the list -----------------------------------------------------------------------------


def _refs(page: str) -> list[str]:
    return re.findall(r'<span class="code" dir="ltr">(E-[^<]+)</span>', page)


def test_keyset_pages_keep_the_filter_and_never_use_offset(
    app, client, login_as, make_engagement, monkeypatch
):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 3)
    wanted = [
        make_engagement(
            ref=f"E-CS-{n}",
            category=EngagementCategory.CIVIL_SOCIETY,
            start_date=date(2024, 1, 1) + timedelta(days=n // 2),  # ties on the date
        ).ref
        for n in range(7)
    ]
    for n in range(4):
        make_engagement(ref=f"E-VS-{n}", start_date=date(2024, 1, 2))
    login_as("viewer")

    statements: list[tuple[str, object]] = []

    def spy(_conn, _cursor, statement, parameters, *_args):
        statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", spy)
    try:
        seen: list[str] = []
        url = "/engagements/?category=civil_society"
        pages = 0
        while url:
            page = client.get(url).text
            pages += 1
            assert "7 records" in page
            seen += _refs(page)
            url = link(page, "next")
            if url:
                assert parse_qs(urlsplit(url).query)["category"] == ["civil_society"]
    finally:
        event.remove(db.engine, "before_cursor_execute", spy)

    assert pages == 3
    assert sorted(seen) == sorted(wanted) and len(seen) == len(set(seen))
    # Newest first; the id breaks ties between engagements of one day.
    expected = sorted(
        db.session.execute(select(Engagement).where(Engagement.ref.in_(wanted))).scalars(),
        key=lambda e: (e.start_date, e.id),
        reverse=True,
    )
    assert seen == [e.ref for e in expected]
    # SQLite spells every LIMIT "LIMIT ? OFFSET ?"; the offset must stay 0.
    offsets = [p[-1] for s, p in statements if "OFFSET" in s.upper()]
    assert set(offsets) <= {0}, offsets

    # Back one page from the last one.
    last = client.get(
        link(
            client.get(link(client.get("/engagements/?category=civil_society").text, "next")).text,
            "next",
        )
    ).text
    back = client.get(link(last, "prev")).text
    assert _refs(back) == seen[3:6]


def test_sorting_by_reference(client, login_as, make_engagement):
    for ref in ("E-B", "E-C", "E-A"):
        make_engagement(ref=ref)
    login_as("viewer")
    page = client.get("/engagements/?sort=ref&dir=asc").text
    assert _refs(page) == ["E-A", "E-B", "E-C"]
    assert 'aria-sort="ascending"' in page
    page = client.get("/engagements/?sort=ref&dir=desc").text
    assert _refs(page) == ["E-C", "E-B", "E-A"]
    # Only whitelisted sort keys: anything else falls back to the date.
    assert client.get("/engagements/?sort=title_en;drop").status_code == 200


def test_filters_show_as_chips_that_remove_themselves(
    client, login_as, make_engagement, make_engagement_partner
):
    partner = make_engagement_partner(name_en="Caesar Families Association")
    make_engagement(ref="E-X", partners=[partner], country="DE", victim_groups=["sgbv"])
    make_engagement(ref="E-Y", country="TR")
    login_as("outreach")
    page = client.get(
        f"/engagements/?partner={partner.id}&country=DE&victim_group=sgbv&from=2024-01-01"
    ).text
    assert _refs(page) == ["E-X"]
    chips = by_class(page, "chip")
    assert any("Partner: Caesar Families Association" in c for c in chips)
    assert any("Country: Germany" in c for c in chips)
    assert any("Victim group: Survivors of sexual" in c for c in chips)
    assert "Clear all filters" in page
    assert selected(page, "country") == ["DE"]


def test_filter_by_staff_member_and_text(client, login_as, make_engagement, make_user):
    colleague = make_user(name="Rana Haddad")
    make_engagement(ref="E-S", staff=[colleague], title_ar="ورشة توثيق في إدلب")
    make_engagement(ref="E-T")
    login_as("viewer")
    assert _refs(client.get(f"/engagements/?staff={colleague.id}").text) == ["E-S"]
    assert _refs(client.get("/engagements/?q=ادلب").text) == ["E-S"]


def test_a_huge_count_reads_more_than(client, login_as, make_engagement, monkeypatch):
    monkeypatch.setattr(views, "COUNT_LIMIT", 3)
    for _ in range(5):
        make_engagement()
    login_as("viewer")
    page = client.get("/engagements/").text
    assert "More than 3 records" in page


def test_a_confidential_partner_is_only_named_to_those_who_may_see_it(
    client, login_as, make_engagement, make_engagement_partner
):
    secret = make_engagement_partner(
        name_en="Inside-Syria Documentation Network", confidential=True
    )
    engagement = make_engagement(partners=[secret])
    login_as("viewer")
    assert (
        "Inside-Syria Documentation Network" not in client.get(f"/engagements/{engagement.id}").text
    )
    assert "Inside-Syria" not in client.get("/engagements/").text
    # Filtering by it is ignored, as for any unknown value: no chip, no name.
    page = client.get(f"/engagements/?partner={secret.id}").text
    assert "Inside-Syria" not in page and not by_class(page, "chip")
    login_as("outreach")
    assert "Inside-Syria Documentation Network" in client.get(f"/engagements/{engagement.id}").text


# --- the record page -----------------------------------------------------------------------


def test_the_record_page(
    client, login_as, make_engagement, make_user, make_attendee, make_follow_up
):
    colleague = make_user(name="Lina Aziz")
    person = make_attendee(code="V-7KQ4-MX2P")
    engagement = make_engagement(
        women=1200,
        men=30,
        unspecified=2,
        under_18=5,
        victim_groups=["missing_disappeared"],
        strategies=["missing_persons"],
        staff=[colleague],
        people=[person],
    )
    make_follow_up(
        title="Share the list of questions", engagement_id=engagement.id, assignee_id=colleague.id
    )
    officer = login_as("outreach")
    update_engagement(engagement, {"men": 31}, actor=officer)
    db.session.flush()
    page = client.get(f"/engagements/{engagement.id}").text

    participants = text_by_id(page, "participants")
    assert "1,200 31 2 1,233 5" in participants
    assert "Families of the missing and disappeared" in page
    assert "Missing persons" in page
    assert "Lina Aziz" in text_by_id(page, "staff")
    assert "V-7KQ4-MX2P" in text_by_id(page, "people")
    assert "Share the list of questions" in text_by_id(page, "follow-ups")
    history = text_by_id(page, "history")
    assert "Changed: Men" in history and officer.name in history
    assert "Held" in by_class(page, "badge")[0]


def test_people_codes_are_hidden_from_viewers(client, login_as, make_engagement, make_attendee):
    engagement = make_engagement(people=[make_attendee(code="V-HIDE-2345")])
    login_as("viewer")
    page = client.get(f"/engagements/{engagement.id}").text
    assert "V-HIDE-2345" not in page and 'id="people"' not in page


def test_the_record_page_in_arabic(client, login_as, make_engagement):
    engagement = make_engagement(women=1200, men=0, unspecified=0, under_18=0)
    login_as("outreach", locale="ar", digits="arab")
    client.set_language("ar")
    page = client.get(f"/engagements/{engagement.id}").text
    assert 'dir="rtl"' in page
    assert "مشاورة مع عائلات المفقودين" in page
    assert re.search("[1١]٬[2٢][0٠][0٠]", text_by_id(page, "participants"))
    assert re.search("[1١][4٤] آذار [2٢][0٠][2٢][4٤]", page)  # Syrian month names


# --- the month view ------------------------------------------------------------------------


def test_the_month_shows_held_and_planned(client, login_as, make_engagement):
    make_engagement(title_en="Held in March", start_date=date(2024, 3, 5))
    make_engagement(title_en="Planned in March", start_date=date(2024, 3, 28), status="planned")
    make_engagement(title_en="Cancelled in March", start_date=date(2024, 3, 6), status="cancelled")
    make_engagement(title_en="Held in April", start_date=date(2024, 4, 1))
    login_as("viewer")
    page = client.get("/engagements/calendar?month=2024-03").text
    assert "Held in March" in page and "Planned in March" in page
    assert "Cancelled in March" not in page and "Held in April" not in page
    assert "March 2024" in page
    assert "2 engagements this month" in page
    assert parse_qs(urlsplit(link(page, "prev")).query)["month"] == ["2024-02"]
    assert parse_qs(urlsplit(link(page, "next")).query)["month"] == ["2024-04"]
    january = client.get("/engagements/calendar?month=2024-01").text
    assert parse_qs(urlsplit(link(january, "prev")).query)["month"] == ["2023-12"]


def test_the_month_in_arabic_flips_its_arrows(client, login_as, make_engagement):
    make_engagement(title_ar="جلسة في آذار", start_date=date(2024, 3, 5))
    login_as("viewer", locale="ar")
    client.set_language("ar")
    page = client.get("/engagements/calendar?month=٢٠٢٤-٠٣").text
    assert 'dir="rtl"' in page
    assert "جلسة في آذار" in page and "آذار" in text_by_id(page, "main")
    nav = page.split('class="pagination calendar-nav"')[1].split("</nav>")[0]
    # The arrows are drawn for left-to-right and mirrored on right-to-left pages.
    assert nav.count("icon-flip") == 2
    assert "#icon-arrow-start" in nav and "#icon-arrow-end" in nav
    # Syrian weeks start on Saturday.
    headers = re.findall(r'<abbr title="([^"]+)"', page)
    assert headers[0] == "السبت"


def test_a_busy_day_links_to_the_rest(client, login_as, make_engagement):
    for n in range(6):
        make_engagement(title_en=f"Busy {n}", start_date=date(2024, 3, 12))
    login_as("viewer")
    page = client.get("/engagements/calendar?month=2024-03&category=victims_survivors").text
    assert "and 2 more" in page
    more = re.search(r'href="([^"]*from=2024-03-12[^"]*)"', page).group(1)
    assert "to=2024-03-12" in more and "category=victims_survivors" in more


# --- dashboard --------------------------------------------------------------------------------


def test_dashboard_counts_my_incomplete_records(client, login_as, make_engagement):
    me = login_as("outreach")
    make_engagement(created_by_id=me.id)
    make_engagement(created_by_id=me.id)
    page = client.get("/").text
    panel = text_by_id(page, "your-work")
    assert "Engagements you logged that are incomplete 2" in panel
    assert "/engagements/quick" in page


# --- hostile text -----------------------------------------------------------------------------

PAYLOAD = '<script>alert(1)</script>"><img src=x onerror=alert(2)>\u202eتقرير'


def test_hostile_text_is_shown_as_text_on_every_page(
    client, login_as, make_engagement, make_follow_up
):
    me = login_as("admin")
    engagement = make_engagement(
        title_en=PAYLOAD,
        title_ar=PAYLOAD,
        city=PAYLOAD,
        summary_en=PAYLOAD,
        follow_up_actions=PAYLOAD,
        start_date=date(2024, 3, 5),
        complete=False,
    )
    make_follow_up(title=PAYLOAD, assignee_id=me.id, engagement_id=engagement.id)
    for language in ("en", "ar"):
        client.set_language(language)
        for url in (
            "/engagements/",
            "/engagements/incomplete",
            "/engagements/calendar?month=2024-03",
            f"/engagements/{engagement.id}",
            f"/engagements/{engagement.id}/edit",
            "/follow-ups/",
            "/",
        ):
            page = client.get(url).text
            assert "<script>alert(1)" not in page and "<img src=x" not in page, (language, url)
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, (language, url)
