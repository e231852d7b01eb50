"""Report rules beyond counting: indicator settings, named and locked periods,
restatements and recorded exports. Views, the CLI and the API call these."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
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


def unlock_period(period: ReportingPeriod, *, actor: Any, version: int | None = None) -> None:
    """Lift a lock. The frozen figures and ids stay in the record, under "earlier"."""
    _require(actor, Permission.PERIODS_LOCK)
    _check_version(period, version)
    if not period.is_locked or not period.snapshot:
        raise ValidationError({"": [_l("This period is not locked.")]})
    current = dict(period.snapshot)
    earlier = list(current.pop("earlier", []))
    current["unlocked_at"] = utcnow().isoformat()
    current["unlocked_by_id"] = getattr(actor, "id", None)
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
        },
    )


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


# --- the published report ----------------------------------------------------------------------


@dataclass
class ReportView:
    """What a report shows: the figures (frozen when the period is locked) and where
    they come from."""

    period: Period
    figures: dict[str, Any]
    locked: ReportingPeriod | None = None
    restated: Restatement | None = None


def published_report(p: Period, *, with_restatement: bool = False) -> ReportView:
    """The report of ``p``: frozen figures for a locked period, live ones otherwise.

    The web page, the exports, the CLI and the API use this, so a published figure
    is the same everywhere.
    """
    locked = locked_record(p)
    if locked is None:
        return ReportView(p, counting.report(p))
    view = ReportView(p, dict(locked.snapshot["figures"]), locked)
    if with_restatement:
        view.restated = restatement(locked)
    return view


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
    published: bool,
    threshold: int | None = None,
    live: bool = False,
) -> ExportFile:
    """The report of ``p`` as a file, recorded in the audit trail with its hash.

    ``published`` suppresses small person counts (see ``crm.reports.exports``);
    ``live`` ignores a lock and exports what the data gives today.
    """
    _require(actor, Permission.REPORTS_VIEW, Permission.EXPORT)
    if fmt not in (*exports.FORMATS, "table"):
        raise ValidationError({"format": [_l("Choose a file format.")]})
    if language not in texts_languages():
        raise ValidationError({"language": [_l("Choose a language.")]})
    figures = counting.report(p) if live else published_report(p).figures
    if published:
        figures = exports.suppress(figures, threshold)
    with force_locale(language):
        made_by = getattr(actor, "email", None) or "crm (command line)"
        content = exports.render(figures, fmt, made_by=made_by)
        name = exports.filename(figures, fmt, language, published=published)
    digest = hashlib.sha256(content).hexdigest()
    record(
        "report.export",
        actor=actor,
        object_type="report",
        details={
            "report": "outcome3",
            "format": fmt,
            "filter": {"from": p.start, "to": p.end, "live": live},
            "language": language,
            "published": published,
            "suppressed": figures.get("suppressed", []),
            "sha256": digest,
            "size": len(content),
        },
    )
    return ExportFile(name, exports.MIMETYPES[fmt], content, digest)


def texts_languages() -> tuple[str, ...]:
    from crm.reports.texts import LANGUAGES

    return LANGUAGES
