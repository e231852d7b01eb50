"""Re-importing a file that imported once changes nothing and succeeds
(interfaces.md, security.md): the app's own exports of partners, frameworks and
engagements, and hand-made files written the way people write them."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from crm.audit.models import AuditEntry
from crm.codes import AmendmentKind
from crm.engagements.services import create_engagement
from crm.exports import csv_chunks, header_row, iter_rows, plan_export, write_xlsx
from crm.frameworks.models import Framework
from crm.frameworks.services import create_amendment, create_framework
from crm.imports.kinds import KINDS
from crm.imports.services import run_import
from crm.partners.services import create_partner

KINDS_IN_ORDER = ("partners", "frameworks", "engagements")


@pytest.fixture(autouse=True)
def _english(app):
    with force_locale("en"):
        yield


def audit_state(db) -> tuple[int, Any]:
    return (
        db.session.execute(select(func.count()).select_from(AuditEntry)).scalar_one(),
        db.session.execute(select(func.max(AuditEntry.id))).scalar_one(),
    )


def snapshot(db, actor) -> dict[str, dict[str, Any]]:
    """Every record of the three kinds as the importer sees it, and its version."""
    out = {}
    for name in KINDS_IN_ORDER:
        kind = KINDS[name]
        for record in db.session.execute(select(kind.model)).scalars():
            out[f"{name}:{record.ref}"] = {
                **{k: str(v) for k, v in kind.current(record, actor).items()},
                "version": record.version,
                "updated_at": record.updated_at,
            }
    return out


def import_twice(db, actor, files: list[tuple[str, Path]]) -> None:
    for kind, path in files:
        first = run_import(kind, path, actor=actor)
        assert first.ok, [e.text() for e in first.errors]
    db.session.flush()
    before, audit_before = snapshot(db, actor), audit_state(db)
    for kind, path in files:
        again = run_import(kind, path, actor=actor)
        assert again.ok, (kind, path.name, [e.text() for e in again.errors])
        assert (again.created, again.updated, again.bad_rows) == (0, 0, 0), (kind, path.name)
        assert again.unchanged == again.rows
    db.session.flush()
    assert snapshot(db, actor) == before
    assert audit_state(db) == audit_before


def _make_records(actor) -> None:
    ngo = create_partner(
        {"ref": "P-ID-1", "name_en": "Syrian Archive", "type": "syrian_cso", "country": "DE"},
        actor=actor,
    )
    families = create_partner(
        {
            "ref": "P-ID-2",
            "name_ar": "رابطة عائلات قيصر",
            "type": "victims_association",
            "victim_groups": ["missing_disappeared", "detention_torture"],
            "women_led": True,
        },
        actor=actor,
    )
    mou = create_framework(
        {
            "ref": "F-ID-1",
            "title_en": "MoU with the Syrian Archive",
            "title_ar": "مذكرة تفاهم",
            "instrument": "mou",
            "status": "in_force",
            "partner_ids": [ngo.id, families.id],
            "signed_on": date(2022, 5, 1),
            "expires_on": date(2024, 5, 1),
        },
        actor=actor,
    )
    create_amendment(
        mou,
        {
            "ref": "F-ID-2",
            "title_en": "Extension",
            "amendment_kind": "extension",
            "status": "in_force",
            "signed_on": date(2024, 4, 1),
            "expires_on": date(2026, 5, 1),
        },
        actor=actor,
    )
    create_amendment(
        mou,
        {
            "ref": "F-ID-3",
            "title_en": "Amendment",
            "amendment_kind": "amendment",
            "status": "in_force",
            "signed_on": date(2023, 1, 1),
        },
        actor=actor,
    )
    create_framework(
        {
            "ref": "F-ID-4",
            "title_ar": "بروتوكول",
            "instrument": "protocol",
            "status": "draft",
            "partner_ids": [families.id],
        },
        actor=actor,
    )
    create_engagement(
        {
            "ref": "E-ID-1",
            "title_ar": "مشاورة مع عائلات المفقودين",
            "category": "victims_survivors",
            "type": "consultation",
            "format": "in_person",
            "status": "held",
            "start_date": "2024-03-12",
            "end_date": "2024-03-13",
            "country": "TR",
            "languages": ["ar", "en"],
            "victim_groups": ["missing_disappeared"],
            "strategies": ["victim_centred"],
            "partner_refs": ["P-ID-2"],
            "women": 12,
            "men": 3,
            "under_18": 1,
        },
        actor=actor,
    )
    create_engagement(
        {
            "ref": "E-ID-2",
            "title_en": "Webinar",
            "category": "civil_society",
            "type": "webinar",
            "format": "online",
            "status": "planned",
            "start_date": "2030-01-10",
        },
        actor=actor,
    )


def _export(kind: str, actor: Any, language: str, fmt: str, folder: Path) -> Path:
    # The frameworks list with its amendments, renewals and extensions.
    args = MultiDict({"amendments": "include"} if kind == "frameworks" else {})
    plan = plan_export(kind, args, actor)
    path = folder / f"{kind}-{language}.{fmt}"
    with force_locale(language):
        if fmt == "csv":
            path.write_bytes(
                b"".join(csv_chunks(header_row(plan, language), iter_rows(plan, actor, language)))
            )
        else:
            write_xlsx(
                path,
                sheet_title=kind,
                header=header_row(plan, language),
                rows=iter_rows(plan, actor, language),
                right_to_left=language == "ar",
                about=[("Exported by", "test")],
            )
    return path


@pytest.mark.parametrize(("language", "fmt"), [("en", "csv"), ("ar", "csv"), ("ar", "xlsx")])
def test_the_apps_own_exports_import_twice_without_change(
    db, records_admin, tmp_path, language, fmt
):
    _make_records(records_admin)
    db.session.flush()
    files = [(k, _export(k, records_admin, language, fmt, tmp_path)) for k in KINDS_IN_ORDER]
    # Into the database they came from: nothing changes, not even the first time.
    before, audit_before = snapshot(db, records_admin), audit_state(db)
    for kind, path in files:
        result = run_import(kind, path, actor=records_admin)
        assert result.ok, [e.text() for e in result.errors]
        assert (result.created, result.updated) == (0, 0), kind
    assert snapshot(db, records_admin) == before and audit_state(db) == audit_before
    # Into a database without them: created once, then nothing changes.
    for name in reversed(KINDS_IN_ORDER):
        model = KINDS[name].model
        if model is Framework:
            for amendment in db.session.execute(
                select(Framework).where(Framework.amends_id.is_not(None))
            ).scalars():
                db.session.delete(amendment)
            db.session.flush()
        for record in db.session.execute(select(model)).scalars():
            db.session.delete(record)
        db.session.flush()
    import_twice(db, records_admin, files)
    extension = db.session.execute(select(Framework).where(Framework.ref == "F-ID-2")).scalar_one()
    assert extension.amendment_kind == AmendmentKind.EXTENSION


def _write(path: Path, text: str, *, bom: bool = False) -> Path:
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode("utf-8"))
    return path


def test_hand_made_files_import_twice_without_change(db, records_admin, tmp_path):
    partners = _write(
        tmp_path / "partners.csv",
        "ref,name_en,name_ar,type,country,women_led,victim_groups,confidential\n"
        "P-H-1,Caesar Families Association,رابطة عائلات قيصر,Victim survivor or family "
        "association,DE,نعم,missing_disappeared؛ detention_torture,no\n"
        "P-H-2,,مركز توثيق الانتهاكات,syrian_cso,sy,no,,\n",
        bom=True,
    )
    frameworks = _write(
        tmp_path / "frameworks.csv",
        "ref,title_en,title_ar,instrument,partner_refs,status,signed_on,expires_on,"
        "amends_ref,amendment_kind\n"
        "F-H-1,MoU with Caesar Families,,mou,P-H-1; P-H-2,in_force,٢٠٢٣-٠٣-١٢,2025-03-11,,\n"
        # empty amendment_kind: an amendment, the first time and every time after
        "F-H-2,Amendment to F-H-1,,mou,P-H-1,in_force,2024-01-05,,F-H-1,\n"
        "F-H-3,Extension of F-H-1,,mou,P-H-1,in_force,2025-02-01,2027-03-11,F-H-1,extension\n",
    )
    engagements = _write(
        tmp_path / "engagements.csv",
        "ref,title_en,title_ar,category,type,format,status,start_date,end_date,country,"
        "languages,victim_groups,partner_refs,women,men,unspecified,under_18\n"
        "E-H-1,,جلسة استماع,victims_survivors,consultation,in_person,held,2024-03-12,,TR,"
        "ar,missing_disappeared,P-H-1,١٢,3,,0\n"
        "E-H-2,Briefing,,civil_society,briefing,online,held,2024-06-01,2024-06-02,,en;ar,,,,,,\n",
    )
    import_twice(
        db,
        records_admin,
        [("partners", partners), ("frameworks", frameworks), ("engagements", engagements)],
    )
    amendment = db.session.execute(select(Framework).where(Framework.ref == "F-H-2")).scalar_one()
    assert amendment.amendment_kind == AmendmentKind.AMENDMENT


def test_a_file_without_the_amends_ref_column_keeps_the_kind(db, records_admin, tmp_path):
    """Updating an amendment from a file that has ``amendment_kind`` but no
    ``amends_ref`` column: empty still means amendment."""
    first = _write(
        tmp_path / "first.csv",
        "ref,title_en,instrument,partner_refs,status,signed_on,amends_ref,amendment_kind\n"
        "F-K-1,Main,mou,P-K-1,in_force,2023-01-01,,\n"
        "F-K-2,Its amendment,mou,P-K-1,in_force,2024-01-01,F-K-1,\n",
    )
    later = _write(
        tmp_path / "later.csv",
        "ref,title_en,instrument,partner_refs,status,signed_on,amendment_kind\n"
        "F-K-2,Its amendment,mou,P-K-1,in_force,2024-01-01,\n",
    )
    create_partner(
        {"ref": "P-K-1", "name_en": "Partner", "type": "syrian_cso"}, actor=records_admin
    )
    import_twice(db, records_admin, [("frameworks", first), ("frameworks", later)])
