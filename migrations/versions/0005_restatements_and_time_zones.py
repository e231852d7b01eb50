"""Recorded restatements of locked figures; each user's own time zone.

Revision ID: 0005
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("timezone", sa.String(length=64), nullable=True))
    op.create_table(
        "restatements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("object_type", sa.String(length=32), nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=False),
        sa.Column("object_ref", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["period_id"],
            ["reporting_periods.id"],
            name=op.f("fk_restatements_period_id_reporting_periods"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_restatements_recorded_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_restatements")),
    )
    with op.batch_alter_table("restatements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_restatements_period_id"), ["period_id"], unique=False)


def downgrade():
    with op.batch_alter_table("restatements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_restatements_period_id"))
    op.drop_table("restatements")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("timezone")
