"""A draft prepared for alignment: normalized, checked, split into the units that are embedded."""
from __future__ import annotations

import re
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
# Fewer characters than this, once the budget form's line-type word is left out (topical), cannot say
# what a project does: "ก" was D9 at 0.60, unflagged (a walkthrough; its "งาน", D7 at 0.54, is a
# word: not caught). Counted as characters, Thai vowels and tone marks included: "ขยะ", "ถนน", "น้ำ"
# (one-word citizen reports) are words, not flagged. No text of the real evaluation tasks is this short
# (the Traffy loader keeps reports of 10 characters or more).
MIN_CHARACTERS = 3
SHORT_WARNING = "text is too short to say what the project does; every suggestion needs review"  # planner.js translates it
# The budget form's line-type word glued to the front of a line name ("ผลผลิตจัดการมูลฝอย", "งานกวาด
# ทำความสะอาด...") says what kind of budget line it is, not its topic; e5 reads "ผลผลิต" (output,
# crop yield) as economy. Leaving it out of what is embedded and matched: routine items x embedded
# catalog dimension 0.791 -> 0.804, issue 0.639 -> 0.658, x official catalog dimension 0.639 -> 0.665,
# issue 0.386 -> 0.386 (eval/README.md). A generic management verb right after it ("งานบริหาร
# ทั่วไปฝ่ายการศึกษา", "ผลผลิตบริหารการศึกษาขั้นพื้นฐาน", "ผลผลิตสนับสนุนเครื่องจักรกล...") says the
# line is overhead of what follows; the annotators file it under what follows, e5 under management
# (D9). It is left out too, unless coordinated ("บริหารทั่วไปและจัดเก็บรายได้": management *and*
# something, which stays D9): dimension 0.816 -> 0.842 (5 items right, 1 wrong), issue 0.652 ->
# 0.665; official catalog 0.696 -> 0.734 / 0.418 -> 0.443. Only the routine items carry these
# form words, so both were chosen on that one task group; "โครงการ" is left alone: no real labelled
# text measures it. The verb goes only when Thai words follow it ("งานบริหารทั่วไป." keeps it) and
# not before "งานทั่วไป" (management *is* the topic there).
FORM_WORD = re.compile(r"^(?:ผลผลิต|งาน)(?=\S)")
MANAGEMENT_VERB = re.compile(r"^(?:บริหาร\s?ทั่วไป|บริหาร|สนับสนุน)\s*(?!และ|หรือ|ทั่วไป|งานทั่วไป)(?=[\u0e01-\u0e2e\u0e40-\u0e44])")  # a Thai consonant or leading vowel


def topical(text: str) -> str:
    """The text without the budget form's line-type word and a generic management verb after it."""
    form_word = FORM_WORD.match(text)
    if not form_word:
        return text
    return MANAGEMENT_VERB.sub("", text[form_word.end():], count=1)


@dataclass
class Query:
    text: str  # normalized, as the person wrote it
    units: list[str]  # [whole text without its form head, the one unit embedded] + sentences when there are several (evidence)
    warnings: list[str]

    @cached_property
    def words(self) -> list[str]:
        """Content words, split once: the lexical score and every suggestion's evidence read them."""
        return content_tokens(topical(self.text), normalized=True)

    def shown(self, unit: int) -> str:
        """A unit as the person wrote it (the whole text keeps its form head), for evidence."""
        return self.text[:2000] if unit == 0 else self.units[unit]


def prepare_text(text: str) -> Query:
    """Normalize and check a draft; raises AlignmentInputError when nothing can be aligned."""
    text = normalize(text or "")
    warnings: list[str] = []
    if not text:
        raise AlignmentInputError("empty text", thai="ข้อความว่างเปล่า กรุณาพิมพ์ชื่อหรือรายละเอียดโครงการ")
    if not any(ch.isalpha() for ch in text):
        raise AlignmentInputError("no readable words in the text",
                                  thai="ไม่พบคำที่อ่านได้ในข้อความ (มีแต่ตัวเลขหรือเครื่องหมาย) กรุณาพิมพ์ชื่อหรือรายละเอียดโครงการ")
    if len(text) > MAX_CHARS:
        warnings.append(f"text is {len(text):,} characters; only the first {MAX_CHARS:,} were used")
        text = text[:MAX_CHARS]
    if thai_ratio(text) < MIN_THAI_RATIO:
        warnings.append(NOT_THAI_WARNING)
    if sum(ch.isalnum() or "\u0e00" <= ch <= "\u0e7f" for ch in topical(text)) < MIN_CHARACTERS:
        warnings.append(SHORT_WARNING)
    sentences = split_sentences(text)[:MAX_SENTENCES]
    units = [topical(text)[:2000]] + (sentences if len(sentences) > 1 else [])
    return Query(text, units, warnings)


class RowProgress:
    """The encoder's progress (one embedded text per readable draft) as rows for a progress bar;
    drafts that could not be read count as they are passed."""

    def __init__(self, prepared: list[Query | AlignmentInputError], progress: Callable[[int], None]) -> None:
        self._readable = [isinstance(q, Query) for q in prepared]
        self._progress = progress
        self._row = 0
        self(0)

    def __call__(self, embedded: int) -> None:
        rows = 0
        while self._row < len(self._readable) and (embedded > 0 or not self._readable[self._row]):
            embedded -= self._readable[self._row]
            self._row += 1
            rows += 1
        if rows:
            self._progress(rows)
