"""Evaluation datasets: our own dev set (shipped) and real data read in place from ../shared/data.

Shared data is never copied into the repository; loaders raise :class:`DatasetMissing` when it is
absent so callers can skip with a message.
"""
from __future__ import annotations

import csv
import gzip
import json
import os
import random
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from planalign.corpora.tables import Table, read_table

REPO_ROOT = Path(__file__).resolve().parents[1]
OTHER_LABEL = "อื่นๆ"  # Traffy's "other": not a usable class


class DatasetMissing(FileNotFoundError):
    """The shared data needed for a dataset is not on this machine."""


@dataclass
class Dataset:
    name: str
    texts: list[str]
    labels: list[list[str]]


def shared_data_dir() -> Path:
    """``$PLANALIGN_SHARED_DATA`` or ``../shared/data`` beside the checkout."""
    path = Path(os.environ.get("PLANALIGN_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
    if not path.is_dir():
        raise DatasetMissing(f"shared data not found at {path} (set PLANALIGN_SHARED_DATA)")
    return path


def eval_data_path(name: str) -> Path:
    with resources.as_file(resources.files("planalign.eval").joinpath("data", name)) as path:
        return Path(path)


def devset(level: str) -> Dataset:
    """Our dev set of drafts (name + objective + target) labelled at ``dimension`` or ``issue``."""
    table = read_table(eval_data_path("devset_drafts.csv"))
    column = {"dimension": "dimension_id", "issue": "issue_id"}[level]
    texts = ["\n".join(r[c] for c in ("name", "objective", "target") if r[c]) for r in table.rows]
    return Dataset(f"devset-{level}", texts, [[r[column]] for r in table.rows])


def policies() -> Dataset:
    """The 214 campaign policies (Thai titles) with their 1-3 campaign dimensions."""
    path = shared_data_dir() / "policies" / "policies_campaign_2022.json"
    records = json.loads(path.read_text(encoding="utf-8"))
    texts, labels = [], []
    for record in records:
        dims = [d for d in record["dimensions_campaign"] if not d.startswith("+")]
        if dims and record["name_th"].strip():
            texts.append(record["name_th"].strip())
            labels.append(dims)
    return Dataset("policies-2022", texts, labels)


def traffy(split: str, limit: int | None = None, seed: int = 13) -> Dataset:
    """Traffy reports with at least one category other than อื่นๆ; a seeded sample of ``limit``."""
    path = shared_data_dir() / "traffy" / f"traffy_{split}.csv.gz"
    if not path.is_file():
        raise DatasetMissing(f"{path} not found")
    texts, labels = [], []
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            types = [t.strip() for t in row["type"].split(",") if t.strip() and t.strip() != OTHER_LABEL]
            text = row["description"].strip()
            if types and len(text) >= 10:
                texts.append(text)
                labels.append(types)
    order = list(range(len(texts)))
    random.Random(seed).shuffle(order)
    order = order[:limit] if limit else order
    return Dataset(f"traffy-{split}", [texts[i] for i in order], [labels[i] for i in order])


def routine_items(level: str) -> Dataset:
    """The 158 real FY2566 routine budget items, gold = every label an annotator gave (``*_ok``)."""
    table = read_table(shared_data_dir() / "labelled" / "bma_routine_items_2566.csv")
    column = {"dimension": "dimension_ok", "issue": "issue_ok"}[level]
    return Dataset(f"routine-{level}", [r["text"] for r in table.rows], [r[column].split("|") for r in table.rows])


def project_names(level: str) -> Dataset:
    """180 project names of the dev corpus (`search_corpus_dev.csv`, read in place: the 60 sources
    and their related and unrelated candidates, not the copies and paraphrases), labelled with the
    official catalog's issue by two independent annotators who saw only that catalog and the names
    (``eval/data/project_names_labels.csv`` holds the doc ids and labels, no text); gold = either
    annotator's primary label (``*_ok``), as for the routine items."""
    texts = {r["doc_id"]: r["text"] for r in read_table(shared_data_dir() / "labelled" / "search_corpus_dev.csv").rows}
    table = read_table(eval_data_path("project_names_labels.csv"))
    column = {"dimension": "dimension_ok", "issue": "issue_ok"}[level]
    return Dataset(f"projects-{level}", [texts[r["doc_id"]] for r in table.rows], [r[column].split("|") for r in table.rows])


# the catalogs no choice of ours was made on until one was read off them, and their label files (eval/data)
OTHER_CATALOG_LABELS = {"plan20": "plan20_labels.csv", "national": "national_strategy_labels.csv"}


def other_catalog_labels(catalog: str, source: str, level: str) -> Dataset:
    """The routine items (``source="routine"``) or the project names (``"projects"``) labelled with another
    catalog (no choice of ours was made on it until a keyword-less node's name in context), by two independent
    annotators who saw only that catalog and the texts (``eval/data/README.md``): ``catalog`` is ``"plan20"``
    (Bangkok's 20-year plan, 7 dimensions and 29 sub-strategies, ``../shared/data/catalogs/bma_20yr_plan_7d.csv``)
    or ``"national"`` (the 20-year National Strategy's 6 strategies, ``eval/data/national_strategy_6.csv``,
    written from general knowledge by an AI writer); gold = either annotator's primary label (``*_ok``)."""
    rows = other_catalog_table(catalog, source).rows
    return Dataset(f"{source}-{catalog}-{level}", [r["text"] for r in rows], [r[f"{level}_ok"].split("|") for r in rows])


def other_catalog_table(catalog: str, source: str) -> Table:
    """The label file's rows of ``source`` with each row's text (read in place) in a ``text`` column."""
    texts = {r["id"]: r["text"] for r in read_table(shared_data_dir() / "labelled" / "bma_routine_items_2566.csv").rows}
    texts.update({r["doc_id"]: r["text"] for r in read_table(shared_data_dir() / "labelled" / "search_corpus_dev.csv").rows})
    labels = read_table(eval_data_path(OTHER_CATALOG_LABELS[catalog]))
    return Table(labels.columns + ["text"], [{**r, "text": texts[r["id"]]} for r in labels.rows if r["source"] == source])


def other_catalog_path(catalog: str) -> Path:
    """The catalog file of :func:`other_catalog_labels`."""
    if catalog == "plan20":
        return shared_data_dir() / "catalogs" / "bma_20yr_plan_7d.csv"
    if catalog == "national":
        return eval_data_path("national_strategy_6.csv")
    raise KeyError(catalog)


def official_catalog_path() -> Path:
    """The official catalog text of the 9 dimensions and 28 issues (same ids as the embedded one)."""
    return shared_data_dir() / "catalogs" / "bma_strategy_9d_28issues.csv"


def traffy_category_frequency(split: str = "2022") -> list[str]:
    """Traffy categories by how many reports of ``split`` carry them, most frequent first."""
    counts: dict[str, int] = {}
    with gzip.open(shared_data_dir() / "traffy" / f"traffy_{split}.csv.gz", "rt", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            for category in {t.strip() for t in row["type"].split(",") if t.strip() and t.strip() != OTHER_LABEL}:
                counts[category] = counts.get(category, 0) + 1
    return sorted(counts, key=lambda c: -counts[c])


def restricted(data: Dataset, keep: set[str], name: str, limit: int | None = None) -> Dataset:
    """The rows of ``data`` with a label in ``keep``, labels cut down to ``keep`` (the first ``limit``)."""
    rows = [(t, [label for label in ls if label in keep]) for t, ls in zip(data.texts, data.labels)]
    rows = [(t, ls) for t, ls in rows if ls][:limit]
    return Dataset(name, [t for t, _ in rows], [ls for _, ls in rows])
