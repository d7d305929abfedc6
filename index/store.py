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
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from alembic.util.exc import CommandError
from sqlalchemy import and_, create_engine, delete, event, func, insert, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import ArgumentError, DatabaseError, IntegrityError, NoSuchModuleError, OperationalError

from planalign.corpora.projects import PROJECT_FIELDS, Project
from planalign.errors import InputError, sqlite_failure
from planalign.index.migrations import upgrade
from planalign.index.schema import alignment_versions, project_alignments
from planalign.index.schema import projects as table

# The alignment_versions row counting project writes and deletes (no catalog id can be "*"): every
# catalog's version includes it, so coverage cached before a write is out of date even for a
# catalog that had no row yet (the service caches an empty store's coverage at warm-up).
STORE_CHANGES = "*"
CHUNK = 500  # ids per IN (...) clause: far below every database's parameter limit
WRITE_ATTEMPTS = 4
log = logging.getLogger("planalign.store")
T = TypeVar("T")


@dataclass
class AlignmentRow:
    """One stored alignment of a project at one catalog level (see ``schema.project_alignments``)."""

    project_id: str
    level: str
    node_id: str
    source: str
    confidence: float | None
    model: str
    content_hash: str


@dataclass
class AlignmentState:
    """What a refresh needs to know of one project: its content and how it was last aligned."""

    source: str
    content_hash: str
    aligned_hash: str  # "" when never aligned under this catalog
    model: str
    name: str = ""  # whether it only names an office decides how it is aligned (index.coverage.align_stored)


@dataclass
class CoverageColumns:
    """The projects' coverage attributes in id order, and their alignments at one level, as columns."""

    ids: list[str]
    fiscal_year: list[int | None]
    district: list[str]
    district_group: list[str]
    budget: list[float | None]
    source: list[str]
    levels: dict[str, tuple[list[str], list[str], list[str], list[float | None]]]  # level -> (project ids, nodes, sources, confidences)


@dataclass
class UpsertResult:
    inserted: list[str]
    updated: list[str]
    unchanged: int

    @property
    def changed(self) -> list[str]:
        return self.inserted + self.updated


def write_transaction(engine: Engine, work: Callable[[Connection], T]) -> T:
    """Run ``work`` in one write transaction, retried from the start when it loses a race.

    Every write of the store goes through here (projects, alignments, decisions, jobs): a write
    begun as a plain read transaction fails at once with "database is locked" on SQLite when another
    writer commits between its first read and its first write (CI run of stop 25: a decision import
    beside the indexer's alignment write), whatever the busy timeout. A retry re-runs ``work`` on a
    fresh transaction, so it reads what the winner committed; ``work`` must keep no state outside it.
    """
    for attempt in range(WRITE_ATTEMPTS):
        try:
            with engine.connect() as connection:
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


_UNAVAILABLE_CLASSES = ("08", "53", "57")  # PostgreSQL's SQLSTATE classes: connection, resources (53100: a full disk), shut down
_NO_SERVER_WORDS = ("could not connect", "connection", "server closed", "terminating", "timeout")  # the rest of what SQLite may say


def store_failure(exc: BaseException) -> str | None:
    """Why the store failed when the machine is at fault: ``full`` (a full disk), ``damaged`` (a file that is no
    database, or a damaged one), ``unavailable`` (a server gone, a lock held past the retries, an I/O error); None
    for a program's error (a missing table, SQL the database refuses, a broken constraint), which stays a bug: the
    CLI advised restoring a backup for a UNIQUE constraint, and the API answered a missing table with a 503 to retry
    (a blind review). SQLite's messages are read by :func:`planalign.errors.sqlite_failure`."""
    orig = getattr(exc, "orig", exc)
    code = str(getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None) or "")
    if code:
        return "full" if code == "53100" else "unavailable" if code[:2] in _UNAVAILABLE_CLASSES else None
    if not isinstance(orig, sqlite3.DatabaseError) or isinstance(orig, (sqlite3.IntegrityError, sqlite3.ProgrammingError)):
        return None
    kind = sqlite_failure(orig)
    if kind is not None:
        return "unavailable" if kind == "locked" else kind
    return "unavailable" if any(word in str(orig).lower() for word in _NO_SERVER_WORDS) else None


def default_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'planalign.db'}"


def shown_url(url: str) -> str:
    """A store URL as messages and logs may show it: everything between the user name and the last "@" hidden,
    whether or not it parses ("postgresql+psycopg//bob:pw@db/plan" was printed whole, and a password holding "/"
    or "@" got past a first mask: two blind reviews)."""
    at = url.rfind("@")
    if at < 0:
        return url
    start = url.find("//") + 2 if "//" in url[:at] else 0
    user, colon, _ = url[start:at].partition(":")
    return url[:start] + user + (":***" if colon else "") + url[at:]


class ProjectStore:
    """Projects by id, with upsert, delete, paging and content hashes."""

    def __init__(self, url: str) -> None:
        self.url = url
        shown = shown_url(url)
        try:
            self.engine: Engine = create_engine(url, future=True)
        # "postgres://...": NoSuchModuleError, said as a bug (an operator's walkthrough); ValueError: a port that is no number
        except (ArgumentError, NoSuchModuleError, ValueError) as exc:
            raise InputError(f"the store URL {shown} is not one planalign opens ({str(exc).replace(url, shown)}); e.g. sqlite:////path/planalign.db or "
                             "postgresql+psycopg://user:password@host/db",
                             thai=f"เปิดฐานข้อมูลตาม URL {shown} ไม่ได้ ตัวอย่างที่ใช้ได้: sqlite:////path/planalign.db หรือ "
                                  "postgresql+psycopg://user:password@host/db") from exc
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "begin", _sqlite_begin)
        try:
            upgrade(self.engine)
        # a read-only or missing directory, a server that does not answer, a file that is no database (a restore gone wrong):
        # "internal error" before; a migration's own error stays a bug
        except DatabaseError as exc:
            if not isinstance(exc, OperationalError) and store_failure(exc) is None:
                raise
            why = str(exc.orig).replace(url, shown)
            raise InputError(f"cannot open the store {shown}: {why}; check that it exists, is writable by this user and answers",
                             thai=f"เปิดฐานข้อมูล {shown} ไม่ได้ ({why}) กรุณาตรวจว่ามีอยู่จริง ผู้ใช้นี้เขียนได้ และเซิร์ฟเวอร์ฐานข้อมูลตอบ") from exc
        except CommandError as exc:  # a revision this version does not know: the store was written by a newer planalign
            raise InputError(f"the store {shown} was written by a newer planalign ({exc}); upgrade planalign, or restore a backup made by this version",
                             thai=f"ฐานข้อมูล {shown} ถูกเขียนโดย planalign รุ่นที่ใหม่กว่า กรุณาอัปเดต planalign "
                                  "หรือกู้คืนข้อมูลสำรองที่ทำด้วยรุ่นนี้") from exc

    def write(self, work: Callable[[Connection], T]) -> T:
        return write_transaction(self.engine, work)

    def close(self) -> None:
        self.engine.dispose()

    def reachable(self) -> bool:
        """Whether the database answers a query now (readiness: a stopped PostgreSQL left /readyz "ready"
        while every request failed with a 500: an operator's walkthrough)."""
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except Exception:  # any failure to reach it: the answer is "no", the log of the failing requests says why
            return False

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
            if inserted or updated:  # coverage read before this change is out of date for every catalog
                self._bump(connection, STORE_CHANGES)
            return UpsertResult(inserted, updated, unchanged)

        return self.write(work)

    def delete(self, ids: Iterable[str]) -> list[str]:
        """Delete by id; returns the ids that existed."""
        ids = list(dict.fromkeys(ids))

        def work(connection: Connection) -> list[str]:
            found = list(self._hashes(connection, ids))
            for start in range(0, len(found), CHUNK):
                chunk = found[start : start + CHUNK]
                connection.execute(delete(table).where(table.c.id.in_(chunk)))
                connection.execute(delete(project_alignments).where(project_alignments.c.project_id.in_(chunk)))
            if found:
                self._bump(connection, STORE_CHANGES)
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

    def orgs(self) -> set[str]:
        """Every stored row's organisation, once each (the offices a budget line may only name)."""
        with self.engine.connect() as connection:
            return {row.org for row in connection.execute(select(table.c.org).distinct()) if row.org}

    def names(self) -> Iterator[tuple[str, str]]:
        """(name, source) of every stored row, streamed (the spellings a search's "did you mean" proposes)."""
        with self.engine.connect() as connection:
            yield from ((row.name, row.source) for row in connection.execution_options(yield_per=5000).execute(select(table.c.name, table.c.source)))

    def sources(self) -> Iterator[tuple[str, str]]:
        """(id, source) of every stored row, streamed (which rows are citizen reports is decided by :func:`is_report`)."""
        with self.engine.connect() as connection:
            yield from ((row.id, row.source) for row in connection.execution_options(yield_per=5000).execute(select(table.c.id, table.c.source)))

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

    # ----------------------------------------------------------------------------- alignments
    def alignment_states(self, catalog: str, level: str, ids: Sequence[str] | None = None) -> dict[str, AlignmentState]:
        """Per stored project (``ids`` or all): its source and hash, and the hash and model it was aligned with."""
        a = project_alignments
        joined = table.outerjoin(a, and_(a.c.project_id == table.c.id, a.c.catalog == catalog, a.c.level == level))
        query = select(table.c.id, table.c.source, table.c.content_hash, a.c.content_hash.label("aligned"), a.c.model, table.c.name).select_from(joined)
        found: dict[str, AlignmentState] = {}
        with self.engine.connect() as connection:
            chunks = [None] if ids is None else [list(ids[i : i + CHUNK]) for i in range(0, len(ids), CHUNK)]
            for chunk in chunks:
                rows = connection.execute(query if chunk is None else query.where(table.c.id.in_(chunk)))
                found.update((r.id, AlignmentState(r.source, r.content_hash, r.aligned or "", r.model or "", r.name)) for r in rows)
        return found

    def write_alignments(self, catalog: str, rows: Sequence[AlignmentRow]) -> None:
        """Replace the alignments of the rows' projects under ``catalog`` (one transaction) and bump its version."""
        ids = list(dict.fromkeys(r.project_id for r in rows))

        def work(connection: Connection) -> None:
            for start in range(0, len(ids), CHUNK):
                connection.execute(delete(project_alignments).where(
                    project_alignments.c.catalog == catalog, project_alignments.c.project_id.in_(ids[start : start + CHUNK])))
            if rows:
                connection.execute(insert(project_alignments), [{"catalog": catalog, **vars(r)} for r in rows])
            self._bump(connection, catalog)

        self.write(work)

    def invalidate_alignments(self, catalog: str, ids: Sequence[str]) -> None:
        """Mark the projects' alignments under ``catalog`` as out of date (they are aligned again on the
        next refresh) and bump its version: a person's decision on them changes their node."""
        def work(connection: Connection) -> None:
            changed = 0
            for start in range(0, len(ids), CHUNK):
                changed += connection.execute(update(project_alignments).where(
                    project_alignments.c.catalog == catalog, project_alignments.c.project_id.in_(list(ids[start : start + CHUNK]))).values(content_hash="")).rowcount
            if changed:  # a project never aligned is stale already
                self._bump(connection, catalog)

        self.write(work)

    def alignment_version(self, catalog: str) -> int:
        with self.engine.connect() as connection:
            versions = select(func.sum(alignment_versions.c.version)).where(alignment_versions.c.catalog.in_([catalog, STORE_CHANGES]))
            return int(connection.scalar(versions) or 0)

    def coverage_columns(self, catalog: str) -> CoverageColumns:
        """Every project's year, place, budget and source, and its alignments under ``catalog`` per level."""
        c = table.c
        a = project_alignments.c
        with self.engine.connect() as connection:
            rows = connection.execute(select(c.id, c.fiscal_year, c.district, c.district_group, c.budget, c.source).order_by(c.id)).all()
            aligned = connection.execute(select(a.level, a.project_id, a.node_id, a.source, a.confidence).where(a.catalog == catalog)).all()
        ids, years, districts, groups, budgets, sources = (list(column) for column in zip(*rows)) if rows else ([], [], [], [], [], [])
        columns = CoverageColumns(ids, years, districts, groups, budgets, sources, {})
        for level, project_id, node_id, source, confidence in aligned:
            ids, nodes, sources, confidences = columns.levels.setdefault(level, ([], [], [], []))
            ids.append(project_id)
            nodes.append(node_id)
            sources.append(source)
            confidences.append(confidence)
        return columns

    @staticmethod
    def _bump(connection: Connection, catalog: str) -> None:
        if connection.execute(update(alignment_versions).where(alignment_versions.c.catalog == catalog)
                              .values(version=alignment_versions.c.version + 1)).rowcount == 0:
            connection.execute(insert(alignment_versions).values(catalog=catalog, version=1))

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
