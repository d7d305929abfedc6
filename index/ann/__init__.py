"""Approximate-nearest-neighbour backends behind one interface and a factory (as txtai's ann/).

``flat`` (exact inner product) and ``hnsw`` (a faiss graph) live in their own modules; a new backend
is one more module implementing :class:`~planalign.index.ann.base.AnnIndex` and one line in
:mod:`~planalign.index.ann.factory`.
"""
from planalign.index.ann.base import AnnIndex
from planalign.index.ann.factory import BACKENDS, DEFAULT_EXACT_LIMIT, load_ann, make_ann

__all__ = ["BACKENDS", "DEFAULT_EXACT_LIMIT", "AnnIndex", "load_ann", "make_ann"]
