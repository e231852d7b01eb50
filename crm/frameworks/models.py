"""Cooperation frameworks: MoUs, protocols, agreements, and their documents."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.codes import (
    AmendmentKind,
    FrameworkStatus,
    Instrument,
    code_enum,
)
from crm.db import RecordMixin, UTCDateTime, utcnow
from crm.extensions import db
from crm.security import Permission

if TYPE_CHECKING:
    from crm.auth.models import User
    from crm.partners.models import Partner


class Framework(RecordMixin, db.Model):
    __tablename__ = "frameworks"
    __table_args__ = (
        Index("ix_frameworks_status_signed_on", "status", "signed_on"),
        Index("ix_frameworks_expires_on", "expires_on"),
        Index("ix_frameworks_next_review_on", "next_review_on"),
    )

    ref: Mapped[str] = mapped_column(String(64), unique=True)
    title_en: Mapped[str | None] = mapped_column(String(500))
    title_ar: Mapped[str | None] = mapped_column(String(500))
    instrument: Mapped[Instrument] = mapped_column(code_enum(Instrument))
    purposes: Mapped[str | None] = mapped_column(Text)
    status: Mapped[FrameworkStatus] = mapped_column(code_enum(FrameworkStatus))
    signed_on: Mapped[date | None] = mapped_column(Date)
    in_force_from: Mapped[date | None] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date)
    terminated_on: Mapped[date | None] = mapped_column(Date)
    next_review_on: Mapped[date | None] = mapped_column(Date)
    # An amendment, addendum, renewal or extension of another framework: recorded on
    # it and never counted as a framework of its own.
    amends_id: Mapped[int | None] = mapped_column(
        ForeignKey("frameworks.id", ondelete="RESTRICT"), index=True
    )
    amendment_kind: Mapped[AmendmentKind | None] = mapped_column(code_enum(AmendmentKind))
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)
    responsible_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    notes: Mapped[str | None] = mapped_column(Text)
    search_text: Mapped[str] = mapped_column(Text, default="")

    partners: Mapped[list[Partner]] = relationship(
        secondary="framework_partners", lazy="selectin", order_by="Partner.id"
    )
    amends: Mapped[Framework | None] = relationship(
        remote_side="Framework.id", back_populates="amendments"
    )
    amendments: Mapped[list[Framework]] = relationship(
        back_populates="amends", order_by="Framework.signed_on"
    )
    documents: Mapped[list[FrameworkDocument]] = relationship(
        back_populates="framework", order_by="FrameworkDocument.id"
    )
    responsible: Mapped[User | None] = relationship(foreign_keys=[responsible_id])

    @property
    def effective_date(self) -> date | None:
        return self.in_force_from or self.signed_on

    def title_for(self, language: str) -> str:
        first, second = (
            (self.title_ar, self.title_en) if language == "ar" else (self.title_en, self.title_ar)
        )
        return first or second or self.ref

    def can_view(self, user: User | Any) -> bool:
        if not user.can(Permission.FRAMEWORKS_VIEW):
            return False
        if self.archived_at is not None and not user.can(Permission.RECORDS_RESTORE):
            return False
        return not self.confidential or user.can(Permission.CONFIDENTIAL_VIEW)

    def can_edit(self, user: User | Any) -> bool:
        return self.can_view(user) and user.can(Permission.FRAMEWORKS_EDIT)


class FrameworkPartner(db.Model):
    """A counterpart of a framework (a protocol signed by 28 has 28 rows)."""

    __tablename__ = "framework_partners"

    framework_id: Mapped[int] = mapped_column(
        ForeignKey("frameworks.id", ondelete="CASCADE"), primary_key=True
    )
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("partners.id", ondelete="RESTRICT"), primary_key=True, index=True
    )


class FrameworkDocument(db.Model):
    """A signed document, stored outside any served folder under a random name."""

    __tablename__ = "framework_documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    framework_id: Mapped[int] = mapped_column(
        ForeignKey("frameworks.id", ondelete="CASCADE"), index=True
    )
    original_name: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    framework: Mapped[Framework] = relationship(back_populates="documents")
