"""Coverage: the projects' category column, their alignment per catalog and level, alignment versions.

Revision ID: 0003_alignments
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_alignments"
down_revision = "0002_decisions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    if "category" not in {c["name"] for c in inspector.get_columns("projects")}:
        op.add_column("projects", sa.Column("category", sa.String(300), nullable=False, server_default=""))
    existing = set(inspector.get_table_names())
    if "project_alignments" not in existing:
        op.create_table(
            "project_alignments",
            sa.Column("project_id", sa.String(200), primary_key=True),
            sa.Column("catalog", sa.String(64), primary_key=True),
            sa.Column("level", sa.String(64), primary_key=True),
            sa.Column("node_id", sa.String(100), nullable=False),
            sa.Column("source", sa.String(12), nullable=False),
            sa.Column("confidence", sa.Float()),
            sa.Column("model", sa.String(200), nullable=False),
            sa.Column("content_hash", sa.String(40), nullable=False),
        )
        op.create_index("ix_project_alignments_catalog_level", "project_alignments", ["catalog", "level"])
    if "alignment_versions" not in existing:
        op.create_table(
            "alignment_versions",
            sa.Column("catalog", sa.String(64), primary_key=True),
            sa.Column("version", sa.Integer(), nullable=False),
        )


def downgrade() -> None:
    op.drop_table("alignment_versions")
    op.drop_index("ix_project_alignments_catalog_level", "project_alignments")
    op.drop_table("project_alignments")
    with op.batch_alter_table("projects") as batch:
        batch.drop_column("category")
