"""The first schema: architectures, their versions, runs and run events.

Revision ID: 0001
Revises:
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "architectures",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("latest_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "architecture_versions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "architecture_id",
            sa.Integer(),
            sa.ForeignKey("architectures.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("valid", sa.Boolean(), nullable=False),
        sa.Column("diagnostics", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("architecture_id", "version"),
    )
    op.create_index(
        "ix_architecture_versions_architecture_id", "architecture_versions", ["architecture_id"]
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column(
            "architecture_id",
            sa.Integer(),
            sa.ForeignKey("architectures.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("architecture_name", sa.String(100), nullable=False),
        sa.Column(
            "b_architecture_id",
            sa.Integer(),
            sa.ForeignKey("architectures.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("b_version", sa.Integer(), nullable=True),
        sa.Column("b_architecture_name", sa.String(100), nullable=True),
        sa.Column("options", sa.Text(), nullable=False),
        sa.Column("estimated_requests", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("interrupted", sa.Boolean(), nullable=False),
        sa.Column("last_event", sa.Integer(), nullable=False),
        sa.Column("progress", sa.Text(), nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
    )
    op.create_index("ix_runs_state", "runs", ["state"])
    op.create_index("ix_runs_architecture_id", "runs", ["architecture_id"])
    op.create_table(
        "run_events",
        sa.Column(
            "run_id",
            sa.Integer(),
            sa.ForeignKey("runs.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("seq", sa.Integer(), primary_key=True),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("run_events")
    op.drop_index("ix_runs_architecture_id", "runs")
    op.drop_index("ix_runs_state", "runs")
    op.drop_table("runs")
    op.drop_index("ix_architecture_versions_architecture_id", "architecture_versions")
    op.drop_table("architecture_versions")
    op.drop_table("architectures")
