"""Duplicate detection across districts and years, with two signals that explain themselves.

* **copy**: near-verbatim reuse (copy-paste with small edits, Thai vs Arabic digits, an
  abbreviation spelled out). Texts are normalized, then compared as sets of Thai word 3-grams and
  character 5-grams; MinHash LSH (datasketch) finds candidate pairs without comparing all pairs, and
  the exact Jaccard similarity of the shingle sets decides.
* **semantic**: the same project in other words. Cosine of centered embeddings (the corpus mean
  removed, which spreads scores), and a *margin*: the pair's cosine divided by the mean cosine of
  each side to its own nearest neighbours. In a dense neighbourhood (many projects about one canal)
  everything is similar, so only a pair that stands out from its neighbours counts: "same canal,
  different project" stays apart.

A pair whose *names* carry different numbers (ซอย 48 vs ซอย 52, สัญญาที่ 2 vs 3) is two sites or
two contracts of one programme, not a duplicate, however alike the rest is; years (25xx/20xx) are
not counted, since the same project proposed again next year is exactly what reviewers look for.
Accepted pairs are joined into clusters (connected components).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import faiss
import numpy as np
from datasketch import MinHash, MinHashLSH
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from planalign.index.vectors import DEFAULT_EXACT_LIMIT, VectorIndex
from planalign.nlp.encoders.base import unit_rows
from planalign.nlp.normalize import normalize
from planalign.nlp.tokenize import content_tokens

NUM_PERM = 128
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_YEAR = re.compile(r"^(?:25|20)\d\d$")


@dataclass(frozen=True)
class DedupConfig:
    copy_threshold: float = 0.6  # Jaccard of shingle sets
    semantic_threshold: float = 0.85  # centered cosine
    margin_threshold: float = 1.15  # cosine / mean neighbour cosine
    neighbours: int = 10
    across_groups: bool = False  # only pairs whose groups (district, org) differ


@dataclass
class Pair:
    a: int
    b: int
    score: float
    kind: str  # copy | semantic
    why: str
    cluster: str = ""


@dataclass
class DedupResult:
    pairs: list[Pair]
    clusters: dict[str, list[int]] = field(default_factory=dict)


def shingles(text: str, words: list[str] | None = None) -> set[str]:
    """Word 3-grams (abbreviations expanded, stopwords dropped) and character 5-grams.

    ``words``: the text's content tokens when already known (the search index keeps them), which
    saves the tokenizer pass that dominates on a large corpus.
    """
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


def find_duplicates(
    texts: Sequence[str],
    vectors: np.ndarray | None,
    groups: Sequence[str] | None = None,
    config: DedupConfig | None = None,
    progress: Callable[[str], None] | None = None,
    names: Sequence[str] | None = None,
    tokens: Sequence[list[str]] | None = None,
) -> DedupResult:
    """All duplicate pairs among ``texts`` (positions), clustered; ``vectors`` are unit embeddings.

    ``names`` default to each text's first line (our texts start with the project name).
    """
    config = config or DedupConfig()
    pairs: dict[tuple[int, int], Pair] = {}
    numbers = [name_numbers(n) for n in (names if names is not None else [t.split("\n", 1)[0] for t in texts])]

    def allowed(a: int, b: int) -> bool:
        if config.across_groups and groups is not None and groups[a] and groups[a] == groups[b]:
            return False
        return not (numbers[a] and numbers[b] and numbers[a] != numbers[b])

    if progress:
        progress("near-copies")
    for pair in _copy_pairs(texts, config, tokens):
        if allowed(pair.a, pair.b):
            pairs[(pair.a, pair.b)] = pair
    if vectors is not None and len(vectors) > 1:
        if progress:
            progress("semantic overlap")
        for pair in _semantic_pairs(vectors, config):
            if allowed(pair.a, pair.b) and (pair.a, pair.b) not in pairs:
                pairs[(pair.a, pair.b)] = pair
    result = DedupResult(sorted(pairs.values(), key=lambda p: (-p.score, p.a, p.b)))
    _assign_clusters(result, len(texts))
    return result


def _copy_pairs(texts: Sequence[str], config: DedupConfig, tokens: Sequence[list[str]] | None) -> list[Pair]:
    sets = [shingles(t, tokens[i] if tokens is not None else None) for i, t in enumerate(texts)]
    hashes = MinHash.bulk([[s.encode() for s in grams] for grams in sets], num_perm=NUM_PERM)
    lsh = MinHashLSH(threshold=max(0.3, config.copy_threshold - 0.15), num_perm=NUM_PERM)
    with lsh.insertion_session() as session:
        for i, minhash in enumerate(hashes):
            session.insert(i, minhash, check_duplication=False)
    found = []
    for i, minhash in enumerate(hashes):
        for j in lsh.query(minhash):
            if j > i:
                score = jaccard(sets[i], sets[j])
                if score >= config.copy_threshold:
                    found.append(Pair(i, j, round(score, 4), "copy", f"{score:.0%} of word/character shingles shared"))
    return found


def _semantic_pairs(vectors: np.ndarray, config: DedupConfig) -> list[Pair]:
    centered = unit_rows(vectors - vectors.mean(axis=0))
    positions, scores = _all_neighbours(centered, config.neighbours + 1)
    # Each row's neighbourhood density: mean cosine to its neighbours, itself excluded.
    density = np.array([s[p != i][: config.neighbours].mean() if (p != i).any() else 0.0 for i, (p, s) in enumerate(zip(positions, scores))])
    found = []
    for i, (row_positions, row_scores) in enumerate(zip(positions, scores)):
        for j, cosine in zip(row_positions.tolist(), row_scores.tolist()):
            if j <= i or cosine < config.semantic_threshold:
                continue
            margin = cosine / max(1e-6, (density[i] + density[j]) / 2)
            if margin >= config.margin_threshold:
                found.append(Pair(i, j, round(cosine, 4), "semantic", f"cosine {cosine:.2f}, {margin:.2f}x the neighbourhood mean"))
    return found


def _all_neighbours(vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """k nearest neighbours of every vector: exact while small, a light HNSW graph when large.

    Duplicates sit very close to each other, so a graph built for speed (fewer links, shallower
    construction) finds them as well as the search index's own, recall-tuned graph would.
    """
    if len(vectors) <= DEFAULT_EXACT_LIMIT:
        return VectorIndex(vectors, "flat").neighbours(k)
    graph = faiss.IndexHNSWFlat(vectors.shape[1], 16, faiss.METRIC_INNER_PRODUCT)
    graph.hnsw.efConstruction = 40
    graph.add(np.ascontiguousarray(vectors, dtype=np.float32))
    graph.hnsw.efSearch = 64
    scores, positions = graph.search(np.ascontiguousarray(vectors, dtype=np.float32), k)
    return positions, scores


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
