"""``make eval``: the quality tables of eval/README.md, each system beside its baselines in one run.

Experiments
* dev set (our 130+ drafts) zero-shot on the embedded BMA catalog, dimension and issue level;
* 214 campaign policies zero-shot against our campaign-dimension catalog;
* Traffy categories, supervised: train on a seeded sample of traffy_2022, test on traffy_2023-01.
Baselines: raw e5 cosine to bare node names (no centering, no descriptions), and TF-IDF character
n-grams + logistic regression trained on the same Traffy sample.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from planalign.app import Application
from planalign.config import Settings
from planalign.corpora.catalog import Catalog, load_catalog
from planalign.eval.datasets import Dataset, DatasetMissing, devset, eval_data_path, policies, traffy
from planalign.index.align import Aligner
from planalign.index.evaluation import Report, evaluate, evaluate_alignments, lift
from planalign.nlp.encoders import Encoder
from planalign.nlp.normalize import normalize

RESULTS_DIR = Path(__file__).resolve().parent / "results"
README = Path(__file__).resolve().parent / "README.md"


def run_aligner(aligner: Aligner, data: Dataset, level: str) -> tuple[Report, float]:
    start = time.perf_counter()
    results = aligner.align_many(data.texts, top_k=3, level=level)
    seconds = time.perf_counter() - start
    return evaluate_alignments(aligner.catalog, results, data.labels, level), len(data.texts) / seconds


def raw_name_baseline(catalog: Catalog, data: Dataset, level: str, encoder: Encoder) -> Report:
    """e5 query embedding vs e5 passage embedding of the bare node names; softmax(cos/0.01) confidence."""
    nodes = catalog.at_level(level)
    names = encoder.encode_passages([normalize(n.name) for n in nodes])
    queries = encoder.encode_queries([normalize(t)[:2000] for t in data.texts])
    sims = queries @ names.T
    order = np.argsort(-sims, axis=1)
    ranked = [[nodes[j].id for j in row[:3]] for row in order]
    probs = np.exp((sims - sims.max(axis=1, keepdims=True)) / 0.01)
    confidence = (probs.max(axis=1) / probs.sum(axis=1)).tolist()
    return evaluate(ranked, lift(catalog, data.labels, level), confidence)


def tfidf_lr_baseline(train: Dataset, test: Dataset) -> Report:
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, min_df=2, max_features=200_000)
    rows = [i for i, ls in enumerate(train.labels) for _ in ls]
    targets = [label for ls in train.labels for label in ls]
    features = vectorizer.fit_transform([normalize(t) for t in train.texts])
    model = LogisticRegression(C=4.0, max_iter=3000, class_weight="balanced").fit(features[rows], targets)
    proba = model.predict_proba(vectorizer.transform([normalize(t) for t in test.texts]))
    order = np.argsort(-proba, axis=1)
    ranked = [[model.classes_[j] for j in row[:3]] for row in order]
    return evaluate(ranked, test.labels, proba.max(axis=1).tolist())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--encoders", default="e5,cascade,static,use", help="comma-separated encoders to evaluate")
    parser.add_argument("--traffy-train", type=int, default=6000)
    parser.add_argument("--traffy-test", type=int, default=2000)
    parser.add_argument("--data-dir", default=None, help="where the embedding cache lives")
    parser.add_argument("--no-readme", action="store_true", help="do not rewrite eval/README.md")
    args = parser.parse_args(argv)
    app = Application(Settings.load(data_dir=args.data_dir))
    e5 = app.encoder("e5")
    encoders = [e.strip() for e in args.encoders.split(",") if e.strip()]
    rows: list[dict] = []

    def record(task: str, system: str, report: Report, speed: float | None = None) -> None:
        rows.append({"task": task, "system": system, **report.as_dict(), "texts_per_s": round(speed, 1) if speed else None})
        print(f"{task:34s} {system:34s} n={report.n:5d} top1={report.top1:.3f} top3={report.top3:.3f} "
              f"F1={report.macro_f1:.3f} ECE={report.ece:.3f}" + (f" {speed:.1f} texts/s" if speed else ""), flush=True)

    bma = load_catalog()
    for level in ("dimension", "issue"):
        data = devset(level)
        record(f"dev set zero-shot ({level})", "baseline: raw e5 vs names", raw_name_baseline(bma, data, level, e5))
        for name in encoders:
            report, speed = run_aligner(app.new_aligner(bma, name), data, level)
            record(f"dev set zero-shot ({level})", f"planalign ({name})", report, speed)

    try:
        campaign = load_catalog(eval_data_path("campaign_dimensions.csv"))
        data = policies()
        record("policies zero-shot (campaign dim.)", "baseline: raw e5 vs names", raw_name_baseline(campaign, data, "dimension", e5))
        for name in encoders:
            report, speed = run_aligner(app.new_aligner(campaign, name), data, "dimension")
            record("policies zero-shot (campaign dim.)", f"planalign ({name})", report, speed)

        categories = load_catalog(eval_data_path("traffy_categories.csv"))
        known = set(categories.nodes)
        train = traffy("2022", args.traffy_train)
        test = traffy("2023-01", args.traffy_test)
        train.labels = [[label for label in ls if label in known] for ls in train.labels]
        test.labels = [[label for label in ls if label in known] for ls in test.labels]
        train = Dataset(train.name, [t for t, ls in zip(train.texts, train.labels) if ls], [ls for ls in train.labels if ls])
        test = Dataset(test.name, [t for t, ls in zip(test.texts, test.labels) if ls], [ls for ls in test.labels if ls])
        task = f"Traffy categories ({len(train.texts)} train / {len(test.texts)} test)"
        record(task, "baseline: TF-IDF char n-gram + LR", tfidf_lr_baseline(train, test))
        for name in encoders:
            aligner = app.new_aligner(categories, name)
            report, speed = run_aligner(aligner, test, categories.levels[-1])
            record(task, f"planalign zero-shot ({name})", report, speed)
            aligner.fit_examples(train.texts, train.labels)
            report, speed = run_aligner(aligner, test, categories.levels[-1])
            record(task, f"planalign + examples ({name})", report, speed)
    except DatasetMissing as exc:
        print(f"skipped the shared-data experiments: {exc}", file=sys.stderr)

    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / "quality.json").write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    if not args.no_readme:
        write_readme_table(rows)
    return 0


def write_readme_table(rows: list[dict]) -> None:
    # Speed is not reported here: embeddings are cached across systems in this run (see make bench).
    lines = ["| task | system | n | top-1 | top-3 | macro-F1 | ECE |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['task']} | {r['system']} | {r['n']} | {r['top1']:.3f} | {r['top3']:.3f} | {r['macro_f1']:.3f} | {r['ece']:.3f} |")
    write_readme_block("results", "\n".join(lines))


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
