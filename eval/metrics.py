"""Classification metrics for set-valued gold labels.

A text may truly belong to several nodes (Traffy reports carry several categories, policies several
dimensions); a prediction counts as correct when it is in the gold set. For per-class F1 a correct
prediction is credited to the predicted class and a wrong one charged against the first gold label,
the usual reduction of set-valued gold to single-label scoring.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Report:
    n: int
    top1: float
    top3: float
    macro_f1: float
    ece: float
    per_class: dict[str, dict[str, float]] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "n": self.n,
            "top1": round(self.top1, 4),
            "top3": round(self.top3, 4),
            "macro_f1": round(self.macro_f1, 4),
            "ece": round(self.ece, 4),
            "per_class": self.per_class,
        }


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
    return Report(
        n=len(ranked),
        top1=float(np.mean(hits1)),
        top3=float(np.mean(hits3)),
        macro_f1=macro,
        ece=expected_calibration_error(confidence, hits1),
        per_class=per_class,
    )


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
