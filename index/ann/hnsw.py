"""Approximate search on a faiss HNSW graph: the default above 50,000 vectors.

Parameters measured by ``make bench`` on static vectors of the 117k Traffy reports: M 48,
efConstruction 200, efSearch 1024 give recall@10 0.98 at p95 3.5 ms (M 32, efC 100, ef 512: 0.937).
A duplicate sweep only needs each row's closest few neighbours, which sit very close: a light graph
(M 16, efC 40, ef 64) finds them as well, several times faster to build.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from planalign.index.ann.base import AnnIndex

# A filter keeping fewer than this share of the corpus is searched exactly over the kept rows:
# graph search under a very selective filter loses recall, and the subset is small anyway.
SELECTIVE_FILTER_SHARE = 0.05
INDEX_FILE = "faiss-hnsw.index"


@dataclass(frozen=True)
class GraphParams:
    neighbours: int = 48
    ef_construction: int = 200
    ef_search: int = 1024


SEARCH_GRAPH = GraphParams()
LIGHT_GRAPH = GraphParams(neighbours=16, ef_construction=40, ef_search=64)


class HnswIndex(AnnIndex):
    backend = "hnsw"

    def __init__(self, vectors: np.ndarray, params: GraphParams = SEARCH_GRAPH, index: faiss.Index | None = None) -> None:
        super().__init__(vectors)
        self.params = params
        if index is None:
            index = faiss.IndexHNSWFlat(self.dim, params.neighbours, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = params.ef_construction
            if self.size:
                index.add(self.vectors)
        self.index = index

    def _exact_for(self, kept: int) -> bool:
        return kept < SELECTIVE_FILTER_SHARE * self.size

    def _built(self, vectors: np.ndarray) -> HnswIndex:
        return HnswIndex(vectors, self.params)

    def _rows_in_structure(self) -> int:
        return int(self.index.ntotal)

    def _add(self, vectors: np.ndarray) -> None:
        self.index.add(vectors)

    def _search(self, queries: np.ndarray, k: int, kept: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        ef = max(self.params.ef_search, k)
        if kept is not None:
            params = faiss.SearchParametersHNSW(sel=faiss.IDSelectorBatch(kept.astype(np.int64)), efSearch=ef)  # type: ignore[attr-defined]
            return self.index.search(queries, min(k, len(kept)), params=params)
        self.index.hnsw.efSearch = ef  # type: ignore[attr-defined]
        return self.index.search(queries, k)

    def save(self, directory: Path) -> None:
        np.save(directory / "vectors.npy", self.vectors)
        faiss.write_index(self.index, str(directory / INDEX_FILE))

    @classmethod
    def load(cls, directory: Path) -> HnswIndex:
        return cls(np.load(directory / "vectors.npy"), index=faiss.read_index(str(directory / INDEX_FILE)))
