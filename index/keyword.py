"""Keyword search: BM25 over Thai words from our tokenizer, with cheap appends.

Thai has no spaces between words, so the tokens come from newmm with the BMA dictionary
(:func:`planalign.nlp.tokenize.content_tokens`); stopwords are dropped and abbreviations expanded,
so "กทม." finds "กรุงเทพมหานคร".

The scoring is Lucene's BM25 (k1 1.5, b 0.75, idf ln(1 + (N - df + 0.5) / (df + 0.5))), the same
ranking bm25s gave before, kept as a term x document sparse matrix of precomputed weights. A query
sums the rows of its words (a repeated word counts twice, as in bm25s). Documents added after the
build are weighted with the build's statistics (N, document frequencies, mean length) in a second,
small matrix, so adding one project at 117k costs milliseconds instead of a rebuild; the index
generation is compacted (statistics recomputed) off the request path.
"""
from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import numpy as np
from scipy import sparse

from planalign.index.ann.base import EMPTY
from planalign.nlp.tokenize import holds_word

K1 = 1.5
B = 0.75
EMPTY_DOCUMENT = "\u0000"  # an empty document still needs a row, so positions stay aligned with the store
MATRIX_FILE = "bm25.npz"
MIN_COMPOUND_WORD = 3  # characters a query word needs to be looked for inside compounds
MAX_COMPOUNDS = 100  # compounds a query word is looked for in, those in most documents first
COMPOUND_CACHE = 10_000  # query words whose compounds an index version remembers
TOKENS_FILE = "tokens.jsonl"


class KeywordIndex:
    def __init__(self, tokens: list[list[str]], built: tuple[dict[str, int], np.ndarray, float, sparse.csr_matrix] | None = None) -> None:
        self.tokens = tokens
        self.base_size = len(tokens)
        if built is None:
            built = _build(tokens)
        self.vocabulary, self.idf, self.mean_length, self._base = built
        self._delta_vocabulary: dict[str, int] = {}  # words first seen in appended documents
        self._delta = sparse.csr_matrix((0, 0), dtype=np.float32)
        self._compounds: dict[str, list[str]] = {}  # a query word -> the indexed words holding it (compounds_of)
        self._words_text: tuple[str, np.ndarray, list[str]] | None = None

    @property
    def size(self) -> int:
        return len(self.tokens)

    def appended(self, tokens: list[list[str]]) -> KeywordIndex:
        """A new version with documents appended, weighted with the statistics of the build.

        This version is left as it is for readers holding it; the appended part is re-weighted as a
        whole (it stays small: the index is compacted before it grows large).
        """
        new = copy.copy(self)
        new.tokens = self.tokens + tokens
        new._delta_vocabulary = dict(self._delta_vocabulary)
        new._compounds, new._words_text = {}, None  # the vocabulary grows
        rows, cols, weights = [], [], []
        unknown_idf = _idf(1, self.base_size)
        for column, words in enumerate(new.tokens[self.base_size :]):
            words = words or [EMPTY_DOCUMENT]
            norm = K1 * ((1 - B) + B * len(words) / self.mean_length)
            for word, count in zip(*np.unique(words, return_counts=True)):
                if word in self.vocabulary:
                    row, idf = self.vocabulary[word], self.idf[self.vocabulary[word]]
                else:
                    row = len(self.vocabulary) + new._delta_vocabulary.setdefault(word, len(new._delta_vocabulary))
                    idf = unknown_idf
                rows.append(row)
                cols.append(column)
                weights.append(idf * count / (norm + count))
        shape = (len(self.vocabulary) + len(new._delta_vocabulary), new.size - self.base_size)
        new._delta = sparse.csr_matrix((np.asarray(weights, dtype=np.float32), (rows, cols)), shape=shape)
        return new

    def __contains__(self, word: object) -> bool:
        """Whether some indexed document has ``word``."""
        return word in self.vocabulary or word in self._delta_vocabulary

    def _rows(self, words: list[str]) -> list[int]:
        known = len(self.vocabulary)
        return [self.vocabulary[w] if w in self.vocabulary else known + self._delta_vocabulary[w]
                for w in words if w in self.vocabulary or w in self._delta_vocabulary]

    def compounds_of(self, word: str) -> list[str]:
        """The indexed words that hold ``word`` whole among their dictionary words (:func:`holds_word`):
        "เขตปลอดบุหรี่" for "บุหรี่"; the :data:`MAX_COMPOUNDS` found in most documents. A word of fewer
        than :data:`MIN_COMPOUND_WORD` characters has none: "ไฟ" sat inside 221 compounds of Traffy
        reports, "รถไฟฟ้า" among them, and one-letter queries made a request cost seconds and a gigabyte
        (a blind review). One scan of the vocabulary joined in a string, remembered per word for this
        version of the index (at most :data:`COMPOUND_CACHE` words)."""
        if len(word) < MIN_COMPOUND_WORD or word.isdigit():
            return []
        if word in self._compounds:
            return self._compounds[word]
        if self._words_text is None:
            words = list(self.vocabulary) + list(self._delta_vocabulary)
            starts = np.cumsum([0] + [len(w) + 1 for w in words[:-1]]) if words else np.zeros(0, dtype=np.int64)
            self._words_text = ("\n".join(words), starts, words)
        text, starts, words = self._words_text
        found: list[str] = []
        position = text.find(word)
        while position >= 0:
            candidate = words[int(np.searchsorted(starts, position, side="right")) - 1]
            if candidate != word and holds_word(candidate, word):
                found.append(candidate)
            position = text.find(word, position + 1)
        found = sorted(dict.fromkeys(found), key=lambda w: -self._document_frequency(self._rows([w])[0]))[:MAX_COMPOUNDS]
        if len(self._compounds) >= COMPOUND_CACHE:
            self._compounds.clear()
        self._compounds[word] = found
        return found

    def scores(self, query_tokens: list[str], *, in_compounds: bool = True) -> np.ndarray:
        """BM25 score of every document (0 where no query word occurs). A query word also scores in the
        documents of the compounds that hold it (:meth:`compounds_of`; ``in_compounds``) as one term
        with them: their documents' frequency, each document's best form (the most, not the sum: a
        document with "คลองลาดพร้าว" carries its head "คลอง" too). Sparse throughout: one dense vector a
        query word."""
        scores = np.zeros(self.size, dtype=np.float32)
        for token in query_tokens:
            rows = self._rows([token, *self.compounds_of(token)] if in_compounds else [token])
            if len(rows) == 1:
                scores += self._most(rows)
            elif rows:
                saturation = self._most(rows, per_idf=True)
                scores += np.float32(_idf(int(np.count_nonzero(saturation)), self.size)) * saturation
        return scores

    def _most(self, rows: list[int], per_idf: bool = False) -> np.ndarray:
        """Per document, the largest weight among ``rows`` (divided by each row's idf: its term-frequency part)."""
        out = np.zeros(self.size, dtype=np.float32)
        scale = np.array([1.0 / self._row_idf(r) if per_idf else 1.0 for r in rows], dtype=np.float32)
        in_base = [i for i, r in enumerate(rows) if r < self._base.shape[0]]
        if in_base and self.base_size:
            part = sparse.diags(scale[in_base]) @ self._base[[rows[i] for i in in_base]]
            out[: self.base_size] = part.max(axis=0).toarray().ravel()
        if self._delta.shape[1]:
            part = sparse.diags(scale) @ self._delta[rows]
            out[self.base_size :] = part.max(axis=0).toarray().ravel()
        return out

    def _document_frequency(self, row: int) -> int:
        base = int(self._base.indptr[row + 1] - self._base.indptr[row]) if row < self._base.shape[0] else 0
        return base + (int(self._delta[row].nnz) if self._delta.shape[1] else 0)

    def _row_idf(self, row: int) -> float:
        return float(self.idf[row]) if row < len(self.vocabulary) else _idf(1, self.base_size)

    def search(self, query_tokens: list[str], k: int, allowed: np.ndarray | None = None, *, in_compounds: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` (positions, scores) with a positive score."""
        if not self.size or not query_tokens or k <= 0:
            return EMPTY
        scores = self.scores(query_tokens, in_compounds=in_compounds)
        if allowed is not None:
            scores = np.where(allowed, scores, 0.0)
        k = min(k, self.size)
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        top = top[scores[top] > 0]
        return top.astype(np.int64), scores[top].astype(np.float32)

    def save(self, directory: Path) -> None:
        """Tokens and the build's weights (documents appended after the build are re-weighted on load)."""
        with (directory / TOKENS_FILE).open("w", encoding="utf-8") as handle:
            for tokens in self.tokens:
                handle.write(json.dumps(tokens, ensure_ascii=False) + "\n")
        words = sorted(self.vocabulary, key=self.vocabulary.__getitem__)
        np.savez(directory / MATRIX_FILE, data=self._base.data, indices=self._base.indices, indptr=self._base.indptr,
                 shape=np.array(self._base.shape), idf=self.idf, mean_length=np.array([self.mean_length]),
                 base_size=np.array([self.base_size]), words=np.array(json.dumps(words, ensure_ascii=False)))

    @classmethod
    def load(cls, directory: Path) -> KeywordIndex:
        with (directory / TOKENS_FILE).open(encoding="utf-8") as handle:
            tokens = [json.loads(line) for line in handle]
        if not (directory / MATRIX_FILE).is_file():  # a generation written before weights were saved
            return cls(tokens)
        with np.load(directory / MATRIX_FILE) as stored:
            base_size = int(stored["base_size"][0])
            words = json.loads(str(stored["words"]))
            matrix = sparse.csr_matrix((stored["data"], stored["indices"], stored["indptr"]), shape=tuple(stored["shape"]))
            built = ({w: i for i, w in enumerate(words)}, stored["idf"], float(stored["mean_length"][0]), matrix)
        index = cls(tokens[:base_size], built)
        return index.appended(tokens[base_size:]) if len(tokens) > base_size else index


def _idf(document_frequency: int, documents: int) -> float:
    return math.log(1 + (documents - document_frequency + 0.5) / (document_frequency + 0.5))


def _build(tokens: list[list[str]]) -> tuple[dict[str, int], np.ndarray, float, sparse.csr_matrix]:
    """Vocabulary, idf, mean document length and the term x document weight matrix."""
    documents = [words or [EMPTY_DOCUMENT] for words in tokens]
    vocabulary: dict[str, int] = {}
    term_ids = np.fromiter((vocabulary.setdefault(w, len(vocabulary)) for words in documents for w in words), dtype=np.int64)
    lengths = np.fromiter((len(words) for words in documents), dtype=np.int64, count=len(documents))
    if not len(documents):
        return {}, np.zeros(0, dtype=np.float32), 1.0, sparse.csr_matrix((0, 0), dtype=np.float32)
    doc_ids = np.repeat(np.arange(len(documents)), lengths)
    pairs, counts = np.unique(doc_ids * len(vocabulary) + term_ids, return_counts=True)
    docs, terms = np.divmod(pairs, len(vocabulary))
    frequency = np.bincount(terms, minlength=len(vocabulary))
    idf = np.log(1 + (len(documents) - frequency + 0.5) / (frequency + 0.5)).astype(np.float32)
    mean_length = float(lengths.mean())
    norm = K1 * ((1 - B) + B * lengths[docs] / mean_length)
    weights = (idf[terms] * counts / (norm + counts)).astype(np.float32)
    matrix = sparse.csr_matrix((weights, (terms, docs)), shape=(len(vocabulary), len(documents)))
    return vocabulary, idf, mean_length, matrix
