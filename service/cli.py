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
from planalign.nlp.encoders.factory import DEFAULT_INDEX_ENCODER
from planalign.corpora.projects import IngestResult, parse_year, read_projects, sample_projects
from planalign.index.dedup import DedupConfig, find_duplicates
from planalign.index.hybrid import Filters
from planalign.index.hybrid import search as run_search
from planalign.index.project_index import IndexStateError, indexed_encoder
from planalign.index.snippets import render
from planalign.service.duplicates import check_draft, pair_rows, records_from_file, records_from_store
from planalign.service.engine import Workspace, build_aligner, cached_encoder

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
EncoderOpt = Annotated[Optional[str], typer.Option("--encoder", "-e", help="e5 (default), static (fast), cascade (static, e5 when unsure), use, tfidf or st:<dir>.")]
IndexEncoderOpt = Annotated[Optional[str], typer.Option("--encoder", "-e", help="For a new index: static (default, fast), e5, use, tfidf or st:<dir>; an existing index keeps its own.")]
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
    examples = read_table(train)
    with progress_bar(len(examples.rows), "learning from examples") as advance:
        aligner, skipped = build_aligner(catalog, encoder, data_dir, examples, label_col, train_text_col, advance)
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


DbUrlOpt = Annotated[Optional[str], typer.Option("--db-url", help="SQLAlchemy URL of the store [env PLANALIGN_DB_URL; default SQLite in the data dir].")]


def _sync(workspace: Workspace, encoder: str | None = None, rebuild: bool = False, backend: str = "auto") -> None:
    pending = workspace.store.count()
    with progress_bar(pending, "indexing") as advance:
        result = workspace.sync(encoder, rebuild=rebuild, backend=backend, progress=advance)
    err.print(f"index: {result.added} embedded, {result.removed} removed, {result.total} projects indexed")


def _pairs(items: list[str] | None, option: str) -> dict[str, str]:
    pairs = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UserError(f"{option} takes COLUMN=VALUE, got {item!r}")
        pairs[key.strip()] = value.strip()
    return pairs


@app.command()
def ingest(
    file: Annotated[Optional[Path], typer.Argument(help="CSV, XLSX or JSONL of projects.")] = None,
    year: Annotated[Optional[int], typer.Option("--year", help="Fiscal year for rows without one (B.E. or C.E.).")] = None,
    source: Annotated[Optional[str], typer.Option("--source", help="Where the rows come from [default: file name].")] = None,
    mapping: Annotated[Optional[list[str]], typer.Option("--map", help="COLUMN=field, e.g. --map 'ชื่อ=name'.")] = None,
    where: Annotated[Optional[list[str]], typer.Option("--where", help="COLUMN=VALUE: only matching rows, e.g. --where level=item.")] = None,
    sample: Annotated[bool, typer.Option("--sample", help="Ingest the embedded sample projects.")] = False,
    encoder: IndexEncoderOpt = None,
    data_dir: DataDir = None,
    db_url: DbUrlOpt = None,
) -> None:
    """Add or update projects (upsert by id) in the store and the search index."""
    if sample == (file is not None):
        raise UserError("give a FILE or --sample (one of them)")
    if sample:
        result = IngestResult(projects=sample_projects())
    else:
        result = read_projects(file, parse_year(year) if year else None, source, _pairs(mapping, "--map"), _pairs(where, "--where"))
    for number, reason in result.rejected[:50]:
        err.print(f"[yellow]row {number} rejected:[/] {escape(reason)}")
    if len(result.rejected) > 50:
        err.print(f"[yellow]... and {len(result.rejected) - 50} more rejected rows[/]")
    workspace = Workspace(data_dir, db_url)
    stored = workspace.store.upsert(result.projects)
    err.print(f"store: {len(stored.inserted)} new, {len(stored.updated)} updated, {stored.unchanged} unchanged, "
              f"{len(result.rejected)} rejected")
    _sync(workspace, encoder)
    if not result.projects:
        raise UserError("no valid rows to ingest")


@app.command()
def delete(
    ids: Annotated[list[str], typer.Argument(help="Project ids to delete.")],
    data_dir: DataDir = None,
    db_url: DbUrlOpt = None,
) -> None:
    """Delete projects from the store and the index."""
    workspace = Workspace(data_dir, db_url)
    found = workspace.store.delete(ids)
    missing = [i for i in ids if i not in found]
    if missing:
        err.print(f"[yellow]not found:[/] {escape(', '.join(missing))}")
    err.print(f"deleted {len(found)} project(s)")
    _sync(workspace)
    if not found:
        raise typer.Exit(1)


@app.command()
def reindex(
    encoder: IndexEncoderOpt = None,
    backend: Annotated[str, typer.Option("--backend", help="Vector index: auto, flat (exact) or hnsw.")] = "auto",
    data_dir: DataDir = None,
    db_url: DbUrlOpt = None,
) -> None:
    """Rebuild the search index from the store (e.g. with another encoder)."""
    _sync(Workspace(data_dir, db_url), encoder, rebuild=True, backend=backend)


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="Thai keywords or a sentence.")],
    year: Annotated[Optional[int], typer.Option("--year", help="Fiscal year (B.E. or C.E.).")] = None,
    district: Annotated[Optional[str], typer.Option("--district", help="District, e.g. บางเขน.")] = None,
    group: Annotated[Optional[str], typer.Option("--group", help="District group, e.g. กรุงเทพเหนือ.")] = None,
    dimension: Annotated[Optional[str], typer.Option("--dimension", help="Dimension id, e.g. D1.")] = None,
    top: Annotated[int, typer.Option("--top", "-k", min=1, max=200)] = 10,
    mode: Annotated[str, typer.Option("--mode", help="hybrid, dense or keyword.")] = "hybrid",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    data_dir: DataDir = None,
    db_url: DbUrlOpt = None,
) -> None:
    """Search stored projects (semantic + keyword), with filters."""
    workspace = Workspace(data_dir, db_url)
    index = workspace.index()
    encoder = workspace.index_encoder(index) if mode != "keyword" else None
    filters = Filters(parse_year(year) if year else None, district, group, dimension)
    hits = run_search(index, workspace.store, encoder, query, mode, filters, top)
    if as_json:
        payload = [{"id": h.id, "score": h.score, "name": h.name, "org": h.org, "year": h.year, "snippet": h.snippet} for h in hits]
        out.print_json(json.dumps(payload, ensure_ascii=False))
        return
    if not hits:
        err.print("no results")
    for rank, hit in enumerate(hits, start=1):
        place = " · ".join(str(x) for x in (hit.org, hit.year) if x)
        out.print(f"[bold]{rank}. {escape(hit.name)}[/]  [dim]{escape(hit.id)} · {escape(place)} · {hit.score:.4f}[/]")
        out.print("   " + render(escape(hit.snippet), hit.highlights, "[reverse]", "[/reverse]"))


@app.command()
def dedup(
    out_path: Annotated[Optional[Path], typer.Option("--out", "-o", help="pairs.csv (or .xlsx/.jsonl).")] = None,
    input_file: Annotated[Optional[Path], typer.Option("--input", help="A plain file instead of the store.")] = None,
    text_col: Annotated[Optional[str], typer.Option("--text-col", help="With --input: text column(s).")] = None,
    id_col: Annotated[Optional[str], typer.Option("--id-col", help="With --input: id column [default: row number from 0].")] = None,
    group_col: Annotated[Optional[str], typer.Option("--group-col", help="With --input: district/org column.")] = None,
    check: Annotated[Optional[str], typer.Option("--check", help="One draft: its duplicates in the store.")] = None,
    year: Annotated[Optional[int], typer.Option("--year", help="Only projects of this fiscal year.")] = None,
    across: Annotated[bool, typer.Option("--across-districts/--any", help="Only pairs from different districts/orgs.")] = False,
    threshold: Annotated[Optional[float], typer.Option("--threshold", help="Near-copy Jaccard threshold (0-1).")] = None,
    encoder: IndexEncoderOpt = None,
    data_dir: DataDir = None,
    db_url: DbUrlOpt = None,
) -> None:
    """Find duplicate projects: near-copies and semantic overlaps, grouped into clusters."""
    config = DedupConfig(across_groups=across)
    if threshold is not None:
        if not 0 < threshold <= 1:
            raise UserError("--threshold must be in (0, 1]")
        config = DedupConfig(copy_threshold=threshold, across_groups=across)
    workspace = Workspace(data_dir, db_url)
    if check is not None:
        matches = check_draft(workspace, workspace.index(), check, config)
        for m in matches:
            out.print(f"{m.score:.3f} {m.kind:8s} {escape(m.id)} {escape(m.org)} · {escape(m.name)}  [dim]{escape(m.why)}[/]")
        if not matches:
            err.print("no duplicates found")
        return
    if out_path is None:
        raise UserError("--out is required (pairs.csv)")
    if input_file is not None:
        if not text_col:
            raise UserError("--input needs --text-col")
        records = records_from_file(input_file, parse_columns(text_col), id_col, group_col)
        with progress_bar(len(records.texts), "embedding") as advance:
            records.vectors = cached_encoder(encoder or DEFAULT_INDEX_ENCODER, workspace.data_dir).encode_passages([t[:2000] for t in records.texts], advance)
    else:
        records = records_from_store(workspace, workspace.index(), parse_year(year) if year else None)
    result = find_duplicates(records.texts, records.vectors, records.groups, config, names=records.names, tokens=records.tokens)
    columns, rows = pair_rows(records, result)
    write_table(out_path, columns, rows)
    err.print(f"wrote {len(rows)} pairs in {len(result.clusters)} clusters to {out_path}")


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8000,
    catalog: CatalogOpt = None,
    encoder: EncoderOpt = None,
    config: Annotated[Optional[Path], typer.Option("--config", help="TOML file with a [planalign] table.")] = None,
    sample: Annotated[bool, typer.Option("--sample", help="Ingest the embedded sample projects first if the store is empty.")] = False,
    data_dir: DataDir = None,
    db_url: DbUrlOpt = None,
) -> None:
    """Start the HTTP API and web UI (http://HOST:PORT/, API docs at /docs)."""
    import uvicorn

    from planalign.service.app import create_app
    from planalign.service.settings import Settings

    settings = Settings.load(config, data_dir=data_dir, db_url=db_url, catalog=catalog, encoder=encoder)
    if sample:
        workspace = Workspace(settings.data_dir, settings.db_url)
        if workspace.store.count() == 0:
            workspace.store.upsert(sample_projects())
            err.print("ingested the embedded sample projects (sample data written by the planalign team)")
        _sync(workspace, settings.index_encoder if indexed_encoder(workspace.data_dir) is None else None)
    err.print(f"planalign on http://{host}:{port}/  (API docs: http://{host}:{port}/docs)")
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")


KNOWN_ERRORS = (UserError, CatalogError, TableError, EncoderError, AlignmentInputError, IndexStateError, ValueError, OSError)


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
