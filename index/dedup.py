"""Duplicate detection: one decision for the corpus sweep and the single-draft check.

A re-submission (a *copy*: formatting changes, Thai digits, an abbreviation spelled out, an added
objective sentence) or the same project proposed by another office in its own words (the *same
project*) keeps its place, quantities and target group; a *related* project (same theme, another
soi, another length, another phase or target group) differs in one of them. So :func:`decide`
compares the fields :mod:`planalign.nlp.fields` extracts, beside two similarities:

* ``semantic``: cosine of the two texts' *query-view* vectors (e5 ``query:`` on both sides, e5's
  prefix for symmetric similarity; the index stores that view) centered with the corpus mean (the
  store's for the store, the file's for a file; for fewer than :data:`MIN_CORPUS` texts a shipped
  background mean of project-like text, :func:`semantic_mean`);
* ``lexical``: the share of the shorter text's content words that the other text has in the same
  order (difflib alignment).

The rule (:func:`rule`; thresholds per encoder, :data:`PARAMETERS`, chosen on the labelled dev
pairs with cross-validation, eval/README.md):

* a conflicting place, quantity, identifier number or target group vetoes: a field conflicts only
  when *each* side has a value the other lacks (a paraphrase that leaves out the district is no
  conflict), e.g. "ซอยเทียนทะเล 20 ≠ ซอยเทียนทะเล 26", "1250 เมตร ≠ 980 เมตร";
* a near-copy (``lexical >= copy_lex`` and the alignment also covers ``copy_min_long`` of the
  longer text) is a ``copy`` unless an aligned word was substituted ("ภาษาอังกฤษ" -> "ภาษาจีน");
* otherwise a pair is the ``same_project`` when ``semantic - cover_weight * (1 - cover) >= sem``,
  ``cover`` being the lower share of either side's specifics (places, numbers) the other names;
* a pair that is neither is ``related`` (semantic >= ``related_sem`` or a near-copy) or
  ``different``; these are never returned as duplicates.

Every decision carries its evidence as data: the matched fields and the conflicting ones (with both
values); the CLI and the pages word them in Thai.

Candidates: the sweep (:func:`find_duplicates`) groups identical texts (copies without a
comparison), takes each text's nearest centered query-view neighbours above the semantic bar
(exact below :data:`EXACT_LIMIT` texts, an IVF index above; fewer neighbours and a higher floor past
:data:`LARGE_CORPUS` texts, measured in eval/README.md), adds MinHash near-copy candidates where the
vectors are weak on copies (encoders other than e5), extracts fields only for texts in a candidate
pair and decides. Across offices it leaves out pairs of two different texts that either office
lists side by side in the same year (:func:`_listing`): two items of one list, each with its
copy in the other office; and between two lists each text keeps one partner, matched closest first
(:func:`_one_to_one`). The draft check (:func:`check_draft`) takes the draft's nearest centered
neighbours and its top search hits, and decides with the same function, parameters and vectors, so
its decision on a pair is the sweep's; its candidates are not the sweep's (20 distinct texts and
search hits against each text's 10 nearest neighbours), and a draft belongs to no list yet, so it
can name pairs a sweep does not list.
"""
from __future__ import annotations

import heapq
import itertools
import multiprocessing
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from difflib import SequenceMatcher
from functools import lru_cache
from importlib import resources
from typing import Literal

import numpy as np
from rapidfuzz.distance import Levenshtein

from planalign.corpora.projects import is_office_name
from planalign.index.project_index import ProjectIndex
from planalign.index.store import ProjectStore
from planalign.nlp.encoders import Encoder
from planalign.nlp.encoders.base import EMBED_CHARS
from planalign.nlp.fields import CONFLICT_TYPES, DISTRICTS, Place, Record, compact, extract
from planalign.nlp.normalize import normalize
from planalign.nlp.tokenize import known_word, synonyms, tokenize

Kind = Literal["copy", "same_project", "related", "different"]
DUPLICATE_KINDS = ("copy", "same_project")
MIN_CORPUS = 200  # fewer texts than this: centered on the shipped background mean, not their own
BACKGROUND_FILE = "background_query_means.npz"
EXACT_LIMIT = 20_000  # exact neighbour search up to this many distinct texts, IVF above
LARGE_CORPUS = 20_000  # past this many distinct texts the sweep uses the large-corpus candidate setting
MINHASH_LIMIT = 20_000  # MinHash near-copy candidates (encoders other than e5) up to this many texts
PARALLEL_PAIRS = 20_000  # candidate pairs from which the sweep decides in 2 worker processes
CLUSTER_MAJORITY = 0.5  # share of flagged pairs between two groups of duplicates from which they form one cluster (see average_linkage)
Progress = Callable[[str], None]


# ---------------------------------------------------------------------------------------- data
@dataclass(frozen=True)
class MatchedField:
    """A field both texts share: ``place.soi`` "ซอยพหลโยธิน 55", ``quantity.length_m`` "1250 เมตร"."""

    field: str
    value: str


@dataclass(frozen=True)
class ConflictingField:
    """A field where each text has a value the other lacks: ``place.soi`` "ซอย 20" vs "ซอย 26"."""

    field: str
    a: str
    b: str


@dataclass(frozen=True)
class Decision:
    """Whether two texts are the same project, why, and the numbers behind it."""

    kind: Kind
    score: float  # the number that decided: aligned share (copy route) or field-adjusted semantic score
    matched_fields: tuple[MatchedField, ...] = ()
    conflicting_fields: tuple[ConflictingField, ...] = ()
    semantic: float | None = None  # centered query-view cosine
    lexical: float | None = None  # aligned share of the shorter text's words

    @property
    def is_duplicate(self) -> bool:
        return self.kind in DUPLICATE_KINDS


@dataclass(frozen=True)
class DecideParams:
    """The numbers of the rule (:func:`rule`)."""

    copy_lex: float = 0.55  # aligned share of the shorter text from which a pair is a near-copy
    copy_min_long: float = 0.3  # ... that must also cover this share of the longer text (dev copies: 0.40 and up), so a
    # short draft whose few words all occur in a long, different text is not a "copy" of it
    sem: float = 0.34  # field-adjusted semantic score a reworded pair needs
    cover_weight: float = 0.1  # penalty per missing share of specifics (places, numbers) named on both sides
    activity_weight: float = 0.0  # penalty when the activities differ
    lex_weight: float = 0.0  # bonus per aligned share (reworded pairs still share some words)
    none_cover: float = 1.0  # the ``cover`` of a pair where neither text names a place or a number (below 0: a higher bar)
    related_sem: float = 0.3  # below this (and not a near-copy) a non-duplicate is "different", not "related"
    place_other: float = 1.0  # 1: places of different types and none in common veto too (a soi here, a canal there)
    topic_few: int = 4  # a reworded pair whose shorter text has this many topic words or fewer must share one (:func:`rule`)
    topic_apart: int = 3  # ... and with this many or fewer, neither may have one the other lacks (:func:`off_topic`)


# (encoder, centered on the corpus's own mean) -> parameters; chosen on the dev pairs (eval/dedup_eval.py).
PARAMETERS: dict[tuple[str, bool], DecideParams] = {
    # a pair naming no place or number on either side needs 0.15 more: chosen with the 2022 campaign policies' pairs (items of one
    # list, none a duplicate of another) beside the dev pairs (eval/dedup_eval.py fit_staged): 132 -> 32 of their 975 flagged
    ("e5", True): DecideParams(none_cover=-0.5),
    ("e5", False): DecideParams(sem=0.41, cover_weight=0.05, activity_weight=0.1, none_cover=0.0),
    # static vectors (the index encoder past E5_INDEX_LIMIT texts) spread differently: their own bar, fitted the same way
    # (none_cover 0.5 -> 0.0 with the policies, as for e5 above: 136 -> 58 of their 1,037 pairs flagged)
    ("static", True): DecideParams(sem=0.25, cover_weight=0.2, activity_weight=0.1, none_cover=0.0),
    ("static", False): DecideParams(sem=0.34, cover_weight=0.2, activity_weight=0.1, none_cover=0.5),
    # USE (``reindex --encoder use``), fitted the same way: F1 0.936 cross-validated (e5 0.932); but more of the real
    # negatives flagged (policies 92 of 890 pairs, the ordinance's other pairs across offices 1,202; e5: 30 / 108). No
    # background mean exists for USE: a store under MIN_CORPUS texts is not centered, with these same numbers.
    ("use", True): DecideParams(sem=0.24, cover_weight=0.1, activity_weight=0.15, lex_weight=0.1, none_cover=-0.5),
}


def calibrated(encoder_name: str) -> bool:
    """Whether duplicates have thresholds fitted for this encoder's vectors (others borrow e5's, untested)."""
    return any(name == encoder_name for name, _ in PARAMETERS)


def params_for(encoder_name: str, corpus_mean: bool = True) -> DecideParams:
    """The calibrated parameters for vectors of ``encoder_name`` (e5's for an uncalibrated encoder)."""
    return PARAMETERS.get((encoder_name, corpus_mean)) or PARAMETERS.get((encoder_name, True)) or PARAMETERS[("e5", corpus_mean)]


@dataclass(frozen=True)
class DedupConfig:
    across_groups: bool = False  # only pairs whose groups (district, org) differ
    copy_threshold: float | None = None  # overrides the near-copy aligned share (``DecideParams.copy_lex``)
    params: DecideParams | None = None  # None: the encoder's calibrated parameters
    neighbours: int = 10  # nearest neighbours per text that become candidates
    large_neighbours: int = 2  # ... past LARGE_CORPUS distinct texts (eval/README.md "Duplicates at scale")
    large_floor: float = 0.8  # and the centered cosine they need there (below: the rule's semantic bar)
    workers: int = 2


def configured(calibrated: DecideParams, config: DedupConfig) -> DecideParams:
    """The parameters a config asks for: its own if it has them, else ``calibrated``; then its ``copy_threshold``."""
    chosen = config.params or calibrated
    return chosen if config.copy_threshold is None else replace(chosen, copy_lex=config.copy_threshold)


# ------------------------------------------------------------------------------------- vectors
def center(vectors: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """Subtract a mean and re-normalize rows (unit vectors in, unit vectors out)."""
    centered = np.asarray(vectors, dtype=np.float32) - np.asarray(mean, dtype=np.float32)
    norms = np.linalg.norm(centered, axis=-1, keepdims=True)
    norms[norms == 0] = 1.0
    return centered / norms


@lru_cache(maxsize=1)
def _background_means() -> dict[str, np.ndarray]:
    try:
        with resources.as_file(resources.files("planalign.nlp").joinpath("data", BACKGROUND_FILE)) as path, np.load(path) as stored:
            return {key: stored[key].astype(np.float32) for key in stored.files}
    except FileNotFoundError:  # pragma: no cover - it ships with the package
        return {}


def background_mean(encoder_name: str) -> np.ndarray | None:
    """The shipped mean query-view vector of project-like background text (e5 and static only):
    campaign policy names, routine budget items and the strategy catalogs, no held-out text."""
    return _background_means().get(encoder_name)


def semantic_mean(encoder_name: str, size: int, corpus_mean: np.ndarray) -> tuple[np.ndarray, bool]:
    """(the mean to center query views with, whether it is the corpus's own).

    The corpus mean from :data:`MIN_CORPUS` texts up; fewer texts are too few to estimate it (a
    handful of texts centered on their own mean point away from each other), so the shipped
    background mean stands in, or for encoders without one (tfidf, use) no centering at all.
    """
    if size < MIN_CORPUS:
        background = background_mean(encoder_name)
        if background is not None and background.shape == corpus_mean.shape:
            return background, False
        return np.zeros_like(corpus_mean, dtype=np.float32), True
    return np.asarray(corpus_mean, dtype=np.float32), True


def semantic_vectors(vectors: np.ndarray, encoder_name: str) -> tuple[np.ndarray, DecideParams]:
    """Centered query-view rows of a corpus (a file, not the store) and the parameters that go with them."""
    vectors = np.asarray(vectors, dtype=np.float32)
    mean, own = semantic_mean(encoder_name, len(vectors), vectors.mean(axis=0) if len(vectors) else np.zeros(vectors.shape[-1], dtype=np.float32))
    return center(vectors, mean), params_for(encoder_name, own)


# ---------------------------------------------------------------------------------- comparison
@dataclass
class Comparison:
    """Everything measured about a pair; :func:`rule` turns it into a decision."""

    sem: float
    lex: float = 0.0  # aligned share of the shorter token list
    lex_long: float = 0.0  # aligned share of the longer token list
    matched: list[MatchedField] = field(default_factory=list)
    conflicts: list[ConflictingField] = field(default_factory=list)
    substitutions: list[tuple[str, str]] = field(default_factory=list)
    coverage: tuple[float, float, int, int] = (1.0, 1.0, 0, 0)
    topic_few: int = 0  # topic words of the text with fewer (Record.topic)
    topic_shared: int = 0  # topic words the two texts share
    topic_apart: bool = False  # each text has a topic word the other lacks
    topic_narrower: bool = False  # one text says every topic word of the other and more ("ควบคุมโรค" / "ควบคุมโรคในสัตว์")

    def count(self, prefix: str) -> int:
        return sum(1 for c in self.conflicts if c.field.startswith(prefix))


# Words that add where, when, which round or how much, not another object: "โครงการบำบัดน้ำเสียชุมชน" narrows no
# "ผลผลิตบำบัดน้ำเสีย", nor "...ประจำปีงบประมาณ 2567", "...ครั้งที่ 1", "...เพิ่มเติม", "...(ระยะที่ 2)" their line (a
# blind review: such re-submissions were copies before the narrower-line rule and must stay so).
NOT_NARROWING = frozenset(("ชุมชน", "พื้นที่", "ด้าน", "ประจำ", "ประจำปี", "ปี", "ปีงบประมาณ", "งบประมาณ", "ครั้ง", "รุ่น", "ระยะ", "ช่วง",
                           "เพิ่มเติม", "ต่างๆ", "ต่าง", "ระดับ", "ต่อเนื่อง", "อย่าง", "ทั่วไป", "ทั้งหมด", "ใหม่", "ทุก"))
SPELLING_CHARS = 6  # a shorter word one edit away is often another word: ครอง / คลอง, ถนน / ถนอม
_NUMBER = re.compile(r"\d+(?:[./]\d+)?")
_PLAIN_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_DIGITS = re.compile(r"^[\d.,/\-–x]+$")
_NAME_DIGITS = re.compile(r"[\d./\-]+")


def _contains(haystack: str, needle: str) -> bool:
    """``needle`` in ``haystack``, a trailing number not continuing into more digits (55 ≠ 555)."""
    if not needle:
        return False
    if needle[-1].isdigit():
        return re.search(re.escape(needle) + r"(?!\d)", haystack) is not None
    return needle in haystack


SHORT_NAME = 5
_PLACE_KIND = {"district_mention": "district"}  # a district named with or without its marker is one kind of place


def _place_found(place: Place, other: Record) -> bool:
    """Is ``place`` named in ``other``? Exact (digit-safe) containment of the name; else its letters
    found (exactly, or for long names 60% of their trigrams) with every number of the name written
    right after them ("ล็อค 1-2-3" ~ "ล็อค 1, 2 และ 3"; but "เทียนทะเล 20" ≠ "เทียนทะเล 26" even when 20
    occurs elsewhere). A short name (under SHORT_NAME letters, no number) is found only with its marker:
    the hospital "กลาง" of "ผลผลิตโรงพยาบาลกลาง" was "found" in "ผลผลิตบริหารงานกลาง" (a walkthrough)."""
    marked = compact(place.surface)
    if marked != place.name and _contains(other.compact, marked):
        return True  # named with its marker ("คลองลาดพร้าว"), whatever the other text's extraction made of it
    named = [p for p in other.places if p.name == place.name]
    if named and all(_PLACE_KIND.get(p.type, p.type) != _PLACE_KIND.get(place.type, place.type) for p in named):
        return False  # the other text names another kind of place of that name: the canal คลองลาดพร้าว is not ห้าแยกลาดพร้าว (a walkthrough)
    letters = _NAME_DIGITS.sub("", place.name)
    if 0 < len(letters) < SHORT_NAME and not place.numbers:
        return _contains(other.compact, compact(place.surface))
    if _contains(other.compact, place.name):
        return True
    if len(letters) < 2:
        return False
    if place.numbers:
        match = re.search(r"\s*".join(map(re.escape, letters)), other.canonical)
        if match is None:
            return False
        window = set(_NUMBER.findall(other.canonical[match.end() : match.end() + 25]))
        return all(n in window for n in place.numbers)
    if letters in other.compact:
        return True
    if len(letters) < 9:
        return False
    grams = {letters[i : i + 3] for i in range(len(letters) - 2)}
    return sum(g in other.compact for g in grams) >= 0.6 * len(grams)


def _numbers_of(record: Record) -> set[str]:
    found = set(record.identifiers) | {f"{q.value:g}" for q in record.quantities}
    return found | set(_NUMBER.findall(record.canonical))


def _near(value: float, others: set[float]) -> bool:
    return any(abs(value - o) <= 1e-6 + 0.005 * max(abs(value), abs(o)) for o in others)


def _compare_places(a: Record, b: Record, out: Comparison) -> None:
    unmatched: list[dict[str, list[Place]]] = [{}, {}]
    found_any = [False, False]
    for side, (mine, other) in enumerate(((a, b), (b, a))):
        for place in mine.places:
            if _place_found(place, other):
                found_any[side] = True
                matched = MatchedField(f"place.{place.type}", place.label())
                if matched not in out.matched:  # either side's: the evidence no longer depends on which text comes first
                    out.matched.append(matched)
            elif place.type in CONFLICT_TYPES:
                unmatched[side].setdefault(place.type, []).append(place)
    kinds = sorted(set(unmatched[0]) & set(unmatched[1]))
    for kind in kinds:
        out.conflicts.append(ConflictingField(f"place.{kind}", _place_labels(unmatched[0][kind]), _place_labels(unmatched[1][kind])))
    if not kinds and unmatched[0] and unmatched[1] and not any(found_any):
        # each names places the other does not, of different types (a soi here, a canal there), and no place in common
        out.conflicts.append(ConflictingField("place.other", _place_labels([p for ps in unmatched[0].values() for p in ps]),
                                              _place_labels([p for ps in unmatched[1].values() for p in ps])))


def _place_labels(places: list[Place]) -> str:
    """A text's places as evidence, each once: a place named in the title and the target read "คลองลาดพร้าว / คลองลาดพร้าว"."""
    return " / ".join(dict.fromkeys(p.label() for p in places))


def _coverage(a: Record, b: Record) -> tuple[float, float, int, int]:
    """Share of each side's specifics (conflict-type places, numbers) named in the other side."""
    result = []
    for mine, other in ((a, b), (b, a)):
        other_numbers = _numbers_of(other)
        other_values = {float(x) for x in other_numbers if _PLAIN_NUMBER.fullmatch(x)}
        items = [_place_found(p, other) for p in mine.places if p.type in CONFLICT_TYPES or p.type == "district_mention"]
        items += [f"{q.value:g}" in other_numbers or _near(q.value, other_values) for q in mine.quantities]
        items += [n in other_numbers for n in mine.identifiers]
        result.append((sum(items) / len(items) if items else 1.0, len(items)))
    return result[0][0], result[1][0], result[0][1], result[1][1]


def _compare_numbers(a: Record, b: Record, out: Comparison) -> None:
    values, measured = [], []
    for record in (a, b):
        plain = {float(n) for n in record.identifiers if _PLAIN_NUMBER.fullmatch(n)}
        values.append({q.value for q in record.quantities} | plain)
        by_dimension: dict[str, set[float]] = {}
        for q in record.quantities:
            by_dimension.setdefault(q.dimension, set()).add(q.value)
        measured.append((by_dimension, plain))
    unmatched: list[dict[str, list[str]]] = [{}, {}]
    for side, record in enumerate((a, b)):
        other_values = values[1 - side]
        other_dimensions, other_plain = measured[1 - side]
        other_ids = (b if side == 0 else a).identifiers
        for q in record.quantities:
            # a quantity matches the same measure or a bare number: "ความยาว 1,200 เมตร" was "matched" by 1,200
            # households of a 3.5 km project, and its length conflict hidden (a walkthrough)
            if _near(q.value, other_dimensions.get(q.dimension, set()) | other_plain):
                if side == 0:
                    out.matched.append(MatchedField(f"quantity.{q.dimension}", q.label()))
            else:
                unmatched[side].setdefault(q.dimension, []).append(q.label())
        for n in sorted(record.identifiers):
            if n in other_ids or (_PLAIN_NUMBER.fullmatch(n) and _near(float(n), other_values)):
                if side == 0:
                    out.matched.append(MatchedField("number", n))
            else:
                unmatched[side].setdefault("id", []).append(n)
    for dimension in sorted(set(unmatched[0]) & set(unmatched[1])):
        name = "number" if dimension == "id" else f"quantity.{dimension}"
        out.conflicts.append(ConflictingField(name, ", ".join(unmatched[0][dimension]), ", ".join(unmatched[1][dimension])))


def _compare_sets(name: str, left: frozenset[str], right: frozenset[str], out: Comparison) -> None:
    for value in sorted(left & right):
        out.matched.append(MatchedField(name, value))
    if left - right and right - left:
        out.conflicts.append(ConflictingField(name, ", ".join(sorted(left - right)), ", ".join(sorted(right - left))))


def _align(a: Record, b: Record, out: Comparison) -> None:
    """Aligned shares of the two token lists; substituted words (only meaningful for near-copies,
    where the rest of the text is the same) are kept for the substitution veto."""
    ta, tb = a.tokens, b.tokens
    if not ta or not tb:
        return
    # difflib's alignment depends on the order of its arguments: align in one fixed order, so that
    # decide(a, b) and decide(b, a) agree (the sweep and the draft check meet a pair in either order)
    swapped = (len(ta), ta) > (len(tb), tb)
    if swapped:
        ta, tb = tb, ta
    matcher = SequenceMatcher(None, ta, tb, autojunk=False)
    same = sum(block.size for block in matcher.get_matching_blocks())
    out.lex = same / min(len(ta), len(tb))
    out.lex_long = same / max(len(ta), len(tb))
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op != "replace":
            continue
        left, right = "".join(ta[i1:i2]), "".join(tb[j1:j2])
        if left in right or right in left or (_DIGITS.match(left) and _DIGITS.match(right)) or same_word(left, right):
            continue  # spacing/inflection ("การปรับปรุง" vs "ปรับปรุง"); numbers are compared as numbers
        out.substitutions.append((right, left) if swapped else (left, right))


def same_word(a: str, b: str) -> bool:
    """Two spellings of one word, which no substitution makes two projects of: words BMA text uses for the
    same thing (nlp/data/synonyms.tsv: ทางเท้า / บาทวิถี) or a slip (one edit in SPELLING_CHARS characters or
    more, one side not spelt in dictionary words: บุคลากร / บุคคลากร). Both were vetoed as a substituted word: "งานรายจ่ายบุคคลากร" was no copy of
    the 50 districts' "งานรายจ่ายบุคลากร" (a reviewer's walkthrough)."""
    if b in synonyms(a):
        return True
    if min(len(a), len(b)) < SPELLING_CHARS or Levenshtein.distance(a, b) > 1:
        return False
    # two spans of dictionary words one letter apart are two wordings (บริหาร / บริการ, นักเรียน / นักเขียน, and glued to a
    # neighbour, "บริหารงาน" / "บริการงาน": two blind reviews); a slip leaves a span that is no dictionary word
    return not (_spelt_right(a) and _spelt_right(b))


def _spelt_right(span: str) -> bool:
    """``span`` is a dictionary word, or the tokenizer cuts it into dictionary words of 3 letters or more (a slip
    falls apart into two-letter entries: "บุคคลากร" -> บุ, คค, ลา, กร)."""
    return known_word(span) or all(len(word) >= 3 and known_word(word) for word in tokenize(span, normalized=True))


def compare(a: Record, b: Record) -> Comparison:
    """Similarities and field evidence of a pair (symmetric up to the order of a/b in the evidence)."""
    sem = float(np.dot(a.vector, b.vector)) if a.vector is not None and b.vector is not None else 0.0
    out = Comparison(sem=sem)
    _align(a, b, out)
    _compare_places(a, b, out)
    _compare_numbers(a, b, out)
    _compare_sets("target_group", a.groups, b.groups, out)
    _compare_sets("activity", a.activities, b.activities, out)
    out.coverage = _coverage(a, b)
    out.topic_few, out.topic_shared = min(len(a.topic), len(b.topic)), shared_topic(a.topic, b.topic)
    a_said, b_said = covered_topic(a.topic, b.topic) == len(a.topic), covered_topic(b.topic, a.topic) == len(b.topic)
    out.topic_apart = not a_said and not b_said
    out.topic_narrower = a_said != b_said and _narrows(*((a, b) if a_said else (b, a)), places=[*a.places, *b.places])
    return out


def _narrows(short: Record, long: Record, places: Sequence[Place]) -> bool:
    """Whether ``long``, which says every topic word of ``short``, adds one that shares none of them, is none of
    :data:`NOT_NARROWING` and no part of either text's places: a re-submission naming its soi ("...ซอยพหลโยธิน
    48") says where, not what, and "คลอง" of "ขุดลอกคลอง" is inside the other's "คลองบางบัว"."""
    if not short.topic:
        return False
    words = tokenize(long.canonical, normalized=True)
    # a purpose clause says why, not what ("...ซ.พหลโยธิน ๔๘ เพื่อลดน้ำท่วมขัง" is a copy): the words after the word เพื่อ
    # (a word: "เพื่อน" is a friend, a substring test took it for one; a blind review)
    purpose = set(words[words.index("เพื่อ") + 1 :]) if "เพื่อ" in words else set()
    # a place's marker and the words of its name, as words: "สะพาน" is no part of "เขตสะพานสูง" (a substring test made
    # the same pair a copy in one district and related in another: a blind review)
    where = {w for place in places for w in _place_words(place)}
    added = long.topic - NOT_NARROWING - where - purpose
    return shared_topic(added, short.topic) < len(added)  # a word sharing one ("ขุดลอก" / "ลอก") adds nothing


def _place_words(place: Place) -> set[str]:
    """A place's marker ("คลอง" of "คลองบางบัว") and its whole surface and name as the tokenizer cuts them."""
    marker = place.surface[: len(place.surface) - len(place.name)] if place.name and place.surface.endswith(place.name) else ""
    return {marker, place.surface, *tokenize(place.name, normalized=True)} - {""}


def shared_topic(a: frozenset[str], b: frozenset[str]) -> int:
    """Topic words of ``a`` found in ``b``: equal, synonyms (ขยะ / มูลฝอย), or one inside the other when the
    shorter has 3 consonants or more (newmm keeps compounds whole: "ขุดลอก" / "ลอก", "เขตปลอดบุหรี่" /
    "บุหรี่"; a blind review); "น้ำ" (one consonant) is not "น้ำเสีย"."""
    return sum(1 for x in a if any(x == y or y in synonyms(x) or ((x in y or y in x) and _consonants(min(x, y, key=len)) >= 3) for y in b))


def covered_topic(a: frozenset[str], b: frozenset[str]) -> int:
    """Topic words of ``a`` that ``b`` says whole: equal, synonyms, or inside a longer word of ``b``; a
    longer word of ``a`` is not covered by a part of it ("วางผังเมือง" by "เมือง", "โรงพยาบาลกลาง" by
    "กลาง"): each line then has a word the other lacks (:func:`off_topic`; "ผลผลิตความสัมพันธ์ระหว่างเมือง" /
    "ผลผลิตวางผังเมือง" were one project, a walkthrough)."""
    return sum(1 for x in a if any(x == y or y in synonyms(x) or (x in y and _consonants(x) >= 3) for y in b))


def _consonants(word: str) -> int:
    """Thai consonants and Latin letters: vowels and tone marks made "น้ำ" three characters long."""
    return sum(1 for c in word if "\u0e01" <= c <= "\u0e2e" or (c.isascii() and c.isalpha()))


FEATURES = ("sem", "lex", "lex_long", "place", "place_other", "number", "group", "subst", "activity", "cover", "specifics", "topic_few", "topic_shared",
            "topic_apart", "topic_narrower")


def features(c: Comparison) -> dict[str, float]:
    """The numbers :func:`rule` reads (and the evaluation fits)."""
    return {
        "sem": c.sem,
        "lex": c.lex,
        "lex_long": c.lex_long,
        "place": float(c.count("place.") - c.count("place.other") > 0),
        "place_other": float(c.count("place.other") > 0),
        "number": float(c.count("quantity.") + c.count("number") > 0),
        "group": float(c.count("target_group") > 0),
        "subst": float(len(c.substitutions)),
        "activity": float(c.count("activity") > 0),
        "cover": min(c.coverage[0], c.coverage[1]),
        "specifics": float(c.coverage[2] + c.coverage[3]),  # 0: neither text names a place or a number
        "topic_few": float(c.topic_few),
        "topic_shared": float(c.topic_shared),
        "topic_apart": float(c.topic_apart),
        "topic_narrower": float(c.topic_narrower),
    }


def rule(feats: dict[str, float], params: DecideParams) -> tuple[bool, str, float]:
    """(duplicate?, route, score) from the features of one comparison (see the module docstring)."""
    hard = feats["place"] + feats["number"] + feats["group"] + params.place_other * feats["place_other"] > 0
    cover = feats["cover"] if feats["specifics"] > 0 else params.none_cover
    adjusted = feats["sem"] + params.lex_weight * feats["lex"] - params.cover_weight * (1.0 - cover) - params.activity_weight * feats["activity"]
    if near_copy(feats, params):
        return (not hard and feats["subst"] == 0 and not narrower(feats, params)), "copy", feats["lex"]
    # Short budget lines are close in e5 whatever they are about ("ผลผลิตนิติการ" / "ผลผลิตเภสัชกรรม" at
    # 0.55, a walkthrough: 64 of 101 clusters of the FY2566 ordinance held no two equal texts): a
    # reworded pair whose shorter text says its topic in topic_few words or fewer must share one of
    # them (:func:`shared_topic`). Every dev paraphrase keeps (the two sharing no topic word have 8 and 13);
    # 4 and 7 flag the same ordinance pairs, so the smaller.
    return (not hard and not off_topic(feats, params) and adjusted >= params.sem), "same_project", adjusted


def off_topic(feats: dict[str, float], params: DecideParams) -> bool:
    """A reworded pair whose shorter text has ``topic_few`` topic words or fewer and shares none (:func:`rule`),
    or ``topic_apart`` or fewer and each has one the other lacks: two budget lines of one subject and
    different objects ("งานรายจ่ายบุคลากร" / "รายจ่ายประจำ", "...ศักยภาพและบริการชุมชน" / "...ชุมชนและบริการ
    สังคม": 100 and 50 of the 287 pairs of different ordinance lines the sweep across offices flagged, none
    the same project to a reviewer's eye, a walkthrough). On the dev pairs no paraphrase or copy has
    short topics apart at 3 (one paraphrase at 4, eight at 6), so 3."""
    return (feats["topic_few"] <= params.topic_few and feats["topic_shared"] == 0) or \
        (feats["topic_few"] <= params.topic_apart and feats["topic_apart"] > 0) or narrower(feats, params)


def narrower(feats: dict[str, float], params: DecideParams) -> bool:
    """A short line and a line that says all of it and more ("งานป้องกันและควบคุมโรค" / "ผลผลิตควบคุมโรค
    ในสัตว์", "ผลผลิตพัฒนาบุคลากร" / "ผลผลิตพัฒนาบุคลากรทางการศึกษา"): the qualifier narrows the line to
    another object, so two offices' such lines are two lines, not one project; a reviewer walkthrough of
    the FY2566 ordinance found the 50 districts' disease control called copies (1.0) of the animal disease
    output, and a general staff line a copy of the education staff's. Only where the shorter has
    ``topic_apart`` topic words or fewer, as :func:`off_topic`: no dev pair has one (their names say 4 or more)."""
    return feats["topic_few"] <= params.topic_apart and feats["topic_narrower"] > 0


def near_copy(feats: dict[str, float], params: DecideParams) -> bool:
    return feats["lex"] >= params.copy_lex and feats["lex_long"] >= params.copy_min_long


def decide(a: Record, b: Record, params: DecideParams | None = None) -> Decision:
    """The duplicate decision for one pair of extracted records (with centered vectors), and its evidence.

    The one place the rule is applied: the sweep, the draft check and the evaluation all call it.
    """
    params = params or PARAMETERS[("e5", True)]
    comparison = compare(a, b)
    feats = features(comparison)
    duplicate, route, value = rule(feats, params)
    conflicts = list(comparison.conflicts)
    if near_copy(feats, params):
        conflicts += [ConflictingField("wording", left, right) for left, right in comparison.substitutions]
    # said, not silent: "related 0.95" with nothing that differs read as a bug (a blind review)
    if off_topic(feats, params) and (not near_copy(feats, params) or narrower(feats, params)):
        conflicts.append(ConflictingField("topic", " ".join(sorted(a.topic)) or "-", " ".join(sorted(b.topic)) or "-"))
    if duplicate:
        kind: Kind = "copy" if route == "copy" else "same_project"
    else:
        kind = "related" if comparison.sem >= params.related_sem or near_copy(feats, params) else "different"
    return Decision(kind, round(float(value), 4), tuple(comparison.matched), tuple(conflicts), round(comparison.sem, 4), round(comparison.lex, 4))


IDENTICAL = Decision("copy", 1.0, (MatchedField("text", "identical"),), (), 1.0, 1.0)
_KIND_ORDER = ("different", "related", "same_project", "copy")
_HARD_FIELDS = ("place", "quantity", "number", "target_group")  # conflicts that make two texts two projects (:func:`rule`'s hard ones)


def decide_pair(a: Record, b: Record, a_name: Record | None, b_name: Record | None, params: DecideParams) -> Decision:
    """:func:`decide` for two projects, each given whole and by its name alone (``None``: its text is its
    name): a text that is only a name is also compared with the other's name, and the more duplicate
    answer stands (the whole texts' among equals). A title against a stored title plus its objective
    aligned the objective with whatever else the title said as a substituted word: the README's own
    example, "โครงการลอกท่อระบายน้ำซอยพหลโยธิน 48 เขตบางเขน", found no duplicate of that very project (a
    walkthrough). The sweep and the draft check both decide through here, so they agree on a pair.
    Not when the whole texts differ in a place, a number or a target group: the name alone would hide
    them (a stored objective's "ช่วงซอยพหลโยธิน 50 ถึง 52" against a draft's soi 10 was a copy: a blind review)."""
    whole = decide(a, b, params)
    if any(c.field.split(".")[0] in _HARD_FIELDS for c in whole.conflicting_fields):
        return whole
    decisions = [whole]
    if a_name is None and b_name is not None:
        decisions.append(decide(a, b_name, params))
    elif b_name is None and a_name is not None:
        decisions.append(decide(a_name, b, params))
    return max(decisions, key=lambda d: _KIND_ORDER.index(d.kind))


# ------------------------------------------------------------------------------------- records
@dataclass
class DedupRecord:
    """One text of a sweep: its normalized text, centered query-view vector and where it comes from."""

    text: str
    vector: np.ndarray | None = None
    name: str = ""
    group: str = ""
    year: int | None = None  # the fiscal year it was listed for (with ``group``: one office's list of one year)
    _fields: Record | None = field(default=None, repr=False)

    _name_fields: Record | None = field(default=None, repr=False)

    @property
    def fields(self) -> Record:
        """The extracted fields (on first use: a sweep extracts only texts of candidate pairs), without
        the name of the record's own district (:func:`without_own_district`)."""
        if self._fields is None:
            self._fields = without_own_district(extract(self.text, self.vector), self.group)
        return self._fields

    @property
    def name_fields(self) -> Record | None:
        """The fields of the project's name alone, None when its text is no more than its name (:func:`decide_pair`)."""
        name = normalize(self.name) if self.name else ""
        if not name or name == self.text:
            return None
        if self._name_fields is None:
            self._name_fields = without_own_district(extract(name, self.vector), self.group)
        return self._name_fields


def without_own_district(record: Record, group: str) -> Record:
    """``record`` without the district its office is (``group``: "บางเขน", "สำนักงานเขตบางเขน") as a place
    or a word, when it names no other place. A district names itself in its project's title ("... ในชุมชน
    เขตบางเขน"), and that is no specific: the same title from 50 districts unnamed was 50 copies, and
    named, no duplicate at all (a place conflict, and the names a substituted word; a reviewer's
    walkthrough). Beside a canal or a road it says which stretch: "ขุดลอกคลองลาดพร้าว เขตจตุจักร" from
    จตุจักร and "... เขตห้วยขวาง" from ห้วยขวาง are two districts' works, not a copy (a blind review).
    The sweep applies it to both texts; the draft check to the stored ones, and to the draft with its office
    (``group``) when given, else with each stored project's: a draft that names the stored project's
    own district only reads as written from it (the README's example, a walkthrough)."""
    own = compact(group)
    own = max((d for d in DISTRICTS if d in own), key=len, default="") if own and (own in DISTRICTS or "เขต" in own) else ""
    if not own:
        return record
    mine = [p for p in record.places if p.type in ("district", "district_mention") and p.name == own]
    if len(mine) < len(record.places) or (not mine and own not in record.tokens):
        return record  # it names another place too: then the district says where that canal or road is (a blind review)
    return replace(record, places=[p for p in record.places if p not in mine], tokens=[t for t in record.tokens if t != own])


def make_records(texts: Sequence[str], centered: np.ndarray | None, *, names: Sequence[str] | None = None,
                 groups: Sequence[str] | None = None, years: Sequence[int | None] | None = None) -> list[DedupRecord]:
    """Records for texts and their centered unit query-view rows (:func:`semantic_vectors`, :func:`index_semantics`)."""
    return [DedupRecord(text, centered[i] if centered is not None else None,
                        names[i] if names is not None else "", groups[i] if groups is not None else "",
                        years[i] if years is not None else None)
            for i, text in enumerate(texts)]


_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
_THAI_DIGIT = re.compile("[๐-๙]")
_NOT_WORD = re.compile(r"[^\w\u0e01-\u0e4e]+")


def identical_key(text: str) -> str:
    """A text up to spacing, punctuation, case and Thai digits (a few µs; the canonical form costs 0.2 ms)."""
    key = _NOT_WORD.sub("", text.lower())
    return key.translate(_THAI_DIGITS) if _THAI_DIGIT.search(key) else key


# --------------------------------------------------------------------------------------- sweep
@dataclass
class Pair:
    a: int
    b: int
    decision: Decision
    cluster: str = ""

    @property
    def kind(self) -> str:
        return self.decision.kind

    @property
    def score(self) -> float:
        return self.decision.score


@dataclass
class DedupResult:
    pairs: list[Pair]
    clusters: dict[str, list[int]] = field(default_factory=dict)
    candidates: int = 0  # candidate pairs decided (identical texts not counted)


def neighbour_pairs(vectors: np.ndarray, k: int, floor: float, threads: int = 2) -> dict[tuple[int, int], float]:
    """Pairs (i < j) among centered unit ``vectors`` where j is among i's ``k`` nearest (or i among
    j's) with a cosine of at least ``floor``.

    Exact inner product up to :data:`EXACT_LIMIT` rows; above, an inverted-file index (2·sqrt(N)
    lists trained on a sample of 40 per list, 2 probed): on the 99,683 distinct Traffy reports it
    finds 91% of the exact top-2 pairs above 0.8 in about half the time of 4·sqrt(N) lists with 8
    probed (94%); a light HNSW graph (M 16, efConstruction 40, efSearch 32) was slower to build and
    found 54% (eval/README.md "Duplicates at scale").
    """
    import faiss

    found: dict[tuple[int, int], float] = {}
    if len(vectors) < 2:
        return found
    data = np.ascontiguousarray(vectors, dtype=np.float32)
    faiss.omp_set_num_threads(threads)
    if len(data) <= EXACT_LIMIT:
        index: faiss.Index = faiss.IndexFlatIP(data.shape[1])
        index.add(data)
    else:
        lists = int(2 * np.sqrt(len(data)))
        quantizer = faiss.IndexFlatIP(data.shape[1])
        index = faiss.IndexIVFFlat(quantizer, data.shape[1], lists, faiss.METRIC_INNER_PRODUCT)
        sample = np.random.default_rng(0).choice(len(data), min(len(data), 40 * lists), replace=False)
        index.train(data[np.sort(sample)])
        index.add(data)
        index.nprobe = 2
    scores, neighbours = index.search(data, min(k + 1, len(data)))
    rows, cols = np.nonzero((scores >= floor) & (neighbours >= 0))
    for i, col in zip(rows.tolist(), cols.tolist()):
        j = int(neighbours[i, col])
        if i != j:
            found[(min(i, j), max(i, j))] = float(scores[i, col])
    return found


def minhash_pairs(texts: Sequence[str], threshold: float = 0.5, num_perm: int = 64) -> set[tuple[int, int]]:
    """Near-verbatim pairs by MinHash LSH over character 5-grams of the letters and digits (for
    vectors that are weak on copies: every copy pair of the dev set is a nearest neighbour in e5)."""
    from datasketch import MinHash, MinHashLSH

    squashed = [compact(t) for t in texts]
    hashes = MinHash.bulk([[s[i : i + 5].encode() for i in range(max(1, len(s) - 4))] for s in squashed], num_perm=num_perm)
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    with lsh.insertion_session() as session:
        for i, minhash in enumerate(hashes):
            session.insert(i, minhash, check_duplication=False)
    return {(min(i, j), max(i, j)) for i, minhash in enumerate(hashes) for j in lsh.query(minhash) if j != i}


_SWEPT: list[DedupRecord] = []  # the records of the running sweep, shared with forked workers


def _decide_chunk(job: tuple[list[tuple[int, int]], DecideParams]) -> list[tuple[int, int, Decision]]:
    pairs, params = job
    out = []
    for i, j in pairs:
        decision = decide_pair(_SWEPT[i].fields, _SWEPT[j].fields, _SWEPT[i].name_fields, _SWEPT[j].name_fields, params)
        if decision.is_duplicate:
            out.append((i, j, decision))
    return out


def find_duplicates(records: list[DedupRecord], config: DedupConfig | None = None, params: DecideParams | None = None, *,
                    weak_copies: bool = False, progress: Progress | None = None) -> DedupResult:
    """All duplicate pairs among ``records`` (positions), clustered.

    ``params``: the decision's parameters (default: the config's, else e5's); ``weak_copies``:
    also take MinHash near-copy candidates (vectors of an encoder other than e5).
    """
    global _SWEPT
    config = config or DedupConfig()
    params = params or configured(params_for("e5"), config)
    if progress:
        progress("identical texts")
    representative: dict[str, int] = {}
    members: dict[int, list[int]] = {}  # representative -> every text identical to it (itself first)
    for i, record in enumerate(records):
        members.setdefault(representative.setdefault(identical_key(record.text), i), []).append(i)
    unique = list(members)

    def other_groups(i: int, j: int) -> bool:
        return not (config.across_groups and records[i].group and records[i].group == records[j].group)

    # the lists (office, year) each text is in: see _listing
    listing = [_listing(r) for r in records]
    held = {i: {listing[m] for m in group} - {None} for i, group in members.items()}

    def judged_pairs(i: int, j: int) -> Iterator[tuple[int, int]]:
        """The member pairs of two different texts (representatives ``i``, ``j``) the sweep judges:
        O(members), not O(members²), for a routine line that 74 offices list."""
        ys = [y for y in members[j] if listing[y] not in held[i]]
        return ((x, y) for x in members[i] if listing[x] not in held[j] for y in ys if other_groups(x, y))

    pairs = [Pair(i, j, IDENTICAL) for group in members.values() for i, j in itertools.combinations(group, 2) if other_groups(i, j)]
    large = len(unique) > LARGE_CORPUS
    k, floor = (config.large_neighbours, max(config.large_floor, params.sem)) if large else (config.neighbours, params.sem)
    candidates: set[tuple[int, int]] = set()
    if all(records[i].vector is not None for i in unique) and len(unique) > 1:
        if progress:
            progress("nearest neighbours")
        vectors = np.vstack([records[i].vector for i in unique])  # type: ignore[misc]
        candidates |= {(unique[i], unique[j]) for i, j in neighbour_pairs(vectors, k, floor, threads=max(1, config.workers))}
    if weak_copies and len(unique) <= MINHASH_LIMIT:
        if progress:
            progress("near-copies")
        candidates |= {(unique[i], unique[j]) for i, j in minhash_pairs([records[i].text for i in unique])}
    if config.across_groups:  # a pair of representatives stands for its members, who may differ in group
        candidates = {(i, j) for i, j in candidates if next(judged_pairs(i, j), None) is not None}
    if progress:
        progress(f"deciding {len(candidates)} candidate pairs")
    ordered = sorted(candidates)  # neighbouring pairs share texts, so a chunk extracts each text about once
    _SWEPT = records
    try:
        if config.workers > 1 and len(ordered) >= PARALLEL_PAIRS and _fork_is_safe():
            size = (len(ordered) + config.workers - 1) // config.workers
            with multiprocessing.get_context("fork").Pool(config.workers) as pool:
                decided = [d for part in pool.map(_decide_chunk, [(ordered[c : c + size], params) for c in range(0, len(ordered), size)]) for d in part]
        else:
            decided = _decide_chunk((ordered, params))
    finally:
        _SWEPT = []
    # a decision between two representatives holds for every pair of their identical members
    pairs += [Pair(min(x, y), max(x, y), decision) for i, j, decision in decided for x, y in judged_pairs(i, j)]
    if config.across_groups:
        pairs = _one_to_one(pairs, listing)
    result = DedupResult(sorted(pairs, key=lambda p: (-p.score, p.a, p.b)), candidates=len(ordered))
    # across districts, a text without one was compared with every other: a district of its own
    _assign_clusters(result, [r.group or f"\0{i}" for i, r in enumerate(records)] if config.across_groups else None)
    return result


def _one_to_one(pairs: list[Pair], listing: Sequence[tuple[str, int] | None]) -> list[Pair]:
    """Between two offices' lists of a year, a text keeps one partner: the pairs are matched greedily,
    closest first, each text taken once (ties kept); pairs of a text without a list are all kept.

    A list holds distinct items, so an item of another office is the same project as one of them at
    most. One agency line ("ผลผลิตการรักษาความสะอาด") was paired with 15 lines of another agency
    (pharmacy, home care...) and made one cluster of them; the closest is the only one left. Greedy,
    not "each other's closest": that dropped a good pair whose one text preferred a text already
    taken by a closer pair (a blind review's chain of four). Closeness is the centered cosine (1 for
    identical texts), comparable across the copy and the reworded routes."""
    def strength(pair: Pair) -> float:
        return pair.decision.semantic if pair.decision.semantic is not None else pair.score

    kept: list[Pair] = []
    between: dict[tuple[tuple[str, int], tuple[str, int]], list[Pair]] = {}
    for pair in pairs:
        here, there = listing[pair.a], listing[pair.b]
        if here is None or there is None:
            kept.append(pair)
        else:
            between.setdefault((min(here, there), max(here, there)), []).append(pair)
    for group in between.values():
        taken: dict[int, float] = {}  # text -> the closeness it was matched at
        for pair in sorted(group, key=lambda p: -strength(p)):
            closeness = strength(pair)
            if all(taken.get(text, closeness) == closeness for text in (pair.a, pair.b)):
                kept.append(pair)
                taken.setdefault(pair.a, closeness)
                taken.setdefault(pair.b, closeness)
    return kept


def _listing(record: DedupRecord) -> tuple[str, int] | None:
    """The list a record comes from: its office and fiscal year (None without either).

    Two different texts are not judged a pair when either office lists the other's text as well, in
    the same year: an office lists its items side by side, so those two are two items, and each
    one's counterpart in the other office is its copy there. Within one office (the sweep that is
    not across offices) that is every pair of its different lines of one year: it paired 256 of them
    on the ordinance ("งานบริหารทั่วไปฝ่ายพัฒนาชุมชน" / "งานพัฒนาชุมชนและบริการสังคม" in each of 50
    districts, a reviewer's walkthrough); its years apart are still compared. Near-copies in one list
    were tried as an item entered twice and reverted: a list is full of a project and its supervision
    contract, an output and its sub-output (14 such pairs of the ordinance's agencies; a blind review).
    The same text twice in one list is still a copy (identical texts are grouped before this rule). Why: every district's
    budget carries the same routine lines, and e5 put short lines of one topic over the semantic bar
    (centered cosine 0.38-0.59, "งานบริหารทั่วไปและบริหารการคลัง" / "...และสอบสวนดำเนินคดี"): on the
    FY2566 ordinance's routine item lines (1,402 rows of 74 offices, 247 texts, no strategic project
    names) the sweep without this rule flagged 18,089 pairs of different lines from two offices,
    14,975 of them lines one of the two offices lists side by side; the sweep across offices now
    flags 1,914 of the other 3,114 (:func:`_one_to_one` leaves out the rest; eval/README.md
    "Duplicates"). A record without a year belongs to no list
    (its office's items of several years may be re-submissions of each other). The dev pairs carry
    no office, so their figures do not move; the semantic bar stays as chosen on them.
    """
    return (record.group, record.year) if record.group and record.year is not None else None


def _fork_is_safe() -> bool:
    """Worker processes are forked only from a single-threaded process (the CLI, bench).

    A fork copies the locks other threads hold at that moment: in the service (request threads, the
    indexer, the job worker) a forked worker hung for good and `GET /v1/duplicates` never answered
    (make reliability, 2026-12-05: one worker dead, the other asleep on a futex, the pool waiting
    forever). The service decides its candidates in-process instead.
    """
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def average_linkage(pairs: Iterable[tuple[int, int]], majority: float = CLUSTER_MAJORITY,
                    districts: Sequence[str] | None = None) -> list[list[int]]:
    """Groups of the positions in ``pairs`` (flagged duplicate pairs): average linkage, where two
    groups join while at least ``majority`` of the pairs between them that were compared are
    flagged (a compared pair not flagged counts 0), best first. ``districts``: each position's
    district when only pairs from different districts were compared (the sweep across districts):
    a pair of one district was never judged, so it is not counted against a join.

    Why not the connected components (before): a chain of duplicates joined texts that are not
    duplicates of each other. On the 300 dev texts (e5 sweep, eval/README.md "Duplicates"), the pairs
    inside the components were 55% true duplicates (317 pairs, 95 of them not flagged, clusters up to
    11 texts mixing unrelated projects); with a majority of 0.5, 81% (215 pairs), while 97% of the
    true pairs stay together, as before. The half is a plain majority, not fitted; complete linkage
    (every pair flagged) depends on which of many tied pairs merges first (85% / 87% to 91% / 94%).

    Why by hand: scipy's and scikit-learn's average linkage take a dense matrix of every pair, and a
    store of 117k Traffy reports flags 835k pairs among 40k texts. Texts flagged with exactly the
    same others and each other (twins: mostly the same report filed again and again) are one group
    from the start: every pair between two groups of twins is flagged, a share of 1, the most there
    is, so this only breaks ties their way; it leaves 15k pairs of groups there (5 s -> 1 s). Then
    the usual merge order on the sparse pairs: each heap entry is an upper bound of its pair's
    current share (a share only falls when a side grows without new flagged pairs, and every rise is
    pushed), so an entry equal to its current share is the best merge; merging the smaller group into
    the larger moves each pair O(log n) times. Ties go to the lower positions.
    """
    neighbours: dict[int, set[int]] = {}
    for a, b in pairs:
        if a != b:
            neighbours.setdefault(a, set()).add(b)
            neighbours.setdefault(b, set()).add(a)
    members: dict[int, list[int]] = {}  # group (its first position) -> positions
    twins: dict[frozenset[int], int] = {}
    group_of: dict[int, int] = {}
    for position in sorted(neighbours):
        group = group_of[position] = twins.setdefault(frozenset(neighbours[position] | {position}), position)
        members.setdefault(group, []).append(position)
    size = {group: len(found) for group, found in members.items()}
    per_district = {group: Counter(districts[p] for p in found) for group, found in members.items()} if districts is not None else None

    def compared(a: int, b: int) -> int:
        """Pairs between groups a and b that were compared: all, or those of two different districts."""
        total = size[a] * size[b]
        if per_district is None:
            return total
        small, large = sorted((per_district[a], per_district[b]), key=len)
        return total - sum(count * large[district] for district, count in small.items())

    links: dict[int, dict[int, int]] = {group: {} for group in members}  # group -> neighbouring group -> flagged pairs between them
    for group, found in members.items():
        for other in {group_of[n] for n in neighbours[found[0]]} - {group}:
            links[group][other] = size[group] * size[other]
    heap = [(-links[a][b] / compared(a, b), a, b) for a, others in links.items() for b in others if a < b]
    heapq.heapify(heap)
    while heap:
        negative, a, b = heapq.heappop(heap)
        if a not in size or b not in size:  # one side was merged away
            continue
        share = links[a][b] / compared(a, b)
        if share < majority:
            continue
        if share != -negative:  # fell since it was pushed: back in at its current share
            heapq.heappush(heap, (-share, a, b))
            continue
        if size[a] < size[b]:
            a, b = b, a
        size[a] += size.pop(b)
        members[a] += members.pop(b)
        if per_district is not None:
            per_district[a] += per_district.pop(b)
        for other, count in links.pop(b).items():
            del links[other][b]
            if other != a:
                links[a][other] = links[other][a] = links[a].get(other, 0) + count
                heapq.heappush(heap, (-links[a][other] / compared(a, other), min(a, other), max(a, other)))
    return [sorted(group) for group in members.values()]


def _assign_clusters(result: DedupResult, districts: Sequence[str] | None = None) -> None:
    """Named clusters (C1 the largest) of the flagged pairs; a pair's cluster is the one both its texts
    are in, empty when average linkage put them in different clusters (the pair is still listed, and
    each of its clusters shows it as a link to a text outside)."""
    groups = sorted((g for g in average_linkage(((p.a, p.b) for p in result.pairs), districts=districts) if len(g) > 1),
                    key=lambda g: (-len(g), g[0]))
    names = {}
    for number, group in enumerate(groups, start=1):
        name = f"C{number}"
        result.clusters[name] = group
        for position in group:
            names[position] = name
    for pair in result.pairs:
        pair.cluster = names.get(pair.a, "") if names.get(pair.a) == names.get(pair.b) else ""


# ---------------------------------------------------------------------------------- the store
def index_semantics(index: ProjectIndex) -> tuple[np.ndarray, DecideParams]:
    """The mean the store's query views are centered with, and the parameters that go with it:
    one answer per index version, shared by the sweep and the draft check."""
    mean, own = semantic_mean(index.encoder_name, len(index), index.query_centroid)
    return mean, params_for(index.encoder_name, own)


@dataclass
class Match:
    """A stored project compared with a draft: a duplicate, or with ``related`` a similar one."""

    id: str
    org: str
    name: str
    decision: Decision
    year: int | None = None  # the stored project's fiscal year and budget: what a planner judges a re-submission by (a walkthrough)
    budget: float | None = None
    copies: list[Match] = field(default_factory=list)  # the other stored projects of the same name judged the same way (:func:`one_per_name`)


def one_per_name(matches: list[Match]) -> list[Match]:
    """Matches of the same name with the same answer as one, the best, naming the others in ``copies``.

    A line every district budgets is stored 50 times: the planner page grouped them, but the API and
    the CLI listed a draft's 51 identical lines one by one among 53 matches (a reviewer's walkthrough)."""
    kept: dict[tuple[str, str], Match] = {}
    for match in matches:
        key = (match.decision.kind, " ".join(match.name.split()))
        if key in kept:
            kept[key].copies.append(match)
        else:
            kept[key] = replace(match, copies=[])
    return list(kept.values())


def check_draft(index: ProjectIndex, store: ProjectStore, encoder: Encoder, text: str, config: DedupConfig | None = None,
                candidates: int = 20, group: str = "", related: bool = False, excluded: np.ndarray | None = None,
                offices: frozenset[str] = frozenset()) -> list[Match]:
    """Stored projects that duplicate one draft (with ``related``: also the similar ones that are
    not duplicates, with the fields that differ), best first.

    Candidates: the draft's ``candidates`` nearest stored texts (centered query views) above the
    rule's semantic bar and its top hybrid-search hits; each is decided by :func:`decide` with the
    parameters and vectors the sweep uses, so a pair it judges gets the sweep's answer (its candidates
    are wider, and a draft is on no office's list: the sweep's across-office rules do not apply).
    ``group``: the draft's district/org, whose own projects are skipped with ``across_groups``.
    ``candidates`` counts distinct texts: a line stored identically by 50 districts took 50 of 20
    places, and 30 of its copies were missed. ``excluded`` (per index row): the rows that are no project,
    citizen reports and rows that only name an office (:func:`~planalign.corpora.projects.names_an_office`), never candidates:
    skipped only after the choice, reports took most of its places once Traffy was stored beside the
    projects (10 of a sidewalk draft's 20 nearest texts with 400 reports among 2,182 rows; the demo
    data holds 117k). ``offices``: the names that are no project (:func:`~planalign.corpora.projects.office_names`);
    a draft that only names an office has no duplicates.
    """
    from planalign.index.hybrid import Filters, rank

    config = config or DedupConfig()
    text = normalize(text)
    if not text or not len(index) or is_office_name(text, offices):  # an office's name alone is no project
        return []
    mean, calibrated = index_semantics(index)
    params = configured(calibrated, config)
    query = encoder.encode_queries([text[:EMBED_CHARS]])[0]
    draft_vector = center(query[None], mean)[0]
    draft = without_own_district(extract(text, draft_vector), group or "")
    first_line = text.split("\n", 1)[0].strip()  # a draft of several lines is a title and what follows it, as a stored project
    draft_name = without_own_district(extract(first_line, draft_vector), group or "") if first_line and first_line != text else None
    # Centered cosines to every stored row from raw dot products: (q_i - m).d / |q_i - m|, |q_i| = 1.
    rows = index.query_view
    norms = np.sqrt(np.maximum(1.0 - 2.0 * (rows @ mean) + float(mean @ mean), 1e-12))
    cosines = (rows @ draft.vector - float(mean @ draft.vector)) / norms
    if index.dead:
        cosines[~index.alive] = -np.inf
    if excluded is not None:
        cosines[excluded] = -np.inf
    positions: list[int] = []
    texts_seen: set[float] = set()
    bar = min(params.sem, params.related_sem)
    for p in np.argsort(-cosines, kind="stable"):
        if cosines[p] < bar:
            break
        seen = round(float(cosines[p]), 6)  # identical texts have identical query views
        if seen not in texts_seen and len(texts_seen) == candidates:
            break
        texts_seen.add(seen)
        positions.append(int(p))
    allowed = None if excluded is None else ~excluded  # the projects (a scope, not a narrowing: the feedback votes as before)
    for hit in rank(index, encoder, text, "hybrid", Filters(positions=allowed, scope=allowed), 10, query_vector=query).positions:
        if hit not in positions:
            positions.append(hit)
    projects = store.get([index.ids[p] for p in positions])
    matches = []
    for position in positions:
        project = projects.get(index.ids[position])
        if project is None:  # deleted from the store after the index was loaded
            continue
        if config.across_groups and group and group == (project.district or project.org):
            continue
        office = project.district or project.org
        stored = DedupRecord(normalize(project.search_text()), center(rows[position][None], mean)[0], project.name, office)
        # a draft whose office is unknown and that names the project's own district only is read as written from it, as the stored text is
        mine, mine_name = (draft, draft_name) if group else (without_own_district(draft, office), draft_name and without_own_district(draft_name, office))
        decision = decide_pair(mine, stored.fields, mine_name, stored.name_fields, params)
        if decision.is_duplicate or (related and decision.kind == "related"):
            matches.append(Match(project.id, project.org, project.name, decision, project.fiscal_year, project.budget))
    return one_per_name(sorted(matches, key=lambda m: (not m.decision.is_duplicate, -m.decision.score)))
