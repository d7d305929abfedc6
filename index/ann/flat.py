"""Exact inner-product search (faiss ``IndexFlatIP``): the default below 50,000 vectors."""
from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

from planalign.index.ann.base import AnnIndex


class FlatIndex(AnnIndex):
    backend = "flat"

    def __init__(self, vectors: np.ndarray) -> None:
        super().__init__(vectors)
        self.index = faiss.IndexFlatIP(self.dim)
        if self.size:
            self.index.add(self.vectors)

    def _built(self, vectors: np.ndarray) -> FlatIndex:
        return FlatIndex(vectors)

    def _rows_in_structure(self) -> int:
        return int(self.index.ntotal)

    def _add(self, vectors: np.ndarray) -> None:
        self.index.add(vectors)

    def _search(self, queries: np.ndarray, k: int, kept: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        return self.index.search(queries, k)

    def save(self, directory: Path) -> None:
        np.save(directory / "vectors.npy", self.vectors)

    @classmethod
    def load(cls, directory: Path) -> FlatIndex:
        return cls(np.load(directory / "vectors.npy"))
