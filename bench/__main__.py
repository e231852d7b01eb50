"""``python -m bench [--engagements N] [--repeat R] [--keep]``: see bench/__init__.py."""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.floor import FLOOR_QUERIES


def log(message: str) -> None:
    print(message, flush=True)


def timed(func: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """The median wall time of ``repeat`` calls (after one warm-up call), and a result."""
    result = func()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def throwaway_database(keep: bool) -> tuple[str, Callable[[], None]]:
    server = os.environ.get("CRM_BENCH_DATABASE_URL")
    if not server:
        path = Path(tempfile.gettempdir()) / f"crm-reports-bench-{os.getpid()}.sqlite"

        def remove() -> None:
            if not keep:
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)

        return f"sqlite:///{path}", remove
    url = make_url(server)
    name = f"crm_bench_{os.getpid()}_{secrets.token_hex(3)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        if not keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--engagements", type=int, default=1_000_000, help="engagements to generate"
    )
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each measure (median)")
    parser.add_argument("--year", type=int, default=2024, help="the reporting year to time")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args(argv)

    url, cleanup = throwaway_database(args.keep)
    try:
        return run(url, args)
    finally:
        cleanup()


def run(url: str, args: argparse.Namespace) -> int:
    instance = tempfile.mkdtemp(prefix="crm-reports-bench-")
    try:
        return _run(url, args, instance)
    finally:
        shutil.rmtree(instance, ignore_errors=True)


def _run(url: str, args: argparse.Namespace, instance: str) -> int:
    from flask import Flask

    from bench.generate import Sizes, generate
    from crm import create_app
    from crm.crypto import new_key_string
    from crm.extensions import db

    app = create_app(
        {
            "INSTANCE_PATH": instance,
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": secrets.token_urlsafe(48),
            "DATA_KEY": new_key_string("bench"),
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
        }
    )
    sizes = Sizes.for_engagements(args.engagements)
    log(f"database: {make_url(url).render_as_string(hide_password=True)}")
    with app.app_context():
        db.create_all()
        start = time.perf_counter()
        log(
            f"generating {sizes.engagements:,} engagements, {sizes.people:,} people, "
            f"{sizes.frameworks:,} frameworks, {sizes.partners:,} partners …"
        )
        generate(db.engine, db.metadata.tables, sizes, log=log)
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect() as conn:
                conn.execute(text("ANALYZE"))
                conn.commit()
        else:
            with db.engine.connect() as conn:
                conn.exec_driver_sql("ANALYZE")
        log(f"generated in {time.perf_counter() - start:.1f} s")
        results = measure(app, args)
    bare = Flask("bare")
    bare.add_url_rule("/", "index", lambda: "ok")
    bare_client = bare.test_client()
    bare_time, _ = timed(lambda: bare_client.get("/"), max(args.repeat * 20, 50))

    log("")
    log(f"{'measure':<44}{'median':>12}")
    for label, seconds in results["times"]:
        log(f"{label:<44}{seconds * 1000:>10.1f} ms")
    log(f"{'bare Flask response':<44}{bare_time * 1000:>10.3f} ms")
    log("")
    log(f"outcome3() / raw SQL floor:            {results['outcome3'] / results['raw']:.2f}")
    log(f"report page / outcome3():              {results['page'] / results['outcome3']:.2f}")
    log(f"report page / bare Flask response:     {results['page'] / bare_time:,.0f}")
    log(f"records page / bare Flask response:    {results['records'] / bare_time:,.0f}")
    log("")
    log(
        f"{args.year}: {results['figures']['cooperation_frameworks']['headline']:,} frameworks, "
        f"{results['figures']['engagements']['headline']:,} engagements with victims and survivors"
    )
    return 0


def measure(app: Any, args: argparse.Namespace) -> dict[str, Any]:
    from crm.auth.models import User, UserSession
    from crm.auth.passwords import hash_password
    from crm.auth.services import token_hash
    from crm.codes import Role
    from crm.extensions import db
    from crm.reports.counting import outcome3

    period = (date(args.year, 1, 1), date(args.year, 12, 31))
    params = {"start": period[0], "end": period[1]}
    if db.engine.dialect.name == "sqlite":
        params = {k: v.isoformat() for k, v in params.items()}

    def raw_sql() -> list[Any]:
        with db.engine.connect() as conn:
            return [conn.execute(text(query), params).all() for query in FLOOR_QUERIES]

    def figures() -> dict[str, Any]:
        try:
            return outcome3(*period)
        finally:
            db.session.rollback()

    raw_time, _ = timed(raw_sql, args.repeat)
    outcome3_time, result = timed(figures, args.repeat)

    user = User(
        email="bench@example.org",
        name="Bench",
        role=Role.VIEWER,
        locale="en",
        password_hash=hash_password(secrets.token_urlsafe(24)),
    )
    db.session.add(user)
    db.session.flush()
    token = secrets.token_urlsafe(32)
    db.session.add(UserSession(user_id=user.id, token_hash=token_hash(token)))
    db.session.commit()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = token
        session["_fresh"] = True

    def page() -> Any:
        response = client.get(
            f"/reports/?kind=year&year={args.year}", headers={"Accept-Language": "en"}
        )
        if response.status_code != 200:
            raise SystemExit(f"the report page answered {response.status_code}")
        return response

    def records() -> Any:
        response = client.get(
            f"/reports/records?kind=year&year={args.year}&figure=engagements.held_in_period"
        )
        if response.status_code != 200:
            raise SystemExit(f"the records page answered {response.status_code}")
        return response

    page_time, _ = timed(page, args.repeat)
    records_time, _ = timed(records, args.repeat)
    return {
        "raw": raw_time,
        "outcome3": outcome3_time,
        "page": page_time,
        "records": records_time,
        "figures": result,
        "times": [
            ("raw SQL floor (13 aggregate queries)", raw_time),
            ("outcome3()", outcome3_time),
            ("report page GET /reports/", page_time),
            ("records behind O3.2, first page", records_time),
        ],
    }


if __name__ == "__main__":
    sys.exit(main())
