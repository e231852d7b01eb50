"""Reporting periods, their locks, and the indicator settings per year."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crm.codes import HeadlineRule, code_enum
from crm.db import RecordMixin, UTCDateTime
from crm.extensions import db


class ReportingPeriod(RecordMixin, db.Model):
    """A named date range; locked when its figures are published."""

    __tablename__ = "reporting_periods"
    # One record per date range, so a report finds its lock without ambiguity.
    __table_args__ = (UniqueConstraint("start_on", "end_on"),)

    name: Mapped[str] = mapped_column(String(200))
    start_on: Mapped[date] = mapped_column(Date)
    end_on: Mapped[date] = mapped_column(Date)
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    locked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    rule_version: Mapped[str | None] = mapped_column(String(32))
    # While locked: {"rule_version", "locked_at", "figures" (the report JSON),
    # "records" ({figure key: [ids]})}; earlier locks, lifted since, are kept
    # under "earlier" so a figure once published can always be traced.
    snapshot: Mapped[dict | None] = mapped_column(JSON)

    @property
    def is_locked(self) -> bool:
        return self.locked_at is not None


class IndicatorSetting(RecordMixin, db.Model):
    """How a year's figures are read: the O3.1 headline rule, baselines and targets."""

    __tablename__ = "indicator_settings"

    year: Mapped[int] = mapped_column(Integer, unique=True)
    headline_rule: Mapped[HeadlineRule] = mapped_column(
        code_enum(HeadlineRule), default=HeadlineRule.CONCLUDED_TO_DATE
    )
    frameworks_baseline: Mapped[int | None] = mapped_column(Integer)
    frameworks_target: Mapped[int | None] = mapped_column(Integer)
    engagements_baseline: Mapped[int | None] = mapped_column(Integer)
    engagements_target: Mapped[int | None] = mapped_column(Integer)
