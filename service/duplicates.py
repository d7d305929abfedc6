"""Duplicate detection wired to its inputs: the store, a plain file, or one draft.

The detection itself lives in :mod:`planalign.index.dedup`; this module gathers texts and labels
from where the user points, and shapes the pairs into the output table.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from planalign.corpora.labelled import join_text_columns
from planalign.corpora.tables import read_table
from planalign.index.dedup import DedupConfig, DedupResult, jaccard, shingles
from planalign.index.hybrid import Filters, rank_positions
from planalign.index.project_index import ProjectIndex
from planalign.nlp.encoders.base import unit_rows
from planalign.nlp.normalize import normalize
from planalign.service.engine import Workspace

PAIR_COLUMNS = ["id_a", "id_b", "score", "kind", "cluster", "text_a", "text_b"]


@dataclass
class Records:
    ids: list[str]
    texts: list[str]
    groups: list[str] | None  # district or organization
    years: list[str] | None = None
    vectors: np.ndarray | None = None  # from the index, when the records come from the store
    names: list[str] | None = None
    orgs: list[str] | None = None
    tokens: list[list[str]] | None = None  # content tokens from the index, to skip re-tokenizing


@dataclass
class Match:
    id: str
    org: str
    name: str
    score: float
    kind: str
    why: str


def records_from_file(path: Path, text_columns: list[str], id_column: str | None, group_column: str | None) -> Records:
    """Rows with text; without an id column a row is known by its 0-based data row number."""
    table = read_table(path)
    table.require([*text_columns] + [c for c in (id_column, group_column) if c])
    numbered = [(str(n), r) for n, r in enumerate(table.rows) if join_text_columns(r, text_columns)]
    rows = [r for _, r in numbered]
    return Records(
        ids=[r[id_column] for r in rows] if id_column else [n for n, _ in numbered],
        texts=[normalize(join_text_columns(r, text_columns)) for r in rows],
        groups=[r[group_column] for r in rows] if group_column else None,
    )


def records_from_store(workspace: Workspace, index: ProjectIndex, year: int | None) -> Records:
    mask = index.mask(fiscal_year=year)
    positions = np.flatnonzero(mask) if mask is not None else np.arange(len(index))
    projects = workspace.store.get([index.ids[p] for p in positions])
    positions = [p for p in positions if index.ids[p] in projects]
    kept = [projects[index.ids[p]] for p in positions]
    return Records(
        ids=[p.id for p in kept],
        texts=[normalize(p.search_text()) for p in kept],
        groups=[p.district or p.org for p in kept],
        years=[str(p.fiscal_year or "") for p in kept],
        vectors=index.vectors.vectors[positions],
        names=[p.name for p in kept],
        orgs=[p.org for p in kept],
        tokens=[index.keyword.tokens[p] for p in positions],
    )


def pair_rows(records: Records, result: DedupResult) -> tuple[list[str], list[dict]]:
    columns = list(PAIR_COLUMNS)
    if records.groups is not None:
        columns += ["group_a", "group_b"]
    if records.years is not None:
        columns += ["year_a", "year_b"]
    columns.append("why")
    rows = []
    for pair in result.pairs:
        row = {
            "id_a": records.ids[pair.a], "id_b": records.ids[pair.b], "score": f"{pair.score:.4f}", "kind": pair.kind,
            "cluster": pair.cluster, "text_a": records.texts[pair.a], "text_b": records.texts[pair.b], "why": pair.why,
        }
        if records.groups is not None:
            row.update(group_a=records.groups[pair.a], group_b=records.groups[pair.b])
        if records.years is not None:
            row.update(year_a=records.years[pair.a], year_b=records.years[pair.b])
        rows.append(row)
    return columns, rows


def check_draft(workspace: Workspace, index: ProjectIndex, text: str, config: DedupConfig | None = None, candidates: int = 50) -> list[Match]:
    """Stored projects that duplicate one draft: hybrid search finds candidates, dedup rules decide.

    ``index``: the caller's loaded index (the service keeps one per generation; loading it rebuilds BM25).
    """
    config = config or DedupConfig()
    text = normalize(text)
    if not text:
        raise ValueError("empty text")
    encoder = workspace.index_encoder(index)
    ranked = rank_positions(index, encoder, text, "hybrid", Filters(), candidates)
    if not ranked:
        return []
    positions = [p for p, _ in ranked]
    draft = unit_rows(encoder.encode_passages([text[:2000]]) - index.centroid)[0]
    cosines = unit_rows(index.vectors.vectors[positions] - index.centroid) @ draft
    density = float(np.sort(cosines)[::-1][: config.neighbours].mean())
    projects = workspace.store.get([index.ids[p] for p in positions])
    draft_shingles = shingles(text)
    matches = []
    for position, cosine in zip(positions, cosines.tolist()):
        project = projects.get(index.ids[position])
        if project is None:
            continue
        overlap = jaccard(draft_shingles, shingles(project.search_text(), index.keyword.tokens[position]))
        margin = cosine / max(1e-6, density)
        if overlap >= config.copy_threshold:
            matches.append(Match(project.id, project.org, project.name, round(overlap, 4), "copy", f"{overlap:.0%} of word/character shingles shared"))
        elif cosine >= config.semantic_threshold and margin >= config.margin_threshold:
            matches.append(Match(project.id, project.org, project.name, round(cosine, 4), "semantic", f"cosine {cosine:.2f}, {margin:.2f}x the neighbourhood mean"))
    return sorted(matches, key=lambda m: -m.score)
