"""``planalign`` command line.

Every command takes ``--data-dir`` (default: $PLANALIGN_DATA, else a per-user directory), where the
embedding cache and, later, the project store live. Known problems (bad catalog, bad table, empty
text...) print one clear message and exit with status 2; nothing prints a traceback unless
PLANALIGN_DEBUG=1.
"""
from __future__ import annotations

import json
import os
import sys
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Iterator, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table as RichTable

from planalign.corpora.catalog import CatalogError
from planalign.corpora.labelled import parse_columns, read_labelled
from planalign.corpora.tables import TableError, read_table, read_text_file, write_table
from planalign.eval.metrics import evaluate
from planalign.index.align import Alignment, AlignmentInputError
from planalign.index.classify import classify_table
from planalign.nlp.encoders import EncoderError
from planalign.service.engine import build_aligner

app = typer.Typer(
    name="planalign",
    help="Align Thai project drafts to a strategy catalog (BMA 9 ด้าน 9 ดี by default).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)

DataDir = Annotated[Optional[Path], typer.Option("--data-dir", help="State directory [env PLANALIGN_DATA].")]
CatalogOpt = Annotated[Optional[str], typer.Option("--catalog", "-c", help="Catalog file or built-in name (bma-9d).")]
EncoderOpt = Annotated[Optional[str], typer.Option("--encoder", "-e", help="e5 (default), use, tfidf or st:<dir>.")]
LevelOpt = Annotated[Optional[str], typer.Option("--level", "-l", help="Catalog level, e.g. dimension or issue.")]
TrainOpt = Annotated[Optional[Path], typer.Option("--train", help="Labelled examples (CSV/XLSX/JSONL).")]
LabelColOpt = Annotated[Optional[str], typer.Option("--label-col", help="Column with node ids or names.")]
TrainTextOpt = Annotated[
    Optional[str], typer.Option("--train-text-col", help="Text column(s) of --train [default: --text-col, else the longest].")
]


class UserError(Exception):
    """A problem with the user's input; printed without a traceback."""


@contextmanager
def progress_bar(total: int, description: str) -> Iterator:
    """A progress bar on a terminal, silence otherwise (logs and CI stay clean)."""
    if not sys.stderr.isatty() or total < 2:
        yield lambda n: None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n: bar.advance(task, n)


def _aligner(catalog, encoder, data_dir, train, label_col, train_text_col):
    if train is None:
        return build_aligner(catalog, encoder, data_dir)[0]
    rows = len(read_table(train).rows)
    with progress_bar(rows, "learning from examples") as advance:
        aligner, skipped = build_aligner(catalog, encoder, data_dir, train, label_col, train_text_col, advance)
    if skipped:
        err.print(f"[yellow]{len(skipped)} training row(s) skipped, e.g. row {skipped[0][0]}: {escape(skipped[0][1])}[/]")
    return aligner


@app.command()
def align(
    text: Annotated[Optional[str], typer.Argument(help="The draft text (or use --file / form fields).")] = None,
    file: Annotated[Optional[Path], typer.Option("--file", "-f", help="Read the draft from a text file.")] = None,
    name: Annotated[Optional[str], typer.Option("--name", help="Project name (โครงการ).")] = None,
    objective: Annotated[Optional[str], typer.Option("--objective", help="Objective (วัตถุประสงค์).")] = None,
    target: Annotated[Optional[str], typer.Option("--target", help="Target (เป้าหมาย).")] = None,
    catalog: CatalogOpt = None,
    level: LevelOpt = None,
    top: Annotated[int, typer.Option("--top", "-k", min=1, max=50, help="Suggestions per level.")] = 3,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    encoder: EncoderOpt = None,
    train: TrainOpt = None,
    label_col: LabelColOpt = None,
    train_text_col: TrainTextOpt = None,
    data_dir: DataDir = None,
) -> None:
    """Suggest the dimension, issue (and goal, OKR) a draft project aligns with.

    Example: planalign align "โครงการขุดลอกคลองลาดพร้าวเพื่อป้องกันน้ำท่วม"
    """
    parts = [p for p in (text, read_text_file(file) if file else None, name, objective, target) if p and p.strip()]
    if not parts:
        raise UserError("give the draft as TEXT, --file, or --name/--objective/--target")
    aligner = _aligner(catalog, encoder, data_dir, train, label_col, train_text_col)
    result = aligner.align("\n".join(parts), top_k=top, level=level)
    if as_json:
        out.print_json(json.dumps(asdict(result), ensure_ascii=False))
        return
    _print_alignment(result, aligner.catalog.name)


def _print_alignment(result: Alignment, catalog_name: str) -> None:
    for warning in result.warnings:
        err.print(f"[yellow]warning:[/] {escape(warning)}")
    for level, suggestions in result.levels.items():
        table = RichTable(title=f"{level} ({catalog_name})", title_justify="left", show_lines=False)
        for column in ("#", "id", "name", "score", "confidence"):
            table.add_column(column)
        for rank, s in enumerate(suggestions, start=1):
            bar = "█" * round(s.confidence * 10)
            table.add_row(str(rank), s.node_id, escape(s.name), f"{s.score:.3f}", f"{s.confidence:.2f} {bar}")
        out.print(table)
        top = suggestions[0]
        for ev in top.evidence:
            out.print(f"  evidence: [cyan]{escape(ev.draft_text[:160])}[/]")
            out.print(f"     ~ {ev.matched_kind}: {escape(ev.matched_text[:160])} (sim {ev.similarity:.3f})")
            if ev.shared_words:
                out.print(f"     shared words: {escape(', '.join(ev.shared_words))}")
    if result.neighbours:
        out.print("nearest labelled examples:")
        for n in result.neighbours:
            out.print(f"  {n.similarity:.3f} [{', '.join(n.labels)}] {escape(n.text[:120])}")


@app.command()
def classify(
    input: Annotated[Path, typer.Argument(help="CSV, XLSX or JSONL file.")],
    text_col: Annotated[str, typer.Option("--text-col", help="Text column(s), comma-separated; joined.")],
    out_path: Annotated[Path, typer.Option("--out", "-o", help="Output .csv, .xlsx or .jsonl.")],
    id_col: Annotated[Optional[str], typer.Option("--id-col", help="Id column (checked to exist).")] = None,
    catalog: CatalogOpt = None,
    level: LevelOpt = None,
    train: TrainOpt = None,
    label_col: LabelColOpt = None,
    train_text_col: TrainTextOpt = None,
    encoder: EncoderOpt = None,
    data_dir: DataDir = None,
) -> None:
    """Label every row of a file; adds pred_label, pred_name, pred_score, pred_top3, error."""
    columns = parse_columns(text_col)
    table = read_table(input)
    table.require(columns + ([id_col] if id_col else []))
    aligner = _aligner(catalog, encoder, data_dir, train, label_col, train_text_col or text_col)
    with progress_bar(len(table.rows), "classifying") as advance:
        labelled = classify_table(table, columns, aligner, level, advance)
    write_table(out_path, labelled.columns, labelled.rows)
    failed = sum(1 for r in labelled.rows if r["error"])
    err.print(f"wrote {len(labelled.rows)} rows to {out_path} ({failed} with an error)")


@app.command(name="eval")
def evaluate_command(
    data: Annotated[Path, typer.Option("--data", help="Labelled file to evaluate on.")],
    text_col: Annotated[str, typer.Option("--text-col", help="Text column(s), comma-separated.")],
    label_col: Annotated[str, typer.Option("--label-col", help="Gold labels: ids or names; a|b for several.")],
    catalog: CatalogOpt = None,
    train: TrainOpt = None,
    train_label_col: Annotated[Optional[str], typer.Option("--train-label-col", help="Label column of --train [default: --label-col].")] = None,
    train_text_col: TrainTextOpt = None,
    encoder: EncoderOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Measure top-1, top-3, macro-F1, per-class F1 and calibration (ECE) on a labelled file."""
    aligner = _aligner(catalog, encoder, data_dir, train, train_label_col or label_col, train_text_col or text_col)
    gold = read_labelled(data, parse_columns(text_col), label_col, aligner.catalog)
    level = aligner.catalog.nodes[gold.labels[0][0]].level
    gold_lifted = [[aligner.catalog.ancestor_at(g, level).id for g in ls if aligner.catalog.ancestor_at(g, level)] for ls in gold.labels]
    with progress_bar(len(gold.texts), "evaluating") as advance:
        results = aligner.align_many(gold.texts, top_k=3, level=level, progress=advance)
    ranked = [[s.node_id for s in r.levels[level]] if isinstance(r, Alignment) else [] for r in results]
    confidence = [r.levels[level][0].confidence if isinstance(r, Alignment) else 0.0 for r in results]
    report = evaluate(ranked, gold_lifted, confidence)
    if as_json:
        out.print_json(json.dumps({"level": level, **report.as_dict(), "skipped": len(gold.skipped)}, ensure_ascii=False))
        return
    out.print(f"level {level}: n={report.n} top-1 {report.top1:.3f}  top-3 {report.top3:.3f}  "
              f"macro-F1 {report.macro_f1:.3f}  ECE {report.ece:.3f}  (skipped rows: {len(gold.skipped)})")
    table = RichTable("class", "name", "precision", "recall", "F1", "support")
    for label, scores in report.per_class.items():
        node = aligner.catalog.nodes.get(label)
        table.add_row(label, escape(node.name if node else ""), *(f"{scores[k]:.3f}" for k in ("precision", "recall", "f1")), str(scores["support"]))
    out.print(table)


KNOWN_ERRORS = (UserError, CatalogError, TableError, EncoderError, AlignmentInputError, ValueError, OSError)


def main() -> None:
    """Console entry point: known problems become one message and exit status 2."""
    try:
        app()  # usage errors are handled (and exit 2) inside; our own errors propagate here
    except KNOWN_ERRORS as exc:
        if os.environ.get("PLANALIGN_DEBUG"):
            raise
        err.print(f"[red]error:[/] {escape(str(exc))}")
        sys.exit(2)
    except Exception as exc:  # the last line of defence: no traceback for users
        if os.environ.get("PLANALIGN_DEBUG"):
            raise
        err.print(f"[red]internal error:[/] {type(exc).__name__}: {escape(str(exc))} (set PLANALIGN_DEBUG=1 for details)")
        sys.exit(1)


if __name__ == "__main__":
    main()
