""""Did you mean": a search word no stored project's name contains, put right from the nearest name's words.

Reviewers type Thai fast and often drop or swap a tone mark or vowel ("ลอกท่อระบายนำ",
"ปรับปรุงทางท้าว", "สวนสาธารนะ"). The dense ranking still finds the projects, but the keyword side
finds nothing and the query looks right to its writer; a mature search proposes the spelling its
documents use. Each space-separated part of the query (4 characters or more) that no stored name
contains is matched against the names with rapidfuzz's partial ratio (the best window of a name);
the window's edges are moved to where it is fewest edits from the part, word edges first, and must
be Thai character-cluster edges, so a cut never starts on a tone mark or ends inside a syllable
("ระบายน้" -> "ระบายน้ำ"); a window more than one edit per 7 characters away is no spelling of it (a
draft pasted as a query would otherwise be "corrected" to another project's name); a part found in
any stored text (citizen reports too) is spelt as people write it and left alone. Nothing changes
the ranking: the page offers the suggestion as a link.
"""
from __future__ import annotations

from collections.abc import Sequence

from pythainlp.tokenize import tcc
from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein, ScoreAlignment

from planalign.nlp.normalize import normalize
from planalign.nlp.tokenize import bma_vocabulary, tokenize

MIN_CHARS = 4  # shorter parts match half the catalog's words by chance
MIN_SCORE = 85.0  # partial ratio (0-100): one slip in a 10-character word scores ~90; different words stay under 80
MAX_CHARS = 40  # a longer part is a sentence typed without spaces: a near name would replace it, not put it right
MAX_PARTS = 4
WIDEN_CHARS = 2  # the window grows to a word's edge this far at most ("เขื่อ" -> "เขื่อน", not "ซอยเพชรเกษม" -> "ชุมชนซอยเพชรเกษม")
EDIT_CHARS = 7  # one edit per 7 characters, at least one: "ฝาท่อระบายน้ำ" is 2 from "วางท่อระบายน้ำ" (a blind review)


def did_you_mean(query: str, names: Sequence[str], known: str = "") -> str | None:
    """The query with each misspelt part replaced by the nearest stored spelling, or None when
    every part is found as written (or nothing near enough is). ``known``: every stored text joined
    (citizen reports too): a part found in it is spelt as people write it, and is left alone."""
    parts = normalize(query).split()
    if len(parts) > MAX_PARTS or not names:  # a sentence, not keywords: its words are not to be put right one by one
        return None
    joined = "\n".join(names)  # one C-level substring search instead of a Python loop over the names
    changed = False
    for position, part in enumerate(parts):
        if not MIN_CHARS <= len(part) <= MAX_CHARS or not any(ch.isalpha() for ch in part) or part in joined or part in known:
            continue
        # a name shorter than the part would be found inside it (a partial ratio of 100 for "คลอง" in "ขุดลอกครอง...")
        best = process.extractOne(part, [n for n in names if len(n) >= len(part) - WIDEN_CHARS], scorer=fuzz.partial_ratio, score_cutoff=MIN_SCORE)
        if best is None:
            continue
        alignment = fuzz.partial_ratio_alignment(part, best[0])
        window = _whole_words(best[0], alignment, part) if alignment is not None else ""
        if window and window.replace(" ", "") != part and Levenshtein.distance(part, window) <= max(1, len(part) // EDIT_CHARS) \
                and not _changes_a_bma_word(part, window):
            parts[position] = window
            changed = True
    return " ".join(parts) if changed else None


def _changes_a_bma_word(part: str, window: str) -> bool:
    """Whether the correction would change a word of BMA's own vocabulary (a district, a road, a canal)
    the part spells right: "ถนนสาทร" read as a slip of "ถนนสายร" when no stored name held สาทร (5 of 300
    common complaint phrases got a suggestion, this one wrong)."""
    return any(len(word) >= 3 and word in bma_vocabulary() and word not in window for word in tokenize(part, normalized=True))


def _whole_words(name: str, alignment: ScoreAlignment, part: str) -> str:
    """The aligned window of ``name``, its edges moved by up to WIDEN_CHARS to where it is fewest edits
    from ``part``, word edges (the product tokenizer) winning ties: the window partial_ratio gives has the
    query's length, so "เขือน" cut "เขื่อน" to "เขื่อ", and of two equal windows it may take one that
    starts a letter early ("นซอยเพชรเกษม")."""
    edges, at = {0, len(name)}, 0
    for word in tokenize(name, normalized=True):
        found = name.find(word, at)
        if found >= 0:
            edges.update((found, found + len(word)))
            at = found + len(word)
    start, end = alignment.dest_start, alignment.dest_end
    candidates = [(a, b) for a in range(max(0, start - WIDEN_CHARS), start + WIDEN_CHARS + 1)
                  for b in range(end - WIDEN_CHARS, min(len(name), end + WIDEN_CHARS) + 1) if b - a >= MIN_CHARS]
    best = min(candidates, key=lambda ab: (Levenshtein.distance(part, name[ab[0] : ab[1]]), -(ab[0] in edges) - (ab[1] in edges)), default=(start, end))
    if best[0] not in _cluster_edges(name) or best[1] not in _cluster_edges(name):
        return ""  # a window starting on a tone mark or a vowel of another letter: "่ายอาหาร" (a blind review)
    return name[best[0] : best[1]].strip()


def _cluster_edges(text: str) -> set[int]:
    """Where a Thai character cluster (a letter with its vowels and tone marks, pythainlp's TCC) may
    end: a window cut anywhere else is no spelling ("่ายอาหาร"). Word edges are too coarse for it:
    the tokenizer keeps "คลองบางบัว" whole, so "ขุดลอกคลอง" would never be offered."""
    edges, at = {0}, 0
    for cluster in tcc.segment(text):
        at += len(cluster)
        edges.add(at)
    return edges
