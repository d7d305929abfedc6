"""Duplicate detection across districts and years: one decision for the sweep and the draft check.

* **copy**: near-verbatim reuse (copy-paste with small edits, Thai vs Arabic digits, an
  abbreviation spelled out). Texts are normalized, then compared as sets of Thai word 3-grams and
  character 5-grams; the Jaccard similarity of the shingle sets decides.
* **semantic**: the same project in other words. Cosine of centered embeddings (the corpus mean
  removed, which spreads scores), and a *margin*: the pair's cosine divided by the mean cosine of
  each side to its own nearest neighbours. In a dense neighbourhood (many projects about one canal)
  everything is similar, so only a pair that stands out from its neighbours counts.

A pair whose *names* carry different numbers (ซอย 48 vs ซอย 52, สัญญาที่ 2 vs 3) is two sites or
two contracts of one programme, not a duplicate, however alike the rest is; years (25xx/20xx) are
not counted, since the same project proposed again next year is exactly what reviewers look for.

:func:`decide` is the only place these rules live. The sweep (:func:`find_duplicates`) finds
candidate pairs with MinHash LSH and nearest neighbours, the draft check (:func:`check_draft`) with
hybrid search; both hand every candidate to :func:`decide`, so a single check never returns a pair
the sweep would refuse. Decisions carry numbers and words, not sentences: the CLI and the pages
word them (in Thai).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from datasketch import MinHash, MinHashLSH
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from planalign.index.ann import make_ann
from planalign.index.hybrid import Filters, rank_positions
from planalign.index.project_index import ProjectIndex
from planalign.index.store import ProjectStore
from planalign.nlp.encoders import Encoder
from planalign.nlp.encoders.base import unit_rows
from planalign.nlp.normalize import normalize
from planalign.nlp.tokenize import content_tokens

NUM_PERM = 128
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_YEAR = re.compile(r"^(?:25|20)\d\d$")
Kind = Literal["copy", "semantic"]


@dataclass(frozen=True)
class DedupConfig:
    copy_threshold: float = 0.6  # Jaccard of shingle sets
    semantic_threshold: float = 0.85  # centered cosine
    margin_threshold: float = 1.15  # cosine / mean neighbour cosine
    neighbours: int = 10
    across_groups: bool = False  # only pairs whose groups (district, org) differ


@dataclass
class DedupRecord:
    """One text prepared for comparison."""

    text: str  # normalized
    words: list[str]
    name: str = ""
    group: str = ""
    vector: np.ndarray | None = None  # centered unit vector
    density: float | None = None  # mean centered cosine to its nearest neighbours

    def __post_init__(self) -> None:
        self.shingles = shingles(self.text, self.words)
        self.numbers = name_numbers(self.name or self.text.split("\n", 1)[0])


@dataclass(frozen=True)
class Decision:
    """Why two texts are the same project: the kind, its score and the numbers behind it."""

    kind: Kind
    score: float
    overlap: float  # Jaccard of word/character shingles
    cosine: float | None = None  # centered cosine
    margin: float | None = None  # cosine / mean neighbourhood cosine
    shared_words: tuple[str, ...] = ()


@dataclass
class Pair:
    a: int
    b: int
    decision: Decision
    cluster: str = ""

    @property
    def kind(self) -> Kind:
        return self.decision.kind

    @property
    def score(self) -> float:
        return self.decision.score


@dataclass
class DedupResult:
    pairs: list[Pair]
    clusters: dict[str, list[int]] = field(default_factory=dict)


def shingles(text: str, words: list[str] | None = None) -> set[str]:
    """Word 3-grams (abbreviations expanded, stopwords dropped) and character 5-grams."""
    text = normalize(text)
    words = content_tokens(text, normalized=True) if words is None else words
    grams = {" ".join(words[i : i + 3]) for i in range(max(1, len(words) - 2))} if words else set()
    compact = "".join(text.split())
    grams |= {compact[i : i + 5] for i in range(max(1, len(compact) - 4))}
    return grams


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def name_numbers(name: str) -> frozenset[str]:
    """Numbers in a project name that identify a site or contract (years left out)."""
    return frozenset(n.replace(",", "") for n in _NUMBER.findall(normalize(name)) if not _YEAR.match(n))


def decide(a: DedupRecord, b: DedupRecord, config: DedupConfig) -> Decision | None:
    """Whether ``a`` and ``b`` are the same project, and why; None when they are not (or may not pair)."""
    if config.across_groups and a.group and a.group == b.group:
        return None
    if a.numbers and b.numbers and a.numbers != b.numbers:
        return None
    overlap = jaccard(a.shingles, b.shingles)
    if overlap >= config.copy_threshold:
        return Decision("copy", round(overlap, 4), round(overlap, 4), shared_words=_shared(a, b))
    if a.vector is None or b.vector is None:
        return None
    cosine = float(a.vector @ b.vector)
    if cosine < config.semantic_threshold:
        return None
    densities = [d for d in (a.density, b.density) if d is not None]
    margin = cosine / max(1e-6, sum(densities) / len(densities)) if densities else float("inf")
    if margin < config.margin_threshold:
        return None
    return Decision("semantic", round(cosine, 4), round(overlap, 4), round(cosine, 4), round(margin, 4), _shared(a, b))


def _shared(a: DedupRecord, b: DedupRecord) -> tuple[str, ...]:
    theirs = set(b.words)
    return tuple(w for w in dict.fromkeys(a.words) if w in theirs)[:10]


def make_records(
    texts: Sequence[str],
    vectors: np.ndarray | None,
    *,
    names: Sequence[str] | None = None,
    groups: Sequence[str] | None = None,
    tokens: Sequence[list[str]] | None = None,
    centroid: np.ndarray | None = None,
) -> list[DedupRecord]:
    """Records for texts; ``vectors`` (unit rows) are centered on ``centroid`` (default: their mean)."""
    texts = [normalize(t) for t in texts]
    centered = None
    if vectors is not None and len(vectors):
        centered = unit_rows(vectors - (vectors.mean(axis=0) if centroid is None else centroid))
    return [
        DedupRecord(
            text,
            list(tokens[i]) if tokens is not None else content_tokens(text, normalized=True),
            names[i] if names is not None else "",
            groups[i] if groups is not None else "",
            centered[i] if centered is not None else None,
        )
        for i, text in enumerate(texts)
    ]


def find_duplicates(records: list[DedupRecord], config: DedupConfig | None = None, progress: Callable[[str], None] | None = None) -> DedupResult:
    """All duplicate pairs among ``records`` (positions), clustered."""
    config = config or DedupConfig()
    if progress:
        progress("near-copies")
    candidates = _shingle_candidates(records, config)
    if all(r.vector is not None for r in records) and len(records) > 1:
        if progress:
            progress("semantic overlap")
        candidates |= _neighbour_candidates(records, config)
    pairs = []
    for a, b in sorted(candidates):
        decision = decide(records[a], records[b], config)
        if decision is not None:
            pairs.append(Pair(a, b, decision))
    result = DedupResult(sorted(pairs, key=lambda p: (-p.score, p.a, p.b)))
    _assign_clusters(result, len(records))
    return result


def _shingle_candidates(records: list[DedupRecord], config: DedupConfig) -> set[tuple[int, int]]:
    """Pairs whose shingle sets may reach the copy threshold (MinHash LSH, a looser threshold)."""
    hashes = MinHash.bulk([[s.encode() for s in r.shingles] for r in records], num_perm=NUM_PERM)
    lsh = MinHashLSH(threshold=max(0.3, config.copy_threshold - 0.15), num_perm=NUM_PERM)
    with lsh.insertion_session() as session:
        for i, minhash in enumerate(hashes):
            session.insert(i, minhash, check_duplication=False)
    return {(i, j) for i, minhash in enumerate(hashes) for j in lsh.query(minhash) if j > i}


def _neighbour_candidates(records: list[DedupRecord], config: DedupConfig) -> set[tuple[int, int]]:
    """Each record's nearest neighbours (centered vectors), and its neighbourhood density."""
    vectors = np.vstack([r.vector for r in records if r.vector is not None])
    positions, scores = make_ann(vectors, light=True).neighbours(config.neighbours + 1)
    found = set()
    for i, (row_positions, row_scores) in enumerate(zip(positions, scores)):
        others = row_positions != i
        records[i].density = float(row_scores[others][: config.neighbours].mean()) if others.any() else 0.0
        for j, cosine in zip(row_positions.tolist(), row_scores.tolist()):
            if j >= 0 and j != i and cosine >= config.semantic_threshold:
                found.add((min(i, j), max(i, j)))
    return found


def _assign_clusters(result: DedupResult, size: int) -> None:
    if not result.pairs:
        return
    rows = [p.a for p in result.pairs]
    cols = [p.b for p in result.pairs]
    graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(size, size))
    _, labels = connected_components(graph, directed=False)
    members: dict[int, list[int]] = {}
    for position in sorted(set(rows) | set(cols)):
        members.setdefault(int(labels[position]), []).append(position)
    ordered = sorted(members.values(), key=lambda m: (-len(m), m[0]))
    names = {}
    for number, group in enumerate(ordered, start=1):
        name = f"C{number}"
        result.clusters[name] = group
        for position in group:
            names[position] = name
    for pair in result.pairs:
        pair.cluster = names[pair.a]


@dataclass
class Match:
    """A stored project that duplicates a draft."""

    id: str
    org: str
    name: str
    decision: Decision


def check_draft(index: ProjectIndex, store: ProjectStore, encoder: Encoder, text: str, config: DedupConfig | None = None,
                candidates: int = 50, group: str = "") -> list[Match]:
    """Stored projects that duplicate one draft: hybrid search finds candidates, :func:`decide` decides.

    The draft's neighbourhood density is its mean centered cosine to its closest candidates; the
    candidates' own densities are not known here (that needs the corpus-wide neighbour pass of the
    sweep), so the draft's stands for both.
    """
    config = config or DedupConfig()
    text = normalize(text)
    ranked = rank_positions(index, encoder, text, "hybrid", Filters(), candidates)
    if not ranked:
        return []
    positions = [p for p, _ in ranked]
    draft_vector = unit_rows(encoder.encode_passages([text[:2000]]) - index.centroid)[0]
    stored = unit_rows(index.vectors.vectors[positions] - index.centroid)
    density = float(np.sort(stored @ draft_vector)[::-1][: config.neighbours].mean())
    draft = DedupRecord(text, content_tokens(text, normalized=True), group=group, vector=draft_vector, density=density)
    projects = store.get([index.ids[p] for p in positions])
    matches = []
    for position, vector in zip(positions, stored):
        project = projects.get(index.ids[position])
        if project is None:  # deleted from the store after the index was loaded
            continue
        candidate = DedupRecord(normalize(project.search_text()), index.keyword.tokens[position], project.name,
                                project.district or project.org, vector)
        decision = decide(draft, candidate, config)
        if decision is not None:
            matches.append(Match(project.id, project.org, project.name, decision))
    return sorted(matches, key=lambda m: -m.decision.score)
