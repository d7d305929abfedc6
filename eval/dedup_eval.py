"""Duplicate detection quality: pair precision and recall against labelled clusters.

Two labelled sets: our sample projects (``dup_group`` written with the data; thresholds may be
chosen on it) and the FY2566 ordinance strategic items labelled by us into programs
(``eval/data/budget2566_dup_labels.csv``; measurement only, never used for tuning).
"""
from __future__ import annotations

import argparse
import csv
import itertools
import json
import sys
from collections import defaultdict

from planalign.app import Application
from planalign.corpora.projects import sample_projects, sample_records
from planalign.corpora.tables import read_table
from planalign.eval.datasets import DatasetMissing, eval_data_path, shared_data_dir
from planalign.eval.run_eval import write_readme_block
from planalign.index.dedup import DedupConfig, find_duplicates, make_records
from planalign.nlp.normalize import normalize


def pair_scores(predicted: set[tuple[int, int]], clusters: list[str], groups: list[str] | None = None) -> dict:
    """Precision/recall of predicted pairs against the pairs implied by cluster labels ('' = none).

    With ``groups``, only gold pairs across different groups count (the cross-district question).
    """
    members = defaultdict(list)
    for position, label in enumerate(clusters):
        if label:
            members[label].append(position)
    gold = {pair for group in members.values() for pair in itertools.combinations(sorted(group), 2)}
    if groups is not None:
        gold = {(a, b) for a, b in gold if groups[a] != groups[b]}
    hits = len(predicted & gold)
    precision = hits / len(predicted) if predicted else 1.0
    recall = hits / len(gold) if gold else 1.0
    return {"pairs_predicted": len(predicted), "pairs_gold": len(gold), "precision": round(precision, 4), "recall": round(recall, 4),
            "false_pairs": len(predicted - gold)}


def budget_items() -> tuple[list[str], list[str], list[str]]:
    """Texts, orgs and program labels of the labelled strategic FY2566 items."""
    path = shared_data_dir() / "budget" / "bma_budget_ordinance_2566_items.csv"
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    labels = read_table(eval_data_path("budget2566_dup_labels.csv")).rows
    texts = [normalize(rows[int(r["row"])]["item"]) for r in labels]
    programs = [r["program"] if not r["program"].startswith("uniq_") else "" for r in labels]
    return texts, [r["org"] for r in labels], programs


def sample_set() -> tuple[list[str], list[str], list[str]]:
    """Texts, orgs and ``dup_group`` labels of the embedded sample projects."""
    records = sample_records()
    projects = sample_projects()
    return [normalize(p.search_text()) for p in projects], [p.org for p in projects], [r.get("dup_group", "") for r in records]


def evaluate(name: str, texts: list[str], groups: list[str], clusters: list[str], encoder: str, config: DedupConfig) -> dict:
    vectors = Application().encoder(encoder).encode_passages([t[:2000] for t in texts])
    result = find_duplicates(make_records(texts, vectors, groups=groups), config)
    predicted = {(p.a, p.b) for p in result.pairs}
    across = groups if config.across_groups else None
    scores = pair_scores(predicted, clusters, across)
    by_kind = {kind: pair_scores({(p.a, p.b) for p in result.pairs if p.kind == kind}, clusters, across)["precision"] for kind in ("copy", "semantic")}
    mode = "across organizations" if config.across_groups else "any pair"
    return {"set": name, "mode": mode, "encoder": encoder, "n": len(texts), "clusters_found": len(result.clusters), **scores, "precision_by_kind": by_kind}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--encoder", default="e5")
    args = parser.parse_args(argv)
    reports = []
    for config in (DedupConfig(), DedupConfig(across_groups=True)):
        reports.append(evaluate("sample projects", *sample_set(), args.encoder, config))
    try:
        for config in (DedupConfig(), DedupConfig(across_groups=True)):
            reports.append(evaluate("FY2566 strategic items", *budget_items(), args.encoder, config))
    except DatasetMissing as exc:
        print(f"skipped FY2566: {exc}", file=sys.stderr)
    for report in reports:
        print(json.dumps(report, ensure_ascii=False))
    lines = ["| labelled set | pairs | encoder | texts | clusters found | gold pairs | predicted pairs | precision | recall |", "|---|---|---|---|---|---|---|---|---|"]
    lines += [f"| {r['set']} | {r['mode']} | {r['encoder']} | {r['n']} | {r['clusters_found']} | {r['pairs_gold']} | {r['pairs_predicted']} | "
              f"{r['precision']:.4f} | {r['recall']:.4f} |" for r in reports]
    write_readme_block(f"dedup-{args.encoder}", "\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
