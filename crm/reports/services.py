"""Report rules beyond counting: indicator settings, named and locked periods,
restatements and recorded exports. Views, the CLI and the API call these."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from crm.audit.services import record
from crm.codes import HeadlineRule
from crm.db import utcnow
from crm.errors import ConflictError, PermissionDenied, ValidationError
from crm.extensions import db
from crm.reports import counting, exports
from crm.reports.counting import Period
from crm.reports.models import IndicatorSetting, ReportingPeriod
from crm.security import Permission

# --- permissions -------------------------------------------------------------------------


def _require(actor: Any, *permissions: Permission) -> None:
    """``actor`` None is the command line, which runs with the operator's rights."""
    if actor is not None and not all(actor.can(p) for p in permissions):
        raise PermissionDenied()


def _check_version(obj: Any, version: int | None) -> None:
    if version is not None and int(version) != obj.version:
        raise ConflictError(current=obj)


# --- indicator settings -------------------------------------------------------------------


def setting_for(year: int) -> IndicatorSetting | None:
    return db.session.execute(
        select(IndicatorSetting).where(IndicatorSetting.year == year)
    ).scalar_one_or_none()


SETTING_FIELDS = (
    "headline_rule",
    "frameworks_baseline",
    "frameworks_target",
    "engagements_baseline",
    "engagements_target",
)


def save_setting(
    year: int, data: Mapping[str, Any], *, actor: Any, version: int | None = None
) -> IndicatorSetting:
    """Create or change the indicator settings of ``year`` (headline rule, baselines,
    targets)."""
    _require(actor, Permission.INDICATORS_CONFIGURE)
    errors: dict[str, list[Any]] = {}
    if not (counting.MIN_YEAR <= int(year) <= counting.MAX_YEAR):
        errors["year"] = [_l("Enter a year between 1990 and 2999.")]
    values: dict[str, Any] = {}
    try:
        values["headline_rule"] = HeadlineRule(data.get("headline_rule") or "concluded_to_date")
    except ValueError:
        errors["headline_rule"] = [_l("Choose how the headline is counted.")]
    for name in SETTING_FIELDS[1:]:
        value = data.get(name)
        if value in (None, ""):
            values[name] = None
            continue
        try:
            number = int(value)
        except (TypeError, ValueError):
            number = -1
        if number < 0:
            errors[name] = [_l("Enter a whole number, 0 or more.")]
        values[name] = number
    if errors:
        raise ValidationError(errors)
    setting = setting_for(int(year))
    if setting is None:
        setting = IndicatorSetting(year=int(year), created_by_id=getattr(actor, "id", None))
        for name, value in values.items():
            setattr(setting, name, value)
        db.session.add(setting)
        db.session.flush()
        record(
            "indicator_setting.create",
            setting,
            actor=actor,
            changes={k: (None, v) for k, v in values.items() if v is not None},
            details={"year": setting.year},
        )
        return setting
    _check_version(setting, version)
    changes = {k: (getattr(setting, k), v) for k, v in values.items() if getattr(setting, k) != v}
    for name, (_old, new) in changes.items():
        setattr(setting, name, new)
    if changes:
        db.session.flush()
        record("indicator_setting.update", setting, actor=actor, changes=changes)
    return setting


# --- named periods and locks --------------------------------------------------------------


def period_record(p: Period) -> ReportingPeriod | None:
    return db.session.execute(
        select(ReportingPeriod).where(
            ReportingPeriod.start_on == p.start, ReportingPeriod.end_on == p.end
        )
    ).scalar_one_or_none()


def locked_record(p: Period) -> ReportingPeriod | None:
    found = period_record(p)
    return found if found is not None and found.is_locked else None


def as_period(period: ReportingPeriod) -> Period:
    return Period(period.start_on, period.end_on)


def _check_name(name: str | None) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": [_l("Give the period a name.")]})
    if len(name) > 200:
        raise ValidationError({"name": [_l("Use at most 200 characters.")]})
    return name


def create_period(name: str, start: date, end: date, *, actor: Any) -> ReportingPeriod:
    """A named reporting period (for instance "GA report 2024"), not yet locked."""
    _require(actor, Permission.PERIODS_LOCK)
    name = _check_name(name)
    try:
        p = Period(start, end)
    except ValueError as exc:
        raise ValidationError(
            {"end": [_l("The last day must be on or after the first day.")]}
        ) from exc
    if period_record(p) is not None:
        raise ValidationError({"": [_l("A reporting period with these dates exists already.")]})
    period = ReportingPeriod(
        name=name, start_on=p.start, end_on=p.end, created_by_id=getattr(actor, "id", None)
    )
    db.session.add(period)
    db.session.flush()
    record(
        "period.create",
        period,
        actor=actor,
        details={"from": p.start, "to": p.end},
    )
    return period


def _snapshot_digest(snapshot: Mapping[str, Any]) -> str:
    body = json.dumps(
        {k: snapshot[k] for k in ("figures", "records", "rule_version")}, sort_keys=True
    )
    return hashlib.sha256(body.encode()).hexdigest()


def lock_period(
    p: Period, *, actor: Any, name: str | None = None, version: int | None = None
) -> ReportingPeriod:
    """Freeze the figures of ``p``, the rule version and the ids behind every figure.

    Creates the named period when there is none for these dates.
    """
    _require(actor, Permission.PERIODS_LOCK)
    period = period_record(p)
    if period is None:
        period = create_period(name or "", p.start, p.end, actor=actor)
    else:
        _check_version(period, version)
        if period.is_locked:
            raise ValidationError({"": [_l("This period is locked already.")]})
        if name and name.strip() and name.strip() != period.name:
            period.name = _check_name(name)
    figures = counting.report(p)
    now = utcnow()
    snapshot = {
        "rule_version": counting.RULE_VERSION,
        "locked_at": now.isoformat(),
        "locked_by_id": getattr(actor, "id", None),
        "figures": figures,
        "records": counting.all_record_ids(p, figures),
        "earlier": list((period.snapshot or {}).get("earlier", [])),
    }
    period.snapshot = snapshot
    period.locked_at = now
    period.locked_by_id = getattr(actor, "id", None)
    period.rule_version = counting.RULE_VERSION
    db.session.flush()
    record(
        "period.lock",
        period,
        actor=actor,
        details={
            "from": p.start,
            "to": p.end,
            "rule_version": counting.RULE_VERSION,
            "headline_rule": figures["cooperation_frameworks"]["headline_rule"],
            "frameworks": figures["cooperation_frameworks"]["headline"],
            "engagements": figures["engagements"]["headline"],
            "snapshot_sha256": _snapshot_digest(snapshot),
        },
    )
    return period


def unlock_period(
    period: ReportingPeriod, *, actor: Any, reason: str, version: int | None = None
) -> None:
    """Lift a lock, for a stated reason. The frozen figures and ids stay in the
    record, under "earlier", with who lifted the lock, when and why."""
    _require(actor, Permission.PERIODS_LOCK)
    _check_version(period, version)
    if not period.is_locked or not period.snapshot:
        raise ValidationError({"": [_l("This period is not locked.")]})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_l("Say why the period is unlocked.")]})
    if len(reason) > 1000:
        raise ValidationError({"reason": [_l("Use at most 1000 characters.")]})
    current = dict(period.snapshot)
    earlier = list(current.pop("earlier", []))
    current["unlocked_at"] = utcnow().isoformat()
    current["unlocked_by_id"] = getattr(actor, "id", None)
    current["unlock_reason"] = reason
    earlier.append(current)
    figures = current["figures"]
    period.snapshot = {"earlier": earlier}
    period.locked_at = None
    period.locked_by_id = None
    db.session.flush()
    record(
        "period.unlock",
        period,
        actor=actor,
        details={
            "from": period.start_on,
            "to": period.end_on,
            "rule_version": current["rule_version"],
            "frameworks": figures["cooperation_frameworks"]["headline"],
            "engagements": figures["engagements"]["headline"],
            "snapshot_sha256": _snapshot_digest(current),
            "reason": reason,
        },
    )


@dataclass(frozen=True)
class EarlierLock:
    """A lock lifted since: what was published, and when and why it was reopened."""

    locked_at: datetime | None
    unlocked_at: datetime | None
    frameworks: int
    engagements: int
    reason: str | None


def lock_history(period: ReportingPeriod) -> list[EarlierLock]:
    """The earlier locks of a period, oldest first (their figures stay on record)."""

    def moment(value: Any) -> datetime | None:
        return datetime.fromisoformat(value) if value else None

    out = []
    for earlier in (period.snapshot or {}).get("earlier", []):
        figures = earlier.get("figures") or {}
        out.append(
            EarlierLock(
                moment(earlier.get("locked_at")),
                moment(earlier.get("unlocked_at")),
                int(figures.get("cooperation_frameworks", {}).get("headline") or 0),
                int(figures.get("engagements", {}).get("headline") or 0),
                earlier.get("unlock_reason"),
            )
        )
    return out


# --- restatements ---------------------------------------------------------------------------


@dataclass
class FigureChange:
    """A locked figure that live data would now give differently."""

    key: str
    frozen: int
    live: int
    added: list[int] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)


@dataclass
class Restatement:
    period: ReportingPeriod
    live: dict[str, Any]
    changes: list[FigureChange]
    rules_changed: bool
    headline_rule_changed: bool

    @property
    def any(self) -> bool:
        return bool(self.changes) or self.rules_changed or self.headline_rule_changed


def _scalar_value(figures: Mapping[str, Any], key: str) -> int:
    section, _, rest = key.partition(".")
    node = figures[section]
    for part in rest.split("."):
        if not isinstance(node, Mapping):
            return 0
        node = node.get(part, 0)
    return int(node or 0)


def restatement(period: ReportingPeriod) -> Restatement:
    """Compare a locked period's frozen figures and ids with what live data gives now."""
    snapshot = period.snapshot or {}
    p = as_period(period)
    frozen_figures = snapshot["figures"]
    frozen_ids: dict[str, list[int]] = snapshot.get("records", {})
    live = counting.report(p)
    live_ids = counting.all_record_ids(p, live)
    changes = []
    for key in sorted(set(frozen_ids) | set(live_ids), key=_key_order):
        before, now = set(frozen_ids.get(key, [])), set(live_ids.get(key, []))
        if before == now:
            continue
        # Every figure is the number of its ids, so the sets say it all.
        changes.append(
            FigureChange(
                key, len(before), len(now), added=sorted(now - before), removed=sorted(before - now)
            )
        )
    # Participant sums may move without any record joining or leaving the set.
    for name in exports.PARTICIPANTS:
        key = f"engagements.participants.{name}"
        old, new = _scalar_value(frozen_figures, key), _scalar_value(live, key)
        if old != new:
            changes.append(FigureChange(key, old, new))
    return Restatement(
        period=period,
        live=live,
        changes=changes,
        rules_changed=snapshot.get("rule_version") != counting.RULE_VERSION,
        headline_rule_changed=(
            frozen_figures["cooperation_frameworks"]["headline_rule"]
            != live["cooperation_frameworks"]["headline_rule"]
        ),
    )


def _key_order(key: str) -> tuple[int, str]:
    order = list(counting.FIGURES)
    return (order.index(key), key) if key in order else (len(order), key)


# --- the one rule: which figures a channel shows -------------------------------------------


@dataclass
class ReportView:
    """What every channel shows for a period: the web page, the print page, the
    files, the command line and the API all take their numbers from here.

    ``figures`` are the frozen figures of a locked period (today's when ``live``
    was asked), with small counts of people suppressed (``crm.reports.exports``).
    """

    period: Period
    figures: dict[str, Any]
    locked: ReportingPeriod | None = None
    restated: Restatement | None = None
    live: bool = False  # a locked period shown with today's data
    hidden_frozen: set[str] = field(default_factory=set)
    hidden_live: set[str] = field(default_factory=set)

    @property
    def is_restated(self) -> bool:
        return bool(self.restated and self.restated.any)

    def shown(self, change: FigureChange) -> tuple[int | None, int | None]:
        """A restated figure as it may be shown: (published, today), None when suppressed."""
        frozen = None if change.key in self.hidden_frozen else change.frozen
        live = None if change.key in self.hidden_live else change.live
        return frozen, live

    def as_json(self) -> dict[str, Any]:
        """The report as JSON (the API, ``--format json`` and the JSON file).

        A locked period adds ``locked`` ({name, locked_at, restated}) and the
        ``restatement`` (each figure that today's data gives differently); ``live``
        is true when today's data was asked for instead of the frozen figures.
        """
        out = copy.deepcopy(self.figures)
        if self.locked is None:
            return out
        out["locked"] = {
            "name": self.locked.name,
            "locked_at": self.locked.locked_at.isoformat() if self.locked.locked_at else None,
            "restated": self.is_restated,
        }
        out["live"] = self.live
        changes = self.restated.changes if self.restated else []
        out["restatement"] = [
            {"figure": change.key, "published": frozen, "today": today}
            for change in changes
            for frozen, today in [self.shown(change)]
        ]
        return out


def channel_report(p: Period, *, live: bool = False, below: int | None = None) -> ReportView:
    """THE rule for every channel: a locked period shows its frozen figures, unless
    ``live`` asks for today's data (then the restatement says what differs); an open
    period shows today's data. Counts of people are suppressed the same way for all.
    """
    locked = locked_record(p)
    if locked is None:
        raw = counting.report(p)
        return ReportView(p, exports.suppress(raw, below), hidden_live=exports.hidden_cells(raw))
    restated = restatement(locked)
    frozen = dict(locked.snapshot["figures"])
    raw = restated.live if live else frozen
    return ReportView(
        p,
        exports.suppress(raw, below),
        locked,
        restated,
        live=live,
        hidden_frozen=exports.hidden_cells(frozen, below),
        hidden_live=exports.hidden_cells(restated.live, below),
    )


def published_report(p: Period, *, with_restatement: bool = False) -> ReportView:
    """The report of ``p`` as published (see :func:`channel_report`)."""
    return channel_report(p)


def frozen_ids(period: ReportingPeriod, key: str) -> list[int] | None:
    """The ids frozen behind ``key`` (a headline resolves to its figure), or None."""
    snapshot = period.snapshot or {}
    figures = snapshot.get("figures")
    if not figures:
        return None
    rule = HeadlineRule(figures["cooperation_frameworks"]["headline_rule"])
    canonical = counting.canonical_key(key, as_period(period), headline_rule=rule)
    records = snapshot.get("records", {})
    if canonical in records:
        return list(records[canonical])
    # A breakdown value without records at the time of locking.
    counting.record_ids(canonical, as_period(period))  # raises KeyError for no figure
    return []


def records_behind(
    p: Period, key: str, *, live: bool = False
) -> tuple[Any, ReportingPeriod | None]:
    """The ids behind figure ``key`` as a channel lists them: the frozen ids of a
    locked period (unless ``live``), today's otherwise. Raises KeyError for no figure."""
    live_ids = counting.record_ids(key, p)
    locked = locked_record(p)
    if locked is None or live:
        return live_ids, locked
    return frozen_ids(locked, key) or [], locked


def yearly(until: int, *, live: bool = False) -> list[counting.YearFigures]:
    """Both headlines year by year, a locked calendar year with its frozen headlines."""
    out = []
    for year in counting.yearly(until):
        locked = None if live else locked_record(Period.year(year.year))
        if locked is not None and locked.snapshot:
            figures = locked.snapshot["figures"]
            year = counting.YearFigures(
                year.year,
                int(figures["cooperation_frameworks"]["headline"]),
                HeadlineRule(figures["cooperation_frameworks"]["headline_rule"]),
                int(figures["engagements"]["headline"]),
            )
        out.append(year)
    return out


# --- survivors' consent to use in reporting -------------------------------------------------


def sees_every_code(actor: Any) -> bool:
    """The focal point sees the code of every person behind a figure; everyone else
    only of those who consent to ``use_in_reporting`` (security.md)."""
    return actor is not None and actor.can(Permission.PEOPLE_EDIT)


def withheld_people(actor: Any) -> Any:
    """A ``Select`` of the ids of people whose code ``actor`` must not see in the lists
    behind figures (no consent to use in reporting, read now), or None for the
    focal point. They still count in every figure."""
    if sees_every_code(actor):
        return None
    from crm.codes import ConsentScope
    from crm.people.models import Person
    from crm.people.services import consenting_people_query

    consenting = consenting_people_query(
        ConsentScope.USE_IN_REPORTING, include_archived=True
    ).with_only_columns(Person.id)
    return select(Person.id).where(Person.id.not_in(consenting))


def shown_ids(kind: str, ids: list[int], actor: Any) -> list[int]:
    """``ids`` of records of ``kind`` minus the people ``actor`` may not see listed."""
    if kind != "person" or not ids:
        return ids
    withheld = withheld_people(actor)
    if withheld is None:
        return ids
    hidden = set(db.session.execute(withheld.where(_person_id().in_(ids))).scalars())
    return [i for i in ids if i not in hidden]


def _person_id() -> Any:
    from crm.people.models import Person

    return Person.id


# --- exports ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportFile:
    filename: str
    mimetype: str
    content: bytes
    sha256: str


def export_report(
    p: Period,
    fmt: str,
    *,
    actor: Any,
    language: str,
    live: bool = False,
    below: int | None = None,
) -> ExportFile:
    """The report of ``p`` as a file (``table`` for the terminal), recorded in the
    audit trail with its hash: the figures of :func:`channel_report`."""
    _require(actor, Permission.REPORTS_VIEW, Permission.EXPORT)
    if fmt not in (*exports.FORMATS, "table"):
        raise ValidationError({"format": [_l("Choose a file format.")]})
    if language not in texts_languages():
        raise ValidationError({"language": [_l("Choose a language.")]})
    view = channel_report(p, live=live, below=below)
    report = view.as_json()
    with force_locale(language):
        made_by = getattr(actor, "email", None) or "crm (command line)"
        content = exports.render(report, fmt, made_by=made_by)
        name = exports.filename(report, fmt, language, live=view.live)
    digest = hashlib.sha256(content).hexdigest()
    record(
        "report.export",
        actor=actor,
        object_type="report",
        details={
            "report": "outcome3",
            "format": fmt,
            "filter": {"from": p.start, "to": p.end, "live": view.live},
            "language": language,
            "locked": view.locked.name if view.locked else None,
            "suppressed": report.get("suppressed", []),
            "sha256": digest,
            "size": len(content),
        },
    )
    return ExportFile(name, exports.MIMETYPES[fmt], content, digest)


def texts_languages() -> tuple[str, ...]:
    from crm.reports.texts import LANGUAGES

    return LANGUAGES
