"""Bulk data for the benchmarks: executemany on SQLite, COPY on PostgreSQL.

Rows are written straight into the tables (the services would take hours for a
million records), a chunk at a time: each column of a chunk is drawn at once,
then zipped into rows. Secondary indexes are dropped during the load and built
again afterwards, which is much faster than keeping them up to date row by row.

Every NOT NULL column gets a value: the ones the counting rules read get
realistic ones, any other a neutral constant for its type, so columns other
engineers add do not break the generator.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate
from typing import Any

from sqlalchemy import Boolean, Date, DateTime, Integer, Table
from sqlalchemy.engine import Engine

from crm.codes import (
    EngagementCategory,
    EngagementFormat,
    EngagementStatus,
    EngagementType,
    FrameworkStatus,
    Instrument,
    PartnerType,
    VictimGroup,
)

CHUNK = 50_000
NOW = datetime(2025, 6, 1, tzinfo=UTC)
FIRST_DAY, LAST_DAY = date(2010, 1, 1), date(2025, 12, 31)
COUNTRIES = ["TR", "DE", "LB", "JO", "FR", "NL", "SE", "CH", "SY", "IQ", "BE", "AT", "DK", "NO"]


@dataclass(frozen=True)
class Sizes:
    engagements: int
    partners: int
    frameworks: int
    people: int

    @classmethod
    def for_engagements(cls, n: int) -> Sizes:
        return cls(
            engagements=n,
            partners=max(50, min(20_000, n // 200)),
            frameworks=max(100, min(50_000, n // 50)),
            people=max(10, n // 10),
        )


class Writer:
    """Inserts many rows into one table, as fast as the database allows."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sqlite = engine.dialect.name == "sqlite"

    def value(self, value: Any) -> Any:
        """A Python value as this database's driver takes it in bulk."""
        if isinstance(value, list | dict):
            return json.dumps(value)
        if self.sqlite and isinstance(value, datetime):
            return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
        if self.sqlite and isinstance(value, date):
            return value.isoformat()
        return value

    def day(self, value: date) -> Any:
        return value.isoformat() if self.sqlite else value

    def _filler(self, table: Table, given: Sequence[str]) -> tuple[list[str], tuple[Any, ...]]:
        """The NOT NULL columns not given, and a constant value for each."""
        names, values = [], []
        for column in table.columns:
            if column.name in given or column.nullable:
                continue
            kind = column.type
            if isinstance(kind, Boolean):
                value: Any = False
            elif isinstance(kind, Integer):
                value = 1 if column.name == "version" else 0
            elif isinstance(kind, DateTime) or "DateTime" in type(kind).__name__:
                value = NOW
            elif isinstance(kind, Date):
                value = NOW.date()
            elif type(kind).__name__ == "JSON":
                value = []
            else:
                value = ""
            names.append(column.name)
            values.append(self.value(value))
        return names, tuple(values)

    def write(
        self, table: Table, columns: Sequence[str], chunks: Iterator[list[tuple[Any, ...]]]
    ) -> int:
        extra_names, extra = self._filler(table, columns)
        names = [*columns, *extra_names]
        quoted = ", ".join(f'"{n}"' for n in names)
        total = 0
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            if self.sqlite:
                # A throwaway database: no foreign key checks or syncs while loading.
                cursor.execute("PRAGMA foreign_keys=OFF")
                cursor.execute("PRAGMA synchronous=OFF")
            for chunk in chunks:
                rows = [row + extra for row in chunk] if extra else chunk
                total += len(rows)
                if self.sqlite:
                    # The app's connections run in autocommit mode (it issues
                    # BEGIN itself): one explicit transaction per chunk.
                    marks = ", ".join("?" for _ in names)
                    cursor.execute("BEGIN")
                    insert = f'INSERT INTO "{table.name}" ({quoted}) VALUES ({marks})'  # noqa: S608 - names from the schema
                    cursor.executemany(insert, rows)
                    cursor.execute("COMMIT")
                else:
                    with cursor.copy(f'COPY "{table.name}" ({quoted}) FROM STDIN') as copy:
                        for row in rows:
                            copy.write_row(row)
                    raw.commit()
            if self.sqlite:
                cursor.execute("PRAGMA foreign_keys=ON")
                cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            raw.close()
        return total


def _picker(rng: random.Random, weights: dict[Any, int]) -> Callable[[int], list[Any]]:
    values, cumulative = list(weights), list(accumulate(weights.values()))
    return lambda k: rng.choices(values, cum_weights=cumulative, k=k)


def _chunks(
    n: int, make: Callable[[int, int], list[tuple[Any, ...]]]
) -> Iterator[list[tuple[Any, ...]]]:
    """``make(first_id, size)`` for consecutive chunks of ids 1..n."""
    for first in range(1, n + 1, CHUNK):
        yield make(first, min(CHUNK, n - first + 1))


def generate(
    engine: Engine,
    tables: dict[str, Table],
    sizes: Sizes,
    *,
    seed: int = 7,
    log: Callable[[str], None] = print,
) -> None:
    rng = random.Random(seed)
    writer = Writer(engine)
    span = (LAST_DAY - FIRST_DAY).days
    days = [writer.day(FIRST_DAY + timedelta(days=i)) for i in range(span + 1)]
    languages = writer.value(["ar"])
    archived = writer.value(NOW)

    def partners(first: int, size: int) -> list[tuple[Any, ...]]:
        kinds = _picker(
            rng,
            {
                PartnerType.SYRIAN_CSO.value: 40,
                PartnerType.VICTIMS_ASSOCIATION.value: 20,
                PartnerType.INTERNATIONAL_NGO.value: 10,
                PartnerType.STATE.value: 15,
                PartnerType.UN_ENTITY.value: 5,
                PartnerType.ACADEMIC.value: 5,
                PartnerType.OTHER.value: 5,
            },
        )(size)
        countries = rng.choices(COUNTRIES, k=size)
        return [
            (
                i,
                f"BP-{i:07d}",
                f"Partner {i}",
                f"الشريك {i}",
                kinds[k],
                countries[k],
                languages,
                i % 20 == 0,
                f"partner {i}",
            )
            for k, i in enumerate(range(first, first + size))
        ]

    def frameworks(first: int, size: int) -> list[tuple[Any, ...]]:
        statuses = _picker(
            rng,
            {
                FrameworkStatus.IN_FORCE.value: 70,
                FrameworkStatus.EXPIRED.value: 12,
                FrameworkStatus.TERMINATED.value: 4,
                FrameworkStatus.SUSPENDED.value: 2,
                FrameworkStatus.DRAFT.value: 5,
                FrameworkStatus.NEGOTIATION.value: 5,
                FrameworkStatus.VOID.value: 2,
            },
        )(size)
        instruments = _picker(
            rng, {i.value: w for i, w in zip(Instrument, (60, 5, 8, 5, 10, 5, 5, 2), strict=True)}
        )(size)
        rows = []
        for k, i in enumerate(range(first, first + size)):
            status = statuses[k]
            signed = None if status in ("draft", "negotiation") else rng.randrange(span - 1500)
            expires = terminated = None
            if signed is not None and status == "expired":
                expires = days[signed + rng.randint(365, 1500)]
            if signed is not None and status == "terminated":
                terminated = days[signed + rng.randint(100, 1500)]
            amends = i - 25 if signed is not None and i % 50 == 0 and i > 25 else None
            rows.append(
                (
                    i,
                    f"BF-{i:07d}",
                    f"Framework {i}",
                    instruments[k],
                    status,
                    days[signed] if signed is not None else None,
                    expires,
                    terminated,
                    amends,
                    f"framework {i}",
                )
            )
        return rows

    def framework_partners(first: int, size: int) -> list[tuple[Any, ...]]:
        rows = []
        for i in range(first, first + size):
            count = 28 if i % 1000 == 0 else rng.choice((1, 1, 1, 2))
            rows.extend(
                (i, p) for p in rng.sample(range(1, sizes.partners + 1), min(count, sizes.partners))
            )
        return rows

    def people(first: int, size: int) -> list[tuple[Any, ...]]:
        return [(i, f"V-{i:09d}") for i in range(first, first + size)]

    categories = _picker(
        rng, {c.value: w for c, w in zip(EngagementCategory, (25, 45, 15, 15), strict=True)}
    )
    statuses = _picker(
        rng, {s.value: w for s, w in zip(EngagementStatus, (5, 88, 3, 4), strict=True)}
    )
    kinds = _picker(rng, {t.value: 1 for t in EngagementType})
    formats = _picker(
        rng, {f.value: w for f, w in zip(EngagementFormat, (60, 30, 10), strict=True)}
    )

    def engagements(first: int, size: int) -> list[tuple[Any, ...]]:
        cat, sta, kin, fmt = categories(size), statuses(size), kinds(size), formats(size)
        starts = [rng.randrange(span) for _ in range(size)]
        countries = rng.choices([*COUNTRIES, None], k=size)
        women = rng.choices(range(41), k=size)
        men = rng.choices(range(41), k=size)
        unspecified = rng.choices((0, 0, 0, 1, 2), k=size)
        under_18 = rng.choices((0, 0, 1, 3), k=size)
        return [
            (
                i,
                f"BE-{i:08d}",
                f"Engagement {i}",
                cat[k],
                kin[k],
                fmt[k],
                sta[k],
                days[starts[k]],
                days[starts[k] + 1] if i % 7 == 0 else None,
                countries[k],
                languages,
                women[k],
                men[k],
                unspecified[k],
                under_18[k],
                f"engagement {i}",
                True,
                archived if i % 97 == 0 else None,
            )
            for k, i in enumerate(range(first, first + size))
        ]

    groups = [g.value for g in VictimGroup]

    def victim_groups(first: int, size: int) -> list[tuple[Any, ...]]:
        counts = rng.choices((0, 1, 1, 2), k=size)
        rows = []
        for k, i in enumerate(range(first, first + size)):
            if counts[k]:
                rows.extend((i, code) for code in rng.sample(groups, counts[k]))
        return rows

    def engagement_partners(first: int, size: int) -> list[tuple[Any, ...]]:
        return [(i, rng.randint(1, sizes.partners)) for i in range(first, first + size)]

    def engagement_people(first: int, size: int) -> list[tuple[Any, ...]]:
        rows = []
        for i in range(first, first + size):
            if i % 5 == 0:
                rows.extend(
                    (i, p)
                    for p in {rng.randint(1, sizes.people) for _ in range(rng.choice((1, 2, 3)))}
                )
        return rows

    plan = [
        (
            "partners",
            [
                "id",
                "ref",
                "name_en",
                "name_ar",
                "type",
                "country",
                "languages",
                "confidential",
                "search_text",
            ],
            sizes.partners,
            partners,
        ),
        (
            "frameworks",
            [
                "id",
                "ref",
                "title_en",
                "instrument",
                "status",
                "signed_on",
                "expires_on",
                "terminated_on",
                "amends_id",
                "search_text",
            ],
            sizes.frameworks,
            frameworks,
        ),
        (
            "framework_partners",
            ["framework_id", "partner_id"],
            sizes.frameworks,
            framework_partners,
        ),
        ("people", ["id", "code"], sizes.people, people),
        (
            "engagements",
            [
                "id",
                "ref",
                "title_en",
                "category",
                "type",
                "format",
                "status",
                "start_date",
                "end_date",
                "country",
                "languages",
                "women",
                "men",
                "unspecified",
                "under_18",
                "search_text",
                "complete",
                "archived_at",
            ],
            sizes.engagements,
            engagements,
        ),
        ("engagement_victim_groups", ["engagement_id", "code"], sizes.engagements, victim_groups),
        (
            "engagement_partners",
            ["engagement_id", "partner_id"],
            sizes.engagements,
            engagement_partners,
        ),
        ("engagement_people", ["engagement_id", "person_id"], sizes.engagements, engagement_people),
    ]
    loaded = [tables[name] for name, *_ in plan]
    with engine.connect() as conn:
        for table in loaded:
            for index in table.indexes:
                index.drop(conn)
        conn.commit()
    for name, columns, n, make in plan:
        count = writer.write(tables[name], columns, _chunks(n, make))
        log(f"  {name}: {count:,} rows")
    with engine.connect() as conn:
        for table in loaded:
            for index in table.indexes:
                index.create(conn)
        conn.commit()
    log("  indexes built")
