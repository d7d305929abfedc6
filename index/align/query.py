"""A draft prepared for alignment: normalized, checked, split into the units that are embedded."""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from planalign.index.align.results import AlignmentInputError
from planalign.nlp.encoders.base import EMBED_CHARS
from planalign.nlp.fields import only_form_fields, without_form_fields, without_line_type
from planalign.nlp.normalize import normalize, thai_ratio
from planalign.nlp.tokenize import content_tokens, readable_word, split_sentences

MAX_CHARS = 20_000
MAX_SENTENCES = 24
# Under this share of Thai letters a text is "not Thai": the catalog is Thai, so an English draft
# gets confident-looking but weak suggestions unless someone is told.
MIN_THAI_RATIO = 0.3
NOT_THAI_WARNING = "text is mostly not Thai; the catalog is Thai, so suggestions may be weak"  # results.warning_thai says it in Thai
# Fewer characters than this, once the budget form's line-type word is left out (topical), cannot say
# what a project does: "ก" was D9 at 0.60, unflagged (a walkthrough; its "งาน", D7 at 0.54, is a
# word: not caught). Counted as characters, Thai vowels and tone marks included: "ขยะ", "ถนน", "น้ำ"
# (one-word citizen reports) are words, not flagged. No text of the real evaluation tasks is this short
# (the Traffy loader keeps reports of 10 characters or more).
MIN_CHARACTERS = 3
SHORT_WARNING = "text is too short to say what the project does; every suggestion needs review"  # results.warning_thai says it in Thai
# No word of the draft is a word (a keyboard slip, "ฟหกดเ่าสว"): its suggestions were shown at "83%"
# similarity with nothing said (a walkthrough). Every suggestion needs review.
NO_WORD_WARNING = ("the text has no word that says what the project is (check the spelling or the keyboard language); "
                   "every suggestion needs review")  # results.warning_thai says it in Thai
FORM_ONLY_WARNING = ("the text holds only the form's budget, duration or responsibility, nothing of what the project does; "
                     "every suggestion needs review")  # results.warning_thai says it in Thai
UNREADABLE_WARNINGS = (SHORT_WARNING, NO_WORD_WARNING, FORM_ONLY_WARNING)
# Warnings under which every suggestion needs review: an English row was D1.1 at 0.90, unflagged, and
# only a count of such rows on the CLI's stderr said which (a walkthrough).
REVIEW_WARNINGS = (*UNREADABLE_WARNINGS, NOT_THAI_WARNING)
# An acronym as written, capitals first: CCTV, BTS, NCDs, LGBTQ (no vowel, no dictionary; a blind review
# found "โครงการ CCTV" called wordless). Lower case "qwzxv" stays a keyboard slip.
ACRONYM = re.compile(r"(?<![A-Za-z])[A-Z]{2,6}s?(?![A-Za-z])")
@dataclass
class Query:
    text: str  # normalized, as the person wrote it
    units: list[str]  # [whole text without its form head, the one unit embedded] + sentences when there are several (evidence)
    warnings: list[str]
    words: list[str] = field(default_factory=list)  # content words of units[0]'s whole text, split once: the lexical score and the evidence read them

    def shown(self, unit: int) -> str:
        """A unit as the person wrote it (the whole text keeps its form head), for evidence."""
        return self.text[:EMBED_CHARS] if unit == 0 else self.units[unit]


def unreadable(topic: str, words: list[str] | None = None) -> str | None:
    """Why a draft's topical text (:func:`topical`, normalized) says nothing of a project, if it does not:
    :data:`SHORT_WARNING` or :data:`NO_WORD_WARNING` (``words``: its content words, when already split)."""
    if sum(ch.isalnum() or "\u0e00" <= ch <= "\u0e7f" for ch in topic) < MIN_CHARACTERS:
        return SHORT_WARNING
    words = content_tokens(topic, normalized=True) if words is None else words
    if not ACRONYM.search(topic) and not any(readable_word(word) for word in words):
        return NO_WORD_WARNING
    return None


def prepare_text(text: str) -> Query:
    """Normalize and check a draft; raises AlignmentInputError when nothing can be aligned."""
    text = normalize(text or "")
    warnings: list[str] = []
    if not text:
        raise AlignmentInputError("empty text", thai="ข้อความว่างเปล่า กรุณาใส่ชื่อหรือรายละเอียดโครงการ")
    if not any(ch.isalpha() for ch in text):
        raise AlignmentInputError("no readable words in the text",
                                  thai="ไม่พบคำที่อ่านได้ในข้อความ (มีแต่ตัวเลขหรือเครื่องหมาย) กรุณาใส่ชื่อหรือรายละเอียดโครงการ")
    if len(text) > MAX_CHARS:
        warnings.append(f"text is {len(text):,} characters; only the first {MAX_CHARS:,} were used")
        text = text[:MAX_CHARS]
    if thai_ratio(text) < MIN_THAI_RATIO:
        warnings.append(NOT_THAI_WARNING)
    plain = without_form_fields(text)
    topic = without_line_type(plain)  # topical(text), its form fields left out once
    words = content_tokens(topic, normalized=True)
    warnings += [warning] if (warning := FORM_ONLY_WARNING if only_form_fields(text) else unreadable(topic, words)) else []
    # evidence quotes a sentence of what is matched: not a form line ("ผู้รับผิดชอบ ฝ่ายโยธา...", a blind review)
    sentences = split_sentences(plain)[:MAX_SENTENCES]
    units = [topic[:EMBED_CHARS]] + (sentences if len(sentences) > 1 else [])
    return Query(text, units, warnings, words)


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
