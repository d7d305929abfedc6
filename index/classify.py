"""Batch classification of a table: the evaluation team's contract.

Output keeps every input column and row, in order, and adds ``pred_label``, ``pred_name``,
``pred_score``, ``pred_confidence``, ``pred_top3``, ``needs_review`` (``yes`` when a person should
check the suggestion: low calibrated confidence, or a text the catalog barely matches), ``error`` and
``error_th`` (the same in Thai, for the evaluation team: the files said "empty text" only; a
walkthrough). A row whose text cannot be aligned keeps its place with ``error`` filled: the team
reconciles outputs with inputs row by row, so nothing is ever dropped.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from planalign.corpora.labelled import join_text_columns
from planalign.corpora.tables import Table
from planalign.index.align import Aligner, Alignment, AlignmentInputError
from planalign.index.align.query import NOT_THAI_WARNING

OUTPUT_COLUMNS = ("pred_label", "pred_name", "pred_score", "pred_confidence", "pred_top3", "needs_review", "error", "error_th")


@dataclass
class Classified:
    """The labelled table, the level it was labelled at, and the aligner's result per row."""

    table: Table
    level: str
    results: list[Alignment | AlignmentInputError]

    @property
    def failed(self) -> int:
        return sum(1 for r in self.results if not isinstance(r, Alignment))

    @property
    def not_thai(self) -> int:
        """Rows with (almost) no Thai characters: labelled, but a person should know they are weak."""
        return sum(1 for r in self.results if isinstance(r, Alignment) and NOT_THAI_WARNING in r.warnings)


def classify_table(
    table: Table,
    text_columns: list[str],
    aligner: Aligner,
    level: str | None = None,
    progress: Callable[[int], None] | None = None,
    max_chars: int | None = None,
) -> Classified:
    """Label every row of ``table`` at ``level`` (default: the catalog's deepest level). A row whose
    text (its columns joined) is over ``max_chars`` gets an error, as one text over it is refused
    everywhere else: two cells of 15,000 characters were labelled, and the review grid's decision on
    the row was then refused as too long (a walkthrough)."""
    table.require(text_columns)
    level = aligner.catalog.resolve_level(level)
    texts = [join_text_columns(row, text_columns) for row in table.rows]
    fitting = [i for i, text in enumerate(texts) if max_chars is None or len(text) <= max_chars]
    if progress and len(fitting) < len(texts):
        progress(len(texts) - len(fitting))  # the rows refused count as done
    aligned = iter(aligner.align_many([texts[i] for i in fitting], top_k=3, level=level, progress=progress))
    results = [next(aligned) if max_chars is None or len(text) <= max_chars else _too_long(text, max_chars) for text in texts]
    columns = [c for c in table.columns if c not in OUTPUT_COLUMNS] + list(OUTPUT_COLUMNS)
    rows = []
    for row, result in zip(table.rows, results):
        out: dict[str, object] = dict(row)
        if isinstance(result, Alignment):
            top = result.levels[level]
            out.update(pred_label=top[0].node_id, pred_name=top[0].name, pred_score=round(top[0].score, 4),
                       pred_confidence=round(top[0].confidence, 4), pred_top3="|".join(s.node_id for s in top),
                       needs_review="yes" if result.needs_review[level] else "no", error="", error_th="")
        else:
            out.update(pred_label="", pred_name="", pred_score="", pred_confidence="", pred_top3="", needs_review="yes", error=str(result),
                       error_th=result.thai or "")
        rows.append(out)
    return Classified(Table(columns, rows), level, results)


def too_long(length: int, limit: int, what: str = "the text", what_th: str = "ข้อความ") -> tuple[str, str]:
    """A text over the configured limit, in English and Thai: one wording for a draft refused and a batch row's error."""
    return (f"{what} has {length:,} characters, over the limit of {limit:,} (PLANALIGN_MAX_TEXT_CHARS)",
            f"{what_th}ยาว {length:,} ตัวอักษร เกินที่รับได้ {limit:,} ตัวอักษร กรุณาตัดให้สั้นลง")


def _too_long(text: str, limit: int) -> AlignmentInputError:
    english, thai = too_long(len(text), limit)
    return AlignmentInputError(english, thai=thai)

