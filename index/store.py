"""The store of record for projects: a relational database through SQLAlchemy.

SQLite (one file in the data directory) by default, so a fresh machine needs no server; any
SQLAlchemy URL (PostgreSQL in production) by configuration. Opening a store applies the Alembic
migrations it lacks. Every write is one transaction: a batch that fails half-way leaves the stored
projects exactly as they were.

Concurrent writers (request threads, the job worker, a CLI ingest beside the service) are safe: on
SQLite a write transaction takes the write lock when it begins (``BEGIN IMMEDIATE``), so it never
reads a snapshot that another writer invalidates before it writes ("database is locked"); and an
upsert that loses a race for the same new ids (PostgreSQL: a unique violation) is retried from the
start, where it finds the rows the other writer committed. Two concurrent ingests of the same ids
therefore both succeed, and the second reports them unchanged.
"""
from __future__ import annotations

import builtins
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from sqlalchemy import create_engine, delete, event, func, insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, OperationalError

from planalign.corpora.projects import PROJECT_FIELDS, Project
from planalign.index.migrations import upgrade
from planalign.index.schema import projects as table

CHUNK = 500  # ids per IN (...) clause: far below every database's parameter limit
WRITE_ATTEMPTS = 4
log = logging.getLogger("planalign.store")
T = TypeVar("T")


@dataclass
class UpsertResult:
    inserted: list[str]
    updated: list[str]
    unchanged: int

    @property
    def changed(self) -> list[str]:
        return self.inserted + self.updated


def default_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'planalign.db'}"


class ProjectStore:
    """Projects by id, with upsert, delete, paging and content hashes."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = create_engine(url, future=True)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "begin", _sqlite_begin)
        upgrade(self.engine)

    def write(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` in one write transaction, retried from the start when it loses a race.

        A retry re-runs ``work`` on a fresh transaction, so it reads what the winner committed.
        """
        for attempt in range(WRITE_ATTEMPTS):
            try:
                with self.engine.connect() as connection:
                    connection = connection.execution_options(planalign_write=True)
                    with connection.begin():
                        return work(connection)
            except (IntegrityError, OperationalError) as exc:
                retry = isinstance(exc, IntegrityError) or "locked" in str(exc.orig) or "deadlock" in str(exc.orig).lower()
                if not retry or attempt == WRITE_ATTEMPTS - 1:
                    raise
                log.info("write transaction lost a race (%s); retrying", type(exc.orig).__name__)
                time.sleep(0.05 * (attempt + 1))
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.engine.dispose()

    def upsert(self, projects: Sequence[Project]) -> UpsertResult:
        """Insert new ids, update changed ones, leave identical ones untouched (one transaction)."""
        digests = [(project, project.content_hash()) for project in projects]

        def work(connection: Connection) -> UpsertResult:
            inserted: list[str] = []
            updated: list[str] = []
            unchanged = 0
            existing = self._hashes(connection, [p.id for p in projects])
            for project, digest in digests:
                if existing.get(project.id) == digest:
                    unchanged += 1
                    continue
                values = {**project.model_dump(), "content_hash": digest}
                if project.id in existing:
                    connection.execute(update(table).where(table.c.id == project.id).values(**values))
                    updated.append(project.id)
                else:
                    connection.execute(insert(table).values(**values))
                    inserted.append(project.id)
            return UpsertResult(inserted, updated, unchanged)

        return self.write(work)

    def delete(self, ids: Iterable[str]) -> list[str]:
        """Delete by id; returns the ids that existed."""
        ids = list(dict.fromkeys(ids))

        def work(connection: Connection) -> list[str]:
            found = list(self._hashes(connection, ids))
            for start in range(0, len(found), CHUNK):
                connection.execute(delete(table).where(table.c.id.in_(found[start : start + CHUNK])))
            return found

        return self.write(work)

    def get(self, ids: Sequence[str]) -> dict[str, Project]:
        result: dict[str, Project] = {}
        with self.engine.connect() as connection:
            for start in range(0, len(ids), CHUNK):
                rows = connection.execute(select(table).where(table.c.id.in_(list(ids[start : start + CHUNK]))))
                result.update((row.id, _to_project(row)) for row in rows)
        return result

    def list(self, offset: int = 0, limit: int = 50) -> builtins.list[Project]:
        """One page of projects in id order (paged in SQL, not by walking every row)."""
        with self.engine.connect() as connection:
            rows = connection.execute(select(table).order_by(table.c.id).offset(offset).limit(limit))
            return [_to_project(row) for row in rows]

    def iter_all(self, batch: int = 2000) -> Iterator[Project]:
        """Every project in id order, streamed (the Traffy corpus does not fit a single list cheaply)."""
        with self.engine.connect() as connection:
            rows = connection.execution_options(yield_per=batch).execute(select(table).order_by(table.c.id))
            for row in rows:
                yield _to_project(row)

    def content_hashes(self, ids: Sequence[str] | None = None) -> dict[str, str]:
        """Project id -> hash of its content, for ``ids`` (those stored) or every project, in id order."""
        with self.engine.connect() as connection:
            if ids is not None:
                return self._hashes(connection, list(ids))
            rows = connection.execute(select(table.c.id, table.c.content_hash).order_by(table.c.id))
            return {row.id: row.content_hash for row in rows}

    def count(self) -> int:
        with self.engine.connect() as connection:
            return int(connection.scalar(select(func.count()).select_from(table)) or 0)

    @staticmethod
    def _hashes(connection, ids: builtins.list[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for start in range(0, len(ids), CHUNK):
            rows = connection.execute(select(table.c.id, table.c.content_hash).where(table.c.id.in_(ids[start : start + CHUNK])))
            found.update((row.id, row.content_hash) for row in rows)
        return found


def _to_project(row) -> Project:
    return Project(**{name: getattr(row, name) for name in PROJECT_FIELDS})


def _sqlite_pragmas(connection, _record) -> None:
    connection.isolation_level = None  # transactions are begun by _sqlite_begin, not by the driver
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    """Writes take the write lock up front (a reader's snapshot cannot be upgraded once another commits)."""
    immediate = connection.get_execution_options().get("planalign_write")
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
