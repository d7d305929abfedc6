"""How the command line shows the core's results: tables, Thai wording, output files.

The core returns numbers and ids; this module (and the pages' scripts) turn them into words.
"""
from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table as RichTable

from planalign.app import AlignOutcome, DuplicateSet
from planalign.index.align import Aligner
from planalign.index.decisions import Decision as LabelDecision
from planalign.index.dedup import Decision
from planalign.index.evaluation import Report
from planalign.index.hybrid import Hit
from planalign.index.snippets import render

if TYPE_CHECKING:
    from planalign.learning import Learned

PAIR_COLUMNS = ["id_a", "id_b", "score", "kind", "cluster", "text_a", "text_b"]
DECISION_COLUMNS = ["overlap", "cosine", "margin", "shared_words", "why"]
KIND_THAI = {"copy": "เกือบเหมือนกันทุกคำ", "semantic": "ความหมายเดียวกัน"}
DECISION_EXPORT_COLUMNS = ("id", "created", "catalog", "level", "node_id", "text", "project_id", "suggested", "suggested_confidence",
                           "accepted", "source", "who")


def describe_model(aligner: Aligner) -> str:
    return model_words(aligner.model_version, aligner.examples)


def model_words(version: int, examples: int) -> str:
    if version:
        return f"model: v{version}, learned from {examples} decisions"
    return f"model: learned from {examples} labelled examples (--train)" if examples else "model: zero-shot"


def describe_learned(learned: Learned | None, seconds: float) -> str:
    if learned is None:
        return "model: zero-shot (the catalog has no decisions)"
    return f"model: v{learned.version}, learned from {learned.examples} decisions ({seconds:.1f} s)"


def decision_rows(decisions: Sequence[LabelDecision]) -> list[dict[str, Any]]:
    """Decisions as file rows (times in UTC, ISO 8601)."""
    return [{**{k: v for k, v in d.as_dict().items() if k in DECISION_EXPORT_COLUMNS},
             "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(d.created)),
             "suggested_confidence": "" if d.suggested_confidence is None else d.suggested_confidence,
             "accepted": "" if d.accepted is None else ("yes" if d.accepted else "no")} for d in decisions]


def print_decision_stats(out: Console, stats: dict[str, Any]) -> None:
    rate = stats["acceptance_rate"]
    out.print(f"{stats['decisions']} decisions, {stats['active']} active labels; suggestion accepted "
              f"{stats['accepted']} of {stats['with_suggestion']} times" + (f" ({rate:.1%})" if rate is not None else ""))
    out.print("by source: " + (", ".join(f"{k} {v}" for k, v in stats["by_source"].items()) or "-"))
    out.print("by level: " + (", ".join(f"{k} {v}" for k, v in stats["by_level"].items()) or "-"))
    table = RichTable("period", "decisions", "with a suggestion", "accepted", "acceptance rate")
    for row in stats["over_time"]:
        share = row["acceptance_rate"]
        table.add_row(row["period"], str(row["decisions"]), str(row["with_suggestion"]), str(row["accepted"]), f"{share:.1%}" if share is not None else "–")
    out.print(table)


def describe_decision(decision: Decision) -> str:
    """A duplicate decision in Thai, for a reviewer."""
    if decision.kind == "copy":
        return f"ใช้ถ้อยคำชุดเดียวกัน {decision.overlap:.0%}"
    return (f"ความหมายใกล้เคียง (cosine {decision.cosine:.2f}, สูงกว่าค่าเฉลี่ยโครงการรอบข้าง {decision.margin:.2f} เท่า)"
            if decision.margin is not None and decision.margin != float("inf") else f"ความหมายใกล้เคียง (cosine {decision.cosine:.2f})")


def alignment_json(outcome: AlignOutcome) -> str:
    body: dict[str, Any] = {"catalog": outcome.catalog, "encoder": outcome.encoder, "model_version": outcome.model_version,
                            "examples": outcome.examples, **asdict(outcome.alignment)}
    if outcome.duplicates:
        body["duplicates"] = [asdict(m) for m in outcome.duplicates]
    return json.dumps(body, ensure_ascii=False)


def print_alignment(out: Console, err: Console, outcome: AlignOutcome) -> None:
    result = outcome.alignment
    for warning in result.warnings:
        err.print(f"[yellow]warning:[/] {escape(warning)}")
    for level, suggestions in result.levels.items():
        table = RichTable(title=f"{level} ({outcome.catalog}, encoder {outcome.encoder})", title_justify="left", show_lines=False)
        for column in ("#", "id", "name", "score", "confidence"):
            table.add_column(column)
        for rank, s in enumerate(suggestions, start=1):
            bar = "█" * round(s.confidence * 10)
            table.add_row(str(rank), s.node_id, escape(s.name), f"{s.score:.3f}", f"{s.confidence:.2f} {bar}")
        out.print(table)
        for ev in suggestions[0].evidence:
            out.print(f"  evidence: [cyan]{escape(ev.draft_text[:160])}[/]")
            out.print(f"     ~ {ev.matched_kind}: {escape(ev.matched_text[:160])} (sim {ev.similarity:.3f})")
            if ev.shared_words:
                out.print(f"     shared words: {escape(', '.join(ev.shared_words))}")
    err.print(model_words(outcome.model_version, outcome.examples))
    if result.neighbours:
        out.print("nearest labelled examples:")
        for n in result.neighbours:
            out.print(f"  {n.similarity:.3f} [{', '.join(n.labels)}] {escape(n.text[:120])}")


def print_report(out: Console, report: Report, level: str, skipped: int, names: dict[str, str]) -> None:
    out.print(f"level {level}: n={report.n} top-1 {report.top1:.3f}  top-3 {report.top3:.3f}  "
              f"macro-F1 {report.macro_f1:.3f}  ECE {report.ece:.3f}  (skipped rows: {skipped})")
    table = RichTable("class", "name", "precision", "recall", "F1", "support")
    for label, scores in report.per_class.items():
        table.add_row(label, escape(names.get(label, "")), *(f"{scores[k]:.3f}" for k in ("precision", "recall", "f1")), str(scores["support"]))
    out.print(table)


def print_hits(out: Console, hits: list[Hit]) -> None:
    for rank, hit in enumerate(hits, start=1):
        place = " · ".join(str(x) for x in (hit.org, hit.year) if x)
        out.print(f"[bold]{rank}. {escape(hit.name)}[/]  [dim]{escape(hit.id)} · {escape(place)} · {hit.score:.4f}[/]")
        out.print("   " + render(escape(hit.snippet), hit.highlights, "[reverse]", "[/reverse]"))


def hits_json(hits: list[Hit]) -> str:
    return json.dumps([{"id": h.id, "score": h.score, "name": h.name, "org": h.org, "year": h.year, "snippet": h.snippet} for h in hits],
                      ensure_ascii=False)


def pair_rows(found: DuplicateSet, groups: bool, years: bool) -> tuple[list[str], list[dict[str, Any]]]:
    """One row per duplicate pair, with the decision's numbers and its Thai wording."""
    columns = list(PAIR_COLUMNS) + (["group_a", "group_b"] if groups else []) + (["year_a", "year_b"] if years else []) + DECISION_COLUMNS
    rows = []
    for pair in found.result.pairs:
        a, b, d = found.records[pair.a], found.records[pair.b], pair.decision
        row: dict[str, Any] = {"id_a": found.ids[pair.a], "id_b": found.ids[pair.b], "score": d.score, "kind": d.kind, "cluster": pair.cluster,
                               "text_a": a.text, "text_b": b.text, "overlap": d.overlap, "cosine": d.cosine if d.cosine is not None else "",
                               "margin": d.margin if d.margin is not None else "", "shared_words": "|".join(d.shared_words), "why": describe_decision(d)}
        if groups:
            row.update(group_a=a.group, group_b=b.group)
        if years and found.years is not None:
            row.update(year_a=found.years[pair.a], year_b=found.years[pair.b])
        rows.append(row)
    return columns, rows
