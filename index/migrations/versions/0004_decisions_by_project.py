"""Decisions looked up by stored project: an index on (catalog, project_id).

Coverage reads the decisions made on stored projects (``DecisionStore.for_projects``) at every
refresh; without an index each chunk of project ids scanned the whole decision table.

Revision ID: 0004_decisions_by_project
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_decisions_by_project"
down_revision = "0003_alignments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if "ix_decisions_project" not in {i["name"] for i in sa.inspect(op.get_bind()).get_indexes("decisions")}:
        op.create_index("ix_decisions_project", "decisions", ["catalog", "project_id"])


def downgrade() -> None:
    op.drop_index("ix_decisions_project", "decisions")
