"""Learning curve: top-1 against the number of decisions learned from, beside zero-shot in the same run.

The model is the one the product fits on a catalog's decisions (``Aligner.learned``: guarded
fusion, examples built from decisions as ``planalign.decisions.examples`` builds them), with e5 (USE
as its second encoder). Decisions are simulated from labelled real data as a person makes them:
one node per text, the zero-shot suggestion when it is right (in the text's gold set), else the
text's first gold label; a prediction is right when it is in the text's gold set.

* **Routine items** (158 FY2566 routine budget items x the embedded catalog, dimension level):
  cross-validated. For each of 5 random orders the items are split into 5 folds; the decisions are
  the first n items (in that order) of the other 4 folds and the fold is the test: every item is
  tested once per order, never with its own decision. A wrong suggestion is corrected to the agreed
  label, else the first annotator's; "all" is every item of the other folds (about 126). A second
  routine curve takes each fold's decisions in the evaluation page's review-grid order instead
  (``needs_review`` first, least confident first among them, then the others in the random order),
  the way a review team meets them.
* **Project names** (the 180 labelled names of the dev corpus, written independently of our method;
  eval/data/project_names_labels.csv) x the official catalog text and x the embedded catalog,
  dimension level: cross-validated as the routine items (random order). The official catalog is
  the thin one (about 15 words a node), where zero-shot is weakest and decisions count most.
* **Routine items x the National Strategy** (eval/data/national_strategy_labels.csv, six strategies,
  no keywords), dimension level, cross-validated as the routine items (random order): the real entry
  where zero-shot stays under a plain e5 cosine.
* **Traffy 2022 -> 2023-01** (23 categories): decisions are the first n of 3,000 labelled 2022
  reports in each of 5 random orders (a wrong suggestion corrected to the report's first category),
  tested on 2,000 reports of January 2023; "all" is the 3,000.

Points: 0 (zero-shot), 10, 25, 50, 100, 200 and all decisions; mean and range over the 5 orders.
Beside them, on the same decisions and test texts: logistic regression on character n-gram TF-IDF
and on the e5 vectors (``planalign.eval.baselines``), the classic ways to learn from labels.
Results: ``eval/results/learning.json``, ``eval/results/learning-curve.png`` and the
``learning-curve`` block of ``eval/README.md``.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from planalign.app import Application
from planalign.config import Settings
from planalign.corpora.catalog import Catalog, load_catalog
from planalign.corpora.tables import Table, read_table
from planalign.decisions import examples
from planalign.eval import baselines
from planalign.eval.datasets import (
    DatasetMissing,
    eval_data_path,
    official_catalog_path,
    other_catalog_path,
    other_catalog_table,
    restricted,
    shared_data_dir,
    traffy,
)
from planalign.eval.run_eval import write_readme_block
from planalign.index.align import Aligner, Alignment
from planalign.index.align.query import prepare_text
from planalign.index.decisions import Decision, text_key
from planalign.review import grid_order

RESULTS = Path(__file__).resolve().parent / "results"
POINTS = (0, 10, 25, 50, 100, 200, None)  # None: all decisions
ORDERS = 5
BASELINES = ("TF-IDF + LR", "e5 + LR")


@dataclass
class Curve:
    name: str
    level: str
    test_note: str
    points: list[dict]
    title: str = ""  # the plot's panel title (default: the name up to its first comma)


def _decisions(texts: list[str], labels: list[str], catalog_id: str, level: str) -> list[Decision]:
    return [Decision(text=t, catalog=catalog_id, level=level, node_id=label, source="imported", id=i + 1, text_key=text_key(t))
            for i, (t, label) in enumerate(zip(texts, labels))]


def _as_decided(zero: Aligner, texts: list[str], gold: list[set[str]], corrected: list[str], level: str) -> list[str]:
    """What a person decides for each text: the zero-shot suggestion when it is right, else ``corrected``."""
    shown = [r.levels[level][0].node_id if isinstance(r, Alignment) else "" for r in zero.align_many(texts, top_k=1, level=level)]
    return [s if s in g else c for s, g, c in zip(shown, gold, corrected)]


def _judged(aligner: Aligner, texts: list[str], gold: list[set[str]], level: str) -> tuple[np.ndarray, np.ndarray]:
    """Per text: whether the top suggestion is right, and whether it is flagged ``needs_review``."""
    results = aligner.align_many(texts, top_k=1, level=level)
    right = np.array([isinstance(r, Alignment) and r.levels[level][0].node_id in g for r, g in zip(results, gold)], dtype=bool)
    return right, np.array([not isinstance(r, Alignment) or r.needs_review.get(level, True) for r in results], dtype=bool)


def _review(right: np.ndarray, flagged: np.ndarray) -> tuple[float, float]:
    """Share flagged, and right among the rows not flagged (nan when every row is)."""
    return float(flagged.mean()), float(right[~flagged].mean()) if (~flagged).any() else float("nan")


def _learned(zero: Aligner, texts: list[str], labels: list[str], level: str) -> Aligner:
    learned_from = examples(_decisions(texts, labels, zero.catalog.name, level), zero.catalog)
    return zero.learned(learned_from.texts, learned_from.labels, 1)


def _point(n: int | None, values: list[float], zero_shot: float, decisions: int, baseline: dict[str, list[float]] | None = None,
           review: list[tuple[float, float]] | None = None) -> dict:
    """One point of a curve; ``review``: per order, the share flagged and right among the unflagged rows."""
    flagged, right = np.array([r[0] for r in review or []]), np.array([r[1] for r in review or []])
    return {"decisions": "all" if n is None else n, "n": decisions, "mean": round(float(np.mean(values)), 4), "min": round(float(min(values)), 4),
            "max": round(float(max(values)), 4), "zero_shot": round(zero_shot, 4), "orders": [round(v, 4) for v in values],
            "baselines": {name: round(float(np.mean(v)), 4) for name, v in (baseline or {}).items()},
            "flagged": round(float(flagged.mean()), 4) if review else None,
            "right_unflagged": round(float(np.nanmean(right)), 4) if review and not np.isnan(right).all() else None,
            "right_unflagged_min": round(float(np.nanmin(right)), 4) if review and not np.isnan(right).all() else None}


def _vectors(aligner: Aligner, texts: list[str]) -> np.ndarray:
    """The e5 vectors the learned model sees for these texts (whole text, as the aligner embeds it: Query.units[0])."""
    return aligner.draft_vectors([prepare_text(t) for t in texts])


def _baselines(texts: list[str], vectors: np.ndarray, labels: list[str], train: np.ndarray,
               test_texts: list[str], test_vectors: np.ndarray, gold: list[set[str]]) -> dict[str, float]:
    """Top-1 of the supervised baselines trained on the same decisions (``train`` rows of texts, vectors, labels)."""
    decided = [[labels[i]] for i in train]
    ranked = {"TF-IDF + LR": baselines.tfidf_logistic([texts[i] for i in train], decided, test_texts)[0],
              "e5 + LR": baselines.embedding_logistic(vectors[train], decided, test_vectors)[0]}
    return {name: float(np.mean([r[0] in g for r, g in zip(rows, gold)])) for name, rows in ranked.items()}


def _as_shown(zero: Aligner, texts: list[str], level: str) -> list[tuple[bool, float | None]]:
    """Each text's zero-shot review flag and top confidence: what orders the review grid."""
    return [(True, None) if not isinstance(r, Alignment) else (r.needs_review.get(level, True), r.levels[level][0].confidence)
            for r in zero.align_many(texts, top_k=1, level=level)]


def routine_curve(app: Application, review_order: bool = False) -> Curve:
    """``review_order``: each fold's decisions are taken in the review grid's order (``needs_review``
    first, least confident first among them, then the others in the random order) instead of at
    random (the folds, the test items and the decisions' labels are the same)."""
    table = read_table(shared_data_dir() / "labelled" / "bma_routine_items_2566.csv")
    name = "routine items x bma-9d (dimension), 5-fold cross-validated"
    if review_order:
        name += ", decisions in the review grid's order (needs review first, least confident first among them)"
    return cross_validated_curve(app, name, table, load_catalog("bma-9d"), review_order, "routine items, review-grid order" if review_order else "")


def project_names_curve(app: Application, official: bool) -> Curve:
    """The 180 labelled project names of the dev corpus (eval/data/project_names_labels.csv, texts read
    in place) x the official catalog text or the embedded one, dimension level."""
    texts = {r["doc_id"]: r["text"] for r in read_table(shared_data_dir() / "labelled" / "search_corpus_dev.csv").rows}
    labels = read_table(eval_data_path("project_names_labels.csv"))
    table = Table(labels.columns + ["text"], [{**r, "text": texts[r["doc_id"]]} for r in labels.rows])
    catalog = "the official catalog" if official else "bma-9d"
    return cross_validated_curve(app, f"project names x {catalog} (dimension), 5-fold cross-validated", table,
                                 load_catalog(official_catalog_path() if official else "bma-9d"), False, f"project names x {catalog}")


def national_strategy_curve(app: Application) -> Curve:
    """The routine items x the National Strategy's six strategies (eval/data/national_strategy_labels.csv):
    the real entry where zero-shot stays under a plain e5 cosine (eval/README.md), dimension level."""
    return cross_validated_curve(app, "routine items x the national strategy (dimension), 5-fold cross-validated", other_catalog_table("national", "routine"),
                                 load_catalog(other_catalog_path("national")), False, "routine items x national strategy")


def cross_validated_curve(app: Application, name: str, table: Table, catalog: Catalog, review_order: bool, title: str) -> Curve:
    """A labelled set (``text``, ``dimension_ok``, ``dimension``) as people would decide it, 5 folds x 5 orders."""
    texts = [r["text"] for r in table.rows]
    gold = [set(r["dimension_ok"].split("|")) for r in table.rows]
    zero = app.new_aligner(catalog, "e5")
    chosen = _as_decided(zero, texts, gold, [r["dimension"] or r["dimension_ok"].split("|")[0] for r in table.rows], "dimension")
    zero_right, zero_flagged = _judged(zero, texts, gold, "dimension")
    zero_shot = float(zero_right.mean())
    vectors = _vectors(zero, texts)
    shown = _as_shown(zero, texts, "dimension") if review_order else None
    smallest_pool = len(texts) - max(len(f) for f in np.array_split(np.arange(len(texts)), 5))
    points = []
    for n in POINTS:
        if n == 0:
            points.append(_point(0, [zero_shot] * ORDERS, zero_shot, 0, review=[_review(zero_right, zero_flagged)] * ORDERS))
            continue
        if n is not None and n > smallest_pool:
            print(f"{name.split(',')[0]}: {n} decisions exceed the {smallest_pool} items of the other folds: no point", flush=True)
            continue
        values, sizes, review = [], [], []
        baseline: dict[str, list[float]] = {name: [] for name in BASELINES}
        for order in range(ORDERS):
            folds = np.array_split(np.random.default_rng(order).permutation(len(texts)), 5)
            right = 0.0
            hits, flags = np.zeros(len(texts), dtype=bool), np.zeros(len(texts), dtype=bool)
            baseline_right = dict.fromkeys(BASELINES, 0.0)
            for f, test in enumerate(folds):
                pool = np.concatenate([g for j, g in enumerate(folds) if j != f])
                if shown is not None:  # the other folds, in this order, as a file the grid shows
                    grid = [(*shown[i], at) for at, i in enumerate(pool)]  # (needs_review, confidence, position in the file)
                    pool = pool[sorted(range(len(pool)), key=lambda at: grid_order(*grid[at]))]
                train = pool if n is None else pool[:n]
                learned = _learned(zero, [texts[i] for i in train], [chosen[i] for i in train], "dimension")
                hits[test], flags[test] = _judged(learned, [texts[i] for i in test], [gold[i] for i in test], "dimension")
                right += hits[test].sum()
                scored = _baselines(texts, vectors, chosen, train, [texts[i] for i in test], vectors[test], [gold[i] for i in test])
                for method, value in scored.items():
                    baseline_right[method] += value * len(test)
                sizes.append(len(train))
            values.append(right / len(texts))
            review.append(_review(hits, flags))
            for method, value in baseline_right.items():
                baseline[method].append(value / len(texts))
        points.append(_point(n, values, zero_shot, round(float(np.mean(sizes))), baseline, review))
        print(name.split(",")[0], points[-1], flush=True)
    return Curve(name, "dimension", f"each item tested once per order ({len(texts)})", points, title)


def traffy_curve(app: Application, pool_size: int, test_size: int) -> Curve:
    catalog = load_catalog(eval_data_path("traffy_categories.csv"))
    pool = restricted(traffy("2022"), set(catalog.nodes), "traffy-2022", pool_size)
    test = restricted(traffy("2023-01"), set(catalog.nodes), "traffy-2023-01", test_size)
    gold = [set(g) for g in test.labels]
    zero = app.new_aligner(catalog, "e5")
    decided = _as_decided(zero, pool.texts, [set(ls) for ls in pool.labels], [ls[0] for ls in pool.labels], "category")
    zero_right, zero_flagged = _judged(zero, test.texts, gold, "category")
    zero_shot = float(zero_right.mean())
    vectors, test_vectors = _vectors(zero, pool.texts), _vectors(zero, test.texts)
    points = []
    for n in POINTS:
        if n == 0:
            points.append(_point(0, [zero_shot] * ORDERS, zero_shot, 0, review=[_review(zero_right, zero_flagged)] * ORDERS))
            continue
        values, review = [], []
        baseline: dict[str, list[float]] = {name: [] for name in BASELINES}
        for order in range(1 if n is None else ORDERS):  # all decisions: the same set in every order
            permutation = np.random.default_rng(order).permutation(len(pool.texts))
            train = permutation if n is None else permutation[:n]
            learned = _learned(zero, [pool.texts[i] for i in train], [decided[i] for i in train], "category")
            hits, flags = _judged(learned, test.texts, gold, "category")
            values.append(float(hits.mean()))
            review.append(_review(hits, flags))
            for name, value in _baselines(pool.texts, vectors, decided, train, test.texts, test_vectors, gold).items():
                baseline[name].append(value)
        points.append(_point(n, values * (ORDERS if n is None else 1), zero_shot, len(pool.texts) if n is None else n, baseline,
                             review * (ORDERS if n is None else 1)))
        print("traffy", points[-1], flush=True)
    return Curve(f"Traffy 2022 -> 2023-01 (23 categories): decisions from {len(pool.texts):,} reports of 2022", "category",
                 f"{len(test.texts):,} reports of January 2023", points)


def plot(curves: list[Curve], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = min(3, len(curves))
    rows = -(-len(curves) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(5.2 * columns, 3.8 * rows), squeeze=False)
    for axis in axes.ravel()[len(curves):]:
        axis.set_visible(False)
    for axis, curve in zip(axes.ravel(), curves):
        xs = [p["n"] for p in curve.points]
        positions = np.arange(len(xs))
        means = [p["mean"] for p in curve.points]
        axis.fill_between(positions, [p["min"] for p in curve.points], [p["max"] for p in curve.points], alpha=0.25, label="range over 5 orders")
        axis.plot(positions, means, marker="o", label="learned from decisions (mean)")
        axis.axhline(curve.points[0]["zero_shot"], color="grey", linestyle="--", label="zero-shot")
        for name, style in zip(BASELINES, (":", "-.")):
            learned = [(x, p["baselines"][name]) for x, p in zip(positions, curve.points) if name in p.get("baselines", {})]
            if learned:
                axis.plot(*zip(*learned), linestyle=style, marker=".", label=f"{name}, same decisions")
        axis.set_xticks(positions, [str(p["decisions"]) + (f"\n({p['n']})" if p["decisions"] == "all" else "") for p in curve.points])
        axis.set_xlabel("decisions learned from")
        axis.set_ylabel("top-1")
        axis.set_title(curve.title or curve.name.split(":")[0].split(",")[0], fontsize=10)
        axis.legend(fontsize=8, loc="lower right")
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)


def table(curves: list[Curve]) -> str:
    lines = []
    for curve in curves:
        lines += [f"**{curve.name}**; test: {curve.test_note}.", "",
                  "| decisions | top-1 mean | min | max | zero-shot (same run) | mean - zero-shot | " + " | ".join(f"{b} (same decisions)" for b in BASELINES)
                  + " | flagged for review | right among unflagged (lowest order) |",
                  "|---|---|---|---|---|---|" + "---|" * len(BASELINES) + "---|---|"]
        for p in curve.points:
            label = f"all ({p['n']})" if p["decisions"] == "all" else str(p["decisions"])
            learned = [f"{p['baselines'][b]:.3f}" if b in p.get("baselines", {}) else "–" for b in BASELINES]
            flagged = f"{p['flagged']:.3f}" if p.get("flagged") is not None else "–"
            right = f"{p['right_unflagged']:.3f} ({p['right_unflagged_min']:.3f})" if p.get("right_unflagged") is not None else "–"
            lines.append(f"| {label} | {p['mean']:.3f} | {p['min']:.3f} | {p['max']:.3f} | {p['zero_shot']:.3f} | {p['mean'] - p['zero_shot']:+.3f} | "
                         + " | ".join(learned) + f" | {flagged} | {right} |")
        lines.append("")
    return "\n".join(lines).rstrip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--traffy-pool", type=int, default=3000)
    parser.add_argument("--traffy-test", type=int, default=2000)
    parser.add_argument("--only", choices=("routine", "projects", "national", "traffy"), default=None)
    parser.add_argument("--no-readme", action="store_true")
    parser.add_argument("--report-only", action="store_true", help="redraw the PNG and the README block from learning.json")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    kept = [Curve(**c) for c in json.loads((RESULTS / "learning.json").read_text(encoding="utf-8"))] if (RESULTS / "learning.json").exists() else []
    if args.report_only:
        curves = kept
    else:
        app = Application(Settings.load(data_dir=args.data_dir))
        try:
            def kept_or(which: str, prefix: str, measure) -> list[Curve]:  # measured now, or the stored ones when --only names another
                return measure() if args.only in (None, which) else [c for c in kept if c.name.startswith(prefix)]

            curves = (kept_or("routine", "routine items x bma-9d", lambda: [routine_curve(app), routine_curve(app, review_order=True)])
                      + kept_or("projects", "project names", lambda: [project_names_curve(app, official=True), project_names_curve(app, official=False)])
                      + kept_or("national", "routine items x the national", lambda: [national_strategy_curve(app)])
                      + kept_or("traffy", "Traffy", lambda: [traffy_curve(app, args.traffy_pool, args.traffy_test)]))
        except DatasetMissing as exc:
            print(f"skipped: {exc}", file=sys.stderr)
            return 0
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "learning.json").write_text(json.dumps([c.__dict__ for c in curves], ensure_ascii=False, indent=1), encoding="utf-8")
    plot(curves, RESULTS / "learning-curve.png")
    print(f"learning curves in {time.perf_counter() - started:.0f} s", flush=True)
    if not args.no_readme:
        write_readme_block("learning-curve", table(curves))
    return 0


if __name__ == "__main__":
    sys.exit(main())
