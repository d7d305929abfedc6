"""Labelled examples: texts with catalog labels, for training and evaluation.

Labels may be node ids or node names, and a cell may hold several (``a,b`` or ``a|b``), because
evaluation files from different teams label differently. Unknown labels are reported together with
the catalog's valid ids so that the user can fix the file in one pass.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from planalign.corpora.catalog import Catalog
from planalign.corpora.form import draft_text
from planalign.corpora.tables import Table, TableError, read_table

_LABEL_SPLIT = re.compile(r"[|,;]")


@dataclass
class Labelled:
    texts: list[str]
    labels: list[list[str]]  # node ids, one or more per text
    skipped: list[tuple[int, str]]  # (row number, reason)
    rows: list[int] = field(default_factory=list)  # each kept text's row number as the file shows it (Table.row_numbers)


def join_text_columns(row: dict[str, str], columns: list[str]) -> str:
    """Several text columns (name, objective, target) read as one draft, as the form's fields are (:func:`draft_text`)."""
    return draft_text(*(row.get(c, "") for c in columns))


def parse_columns(spec: str) -> list[str]:
    """``"name,objective"`` -> ``["name", "objective"]``."""
    columns = [c.strip() for c in spec.split(",") if c.strip()]
    if not columns:
        raise TableError("no text column given", thai="ยังไม่ได้ระบุคอลัมน์ข้อความ (เช่น ชื่อโครงการ)")
    return columns


def split_labels(cell: str) -> list[str]:
    return [part.strip() for part in _LABEL_SPLIT.split(cell) if part.strip()]


# A corrected file of the review grid (planalign/review.py) labels every row in ``final_label``: the
# decision where a person made one (``decision_label``), else the model's own suggestion.
FINAL_LABEL_COLUMN, DECISION_LABEL_COLUMN = "final_label", "decision_label"
SUGGESTION_ONLY = ("final_label is the model's here (decision_label is empty, or names a node the model narrowed to final_label): "
                   "not a person's label")


# A classification output's answer columns (index/classify.py): the model's own on every row. Imported as decisions they
# were stored as people's, each "accepted" (the acceptance rate 50% -> 71% after one file), and measured, the model met
# itself (a blind review).
MODEL_ANSWER_COLUMNS = ("pred_label", "pred_name", "pred_top3")


def refuse_model_answers(label_column: str) -> None:
    """A label column that is the model's own answer is refused: nobody decided it."""
    if label_column.strip() in MODEL_ANSWER_COLUMNS:
        raise TableError(f"column {label_column!r} is the model's own suggestion on every row, not a person's label: give the column people "
                         f"filled in (decision_label or final_label of a corrected file from the review grid, or your own)",
                         thai=f"คอลัมน์ {label_column} คือข้อเสนอของระบบเองทุกแถว ไม่ใช่หมวดที่คนตัดสิน กรุณาระบุคอลัมน์ที่คนกรอก "
                              f"(decision_label หรือ final_label ของไฟล์ที่ตรวจแล้วจากตารางตรวจทาน หรือคอลัมน์ของท่านเอง)")


def suggestion_only(table: Table, label_column: str, catalog: Catalog) -> list[bool]:
    """Per row: its label is a corrected file's ``final_label`` that no person decided, or the model's narrowing of a
    decision made higher up (a dimension decided, its issue suggested; a decision made deeper, lifted to the job's level,
    is the person's). Measured or learned from, the model met itself: 195 of 200 rows nobody reviewed gave top-1 0.980,
    the 5 reviewed 0.200, and imported as decisions they read "suggestion accepted 98.2%" (an evaluation team's walkthrough)."""
    if label_column != FINAL_LABEL_COLUMN or DECISION_LABEL_COLUMN not in table.columns:
        return [False] * len(table.rows)

    def machine(decided: str, final: str) -> bool:
        if not decided:
            return True
        node = catalog.find(final)
        return node is not None and decided != node.id and decided in {a.id for a in catalog.ancestors(node.id)}  # narrowed below the decision

    return [machine(str(row.get(DECISION_LABEL_COLUMN) or "").strip(), str(row.get(FINAL_LABEL_COLUMN) or "").strip()) for row in table.rows]


def read_labelled(source: Path | str | Table, text_columns: list[str], label_column: str, catalog: Catalog) -> Labelled:
    """Read texts and labels; rows without text or label, or labelled by the model itself (:func:`suggestion_only`), are skipped with a reason."""
    table = source if isinstance(source, Table) else read_table(source)
    table.require([*text_columns, label_column])
    refuse_model_answers(label_column)
    unreviewed = suggestion_only(table, label_column, catalog)
    texts: list[str] = []
    labels: list[list[str]] = []
    skipped: list[tuple[int, str]] = []
    rows: list[int] = []
    unknown: dict[str, int] = {}
    for number, row, machine in zip(table.row_numbers(), table.rows, unreviewed):
        text = join_text_columns(row, text_columns)
        raw = split_labels(row[label_column])
        if not text:
            skipped.append((number, "empty text"))
            continue
        if machine:
            skipped.append((number, SUGGESTION_ONLY))
            continue
        if not raw:
            skipped.append((number, "no label"))
            continue
        nodes = [catalog.find(label) for label in raw]
        for label, node in zip(raw, nodes):
            if node is None:
                unknown.setdefault(label, number)
        resolved = [n.id for n in nodes if n is not None]
        if not resolved:
            several = [label for label in raw if len(catalog.named(label)) > 1]
            skipped.append((number, f"label(s) {', '.join(several)} name several nodes: give the id" if several
                            else f"label(s) not in the catalog: {', '.join(raw)}"))
            continue
        texts.append(text)
        labels.append(list(dict.fromkeys(resolved)))
        rows.append(number)
    if not texts and skipped and all(reason == SUGGESTION_ONLY for _, reason in skipped):  # not "no usable labels" (a blind review)
        raise TableError(f"no row of column {label_column!r} is a person's label: {SUGGESTION_ONLY}; measure on decision_label",
                         thai=f"ไม่มีแถวใดในคอลัมน์ {label_column} ที่คนตัดสินหมวดไว้ ค่าในคอลัมน์นี้คือข้อเสนอของระบบเอง "
                              "กรุณาใช้คอลัมน์ decision_label")
    if not texts:
        example = ", ".join(f"{label!r} (row {row})" for label, row in list(unknown.items())[:5])
        example_th = ", ".join(f"{label} (แถวที่ {row})" for label, row in list(unknown.items())[:5])
        hint = f"; unknown labels: {example}" if unknown else ""
        ids = ", ".join(list(catalog.nodes)[:5])
        raise TableError(
            f"no usable labelled rows in column {label_column!r}{hint}; "
            f"labels must be node ids or names of catalog {catalog.name!r}, e.g. {ids}",
            thai=(f"คอลัมน์ {label_column} ไม่มีป้ายกำกับที่ตรงกับหัวข้อในแคตตาล็อก {catalog.name} (ป้ายกำกับที่ไม่รู้จัก: {example_th}) "
                  f"ป้ายกำกับต้องเป็นรหัสหรือชื่อหัวข้อ เช่น {ids}") if unknown
                 else f"ไม่มีแถวที่มีทั้งข้อความและป้ายกำกับในคอลัมน์ {label_column}")
    return Labelled(texts, labels, skipped, rows)
