"""The store of record for projects: a relational database through SQLAlchemy.

SQLite (one file in the data directory) by default, so a fresh machine needs no server; any
SQLAlchemy URL (PostgreSQL in production) by configuration. Every write is one transaction: a
batch that fails half-way leaves the stored projects exactly as they were.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Float, Integer, String, Text, create_engine, delete, event, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from planalign.corpora.projects import Project

ENV_DB_URL = "PLANALIGN_DB_URL"


class _Base(DeclarativeBase):
    pass


class ProjectRow(_Base):
    __tablename__ = "projects"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    fiscal_year: Mapped[int | None] = mapped_column(Integer, index=True)
    org: Mapped[str] = mapped_column(String(300), default="", index=True)
    district: Mapped[str] = mapped_column(String(100), default="", index=True)
    district_group: Mapped[str] = mapped_column(String(100), default="", index=True)
    name: Mapped[str] = mapped_column(Text)
    objective: Mapped[str] = mapped_column(Text, default="")
    target: Mapped[str] = mapped_column(Text, default="")
    budget: Mapped[float | None] = mapped_column(Float)
    duration: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    plan_alignment: Mapped[str] = mapped_column(Text, default="")
    dimension_id: Mapped[str] = mapped_column(String(100), default="", index=True)
    issue_id: Mapped[str] = mapped_column(String(100), default="")
    goal_id: Mapped[str] = mapped_column(String(100), default="")
    okr_id: Mapped[str] = mapped_column(String(100), default="")
    source: Mapped[str] = mapped_column(Text, default="")
    content_hash: Mapped[str] = mapped_column(String(40))


PROJECT_FIELDS = tuple(Project.model_fields)


@dataclass
class UpsertResult:
    inserted: list[str]
    updated: list[str]
    unchanged: int


def default_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'planalign.db'}"


class ProjectStore:
    """Projects by id, with upsert, delete and filtered listing."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = create_engine(url, future=True)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        _Base.metadata.create_all(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    def upsert(self, projects: Sequence[Project]) -> UpsertResult:
        """Insert new ids, update changed ones, leave identical ones untouched (one transaction)."""
        inserted: list[str] = []
        updated: list[str] = []
        unchanged = 0
        with Session(self.engine) as session, session.begin():
            ids = [p.id for p in projects]
            existing: dict[str, str] = {}
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                rows = session.execute(select(ProjectRow.id, ProjectRow.content_hash).where(ProjectRow.id.in_(chunk)))
                existing.update((row.id, row.content_hash) for row in rows)
            for project in projects:
                digest = project.content_hash()
                if existing.get(project.id) == digest:
                    unchanged += 1
                    continue
                session.merge(ProjectRow(**project.model_dump(), content_hash=digest))
                (updated if project.id in existing else inserted).append(project.id)
        return UpsertResult(inserted, updated, unchanged)

    def delete(self, ids: Iterable[str]) -> list[str]:
        """Delete by id; returns the ids that existed."""
        ids = list(dict.fromkeys(ids))
        with Session(self.engine) as session, session.begin():
            found = list(session.scalars(select(ProjectRow.id).where(ProjectRow.id.in_(ids))))
            session.execute(delete(ProjectRow).where(ProjectRow.id.in_(found)))
        return found

    def get(self, ids: Sequence[str]) -> dict[str, Project]:
        result: dict[str, Project] = {}
        with Session(self.engine) as session:
            for start in range(0, len(ids), 500):
                rows = session.scalars(select(ProjectRow).where(ProjectRow.id.in_(list(ids[start : start + 500]))))
                result.update((row.id, _to_project(row)) for row in rows)
        return result

    def iter_all(self, batch: int = 2000) -> Iterator[Project]:
        """Every project in id order, streamed (the Traffy corpus does not fit a single list cheaply)."""
        with Session(self.engine) as session:
            for row in session.execute(select(ProjectRow).order_by(ProjectRow.id).execution_options(yield_per=batch)).scalars():
                yield _to_project(row)

    def content_hashes(self) -> dict[str, str]:
        """Every project id with the hash of its content, in id order."""
        with Session(self.engine) as session:
            rows = session.execute(select(ProjectRow.id, ProjectRow.content_hash).order_by(ProjectRow.id))
            return {row.id: row.content_hash for row in rows}

    def count(self) -> int:
        with Session(self.engine) as session:
            return int(session.scalar(select(func.count()).select_from(ProjectRow)) or 0)


def _to_project(row: ProjectRow) -> Project:
    return Project(**{f: getattr(row, f) for f in PROJECT_FIELDS})


def _sqlite_pragmas(connection, _record) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
