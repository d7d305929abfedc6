"""Strategy catalogs: a tree of nodes with levels (dimension > issue > goal > okr, any subset).

The catalog is data, not code: the BMA 9-dimension strategy, the 20-year plan or a national
strategy all load from the same interchange format, a table with the columns
``id,parent_id,level,name,description`` and optional ``keywords`` (``|``-separated), as CSV, XLSX
or JSON. An optional ``catalog_title`` column (its first non-empty cell; in nested JSON a top-level
``title``) gives the catalog the name people read, e.g. "ยุทธศาสตร์กรุงเทพมหานคร 9 ด้าน 9 ดี"; a
catalog without one is shown by its id. Loading validates the whole file and reports every problem with its row number, so a
planner can fix a catalog in one pass.
"""
from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import NamedTuple

from planalign.corpora.tables import Limits, Table, TableError, read_table, unguarded
from planalign.errors import InputError

REQUIRED_COLUMNS = ("id", "parent_id", "level", "name", "description")
TITLE_COLUMN = "catalog_title"
# A catalog's columns under their Thai names (a planner's own sheet: "รหัส, ชื่อ, ระดับ" was refused while a
# projects file's Thai headers were read; a browser walkthrough).
THAI_HEADERS = {"รหัส": "id", "รหัสหัวข้อ": "id", "รหัสแม่": "parent_id", "รหัสหัวข้อแม่": "parent_id", "หัวข้อแม่": "parent_id",
                "ระดับ": "level", "ชื่อ": "name", "ชื่อหัวข้อ": "name", "คำอธิบาย": "description", "รายละเอียด": "description",
                "คำสำคัญ": "keywords", "ชื่อแผน": TITLE_COLUMN}
# The conventional order of BMA plan levels; other level names are ordered by their depth.
CANONICAL_LEVELS = ("dimension", "issue", "goal", "okr")
# How Thai readers name them (files with Thai headers; the pages' common.js has the same words)
LEVEL_THAI = {"dimension": "ด้าน", "issue": "ประเด็นการพัฒนา", "goal": "เป้าหมาย", "okr": "ตัวชี้วัด (OKR)"}


def level_thai(level: str) -> str:
    """A level as a Thai message names it: its Thai word for the canonical levels ("ระดับ dimension" in a Thai
    sentence: a planner's walkthrough), a catalog's own level name as it is."""
    return LEVEL_THAI.get(level, level)

MISSPELT_LEVEL = 0.75  # name similarity (difflib) from which a rare level beside another is its misspelling: isue / issue 0.89, goal / issue 0.22
MAX_LEVELS = 12  # level names and depth; a strategy catalog has 2-6 (BMA's 4)
LEVEL_ALIASES = {
    "ด้าน": "dimension",
    "ยุทธศาสตร์": "dimension",
    "ประเด็น": "issue",
    "ประเด็นการพัฒนา": "issue",
    "เป้าหมาย": "goal",
    "objective": "goal",
    "kr": "okr",
    "key result": "okr",
}
BUILTIN_CATALOGS = {"bma-9d": "bma_strategy_9d.csv"}
DEFAULT_CATALOG = "bma-9d"


class Problem(NamedTuple):
    """One thing wrong with a catalog: its row (None: the whole file), in English and in Thai (the catalog page shows it)."""

    row: int | None
    message: str
    thai: str


class CatalogError(InputError):
    """A catalog failed validation; ``problems``: every :class:`Problem`, so a planner fixes the file in one pass."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = problems
        lines = [f"  row {p.row}: {p.message}" if p.row is not None else f"  {p.message}" for p in problems[:50]]
        more = f"\n  ... and {len(problems) - 50} more" if len(problems) > 50 else ""
        super().__init__(f"invalid catalog {source}:\n" + "\n".join(lines) + more, thai=self.summary_thai())

    def _first(self) -> Problem:
        return self.problems[0] if self.problems else Problem(None, "no detail", "ไม่ทราบรายละเอียด")

    def summary(self) -> str:
        """The first problem on one line, for an API answer (every problem goes in its detail)."""
        first = self._first()
        where = f"row {first.row}: " if first.row is not None else ""
        more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        return f"invalid catalog {self.source}: {where}{first.message}{more}"

    def summary_thai(self) -> str:
        """The first problem in Thai, for the pages (again after an upload's temporary name is replaced by the user's)."""
        first = self._first()
        where = f"แถวที่ {first.row}: " if first.row is not None else ""
        others = f" และอีก {len(self.problems) - 1} จุด" if len(self.problems) > 1 else ""
        return f"แคตตาล็อก {self.source} ไม่ถูกต้อง: {where}{first.thai}{others}"


@dataclass(frozen=True)
class Node:
    """One catalog entry. ``row`` is its line in the source file, for error messages."""

    id: str
    parent_id: str | None
    level: str
    name: str
    description: str = ""
    keywords: tuple[str, ...] = ()
    row: int | None = None


@dataclass
class Catalog:
    """A validated tree of nodes; ``levels`` is ordered from the root down."""

    name: str
    nodes: dict[str, Node]
    levels: list[str]
    title: str = ""  # the name people read; empty: shown by its id
    _children: dict[str | None, list[str]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._children = {}
        for node in self.nodes.values():
            self._children.setdefault(node.parent_id, []).append(node.id)

    def __len__(self) -> int:
        return len(self.nodes)

    def __iter__(self) -> Iterator[Node]:
        return iter(self.nodes.values())

    @cached_property
    def digest(self) -> str:
        """The catalog's content, stable across processes (unlike ``hash()``): changes when any node does.
        The one fingerprint: stored alignments, learned models and shared aligners are keyed by it (three
        of them had grown apart, a review). Nodes are not changed after loading, so it is computed once."""
        text = "\x1e".join("\x1f".join((n.id, n.parent_id or "", n.level, n.name, n.description, "|".join(n.keywords))) for n in self)
        return hashlib.sha1(text.encode("utf-8")).hexdigest()

    def children(self, node_id: str | None) -> list[Node]:
        """Children of a node; ``None`` gives the roots."""
        return [self.nodes[c] for c in self._children.get(node_id, [])]

    def ancestors(self, node_id: str) -> list[Node]:
        """The path from the root down to, and including, ``node_id``."""
        path = []
        current: str | None = node_id
        while current is not None:
            node = self.nodes[current]
            path.append(node)
            current = node.parent_id
        return path[::-1]

    def at_level(self, level: str) -> list[Node]:
        return [n for n in self.nodes.values() if n.level == level]

    def ancestor_at(self, node_id: str, level: str) -> Node | None:
        """The node's ancestor (or itself) at ``level``; None when the path has no such level."""
        return next((n for n in self.ancestors(node_id) if n.level == level), None)

    def on_one_path(self, first: str, second: str) -> bool:
        """Whether one node lies under the other (or they are one): decisions at two levels agree."""
        if first not in self.nodes or second not in self.nodes:
            return first == second
        return any(n.id == first for n in self.ancestors(second)) or any(n.id == second for n in self.ancestors(first))

    def resolve_level(self, level: str | None) -> str:
        """Map a user's level name (or alias) to one of this catalog's levels; default: deepest."""
        if level is None:
            return self.levels[-1]
        wanted = LEVEL_ALIASES.get(level.strip().lower(), level.strip().lower())
        for candidate in self.levels:
            if candidate.lower() == wanted:
                return candidate
        raise InputError(f"unknown level {level!r}; catalog {self.name} has: {', '.join(self.levels)}",
                         thai=f"แคตตาล็อก {self.name} ไม่มีระดับ {level} (มีระดับ: {', '.join(f'{level_thai(lv)} ({lv})' if lv in LEVEL_THAI else lv for lv in self.levels)})")

    def resolve_node(self, typed: str, level: str) -> str:
        """A filter's node as a person types it, at ``level``: its id in any case ("d1") or its name;
        one that is not a node of that level is refused with the ones that are (it matched nothing,
        silently, and read as "no such projects")."""
        found = self.find(typed, level)
        if found is None or found.level != level:
            ids = ", ".join(n.id for n in self.at_level(level))
            raise InputError(f"no {level} {typed!r} in catalog {self.name}; there are: {ids}", thai=f"ไม่มีหัวข้อ {typed} ในระดับนี้ของแผน (มี: {ids})")
        return found.id

    def find(self, label: str, level: str | None = None) -> Node | None:
        """Look a label up by node id, then by exact name, then by normalized name, then by id in any
        case and with Thai digits (" d1.4 ", "D๑.๔"; only an id no other id reads the same way): a
        labelled file's typed labels were dropped from its measure without a word.

        A name several nodes carry (:meth:`named`) is the one at ``level`` when one is there, else the
        deepest when they lie on one path (a dimension and its issue of one name: the issue lifts to
        both), else none (ambiguous): "อื่น ๆ" under two dimensions was silently the first, and a
        dimension's name given for an issue of the same name refused (a walkthrough)."""
        label = label.strip()
        if label in self.nodes:
            return self.nodes[label]
        named = self.named(label)
        if level is not None and len(at_level := [n for n in named if n.level == level]) == 1:
            return at_level[0]
        if named:
            deepest = max(named, key=lambda n: len(self.ancestors(n.id)))
            return deepest if all(self.on_one_path(n.id, deepest.id) for n in named) else None
        by_id: dict[str, list[Node]] = {}
        for node in self.nodes.values():
            by_id.setdefault(_id_key(node.id), []).append(node)
        matches = by_id.get(_id_key(label), [])
        if len(matches) == 1:
            return matches[0]
        said = _LEVEL_WORD.match(label)  # "ด้านเศรษฐกิจดี", "ประเด็นที่ 2 ...": the level's word before the name
        bare = label[said.end():].strip() if said else ""
        found = self.find(bare, level) if bare else None
        return found if found is not None and said is not None and self._says(found, said.group(1), said.group(2)) else None

    def _says(self, node: Node, word: str, number: str | None) -> bool:
        """Whether a level's word and number put before a name agree with the node found by the name: "ด้านที่ 4
        เศรษฐกิจดี" is no label of D7, nor "ประเด็นเศรษฐกิจดี" of a dimension (both were taken: a blind review)."""
        try:
            if self.resolve_level(word) != node.level:
                return False
        except InputError:  # a word this catalog has no level of ("มิติ" in one whose levels are named otherwise)
            pass
        numbers = re.findall(r"\d+(?:\.\d+)*", _id_key(node.id))
        if number is None or not numbers:  # an id without a number ("ENV") says nothing of it
            return True
        said = [int(part) for part in _id_key(number).split(".")]
        # the whole number or the node's own among its siblings ("ประเด็นที่ 1" of D1.1), zero-padded or not ("ด้านที่ 07", "S01")
        return any(said == parts or said == parts[-len(said):] for parts in ([int(p) for p in group.split(".")] for group in numbers))

    def named(self, label: str) -> list[Node]:
        """The nodes whose name is ``label`` (exactly, else up to spacing, case and how its Thai is encoded), in catalog order."""
        names = self._names
        return names.get(label.strip()) or names.get(_name_key(label)) or []

    @cached_property
    def _names(self) -> dict[str, list[Node]]:
        """Names and their keys (:func:`_name_key`), built once (nodes are not changed after loading, see :attr:`digest`):
        built at every lookup, a file's names cost 0.2 ms a row on 37 nodes, more with each node."""
        names: dict[str, list[Node]] = {}
        for node in self.nodes.values():
            names.setdefault(node.name, []).append(node)
            key = _name_key(node.name)
            if key != node.name:
                names.setdefault(key, []).append(node)
        return names

    def to_rows(self) -> list[dict[str, str]]:
        """The catalog back in its interchange format (the title, when it has one, on the first row)."""
        rows = [
            {
                "id": n.id,
                "parent_id": n.parent_id or "",
                "level": n.level,
                "name": n.name,
                "description": n.description,
                "keywords": "|".join(n.keywords),
            }
            for n in self.nodes.values()
        ]
        if self.title:
            for number, row in enumerate(rows):
                row[TITLE_COLUMN] = self.title if number == 0 else ""
        return rows


CATALOG_COLUMNS = ["id", "parent_id", "level", "name", "description", "keywords"]


def catalog_to_table(catalog: Catalog) -> Table:
    """The catalog back in its interchange format."""
    return Table(list(CATALOG_COLUMNS) + ([TITLE_COLUMN] if catalog.title else []), catalog.to_rows())


# Labels copied from PDFs spell sara am as nikhahit + sara aa ("น้ํา"), the nikhahit sometimes before the tone mark
# ("นํ้า"), sara ae as two sara e ("เเ"), and carry zero-width spaces: "ป้องกันและแก้ปัญหาน้ําท่วม" was an unknown node (a
# blind review). NFKC writes sara am so as well, the nikhahit goes after a tone mark, เเ becomes แ and invisible characters
# go (nlp/normalize.py repairs drafts so, and more; not imported here, see _THAI_DIGITS).
_NIKHAHIT_BEFORE_TONE = re.compile("\u0e4d([\u0e48-\u0e4b])")
_INVISIBLE = re.compile("[\u00ad\u200b-\u200d\u2060\ufeff]")


def _name_key(name: str) -> str:
    """A name up to spacing, case and how its Thai is encoded."""
    key = _NIKHAHIT_BEFORE_TONE.sub("\\1\u0e4d", unicodedata.normalize("NFKC", name)).replace("\u0e40\u0e40", "\u0e41")  # เเ: แ
    return re.sub(r"\s+", "", _INVISIBLE.sub("", key)).lower()


# not pythainlp's thai_digit_to_arabic_digit: importing pythainlp here put it on the command line's
# fast error path (a missing file answered after loading it; tests/test_cli.py keeps it off)
_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")


# The words files put before a node's name ("ด้านเศรษฐกิจดี", "ด้านที่ 7 เศรษฐกิจดี", "ประเด็นการพัฒนาที่ ๒ ..."): a label
# written so was refused as no node of the catalog (an evaluation team's walkthrough). Read only when the label as
# given is no id or name, so a node named with such a word is still found by its own name first.
_LEVEL_WORD = re.compile(r"^(ด้าน|มิติ|ประเด็นการพัฒนา|ประเด็น|ยุทธศาสตร์|เป้าหมาย)(?:ที่\s*([0-9๐-๙]+(?:\.[0-9๐-๙]+)*))?[\s:.-]*")


def _id_key(node_id: str) -> str:
    return node_id.strip().translate(_THAI_DIGITS).casefold()


def load_catalog(source: str | Path | None = None, limits: Limits | None = None, *, stored: bool = False) -> Catalog:
    """Load a built-in catalog by name (``bma-9d``) or a catalog file (CSV, XLSX, JSON); ``limits``: an upload's.
    ``stored``: a catalog this service stored from an upload, whose older files went through the
    spreadsheet formula guard ("'- ขุดลอก..."): read back without it (:func:`unguarded`)."""
    source = str(source or DEFAULT_CATALOG)
    if source in BUILTIN_CATALOGS:
        resource = resources.files("planalign.corpora").joinpath("data", BUILTIN_CATALOGS[source])
        with resources.as_file(resource) as path:
            return catalog_from_table(read_table(path), source)
    path = Path(source)
    if not path.is_file():
        raise CatalogError(source, [Problem(None, f"no such catalog file or built-in catalog (built-ins: {', '.join(BUILTIN_CATALOGS)})",
                                            f"ไม่พบไฟล์แคตตาล็อกหรือแคตตาล็อกในตัว (ที่มีในตัว: {', '.join(BUILTIN_CATALOGS)})")])
    try:
        table = _read_nested_json(path) if path.suffix.lower() == ".json" else read_table(path, limits=limits)
    except TableError as exc:
        raise CatalogError(source, [Problem(None, str(exc), exc.thai or "อ่านไฟล์แคตตาล็อกไม่ได้")]) from exc
    return catalog_from_table(unguarded(table) if stored else table, path.stem, new=not stored)


def _with_english_headers(table: Table) -> Table:
    """The table with its Thai column names (:data:`THAI_HEADERS`) as the catalog format's, where that one is not there already."""
    renamed = {c: THAI_HEADERS.get(c.strip(), c) for c in table.columns}
    renamed = {c: new if new == c or new not in table.columns else c for c, new in renamed.items()}
    if all(c == new for c, new in renamed.items()) or len(set(renamed.values())) < len(renamed):
        return table  # nothing to rename, or two Thai names of one column: the missing-column message says what is there
    return Table([renamed[c] for c in table.columns], [{renamed.get(k, k): v for k, v in row.items()} for row in table.rows],
                 table.sheet_rows, table.source)


def _read_nested_json(path: Path) -> Table:
    """JSON catalogs may be flat (a list of rows) or nested (``children`` lists)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TableError(f"{path}: not valid UTF-8 JSON ({exc})", thai=f"ไฟล์ {path} ไม่ใช่ JSON (UTF-8) ที่ถูกต้อง") from exc
    except RecursionError as exc:  # 100,000 levels: a 500 (a security probe); a catalog has 12 at most
        raise TableError(f"{path}: JSON nested too deeply for a catalog", thai=f"ไฟล์ {path} ซ้อนกันลึกเกินกว่าจะเป็นแคตตาล็อก") from exc
    title = ""
    if isinstance(data, dict):
        if "id" not in data:  # a wrapper {"title", "nodes"}, not a single root node
            title = str(data.get("title") or "").strip()
        data = data.get("nodes") or data.get("children") or [data]
    if not isinstance(data, list):
        raise TableError(f"{path}: expected a list of nodes", thai=f"ไฟล์ {path} ต้องเป็นรายการ (list) ของหมวดในแผน")
    rows: list[dict[str, str]] = []

    def flatten(items: list, parent: str) -> None:
        for item in items:
            if not isinstance(item, dict):
                raise TableError(f"{path}: every node must be a JSON object", thai=f"ไฟล์ {path.name}: หัวข้อทุกหัวข้อต้องเป็นออบเจกต์ JSON")
            keywords = item.get("keywords", "")
            nested = [key for key in REQUIRED_COLUMNS if isinstance(item.get(key), (dict, list))]
            nested += ["keywords"] if isinstance(keywords, dict) or (isinstance(keywords, list) and any(isinstance(k, (dict, list)) for k in keywords)) else []
            if nested:  # {"id": {"x": 1}} was read as the id "{'x': 1}"
                raise TableError(f"{path}: node {len(rows) + 1}: {', '.join(nested)} must be text or a number (keywords: or a list of them), "
                                 "not a JSON object",
                                 thai=f"ไฟล์ {path.name} หัวข้อที่ {len(rows) + 1}: ช่อง {', '.join(nested)} ต้องเป็นข้อความหรือตัวเลข "
                                      "(คำสำคัญเป็นรายการของข้อความได้)")
            rows.append(
                {
                    "id": str(item.get("id", "")).strip(),
                    "parent_id": str(item.get("parent_id") or parent).strip(),
                    "level": str(item.get("level", "")).strip(),
                    "name": str(item.get("name", "")).strip(),
                    "description": str(item.get("description") or "").strip(),
                    "keywords": "|".join(str(k) for k in keywords) if isinstance(keywords, list) else str(keywords),
                }
            )
            children = item.get("children") or []
            if not isinstance(children, list):  # 5 or true: a 500 (a security probe)
                raise TableError(f"{path}: node {len(rows)}: children must be a list of nodes",
                                 thai=f"ไฟล์ {path.name} หัวข้อที่ {len(rows)}: ช่อง children ต้องเป็นรายการ (list) ของหัวข้อย่อย")
            flatten(children, rows[-1]["id"])

    flatten(data, "")
    if title and rows:
        rows[0][TITLE_COLUMN] = title
    return Table(["id", "parent_id", "level", "name", "description", "keywords"] + ([TITLE_COLUMN] if title else []), rows,
                 list(range(1, len(rows) + 1)))  # problems name nodes by their position from 1, as in any JSON list


def catalog_from_table(table: Table, name: str, *, new: bool = True) -> Catalog:
    """Validate rows and build the tree; every problem is collected before raising. ``new`` off: a catalog
    this service stored, read back: the checks added later (:func:`_levels_side_by_side`) do not make it
    unreadable (its decisions would be stranded: a blind review)."""
    table = _with_english_headers(table)
    missing = [c for c in REQUIRED_COLUMNS if c not in table.columns]
    if missing:  # each with its Thai header too: the English names alone were given (a catalog author's walkthrough)
        thai = {english: thai for thai, english in reversed(THAI_HEADERS.items())}
        named = ", ".join(f"{c} ({thai[c]})" if c in thai else c for c in REQUIRED_COLUMNS)
        raise CatalogError(name, [Problem(None, f"missing column(s): {', '.join(missing)} (have: {', '.join(table.columns)}); "
                                                f"a catalog has the columns {named}",
                                          f"ไม่มีคอลัมน์ {', '.join(missing)} (คอลัมน์ในไฟล์: {', '.join(table.columns)}) "
                                          f"แคตตาล็อกต้องมีคอลัมน์ {named}")])
    problems: list[Problem] = []
    nodes: dict[str, Node] = {}
    for index, row in zip(table.row_numbers(), table.rows):
        node_id = row["id"].strip()
        level = row["level"].strip()
        level = LEVEL_ALIASES.get(level.lower(), level.lower()) if level else ""
        if not node_id:
            problems.append(Problem(index, "empty id", "ไม่มีรหัส (id)"))
            continue
        if node_id in nodes:
            problems.append(Problem(index, f"duplicate id {node_id!r} (first on row {nodes[node_id].row})",
                                    f"รหัส {node_id} ซ้ำกับแถวที่ {nodes[node_id].row}"))
            continue
        if not row["name"].strip():
            problems.append(Problem(index, f"empty name for id {node_id!r}", f"รหัส {node_id} ไม่มีชื่อ (name)"))
        if not level:
            problems.append(Problem(index, f"empty level for id {node_id!r}", f"รหัส {node_id} ไม่ได้ระบุระดับ (level)"))
        keywords = tuple(k.strip() for k in row.get("keywords", "").split("|") if k.strip())
        nodes[node_id] = Node(
            id=node_id,
            parent_id=row["parent_id"].strip() or None,
            level=level,
            name=" ".join(row["name"].split()),  # "ด้านที่ ๑  การจัดการน้ำ" kept its two spaces (a catalog author's walkthrough)
            description=row["description"].strip(),
            keywords=keywords,
            row=index,
        )
    if not nodes and not problems:
        problems.append(Problem(None, "the catalog has no rows", "แคตตาล็อกไม่มีข้อมูลสักแถว"))
    for node in nodes.values():
        if node.parent_id is not None and node.parent_id not in nodes:
            problems.append(Problem(node.row, f"unknown parent {node.parent_id!r} for id {node.id!r}",
                                    f"รหัส {node.id} อ้างถึงหัวข้อแม่ {node.parent_id} ซึ่งไม่มีในแคตตาล็อก"))
    problems.extend(_cycle_problems(nodes))
    problems.extend(_parent_level_problems(nodes))  # beside the others: a level out of order was said only once they were fixed
    named_levels = {node.level for node in nodes.values()}
    if len(named_levels) > MAX_LEVELS:  # a chain of 2,000 levels: a 500 and 16 s at every catalog list (a security probe)
        problems.append(Problem(None, f"{len(named_levels)} levels; a catalog has at most {MAX_LEVELS}",
                                f"แคตตาล็อกมี {len(named_levels)} ระดับ เกินจำนวนสูงสุด {MAX_LEVELS} ระดับ"))
    elif not problems:
        depth = _depths(nodes)
        problems.extend(_depth_problems(nodes, depth))
        if not problems:
            levels, level_problems = _level_order(nodes, depth)
            level_problems += _levels_side_by_side(nodes, depth) if new else []
            problems.extend(level_problems)
    if problems:
        raise CatalogError(name, sorted(problems, key=lambda p: (p.row is None, p.row or 0)))
    titles = (str(row.get(TITLE_COLUMN) or "").strip() for row in table.rows)
    title = next((t for t in titles if t), "")
    return Catalog(name=name, nodes=nodes, levels=levels, title=title)


def _cycle_problems(nodes: dict[str, Node]) -> list[Problem]:
    """Each cycle of parent links once, in one walk over the nodes: a node's chain is followed only until a
    node already walked (a chain of 2,000 nodes took 16 s with every chain walked from each of its nodes,
    at every catalog list: a security probe)."""
    problems = []
    done: set[str] = set()
    for start in nodes:
        path: list[str] = []
        on_path: set[str] = set()
        current: str | None = start
        while current is not None and current in nodes and current not in done and current not in on_path:
            path.append(current)
            on_path.add(current)
            current = nodes[current].parent_id
        if current is not None and current in on_path:
            loop = path[path.index(current) :]
            chain = " -> ".join(loop + [current])
            problems.append(Problem(nodes[current].row, f"cycle in parent links: {chain}", f"หัวข้อแม่อ้างวนกลับมาที่เดิม: {chain}"))
        done.update(path)
    return problems


def _depths(nodes: dict[str, Node]) -> dict[str, int]:
    """Each node's depth (a root 0), without recursion: 12 level names in rotation down a chain of 2,000 nodes
    passed the count of levels and overflowed a recursive walk (a blind review). Parents known, no cycles."""
    depth: dict[str, int] = {}
    for start in nodes:
        path: list[str] = []
        current: str | None = start
        while current is not None and current not in depth:
            path.append(current)
            current = nodes[current].parent_id
        below = depth[current] if current is not None else -1
        for node_id in reversed(path):
            below += 1
            depth[node_id] = below
    return depth


def _depth_problems(nodes: dict[str, Node], depth: dict[str, int]) -> list[Problem]:
    """The first node more than MAX_LEVELS deep."""
    for node_id in nodes:
        if depth[node_id] >= MAX_LEVELS:
            return [Problem(nodes[node_id].row, f"id {node_id!r} is {depth[node_id] + 1} levels deep; a catalog has at most {MAX_LEVELS}",
                            f"รหัส {node_id} อยู่ลึก {depth[node_id] + 1} ชั้น เกินจำนวนสูงสุด {MAX_LEVELS} ชั้น")]
    return []


def _levels_side_by_side(nodes: dict[str, Node], depth: dict[str, int]) -> list[Problem]:
    """Two levels of nearly the same name that only ever sit at one and the same depth under the same
    levels: the rarer one is the other misspelt ("isue" beside "issue" was taken as a third level under
    the issues, and the dashboard counted every project under one node of it: a browser walkthrough).
    Levels of other names side by side are a catalog's own design (a goal with kpi and project children,
    two kinds of root: a blind review of a first rule that refused them), and so is a level at several depths."""
    where: dict[str, tuple[frozenset[int], frozenset[str | None]]] = {}
    members: dict[str, list[Node]] = {}
    for node in nodes.values():
        members.setdefault(node.level, []).append(node)
    for level, found in members.items():
        where[level] = (frozenset(depth[n.id] for n in found), frozenset(nodes[n.parent_id].level if n.parent_id else None for n in found))
    problems = []
    levels = sorted(members, key=lambda lv: -len(members[lv]))
    for i, common in enumerate(levels):
        for rare in levels[i + 1:]:
            if (len(where[rare][0]) == 1 and where[rare] == where[common] and rare not in CANONICAL_LEVELS
                    and SequenceMatcher(None, rare, common).ratio() >= MISSPELT_LEVEL):
                node = members[rare][0]
                problems.append(Problem(node.row, f"level {rare!r} ({len(members[rare])} nodes) sits beside level {common!r} ({len(members[common])}) "
                                                  "at the same depth under the same level: one level a depth (a misspelt level name?)",
                                        f"ระดับ {rare} ({len(members[rare])} หัวข้อ) อยู่ลำดับชั้นเดียวกับระดับ {common} ({len(members[common])} หัวข้อ) "
                                        "ใต้ระดับเดียวกัน แคตตาล็อกมีได้ระดับเดียวต่อชั้น (สะกดชื่อระดับผิดหรือไม่)"))
    return problems


def _parent_level_problems(nodes: dict[str, Node]) -> list[Problem]:
    """A child on its parent's level, or on a known level above it (a dimension under an issue): read from
    each node and its parent alone, so said with the file's other problems (parents unknown, cycles)."""
    problems: list[Problem] = []
    canonical = {level: rank for rank, level in enumerate(CANONICAL_LEVELS)}
    for node in nodes.values():
        parent = nodes.get(node.parent_id) if node.parent_id is not None else None
        if parent is None or not node.level or not parent.level:
            continue
        if node.level == parent.level:
            problems.append(Problem(node.row, f"id {node.id!r} has the same level {node.level!r} as its parent {parent.id!r}",
                                    f"รหัส {node.id} อยู่ระดับ {node.level} เดียวกับหัวข้อแม่ {parent.id} หัวข้อย่อยต้องอยู่ระดับที่ลึกกว่า"))
        elif node.level in canonical and parent.level in canonical and canonical[node.level] < canonical[parent.level]:
            problems.append(Problem(node.row, f"level order: {node.level!r} {node.id!r} cannot sit under {parent.level!r} {parent.id!r}",
                                    f"ลำดับระดับผิด: {node.level} {node.id} อยู่ใต้ {parent.level} {parent.id} ไม่ได้"))
    return problems


def _level_order(nodes: dict[str, Node], depth: dict[str, int]) -> tuple[list[str], list[Problem]]:
    """Order levels root-down; a custom level must keep one position relative to the others along every
    path (every child on a deeper level than its parent: :func:`_parent_level_problems`, checked before)."""
    problems: list[Problem] = []
    min_depth: dict[str, int] = {}
    for node in nodes.values():
        min_depth[node.level] = min(min_depth.get(node.level, 99), depth[node.id])
    canonical = {level: rank for rank, level in enumerate(CANONICAL_LEVELS)}
    order = sorted(min_depth, key=lambda lv: (min_depth[lv], canonical.get(lv, 99)))
    for node in nodes.values():
        if node.parent_id is not None and order.index(node.level) < order.index(nodes[node.parent_id].level):
            above = nodes[node.parent_id].level
            problems.append(Problem(node.row, f"level order: {node.level!r} {node.id!r} sits under {above!r}, but elsewhere above it",
                                    f"ลำดับระดับขัดกัน: {node.level} {node.id} อยู่ใต้ระดับ {above} แต่ที่อื่นในแคตตาล็อกอยู่เหนือระดับนั้น"))
    return order, problems
