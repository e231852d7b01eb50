"""The rules of engagements, as the importer, the API and the views meet them."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from crm.audit.models import AuditEntry
from crm.codes import EngagementCategory, EngagementFormat, EngagementStatus, VictimGroup
from crm.db import utcnow
from crm.engagements import services
from crm.engagements.models import Engagement
from crm.engagements.services import (
    archive_engagement,
    cancel_engagement,
    count_capped,
    create_engagement,
    engagement_query,
    get_engagement,
    is_complete,
    missing_fields,
    month_engagements,
    restore_engagement,
    update_engagement,
)
from crm.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from crm.extensions import db

QUICK = {
    "title_ar": "جلسة استماع مع ناجيات",
    "category": "victims_survivors",
    "type": "consultation",
    "format": "in_person",
    "status": "held",
    "start_date": "2024-03-14",
    "country": "TR",
    "women": 9,
    "men": 0,
}


def errors_of(exc_info: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return {k: [str(m) for m in v] for k, v in exc_info.value.errors.items()}


def ids(stmt) -> set[int]:
    return set(db.session.execute(stmt.with_only_columns(Engagement.id)).scalars())


@pytest.fixture(autouse=True)
def in_a_request(app):
    """Messages are lazy: they render in the language of a request (English here)."""
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield


@pytest.fixture
def officer(make_user):
    return make_user(role="outreach")


# --- creating -----------------------------------------------------------------------


def test_quick_log_creates_a_countable_but_incomplete_record(app, officer):
    engagement = create_engagement(QUICK, actor=officer)

    assert re.fullmatch(r"E-2024-[2-9A-HJKMNP-Z]{4}", engagement.ref)
    assert engagement.status == EngagementStatus.HELD
    assert engagement.women == 9 and engagement.participants_total == 9
    assert engagement.created_by_id == officer.id
    assert engagement.complete is False
    assert missing_fields(engagement) == [
        "title_en",
        "summary",
        "victim_groups",
        "partners",
        "staff",
    ]
    # Searchable by its Arabic title, whatever the spelling of ta marbuta / hamza.
    assert "جلسه استماع" in engagement.search_text
    entry = db.session.execute(
        select(AuditEntry).where(
            AuditEntry.object_type == "engagements", AuditEntry.object_id == engagement.id
        )
    ).scalar_one()
    assert entry.action == "engagement.create" and entry.actor_id == officer.id


def test_a_full_record_is_complete(app, officer, make_engagement_partner):
    partner = make_engagement_partner()
    engagement = create_engagement(
        {
            **QUICK,
            "ref": "E-2024-FULL",
            "title_en": "Listening session with survivors",
            "summary_en": "Survivors described their needs.",
            "victim_groups": "detention_torture;sgbv",
            "strategies": ["victim_centred", "gender"],
            "partner_ids": [partner.id],
            "staff_ids": [officer.id],
            "languages": "ar; en",
            "organiser": "co_organised",
            "end_date": "2024-03-15",
            "city": "Gaziantep",
            "outcomes_ar": "اتفاق على لقاء ثانٍ",
        },
        actor=officer,
    )
    assert engagement.ref == "E-2024-FULL"
    assert is_complete(engagement) and engagement.complete is True
    assert sorted(v.code for v in engagement.victim_groups) == [
        VictimGroup.DETENTION_TORTURE,
        VictimGroup.SGBV,
    ]
    assert engagement.languages == ["ar", "en"]
    assert engagement.partners == [partner] and engagement.staff == [officer]


def test_codes_may_be_given_by_their_english_or_arabic_label(app, officer):
    with force_locale("ar"):
        arabic_online = str(EngagementFormat.ONLINE.label)
    engagement = create_engagement(
        {**QUICK, "category": "Victims and survivors", "format": arabic_online, "type": "Webinar"},
        actor=officer,
    )
    assert engagement.category == EngagementCategory.VICTIMS_SURVIVORS
    assert engagement.format == EngagementFormat.ONLINE


def test_arabic_indic_digits_are_read_in_dates_and_counts(app, officer):
    engagement = create_engagement(
        {**QUICK, "start_date": "٢٠٢٤-٠٣-١٤", "women": "١٢", "men": "٣", "under_18": "٢"},
        actor=officer,
    )
    assert engagement.start_date == date(2024, 3, 14)
    assert (engagement.women, engagement.men, engagement.under_18) == (12, 3, 2)


def test_a_title_in_one_language_is_required(app, officer):
    with pytest.raises(ValidationError) as exc:
        create_engagement({**QUICK, "title_ar": "  "}, actor=officer)
    assert errors_of(exc) == {"title_ar": ["Enter a title in Arabic or in English."]}
    create_engagement({**QUICK, "title_ar": None, "title_en": "Webinar"}, actor=officer)


def test_a_held_engagement_cannot_start_in_the_future(app, officer):
    tomorrow = (services.today() + timedelta(days=1)).isoformat()
    with pytest.raises(ValidationError) as exc:
        create_engagement({**QUICK, "start_date": tomorrow}, actor=officer)
    assert list(errors_of(exc)) == ["start_date"]
    assert "cannot start in the future" in errors_of(exc)["start_date"][0]
    planned = create_engagement(
        {**QUICK, "status": "planned", "start_date": tomorrow}, actor=officer
    )
    assert planned.status == EngagementStatus.PLANNED
    held_today = create_engagement(
        {**QUICK, "start_date": services.today().isoformat()}, actor=officer
    )
    assert held_today.start_date == services.today()


def test_the_end_cannot_come_before_the_start(app, officer):
    with pytest.raises(ValidationError) as exc:
        create_engagement({**QUICK, "end_date": "2024-03-13"}, actor=officer)
    assert errors_of(exc) == {"end_date": ["The end date cannot be before the start date."]}
    same_day = create_engagement({**QUICK, "end_date": "2024-03-14"}, actor=officer)
    assert same_day.end_date == same_day.start_date


@pytest.mark.parametrize("value", [-1, "-3", "2.5", 2.5, "twelve", "١٢a", True])
def test_counts_are_whole_numbers_not_below_zero(app, officer, value):
    with pytest.raises(ValidationError) as exc:
        create_engagement({**QUICK, "men": value}, actor=officer)
    assert errors_of(exc) == {"men": ["Enter a whole number, 0 or more."]}


def test_under_18_cannot_exceed_the_total(app, officer):
    with pytest.raises(ValidationError) as exc:
        create_engagement(
            {**QUICK, "women": 3, "men": 2, "unspecified": 1, "under_18": 7}, actor=officer
        )
    assert errors_of(exc) == {
        "under_18": [
            "The number under 18 cannot be more than the total of women, men and unspecified (6)."
        ]
    }
    ok = create_engagement(
        {**QUICK, "women": 3, "men": 2, "unspecified": 1, "under_18": 6}, actor=officer
    )
    assert ok.under_18 == 6


def test_every_problem_is_reported_at_once_next_to_its_field(app, officer):
    with pytest.raises(ValidationError) as exc:
        create_engagement(
            {
                "title_ar": "",
                "category": "unknown",
                "type": "",
                "format": "in_person",
                "status": "held",
                "start_date": "14/03/2024",
                "country": "XX",
                "languages": "ar;klingon",
                "victim_groups": ["sgbv", "aliens"],
                "women": "-1",
                "colour": "red",
            },
            actor=officer,
        )
    errors = errors_of(exc)
    assert errors == {
        "colour": ["Unknown field."],
        "title_ar": ["Enter a title in Arabic or in English."],
        "category": ["Choose a value from the list."],
        "type": ["This field is required."],
        "start_date": ["Enter a date as YYYY-MM-DD."],
        "country": ["Choose a country from the list."],
        "languages": ["klingon is not a language code."],
        "victim_groups": ["Choose a value from the list."],
        "women": ["Enter a whole number, 0 or more."],
    }


def test_messages_come_in_arabic_for_an_arabic_reader(app, officer):
    with pytest.raises(ValidationError) as exc:
        create_engagement({**QUICK, "end_date": "2024-01-01", "men": -2}, actor=officer)
    with force_locale("ar"):
        messages = [str(m) for m in exc.value.errors["end_date"] + exc.value.errors["men"]]
    assert all(re.search("[\u0600-\u06ff]", m) for m in messages), messages


def test_references_are_unique_whatever_their_case(app, officer):
    create_engagement({**QUICK, "ref": "E-2024-ABCD"}, actor=officer)
    with pytest.raises(ValidationError) as exc:
        create_engagement({**QUICK, "ref": "e-2024-abcd"}, actor=officer)
    assert errors_of(exc) == {"ref": ["Another engagement has this reference."]}


def test_a_viewer_or_reporting_officer_cannot_record_engagements(app, make_user):
    for role in ("viewer", "reporting"):
        with pytest.raises(PermissionDenied):
            create_engagement(QUICK, actor=make_user(role=role))


# --- links --------------------------------------------------------------------------


def test_partners_staff_and_people_by_id_reference_or_code(
    app, officer, make_user, make_engagement_partner, make_attendee
):
    first, second = make_engagement_partner(), make_engagement_partner()
    colleague = make_user(role="focal_point")
    person = make_attendee(code="V-7KQ4-MX2P")
    engagement = create_engagement(
        {
            **QUICK,
            "partner_refs": f"{first.ref};{second.ref}",
            "staff_ids": f"{officer.id},{colleague.id}",
            "person_codes": "v-7kq4-mx2p",
        },
        actor=officer,
    )
    assert engagement.partners == [first, second]
    assert engagement.staff == sorted([officer, colleague], key=lambda u: u.id)
    assert engagement.people == [person]


def test_unknown_or_unreachable_links_are_refused(app, officer, make_user, make_engagement_partner):
    archived = make_engagement_partner(archived_at=utcnow())
    gone = make_user(role="outreach", active=False)
    with pytest.raises(ValidationError) as exc:
        create_engagement(
            {
                **QUICK,
                "partner_ids": [archived.id],
                "staff_ids": [gone.id],
                "person_codes": ["V-NONE-0000"],
            },
            actor=officer,
        )
    assert errors_of(exc) == {
        "partner_ids": ["Choose partners from the list."],
        "staff_ids": ["Choose staff members from the list."],
        "person_codes": ["Some of these people are not on record."],
    }


def test_links_the_editor_cannot_see_are_kept(
    app, officer, make_engagement, make_engagement_partner
):
    hidden = make_engagement_partner()
    visible = make_engagement_partner()
    engagement = make_engagement(partners=[hidden])
    hidden.archived_at = utcnow()  # now outside an outreach officer's reach
    db.session.flush()

    update_engagement(engagement, {"partner_ids": [visible.id]}, actor=officer)

    assert engagement.partners == [hidden, visible]


# --- updating -----------------------------------------------------------------------


def test_update_changes_only_the_given_fields_and_audits_the_diff(app, officer, make_engagement):
    engagement = make_engagement(summary_en="Old summary naming someone")
    update_engagement(
        engagement,
        {"men": 10, "summary_en": "New summary", "victim_groups": ["sgbv"]},
        actor=officer,
        version=engagement.version,
    )
    assert engagement.men == 10 and engagement.women == 12
    assert engagement.summary_en == "New summary"
    entry = db.session.execute(
        select(AuditEntry).where(
            AuditEntry.object_id == engagement.id, AuditEntry.action == "engagement.update"
        )
    ).scalar_one()
    changes = json.loads(entry.details)["changes"]
    assert changes["men"] == {"old": 8, "new": 10}
    assert changes["victim_groups"] == {"old": [], "new": ["sgbv"]}
    # Free text may name people: the trail says it changed, not what it says.
    assert changes["summary_en"] == {"changed": True, "value": "[redacted]"}
    assert "naming someone" not in entry.details and "New summary" not in entry.details


def test_a_stale_version_is_a_conflict_and_none_skips_the_check(app, officer, make_engagement):
    engagement = make_engagement()
    loaded = engagement.version
    update_engagement(engagement, {"men": 1}, actor=officer, version=loaded)
    assert engagement.version == loaded + 1
    with pytest.raises(ConflictError) as exc:
        update_engagement(engagement, {"men": 2}, actor=officer, version=loaded)
    assert exc.value.current is engagement
    assert engagement.men == 1
    update_engagement(engagement, {"men": 3}, actor=officer, version=None)
    assert engagement.men == 3


def test_changing_only_links_moves_the_version(app, officer, make_engagement):
    engagement = make_engagement()
    loaded = engagement.version
    update_engagement(engagement, {"staff_ids": [officer.id]}, actor=officer, version=loaded)
    db.session.flush()
    assert engagement.version > loaded


def test_validation_on_update_uses_the_saved_values(app, officer, make_engagement):
    engagement = make_engagement(women=2, men=1, unspecified=0, under_18=0)
    with pytest.raises(ValidationError) as exc:
        update_engagement(engagement, {"under_18": 4}, actor=officer)
    assert list(errors_of(exc)) == ["under_18"]
    with pytest.raises(ValidationError) as exc:
        update_engagement(engagement, {"end_date": date(2024, 1, 1)}, actor=officer)
    assert list(errors_of(exc)) == ["end_date"]


# --- cancel, archive, restore ---------------------------------------------------------


def test_cancel_keeps_the_record_with_status_cancelled(app, officer, make_engagement):
    engagement = make_engagement()
    cancel_engagement(engagement, actor=officer, version=engagement.version)
    assert engagement.status == EngagementStatus.CANCELLED
    assert engagement.id in ids(engagement_query({}, actor=officer))


def test_archive_takes_the_record_out_of_lists_and_restore_needs_the_right(
    app, officer, make_user, make_engagement
):
    engagement = make_engagement()
    archive_engagement(engagement, actor=officer)
    assert engagement.archived_at is not None
    assert engagement.id not in ids(engagement_query({}, actor=officer))
    with pytest.raises(NotFound):
        get_engagement(engagement.id, actor=officer)
    with pytest.raises(PermissionDenied):
        restore_engagement(engagement, actor=officer)
    with pytest.raises(ValidationError):
        update_engagement(engagement, {"men": 1}, actor=make_user(role="admin"))

    admin = make_user(role="admin")
    assert get_engagement(engagement.id, actor=admin) is engagement
    assert engagement.id in ids(engagement_query({"archived": "yes"}, actor=admin))
    # Asking for archived records without the right shows live ones only.
    assert engagement.id not in ids(engagement_query({"archived": "yes"}, actor=officer))
    restore_engagement(engagement, actor=admin)
    assert engagement.archived_at is None
    assert engagement.id in ids(engagement_query({}, actor=officer))
    actions = db.session.execute(
        select(AuditEntry.action).where(AuditEntry.object_id == engagement.id)
    ).scalars()
    assert {"engagement.archive", "engagement.restore"} <= set(actions)


# --- finding ------------------------------------------------------------------------


def test_each_filter(app, officer, make_user, make_engagement, make_engagement_partner):
    partner = make_engagement_partner()
    colleague = make_user(role="outreach")
    target = make_engagement(
        category=EngagementCategory.CIVIL_SOCIETY,
        type="workshop",
        format="online",
        status="planned",
        start_date=date(2024, 6, 1),
        country="DE",
        title_en="Workshop on documentation",
        victim_groups=["chemical_attacks"],
        partners=[partner],
        staff=[colleague],
        created_by_id=colleague.id,
    )
    other = make_engagement(start_date=date(2023, 6, 1), victim_groups=["sgbv"])
    cases = [
        {"from": "2024-05-31", "to": date(2024, 6, 1)},
        {"category": "civil_society"},
        {"type": ["workshop", "webinar"]},
        {"format": "online"},
        {"status": EngagementStatus.PLANNED},
        {"country": "de"},
        {"partner": partner.id},
        {"victim_group": "chemical_attacks"},
        {"staff": str(colleague.id)},
        {"created_by": colleague.id},
        {"q": "WORKSHOP documentation"},
    ]
    for filters in cases:
        found = ids(engagement_query(filters, actor=officer))
        assert target.id in found and other.id not in found, filters
    assert ids(engagement_query({"category": "nonsense"}, actor=officer)) == set()


def test_arabic_search_sees_through_spelling(app, officer, make_engagement):
    engagement = make_engagement(title_ar="مشاورة مع عائلات المفقودين في إدلب")
    for query in ("مشاوره", "ادلب", "عائلات"):
        assert engagement.id in ids(engagement_query({"q": query}, actor=officer)), query


def test_the_incomplete_filter(app, officer, make_engagement):
    quick = create_engagement(QUICK, actor=officer)
    full = make_engagement(summary_en="Done.", victim_groups=["sgbv"], staff=[officer], partners=[])
    found = ids(engagement_query({"incomplete": True}, actor=officer))
    assert quick.id in found and full.id in found  # no partner yet
    assert missing_fields(full) == ["partners"]


def test_filtering_by_a_partner_out_of_reach_finds_nothing(
    app, officer, make_engagement, make_engagement_partner
):
    partner = make_engagement_partner(archived_at=utcnow())
    make_engagement(partners=[partner])
    assert ids(engagement_query({"partner": partner.id}, actor=officer)) == set()


def test_viewers_may_search_but_a_disabled_account_may_not(app, make_user, make_engagement):
    engagement = make_engagement()
    assert engagement.id in ids(engagement_query({}, actor=make_user(role="viewer")))
    with pytest.raises(PermissionDenied):
        engagement_query({}, actor=make_user(role="viewer", active=False))


def test_capped_count(app, officer, make_engagement):
    for _ in range(3):
        make_engagement()
    assert count_capped(engagement_query({}, actor=officer), 2) == (2, True)
    assert count_capped(engagement_query({}, actor=officer), 10) == (3, False)


def test_month_lists_held_and_planned_with_counts_per_day(app, officer, make_engagement):
    held = make_engagement(start_date=date(2024, 3, 5))
    planned = make_engagement(start_date=date(2024, 3, 5), status="planned")
    make_engagement(start_date=date(2024, 3, 6), status="cancelled")
    make_engagement(start_date=date(2024, 4, 1))
    rows, per_day = month_engagements(date(2024, 3, 1), date(2024, 3, 31), {}, actor=officer)
    assert {e.id for e in rows} == {held.id, planned.id}
    assert per_day == {date(2024, 3, 5): 2}
