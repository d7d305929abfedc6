"""A draft prepared for alignment: normalized, checked, split into the units that are embedded."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from planalign.index.align.results import AlignmentInputError
from planalign.nlp.normalize import normalize, thai_ratio
from planalign.nlp.tokenize import content_tokens, split_sentences

MAX_CHARS = 20_000
MAX_SENTENCES = 24
# Under this share of Thai letters a text is "not Thai": the catalog is Thai, so an English draft
# gets confident-looking but weak suggestions unless someone is told.
MIN_THAI_RATIO = 0.3
NOT_THAI_WARNING = "text is mostly not Thai; the catalog is Thai, so suggestions may be weak"  # planner.js translates it


@dataclass
class Query:
    text: str
    units: list[str]  # [whole text] + sentences when there are several
    warnings: list[str]

    @cached_property
    def words(self) -> list[str]:
        """Content words, split once: the lexical score and every suggestion's evidence read them."""
        return content_tokens(self.text, normalized=True)

    def encoded(self, with_sentences: bool) -> list[str]:
        """What the encoder embeds: the whole text, and its sentences when evidence is wanted."""
        return self.units if with_sentences else self.units[:1]


def prepare_text(text: str) -> Query:
    """Normalize and check a draft; raises AlignmentInputError when nothing can be aligned."""
    text = normalize(text or "")
    warnings: list[str] = []
    if not text:
        raise AlignmentInputError("empty text")
    if not any(ch.isalpha() for ch in text):
        raise AlignmentInputError("no readable words in the text")
    if len(text) > MAX_CHARS:
        warnings.append(f"text is {len(text):,} characters; only the first {MAX_CHARS:,} were used")
        text = text[:MAX_CHARS]
    if thai_ratio(text) < MIN_THAI_RATIO:
        warnings.append(NOT_THAI_WARNING)
    sentences = split_sentences(text)[:MAX_SENTENCES]
    units = [text[:2000]] + (sentences if len(sentences) > 1 else [])
    return Query(text, units, warnings)


class UnitsToRows:
    """Turns per-unit encoder progress into per-row progress for a progress bar."""

    def __init__(self, prepared: list[Query | AlignmentInputError], progress: Callable[[int], None], with_sentences: bool) -> None:
        self._sizes = [len(q.encoded(with_sentences)) if isinstance(q, Query) else 0 for q in prepared]
        self._progress = progress
        self._row = 0
        self._pending = 0
        skipped = 0
        while self._row < len(self._sizes) and self._sizes[self._row] == 0:
            self._row += 1
            skipped += 1
        if skipped:
            progress(skipped)

    def __call__(self, units_done: int) -> None:
        self._pending += units_done
        rows = 0
        while self._row < len(self._sizes) and self._pending >= self._sizes[self._row]:
            self._pending -= self._sizes[self._row]
            self._row += 1
            rows += 1
            while self._row < len(self._sizes) and self._sizes[self._row] == 0:
                self._row += 1
                rows += 1
        if rows:
            self._progress(rows)
