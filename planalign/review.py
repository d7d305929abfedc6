"""Reviewing a classification job: its rows with their suggestions and decisions, and the corrected file.

The evaluation page's review grid shows a finished job's rows (``needs_review`` rows first) beside
the active decision for each row's text; a reviewer accepts or corrects a row, which is a
``reviewer`` decision like any other. The corrected file is the job's result with the decisions
laid over it: ``decision_label``, ``decision_name``, ``decided_by``, ``decision_source`` and
``final_label`` (the decision where there is one, lifted or narrowed to the job's level when it was
made at another: :func:`final_label`; else the suggestion).
"""
from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, replace
from pathlib import Path

from planalign.corpora.catalog import Catalog
from planalign.corpora.labelled import join_text_columns, parse_columns
from planalign.corpora.tables import Table, kept_as_text, read_written_table
from planalign.decisions import decided_node, suggestion_at
from planalign.index.align.query import prepare_text
from planalign.index.align.results import Alignment, AlignmentInputError
from planalign.index.decisions import Decision, about_project, text_key

log = logging.getLogger("planalign.review")
# final_level: the level of final_label's node. It is the job's level except where a node decided
# higher up could not be narrowed (nothing under it at the level, a text that cannot be aligned, the
# model failing at download): a dimension's id in a column of issues is then said, not silent.
# review_note: in Thai, what a catalog revised since the job left behind: a suggestion or a decision on a node it no
# longer has (a correction vanished from the corrected file without a word: a catalog author's walkthrough).
CORRECTED_COLUMNS = ("decision_label", "decision_name", "decided_by", "decision_source", "final_label", "final_level", "review_note")


@dataclass
class ReviewRow:
    index: int  # the row's position in the file, from 0
    row: int  # its number as the file shows it (Table.row_numbers: a spreadsheet's row, a JSON-lines file's line)
    row_id: str  # the job's id column ("" when it has none)
    project_id: str  # row_id when it names a stored project and the row's text is about it (about_project), else ""
    text: str
    pred_label: str
    pred_name: str
    pred_confidence: float | None
    pred_top3: list[str]
    needs_review: bool
    error: str
    error_th: str  # the same in Thai, for the page
    dimension: str  # the top level's node of the decision, else of the suggestion
    decision: Decision | None
    accepted: bool = False  # the decision is the suggestion as it reads at the decision's level (D4 decided on a row suggested D4.2)
    removed_suggestion: bool = False  # the suggestion names a node the catalog no longer has (revised since the job)
    removed_decision: str = ""  # the node of the row's newest decision when the catalog no longer has it (that decision no longer counts)
    text_key: str = ""  # the text as decisions name it (index.decisions.text_key): rows of one key are decided together

    @property
    def note(self) -> str:
        """What a revision of the catalog since the job left behind on this row, in Thai (empty: nothing)."""
        notes = [f"หัวข้อ {self.removed_decision} ที่เคยตัดสินไว้ไม่มีในแคตตาล็อกฉบับปัจจุบันแล้ว การตัดสินนั้นจึงไม่นับ"] if self.removed_decision else []
        notes += [f"หัวข้อ {self.pred_label} ที่ระบบเสนอไม่มีในแคตตาล็อกฉบับปัจจุบันแล้ว (แก้ไขหลังงานนี้) "
                  + ("ใช้หัวข้อที่ตัดสินแทน" if self.decision is not None else "กรุณาเลือกหัวข้อใหม่")] * self.removed_suggestion
        return " · ".join(notes)


@dataclass
class Review:
    job_id: str
    catalog: str
    level: str
    total: int  # rows matching the filters
    needs_review: int  # of the whole file
    decided: int  # rows of the whole file with an active decision at the level
    rows: list[ReviewRow]
    review_below: float | None  # the confidence under which the job flagged a suggestion (None: a job from before it was recorded)
    review_decisions: int  # how many of the catalog's decisions set it (0: a default, Aligner.review_threshold)


@dataclass(frozen=True)
class JobResult:
    """A finished job's result file as the grid reads it: the table, each row's text and its text key."""

    table: Table
    texts: list[str]
    keys: list[str]  # text_key of each row's text ("" for a row without text)


@functools.lru_cache(maxsize=4)
def _read_result(path: str, stamp: tuple[int, int], columns: tuple[str, ...]) -> JobResult:
    """Read once while the file is unchanged (``stamp``: its mtime and size): the grid asks for its page again after
    every decision, and reading and normalizing a 10,000-row result took 4 s of each request, 1 s at 2,000 rows
    (an evaluation team at scale). The cached table is shared: nobody writes to it."""
    table = read_written_table(path)
    texts = [join_text_columns(row, list(columns)) for row in table.rows]
    return JobResult(table, texts, [text_key(t) if t else "" for t in texts])


def _job_table(app, job_id: str) -> tuple[dict, JobResult]:
    job = app.jobs.require(job_id, done=True)
    path = app.jobs.result_path(job_id, "csv")
    status = Path(path).stat()
    read = _read_result(str(path), (status.st_mtime_ns, status.st_size), tuple(parse_columns(job.params["text_col"])))
    # the uploaded file's numbering (the job keeps it when not 2, 3, ...), on a copy: the cached table stays as read
    table = replace(read.table, sheet_rows=list(job.params.get("row_numbers") or []))
    return job.params, replace(read, table=table)


def _rows(app, params: dict, result: JobResult) -> tuple[str, Catalog, str, list[ReviewRow]]:
    """A finished job's rows (its params and result, :func:`_job_table`) with their decisions."""
    catalog_id = app.catalog_id(params.get("catalog"))
    catalog = app.catalog(params.get("catalog"))
    level = catalog.resolve_level(params.get("level"))
    table, texts, keys = result.table, result.texts, result.keys
    row_ids = [str(row.get(params.get("id_col") or "", "")).strip() for row in table.rows]
    projects = stored_projects(app, row_ids, texts)
    # a decision naming a node this version of the catalog lacks (removed by a re-upload) no longer counts
    active: dict[str, list[Decision]] = {}
    for d in app.decisions.active(catalog_id, {k for k in keys if k}):
        active.setdefault(d.text_key, []).append(d)
    # a row that is a stored project shows what was decided on that project for its text (two districts'
    # projects share a name: the text's newest decision may be the other project's)
    chosen = app.decisions.for_projects(catalog_id, list(projects.values()), text_keys={keys[i] for i in projects})
    on_project: dict[tuple[str, str], list[Decision]] = {}
    for found in chosen.values():
        for d in found:
            on_project.setdefault((d.project_id, d.text_key), []).append(d)
    top = catalog.levels[0]
    rows = []
    for index, (row, number, text, key) in enumerate(zip(table.rows, table.row_numbers(), texts, keys)):
        found = (on_project.get((projects[index], key), []) if index in projects else []) + (active.get(key, []) if text else [])
        decision = (_decided(on_project.get((projects[index], key), []), catalog) if index in projects else None) or \
            (_decided(active.get(key, []), catalog) if text else None)
        removed = max(found, key=lambda d: d.id).node_id if decision is None and found else ""
        shown = decision.node_id if decision else row.get("pred_label", "")
        ancestor = catalog.ancestor_at(shown, top) if shown in catalog.nodes else None
        confidence = row.get("pred_confidence", "")
        rows.append(ReviewRow(index, number, row_ids[index], projects.get(index, ""), text, row.get("pred_label", ""), row.get("pred_name", ""),
                              float(confidence) if confidence else None,
                              [p for p in row.get("pred_top3", "").split("|") if p], row.get("needs_review", "") == "yes",
                              row.get("error", ""), (row.get("error_th") or _thai_error(text)) if row.get("error") else "", ancestor.id if ancestor else "", decision,
                              decision is not None and bool(row.get("pred_label")) and
                              decision.node_id == suggestion_at(catalog, row.get("pred_label", ""), decision.level),
                              bool(row.get("pred_label")) and row.get("pred_label") not in catalog.nodes, removed, key))
    return catalog_id, catalog, level, rows


def _decided(found: list[Decision], catalog: Catalog) -> Decision | None:
    """The decision a row shows, whatever level it was made at (:func:`final_label` lifts or narrows
    it to the job's): the one :func:`~planalign.decisions.decided_node` picks, as learning and coverage
    read a text's decisions. Only the job's level was read: a dimension decided on a row of an
    issue-level job was not shown, and the corrected file kept a suggestion in another dimension."""
    usable = [d for d in found if d.node_id in catalog.nodes]
    if not usable:
        return None
    node = decided_node(usable, catalog)
    return max((d for d in usable if d.node_id == node), key=lambda d: d.id)


def final_label(decision: Decision | None, catalog: Catalog, level: str, suggested: list[str]) -> str:
    """The label a row ends with at the job's ``level``: the decided node; a deeper one's ancestor at
    the level; for a shallower one, the best suggestion under it (``suggested``: the top suggestion,
    then the top three, then for the corrected file every node of the level ranked again when none of
    the three is under it: :func:`_ranked_beyond_top3`), else the decided node itself (it has nothing
    under it at the level, or the text could not be aligned). No decision: the top suggestion."""
    if decision is None:
        return suggested[0] if suggested else ""
    decided = catalog.nodes[decision.node_id]
    depth, wanted = catalog.levels.index(decided.level), catalog.levels.index(level)
    if depth > wanted:
        ancestor = catalog.ancestor_at(decided.id, level)
        return ancestor.id if ancestor is not None else decided.id
    if depth < wanted:
        under = [n for n in suggested if n in catalog.nodes and (a := catalog.ancestor_at(n, decided.level)) is not None and a.id == decided.id]
        return under[0] if under else decided.id
    return decided.id


def _ranked_beyond_top3(app, params: dict, catalog: Catalog, level: str, rows: list[ReviewRow]) -> dict[int, list[str]]:
    """Every node of ``level`` ranked for the rows decided at a shallower level that none of their top
    three suggestions lies under (a reviewer corrected the dimension of an issue-level row): the
    corrected file's ``final_label`` is then the best issue under the decided dimension, not the
    dimension's id in a column of issues. Aligned again in one batch, by the catalog's model as it is now."""
    depth = catalog.levels.index(level)
    pending = [r for r in rows if r.decision is not None and r.text and catalog.levels.index(catalog.nodes[r.decision.node_id].level) < depth
               and final_label(r.decision, catalog, level, [r.pred_label, *r.pred_top3]) == r.decision.node_id]
    if not pending:
        return {}
    try:
        aligner = app.aligner(params.get("catalog"), learn=params.get("learn", True))
        results = aligner.align_many([r.text for r in pending], top_k=len(catalog.at_level(level)), level=level)
    except Exception:  # the download must not fail with the model (warming up, a catalog removed): the decided node then stands
        log.exception("corrected file: aligning %d rows decided at a shallower level failed; their decided node stands", len(pending))
        return {}
    return {r.index: [s.node_id for s in result.levels[level]] for r, result in zip(pending, results) if isinstance(result, Alignment)}


def _thai_error(text: str) -> str:
    """Why a row's text could not be aligned, in Thai, for a result file written before it had ``error_th``."""
    try:
        prepare_text(text)
    except AlignmentInputError as exc:
        return exc.thai or ""
    return "จัดหมวดแถวนี้ไม่ได้"


def stored_projects(app, row_ids: list[str], texts: list[str]) -> dict[int, str]:
    """Per row position, the stored project the row is: its id names one and the texts are about the
    same project (:func:`~planalign.index.decisions.about_project`). A decision on such a row is also
    a decision on the project (coverage counts it); a file's own numbering ("1", "2", ...) stays off
    unrelated stored projects."""
    found = app.store.get(sorted({r for r in row_ids if r}))
    return {i: rid for i, (rid, text) in enumerate(zip(row_ids, texts)) if rid in found and about_project(found[rid].name, text)}


def grid_order(needs_review: bool, confidence: float | None, index: int) -> tuple[bool, float, int]:
    """Where a row stands in the review grid: ``needs_review`` rows first, least confident first
    (a row without a suggestion before all), then the others in file order.

    A catalog whose decisions show no confidence from which its suggestions are right 90% of the
    time has every row flagged, and "flagged first" alone then left the file's order. Sorting the
    unflagged rows by confidence too was measured and not kept (routine items, decisions in that
    order, eval/README.md): the first 50 decisions were then all low-confidence ones, which show
    nothing about the confident suggestions, so the review threshold they set flagged every row."""
    return (not needs_review, (-1.0 if confidence is None else confidence) if needs_review else 0.0, index)


def review(app, job_id: str, *, needs_review: bool | None = None, dimension: str | None = None, offset: int = 0, limit: int = 100) -> Review:
    """The job's rows for the review grid, in :func:`grid_order`."""
    params, result = _job_table(app, job_id)
    catalog_id, catalog, level, rows = _rows(app, params, result)
    dimension = catalog.resolve_node(dimension, catalog.levels[0]) if dimension and dimension.strip() else None
    ordered = sorted(rows, key=lambda r: grid_order(r.needs_review, r.pred_confidence, r.index))
    chosen = [r for r in ordered if (needs_review is None or r.needs_review == needs_review) and (not dimension or r.dimension == dimension)]
    return Review(job_id, catalog_id, level, len(chosen), sum(r.needs_review for r in rows), sum(r.decision is not None for r in rows),
                  chosen[offset : offset + limit], params.get("review_below"), int(params.get("review_decisions") or 0))


def corrected(app, job_id: str) -> tuple[Table, str, list[str]]:
    """The job's result with the decisions laid over it, the file's name stem, and the columns an XLSX keeps as text."""
    params, result = _job_table(app, job_id)
    table = result.table
    _, catalog, level, rows = _rows(app, params, result)
    columns = [c for c in table.columns if c not in CORRECTED_COLUMNS] + list(CORRECTED_COLUMNS)
    ranked = _ranked_beyond_top3(app, params, catalog, level, rows)
    out = []
    for row, reviewed in zip(table.rows, rows):
        decision = reviewed.decision
        suggested = [reviewed.pred_label] * bool(reviewed.pred_label) + reviewed.pred_top3 + ranked.get(reviewed.index, [])
        label = final_label(decision, catalog, level, suggested)
        out.append({**row, "decision_label": decision.node_id if decision else "",
                    "decision_name": catalog.nodes[decision.node_id].name if decision and decision.node_id in catalog.nodes else "",
                    "decided_by": decision.who if decision else "", "decision_source": decision.source if decision else "",
                    "final_label": label, "final_level": catalog.nodes[label].level if label in catalog.nodes else "",
                    "review_note": reviewed.note})
    stem = str(params.get("filename", "result")).rsplit(".", 1)[0]
    out_table = Table(columns, out, sheet=str(params.get("sheet") or ""), date_cells=set(params.get("date_cells", [])))
    return out_table, stem, kept_as_text(params.get("id_col"), parse_columns(params["text_col"]), params.get("label_col"),
                                     params.get("text_cells", []))
