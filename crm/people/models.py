"""Victims and survivors: pseudonymous records with an encrypted identity and consent."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.codes import ConsentScope, VictimGroup, code_enum
from crm.db import RecordMixin, UTCDateTime, utcnow
from crm.extensions import db
from crm.security import Permission

if TYPE_CHECKING:
    from crm.auth.models import User
    from crm.engagements.models import Engagement


class Person(RecordMixin, db.Model):
    __tablename__ = "people"

    # Random, not derived from identity, not sequential (e.g. "V-7KQ4-MX2P").
    code: Mapped[str] = mapped_column(String(20), unique=True)
    # Anonymous attributes, visible to everyone who may see people.
    sex: Mapped[str | None] = mapped_column(String(16))  # female, male, other, unknown
    age_band: Mapped[str | None] = mapped_column(String(16))  # e.g. "under_18", "18_29"
    governorate_of_origin: Mapped[str | None] = mapped_column(String(64))
    current_country: Mapped[str | None] = mapped_column(String(2))
    # Identity: names (both scripts), contact details and notes, as one encrypted
    # JSON document; NULL once erased.
    identity_enc: Mapped[bytes | None] = mapped_column(LargeBinary, info={"sensitive": True})
    identity_erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Risk flags change what is shown and offered.
    at_risk: Mapped[bool] = mapped_column(Boolean, default=False)
    do_not_contact: Mapped[bool] = mapped_column(Boolean, default=False)
    safe_contact_channel_enc: Mapped[bytes | None] = mapped_column(
        LargeBinary, info={"sensitive": True}
    )

    victim_groups: Mapped[list[PersonVictimGroup]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )
    consents: Mapped[list[ConsentEvent]] = relationship(
        back_populates="person", order_by="ConsentEvent.id"
    )
    engagements: Mapped[list[Engagement]] = relationship(
        secondary="engagement_people", back_populates="people"
    )

    def can_view(self, user: User | Any) -> bool:
        if not user.can(Permission.PEOPLE_VIEW):
            return False
        return self.archived_at is None or user.can(Permission.RECORDS_RESTORE)

    def can_edit(self, user: User | Any) -> bool:
        return self.can_view(user) and user.can(Permission.PEOPLE_EDIT)


class PersonVictimGroup(db.Model):
    __tablename__ = "person_victim_groups"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[VictimGroup] = mapped_column(code_enum(VictimGroup), primary_key=True)


class ConsentEvent(db.Model):
    """One entry in a person's consent history: given or withdrawn, for one scope.

    Append-only: the current consent for a scope is its latest event.
    """

    __tablename__ = "consent_events"
    __table_args__ = (Index("ix_consent_events_person_id_scope_id", "person_id", "scope", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    scope: Mapped[ConsentScope] = mapped_column(code_enum(ConsentScope))
    granted: Mapped[bool] = mapped_column(Boolean)
    on: Mapped[date] = mapped_column(Date)
    method: Mapped[str | None] = mapped_column(String(32))  # written, oral, electronic
    language: Mapped[str | None] = mapped_column(String(8))
    # An override of a refusal needs its own permission and a reason.
    override_reason: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    person: Mapped[Person] = relationship(back_populates="consents")
