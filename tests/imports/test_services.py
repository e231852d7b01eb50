"""The importer: all or nothing, through the areas' services, idempotent on ``ref``."""

from __future__ import annotations

import json
from datetime import date

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from crm.audit.models import AuditEntry
from crm.codes import EngagementStatus, FrameworkStatus, PartnerType, Role, VictimGroup
from crm.engagements.models import Engagement, EngagementPartner
from crm.errors import PermissionDenied
from crm.frameworks.models import Framework
from crm.imports.services import Importer, SystemActor, run_import
from crm.partners.models import Partner

PARTNER_HEADER = ["ref", "name_en", "name_ar", "type", "country", "women_led", "victim_groups"]
PARTNER_ROWS = [
    ["P-IMP-1", "Caesar Families Association", "رابطة عائلات قيصر", "victims_association",
     "DE", "yes", "missing_disappeared"],
    ["P-IMP-2", "Women Now", "", "Syrian civil society organisation",
     "fr", "نعم", "sgbv؛ detention_torture"],
    ["P-IMP-3", "", "مركز توثيق", "syrian_cso", "", "no", ""],
]  # fmt: skip


@pytest.fixture(autouse=True)
def _english(app):
    """Service errors render their lazy messages: outside a request, in English."""
    with force_locale("en"):
        yield


def audit_count(db, action=None):
    stmt = select(func.count()).select_from(AuditEntry)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    return db.session.execute(stmt).scalar_one()


def texts(result, language="en"):
    with force_locale(language):
        return [e.text() for e in result.errors]


def partners(db):
    return {p.ref: p for p in db.session.execute(select(Partner)).scalars()}


# --- partners ----------------------------------------------------------------------


def test_partners_are_created_through_the_service(db, importer, import_file):
    result = run_import("partners", import_file(PARTNER_HEADER, PARTNER_ROWS), actor=importer)
    assert result.ok, texts(result)
    assert (result.rows, result.created, result.updated, result.unchanged) == (3, 3, 0, 0)
    found = partners(db)
    assert found["P-IMP-2"].type == PartnerType.SYRIAN_CSO
    assert found["P-IMP-2"].country == "FR"
    assert found["P-IMP-2"].women_led is True
    assert sorted(g.code for g in found["P-IMP-2"].victim_groups) == [
        VictimGroup.DETENTION_TORTURE,
        VictimGroup.SGBV,
    ]
    assert found["P-IMP-3"].name_en is None
    assert found["P-IMP-1"].created_by_id == importer.id
    assert audit_count(db, "partner.create") == 3


def test_the_same_file_twice_changes_nothing_the_second_time(db, importer, import_file):
    path = import_file(PARTNER_HEADER, PARTNER_ROWS)
    run_import("partners", path, actor=importer)
    db.session.commit()
    versions = {ref: p.version for ref, p in partners(db).items()}
    audit_rows = audit_count(db)

    again = run_import("partners", path, actor=importer)

    assert again.ok
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert {ref: p.version for ref, p in partners(db).items()} == versions
    assert audit_count(db) == audit_rows


def test_an_existing_ref_updates_only_what_the_file_changes(
    db, importer, import_file, make_partner
):
    existing = make_partner(ref="P-IMP-1", name_en="Old name", city="Berlin", type="media")
    db.session.commit()
    path = import_file(
        ["ref", "name_en", "type"], [["P-IMP-1", "Caesar Families Association", "media"]]
    )

    result = run_import("partners", path, actor=importer)

    assert (result.created, result.updated, result.unchanged) == (0, 1, 0)
    db.session.refresh(existing)
    assert existing.name_en == "Caesar Families Association"
    assert existing.city == "Berlin"  # not a column of the file: untouched
    entry = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "partner.update")
    ).scalar_one()
    assert entry.object_id == existing.id
    assert json.loads(entry.details)["changes"] == {
        "name_en": {"old": "Old name", "new": "Caesar Families Association"}
    }


def test_an_empty_cell_clears_the_value(db, importer, import_file, make_partner):
    existing = make_partner(ref="P-IMP-1", name_en="Name", city="Berlin")
    db.session.commit()
    run_import("partners", import_file(["ref", "city"], [["P-IMP-1", ""]]), actor=importer)
    db.session.refresh(existing)
    assert existing.city is None


def test_one_bad_row_means_nothing_is_written_and_every_problem_is_reported(
    db, importer, import_file
):
    rows = [
        *PARTNER_ROWS,
        ["P-IMP-4", "Bad type", "", "ngo", "", "", ""],
        ["P-IMP-5", "", "", "media", "", "maybe", ""],
        ["P-IMP-1", "Again", "", "media", "", "", ""],
    ]
    result = run_import("partners", import_file(PARTNER_HEADER, rows), actor=importer)

    assert not result.ok
    assert partners(db) == {}
    assert audit_count(db, "partner.create") == 0
    english = texts(result)
    assert any(t.startswith("row 5, column type: “ngo” is not one of") for t in english)
    assert "row 6, column women_led: Write yes or no (also true/false, 1/0, نعم/لا)." in english
    assert "row 7, column ref: This reference is already used in row 2." in english
    assert result.bad_rows == 3
    assert result.created == 3  # would have been: the good rows went through the service


def test_service_rules_are_reported_against_their_column(db, importer, import_file):
    path = import_file(
        ["ref", "name_en", "name_ar", "type", "email"], [["P-1", "", "", "media", "not-an-address"]]
    )
    result = run_import("partners", path, actor=importer)
    english = texts(result)
    assert (
        "row 2, column name_en: Enter the name in Arabic or in English (at least one)." in english
    )
    assert "row 2, column email: Enter a valid e-mail address." in english


def test_the_report_is_in_the_reader_language(db, importer, import_file):
    path = import_file(PARTNER_HEADER, [["P-1", "Name", "", "media", "", "maybe", ""]])
    result = run_import("partners", path, actor=importer)
    arabic = texts(result, "ar")[0]
    assert arabic.startswith("السطر 2، العمود women_led:")


def test_a_crash_half_way_leaves_the_database_as_it_was(db, importer, import_file, monkeypatch):
    from crm.imports import kinds

    calls = []
    original = kinds.KINDS["partners"].create

    def create_then_crash(data, *, actor):
        calls.append(data["ref"])
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return original(data, actor=actor)

    monkeypatch.setattr(kinds.KINDS["partners"], "create", create_then_crash)
    before = audit_count(db)
    with pytest.raises(RuntimeError):
        run_import("partners", import_file(PARTNER_HEADER, PARTNER_ROWS), actor=importer)
    assert calls == ["P-IMP-1", "P-IMP-2"]
    assert partners(db) == {}
    assert audit_count(db) == before


def test_a_dry_run_reports_without_writing(db, importer, import_file):
    result = run_import(
        "partners", import_file(PARTNER_HEADER, PARTNER_ROWS), actor=importer, dry_run=True
    )
    assert result.ok
    assert result.created == 3
    assert partners(db) == {}


def test_header_problems_are_reported_once(db, importer, import_file):
    result = run_import(
        "partners", import_file(["name_en", "colour"], [["x", "red"]] * 3), actor=importer
    )
    english = texts(result)
    assert english[0].startswith("row 1, column colour: Unknown column.")
    assert (
        english[1] == "row 1, column ref: The column ref is missing: every row needs its reference."
    )
    assert result.error_count == 2


def test_a_row_longer_than_the_header_is_refused(db, importer, import_file):
    result = run_import(
        "partners",
        import_file(["ref", "name_en", "type"], [["P-1", "N", "media", "extra"]]),
        actor=importer,
    )
    assert texts(result) == ["row 2: This row has more cells than the header has columns."]


def test_an_xlsx_file_imports_like_its_csv(db, importer, import_file):
    result = run_import(
        "partners", import_file(PARTNER_HEADER, PARTNER_ROWS, fmt="xlsx"), actor=importer
    )
    assert result.ok and result.format == "xlsx"
    assert sorted(partners(db)) == ["P-IMP-1", "P-IMP-2", "P-IMP-3"]


@pytest.mark.parametrize("role", [Role.VIEWER, Role.REPORTING])
def test_roles_without_the_import_permission_cannot_import(db, make_user, import_file, role):
    with pytest.raises(PermissionDenied):
        run_import(
            "partners", import_file(PARTNER_HEADER, PARTNER_ROWS), actor=make_user(role=role)
        )


def test_a_record_outside_the_importers_reach_is_not_updated(
    db, importer, import_file, make_partner
):
    make_partner(ref="P-OLD", archived=True)
    db.session.commit()
    result = run_import(
        "partners",
        import_file(["ref", "name_en", "type"], [["P-OLD", "New", "media"]]),
        actor=importer,
    )
    assert texts(result) == ["row 2, column ref: Another record already has this reference."]


# --- frameworks --------------------------------------------------------------------

FRAMEWORK_HEADER = [
    "ref",
    "title_en",
    "instrument",
    "partner_refs",
    "status",
    "signed_on",
    "amends_ref",
]


def test_frameworks_name_their_counterparts_and_amended_framework_by_ref(
    db, importer, import_file, make_partner
):
    make_partner(ref="P-A")
    make_partner(ref="P-B")
    db.session.commit()
    rows = [
        ["F-1", "Protocol", "protocol", "P-A; P-B", "in_force", "2023-01-10", ""],
        ["F-1a", "Renewal", "protocol", "P-A", "in_force", "٢٠٢٤-٠١-١٠", "F-1"],
    ]
    result = run_import("frameworks", import_file(FRAMEWORK_HEADER, rows), actor=importer)
    assert result.ok, texts(result)
    found = {f.ref: f for f in db.session.execute(select(Framework)).scalars()}
    assert sorted(p.ref for p in found["F-1"].partners) == ["P-A", "P-B"]
    assert found["F-1a"].amends_id == found["F-1"].id
    assert found["F-1a"].signed_on == date(2024, 1, 10)
    assert found["F-1"].status == FrameworkStatus.IN_FORCE


def test_framework_rules_and_unknown_refs_are_reported(db, importer, import_file, make_partner):
    make_partner(ref="P-A")
    db.session.commit()
    rows = [
        ["F-1", "No signature", "mou", "P-A", "in_force", "", ""],
        ["F-2", "Unknown partner", "mou", "P-A; P-Z", "draft", "", ""],
        ["F-3", "Amends a later one", "mou", "P-A", "in_force", "2023-01-01", "F-4"],
        ["F-4", "Later", "mou", "P-A", "in_force", "2023-01-01", ""],
    ]
    result = run_import("frameworks", import_file(FRAMEWORK_HEADER, rows), actor=importer)
    english = texts(result)
    assert (
        "row 2, column signed_on: A framework in force, suspended, expired or terminated needs "
        "its date of signature." in english
    )
    assert "row 3, column partner_refs: No partner has the reference P-Z." in english
    assert any(
        t.startswith("row 4, column amends_ref: No framework has the reference F-4")
        for t in english
    )
    assert db.session.execute(select(func.count()).select_from(Framework)).scalar_one() == 0


# --- engagements -------------------------------------------------------------------

ENGAGEMENT_HEADER = [
    "ref", "title_en", "title_ar", "category", "type", "format", "status", "start_date",
    "end_date", "country", "languages", "victim_groups", "strategies", "partner_refs",
    "women", "men", "unspecified", "under_18", "summary_en",
]  # fmt: skip


def engagement_rows(prefix="E"):
    return [
        [f"{prefix}-1", "Consultation", "مشاورة", "victims_survivors", "consultation",
         "in_person", "held", "2024-03-01", "2024-03-02", "TR", "ar; en",
         "missing_disappeared; sgbv", "gender", "P-A; P-B", "١٢", "8", "0", "2",
         "Summary with a secret name"],
        [f"{prefix}-2", "", "ورشة عمل", "Civil society", "ورشة عمل", "online", "planned",
         "2030-01-01", "", "", "", "", "", "", "", "", "", "", ""],
    ]  # fmt: skip


@pytest.fixture
def two_partners(db, make_partner):
    make_partner(ref="P-A")
    make_partner(ref="P-B")
    db.session.commit()


def _snapshot(db):
    rows = []
    for e in db.session.execute(select(Engagement).order_by(Engagement.ref)).scalars():
        columns = {c.key: getattr(e, c.key) for c in Engagement.__table__.columns}
        for volatile in ("id", "created_at", "updated_at"):
            columns.pop(volatile)
        columns["victim_groups"] = sorted(v.code for v in e.victim_groups)
        columns["strategies"] = sorted(s.code for s in e.strategies)
        columns["partners"] = sorted(p.ref for p in e.partners)
        rows.append(columns)
    audit = [
        (a.action, a.object_type, json.loads(a.details))
        for a in db.session.execute(
            select(AuditEntry).where(AuditEntry.action.like("engagement.%")).order_by(AuditEntry.id)
        ).scalars()
    ]
    return rows, audit


@pytest.mark.parametrize("batch", [True, False])
def test_engagements_are_created_with_their_links(db, importer, import_file, two_partners, batch):
    result = Importer("engagements", actor=importer, batch=batch).run(
        import_file(ENGAGEMENT_HEADER, engagement_rows())
    )
    assert result.ok, texts(result)
    first = db.session.execute(select(Engagement).where(Engagement.ref == "E-1")).scalar_one()
    assert first.women == 12 and first.under_18 == 2
    assert first.languages == ["ar", "en"]
    assert sorted(p.ref for p in first.partners) == ["P-A", "P-B"]
    assert first.status == EngagementStatus.HELD
    second = db.session.execute(select(Engagement).where(Engagement.ref == "E-2")).scalar_one()
    assert second.type.value == "workshop" and second.category.value == "civil_society"
    assert audit_count(db, "engagement.create") == 2


def test_the_batch_path_writes_exactly_what_the_service_writes(
    db, importer, import_file, two_partners
):
    path = import_file(ENGAGEMENT_HEADER, engagement_rows())
    assert Importer("engagements", actor=importer, batch=False).run(path).ok
    by_service = _snapshot(db)
    db.session.rollback()
    assert Importer("engagements", actor=importer, batch=True).run(path).ok
    by_batch = _snapshot(db)
    assert by_batch == by_service
    rows, audit = by_batch
    assert rows[0]["search_text"]
    assert rows[1]["complete"] is False
    assert [a[0] for a in audit] == ["engagement.create", "engagement.create"]


def test_the_audit_chain_holds_after_a_batch_import(db, importer, import_file, two_partners):
    from crm.audit.services import verify_chain

    assert (
        Importer("engagements", actor=importer, batch=True)
        .run(import_file(ENGAGEMENT_HEADER, engagement_rows()))
        .ok
    )
    assert verify_chain() is None
    details = json.loads(
        db.session.execute(
            select(AuditEntry.details).where(AuditEntry.action == "engagement.create").limit(1)
        ).scalar_one()
    )
    assert details["changes"]["summary_en"] == {"changed": True, "value": "[redacted]"}


@pytest.mark.parametrize("batch", [True, False])
def test_engagement_rules_are_reported_and_nothing_is_written(
    db, importer, import_file, two_partners, batch
):
    rows = engagement_rows()
    rows[0][7] = "2999-01-01"  # held, in the future
    rows[1][13] = "P-NOPE"
    rows[1][17] = "5"  # under 18 above the total
    result = Importer("engagements", actor=importer, batch=batch).run(
        import_file(ENGAGEMENT_HEADER, rows)
    )
    english = texts(result)
    assert any(
        t.startswith("row 2, column start_date: An engagement that was held cannot start")
        for t in english
    )
    assert "row 3, column partner_refs: Choose partners from the list." in english
    assert any(t.startswith("row 3, column under_18: The number under 18") for t in english)
    assert db.session.execute(select(func.count()).select_from(Engagement)).scalar_one() == 0
    assert db.session.execute(select(func.count()).select_from(EngagementPartner)).scalar_one() == 0


def test_an_existing_engagement_is_updated_through_its_service(
    db, importer, import_file, two_partners
):
    path = import_file(ENGAGEMENT_HEADER, engagement_rows())
    run_import("engagements", path, actor=importer)
    db.session.commit()
    rows = engagement_rows()
    rows[0][15] = "9"  # men
    result = run_import("engagements", import_file(ENGAGEMENT_HEADER, rows), actor=importer)
    assert (result.created, result.updated, result.unchanged) == (0, 1, 1)
    entry = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "engagement.update")
    ).scalar_one()
    assert json.loads(entry.details)["changes"] == {"men": {"old": 8, "new": 9}}
    assert (
        run_import("engagements", import_file(ENGAGEMENT_HEADER, rows), actor=importer).unchanged
        == 2
    )


def test_the_command_line_actor_may_import_without_an_account(db, import_file, two_partners):
    result = run_import(
        "engagements", import_file(ENGAGEMENT_HEADER, engagement_rows()), actor=SystemActor()
    )
    assert result.ok
    actors = (
        db.session.execute(
            select(AuditEntry.actor_id).where(AuditEntry.action == "engagement.create")
        )
        .scalars()
        .all()
    )
    assert actors == [None, None]


@pytest.mark.parametrize("batch", [True, False])
def test_a_reference_taken_in_another_case_is_refused_on_both_paths(
    db, importer, import_file, two_partners, make_engagement, batch
):
    make_engagement(ref="E-CASE")
    db.session.commit()
    rows = engagement_rows()
    rows[0][0] = "e-case"
    result = Importer("engagements", actor=importer, batch=batch).run(
        import_file(ENGAGEMENT_HEADER, rows)
    )
    assert texts(result) == ["row 2, column ref: Another engagement has this reference."]
