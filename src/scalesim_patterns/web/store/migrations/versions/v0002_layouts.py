"""Node positions of the designer, kept per architecture.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "architecture_layouts",
        sa.Column(
            "architecture_id",
            sa.Integer(),
            sa.ForeignKey("architectures.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("positions", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("architecture_layouts")
