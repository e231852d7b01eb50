"""How fast does a large engagement file import, and does memory grow with it?

    python -m bench.import_engagements [--rows 100000] [--format csv|xlsx] [--no-batch]

Builds a throwaway app on a temporary SQLite file (or CRM_BENCH_DATABASE_URL,
e.g. a PostgreSQL database you can empty), writes a file of ``--rows``
engagements that link to a few partners, imports it with ``crm import``'s code
path, and prints rows per second and the peak memory after 10 % and at the end
of the run (they should be close: memory does not grow with the file).
The goal (issue 6): 100,000 rows in under a minute.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

LAST_APP = None  # for bench.export_engagements, which exports what this fills


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_file(path: Path, rows: int, partner_refs: list[str], fmt: str) -> None:
    random.seed(6)
    header = [
        "ref", "title_en", "title_ar", "category", "type", "format", "status",
        "start_date", "end_date", "country", "city", "languages", "victim_groups",
        "strategies", "partner_refs", "women", "men", "unspecified", "under_18",
        "summary_en",
    ]  # fmt: skip
    start = date(2019, 1, 1)

    def row(i: int) -> list[object]:
        day = start + timedelta(days=i % 1800)
        women, men = random.randint(0, 40), random.randint(0, 40)
        return [
            f"E-B-{i:07d}",
            f"Consultation {i}",
            f"مشاورة رقم {i}",
            random.choice(["victims_survivors", "civil_society", "Victims and survivors"]),
            random.choice(["consultation", "meeting", "workshop", "اجتماع"]),
            random.choice(["in_person", "online", "hybrid"]),
            "held",
            day.isoformat(),
            (day + timedelta(days=1)).isoformat(),
            random.choice(["TR", "DE", "LB", "JO", ""]),
            "Gaziantep",
            "ar; en",
            random.choice(["missing_disappeared", "detention_torture; sgbv", ""]),
            random.choice(["victim_centred", "gender; children_youth", ""]),
            "; ".join(random.sample(partner_refs, 2)),
            women,
            men,
            random.randint(0, 3),
            random.randint(0, min(women, 5)),
            "Summary of the discussion.",
        ]

    if fmt == "csv":
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            for i in range(rows):
                writer.writerow(row(i))
    else:
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet("engagements")
        sheet.append(header)
        for i in range(rows):
            sheet.append(row(i))
        book.save(str(path))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--format", choices=["csv", "xlsx"], default="csv")
    parser.add_argument("--no-batch", action="store_true", help="one service call per row")
    args = parser.parse_args(argv)

    from crm import create_app
    from crm.codes import PartnerType
    from crm.crypto import new_key_string
    from crm.extensions import db
    from crm.imports.services import Importer, SystemActor
    from crm.partners.models import Partner

    global LAST_APP
    workdir = Path(tempfile.mkdtemp(prefix="crm-bench-"))
    url = os.environ.get("CRM_BENCH_DATABASE_URL") or f"sqlite:///{workdir / 'bench.sqlite'}"
    app = create_app(
        {
            "INSTANCE_PATH": str(workdir),
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench-" + "x" * 40,
            "DATA_KEY": new_key_string("bench"),
            "BABEL_DEFAULT_LOCALE": "en",
        }
    )
    LAST_APP = app
    with app.app_context():
        db.drop_all()
        db.create_all()
        refs = [f"P-B-{i:03d}" for i in range(40)]
        for ref in refs:
            db.session.add(Partner(ref=ref, name_en=f"Partner {ref}", type=PartnerType.SYRIAN_CSO))
        db.session.commit()

        path = workdir / f"engagements.{args.format}"
        began = time.perf_counter()
        write_file(path, args.rows, refs, args.format)
        print(f"wrote {args.rows:,} rows ({path.stat().st_size / 1e6:.1f} MB) "
              f"in {time.perf_counter() - began:.1f} s")  # fmt: skip

        marks: dict[str, float] = {}

        def progress(rows: int, _total: int | None) -> None:
            if rows >= args.rows // 10 and "10%" not in marks:
                marks["10%"] = _peak_mb()

        began = time.perf_counter()
        importer = Importer(
            "engagements",
            actor=SystemActor(),
            on_progress=progress,
            progress_every=1000,
            batch=not args.no_batch,
        )
        result = importer.run(path)
        if result.ok:
            db.session.commit()
        elapsed = time.perf_counter() - began
        print(
            f"imported {result.rows:,} rows: {result.created:,} created, "
            f"{result.error_count} errors, in {elapsed:.1f} s "
            f"({result.rows / elapsed:,.0f} rows/s)"
        )
        print(
            f"peak memory after 10 %: {marks.get('10%', 0):.0f} MB; at the end: {_peak_mb():.0f} MB"
        )
        for error in result.errors[:5]:
            print("  ", error.row, error.column, str(error.message))
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
