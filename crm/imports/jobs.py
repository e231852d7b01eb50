"""Imports started in the web interface: an upload, its preview, then the import.

Between the preview and the confirmation the file and the preview live on the
server, in ``instance/imports/<random id>/`` (mode 0700), never in the cookie:

- ``upload``: the file as sent;
- ``meta.json``: who uploaded it, the kind, the file name, the state and the
  summary of the last run;
- ``preview.jsonl``: one line per row (what will happen, the bad cells);
- ``status.json``: progress, read by the page that polls it.

A job belongs to the user who uploaded it: anybody else gets a 404. It is
deleted when the import is done and its result has been shown, when it is
cancelled, and in any case a day later.

States: ``checking`` → ``ready`` | ``invalid``; ``ready`` → ``importing`` →
``done`` | ``failed``.

Small files are checked and imported within the request; larger ones in a
background thread (with its own application context and transaction), while
the page shows a progress bar that polls :func:`status`.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from flask_babel import force_locale

from crm.extensions import db
from crm.imports.services import Importer, ImportResult, RowPreview

log = logging.getLogger(__name__)

_ID = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
MAX_AGE_SECONDS = 24 * 3600
DEFAULT_BACKGROUND_BYTES = 256 * 1024
FINAL_STATES = frozenset({"ready", "invalid", "done", "failed"})


def jobs_folder() -> Path:
    folder = Path(current_app.instance_path) / "imports"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


@dataclass
class Job:
    id: str
    folder: Path
    meta: dict[str, Any]

    # -- files --

    @property
    def upload(self) -> Path:
        return self.folder / "upload"

    @property
    def preview_path(self) -> Path:
        return self.folder / "preview.jsonl"

    def save_meta(self) -> None:
        _write_json(self.folder / "meta.json", self.meta)

    def set_status(self, **values: Any) -> None:
        status = self.status()
        status.update(values)
        status["at"] = time.time()
        _write_json(self.folder / "status.json", status)

    def status(self) -> dict[str, Any]:
        try:
            return json.loads((self.folder / "status.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {"state": self.meta.get("state"), "rows": 0}

    @property
    def state(self) -> str:
        return str(self.status().get("state") or self.meta.get("state"))

    @property
    def kind(self) -> str:
        return str(self.meta["kind"])

    def preview(
        self, *, offset: int = 0, limit: int = 100, problems_only: bool = False
    ) -> Iterator[dict[str, Any]]:
        """Rows of the preview, from the file, a page at a time."""
        if not self.preview_path.exists():
            return
        seen = 0
        with self.preview_path.open(encoding="utf-8") as handle:
            for line in handle:
                row = json.loads(line)
                if problems_only and row["action"] != "error":
                    continue
                if seen >= offset + limit:
                    return
                if seen >= offset:
                    yield row
                seen += 1

    def delete(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def _write_json(path: Path, value: Any) -> None:
    """Written whole or not at all (the status page may read at any moment)."""
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(value, ensure_ascii=False, default=str), encoding="utf-8")
    os.replace(temporary, path)


def create_job(*, user: Any, kind: str, filename: str, stream: Any, language: str) -> Job:
    """Store an upload as a new job (checking comes next)."""
    purge_old_jobs()
    job_id = secrets.token_urlsafe(24)
    folder = jobs_folder() / job_id
    folder.mkdir(mode=0o700)
    job = Job(
        job_id,
        folder,
        {
            "user_id": user.id,
            "kind": kind,
            "filename": _display_name(filename),
            "language": language,
            "created_at": time.time(),
            "state": "checking",
        },
    )
    with job.upload.open("wb") as target:
        shutil.copyfileobj(stream, target, 1024 * 1024)
    job.meta["size"] = job.upload.stat().st_size
    job.save_meta()
    job.set_status(state="checking", rows=0)
    return job


def _display_name(name: str) -> str:
    """The uploaded file's name, for display only: no path, no control or
    direction characters."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(
        ch
        for ch in name
        if ch.isprintable()
        and ch not in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f"
    )
    return name[:120] or "upload"


def load_job(job_id: str, user: Any) -> Job | None:
    """The job if it exists and belongs to ``user``; None otherwise."""
    if not _ID.match(job_id or ""):
        return None
    folder = jobs_folder() / job_id
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if meta.get("user_id") != getattr(user, "id", None):
        return None
    return Job(job_id, folder, meta)


def purge_old_jobs(max_age: float = MAX_AGE_SECONDS) -> int:
    """Delete jobs older than a day (uploads must not linger)."""
    removed = 0
    limit = time.time() - max_age
    for folder in jobs_folder().iterdir():
        try:
            if folder.is_dir() and folder.stat().st_mtime < limit:
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
        except OSError:
            continue
    return removed


# --- running -----------------------------------------------------------------------


class _PreviewWriter:
    def __init__(self, path: Path):
        self.handle = path.open("w", encoding="utf-8")

    def __call__(self, row: RowPreview) -> None:
        self.handle.write(
            json.dumps(
                {
                    "row": row.row,
                    "ref": row.ref,
                    "action": row.action,
                    "cells": row.cells,
                    "changed": row.changed,
                    "bad": row.bad,
                },
                ensure_ascii=False,
            )
            + "\n"
        )

    def close(self) -> None:
        self.handle.close()


def run_job(job: Job, user: Any, *, confirm: bool) -> ImportResult:
    """Check (``confirm=False``: a dry run that writes the preview) or import the
    job's file, in the current transaction, in the uploader's language."""
    state = "importing" if confirm else "checking"
    job.set_status(state=state, rows=0, estimate=job.meta.get("rows"))
    writer = None if confirm else _PreviewWriter(job.preview_path)

    def progress(rows: int, total: int | None) -> None:
        job.set_status(state=state, rows=rows, estimate=total or job.meta.get("rows"))

    try:
        with force_locale(job.meta.get("language") or "en"):
            result = Importer(
                job.kind,
                actor=user,
                dry_run=not confirm,
                on_row=writer,
                on_progress=progress,
                progress_every=500,
            ).run(job.upload)
            problem = str(result.file_problem) if result.file_problem is not None else None
            errors = [e.text() for e in result.errors[:50]]
    finally:
        if writer is not None:
            writer.close()
    if confirm:
        final = "done" if result.ok else "failed"
    else:
        final = "ready" if result.ok else "invalid"
        job.meta["rows"] = result.rows
        job.meta["columns"] = result.columns
    job.meta.update(
        state=final,
        summary=result.summary(),
        file_problem=problem,
        errors=errors,
        notes=result.notes,
        format=result.format,
    )
    job.save_meta()
    job.set_status(state=final, rows=result.rows, estimate=result.rows)
    return result


def in_background(job: Job) -> bool:
    limit = int(current_app.config.get("IMPORT_BACKGROUND_BYTES", DEFAULT_BACKGROUND_BYTES))
    return int(job.meta.get("size") or 0) > limit


def start(job: Job, user: Any, *, confirm: bool) -> ImportResult | None:
    """Run the job now (small files: the request commits or rolls back) or in a
    background thread (large ones: it commits itself); None when in background."""
    if not in_background(job):
        return run_job(job, user, confirm=confirm)
    job.set_status(state="importing" if confirm else "checking", rows=0)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    thread = threading.Thread(
        target=_background,
        args=(app, job.id, job.folder, user.id, confirm),
        name=f"import-{job.id[:8]}",
        daemon=True,
    )
    thread.start()
    return None


def _background(app: Flask, job_id: str, folder: Path, user_id: int, confirm: bool) -> None:
    """A job in a thread: its own application context, session and transaction."""
    from crm.auth.models import User

    with app.app_context():
        job = None
        try:
            meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
            job = Job(job_id, folder, meta)
            user = db.session.get(User, user_id)
            if user is None or not user.active:
                raise PermissionError("the uploader's account is gone")
            result = run_job(job, user, confirm=confirm)
            if confirm and result.ok:
                db.session.commit()
            else:
                db.session.rollback()
        except Exception:
            db.session.rollback()
            log.exception("import job %s failed", job_id[:8])
            if job is not None:
                job.meta["state"] = "failed"
                job.meta["file_problem"] = None
                job.save_meta()
                job.set_status(state="failed")
        finally:
            db.session.remove()
