"""The one evaluation routine: gold sets + ranked predictions + calibrated confidence -> a report.

``planalign eval``, the evaluation page's jobs and ``make eval`` all call :func:`evaluate` (or
:func:`evaluate_alignments`, which reads the predictions and the calibrated confidence from the
aligner's results), so a figure means the same wherever it is shown.

A text may truly belong to several nodes (Traffy reports carry several categories, policies several
dimensions); a prediction counts as correct when it is in the gold set. For per-class F1 a correct
prediction is credited to the predicted class and a wrong one charged against the first gold label,
the usual reduction of set-valued gold to single-label scoring.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from planalign.corpora.catalog import Catalog
from planalign.corpora.labelled import Labelled
from planalign.errors import InputError
from planalign.index.align import Alignment


@dataclass
class Report:
    n: int
    top1: float
    top3: float
    macro_f1: float
    ece: float
    per_class: dict[str, dict[str, float]] = field(default_factory=dict)
    labels: list[str] = field(default_factory=list)  # rows and columns of ``confusion``
    confusion: list[list[int]] = field(default_factory=list)  # [true][predicted]

    def as_dict(self) -> dict:
        return {
            "n": self.n,
            "top1": round(self.top1, 4),
            "top3": round(self.top3, 4),
            "macro_f1": round(self.macro_f1, 4),
            "ece": round(self.ece, 4),
            "per_class": self.per_class,
            "labels": self.labels,
            "confusion": self.confusion,
        }


NO_SUGGESTION = "(none)"  # the confusion matrix's column of the rows given no suggestion


def evaluate(ranked: Sequence[Sequence[str]], gold: Sequence[Sequence[str]], confidence: Sequence[float]) -> Report:
    """``ranked``: predictions best first; ``gold``: the true set; ``confidence``: of the top-1."""
    if not ranked:
        return Report(0, 0.0, 0.0, 0.0, 0.0)
    gold_sets = [set(g) for g in gold]
    hits1 = [bool(r) and r[0] in g for r, g in zip(ranked, gold_sets)]
    hits3 = [any(p in g for p in r[:3]) for r, g in zip(ranked, gold_sets)]
    predicted = [r[0] if r else "" for r in ranked]
    reference = [p if hit else sorted(g)[0] for p, g, hit in zip(predicted, gold_sets, hits1)]
    per_class = per_class_f1(predicted, reference)
    macro = float(np.mean([c["f1"] for c in per_class.values()])) if per_class else 0.0
    # a row given no suggestion (no readable words) is a miss in n and top-1, so it has its column too: the matrix summed to
    # 61 of a job's 63 (an integrator's walkthrough)
    labels = sorted(set(reference) | set(predicted) - {""}) + ([NO_SUGGESTION] if "" in predicted else [])
    confusion = [[0] * len(labels) for _ in labels]
    for p, r in zip(predicted, reference):
        confusion[labels.index(r)][labels.index(p or NO_SUGGESTION)] += 1
    return Report(
        n=len(ranked),
        top1=float(np.mean(hits1)),
        top3=float(np.mean(hits3)),
        macro_f1=macro,
        ece=expected_calibration_error(confidence, hits1),
        per_class=per_class,
        labels=labels,
        confusion=confusion,
    )


def lift(catalog: Catalog, labels: Sequence[Sequence[str]], level: str) -> list[list[str]]:
    """Gold labels as node ids at ``level`` (names resolved, deeper labels lifted to their ancestors)."""
    lifted = []
    for row in labels:
        ids = []
        for label in row:
            node = catalog.find(label)
            ancestor = catalog.ancestor_at(node.id, level) if node else None
            if ancestor and ancestor.id not in ids:
                ids.append(ancestor.id)
        lifted.append(ids)
    return lifted


def scorable(catalog: Catalog, labelled: Labelled, level: str) -> tuple[list[int], list[list[str]], list[tuple[int, str]]]:
    """Which labelled texts can be scored at ``level`` (their positions in ``labelled``), their labels
    lifted there, and every row skipped with why (no text, no label, labels not in the catalog, and
    labels above the level). One rule for `planalign eval` and a job with a label column."""
    lifted = lift(catalog, labelled.labels, level)
    skipped = labelled.skipped + [(row, f"label(s) {', '.join(labels)} above the level {level}")
                                  for row, labels, up in zip(labelled.rows, labelled.labels, lifted) if not up]
    kept = [i for i, up in enumerate(lifted) if up]
    return kept, [lifted[i] for i in kept], sorted(skipped)


def labels_level(catalog: Catalog, labels: Sequence[Sequence[str]]) -> str:
    """The shallowest level among node-id labels: scored there, every label counts (deeper ones lifted
    to their ancestor). A file labelled with dimensions scored at the catalog's deepest level would
    score nothing."""
    levels = {catalog.nodes[label].level for row in labels for label in row}
    if not levels:
        raise InputError("no labels to choose a level from", thai="ไม่มีป้ายกำกับที่ใช้เลือกระดับได้")
    return min(levels, key=catalog.levels.index)


def evaluate_alignments(catalog: Catalog, results: Sequence[Alignment | Exception], gold: Sequence[Sequence[str]], level: str) -> Report:
    """A report on aligner results: top-3 ids and the calibrated confidence of the top-1 at ``level``.

    Rows whose gold labels are not in the catalog (at or under ``level``) are not scored; a text that
    could not be aligned counts as wrong (no prediction, confidence 0).
    """
    lifted = lift(catalog, gold, level)
    scored = [i for i, labels in enumerate(lifted) if labels]
    ranked = [[s.node_id for s in r.levels[level]] if isinstance(r, Alignment) else [] for r in (results[i] for i in scored)]
    confidence = [r.levels[level][0].confidence if isinstance(r, Alignment) else 0.0 for r in (results[i] for i in scored)]
    return evaluate(ranked, [lifted[i] for i in scored], confidence)


def per_class_f1(predicted: Sequence[str], reference: Sequence[str]) -> dict[str, dict[str, float]]:
    """Precision, recall, F1 and support of every class that occurs in the reference."""
    result: dict[str, dict[str, float]] = {}
    for label in sorted(set(reference)):
        tp = sum(p == label and r == label for p, r in zip(predicted, reference))
        fp = sum(p == label and r != label for p, r in zip(predicted, reference))
        fn = sum(p != label and r == label for p, r in zip(predicted, reference))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        result[label] = {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4), "support": tp + fn}
    return result


def expected_calibration_error(confidence: Sequence[float], correct: Sequence[bool], bins: int = 10) -> float:
    """Mean |accuracy - confidence| over equal-width confidence bins, weighted by bin size."""
    conf = np.asarray(confidence, dtype=float)
    hits = np.asarray(correct, dtype=float)
    if conf.size == 0:
        return 0.0
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1]), 0, bins - 1)
    error = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            error += mask.mean() * abs(hits[mask].mean() - conf[mask].mean())
    return float(error)
