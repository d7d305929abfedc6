"""``planalign`` command line: each command parses its options, calls the application core, formats.

Every command takes ``--data-dir`` and ``--config`` and reads the one configuration (flags >
environment > TOML > defaults, :mod:`planalign.config`). Problems with the user's input print one
clear message and exit with status 2; anything else is a bug: exit status 1 with a log line, and a
traceback only with PLANALIGN_DEBUG=1.
"""
from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table as RichTable

from planalign.config import ACROSS_DISTRICTS, AUTO_INDEX_ENCODER, Settings
from planalign.corpora.catalog import CatalogError
from planalign.errors import InputError

app = typer.Typer(
    name="planalign",
    help="Align Thai project drafts to a strategy catalog (BMA 9 ด้าน 9 ดี by default).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help texts are plain: "[env PLANALIGN_DATA]" must not be read as markup
)
out = Console()
err = Console(stderr=True)
log = logging.getLogger("planalign.cli")

DataDir = Annotated[Optional[Path], typer.Option("--data-dir", help="State directory [env PLANALIGN_DATA].")]
ConfigOpt = Annotated[Optional[Path], typer.Option("--config", help="TOML file with a [planalign] table [env PLANALIGN_CONFIG].")]
DbUrlOpt = Annotated[Optional[str], typer.Option("--db-url", help="SQLAlchemy URL of the store [env PLANALIGN_DB_URL; default SQLite in the data dir].")]
CatalogOpt = Annotated[Optional[str], typer.Option("--catalog", "-c", help="Catalog file or built-in name [env PLANALIGN_CATALOG; default bma-9d].")]
EncoderOpt = Annotated[Optional[str], typer.Option(
    "--encoder", "-e", help="e5 (default), static (fast), cascade (static, e5 when unsure), use, tfidf or st:<dir> [env PLANALIGN_ENCODER].")]
IndexEncoderOpt = Annotated[Optional[str], typer.Option(
    "--encoder", "-e", help="For a new index: auto (default: e5 up to 20,000 texts, static above), e5, static, use, tfidf or st:<dir> "
                            "[env PLANALIGN_INDEX_ENCODER]; an existing index keeps its own.")]
LevelOpt = Annotated[Optional[str], typer.Option("--level", "-l", help="Catalog level, e.g. dimension or issue.")]
TrainOpt = Annotated[Optional[Path], typer.Option("--train", help="Labelled examples (CSV/XLSX/JSONL).")]
LabelColOpt = Annotated[Optional[str], typer.Option("--label-col", help="Column with node ids or names.")]
TrainTextOpt = Annotated[Optional[str], typer.Option("--train-text-col", help="Text column(s) of --train [default: --text-col in classify "
                                                                               "and eval; in align the longest column].")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
LearnOpt = Annotated[bool, typer.Option("--learn/--no-learn", help="Learn from the catalog's decisions (default) or align zero-shot.")]


class UserError(InputError):
    """A problem with the command's arguments."""


def _core(config: Path | None, **flags: object):  # -> Application; imported here so `--help` and errors print fast
    from planalign.app import Application

    return Application(Settings.load(config, **flags))


def _read_rows(path: Path, config: Path | None):  # -> Table
    """A table with at least one data row: a file with only its header would write an empty output
    and exit 0, which reads as success; it is an input error (exit 2) instead. Its cells within the
    configured ``max_field_chars``, as an uploaded file's (a 30,000-character cell was classified
    here and refused by the service); rows unbounded: a whole year's file is the command line's job."""
    from planalign.corpora.tables import Limits, read_table

    table = read_table(path, limits=Limits(max_cell_chars=Settings.load(config).max_field_chars))
    table.require_rows(str(path))
    return table


def _write_output(path: Path, columns: list[str], rows: list[dict], text_columns: list[str] | None = None, sheet: str = "",
                  date_columns: Iterable[str] = ()) -> None:
    """The output file, or an input error naming it (not the temporary file written beside it) when it cannot be written."""
    from planalign.corpora.tables import write_table

    try:
        write_table(path, columns, rows, text_columns=text_columns or [], sheet=sheet, date_columns=date_columns)
    except OSError as exc:
        raise UserError(f"{path}: cannot write it ({exc.strerror or exc})", thai=f"เขียนไฟล์ {path} ไม่ได้ ({exc.strerror or exc})") from exc


@contextmanager
def progress_bar(total: int, description: str) -> Iterator[Callable[[int], None]]:
    """A progress bar on a terminal, silence otherwise (logs and CI stay clean).

    Redrawn by the caller's thread (at most ten times a second), not by rich's refresh thread: the
    duplicate sweep forks its workers only from a single-threaded process, so with that thread a
    file's duplicates on a terminal were decided in one process."""
    if not sys.stderr.isatty():
        if total < PLAIN_PROGRESS_MIN:
            yield lambda n: None
            return
        advance, finish = _plain_progress(total, description)
        yield advance
        finish()
        return
    if total < 2:
        yield lambda n: None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err, transient=True, auto_refresh=False) as bar:
        task = bar.add_task(description, total=total)
        drawn = [0.0]

        def advance(n: int) -> None:
            bar.advance(task, n)
            if time.monotonic() - drawn[0] >= 0.1:
                bar.refresh()
                drawn[0] = time.monotonic()

        yield advance


PLAIN_PROGRESS_MIN, PLAIN_PROGRESS_SECONDS = 1_000, 60.0


def _plain_progress(total: int, description: str) -> tuple[Callable[[int], None], Callable[[], None]]:
    """A line a minute for long work when stderr is no terminal (a log, a pipe): a Traffy month's ingest ran 36
    minutes without a word (a committee walkthrough); short work stays silent. Work that said something says
    where it ended too: the last line of an ingest read "2,880/9,000 (32%)", the rest done within the minute
    after it (a committee walkthrough). Returns the advance and the end."""
    done, said, lines = [0], [time.monotonic()], [0]

    def line() -> None:
        err.print(f"{description}: {done[0]:,}/{total:,} ({done[0] / total:.0%})", highlight=False)
        said[0], lines[0] = time.monotonic(), lines[0] + 1

    def advance(n: int) -> None:
        done[0] += n
        if time.monotonic() - said[0] >= PLAIN_PROGRESS_SECONDS:
            line()

    def finish() -> None:
        if lines[0]:
            line()

    return advance, finish


def _aligner(core, catalog: str | None, train: Path | None, label_col: str | None, train_text_col: str | None, learn: bool = True,
             exclude: set[str] | None = None):
    """The shared aligner (learned from the catalog's decisions unless ``learn`` is off), or one fitted on ``--train``."""
    if train is None:
        return core.aligner(catalog, allow_path=True, learn=learn, exclude=exclude)
    from planalign.corpora.tables import read_table

    examples = read_table(train)
    with progress_bar(len(examples.rows), "learning from examples") as advance:
        aligner, skipped = core.trained_aligner(catalog, None, examples, label_col, train_text_col, advance)
    if skipped:
        err.print(f"[yellow]{len(skipped)} training row(s) skipped, e.g. row {skipped[0][0]}: {escape(skipped[0][1])}[/]")
        err.print(f"[yellow]ข้ามแถวตัวอย่างสำหรับเรียนรู้ {len(skipped)} แถว เช่น แถว {skipped[0][0]} (เหตุผลตามบรรทัดบน)[/]")
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
    as_json: JsonOpt = False,
    encoder: EncoderOpt = None,
    train: TrainOpt = None,
    label_col: LabelColOpt = None,
    train_text_col: TrainTextOpt = None,
    learn: LearnOpt = True,
    data_dir: DataDir = None,
    db_url: DbUrlOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Suggest the dimension, issue (and goal, OKR) a draft project aligns with.

    Example: planalign align "โครงการขุดลอกคลองลาดพร้าวเพื่อป้องกันน้ำท่วม"
    """
    from planalign.corpora.form import draft_text
    from planalign.corpora.tables import read_text_file

    draft = draft_text(text, read_text_file(file) if file else None, name, objective, target)
    if not draft:
        raise UserError("give the draft as TEXT, --file, or --name/--objective/--target",
                        thai="กรุณาให้ร่างโครงการเป็นข้อความ หรือ --file หรือ --name/--objective/--target อย่างน้อยหนึ่งอย่าง")
    from planalign.service.format import alignment_json, print_alignment

    core = _core(config, data_dir=data_dir, db_url=db_url, encoder=encoder)
    outcome = core.align(draft, aligner=_aligner(core, catalog, train, label_col, train_text_col, learn), level=level, top_k=top,
                         catalog=catalog)
    if as_json:
        out.print_json(alignment_json(outcome))
    else:
        print_alignment(out, err, outcome)


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
    learn: LearnOpt = True,
    data_dir: DataDir = None,
    db_url: DbUrlOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Label every row of a file; adds pred_label, pred_name, pred_score, pred_confidence, pred_top3, needs_review, error, error_th."""
    from planalign.corpora.labelled import parse_columns
    from planalign.corpora.tables import check_output, kept_as_text

    check_output(out_path, reads=(input, train))
    columns = parse_columns(text_col)
    table = _read_rows(input, config)
    table.require(columns + ([id_col] if id_col else []))
    core = _core(config, data_dir=data_dir, db_url=db_url, encoder=encoder)
    aligner = _aligner(core, catalog, train, label_col, train_text_col or text_col, learn)
    with progress_bar(len(table.rows), "classifying") as advance:
        classified = core.classify(table, columns, aligner=aligner, level=level, progress=advance)
    _write_output(out_path, classified.table.columns, classified.table.rows, text_columns=kept_as_text(id_col, columns, also=table.text_cells),
                  sheet=table.sheet, date_columns=table.date_cells)
    from planalign.service.format import describe_model, not_thai_warning

    err.print(f"wrote {len(classified.table.rows)} rows to {escape(str(out_path))} ({classified.failed} with an error); {escape(describe_model(aligner))}")
    if classified.not_thai:
        for line in not_thai_warning(classified.not_thai, len(classified.table.rows)):
            err.print(f"[yellow]warning:[/] {line}")


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
    learn: LearnOpt = True,
    level: Annotated[Optional[str], typer.Option("--level", help="Level to score at [default: the shallowest level among the labels].")] = None,
    as_json: JsonOpt = False,
    data_dir: DataDir = None,
    db_url: DbUrlOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Measure top-1, top-3, macro-F1, per-class F1 and calibration (ECE) on a labelled file.

    Learning from decisions, the file's own texts are never learned from: their decisions are left out.
    """
    import json

    from planalign.corpora.labelled import parse_columns

    table = _read_rows(data, config)
    from planalign.decisions import measured_keys
    from planalign.service.format import describe_model, print_report

    core = _core(config, data_dir=data_dir, db_url=db_url, encoder=encoder)
    exclude = measured_keys(table, parse_columns(text_col), label_col, core.catalog(catalog, allow_path=True))
    aligner = _aligner(core, catalog, train, train_label_col or label_col, train_text_col or text_col, learn, exclude)
    with progress_bar(len(table.rows), "evaluating") as advance:
        report, scored_level, skipped = core.evaluate(table, parse_columns(text_col), label_col, aligner=aligner, level=level, progress=advance)
    if as_json:
        body = {"level": scored_level, **{k: v for k, v in report.as_dict().items() if k not in ("labels", "confusion")}, "skipped": len(skipped),
                "skipped_rows": [{"row": row, "reason": reason} for row, reason in skipped],
                "model_version": aligner.model_version, "examples": aligner.examples}
        out.print_json(json.dumps(body, ensure_ascii=False))
    else:
        print_report(out, report, scored_level, len(skipped), {n.id: n.name for n in aligner.catalog})
        for row, reason in skipped[:5]:
            err.print(f"[yellow]skipped row {row}: {escape(reason)}[/]")
        if len(skipped) > 5:
            err.print(f"[yellow]... and {len(skipped) - 5} more skipped rows (--json lists them all)[/]")
        err.print(describe_model(aligner))


def _report_sync(result) -> None:
    err.print(f"index: {result.added} embedded, {result.removed} removed, {result.total} projects indexed")


@app.command()
def ingest(
    file: Annotated[Optional[Path], typer.Argument(help="CSV, XLSX or JSONL of projects.")] = None,
    year: Annotated[Optional[int], typer.Option("--year", help="Fiscal year for rows without one (B.E. or C.E.).")] = None,
    source: Annotated[Optional[str], typer.Option("--source", help="Where the rows come from [default: file name].")] = None,
    mapping: Annotated[Optional[list[str]], typer.Option("--map", help="COLUMN=field, e.g. --map 'ชื่อ=name'.")] = None,
    where: Annotated[Optional[list[str]], typer.Option("--where", help="COLUMN=VALUE: only matching rows, e.g. --where level=item.")] = None,
    sample: Annotated[bool, typer.Option("--sample", help="Ingest the embedded sample projects.")] = False,
    drop_subtotals: Annotated[bool, typer.Option("--drop-subtotals", help="A budget document read line by line: reject a row whose budget is "
                                                                          "the sum of the next 3+ rows of its office and year (a heading), or a "
                                                                          "'รวม' row equal to the rows before it.")] = False,
    encoder: IndexEncoderOpt = None,
    data_dir: DataDir = None,
    db_url: DbUrlOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Add or update projects (upsert by id) in the store and the search index.

    The store is written first, in one transaction; the index then catches up with every stored
    project (also any an earlier, interrupted ingest left unindexed).
    """
    from planalign.corpora.projects import IngestResult, column_pairs, parse_year, read_projects, sample_projects
    from planalign.service.format import clipped

    if sample == (file is not None):
        raise UserError("give a FILE or --sample (one of them)", thai="กรุณาระบุไฟล์ หรือ --sample (อย่างใดอย่างหนึ่ง)")
    read = IngestResult(projects=sample_projects()) if sample else read_projects(
        file, parse_year(year), source, column_pairs(mapping, "--map", "field", "ช่องข้อมูล"), column_pairs(where, "--where"), drop_subtotals)  # type: ignore[arg-type]
    if read.left_out:  # the export.csv example dropped a row with no word (a docs walkthrough)
        err.print(f"--where: {read.left_out} row(s) left out (ไม่ตรงเงื่อนไข --where)")
    if len(read.levels) > 1:  # the ordinance without --where level=item stored its 83 office and section totals: 156,715 million baht (a walkthrough)
        err.print(f"[yellow]warning:[/] the file's level column holds {', '.join(escape(v) for v in read.levels[:6])}: rows of one level "
                  "often total the next, and coverage would count their budget twice; --where level=... keeps one "
                  "(คอลัมน์ level มีหลายระดับ งบประมาณอาจถูกนับซ้ำ ใช้ --where level=... เลือกระดับเดียว)")
    if read.unknown_districts:
        said = "; ".join(f"row {row} {escape(name)!r}" + (f" (did you mean {escape(near)}?)" if near else "") for row, name, near in read.unknown_districts[:10])
        more = f" and {len(read.unknown_districts) - 10} more" if len(read.unknown_districts) > 10 else ""
        err.print(f"[yellow]warning:[/] {len(read.unknown_districts)} project(s) name a district that is not one of Bangkok's 50: {said}{more}; "
                  "stored, but coverage counts them with the central agencies (ไม่ใช่ชื่อเขตใน 50 เขตของกรุงเทพมหานคร "
                  "บันทึกไว้แล้ว แต่จะนับรวมกับหน่วยงานส่วนกลาง โปรดตรวจชื่อเขต)")
    for rejection in read.rejected[:50]:
        err.print(f"[yellow]row {rejection.row} rejected:[/] {escape(rejection.reason)} [dim]({escape(rejection.thai)})[/]")
    if len(read.rejected) > 50:
        err.print(f"[yellow]... and {len(read.rejected) - 50} more rejected rows[/]")
    core = _core(config, data_dir=data_dir, db_url=db_url, index_encoder=encoder)
    with progress_bar(3 * len(read.projects), "embedding, indexing and aligning") as advance:
        outcome = core.ingest(read.projects, encoder=encoder, progress=advance, reconcile=True)
    stored = outcome.stored
    err.print(f"store: {len(stored.inserted)} new, {len(stored.updated)} updated, {stored.unchanged} unchanged, {len(read.rejected)} rejected")
    _report_sync(outcome.index)
    if outcome.declared.stored:
        err.print(f"decisions: {len(outcome.declared.stored)} declared alignments kept (the model learns from them)")
    if outcome.undeclared:
        first_id, said = outcome.undeclared[0]
        err.print(f"[yellow]{len(outcome.undeclared)} project(s) declare an alignment that names no node of the catalog, "
                  f"e.g. {escape(first_id)}: {escape(repr(clipped(said, 80)))}; stored without a declared decision[/]")
    if outcome.declared_extra:
        first_id, nodes = outcome.declared_extra[0]
        err.print(f"[yellow]{len(outcome.declared_extra)} project(s) declare more than one path of the catalog, or ids it does not have, "
                  f"beside the nodes kept (one a level), e.g. {escape(first_id)}: {escape(nodes)} (ระบุความสอดคล้องมากกว่าหนึ่งหัวข้อในระดับเดียวกัน "
                  f"หัวข้อที่ไม่อยู่ในสายเดียวกัน หรือรหัสที่ไม่มีในแผน เก็บเฉพาะหัวข้อที่ใช้ได้ระดับละหนึ่งหัวข้อ)[/]")
    if not read.projects:
        raise UserError("no valid rows to ingest", thai="ไม่มีแถวที่นำเข้าได้ (ดูเหตุผลของแต่ละแถวด้านบน)")


@app.command()
def delete(
    ids: Annotated[list[str], typer.Argument(help="Project ids to delete.")],
    data_dir: DataDir = None,
    db_url: DbUrlOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Delete projects from the store and the index."""
    found, result = _core(config, data_dir=data_dir, db_url=db_url).delete(ids)
    missing = [i for i in ids if i not in found]
    if not found:  # nothing deleted: the user's mistake (exit 2, in Thai too), not a bug (exit 1)
        raise UserError(f"not found: {', '.join(missing)}", thai=f"ไม่พบโครงการรหัส {', '.join(missing)}")
    if missing:
        err.print(f"[yellow]not found:[/] {escape(', '.join(missing))} (ไม่พบโครงการรหัสนี้)")
    err.print(f"deleted {len(found)} project(s)")
    _report_sync(result)


# The FY2566 ordinance's cross-office pairs the duplicate sweep flags beyond e5's 3 (eval/README.md, "Duplicates").
MORE_PAIRS_THAN_E5 = {"static": 854, "use": 846}


@app.command()
def reindex(
    encoder: IndexEncoderOpt = None,
    backend: Annotated[str, typer.Option("--backend", help="Vector index: auto, flat (exact) or hnsw.")] = "auto",
    data_dir: DataDir = None,
    db_url: DbUrlOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Rebuild the search index from the store (e.g. with another encoder)."""
    core = _core(config, data_dir=data_dir, db_url=db_url, index_encoder=encoder)
    with progress_bar(core.store.count(), "indexing") as advance:
        _report_sync(core.reindex(encoder, backend, advance))
    from planalign.index.dedup import calibrated

    name = core.index_encoder_name()
    err.print(f"index encoder: {escape(name)} (ตัวเข้ารหัสของดัชนี)")  # said nowhere but in the manifest (a docs walkthrough)
    if not calibrated(name):  # its duplicates would change without a word (a docs walkthrough)
        err.print(f"[yellow]warning:[/] duplicate thresholds were fitted for e5, static and use vectors, not for {escape(name)}: "
                  f"e5's are used, untested on these vectors (เกณฑ์ตรวจโครงการซ้ำไม่ได้ปรับให้เข้ากับตัวเข้ารหัส {escape(name)})")
    elif name in MORE_PAIRS_THAN_E5:  # the README's example led two walkthroughs to a worse duplicate sweep without a word
        err.print(f"[yellow]note:[/] with {name} vectors the duplicate sweep flags many more pairs that are not one project (the FY2566 "
                  f"ordinance's other cross-office pairs: {MORE_PAIRS_THAN_E5[name]:,} against e5's 3; eval/README.md); "
                  "`planalign reindex --encoder e5` goes back (การตรวจโครงการซ้ำแม่นที่สุดกับ e5)")


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="Thai keywords or a sentence.")],
    year: Annotated[Optional[int], typer.Option("--year", help="Fiscal year (B.E. or C.E.).")] = None,
    district: Annotated[Optional[str], typer.Option("--district", help="District, e.g. บางเขน.")] = None,
    group: Annotated[Optional[str], typer.Option("--group", help="District group, e.g. กรุงเทพเหนือ.")] = None,
    dimension: Annotated[Optional[str], typer.Option("--dimension", help="Dimension id, e.g. D1.")] = None,
    kind: Annotated[Optional[str], typer.Option("--kind", help="project, report (citizen reports) or all [default: all].")] = None,
    top: Annotated[int, typer.Option("--top", "-k", min=1, max=200)] = 10,
    mode: Annotated[str, typer.Option("--mode", help="hybrid, dense or keyword.")] = "hybrid",
    all_copies: Annotated[bool, typer.Option("--all-copies", help="List results with the very same text apart (default: one hit each).")] = False,
    as_json: JsonOpt = False,
    data_dir: DataDir = None,
    db_url: DbUrlOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Search stored projects (semantic + keyword), with filters."""
    from planalign.app import fiscal_year
    from planalign.service.format import print_hits, search_json

    core = _core(config, data_dir=data_dir, db_url=db_url)
    filters = core.search_filters(fiscal_year(year), district, group, dimension, kind)
    page = core.search(query, filters=filters, mode=mode, limit=top, collapse=not all_copies, facets=as_json)
    if as_json:
        out.print_json(search_json(query, mode, page))
        return
    if page.hint:
        err.print(page.hint)
    if page.did_you_mean:
        err.print(f"หมายถึง (did you mean): {escape(page.did_you_mean)}")
    if not page.hits:
        err.print("ไม่พบผลลัพธ์ (no results)")
    else:
        print_hits(out, page.hits, page.total, filters.kind, page.total_rows)


@app.command()
def dedup(
    out_path: Annotated[Optional[Path], typer.Option("--out", "-o", help="pairs.csv (or .xlsx/.jsonl).")] = None,
    input_file: Annotated[Optional[Path], typer.Option("--input", help="A plain file instead of the store.")] = None,
    text_col: Annotated[Optional[str], typer.Option("--text-col", help="With --input: text column(s).")] = None,
    id_col: Annotated[Optional[str], typer.Option("--id-col", help="With --input: id column [default: the row's number as the file shows it, header = 1].")] = None,
    group_col: Annotated[Optional[str], typer.Option("--group-col", help="With --input: district/org column.")] = None,
    year_col: Annotated[Optional[str], typer.Option("--year-col", help="With --input: fiscal year column [default: the file is one year's lists]; "
                                                                      "two different texts one office lists in a year are two items, not a pair.")] = None,
    where: Annotated[Optional[list[str]], typer.Option("--where", help="With --input: COLUMN=VALUE, only matching rows (as ingest), "
                                                                   "e.g. --where level=item.")] = None,
    check: Annotated[Optional[str], typer.Option("--check", help="One draft: its duplicates in the store.")] = None,
    year: Annotated[Optional[int], typer.Option("--year", help="Only projects of this fiscal year.")] = None,
    across: Annotated[Optional[bool], typer.Option("--across-districts/--any", help="Only pairs from different districts/orgs (the default, "
                                                                                     "as the API and pages), or any two rows.")] = None,
    threshold: Annotated[Optional[float], typer.Option("--threshold", min=0.01, max=1.0, help="Near-copy threshold: share of words aligned (0-1).")] = None,
    per_member: Annotated[bool, typer.Option("--per-member", help="One row per cluster member (cluster id, size, name) instead of one per pair; "
                                                                  "a flagged text that joins no cluster is in the pairs file only.")] = False,
    encoder: IndexEncoderOpt = None,
    data_dir: DataDir = None,
    db_url: DbUrlOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Find duplicate projects (re-submissions and the same project in other words, with the fields that match or differ), grouped into clusters."""
    sweep_only = {"--out": out_path, "--input": input_file, "--year": year, "--per-member": per_member or None, "--across-districts/--any": across,
                  "--where": where or None}
    if where and input_file is None:
        raise UserError("--where filters the rows of an --input file", thai="--where ใช้คัดแถวของไฟล์ที่ระบุด้วย --input")
    if check is not None and any(v is not None for v in sweep_only.values()):  # they were ignored without a word (--out wrote nothing)
        raise UserError(f"--check looks up one draft and prints its duplicates; {', '.join(k for k, v in sweep_only.items() if v is not None)} "
                        "apply to the sweep over the store or a file (leave out --check)",
                        thai="--check ตรวจร่างเดียวและแสดงรายการซ้ำ ตัวเลือกอื่นที่ให้มาใช้กับการกวาดหารายการซ้ำทั้งระบบหรือทั้งไฟล์ (เอา --check ออก)")
    if check is None and out_path is None:
        raise UserError("--out is required (pairs.csv)", thai="กรุณาระบุไฟล์ผลลัพธ์ด้วย --out (เช่น pairs.csv)")
    if check is None and out_path is not None:
        from planalign.corpora.tables import check_output

        check_output(out_path, reads=(input_file,))
    table = _read_rows(input_file, config) if input_file is not None and check is None else None  # a wrong file fails before any model loads
    if table is not None and where:  # the ordinance's headings and totals made clusters of their own (a reviewer walkthrough)
        from planalign.corpora.projects import column_pairs

        kept = table.where(column_pairs(where, "--where"))
        err.print(f"--where: {len(table.rows) - len(kept.rows)} row(s) left out (ไม่ตรงเงื่อนไข --where)")
        if not kept.rows:  # as ingest says it ("the file has a header but no data rows" was false: a blind review)
            raise UserError(f"{input_file}: no data rows matching --where", thai=f"ไฟล์ {input_file} ไม่มีแถวข้อมูลที่ตรงกับ --where")
        table = kept
    from planalign.app import fiscal_year
    from planalign.index.dedup import DedupConfig

    across = ACROSS_DISTRICTS if across is None else across  # given with --check, it was refused above
    core = _core(config, data_dir=data_dir, db_url=db_url, index_encoder=encoder)
    settings = DedupConfig(across_groups=across) if threshold is None else DedupConfig(across_groups=across, copy_threshold=threshold)
    if check is not None:
        return _print_matches(core.check_duplicates(check, settings))
    assert out_path is not None  # narrowing for mypy: checked before any work
    if table is not None:
        found = _dedup_file(core, table, text_col, id_col, group_col, year_col, settings)
    else:
        found = core.duplicate_clusters(fiscal_year(year), across, settings)
    _write_pairs(found, out_path, groups=input_file is None or bool(group_col), years=input_file is None or bool(year_col), per_member=per_member)


def _dedup_file(core, table, text_col: str | None, id_col: str | None, group_col: str | None, year_col: str | None, settings):
    from planalign.corpora.labelled import parse_columns

    if not text_col:
        raise UserError("--input needs --text-col", thai="--input ต้องระบุคอลัมน์ข้อความด้วย --text-col")
    with progress_bar(len(table.rows), "embedding") as advance:
        return core.duplicates_in_table(table, parse_columns(text_col), id_column=id_col, group_column=group_col, year_column=year_col,
                                        config=settings, progress=advance)


def _print_matches(matches) -> None:
    from planalign.service.format import describe_decision

    for m in matches:  # the reason in Thai, as the pages show it (describe_decision starts with the kind)
        copies = f" · ชื่อเดียวกันอีก {len(m.copies):,} รายการ (same name, same answer):" if m.copies else ""
        out.print(f"{m.decision.score:.3f} {escape(m.id)} {escape(m.org)} · {escape(m.name)}{escape(copies)}  [dim]{escape(describe_decision(m.decision))}[/]")
        for copy in m.copies:  # each by its id, office and year, as before they were grouped (a blind review)
            out.print(f"      {escape(copy.id)} {escape(copy.org)}" + (f" · {copy.year}" if copy.year else ""))
    if not matches:
        err.print("ไม่พบโครงการที่ซ้ำกับร่างนี้")


CLUSTERS_SHOWN = 10


def _write_pairs(found, out_path: Path, groups: bool, years: bool, per_member: bool) -> None:
    from planalign.service.format import ROW_NOTE, member_rows, pair_rows

    columns, rows = (member_rows if per_member else pair_rows)(found, groups, years)
    _write_output(out_path, columns, rows)
    what = "cluster members" if per_member else "pairs"
    err.print(f"wrote {len(rows)} {what} in {len(found.result.clusters)} clusters to {escape(str(out_path))}")
    if found.by_row:
        err.print(f"note: {ROW_NOTE}")
    for name, members in list(found.result.clusters.items())[:CLUSTERS_SHOWN]:
        err.print(f"  {name}: {len(members)} × {escape(found.cluster_name(name)[:100])}")


decisions_app = typer.Typer(help="People's decisions (the node chosen for a text): import, export, withdraw, stats.", no_args_is_help=True,
                            rich_markup_mode=None)  # as the main app: "[--catalog C]" in help texts is text, not markup
app.add_typer(decisions_app, name="decisions")


@decisions_app.command("import")
def decisions_import(
    file: Annotated[Path, typer.Argument(help="CSV, XLSX or JSONL with a text and a node per row.")],
    text_col: Annotated[str, typer.Option("--text-col", help="Text column(s), comma-separated; joined.")],
    label_col: Annotated[str, typer.Option("--label-col", help="The chosen node: an id or a name.")],
    catalog: Annotated[Optional[str], typer.Option("--catalog", "-c", help="Catalog id [env PLANALIGN_CATALOG; default bma-9d].")] = None,
    level: Annotated[Optional[str], typer.Option("--level", "-l", help="Every node must be at this level [default: each node's own].")] = None,
    source: Annotated[str, typer.Option("--source", help="imported (default), declared, evaluator, reviewer or planner.")] = "imported",
    project_col: Annotated[Optional[str], typer.Option("--project-col", help="Column with the project id, if any.")] = None,
    batch: Annotated[int, typer.Option("--batch", min=1, help="Decisions per transaction (each is kept once committed).")] = 500,
    refit: Annotated[bool, typer.Option("--refit/--no-refit", help="Fit the catalog's model on its decisions afterwards.")] = True,
    encoder: EncoderOpt = None,
    data_dir: DataDir = None,
    db_url: DbUrlOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Keep a file's labels as decisions; rows equal to the active decision are skipped (importing twice changes nothing; a form's declared label aside).

    Every row is checked first: one bad row (empty text, unknown node, a node not at --level) stores nothing.
    Example: planalign decisions import reviewed.xlsx --text-col ชื่อโครงการ --label-col issue_id --level issue
    """
    import time

    from planalign.corpora.labelled import parse_columns

    table = _read_rows(file, config)
    from planalign.service.format import describe_learned

    core = _core(config, data_dir=data_dir, db_url=db_url, catalog=catalog, encoder=encoder)
    started = time.perf_counter()
    recorded = core.import_decisions(table, parse_columns(text_col), label_col, catalog=catalog, level=level, source=source,
                                     project_column=project_col, chunk=batch, committed=lambda n: err.print(f"committed {n:,} decisions (new or unchanged)"))
    err.print(f"decisions: {len(recorded.stored)} stored, {recorded.unchanged} unchanged (catalog {escape(core.catalog_id(catalog))}) "
              f"in {time.perf_counter() - started:.1f} s"
              + (f"; {recorded.undecided} row(s) without a person's label skipped (ข้าม {recorded.undecided} แถวที่ไม่มีหมวดที่คนตัดสิน)"
                 if recorded.undecided else "")
              + (f"; {recorded.withdrawn} row(s) of withdrawn decisions or withdrawals skipped (ข้าม {recorded.withdrawn} แถวของการตัดสินที่ถูกยกเลิก)"
                 if recorded.withdrawn else "")
              + (f"; {recorded.withdrawn_before} row(s) whose decision was withdrawn before not brought back (decide them again to restore "
                 f"them) (ไม่นำกลับ {recorded.withdrawn_before} แถวที่เคยยกเลิกการตัดสินไว้ ถ้าต้องการใช้ให้ตัดสินใหม่)" if recorded.withdrawn_before else "")
              + (f"; {recorded.forms} row(s) of forms' declared alignments skipped (ingesting the projects brings them) "
                 f"(ข้าม {recorded.forms} แถวที่มาจากแบบฟอร์มโครงการ ซึ่งนำเข้าพร้อมโครงการ)" if recorded.forms else "")
              + (f"; {recorded.superseded} row(s) decided again by a later row of the file, the later kept "
                 f"(ข้อความเดียวกันมีหลายแถว ใช้แถวที่ใหม่กว่า {recorded.superseded} แถว)" if recorded.superseded else ""))
    if refit:
        started = time.perf_counter()
        # the refit embeds every active decision's text, not only this file's: 2,864/2,475 (116%) on a re-run (an operator's walkthrough)
        with progress_bar(len(core.decisions.active(core.catalog_id(catalog))), "learning from decisions") as advance:
            learned = core.refit(catalog, progress=advance)
        err.print(describe_learned(learned, time.perf_counter() - started))


@decisions_app.command("export")
def decisions_export(
    out_path: Annotated[Path, typer.Option("--out", "-o", help="Output .csv, .xlsx or .jsonl.")],
    catalog: Annotated[Optional[str], typer.Option("--catalog", "-c", help="Only this catalog.")] = None,
    history: Annotated[bool, typer.Option("--history", help="Every decision, not only the active one per text and level.")] = False,
    data_dir: DataDir = None,
    db_url: DbUrlOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Write the decisions (newest first): text, catalog, level, node, suggestion shown, source, who, when."""
    from planalign.corpora.tables import check_output
    from planalign.service.format import DECISION_EXPORT_COLUMNS, DECISION_TEXT_COLUMNS, decision_rows

    check_output(out_path)
    core = _core(config, data_dir=data_dir, db_url=db_url)
    found = core.decisions_page(catalog=catalog, active_only=not history, limit=None)[1]
    rows = decision_rows(found, core.overridden(found))
    _write_output(out_path, list(DECISION_EXPORT_COLUMNS), rows, list(DECISION_TEXT_COLUMNS))
    err.print(f"wrote {len(rows)} decisions to {escape(str(out_path))}")


@decisions_app.command("withdraw")
def decisions_withdraw(
    ids: Annotated[list[int], typer.Argument(help="Decision ids (the id column of decisions export).")],
    source: Annotated[Optional[str], typer.Option("--source", help="planner, reviewer, evaluator or imported [default: each decision's own].")] = None,
    data_dir: DataDir = None,
    db_url: DbUrlOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Withdraw decisions taken by mistake: they no longer count (each text's label is its newest decision still
    standing, an older one or none) and nothing learns from them; the history keeps them and their withdrawals.
    A decision withdrawn before is left as it is. Every id is tried; any that cannot be withdrawn is listed, exit status 2.

    Example: planalign decisions withdraw 1042 1043
    """
    from planalign.decisions import check_withdrawal_source
    from planalign.service.format import clipped

    check_withdrawal_source(source)  # once, not once an id
    core = _core(config, data_dir=data_dir, db_url=db_url)
    refused: list[tuple[str, str]] = []
    for decision_id in ids:
        try:
            made = core.withdraw_decision(decision_id, source=source, allow_path=True)
        except InputError as exc:  # the others are still tried (the first refusal stopped the rest, unsaid: a blind review)
            refused.append((f"{decision_id}: {exc}", f"{decision_id}: {exc.thai or exc}"))
            continue
        gone = made.withdrawal
        standing = escape(", ".join(f"{d.level} {d.node_id}" for d in made.still_active))  # ids and levels are a catalog's: any text
        said, said_th = ("was withdrawn before", "ถูกยกเลิกไปก่อนแล้ว") if not made.created else ("withdrawn", "ยกเลิกแล้ว")
        err.print(f"decision {decision_id} {said} ({escape(gone.catalog)}, {escape(gone.level)}: {escape(clipped(gone.text, 60))}); withdrawal {gone.id}"
                  + (f"; the text's labels now: {standing}" if standing else "; the text has no label left")
                  + f" (การตัดสินใจ {decision_id} {said_th}; " + (f"หมวดที่มีผลตอนนี้: {standing})" if standing else "ข้อความนี้ไม่มีหมวดเหลือ)"))
    if refused:
        raise UserError(f"{len(refused)} of {len(ids)} not withdrawn: " + "; ".join(en for en, _ in refused),
                        thai=f"ยกเลิกไม่ได้ {len(refused)} จาก {len(ids)} รายการ: " + "; ".join(th for _, th in refused))


@decisions_app.command("stats")
def decisions_stats(
    catalog: Annotated[Optional[str], typer.Option("--catalog", "-c", help="Only this catalog.")] = None,
    period: Annotated[str, typer.Option("--period", help="day, week or month.")] = "week",
    source: Annotated[Optional[str], typer.Option("--source", help="Only decisions from this source (planner, reviewer, evaluator, declared, imported).")] = None,
    who: Annotated[Optional[str], typer.Option("--who", help="Only decisions by this API key's name (or local).")] = None,
    level: Annotated[Optional[str], typer.Option("--level", "-l", help="Only decisions at this level.")] = None,
    node: Annotated[Optional[str], typer.Option("--node", help="Only decisions on this node (its id, any case, or its name; the API's node_id).")] = None,
    contains: Annotated[Optional[str], typer.Option("--contains", help="Only decisions whose text holds these characters as written, "
                                                                       "spaces included (a name in part; the API's q).")] = None,
    text: Annotated[Optional[str], typer.Option("--text", help="Only decisions on this very text.")] = None,
    as_json: JsonOpt = False,
    data_dir: DataDir = None,
    db_url: DbUrlOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Decisions per source and level, and how often the suggestion shown was the one chosen, over time."""
    import json

    from planalign.service.format import print_decision_stats

    if period not in ("day", "week", "month"):
        raise UserError("--period is day, week or month", thai="--period ต้องเป็น day, week หรือ month")
    stats = _core(config, data_dir=data_dir, db_url=db_url).decision_stats(catalog, period, level=level, source=source, who=who,
                                                                                text=text, node_id=node, contains=contains)
    if as_json:
        out.print_json(json.dumps(stats, ensure_ascii=False))
    else:
        print_decision_stats(out, stats)


catalogs_app = typer.Typer(help="Strategy catalogs stored in the data directory: list, add (or replace), remove.", no_args_is_help=True,
                           rich_markup_mode=None)
app.add_typer(catalogs_app, name="catalogs")


@catalogs_app.command("list")
def catalogs_list(data_dir: DataDir = None, db_url: DbUrlOpt = None, config: ConfigOpt = None) -> None:
    """Every catalog --catalog can name (built in and uploaded), with its levels and nodes."""
    core = _core(config, data_dir=data_dir, db_url=db_url)
    table = RichTable("รหัส\nid", "ชื่อแผน\ntitle", "ระดับ (หัวข้อ)\nlevels (nodes)", "ลบได้\nremovable")
    for catalog_id in core.catalog_ids():
        try:
            catalog = core.catalog(catalog_id)
        except InputError as exc:
            table.add_row(catalog_id, f"[red]อ่านไม่ได้ (unreadable): {escape(str(exc)[:80])}[/]", "", "")
            continue
        levels = ", ".join(f"{level} {len(catalog.at_level(level))}" for level in catalog.levels)
        table.add_row(catalog_id, escape(catalog.title or catalog_id), levels, "yes" if core.catalog_removable(catalog_id) else "no")
    out.print(table)


@catalogs_app.command("add")
def catalogs_add(
    file: Annotated[Path, typer.Argument(help="CSV, XLSX, XLS or JSON in the catalog format.")],
    catalog_id: Annotated[str, typer.Option("--id", help="Id to store it under (an existing id is replaced).")],
    title: Annotated[Optional[str], typer.Option("--title", help="The name people read [default: the file's catalog_title, "
                                                                 "else the title of the catalog it replaces].")] = None,
    data_dir: DataDir = None,
    db_url: DbUrlOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Validate a catalog file and store it, as the catalog page's upload does; says what a replacement changes.

    Example: planalign catalogs add plan20.xlsx --id bma-20yr --title "แผนพัฒนากรุงเทพมหานคร 20 ปี"
    """
    from planalign.corpora.catalog import load_catalog

    core = _core(config, data_dir=data_dir, db_url=db_url)
    loaded = load_catalog(file)
    if title and title.strip():
        loaded.title = title.strip()
    stored, changes = core.upload_catalog(catalog_id, loaded)
    err.print(f"{'replaced' if changes.replaced else 'added'} catalog {catalog_id} ({len(stored)} nodes: "
              + ", ".join(f"{level} {len(stored.at_level(level))}" for level in stored.levels) + ")")
    for what, ids in (("added", changes.added), ("removed", changes.removed), ("renamed", changes.renamed), ("moved", changes.moved)):
        if changes.replaced and ids:
            err.print(f"  {what} {len(ids)}: {escape(', '.join(ids[:20]))}{', ...' if len(ids) > 20 else ''}")
    if changes.stale_decisions:
        err.print(f"[yellow]{changes.stale_decisions} active decisions name a node this version lacks ({changes.newly_stale_decisions} removed by it): "
                  f"they no longer count (การตัดสินใจที่อ้างถึงหัวข้อที่ไม่มีแล้วจะไม่ถูกนับ)[/]")
    if changes.renamed_decisions:
        err.print(f"[yellow]{changes.renamed_decisions} active decisions name a renamed node: they still count, under the new name[/]")


@catalogs_app.command("remove")
def catalogs_remove(
    catalog_id: Annotated[str, typer.Argument(help="The uploaded catalog's id.")],
    force: Annotated[bool, typer.Option("--force", help="Remove it although jobs labelled with it lose their review grid and corrected file.")] = False,
    data_dir: DataDir = None,
    db_url: DbUrlOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Remove an uploaded catalog (not a built-in one, not the configured default); its decisions are kept and
    count again if a catalog of this id is added again."""
    kept = _core(config, data_dir=data_dir, db_url=db_url).remove_catalog(catalog_id, force=force)
    err.print(f"removed catalog {catalog_id}" + (f"; its {kept} active decisions are kept" if kept else ""))


@app.command()
def coverage(
    year: Annotated[Optional[int], typer.Option("--year", help="Fiscal year (B.E. or C.E.) [default: every year].")] = None,
    level: LevelOpt = None,
    group: Annotated[Optional[str], typer.Option("--group", help="District group, e.g. กรุงเทพเหนือ.")] = None,
    district: Annotated[Optional[str], typer.Option("--district", help="District, e.g. บางเขน ('-': central agencies, and citizen reports without a district).")] = None,
    catalog: CatalogOpt = None,
    as_json: JsonOpt = False,
    out_path: Annotated[Optional[Path], typer.Option("--out", "-o", help="Write a .csv or .xlsx table.")] = None,
    table: Annotated[str, typer.Option("--table", help="With --out: nodes (default), districts (the heatmap) or needs.")] = "nodes",
    report_map: Annotated[Optional[Path], typer.Option("--report-map", help="CSV category,node_id for citizen reports [env PLANALIGN_REPORT_MAP].")] = None,
    data_dir: DataDir = None,
    db_url: DbUrlOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Projects, budget and citizen reports per dimension or issue; districts with none; change from last year.

    Example: planalign coverage --year 2566 --level issue --out coverage.xlsx
    """
    from planalign.app import fiscal_year
    from planalign.corpora.tables import check_output
    from planalign.service.format import COVERAGE_TABLES, coverage_json, coverage_rows, district_rows, need_rows, print_coverage

    if table not in COVERAGE_TABLES:
        raise UserError(f"--table is one of {', '.join(COVERAGE_TABLES)}", thai=f"--table ต้องเป็นหนึ่งใน {', '.join(COVERAGE_TABLES)}")
    if table != COVERAGE_TABLES[0] and out_path is None:  # it printed the nodes' table without a word (a walkthrough)
        raise UserError(f"--table {table} is a file: give --out (e.g. {table}.xlsx)", thai=f"--table {table} เขียนเป็นไฟล์ กรุณาระบุ --out (เช่น {table}.xlsx)")
    if out_path is not None:
        check_output(out_path)
    core = _core(config, data_dir=data_dir, db_url=db_url, catalog=catalog, report_map=report_map)
    with progress_bar(core.pending_alignments(), "aligning stored items") as advance:
        core.refresh_alignments(progress=advance)
    found = core.coverage(year=fiscal_year(year), level=level, group=group, district=district, background=False)
    if out_path is not None:
        needs = core.citizen_needs(year=fiscal_year(year), level=level, group=group, limit=None) if table == "needs" else None
        columns, rows = need_rows(needs) if needs else coverage_rows(found) if table == "nodes" else district_rows(found)
        _write_output(out_path, columns, rows)
        err.print(f"wrote {len(rows)} rows to {escape(str(out_path))}")
    if as_json:
        out.print_json(coverage_json(found))
    elif out_path is None:
        print_coverage(out, found)


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")
# A request's head may be long enough for the API to answer it: a query of some 20,000 Thai characters (about
# 180 KB percent-encoded) was refused by h11 with "Invalid HTTP request received." in plain English before the API's
# Thai 422 for a query too long could speak (a reviewer walkthrough); a decisions text filter takes 100,000 characters.
REQUEST_HEAD_BYTES = 1 << 20


def key_notes(settings: Settings) -> list[str]:
    """What a key setting does that its operator may not expect (said at start; a review of read-only keys)."""
    notes = []
    if settings.read_keys and not settings.api_keys:
        notes.append("PLANALIGN_READ_KEYS without PLANALIGN_API_KEYS: every write (projects, decisions, uploads) is refused")
    if settings.read_keys and not settings.read_requires_key:
        notes.append("PLANALIGN_READ_KEYS is set but reads need no key (PLANALIGN_READ_REQUIRES_KEY): anyone can read")
    return notes


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8000,
    catalog: CatalogOpt = None,
    encoder: EncoderOpt = None,
    sample: Annotated[bool, typer.Option("--sample", help="Load the embedded sample projects if the store is empty (in the background: the port opens first).")] = False,
    data_dir: DataDir = None,
    db_url: DbUrlOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Start the HTTP API and web UI (http://HOST:PORT/, API docs at /docs)."""
    import uvicorn

    from planalign.memory import limit_arenas
    from planalign.service.app import create_app

    limit_arenas()  # before any thread: freed request memory stays reusable instead of piling up (planalign/memory.py)
    settings = Settings.load(config, data_dir=data_dir, db_url=db_url, catalog=catalog, encoder=encoder)
    if not settings.allowed_hosts and host in LOOPBACK_HOSTS:  # only this machine's names reach it: no rebound name either
        settings = settings.model_copy(update={"allowed_hosts": LOOPBACK_HOSTS})
        err.print("answers requests sent to localhost / 127.0.0.1 only (DNS rebinding); behind a proxy that forwards its own "
                  "host name, list it in PLANALIGN_ALLOWED_HOSTS")
    for note in key_notes(settings):
        err.print(note)
    if not settings.keyed and host not in LOOPBACK_HOSTS:
        err.print(f"[yellow]no API key is set and {host} is reachable from other machines: anyone there can write (projects, decisions, "
                  "catalogs); set PLANALIGN_API_KEYS[/]")
    # settings a request would trip on are refused here, not answered with a 422 to every draft (an operator's walkthrough)
    from planalign.app import Application
    from planalign.nlp.encoders.factory import check_encoder_name

    _check_port_free(host, port)
    check_encoder_name(settings.encoder, drafts=True)
    if settings.index_encoder != AUTO_INDEX_ENCODER:
        check_encoder_name(settings.index_encoder, drafts=False)
    core = Application(settings)
    try:
        core.catalog()
        # the operator sees which data and store it serves: a misspelt directory started an empty store without a word
        err.print(f"data directory {core.data_dir}; store {core.store.engine.url.render_as_string(hide_password=True)}")
    finally:
        core.close()
    if sample:
        err.print("the embedded sample projects (written by the planalign team) load in the background if the store is empty: /readyz says how far")
    err.print(f"planalign on http://{host}:{port}/  (API docs: http://{host}:{port}/docs)")
    uvicorn.run(create_app(settings, sample=sample), host=host, port=port, log_config=service_logging(),
                h11_max_incomplete_event_size=REQUEST_HEAD_BYTES)


def _check_port_free(host: str, port: int) -> None:
    """A port in use is said before anything starts (it printed "planalign on http://...", then uvicorn's bind error
    in English: an operator's walkthrough)."""
    import socket

    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host.strip("[]"), port))
        except socket.gaierror as exc:  # a name that does not resolve is no port in use (a blind review)
            raise UserError(f"cannot listen on {host}: the name does not resolve ({exc.strerror or exc})",
                            thai=f"ไม่รู้จักชื่อเครื่อง {host} ({exc.strerror or exc}) กรุณาตรวจค่า --host") from exc
        except OSError as exc:
            raise UserError(f"cannot listen on {host}:{port}: {exc.strerror or exc} (another program, or another planalign, uses it?)",
                            thai=f"เปิดพอร์ต {port} ที่ {host} ไม่ได้ ({exc.strerror or exc}) อาจมีโปรแกรมอื่นหรือ planalign อีกตัวใช้อยู่ "
                                 "กรุณาเลือกพอร์ตอื่นด้วย --port") from exc


def service_logging() -> dict:
    """uvicorn's logging with a time on every line and planalign's own lines (jobs, audit, warnings) beside its own:
    the log had no time, and a job's life and who deleted what were not in it (an operator's walkthrough)."""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["default"]["fmt"] = "%(asctime)s %(levelprefix)s %(name)s: %(message)s"
    config["formatters"]["access"]["fmt"] = '%(asctime)s %(levelprefix)s %(client_addr)s - "%(request_line)s" %(status_code)s'
    config["loggers"]["planalign"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config


def _os_error_thai(exc: OSError) -> str:
    """A file system's refusal in Thai, with what to do (a full disk was "[Errno 28] No space left on device" in
    English only, though the store had kept what it committed: an operator's walkthrough)."""
    import errno

    where = f" ({exc.filename})" if exc.filename else ""
    if exc.errno == errno.ENOSPC:
        return (f"ดิสก์เต็ม{where} งานหยุดกลางคัน สิ่งที่บันทึกเสร็จแล้วยังอยู่ครบ (เช่น โครงการที่นำเข้าแล้ว) "
                "กรุณาเพิ่มพื้นที่แล้วสั่งคำสั่งเดิมอีกครั้ง แถวที่บันทึกแล้วจะถูกข้าม")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"ไม่มีสิทธิ์เขียนหรืออ่าน{where} กรุณาตรวจสิทธิ์ของโฟลเดอร์หรือไฟล์"
    if exc.errno in (errno.EEXIST, errno.ENOTDIR):
        return f"ต้องการโฟลเดอร์แต่พบไฟล์{where} กรุณาระบุโฟลเดอร์ข้อมูลที่ถูกต้อง (--data-dir)"
    if exc.errno == errno.ENOENT:
        return f"ไม่พบไฟล์หรือโฟลเดอร์{where}"
    return f"อ่านหรือเขียนไฟล์ไม่ได้{where}: {exc.strerror or exc}"


def _store_errors() -> tuple[type[Exception], ...]:
    """The errors of a database failing under a command: "database or disk is full", "file is not a database" were
    "internal error" in English only, though the README promises what was kept and what to do (an operator's year);
    :func:`planalign.index.store.store_failure` tells the machine's failures from a program's."""
    import sqlite3

    from sqlalchemy.exc import DatabaseError

    return DatabaseError, sqlite3.DatabaseError


def _click_errors():  # -> the module of Click's exceptions typer raises
    """Typer 0.2x raises the exceptions of the Click it vendors, older typer those of Click itself."""
    try:
        from typer._click import exceptions
    except ImportError:
        from click import exceptions
    return exceptions


def _usage_in_thai(exc) -> str:  # exc: a Click UsageError
    """Click's usage errors in the words of the Thai message the rest of the command line prints."""
    click = _click_errors()
    hint = ""
    if isinstance(exc, click.BadParameter):
        hint = exc.param_hint if isinstance(exc.param_hint, str) else " / ".join(exc.param_hint or []) if exc.param_hint else ""
        if not hint and exc.param is not None:
            hint = " / ".join(getattr(exc.param, "opts", None) or [exc.param.name or ""])
    if isinstance(exc, click.MissingParameter):
        what = f"ขาดค่าของ {hint}" if hint else "ขาดค่าที่ต้องใส่"
    elif isinstance(exc, click.NoSuchOption):
        what = f"ไม่มีตัวเลือก {exc.option_name}"
    elif isinstance(exc, click.BadParameter):
        what = f"ค่าของ {hint} ไม่ถูกต้อง" if hint else "ค่าที่ให้ไม่ถูกต้อง"
    else:
        what = "คำสั่งหรือตัวเลือกไม่ถูกต้อง"
    command = exc.ctx.command_path if exc.ctx is not None else "planalign"
    return f"{what} ดูวิธีใช้ด้วย {command} --help"


def main() -> None:
    """Console entry point: input problems exit 2 with one message; bugs exit 1 with a log line."""
    debug = bool(os.environ.get("PLANALIGN_DEBUG"))
    try:
        code = app(standalone_mode=False)  # --help and --version return 0; usage errors and ours propagate here
        sys.exit(code if isinstance(code, int) else 0)
    except _click_errors().UsageError as exc:  # Click's message is English: the same problem is said in Thai after it
        exc.show()
        if type(exc).__name__ != "NoArgsIsHelpError":  # a bare group shows its help: nothing went wrong
            err.print(f"[red]ข้อผิดพลาด:[/] {escape(_usage_in_thai(exc))}")
        sys.exit(exc.exit_code)
    except typer.Abort:
        err.print("ยกเลิกแล้ว (Aborted)")
        sys.exit(1)
    except (InputError, OSError) as exc:
        if debug:
            raise
        err.print(f"[red]error:[/] {escape(str(exc))}")
        thai = getattr(exc, "thai", None) or (_os_error_thai(exc) if isinstance(exc, OSError) else None)  # the evaluation team reads Thai
        if isinstance(exc, CatalogError) and len(exc.problems) > 1:  # every problem, as the English lists them (a walkthrough)
            thai = f"แคตตาล็อก {exc.source} ไม่ถูกต้อง:\n" + "\n".join(
                f"  แถวที่ {p.row}: {p.thai}" if p.row is not None else f"  {p.thai}" for p in exc.problems[:50])
        if thai:
            err.print(f"[red]ข้อผิดพลาด:[/] {escape(thai)}")
        sys.exit(2)
    except _store_errors() as exc:  # the database failed under the command (a full disk, a damaged file): the machine, or a bug
        from planalign.index.store import store_failure

        kind = store_failure(exc)
        if debug or kind is None:  # a program's error (a constraint, a missing table): a bug, said as one below
            _internal_error(exc, debug)
        why = (str(getattr(exc, "orig", None) or exc).splitlines() or [type(exc).__name__])[0]
        english, thai = {
            "full": ("what was committed before is kept: free some space and run the same command again (what is stored is skipped)",
                     "ดิสก์เต็มขณะบันทึกลงฐานข้อมูล สิ่งที่บันทึกเสร็จแล้วยังอยู่ครบ กรุณาเพิ่มพื้นที่แล้วสั่งคำสั่งเดิมอีกครั้ง แถวที่บันทึกแล้วจะถูกข้าม"),
            "damaged": ("its file is damaged: restore a backup (README, Backups)",
                        f"ไฟล์ฐานข้อมูลเสีย ({why}) กรุณากู้คืนจากข้อมูลสำรอง"),
        }.get(kind, ("what was committed before is kept: check that the database runs and answers, and run the command again",
                     f"ฐานข้อมูลไม่ตอบสนอง ({why}) สิ่งที่บันทึกเสร็จแล้วยังอยู่ครบ กรุณาตรวจว่าฐานข้อมูลทำงานอยู่ แล้วสั่งคำสั่งเดิมอีกครั้ง"))
        err.print(f"[red]error:[/] the store failed: {escape(why)}; {english}")
        err.print(f"[red]ข้อผิดพลาด:[/] {escape(thai)}")
        sys.exit(2)
    except Exception as exc:  # a bug: no traceback for users, but say it is one
        _internal_error(exc, debug)


def _internal_error(exc: Exception, debug: bool) -> NoReturn:
    """A bug: no traceback for users (unless PLANALIGN_DEBUG), but said as one, exit 1."""
    if debug:
        raise exc
    logging.basicConfig()
    log.error("internal error: %s: %s", type(exc).__name__, exc)
    err.print(f"[red]internal error:[/] {type(exc).__name__}: {escape(str(exc))} (set PLANALIGN_DEBUG=1 for details)")
    sys.exit(1)


if __name__ == "__main__":
    main()
