"""Consent history refuses rewrites and deletions.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Only erasure (clearing the encrypted override reason), key rotation (re-encrypting
# it) and a deleted account (recorded_by_id emptied) may touch an existing row.
SQLITE = [
    "CREATE TRIGGER consent_events_no_delete BEFORE DELETE ON consent_events BEGIN SELECT RAISE(ABORT, 'consent_events is append-only'); END",
    'CREATE TRIGGER consent_events_no_update BEFORE UPDATE ON consent_events WHEN NOT (NEW.id = OLD.id AND NEW.person_id = OLD.person_id AND NEW.scope = OLD.scope AND NEW.granted = OLD.granted AND NEW."on" = OLD."on" AND NEW.method IS OLD.method AND NEW.language IS OLD.language AND NEW.override = OLD.override AND NEW.recorded_at = OLD.recorded_at AND (NEW.recorded_by_id IS NULL OR NEW.recorded_by_id = OLD.recorded_by_id) AND (NEW.override_reason_enc IS NULL OR OLD.override_reason_enc IS NOT NULL)) BEGIN SELECT RAISE(ABORT, \'consent_events is append-only\'); END',
]
POSTGRESQL = [
    "CREATE OR REPLACE FUNCTION consent_events_append_only() RETURNS trigger AS $$ BEGIN IF TG_OP = 'UPDATE' THEN IF NEW.id = OLD.id AND NEW.person_id = OLD.person_id AND NEW.scope = OLD.scope AND NEW.granted = OLD.granted AND NEW.\"on\" = OLD.\"on\" AND NEW.method IS NOT DISTINCT FROM OLD.method AND NEW.language IS NOT DISTINCT FROM OLD.language AND NEW.override = OLD.override AND NEW.recorded_at = OLD.recorded_at AND (NEW.recorded_by_id IS NULL OR NEW.recorded_by_id = OLD.recorded_by_id) AND (NEW.override_reason_enc IS NULL OR OLD.override_reason_enc IS NOT NULL) THEN RETURN NEW; END IF; END IF; RAISE EXCEPTION 'consent_events is append-only'; END; $$ LANGUAGE plpgsql",
    "CREATE TRIGGER consent_events_no_change BEFORE UPDATE OR DELETE ON consent_events FOR EACH ROW EXECUTE FUNCTION consent_events_append_only()",
    "CREATE TRIGGER consent_events_no_truncate BEFORE TRUNCATE ON consent_events FOR EACH STATEMENT EXECUTE FUNCTION consent_events_append_only()",
]


def upgrade():
    dialect = op.get_bind().dialect.name
    for statement in (
        SQLITE if dialect == "sqlite" else POSTGRESQL if dialect == "postgresql" else []
    ):
        op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS consent_events_no_delete")
        op.execute("DROP TRIGGER IF EXISTS consent_events_no_update")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS consent_events_no_change ON consent_events")
        op.execute("DROP TRIGGER IF EXISTS consent_events_no_truncate ON consent_events")
        op.execute("DROP FUNCTION IF EXISTS consent_events_append_only()")
