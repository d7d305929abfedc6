"""The encoder interface.

Retrieval models embed a search query and a stored document differently (e5 prefixes them with
"query: " / "passage: "), so the interface has both sides. Every encoder returns float32 rows with
unit L2 norm, so a dot product is a cosine everywhere downstream.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Literal, Protocol, runtime_checkable

import numpy as np

from planalign.errors import InputError

Kind = Literal["query", "passage"]
Progress = Callable[[int], None]
"""Called with the number of texts just encoded, so callers can drive a progress bar."""


# Characters of a text that are embedded: e5 reads 512 tokens, which Thai fills in well under 2,000
# characters; the rest would only cost time. Drafts, stored projects, queries and duplicate checks
# clip at this one length, so a text and its stored copy are embedded alike.
EMBED_CHARS = 2000


class EncoderError(InputError):
    """An encoder cannot be built (unknown name, missing package, missing local model)."""


class Encoder(ABC):
    """Turns texts into unit-length vectors."""

    name: str
    dim: int
    batch_size: int = 32
    # Embeds a query and a passage alike (no e5-style prefixes): a stored project's query view is then its
    # passage vector, not a second pass of the model.
    one_sided: bool = False

    @abstractmethod
    def _embed(self, texts: list[str], kind: Kind) -> np.ndarray:
        """Embed one batch; rows need not be normalized yet."""

    def encode(self, texts: Sequence[str], kind: Kind = "passage", progress: Progress | None = None) -> np.ndarray:
        """Embed ``texts`` in batches; returns an (n, dim) float32 array of unit rows."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        parts = []
        for start in range(0, len(texts), self.batch_size):
            batch = texts[start : start + self.batch_size]
            parts.append(np.asarray(self._embed(batch, kind), dtype=np.float32).reshape(len(batch), -1))
            if progress:
                progress(len(batch))
        return unit_rows(np.vstack(parts))

    def encode_queries(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        return self.encode(texts, "query", progress)

    def encode_passages(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        return self.encode(texts, "passage", progress)


@runtime_checkable
class TokenEncoder(Protocol):
    """An encoder that can embed texts already split into content words.

    The search index splits every text anyway (for BM25); an encoder built on words (``static``)
    then embeds those words instead of splitting the text a second time.
    """

    def encode_tokens(self, tokenized: Sequence[Sequence[str]], kind: Kind = "passage", progress: Progress | None = None) -> np.ndarray:
        ...


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    """Scale rows to unit L2 norm (zero rows stay zero)."""
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return matrix / norms
