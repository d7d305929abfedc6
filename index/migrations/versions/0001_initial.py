"""The store as it was before migrations: projects and classify_jobs.

Stores created by earlier versions already have these tables (made by ``create_all``); they are
left as they are and only stamped, so an existing SQLite or PostgreSQL store upgrades in place.

Revision ID: 0001
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "projects" not in existing:
        op.create_table(
            "projects",
            sa.Column("id", sa.String(200), primary_key=True),
            sa.Column("fiscal_year", sa.Integer()),
            sa.Column("org", sa.String(300), nullable=False),
            sa.Column("district", sa.String(100), nullable=False),
            sa.Column("district_group", sa.String(100), nullable=False),
            sa.Column("name", sa.Text(), nullable=False),
            sa.Column("objective", sa.Text(), nullable=False),
            sa.Column("target", sa.Text(), nullable=False),
            sa.Column("budget", sa.Float()),
            sa.Column("duration", sa.Text(), nullable=False),
            sa.Column("text", sa.Text(), nullable=False),
            sa.Column("plan_alignment", sa.Text(), nullable=False),
            sa.Column("dimension_id", sa.String(100), nullable=False),
            sa.Column("issue_id", sa.String(100), nullable=False),
            sa.Column("goal_id", sa.String(100), nullable=False),
            sa.Column("okr_id", sa.String(100), nullable=False),
            sa.Column("source", sa.Text(), nullable=False),
            sa.Column("content_hash", sa.String(40), nullable=False),
        )
        for column in ("fiscal_year", "org", "district", "district_group", "dimension_id"):
            op.create_index(f"ix_projects_{column}", "projects", [column])
    if "classify_jobs" not in existing:
        op.create_table(
            "classify_jobs",
            sa.Column("id", sa.String(40), primary_key=True),
            sa.Column("status", sa.String(10)),
            sa.Column("created", sa.Float()),
            sa.Column("updated", sa.Float()),
            sa.Column("params", sa.Text()),
            sa.Column("total", sa.Integer()),
            sa.Column("done", sa.Integer()),
            sa.Column("error", sa.Text()),
            sa.Column("metrics", sa.Text()),
        )
        op.create_index("ix_classify_jobs_status", "classify_jobs", ["status"])
