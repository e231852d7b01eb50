"""The partner rules, as the importer, the API and the forms all meet them."""

from __future__ import annotations

import pytest
from flask_babel import force_locale
from sqlalchemy import select, text

from crm.audit.models import AuditEntry
from crm.codes import PartnerType, Role, VictimGroup
from crm.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from crm.extensions import db as _db
from crm.partners import services as svc
from crm.partners.models import Partner


def messages(exc: ValidationError, field: str, language: str = "en") -> list[str]:
    with force_locale(language):
        return [str(m) for m in exc.errors.get(field, [])]


def test_create_with_plain_import_values(records_admin):
    partner = svc.create_partner(
        {
            "ref": "P-IMP-1",
            "name_en": "  Caesar Families Association ",
            "name_ar": "رابطة عائلات قيصر",
            "acronym": "CFA",
            "type": "Victim, survivor or family association",  # an English label
            "country": "tr",
            "city": "Gaziantep",
            "women_led": "نعم",
            "victim_groups": "missing_disappeared؛ detention_torture",
            "languages": "ar; EN",
            "email": "Contact@Example.org",
            "phone": "+90 ٥٥٥ 123 4567",
            "confidential": "no",
            "notes": "Met in Geneva.",
        },
        actor=records_admin,
    )
    assert partner.id and partner.ref == "P-IMP-1"
    assert partner.name_en == "Caesar Families Association"
    assert partner.type == PartnerType.VICTIMS_ASSOCIATION
    assert partner.country == "TR"
    assert partner.women_led is True
    assert sorted(g.code for g in partner.victim_groups) == [
        VictimGroup.DETENTION_TORTURE,
        VictimGroup.MISSING_DISAPPEARED,
    ]
    assert partner.languages == ["ar", "en"]
    assert partner.email == "Contact@example.org"
    assert partner.phone == "+90 555 123 4567"
    assert partner.version == 1
    entry = _db.session.execute(
        select(AuditEntry).where(
            AuditEntry.object_type == "partners", AuditEntry.object_id == partner.id
        )
    ).scalar_one()
    assert entry.action == "partner.create"
    # Contact details and notes never reach the audit trail in clear.
    assert "Contact@example.org" not in entry.details and "Geneva" not in entry.details


def test_arabic_label_of_a_code_is_accepted(records_admin):
    with force_locale("ar"):
        label = str(PartnerType.INTERNATIONAL_NGO.label)
    partner = svc.create_partner({"name_ar": "منظمة", "type": label}, actor=records_admin)
    assert partner.type == PartnerType.INTERNATIONAL_NGO


def test_a_reference_is_made_when_none_is_given(records_admin):
    first = svc.create_partner({"name_en": "One", "type": "media"}, actor=records_admin)
    second = svc.create_partner({"name_en": "Two", "type": "media"}, actor=records_admin)
    assert first.ref.startswith("P-") and second.ref.startswith("P-")
    assert first.ref != second.ref


@pytest.mark.parametrize(
    ("data", "field", "english", "arabic"),
    [
        (
            {"type": "syrian_cso"},
            "name_en",
            "Enter the name in Arabic or in English (at least one).",
            "أدخل الاسم بالعربية أو بالإنكليزية (أحدهما على الأقل).",
        ),
        (
            {"type": "syrian_cso"},
            "name_ar",
            "Enter the name in Arabic or in English (at least one).",
            "أدخل الاسم بالعربية أو بالإنكليزية (أحدهما على الأقل).",
        ),
        ({"name_en": "X"}, "type", "Choose a type from the list.", "اختر نوعًا من القائمة."),
        (
            {"name_en": "X", "type": "bakery"},
            "type",
            "Choose a type from the list.",
            "اختر نوعًا من القائمة.",
        ),
        (
            {"name_en": "X", "type": "media", "country": "XX"},
            "country",
            "Choose a country from the list (ISO 3166 two-letter code).",
            "اختر بلدًا من القائمة (الرمز المؤلف من حرفين وفق المعيار ISO 3166).",
        ),
        (
            {"name_en": "X", "type": "media", "email": "not-an-address"},
            "email",
            "Enter a valid e-mail address.",
            "أدخل عنوان بريد إلكتروني صحيحًا.",
        ),
        (
            {"name_en": "X", "type": "media", "phone": "call me"},
            "phone",
            "Enter a phone number, such as +90 555 123 4567.",
            "أدخل رقم هاتف، مثل ‎+90 555 123 4567.",
        ),
        (
            {"name_en": "X", "type": "media", "website": "javascript:alert(1)"},
            "website",
            "Enter a web address starting with http:// or https://.",
            "أدخل عنوانًا على الويب يبدأ بـ http://‎ أو https://‎.",
        ),
        (
            {"name_en": "X", "type": "media", "languages": "arabic"},
            "languages",
            "Use two-letter language codes (ISO 639-1), such as ar or en.",
            "استخدم رموز اللغات المؤلفة من حرفين (ISO 639-1)، مثل ar أو en.",
        ),
        (
            {"name_en": "X", "type": "media", "victim_groups": "everyone"},
            "victim_groups",
            "Choose victim groups from the list.",
            "اختر فئات الضحايا من القائمة.",
        ),
        (
            {"name_en": "X", "type": "media", "women_led": "perhaps"},
            "women_led",
            "Answer yes or no.",
            "أجب بنعم أو لا.",
        ),
        (
            {"name_en": "X" * 301, "type": "media"},
            "name_en",
            "This is too long: at most 300 characters.",
            "هذا أطول من اللازم: 300 حرف على الأكثر.",
        ),
        (
            {"name_en": "X", "type": "media", "ref": "P\u202e-1"},
            "ref",
            "A reference cannot contain control or direction characters.",
            "لا يجوز أن يحتوي المرجع على محارف تحكم أو محارف اتجاه.",
        ),
    ],
)
def test_each_rule_has_its_message_next_to_its_field(records_admin, data, field, english, arabic):
    with pytest.raises(ValidationError) as caught:
        svc.create_partner(data, actor=records_admin)
    assert messages(caught.value, field) == [english]
    assert messages(caught.value, field, "ar") == [arabic]


def test_all_errors_are_reported_at_once(records_admin):
    with pytest.raises(ValidationError) as caught:
        svc.create_partner({"country": "ZZ", "email": "x"}, actor=records_admin)
    assert set(caught.value.errors) >= {"name_en", "name_ar", "type", "country", "email"}


def test_reference_is_unique(records_admin, make_partner):
    make_partner(ref="P-SAME")
    with pytest.raises(ValidationError) as caught:
        svc.create_partner(
            {"ref": "P-SAME", "name_en": "Other", "type": "media"}, actor=records_admin
        )
    assert messages(caught.value, "ref") == ["Another record already has this reference."]
    assert messages(caught.value, "ref", "ar") == ["يحمل سجل آخر هذا المرجع."]


def test_unknown_field_is_refused(records_admin):
    with pytest.raises(ValidationError) as caught:
        svc.create_partner({"name_en": "X", "type": "media", "colour": "red"}, actor=records_admin)
    assert "colour" in messages(caught.value, "")[0]


def test_update_changes_only_given_fields_and_keeps_one_name(make_partner, records_admin):
    partner = make_partner(name_en="Old", name_ar="قديم", city="Idlib")
    svc.update_partner(partner, {"name_en": "New"}, actor=records_admin)
    assert (partner.name_en, partner.name_ar, partner.city) == ("New", "قديم", "Idlib")
    with pytest.raises(ValidationError) as caught:
        svc.update_partner(partner, {"name_en": "", "name_ar": " "}, actor=records_admin)
    assert "name_ar" in caught.value.errors


def test_stale_version_is_a_conflict(make_partner, records_admin):
    partner = make_partner()
    seen = partner.version
    svc.update_partner(partner, {"city": "Gaziantep"}, actor=records_admin, version=seen)
    with pytest.raises(ConflictError) as caught:
        svc.update_partner(partner, {"city": "Berlin"}, actor=records_admin, version=seen)
    assert caught.value.current is partner
    assert partner.city == "Gaziantep"
    # The importer passes no version: no check.
    svc.update_partner(partner, {"city": "Berlin"}, actor=records_admin)
    assert partner.city == "Berlin"


def test_a_change_of_victim_groups_alone_moves_the_version(make_partner, records_admin):
    partner = make_partner()
    before = partner.version
    svc.update_partner(partner, {"victim_groups": ["sgbv"]}, actor=records_admin, version=before)
    assert partner.version == before + 1


def test_security_note_is_encrypted_and_only_for_confidential_roles(make_partner, make_user, db):
    partner = make_partner(security_note="Based inside Syria, at risk")
    raw = db.session.execute(
        text("SELECT security_note_enc FROM partners WHERE id = :id"), {"id": partner.id}
    ).scalar_one()
    assert b"Syria" not in bytes(raw)
    assert (
        svc.security_note(partner, actor=make_user(role=Role.OUTREACH))
        == "Based inside Syria, at risk"
    )
    assert (
        svc.security_note(partner, actor=make_user(role=Role.REPORTING))
        == "Based inside Syria, at risk"
    )
    assert svc.security_note(partner, actor=make_user(role=Role.VIEWER)) is None
    details = db.session.execute(
        select(AuditEntry.details).where(
            AuditEntry.object_type == "partners", AuditEntry.object_id == partner.id
        )
    ).scalar_one()
    assert "Syria" not in details and "security_note" in details


def test_a_moved_security_note_does_not_decrypt(make_partner, records_admin):
    one = make_partner(security_note="secret one")
    other = make_partner()
    other.security_note_enc = one.security_note_enc
    assert svc.security_note(other, actor=records_admin) is None


def test_roles_without_edit_permission_cannot_change_partners(make_partner, make_user):
    partner = make_partner()
    for role in (Role.REPORTING, Role.VIEWER):
        actor = make_user(role=role)
        with pytest.raises(PermissionDenied):
            svc.create_partner({"name_en": "X", "type": "media"}, actor=actor)
        with pytest.raises(PermissionDenied):
            svc.update_partner(partner, {"city": "X"}, actor=actor)
        with pytest.raises(PermissionDenied):
            svc.archive_partner(partner, actor=actor)


class ViewerWithEdit:
    """A role that may edit but not see confidential records (none exists today):
    it still cannot set what it cannot see."""

    id = None

    def can(self, permission):
        from crm.security import Permission

        return permission in (Permission.PARTNERS_VIEW, Permission.PARTNERS_EDIT)


def test_fields_a_role_cannot_see_cannot_be_set():
    with pytest.raises(PermissionDenied):
        svc.create_partner(
            {"name_en": "X", "type": "media", "security_note": "x"}, actor=ViewerWithEdit()
        )
    with pytest.raises(PermissionDenied):
        svc.create_partner(
            {"name_en": "X", "type": "media", "confidential": True}, actor=ViewerWithEdit()
        )


def test_archive_and_restore(make_partner, make_user, records_admin):
    partner = make_partner()
    outreach = make_user(role=Role.OUTREACH)
    svc.archive_partner(partner, actor=outreach)
    assert partner.is_archived
    # Out of lists and counts, and out of reach for everyone but administrators.
    ids = _db.session.execute(svc.partner_query({}, actor=outreach)).scalars().all()
    assert partner not in ids
    with pytest.raises(NotFound):
        svc.get_partner(partner.id, actor=outreach)
    with pytest.raises(PermissionDenied):
        svc.restore_partner(partner, actor=outreach)
    assert (
        partner
        in _db.session.execute(svc.partner_query({"archived": True}, actor=records_admin))
        .scalars()
        .all()
    )
    svc.restore_partner(partner, actor=records_admin)
    assert not partner.is_archived
    assert svc.get_partner(partner.id, actor=outreach) is partner
    actions = (
        _db.session.execute(
            select(AuditEntry.action).where(
                AuditEntry.object_type == "partners", AuditEntry.object_id == partner.id
            )
        )
        .scalars()
        .all()
    )
    assert actions == ["partner.create", "partner.archive", "partner.restore"]


def test_confidential_partners_are_invisible_to_viewers(make_partner, make_user):
    hidden = make_partner(name_en="Hidden Network", confidential=True)
    shown = make_partner(name_en="Open Network")
    viewer = make_user(role=Role.VIEWER)
    found = _db.session.execute(svc.partner_query({"q": "network"}, actor=viewer)).scalars().all()
    assert found == [shown]
    # The confidential filter cannot be used to probe either.
    assert _db.session.execute(
        svc.partner_query({"confidential": True}, actor=viewer)
    ).scalars().all() == [shown]
    with pytest.raises(NotFound):
        svc.get_partner(hidden.id, actor=viewer)
    reporting = make_user(role=Role.REPORTING)
    assert svc.get_partner(hidden.id, actor=reporting) is hidden


def test_search_finds_a_word_in_either_script_and_spelling(make_partner, make_user):
    partner = make_partner(
        name_en="Syrian Women's Network", name_ar="شبكة المرأة السورية", acronym="SWN"
    )
    make_partner(name_en="Other Body", name_ar="هيئة أخرى")
    actor = make_user(role=Role.VIEWER)

    def search(q):
        return _db.session.execute(svc.partner_query({"q": q}, actor=actor)).scalars().all()

    assert search("women") == [partner]
    assert search("swn") == [partner]
    assert search("المراة") == [partner]  # hamza folded
    assert search("السوريه") == [partner]  # taa marbuta folded
    assert search(partner.ref) == [partner]
    assert search("absent") == []


def test_filters(make_partner, make_user):
    women = make_partner(
        type="victims_association", country="DE", women_led=True, victim_groups=["sgbv"]
    )
    make_partner(type="media", country="TR")
    actor = make_user(role=Role.OUTREACH)

    def find(**filters):
        return _db.session.execute(svc.partner_query(filters, actor=actor)).scalars().all()

    assert find(type=["victims_association"]) == [women]
    assert find(country=["DE"]) == [women]
    assert find(women_led=True) == [women]
    assert find(victim_group=["sgbv"]) == [women]


def test_public_name_withholds_names(make_partner):
    named = make_partner(name_en="Open Association", name_ar="جمعية علنية")
    hidden = make_partner(name_en="Hidden Group", name_ar="مجموعة", do_not_name_publicly=True)
    assert svc.public_name(named, "en") == "Open Association"
    assert svc.public_name(named, "ar") == "جمعية علنية"
    assert svc.public_name(hidden, "en") == "Syrian civil society organisation (name withheld)"
    assert svc.public_name(hidden, "ar") == "منظمة مجتمع مدني سورية (حُجب الاسم)"
    assert "Hidden" not in svc.public_name(hidden, "en")


def test_contacts(make_partner, make_user, records_admin):
    partner = make_partner()
    contact = svc.create_contact(
        partner,
        {"name_ar": "ليلى", "preferred_language": "AR", "agreed_to_contact": "yes"},
        actor=records_admin,
    )
    assert contact.preferred_language == "ar" and contact.agreed_to_contact is True
    with pytest.raises(ValidationError) as caught:
        svc.create_contact(partner, {"role": "Director"}, actor=records_admin)
    assert set(caught.value.errors) == {"name_en", "name_ar"}
    with pytest.raises(ConflictError):
        svc.update_contact(
            contact, {"role": "Director"}, actor=records_admin, version=contact.version + 1
        )
    svc.update_contact(contact, {"role": "Director"}, actor=records_admin, version=contact.version)
    assert svc.contacts_of(partner, actor=records_admin) == [contact]
    # Viewers see no contact persons at all.
    assert svc.contacts_of(partner, actor=make_user(role=Role.VIEWER)) == []
    svc.archive_contact(contact, actor=records_admin)
    assert svc.contacts_of(partner, actor=records_admin) == []
    with pytest.raises(NotFound):
        svc.get_contact(partner, contact.id, actor=records_admin)


def test_contact_names_are_redacted_in_the_audit_trail(make_partner, records_admin):
    partner = make_partner()
    contact = svc.create_contact(partner, {"name_en": "Samira Khalil"}, actor=records_admin)
    details = _db.session.execute(
        select(AuditEntry.details).where(
            AuditEntry.object_type == "contacts", AuditEntry.object_id == contact.id
        )
    ).scalar_one()
    assert "Samira" not in details


def test_get_partner_of_a_missing_id(records_admin):
    with pytest.raises(NotFound):
        svc.get_partner(999999, actor=records_admin)
    with pytest.raises(NotFound):
        svc.get_partner("nonsense", actor=records_admin)


def test_partner_query_is_a_select_for_exports(make_partner, records_admin):
    make_partner()
    stmt = svc.partner_query({}, actor=records_admin)
    assert _db.session.execute(stmt.with_only_columns(Partner.id)).scalars().all()
