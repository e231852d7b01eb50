"""``import(export(x))`` gives back ``x``: a property test over generated records.

Records are made through the services (Arabic and Latin text with quotes,
separators, formula-like starts, direction marks and line breaks), exported as
CSV and as XLSX in English or Arabic, the database is put back as it was, the
file is imported, and every field must come back the same.

"Valid" text is what the services store: trimmed, without control characters.
One thing XLSX itself cannot carry is a carriage return (XML turns it into a line
feed), so generated text has line feeds only.
"""

from __future__ import annotations

import string
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask_babel import force_locale
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from crm.codes import (
    EngagementCategory,
    EngagementFormat,
    EngagementStatus,
    EngagementType,
    OrganiserRole,
    PartnerType,
    Strategy,
    VictimGroup,
)
from crm.exports import csv_chunks, header_row, iter_rows, plan_export, write_xlsx
from crm.imports.kinds import KINDS
from crm.imports.services import run_import

ARABIC = "ابتثجحخدذرزسشصضطظعغفقكلمنهويءآأإةىئؤ" + "ًٌٍَُِّْـ" + "٠١٢٣٤٥٦٧٨٩"
TRICKY = "\"',;؛=+-@<>&%#/\\()[]{}|" + "\u200f\u200e\u202b\u2067" + "ÉéçñØß"


def _text(alphabet: str, max_size: int) -> st.SearchStrategy[str | None]:
    raw = st.text(alphabet=alphabet + TRICKY + " \n\t", max_size=max_size)
    return raw.map(lambda s: s.strip() or None)


latin = _text(string.ascii_letters + string.digits, 40)
arabic = _text(ARABIC, 40)
mixed = _text(string.ascii_letters + ARABIC, 120)
formula_text = st.one_of(mixed, st.sampled_from(["=1+2", "+90 555", "-5", "@SUM(A1)", "'=x"]))


def _refs(prefix: str) -> st.SearchStrategy[str]:
    return st.text(
        alphabet=string.ascii_uppercase + string.digits + "-_/.", min_size=1, max_size=12
    ).map(lambda s: f"{prefix}{s}")


def _subset(codes: Any) -> st.SearchStrategy[list[Any]]:
    return st.lists(st.sampled_from(list(codes)), unique=True, max_size=3)


partner_records = st.fixed_dictionaries(
    {
        "name_en": latin,
        "name_ar": arabic,
        "acronym": _text(string.ascii_uppercase, 8),
        "type": st.sampled_from(list(PartnerType)),
        "country": st.sampled_from([None, "SY", "TR", "DE", "LB", "JO", "FR"]),
        "city": mixed,
        "women_led": st.booleans(),
        "victim_groups": _subset(VictimGroup),
        "email": st.sampled_from([None, "info@example.org", "a.b@partner.example"]),
        "phone": st.sampled_from([None, "+90 555 000 0000", "+49 30 1234567"]),
        "confidential": st.booleans(),
        "notes": formula_text,
    }
).filter(lambda p: p["name_en"] or p["name_ar"])


def _engagement(start: date, span: int, counts: list[int], under: int) -> dict[str, Any]:
    return {"start_date": start, "end_date": start + timedelta(days=span) if span >= 0 else None,
            "women": counts[0], "men": counts[1], "unspecified": counts[2],
            "under_18": min(under, sum(c or 0 for c in counts))}  # fmt: skip


engagement_records = st.builds(
    lambda base, start, span, counts, under: {**base, **_engagement(start, span, counts, under)},
    st.fixed_dictionaries(
        {
            "title_en": latin,
            "title_ar": arabic,
            "category": st.sampled_from(list(EngagementCategory)),
            "type": st.sampled_from(list(EngagementType)),
            "format": st.sampled_from(list(EngagementFormat)),
            "status": st.sampled_from(list(EngagementStatus)),
            "organiser": st.sampled_from([None, *OrganiserRole]),
            "country": st.sampled_from([None, "SY", "TR", "DE"]),
            "city": mixed,
            "languages": st.lists(
                st.sampled_from(["ar", "en", "fr", "ku", "tr"]), unique=True, max_size=3
            ),
            "victim_groups": _subset(VictimGroup),
            "strategies": _subset(Strategy),
            "partner_refs": st.lists(
                st.sampled_from(["P-RT-1", "P-RT-2", "P-RT-3"]), unique=True, max_size=3
            ),
            "summary_en": formula_text,
            "summary_ar": arabic,
        }
    ).filter(lambda e: e["title_en"] or e["title_ar"]),
    st.dates(min_value=date(2015, 1, 1), max_value=date(2024, 12, 31)),
    st.integers(min_value=-1, max_value=5),
    st.lists(st.one_of(st.none(), st.integers(min_value=0, max_value=500)), min_size=3, max_size=3),
    st.integers(min_value=0, max_value=50),
)


def _comparable(kind: str, record: Any, actor: Any) -> dict[str, Any]:
    values = KINDS[kind].current(record, actor)
    for key in ("victim_groups", "strategies", "partner_refs"):
        if key in values:
            values[key] = sorted(str(v) for v in values[key])
    return values


def _export(db: Any, kind: str, actor: Any, language: str, folder: Path) -> dict[str, Path]:
    plan = plan_export(kind, {}, actor)
    files = {}
    with force_locale(language):
        csv_path = folder / f"{kind}.csv"
        csv_path.write_bytes(
            b"".join(csv_chunks(header_row(plan, language), iter_rows(plan, actor, language)))
        )
        files["csv"] = csv_path
        xlsx_path = folder / f"{kind}.xlsx"
        write_xlsx(
            xlsx_path,
            sheet_title=kind,
            header=header_row(plan, language),
            rows=iter_rows(plan, actor, language),
            right_to_left=language == "ar",
            about=[("Exported by", "test")],
        )
        files["xlsx"] = xlsx_path
    return files


def _round_trip(
    db: Any,
    kind: str,
    create: Any,
    records: list[dict[str, Any]],
    actor_id: int,
    language: str,
    folder: Path,
) -> None:
    from crm.auth.models import User

    model = KINDS[kind].model
    db.session.commit()  # the fixtures' records stay whatever happens below

    def fresh() -> Any:
        # A rolled-back savepoint may leave ids to be reused: start each step with an
        # empty identity map.
        db.session.expunge_all()
        return db.session.get(User, actor_id)

    actor = fresh()
    outer = db.session.begin_nested()
    made = [create({**data, "ref": f"R-{i}"}, actor) for i, data in enumerate(records)]
    db.session.flush()
    expected = {r.ref: _comparable(kind, r, actor) for r in made}
    files = _export(db, kind, actor, language, folder)
    outer.rollback()
    actor = fresh()
    assert db.session.execute(select(model).where(model.ref.like("R-%"))).first() is None
    for fmt, path in files.items():
        attempt = db.session.begin_nested()
        with force_locale("en"):
            result = run_import(kind, path, actor=actor)
            assert result.ok, (fmt, [e.text() for e in result.errors])
        found = db.session.execute(select(model).where(model.ref.like("R-%"))).scalars().all()
        got = {r.ref: _comparable(kind, r, actor) for r in found}
        assert got == expected, fmt
        attempt.rollback()
        actor = fresh()


SETTINGS = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@SETTINGS
@given(
    records=st.lists(partner_records, min_size=1, max_size=3),
    language=st.sampled_from(["en", "ar"]),
)
def test_partners_come_back_the_same(db, records_admin, tmp_path, records, language):
    from crm.partners.services import create_partner

    with force_locale("en"):
        _round_trip(
            db,
            "partners",
            lambda d, actor: create_partner(d, actor=actor),
            records,
            records_admin.id,
            language,
            tmp_path,
        )


@pytest.fixture
def round_trip_partners(db, make_partner):
    for ref in ("P-RT-1", "P-RT-2", "P-RT-3"):
        make_partner(ref=ref)
    db.session.commit()


@SETTINGS
@given(
    records=st.lists(engagement_records, min_size=1, max_size=3),
    language=st.sampled_from(["en", "ar"]),
)
def test_engagements_come_back_the_same(
    db, records_admin, round_trip_partners, tmp_path, records, language
):
    from crm.engagements.services import create_engagement

    with force_locale("en"):
        _round_trip(
            db,
            "engagements",
            lambda d, actor: create_engagement(d, actor=actor),
            records,
            records_admin.id,
            language,
            tmp_path,
        )
