"""Saves that move a figure: shown before they happen, recorded when confirmed.

A change to a framework or an engagement that would move a figure of a locked
(published) period, or that changes what a figure reads (a status, type, category
or date; a counterpart or any value of a multi-valued field removed), is first
shown to the user: which fields change, what values are added and removed, and for
each locked period which figure goes from what to what. The figures are computed by
the counting module inside a savepoint with the change applied, then rolled back:
never by a second copy of the rules.

Confirmed with a reason, the change is saved and, when a locked figure moved, the
restatement is recorded (``RecordedRestatement``: who, when, why, which record, each
figure from what to what) and audited in the same transaction; the report page of
that period lists it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from crm.audit.services import record
from crm.errors import ValidationError
from crm.extensions import db
from crm.reports import counting
from crm.reports.counting import Period
from crm.reports.models import RecordedRestatement, ReportingPeriod

MAX_REASON = 2000
MSG_REASON = _l("Say why the published figures change: the reason is kept with the restatement.")

# Form fields that only steer the confirmation step.
CONFIRM_FIELDS = ("_confirm", "_back", "_impact", "restatement_reason")


@dataclass
class FieldChange:
    """A field a figure reads, or a multi-valued field that loses values."""

    name: str
    label: Any
    before: str = ""
    after: str = ""
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def multi(self) -> bool:
        return bool(self.added or self.removed)


@dataclass
class FigureShift:
    period_id: int
    period_name: str
    key: str
    published: int | None
    before: int
    after: int

    def as_json(self) -> dict[str, Any]:
        return {"key": self.key, "from": self.before, "to": self.after}


@dataclass
class Impact:
    changes: list[FieldChange]
    shifts: list[FigureShift]

    @property
    def needs_confirmation(self) -> bool:
        return bool(self.changes or self.shifts)

    @property
    def digest(self) -> str:
        """A fingerprint of what the user was shown: a confirmation only counts for
        the very change it confirmed (someone else's save in between shows it again)."""
        body = json.dumps(
            {
                "changes": [
                    [c.name, c.before, c.after, sorted(c.added), sorted(c.removed)]
                    for c in self.changes
                ],
                "shifts": [[s.period_id, s.key, s.before, s.after] for s in self.shifts],
            },
            sort_keys=True,
            ensure_ascii=False,
        )
        return hashlib.sha256(body.encode()).hexdigest()

    def by_period(self) -> list[tuple[str, list[FigureShift]]]:
        out: dict[int, tuple[str, list[FigureShift]]] = {}
        for shift in self.shifts:
            out.setdefault(shift.period_id, (shift.period_name, []))[1].append(shift)
        return list(out.values())


# --- what the change does to the fields --------------------------------------------------


def scalar_change(name: str, label: Any, before: Any, after: Any, show: Callable[[Any], str]):
    """A FieldChange when ``before`` and ``after`` differ, else None."""
    if _plain(before) == _plain(after):
        return None
    return FieldChange(name, label, before=show(before), after=show(after))


def list_change(
    name: str, label: Any, before: Iterable[Any], after: Iterable[Any], show: Callable[[Any], str]
) -> FieldChange | None:
    """A FieldChange when values are removed (added ones are shown beside them)."""
    old = [_plain(v) for v in before]
    new = [_plain(v) for v in after]
    removed = [v for v in old if v not in new]
    if not removed:
        return None
    added = [v for v in new if v not in old]
    return FieldChange(
        name, label, added=[show(v) for v in added], removed=[show(v) for v in removed]
    )


def _plain(value: Any) -> Any:
    value = getattr(value, "value", value)
    if value == "" or value == []:
        return None
    return value


# --- what the change does to the locked figures ----------------------------------------


def locked_periods() -> list[ReportingPeriod]:
    return list(
        db.session.execute(
            select(ReportingPeriod)
            .where(ReportingPeriod.locked_at.is_not(None))
            .order_by(ReportingPeriod.start_on, ReportingPeriod.id)
        ).scalars()
    )


def flat_figures(p: Period) -> dict[str, int]:
    """Every number of the report of ``p`` under one key (breakdown values and
    participant sums included)."""
    out: dict[str, int] = {}

    def walk(prefix: str, node: Any) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                walk(f"{prefix}.{key}" if prefix else str(key), value)
        elif isinstance(node, int) and not isinstance(node, bool):
            out[prefix] = node

    report = counting.report(p)
    for section in (counting.FRAMEWORKS, counting.ENGAGEMENTS):
        walk(section, {k: v for k, v in report[section].items() if k != "headline"})
    return out


def _published(period: ReportingPeriod, key: str) -> int | None:
    figures = (period.snapshot or {}).get("figures")
    if not figures:
        return None
    node: Any = figures
    for part in key.split("."):
        if not isinstance(node, Mapping):
            return None
        node = node.get(part, 0)
    return int(node) if isinstance(node, int) else None


def simulate(apply: Callable[[], Any]) -> list[FigureShift]:
    """The figures of every locked period that ``apply`` would move, found by running
    it inside a savepoint that is rolled back. Errors of ``apply`` (validation,
    conflict, permission) propagate, with nothing changed: a change is checked in
    full before anyone is asked to confirm it."""
    periods = locked_periods()
    spans = [(period, Period(period.start_on, period.end_on)) for period in periods]
    before = {period.id: flat_figures(p) for period, p in spans}
    after: dict[int, dict[str, int]] = {}
    savepoint = db.session.begin_nested()
    try:
        apply()
        db.session.flush()
        after = {period.id: flat_figures(p) for period, p in spans}
    finally:
        savepoint.rollback()
    shifts = []
    for period, _p in spans:
        old, new = before[period.id], after[period.id]
        for key in _ordered(set(old) | set(new)):
            if old.get(key, 0) != new.get(key, 0):
                shifts.append(
                    FigureShift(
                        period.id,
                        period.name,
                        key,
                        _published(period, key),
                        old.get(key, 0),
                        new.get(key, 0),
                    )
                )
    return shifts


def _ordered(keys: Iterable[str]) -> list[str]:
    order = list(counting.FIGURES)
    return sorted(keys, key=lambda k: (order.index(k) if k in order else len(order), k))


def impact(changes: Sequence[FieldChange | None], apply: Callable[[], Any]) -> Impact:
    return Impact([c for c in changes if c is not None], simulate(apply))


# --- recording a confirmed restatement --------------------------------------------------


def check_reason(impact_: Impact, reason: str | None) -> str | None:
    """The reason, required (and at most MAX_REASON characters) when a locked figure
    moves; ValidationError otherwise."""
    reason = (reason or "").strip()
    if impact_.shifts and not reason:
        raise ValidationError({"restatement_reason": [MSG_REASON]})
    if len(reason) > MAX_REASON:
        raise ValidationError(
            {"restatement_reason": [_l("Use at most %(max)s characters.", max=MAX_REASON)]}
        )
    return reason or None


def record_restatements(
    shifts: Sequence[FigureShift], *, obj: Any, reason: str, actor: Any
) -> list[RecordedRestatement]:
    """One recorded restatement per locked period whose figures moved, audited."""
    made = []
    object_type = getattr(obj, "__tablename__", type(obj).__name__)
    by_period: dict[int, list[FigureShift]] = {}
    for shift in shifts:
        by_period.setdefault(shift.period_id, []).append(shift)
    for period_id, items in by_period.items():
        restated = RecordedRestatement(
            period_id=period_id,
            recorded_by_id=getattr(actor, "id", None),
            object_type=object_type,
            object_id=obj.id,
            object_ref=obj.ref,
            reason=reason,
            changes=[s.as_json() for s in items],
        )
        db.session.add(restated)
        db.session.flush()
        record(
            "period.restate",
            object_type="reporting_periods",
            object_id=period_id,
            actor=actor,
            details={
                "restatement_id": restated.id,
                "record_type": object_type,
                "record_id": obj.id,
                "figures": [s.as_json() for s in items],
            },
        )
        made.append(restated)
    return made


def recorded_for(period: ReportingPeriod) -> list[RecordedRestatement]:
    return list(
        db.session.execute(
            select(RecordedRestatement)
            .where(RecordedRestatement.period_id == period.id)
            .order_by(RecordedRestatement.recorded_at.desc(), RecordedRestatement.id.desc())
        ).scalars()
    )


def figure_title(key: str) -> Any:
    from crm.reports import texts

    if key in texts.FIGURE_LABELS:
        return texts.figure_label(key)
    base, _, value = key.rpartition(".")
    if base in texts.BREAKDOWN_LABELS:
        try:
            parsed = counting.BREAKDOWNS_BY_KEY[base].parse(value)
        except (KeyError, ValueError):
            return f"{texts.breakdown_label(base)}: {value}"
        return f"{texts.breakdown_label(base)}: {texts.value_label(base, parsed)}"
    return key


# --- the confirmation step of a form ----------------------------------------------------


@dataclass
class Confirmation:
    """What the confirmation step of a form sent: ``back`` to the form, or
    ``confirmed`` for the change fingerprinted by ``impact``, with a reason."""

    back: bool
    confirmed: bool
    impact_digest: str
    reason: str

    @classmethod
    def from_form(cls, form: Mapping[str, Any]) -> Confirmation:
        return cls(
            back=bool(form.get("_back")),
            confirmed=bool(form.get("_confirm")),
            impact_digest=str(form.get("_impact") or ""),
            reason=str(form.get("restatement_reason") or ""),
        )

    def covers(self, impact_: Impact) -> bool:
        return self.confirmed and self.impact_digest == impact_.digest


def carried_fields(form: Any) -> list[tuple[str, str]]:
    """The submitted fields to carry through the confirmation step, so nothing the
    user typed is lost (the CSRF token and the step's own fields are made anew)."""
    return [
        (name, value)
        for name, value in form.items(multi=True)
        if name not in CONFIRM_FIELDS and name != "csrf_token"
    ]


@dataclass
class StepResult:
    """Either a page to show (the confirmation) or the saved record."""

    page: Any = None
    saved: Any = None


def confirm_step(
    *,
    changes: Sequence[FieldChange | None],
    apply: Callable[[], Any],
    actor: Any,
    title: Any,
    record_label: str,
    cancel_url: str,
) -> StepResult:
    """Run a save through the confirmation step (for the web forms).

    Shows the confirmation page when the change needs one and this POST did not
    confirm exactly this change; otherwise saves, recording the restatement when a
    locked figure moves. ``apply`` is the service call (run once inside a rolled
    back savepoint to measure it, then for real). Validation, conflict and
    permission errors of the service propagate as usual.
    """
    from flask import redirect, render_template, request

    confirmation = Confirmation.from_form(request.form)
    if confirmation.back:  # an action without a form of its own: back to the record
        return StepResult(page=redirect(cancel_url))
    found = impact(changes, apply)
    error = None
    if found.needs_confirmation and confirmation.covers(found):
        try:
            reason = check_reason(found, confirmation.reason)
        except ValidationError as exc:
            error = exc.errors["restatement_reason"][0]
        else:
            saved = apply()
            if found.shifts:
                record_restatements(found.shifts, obj=saved, reason=reason or "", actor=actor)
            return StepResult(saved=saved)
    elif not found.needs_confirmation:
        return StepResult(saved=apply())
    page = render_template(
        "_confirm_save.html",
        impact=found,
        carried=carried_fields(request.form),
        reason=confirmation.reason,
        reason_error=error,
        title=title,
        record_label=record_label,
        cancel_url=cancel_url,
        figure_title=figure_title,
    )
    return StepResult(page=(page, 422 if error else 200))
