"""Follow-ups: actions owed on an engagement, a person, a framework or a partner."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.codes import FollowUpStatus, code_enum
from crm.db import RecordMixin, UTCDateTime
from crm.extensions import db

if TYPE_CHECKING:
    from crm.auth.models import User


class FollowUp(RecordMixin, db.Model):
    __tablename__ = "follow_ups"
    __table_args__ = (
        Index("ix_follow_ups_assignee_id_status_due_on", "assignee_id", "status", "due_on"),
        # One automatic follow-up per framework and reason (expiry, review).
        Index("ix_follow_ups_auto_key", "auto_key", unique=True),
    )

    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[FollowUpStatus] = mapped_column(
        code_enum(FollowUpStatus), default=FollowUpStatus.OPEN
    )
    due_on: Mapped[date | None] = mapped_column(Date)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    engagement_id: Mapped[int | None] = mapped_column(
        ForeignKey("engagements.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    framework_id: Mapped[int | None] = mapped_column(
        ForeignKey("frameworks.id", ondelete="CASCADE"), index=True
    )
    partner_id: Mapped[int | None] = mapped_column(
        ForeignKey("partners.id", ondelete="CASCADE"), index=True
    )
    # Set on follow-ups raised by the system, e.g. "framework:12:expiry:2025-06-30".
    auto_key: Mapped[str | None] = mapped_column(String(120))

    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
