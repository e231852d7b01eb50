"""Reporting periods, their locks, and the indicator settings per year."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.codes import HeadlineRule, code_enum
from crm.db import RecordMixin, UTCDateTime, utcnow
from crm.extensions import db

if TYPE_CHECKING:
    from crm.auth.models import User


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


class RecordedRestatement(db.Model):
    """A change that moved a figure of a locked period, confirmed by a user with a
    reason: who, when, why, which record, and each figure from what to what.

    Append-only: written once, in the transaction of the change, never edited."""

    __tablename__ = "restatements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period_id: Mapped[int] = mapped_column(
        ForeignKey("reporting_periods.id", ondelete="CASCADE"), index=True
    )
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # "frameworks" or "engagements", and the record's id and reference at the time.
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[int] = mapped_column(Integer)
    object_ref: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    # [{"key": "cooperation_frameworks.concluded_to_date", "from": 100, "to": 101}, ...]
    changes: Mapped[list] = mapped_column(JSON)

    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id])
