"""Importing a file of partners, frameworks or engagements: all or nothing.

:func:`run_import` reads the file a row at a time (:mod:`crm.imports.readers`),
reads each cell (:mod:`crm.imports.columns`), and hands each row to the area's
own services: ``create_*`` for a new reference, ``update_*`` (with
``version=None``) for a reference that exists, so an import obeys exactly the
rules of the web forms. Rows that would change nothing are not sent at all, so
importing the same file twice changes nothing and writes no audit row the second
time.

Everything happens in the caller's transaction. When any row is bad (or on a dry
run) the transaction is rolled back and nothing is written; every bad row is
reported as ``row N, column C: reason`` in the reader's language. A crash half
way is rolled back too. Memory does not grow with the file: rows are streamed,
written as they come (the services flush), and the references already seen (to
catch one used twice) are kept in a temporary SQLite file, not in memory.

Engagements have a faster path for large files (:mod:`crm.imports.batch`) that
runs the same validation as ``create_engagement`` and writes in batches.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from pathlib import Path
from typing import Any

from flask import g, has_app_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, text

from crm.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from crm.extensions import db
from crm.imports.columns import CellError, Column, match_header, parse_cell
from crm.imports.kinds import FIELD_TO_COLUMN, KINDS, Kind, RowCellErrors
from crm.imports.readers import FileProblem, Table, open_table
from crm.security import Permission

log = logging.getLogger(__name__)

KEEP_ERRORS = 1000  # reported one by one; the rest are counted
PROGRESS_EVERY = 1000
CHUNK_ROWS = 500  # rows looked up together


@dataclass(frozen=True)
class RowError:
    row: int
    column: str | None
    message: Any  # lazy: rendered in the reader's language

    def text(self) -> str:
        if self.column:
            return _(
                "row %(row)s, column %(column)s: %(reason)s",
                row=self.row,
                column=self.column,
                reason=str(self.message),
            )
        return _("row %(row)s: %(reason)s", row=self.row, reason=str(self.message))


@dataclass
class RowPreview:
    """One row as the preview shows it: what will happen and which cells are bad."""

    row: int
    ref: str | None
    action: str  # "create", "update", "unchanged" or "error"
    cells: dict[str, str]
    changed: list[str] = field(default_factory=list)
    bad: dict[str, str] = field(default_factory=dict)


@dataclass
class ImportResult:
    kind: str
    dry_run: bool
    format: str | None = None
    encoding: str | None = None
    notes: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    error_count: int = 0
    bad_rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    file_problem: Any = None

    @property
    def ok(self) -> bool:
        return self.file_problem is None and self.error_count == 0

    def add_error(self, error: RowError) -> None:
        self.error_count += 1
        if len(self.errors) < KEEP_ERRORS:
            self.errors.append(error)

    def summary(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "errors": self.error_count,
            "bad_rows": self.bad_rows,
            "format": self.format,
            "dry_run": self.dry_run,
        }


class SystemActor:
    """The command line acting for no account: every permission, no id.

    The audit trail records such changes without an actor; ``--user`` attributes
    an import to an account (and its permissions) instead.
    """

    id = None
    name = "system"
    is_authenticated = True
    is_anonymous = False
    active = True

    def can(self, _permission: Permission) -> bool:
        return True


class SeenRefs:
    """The references met so far in a file, and the row of each: kept in a
    temporary SQLite file, so memory does not grow with the file."""

    def __init__(self) -> None:
        handle, name = tempfile.mkstemp(prefix="crm-import-refs-", suffix=".sqlite")
        os.close(handle)
        self.path = Path(name)
        self.db = sqlite3.connect(name)
        self.db.execute("PRAGMA journal_mode=OFF")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.execute("CREATE TABLE seen (key TEXT PRIMARY KEY, row INTEGER) WITHOUT ROWID")

    def add(self, key: str, row: int) -> int | None:
        """Remember ``key`` at ``row``; if it was met before, the earlier row."""
        cursor = self.db.execute("INSERT OR IGNORE INTO seen VALUES (?, ?)", (key, row))
        if cursor.rowcount:
            return None
        found = self.db.execute("SELECT row FROM seen WHERE key = ?", (key,)).fetchone()
        return int(found[0]) if found else None

    def close(self) -> None:
        self.db.close()
        self.path.unlink(missing_ok=True)


# --- comparing a row with a record -------------------------------------------------


def _comparable(column: Column, value: Any) -> Any:
    if column.type in ("codes", "refs"):
        return sorted(str(getattr(v, "value", v)) for v in (value or []))
    if column.type == "languages":
        return list(value or [])
    if column.type == "bool":
        return bool(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, str):
        value = value.replace("\r\n", "\n").replace("\r", "\n").strip()
        return value or None
    if isinstance(value, date):
        return value.isoformat()
    return value


def changed_columns(kind: Kind, record: Any, values: Mapping[str, Any], actor: Any) -> list[str]:
    """The columns of ``values`` whose value differs from the record's."""
    current = kind.current(record, actor)
    changed = []
    for name, value in values.items():
        if name == "ref" or name not in current:
            continue
        column = kind.column(name)
        if _comparable(column, current[name]) != _comparable(column, value):
            changed.append(name)
    return changed


# --- the importer ------------------------------------------------------------------


class Importer:
    """Runs one import. ``on_error(RowError)`` sees each problem as it is found,
    ``on_row(RowPreview)`` each row, ``on_progress(rows, estimate)`` runs every
    ``progress_every`` rows."""

    def __init__(
        self,
        kind: str | Kind,
        *,
        actor: Any,
        dry_run: bool = False,
        on_error: Callable[[RowError], None] | None = None,
        on_row: Callable[[RowPreview], None] | None = None,
        on_progress: Callable[[int, int | None], None] | None = None,
        progress_every: int = PROGRESS_EVERY,
        batch: bool | None = None,
    ):
        self.kind = KINDS[kind] if isinstance(kind, str) else kind
        self.actor = actor
        self.dry_run = dry_run
        self.on_error = on_error
        self.on_row = on_row
        self.on_progress = on_progress
        self.progress_every = max(1, progress_every)
        self.batch = batch
        self.result = ImportResult(kind=self.kind.name, dry_run=dry_run)
        self._seen = SeenRefs()
        self._batch: Any = None

    # -- reporting --

    def _error(self, row: int, column: str | None, message: Any) -> None:
        error = RowError(row, column, message)
        self.result.add_error(error)
        if self.on_error is not None:
            self.on_error(error)

    # -- the run --

    def run(self, path: str | Path) -> ImportResult:
        """Import ``path``; roll back unless every row is good and this is no dry run."""
        if not (self.actor.can(Permission.IMPORT) and self.actor.can(self.kind.permission)):
            raise PermissionDenied()
        try:
            with open_table(
                path,
                known_columns=[c.name for c in self.kind.columns],
                sheet_names=self.kind.sheet_names,
            ) as table:
                self._run(table)
        except FileProblem as exc:
            self.result.file_problem = exc.message
            if self.on_error is not None:
                self.on_error(RowError(0, None, exc.message))
        except BaseException:
            db.session.rollback()
            raise
        finally:
            self._seen.close()
            if self._batch is not None:
                self._batch.close()
        if not self.result.ok or self.dry_run:
            db.session.rollback()
            if has_app_context():
                g.crm_rollback = True  # and the request or command must not commit
        return self.result

    def _run(self, table: Table) -> None:
        result = self.result
        result.format = table.format
        result.encoding = table.encoding
        result.notes = [str(n) for n in table.notes]
        columns, problems = match_header(table.header, self.kind.columns)
        for _position, header, reason in problems:
            self._error(1, header, reason)
        present = [c for c in columns if c is not None]
        result.columns = [c.name for c in present]
        if not any(c.name == "ref" for c in present):
            self._error(1, "ref", _l("The column ref is missing: every row needs its reference."))
        if result.error_count:
            return  # a wrong header makes every row wrong: say it once
        self._batch = self._batch_writer(present)
        chunk: list[tuple[int, dict[str, Any], dict[str, str]]] = []
        for number, cells in table.rows:
            result.rows += 1
            parsed = self._parse(number, columns, cells)
            if parsed is not None:
                chunk.append(parsed)
            if len(chunk) >= CHUNK_ROWS:
                self._chunk(chunk)
                chunk = []
            if self.on_progress is not None and result.rows % self.progress_every == 0:
                self.on_progress(result.rows, None)
        self._chunk(chunk)
        if self._batch is not None:
            self._batch.finish()
        if self.on_progress is not None:
            self.on_progress(result.rows, result.rows)

    def _batch_writer(self, present: list[Column]) -> Any:
        if self.kind.name != "engagements" or self.batch is False:
            return None
        from crm.imports.batch import EngagementBatch

        return EngagementBatch(self)

    def _parse(
        self, number: int, columns: list[Column | None], cells: list[str]
    ) -> tuple[int, dict[str, Any], dict[str, str]] | None:
        """The typed values of a row, or None (reported) when a cell is bad."""
        values: dict[str, Any] = {}
        raw: dict[str, str] = {}
        bad: dict[str, Any] = {}
        for position, column in enumerate(columns):
            if column is None:
                continue
            cell = cells[position] if position < len(cells) else ""
            raw[column.name] = cell
            try:
                values[column.name] = parse_cell(column, cell)
            except CellError as exc:
                bad[column.name] = exc.message
        if any(c.strip() for c in cells[len(columns) :]):
            bad[""] = _l("This row has more cells than the header has columns.")
        ref = values.get("ref")
        if not ref and "ref" not in bad:
            bad["ref"] = _l("Every row needs its reference.")
        if ref:
            earlier = self._seen.add(ref.casefold(), number)
            if earlier is not None:
                bad["ref"] = _l("This reference is already used in row %(row)s.", row=earlier)
        if bad:
            self._finish_row(number, ref, "error", raw, bad=bad)
            return None
        return number, values, raw

    def _chunk(self, rows: list[tuple[int, dict[str, Any], dict[str, str]]]) -> None:
        """Rows whose cells are good: the existing records are looked up at once,
        then each row is created or updated, in the order of the file."""
        if not rows:
            return
        model: Any = self.kind.model
        refs = [values["ref"] for _n, values, _r in rows]
        # References first (the unique index answers), whole records only for those
        # that exist: a large import mostly finds none.
        ids = [row[0] for row in by_index(select(model.id).where(model.ref.in_(refs)))]
        existing = (
            {
                record.ref: record
                for record in db.session.execute(select(model).where(model.id.in_(ids))).scalars()
            }
            if ids
            else {}
        )
        for number, values, raw in rows:
            record = existing.get(values["ref"])
            if record is None and self._batch is not None:
                self._batch.add(number, values, raw)
            else:
                self._apply(number, values["ref"], record, values, raw)
        del existing

    def _apply(
        self, number: int, ref: str, record: Any, values: dict[str, Any], raw: dict[str, str]
    ) -> None:
        changed: list[str] = []
        if self.kind.normalise is not None:
            values = self.kind.normalise(values, record)
        if record is not None:
            if not record.can_view(self.actor):
                self._finish_row(
                    number,
                    ref,
                    "error",
                    raw,
                    bad={"ref": _l("Another record already has this reference.")},
                )
                return
            changed = changed_columns(self.kind, record, values, self.actor)
            if not changed:
                self._finish_row(number, ref, "unchanged", raw)
                return
            data = {k: v for k, v in values.items() if k in changed}
        else:
            data = dict(values)
        try:
            mapped = self.kind.to_data(data, self.actor)
            if record is None:
                self.kind.create(mapped, actor=self.actor)
                action = "create"
            else:
                version = record.version
                self.kind.update(record, mapped, actor=self.actor)
                action = "update" if record.version != version else "unchanged"
        except RowCellErrors as exc:
            self._finish_row(number, ref, "error", raw, bad=exc.errors)
            return
        except ValidationError as exc:
            bad = {}
            for name, messages in exc.errors.items():
                column = self._column_for(name, raw)
                bad[column] = (
                    messages[0] if len(messages) == 1 else " ".join(str(m) for m in messages)
                )
            self._finish_row(number, ref, "error", raw, bad=bad)
            return
        except (PermissionDenied, NotFound):
            self._finish_row(
                number, ref, "error", raw, bad={"": _l("You may not change this record.")}
            )
            return
        except ConflictError:
            self._finish_row(
                number,
                ref,
                "error",
                raw,
                bad={"": _l("This record was changed by someone else during the import.")},
            )
            return
        self._finish_row(number, ref, action, raw, changed=changed)

    def _column_for(self, field_name: str, raw: Mapping[str, str]) -> str:
        if not field_name:
            return ""
        if field_name in raw:
            return field_name
        return FIELD_TO_COLUMN.get(field_name, field_name)

    def _finish_row(
        self,
        number: int,
        ref: str | None,
        action: str,
        raw: dict[str, str],
        *,
        bad: Mapping[str, Any] | None = None,
        changed: list[str] | None = None,
    ) -> None:
        result = self.result
        if action == "error":
            result.bad_rows += 1
            for column, message in (bad or {}).items():
                self._error(number, column or None, message)
        elif action == "create":
            result.created += 1
        elif action == "update":
            result.updated += 1
        else:
            result.unchanged += 1
        if self.on_row is not None:
            self.on_row(
                RowPreview(
                    row=number,
                    ref=ref,
                    action=action,
                    cells=raw,
                    changed=list(changed or []),
                    bad={k: str(v) for k, v in (bad or {}).items()},
                )
            )


def by_index(stmt: Any) -> list[Any]:
    """Rows of a lookup by reference, read through the unique index.

    PostgreSQL plans from statistics that a long import outruns (its own rows
    are not in them yet): it would scan the whole table for every chunk, and an
    import of 100,000 rows into a young table would slow down row after row.
    """
    if db.session.get_bind().dialect.name != "postgresql":
        return list(db.session.execute(stmt).all())
    db.session.execute(text("SET LOCAL enable_seqscan = off"))
    try:
        return list(db.session.execute(stmt).all())
    finally:
        db.session.execute(text("RESET enable_seqscan"))


def run_import(
    kind: str,
    path: str | Path,
    *,
    actor: Any,
    dry_run: bool = False,
    **options: Any,
) -> ImportResult:
    """Import ``path`` as ``kind`` (see :class:`Importer` for the options)."""
    return Importer(kind, actor=actor, dry_run=dry_run, **options).run(path)
