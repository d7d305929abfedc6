"""The interface every vector backend implements.

Positions (0..n-1, in insertion order) are the ids here; callers map them to project ids. Vectors
are unit rows, so inner products are cosines. The raw vectors stay available (``vectors``) because
exact search over a filtered subset, corpus centroids and duplicate sweeps all need them.

An index is a *version*: :meth:`AnnIndex.appended` returns a new version with more rows and leaves
the old one intact for readers still holding it. Versions share the backend's structure (a faiss
index, appended to in place under a lock) and a row buffer that grows by doubling, so adding one
vector to 117k costs milliseconds, not a copy of the matrix; an old version simply ignores the
positions beyond its own size. A version appended to a second time builds a structure of its own.
"""
from __future__ import annotations

import copy
import threading
from abc import ABC, abstractmethod
from pathlib import Path

import numpy as np

EMPTY = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))


class AnnIndex(ABC):
    """Inner-product search over unit vectors."""

    backend: str

    def __init__(self, vectors: np.ndarray) -> None:
        self._buffer = np.ascontiguousarray(vectors, dtype=np.float32)
        self.size = len(self._buffer)
        self._lock = threading.Lock()  # faiss structures are not safe for a concurrent add and search

    @property
    def vectors(self) -> np.ndarray:
        return self._buffer[: self.size]

    def __len__(self) -> int:
        return self.size

    @property
    def dim(self) -> int:
        return int(self._buffer.shape[1]) if self._buffer.ndim == 2 and self._buffer.shape[1] else 1

    def appended(self, vectors: np.ndarray) -> AnnIndex:
        """A new version with ``vectors`` added at the next positions; this version is unchanged.

        Appending twice to one version (a write that failed after its append, a load retried) would
        put the second rows at positions the shared structure already gives the first: its hits were
        mapped to other projects (a review). That version gets a structure of its own instead, built
        outside the lock (HNSW over 117k rows takes minutes; readers of the others go on)."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        with self._lock:
            if self._rows_in_structure() == self.size:
                new = copy.copy(self)
                needed = self.size + len(vectors)
                if needed > len(self._buffer):
                    grown = np.empty((max(needed, 2 * len(self._buffer), 16), self.dim), dtype=np.float32)
                    grown[: self.size] = self.vectors
                    new._buffer = grown
                new._buffer[self.size : needed] = vectors
                new.size = needed
                self._add(vectors)
                return new
        return self._built(np.concatenate([self.vectors, vectors]))

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` (positions, scores) for one query; ``allowed`` is a boolean mask or None."""
        if not self.size or k <= 0:
            return EMPTY
        query = np.ascontiguousarray(query.reshape(-1), dtype=np.float32)
        if allowed is not None:
            kept = np.flatnonzero(allowed[: self.size])
            if not len(kept):
                return EMPTY
            if self._exact_for(len(kept)):
                return exact_top_k(self.vectors[kept], query, k, kept)
        else:
            kept = None
        extra = self._rows_in_structure() - self.size  # rows newer versions added
        with self._lock:
            scores, positions = self._search(query[None, :], min(k + extra, self._rows_in_structure()), kept)
        found = (positions[0] >= 0) & (positions[0] < self.size)
        return positions[0][found][:k], scores[0][found][:k]

    def neighbours(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest stored vectors of every stored vector, in one batch (itself included)."""
        with self._lock:
            scores, positions = self._search(self.vectors, min(k, self.size), None)
        return positions, scores

    def _exact_for(self, kept: int) -> bool:
        """Whether a filtered search over ``kept`` rows is done exactly instead of by the backend."""
        return True

    @abstractmethod
    def _built(self, vectors: np.ndarray) -> AnnIndex:
        """A new index of this kind and parameters over ``vectors``, sharing nothing with this one."""

    @abstractmethod
    def _rows_in_structure(self) -> int:
        """Rows in the shared backend structure (>= this version's size)."""

    @abstractmethod
    def _add(self, vectors: np.ndarray) -> None:
        """Add rows to the backend structure (called under the lock)."""

    @abstractmethod
    def _search(self, queries: np.ndarray, k: int, kept: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """(scores, positions) of the backend for a batch of queries (called under the lock)."""

    @abstractmethod
    def save(self, directory: Path) -> None:
        """Write the backend's files into ``directory``."""

    @classmethod
    @abstractmethod
    def load(cls, directory: Path) -> AnnIndex:
        """The index :meth:`save` wrote into ``directory``."""


def exact_top_k(vectors: np.ndarray, query: np.ndarray, k: int, positions: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Brute-force top k by inner product: the reference the approximate index is measured against."""
    scores = vectors @ query
    k = min(k, len(scores))
    if k <= 0:
        return EMPTY
    top = np.argpartition(-scores, k - 1)[:k]
    top = top[np.argsort(-scores[top])]
    return (positions[top] if positions is not None else top).astype(np.int64), scores[top]
