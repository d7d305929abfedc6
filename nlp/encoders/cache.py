"""On-disk embedding cache keyed by encoder name, side (query/passage) and text hash.

Re-running a classification or re-indexing mostly re-embeds texts seen before; with e5 at ~15
texts/s that is the dominant cost, so vectors are kept in a SQLite file under the data directory.
SQLite gives atomic writes and safe concurrent readers for free.
"""
from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from planalign.nlp.encoders.base import Encoder, Kind, Progress


class CachedEncoder(Encoder):
    """Wraps an encoder; only texts missing from the cache reach the model."""

    COMMIT_EVERY = 512

    def __init__(self, inner: Encoder, path: Path) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.batch_size = inner.batch_size
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vec BLOB NOT NULL)")
        self._db.commit()

    def _key(self, text: str, kind: Kind) -> str:
        return hashlib.sha1(f"{self.name}\x00{kind}\x00{text}".encode()).hexdigest()

    def _embed(self, texts: list[str], kind: Kind) -> np.ndarray:  # pragma: no cover - encode is overridden
        return self.inner._embed(texts, kind)

    def encode(self, texts: Sequence[str], kind: Kind = "passage", progress: Progress | None = None) -> np.ndarray:
        texts = list(texts)
        keys = [self._key(t, kind) for t in texts]
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for key, blob in self._db.execute(f"SELECT key, vec FROM vectors WHERE key IN ({marks})", chunk):
                found[key] = np.frombuffer(blob, dtype=np.float32)
        if progress and found:
            progress(sum(1 for k in keys if k in found))
        missing = list({k: t for k, t in zip(keys, texts) if k not in found}.items())
        # Stored chunk by chunk: an interrupted run over a large corpus keeps what it embedded.
        for start in range(0, len(missing), self.COMMIT_EVERY):
            chunk = missing[start : start + self.COMMIT_EVERY]
            vectors = self.inner.encode([t for _, t in chunk], kind, progress)
            self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)", [(k, v.astype(np.float32).tobytes()) for (k, _), v in zip(chunk, vectors)])
            self._db.commit()
            found.update((k, v) for (k, _), v in zip(chunk, vectors))
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack([found[k] for k in keys]).astype(np.float32)
