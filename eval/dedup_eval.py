"""Duplicate detection on the labelled dev pairs, beside the baselines, in one run.

Data (eval/dev_sets.py): 240 pairs = 60 project names x (copy, paraphrase by another office,
related-but-different, unrelated), the 300 distinct texts indexed by the product with ``--encoder``.
Every row of the table is measured in this run:

* baselines: the product's rule before issue 11 (shingle Jaccard for copies, centered cosine with a
  neighbourhood margin, name-number veto; over the 300 texts as its sweep did), char-trigram TF-IDF
  cosine and centered passage cosine (corpus mean), each at its best threshold;
* ``decide()`` with the shipped parameters (index/dedup.py ``PARAMETERS``; chosen on these pairs, so
  in-sample), and the same rule cross-validated: 5 folds grouped by source project, every threshold
  refitted on the other 4 folds (the honest figure);
* the fit adds the cross-project candidate pairs of the 300 texts (each text's 10 nearest
  neighbours from another source) as negatives with weight 0.05: the labelled pairs never show
  them, but a sweep meets them all the time; and the 214 campaign policy titles' candidate pairs
  (items of one list, none a duplicate of another, real, almost none naming a place or number),
  weight 0.05 too, which choose only the bar of pairs naming no place or number (:func:`fit_staged`);
* the FY2566 ordinance's routine item lines (real, no labels, no strategic project names): pairs of
  different lines across offices, where one of the two offices lists both lines (two items by
  construction, so not duplicates), flagged by each method above at its dev threshold and by the
  product's across-offices sweep;
* the two product uses end to end: the sweep over the store (``Application.duplicate_clusters``)
  and the single-draft check of each source text (``Application.check_duplicates``), with the
  check's pairs that the sweep does not return (must be 0), and how good the sweep's clusters are
  (average linkage, beside the connected components of the same pairs).

``--write-background`` recomputes the shipped background means (nlp/data/background_query_means.npz).
"""
from __future__ import annotations

import argparse
import itertools
import json
import re
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import GroupKFold

from planalign.corpora.projects import names_an_office, office_names, read_projects
from planalign.eval.datasets import DatasetMissing, shared_data_dir
from planalign.eval.dev_sets import dedup_pairs, dev_workspace, project_background
from planalign.eval.run_eval import write_readme_block
from planalign.index.dedup import (
    BACKGROUND_FILE,
    FEATURES,
    PARAMETERS,
    DecideParams,
    DedupConfig,
    background_mean,
    center,
    compare,
    decide,
    features,
    find_duplicates,
    make_records,
    neighbour_pairs,
    semantic_vectors,
)
from planalign.nlp.encoders import get_encoder
from planalign.nlp.fields import extract
from planalign.nlp.normalize import normalize
from planalign.nlp.tokenize import content_tokens

KINDS = ("copy", "paraphrase", "related", "unrelated")
FOLDS = 5
CROSS_WEIGHT = 0.05  # weight of one cross-project negative in the fit (1,274 of them count like ~60 pair errors)
POLICY_WEIGHT = 0.05  # weight of one pair of campaign policies (975 of them): the same as a cross-project pair
GRID = {
    "copy_lex": (0.55, 0.6),
    # a guard the dev pairs cannot fit (no short draft inside a long text there; their copies reach 0.40)
    "copy_min_long": (0.3,),
    # ties prefer the veto (no dev pair tells them apart; a soi here and a canal there should not pair)
    "place_other": (1.0, 0.0),
    "sem": tuple(float(x) for x in np.round(np.arange(0.20, 0.71, 0.01), 2)),
    "cover_weight": (0.0, 0.05, 0.1, 0.15, 0.2, 0.3),
    "activity_weight": (0.0, 0.05, 0.1, 0.15),
    "lex_weight": (0.0, 0.1),
    # below 0: a pair naming no place or number on either side needs more than the bar (the policies' pairs, below)
    "none_cover": (1.0, 0.5, 0.0, -0.5, -1.0, -1.5),
}


# ------------------------------------------------------------------------------------ metrics
def metrics(pred: np.ndarray, rows: list[dict]) -> dict:
    y = np.array([int(r["is_duplicate"]) for r in rows])
    kinds = np.array([r["kind"] for r in rows])
    tp = int(((pred == 1) & (y == 1)).sum())
    precision = tp / max(1, int(pred.sum()))
    recall = tp / max(1, int(y.sum()))
    f1 = 2 * precision * recall / max(1e-9, precision + recall)
    out = {"F1": round(f1, 3), "precision": round(precision, 3), "recall": round(recall, 3)}
    out.update({k: round(float(pred[kinds == k].mean()), 3) for k in KINDS})
    return out


def best_threshold(scores: np.ndarray, y: np.ndarray) -> float:
    best = (-1.0, 0.0)
    for t in np.unique(scores):
        pred = scores >= t
        f1 = 2 * (pred & (y == 1)).sum() / max(1, pred.sum() + y.sum())
        if f1 > best[0]:
            best = (float(f1), float(t))
    return best[1]


def threshold_baseline(scores: np.ndarray, rows: list[dict], groups: np.ndarray) -> tuple[dict, dict, float]:
    """Best threshold in-sample, and cross-validated (threshold chosen on the other folds)."""
    y = np.array([int(r["is_duplicate"]) for r in rows])
    t = best_threshold(scores, y)
    pred = np.zeros(len(rows), dtype=int)
    for train, test in GroupKFold(FOLDS).split(scores, y, groups):
        pred[test] = scores[test] >= best_threshold(scores[train], y[train])
    return metrics((scores >= t).astype(int), rows), metrics(pred, rows), t


# ---------------------------------------------------------------------------- the old product
_OLD_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_OLD_YEAR = re.compile(r"^(?:25|20)\d\d$")


def legacy_sweep(texts: list[str], passages: np.ndarray) -> set[tuple[int, int]]:
    """The duplicate rule of planalign before issue 11 (index/dedup.py at commit 6ac0e28), as its
    sweep ran it: copies = Jaccard >= 0.6 of word 3-gram + character 5-gram shingles; semantic =
    centered passage cosine >= 0.85 among the 10 nearest neighbours with cosine / mean neighbourhood
    cosine >= 1.15; pairs whose names carry different numbers (years aside) are refused."""
    normalized = [normalize(t) for t in texts]
    shingles = []
    for text in normalized:
        words = content_tokens(text, normalized=True)
        grams = {" ".join(words[i : i + 3]) for i in range(max(1, len(words) - 2))} if words else set()
        squashed = "".join(text.split())
        shingles.append(grams | {squashed[i : i + 5] for i in range(max(1, len(squashed) - 4))})
    numbers = [frozenset(n.replace(",", "") for n in _OLD_NUMBER.findall(t.split("\n", 1)[0]) if not _OLD_YEAR.match(n)) for t in normalized]
    centered = center(passages, passages.mean(axis=0))
    similarity = centered @ centered.T
    order = np.argsort(-similarity, axis=1)[:, 1:11]
    density = np.array([similarity[i, order[i]].mean() for i in range(len(texts))])
    found = set()
    for i, j in itertools.combinations(range(len(texts)), 2):
        if numbers[i] and numbers[j] and numbers[i] != numbers[j]:
            continue
        union = shingles[i] | shingles[j]
        copy = bool(union) and len(shingles[i] & shingles[j]) / len(union) >= 0.6
        neighbours = j in order[i] or i in order[j]
        if copy or (neighbours and similarity[i, j] >= 0.85 and similarity[i, j] / ((density[i] + density[j]) / 2) >= 1.15):
            found.add((i, j))
    return found


# --------------------------------------------------------------------------- the rule, vectorized
def predictions(F: dict[str, np.ndarray], p: dict, use: dict | None = None) -> np.ndarray:
    """:func:`planalign.index.dedup.rule` over arrays of features (``use`` switches fields off)."""
    use = use or {}
    hard = np.zeros(len(F["sem"]), dtype=bool)
    for name in ("place", "number", "group"):
        if use.get(name, True):
            hard |= F[name] > 0
    if use.get("place", True):
        hard |= (F["place_other"] > 0) & (p.get("place_other", 1.0) > 0)
    cover = np.where(F["specifics"] > 0, F["cover"], p["none_cover"])
    adjusted = F["sem"] + p["lex_weight"] * F["lex"] - p["cover_weight"] * (1 - cover) - p["activity_weight"] * F["activity"]
    near = (F["lex"] >= p["copy_lex"]) & (F["lex_long"] >= p.get("copy_min_long", 0.0))
    copy_ok = (F["subst"] == 0) if use.get("subst", True) else np.ones(len(hard), dtype=bool)
    defaults = DecideParams()
    narrower = (F["topic_few"] <= p.get("topic_apart", defaults.topic_apart)) & (F["topic_narrower"] > 0)  # dedup.narrower
    on_topic = ~(((F["topic_few"] <= p.get("topic_few", defaults.topic_few)) & (F["topic_shared"] == 0))  # dedup.off_topic
                 | ((F["topic_few"] <= p.get("topic_apart", defaults.topic_apart)) & (F["topic_apart"] > 0)) | narrower)
    return np.where(near, ~hard & copy_ok & ~narrower, ~hard & on_topic & (adjusted >= p["sem"])).astype(int)


def fit(F: dict[str, np.ndarray], y: np.ndarray, weight: np.ndarray, use: dict | None = None, fixed: dict | None = None) -> dict:
    """The grid point with the best weighted F1 (a false positive costs its weight); ties: the higher bar."""
    best: dict = {}
    best_f1 = -1.0
    names = list(GRID)
    for values in itertools.product(*(GRID[n] for n in names)):
        p = dict(zip(names, values), **(fixed or {}))
        pred = predictions(F, p, use)
        tp = float(((pred == 1) & (y == 1)).sum())
        fp = float((weight * ((pred == 1) & (y == 0))).sum())
        fn = float(((pred == 0) & (y == 1)).sum())
        f1 = 2 * tp / max(1.0, 2 * tp + fp + fn)
        if f1 > best_f1 + 1e-9 or (abs(f1 - best_f1) <= 1e-9 and p["sem"] > best["sem"]):
            best, best_f1 = p, f1
    return best


@dataclass
class Negatives:
    """Pairs known not to be duplicates, added to the fit with a weight each (a false positive costs it)."""

    features: dict[str, np.ndarray]
    groups: np.ndarray  # fold groups (pairs of one group stay in one fold)
    weight: float
    specifics_only: bool = False  # they choose only the bar of pairs naming no place or number (:func:`fit_staged`)

    def __len__(self) -> int:
        return len(self.groups)


def fit_staged(Fa: dict[str, np.ndarray], ya: np.ndarray, wa: np.ndarray, specifics_only: np.ndarray,
               use: dict | None = None, fixed: dict | None = None) -> dict:
    """:func:`fit` on the rows outside ``specifics_only``, then ``none_cover`` alone on every row.

    The policies' pairs (``specifics_only``) speak only of pairs that name no place or number, so
    they choose only the bar of those (``none_cover``); every other number is fitted without them, as
    before they joined (fitted on every grid point with them, the dev paraphrases fell to 0.85-0.80
    cross-validated as the bar rose for every pair)."""
    keep = ~specifics_only
    first = fit({k: v[keep] for k, v in Fa.items()}, ya[keep], wa[keep], use, fixed)
    if not specifics_only.any():
        return first
    return fit(Fa, ya, wa, use, {k: v for k, v in first.items() if k != "none_cover"})


def cross_validated(F: dict[str, np.ndarray], rows: list[dict], groups: np.ndarray, negatives: dict[str, Negatives],
                    use: dict | None = None, fixed: dict | None = None) -> tuple[dict, dict, dict[str, str], dict[str, str]]:
    """(in-sample fit, CV metrics, per negative set: its pairs flagged in-sample, in CV) with refits per fold
    (:func:`fit_staged`: a negative set marked ``specifics_only`` chooses ``none_cover`` alone)."""
    n = len(rows)
    Fa, ya, wa = _stacked(F, rows, negatives)
    ga = np.concatenate([groups, *(neg.groups for neg in negatives.values())])
    only = np.concatenate([np.zeros(n, dtype=bool), *(np.full(len(neg), neg.specifics_only) for neg in negatives.values())])
    params = fit_staged(Fa, ya, wa, only, use, fixed)
    insample = predictions(Fa, params, use)
    cv = np.zeros(len(ya), dtype=int)
    for train, test in GroupKFold(FOLDS).split(ya, ya, ga):
        fold = fit_staged({k: v[train] for k, v in Fa.items()}, ya[train], wa[train], only[train], use, fixed)
        cv[test] = predictions({k: v[test] for k, v in Fa.items()}, fold, use)
    flagged_in, flagged_cv, start = {}, {}, n
    for name, neg in negatives.items():
        flagged_in[name] = f"{int(insample[start : start + len(neg)].sum())}/{len(neg)}"
        flagged_cv[name] = f"{int(cv[start : start + len(neg)].sum())}/{len(neg)}"
        start += len(neg)
    return params, metrics(cv[:n], rows), flagged_in, flagged_cv


def _stacked(F: dict[str, np.ndarray], rows: list[dict], negatives: dict[str, Negatives]) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Features, labels and weights of the labelled pairs and the negatives, for :func:`fit`."""
    sets = list(negatives.values())
    y = np.array([int(r["is_duplicate"]) for r in rows])
    return ({k: np.concatenate([F[k], *(neg.features[k] for neg in sets)]) for k in F},
            np.concatenate([y, np.zeros(sum(len(neg) for neg in sets), dtype=int)]),
            np.concatenate([np.ones(len(rows)), *(np.full(len(neg), neg.weight) for neg in sets)]))


def policy_negatives(encoder: str, mean: np.ndarray | None) -> Negatives:
    """The 214 campaign policy titles of 2022 (real, independent of our method), each one's 10 nearest
    others (the candidates a sweep decides), as negatives: items of one platform, listed side by side,
    none a duplicate of another (as two lines one office lists). They name almost no place or number,
    the kind of text the labelled pairs hardly hold (12 of 240), where "same project" flags were the
    walkthroughs' worst finding. ``mean``: the centering mean (None: the titles' own, as a store of them)."""
    policies = json.loads((shared_data_dir() / "policies" / "policies_campaign_2022.json").read_text(encoding="utf-8"))
    texts = [normalize(p["name_th"]) for p in policies]
    queries = get_encoder(encoder, Path(app_cache())).encode_queries(texts)
    vectors = center(queries, queries.mean(axis=0) if mean is None else mean)
    records = [extract(t, v) for t, v in zip(texts, vectors)]
    pairs = list(neighbour_pairs(vectors, 10, 0.2))
    folds = np.array([f"policies-{i % FOLDS}" for i, _ in pairs])  # pairs of one title (as the first) in one fold
    return Negatives(feature_arrays([compare(records[i], records[j]) for i, j in pairs]), folds, POLICY_WEIGHT, specifics_only=True)


def feature_arrays(comparisons: list) -> dict[str, np.ndarray]:
    table = [features(c) for c in comparisons]
    return {name: np.array([t[name] for t in table], dtype=float) for name in FEATURES}


# ------------------------------------------------------------------------------------- the run
def evaluate(encoder: str) -> dict:
    rows = dedup_pairs()
    app = dev_workspace(encoder)
    index = app.require_index()
    texts = [normalize(app.store.get([pid])[pid].search_text()) for pid in index.ids]
    position = {t: i for i, t in enumerate(texts)}
    a_idx = np.array([position[normalize(r["source_text"])] for r in rows])
    b_idx = np.array([position[normalize(r["candidate_text"])] for r in rows])
    groups = np.array([r["source_id"] for r in rows])
    table: dict[str, dict] = {}

    # baselines
    passages, queries = index.vectors.vectors, index.query_view
    found = legacy_sweep(texts, passages)
    legacy = np.array([int((min(a, b), max(a, b)) in found) for a, b in zip(a_idx, b_idx)])
    table["planalign before issue 11 (its sweep over the 300 texts)"] = {"in": metrics(legacy, rows)}
    tfidf = TfidfVectorizer(analyzer="char", ngram_range=(3, 3)).fit(texts)
    M = tfidf.transform(texts)
    trigram = np.asarray(M[a_idx].multiply(M[b_idx]).sum(axis=1)).ravel()
    ins, cv, trigram_bar = threshold_baseline(trigram, rows, groups)
    table[f"char-trigram TF-IDF cosine, best threshold ({trigram_bar:.2f})"] = {"in": ins, "cv": cv}
    centered_passages = center(passages, passages.mean(axis=0))
    cosine = np.einsum("ij,ij->i", centered_passages[a_idx], centered_passages[b_idx])
    ins, cv, cosine_bar = threshold_baseline(cosine, rows, groups)
    table[f"centered {encoder} cosine (passage view, corpus mean), best threshold ({cosine_bar:.2f})"] = {"in": ins, "cv": cv}

    # the product's decision on the pairs: shipped parameters (in-sample) and refitted per fold (CV)
    group_of: dict[int, set[str]] = defaultdict(set)
    for r, a, b in zip(rows, a_idx, b_idx):
        group_of[int(a)].add(r["source_id"])
        group_of[int(b)].add(r["source_id"])
    variants = {"corpus mean": (queries.mean(axis=0), True)}
    background = background_mean(encoder)
    if background is not None:
        variants["background mean (stores under 200 texts)"] = (background, False)
    report: dict = {"encoder": encoder, "table": table, "fitted": {}, "shipped": {}}
    for label, (mean, own) in variants.items():
        vectors = center(queries, mean)
        records = [extract(t, v) for t, v in zip(texts, vectors)]
        shipped = PARAMETERS.get((encoder, own))
        comparisons = [compare(records[a], records[b]) for a, b in zip(a_idx, b_idx)]
        F = feature_arrays(comparisons)
        cross_pairs = [(i, j) for i, j in neighbour_pairs(vectors, 10, 0.2) if not (group_of[i] & group_of[j])]
        negatives = {"cross": Negatives(feature_arrays([compare(records[i], records[j]) for i, j in cross_pairs]),
                                        np.array([min(group_of[i]) for i, _ in cross_pairs]), CROSS_WEIGHT),
                     "policies": policy_negatives(encoder, None if own else mean)}
        params, cv, flagged_in, flagged_cv = cross_validated(F, rows, groups, negatives)
        report["fitted"][label] = params
        if shipped is not None:
            decided = np.array([int(decide(records[a], records[b], shipped).is_duplicate) for a, b in zip(a_idx, b_idx)])
            assert (decided == predictions(F, shipped.__dict__)).all(), "the vectorized rule drifted from decide()"
            shipped_flags = {name: f"{int(predictions(neg.features, shipped.__dict__).sum())}/{len(neg)}" for name, neg in negatives.items()}
            report["shipped"][label] = shipped.__dict__
            table[f"**decide(), {label}, shipped parameters**"] = {"in": {**metrics(decided, rows), **shipped_flags}, "cv": {**cv, **flagged_cv}}
        else:
            table[f"decide(), {label}, fitted here (no shipped parameters)"] = {"in": {**metrics(predictions(F, params), rows), **flagged_in},
                                                                                "cv": {**cv, **flagged_cv}}
        if own:
            for ablation, use in (("without place/number/group fields", {"place": False, "number": False, "group": False}),
                                  ("without the substitution veto", {"subst": False})):
                _, ab_cv, _, ab_flagged = cross_validated(F, rows, groups, negatives, use)
                table[f"  ablation: {ablation}"] = {"cv": {**ab_cv, **ab_flagged}}
            without = {"cross": negatives["cross"]}  # the fit as it was before the policies joined it
            _, wo_cv, _, wo_flagged = cross_validated(F, rows, groups, without)
            wo_params = fit(*_stacked(F, rows, without))  # no specifics-only set: one stage
            table["  fitted without the policies' pairs"] = {"cv": {**wo_cv, **wo_flagged,
                                                                    "policies": f"{int(predictions(negatives['policies'].features, wo_params).sum())}"
                                                                                f"/{len(negatives['policies'])} (in-sample fit)"}}
    report["uses"] = uses(app, rows, texts, index.ids)
    report["ordinance"] = ordinance_lines(encoder, trigram_bar, cosine_bar)
    report["sem_by_kind"] = {k: round(float(min(c.sem for c, r in zip(comparisons, rows) if r["kind"] == k)), 3) for k in KINDS}
    report["copy_lex_long_min"] = round(float(min(F["lex_long"][np.array([r["kind"] == "copy" for r in rows])])), 3)
    return report


def uses(app, rows: list[dict], texts: list[str], ids: list[str]) -> dict:
    """The sweep over the store and the single-draft check of each source text, end to end."""
    doc = {t: pid for t, pid in zip(texts, ids)}
    labelled = {tuple(sorted((doc[normalize(r["source_text"])], doc[normalize(r["candidate_text"])]))): r["kind"] for r in rows}
    started = time.perf_counter()
    swept = app.duplicate_clusters(None, across=False)
    seconds = time.perf_counter() - started
    sweep_pairs = {tuple(sorted((swept.ids[p.a], swept.ids[p.b]))) for p in swept.result.pairs}
    groups: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        groups[doc[normalize(r["source_text"])]].add(r["source_id"])
        groups[doc[normalize(r["candidate_text"])]].add(r["source_id"])
    out: dict[str, dict] = {"sweep": {"seconds": round(seconds, 2), **{k: sum(1 for p, kind in labelled.items() if kind == k and p in sweep_pairs) for k in KINDS},
                     "other_projects": sum(1 for a, b in sweep_pairs if not groups[a] & groups[b])}}
    check = {k: 0 for k in KINDS}
    outside, other = 0, 0
    for source in sorted({normalize(r["source_text"]) for r in rows}):
        me = doc[source]
        for match in (each for found in app.check_duplicates(source) for each in (found, *found.copies)):  # each stored project, copies too
            if match.id == me:
                continue
            pair = tuple(sorted((me, match.id)))
            if pair in labelled:
                check[labelled[pair]] += 1
            elif not groups[me] & groups[match.id]:
                other += 1
            outside += pair not in sweep_pairs
    out["check"] = {**check, "other_projects": other, "pairs_the_sweep_does_not_return": outside}
    together: dict[str, set[str]] = defaultdict(set)  # source project -> its text and the texts that are duplicates of it
    for r in rows:
        together[r["source_id"]].add(doc[normalize(r["source_text"])])
        if r["kind"] in ("copy", "paraphrase"):
            together[r["source_id"]].add(doc[normalize(r["candidate_text"])])
    truth = {pair for found in together.values() for pair in itertools.combinations(sorted(found), 2)}
    product = [[swept.ids[m] for m in members] for members in swept.result.clusters.values()]
    out["clusters"] = {"average linkage (the product)": cluster_quality(product, sweep_pairs, truth),
                       "baseline: connected components of the same pairs": cluster_quality(components(sweep_pairs), sweep_pairs, truth)}
    return out


def ordinance_lines(encoder: str, trigram_bar: float, cosine_bar: float) -> dict:
    """Pairs of different lines across offices flagged, on the FY2566 ordinance's routine item lines.

    No person labelled these pairs; what is known comes from how the budget is written: an office
    lists its items side by side, so two different lines that one of the two offices lists both of
    are two items, not a duplicate (every district carries the same routine lines). The other pairs
    of different lines (a district's line against an agency's) have no known answer and are counted
    only. The strategic project names (held out) are left out, and so are the lines that only name an
    office (the repayment section's "สำนักงานเขตบางบอน"), which the product does not treat as projects."""
    projects = read_projects(shared_data_dir() / "budget" / "bma_budget_ordinance_2566_items.csv", source="ordinance-2566",
                             where={"level": "item", "is_strategic_project": "0"}).projects
    offices_named = office_names({p.org for p in projects})
    projects = [p for p in projects if not names_an_office(p, offices_named)]
    texts = [normalize(p.search_text())[:2000] for p in projects]
    offices = [p.district or p.org for p in projects]
    distinct = sorted(set(texts))
    position = {t: i for i, t in enumerate(distinct)}
    of = np.array([position[t] for t in texts])
    listed: dict[str, set[int]] = defaultdict(set)
    for office, t in zip(offices, of):
        listed[office].add(int(t))
    side_by_side: set[tuple[int, int]] = set()
    other: set[tuple[int, int]] = set()
    one_office: set[tuple[int, int]] = set()
    for x, y in itertools.combinations(range(len(texts)), 2):
        if offices[x] == offices[y] and of[x] != of[y]:
            one_office.add((x, y))
        elif of[x] != of[y]:
            (side_by_side if of[y] in listed[offices[x]] or of[x] in listed[offices[y]] else other).add((x, y))
    kinds = {"side_by_side": np.array(sorted(side_by_side)), "other": np.array(sorted(other)), "one_office": np.array(sorted(one_office))}
    model = get_encoder(encoder, Path(app_cache()))
    passages = model.encode_passages(distinct)
    passages = center(passages, passages.mean(axis=0))
    tfidf = TfidfVectorizer(analyzer="char", ngram_range=(3, 3)).fit(distinct)
    grams = tfidf.transform(distinct)
    scores = {f"char-trigram TF-IDF cosine >= {trigram_bar:.2f} (dev threshold)": (grams @ grams.T).toarray() >= trigram_bar,
              f"centered {encoder} cosine >= {cosine_bar:.2f} (dev threshold)": passages @ passages.T >= cosine_bar}
    out: dict[str, dict[str, int]] = {name: {kind: int(flag[of[rows[:, 0]], of[rows[:, 1]]].sum()) for kind, rows in kinds.items()}
                                      for name, flag in scores.items()}
    vectors = model.encode_queries(distinct)
    centered, params = semantic_vectors(vectors[of], encoder)
    years = [p.fiscal_year for p in projects]
    sweeps = (("the sweep without the office rule (no lists: rows without a year)", False, [None] * len(years)),
              ("the product: the sweep within and across offices (`--any`)", False, years),
              ("**the product: across-offices sweep**", True, years))
    for name, across, listed_years in sweeps:
        records = make_records(texts, centered, groups=offices, years=listed_years)
        found = {(p.a, p.b) for p in find_duplicates(records, DedupConfig(across_groups=across, workers=1), params).pairs}
        out[name] = {"side_by_side": len(found & side_by_side), "other": len(found & other), "one_office": len(found & one_office)}
    return {"rows": len(texts), "texts": len(distinct), "offices": len(set(offices)), "side_by_side": len(side_by_side),
            "other": len(other), "one_office": len(one_office), "flagged": out}


def components(pairs: set[tuple[str, str]]) -> list[list[str]]:
    """The connected components of the flagged pairs (how the product clustered before)."""
    ids = sorted({x for pair in pairs for x in pair})
    position = {x: i for i, x in enumerate(ids)}
    rows, cols = [position[a] for a, _ in pairs], [position[b] for _, b in pairs]
    _, labels = connected_components(coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(ids), len(ids))), directed=False)
    groups: dict[int, list[str]] = defaultdict(list)
    for x, label in zip(ids, labels):
        groups[int(label)].append(x)
    return list(groups.values())


def cluster_quality(clusters: list[list[str]], flagged: set[tuple[str, str]], truth: set[tuple[str, str]]) -> dict:
    """What a reviewer reading clusters meets: the pairs of texts put together, how many are true
    duplicates (precision), how many true duplicate pairs are together (recall), and how many of
    them were not flagged themselves (joined through a chain)."""
    inside = {pair for members in clusters for pair in itertools.combinations(sorted(members), 2)}
    right = len(inside & truth)
    return {"clusters": sum(len(m) > 1 for m in clusters), "largest": max((len(m) for m in clusters), default=0), "pairs_inside": len(inside),
            "precision": round(right / max(len(inside), 1), 3), "recall": round(right / max(len(truth), 1), 3), "not_flagged_inside": len(inside - flagged)}


def write_background(out: Path | None = None) -> Path:
    """The mean query-view vector of project background text for e5 and static (nlp/data)."""
    texts = [normalize(t)[:2000] for t in project_background()]
    means = {name: get_encoder(name, Path(app_cache())).encode_queries(texts).mean(axis=0).astype(np.float32) for name in ("e5", "static")}
    with resources.as_file(resources.files("planalign.nlp").joinpath("data", BACKGROUND_FILE)) as path:
        target = out or Path(path)
    np.savez_compressed(target, **means)
    print(f"wrote {target} from {len(texts)} background texts", file=sys.stderr)
    return target


def app_cache() -> Path:
    from planalign.config import Settings

    return Settings.load().resolved_data_dir() / "cache"


def markdown(report: dict) -> str:
    columns = ["F1", "precision", "copy", "paraphrase", "related", "unrelated", "cross", "policies"]
    lines = [f"240 dev pairs, encoder `{report['encoder']}` (index of the 300 texts built by the product). Cross-validated figures "
             "(5 folds grouped by source, thresholds refitted inside each fold), in-sample in brackets. "
             "`copy`...`unrelated`: share of pairs of that kind flagged as duplicates (targets: copy >= 0.98, paraphrase >= 0.80, "
             "related <= 0.20, unrelated 0). `cross`: cross-project candidate pairs (10 nearest neighbours from another source) flagged; "
             "`policies`: pairs of the 214 campaign policy titles of 2022 (each one's 10 nearest; items of one list, none a duplicate of "
             "another) flagged.",
             "", "| method | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)]
    for label, row in report["table"].items():
        cells = []
        for c in columns:
            cv, ins = row.get("cv", {}).get(c), row.get("in", {}).get(c)
            cells.append(f"{cv} ({ins})" if cv is not None and ins is not None else str(cv if cv is not None else (ins if ins is not None else "")))
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    uses = report["uses"]
    lines += ["", "End to end through the product on the 300 texts (pairs of each labelled kind flagged, out of 60; "
              "`other projects`: flagged pairs of texts from different source projects):", "",
              "| use | copy | paraphrase | related | unrelated | other projects | check pairs the sweep does not return |", "|---|---|---|---|---|---|---|",
              f"| sweep (`duplicate_clusters`, {uses['sweep']['seconds']} s) | " + " | ".join(str(uses["sweep"][k]) for k in KINDS)
              + f" | {uses['sweep']['other_projects']} | |",
              "| single-draft check of the 60 sources (`check_duplicates`) | " + " | ".join(str(uses["check"][k]) for k in KINDS)
              + f" | {uses['check']['other_projects']} | {uses['check']['pairs_the_sweep_does_not_return']} |"]
    lines += ["", "Clusters of the sweep (the same flagged pairs grouped two ways; a true pair: two of a source project's text, its copy and its "
              "paraphrase; `not flagged`: pairs inside a cluster that were not flagged themselves):", "",
              "| clusters | n | largest | pairs inside | precision | recall | not flagged |", "|---|---|---|---|---|---|---|"]
    for label, q in uses["clusters"].items():
        lines.append(f"| {label} | {q['clusters']} | {q['largest']} | {q['pairs_inside']} | {q['precision']} | {q['recall']} | {q['not_flagged_inside']} |")
    ordinance = report["ordinance"]
    lines += ["", f"FY2566 ordinance, routine item lines ({ordinance['rows']} rows, {ordinance['texts']} distinct lines, {ordinance['offices']} "
              "offices; no strategic project names): pairs of *different* lines from two offices flagged as duplicates. No one labelled "
              "them: where one of the two offices lists both lines, they are two of its items (every district carries the same routine "
              "lines), so a flag is wrong, and so is a flag on two lines of one office's list; the other pairs (a district's line "
              "against an agency's) have no known answer.", "",
              f"| method | pairs one office lists side by side (of {ordinance['side_by_side']}), flagged | other pairs (of {ordinance['other']}), "
              f"flagged | two lines of one office (of {ordinance['one_office']}), flagged |",
              "|---|---|---|---|"]
    lines += [f"| {label} | {row['side_by_side']} | {row['other']} | {row.get('one_office', '')} |" for label, row in ordinance["flagged"].items()]
    lines += ["", "Parameters fitted on all pairs here: " + "; ".join(f"{label}: " + json.dumps(p) for label, p in report["fitted"].items())]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--encoder", default="e5")
    parser.add_argument("--no-readme", action="store_true", help="do not rewrite eval/README.md")
    parser.add_argument("--write-background", action="store_true", help="recompute nlp/data/background_query_means.npz first")
    args = parser.parse_args(argv)
    try:
        if args.write_background:
            write_background()
        report = evaluate(args.encoder)
    except DatasetMissing as exc:
        print(f"skipped: {exc}", file=sys.stderr)
        return 0
    print(json.dumps({k: v for k, v in report.items() if k != "table"}, ensure_ascii=False))
    text = markdown(report)
    print(text)
    if not args.no_readme:
        write_readme_block(f"dedup-{args.encoder}", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
