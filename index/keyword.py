"""Keyword search: BM25 (bm25s) over Thai words from our tokenizer.

Thai has no spaces between words, so the tokens come from newmm with the BMA dictionary
(:func:`planalign.nlp.tokenize.content_tokens`); stopwords are dropped and abbreviations expanded,
so "กทม." finds "กรุงเทพมหานคร".
"""
from __future__ import annotations

import json
from pathlib import Path

import bm25s
import numpy as np


class KeywordIndex:
    def __init__(self, tokens: list[list[str]]) -> None:
        self.tokens = tokens
        self.size = len(tokens)
        self._bm25 = bm25s.BM25()
        if tokens:
            # An empty document still needs a row, so every position stays aligned with the store.
            self._bm25.index([t or ["\u0000"] for t in tokens], show_progress=False)

    def search(self, query_tokens: list[str], k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` (positions, scores) with a positive score."""
        if not self.size or not query_tokens or k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        scores = self._bm25.get_scores(query_tokens)
        if allowed is not None:
            scores = np.where(allowed, scores, 0.0)
        k = min(k, self.size)
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        top = top[scores[top] > 0]
        return top.astype(np.int64), scores[top].astype(np.float32)

    def save(self, directory: Path) -> None:
        with (directory / "tokens.jsonl").open("w", encoding="utf-8") as handle:
            for tokens in self.tokens:
                handle.write(json.dumps(tokens, ensure_ascii=False) + "\n")

    @classmethod
    def load(cls, directory: Path) -> "KeywordIndex":
        with (directory / "tokens.jsonl").open(encoding="utf-8") as handle:
            return cls([json.loads(line) for line in handle])
