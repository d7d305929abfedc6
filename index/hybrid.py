"""Hybrid search: dense (semantic) and BM25 (keyword) rankings fused by reciprocal rank fusion.

RRF needs no score calibration between the two very different score scales; each list
contributes weight/(k + rank). The weight of the dense list depends on the query: a short query
(up to three words, e.g. "ฝาท่อหาย") is a lexical lookup that BM25 answers best, while a longer,
natural-language need is where the embedding helps. On our judged Traffy queries this beat equal
weights (eval/README.md; the two weights were chosen on that set). Filters (year, district, district
group, dimension) restrict both rankings before fusion, so a filtered search still returns a full page.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from planalign.errors import InputError
from planalign.index.project_index import ProjectIndex
from planalign.index.snippets import snippet
from planalign.index.store import ProjectStore
from planalign.nlp.encoders import Encoder
from planalign.nlp.normalize import normalize
from planalign.nlp.tokenize import content_tokens

MODES = ("hybrid", "dense", "keyword")
RRF_K = 60
CANDIDATES = 100
SHORT_QUERY_WORDS = 3
DENSE_WEIGHT_SHORT = 0.1
DENSE_WEIGHT_LONG = 1.5


@dataclass
class Filters:
    year: int | None = None
    district: str | None = None
    group: str | None = None
    dimension: str | None = None

    def as_meta(self) -> dict[str, object]:
        return {"fiscal_year": self.year, "district": self.district, "district_group": self.group, "dimension_id": self.dimension}


@dataclass
class Hit:
    id: str
    score: float
    name: str
    org: str
    year: int | None
    snippet: str
    highlights: list[tuple[int, int]] = field(default_factory=list)
    district: str = ""
    district_group: str = ""
    dimension_id: str = ""


def rrf(rankings: list[np.ndarray], weights: list[float] | None = None, k: int = RRF_K) -> dict[int, float]:
    """Weighted reciprocal rank fusion of several rankings of positions."""
    fused: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights or [1.0] * len(rankings)):
        for rank, position in enumerate(ranking.tolist()):
            fused[position] = fused.get(position, 0.0) + weight / (k + rank + 1)
    return fused


def rank_positions(index: ProjectIndex, encoder: Encoder | None, query: str, mode: str, filters: Filters, top: int) -> list[tuple[int, float]]:
    """(position, score) best first; the ranking core shared by search and the benchmarks."""
    if mode not in MODES:
        raise InputError(f"unknown search mode {mode!r}; choose one of {', '.join(MODES)}")
    query = normalize(query)
    mask = index.mask(**filters.as_meta())
    depth = max(CANDIDATES, top)
    words = content_tokens(query, normalized=True)
    rankings: list[tuple[np.ndarray, np.ndarray]] = []
    if mode in ("hybrid", "keyword"):
        rankings.append(index.keyword.search(words, depth, mask))
    if mode in ("hybrid", "dense"):
        if encoder is None:
            raise TypeError("dense search needs an encoder")
        vector = encoder.encode_queries([query[:2000]])[0]
        rankings.append(index.vectors.search(vector, depth, mask))
    if mode != "hybrid":
        positions, scores = rankings[0]
        return list(zip(positions.tolist()[:top], scores.tolist()[:top]))
    dense_weight = DENSE_WEIGHT_SHORT if len(words) <= SHORT_QUERY_WORDS else DENSE_WEIGHT_LONG
    fused = rrf([positions for positions, _ in rankings], [1.0, dense_weight])
    return sorted(fused.items(), key=lambda item: -item[1])[:top]


def search(index: ProjectIndex, store: ProjectStore, encoder: Encoder | None, query: str, mode: str = "hybrid",
           filters: Filters | None = None, top: int = 10) -> list[Hit]:
    """Ranked hits with snippets; the project fields come from the store of record."""
    return to_hits(index, store, rank_positions(index, encoder, query, mode, filters or Filters(), top), query)


def to_hits(index: ProjectIndex, store: ProjectStore, ranked: list[tuple[int, float]], query: str) -> list[Hit]:
    """Ranked positions as hits with highlighted snippets (projects deleted meanwhile are skipped)."""
    projects = store.get([index.ids[p] for p, _ in ranked])
    words = content_tokens(query)
    hits = []
    for position, score in ranked:
        project = projects.get(index.ids[position])
        if project is None:  # deleted from the store after the index was loaded
            continue
        text, spans = snippet(project.search_text().replace("\n", " "), words)
        hits.append(Hit(project.id, round(float(score), 6), project.name, project.org, project.fiscal_year, text, spans,
                        project.district, project.district_group, project.dimension_id))
    return hits
