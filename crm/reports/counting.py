"""The Outcome 3 figures: every counting rule of domain.md, in one place, in SQL.

The web report, the command line, the exports, the API and the period locks all
call this module, so they cannot disagree. Every figure is an aggregate computed
by the database; every figure also has a function returning the ``Select`` of the
ids of the records behind it (the "records behind this number" lists, and the ids
frozen when a period is locked). Counting and listing share the same predicates.

The rules (``RULE_VERSION``; dates inclusive, P = [start, end]):

- A record that is archived (deleted from the interface) or ``void`` never counts.
- A framework is *concluded* when its status is in force, suspended, expired or
  terminated, it has ``signed_on``, and it amends no other framework (amendments,
  addenda, renewals and extensions are never counted). Its effective date is
  ``in_force_from`` when set, else ``signed_on``.
- ``concluded_to_date``: concluded, ``signed_on`` ≤ end.
- ``concluded_in_period``: concluded, start ≤ ``signed_on`` ≤ end.
- ``in_force_at_end``: concluded, effective date ≤ end, ``terminated_on`` empty or
  > end (terminated on the last day is no longer in force), *effective expiry* at
  end empty or ≥ end (expiring on the last day still is).
- The *effective expiry* of a framework at a date D is the ``expires_on`` of its
  most recent extension or renewal signed on or before D (an amendment of kind
  extension or renewal, itself concluded: not archived, in force, suspended,
  expired or terminated, with ``signed_on``; most recent by ``signed_on``, then
  by the order it was recorded), else the framework's own ``expires_on``. An
  extension or renewal without ``expires_on`` leaves the framework open-ended;
  amendments and addenda never change the expiry. The expiry alerts and the
  framework's page ask ``effective_expiry`` too.
- ``civil_society_to_date``: ``concluded_to_date`` with at least one (not
  archived) counterpart of type Syrian CSO, victims' association or international
  NGO.
- O3.1 headline: one of the three above, by the year's ``IndicatorSetting``
  (default ``concluded_to_date``).
- ``held_in_period`` (= O3.2 headline): engagements of category
  ``victims_survivors``, status ``held``, start ≤ ``start_date`` ≤ end (a
  multi-day engagement counts once, on its start date).
- participants: sums of the anonymous totals of the ``held_in_period`` set
  (total = women + men + unspecified; under 18 counts among them).
- ``unique_people``: distinct (not archived) person records linked to the
  ``held_in_period`` set.
- Breakdowns are over ``concluded_to_date`` (frameworks) and ``held_in_period``
  (engagements). A record with several values counts once under each value (a
  framework once under each distinct type of its not-archived counterparts), so
  a breakdown may add up to more than its headline; a record without a value
  is under none. Codes with zero records are left out.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    Select,
    String,
    and_,
    case,
    distinct,
    exists,
    func,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from crm.codes import (
    CIVIL_SOCIETY_TYPES,
    CONCLUDED_STATUSES,
    AmendmentKind,
    Code,
    EngagementCategory,
    EngagementFormat,
    EngagementStatus,
    EngagementType,
    HeadlineRule,
    Instrument,
    PartnerType,
    VictimGroup,
)
from crm.engagements.models import Engagement, EngagementPerson, EngagementVictimGroup
from crm.extensions import db
from crm.frameworks.models import Framework, FrameworkPartner
from crm.partners.models import Partner
from crm.people.models import Person

# Bump when any rule above changes: a locked period records the version it was
# counted with, and its report says when today's rules differ.
RULE_VERSION = "2026.1"
rule_version = RULE_VERSION

MIN_YEAR, MAX_YEAR = 1990, 2999
# What a stored code may look like (for a value that no code list knows).
STORED_VALUE = re.compile(r"[A-Za-z0-9_\-]{1,64}")
FRAMEWORKS, ENGAGEMENTS = "cooperation_frameworks", "engagements"


# --- periods -----------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A reporting period [start, end], both days included.

    ``kind`` is ``year`` (1 January–31 December), ``ga_year`` (the General Assembly
    reporting year, 1 February–31 January of the next year, named after the year
    it starts in) or ``range``.
    """

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise ValueError("a period cannot end before it starts")
        if not (self.start.year >= MIN_YEAR and self.end.year <= MAX_YEAR):
            raise ValueError("a period must lie between 1990 and 2999")

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(date(year, 1, 1), date(year, 12, 31))

    @classmethod
    def ga_year(cls, year: int) -> Period:
        return cls(date(year, 2, 1), date(year + 1, 1, 31))

    @property
    def kind(self) -> str:
        if self == Period.year(self.start.year):
            return "year"
        if self.start.year < MAX_YEAR and self == Period.ga_year(self.start.year):
            return "ga_year"
        return "range"

    @property
    def indicator_year(self) -> int:
        """The year whose indicator settings (headline rule, target) apply.

        The year the period ends in, except for a period ending in January of a
        later year than it started (a General Assembly year): the year before.
        """
        if self.end.month == 1 and self.start.year < self.end.year:
            return self.end.year - 1
        return self.end.year

    def as_json(self) -> dict[str, str]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}


# --- the predicates ----------------------------------------------------------------


def _concluded() -> ColumnElement[bool]:
    return and_(
        Framework.archived_at.is_(None),
        Framework.status.in_(CONCLUDED_STATUSES),
        Framework.signed_on.is_not(None),
        Framework.amends_id.is_(None),
    )


def _concluded_to_date(p: Period) -> ColumnElement[bool]:
    return and_(_concluded(), Framework.signed_on <= p.end)


def _concluded_in_period(p: Period) -> ColumnElement[bool]:
    return and_(_concluded(), Framework.signed_on >= p.start, Framework.signed_on <= p.end)


EXTENDING_KINDS = (AmendmentKind.EXTENSION, AmendmentKind.RENEWAL)


def _extensions_signed_by(on: date | Any) -> tuple[Any, ColumnElement[bool]]:
    """(alias, condition): the concluded extensions and renewals of ``Framework``
    signed on or before ``on`` (a date or a date column)."""
    ext = aliased(Framework)
    return ext, and_(
        ext.amends_id == Framework.id,
        ext.amendment_kind.in_(EXTENDING_KINDS),
        ext.archived_at.is_(None),
        ext.status.in_(CONCLUDED_STATUSES),
        ext.signed_on.is_not(None),
        ext.signed_on <= on,
    )


def latest_extension_id(on: date | Any) -> Any:
    """Scalar SQL: the id of the extension or renewal that sets ``Framework``'s
    effective expiry at ``on`` (NULL when its own ``expires_on`` does)."""
    ext, condition = _extensions_signed_by(on)
    return (
        select(ext.id)
        .where(condition)
        .order_by(ext.signed_on.desc(), ext.id.desc())
        .limit(1)
        .correlate(Framework)
        .scalar_subquery()
    )


def effective_expiry(on: date | Any) -> Any:
    """Scalar SQL: ``Framework``'s effective expiry at ``on`` (NULL: open-ended)."""
    ext, condition = _extensions_signed_by(on)
    latest = (
        select(ext.expires_on)
        .where(condition)
        .order_by(ext.signed_on.desc(), ext.id.desc())
        .limit(1)
        .correlate(Framework)
        .scalar_subquery()
    )
    has_extension = exists(select(ext.id).where(condition).correlate(Framework))
    return case((has_extension, latest), else_=Framework.expires_on)


def _not_expired(on: date | Any) -> ColumnElement[bool]:
    """Effective expiry at ``on`` empty (open-ended) or on or after ``on``."""
    expiry = effective_expiry(on)
    return or_(expiry.is_(None), expiry >= on)


def _in_force_at_end(p: Period) -> ColumnElement[bool]:
    effective = func.coalesce(Framework.in_force_from, Framework.signed_on)
    return and_(
        _concluded(),
        effective <= p.end,
        or_(Framework.terminated_on.is_(None), Framework.terminated_on > p.end),
        _not_expired(p.end),
    )


def _has_counterpart_of_type(types: Any) -> ColumnElement[bool]:
    return exists(
        select(FrameworkPartner.partner_id)
        .join(Partner, Partner.id == FrameworkPartner.partner_id)
        .where(
            FrameworkPartner.framework_id == Framework.id,
            Partner.archived_at.is_(None),
            _raw(Partner.type).in_([str(t) for t in types]),
        )
    )


def _civil_society_to_date(p: Period) -> ColumnElement[bool]:
    return and_(_concluded_to_date(p), _has_counterpart_of_type(CIVIL_SOCIETY_TYPES))


def _held() -> ColumnElement[bool]:
    return and_(
        Engagement.archived_at.is_(None),
        Engagement.category == EngagementCategory.VICTIMS_SURVIVORS,
        Engagement.status == EngagementStatus.HELD,
    )


def _held_in_period(p: Period) -> ColumnElement[bool]:
    return and_(_held(), Engagement.start_date >= p.start, Engagement.start_date <= p.end)


# --- one record ------------------------------------------------------------------------
# A record's page asks these, never a copy of the rules in Python.


def framework_counts(framework_id: int) -> bool:
    """Whether the framework is counted as concluded (the rule of every O3.1 figure):
    False for an archived, void, unsigned, not yet concluded framework or an amendment."""
    stmt = select(Framework.id).where(Framework.id == framework_id, _concluded())
    return db.session.execute(stmt).first() is not None


def engagement_counts(engagement_id: int) -> bool:
    """Whether the engagement counts for O3.2 in the period of its start date."""
    stmt = select(Engagement.id).where(Engagement.id == engagement_id, _held())
    return db.session.execute(stmt).first() is not None


@dataclass(frozen=True)
class Expiry:
    """A framework's effective expiry at a date, and the extension or renewal
    that set it (None: the framework's own ``expires_on``)."""

    on: date | None
    set_by_id: int | None

    @property
    def open_ended(self) -> bool:
        return self.on is None


def framework_expiry(framework_id: int, on: date) -> Expiry:
    row = db.session.execute(
        select(effective_expiry(on), latest_extension_id(on)).where(Framework.id == framework_id)
    ).one()
    expiry = row[0]
    if expiry is not None and not isinstance(expiry, date):
        expiry = date.fromisoformat(str(expiry))
    return Expiry(expiry, row[1])


# --- ids behind each figure ----------------------------------------------------------


def concluded_to_date_ids(p: Period) -> Select[Any]:
    return select(Framework.id).where(_concluded_to_date(p))


def concluded_in_period_ids(p: Period) -> Select[Any]:
    return select(Framework.id).where(_concluded_in_period(p))


def in_force_at_end_ids(p: Period) -> Select[Any]:
    return select(Framework.id).where(_in_force_at_end(p))


def civil_society_to_date_ids(p: Period) -> Select[Any]:
    return select(Framework.id).where(_civil_society_to_date(p))


def held_in_period_ids(p: Period) -> Select[Any]:
    return select(Engagement.id).where(_held_in_period(p))


def unique_people_ids(p: Period) -> Select[Any]:
    return select(Person.id).where(
        Person.archived_at.is_(None),
        Person.id.in_(
            select(EngagementPerson.person_id).where(
                EngagementPerson.engagement_id.in_(held_in_period_ids(p))
            )
        ),
    )


HEADLINE_IDS: dict[HeadlineRule, Callable[[Period], Select[Any]]] = {
    HeadlineRule.CONCLUDED_TO_DATE: concluded_to_date_ids,
    HeadlineRule.IN_FORCE_AT_END: in_force_at_end_ids,
    HeadlineRule.CIVIL_SOCIETY_TO_DATE: civil_society_to_date_ids,
}


# --- breakdowns ----------------------------------------------------------------------


@dataclass(frozen=True)
class Breakdown:
    """One breakdown: how its groups are counted and which records each holds.

    ``grouped(p)`` is a ``Select`` of (value, count) rows; ``ids(p, value)`` the
    ids behind one value. ``codes`` is the code list (None for countries).
    """

    section: str
    name: str
    codes: type[Code] | None
    grouped: Callable[[Period], Select[Any]]
    ids: Callable[[Period, str], Select[Any]]

    @property
    def key(self) -> str:
        return f"{self.section}.{self.name}"

    def parse(self, value: str) -> str:
        """A value as the breakdown knows it; ValueError for any other.

        A stored value without a label (an unrecognised code) is a value too: a
        breakdown never drops what the database holds.
        """
        if self.codes is not None:
            try:
                return self.codes(value).value
            except ValueError:
                pass
        elif len(value) == 2 and value.isascii() and value.isalpha():
            return value.upper()
        if STORED_VALUE.fullmatch(value):
            return value
        raise ValueError(value)


def _raw(column: Any) -> Any:
    """A code column read and compared as the text it stores, so that a stored code
    no code list knows is counted (and listed) instead of failing or vanishing."""
    return type_coerce(column, String)


def _framework_column(column: Any, name: str, codes: type[Code]) -> Breakdown:
    return Breakdown(
        FRAMEWORKS,
        name,
        codes,
        lambda p: (
            select(_raw(column), func.count(Framework.id))
            .where(_concluded_to_date(p))
            .group_by(column)
        ),
        lambda p, value: concluded_to_date_ids(p).where(_raw(column) == value),
    )


def _by_partner_type_grouped(p: Period) -> Select[Any]:
    return (
        select(_raw(Partner.type), func.count(distinct(Framework.id)))
        .select_from(Framework)
        .join(FrameworkPartner, FrameworkPartner.framework_id == Framework.id)
        .join(Partner, Partner.id == FrameworkPartner.partner_id)
        .where(_concluded_to_date(p), Partner.archived_at.is_(None))
        .group_by(Partner.type)
    )


def _engagement_column(column: Any, name: str, codes: type[Code] | None) -> Breakdown:
    return Breakdown(
        ENGAGEMENTS,
        name,
        codes,
        lambda p: (
            select(_raw(column), func.count(Engagement.id))
            .where(_held_in_period(p), column.is_not(None))
            .group_by(column)
        ),
        lambda p, value: held_in_period_ids(p).where(_raw(column) == value),
    )


def _by_victim_group_grouped(p: Period) -> Select[Any]:
    return (
        select(_raw(EngagementVictimGroup.code), func.count(distinct(Engagement.id)))
        .select_from(Engagement)
        .join(EngagementVictimGroup, EngagementVictimGroup.engagement_id == Engagement.id)
        .where(_held_in_period(p))
        .group_by(EngagementVictimGroup.code)
    )


def _with_victim_group(p: Period, value: str) -> Select[Any]:
    return held_in_period_ids(p).where(
        exists(
            select(EngagementVictimGroup.engagement_id).where(
                EngagementVictimGroup.engagement_id == Engagement.id,
                _raw(EngagementVictimGroup.code) == value,
            )
        )
    )


BREAKDOWNS: tuple[Breakdown, ...] = (
    Breakdown(
        FRAMEWORKS,
        "by_partner_type",
        PartnerType,
        _by_partner_type_grouped,
        lambda p, value: concluded_to_date_ids(p).where(_has_counterpart_of_type([value])),
    ),
    _framework_column(Framework.instrument, "by_instrument", Instrument),
    _engagement_column(Engagement.type, "by_type", EngagementType),
    _engagement_column(Engagement.format, "by_format", EngagementFormat),
    Breakdown(
        ENGAGEMENTS, "by_victim_group", VictimGroup, _by_victim_group_grouped, _with_victim_group
    ),
    _engagement_column(Engagement.country, "by_country", None),
)
BREAKDOWNS_BY_KEY = {b.key: b for b in BREAKDOWNS}


def _code(value: Any) -> str:
    return value.value if hasattr(value, "value") else str(value)


def breakdown_counts(breakdown: Breakdown, p: Period) -> dict[str, int]:
    """{code: count}, codes in their list's order (countries: most first), zeros left out.

    A stored code that the list does not know is kept (after the known ones), so
    the report shows it as unrecognised instead of silently dropping it.
    """
    rows = db.session.execute(breakdown.grouped(p)).all()
    counts = {_code(value): int(n) for value, n in rows if value is not None and n}
    if breakdown.codes is not None:
        known = [code for code in breakdown.codes.values() if code in counts]
        unknown = sorted(code for code in counts if code not in known)
        return {code: counts[code] for code in (*known, *unknown)}
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


# --- figures and the records behind them ----------------------------------------------

# Scalar figures: key -> (kind of record, ids function).
FIGURES: dict[str, tuple[str, Callable[[Period], Select[Any]]]] = {
    f"{FRAMEWORKS}.concluded_to_date": ("framework", concluded_to_date_ids),
    f"{FRAMEWORKS}.concluded_in_period": ("framework", concluded_in_period_ids),
    f"{FRAMEWORKS}.in_force_at_end": ("framework", in_force_at_end_ids),
    f"{FRAMEWORKS}.civil_society_to_date": ("framework", civil_society_to_date_ids),
    f"{ENGAGEMENTS}.held_in_period": ("engagement", held_in_period_ids),
    f"{ENGAGEMENTS}.unique_people": ("person", unique_people_ids),
}


def figure_kind(key: str) -> str:
    """``framework``, ``engagement`` or ``person``: what the records behind ``key`` are."""
    if key in FIGURES:
        return FIGURES[key][0]
    return "framework" if key.startswith(FRAMEWORKS) else "engagement"


def record_ids(key: str, p: Period, *, headline_rule: HeadlineRule | None = None) -> Select[Any]:
    """The ``Select`` of the ids behind figure ``key``.

    ``key`` is a scalar figure (``engagements.held_in_period``), a headline
    (``cooperation_frameworks.headline``, by ``headline_rule`` or the year's
    setting) or one value of a breakdown (``engagements.by_type.workshop``).
    Raises KeyError for a key that names no figure.
    """
    if key == f"{FRAMEWORKS}.headline":
        rule = headline_rule or headline_rule_for(p.indicator_year)
        return HEADLINE_IDS[rule](p)
    if key == f"{ENGAGEMENTS}.headline":
        return held_in_period_ids(p)
    if key in FIGURES:
        return FIGURES[key][1](p)
    base, _, value = key.rpartition(".")
    breakdown = BREAKDOWNS_BY_KEY.get(base)
    if breakdown is None or not value:
        raise KeyError(key)
    try:
        value = breakdown.parse(value)
    except ValueError as exc:
        raise KeyError(key) from exc
    return breakdown.ids(p, value)


def canonical_key(key: str, p: Period, *, headline_rule: HeadlineRule | None = None) -> str:
    """The figure a key stands for (a headline resolves to its rule's figure)."""
    if key == f"{FRAMEWORKS}.headline":
        rule = headline_rule or headline_rule_for(p.indicator_year)
        return f"{FRAMEWORKS}.{rule.value}"
    if key == f"{ENGAGEMENTS}.headline" or key.startswith(f"{ENGAGEMENTS}.participants"):
        return f"{ENGAGEMENTS}.held_in_period"
    return key


def count(stmt: Select[Any]) -> int:
    """How many rows a ``Select`` of ids holds, counted by the database."""
    counted = select(func.count()).select_from(stmt.order_by(None).subquery())
    return int(db.session.execute(counted).scalar_one())


# --- settings ------------------------------------------------------------------------


def headline_rule_for(year: int) -> HeadlineRule:
    from crm.reports.models import IndicatorSetting

    rule = db.session.execute(
        select(IndicatorSetting.headline_rule).where(IndicatorSetting.year == year)
    ).scalar_one_or_none()
    return HeadlineRule(rule) if rule else HeadlineRule.CONCLUDED_TO_DATE


# --- the report ------------------------------------------------------------------------


def participants(p: Period) -> dict[str, int]:
    """Participant sums over ``held_in_period``, in one aggregate query."""
    women = func.coalesce(func.sum(func.coalesce(Engagement.women, 0)), 0)
    men = func.coalesce(func.sum(func.coalesce(Engagement.men, 0)), 0)
    unspecified = func.coalesce(func.sum(func.coalesce(Engagement.unspecified, 0)), 0)
    under_18 = func.coalesce(func.sum(func.coalesce(Engagement.under_18, 0)), 0)
    row = db.session.execute(
        select(women, men, unspecified, under_18).where(_held_in_period(p))
    ).one()
    w, m, u, y = (int(v) for v in row)
    return {"total": w + m + u, "women": w, "men": m, "unspecified": u, "under_18": y}


def _breakdowns(section: str, p: Period) -> dict[str, dict[str, int]]:
    return {b.name: breakdown_counts(b, p) for b in BREAKDOWNS if b.section == section}


def report(p: Period, *, headline_rule: HeadlineRule | None = None) -> dict[str, Any]:
    """The Outcome 3 report of ``p`` in the shape of interfaces.md."""
    rule = headline_rule or headline_rule_for(p.indicator_year)
    frameworks = {
        name: count(FIGURES[f"{FRAMEWORKS}.{name}"][1](p))
        for name in (
            "concluded_to_date",
            "concluded_in_period",
            "in_force_at_end",
            "civil_society_to_date",
        )
    }
    held = count(held_in_period_ids(p))
    return {
        "period": p.as_json(),
        FRAMEWORKS: {
            "headline": frameworks[rule.value],
            "headline_rule": rule.value,
            **frameworks,
            **_breakdowns(FRAMEWORKS, p),
        },
        ENGAGEMENTS: {
            "headline": held,
            "held_in_period": held,
            "participants": participants(p),
            "unique_people": count(unique_people_ids(p)),
            **_breakdowns(ENGAGEMENTS, p),
        },
    }


def outcome3(period_from: date, period_to: date) -> dict[str, Any]:
    """The Outcome 3 figures of [period_from, period_to], exactly as interfaces.md.

    Raises ValueError for a period that ends before it starts.
    """
    return report(Period(period_from, period_to))


# --- year by year ------------------------------------------------------------------------


def first_year() -> int | None:
    """The year of the first counted record (a concluded framework or a held engagement)."""
    first_framework = db.session.execute(
        select(func.min(Framework.signed_on)).where(_concluded())
    ).scalar_one_or_none()
    first_engagement = db.session.execute(
        select(func.min(Engagement.start_date)).where(_held())
    ).scalar_one_or_none()
    dates = [d for d in (first_framework, first_engagement) if d is not None]
    if not dates:
        return None
    return min(d if isinstance(d, date) else date.fromisoformat(str(d)) for d in dates).year


@dataclass(frozen=True)
class YearFigures:
    year: int
    frameworks: int  # the O3.1 headline of the calendar year, by that year's rule
    headline_rule: HeadlineRule
    engagements: int  # the O3.2 headline of the calendar year


def yearly(until: int, *, max_years: int = 40) -> list[YearFigures]:
    """Both headlines for each calendar year from the first record to ``until``."""
    start = first_year()
    if start is None or start > until:
        return []
    start = max(start, until - max_years + 1, MIN_YEAR)
    out = []
    for year in range(start, until + 1):
        # One indexed range count per year: faster than grouping by an
        # extracted year, which reads every row.
        p = Period.year(year)
        rule = headline_rule_for(year)
        out.append(
            YearFigures(year, count(HEADLINE_IDS[rule](p)), rule, count(held_in_period_ids(p)))
        )
    return out


# --- every id behind every figure (for locking) --------------------------------------------


def all_record_ids(p: Period, figures: dict[str, Any]) -> dict[str, list[int]]:
    """{figure key: sorted ids} for every scalar figure and breakdown value of ``figures``."""
    out: dict[str, list[int]] = {}
    for key, (_kind, ids) in FIGURES.items():
        out[key] = sorted(db.session.execute(ids(p)).scalars())
    for breakdown in BREAKDOWNS:
        for value in figures[breakdown.section].get(breakdown.name, {}):
            stmt = breakdown.ids(p, value)
            out[f"{breakdown.key}.{value}"] = sorted(db.session.execute(stmt).scalars())
    return out
