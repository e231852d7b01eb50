"""What each role sees and can do on the partner pages, in both languages."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from crm.codes import Role
from crm.extensions import db as _db
from crm.partners.models import Contact, Partner

EDITORS = [Role.ADMIN, Role.OUTREACH, Role.FOCAL_POINT]
READERS = [Role.REPORTING, Role.VIEWER]
ALL_ROLES = EDITORS + READERS


def form_data(**overrides):
    data = {
        "name_en": "Syrian Archive",
        "name_ar": "الأرشيف السوري",
        "acronym": "SA",
        "ref": "",
        "type": "syrian_cso",
        "country": "DE",
        "city": "Berlin",
        "email": "info@example.org",
        "phone": "+49 30 1234",
        "website": "https://example.org",
        "notes": "",
        "security_note": "",
    }
    data.update(overrides)
    return data


# --- access of each role -----------------------------------------------------------


@pytest.mark.parametrize("role", ALL_ROLES)
def test_every_role_sees_the_list_and_a_partner(client, login_as, make_partner, role):
    partner = make_partner(name_en="Caesar Families Association", name_ar="رابطة عائلات قيصر")
    login_as(role)
    listing = client.get("/partners/")
    assert listing.status_code == 200
    assert "Caesar Families Association" in listing.text
    page = client.get(f"/partners/{partner.id}")
    assert page.status_code == 200
    assert "رابطة عائلات قيصر" in page.text
    assert client.get("/partners/needs-translation").status_code == 200


@pytest.mark.parametrize("role", ALL_ROLES)
def test_who_may_open_the_forms(client, login_as, make_partner, role):
    partner = make_partner()
    login_as(role)
    expected = 200 if role in EDITORS else 403
    assert client.get("/partners/new").status_code == expected
    assert client.get(f"/partners/{partner.id}/edit").status_code == expected
    assert client.get(f"/partners/{partner.id}/contacts/new").status_code == expected
    page = client.get(f"/partners/{partner.id}")
    assert (f"/partners/{partner.id}/edit" in page.text) is (role in EDITORS)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_who_may_archive_and_restore(client, login_as, make_partner, records_admin, role):
    from crm.partners.services import archive_partner

    partner = make_partner()
    login_as(role)
    response = client.post(f"/partners/{partner.id}/archive", data={"version": partner.version})
    if role in EDITORS:
        assert response.status_code == 302
        assert partner.is_archived
    else:
        assert response.status_code == 403
        assert not partner.is_archived
        archive_partner(partner, actor=records_admin)
    response = client.post(f"/partners/{partner.id}/restore")
    if role == Role.ADMIN:
        assert response.status_code == 302 and not partner.is_archived
    else:
        assert response.status_code == 403 and partner.is_archived


@pytest.mark.parametrize("role", ALL_ROLES)
def test_confidential_partner_is_invisible_to_viewers(client, login_as, make_partner, role):
    hidden = make_partner(name_en="Hidden Network", confidential=True, security_note="Inside Syria")
    make_partner(name_en="Open Network")
    login_as(role)
    listing = client.get("/partners/?q=network")
    page = client.get(f"/partners/{hidden.id}")
    if role == Role.VIEWER:
        assert "Hidden Network" not in listing.text
        assert "1 record" in listing.text  # counts leave it out too
        assert page.status_code == 404
        assert "Hidden Network" not in page.text
        assert client.get(f"/partners/{hidden.id}/edit").status_code == 403
    else:
        assert "Hidden Network" in listing.text and "2 records" in listing.text
        assert page.status_code == 200
        assert "Inside Syria" in page.text


def test_viewer_sees_neither_security_note_nor_contacts(
    client, login_as, make_partner, make_contact
):
    partner = make_partner(security_note="Office raided in 2019")
    make_contact(partner, name_en="Samira Khalil", email="samira@example.org")
    login_as(Role.VIEWER)
    page = client.get(f"/partners/{partner.id}")
    assert page.status_code == 200
    assert "Office raided" not in page.text
    assert "Samira" not in page.text and "samira@example.org" not in page.text
    login_as(Role.REPORTING)
    page = client.get(f"/partners/{partner.id}")
    assert "Office raided" in page.text and "Samira Khalil" in page.text


def test_archived_partner_is_404_for_all_but_administrators(client, login_as, make_partner):
    partner = make_partner(name_en="Gone Org", archived=True)
    login_as(Role.OUTREACH)
    assert client.get(f"/partners/{partner.id}").status_code == 404
    assert "Gone Org" not in client.get("/partners/").text
    # The archived filter is for administrators only.
    assert "Gone Org" not in client.get("/partners/?archived=yes").text
    login_as(Role.ADMIN)
    page = client.get(f"/partners/{partner.id}")
    assert page.status_code == 200 and "This partner is archived" in page.text
    assert "Gone Org" in client.get("/partners/?archived=yes").text


# --- forms ----------------------------------------------------------------------


def test_create_a_partner_through_the_form(client, login_as):
    login_as(Role.OUTREACH)
    response = client.post(
        "/partners/new",
        data=form_data(
            victim_groups=["sgbv", "missing_disappeared"],
            languages=["ar", "en"],
            women_led="y",
            security_note="Staff in Idlib",
        ),
    )
    assert response.status_code == 302
    partner = _db.session.execute(
        select(Partner).where(Partner.name_en == "Syrian Archive")
    ).scalar_one()
    assert response.headers["Location"].endswith(f"/partners/{partner.id}")
    assert partner.women_led and partner.country == "DE" and partner.ref.startswith("P-")
    assert {g.code.value for g in partner.victim_groups} == {"sgbv", "missing_disappeared"}
    page = client.get(f"/partners/{partner.id}")
    assert "Staff in Idlib" in page.text
    assert "Survivors of sexual and gender-based violence" in page.text


def test_form_errors_are_shown_next_to_the_fields_in_english(client, login_as):
    login_as(Role.OUTREACH)
    page = client.post(
        "/partners/new", data=form_data(name_en="", name_ar="", type="", email="nope")
    )
    assert page.status_code == 200
    assert 'id="name_en-error"' in page.text and 'id="email-error"' in page.text
    assert "Enter the name in Arabic or in English (at least one)." in page.text
    assert "Enter a valid e-mail address." in page.text
    assert "There is a problem" in page.text
    assert _db.session.execute(select(Partner)).first() is None


def test_form_errors_are_shown_next_to_the_fields_in_arabic(client, login_as):
    login_as(Role.OUTREACH, locale="ar")
    page = client.post("/partners/new", data=form_data(name_en="", name_ar="", type=""))
    assert 'dir="rtl"' in page.text
    assert 'id="name_ar-error"' in page.text
    assert "أدخل الاسم بالعربية أو بالإنكليزية (أحدهما على الأقل)." in page.text
    assert "اختر نوعًا من القائمة." in page.text


def test_edit_keeps_values_and_saves(client, login_as, make_partner):
    partner = make_partner(
        name_en="Old Name", city="Idlib", victim_groups=["sgbv"], security_note="Keep quiet"
    )
    login_as(Role.FOCAL_POINT)
    form = client.get(f"/partners/{partner.id}/edit")
    assert 'value="Old Name"' in form.text and "Keep quiet" in form.text
    assert f'name="version" type="hidden" value="{partner.version}"' in form.text
    response = client.post(
        f"/partners/{partner.id}/edit",
        data=form_data(
            name_en="New Name",
            version=partner.version,
            victim_groups=["sgbv"],
            security_note="Keep quiet",
        ),
    )
    assert response.status_code == 302
    assert partner.name_en == "New Name"
    history = client.get(f"/partners/{partner.id}").text
    assert "Changed" in history and "Name in English" in history
    assert "Keep quiet" in history  # the note itself, shown in its section
    assert history.count("Keep quiet") == 1  # never in the history


def test_second_save_gets_the_conflict_page_and_loses_nothing(
    client, login_as, make_partner, records_admin
):
    from crm.partners.services import update_partner

    partner = make_partner(name_en="Original", city="Gaziantep")
    login_as(Role.OUTREACH)
    seen = partner.version
    # Someone else saves first.
    update_partner(partner, {"city": "Istanbul"}, actor=records_admin)
    page = client.post(
        f"/partners/{partner.id}/edit",
        data=form_data(name_en="My Title", city="Berlin", version=seen),
    )
    assert page.status_code == 409
    assert "Someone else saved this partner" in page.text
    assert "Berlin" in page.text and "Istanbul" in page.text  # both versions side by side
    assert 'value="My Title"' in page.text  # the user's input is kept in the form
    assert partner.name_en == "Original" and partner.city == "Istanbul"
    assert f'name="version" type="hidden" value="{partner.version}"' in page.text
    # Saving again from the conflict page keeps the user's version deliberately.
    response = client.post(
        f"/partners/{partner.id}/edit",
        data=form_data(name_en="My Title", city="Berlin", version=partner.version),
    )
    assert response.status_code == 302
    assert partner.city == "Berlin"


def test_conflict_page_in_arabic(client, login_as, make_partner, records_admin):
    from crm.partners.services import update_partner

    partner = make_partner()
    login_as(Role.OUTREACH, locale="ar")
    seen = partner.version
    update_partner(partner, {"city": "Istanbul"}, actor=records_admin)
    page = client.post(f"/partners/{partner.id}/edit", data=form_data(version=seen))
    assert page.status_code == 409
    assert 'dir="rtl"' in page.text and "نسختك" in page.text


def test_contacts_through_the_forms(client, login_as, make_partner):
    partner = make_partner()
    login_as(Role.OUTREACH)
    response = client.post(
        f"/partners/{partner.id}/contacts/new",
        data={
            "name_ar": "سميرة",
            "name_en": "",
            "role": "Director",
            "email": "s@example.org",
            "phone": "",
            "preferred_language": "ar",
            "agreed_to_contact": "y",
        },
    )
    assert response.status_code == 302
    contact = _db.session.execute(select(Contact)).scalar_one()
    page = client.get(f"/partners/{partner.id}")
    assert "سميرة" in page.text and "missing in English" in page.text
    edit = client.get(f"/partners/{partner.id}/contacts/{contact.id}/edit")
    assert "Director" in edit.text
    response = client.post(
        f"/partners/{partner.id}/contacts/{contact.id}/edit",
        data={
            "name_ar": "سميرة",
            "name_en": "Samira",
            "role": "Chair",
            "email": "",
            "phone": "",
            "preferred_language": "",
            "version": contact.version,
        },
    )
    assert (
        response.status_code == 302
        and contact.role == "Chair"
        and contact.agreed_to_contact is False
    )
    stale = client.post(
        f"/partners/{partner.id}/contacts/{contact.id}/edit",
        data={"name_ar": "سميرة", "role": "Other", "version": contact.version - 1},
    )
    assert stale.status_code == 409 and contact.role == "Chair"
    client.post(f"/partners/{partner.id}/contacts/{contact.id}/archive")
    assert contact.is_archived
    assert "Samira" not in client.get(f"/partners/{partner.id}").text
    assert client.get(f"/partners/{partner.id}/contacts/{contact.id}/edit").status_code == 404


def test_a_contact_of_another_partner_is_404(client, login_as, make_partner, make_contact):
    one, other = make_partner(), make_partner()
    contact = make_contact(one)
    login_as(Role.OUTREACH)
    assert client.get(f"/partners/{other.id}/contacts/{contact.id}/edit").status_code == 404


# --- the record page ------------------------------------------------------------


def test_partner_page_shows_frameworks_engagements_followups_and_history(
    client, login_as, make_partner, make_framework, db
):
    from crm.codes import (
        EngagementCategory,
        EngagementFormat,
        EngagementStatus,
        EngagementType,
        FollowUpStatus,
    )
    from crm.engagements.models import Engagement, EngagementPartner
    from crm.followups.models import FollowUp

    partner = make_partner(name_en="Platform Member")
    make_framework(partners=[partner], title_en="Data sharing MoU")
    engagement = Engagement(
        ref="E-1",
        title_en="Consultation in Gaziantep",
        category=EngagementCategory.VICTIMS_SURVIVORS,
        type=EngagementType.CONSULTATION,
        format=EngagementFormat.IN_PERSON,
        status=EngagementStatus.HELD,
        start_date=date(2024, 5, 2),
    )
    db.session.add(engagement)
    db.session.flush()
    db.session.add(EngagementPartner(engagement_id=engagement.id, partner_id=partner.id))
    db.session.add(
        FollowUp(title="Send the signed copy", status=FollowUpStatus.OPEN, partner_id=partner.id)
    )
    db.session.flush()
    login_as(Role.OUTREACH)
    page = client.get(f"/partners/{partner.id}").text
    assert "Data sharing MoU" in page
    assert "Consultation in Gaziantep" in page and "1 engagement" in page
    assert "Send the signed copy" in page
    assert "Created" in page and "Records Admin" in page


def test_partner_page_in_arabic(client, login_as, make_partner):
    partner = make_partner(name_en="Syrian Archive", name_ar="الأرشيف السوري", country="SY")
    login_as(Role.OUTREACH, locale="ar")
    page = client.get(f"/partners/{partner.id}")
    assert 'dir="rtl"' in page.text and 'lang="ar"' in page.text
    assert "سوريا" in page.text  # the country in the reader's language
    # The reader's language comes first.
    assert page.text.index("الأرشيف السوري") < page.text.index("Syrian Archive")
    listing = client.get("/partners/")
    assert "الشركاء" in listing.text


def test_missing_side_is_marked(client, login_as, make_partner):
    partner = make_partner(name_en="Only English")
    login_as(Role.OUTREACH)
    page = client.get(f"/partners/{partner.id}")
    assert "missing in Arabic" in page.text
    todo = client.get("/partners/needs-translation")
    assert "Only English" in todo.text and "1 partner to translate" in todo.text


def test_needs_translation_lists_frameworks_too(client, login_as, make_partner, make_framework):
    make_framework(title_en="English only MoU")
    make_framework(title_en="Both", title_ar="كلاهما")
    login_as(Role.VIEWER)
    page = client.get("/partners/needs-translation")
    assert "English only MoU" in page.text and "كلاهما" not in page.text
    assert "1 framework to translate" in page.text


def test_list_filters_sort_and_chips(client, login_as, make_partner):
    make_partner(name_en="Berlin Group", country="DE", type="international_ngo", women_led=True)
    make_partner(name_en="Ankara Group", country="TR", type="international_ngo")
    make_partner(name_en="Paris Press", country="FR", type="media")
    login_as(Role.VIEWER)
    page = client.get("/partners/?type=international_ngo&women_led=yes")
    assert (
        "Berlin Group" in page.text
        and "Ankara Group" not in page.text
        and "Paris Press" not in page.text
    )
    assert "Type: International NGO" in page.text and "Women-led: Yes" in page.text
    assert 'href="/partners/?women_led=yes"' in page.text  # the chip that removes the type
    page = client.get("/partners/?country=TR&country=FR&sort=name&dir=desc")
    assert page.text.index("Paris Press") < page.text.index("Ankara Group")
    assert "Berlin Group" not in page.text
    bogus = client.get("/partners/?country=ZZ&type=bakery&women_led=maybe&sort=drop+table")
    assert bogus.status_code == 200 and "3 records" in bogus.text


def test_search_in_both_scripts_from_the_list(client, login_as, make_partner):
    make_partner(name_en="Families for Truth and Justice", name_ar="عائلات من أجل الحقيقة والعدالة")
    make_partner(name_en="Other")
    login_as(Role.OUTREACH)
    assert "Families for Truth" in client.get("/partners/?q=justice").text
    arabic = client.get("/partners/?q=الحقيقه")  # taa marbuta typed as haa
    assert "Families for Truth" in arabic.text and "1 record" in arabic.text


def test_user_text_is_escaped(client, login_as, make_partner):
    partner = make_partner(
        name_en="<script>alert(1)</script>",
        name_ar="\u202eمرحبا",
        notes="<img src=x onerror=alert(1)>",
    )
    login_as(Role.OUTREACH)
    page = client.get(f"/partners/{partner.id}").text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert "<img src=x" not in page


def test_archive_needs_the_current_version(client, login_as, make_partner, records_admin):
    from crm.partners.services import update_partner

    partner = make_partner()
    login_as(Role.OUTREACH)
    seen = partner.version
    update_partner(partner, {"city": "Amman"}, actor=records_admin)
    response = client.post(f"/partners/{partner.id}/archive", data={"version": seen})
    assert response.status_code == 302 and not partner.is_archived


def test_csrf_is_required(app, client, login_as, make_partner, csrf):
    partner = make_partner()
    login_as(Role.OUTREACH)
    assert client.post(
        f"/partners/{partner.id}/archive", data={"version": partner.version}
    ).status_code in (302, 400)
    assert not partner.is_archived


def test_an_archived_partner_is_not_edited_until_restored(client, login_as, make_partner):
    partner = make_partner(archived=True)
    login_as(Role.ADMIN)
    assert client.get(f"/partners/{partner.id}/edit").status_code == 404
    assert client.get(f"/partners/{partner.id}/contacts/new").status_code == 404
    page = client.get(f"/partners/{partner.id}").text
    assert f"/partners/{partner.id}/edit" not in page and "Restore" in page
