"""Victims and survivors: pseudonymous records with an encrypted identity and consent."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import DDL, Boolean, Date, ForeignKey, Index, Integer, LargeBinary, String, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.codes import (
    AgeBand,
    ConsentMethod,
    ConsentScope,
    Governorate,
    Sex,
    VictimGroup,
    code_enum,
)
from crm.db import RecordMixin, UTCDateTime, utcnow
from crm.extensions import db
from crm.security import Permission

if TYPE_CHECKING:
    from crm.auth.models import User
    from crm.engagements.models import Engagement


class Person(RecordMixin, db.Model):
    __tablename__ = "people"
    __table_args__ = (
        Index("ix_people_archived_at_created_at_id", "archived_at", "created_at", "id"),
        Index("ix_people_governorate_of_origin", "governorate_of_origin"),
        Index("ix_people_current_country", "current_country"),
    )

    # Random, not derived from identity, not sequential (e.g. "V-7KQ4-MX2P").
    code: Mapped[str] = mapped_column(String(20), unique=True)
    # Anonymous attributes, visible to everyone who may see people.
    sex: Mapped[Sex | None] = mapped_column(code_enum(Sex, 16))
    age_band: Mapped[AgeBand | None] = mapped_column(code_enum(AgeBand, 16))
    governorate_of_origin: Mapped[Governorate | None] = mapped_column(code_enum(Governorate, 32))
    current_country: Mapped[str | None] = mapped_column(String(2))  # ISO 3166-1 alpha-2
    # Identity: names (both scripts), contact details and notes, as one encrypted
    # JSON document bound to this row; NULL once erased.
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
        back_populates="person", order_by="ConsentEvent.id", passive_deletes=True
    )
    engagements: Mapped[list[Engagement]] = relationship(
        secondary="engagement_people", back_populates="people"
    )

    @property
    def victim_group_codes(self) -> list[VictimGroup]:
        return sorted((link.code for link in self.victim_groups), key=list(VictimGroup).index)

    @property
    def has_identity(self) -> bool:
        return self.identity_enc is not None

    @property
    def identity_context(self) -> str:
        """Associated data of the identity: a value moved to another row fails."""
        return f"people.identity.{self.id}"

    @property
    def safe_contact_context(self) -> str:
        return f"people.safe_contact_channel.{self.id}"

    def can_view(self, user: User | Any) -> bool:
        if not user.can(Permission.PEOPLE_VIEW):
            return False
        return self.archived_at is None or user.can(Permission.RECORDS_RESTORE)

    def can_edit(self, user: User | Any) -> bool:
        return self.archived_at is None and self.can_view(user) and user.can(Permission.PEOPLE_EDIT)

    def can_see_identity(self, user: User | Any) -> bool:
        return (
            self.archived_at is None and self.can_view(user) and user.can(Permission.IDENTITY_VIEW)
        )

    def __repr__(self) -> str:  # ids only: a repr may reach a log
        return f"<Person {self.id}>"


class PersonVictimGroup(db.Model):
    __tablename__ = "person_victim_groups"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[VictimGroup] = mapped_column(code_enum(VictimGroup), primary_key=True)


class ConsentEvent(db.Model):
    """One entry in a person's consent history: given or withdrawn, for one scope.

    Append-only (the database refuses changes; erasure may only clear the encrypted
    override reason): the current consent for a scope is its latest event.
    """

    __tablename__ = "consent_events"
    __table_args__ = (Index("ix_consent_events_person_id_scope_id", "person_id", "scope", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="RESTRICT"))
    scope: Mapped[ConsentScope] = mapped_column(code_enum(ConsentScope))
    granted: Mapped[bool] = mapped_column(Boolean)
    on: Mapped[date] = mapped_column(Date)
    method: Mapped[ConsentMethod | None] = mapped_column(code_enum(ConsentMethod, 16))
    language: Mapped[str | None] = mapped_column(String(8))  # ISO 639-1
    # Set when a refusal was overridden (own permission, a reason, re-authentication);
    # the reason is free text, so it is encrypted and cleared at erasure.
    override: Mapped[bool] = mapped_column(Boolean, default=False)
    override_reason_enc: Mapped[bytes | None] = mapped_column(LargeBinary, info={"sensitive": True})
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    person: Mapped[Person] = relationship(back_populates="consents")
    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id])

    @property
    def override_context(self) -> str:
        return f"consent_events.override_reason.{self.person_id}"


class IdentityAccess(db.Model):
    """Each time someone saw an identity, and the reason they gave (encrypted, as
    it may quote the person; cleared at erasure). The audit trail holds the act."""

    __tablename__ = "identity_accesses"
    __table_args__ = (Index("ix_identity_accesses_person_id_id", "person_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    purpose: Mapped[str] = mapped_column(String(16))  # "view" or "edit"
    reason_enc: Mapped[bytes | None] = mapped_column(LargeBinary, info={"sensitive": True})

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])

    @property
    def reason_context(self) -> str:
        return f"identity_accesses.reason.{self.person_id}"


# The database refuses to rewrite or remove consent history. The only changes it
# allows: erasure clearing the encrypted override reason, key rotation re-encrypting
# it, and a deleted account leaving recorded_by_id empty. Like the audit log's, these
# triggers must be written into the migration by hand.
_CONSENT_UNCHANGED = (
    "NEW.id = OLD.id AND NEW.person_id = OLD.person_id AND NEW.scope = OLD.scope "
    'AND NEW.granted = OLD.granted AND NEW."on" = OLD."on" '
    "AND NEW.method IS NOT DISTINCT FROM OLD.method "
    "AND NEW.language IS NOT DISTINCT FROM OLD.language "
    "AND NEW.override = OLD.override AND NEW.recorded_at = OLD.recorded_at "
    "AND (NEW.recorded_by_id IS NULL OR NEW.recorded_by_id = OLD.recorded_by_id) "
    # cleared at erasure, or re-encrypted under a new key; never added afterwards
    "AND (NEW.override_reason_enc IS NULL OR OLD.override_reason_enc IS NOT NULL)"
)
CONSENT_APPEND_ONLY_SQLITE = [
    "CREATE TRIGGER consent_events_no_delete BEFORE DELETE ON consent_events "
    "BEGIN SELECT RAISE(ABORT, 'consent_events is append-only'); END",
    "CREATE TRIGGER consent_events_no_update BEFORE UPDATE ON consent_events "
    "WHEN NOT ("
    + _CONSENT_UNCHANGED.replace("IS NOT DISTINCT FROM", "IS")
    + ") BEGIN SELECT RAISE(ABORT, 'consent_events is append-only'); END",
]
CONSENT_APPEND_ONLY_POSTGRESQL = [
    "CREATE OR REPLACE FUNCTION consent_events_append_only() RETURNS trigger AS $$ "
    "BEGIN "
    "IF TG_OP = 'UPDATE' THEN IF " + _CONSENT_UNCHANGED + " THEN RETURN NEW; END IF; END IF; "
    "RAISE EXCEPTION 'consent_events is append-only'; "
    "END; $$ LANGUAGE plpgsql",
    "CREATE TRIGGER consent_events_no_change BEFORE UPDATE OR DELETE ON consent_events "
    "FOR EACH ROW EXECUTE FUNCTION consent_events_append_only()",
    "CREATE TRIGGER consent_events_no_truncate BEFORE TRUNCATE ON consent_events "
    "FOR EACH STATEMENT EXECUTE FUNCTION consent_events_append_only()",
]

for _statement in CONSENT_APPEND_ONLY_SQLITE:
    event.listen(
        ConsentEvent.__table__, "after_create", DDL(_statement).execute_if(dialect="sqlite")
    )
for _statement in CONSENT_APPEND_ONLY_POSTGRESQL:
    event.listen(
        ConsentEvent.__table__, "after_create", DDL(_statement).execute_if(dialect="postgresql")
    )
event.listen(
    ConsentEvent.__table__,
    "before_drop",
    DDL("DROP FUNCTION IF EXISTS consent_events_append_only() CASCADE").execute_if(
        dialect="postgresql"
    ),
)
