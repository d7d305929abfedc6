"""Decisions in the store: which catalog node a person chose for a text, with the history kept.

A decision names a text (and the project it came from, if any), a catalog, a level, the chosen node,
the suggestion shown at the time (top-1 and its confidence), its source and who made it. The
newest decision for the same text (normalized), catalog and level is the *active* label that the
aligner learns from; older ones stay as history. A decision taken by mistake is *withdrawn*
(:meth:`DecisionStore.withdraw`): a row of its own (node ``""``) names it, and it no longer counts, so the
text's label is the newest decision still standing (an older one, or none); both stay in the history. A decision equal to the active one is not stored
again, so importing the same file twice changes nothing; unless a decision on the same text at
another level, off its path, came after it: then the newer of the two counts, and the confirmation
must be stored to be the newer.

Writes are transactions of at most ``chunk`` decisions: a process killed during a long import keeps
every chunk it had committed (and the import can simply be run again).
"""
from __future__ import annotations

import datetime
import hashlib
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial

from sqlalchemy import and_, case, delete, func, insert, select, text
from sqlalchemy.engine import Connection, Engine

from planalign.index.schema import decisions as table
from planalign.index.store import write_transaction
from planalign.nlp.normalize import normalize

SOURCES = ("planner", "reviewer", "evaluator", "declared", "imported")
PEOPLE_SOURCES = ("planner", "reviewer", "evaluator", "imported")  # what a withdrawal may say it came from: a person's, not a form's
LOCAL = "local"
CHUNK = 500
WITHDRAWAL = ""  # the node of a withdrawal row (it names the decision it withdraws in ``withdraws``)
WITHDRAWAL_COLUMNS = ("withdraws", "withdrawn_by")  # an export's columns saying a row is a withdrawal or was withdrawn


def _withdrawn():
    """The ids of the decisions withdrawn (a subquery)."""
    return select(table.c.withdraws).where(table.c.withdraws.is_not(None))


def _matching(*, catalog: str | None, level: str | None, source: str | None, who: str | None, text: str | None,
              node_id: str | None, contains: str | None) -> list:
    """The conditions of a list's filters (:meth:`DecisionStore.page`), which its summary (:meth:`DecisionStore.stats`) shares."""
    pattern = "%" + contains.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%" if contains else None
    return [c for c in (table.c.catalog == catalog if catalog else None, table.c.level == level if level else None,
                        table.c.source == source if source else None, table.c.who == who if who else None,
                        table.c.text_key == text_key(text) if text else None, table.c.node_id == node_id if node_id else None,
                        table.c.text.like(pattern, escape="\\") if pattern else None) if c is not None]


def _standing():
    """Rows that are decisions still standing: not withdrawals, not withdrawn."""
    return and_(table.c.withdraws.is_(None), table.c.id.not_in(_withdrawn()))


def text_key(text: str) -> str:
    """The identity of a text for decisions: the same text up to normalization (digits, forms) and
    whitespace of any kind. Line breaks count as spaces: the form's fields (name, objective, target)
    are joined by newlines, a pasted draft carries the same words on one line, and both are one text
    to the person deciding (with newlines kept, a correction on the pasted text left the form's older
    decision active beside it). Migration 0005 re-keyed the decisions stored before."""
    return hashlib.sha1(" ".join(normalize(text).split()).encode("utf-8")).hexdigest()


ABOUT_PROJECT = 0.5  # share of the shorter text's character trigrams found in the other


def about_project(name: str, text: str) -> bool:
    """Whether a decided text is about the stored project of this name: at least half the character
    trigrams of the shorter of the two (normalized, spaces left out) occur in the other. A decision
    names its project by id, and ids get reused: a file's own numbering, a project id decided
    before it was ingested, a project replaced by another under the same id; a decision on other
    words must not move the project in coverage. A reviewer's rewording passes ("โครงการขุดลอกคลอง
    เพื่อการระบายน้ำ" on "โครงการขุดลอกคลองและลอกท่อระบายน้ำ..."); a shared "โครงการ" alone does not."""
    grams = [{t[i : i + 3] for i in range(len(t) - 2)} for t in ("".join(normalize(name).split()), "".join(normalize(text).split()))]
    shorter, longer = sorted(grams, key=len)
    return bool(shorter) and len(shorter & longer) >= ABOUT_PROJECT * len(shorter)


@dataclass
class NewDecision:
    """A validated decision to store (node ids resolved, level checked)."""

    text: str
    catalog: str
    level: str
    node_id: str
    source: str
    who: str = LOCAL
    project_id: str = ""
    suggested: str = ""
    suggested_confidence: float | None = None


@dataclass
class Decision(NewDecision):
    id: int = 0
    created: float = 0.0
    text_key: str = ""
    withdraws: int | None = None  # this row is a withdrawal of that decision (:meth:`DecisionStore.withdraw`)
    withdrawn_by: int | None = None  # read with the history (:meth:`DecisionStore.page`): the withdrawal of this decision

    @property
    def is_withdrawal(self) -> bool:
        return self.withdraws is not None

    @property
    def accepted(self) -> bool | None:
        """The suggestion shown was the node chosen (None when no suggestion was shown)."""
        outcome = shown_outcome(self.suggested, self.node_id)
        return None if outcome == "none" else outcome == "accepted"

    def as_dict(self) -> dict:
        return {**asdict(self), "accepted": self.accepted}


DECISIONS_LOCK = 0x706C616E  # PostgreSQL advisory lock key of decision writes ("plan")


def _one_writer(connection: Connection) -> None:
    """One writer of decisions at a time, as on SQLite: PostgreSQL's read committed let concurrent requests deciding
    one text each read no such label and each insert it (3 rows of 40 identical POSTs from 4 threads, a blind test)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": DECISIONS_LOCK})


def shown_outcome(suggested: str, node_id: str) -> str:
    """What a decision made of the suggestion shown: ``none`` shown, ``accepted``, or ``corrected``.
    The one rule of acceptance; :meth:`DecisionStore.counts` says it in SQL for the database to count.
    A withdrawal is stored with no suggestion: it judges none."""
    return "none" if not suggested else "accepted" if suggested == node_id else "corrected"


class IsWithdrawal(Exception):
    """A withdrawal cannot be withdrawn (a decision recorded again undoes it)."""


@dataclass
class Recorded:
    stored: list[Decision] = field(default_factory=list)
    unchanged: int = 0
    undecided: int = 0  # rows of an imported file without a label: no decision taken on them, skipped
    superseded: int = 0  # rows of an imported file on a text a later row of it decides again (planalign.decisions.latest_per_text)
    withdrawn: int = 0  # rows of an imported export that are withdrawn decisions or withdrawals: history, skipped
    # imported decisions a person withdrew from an earlier import: not brought back (counted as unchanged, they told a user
    # re-importing a file to restore its labels that every label was in place: a blind review)
    withdrawn_before: int = 0
    forms: int = 0  # rows of an imported export that are forms' declared alignments: ingesting the projects brings them, skipped

    @property
    def catalogs(self) -> set[str]:
        return {d.catalog for d in self.stored}


def _later_at_other_levels(history: Sequence[tuple[int, str, str]], level: str) -> list[tuple[str, str]]:
    """(level, node) of a text's labels at other levels made after its newest decision at ``level``: the newest
    standing decision of each other level (``history`` holds those alone: a withdrawn label contradicts nothing)."""
    newest = max((i for i, lv, _ in history if lv == level), default=0)
    labels = {lv: (i, node) for i, lv, node in sorted(history) if lv != level}
    return [(lv, node) for lv, (i, node) in labels.items() if i > newest]


def _decision(row) -> Decision:
    return Decision(text=row.text, catalog=row.catalog, level=row.level, node_id=row.node_id, source=row.source, who=row.who,
                    project_id=row.project_id, suggested=row.suggested, suggested_confidence=row.suggested_confidence,
                    id=row.id, created=row.created, text_key=row.text_key, withdraws=row.withdraws)


class DecisionStore:
    """Decisions over the store's engine (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(self, decisions: Sequence[NewDecision], chunk: int = CHUNK, committed: Callable[[int], None] | None = None,
               on_one_path: Callable[[str, str], bool] | None = None) -> Recorded:
        """Store the decisions that change an active label, or what was decided on their stored project;
        ``committed(n)`` after each transaction.

        A decision naming a project is judged by what was decided on that project for that text, and
        a person's decision apart from the form's declaration: projects of several districts share a
        name, and the second one's decision, its text's label already set by the first, was dropped as
        unchanged and never counted for it in coverage; judged by the text alone, two such projects
        decided differently flipped the text's label at every import of the same file; judged by the
        project alone, a decision on another text under a reused id was dropped.

        ``on_one_path(a, b)``: whether two nodes of the decisions' catalog agree (one under the other).
        With it, a decision equal to its text's active label is stored all the same when a decision on
        the text at another level, off its path, came after the label (D4 chosen, then issue D1.4, then
        D4 again: the re-confirmation was dropped as unchanged and D1.4 kept counting). Not for a
        ``declared`` decision: a form ingested again would undo a person's later correction; nor when
        the later decision is one these decisions state again (a file labelling one text D4 and D1.4
        stored both at every import: a blind review)."""
        result = Recorded()
        restated = {(d.catalog, d.level, text_key(d.text), d.node_id) for d in decisions} if on_one_path is not None else set()
        for start in range(0, len(decisions), chunk):
            part = decisions[start : start + chunk]
            done = write_transaction(self.engine, partial(self._record_part, part=part, on_one_path=on_one_path, restated=restated))
            result.unchanged += done.unchanged
            result.withdrawn_before += done.withdrawn_before
            result.stored.extend(done.stored)
            if committed is not None:
                committed(start + len(part))
        return result

    def _record_part(self, connection: Connection, part: Sequence[NewDecision], on_one_path: Callable[[str, str], bool] | None = None,
                     restated: Collection[tuple[str, str, str, str]] = frozenset()) -> Recorded:
        """One transaction of :meth:`record` (re-run whole when it loses a race, so it keeps its state here)."""
        _one_writer(connection)
        result = Recorded()
        keys = [(d.catalog, d.level, text_key(d.text)) for d in part]
        places = [(d.catalog, d.level, d.project_id, key[2]) for d, key in zip(part, keys)]
        now = time.time()
        active = self._newest_nodes(connection, keys)
        # a file imported again does not bring back a label a person withdrew from an import of it (a form read again
        # likewise: its declarations are judged by what it declared, withdrawn or not)
        pulled = self._withdrawn_imports(connection, keys) if any(d.source == "imported" for d in part) else set()
        declared, people, latest = self._newest_on_projects(connection, [p for p in places if p[2]])
        history = self._history(connection, keys) if on_one_path is not None else {}
        for decision, key, place in zip(part, keys, places):
            if decision.source == "imported" and (*key, place[2], decision.node_id) in pulled:
                result.withdrawn_before += 1
                continue
            if not place[2]:  # a person's decision on a text a form declared the same is kept: deleting the project took it with
                # the declaration, the text left without a label, and the same file imported again stored it (an operator's year)
                node, source = active.get(key, ("", ""))
                same = node == decision.node_id and (source != "declared" or decision.source == "declared")
            elif decision.source == "declared":  # a form read again declares what it declared
                same = declared.get(place) == decision.node_id
            else:  # a person's, unless a differing declaration came after it
                same = people.get(place) == decision.node_id == latest.get(place)
            if same and on_one_path is not None and decision.source != "declared" and any(  # a form read again must not undo a person
                    not on_one_path(decision.node_id, node) and (key[0], level, key[2], node) not in restated
                    for level, node in _later_at_other_levels(history.get((key[0], key[2]), []), key[1])):
                same = False
            if same:
                result.unchanged += 1
                continue
            values = {**asdict(decision), "text_key": key[2], "created": now}
            new_id = connection.execute(insert(table).values(**values)).inserted_primary_key[0]  # type: ignore[index]
            history.setdefault((key[0], key[2]), []).append((int(new_id), key[1], decision.node_id))
            result.stored.append(Decision(**asdict(decision), id=int(new_id), created=now, text_key=key[2]))
            active[key] = (decision.node_id, decision.source)
            latest[place] = decision.node_id
            (declared if decision.source == "declared" else people)[place] = decision.node_id
        return result

    @staticmethod
    def _withdrawn_imports(connection: Connection, keys: Sequence[tuple[str, str, str]]) -> set[tuple[str, str, str, str, str]]:
        """(catalog, level, text key, project id, node) of the imported decisions on these texts that were withdrawn."""
        found: set[tuple[str, str, str, str, str]] = set()
        for catalog in {c for c, _, _ in keys}:
            wanted = sorted({k for c, _, k in keys if c == catalog})
            for start in range(0, len(wanted), CHUNK):
                rows = connection.execute(select(table.c.level, table.c.text_key, table.c.project_id, table.c.node_id)
                                          .where(table.c.catalog == catalog, table.c.source == "imported", table.c.id.in_(_withdrawn()),
                                                 table.c.text_key.in_(wanted[start : start + CHUNK])))
                found.update((catalog, row.level, row.text_key, row.project_id, row.node_id) for row in rows)
        return found

    @staticmethod
    def _history(connection: Connection, keys: Sequence[tuple[str, str, str]]) -> dict[tuple[str, str], list[tuple[int, str, str]]]:
        """(id, level, node) of every standing decision on these texts, per (catalog, text key), read in one query a
        catalog and chunk of texts (one query per decision took 61.7 s to re-record 20,000: a blind review)."""
        found: dict[tuple[str, str], list[tuple[int, str, str]]] = {}
        for catalog in {c for c, _, _ in keys}:
            wanted = sorted({k for c, _, k in keys if c == catalog})
            for start in range(0, len(wanted), CHUNK):
                rows = connection.execute(select(table.c.id, table.c.level, table.c.node_id, table.c.text_key)
                                          .where(table.c.catalog == catalog, table.c.text_key.in_(wanted[start : start + CHUNK]), _standing()))
                for row in rows:
                    found.setdefault((catalog, row.text_key), []).append((int(row.id), row.level, row.node_id))
        return found

    @staticmethod
    def _newest_nodes(connection, keys: Sequence[tuple[str, str, str]]) -> dict[tuple[str, str, str], tuple[str, str]]:
        """The active node per (catalog, level, text key), and its decision's source."""
        found: dict[tuple[str, str, str], tuple[str, str]] = {}
        for catalog, level in {(c, lv) for c, lv, _ in keys}:
            wanted = sorted({k for c, lv, k in keys if (c, lv) == (catalog, level)})
            for start in range(0, len(wanted), CHUNK):
                newest = (select(func.max(table.c.id)).where(table.c.catalog == catalog, table.c.level == level,
                                                             table.c.text_key.in_(wanted[start : start + CHUNK]), _standing())
                          .group_by(table.c.text_key))
                rows = connection.execute(select(table.c.text_key, table.c.node_id, table.c.source).where(table.c.id.in_(newest)))
                found.update(((catalog, level, row.text_key), (row.node_id, row.source)) for row in rows)
        return found

    @staticmethod
    def _newest_on_projects(connection, places: Sequence[tuple[str, str, str, str]]) -> tuple[dict, dict, dict]:
        """Per (catalog, level, project id, text key): the newest node declared (withdrawn or not: a form read again
        must not undo a person's withdrawal), the newest standing person's node, and the newest standing node of either."""
        declared: dict[tuple[str, str, str, str], str] = {}
        people: dict[tuple[str, str, str, str], str] = {}
        latest: dict[tuple[str, str, str, str], tuple[int, str]] = {}
        for catalog, level in {(c, lv) for c, lv, _, _ in places}:
            wanted = [(p, k) for c, lv, p, k in places if (c, lv) == (catalog, level)]
            projects, keys = sorted({p for p, _ in wanted}), sorted({k for _, k in wanted})
            for start in range(0, len(projects), CHUNK):
                is_declared = table.c.source == "declared"
                for standing in (True, False):
                    newest = (select(func.max(table.c.id)).where(table.c.catalog == catalog, table.c.level == level,
                                                                 table.c.project_id.in_(projects[start : start + CHUNK]), table.c.text_key.in_(keys),
                                                                 _standing() if standing else and_(table.c.withdraws.is_(None), is_declared))
                              .group_by(table.c.project_id, table.c.text_key, is_declared))
                    rows = connection.execute(select(table.c.id, table.c.project_id, table.c.text_key, table.c.node_id, table.c.source)
                                              .where(table.c.id.in_(newest)))
                    for row in rows:
                        place = (catalog, level, row.project_id, row.text_key)
                        if not standing:  # declared, withdrawn or not
                            declared[place] = row.node_id
                            continue
                        if row.source != "declared":
                            people[place] = row.node_id
                        if place not in latest or latest[place][0] < row.id:
                            latest[place] = (row.id, row.node_id)
        return declared, people, {place: node for place, (_, node) in latest.items()}

    def active(self, catalog: str, text_keys: Iterable[str] | None = None, level: str | None = None) -> list[Decision]:
        """The active decision of every (text, level) of a catalog (optionally only some texts or one level): its
        newest decision still standing (withdrawn ones do not count)."""
        conditions = [table.c.catalog == catalog, _standing()] + ([table.c.level == level] if level else [])
        keys = sorted(set(text_keys)) if text_keys is not None else None
        result: list[Decision] = []
        with self.engine.connect() as connection:
            if keys is None:
                newest = select(func.max(table.c.id)).where(*conditions).group_by(table.c.level, table.c.text_key)
                return [_decision(row) for row in connection.execute(select(table).where(table.c.id.in_(newest)).order_by(table.c.id))]
            # some texts: their rows by the (catalog, text_key) index, the newest per level picked here; grouped in SQL, SQLite
            # walked the whole catalog by (catalog, level, text_key) for its order, 8.6 ms an align at 50,000 decisions (a blind review)
            for start in range(0, len(keys), CHUNK):
                rows = connection.execute(select(table).where(*conditions, table.c.text_key.in_(keys[start : start + CHUNK])))
                newest_rows: dict[tuple[str, str], Decision] = {}
                for row in rows:
                    if (found := newest_rows.get((row.level, row.text_key))) is None or found.id < row.id:
                        newest_rows[(row.level, row.text_key)] = _decision(row)
                result.extend(newest_rows.values())
        return sorted(result, key=lambda d: d.id)

    def for_projects(self, catalog: str, project_ids: Sequence[str], *, people_only: bool = False, level: str | None = None,
                     text_keys: Collection[str] | None = None) -> dict[str, list[Decision]]:
        """Per stored project, the newest decision made on it (by its project id) for each level and
        text, oldest first; ``people_only``: leave out what a project's form declared (source
        ``declared``); ``level``, ``text_keys``: only these; withdrawn decisions do not count. Per text, not only the newest per
        level: the newest may be about other words under a reused id (:func:`about_project`), and
        a decision older than it then still holds."""
        ids = sorted(set(project_ids) - {""})
        found: dict[str, list[Decision]] = {}
        with self.engine.connect() as connection:
            for start in range(0, len(ids), CHUNK):
                where = [table.c.catalog == catalog, table.c.project_id.in_(ids[start : start + CHUNK]), _standing()]
                where += [table.c.source != "declared"] if people_only else []
                where += [table.c.level == level] if level else []
                where += [table.c.text_key.in_(sorted(text_keys))] if text_keys is not None else []
                newest = select(func.max(table.c.id)).where(*where).group_by(table.c.project_id, table.c.level, table.c.text_key)
                for row in connection.execute(select(table).where(table.c.id.in_(newest)).order_by(table.c.id)):
                    found.setdefault(row.project_id, []).append(_decision(row))
        return found

    def fingerprint(self, catalog: str) -> tuple[int, int]:
        """(decisions, newest id) of a catalog: changes whenever one is stored or deleted, since an id is never
        given again (migration 0007; a reused one left it unchanged after a file's declarations were replaced)."""
        with self.engine.connect() as connection:
            count, newest = connection.execute(select(func.count(), func.max(table.c.id)).where(table.c.catalog == catalog)).one()
        return int(count or 0), int(newest or 0)

    def forget_declared(self, project_ids: Sequence[str], *, catalog: str | None = None,
                        kept: Mapping[str, Collection[str]] | None = None) -> set[str]:
        """Remove what projects' forms declared (deleted projects': every catalog's); returns the catalogs whose
        decisions changed. A person's decisions stay: they are about the text, and a form read again declares anew.

        ``kept``: per project, the levels its form declares now (forms ingested again, on ``catalog``): a level it no
        longer declares is forgotten, as a deleted project's is (a form updated with its plan alignment emptied kept
        teaching its old label, and a near-repeat of its text followed it: a blind review). A declaration a person
        withdrew stays, and its withdrawal: forgotten with it, the form read again brought the label back (a blind review)."""
        if not project_ids:
            return set()

        def work(connection: Connection) -> set[str]:
            _one_writer(connection)
            found: set[str] = set()
            for start in range(0, len(project_ids), CHUNK):
                which = and_(table.c.source == "declared", table.c.project_id.in_(list(project_ids[start : start + CHUNK])),
                             *([table.c.catalog == catalog] if catalog is not None else []))
                rows = connection.execute(select(table.c.id, table.c.catalog, table.c.project_id, table.c.level).where(which)).all()
                withdrawn = set() if kept is None else {i for (i,) in connection.execute(
                    select(table.c.withdraws).where(table.c.withdraws.in_([row[0] for row in rows]))).all()}
                gone = [(i, c) for i, c, project, level in rows
                        if kept is None or (level not in kept.get(project, ()) and i not in withdrawn)]
                found |= {c for _, c in gone}
                ids = [decision_id for decision_id, _ in gone]
                for at in range(0, len(ids), CHUNK):  # their withdrawals too: they named a decision no longer there (a blind review)
                    connection.execute(delete(table).where(table.c.withdraws.in_(ids[at : at + CHUNK])))
                    connection.execute(delete(table).where(table.c.id.in_(ids[at : at + CHUNK])))
            return found

        return write_transaction(self.engine, work)

    def withdraw(self, decision_id: int, who: str, source: str | None = None) -> tuple[Decision, bool] | None:
        """Withdraw a decision taken by mistake: a withdrawal row (node ``""``) names it, made by ``who``, and it no
        longer counts anywhere (its text's label, its project's coverage, what is learned); both stay in the
        history. Any decision can be withdrawn, not only the text's label: a project's own (two districts' projects
        of one name, decided apart: only the text's newest could be withdrawn, and the grid kept showing the other,
        a blind review), or an older one that must not come back when a newer one is withdrawn. ``source``: where the
        withdrawal came from (default: the decision's own, a form's declaration withdrawn by a ``reviewer``).
        Returns the withdrawal and whether it is new (a decision withdrawn before answers its withdrawal: a retry
        changes nothing); None: no such decision; :class:`IsWithdrawal` for a withdrawal."""
        def work(connection: Connection) -> tuple[Decision, bool] | None:
            _one_writer(connection)
            row = connection.execute(select(table).where(table.c.id == decision_id)).one_or_none()
            if row is None:
                return None
            found = _decision(row)
            if found.is_withdrawal:
                raise IsWithdrawal(decision_id)
            before = connection.execute(select(table).where(table.c.withdraws == decision_id).order_by(table.c.id)).first()
            if before is not None:
                return _decision(before), False
            made = NewDecision(text=found.text, catalog=found.catalog, level=found.level, node_id=WITHDRAWAL,
                               source=source or (found.source if found.source in PEOPLE_SOURCES else "reviewer"), who=who,
                               project_id=found.project_id)
            now = time.time()
            values = {**asdict(made), "text_key": found.text_key, "created": now, "withdraws": decision_id}
            new_id = connection.execute(insert(table).values(**values)).inserted_primary_key[0]  # type: ignore[index]
            return Decision(**asdict(made), id=int(new_id), created=now, text_key=found.text_key, withdraws=decision_id), True

        return write_transaction(self.engine, work)

    def levels(self, catalog: str) -> set[str]:
        """The levels a catalog's decisions are at (a removed catalog's filter is checked against them)."""
        with self.engine.connect() as connection:
            return {row[0] for row in connection.execute(select(table.c.level).where(table.c.catalog == catalog).distinct())}

    def catalogs(self) -> list[str]:
        with self.engine.connect() as connection:
            return [row[0] for row in connection.execute(select(table.c.catalog).distinct().order_by(table.c.catalog))]

    def page(self, *, catalog: str | None = None, level: str | None = None, source: str | None = None, who: str | None = None,
             text: str | None = None, node_id: str | None = None, contains: str | None = None, active_only: bool = False,
             offset: int = 0, limit: int | None = 50) -> tuple[int, list[Decision]]:
        """Decisions newest first with filters, and how many match: the history, withdrawals and withdrawn decisions
        among them (each withdrawn one says by which withdrawal); ``active_only``: the labels standing. ``text``: that
        very text; ``contains``: texts holding these characters (a project's name in part); ``node_id``: decided on that node."""
        conditions = _matching(catalog=catalog, level=level, source=source, who=who, text=text, node_id=node_id, contains=contains)
        if active_only:
            newest = select(func.max(table.c.id)).where(_standing()).group_by(table.c.catalog, table.c.level, table.c.text_key)
            conditions.append(table.c.id.in_(newest))
        where = and_(*conditions) if conditions else None
        with self.engine.connect() as connection:
            count = select(func.count()).select_from(table)
            total = int(connection.scalar(count.where(where) if where is not None else count) or 0)
            query = select(table).order_by(table.c.id.desc()).offset(offset)
            query = query.where(where) if where is not None else query
            found = [_decision(row) for row in connection.execute(query.limit(limit) if limit is not None else query)]
            ids = [d.id for d in found]
            by: dict[int, int] = {}
            for start in range(0, len(ids), CHUNK):
                by.update((int(w), int(i)) for w, i in connection.execute(
                    select(table.c.withdraws, table.c.id).where(table.c.withdraws.in_(ids[start : start + CHUNK]))))
            for d in found:
                d.withdrawn_by = by.get(d.id)
            return total, found

    def counts(self, since: float | None = None) -> list[tuple[str, str, str, int]]:
        """(catalog, source, accepted | corrected | none, decisions), counted in the database (for /metrics): every
        decision made, withdrawn later or not (a counter never goes down: only a deleted project's declared
        decisions are deleted, and /metrics counts those apart); withdrawal rows are not decisions."""
        shown = case((table.c.suggested == "", "none"), (table.c.suggested == table.c.node_id, "accepted"), else_="corrected")  # shown_outcome
        query = (select(table.c.catalog, table.c.source, shown, func.count()).where(table.c.withdraws.is_(None))
                 .group_by(table.c.catalog, table.c.source, shown))
        with self.engine.connect() as connection:
            rows = connection.execute(query.where(table.c.created >= since) if since is not None else query)
            return [(row[0], row[1], row[2], int(row[3])) for row in rows]

    def stats(self, catalog: str | None = None, period: str = "week", *, level: str | None = None, source: str | None = None,
              who: str | None = None, text: str | None = None, node_id: str | None = None, contains: str | None = None) -> dict:
        """Counts per source and level, active labels, and the acceptance rate (suggestion = decision) over time, of the
        decisions standing or replaced since; withdrawn ones (taken by mistake) are counted apart (``withdrawn``), not
        as judgements of the suggestions (a slipped key counted as an acceptance). The filters are :meth:`page`'s: only
        the decisions matching them; an active label is one of theirs that is its text's newest standing decision
        (whoever made the others)."""
        where = [table.c.catalog == catalog] if catalog else []
        theirs = _matching(catalog=catalog, level=level, source=source, who=who, text=text, node_id=node_id, contains=contains)
        with self.engine.connect() as connection:
            rows = connection.execute(select(table.c.id, table.c.source, table.c.level, table.c.suggested, table.c.node_id, table.c.created)
                                      .where(*theirs, table.c.withdraws.is_(None)).order_by(table.c.id)).all()
            standing = set(connection.scalars(select(table.c.id).where(*theirs, _standing())))
            newest = set(connection.scalars(select(func.max(table.c.id)).where(*where, _standing())
                                            .group_by(table.c.catalog, table.c.level, table.c.text_key)))
        newest &= standing
        by_source: dict[str, int] = {}
        by_level: dict[str, int] = {}
        periods: dict[str, dict[str, int]] = {}
        shown_active = accepted_active = withdrawn = 0
        for decision_id, source, level, suggested, node_id, created in rows:
            if decision_id not in standing:  # withdrawn
                withdrawn += 1
                continue
            by_source[source] = by_source.get(source, 0) + 1
            by_level[level] = by_level.get(level, 0) + 1
            bucket = periods.setdefault(_period(created, period), {"decisions": 0, "with_suggestion": 0, "accepted": 0})
            bucket["decisions"] += 1
            outcome = shown_outcome(suggested, node_id)
            bucket["with_suggestion"] += outcome != "none"
            bucket["accepted"] += outcome == "accepted"
            if decision_id in newest:  # what the labels standing now say of their suggestions (an accept then corrected counted once each)
                shown_active += outcome != "none"
                accepted_active += outcome == "accepted"
        shown = sum(b["with_suggestion"] for b in periods.values())
        accepted = sum(b["accepted"] for b in periods.values())
        return {
            "decisions": len(rows) - withdrawn, "active": len(newest), "withdrawn": withdrawn, "by_source": by_source, "by_level": by_level,
            "with_suggestion": shown, "accepted": accepted, "acceptance_rate": round(accepted / shown, 4) if shown else None,
            "active_with_suggestion": shown_active, "active_accepted": accepted_active,
            "active_acceptance_rate": round(accepted_active / shown_active, 4) if shown_active else None,
            "over_time": [{"period": p, **b, "acceptance_rate": round(b["accepted"] / b["with_suggestion"], 4) if b["with_suggestion"] else None}
                          for p, b in sorted(periods.items())],
        }


def _period(created: float, period: str) -> str:
    moment = time.gmtime(created)
    if period == "day":
        return time.strftime("%Y-%m-%d", moment)
    if period == "month":
        return time.strftime("%Y-%m", moment)
    year, week, _ = datetime.date(moment.tm_year, moment.tm_mon, moment.tm_mday).isocalendar()
    return f"{year}-W{week:02d}"
