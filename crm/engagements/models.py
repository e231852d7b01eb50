"""Engagements: planned, recorded, two-way exchanges with the Mechanism's staff."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from crm.codes import (
    EngagementCategory,
    EngagementFormat,
    EngagementStatus,
    EngagementType,
    OrganiserRole,
    Strategy,
    VictimGroup,
    code_enum,
)
from crm.db import RecordMixin
from crm.extensions import db
from crm.security import Permission

if TYPE_CHECKING:
    from crm.auth.models import User
    from crm.partners.models import Partner
    from crm.people.models import Person


class Engagement(RecordMixin, db.Model):
    __tablename__ = "engagements"
    __table_args__ = (
        # The O3.2 count (category, status, a start-date range, not archived) reads
        # this index alone.
        Index(
            "ix_engagements_category_status_start_date",
            "category",
            "status",
            "start_date",
            "archived_at",
        ),
        Index("ix_engagements_start_date_id", "start_date", "id"),
        # "Records to complete", newest first, and each user's own on the dashboard.
        Index("ix_engagements_complete_start_date_id", "complete", "start_date", "id"),
        Index("ix_engagements_created_by_id_complete", "created_by_id", "complete"),
    )

    ref: Mapped[str] = mapped_column(String(64), unique=True)
    title_en: Mapped[str | None] = mapped_column(String(500))
    title_ar: Mapped[str | None] = mapped_column(String(500))
    category: Mapped[EngagementCategory] = mapped_column(code_enum(EngagementCategory))
    type: Mapped[EngagementType] = mapped_column(code_enum(EngagementType))
    format: Mapped[EngagementFormat] = mapped_column(code_enum(EngagementFormat))
    status: Mapped[EngagementStatus] = mapped_column(code_enum(EngagementStatus))
    organiser: Mapped[OrganiserRole | None] = mapped_column(code_enum(OrganiserRole))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    country: Mapped[str | None] = mapped_column(String(2), index=True)
    city: Mapped[str | None] = mapped_column(String(120))
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)  # ISO 639-1
    # Anonymous participant totals; under_18 counts among the three others.
    women: Mapped[int | None] = mapped_column(Integer)
    men: Mapped[int | None] = mapped_column(Integer)
    unspecified: Mapped[int | None] = mapped_column(Integer)
    under_18: Mapped[int | None] = mapped_column(Integer)
    # Free text may name people: the audit trail records that it changed, not what
    # it says ("sensitive" columns are redacted there).
    summary_en: Mapped[str | None] = mapped_column(Text, info={"sensitive": True})
    summary_ar: Mapped[str | None] = mapped_column(Text, info={"sensitive": True})
    outcomes_en: Mapped[str | None] = mapped_column(Text, info={"sensitive": True})
    outcomes_ar: Mapped[str | None] = mapped_column(Text, info={"sensitive": True})
    follow_up_actions: Mapped[str | None] = mapped_column(Text, info={"sensitive": True})
    search_text: Mapped[str] = mapped_column(Text, default="")
    # Kept by crm.engagements.services on every flush: False while a quick-logged
    # record still lacks what a full record has (see services.missing_fields).
    complete: Mapped[bool] = mapped_column(Boolean, default=False)

    victim_groups: Mapped[list[EngagementVictimGroup]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )
    strategies: Mapped[list[EngagementStrategy]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )
    partners: Mapped[list[Partner]] = relationship(
        secondary="engagement_partners", order_by="Partner.id"
    )
    staff: Mapped[list[User]] = relationship(secondary="engagement_staff", order_by="User.id")
    people: Mapped[list[Person]] = relationship(
        secondary="engagement_people", back_populates="engagements"
    )

    @property
    def participants_total(self) -> int:
        return (self.women or 0) + (self.men or 0) + (self.unspecified or 0)

    def title_for(self, language: str) -> str:
        first, second = (
            (self.title_ar, self.title_en) if language == "ar" else (self.title_en, self.title_ar)
        )
        return first or second or self.ref

    def can_view(self, user: User | Any) -> bool:
        if not user.can(Permission.ENGAGEMENTS_VIEW):
            return False
        return self.archived_at is None or user.can(Permission.RECORDS_RESTORE)

    def can_edit(self, user: User | Any) -> bool:
        return self.can_view(user) and user.can(Permission.ENGAGEMENTS_EDIT)


class EngagementVictimGroup(db.Model):
    __tablename__ = "engagement_victim_groups"
    # The list filter "victim group" looks engagements up by code.
    __table_args__ = (Index("ix_engagement_victim_groups_code", "code"),)

    engagement_id: Mapped[int] = mapped_column(
        ForeignKey("engagements.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[VictimGroup] = mapped_column(code_enum(VictimGroup), primary_key=True)


class EngagementStrategy(db.Model):
    __tablename__ = "engagement_strategies"

    engagement_id: Mapped[int] = mapped_column(
        ForeignKey("engagements.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[Strategy] = mapped_column(code_enum(Strategy), primary_key=True)


class EngagementPartner(db.Model):
    __tablename__ = "engagement_partners"

    engagement_id: Mapped[int] = mapped_column(
        ForeignKey("engagements.id", ondelete="CASCADE"), primary_key=True
    )
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("partners.id", ondelete="RESTRICT"), primary_key=True, index=True
    )


class EngagementStaff(db.Model):
    __tablename__ = "engagement_staff"

    engagement_id: Mapped[int] = mapped_column(
        ForeignKey("engagements.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), primary_key=True, index=True
    )


class EngagementPerson(db.Model):
    """A person who attended, so reports can count unique people reached."""

    __tablename__ = "engagement_people"

    engagement_id: Mapped[int] = mapped_column(
        ForeignKey("engagements.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="RESTRICT"), primary_key=True, index=True
    )


@event.listens_for(Session, "before_flush")
def _refresh_derived(session: Session, _context: Any, _instances: Any) -> None:
    """``search_text`` and ``complete`` follow the record whoever changes it."""
    from crm.engagements.services import refresh_derived

    refresh_derived(session)
