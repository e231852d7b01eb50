"""The rules of the people area, through its services: codes, the encrypted
identity, showing it, consent, overrides, erasure, risk flags and attendance."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from crm.audit.models import AuditEntry
from crm.codes import ConsentScope, Role
from crm.crypto import DecryptionError, new_key_string
from crm.engagements.models import Engagement, EngagementPerson
from crm.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from crm.people import services
from crm.people.models import ConsentEvent, IdentityAccess, Person
from tests.fixtures.people import IDENTITY, IDENTITY_STRINGS

REASON = "Preparing the follow-up call agreed at the consultation"
OVERRIDE_REASON = "Court order of the Paris tribunal, case 2024/117, received today"


@pytest.fixture(autouse=True)
def _request(app):
    """Messages are lazy and rendered in a request's language: give them one."""
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield


def raw_row(db, table: str, row_id: int) -> bytes:
    """Every column of one row as the database returns it, as bytes."""
    row = db.session.execute(text(f"SELECT * FROM {table} WHERE id = :id"), {"id": row_id}).one()  # noqa: S608
    return b"|".join(_bytes(value) for value in row)


def _bytes(value) -> bytes:
    if value is None:
        return b""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    return str(value).encode()


def database_dump(db) -> bytes:
    """Every row of every table, raw: what someone who stole the database reads."""
    chunks = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(select(table)).all():
            chunks.extend(_bytes(value) for value in row)
    return b"|".join(chunks)


def assert_no_identity_in(blob: bytes) -> None:
    for needle in IDENTITY_STRINGS:
        assert needle.encode() not in blob, needle


# --- codes --------------------------------------------------------------------------


def test_codes_are_random_unambiguous_and_not_sequential(make_person):
    people = [make_person() for _ in range(12)]
    codes = [p.code for p in people]
    pattern = re.compile(
        r"^V-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{4}-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{4}$"
    )
    assert all(pattern.match(code) for code in codes), codes
    assert len(set(codes)) == len(codes)
    # Not in creation order (12 random codes sorted by chance: 1 in 479,001,600).
    assert sorted(codes) != codes
    # No code repeats any part of the person's identity or id.
    assert not any(str(p.id) in p.code.replace("V-", "") and len(str(p.id)) > 2 for p in people)


def test_the_code_does_not_depend_on_the_identity(make_person):
    first = make_person(identity=IDENTITY)
    second = make_person(identity=IDENTITY)
    assert first.code != second.code


def test_a_typed_code_is_found_in_any_form(make_person, people_actor):
    person = make_person()
    short = person.code.replace("V-", "").replace("-", "").lower()
    assert services.normalize_code(short) == person.code
    assert services.normalize_code(person.code.lower()) == person.code
    assert services.normalize_code("V-0000-0000") is None  # 0 is not in the alphabet
    found = services.person_query({"q": short[:5]}, actor=people_actor)
    assert person.id in [p.id for p in services.db.session.execute(found).scalars()]
    nothing = services.person_query({"q": "Salma"}, actor=people_actor)
    assert services.db.session.execute(nothing).first() is None


# --- the anonymous record -----------------------------------------------------------


def test_create_with_attributes_and_audit(db, make_person):
    person = make_person(
        sex="female",
        age_band="30_44",
        governorate_of_origin="homs",
        current_country="tr",
        victim_groups=["sgbv", "missing_disappeared"],
        at_risk=True,
    )
    assert person.current_country == "TR"
    assert [g.value for g in person.victim_group_codes] == ["missing_disappeared", "sgbv"]
    entry = db.session.execute(
        select(AuditEntry).where(
            AuditEntry.action == "person.create", AuditEntry.object_id == person.id
        )
    ).scalar_one()
    details = json.loads(entry.details)
    assert details["code"] == person.code
    assert details["identity"] is False
    assert details["changes"]["at_risk"]["new"] is True


def test_create_rejects_unknown_codes_all_at_once(people_actor):
    with pytest.raises(ValidationError) as caught:
        services.create_person(
            {
                "sex": "x",
                "age_band": "12",
                "governorate_of_origin": "paris",
                "current_country": "QQ",
            },
            actor=people_actor,
        )
    assert set(caught.value.errors) == {
        "sex",
        "age_band",
        "governorate_of_origin",
        "current_country",
    }


@pytest.mark.parametrize("role", [Role.ADMIN, Role.OUTREACH, Role.REPORTING, Role.VIEWER])
def test_only_the_focal_point_records_people(make_user, role):
    with pytest.raises(PermissionDenied):
        services.create_person({"sex": "male"}, actor=make_user(role=role))


def test_an_identity_needs_the_consent_to_store_it(people_actor):
    with pytest.raises(ValidationError) as caught:
        services.create_person({"name_en": "Someone"}, actor=people_actor)
    assert {"consent_on", "consent_method"} <= set(caught.value.errors)


def test_an_identity_needs_a_name_and_valid_contact_details(people_actor):
    with pytest.raises(ValidationError) as caught:
        services.create_person(
            {
                "phone": "call me",
                "email": "not-an-address",
                "consent_on": date.today(),
                "consent_method": "oral",
            },
            actor=people_actor,
        )
    assert {"name_ar", "phone", "email"} <= set(caught.value.errors)


def test_update_with_a_stale_version_is_a_conflict(make_person, people_actor):
    person = make_person(sex="female")
    services.update_person(
        person, {"age_band": "18_29"}, actor=people_actor, version=person.version
    )
    services.db.session.flush()
    with pytest.raises(ConflictError):
        services.update_person(person, {"age_band": "30_44"}, actor=people_actor, version=1)


def test_changing_only_victim_groups_moves_the_version(make_person, people_actor):
    person = make_person(victim_groups=["sgbv"])
    before = person.version
    services.update_person(
        person, {"victim_groups": ["sgbv", "other"]}, actor=people_actor, version=before
    )
    services.db.session.flush()
    assert person.version == before + 1


def test_archived_people_are_out_of_lists_and_only_restorers_see_them(
    make_person, people_actor, make_user
):
    person = make_person()
    services.archive_person(person, actor=people_actor)
    listed = services.db.session.execute(services.person_query({}, actor=people_actor)).scalars()
    assert person.id not in [p.id for p in listed]
    with pytest.raises(NotFound):
        services.get_person(person.id, actor=people_actor)
    admin = make_user(role=Role.ADMIN)
    archived = services.db.session.execute(
        services.person_query({"archived": True}, actor=admin)
    ).scalars()
    assert [p.id for p in archived] == [person.id]
    services.restore_person(person, actor=admin)
    assert services.get_person(person.id, actor=people_actor) is person


# --- encryption at rest ---------------------------------------------------------------


def test_a_raw_read_of_the_database_shows_no_identity(db, make_person, people_actor):
    person = make_person(identity=IDENTITY, consents={"contact": True})
    services.reveal_identity(person, actor=people_actor, reason=REASON)
    db.session.flush()
    raw = raw_row(db, "people", person.id)
    assert b"v1:test1:" in raw  # the key id travels with the value
    assert_no_identity_in(raw)
    assert_no_identity_in(database_dump(db))
    # ...and yet it is all there for the focal point.
    shown = services.reveal_identity(person, actor=people_actor, reason=REASON)
    assert shown.name_ar == IDENTITY["name_ar"]
    assert shown.safe_contact_channel == IDENTITY["safe_contact_channel"]


def test_a_ciphertext_moved_to_another_row_does_not_decrypt(db, make_person, people_actor):
    first = make_person(identity=IDENTITY)
    second = make_person(identity={"name_en": "Another Person"})
    db.session.execute(
        Person.__table__.update()
        .where(Person.__table__.c.id == second.id)
        .values(identity_enc=first.identity_enc)
    )
    db.session.expire_all()
    second = db.session.get(Person, second.id)
    with pytest.raises(DecryptionError):
        services.reveal_identity(second, actor=people_actor, reason=REASON)


def test_a_wrong_key_does_not_decrypt(app, make_person, people_actor, monkeypatch):
    person = make_person(identity=IDENTITY)
    monkeypatch.setitem(app.config, "DATA_KEY", new_key_string("test1"))  # same id, other key
    with pytest.raises(DecryptionError):
        services.reveal_identity(person, actor=people_actor, reason=REASON)
    monkeypatch.setitem(app.config, "DATA_KEY", new_key_string("other"))  # key id unknown
    with pytest.raises(DecryptionError):
        services.reveal_identity(person, actor=people_actor, reason=REASON)


# --- showing an identity ------------------------------------------------------------


def test_showing_an_identity_needs_a_reason_and_is_audited_without_it(
    db, make_person, people_actor
):
    person = make_person(identity=IDENTITY)
    for reason in ("", "   ", "because"):
        with pytest.raises(ValidationError) as caught:
            services.reveal_identity(person, actor=people_actor, reason=reason)
        assert "reason" in caught.value.errors
    shown = services.reveal_identity(person, actor=people_actor, reason=REASON)
    assert shown.name_en == IDENTITY["name_en"]
    entry = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "person.identity_view")
    ).scalar_one()
    assert entry.object_type == "people" and entry.object_id == person.id
    assert entry.actor_id == people_actor.id
    details = json.loads(entry.details)
    assert details == {"purpose": "view", "reason_given": True, "reason_length": len(REASON)}
    assert REASON not in entry.details
    # The reason itself is kept, encrypted, with the person.
    access = db.session.execute(select(IdentityAccess)).scalar_one()
    assert REASON.encode() not in access.reason_enc
    listed = services.identity_accesses(person, actor=people_actor)
    assert listed[0]["reason"] == REASON and listed[0]["user"].id == people_actor.id


@pytest.mark.parametrize("role", [Role.ADMIN, Role.OUTREACH, Role.REPORTING, Role.VIEWER])
def test_no_other_role_can_show_an_identity(make_person, make_user, role):
    person = make_person(identity=IDENTITY)
    with pytest.raises(PermissionDenied):
        services.reveal_identity(person, actor=make_user(role=role), reason=REASON)
    with pytest.raises(PermissionDenied):
        services.update_identity(person, {"name_en": "X"}, actor=make_user(role=role), version=1)


def test_contact_details_are_withheld_for_do_not_contact(make_person, people_actor):
    person = make_person(identity=IDENTITY, do_not_contact=True)
    shown = services.reveal_identity(person, actor=people_actor, reason=REASON)
    assert shown.name_en == IDENTITY["name_en"]
    assert shown.phone is None and shown.email is None and shown.address is None
    assert shown.safe_contact_channel is None
    assert shown.contact_withheld


def test_update_identity_keeps_what_it_is_not_given_and_audits_field_names(
    db, make_person, people_actor
):
    person = make_person(identity=IDENTITY)
    services.update_identity(
        person, {"phone": "+49 30 1234567"}, actor=people_actor, version=person.version
    )
    db.session.flush()
    shown = services.reveal_identity(person, actor=people_actor, reason=REASON)
    assert shown.phone == "+49 30 1234567"
    assert shown.name_ar == IDENTITY["name_ar"]
    entry = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "person.identity_update")
    ).scalar_one()
    assert json.loads(entry.details) == {"fields": ["phone"]}


def test_do_not_contact_protects_contact_fields_from_changes(db, make_person, people_actor):
    person = make_person(identity=IDENTITY, do_not_contact=True)
    services.update_identity(
        person,
        {"phone": "+1 555 0000", "notes": "Moved"},
        actor=people_actor,
        version=person.version,
    )
    db.session.flush()
    stored = services._decrypt_identity(person)
    assert stored.phone == IDENTITY["phone"] and stored.notes == "Moved"


def test_a_new_identity_needs_current_consent_to_store(make_person, people_actor):
    person = make_person()
    with pytest.raises(ValidationError):
        services.update_identity(
            person, {"name_en": "Omar"}, actor=people_actor, version=person.version
        )
    services.record_consent(
        person,
        {"scope": "store", "granted": True, "on": date.today(), "method": "written"},
        actor=people_actor,
    )
    services.update_identity(
        person, {"name_en": "Omar"}, actor=people_actor, version=person.version
    )
    assert services._decrypt_identity(person).name_en == "Omar"


# --- consent ------------------------------------------------------------------------


def _consent(person, actor, scope, granted, on=None, method="oral"):
    return services.record_consent(
        person,
        {
            "scope": scope,
            "granted": granted,
            "on": on or date.today(),
            "method": method,
            "language": "ar",
        },
        actor=actor,
    )


def test_consent_history_is_append_only_and_the_latest_event_wins(db, make_person, people_actor):
    person = make_person()
    assert not services.has_consent(person, "contact")  # nothing recorded: no consent
    _consent(person, people_actor, "contact", True, on=date.today() - timedelta(days=9))
    assert services.has_consent(person, "contact")
    _consent(person, people_actor, "contact", False)
    assert not services.has_consent(person, "contact")
    _consent(person, people_actor, "contact", True)
    assert services.has_consent(person, ConsentScope.CONTACT)
    history = services.consent_history(person)
    assert [e.granted for e in history] == [True, False, True]
    assert all(e.recorded_by_id == people_actor.id for e in history)
    assert history[0].language == "ar" and history[0].method.value == "oral"
    current = services.current_consents(person)
    assert current[ConsentScope.CONTACT].id == history[-1].id
    assert current[ConsentScope.STORE] is None


def test_the_database_refuses_to_rewrite_or_delete_consent_history(db, make_person, people_actor):
    person = make_person()
    event = _consent(person, people_actor, "contact", False)
    for statement in (
        "UPDATE consent_events SET granted = TRUE WHERE id = :id",
        "UPDATE consent_events SET method = 'written' WHERE id = :id",
        "DELETE FROM consent_events WHERE id = :id",
    ):
        with pytest.raises(DBAPIError), db.session.begin_nested():
            db.session.execute(text(statement), {"id": event.id})
    db.session.expire_all()
    assert db.session.get(ConsentEvent, event.id).granted is False


def test_consent_rules(make_person, people_actor):
    person = make_person()
    _consent(person, people_actor, "contact", True)
    cases = [
        (
            {
                "scope": "contact",
                "granted": True,
                "on": date.today() + timedelta(days=1),
                "method": "oral",
            },
            "on",
        ),
        (
            {
                "scope": "contact",
                "granted": True,
                "on": date.today() - timedelta(days=1),
                "method": "oral",
            },
            "on",
        ),
        (
            {"scope": "contact", "granted": True, "on": date.today(), "method": "telepathy"},
            "method",
        ),
        ({"scope": "contact", "granted": True, "on": date.today()}, "method"),
        ({"scope": "nothing", "granted": True, "on": date.today(), "method": "oral"}, "scope"),
        (
            {
                "scope": "contact",
                "granted": True,
                "on": date.today(),
                "method": "oral",
                "language": "xx",
            },
            "language",
        ),
        ({"scope": "store", "granted": False, "on": date.today(), "method": "oral"}, "granted"),
    ]
    for data, field in cases:
        with pytest.raises(ValidationError) as caught:
            services.record_consent(person, data, actor=people_actor)
        assert field in caught.value.errors, data


def test_withdrawal_acts_at_once_on_lists_and_sharing(make_person, people_actor):
    sharing = make_person(identity=IDENTITY, consents={"share_with_jurisdictions": True})
    never_asked = make_person(identity={"name_en": "Never Asked"})
    anonymous = make_person(consents={"share_with_jurisdictions": True})  # nothing to share

    def shared_codes():
        return [
            p.code for p in services.db.session.execute(services.sharing_export_query()).scalars()
        ]

    def consenting():
        stmt = services.consenting_people_query("share_with_jurisdictions")
        return {p.id for p in services.db.session.execute(stmt).scalars()}

    assert shared_codes() == [sharing.code]
    assert consenting() == {sharing.id, anonymous.id}
    assert never_asked.id not in consenting()
    _consent(sharing, people_actor, "share_with_jurisdictions", False)
    assert shared_codes() == []
    assert sharing.id not in consenting()
    listed = services.person_query(
        {"consent": ConsentScope.SHARE_WITH_JURISDICTIONS}, actor=people_actor
    )
    assert [p.id for p in services.db.session.execute(listed).scalars()] == [anonymous.id]


def test_sharing_rows_carry_identity_only_for_consenting_people(
    make_person, people_actor, make_user
):
    shared = make_person(
        identity=IDENTITY, consents={"share_with_jurisdictions": True}, sex="female"
    )
    make_person(identity={"name_en": "Kept Private"}, consents={"share_with_jurisdictions": False})
    rows = list(services.sharing_export_rows(actor=people_actor, batch_size=1))
    assert [row["code"] for row in rows] == [shared.code]
    assert rows[0]["name_en"] == IDENTITY["name_en"] and rows[0]["sex"] == "female"
    assert set(rows[0]) == set(services.SHARING_COLUMNS)
    with pytest.raises(PermissionDenied):
        list(services.sharing_export_rows(actor=make_user(role=Role.OUTREACH)))


def test_an_override_needs_the_permission_a_reason_and_a_recent_password(
    db, make_person, people_actor, make_user, reauthenticated
):
    person = make_person(consents={"share_with_jurisdictions": False, "contact": True})
    data = {"scope": "share_with_jurisdictions", "on": date.today(), "reason": OVERRIDE_REASON}
    for role in (Role.ADMIN, Role.OUTREACH, Role.REPORTING):
        with pytest.raises(PermissionDenied):
            services.override_refusal(person, data, actor=make_user(role=role))
    with pytest.raises(ValidationError) as caught:
        services.override_refusal(person, {**data, "reason": "urgent"}, actor=people_actor)
    assert "reason" in caught.value.errors
    with pytest.raises(ValidationError) as caught:
        services.override_refusal(person, {**data, "scope": "contact"}, actor=people_actor)
    assert "scope" in caught.value.errors  # contact was not refused
    event = services.override_refusal(person, data, actor=people_actor)
    assert event.override and event.granted
    assert services.has_consent(person, "share_with_jurisdictions")
    assert OVERRIDE_REASON.encode() not in event.override_reason_enc
    assert services.override_reason(event, actor=people_actor) == OVERRIDE_REASON
    entry = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "person.consent_override")
    ).scalar_one()
    details = json.loads(entry.details)
    assert details["scope"] == "share_with_jurisdictions"
    assert details["reason_length"] == len(OVERRIDE_REASON)
    assert "Paris" not in entry.details


def test_an_override_without_a_recent_password_is_refused(make_person, people_actor):
    person = make_person(consents={"contact": False})
    with pytest.raises(services.ReauthenticationRequired):
        services.override_refusal(
            person,
            {"scope": "contact", "on": date.today(), "reason": OVERRIDE_REASON},
            actor=people_actor,
        )


def test_a_refusal_to_store_cannot_be_overridden(make_person, people_actor, reauthenticated):
    person = make_person(identity=IDENTITY)
    services.erase_identity(
        person,
        {"on": date.today(), "method": "oral", "confirm_code": person.code},
        actor=people_actor,
    )
    assert services.overridable_scopes(person) == []
    with pytest.raises(ValidationError):
        services.override_refusal(
            person,
            {"scope": "store", "on": date.today(), "reason": OVERRIDE_REASON},
            actor=people_actor,
        )


# --- erasure ------------------------------------------------------------------------


def _figures(db):
    from crm.reports.counting import Period, report

    return {
        "people": db.session.execute(select(func.count()).select_from(Person)).scalar_one(),
        "links": db.session.execute(
            select(func.count()).select_from(EngagementPerson)
        ).scalar_one(),
        "reached": services.unique_people_reached(select(Engagement.id)),
        "report": report(Period.year(2024)),
    }


def test_erasure_removes_the_identity_everywhere_and_moves_no_figure(
    db, make_person, make_engagement, make_follow_up, people_actor, reauthenticated
):
    engagement = make_engagement(start_date=date(2024, 3, 14))
    person = make_person(
        identity=IDENTITY,
        consents={"contact": False},
        sex="female",
        victim_groups=["sgbv"],
    )
    other = make_person(identity={"name_en": "Stays Here"})
    services.add_attendance(engagement, person, actor=people_actor)
    services.add_attendance(engagement, other, actor=people_actor)
    services.reveal_identity(person, actor=people_actor, reason="Calling Salma Zenobia back")
    with_reason = {"scope": "contact", "on": date.today(), "reason": OVERRIDE_REASON + " Hourani"}
    services.override_refusal(person, with_reason, actor=people_actor)
    follow_up = make_follow_up(
        person_id=person.id, title="Call Salma Zenobia", description="Ask Hourani about Qaboun"
    )
    db.session.flush()
    before = _figures(db)
    assert before["reached"] == 2

    with pytest.raises(ValidationError) as caught:
        services.erase_identity(
            person,
            {"on": date.today(), "method": "oral", "confirm_code": "V-2222-2222"},
            actor=people_actor,
        )
    assert "confirm_code" in caught.value.errors
    event = services.erase_identity(
        person,
        {
            "on": date.today(),
            "method": "written",
            "confirm_code": person.code.lower().replace("-", " "),
        },
        actor=people_actor,
    )
    db.session.flush()
    db.session.expire_all()

    assert event.scope == ConsentScope.STORE and not event.granted
    person = db.session.get(Person, person.id)
    assert person.identity_enc is None and person.safe_contact_channel_enc is None
    assert person.identity_erased_at is not None
    assert person.sex.value == "female" and [g.value for g in person.victim_group_codes] == ["sgbv"]
    assert db.session.get(type(follow_up), follow_up.id).description is None
    assert db.session.get(type(follow_up), follow_up.id).title == person.code
    assert all(a.reason_enc is None for a in db.session.execute(select(IdentityAccess)).scalars())
    assert all(e.override_reason_enc is None for e in services.consent_history(person))
    assert_no_identity_in(database_dump(db))
    assert _figures(db) == before
    # The other person's identity is untouched.
    assert services._decrypt_identity(other).name_en == "Stays Here"
    # Audited, without any identity.
    entry = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "person.erase")
    ).scalar_one()
    assert json.loads(entry.details)["follow_ups_cleared"] == 1
    # Nothing more to show, and no identity may come back without new consent.
    shown = services.reveal_identity(person, actor=people_actor, reason=REASON)
    assert shown.is_empty
    with pytest.raises(ValidationError):
        services.update_identity(
            person, {"name_en": "Back"}, actor=people_actor, version=person.version
        )


def test_erasure_needs_a_recent_password(make_person, people_actor):
    person = make_person(identity=IDENTITY)
    with pytest.raises(services.ReauthenticationRequired):
        services.erase_identity(
            person,
            {"on": date.today(), "method": "oral", "confirm_code": person.code},
            actor=people_actor,
        )
    assert person.identity_enc is not None


@pytest.mark.parametrize("role", [Role.ADMIN, Role.OUTREACH, Role.REPORTING])
def test_only_the_focal_point_erases(make_person, make_user, role, reauthenticated):
    person = make_person(identity=IDENTITY)
    with pytest.raises(PermissionDenied):
        services.erase_identity(
            person,
            {"on": date.today(), "method": "oral", "confirm_code": person.code},
            actor=make_user(role=role),
        )


# --- risk flags and contact ---------------------------------------------------------


def test_contact_is_refused_for_do_not_contact_and_without_consent(make_person):
    flagged = make_person(do_not_contact=True, consents={"contact": True})
    unasked = make_person()
    willing = make_person(consents={"contact": True})
    for person in (flagged, unasked):
        assert not services.may_contact(person)
        with pytest.raises(ValidationError) as caught:
            services.ensure_contact_allowed(person)
        assert "person_id" in caught.value.errors
    assert services.may_contact(willing)
    services.ensure_contact_allowed(willing)


# --- attendance ---------------------------------------------------------------------


def test_attendance_links_and_unique_people(
    db, make_person, make_engagement, people_actor, make_user
):
    first, second = make_engagement(), make_engagement()
    alice, bob = make_person(), make_person()
    found = services.find_engagement(first.ref.lower(), actor=people_actor)
    assert found.id == first.id
    services.add_attendance(first, alice, actor=people_actor)
    services.add_attendance(second, alice, actor=people_actor)
    services.add_attendance(second, bob, actor=people_actor)
    with pytest.raises(ValidationError):
        services.add_attendance(first, alice, actor=people_actor)
    with pytest.raises(PermissionDenied):
        services.add_attendance(first, bob, actor=make_user(role=Role.OUTREACH))
    both = select(Engagement.id).where(Engagement.id.in_([first.id, second.id]))
    assert services.unique_people_reached(both) == 2
    assert services.unique_people_reached([first.id]) == 1
    attendees = db.session.execute(services.attendees_query(second, actor=people_actor)).scalars()
    assert {p.id for p in attendees} == {alice.id, bob.id}
    services.archive_person(bob, actor=people_actor)
    assert services.unique_people_reached(both) == 1  # archived records never count
    services.remove_attendance(second, alice, actor=people_actor)
    assert services.unique_people_reached([second.id]) == 0
    with pytest.raises(NotFound):
        services.remove_attendance(second, alice, actor=people_actor)
    with pytest.raises(ValidationError):
        services.find_engagement("E-NOPE", actor=people_actor)


# --- key rotation -------------------------------------------------------------------


def test_rotation_re_encrypts_everything_under_the_first_key(
    app, db, make_person, people_actor, monkeypatch, reauthenticated
):
    old = app.config["DATA_KEY"]
    person = make_person(identity=IDENTITY, consents={"contact": False})
    plain = make_person()
    services.reveal_identity(person, actor=people_actor, reason=REASON)
    services.override_refusal(
        person,
        {"scope": "contact", "on": date.today(), "reason": OVERRIDE_REASON},
        actor=people_actor,
    )
    db.session.flush()
    version = person.version
    monkeypatch.setitem(app.config, "DATA_KEY", f"{new_key_string('k2')},{old}")
    seen = []
    result = services.rotate_keys(
        batch_size=1, progress=lambda done, total: seen.append((done, total))
    )
    assert (result.key_id, result.rotated, result.total) == ("k2", 1, 1)
    assert seen == [(1, 1)]
    db.session.expire_all()
    person = db.session.get(Person, person.id)
    assert person.identity_enc.startswith(b"v1:k2:")
    assert person.safe_contact_channel_enc.startswith(b"v1:k2:")
    assert db.session.execute(select(IdentityAccess.reason_enc)).scalar_one().startswith(b"v1:k2:")
    override = next(e for e in services.consent_history(person) if e.override)
    assert override.override_reason_enc.startswith(b"v1:k2:")
    assert person.version == version  # a key change is not an edit
    assert db.session.get(Person, plain.id).identity_enc is None
    # The old key can go: everything reads with the new one alone.
    monkeypatch.setitem(app.config, "DATA_KEY", app.config["DATA_KEY"].split(",")[0])
    assert (
        services.reveal_identity(person, actor=people_actor, reason=REASON).name_en
        == IDENTITY["name_en"]
    )
    assert services.override_reason(override, actor=people_actor) == OVERRIDE_REASON
    # Running it again changes nothing.
    again = services.rotate_keys()
    assert (again.rotated, again.already_current) == (0, 1)
