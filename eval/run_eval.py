"""Alignment on real text: the first table of ``make eval``, every system beside its baselines.

Tasks (real data from ../shared/data, read in place; leave-one-group-out groups in brackets):
* [routine] the 158 FY2566 routine budget items x the embedded catalog and x the official catalog
  text, at the dimension and the issue level (a prediction is right when an annotator gave it);
* [projects] 180 project names of the dev corpus (written independently of our method, not real
  submissions), labelled with the official catalog's issue by two independent annotators, x the same
  two catalogs and levels: the task most like the held-out strategic project names;
* [plan20], [national] the same routine items and project names x two catalogs no choice was made on
  until two were read off them (a keyword-less node's name in context, the passage view), labelled by two independent
  annotators each: Bangkok's 20-year plan (7 dimensions, 29 sub-strategies,
  long descriptions, no keywords) and the National Strategy's 6 strategies (a flat catalog; our
  stand-in for the held-out national-strategy task);
* [policies] the 214 campaign policies x the campaign-dimension catalog;
* [traffy] 2,000 January-2023 Traffy reports x the 23 categories, and x small catalogs of the 6 and
  the 10 categories most frequent in 2022 (reports carrying one of them);
* Traffy supervised: learning from 3,000 labelled 2022 reports, tested on the 2,000 of 2023.
Systems: raw and centered e5 cosine, word and char n-gram TF-IDF cosine, the previous aligner (eval/baselines.py),
planalign with e5 (default), static and cascade. Our own dev set (drafts we wrote) is a regression
check only, in a table of its own.

Leave-one-group-out: the scoring options (ScoringConfig: lexical weight and its vocabulary scaling,
parent weight, second-encoder and character n-gram weights, a keyword-less node's name in context,
the passage view of a catalog without keywords) are chosen on the other groups and reported on the left-out one, beside the shipped setting; the
calibration (temperature, Platt step, review threshold) likewise.
"""
from __future__ import annotations

import argparse
import functools
import itertools
import json
import re
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from planalign.app import Application
from planalign.config import Settings
from planalign.corpora.catalog import Catalog, catalog_from_table, catalog_to_table, load_catalog
from planalign.corpora.tables import Table
from planalign.eval import baselines
from planalign.eval.datasets import (
    Dataset,
    DatasetMissing,
    devset,
    eval_data_path,
    official_catalog_path,
    other_catalog_labels,
    other_catalog_path,
    policies,
    project_names,
    restricted,
    routine_items,
    traffy,
    traffy_category_frequency,
)
from planalign.index.align import Aligner, Alignment
from planalign.index.align.scoring import CALIBRATIONS, Calibration, ScoringConfig, ZeroShotScorer
from planalign.index.evaluation import evaluate, expected_calibration_error, lift
from planalign.nlp.encoders import Encoder

RESULTS = Path(__file__).resolve().parent / "results"
README = Path(__file__).resolve().parent / "README.md"
GRID = [ScoringConfig(lexical_weight=w, lexical_half=h, parent_weight=p, second_weight=s, char_weight=c, name_context=n, passage_weight=v)
        for w, h, p, s, c, n, v in itertools.product((0.0, 0.25, 0.5), (0.0, 30.0), (0.2, 0.4), (0.0, 0.1, 0.2), (0.0, 0.1, 0.2), (0.0, 1.0), (0.0, 0.25))
        if not (w == 0 and h)]


@dataclass
class Task:
    name: str
    group: str
    catalog: Catalog
    level: str
    texts: list[str]
    gold: list[set[str]]


@dataclass
class Outcome:
    """Per text: the level's node ids best first, the top confidence and the review flag."""

    ranked: list[list[str]]
    confidence: list[float]
    review: list[bool]

    def metrics(self, gold: list[set[str]]) -> dict[str, float]:
        hit1 = np.array([bool(r) and r[0] in g for r, g in zip(self.ranked, gold)])
        hit3 = np.array([any(x in g for x in r[:3]) for r, g in zip(self.ranked, gold)])
        review = np.array(self.review)
        kept = ~review
        return {"n": len(gold), "top1": float(hit1.mean()), "top3": float(hit3.mean()),
                "ece": expected_calibration_error(self.confidence, hit1.tolist()),
                "flagged": float(review.mean()), "right_unflagged": float(hit1[kept].mean()) if kept.any() else float("nan")}


def sub_catalog(catalog: Catalog, keep: list[str], name: str) -> Catalog:
    rows = [r for r in catalog_to_table(catalog).rows if r["id"] in keep]
    return catalog_from_table(Table(list(rows[0]), rows), name)


def build_tasks(traffy_test: int) -> list[Task]:
    tasks = []
    embedded, official = load_catalog("bma-9d"), load_catalog(official_catalog_path())
    for group, items in (("routine", routine_items), ("projects", project_names)):
        for tag, catalog in (("embedded", embedded), ("official", official)):
            for level in ("dimension", "issue"):
                data = items(level)
                tasks.append(Task(f"{group} x {tag} ({level})", group, catalog, level, data.texts, [set(g) for g in data.labels]))
    for group, title, levels in (("plan20", "20-year plan", ("dimension", "issue")), ("national", "national strategy", ("dimension",))):
        catalog = load_catalog(other_catalog_path(group))
        for source in ("routine", "projects"):
            for level in levels:
                data = other_catalog_labels(group, source, level)
                tasks.append(Task(f"{source} x {title} ({level})", group, catalog, level, data.texts, [set(g) for g in data.labels]))
    campaign = load_catalog(eval_data_path("campaign_dimensions.csv"))
    data = policies()
    tasks.append(Task("policies x campaign (dimension)", "policies", campaign, "dimension", data.texts,
                      [set(g) for g in lift(campaign, data.labels, "dimension")]))
    categories = load_catalog(eval_data_path("traffy_categories.csv"))
    test = restricted(traffy("2023-01"), set(categories.nodes), "traffy-2023-01", traffy_test)
    tasks.append(Task("Traffy x 23 categories", "traffy", categories, "category", test.texts, [set(g) for g in test.labels]))
    frequent = [c for c in traffy_category_frequency("2022") if c in categories.nodes]
    for k in (10, 6):
        small = restricted(test, set(frequent[:k]), f"traffy-top{k}")
        tasks.append(Task(f"Traffy x {k} most frequent", "traffy", sub_catalog(categories, frequent[:k], f"top{k}"), "category",
                          small.texts, [set(g) for g in small.labels]))
    return tasks


# ------------------------------------------------------------------------------ systems
def from_scores(scores: np.ndarray, ids: list[str], confidence: np.ndarray | None = None, review: np.ndarray | None = None) -> Outcome:
    order = np.argsort(-scores, axis=1)[:, :3]
    if confidence is None:
        logits = (scores - scores.max(axis=1, keepdims=True)) / 0.01
        confidence = (np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)).max(axis=1)
    return Outcome([[ids[j] for j in row] for row in order], confidence.tolist(), (review if review is not None else np.zeros(len(scores), bool)).tolist())


def from_alignments(results: list, level: str) -> Outcome:
    ranked = [[s.node_id for s in r.levels[level]] if isinstance(r, Alignment) else [] for r in results]
    confidence = [r.levels[level][0].confidence if isinstance(r, Alignment) else 0.0 for r in results]
    review = [r.needs_review[level] if isinstance(r, Alignment) else True for r in results]
    return Outcome(ranked, confidence, review)


@dataclass
class Prepared:
    """A task's drafts as the aligner sees them: whole-text vectors and content words (computed once)."""

    vectors: np.ndarray
    words: list[list[str]]
    second: np.ndarray  # the second encoder's (USE) vectors
    topics: list[str]  # the normalized texts as embedded (Query.units[0]: form word and management verb left out), for the character n-grams


def prepare(aligner: Aligner, task: Task, second: Encoder) -> Prepared:
    from planalign.index.align.query import prepare_text

    queries = [prepare_text(t) for t in task.texts]
    return Prepared(aligner.draft_vectors(queries), [q.words for q in queries],
                    second.encode_queries([q.units[0] for q in queries]), [q.units[0] for q in queries])


def level_scores(scorer: ZeroShotScorer, prepared: Prepared, level: str) -> tuple[np.ndarray, np.ndarray]:
    """(texts, level nodes) final scores, and each text's best cosine to any node text as written."""
    dense, _ = scorer.similarities(prepared.vectors)
    second = scorer.second_similarities(prepared.second)
    final = scorer.tree_scores(scorer.own_scores(dense, scorer.lexical_scores(prepared.words, prepared.topics), second))
    return final[:, scorer.level_nodes[level]], scorer.text_cosines(prepared.vectors).max(axis=(0, 2))


# -------------------------------------------------------------------------- calibration
def fit_calibration(rows: list[tuple[np.ndarray, np.ndarray, np.ndarray]], review_rows: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
                    floor: float) -> Calibration:
    """Temperature by log loss of the gold nodes, a Platt step on (log top probability, margin), and
    the lowest review threshold under which >= 90% of the unflagged ``review_rows`` are right."""
    def log_loss(temperature: float) -> float:
        total = 0.0
        for scores, correct_matrix, _ in rows:
            logits = (scores - scores.max(axis=1, keepdims=True)) / temperature
            probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
            total -= np.log((probabilities * correct_matrix).sum(axis=1) + 1e-9).sum()
        return total

    temperature = min((0.005, 0.01, 0.015, 0.017, 0.02, 0.03, 0.04, 0.06), key=log_loss)
    softmax_only = Calibration(temperature)
    features = np.vstack([softmax_only.features(s) for s, _, _ in rows])
    hits = np.concatenate([h for _, _, h in rows])
    mean, scale = features.mean(axis=0), features.std(axis=0) + 1e-9
    model = LogisticRegression().fit((features - mean) / scale, hits)
    platt = (*model.coef_[0].tolist(), float(model.intercept_[0]), *mean.tolist(), *scale.tolist())
    calibration = Calibration(temperature, platt, 0.0, floor)
    review_conf = np.concatenate([calibration.apply(s, np.ones(len(s)))[1] for s, _, _ in review_rows])
    review_hits = np.concatenate([h for _, _, h in review_rows])
    reaching = [t for t in np.arange(0.30, 1.0, 0.01) if (review_conf >= t).any() and review_hits[review_conf >= t].mean() >= 0.9]
    threshold = reaching[0] if reaching else 1.0  # 1.0: no threshold reaches 90%, so every row is flagged
    return replace(calibration, review_below=round(float(threshold), 2))


# ---------------------------------------------------------------------------------- run
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--traffy-test", type=int, default=2000)
    parser.add_argument("--traffy-train", type=int, default=3000)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--fast-paths", default="static,cascade", help="other encoders to report beside e5")
    parser.add_argument("--no-readme", action="store_true")
    args = parser.parse_args(argv)
    app = Application(Settings.load(data_dir=args.data_dir))
    e5 = app.encoder("e5")
    try:
        tasks = build_tasks(args.traffy_test)
    except DatasetMissing as exc:
        print(f"skipped: {exc}", file=sys.stderr)
        return 0
    rows: list[dict] = []

    def record(task: Task, system: str, outcome: Outcome, **extra: object) -> None:
        row = {"task": task.name, "group": task.group, "system": system, **outcome.metrics(task.gold), **extra}
        rows.append(row)
        print(f"{task.name:36s} {system:36s} top1={row['top1']:.3f} top3={row['top3']:.3f} ece={row['ece']:.3f} flagged={row['flagged']:.2f}", flush=True)

    prepared: dict[str, Prepared] = {}
    shipped: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for task in tasks:
        ids = [n.id for n in task.catalog.at_level(task.level)]
        record(task, "baseline: raw e5 cosine", from_scores(baselines.raw_cosine(task.catalog, task.level, task.texts, e5), ids))
        record(task, "baseline: centered e5 cosine", from_scores(baselines.centered_cosine(task.catalog, task.level, task.texts, e5), ids))
        record(task, "baseline: word TF-IDF", from_scores(baselines.word_tfidf(task.catalog, task.level, task.texts), ids))
        record(task, "baseline: char n-gram TF-IDF", from_scores(baselines.char_tfidf(task.catalog, task.level, task.texts), ids))
        scores, probabilities = baselines.previous_aligner(task.catalog, task.level, task.texts, e5)
        record(task, "baseline: previous aligner", from_scores(scores, ids, probabilities.max(axis=1)))
        aligner = app.new_aligner(task.catalog, "e5")
        record(task, "planalign (e5)", from_alignments(aligner.align_many(task.texts, level=task.level), task.level))
        prepared[task.name] = prepare(aligner, task, app.encoder("use"))
        shipped[task.name] = level_scores(aligner.scorer, prepared[task.name], task.level)
        for name in [e.strip() for e in args.fast_paths.split(",") if e.strip()]:
            record(task, f"planalign ({name})", from_alignments(app.new_aligner(task.catalog, name).align_many(task.texts, level=task.level), task.level))
    loto = leave_one_group_out(app, tasks, prepared)
    for task in tasks:
        record(task, "planalign (e5), options chosen LOTO", loto[task.name])
    supervised(app, rows, args.traffy_train, args.traffy_test)
    regression(app, rows)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "alignment.json").write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    reliability_png(tasks, shipped)
    if not args.no_readme:
        write_readme_block("alignment-real", table(rows))
    return 0


def leave_one_group_out(app: Application, tasks: list[Task], prepared: dict[str, Prepared]) -> dict[str, Outcome]:
    """Scoring options and calibration chosen on the other task groups, reported on the left-out one."""
    e5, use = app.encoder("e5"), app.encoder("use")
    # One scorer at a time for the grid (holding all 360 x 18 took 16 GB); those chosen are built again when asked for.
    top1 = {(task.name, config): _top1(ZeroShotScorer(task.catalog, e5, config, use), prepared[task.name], task) for task in tasks for config in GRID}
    by_name = {task.name: task for task in tasks}
    scorer = functools.cache(lambda name, config: ZeroShotScorer(by_name[name].catalog, e5, config, use))
    floor = float(np.percentile(np.concatenate([level_scores(scorer(t.name, GRID[0]), prepared[t.name], t.level)[1] for t in tasks]), 1))
    outcomes = {}
    for group in dict.fromkeys(t.group for t in tasks):
        others = [t for t in tasks if t.group != group]
        config = max(GRID, key=lambda c: np.mean([top1[t.name, c] for t in others]))
        fit_rows = [_calibration_rows(scorer(t.name, config), prepared[t.name], t) for t in others]
        review_rows = [r for r, t in zip(fit_rows, others) if t.group == "routine"] or fit_rows
        calibration = fit_calibration(fit_rows, review_rows, floor)
        print(f"LOTO {group}: {config} {calibration}", flush=True)
        for task in (t for t in tasks if t.group == group):
            scores, absolute = level_scores(scorer(task.name, config), prepared[task.name], task.level)
            _, confidence, review = calibration.apply(scores, absolute)
            outcomes[task.name] = from_scores(scores, [n.id for n in task.catalog.at_level(task.level)], confidence, review)
    all_rows = [_calibration_rows(scorer(t.name, ScoringConfig()), prepared[t.name], t) for t in tasks]
    routine_dimension = [r for r, t in zip(all_rows, tasks) if t.name == "routine x embedded (dimension)"]
    print(f"fitted on all real tasks (what ships for e5): {fit_calibration(all_rows, routine_dimension, floor)}", flush=True)
    return outcomes


def _top1(scorer: ZeroShotScorer, prepared: Prepared, task: Task) -> float:
    scores, _ = level_scores(scorer, prepared, task.level)
    ids = [n.id for n in task.catalog.at_level(task.level)]
    return float(np.mean([ids[int(j)] in g for j, g in zip(scores.argmax(axis=1), task.gold)]))


def _calibration_rows(scorer: ZeroShotScorer, prepared: Prepared, task: Task) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    scores, _ = level_scores(scorer, prepared, task.level)
    ids = [n.id for n in task.catalog.at_level(task.level)]
    correct = np.array([[i in g for i in ids] for g in task.gold], dtype=float)
    return scores, correct, correct[np.arange(len(scores)), scores.argmax(axis=1)].astype(bool)


def supervised(app: Application, rows: list[dict], train_n: int, test_n: int) -> None:
    from planalign.index.evaluation import evaluate_alignments

    categories = load_catalog(eval_data_path("traffy_categories.csv"))
    known = set(categories.nodes)
    train = restricted(traffy("2022"), known, "traffy-2022", train_n)
    test = restricted(traffy("2023-01"), known, "traffy-2023-01", test_n)
    task = f"Traffy supervised ({len(train.texts)} reports of 2022 -> {len(test.texts)} of 2023-01)"
    ranked, top = baselines.tfidf_logistic(train.texts, train.labels, test.texts)
    baseline = evaluate(ranked, test.labels, top.tolist())
    rows.append({"task": task, "group": "supervised", "system": "baseline: TF-IDF char n-gram + LR", "n": baseline.n, "top1": baseline.top1,
                 "top3": baseline.top3, "ece": baseline.ece, "flagged": float("nan"), "right_unflagged": float("nan")})
    aligner = app.new_aligner(categories, "e5")
    aligner.fit_examples(train.texts, train.labels)
    report = evaluate_alignments(categories, aligner.align_many(test.texts, level="category"), test.labels, "category")
    outcome = from_alignments(aligner.align_many(test.texts, level="category"), "category")
    rows.append({"task": task, "group": "supervised", "system": "planalign + examples (e5)", "n": report.n, "top1": report.top1,
                 "top3": report.top3, "ece": report.ece, "flagged": float(np.mean(outcome.review)), "right_unflagged": float("nan")})
    print(rows[-2], rows[-1], flush=True)


def regression(app: Application, rows: list[dict]) -> None:
    """Our own dev set (drafts written by us): a regression check, never a basis for a choice."""
    catalog = load_catalog("bma-9d")
    for level in ("dimension", "issue"):
        data: Dataset = devset(level)
        outcome = from_alignments(app.new_aligner(catalog, "e5").align_many(data.texts, level=level), level)
        rows.append({"task": f"our dev set, regression only ({level})", "group": "regression", "system": "planalign (e5)",
                     **outcome.metrics([set(g) for g in data.labels])})


def reliability_png(tasks: list[Task], shipped: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
    """Confidence vs accuracy (10 bins) of the shipped e5 calibration, per task group."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(5, 4.5))
    axes.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1)
    for group in dict.fromkeys(t.group for t in tasks):
        confidence, hits = [], []
        for task in (t for t in tasks if t.group == group):
            scores, absolute = shipped[task.name]
            _, conf, _ = CALIBRATIONS["e5"].apply(scores, absolute)
            ids = [n.id for n in task.catalog.at_level(task.level)]
            confidence += conf.tolist()
            hits += [ids[int(j)] in g for j, g in zip(scores.argmax(axis=1), task.gold)]
        bins = np.clip((np.array(confidence) * 10).astype(int), 0, 9)
        xs = [np.mean(np.array(confidence)[bins == b]) for b in range(10) if (bins == b).sum() >= 5]
        ys = [np.mean(np.array(hits)[bins == b]) for b in range(10) if (bins == b).sum() >= 5]
        axes.plot(xs, ys, marker="o", label=group)
    axes.set_xlabel("confidence (shipped e5 calibration)")
    axes.set_ylabel("share right")
    axes.set_title("Reliability on real tasks")
    axes.legend()
    figure.tight_layout()
    figure.savefig(RESULTS / "reliability.png", dpi=90)
    plt.close(figure)


def table(rows: list[dict]) -> str:
    lines = ["| task | system | n | top-1 | top-3 | ECE | flagged for review | right among unflagged |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        cells = [f"{r[k]:.3f}" if isinstance(r.get(k), float) and r[k] == r[k] else "–" for k in ("top1", "top3", "ece", "flagged", "right_unflagged")]
        lines.append(f"| {r['task']} | {r['system']} | {r['n']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_readme_block(name: str, table: str) -> None:
    """Replace the ``<!-- name:start -->...<!-- name:end -->`` block of eval/README.md (appended if absent)."""
    stamp = time.strftime("%Y-%m-%d")
    block = f"<!-- {name}:start -->\nMeasured {stamp} on this machine (2 cores).\n\n{table}\n<!-- {name}:end -->"
    text = README.read_text(encoding="utf-8") if README.exists() else "# Evaluation\n\n"
    pattern = re.compile(f"<!-- {name}:start -->.*<!-- {name}:end -->", re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text + "\n" + block + "\n"
    README.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
