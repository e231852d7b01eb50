"""What the focal point (and others) see and do on the people pages."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from crm.audit.models import AuditEntry
from crm.auth.models import UserSession
from crm.codes import Role
from crm.db import utcnow
from crm.engagements.models import EngagementPerson
from crm.people import services
from crm.people.models import ConsentEvent, IdentityAccess, Person
from tests.fixtures.people import IDENTITY

REASON = "Preparing the follow-up call agreed at the consultation"
TODAY = date.today().isoformat()


def stale_password(db, user) -> None:
    """The user's sessions confirmed the password long ago."""
    db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id)
        .values(reauthenticated_at=utcnow() - timedelta(hours=2))
    )
    db.session.flush()


def reveal(client, person, purpose="view", reason=REASON):
    query = "?purpose=edit" if purpose == "edit" else ""
    return client.post(
        f"/people/{person.id}/identity{query}", data={"reason": reason, "purpose": purpose}
    )


# --- list ---------------------------------------------------------------------------


def test_the_list_shows_codes_and_anonymous_attributes_only(
    client, login_as, make_person, people_actor
):
    login_as(Role.FOCAL_POINT)
    shown = make_person(
        identity=IDENTITY,
        sex="female",
        governorate_of_origin="homs",
        victim_groups=["sgbv"],
        at_risk=True,
        consents={"contact": True},
    )
    archived = make_person()
    services.archive_person(archived, actor=people_actor)
    page = client.get("/people/")
    assert page.status_code == 200
    assert shown.code in page.text and archived.code not in page.text
    assert "Homs" in page.text and "Female" in page.text and "At risk" in page.text
    assert "Contact: given" in page.text
    assert IDENTITY["name_en"] not in page.text and IDENTITY["name_ar"] not in page.text
    assert "1 record" in page.text


def test_the_list_filters_and_keeps_the_filter_in_the_address(client, login_as, make_person):
    login_as(Role.OUTREACH)
    woman = make_person(sex="female", at_risk=True, governorate_of_origin="aleppo")
    man = make_person(sex="male", governorate_of_origin="aleppo")
    page = client.get("/people/?sex=female&governorate=aleppo")
    assert woman.code in page.text and man.code not in page.text
    assert "Sex: Female" in page.text  # the chip
    assert re.search(r'href="/people/\?governorate=aleppo"', page.text)  # chip removes sex
    page = client.get("/people/?at_risk=yes")
    assert woman.code in page.text and man.code not in page.text
    page = client.get(f"/people/?q={man.code[2:6].lower()}")
    assert man.code in page.text
    page = client.get("/people/?q=Salma")
    assert "No person matches these filters." in page.text
    page = client.get("/people/?sort=code&dir=asc")
    first, second = sorted([woman.code, man.code])
    assert page.text.index(first) < page.text.index(second)


def test_the_list_filters_on_current_consent(client, login_as, make_person, people_actor):
    login_as(Role.REPORTING)
    willing = make_person(consents={"use_in_reporting": True})
    withdrew = make_person(consents={"use_in_reporting": True})
    services.record_consent(
        withdrew,
        {"scope": "use_in_reporting", "granted": False, "on": date.today(), "method": "oral"},
        actor=people_actor,
    )
    page = client.get("/people/?consent=use_in_reporting")
    assert willing.code in page.text and withdrew.code not in page.text


def test_the_list_in_arabic(client, login_as, make_person):
    login_as(Role.FOCAL_POINT, locale="ar")
    make_person(governorate_of_origin="homs", sex="female")
    client.set_language("ar")
    page = client.get("/people/")
    assert 'dir="rtl"' in page.text and 'lang="ar"' in page.text
    assert "حمص" in page.text
    assert "الأشخاص" in page.text


# --- new and edit -------------------------------------------------------------------


def test_the_focal_point_records_a_person_with_an_identity(db, client, login_as):
    user = login_as(Role.FOCAL_POINT)
    form = client.get("/people/new")
    assert 'name="name_ar"' in form.text and 'name="consent_on"' in form.text
    response = client.post(
        "/people/new",
        data={
            "sex": "female",
            "age_band": "30_44",
            "governorate_of_origin": "daraa",
            "current_country": "DE",
            "victim_groups": ["missing_disappeared"],
            "at_risk": "y",
            **IDENTITY,
            "consent_on": TODAY,
            "consent_method": "written",
            "consent_language": "ar",
        },
    )
    assert response.status_code == 302
    person = db.session.execute(select(Person)).scalar_one()
    assert response.headers["Location"].endswith(f"/people/{person.id}")
    page = client.get(response.headers["Location"])
    assert f"The person {person.code} is recorded." in page.text
    assert "Dar&#39;a" in page.text or "Dar'a" in page.text
    assert "On record, encrypted" in page.text
    assert IDENTITY["name_en"] not in page.text  # even the focal point: only after the step
    history = services.consent_history(person)
    assert [(e.scope.value, e.granted, e.recorded_by_id) for e in history] == [
        ("store", True, user.id)
    ]


def test_an_identity_without_consent_to_store_is_refused_with_messages(db, client, login_as):
    login_as(Role.FOCAL_POINT)
    page = client.post("/people/new", data={"name_en": "Omar Test", "sex": "male"})
    assert page.status_code == 200
    assert "There is a problem" in page.text
    assert "This field is required." in page.text
    assert db.session.execute(select(Person)).first() is None


def test_outreach_cannot_record_people(client, login_as):
    login_as(Role.OUTREACH)
    assert client.get("/people/new").status_code == 403
    assert client.post("/people/new", data={"sex": "male"}).status_code == 403


def test_edit_saves_and_a_stale_save_shows_both_versions(db, client, login_as, make_person):
    login_as(Role.FOCAL_POINT)
    person = make_person(sex="female", age_band="18_29")
    form = client.get(f"/people/{person.id}/edit")
    version = re.search(r'name="version"[^>]*value="(\d+)"', form.text).group(1)
    response = client.post(
        f"/people/{person.id}/edit",
        data={"version": version, "sex": "female", "age_band": "30_44", "do_not_contact": "y"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    person = db.session.get(Person, person.id)
    assert person.age_band.value == "30_44" and person.do_not_contact
    # Someone else saved meanwhile: the old version number is stale now.
    conflict = client.post(
        f"/people/{person.id}/edit",
        data={"version": version, "sex": "male", "age_band": "60_plus"},
    )
    assert conflict.status_code == 409
    assert "Someone else saved this record" in conflict.text
    assert "60 and over" in conflict.text and "30 to 44" in conflict.text  # both versions
    assert re.search(r'<option selected value="60_plus">', conflict.text)  # input kept
    new_version = re.search(r'name="version"[^>]*value="(\d+)"', conflict.text).group(1)
    assert int(new_version) == person.version
    db.session.expire_all()
    assert db.session.get(Person, person.id).age_band.value == "30_44"  # nothing overwritten


def test_the_record_page_in_arabic(client, login_as, make_person):
    login_as(Role.FOCAL_POINT, locale="ar")
    person = make_person(at_risk=True, governorate_of_origin="idleb")
    client.set_language("ar")
    page = client.get(f"/people/{person.id}")
    assert 'dir="rtl"' in page.text
    assert "إدلب" in page.text
    assert "سجل الموافقات" in page.text


# --- the "show identity" step -------------------------------------------------------


def test_show_identity_asks_a_reason_then_shows_and_records_it(db, client, login_as, make_person):
    user = login_as(Role.FOCAL_POINT)
    person = make_person(identity=IDENTITY, consents={"contact": True})
    ask = client.get(f"/people/{person.id}/identity")
    assert ask.status_code == 200
    assert "Why do you need to see this identity?" in ask.text
    assert IDENTITY["name_en"] not in ask.text
    refused = reveal(client, person, reason="curious")
    assert "Give a reason of 10 to 1000 characters." in refused.text
    assert IDENTITY["name_en"] not in refused.text
    assert db.session.execute(select(IdentityAccess)).first() is None
    shown = reveal(client, person)
    assert shown.status_code == 200
    assert shown.headers["Cache-Control"] == "no-store"
    for key in ("name_ar", "name_en", "phone", "email", "safe_contact_channel"):
        assert IDENTITY[key] in shown.text, key
    assert f'href="mailto:{IDENTITY["email"]}"' in shown.text
    assert REASON in shown.text  # the access log on the identity page
    entry = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "person.identity_view")
    ).scalar_one()
    assert entry.actor_id == user.id and entry.object_id == person.id
    assert json.loads(entry.details)["reason_length"] == len(REASON)
    assert REASON not in entry.details and IDENTITY["name_en"] not in entry.details
    # The record page tells everyone it was shown, never what.
    page = client.get(f"/people/{person.id}")
    assert "Identity shown" in page.text and IDENTITY["name_en"] not in page.text


def test_show_identity_in_arabic(client, login_as, make_person):
    login_as(Role.FOCAL_POINT, locale="ar")
    person = make_person(identity=IDENTITY)
    client.set_language("ar")
    ask = client.get(f"/people/{person.id}/identity")
    assert 'dir="rtl"' in ask.text and "لماذا" in ask.text
    shown = reveal(client, person)
    assert IDENTITY["name_ar"] in shown.text and 'dir="rtl"' in shown.text


def test_edit_identity_after_the_step(db, client, login_as, make_person):
    login_as(Role.FOCAL_POINT)
    person = make_person(identity=IDENTITY)
    form = reveal(client, person, purpose="edit")
    assert f'value="{IDENTITY["phone"]}"' in form.text
    assert 'autocomplete="off"' in form.text
    version = re.search(r'name="version"[^>]*value="(\d+)"', form.text).group(1)
    data = {**IDENTITY, "phone": "+49 30 765 4321", "version": version}
    saved = client.post(f"/people/{person.id}/identity/save", data=data)
    assert saved.status_code == 302
    page = client.get(saved.headers["Location"])
    assert f"The identity of {person.code} is saved." in page.text
    assert "+49 30 765 4321" not in page.text
    db.session.expire_all()
    person = db.session.get(Person, person.id)
    assert services._decrypt_identity(person).phone == "+49 30 765 4321"
    actions = db.session.execute(
        select(AuditEntry.action).where(AuditEntry.object_id == person.id).order_by(AuditEntry.id)
    ).scalars()
    assert list(actions)[-2:] == ["person.identity_view", "person.identity_update"]


def test_a_stale_identity_save_shows_both_versions_and_is_recorded(
    db, client, login_as, make_person
):
    user = login_as(Role.FOCAL_POINT)
    person = make_person(identity=IDENTITY)
    stale = person.version
    services.update_identity(person, {"notes": "Moved to Berlin"}, actor=user, version=stale)
    db.session.flush()
    conflict = client.post(
        f"/people/{person.id}/identity/save",
        data={**IDENTITY, "notes": "Has a new phone", "version": stale},
    )
    assert conflict.status_code == 200
    assert "Someone else saved this record" in conflict.text
    assert "Moved to Berlin" in conflict.text and "Has a new phone" in conflict.text
    views = db.session.execute(
        select(AuditEntry.details).where(AuditEntry.action == "person.identity_view")
    ).scalars()
    assert [json.loads(d)["purpose"] for d in views] == ["edit_conflict"]
    db.session.expire_all()
    assert services._decrypt_identity(db.session.get(Person, person.id)).notes == "Moved to Berlin"


def test_a_ciphertext_that_does_not_decrypt_shows_an_error_not_a_crash(
    db, client, login_as, make_person
):
    login_as(Role.FOCAL_POINT)
    first = make_person(identity=IDENTITY)
    second = make_person(identity={"name_en": "Second Person"})
    db.session.execute(
        update(Person).where(Person.id == second.id).values(identity_enc=first.identity_enc)
    )
    db.session.flush()
    page = reveal(client, second)
    assert page.status_code == 500
    assert "cannot be read" in page.text
    assert IDENTITY["name_en"] not in page.text


# --- risk flags ---------------------------------------------------------------------


def test_at_risk_shows_a_warning_on_every_page_of_the_person(client, login_as, make_person):
    login_as(Role.FOCAL_POINT)
    person = make_person(identity=IDENTITY, at_risk=True)
    for page in (
        client.get(f"/people/{person.id}"),
        client.get(f"/people/{person.id}/identity"),
        client.get(f"/people/{person.id}/consent"),
        client.get(f"/people/{person.id}/edit"),
        reveal(client, person),
    ):
        assert "This person is at risk." in page.text
        assert "notice--error" in page.text


def test_do_not_contact_offers_no_contact_at_all(client, login_as, make_person):
    login_as(Role.FOCAL_POINT)
    person = make_person(identity=IDENTITY, do_not_contact=True, consents={"contact": True})
    page = client.get(f"/people/{person.id}")
    assert "Do not contact this person." in page.text
    assert "Plan a contact" not in page.text and f"new?person_id={person.id}" not in page.text
    shown = reveal(client, person)
    assert IDENTITY["name_en"] in shown.text
    for secret in (
        IDENTITY["phone"],
        IDENTITY["email"],
        IDENTITY["address"],
        IDENTITY["safe_contact_channel"],
    ):
        assert secret not in shown.text
    assert "mailto:" not in shown.text and "tel:" not in shown.text
    edit = reveal(client, person, purpose="edit")
    assert 'name="phone"' not in edit.text and 'name="email"' not in edit.text
    assert IDENTITY["phone"] not in edit.text


def test_a_willing_person_can_be_contacted(client, login_as, make_person):
    login_as(Role.FOCAL_POINT)
    person = make_person(consents={"contact": True})
    page = client.get(f"/people/{person.id}")
    assert "Plan a contact" in page.text
    assert f"/follow-ups/new?person_id={person.id}" in page.text
    unasked = make_person()
    page = client.get(f"/people/{unasked.id}")
    assert "Plan a contact" not in page.text
    assert "has not consented to be contacted" in page.text


# --- consent ------------------------------------------------------------------------


def test_record_consent_and_see_the_history(db, client, login_as, make_person):
    login_as(Role.FOCAL_POINT)
    person = make_person()
    form = client.get(f"/people/{person.id}/consent")
    assert form.status_code == 200 and "No consent recorded yet" in form.text
    for granted in ("given", "withdrawn"):
        response = client.post(
            f"/people/{person.id}/consent",
            data={
                "scope": "contact",
                "granted": granted,
                "on": TODAY,
                "method": "oral",
                "language": "ku",
            },
        )
        assert response.status_code == 302
    page = client.get(f"/people/{person.id}")
    assert page.text.count("Withdrawn or refused") >= 2  # current state and history
    assert "Kurdish" in page.text and "Oral" in page.text
    assert not services.has_consent(person, "contact")
    events = db.session.execute(select(ConsentEvent)).scalars().all()
    assert [e.granted for e in events] == [True, False]


def test_consent_errors_are_shown_next_to_the_fields(client, login_as, make_person):
    login_as(Role.FOCAL_POINT)
    person = make_person()
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    page = client.post(
        f"/people/{person.id}/consent",
        data={"scope": "contact", "granted": "given", "on": tomorrow, "method": "oral"},
    )
    assert "The date cannot be in the future." in page.text
    assert 'id="on-error"' in page.text


def test_withdrawing_store_goes_to_the_erasure_confirmation(db, client, login_as, make_person):
    login_as(Role.FOCAL_POINT)
    person = make_person(identity=IDENTITY)
    response = client.post(
        f"/people/{person.id}/consent",
        data={
            "scope": "store",
            "granted": "withdrawn",
            "on": TODAY,
            "method": "oral",
            "language": "ar",
        },
    )
    assert response.status_code == 302
    assert f"/people/{person.id}/erase?" in response.headers["Location"]
    confirm = client.get(response.headers["Location"])
    assert "This cannot be undone." in confirm.text
    assert f'value="{TODAY}"' in confirm.text
    assert db.session.get(Person, person.id).identity_enc is not None  # not yet


def test_erasure_needs_a_fresh_password_and_the_typed_code(
    db, client, login_as, make_person, make_engagement
):
    user = login_as(Role.FOCAL_POINT)
    person = make_person(identity=IDENTITY)
    engagement = make_engagement()
    services.add_attendance(engagement, person, actor=user)
    stale_password(db, user)
    response = client.get(f"/people/{person.id}/erase")
    assert response.status_code == 302
    assert "/reauthenticate?next=" in response.headers["Location"]
    assert f"/people/{person.id}/erase" in response.headers["Location"].replace("%2F", "/")
    db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id)
        .values(reauthenticated_at=utcnow())
    )
    db.session.flush()
    data = {"on": TODAY, "method": "written", "language": "ar", "confirm_code": "V-2222-2222"}
    wrong = client.post(f"/people/{person.id}/erase", data=data)
    assert "Type the person's code exactly to confirm." in wrong.text
    assert db.session.get(Person, person.id).identity_enc is not None
    done = client.post(f"/people/{person.id}/erase", data={**data, "confirm_code": person.code})
    assert done.status_code == 302
    page = client.get(done.headers["Location"])
    assert "is erased. The anonymous record remains." in page.text
    assert "Erased on" in page.text
    assert engagement.ref in page.text  # the engagement link stays
    db.session.expire_all()
    assert db.session.get(Person, person.id).identity_enc is None
    assert db.session.execute(select(EngagementPerson)).scalar_one().person_id == person.id
    shown = reveal(client, person)
    assert "The identity was erased on" in shown.text


def test_override_needs_a_fresh_password_and_a_reason(db, client, login_as, make_person):
    user = login_as(Role.FOCAL_POINT)
    person = make_person(consents={"share_with_jurisdictions": False})
    page = client.get(f"/people/{person.id}")
    assert "Override a refusal" in page.text
    stale_password(db, user)
    response = client.get(f"/people/{person.id}/consent/override")
    assert response.status_code == 302 and "/reauthenticate" in response.headers["Location"]
    posted = client.post(
        f"/people/{person.id}/consent/override",
        data={"scope": "share_with_jurisdictions", "on": TODAY, "reason": "x" * 40},
    )
    assert posted.status_code == 302 and "/reauthenticate" in posted.headers["Location"]
    assert not services.has_consent(person, "share_with_jurisdictions")
    db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id)
        .values(reauthenticated_at=utcnow())
    )
    db.session.flush()
    short = client.post(
        f"/people/{person.id}/consent/override",
        data={"scope": "share_with_jurisdictions", "on": TODAY, "reason": "urgent"},
    )
    assert "Give a reason of 20 to 1000 characters." in short.text
    done = client.post(
        f"/people/{person.id}/consent/override",
        data={
            "scope": "share_with_jurisdictions",
            "on": TODAY,
            "reason": "Court order received from the prosecutor, case 2024/117",
        },
    )
    assert done.status_code == 302
    assert services.has_consent(person, "share_with_jurisdictions")
    page = client.get(f"/people/{person.id}")
    assert "Refusal overridden" in page.text
    assert "Court order" not in page.text  # the reason only after the show-identity step


def test_no_override_is_offered_without_a_refusal(client, login_as, make_person):
    login_as(Role.FOCAL_POINT)
    person = make_person(consents={"contact": True})
    assert "Override a refusal" not in client.get(f"/people/{person.id}").text
    response = client.get(f"/people/{person.id}/consent/override")
    assert response.status_code == 302 and response.headers["Location"].endswith("#consent")


# --- archive, restore ---------------------------------------------------------------


def test_archive_then_restore_by_an_administrator(db, client, login_as, make_person, make_user):
    from tests.conftest import sign_in

    login_as(Role.FOCAL_POINT)
    person = make_person()
    response = client.post(f"/people/{person.id}/archive")
    assert response.status_code == 302
    assert client.get(f"/people/{person.id}").status_code == 404
    sign_in(client, make_user(role=Role.ADMIN))
    page = client.get(f"/people/{person.id}")
    assert page.status_code == 200 and "This person is archived" in page.text
    assert client.get("/people/?archived=yes").text.count(person.code) >= 1
    assert client.post(f"/people/{person.id}/restore").status_code == 302
    db.session.expire_all()
    assert db.session.get(Person, person.id).archived_at is None


# --- attendance ---------------------------------------------------------------------


def test_link_and_unlink_an_engagement_by_its_reference(
    db, client, login_as, make_person, make_engagement
):
    login_as(Role.FOCAL_POINT)
    person = make_person()
    engagement = make_engagement(title_en="Consultation in Gaziantep")
    response = client.post(f"/people/{person.id}/engagements", data={"ref": engagement.ref.lower()})
    assert response.status_code == 302
    page = client.get(f"/people/{person.id}")
    assert engagement.ref in page.text and "Consultation in Gaziantep" in page.text
    again = client.post(f"/people/{person.id}/engagements", data={"ref": engagement.ref})
    assert again.status_code == 400 and "already listed" in again.text
    unknown = client.post(f"/people/{person.id}/engagements", data={"ref": "E-NOPE"})
    assert unknown.status_code == 400 and "No engagement has this reference." in unknown.text
    removed = client.post(f"/people/{person.id}/engagements/{engagement.id}/remove")
    assert removed.status_code == 302
    assert db.session.execute(select(EngagementPerson)).first() is None


@pytest.mark.parametrize("role", [Role.OUTREACH, Role.REPORTING, Role.ADMIN])
def test_others_see_the_engagements_attended(
    client, login_as, make_person, make_engagement, people_actor, role
):
    person = make_person()
    engagement = make_engagement()
    services.add_attendance(engagement, person, actor=people_actor)
    login_as(role)
    page = client.get(f"/people/{person.id}")
    assert engagement.ref in page.text
    assert "Link engagement" not in page.text and "Remove" not in page.text


def test_showing_identities_is_throttled_per_session(
    app, db, client, login_as, make_person, monkeypatch
):
    monkeypatch.setitem(app.config, "IDENTITY_VIEWS_RATE_LIMIT", "2 per hour")
    login_as(Role.FOCAL_POINT)
    person = make_person(identity=IDENTITY)
    assert IDENTITY["name_en"] in reveal(client, person).text
    assert IDENTITY["name_en"] in reveal(client, person).text
    third = reveal(client, person)
    assert third.status_code == 429
    assert IDENTITY["name_en"] not in third.text
    assert len(db.session.execute(select(IdentityAccess)).all()) == 2
    assert client.get(f"/people/{person.id}/identity").status_code == 200  # asking is free


def test_the_archived_filter_is_only_for_those_who_restore(
    client, login_as, make_person, people_actor
):
    person = make_person()
    services.archive_person(person, actor=people_actor)
    login_as(Role.FOCAL_POINT)
    page = client.get("/people/?archived=yes")
    assert person.code not in page.text and "Archived: Yes" not in page.text


def test_the_focal_point_home_page_counts_people(client, login_as, make_person, people_actor):
    make_person(at_risk=True)
    make_person(do_not_contact=True)
    archived = make_person(at_risk=True)
    services.archive_person(archived, actor=people_actor)
    login_as(Role.FOCAL_POINT)
    home = client.get("/")
    panel = home.text[home.text.index('id="people-panel"') :]
    assert "People on record" in panel
    values = re.findall(r'class="card__value">([^<]*)<', panel)[:3]
    assert values == ["2", "1", "1"]
    login_as(Role.OUTREACH)
    assert 'id="people-panel"' not in client.get("/").text


def test_identity_text_cannot_inject_markup(client, login_as, make_person):
    login_as(Role.FOCAL_POINT)
    payload = '<script>alert(1)</script>\u202eسلمى"><img src=x onerror=alert(2)>'
    person = make_person(
        identity={"name_ar": payload, "notes": payload, "email": "x@example.org"},
        consents={"contact": True},
    )
    for page in (reveal(client, person), reveal(client, person, purpose="edit")):
        assert "<script>alert(1)" not in page.text
        assert "<img src=x" not in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
