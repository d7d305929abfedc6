"""Search quality on the labelled dev queries, beside the baselines, in one run.

Data (eval/dev_sets.py): 36 reviewer queries (12 short, 12 natural, 12 paraphrase that avoid the
relevant texts' words) over the 300 dev project texts, graded by reading the whole corpus for every
query; the corpus is indexed by the product with ``--encoder``. nDCG@10 with exponential gain.

Measured in this run: the product's three modes (``index/hybrid.py``: hybrid = two dense views +
BM25 + feedback; dense; keyword), and from the same index and query vectors the baselines: BM25
alone (product tokens, before query canonicalization), char-trigram TF-IDF, centered cosine (query
vs passage view, corpus mean), symmetric cosine (query vs query view), raw dense, and the hybrid of
planalign before issue 11 (weighted RRF of BM25 and raw dense, dense weight 0.1 for queries of up
to 3 words, 1.5 above). The fusion weights are cross-validated: 6 folds over queries (2 of each kind
per fold), the setting chosen on the other 30 queries. The relevance floor (``total``) and the
per-hit explanations are checked against the judgments.

``--traffy``: also the regression table on our own judged Traffy queries (eval/data/search_queries.jsonl,
13,584 reports of January 2023; written and pooled by us with keyword searches, so biased toward
keyword matching: a regression check, not a quality claim).
"""
from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
import time

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from planalign.app import Application
from planalign.config import Settings
from planalign.corpora.projects import read_projects
from planalign.eval.datasets import DatasetMissing, eval_data_path, shared_data_dir
from planalign.eval.dev_sets import dev_workspace, search_qrels, search_queries
from planalign.eval.run_eval import write_readme_block
from planalign.index.dedup import center
from planalign.index.hybrid import LEXICAL, MODES, SEMANTIC, Filters, SearchParams, holds_every, params_for, query_words, rank
from planalign.index.project_index import ProjectIndex
from planalign.nlp.encoders import Encoder
from planalign.nlp.fields import canonical
from planalign.nlp.normalize import normalize, particulates_named
from planalign.nlp.tokenize import content_tokens

KINDS = ("short", "natural", "paraphrase")
FOLDS = 6
GRID = [SearchParams(symmetric_weight=s, bm25_weight=b, prf_m=m, prf_beta=beta)
        for s, b, (m, beta) in itertools.product((0.0, 1.0, 2.0, 3.0, 4.0), (0.0, 0.1, 0.2, 0.3),
                                                 [(0, 0.0)] + [(m, b) for m in (2, 3, 4) for b in (0.5, 1.0)])]


def ndcg_at(ranked: list[str], grades: dict[str, int], k: int = 10) -> float:
    """Normalized discounted cumulative gain with exponential gain (2^grade - 1)."""
    gain = sum((2 ** grades.get(doc, 0) - 1) / math.log2(rank + 2) for rank, doc in enumerate(ranked[:k]))
    ideal = sorted(grades.values(), reverse=True)[:k]
    best = sum((2**g - 1) / math.log2(rank + 2) for rank, g in enumerate(ideal))
    return gain / best if best else 0.0


def by_kind(values: list[float], kinds: list[str], names: tuple[str, ...] = KINDS) -> dict[str, float]:
    out = {k: round(float(np.mean([v for v, q in zip(values, kinds) if q == k])), 3) for k in names}
    out["all"] = round(float(np.mean(values)), 3)
    return out


def rrf(rankings: list[list[int]], weights: list[float], k: int = 60) -> dict[int, float]:
    """Weighted reciprocal rank fusion (the hybrid of planalign before issue 11)."""
    fused: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights):
        for rank_, position in enumerate(ranking):
            fused[position] = fused.get(position, 0.0) + weight / (k + rank_ + 1)
    return fused


def baselines(index: ProjectIndex, encoder: Encoder, texts: list[str], queries: list[str]) -> dict[str, list[list[int]]]:
    """Rankings of every baseline, from the index's vectors and the product's query vectors."""
    vectors = encoder.encode_queries([normalize(q)[:2000] for q in queries])
    passages, views, mean = index.vectors.vectors, index.query_view, index.centroid
    asym = center(vectors, mean) @ center(passages, mean).T
    dense = {"centered cosine (query vs passage view, corpus mean)": asym, "symmetric cosine (query vs query view)": vectors @ views.T,
             "raw dense (query vs passage view)": vectors @ passages.T}
    old_words = [content_tokens(normalize(q), normalized=True) for q in queries]
    bm25 = np.array([index.keyword.scores(w, in_compounds=False) for w in old_words])
    trigrams = TfidfVectorizer(analyzer="char", ngram_range=(3, 3)).fit([normalize(t) for t in texts])
    trigram = (trigrams.transform([normalize(q) for q in queries]) @ trigrams.transform([normalize(t) for t in texts]).T).toarray()
    out = {name: [list(np.argsort(-row, kind="stable")) for row in scores] for name, scores in dense.items()}
    out["BM25 alone (product tokens, no query canonicalization)"] = [[int(p) for p in np.argsort(-row, kind="stable") if row[p] > 0] for row in bm25]
    out["char-trigram TF-IDF cosine"] = [list(np.argsort(-row, kind="stable")) for row in trigram]
    raw = vectors @ passages.T
    old = []
    for qi, words in enumerate(old_words):
        keyword = [int(p) for p in np.argsort(-bm25[qi], kind="stable")[:100] if bm25[qi][p] > 0]
        semantic = [int(p) for p in np.argsort(-raw[qi], kind="stable")[:100]]
        fused = rrf([keyword, semantic], [1.0, 0.1 if len(words) <= 3 else 1.5])
        old.append(sorted(fused, key=lambda p: -fused[p]))
    out["hybrid of planalign before issue 11 (weighted RRF, same index)"] = old
    return out


def evaluate(encoder_name: str) -> dict:
    app = dev_workspace(encoder_name)
    index = app.require_index()
    encoder = app.index_encoder(index)
    queries = search_queries()
    judged = search_qrels()
    kinds = [q["kind"] for q in queries]
    ids = index.ids
    texts = _texts(app, ids)
    table: dict[str, dict[str, float]] = {}

    def score(rankings: list[list[int]]) -> list[float]:
        return [ndcg_at([ids[p] for p in r[:10]], judged[q["qid"]]) for r, q in zip(rankings, queries)]

    for mode in MODES:
        table[f"**planalign {mode}**" if mode == "hybrid" else f"planalign {mode}"] = by_kind(
            score([rank(index, encoder, q["query"], mode, Filters(), 10).positions for q in queries]), kinds)
    for name, rankings in baselines(index, encoder, texts, [q["query"] for q in queries]).items():
        table[name] = by_kind(score(rankings), kinds)
    canonical_vectors = encoder.encode_queries([canonical(q["query"])[:2000] for q in queries])
    table["  variant: query embedded in canonical form (not shipped)"] = by_kind(score(
        [rank(index, encoder, q["query"], "hybrid", Filters(), 10, query_vector=v).positions for q, v in zip(queries, canonical_vectors)]), kinds)

    # cross-validated fusion weights: each fold's setting chosen on the other 30 queries
    per_setting = [score([rank(index, encoder, q["query"], "hybrid", Filters(), 10, params=params).positions for q in queries]) for params in GRID]
    fold = np.zeros(len(queries), dtype=int)
    for kind in KINDS:
        for n, i in enumerate([i for i, k in enumerate(kinds) if k == kind]):
            fold[i] = n % FOLDS
    cv = np.zeros(len(queries))
    choices = []
    for f in range(FOLDS):
        train = fold != f
        best = int(np.argmax([np.mean(np.array(s)[train]) for s in per_setting]))
        choices.append({k: GRID[best].__dict__[k] for k in ("symmetric_weight", "bm25_weight", "prf_m", "prf_beta")})
        cv[~train] = np.array(per_setting[best])[~train]
    table["**planalign hybrid, fusion weights cross-validated over queries**"] = by_kind(list(cv), kinds)
    insample = int(np.argmax([np.mean(s) for s in per_setting]))
    report: dict = {"encoder": encoder_name, "table": table, "fold_choices": choices,
                    "best_in_sample": {k: GRID[insample].__dict__[k] for k in ("symmetric_weight", "bm25_weight", "prf_m", "prf_beta")},
                    "shipped": {k: params_for(encoder_name).__dict__[k] for k in ("symmetric_weight", "bm25_weight", "prf_m", "prf_beta", "floor")}}
    report["floor"] = floor_report(index, encoder, queries, judged, fold, params_for(encoder_name).floor)
    report["explanations"] = explanation_report(index, encoder, queries, judged)
    return report


def _texts(app: Application, ids: list[str]) -> list[str]:
    stored = app.store.get(ids)
    return [stored[pid].search_text() for pid in ids]


def floor_report(index: ProjectIndex, encoder: Encoder, queries: list[dict], judged: dict[str, dict[str, int]], fold: np.ndarray, floor: float) -> dict:
    """``total`` against the judgments: relevant (grade >= 1) documents counted, grade-0 ones counted,
    with the shipped floor and with a floor chosen per fold (best F1 on the other folds); a hit that
    holds every query word counts whatever its score, as in the product (:func:`holds_every`)."""
    pooled = []
    for qi, q in enumerate(queries):
        ranked = rank(index, encoder, q["query"], "hybrid", Filters(), 10_000)
        words = query_words(particulates_named(normalize(q["query"])))
        pooled += [(s, judged[q["qid"]].get(index.ids[p], 0) >= 1, fold[qi], holds_every(words, index.keyword.tokens[p]))
                   for p, s in zip(ranked.positions, ranked.scores)]
    scores = np.array([s for s, _, _, _ in pooled])
    relevant = np.array([r for _, r, _, _ in pooled])
    folds = np.array([f for _, _, f, _ in pooled])
    holding = np.array([h for _, _, _, h in pooled], dtype=bool)
    everything = sum(sum(1 for g in judged[q["qid"]].values() if g >= 1) for q in queries)

    def counts(floor: float, mask: np.ndarray) -> tuple[int, int]:
        above = ((scores >= floor) | holding) & mask
        return int((above & relevant).sum()), int((above & ~relevant).sum())

    def best(mask: np.ndarray) -> float:
        grid = np.round(np.arange(0.5, 8.01, 0.1), 2)
        f1 = [2 * counts(t, mask)[0] / max(1, (((scores >= t) | holding) & mask).sum() + relevant[mask].sum()) for t in grid]
        return float(grid[int(np.argmax(f1))])

    shipped = counts(floor, np.ones(len(scores), dtype=bool))
    cv = [0, 0]
    for f in range(FOLDS):
        hit, miss = counts(best(folds != f), folds == f)
        cv[0] += hit
        cv[1] += miss
    totals = [rank(index, encoder, q["query"], "hybrid", Filters(), 10).total for q in queries]
    relevant_per_query = [sum(1 for g in judged[q["qid"]].values() if g >= 1) for q in queries]
    return {"relevant_documents": everything, "shipped_floor": floor,
            "shipped": {"relevant_counted": shipped[0], "grade0_counted": shipped[1],
                        "recall": round(shipped[0] / everything, 3), "precision": round(shipped[0] / max(1, sum(shipped)), 3)},
            "cv": {"relevant_counted": cv[0], "grade0_counted": cv[1], "recall": round(cv[0] / everything, 3),
                   "precision": round(cv[0] / max(1, sum(cv)), 3)},
            "mean_total": round(float(np.mean(totals)), 2), "mean_relevant": round(float(np.mean(relevant_per_query)), 2),
            "median_abs_error": float(np.median(np.abs(np.array(totals) - np.array(relevant_per_query))))}


def explanation_report(index: ProjectIndex, encoder: Encoder, queries: list[dict], judged: dict[str, dict[str, int]]) -> dict:
    """Labels of the top-10 hits: relevant ones should carry one, grade-0 ones rarely."""
    out = {"relevant": {"hits": 0, "lexical": 0, "semantic": 0, "none": 0}, "grade0": {"hits": 0, "lexical": 0, "semantic": 0, "none": 0}}
    for q in queries:
        ranked = rank(index, encoder, q["query"], "hybrid", Filters(), 10)
        for p, why in zip(ranked.positions, ranked.why):
            row = out["relevant" if judged[q["qid"]].get(index.ids[p], 0) >= 1 else "grade0"]
            row["hits"] += 1
            row["lexical"] += LEXICAL in why
            row["semantic"] += SEMANTIC in why
            row["none"] += not why
    return out


# ------------------------------------------------------------------------ Traffy regression
def load_queries() -> list[dict]:
    """Our own judged Traffy queries (eval/data/search_queries.jsonl; also the benchmark's query set)."""
    text = eval_data_path("search_queries.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def traffy_regression(encoder_name: str) -> dict[str, dict[str, float]]:
    """nDCG@10 on our own judged Traffy queries (a regression check; see the module docstring)."""
    root = Settings.load().resolved_data_dir() / f"eval-search-{encoder_name}"
    app = Application(Settings.load(data_dir=root))
    if app.store.count() == 0:
        path = shared_data_dir() / "traffy" / "traffy_2023-01.csv.gz"
        app.store.upsert(read_projects(path, source="traffy_2023-01", overrides={"description": "name"}).projects)
    started = time.perf_counter()
    sync = app.sync(encoder_name)
    if sync.added:
        print(f"Traffy index ({encoder_name}): {sync.total} reports, {sync.added} embedded in {time.perf_counter() - started:.0f}s", file=sys.stderr)
    index = app.require_index()
    encoder = app.index_encoder(index)
    queries = load_queries()
    kinds = [q["kind"] for q in queries]
    table = {}
    for mode in MODES:
        scores = [ndcg_at([index.ids[p] for p in rank(index, encoder, q["query"], mode, Filters(), 10).positions], q["relevant"]) for q in queries]
        table[f"planalign {mode}"] = by_kind(scores, kinds, ("keyword", "need", "paraphrase"))
    old = baselines_rrf_only(index, encoder, [q["query"] for q in queries])
    table["hybrid of planalign before issue 11 (weighted RRF)"] = by_kind(
        [ndcg_at([index.ids[p] for p in r[:10]], q["relevant"]) for r, q in zip(old, queries)], kinds, ("keyword", "need", "paraphrase"))
    return table


def baselines_rrf_only(index: ProjectIndex, encoder: Encoder, queries: list[str]) -> list[list[int]]:
    vectors = encoder.encode_queries([normalize(q)[:2000] for q in queries])
    out = []
    for q, vector in zip(queries, vectors):
        words = content_tokens(normalize(q), normalized=True)
        keyword, _ = index.keyword.search(words, 100, None, in_compounds=False)  # as it was then
        semantic, _ = index.vectors.search(vector, 100)
        fused = rrf([keyword.tolist(), semantic.tolist()], [1.0, 0.1 if len(words) <= 3 else 1.5])
        out.append(sorted(fused, key=lambda p: -fused[p]))
    return out


# ------------------------------------------------------------------------------------ report
def markdown(report: dict) -> str:
    columns = [*KINDS, "all"]
    lines = [f"nDCG@10 over the 36 dev queries and 300 texts, index encoder `{report['encoder']}` (in the same run; the shipped "
             f"fusion weights {json.dumps(report['shipped'])} were chosen on these queries, so the plain `planalign hybrid` row is "
             "in-sample and the cross-validated row is the honest one).", "",
             "| method | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)]
    lines += [f"| {name} | " + " | ".join(f"{row[c]:.3f}" for c in columns) + " |" for name, row in report["table"].items()]
    floor, why = report["floor"], report["explanations"]
    lines += ["", f"Per-fold choices: {json.dumps(report['fold_choices'])}; best in-sample: {json.dumps(report['best_in_sample'])}.", "",
              f"Relevance floor (`total`): with the shipped floor {floor['shipped_floor']}, {floor['shipped']['relevant_counted']} of "
              f"{floor['relevant_documents']} relevant documents are counted and {floor['shipped']['grade0_counted']} grade-0 ones "
              f"(recall {floor['shipped']['recall']}, precision {floor['shipped']['precision']}); with the floor refitted per fold "
              f"{floor['cv']['relevant_counted']} and {floor['cv']['grade0_counted']} (recall {floor['cv']['recall']}, precision "
              f"{floor['cv']['precision']}). `total` averages {floor['mean_total']} per query against {floor['mean_relevant']} "
              f"judged relevant (median absolute error {floor['median_abs_error']}).", "",
              f"Explanations of the top-10 hits: of {why['relevant']['hits']} relevant hits, {why['relevant']['semantic']} say "
              f"\"ความหมายใกล้เคียง\", {why['relevant']['lexical']} \"ตรงคำค้น\", {why['relevant']['none']} neither; of "
              f"{why['grade0']['hits']} grade-0 hits, {why['grade0']['semantic']} say \"ความหมายใกล้เคียง\", "
              f"{why['grade0']['lexical']} \"ตรงคำค้น\", {why['grade0']['none']} neither."]
    return "\n".join(lines)


def traffy_markdown(table: dict[str, dict[str, float]], encoder: str) -> str:
    columns = ["keyword", "need", "paraphrase", "all"]
    lines = [f"Regression only: nDCG@10 on our own 36 judged Traffy queries over 13,584 reports of January 2023, index encoder "
             f"`{encoder}` (queries written and pools built by us with keyword searches: biased toward keyword matching).", "",
             "| method | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)]
    return "\n".join(lines + [f"| {name} | " + " | ".join(f"{row[c]:.3f}" for c in columns) + " |" for name, row in table.items()])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--encoder", default="e5")
    parser.add_argument("--traffy", action="store_true", help="also the regression table on our judged Traffy queries")
    parser.add_argument("--no-readme", action="store_true", help="do not rewrite eval/README.md")
    args = parser.parse_args(argv)
    try:
        report = evaluate(args.encoder)
        traffy = traffy_regression(args.encoder) if args.traffy else None
    except DatasetMissing as exc:
        print(f"skipped: {exc}", file=sys.stderr)
        return 0
    text = markdown(report)
    print(json.dumps({k: v for k, v in report.items() if k != "table"}, ensure_ascii=False))
    print(text)
    if traffy is not None:
        print(traffy_markdown(traffy, args.encoder))
    if not args.no_readme:
        write_readme_block(f"search-dev-{args.encoder}", text)
        if traffy is not None:
            write_readme_block(f"search-traffy-{args.encoder}", traffy_markdown(traffy, args.encoder))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
