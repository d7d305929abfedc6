"""Hashed character n-gram vectors: no model, deterministic, instant.

Used by unit tests (no model load) and as the lexical signal beside a semantic encoder. Character
n-grams need no word segmentation, which suits Thai; hashing keeps the space fixed without fitting.
"""
from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import HashingVectorizer

from planalign.nlp.encoders.base import Encoder, Kind


class TfidfEncoder(Encoder):
    name = "tfidf"
    one_sided = True
    batch_size = 512

    def __init__(self, n_features: int = 4096) -> None:
        self.dim = n_features
        self._vectorizer = HashingVectorizer(
            analyzer="char_wb", ngram_range=(2, 4), n_features=n_features, alternate_sign=False, norm=None
        )

    def _embed(self, texts: list[str], kind: Kind) -> np.ndarray:
        counts = self._vectorizer.transform(texts)
        counts.data = np.log1p(counts.data)  # sublinear term frequency
        return counts.toarray()
