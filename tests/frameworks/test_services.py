"""The framework rules: lifecycle, amendments, visibility and alerts."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from crm.codes import AmendmentKind, FrameworkStatus, Instrument, Role
from crm.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from crm.extensions import db as _db
from crm.followups.models import FollowUp
from crm.frameworks import services as svc
from crm.frameworks.models import Framework
from crm.reports.counting import framework_counts


def messages(exc: ValidationError, field: str, language: str = "en") -> list[str]:
    with force_locale(language):
        return [str(m) for m in exc.errors.get(field, [])]


def test_create_with_plain_import_values(records_admin, make_partner):
    one, two = make_partner(), make_partner()
    framework = svc.create_framework(
        {
            "ref": "MOU-2024-07",
            "title_en": "Memorandum with the Platform",
            "title_ar": "مذكرة تفاهم مع المنصة",
            "instrument": "Memorandum of understanding",
            "partner_ids": f"{one.id}; {two.id}",
            "purposes": "Information sharing",
            "status": "in_force",
            "signed_on": "2024-03-01",
            "in_force_from": "٢٠٢٤-٠٣-١٥",
            "expires_on": "2027-03-01",
            "confidential": "false",
            "responsible_id": records_admin.id,
            "next_review_on": "2025-03-01",
        },
        actor=records_admin,
    )
    assert framework.instrument == Instrument.MOU
    assert framework.partners == [one, two]
    assert framework.in_force_from == date(2024, 3, 15)
    assert framework_counts(framework.id) and framework.effective_date == date(2024, 3, 15)
    assert framework.version == 1


def test_a_protocol_with_28_signatories_is_one_framework(records_admin, make_partner):
    partners = [make_partner() for _ in range(28)]
    framework = svc.create_framework(
        {
            "title_en": "Protocol",
            "instrument": "protocol",
            "status": "in_force",
            "signed_on": date(2023, 5, 1),
            "partner_ids": [p.id for p in partners],
        },
        actor=records_admin,
    )
    assert len(framework.partners) == 28
    assert _db.session.execute(select(func.count()).select_from(Framework)).scalar_one() == 1


BASE = {
    "title_en": "MoU",
    "instrument": "mou",
}


@pytest.mark.parametrize(
    ("data", "field", "english", "arabic"),
    [
        (
            {"status": "in_force"},
            "signed_on",
            "A framework in force, suspended, expired or terminated needs its date of signature.",
            "يحتاج الإطار النافذ أو المعلّق أو المنتهي الصلاحية أو المُنهى إلى تاريخ توقيعه.",
        ),
        (
            {"status": "expired"},
            "signed_on",
            "A framework in force, suspended, expired or terminated needs its date of signature.",
            "يحتاج الإطار النافذ أو المعلّق أو المنتهي الصلاحية أو المُنهى إلى تاريخ توقيعه.",
        ),
        (
            {"status": "terminated", "signed_on": "2023-01-01"},
            "terminated_on",
            "A terminated framework needs its date of termination.",
            "يحتاج الإطار المُنهى إلى تاريخ إنهائه.",
        ),
        (
            {"status": "terminated", "signed_on": "2023-01-01", "terminated_on": "2022-12-31"},
            "terminated_on",
            "The date of termination cannot be before the date of signature.",
            "لا يجوز أن يسبق تاريخ الإنهاء تاريخ التوقيع.",
        ),
        (
            {"status": "in_force", "signed_on": "2023-01-01", "expires_on": "2022-01-01"},
            "expires_on",
            "The expiry date cannot be before the date of signature.",
            "لا يجوز أن يسبق تاريخ انتهاء الصلاحية تاريخ التوقيع.",
        ),
        (
            {"status": "in_force", "signed_on": "2023-01-01", "in_force_from": "2022-06-01"},
            "in_force_from",
            "Entry into force cannot be before the date of signature.",
            "لا يجوز أن يسبق بدء النفاذ تاريخ التوقيع.",
        ),
        (
            {"status": "draft", "in_force_from": "2024-06-01", "expires_on": "2024-01-01"},
            "expires_on",
            "The expiry date cannot be before entry into force.",
            "لا يجوز أن يسبق تاريخ انتهاء الصلاحية بدء النفاذ.",
        ),
        (
            {"status": "in_force", "signed_on": "1 March"},
            "signed_on",
            "Enter a date as YYYY-MM-DD.",
            "أدخل التاريخ بالصيغة YYYY-MM-DD.",
        ),
        ({"status": "signed"}, "status", "Choose a status from the list.", "اختر حالة من القائمة."),
        (
            {"status": "draft", "instrument": "handshake"},
            "instrument",
            "Choose an instrument from the list.",
            "اختر نوع صك من القائمة.",
        ),
        (
            {"status": "draft", "title_en": ""},
            "title_ar",
            "Enter the title in Arabic or in English (at least one).",
            "أدخل العنوان بالعربية أو بالإنكليزية (أحدهما على الأقل).",
        ),
        (
            {"status": "draft", "amendment_kind": "renewal"},
            "amendment_kind",
            "Only an amendment has a kind; say which framework it amends.",
            "لا يكون النوع إلا للتعديل؛ حدّد الإطار الذي يعدّله.",
        ),
        (
            {"status": "draft", "responsible_id": 999999},
            "responsible_id",
            "Choose an active staff member.",
            "اختر موظفًا ذا حساب نشط.",
        ),
    ],
)
def test_lifecycle_rules_have_messages_next_to_the_field(
    records_admin, make_partner, data, field, english, arabic
):
    values = {**BASE, "partner_ids": [make_partner().id], **data}
    with pytest.raises(ValidationError) as caught:
        svc.create_framework(values, actor=records_admin)
    assert messages(caught.value, field) == [english]
    assert messages(caught.value, field, "ar") == [arabic]


def test_a_framework_needs_a_counterpart_that_exists(records_admin, make_partner):
    with pytest.raises(ValidationError) as caught:
        svc.create_framework({**BASE, "status": "draft", "partner_ids": []}, actor=records_admin)
    assert messages(caught.value, "partner_ids") == ["Choose at least one counterpart."]
    assert messages(caught.value, "partner_ids", "ar") == ["اختر طرفًا واحدًا على الأقل."]
    archived = make_partner(archived=True)
    for ids in ([999999], [archived.id]):
        with pytest.raises(ValidationError) as caught:
            svc.create_framework(
                {**BASE, "status": "draft", "partner_ids": ids}, actor=records_admin
            )
        assert messages(caught.value, "partner_ids") == [
            "A counterpart was not found among the partners."
        ]


def test_a_viewer_cannot_link_what_it_cannot_see(make_user, make_partner):
    class EditorWithoutConfidential:
        id = None

        def can(self, permission):
            from crm.security import Permission

            return permission in (
                Permission.FRAMEWORKS_VIEW,
                Permission.FRAMEWORKS_EDIT,
                Permission.PARTNERS_VIEW,
            )

    hidden = make_partner(confidential=True)
    with pytest.raises(ValidationError) as caught:
        svc.create_framework(
            {**BASE, "status": "draft", "partner_ids": [hidden.id]},
            actor=EditorWithoutConfidential(),
        )
    assert "partner_ids" in caught.value.errors
    with pytest.raises(PermissionDenied):
        svc.create_framework(
            {**BASE, "status": "draft", "partner_ids": [make_partner().id], "confidential": True},
            actor=EditorWithoutConfidential(),
        )


def test_draft_and_void_need_no_date(records_admin, make_partner):
    for status in ("draft", "negotiation", "void"):
        framework = svc.create_framework(
            {**BASE, "status": status, "partner_ids": [make_partner().id]}, actor=records_admin
        )
        assert not framework_counts(framework.id)


def test_amendments_point_at_a_concluded_framework_and_never_count(records_admin, make_framework):
    parent = make_framework(status="in_force", signed_on=date(2022, 1, 10))
    extension = svc.create_amendment(
        parent,
        {
            "amendment_kind": "extension",
            "title_en": "Extension to 2026",
            "status": "in_force",
            "signed_on": "2024-01-05",
            "expires_on": "2026-01-10",
        },
        actor=records_admin,
    )
    assert extension.amends is parent and extension.amendment_kind == AmendmentKind.EXTENSION
    assert extension.partners == parent.partners and extension.instrument == parent.instrument
    assert framework_counts(extension.id) is False  # recorded on the parent, never a new framework
    assert parent.amendments == [extension]
    # The list of frameworks leaves amendments out unless asked.
    listed = _db.session.execute(svc.framework_query({}, actor=records_admin)).scalars().all()
    assert listed == [parent]
    only = (
        _db.session.execute(svc.framework_query({"amendments": "only"}, actor=records_admin))
        .scalars()
        .all()
    )
    assert only == [extension]

    draft = make_framework(status="draft", signed_on=None)
    for target, message in (
        (draft, "An amendment must point at a concluded framework"),
        (extension, "An amendment must point at a concluded framework"),
    ):
        with pytest.raises(ValidationError) as caught:
            svc.create_framework(
                {
                    **BASE,
                    "status": "in_force",
                    "signed_on": "2024-02-01",
                    "partner_ids": [p.id for p in parent.partners],
                    "amends_id": target.id,
                    "amendment_kind": "amendment",
                },
                actor=records_admin,
            )
        assert messages(caught.value, "amends_id")[0].startswith(message)
        assert messages(caught.value, "amends_id", "ar")[0].startswith(
            "يجب أن يشير التعديل إلى إطار مُبرم"
        )
    with pytest.raises(ValidationError) as caught:
        svc.create_framework(
            {
                **BASE,
                "status": "in_force",
                "signed_on": "2024-02-01",
                "partner_ids": [p.id for p in parent.partners],
                "amends_id": parent.id,
            },
            actor=records_admin,
        )
    assert messages(caught.value, "amendment_kind") == [
        "Choose the kind: amendment, addendum, renewal or extension."
    ]


def test_a_framework_with_amendments_stays_concluded(records_admin, make_framework):
    parent = make_framework()
    svc.create_amendment(
        parent,
        {
            "amendment_kind": "addendum",
            "title_en": "Addendum",
            "status": "in_force",
            "signed_on": "2024-01-01",
        },
        actor=records_admin,
    )
    with pytest.raises(ValidationError) as caught:
        svc.update_framework(parent, {"status": "draft"}, actor=records_admin)
    assert "status" in caught.value.errors
    with pytest.raises(ValidationError) as caught:
        svc.update_framework(
            parent, {"amends_id": parent.id, "amendment_kind": "amendment"}, actor=records_admin
        )
    assert messages(caught.value, "amends_id") == ["A framework cannot amend itself."]


def test_update_conflict_and_partner_changes_move_the_version(
    records_admin, make_framework, make_partner
):
    framework = make_framework()
    seen = framework.version
    svc.update_framework(
        framework, {"partner_ids": [make_partner().id]}, actor=records_admin, version=seen
    )
    assert framework.version == seen + 1
    with pytest.raises(ConflictError):
        svc.update_framework(framework, {"title_en": "Late"}, actor=records_admin, version=seen)
    assert framework.title_en != "Late"


def test_archive_restore_and_roles(records_admin, make_framework, make_user):
    framework = make_framework()
    for role in (Role.REPORTING, Role.VIEWER):
        with pytest.raises(PermissionDenied):
            svc.archive_framework(framework, actor=make_user(role=role))
        with pytest.raises(PermissionDenied):
            svc.create_framework({**BASE, "status": "draft"}, actor=make_user(role=role))
    outreach = make_user(role=Role.OUTREACH)
    svc.archive_framework(framework, actor=outreach)
    assert _db.session.execute(svc.framework_query({}, actor=outreach)).scalars().all() == []
    with pytest.raises(NotFound):
        svc.get_framework(framework.id, actor=outreach)
    with pytest.raises(PermissionDenied):
        svc.restore_framework(framework, actor=outreach)
    svc.restore_framework(framework, actor=records_admin)
    assert svc.get_framework(framework.id, actor=outreach) is framework


def test_confidential_frameworks_and_counterparts_are_hidden_from_viewers(
    make_framework, make_partner, make_user
):
    secret = make_framework(title_en="Secret Protocol", confidential=True)
    hidden_partner = make_partner(name_en="Hidden CSO", confidential=True)
    open_one = make_framework(title_en="Open MoU", partners=[hidden_partner, make_partner()])
    viewer = make_user(role=Role.VIEWER)
    assert _db.session.execute(svc.framework_query({}, actor=viewer)).scalars().all() == [open_one]
    assert (
        _db.session.execute(svc.framework_query({"q": "secret"}, actor=viewer)).scalars().all()
        == []
    )
    with pytest.raises(NotFound):
        svc.get_framework(secret.id, actor=viewer)
    assert hidden_partner not in svc.visible_counterparts(open_one, actor=viewer)
    assert svc.hidden_counterparts(open_one, actor=viewer) == 1


def test_list_filters(records_admin, make_framework, make_partner):
    state = make_partner(type="state")
    a = make_framework(
        instrument="protocol", status="in_force", signed_on=date(2021, 4, 1), partners=[state]
    )
    b = make_framework(instrument="mou", status="draft", signed_on=None, title_ar="مسودة")
    make_framework(instrument="mou", status="in_force", signed_on=date(2024, 4, 1))

    def find(**filters):
        return (
            _db.session.execute(
                svc.framework_query(filters, actor=records_admin).order_by(Framework.id)
            )
            .scalars()
            .all()
        )

    assert find(instrument=["protocol"]) == [a]
    assert find(status=["draft"]) == [b]
    assert find(signed_year=2021) == [a]
    assert find(partner_type=["state"]) == [a]
    assert find(partner=state.id) == [a]
    assert find(q="مسوده") == [b]
    assert b not in find(missing="ar") and a in find(missing="ar")


def test_alerts_within_the_window(records_admin, make_framework, make_user):
    today = date(2025, 1, 1)
    soon = make_framework(expires_on=today + timedelta(days=30), responsible_id=records_admin.id)
    make_framework(expires_on=today + timedelta(days=200))
    review = make_framework(
        status="draft", signed_on=None, next_review_on=today + timedelta(days=10)
    )
    stale = make_framework(
        status="in_force", signed_on=date(2020, 1, 1), expires_on=date(2024, 6, 30)
    )
    make_framework(status="expired", signed_on=date(2020, 1, 1), expires_on=date(2024, 6, 30))
    found = svc.framework_alerts(actor=records_admin, today=today, window_days=90)
    assert found.expiry == [soon]
    assert found.review == [review]
    assert found.expired_in_force == [stale]
    assert found.counts == {"expiry": 1, "review": 1, "expired_in_force": 1}
    viewer = make_user(role=Role.VIEWER)
    stale.confidential = True
    assert svc.framework_alerts(actor=viewer, today=today, window_days=90).expired_in_force == []


def test_alerts_raise_follow_ups_once(records_admin, make_framework, make_user):
    today = date(2025, 1, 1)
    arabic_officer = make_user(role=Role.OUTREACH, locale="ar")
    soon = make_framework(
        ref="F-SOON", expires_on=today + timedelta(days=30), responsible_id=arabic_officer.id
    )
    stale = make_framework(
        ref="F-STALE",
        signed_on=date(2020, 1, 1),
        expires_on=date(2024, 6, 30),
        responsible_id=records_admin.id,
    )
    review = make_framework(ref="F-REVIEW", next_review_on=today + timedelta(days=5))
    make_framework(expires_on=today + timedelta(days=30), archived=True)

    created = svc.raise_framework_alerts(today, window_days=90)
    keys = sorted(f.auto_key for f in created)
    assert keys == sorted(
        [
            f"framework:{soon.id}:expiry:{soon.expires_on.isoformat()}",
            f"framework:{stale.id}:expired_in_force:2024-06-30",
            f"framework:{review.id}:review:{review.next_review_on.isoformat()}",
        ]
    )
    by_framework = {f.framework_id: f for f in created}
    assert by_framework[soon.id].assignee_id == arabic_officer.id
    assert "F-SOON" in by_framework[soon.id].title and "ينتهي" in by_framework[soon.id].title
    assert by_framework[stale.id].title.startswith("Framework F-STALE expired on")
    assert by_framework[review.id].assignee_id is None
    assert by_framework[soon.id].due_on == soon.expires_on

    # Idempotent: a second run (tomorrow's cron) adds nothing.
    assert svc.raise_framework_alerts(today, window_days=90) == []
    assert svc.raise_framework_alerts(today + timedelta(days=1), window_days=90) == []
    assert _db.session.execute(select(func.count()).select_from(FollowUp)).scalar_one() == 3
    # A new expiry date (after an extension) raises a new one.
    svc.update_framework(soon, {"expires_on": today + timedelta(days=60)}, actor=records_admin)
    again = svc.raise_framework_alerts(today, window_days=90)
    assert [f.framework_id for f in again] == [soon.id]


def test_alerts_command(runner, make_framework, records_admin):
    make_framework(expires_on=date(2025, 2, 1), responsible_id=records_admin.id)
    result = runner.invoke(
        args=["frameworks", "alerts", "--today", "2025-01-01"], env={"CRM_LANG": "en"}
    )
    assert result.exit_code == 0, result.output
    assert "1 follow-up raised." in result.output
    result = runner.invoke(
        args=["frameworks", "alerts", "--today", "2025-01-01"], env={"CRM_LANG": "en"}
    )
    assert "0 follow-ups raised." in result.output


def test_frameworks_of_partner_include_amendments(records_admin, make_framework, make_partner):
    partner = make_partner()
    parent = make_framework(partners=[partner])
    amendment = svc.create_amendment(
        parent,
        {
            "amendment_kind": "renewal",
            "title_en": "Renewal",
            "status": "in_force",
            "signed_on": "2025-01-01",
        },
        actor=records_admin,
    )
    assert set(svc.frameworks_of_partner(partner, actor=records_admin)) == {parent, amendment}


def test_status_code_enum_round_trip(records_admin, make_framework):
    framework = make_framework(status="suspended")
    assert framework.status == FrameworkStatus.SUSPENDED
    assert framework_counts(framework.id)


def test_a_hidden_partner_cannot_be_probed_through_the_filters(
    make_framework, make_partner, make_user
):
    hidden = make_partner(type="state", confidential=True)
    make_framework(partners=[hidden, make_partner(type="media")])
    viewer = make_user(role=Role.VIEWER)

    def find(**filters):
        return _db.session.execute(svc.framework_query(filters, actor=viewer)).scalars().all()

    assert find(partner=hidden.id) == []
    assert find(partner_type=["state"]) == []
    assert len(find(partner_type=["media"])) == 1
