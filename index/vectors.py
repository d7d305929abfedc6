"""Dense vector search behind a small interface, with faiss backends chosen by a factory.

``flat`` is exact inner-product search; ``hnsw`` is approximate (a graph index, much faster on a
large corpus, recall measured by ``make bench``); ``auto`` picks exact below a size threshold.
Positions (0..n-1) are the ids here; the caller maps them to project ids.
"""
from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

BACKENDS = ("auto", "flat", "hnsw")
DEFAULT_EXACT_LIMIT = 50_000
HNSW_NEIGHBOURS = 48
HNSW_EF_CONSTRUCTION = 200
HNSW_EF_SEARCH = 1024  # static vectors, 117k Traffy reports: recall@10 0.984, p95 3.1 ms (M 32, efC 100, ef 512: 0.937)
# A filter keeping fewer than this share of the corpus is searched exactly over the kept rows:
# graph search under a very selective filter loses recall, and the subset is small anyway.
SELECTIVE_FILTER_SHARE = 0.05


class VectorIndex:
    """Inner-product search over unit vectors (so scores are cosines)."""

    def __init__(self, vectors: np.ndarray, backend: str = "auto", exact_limit: int = DEFAULT_EXACT_LIMIT, index: faiss.Index | None = None) -> None:
        if backend not in BACKENDS:
            raise ValueError(f"unknown vector backend {backend!r}; choose one of {', '.join(BACKENDS)}")
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.backend = backend if backend != "auto" else ("hnsw" if len(vectors) > exact_limit else "flat")
        self.index = index if index is not None else self._build()

    def _build(self) -> faiss.Index:
        dim = self.vectors.shape[1] if self.vectors.ndim == 2 and self.vectors.shape[1] else 1
        if self.backend == "hnsw":
            index = faiss.IndexHNSWFlat(dim, HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        else:
            index = faiss.IndexFlatIP(dim)
        if len(self.vectors):
            index.add(self.vectors)
        return index

    def __len__(self) -> int:
        return len(self.vectors)

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` (positions, scores) for one query; ``allowed`` is a boolean mask or None."""
        if not len(self.vectors) or k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        query = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        if allowed is not None:
            kept = np.flatnonzero(allowed)
            if len(kept) == 0:
                return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
            if self.backend == "flat" or len(kept) < SELECTIVE_FILTER_SHARE * len(self.vectors):
                return exact_top_k(self.vectors[kept], query[0], k, kept)
            params = faiss.SearchParametersHNSW(sel=faiss.IDSelectorBatch(kept.astype(np.int64)), efSearch=max(HNSW_EF_SEARCH, k))
            scores, positions = self.index.search(query, min(k, len(kept)), params=params)
        else:
            if self.backend == "hnsw":
                self.index.hnsw.efSearch = max(HNSW_EF_SEARCH, k)
            scores, positions = self.index.search(query, min(k, len(self.vectors)))
        found = positions[0] >= 0
        return positions[0][found], scores[0][found]

    def neighbours(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """k nearest stored vectors of every stored vector, in one batch."""
        if self.backend == "hnsw":
            self.index.hnsw.efSearch = max(HNSW_EF_SEARCH, k)
        scores, positions = self.index.search(self.vectors, min(k, len(self.vectors)))
        return positions, scores

    def save(self, directory: Path) -> None:
        np.save(directory / "vectors.npy", self.vectors)
        faiss.write_index(self.index, str(directory / f"faiss-{self.backend}.index"))

    @classmethod
    def load(cls, directory: Path, backend: str) -> "VectorIndex":
        vectors = np.load(directory / "vectors.npy")
        index = faiss.read_index(str(directory / f"faiss-{backend}.index"))
        return cls(vectors, backend, index=index)


def exact_top_k(vectors: np.ndarray, query: np.ndarray, k: int, positions: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Brute-force top k by inner product: the reference the approximate index is measured against."""
    scores = vectors @ query
    k = min(k, len(scores))
    top = np.argpartition(-scores, k - 1)[:k]
    top = top[np.argsort(-scores[top])]
    return (positions[top] if positions is not None else top).astype(np.int64), scores[top]
