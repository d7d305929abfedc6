"""People's decisions as the core sees them: checked before anything is stored, turned into examples.

A decision arrives from the planner page, the evaluation page's review grid, a project's declared
alignment (ความสอดคล้องกับแผนระดับ กทม.), a file (``planalign decisions import``) or the API. Every
one of a batch is checked first (empty text, unknown node, a node that is not at the level given,
an unknown source); one bad decision stores none of the batch, and the error names each problem.

The examples a catalog's model learns from are its active decisions, one per text: the newest
decision of the text, or a deeper one that agrees with it (a text decided at the issue level D1.4
and later confirmed at the dimension level D1 learns D1.4).
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from planalign.corpora.catalog import Catalog, Node, level_thai
from planalign.corpora.labelled import join_text_columns, split_labels, suggestion_only
from planalign.corpora.projects import Project, declared_nodes, undeclared_extras, unknown_ids
from planalign.corpora.tables import Table
from planalign.errors import InputError, TooLarge
from planalign.index.align import AlignmentInputError, prepare_text
from planalign.index.align.query import unreadable
from planalign.index.decisions import PEOPLE_SOURCES, SOURCES, Decision, NewDecision, text_key
from planalign.nlp.fields import topical
from planalign.nlp.normalize import normalize


class DecisionError(InputError):
    """Some decisions of a batch are not valid; nothing of the batch was stored."""

    def __init__(self, problems: list[tuple[int, str, str]], what: str = "decision") -> None:
        """``problems``: (the item's number, what is wrong, the same in Thai); ``what``: "decision" or a file's "row"."""
        self.problems = problems
        shown = "; ".join(f"{what} {where}: {message}" for where, message, _ in problems[:20])
        shown_th = "; ".join(f"{'แถวที่' if what == 'row' else 'รายการที่'} {where}: {thai}" for where, _, thai in problems[:20])
        more, more_th = (f"; and {len(problems) - 20} more", f"; และอีก {len(problems) - 20} รายการ") if len(problems) > 20 else ("", "")
        super().__init__(f"{len(problems)} invalid {what}(s), nothing stored: {shown}{more}",
                         thai=f"ข้อมูลการตัดสินใจไม่ถูกต้อง {len(problems)} รายการ จึงไม่ได้บันทึกรายการใดเลย ({shown_th}{more_th})")
        # every problem by its item, for a program to mark the rows (they came as one joined string: an integrator's walkthrough)
        self.detail = [{what: where, "error": message, "message_th": thai} for where, message, thai in problems]


class TextsTooLong(TooLarge, DecisionError):
    """Decisions of a list with texts over the limit (413), with every other problem of the list beside them: the first
    over-long text alone was named, and a list's unknown node came to light only on a second send (a blind review)."""


@dataclass
class DecisionInput:
    """A decision as a person or a file gives it: the node by id or name, the level optional."""

    text: str
    node: str
    level: str | None = None
    project_id: str = ""
    suggested: str = ""
    suggested_confidence: float | None = None
    source: str = "imported"


def check(items: Sequence[DecisionInput], catalog: Catalog, catalog_id: str, who: str, *, numbers: Sequence[int] | None = None,
          what: str = "decision") -> list[NewDecision]:
    """Validated decisions, or a :class:`DecisionError` naming every problem (``numbers``: what each
    item is called in it, default 1, 2, ...; a file's rows as the file numbers them)."""
    checked: list[NewDecision] = []
    problems: list[tuple[int, str, str]] = []
    for number, item in zip(numbers or range(1, len(items) + 1), items, strict=True):
        try:
            checked.append(_check_one(item, catalog, catalog_id, who))
        except InputError as exc:
            problems.append((number, str(exc), exc.thai or str(exc)))
    if problems:
        raise DecisionError(problems, what)
    return checked


def check_withdrawal_source(source: str | None) -> None:
    """Where a withdrawal may say it came from: a person's source (None: the withdrawn decision's own)."""
    if source is not None and source not in PEOPLE_SOURCES:
        raise InputError(f"a withdrawal's source is one of {', '.join(PEOPLE_SOURCES)}, not {source!r}",
                         thai=f"แหล่งที่มาของการยกเลิกต้องเป็น {', '.join(PEOPLE_SOURCES)} (ได้รับ {source})")


def check_source(source: str) -> None:
    """The one rule for where a decision comes from."""
    if source not in SOURCES:
        raise InputError(f"unknown source {source!r}; sources are: {', '.join(SOURCES)}",
                         thai=f"ไม่มีแหล่งที่มา {source} (มี: {', '.join(SOURCES)})")


def _check_one(item: DecisionInput, catalog: Catalog, catalog_id: str, who: str) -> NewDecision:
    """One decision, or an InputError naming every problem it has (an empty text and an unknown node both)."""
    problems: list[tuple[str, str]] = []  # (English, Thai)
    try:
        prepare_text(item.text)
    except AlignmentInputError as exc:
        problems.append((str(exc), exc.thai or str(exc)))
    try:
        check_source(item.source)
    except InputError as exc:
        problems.append((str(exc), exc.thai or str(exc)))
    node, level, problem = _chosen_node(item, catalog, catalog_id)
    problems += [problem] if problem else []
    suggested = (item.suggested or "").strip()
    if suggested and catalog.find(suggested) is None:  # a row suggesting a node a revision removed sends none (the review grid)
        problems.append((f"unknown suggested node {suggested!r} in catalog {catalog_id!r}", f"ไม่พบหมวดที่ระบบเสนอ {suggested} ในแคตตาล็อก {catalog_id}"))
    confidence = item.suggested_confidence
    if confidence is not None and not 0.0 <= confidence <= 1.0:
        problems.append(("suggested_confidence must lie between 0 and 1", "ความมั่นใจของข้อเสนอต้องอยู่ระหว่าง 0 ถึง 1"))
    if problems or node is None:  # "; " separates decisions in DecisionError
        raise InputError(" and ".join(en for en, _ in problems), thai=" และ ".join(th for _, th in problems))
    shown = suggestion_at(catalog, suggested, level) if suggested else ""
    return NewDecision(text=item.text.strip(), catalog=catalog_id, level=level, node_id=node.id, source=item.source, who=who,
                       project_id=(item.project_id or "").strip()[:200], suggested=shown,
                       suggested_confidence=confidence if shown else None)  # a confidence of no suggestion at this level says nothing


def suggestion_at(catalog: Catalog, suggested: str, level: str) -> str:
    """The suggestion as it reads at a decision's level: a deeper node's ancestor there (D4.1 shown, D4 decided at
    the dimension level: accepted), the node at that level itself, and none ("") for a node above it: a dimension
    shown says nothing of which issue a person would take (D2 sent beside issue D2.2 counted as a rejection in the
    acceptance rate: a planner's walkthrough). The review grid called a lifted one accepted and the stats and
    /metrics corrected (a blind test); both read it from here now."""
    node = catalog.find(suggested)
    if node is None:
        return ""
    if node.level in catalog.levels and level in catalog.levels and catalog.levels.index(node.level) < catalog.levels.index(level):
        return ""
    lifted = catalog.ancestor_at(node.id, level)
    return lifted.id if lifted is not None else node.id


def _chosen_node(item: DecisionInput, catalog: Catalog, catalog_id: str) -> tuple[Node | None, str, tuple[str, str] | None]:
    """(node, level, None) for the node a decision names, or (None, "", why not in English and Thai)."""
    raw = (item.node or "").strip()
    if not raw:
        return None, "", ("no node given", "ไม่ได้ระบุหมวดในแผนที่เลือก")
    try:
        wanted = catalog.resolve_level(item.level) if item.level else None
    except InputError as exc:
        return None, "", (str(exc), exc.thai or str(exc))
    node = catalog.find(raw, wanted)
    if node is None and len(named := catalog.named(raw)) > 1:
        ids = ", ".join(n.id for n in named)
        return None, "", (f"{raw!r} names several nodes ({ids}); give the id", f"ชื่อ {raw} ตรงกับหลายหมวด ({ids}) กรุณาระบุรหัสหมวดแทน")
    if node is None and len(split_labels(raw)) > 1:
        return None, "", (f"a decision names exactly one catalog node, not {raw!r}", f"การตัดสินใจหนึ่งรายการระบุหมวดได้หมวดเดียว ไม่ใช่ {raw}")
    if node is None:
        examples = ", ".join(list(catalog.nodes)[:4])
        return None, "", (f"unknown node {raw!r} in catalog {catalog_id!r} (ids such as {examples})",
                          f"ไม่พบหมวด {raw} ในแคตตาล็อก {catalog_id} (รหัสเช่น {examples})")
    level = wanted or node.level
    if node.level != level:
        return None, "", (f"node {node.id} is at level {node.level!r}, not {level!r}",
                          f"หมวด {node.id} อยู่ระดับ {level_thai(node.level)} ไม่ใช่ระดับ {level_thai(level)}")
    return node, level, None


def from_table(table: Table, text_columns: list[str], label_column: str, level: str | None, source: str,
               project_column: str | None = None, catalog: Catalog | None = None) -> list[DecisionInput]:
    """One decision per row of a file, in the table's order (``Table.row_numbers`` names them).

    A reviewed classification output carries what was shown (``pred_label``, ``pred_confidence``), a
    decisions export what its decisions were shown (``suggested``, ``suggested_confidence``): kept as
    the suggestion when it names a node of ``catalog`` (an output of another catalog is no suggestion
    of this one), so the acceptance rate counts the evaluation team's files too (it read "accepted 0 of
    0" after one, a walkthrough; and after an export imported into another data directory, a blind review)."""
    table.require([*text_columns, label_column] + ([project_column] if project_column else []))
    shown = next((pair for pair in SHOWN_COLUMNS if pair[0] in table.columns), None) if catalog is not None else None

    def suggestion(row: dict) -> tuple[str, float | None]:
        if shown is None or catalog is None:
            return "", None
        node = catalog.find(str(row.get(shown[0], "")).strip())
        if node is None:
            return "", None
        try:
            confidence: float | None = float(row.get(shown[1], ""))
        except ValueError:
            confidence = None
        return node.id, confidence if confidence is not None and 0 <= confidence <= 1 else None

    items = []
    for row in table.rows:
        suggested, confidence = suggestion(row)
        items.append(DecisionInput(text=join_text_columns(row, text_columns), node=row.get(label_column, ""), level=level, source=source,
                                   project_id=row.get(project_column, "") if project_column else "", suggested=suggested,
                                   suggested_confidence=confidence))
    return items


EXPORTED_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")  # `created` as decisions export writes it (service/format.py)


def latest_per_text(decisions: Sequence[NewDecision], rows: Sequence[dict] | None = None) -> list[NewDecision]:
    """One decision per text, level and project of a batch, stored oldest first so the newest ends active: a text's
    rows in the batch's order, or by an export's ``created`` and ``id`` columns when every row on that text (``rows``:
    the decisions' file rows) has them as the export writes them. An export with ``--history`` lists a text's
    decisions newest first, so importing it set the oldest label again, and a batch deciding one text twice stored
    both again every time (a blind test); another file's dates ("9/12/2566") or ids say nothing of the order, and a
    correction added without them orders its own text only (the whole file fell back to row order: a blind review)."""
    def stamped(i: int) -> bool:
        row = rows[i] if rows else {}
        return bool(EXPORTED_TIME.fullmatch(str(row.get("created", "")).strip())) and str(row.get("id", "")).strip().isdigit()

    text_of = [(d.catalog, d.level, text_key(d.text)) for d in decisions]
    unstamped = {text_of[i] for i in range(len(decisions)) if not stamped(i)}

    def when(i: int) -> tuple[str, int, int]:
        if rows and text_of[i] not in unstamped:
            return str(rows[i]["created"]).strip(), int(str(rows[i]["id"]).strip()), i
        return "", 0, i  # texts are independent: one text's rows compare only with each other

    order = sorted(range(len(decisions)), key=when)
    last = {(*text_of[i], decisions[i].project_id): i for i in order}
    kept = set(last.values())
    return [decisions[i] for i in order if i in kept]


# the suggestion a file's rows were shown, and its confidence: a classification output's (index/classify.py), a decisions export's
# (service/format.py DECISION_EXPORT_COLUMNS)
SHOWN_COLUMNS = (("pred_label", "pred_confidence"), ("suggested", "suggested_confidence"))


NOTHING_DECLARED = re.compile(r"^\W*$|^(ไม่มี|ไม่ระบุ|ไม่เกี่ยวข้อง|none|n/?a|nil)$", re.IGNORECASE)  # a form's "none"


@dataclass
class Declared:
    """What projects' forms declare on a catalog (:func:`declared`)."""

    decisions: list[DecisionInput]
    missed: list[tuple[str, str]]  # (project id, what it declares) naming no node of the catalog ("D99", another plan)
    extra: list[tuple[str, str]]  # (project id, what): nodes beyond one per level left out ("D1.1|D7.2": D7.2), kept ones on two
    # paths, ids the catalog does not have beside the nodes kept ("D9.9": D9 kept)


def declared(projects: Iterable[Project], catalog: Catalog) -> Declared:
    """The alignment a project's form declares, as ``declared`` decisions on ``catalog``; the projects whose
    declaration names no node of ``catalog``, and the nodes a form names beyond one per level
    (:func:`~planalign.corpora.projects.undeclared_extras`) or the ids it names that the catalog does not have
    beside the nodes kept (:func:`~planalign.corpora.projects.unknown_ids`), which ingest reports instead of dropping
    them silently.

    The ids parsed at ingest (dimension_id, issue_id, goal_id, okr_id) when they are nodes of the
    catalog; otherwise the plan-alignment text's parts read as node ids or names, then node names
    found in it (the longest first). A form's "none" ("-", "ไม่มี") declares nothing.
    """
    found: list[DecisionInput] = []
    missed: list[tuple[str, str]] = []
    extra: list[tuple[str, str]] = []
    for project in projects:
        text = project.search_text()
        if not text.strip():
            continue
        nodes = declared_nodes(project, catalog)
        for node in nodes:
            found.append(DecisionInput(text=text, node=node.id, level=node.level, project_id=project.id, source="declared"))
        said = project.plan_alignment.strip() or " ".join(i for i in (project.dimension_id, project.issue_id, project.goal_id, project.okr_id) if i)
        if not nodes and said and not NOTHING_DECLARED.match(said):
            missed.append((project.id, said))
        left_out, apart = undeclared_extras(project, catalog) if nodes else ([], [])
        unknown = unknown_ids(project, catalog) if nodes else []
        if left_out or apart or unknown:
            extra.append((project.id, "; ".join(part for part in (
                f"left out: {', '.join(n.id for n in left_out)}" if left_out else "",
                f"on two paths: {', '.join(n.id for n in apart)}" if apart else "",
                f"not in the catalog: {', '.join(unknown)}" if unknown else "") if part)))
    return Declared(found, missed, extra)


@dataclass
class Examples:
    texts: list[str]
    labels: list[list[str]]
    keys: set[str]  # text keys learned from


def examples(active: Sequence[Decision], catalog: Catalog, exclude: set[str] | None = None) -> Examples:
    """One labelled example per decided text (``exclude``: text keys never to learn from). A text too
    short or without a word to say what a project is ("ก", "โครงการ x") is kept as a decision but not
    learned from: decided once, it became a 100% answer for every look-alike (a walkthrough); refusing
    it instead failed whole imports and ingests over one such row (a blind review)."""
    by_text: dict[str, list[Decision]] = {}
    for decision in active:
        if decision.node_id in catalog.nodes and not (exclude and decision.text_key in exclude) and _says_something(decision.text):
            by_text.setdefault(decision.text_key, []).append(decision)
    texts, labels = [], []
    for group in by_text.values():
        texts.append(max(group, key=lambda d: d.id).text)
        labels.append([decided_node(group, catalog)])
    return Examples(texts, labels, set(by_text))


def _says_something(text: str) -> bool:
    return unreadable(topical(normalize(text))) is None


def decided_node(group: Sequence[Decision], catalog: Catalog) -> str:
    """What decisions on one text or project (one per level, nodes of ``catalog``) decide: the newest,
    or a deeper one that agrees with it (D1.4 decided, later confirmed as D1: D1.4)."""
    newest = max(group, key=lambda d: d.id)
    for deeper in sorted(group, key=lambda d: -catalog.levels.index(d.level) if d.level in catalog.levels else 0):
        ancestor = catalog.ancestor_at(deeper.node_id, newest.level)
        if ancestor is not None and ancestor.id == newest.node_id:
            return deeper.node_id
    return newest.node_id


def keys_of(texts: Iterable[str]) -> set[str]:
    return {text_key(t) for t in texts if t and t.strip()}


def measured_keys(table: Table, text_columns: list[str], label_column: str, catalog: Catalog) -> set[str]:
    """The texts a labelled file measures (rows with a label), whose own decisions the model must not
    learn from; its unlabelled rows are not measured and still learn from theirs (a job that left out
    every text of the file undid the corrections a reviewer had made on its unlabelled rows). A corrected file's
    final_label nobody decided (:func:`suggestion_only`) measures nothing either."""
    machine = suggestion_only(table, label_column, catalog)
    return keys_of(join_text_columns(row, text_columns) for row, skip in zip(table.rows, machine) if str(row.get(label_column) or "").strip() and not skip)
