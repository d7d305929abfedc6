"""Decisions: the node a person chose for a text (planner, reviewer, evaluator, declared, imported).

Revision ID: 0002_decisions
Revises: 0001
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_decisions"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("text_key", sa.String(40), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("project_id", sa.String(200), nullable=False),
        sa.Column("catalog", sa.String(100), nullable=False),
        sa.Column("level", sa.String(64), nullable=False),
        sa.Column("node_id", sa.String(100), nullable=False),
        sa.Column("suggested", sa.String(100), nullable=False),
        sa.Column("suggested_confidence", sa.Float(), nullable=True),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("who", sa.String(100), nullable=False),
        sa.Column("created", sa.Float(), nullable=False),
    )
    op.create_index("ix_decisions_label", "decisions", ["catalog", "level", "text_key"])
    op.create_index("ix_decisions_created", "decisions", ["catalog", "created"])


def downgrade() -> None:
    op.drop_table("decisions")
