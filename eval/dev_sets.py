"""The labelled development sets of search and duplicates, read in place from ``../shared/data/labelled``.

* ``dedup_pairs_dev.csv``: 60 project names x (copy, paraphrase by another office, related, unrelated);
* ``search_corpus_dev.csv``: the 300 distinct texts of those pairs as a search corpus;
* ``search_queries_dev.csv`` / ``search_qrels_dev.csv``: 36 reviewer queries (12 short, 12 natural,
  12 paraphrase) with graded judgments (2 = exactly, 1 = partly; unlisted = 0).

Written independently of planalign's method (see the set's README). Thresholds and weights are
chosen on them with cross-validation; nothing from them is copied into code or dictionaries.
The corpus is indexed once per encoder through the product (store, both vector views, BM25), in a
workspace under the data directory, so every figure is what the product itself computes.
"""
from __future__ import annotations

import csv
import json
import sys
import time
from pathlib import Path

from planalign.app import Application
from planalign.config import Settings
from planalign.corpora.projects import Project
from planalign.eval.datasets import DatasetMissing, shared_data_dir


def labelled_path(name: str) -> Path:
    path = shared_data_dir() / "labelled" / name
    if not path.is_file():
        raise DatasetMissing(f"{path} not found")
    return path


def _rows(name: str) -> list[dict[str, str]]:
    with labelled_path(name).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def dedup_pairs() -> list[dict[str, str]]:
    """``pair_id, source_id, source_text, candidate_text, kind, is_duplicate``."""
    return _rows("dedup_pairs_dev.csv")


def search_corpus() -> list[tuple[str, str]]:
    """(doc_id, text) of the 300 dev texts."""
    return [(r["doc_id"], r["text"]) for r in _rows("search_corpus_dev.csv")]


def search_queries() -> list[dict[str, str]]:
    """``qid, kind (short | natural | paraphrase), query``."""
    return _rows("search_queries_dev.csv")


def search_qrels() -> dict[str, dict[str, int]]:
    """qid -> {doc_id: grade}."""
    judged: dict[str, dict[str, int]] = {}
    for row in _rows("search_qrels_dev.csv"):
        judged.setdefault(row["qid"], {})[row["doc_id"]] = int(row["grade"])
    return judged


def dev_workspace(encoder: str, data_dir: Path | None = None) -> Application:
    """The 300 dev texts stored and indexed by the product with ``encoder`` (idempotent)."""
    root = data_dir or Settings.load().resolved_data_dir() / f"eval-dev-{encoder}"
    app = Application(Settings.load(data_dir=root))
    corpus = search_corpus()
    if app.store.count() != len(corpus):
        app.store.upsert([Project(id=doc_id, name=text) for doc_id, text in corpus])
    started = time.perf_counter()
    sync = app.sync(encoder)
    if sync.added:
        print(f"dev index ({encoder}): {sync.total} texts, {sync.added} embedded in {time.perf_counter() - started:.0f}s", file=sys.stderr)
    return app


def project_background() -> list[str]:
    """Unlabelled project-like Thai text for a background mean: the campaign policy names, the
    routine budget line items (text only) and the strategy catalogs' names and descriptions. No
    held-out text (the FY2566 strategic project names) and none of the dev sets above."""
    shared = shared_data_dir()
    texts = [p["name_th"] for p in json.loads((shared / "policies" / "policies_campaign_2022.json").read_text(encoding="utf-8"))]
    texts += [r["text"] for r in _rows("bma_routine_items_2566.csv")]
    for name in ("bma_strategy_9d_28issues.csv", "bma_20yr_plan_7d.csv"):
        with (shared / "catalogs" / name).open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                texts += [row["name"]] + ([row["description"]] if row.get("description") else [])
    return [t for t in texts if t.strip()]
