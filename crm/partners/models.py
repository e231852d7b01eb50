"""Partners (counterparts) and their contact persons."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.codes import PartnerType, VictimGroup, code_enum
from crm.db import RecordMixin
from crm.extensions import db
from crm.security import Permission

if TYPE_CHECKING:
    from crm.auth.models import User


class Partner(RecordMixin, db.Model):
    __tablename__ = "partners"
    __table_args__ = (
        Index("ix_partners_type_country", "type", "country"),
        Index("ix_partners_archived_at_id", "archived_at", "id"),
    )

    ref: Mapped[str] = mapped_column(String(64), unique=True)
    name_en: Mapped[str | None] = mapped_column(String(300))
    name_ar: Mapped[str | None] = mapped_column(String(300))
    acronym: Mapped[str | None] = mapped_column(String(50))
    type: Mapped[PartnerType] = mapped_column(code_enum(PartnerType))
    country: Mapped[str | None] = mapped_column(String(2))  # ISO 3166-1 alpha-2
    city: Mapped[str | None] = mapped_column(String(120))
    women_led: Mapped[bool] = mapped_column(Boolean, default=False)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)  # ISO 639-1
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(64))
    website: Mapped[str | None] = mapped_column(String(500))
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)
    # Never name this partner in anything published outside the Mechanism.
    do_not_name_publicly: Mapped[bool] = mapped_column(Boolean, default=False)
    # "Based inside Syria, at risk…": encrypted, shown only with CONFIDENTIAL_VIEW.
    security_note_enc: Mapped[bytes | None] = mapped_column(LargeBinary, info={"sensitive": True})
    notes: Mapped[str | None] = mapped_column(Text)
    search_text: Mapped[str] = mapped_column(Text, default="")

    victim_groups: Mapped[list[PartnerVictimGroup]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )
    contacts: Mapped[list[Contact]] = relationship(
        back_populates="partner", cascade="all, delete-orphan", order_by="Contact.id"
    )

    @property
    def display_name(self) -> str:
        return self.name_en or self.name_ar or self.ref

    def name_for(self, language: str) -> str:
        first, second = (
            (self.name_ar, self.name_en) if language == "ar" else (self.name_en, self.name_ar)
        )
        return first or second or self.ref

    def can_view(self, user: User | Any) -> bool:
        if not user.can(Permission.PARTNERS_VIEW):
            return False
        if self.archived_at is not None and not user.can(Permission.RECORDS_RESTORE):
            return False
        return not self.confidential or user.can(Permission.CONFIDENTIAL_VIEW)

    def can_edit(self, user: User | Any) -> bool:
        return self.can_view(user) and user.can(Permission.PARTNERS_EDIT)


class PartnerVictimGroup(db.Model):
    __tablename__ = "partner_victim_groups"

    partner_id: Mapped[int] = mapped_column(
        ForeignKey("partners.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[VictimGroup] = mapped_column(code_enum(VictimGroup), primary_key=True)


class Contact(RecordMixin, db.Model):
    """A person at a partner organisation."""

    __tablename__ = "contacts"

    partner_id: Mapped[int] = mapped_column(
        ForeignKey("partners.id", ondelete="CASCADE"), index=True
    )
    # A contact's name is personal data: redacted in the audit trail.
    name_en: Mapped[str | None] = mapped_column(String(200), info={"sensitive": True})
    name_ar: Mapped[str | None] = mapped_column(String(200), info={"sensitive": True})
    role: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(64))
    preferred_language: Mapped[str | None] = mapped_column(String(8))
    agreed_to_contact: Mapped[bool] = mapped_column(Boolean, default=False)

    partner: Mapped[Partner] = relationship(back_populates="contacts")
