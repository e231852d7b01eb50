"""Recording actions in the audit trail, and checking the chain."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

from flask import has_request_context, request
from sqlalchemy import select, text

from crm.audit.models import AuditEntry
from crm.db import utcnow
from crm.extensions import db

GENESIS = "0" * 64
REDACTED = "[redacted]"
# Values never written to the audit trail, whatever the model says.
SENSITIVE_FIELDS = frozenset(
    {
        "password",
        "password_hash",
        "token",
        "token_hash",
        "totp_secret_enc",
        "identity",
        "identity_enc",
        "security_note",
        "security_note_enc",
        "safe_contact_channel",
        "safe_contact_channel_enc",
        "email",
        "phone",
        "notes",
        "reason",
    }
)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return REDACTED
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    return value


def redact_changes(
    changes: Mapping[str, tuple[Any, Any]], sensitive: Iterable[str] = ()
) -> dict[str, Any]:
    hidden = SENSITIVE_FIELDS | set(sensitive)
    out: dict[str, Any] = {}
    for field, (old, new) in changes.items():
        if field in hidden:
            out[field] = {"changed": True, "value": REDACTED}
        else:
            out[field] = {"old": _jsonable(old), "new": _jsonable(new)}
    return out


def sensitive_columns(obj: Any) -> set[str]:
    table = getattr(obj, "__table__", None)
    if table is None:
        return set()
    return {c.key for c in table.columns if c.info.get("sensitive")}


def _digest(prev_hash: str, entry: AuditEntry) -> str:
    payload = json.dumps(
        {
            "prev": prev_hash,
            "at": entry.at.isoformat(),
            "actor": entry.actor_id,
            "action": entry.action,
            "type": entry.object_type,
            "id": entry.object_id,
            "details": entry.details,
            "address": entry.address,
        },
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def _lock_chain() -> None:
    """Serialise appends so that two transactions cannot fork the chain."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(4242001)"))
    # SQLite: the write transaction (BEGIN IMMEDIATE) already serialises writers.


def record(
    action: str,
    obj: Any = None,
    *,
    actor: Any = None,
    changes: Mapping[str, tuple[Any, Any]] | None = None,
    details: Mapping[str, Any] | None = None,
    object_type: str | None = None,
    object_id: int | None = None,
) -> AuditEntry:
    """Append an audit row in the current transaction; if it fails, the action fails.

    ``changes`` is a field diff ``{field: (old, new)}``; sensitive fields are
    redacted. ``details`` carries ids and codes only, never personal data.
    """
    body: dict[str, Any] = {}
    if changes:
        body["changes"] = redact_changes(changes, sensitive_columns(obj))
    if details:
        body.update(_jsonable(dict(details)))
    if obj is not None:
        object_type = object_type or getattr(obj, "__tablename__", type(obj).__name__)
        if object_id is None:
            db.session.flush()
            object_id = getattr(obj, "id", None)
    actor_id = getattr(actor, "id", None) if actor is not None else None
    entry = AuditEntry(
        at=utcnow(),
        actor_id=actor_id,
        action=action,
        object_type=object_type,
        object_id=object_id,
        details=json.dumps(body, sort_keys=True, ensure_ascii=False),
        address=request.remote_addr if has_request_context() else None,
    )
    _lock_chain()
    last = db.session.execute(
        select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)
    ).scalar_one_or_none()
    entry.prev_hash = last or GENESIS
    entry.hash = _digest(entry.prev_hash, entry)
    db.session.add(entry)
    db.session.flush()
    return entry


def diff(obj: Any, data: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """The fields of ``data`` whose value differs from ``obj``'s."""
    return {k: (getattr(obj, k, None), v) for k, v in data.items() if getattr(obj, k, None) != v}


@dataclass
class ChainProblem:
    entry_id: int
    reason: str


def verify_chain(batch: int = 5000) -> ChainProblem | None:
    """Walk the chain from the start; return the first row where it breaks."""
    prev = GENESIS
    last_id = 0
    while True:
        rows = (
            db.session.execute(
                select(AuditEntry)
                .where(AuditEntry.id > last_id)
                .order_by(AuditEntry.id)
                .limit(batch)
            )
            .scalars()
            .all()
        )
        if not rows:
            return None
        for entry in rows:
            if entry.prev_hash != prev:
                return ChainProblem(entry.id, "previous hash does not match")
            if _digest(entry.prev_hash, entry) != entry.hash:
                return ChainProblem(entry.id, "row content does not match its hash")
            prev = entry.hash
            last_id = entry.id
        db.session.expunge_all()
