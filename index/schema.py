"""The store's tables, defined once (SQLAlchemy Core); Alembic migrations in ``migrations/`` create them.

The project table's columns come from the one project field list
(:data:`planalign.corpora.projects.PROJECT_FIELDS`), so the store, the API model and the file
headers cannot drift apart; only the column types that are not text are named here.
"""
from __future__ import annotations

from typing import get_args

from sqlalchemy import Column, Float, Index, Integer, MetaData, String, Table, Text
from sqlalchemy.types import TypeEngine

from planalign.corpora.projects import PROJECT_FIELDS, Project

metadata = MetaData()

_PROJECT_TYPES: dict[str, tuple[TypeEngine, bool]] = {  # type, indexed (filters and facets)
    "fiscal_year": (Integer(), True),
    "org": (String(300), True),
    "district": (String(100), True),
    "district_group": (String(100), True),
    "budget": (Float(), False),
    "dimension_id": (String(100), True),
    "issue_id": (String(100), False),
    "goal_id": (String(100), False),
    "okr_id": (String(100), False),
    "category": (String(300), False),
}

def _project_column(name: str) -> Column:
    kind, indexed = _PROJECT_TYPES.get(name, (Text(), False))
    optional = type(None) in get_args(Project.model_fields[name].annotation)  # int | None, float | None
    return Column(name, kind, index=indexed, nullable=optional)


projects = Table(
    "projects",
    metadata,
    Column("id", String(200), primary_key=True),
    *[_project_column(name) for name in PROJECT_FIELDS if name != "id"],
    Column("content_hash", String(40), nullable=False),
)

classify_jobs = Table(
    "classify_jobs",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("status", String(10), index=True),
    Column("created", Float),
    Column("updated", Float),
    Column("params", Text),  # JSON: text_col, id_col, label_col, catalog, level, filename
    Column("total", Integer, default=0),
    Column("done", Integer, default=0),
    Column("error", Text, default=""),
    Column("metrics", Text, default=""),  # JSON when the file had a label column
)

# One row per (project, catalog, level): the node a stored project (or citizen report) counts for in
# coverage, and where that came from (:data:`planalign.index.coverage.SOURCES`). Written together for
# every level of a project; ``content_hash`` is the project's when it was aligned and ``model`` what
# aligned it (catalog content, encoder, mapping file), so a changed project, catalog or model is
# recomputed. node_id "" = the text could not be aligned (it still counts, as "not aligned").
project_alignments = Table(
    "project_alignments",
    metadata,
    Column("project_id", String(200), primary_key=True),
    Column("catalog", String(64), primary_key=True),
    Column("level", String(64), primary_key=True),
    Column("node_id", String(100), nullable=False),
    Column("source", String(12), nullable=False),
    Column("confidence", Float),
    Column("model", String(200), nullable=False),
    Column("content_hash", String(40), nullable=False),
    Index("ix_project_alignments_catalog_level", "catalog", "level"),
)

# Per catalog, a counter bumped by every change to its alignments (and by every project delete):
# readers cache coverage per (catalog, version) and see another process's writes cheaply.
alignment_versions = Table(
    "alignment_versions",
    metadata,
    Column("catalog", String(64), primary_key=True),
    Column("version", Integer, nullable=False),
)

# A person's choice of a catalog node for a text: the planner page, the evaluation page's review grid,
# a project's declared alignment, an imported file. The newest row for (catalog, level, text_key) is
# the active label; older rows are the history. ``id`` orders decisions (clocks may tie or step back).
decisions = Table(
    "decisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("text_key", String(40), nullable=False),  # index.decisions.text_key: sha1 of the normalized text, whitespace collapsed
    Column("text", Text, nullable=False),
    Column("project_id", String(200), nullable=False, default=""),
    Column("catalog", String(100), nullable=False),
    Column("level", String(64), nullable=False),
    Column("node_id", String(100), nullable=False),
    Column("suggested", String(100), nullable=False, default=""),  # the top-1 suggestion shown at the time ("" when none)
    Column("suggested_confidence", Float, nullable=True),
    Column("source", String(20), nullable=False),  # planner | reviewer | evaluator | declared | imported
    Column("who", String(100), nullable=False),  # the API key's name, or "local"
    Column("created", Float, nullable=False),  # Unix time
    # a withdrawal (node_id ""): the id of the decision it withdraws, which then no longer counts (migration 0006)
    Column("withdraws", Integer, nullable=True),
    Index("ix_decisions_label", "catalog", "level", "text_key"),
    Index("ix_decisions_created", "catalog", "created"),
    Index("ix_decisions_project", "catalog", "project_id"),  # coverage: decisions made on stored projects
    Index("ix_decisions_withdraws", "withdraws"),
    Index("ix_decisions_text", "catalog", "text_key"),  # a text's labels at every level (align's ``decided``; migration 0006)
    # an id is never given again (migration 0007): SQLite reused a deleted newest row's, which left a catalog's
    # fingerprint unchanged and let a stale page withdraw the new decision that took it (a blind review)
    sqlite_autoincrement=True,
)
