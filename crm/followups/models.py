"""Follow-ups: actions owed on an engagement, a person, a framework or a partner."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.codes import FollowUpStatus, code_enum
from crm.db import RecordMixin, UTCDateTime
from crm.extensions import db
from crm.security import Permission

if TYPE_CHECKING:
    from crm.auth.models import User
    from crm.engagements.models import Engagement
    from crm.frameworks.models import Framework
    from crm.partners.models import Partner
    from crm.people.models import Person


class FollowUp(RecordMixin, db.Model):
    __tablename__ = "follow_ups"
    __table_args__ = (
        Index("ix_follow_ups_assignee_id_status_due_on", "assignee_id", "status", "due_on"),
        # One automatic follow-up per framework and reason (expiry, review).
        Index("ix_follow_ups_auto_key", "auto_key", unique=True),
    )

    # Free text may name people: audited as changed, never with its value.
    title: Mapped[str] = mapped_column(String(300), info={"sensitive": True})
    description: Mapped[str | None] = mapped_column(Text, info={"sensitive": True})
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
    engagement: Mapped[Engagement | None] = relationship(foreign_keys=[engagement_id])
    person: Mapped[Person | None] = relationship(foreign_keys=[person_id])
    framework: Mapped[Framework | None] = relationship(foreign_keys=[framework_id])
    partner: Mapped[Partner | None] = relationship(foreign_keys=[partner_id])

    @property
    def subject(self) -> Any:
        """The record this follow-up is about, if any."""
        return self.engagement or self.person or self.framework or self.partner

    @property
    def is_open(self) -> bool:
        return self.status == FollowUpStatus.OPEN

    def can_view(self, user: User | Any) -> bool:
        if not user.can(Permission.FOLLOWUPS_VIEW):
            return False
        if self.archived_at is not None and not user.can(Permission.RECORDS_RESTORE):
            return False
        subject = self.subject
        return subject is None or subject.can_view(user)

    def can_edit(self, user: User | Any) -> bool:
        return self.can_view(user) and user.can(Permission.FOLLOWUPS_EDIT)
