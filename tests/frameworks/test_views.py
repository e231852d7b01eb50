"""What each role sees and can do on the framework pages, in both languages."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from crm.codes import Role
from crm.extensions import db as _db
from crm.followups.models import FollowUp
from crm.frameworks.models import Framework
from crm.reports.counting import framework_counts
from tests.confirming import confirm, is_confirmation

EDITORS = [Role.ADMIN, Role.OUTREACH, Role.FOCAL_POINT]
READERS = [Role.REPORTING, Role.VIEWER]
ALL_ROLES = EDITORS + READERS


def form_data(partner_ids, **overrides):
    data = {
        "title_en": "Memorandum with the Syrian Archive",
        "title_ar": "مذكرة تفاهم مع الأرشيف السوري",
        "ref": "",
        "instrument": "mou",
        "status": "in_force",
        "partner_ids": [str(i) for i in partner_ids],
        "purposes": "Preservation of evidence",
        "signed_on": "2024-02-01",
        "in_force_from": "",
        "expires_on": "2027-02-01",
        "terminated_on": "",
        "next_review_on": "",
        "responsible_id": "",
        "notes": "",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize("role", ALL_ROLES)
def test_every_role_sees_the_list_a_framework_and_the_alerts(
    client, login_as, make_framework, role
):
    framework = make_framework(title_en="Cooperation with the Lausanne Platform")
    login_as(role)
    assert "Cooperation with the Lausanne Platform" in client.get("/frameworks/").text
    page = client.get(f"/frameworks/{framework.id}")
    assert page.status_code == 200 and "Cooperation with the Lausanne Platform" in page.text
    assert client.get("/frameworks/alerts").status_code == 200


@pytest.mark.parametrize("role", ALL_ROLES)
def test_who_may_change_frameworks(client, login_as, make_framework, records_admin, role):
    from crm.frameworks.services import archive_framework

    framework = make_framework()
    login_as(role)
    expected = 200 if role in EDITORS else 403
    assert client.get("/frameworks/new").status_code == expected
    assert client.get(f"/frameworks/{framework.id}/edit").status_code == expected
    assert client.get(f"/frameworks/{framework.id}/amend").status_code == expected
    raised = client.post("/frameworks/alerts/raise")
    assert raised.status_code == (302 if role in EDITORS else 403)
    archived = client.post(
        f"/frameworks/{framework.id}/archive", data={"version": framework.version}
    )
    assert archived.status_code == (302 if role in EDITORS else 403)
    assert framework.is_archived is (role in EDITORS)
    if not framework.is_archived:
        archive_framework(framework, actor=records_admin)
    restored = client.post(f"/frameworks/{framework.id}/restore")
    assert restored.status_code == (302 if role == Role.ADMIN else 403)
    assert framework.is_archived is (role != Role.ADMIN)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_confidential_framework_is_invisible_to_viewers(client, login_as, make_framework, role):
    secret = make_framework(title_en="Secret Data Protocol", confidential=True)
    make_framework(title_en="Open Protocol")
    login_as(role)
    listing = client.get("/frameworks/?q=protocol")
    page = client.get(f"/frameworks/{secret.id}")
    if role == Role.VIEWER:
        assert "Secret Data Protocol" not in listing.text and "1 record" in listing.text
        assert page.status_code == 404
    else:
        assert "Secret Data Protocol" in listing.text and "2 records" in listing.text
        assert page.status_code == 200


def test_confidential_counterpart_is_not_named_to_viewers(
    client, login_as, make_framework, make_partner
):
    hidden = make_partner(name_en="Hidden Witness Network", confidential=True)
    framework = make_framework(partners=[hidden, make_partner(name_en="Open Partner")])
    login_as(Role.VIEWER)
    page = client.get(f"/frameworks/{framework.id}").text
    assert "Hidden Witness Network" not in page and "Open Partner" in page
    assert "1 confidential counterpart" in page
    assert "Hidden Witness Network" not in client.get("/frameworks/").text


def test_create_through_the_form(client, login_as, make_partner):
    one, two = make_partner(name_en="First"), make_partner(name_en="Second")
    user = login_as(Role.OUTREACH)
    form = client.get(f"/frameworks/new?partner={one.id}")
    assert (
        f'<option selected value="{one.id}">' in form.text
        or f'value="{one.id}" selected' in form.text
    )
    response = client.post(
        "/frameworks/new",
        data=form_data([one.id, two.id], responsible_id=str(user.id), signed_on="٢٠٢٤-٠٢-٠١"),
    )
    assert response.status_code == 302
    framework = _db.session.execute(select(Framework)).scalar_one()
    assert framework.partners == [one, two] and framework.signed_on == date(2024, 2, 1)
    assert framework.responsible_id == user.id and framework.ref.startswith("F-")
    page = client.get(f"/frameworks/{framework.id}").text
    assert "Preservation of evidence" in page and "Yes, as a concluded framework" in page


def test_lifecycle_errors_next_to_the_field_in_english(client, login_as, make_partner):
    partner = make_partner()
    login_as(Role.OUTREACH)
    page = client.post(
        "/frameworks/new",
        data=form_data(
            [partner.id],
            status="terminated",
            signed_on="2024-02-01",
            terminated_on="",
            expires_on="2020-01-01",
        ),
    )
    assert page.status_code == 200
    assert 'id="terminated_on-error"' in page.text and 'id="expires_on-error"' in page.text
    assert "A terminated framework needs its date of termination." in page.text
    assert "The expiry date cannot be before the date of signature." in page.text
    assert _db.session.execute(select(func.count()).select_from(Framework)).scalar_one() == 0


def test_lifecycle_errors_next_to_the_field_in_arabic(client, login_as, make_partner):
    make_partner()
    login_as(Role.OUTREACH, locale="ar")
    page = client.post("/frameworks/new", data=form_data([], signed_on=""))
    assert 'dir="rtl"' in page.text
    assert 'id="signed_on-error"' in page.text and 'id="partner_ids-error"' in page.text
    assert (
        "يحتاج الإطار النافذ أو المعلّق أو المنتهي الصلاحية أو المُنهى إلى تاريخ توقيعه." in page.text
    )
    assert "اختر طرفًا واحدًا على الأقل." in page.text


def test_a_bad_date_is_refused_by_the_form(client, login_as, make_partner):
    partner = make_partner()
    login_as(Role.OUTREACH)
    page = client.post("/frameworks/new", data=form_data([partner.id], signed_on="01/02/2024"))
    assert 'id="signed_on-error"' in page.text


def test_edit_and_conflict(client, login_as, make_framework, records_admin):
    from crm.frameworks.services import update_framework

    framework = make_framework(title_en="Original title")
    partner_ids = [p.id for p in framework.partners]
    login_as(Role.OUTREACH)
    form = client.get(f"/frameworks/{framework.id}/edit")
    assert 'value="Original title"' in form.text and 'value="2023-03-01"' in form.text
    seen = framework.version
    update_framework(framework, {"expires_on": date(2030, 1, 1)}, actor=records_admin)
    page = client.post(
        f"/frameworks/{framework.id}/edit",
        data=form_data(partner_ids, title_en="My new title", expires_on="2029-01-01", version=seen),
    )
    assert page.status_code == 409
    assert "Someone else saved this framework" in page.text
    assert "1 Jan 2029" in page.text and "1 Jan 2030" in page.text
    assert 'value="My new title"' in page.text
    assert framework.title_en == "Original title"
    url = f"/frameworks/{framework.id}/edit"
    page = client.post(
        url, data=form_data(partner_ids, title_en="My new title", version=framework.version)
    )
    # The expiry date goes back from 2030 to 2027: shown before saving.
    assert is_confirmation(page) and "1 January 2030" in page.text
    assert framework.title_en == "Original title"
    saved = confirm(client, url, page)
    assert saved.status_code == 302 and framework.title_en == "My new title"
    assert "Title in English" in client.get(f"/frameworks/{framework.id}").text  # in the history


def test_amendment_from_the_framework_page(client, login_as, make_framework):
    parent = make_framework(title_en="Parent MoU")
    login_as(Role.OUTREACH)
    page = client.get(f"/frameworks/{parent.id}")
    assert f"/frameworks/{parent.id}/amend" in page.text
    response = client.post(
        f"/frameworks/{parent.id}/amend",
        data={
            "amendment_kind": "renewal",
            "title_en": "Renewal 2026",
            "title_ar": "",
            "ref": "",
            "status": "in_force",
            "signed_on": "2026-03-01",
            "in_force_from": "",
            "expires_on": "2029-03-01",
            "purposes": "",
            "notes": "",
        },
    )
    assert response.status_code == 302
    renewal = _db.session.execute(
        select(Framework).where(Framework.amends_id == parent.id)
    ).scalar_one()
    assert framework_counts(renewal.id) is False and renewal.partners == parent.partners
    page = client.get(f"/frameworks/{parent.id}").text
    assert "Renewal 2026" in page and "Amendment recorded" in page
    child = client.get(f"/frameworks/{renewal.id}").text
    assert "This is an amendment" in child and "Parent MoU" in child
    assert f"/frameworks/{renewal.id}/amend" not in child  # an amendment is not amended
    # The list counts frameworks, not amendments.
    listing = client.get("/frameworks/")
    assert "1 record" in listing.text and "Renewal 2026" not in listing.text
    both = client.get("/frameworks/?amendments=include")
    assert "2 records" in both.text and "Renewal 2026" in both.text


def test_amendment_needs_its_kind(client, login_as, make_framework):
    parent = make_framework()
    login_as(Role.OUTREACH)
    page = client.post(
        f"/frameworks/{parent.id}/amend",
        data={"title_en": "Something", "status": "in_force", "signed_on": "2026-03-01"},
    )
    assert page.status_code == 200 and 'id="amendment_kind-error"' in page.text


def test_a_draft_cannot_be_amended(client, login_as, make_framework):
    draft = make_framework(status="draft", signed_on=None)
    login_as(Role.OUTREACH)
    assert client.get(f"/frameworks/{draft.id}/amend").status_code == 404


def test_list_filters_and_chips(client, login_as, make_framework, make_partner):
    state = make_partner(name_en="Prosecution Service", type="state")
    make_framework(
        title_en="Protocol Alpha",
        instrument="protocol",
        signed_on=date(2021, 5, 1),
        partners=[state],
    )
    make_framework(title_en="MoU Beta", instrument="mou", signed_on=date(2024, 5, 1))
    make_framework(title_en="Draft Gamma", status="draft", signed_on=None)
    login_as(Role.VIEWER)
    page = client.get("/frameworks/?instrument=protocol").text
    assert "Protocol Alpha" in page and "MoU Beta" not in page
    assert "Instrument: Protocol" in page
    page = client.get("/frameworks/?signed_year=2024").text
    assert "MoU Beta" in page and "Protocol Alpha" not in page and "Year of signature: 2024" in page
    page = client.get("/frameworks/?status=draft").text
    assert "Draft Gamma" in page and "MoU Beta" not in page
    page = client.get("/frameworks/?partner_type=state").text
    assert "Protocol Alpha" in page and "MoU Beta" not in page
    page = client.get(f"/frameworks/?partner={state.id}").text
    assert "Protocol Alpha" in page and "Partner: Prosecution Service" in page
    page = client.get("/frameworks/?sort=signed&dir=asc").text
    assert page.index("Protocol Alpha") < page.index("MoU Beta")


def test_search_in_both_scripts(client, login_as, make_framework):
    make_framework(title_en="Memorandum on missing persons", title_ar="مذكرة بشأن المفقودين")
    make_framework(title_en="Other")
    login_as(Role.OUTREACH)
    assert "Memorandum on missing persons" in client.get("/frameworks/?q=missing").text
    arabic = client.get("/frameworks/?q=المفقودين")
    assert "Memorandum on missing persons" in arabic.text and "1 record" in arabic.text


def test_framework_pages_in_arabic(client, login_as, make_framework):
    framework = make_framework(title_en="Memorandum", title_ar="مذكرة تفاهم")
    login_as(Role.OUTREACH, locale="ar")
    page = client.get(f"/frameworks/{framework.id}")
    assert 'dir="rtl"' in page.text and "نافذ" in page.text
    assert page.text.index("مذكرة تفاهم") < page.text.index("Memorandum")
    assert "2023" in page.text and "1 Mar 2023" not in page.text  # dates in ar_SY
    assert "أطر التعاون" in client.get("/frameworks/").text
    assert 'dir="rtl"' in client.get("/frameworks/alerts").text


def test_dashboard_panel_and_alerts(client, login_as, make_framework):
    today = date.today()
    make_framework(title_en="Expiring MoU", expires_on=today + timedelta(days=20))
    make_framework(
        title_en="Stale MoU", signed_on=date(2019, 1, 1), expires_on=today - timedelta(days=3)
    )
    make_framework(title_en="Review MoU", next_review_on=today + timedelta(days=5))
    make_framework(title_en="Far MoU", expires_on=today + timedelta(days=400))
    login_as(Role.VIEWER)
    home = client.get("/").text
    assert "Frameworks needing attention" in home
    assert "Expiring MoU" in home and "Stale MoU" in home and "Review MoU" in home
    assert "Far MoU" not in home
    alerts = client.get("/frameworks/alerts").text
    assert "Expired but still in force" in alerts and "Stale MoU" in alerts
    assert "Raise follow-ups now" not in alerts  # viewers do not raise follow-ups
    stale = client.get("/frameworks/?alert=expired_in_force&amendments=include").text
    assert "Stale MoU" in stale and "Expiring MoU" not in stale


def test_raise_follow_ups_from_the_alerts_page(client, login_as, make_framework):
    user = login_as(Role.OUTREACH)
    make_framework(expires_on=date.today() + timedelta(days=20), responsible_id=user.id)
    page = client.post("/frameworks/alerts/raise", follow_redirects=True)
    assert "1 follow-up raised." in page.text
    page = client.post("/frameworks/alerts/raise", follow_redirects=True)
    assert "0 follow-ups raised." in page.text
    assert _db.session.execute(select(func.count()).select_from(FollowUp)).scalar_one() == 1


def test_follow_ups_show_on_the_framework_page(client, login_as, make_framework):
    from crm.frameworks.services import raise_framework_alerts

    framework = make_framework(ref="F-ALERT", expires_on=date.today() + timedelta(days=20))
    raise_framework_alerts(date.today(), window_days=90)
    login_as(Role.REPORTING)
    assert "Framework F-ALERT expires on" in client.get(f"/frameworks/{framework.id}").text
    login_as(Role.VIEWER)  # viewers do not see follow-ups
    assert "Framework F-ALERT expires on" not in client.get(f"/frameworks/{framework.id}").text


def test_a_missing_framework_is_404(client, login_as):
    login_as(Role.ADMIN)
    assert client.get("/frameworks/999999").status_code == 404
    assert client.get("/frameworks/999999/documents/1").status_code == 404


def test_every_screen_renders_in_arabic(
    client, login_as, make_partner, make_contact, make_framework
):
    partner = make_partner(name_ar="الأرشيف السوري")
    contact = make_contact(partner)
    framework = make_framework(partners=[partner], title_ar="مذكرة تفاهم")
    login_as(Role.ADMIN, locale="ar")
    screens = {
        "/partners/": "الشركاء",
        "/partners/new": "جهة شريكة جديدة",
        f"/partners/{partner.id}": "جهات الاتصال",
        f"/partners/{partner.id}/edit": "تعديل الجهة الشريكة",
        f"/partners/{partner.id}/contacts/new": "جهة اتصال جديدة",
        f"/partners/{partner.id}/contacts/{contact.id}/edit": "تعديل جهة الاتصال",
        "/partners/needs-translation": "بحاجة إلى ترجمة",
        "/frameworks/": "أطر التعاون",
        "/frameworks/new": "إطار جديد",
        f"/frameworks/{framework.id}": "الوثائق الموقّعة",
        f"/frameworks/{framework.id}/edit": "تعديل الإطار",
        f"/frameworks/{framework.id}/amend": "تسجيل تعديل",
        "/frameworks/alerts": "تنبيهات الأطر",
        "/": "أطر تحتاج إلى اهتمام",
    }
    for url, heading in screens.items():
        page = client.get(url)
        assert page.status_code == 200, url
        assert '<html lang="ar" dir="rtl">' in page.text, url
        assert heading in page.text, url


def test_framework_page_lists_its_open_follow_ups(client, login_as, make_framework, make_follow_up):
    login_as("outreach")
    framework = make_framework()
    make_follow_up(framework_id=framework.id, title="Send the signed copy")
    page = client.get(f"/frameworks/{framework.id}")
    assert "Open follow-ups" in page.text and "Send the signed copy" in page.text
