"""On-disk embedding cache keyed by encoder name, side (query/passage) and text hash.

Re-running a classification or re-indexing mostly re-embeds texts seen before; with e5 at ~15
texts/s that is the dominant cost, so vectors are kept in a SQLite file under the data directory.

Many threads (the service's request threads, the job worker) and processes (a CLI ingest beside
the service) share one file, so every thread has its own connection (sqlite3 connections must not
be shared across threads: that gave "database is locked" and "cannot start a transaction within a
transaction" under load), the file is in WAL mode (readers never wait for the writer), a writer
waits up to 30 s for another, and vectors are computed before the short write transaction, never
inside it.
"""
from __future__ import annotations

import contextlib
import hashlib
import logging
import sqlite3
import threading
import time
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path

import numpy as np

from planalign.errors import sqlite_failure
from planalign.nlp.encoders.base import Encoder, Kind, Progress

BUSY_TIMEOUT_S = 30.0
WRITE_ATTEMPTS = 5
log = logging.getLogger("planalign.cache")


def _create(db: sqlite3.Connection) -> None:
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vec BLOB NOT NULL)")


def _locked(exc: sqlite3.DatabaseError) -> bool:
    """Another writer holds the file: waited for, retried, never a reason to give the cache up."""
    return sqlite_failure(exc) == "locked"


def _damaged(exc: sqlite3.DatabaseError) -> bool:
    """The file is no database or a damaged one: moved aside. A full disk or an I/O error is not (a healthy cache was
    moved aside for a full disk: a blind review)."""
    return sqlite_failure(exc) == "damaged"


def _failing(exc: sqlite3.DatabaseError) -> bool:
    """The file or the machine failed (damage, a full disk, an I/O error), not this program: a programming error is
    raised, not taken for a failing cache."""
    return sqlite_failure(exc) in ("full", "damaged", "unavailable")


def cache_rows(path: Path) -> tuple[list[str], np.ndarray]:
    """Every (key, vector) of a cache file: what :func:`preload` puts back (shipped precomputed vectors)."""
    with closing(sqlite3.connect(path)) as db:
        rows = db.execute("SELECT key, vec FROM vectors ORDER BY key").fetchall()
    return [k for k, _ in rows], np.vstack([np.frombuffer(v, dtype=np.float32) for _, v in rows]) if rows else np.zeros((0, 0), np.float32)


def preload(path: Path, keys: Sequence[str], vectors: np.ndarray) -> int:
    """Put precomputed vectors into a cache file (created if needed) without loading any model, so
    the texts they were computed for never reach it; vectors already cached are kept. Returns how
    many were new."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(path, timeout=BUSY_TIMEOUT_S)) as db, db:
        _create(db)
        before = db.total_changes
        db.executemany("INSERT OR IGNORE INTO vectors VALUES (?, ?)", [(k, v.astype(np.float32).tobytes()) for k, v in zip(keys, vectors)])
        return db.total_changes - before


class CachedEncoder(Encoder):
    """Wraps an encoder; only texts missing from the cache reach the model."""

    COMMIT_EVERY = 512

    def __init__(self, inner: Encoder, path: Path) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.batch_size = inner.batch_size
        self.one_sided = inner.one_sided
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._failed_until = 0.0  # the file failed: vectors are computed without it until then (see _give_up)
        try:
            with self._connection() as db:
                _create(db)
        except sqlite3.DatabaseError as exc:
            if _locked(exc) or not _failing(exc):
                raise
            if _damaged(exc):  # not a database, or damaged (a restore cut short): it only saved time
                self._set_aside(exc)
                try:
                    with self._connection() as db:
                        _create(db)
                    return
                except sqlite3.DatabaseError as again:
                    exc = again
            self._give_up(exc)  # a full disk, an I/O error: the file is left as it is (it was moved aside as damaged)

    def _set_aside(self, exc: sqlite3.DatabaseError) -> None:
        """Move a damaged cache file aside (kept, for a look, its -wal with it) and start an empty one: the README says
        the cache only saves time, yet a truncated one stopped every command and kept the service from ever being
        ready (an operator's year)."""
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
        self._local.db = None
        aside = self.path.with_name(f"{self.path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}-{time.time_ns() % 1_000_000_000}")
        log.warning("embedding cache %s cannot be read (%s): moved to %s; an empty cache starts (vectors are computed again)",
                    self.path, exc, aside.name)
        self.path.replace(aside)
        for suffix in ("-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                Path(f"{self.path}{suffix}").replace(Path(f"{aside}{suffix}"))

    RETRY_AFTER_S = 300.0  # a cache that failed is tried again after this: a full disk may be freed (it was off until a restart)

    def _give_up(self, exc: sqlite3.DatabaseError) -> None:
        """The file failed (damage found by a read, a full disk, an I/O error): the vectors are computed without it for
        a while, then it is tried again."""
        if time.monotonic() >= self._failed_until:
            log.warning("embedding cache %s failed (%s): vectors are computed without it for %d s", self.path, exc, self.RETRY_AFTER_S)
        self._failed_until = time.monotonic() + self.RETRY_AFTER_S

    @property
    def _failed(self) -> bool:
        return time.monotonic() < self._failed_until

    def _connection(self) -> sqlite3.Connection:
        """This thread's connection (opened on first use)."""
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S)
            db.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
            self._local.db = db
        return db

    def _key(self, text: str, kind: Kind) -> str:
        return hashlib.sha1(f"{self.name}\x00{kind}\x00{text}".encode()).hexdigest()

    def _embed(self, texts: list[str], kind: Kind) -> np.ndarray:  # pragma: no cover - encode is overridden
        return self.inner._embed(texts, kind)

    def _lookup(self, keys: list[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        if self._failed:
            return found
        db = self._connection()
        try:
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                marks = ",".join("?" * len(chunk))
                for key, blob in db.execute(f"SELECT key, vec FROM vectors WHERE key IN ({marks})", chunk):
                    found[key] = np.frombuffer(blob, dtype=np.float32)
        except sqlite3.DatabaseError as exc:
            if _locked(exc) or not _failing(exc):
                raise
            self._give_up(exc)
            return {}
        return found

    def _store(self, rows: list[tuple[str, bytes]]) -> None:
        """One short transaction; a writer locked out for longer than the busy timeout retries."""
        if self._failed:
            return
        db = self._connection()
        for attempt in range(WRITE_ATTEMPTS):
            try:
                with db:  # commits, or rolls back on error
                    db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)", rows)
                return
            except sqlite3.DatabaseError as exc:
                if not _locked(exc) and _failing(exc):  # damaged, or the disk full: the vectors are answered all the same
                    self._give_up(exc)
                    return
                if attempt == WRITE_ATTEMPTS - 1 or not _locked(exc):
                    raise
                time.sleep(0.1 * (attempt + 1))

    def encode(self, texts: Sequence[str], kind: Kind = "passage", progress: Progress | None = None) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        keys = [self._key(t, kind) for t in texts]
        found = self._lookup(keys)
        if progress and found:
            progress(sum(1 for k in keys if k in found))
        missing = list({k: t for k, t in zip(keys, texts) if k not in found}.items())
        # Stored chunk by chunk: an interrupted run over a large corpus keeps what it embedded.
        for start in range(0, len(missing), self.COMMIT_EVERY):
            chunk = missing[start : start + self.COMMIT_EVERY]
            vectors = self.inner.encode([t for _, t in chunk], kind, progress)
            self._store([(k, v.astype(np.float32).tobytes()) for (k, _), v in zip(chunk, vectors)])
            found.update((k, v) for (k, _), v in zip(chunk, vectors))
        return np.vstack([found[k] for k in keys]).astype(np.float32)
