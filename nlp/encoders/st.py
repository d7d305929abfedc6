"""Any sentence-transformers model from a local directory (optional extra ``planalign[st]``).

Only local directories are accepted: the service runs without internet, so a hub name would fail
later in a confusing way. Install torch from the CPU build first.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from planalign.nlp.encoders.base import Encoder, EncoderError, Kind


class SentenceTransformerEncoder(Encoder):
    batch_size = 32
    one_sided = True  # a query and a passage alike: no prefixes (a model that needs them is not read as e5 is)

    def __init__(self, model_dir: str) -> None:
        path = Path(model_dir).expanduser()
        if not path.is_dir():
            raise EncoderError(f"encoder 'st:{model_dir}': no such local model directory")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise EncoderError("encoder 'st:' needs the optional extra: pip install 'planalign[st]'") from exc
        self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        self.name = f"st:{path.resolve()}"
        self.dim = int(self._model.get_sentence_embedding_dimension())

    def _embed(self, texts: list[str], kind: Kind) -> np.ndarray:
        return self._model.encode(texts, batch_size=self.batch_size, show_progress_bar=False)
