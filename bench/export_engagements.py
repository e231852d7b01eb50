"""How long does exporting a large engagement list take, and in how much memory?

    python -m bench.export_engagements [--rows 100000]

Fills a throwaway SQLite database (or CRM_BENCH_DATABASE_URL) with ``--rows``
engagements through the importer's fast path, then writes the list as CSV and
as XLSX exactly as the export view does (a keyset walk over the filtered query,
one chunk of records in memory at a time), printing time and peak memory.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args(argv)

    # The import bench leaves its app and database behind in this process.
    import bench.import_engagements as filled
    from bench.import_engagements import main as fill

    fill(["--rows", str(args.rows)])
    app = filled.LAST_APP
    from flask_babel import force_locale

    from crm.exports import (
        csv_chunks,
        header_row,
        iter_rows,
        plan_export,
        temporary_path,
        write_xlsx,
    )
    from crm.imports.services import SystemActor

    actor = SystemActor()
    with app.test_request_context("/exports/engagements"), force_locale("en"):
        plan = plan_export("engagements", {}, actor)
        before = _peak_mb()
        began = time.perf_counter()
        size = 0
        for chunk in csv_chunks(
            header_row(plan, "en"), iter_rows(plan, actor, "en", release_locks=True)
        ):
            size += len(chunk)
        elapsed = time.perf_counter() - began
        print(
            f"CSV: {size / 1e6:.1f} MB in {elapsed:.1f} s; "
            f"peak memory {before:.0f} -> {_peak_mb():.0f} MB"
        )
        path = temporary_path(".xlsx")
        began = time.perf_counter()
        rows = write_xlsx(
            path,
            sheet_title="Engagements",
            header=header_row(plan, "en"),
            rows=iter_rows(plan, actor, "en", release_locks=True),
        )
        elapsed = time.perf_counter() - began
        print(
            f"XLSX: {rows:,} rows, {path.stat().st_size / 1e6:.1f} MB in {elapsed:.1f} s; "
            f"peak memory {_peak_mb():.0f} MB"
        )
        path.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
