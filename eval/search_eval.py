"""Search quality: nDCG@10 of keyword, dense and hybrid search on our judged query set.

Corpus: the 13,584 Traffy reports of January 2023 (``../shared/data``), ingested into a private
data directory through the product's own store and index. Queries and graded judgments:
``eval/data/search_queries.jsonl`` (written by us; see eval/data/README.md for its biases).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

from planalign.app import Application
from planalign.config import Settings
from planalign.corpora.projects import read_projects
from planalign.eval.datasets import DatasetMissing, eval_data_path, shared_data_dir
from planalign.eval.run_eval import write_readme_block
from planalign.index.hybrid import MODES, Filters, rank_positions


def ndcg_at(ranked: list[str], grades: dict[str, int], k: int = 10) -> float:
    """Normalized discounted cumulative gain with exponential gain (2^grade - 1)."""
    gain = sum((2 ** grades.get(doc, 0) - 1) / math.log2(rank + 2) for rank, doc in enumerate(ranked[:k]))
    ideal = sorted(grades.values(), reverse=True)[:k]
    best = sum((2**g - 1) / math.log2(rank + 2) for rank, g in enumerate(ideal))
    return gain / best if best else 0.0


def load_queries() -> list[dict]:
    text = eval_data_path("search_queries.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def build(data_dir: Path, encoder: str) -> Application:
    """Ingest the January 2023 reports (idempotent: a second run reuses store, index and cache)."""
    app = Application(Settings.load(data_dir=data_dir))
    path = shared_data_dir() / "traffy" / "traffy_2023-01.csv.gz"
    if app.store.count() == 0:
        result = read_projects(path, source="traffy_2023-01", overrides={"description": "name"})
        app.store.upsert(result.projects)
    started = time.perf_counter()
    sync = app.sync(encoder)
    print(f"index: {sync.total} reports ({sync.added} embedded in {time.perf_counter() - started:.0f}s)", file=sys.stderr)
    return app


def evaluate(app: Application) -> dict[str, dict[str, float]]:
    index = app.require_index()
    encoder = app.index_encoder(index)
    queries = load_queries()
    table: dict[str, dict[str, float]] = {}
    for mode in MODES:
        per_kind: dict[str, list[float]] = {}
        for query in queries:
            ranked = [index.ids[p] for p, _ in rank_positions(index, encoder, query["query"], mode, Filters(), 10)]
            per_kind.setdefault(query["kind"], []).append(ndcg_at(ranked, query["relevant"]))
        scores = {kind: sum(v) / len(v) for kind, v in per_kind.items()}
        scores["all"] = sum(sum(v) for v in per_kind.values()) / len(queries)
        table[mode] = scores
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--encoder", default="e5")
    parser.add_argument("--no-readme", action="store_true", help="do not rewrite eval/README.md")
    parser.add_argument("--data-dir", default=None, help="where the evaluation corpus is indexed [default: <data dir>/eval-search-<encoder>]")
    args = parser.parse_args(argv)
    data_dir = Path(args.data_dir) if args.data_dir else Settings.load().resolved_data_dir() / f"eval-search-{args.encoder}"
    try:
        workspace = build(data_dir, args.encoder)
    except DatasetMissing as exc:
        print(f"skipped: {exc}", file=sys.stderr)
        return 0
    table = evaluate(workspace)
    print(json.dumps({"encoder": args.encoder, "ndcg@10": table}, ensure_ascii=False))
    if not args.no_readme:
        kinds = ["keyword", "need", "paraphrase", "all"]
        lines = [f"nDCG@10 over {len(load_queries())} judged queries, encoder `{args.encoder}`.", "",
                 "| mode | " + " | ".join(kinds) + " |", "|---|" + "---|" * len(kinds)]
        lines += [f"| {mode} | " + " | ".join(f"{table[mode][k]:.3f}" for k in kinds) + " |" for mode in MODES]
        write_readme_block(f"search-{args.encoder}", "\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
