"""A static word-embedding encoder distilled from e5: the fast path for bulk work.

In the spirit of model2vec: every Thai word (newmm with our dictionary) gets one vector, the e5
embedding of the word alone; a text is the frequency-weighted sum of its words' vectors (SIF
weights from the Thai National Corpus frequencies that ship with pythainlp: frequent words count
less). Encoding is then tokenization plus a sparse matrix product, tens of times faster than
running e5 on every text.

Two refinements, each measured in eval/README.md (dev set and a Traffy-2022 zero-shot split, not the
test sets):
* e5 embeds queries and passages with different prefixes, so words get one vector per side, made
  the way the teacher makes them ("query: word" for drafts, "passage: word" for catalog texts);
* word vectors are centered and partly whitened (principal axes scaled by eigenvalue^-1/8) in a
  fixed basis fitted on 15,000 frequent Thai words, so a few dominant directions shared by all
  words stop drowning out topic. The basis ships as ``nlp/data/static_basis.npz``;
  ``python -m planalign.nlp.encoders.static`` (``make static-basis``) rebuilds it.

The word table itself is not shipped: each word is embedded by e5 the first time it is seen and
kept in the on-disk embedding cache, so the table grows with the corpora a data directory has seen.
"""
from __future__ import annotations

import argparse
import threading
from collections.abc import Iterator, Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
from scipy import sparse

from planalign.nlp.encoders.base import Encoder, Kind, Progress, unit_rows
from planalign.nlp.normalize import normalize
from planalign.nlp.tokenize import bma_vocabulary, content_tokens, stopwords

SIF_A = 1e-3
WHITEN_POWER = 0.25  # singular values ^ -0.25 = eigenvalues ^ -1/8; 0 keeps the space, 1 whitens fully
BASIS_WORDS = 15_000
BASIS_FILE = "static_basis.npz"
SIDES: tuple[Kind, Kind] = ("query", "passage")


@lru_cache(maxsize=1)
def _word_probabilities() -> dict[str, float]:
    from pythainlp.corpus import tnc

    counts = dict(tnc.word_freqs())
    total = float(sum(counts.values()))
    return {word: count / total for word, count in counts.items()}


def sif_weight(word: str) -> float:
    return SIF_A / (SIF_A + _word_probabilities().get(word, 0.0))


def basis_vocabulary(size: int = BASIS_WORDS) -> list[str]:
    """The most frequent Thai content words of the TNC plus our BMA words: a neutral reference."""
    from pythainlp.corpus import tnc

    stop = stopwords()
    frequent = sorted(tnc.word_freqs(), key=lambda pair: -pair[1])
    words = [w for w, _ in frequent if w.strip() and w not in stop and any("\u0e01" <= ch <= "\u0e4e" for ch in w)]
    return sorted(set(words[:size]) | bma_vocabulary())


def fit_basis(teacher: Encoder, words: Sequence[str], power: float = WHITEN_POWER) -> dict[str, np.ndarray]:
    """Per-side means and one shared projection (principal axes, partly whitened) of word vectors.

    One projection for both sides keeps query and passage vectors comparable; each side has its own
    mean because e5's prefixes shift the two sides apart.
    """
    passages = teacher.encode_passages(list(words))
    queries = teacher.encode_queries(list(words))
    mean = passages.mean(axis=0)
    _, singular, axes = np.linalg.svd(passages - mean, full_matrices=False)
    projection = axes.T * (singular / singular[0]) ** (-power)
    return {"mean_passage": mean, "mean_query": queries.mean(axis=0), "projection": projection}


@lru_cache(maxsize=1)
def shipped_basis() -> dict[str, np.ndarray]:
    with resources.as_file(resources.files("planalign.nlp").joinpath("data", BASIS_FILE)) as path, np.load(path) as stored:
        return {key: stored[key].astype(np.float32) for key in stored.files}


class _WordTable:
    """Word vectors of one side in a growing matrix, so a batch of texts is one sparse product."""

    def __init__(self, dim: int) -> None:
        self.rows: dict[str, int] = {}
        self.weights = np.zeros(1024, dtype=np.float32)  # SIF weight per row, grown with the matrix
        self.matrix = np.zeros((1024, dim), dtype=np.float32)

    def add(self, words: list[str], vectors: np.ndarray) -> None:
        start, needed = len(self.rows), len(self.rows) + len(words)
        if needed > len(self.matrix):
            size = max(needed, 2 * len(self.matrix))
            self.matrix = np.concatenate([self.matrix[:start], np.zeros((size - start, self.matrix.shape[1]), dtype=np.float32)])
            self.weights = np.concatenate([self.weights[:start], np.zeros(size - start, dtype=np.float32)])
        self.matrix[start:needed] = vectors
        self.weights[start:needed] = [sif_weight(word) for word in words]
        self.rows.update((word, start + offset) for offset, word in enumerate(words))


class StaticEncoder(Encoder):
    """SIF-weighted sum of per-word teacher embeddings; ``teacher`` should be a cached encoder."""

    batch_size = 4096
    new_words_per_batch = 512

    def __init__(self, teacher: Encoder, basis: dict[str, np.ndarray] | None = None) -> None:
        self.teacher = teacher
        self.name = "static"  # the name an index records, so `get_encoder` can reopen it
        self.dim = teacher.dim
        self._basis = basis if basis is not None else shipped_basis()
        self._tables = {side: _WordTable(self.dim) for side in SIDES}
        self._lock = threading.Lock()

    def _ensure(self, words: set[str], kind: Kind) -> tuple[dict[str, int], np.ndarray, np.ndarray]:
        """Rows, matrix and weights covering ``words`` (a consistent snapshot).

        New words are embedded by the teacher *outside* the lock: a batch with thousands of unseen
        words (a classification job, a large upsert) costs e5 time only to its own thread, instead of
        stalling every search and draft that needs the table meanwhile. Two threads missing the same
        word may both embed it; the first to add it wins.
        """
        table = self._tables[kind]
        missing = sorted(words - table.rows.keys())
        if missing:
            vectors = self.teacher.encode(missing, kind)
            projected = (vectors - self._basis[f"mean_{kind}"]) @ self._basis["projection"]
            with self._lock:
                fresh = [i for i, word in enumerate(missing) if word not in table.rows]
                if fresh:
                    table.add([missing[i] for i in fresh], projected[fresh])
        with self._lock:  # the matrix is replaced when it grows: take the three together
            return table.rows, table.matrix, table.weights

    def _embed(self, texts: list[str], kind: Kind) -> np.ndarray:  # pragma: no cover - encode is overridden
        return self.encode(texts, kind)

    def encode(self, texts: Sequence[str], kind: Kind = "passage", progress: Progress | None = None) -> np.ndarray:
        return self.encode_tokens([content_tokens(normalize(t)[:5000], normalized=True) for t in texts], kind, progress)

    def _batches(self, tokenized: Sequence[Sequence[str]], kind: Kind) -> Iterator[Sequence[Sequence[str]]]:
        """Runs of texts for one sparse product each: up to :attr:`batch_size` texts, cut early once
        :attr:`new_words_per_batch` words are new to the table, so a cold table (the first run: every
        word goes through e5, ~100 a second on 2 cores) still moves the progress bar every few seconds."""
        known = self._tables[kind].rows
        start, new = 0, set[str]()
        for end, words in enumerate(tokenized, start=1):
            new.update(w for w in words if w not in known)
            if end - start == self.batch_size or len(new) >= self.new_words_per_batch:
                yield tokenized[start:end]
                start, new = end, set()
        if start < len(tokenized):
            yield tokenized[start:]

    def encode_tokens(self, tokenized: Sequence[Sequence[str]], kind: Kind = "passage", progress: Progress | None = None) -> np.ndarray:
        """Embed texts already split by :func:`content_tokens` (the search index has them anyway)."""
        parts = []
        for batch in self._batches(tokenized, kind):
            positions, matrix, row_weights = self._ensure({w for words in batch for w in words}, kind)
            rows = [positions[w] for words in batch for w in words]
            indptr = np.cumsum([0] + [len(words) for words in batch])
            weights = row_weights[rows]
            counts = sparse.csr_matrix((weights, rows, indptr), shape=(len(batch), len(matrix)))
            parts.append(counts @ matrix)
            if progress:
                progress(len(batch))
        if not parts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return unit_rows(np.vstack(parts))


def main(argv: list[str] | None = None) -> int:
    """Rebuild the shipped basis from e5 (about two minutes on 2 cores)."""
    from planalign.nlp.encoders.factory import get_encoder

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "data" / BASIS_FILE)
    args = parser.parse_args(argv)
    words = basis_vocabulary()
    basis = fit_basis(get_encoder("e5"), words)
    np.savez_compressed(args.out, **{key: value.astype(np.float16) for key, value in basis.items()})  # type: ignore[arg-type]
    print(f"wrote {args.out} from {len(words):,} words")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
