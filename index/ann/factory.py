"""Choose and build a vector backend by name: ``auto`` is exact below a size threshold."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from planalign.errors import InputError
from planalign.index.ann.base import AnnIndex
from planalign.index.ann.flat import FlatIndex
from planalign.index.ann.hnsw import LIGHT_GRAPH, HnswIndex

# A new backend is one entry here: its class builds (``cls(vectors)``) and loads (``cls.load(directory)``).
REGISTRY: dict[str, type[AnnIndex]] = {"flat": FlatIndex, "hnsw": HnswIndex}
BACKENDS = ("auto", *REGISTRY)
# Exact search over 50k x 384 floats stays under ~10 ms; above it the graph is several times faster.
DEFAULT_EXACT_LIMIT = 50_000


def choose_backend(backend: str, size: int, exact_limit: int = DEFAULT_EXACT_LIMIT) -> str:
    if backend not in BACKENDS:
        raise InputError(f"unknown vector backend {backend!r}; choose one of {', '.join(BACKENDS)}",
                         thai=f"ไม่มีดัชนีเวกเตอร์แบบ {backend} (มี: {', '.join(BACKENDS)})")
    return backend if backend != "auto" else ("hnsw" if size > exact_limit else "flat")


def make_ann(vectors: np.ndarray, backend: str = "auto", *, light: bool = False) -> AnnIndex:
    """An index over ``vectors``; ``light`` builds a fast, lower-recall graph (for duplicate sweeps)."""
    name = choose_backend(backend, len(vectors))
    return HnswIndex(vectors, LIGHT_GRAPH) if light and name == "hnsw" else REGISTRY[name](vectors)


def load_ann(directory: Path, backend: str) -> AnnIndex:
    return REGISTRY[backend].load(directory)
