"""What an alignment returns: ranked suggestions per level, with confidence and evidence."""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from planalign.errors import InputError


class AlignmentInputError(InputError):
    """The text cannot be aligned (empty, or nothing readable in it)."""


@dataclass
class Evidence:
    """Why a node was suggested: which part of the draft matched which catalog (or example) text."""

    draft_text: str
    matched_text: str
    matched_kind: str  # description | keywords | example
    similarity: float
    shared_words: list[str] = field(default_factory=list)


@dataclass
class Suggestion:
    node_id: str
    name: str
    level: str
    score: float
    confidence: float
    path: list[str]
    evidence: list[Evidence] = field(default_factory=list)


@dataclass
class Neighbour:
    """A labelled example close to the draft."""

    text: str
    labels: list[str]
    similarity: float


# The alignment's warnings in Thai, for the API's ``warnings_th`` and the pages (planner.js translated them on its own;
# an integrator got English only beside Thai errors). Matched on the English texts of index/align/query.py and
# supervised.py; a warning not listed here is passed on as it is.
_WARNINGS_TH: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    # each from the warning's start: a decided text quoted after "follows a decision" may say "too short" itself (a blind review)
    (re.compile(r"^the suggestion follows a decision recorded for a nearly identical text: ([\s\S]*)"),
     lambda m: f"ข้อเสนอนี้ตามการตัดสินใจที่บันทึกไว้สำหรับข้อความที่เกือบเหมือนกัน: \u201c{m[1]}\u201d (ความมั่นใจมาจากการตัดสินใจนั้น)"),
    (re.compile(r"^text is mostly not Thai"), lambda m: "ข้อความส่วนใหญ่ไม่ใช่ภาษาไทย แผนยุทธศาสตร์เป็นภาษาไทย ผลที่แนะนำอาจไม่แม่นยำ"),
    (re.compile(r"^text is too short"),
     lambda m: "ข้อความสั้นเกินกว่าจะบอกได้ว่าโครงการทำอะไร ข้อเสนอทุกข้อควรให้ผู้รู้ตรวจสอบ กรุณาใส่ชื่อหรือรายละเอียดโครงการเพิ่ม"),
    (re.compile(r"^the text holds only the form's budget"),
     lambda m: "ข้อความมีแต่งบประมาณ ระยะเวลา หรือผู้รับผิดชอบ ไม่ได้บอกว่าโครงการทำอะไร ข้อเสนอทุกข้อควรให้ผู้รู้ตรวจสอบ กรุณาใส่ชื่อหรือรายละเอียดโครงการ"),
    (re.compile(r"^the text has no word that says what the project is"),
     lambda m: "ข้อความไม่มีคำที่บอกได้ว่าเป็นโครงการอะไร (กรุณาตรวจการสะกดหรือแป้นพิมพ์ภาษา) ข้อเสนอทุกข้อควรให้ผู้รู้ตรวจสอบ"),
    (re.compile(r"^text is [\d,]+ characters; only the first ([\d,]+) were used"), lambda m: f"ข้อความยาวเกินไป ระบบใช้เฉพาะ {m[1]} ตัวอักษรแรก"),
]


def warning_thai(warning: str) -> str:
    """A warning of an alignment in Thai (as it is when it has no translation)."""
    for pattern, thai in _WARNINGS_TH:
        if match := pattern.match(warning):
            return thai(match)
    return warning


@dataclass
class Alignment:
    levels: dict[str, list[Suggestion]]
    neighbours: list[Neighbour] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    needs_review: dict[str, bool] = field(default_factory=dict)  # per level: a person should check the top suggestion
    # per level: the shallower node without children where the draft's best path ends (an issue without goals);
    # the level's suggestions then lie on other branches, and are flagged for review
    ends_above: dict[str, str] = field(default_factory=dict)
    # the catalog's decisions changed this answer (a learned model whose learners, corrections and decided texts leave a
    # draft alone answers it zero-shot: "learned from 14 decisions" read as if they had, a planner's walkthrough)
    learned: bool = False
