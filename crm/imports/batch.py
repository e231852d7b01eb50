"""The fast path for new engagements in a large import.

``create_engagement`` validates, flushes and writes its audit row one record at
a time: right for a form, far too slow for 100,000 rows. This path runs the very
same validation (the service's own ``_Cleaner``, so every rule and message is
the service's) and builds each record with the service's own ``_apply``; what
differs is only how the work reaches the database:

- the partners named in a batch are looked up with one query, not one per row
  (the rule is the service's: a partner must exist, be visible to the actor and
  not be archived);
- the records of a batch are built as the service builds them but not added to
  the session: they are inserted with one multi-row statement per table
  (records, victim groups, strategies, partner links), after the area's own
  ``refresh_derived`` has filled ``search_text`` and ``complete``;
- their audit rows (the same ``engagement.create`` rows with the same field
  diff, redacted the same way) are chained and inserted with one statement.

Only new records take this path; a row whose reference exists is updated
through ``update_engagement`` like any other.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
from collections.abc import Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from flask import has_request_context, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select

from crm.audit import services as audit
from crm.audit.models import AuditEntry
from crm.db import utcnow
from crm.engagements import services as engagement_services
from crm.engagements.models import (
    Engagement,
    EngagementPartner,
    EngagementStrategy,
    EngagementVictimGroup,
)
from crm.extensions import db
from crm.partners.models import Partner
from crm.search import search_text

BATCH_ROWS = 1000


class _BatchCleaner(engagement_services._Cleaner):
    """The service's validation, with the partners of the whole batch at hand."""

    def __init__(
        self,
        data: Mapping[str, Any],
        actor: Any,
        partners: Mapping[str, Partner],
        taken: set[str],
    ):
        super().__init__(data, None, actor)
        self.partners = partners
        self.taken = taken

    def _ref(self) -> None:
        ref = engagement_services._text(self.data.get("ref"))
        if ref is not None and len(ref) <= 64 and ref.lower() not in self.taken:
            # What the service's own check concludes for a free reference,
            # without one query per row; anything else goes to that check.
            self.values["ref"] = ref
            return
        super()._ref()

    def _links(self) -> None:
        keys = {"partner_ids", "partner_refs"} & set(self.data)
        if not keys:
            super()._links()
            return
        chosen: dict[int, Partner] = {}
        for item in engagement_services._items(self.data.get("partner_refs")):
            partner = self.partners.get(str(item).strip())
            if (
                partner is None
                or not engagement_services._sees(self.actor, partner)
                or partner.archived_at is not None
            ):
                self.error("partner_refs", _l("Choose partners from the list."))
                break
            chosen[partner.id] = partner
        else:
            self.links["partners"] = sorted(chosen.values(), key=lambda p: p.id)
        # Staff and people, if ever given, go through the service's own lookups.
        data = self.data
        self.data = {k: v for k, v in data.items() if k not in keys}
        try:
            super()._links()
        finally:
            self.data = data


_COLUMNS = [c.key for c in Engagement.__table__.columns if c.key != "id"]
_SENSITIVE = audit.sensitive_columns(Engagement)


def build_record(cleaner: engagement_services._Cleaner, created_by_id: int | None) -> Any:
    """The new engagement as ``create_engagement`` would store it, as a plain
    object: the cleaned values, the links, and the derived ``search_text`` and
    ``complete`` (by the area's ``missing_fields`` and ``search_text``)."""
    record = SimpleNamespace(**dict.fromkeys(_COLUMNS))
    for name, value in cleaner.values.items():
        setattr(record, name, value)
    if not record.ref:
        record.ref = engagement_services.new_ref(record.start_date)
    record.languages = record.languages or []
    record.victim_groups = [SimpleNamespace(code=c) for c in cleaner.links.get("victim_groups", [])]
    record.strategies = [SimpleNamespace(code=c) for c in cleaner.links.get("strategies", [])]
    record.partners = list(cleaner.links.get("partners", []))
    record.staff = list(cleaner.links.get("staff", []))
    record.people = list(cleaner.links.get("people", []))
    record.created_by_id = created_by_id
    record.version = 1
    # What the area's refresh_derived hook sets before a flush.
    record.search_text = search_text(
        record.ref, record.title_en, record.title_ar, record.city, record.summary_en,
        record.summary_ar,
    )  # fmt: skip
    record.complete = not engagement_services.missing_fields(record)  # type: ignore[arg-type]
    return record


class LowerRefs:
    """Lower-cased references in a temporary SQLite file."""

    def __init__(self) -> None:
        handle, name = tempfile.mkstemp(prefix="crm-import-existing-", suffix=".sqlite")
        os.close(handle)
        self.path = Path(name)
        self.db = sqlite3.connect(name)
        self.db.execute("PRAGMA journal_mode=OFF")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.execute("CREATE TABLE refs (key TEXT PRIMARY KEY) WITHOUT ROWID")

    @classmethod
    def of_table(cls) -> LowerRefs:
        """The references of the engagements on record, streamed in batches."""
        refs = cls()
        result = db.session.execute(
            select(Engagement.ref).execution_options(yield_per=10_000)
        ).scalars()
        for part in result.partitions():
            refs.db.executemany(
                "INSERT OR IGNORE INTO refs VALUES (?)", ((r.lower(),) for r in part)
            )
        return refs

    def among(self, keys: set[str]) -> set[str]:
        found: set[str] = set()
        ordered = sorted(keys)
        for start in range(0, len(ordered), 500):
            part = ordered[start : start + 500]
            marks = ",".join("?" * len(part))
            found.update(
                row[0]
                for row in self.db.execute(f"SELECT key FROM refs WHERE key IN ({marks})", part)  # noqa: S608 (placeholders only)
            )
        return found

    def close(self) -> None:
        self.db.close()
        self.path.unlink(missing_ok=True)


class EngagementBatch:
    """Collects new engagement rows and writes them a batch at a time."""

    def __init__(self, importer: Any, size: int = BATCH_ROWS):
        self.importer = importer
        self.size = size
        self.pending: list[tuple[int, dict[str, Any], dict[str, str]]] = []
        self.existing: LowerRefs | None = None

    def add(self, number: int, values: dict[str, Any], raw: dict[str, str]) -> None:
        self.pending.append((number, values, raw))
        if len(self.pending) >= self.size:
            self.flush()

    def finish(self) -> None:
        try:
            self.flush()
        finally:
            self.close()

    def close(self) -> None:
        if self.existing is not None:
            self.existing.close()
            self.existing = None

    def _partners(self) -> dict[str, Partner]:
        refs: set[str] = set()
        for _number, values, _raw in self.pending:
            refs.update(values.get("partner_refs") or [])
        if not refs:
            return {}
        return {
            p.ref: p
            for p in db.session.execute(select(Partner).where(Partner.ref.in_(sorted(refs))))
            .scalars()
            .all()
        }

    def _taken(self) -> set[str]:
        """References of the batch already on record, case-insensitively (as the
        service compares them).

        The records that existed before the import are read once, their
        lower-cased references kept in a temporary SQLite file (constant memory);
        the ones this import adds are the file's own references, which the
        importer checks for repeats already. A query per batch would scan the
        whole table (no index holds lower(ref)) and slow a long import down.
        """
        if self.existing is None:
            self.existing = LowerRefs.of_table()
        return self.existing.among({values["ref"].lower() for _n, values, _r in self.pending})

    def flush(self) -> None:
        if not self.pending:
            return
        importer = self.importer
        actor = importer.actor
        partners = self._partners()
        taken = self._taken()
        built: list[tuple[int, str, dict[str, str], Any]] = []
        for number, values, raw in self.pending:
            data = importer.kind.to_data(values, actor)
            cleaner = _BatchCleaner(data, actor, partners, taken)
            cleaner.clean()
            if cleaner.errors:
                bad = {
                    importer._column_for(name, raw): " ".join(str(m) for m in messages)
                    for name, messages in cleaner.errors.items()
                }
                importer._finish_row(number, values["ref"], "error", raw, bad=bad)
                continue
            engagement = build_record(cleaner, getattr(actor, "id", None))
            built.append((number, values["ref"], raw, engagement))
        self.pending = []
        if importer.result.error_count:
            # The import is lost anyway: keep validating, write nothing more.
            for number, ref, raw, _engagement in built:
                importer._finish_row(number, ref, "create", raw)
            return
        engagements = [engagement for *_rest, engagement in built]
        self._insert(engagements)
        self._audit(engagements, actor)
        for number, ref, raw, _engagement in built:
            importer._finish_row(number, ref, "create", raw)
        built.clear()

    @staticmethod
    def _insert(engagements: list[Any]) -> None:
        """Insert the records and their links with one multi-row statement per
        table, and give each record its new id."""
        if not engagements:
            return
        now = utcnow()
        rows = []
        for engagement in engagements:
            row = {key: getattr(engagement, key) for key in _COLUMNS}
            row["created_at"] = row["updated_at"] = now
            rows.append(row)
        # No RETURNING (with it some drivers insert row by row): the references
        # are unique, so the new ids are read back by reference, through the index.
        from crm.imports.services import by_index

        table = Engagement.__table__
        db.session.execute(insert(table), rows)
        refs = [r["ref"] for r in rows]
        found = dict(by_index(select(table.c.ref, table.c.id).where(table.c.ref.in_(refs))))
        ids = [found[ref] for ref in refs]
        groups, strategies, partners = [], [], []
        for engagement, new_id in zip(engagements, ids, strict=True):
            engagement.id = new_id
            groups += [{"engagement_id": new_id, "code": v.code} for v in engagement.victim_groups]
            strategies += [{"engagement_id": new_id, "code": s.code} for s in engagement.strategies]
            partners += [{"engagement_id": new_id, "partner_id": p.id} for p in engagement.partners]
        for table, values in (
            (EngagementVictimGroup.__table__, groups),
            (EngagementStrategy.__table__, strategies),
            (EngagementPartner.__table__, partners),
        ):
            if values:
                db.session.execute(insert(table), values)

    @staticmethod
    def _audit(engagements: list[Any], actor: Any) -> None:
        """The ``engagement.create`` rows ``create_engagement`` would write, chained
        and inserted at once."""
        if not engagements:
            return
        audit._lock_chain()
        last = db.session.execute(
            select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)
        ).scalar_one_or_none()
        previous = last or audit.GENESIS
        actor_id = getattr(actor, "id", None)
        address = request.remote_addr if has_request_context() else None
        rows = []
        for engagement in engagements:
            changes = engagement_services._audit_changes(
                {}, engagement_services._snapshot(engagement)
            )
            body: dict[str, Any] = {}
            if changes:
                body["changes"] = audit.redact_changes(changes, _SENSITIVE)
            entry = SimpleNamespace(
                at=utcnow(),
                actor_id=actor_id,
                action="engagement.create",
                object_type=Engagement.__tablename__,
                object_id=engagement.id,
                details=json.dumps(body, sort_keys=True, ensure_ascii=False),
                address=address,
            )
            entry.prev_hash = previous
            entry.hash = audit._digest(previous, entry)
            previous = entry.hash
            rows.append(
                {
                    "at": entry.at,
                    "actor_id": entry.actor_id,
                    "action": entry.action,
                    "object_type": entry.object_type,
                    "object_id": entry.object_id,
                    "details": entry.details,
                    "address": entry.address,
                    "prev_hash": entry.prev_hash,
                    "hash": entry.hash,
                }
            )
        db.session.execute(insert(AuditEntry), rows)
