"""The application core: one facade over the data directory that every entry point uses.

Like txtai's ``Application``, :class:`Application` is built from :class:`~planalign.config.Settings`
and owns what a process shares: the store, the encoders (one per name and cache directory), the
aligners per catalog, the current index version, duplicate results per index version, and the
classification jobs. The CLI, the HTTP routers, the job worker, ``make eval`` and ``make bench`` are
thin adapters over it: parse, call, format. It lives above ``index/`` and below ``service/`` and
``eval/``, so evaluation never imports the service layer.

Concurrency: each aligner is built under its own lock (embedding a new catalog does not block
searches or other catalogs); the index version is swapped by reference (a request keeps the
version it started with); writers are serialized per process here and per data directory on disk.

Writes and the index: a one-shot process (the CLI) indexes what it wrote before it exits. The
service starts one background :class:`~planalign.indexer.Indexer` (:meth:`start_indexer`): a write
commits to the store and only queues its ids (waiting at most ``write_index_wait_s`` for them, so a
client usually reads its own write), and request threads never read index files.
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Sequence, Set
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np

from planalign.config import ACROSS_DISTRICTS, AUTO_INDEX_ENCODER, Settings, choose_index_encoder
from planalign.corpora.catalog import BUILTIN_CATALOGS, Catalog, CatalogError, Problem, catalog_to_table, load_catalog
from planalign.corpora.labelled import SUGGESTION_ONLY, join_text_columns, parse_columns, read_labelled, refuse_model_answers, suggestion_only
from planalign.corpora.projects import (
    DISTRICT_OFFICE_PREFIX,
    SAMPLE_SOURCE,
    Project,
    district_groups,
    district_name,
    guess_columns,
    is_office_name,
    is_report,
    names_an_office,
    office_names,
    parse_year,
    with_declared_ids,
)
from planalign.corpora.tables import MAX_XLSX_INFLATED, Limits, Table, TableError, unguarded, write_table
from planalign.decisions import DecisionInput, Declared, check, check_source, check_withdrawal_source, decided_node, declared, from_table, latest_per_text
from planalign.errors import Conflict, InputError, NotFound, TooLarge, Unavailable
from planalign.index.align import SCORING_VERSION, Aligner, Alignment
from planalign.index.align.query import prepare_text
from planalign.index.align.scoring import CALIBRATIONS, Calibration
from planalign.index.align.supervised import labels_at, learning_level
from planalign.index.classify import Classified, classify_table, too_long
from planalign.index.coverage import (
    COVERAGE_VERSION,
    NO_DISTRICT,
    AlignmentPlan,
    Coverage,
    Example,
    Frame,
    Item,
    Needs,
    align_stored,
    load_category_map,
    year_not_stored,
)
from planalign.index.decisions import LOCAL, WITHDRAWAL_COLUMNS, Decision, DecisionStore, IsWithdrawal, NewDecision, Recorded, about_project, text_key
from planalign.index.dedup import (
    DedupConfig,
    DedupRecord,
    DedupResult,
    Match,
    center,
    check_draft,
    configured,
    find_duplicates,
    index_semantics,
    make_records,
    semantic_vectors,
)
from planalign.index.evaluation import Report, evaluate_alignments, labels_level, scorable
from planalign.index.hybrid import KINDS, Filters, Hit, query_words, rank, search_mode, to_hits
from planalign.index.hybrid import collapse as collapse_same
from planalign.index.project_index import (
    IndexDamaged,
    IndexStateError,
    ProjectIndex,
    SyncResult,
    embed_projects,
    index_root,
    indexed_encoder,
    load_latest,
    read_pointer,
    sync_index,
)
from planalign.index.spelling import did_you_mean
from planalign.index.store import ProjectStore, UpsertResult, default_url
from planalign.nlp.encoders import Encoder, get_encoder
from planalign.nlp.encoders.base import EMBED_CHARS
from planalign.nlp.encoders.factory import CASCADE, CASCADE_BELOW
from planalign.nlp.normalize import normalize
from planalign.nlp.tokenize import TOKENS_VERSION, content_tokens, index_words
from planalign.shipped_vectors import seed_cache

if TYPE_CHECKING:
    from planalign.indexer import Indexer

Progress = Callable[[int], None]
log = logging.getLogger("planalign.app")
ALIGN_CHUNK = 2_000  # stored items aligned and written per transaction (a long refresh keeps its progress)
INLINE_ALIGN_LIMIT = 2_000  # a reader aligns at most this many stale items itself; more go to a background thread
UPLOADED_CATALOG_ID = r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}"  # whole: `$` let "bma-9d\n" through (a security probe)
FACET_FIELDS = (("year", "fiscal_year"), ("district_group", "district_group"), ("dimension", "dimension_id"))
SERVICE_WAIT_S = 1.0  # a service request finding the index or a model still loading waits this long, then gets 503
WARM_UP_DRAFT = "โครงการขุดลอกคลองและท่อระบายน้ำเพื่อแก้ปัญหาน้ำท่วมขังในชุมชน"
FACET_DEPTH = 200  # facets count the best 200 matches, as a reviewer scanning results would
COLLAPSE_DEPTH = 1000  # ranked results read to collapse identical texts (the candidate pool holds fewer)
ONE_YEAR = 0  # the fiscal year of a file's rows when it has no year column: one year's lists (duplicates_in_table)
NAME_CHARS_SPELLED = 120  # "did you mean" reads this much of each project name


class InFlight:
    """How many requests the service is answering (health checks aside): the indexer yields to them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.active = 0

    def __enter__(self) -> InFlight:
        with self._lock:
            self.active += 1
        return self

    def __exit__(self, *_: object) -> None:
        with self._lock:
            self.active -= 1


@dataclass
class AlignOutcome:
    """A draft's alignment, what answered it, and possible duplicates already in the store."""

    alignment: Alignment
    catalog: str
    encoder: str
    duplicates: list[Match] = field(default_factory=list)  # similar stored projects: duplicates first, then related ones
    model_version: int = 0  # 0: zero-shot; n: the n-th model learned from the catalog's decisions
    examples: int = 0  # decisions (texts) that model learned from
    decided: list[Decision] = field(default_factory=list)  # the labels counting on this very text (the draft decided before)


@dataclass
class IngestOutcome:
    stored: UpsertResult
    index: SyncResult
    declared: Recorded = field(default_factory=Recorded)
    undeclared: list[tuple[str, str]] = field(default_factory=list)  # (project id, declared text) naming no catalog node
    declared_extra: list[tuple[str, str]] = field(default_factory=list)  # (project id, node ids) beyond one per level, not kept


@dataclass
class SearchPage:
    hits: list[Hit]
    total: int
    facets: dict[str, dict[str, int]]
    hint: str | None = None  # why there is nothing to find: the store is empty, or the query has no word we know
    total_rows: int | None = None  # the stored rows behind ``total`` when identical texts are one hit (copies counted)
    did_you_mean: str | None = None  # the query spelt as the stored names spell it, when a part of it is in none


def _year_not_stored(year: int | None, index: ProjectIndex) -> str:
    """Why a year's search found nothing when the store holds nothing of that year: it read as "no match"
    (a reviewer's walkthrough: ?year=2565 on a store of 2566 only)."""
    if year is None:
        return ""
    live = index.mask()
    return year_not_stored(year, index.meta["fiscal_year"] if live is None else [y for y, alive in zip(index.meta["fiscal_year"], live) if alive])


EMPTY_STORE_HINT = "ยังไม่มีโครงการในระบบ: นำเข้าโครงการก่อน (planalign ingest FILE, POST /v1/projects หรือ planalign ingest --sample)"
# A one-shot process (the CLI) searches the index it finds; the service re-cuts it at start, and the next write does too.
OLD_WORDS_HINT = ("ดัชนีคำค้นนี้ตัดคำด้วยรุ่นก่อนหน้า ผลที่ตรงตามคำอาจไม่ครบจนกว่าจะสร้างดัชนีใหม่ "
                  "(บริการจะสร้างใหม่เองเมื่อเริ่มทำงาน หรือสั่ง planalign reindex)")
UNRECOGNIZED_HINT = "ไม่รู้จักคำในคำค้นนี้ (ไม่มีในพจนานุกรมและในโครงการที่จัดเก็บ) จึงไม่มีผลที่เกี่ยวข้อง: รายการที่แสดงเป็นเพียงรายการใกล้เคียงที่สุด กรุณาตรวจการสะกดหรือแป้นพิมพ์ภาษา"
NO_TOPIC_HINT = "คำค้นนี้มีแต่คำเชื่อมหรือเครื่องหมาย ไม่มีคำที่บอกเรื่อง จึงไม่มีผลที่เกี่ยวข้อง: รายการที่แสดงเป็นเพียงรายการใกล้เคียงที่สุด กรุณาพิมพ์เรื่องที่ต้องการค้น"


def _lock_note(handle, *, block: bool) -> bool:
    """Lock a service's note (:meth:`Application.serving`); without ``block``, whether the lock was free (then it is
    held by this handle until it is closed). Where file locks do not exist, every note counts as held."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no way to tell a live note from a stale one, so each is kept
        return False
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | (0 if block else fcntl.LOCK_NB))
        return True
    except BlockingIOError:
        return False


MAX_DECISION_ID = 2**31 - 1  # decision ids are 32-bit integers on PostgreSQL
CATALOG_FILE_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xls", ".json", ".jsonl")  # a --catalog with one names a file, not an id


@dataclass
class Withdrawal:
    """A withdrawn decision (:meth:`Application.withdraw_decision`): the withdrawal, the text's labels standing now,
    and whether the withdrawal is new (false: the decision was withdrawn before, by this withdrawal)."""

    withdrawal: Decision
    still_active: list[Decision]
    created: bool = True


@dataclass
class CatalogChanges:
    """What an upload changes in the stored catalog of its id (:meth:`Application.catalog_upload_effects`)."""

    replaced: bool = False  # a catalog of this id was stored before
    added: list[str] = field(default_factory=list)  # node ids
    removed: list[str] = field(default_factory=list)
    renamed: list[str] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)  # under another parent
    stale_decisions: int = 0  # active decisions naming a node this version lacks: they no longer count
    newly_stale_decisions: int = 0  # of them, those on a node the replaced version had (this upload removes it)
    renamed_decisions: int = 0  # active decisions on a renamed node: they still count, under the new name


@dataclass
class DuplicateSet:
    """Duplicate pairs over some records, with what a caller shows of each record."""

    ids: list[str]
    records: list[DedupRecord]
    result: DedupResult
    orgs: list[str] | None = None
    years: list[int | None] | None = None
    by_row: bool = False  # ids are the rows' spreadsheet numbers (a file without an id column)

    def cluster_name(self, cluster: str) -> str:
        """What a cluster is about: its members' commonest project name (or text), the first member's among
        equals. Without it a cluster of one project proposed by 51 districts reads as a list of districts; the
        first member alone named 50 districts' disease-control lines and one animal-disease line after the
        animal one (a reviewer walkthrough)."""
        said = [self.records[m].name or self.records[m].text for m in self.result.clusters[cluster]]
        return Counter(said).most_common(1)[0][0]  # most_common keeps first-seen order among equal counts


def _row_year(row: str, value: str) -> int | None:
    """A file row's fiscal year for its office's list (blank: none); a cell that is no year names its row."""
    try:
        return parse_year(value)
    except InputError as exc:
        raise InputError(f"row {row}: {exc}", thai=f"แถว {row}: {exc.thai or exc}") from exc


def _require_unique_ids(rows: list[tuple[str, str]], column: str) -> None:
    """Refuse a file whose id column repeats an id ((spreadsheet row, id) pairs): its pairs and
    clusters would name two rows alike ("0012 ↔ 0012"), as ingest refuses it too."""
    seen: dict[str, str] = {}
    for row, found in rows:
        if not found:
            raise InputError(f"row {row}: no id in column {column!r}; give every row an id, or leave the id column out to name rows by their row number",
                             thai=f"แถวที่ {row}: ไม่มีรหัสในคอลัมน์ {column} กรุณาใส่รหัสทุกแถว หรือไม่ต้องระบุคอลัมน์รหัส แล้วระบบจะใช้เลขแถวแทน")
        if found in seen:
            raise InputError(f"row {row}: duplicate id {found!r} in column {column!r} (first on row {seen[found]}); "
                             "ids must be unique, or leave the id column out to name rows by their row number",
                             thai=f"แถวที่ {row}: รหัส {found!r} ในคอลัมน์ {column} ซ้ำกับแถวที่ {seen[found]} "
                                  "รหัสต้องไม่ซ้ำกัน หรือไม่ต้องระบุคอลัมน์รหัส แล้วระบบจะใช้เลขแถวแทน")
        seen[found] = row


def checked_place(district: str | None, group: str | None, more_districts: Set[str] = frozenset(),
                  more_groups: Set[str] = frozenset()) -> tuple[str | None, str | None]:
    """A district and a district group as a person types them, checked: "สำนักงานเขตบางเขน" /
    "เขตบางเขน" is the district บางเขน; one that is neither one of the 50 nor in ``more_*`` is refused
    with the ones that exist (an unknown name matched nothing, silently, and read as "no projects")."""
    typed = normalize(district or "")
    district = district_name(typed) or None
    group = normalize(group or "") or None
    groups = district_groups()
    if (typed and district is None) or (district and district not in groups and district not in more_districts):  # "เขต" alone: no district named
        raise InputError(f"no district {typed!r}; districts are the 50 of Bangkok, e.g. {', '.join(list(groups)[:4])}",
                         thai=f"ไม่มีเขต {typed} กรุณาพิมพ์ชื่อเขตใน 50 เขตของกรุงเทพมหานคร เช่น {', '.join(list(groups)[:4])}")
    if group and group not in set(groups.values()) and group not in more_groups:
        known = ", ".join(dict.fromkeys(groups.values()))
        raise InputError(f"no district group {group!r}; groups are: {known}", thai=f"ไม่มีกลุ่มเขต {group} (มี: {known})")
    # both given and apart: all zeros, no word (a committee walkthrough); a store's own group names are its own business
    if district in groups and group in set(groups.values()) and groups[district] != group:
        raise InputError(f"district {district} is in the group {groups[district]}, not {group}: give one of them, or both as they are",
                         thai=f"เขต{district}อยู่ในกลุ่ม{groups[district]} ไม่ใช่{group} กรุณาเลือกเขตหรือกลุ่มเขตอย่างใดอย่างหนึ่ง หรือให้ตรงกัน")
    return district, group


class Application:
    """Everything a planalign process does, behind one object built from settings."""

    def __init__(self, settings: Settings | None = None, *, shipped_vectors: bool = True) -> None:
        """``shipped_vectors``: start a new data directory's embedding cache from the vectors shipped
        with the package (:mod:`planalign.shipped_vectors`); off only to build those vectors."""
        self.settings = settings or Settings.load()
        self.shipped_vectors = shipped_vectors
        self.data_dir = self.settings.resolved_data_dir()
        self.cache_dir = self.data_dir / "cache"
        self.catalog_dir = self.data_dir / "catalogs"
        self._store: ProjectStore | None = None
        self._lock = threading.RLock()  # guards the attributes below, held only briefly (re-entered: jobs need the store)
        self._aligners: dict[tuple, Aligner] = {}
        self._building: dict[tuple, threading.Lock] = {}
        self._uploads: dict[str, int] = {}  # catalog id -> uploads so far: an aligner built from a replaced version is not kept
        self._index: ProjectIndex | None = None
        self._index_pointer: tuple[str, int] | None = None  # what CURRENT said when a one-shot process loaded
        self._dimensions: tuple[str, Frame | None, np.ndarray] | None = None  # (index version, coverage frame, each row's counted dimension)
        self._per_version: dict[str, tuple[str, Any]] = {}  # what is read once per index version (:meth:`_for_version`)
        self._coverage_building = threading.Lock()  # held while search has the coverage frame rebuilt
        self.index_problems: list[str] = []  # damage skipped by the last load (one-shot processes)
        self._index_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._duplicates: dict[tuple, DuplicateSet] = {}
        self._computing: dict[tuple, threading.Event] = {}
        self._jobs = None
        self._indexer: Indexer | None = None
        self._wait_limit: float | None = None  # the service bounds waits for a model or index being loaded
        self._model_lock = threading.Lock()
        self._loaded_encoders: set[str] = set()
        self.warmed = threading.Event()  # the service's warm-up ended (models loaded, default catalog embedded)
        self._warming = threading.local()
        self._frames: dict[str, tuple[tuple, Frame, int]] = {}  # catalog key -> (stamp, frame, pending)
        self._refreshing: dict[str, threading.Lock] = {}
        self._frame_locks: dict[str, threading.Lock] = {}
        self._learning = None
        self._serving: tuple[Path, BinaryIO] | None = None  # a running service's note and its lock (serving)
        self.requests = InFlight()  # entered by the service around each request
        # Synchronous batches computed at once: 20 batches of 100 drafts held every request thread and a planner's
        # single draft waited 81 s (an operator's walkthrough); the rest are told to retry (503) or to use a job.
        self.batch_slots = threading.BoundedSemaphore(max(1, self.settings.request_threads // 3))

    # ----------------------------------------------------------------------------- resources
    @property
    def store(self) -> ProjectStore:
        with self._lock:
            if self._store is None:
                self._store = ProjectStore(self.settings.db_url or default_url(self.data_dir))
            return self._store

    @property
    def jobs(self):  # -> planalign.jobs.JobManager (imported lazily: threads and files only the service needs)
        with self._lock:
            if self._jobs is None:
                from planalign.jobs import JobManager

                self._jobs = JobManager(self)
            return self._jobs

    @property
    def indexer(self) -> Indexer | None:
        """The service's background index writer (None in one-shot processes)."""
        return self._indexer

    def start_indexer(self) -> None:
        """From now on writes only queue index work for one background thread (the service)."""
        from planalign.indexer import Indexer

        with self._lock:
            if self._indexer is None:
                self._wait_limit = SERVICE_WAIT_S
                self._indexer = Indexer(self, self.settings.reconcile_interval_s)
                self._indexer.start()

    @property
    def learning(self):  # -> planalign.learning.Learning (imported lazily, like the jobs)
        with self._lock:
            if self._learning is None:
                from planalign.learning import Learning

                self._learning = Learning(self)
            return self._learning

    @property
    def decisions(self) -> DecisionStore:
        return DecisionStore(self.store.engine)

    def close(self) -> None:
        if self._indexer is not None:
            self._indexer.stop()
        if self._jobs is not None:
            self._jobs.close()
        if self._store is not None:
            self._store.close()

    def encoder(self, name: str | None = None) -> Encoder:
        """The shared encoder ``name`` (default: the drafts' encoder), cached under the data directory.

        Models load one at a time (two threads asking for one that is loading would load it twice);
        in the service a request waits a bounded time for a model another thread is loading (503).
        """
        name = name or self.settings.encoder
        if name in self._loaded_encoders:
            return get_encoder(name, self.cache_dir)
        self._refuse_while_warming(f"the {name} model")
        if not self._model_lock.acquire(timeout=self._wait_limit if self._wait_limit is not None else -1):
            raise Unavailable(f"the {name} model is still loading; retry in a few seconds")
        try:
            if self.shipped_vectors and name != "tfidf":  # tfidf keeps no cache
                seed_cache(self.cache_dir)
            encoder = get_encoder(name, self.cache_dir)
            self._loaded_encoders.add(name)
            return encoder
        finally:
            self._model_lock.release()

    # ------------------------------------------------------------------------------ catalogs
    def catalog_ids(self) -> list[str]:
        uploaded = sorted(p.stem for p in self.catalog_dir.glob("*.csv")) if self.catalog_dir.is_dir() else []
        return list(BUILTIN_CATALOGS) + [c for c in uploaded if c not in BUILTIN_CATALOGS]

    def catalog(self, ref: str | None = None, *, allow_path: bool = False) -> Catalog:
        """A catalog by id (built-in or uploaded); ``allow_path``: also a file (the CLI's owner only).

        The configured default (``PLANALIGN_CATALOG``) may be a file: the machine's owner set it. Named by its id
        too, as decisions name it (one place: six callers each wrote the rule, and one that did not answered a
        withdrawal with no model when the default was a file; a blind review).
        """
        if ref is None or ref == self.settings.catalog:
            ref, allow_path = self.settings.catalog, True
        if ref in BUILTIN_CATALOGS:
            return load_catalog(ref)
        path = self.catalog_dir / f"{ref}.csv"
        if re.fullmatch(UPLOADED_CATALOG_ID, ref) and path.is_file():
            catalog = load_catalog(path, stored=True)
            catalog.name = ref
            return catalog
        if allow_path and (Path(ref).expanduser().exists() or "/" in ref or "\\" in ref or Path(ref).suffix.lower() in CATALOG_FILE_SUFFIXES):
            return load_catalog(ref)  # a file, or meant as one: its own message ("no such catalog file")
        # a mistyped id on the command line listed the built-in catalogs only, not the uploaded one meant (a planner's walkthrough)
        either = " or catalog file" if allow_path else ""
        raise NotFound(f"no catalog {ref!r}{either}; available: {', '.join(self.catalog_ids())}",
                       thai=f"ไม่มีแผน (แคตตาล็อก) {ref}{' หรือไฟล์แคตตาล็อกชื่อนี้' if allow_path else ''} ที่มีอยู่: {', '.join(self.catalog_ids())}")

    def add_catalog(self, catalog_id: str, catalog: Catalog) -> Catalog:
        """Store a validated uploaded catalog (atomic write: a failed upload changes nothing); a catalog replacing
        another under its id keeps the title it had when it brings none.

        An id that differs from a stored one only in case is refused (the two files are one on a
        case-insensitive filesystem); :meth:`catalog_upload_effects` says what storing it replaces."""
        if (not re.fullmatch(UPLOADED_CATALOG_ID, catalog_id) or catalog_id.lower() in {b.lower() for b in BUILTIN_CATALOGS}
                or catalog_id.upper() in _RESERVED_NAMES):
            raise CatalogError(catalog_id, [Problem(None, "catalog id must be 1-64 of A-Z a-z 0-9 _ . - (not starting with a dot) and not a built-in name",
                                                    "รหัสแคตตาล็อกต้องเป็นตัวอักษรอังกฤษ ตัวเลข _ . - ยาว 1-64 ตัว ไม่ขึ้นต้นด้วยจุด และไม่ซ้ำชื่อแคตตาล็อกในตัว")])
        twin = next((c for c in self.catalog_ids() if c.lower() == catalog_id.lower() and c != catalog_id), None)
        if twin is not None:
            raise CatalogError(catalog_id, [Problem(None, f"a catalog {twin!r} exists: ids that differ only in case would be one file on some systems; "
                                                          f"upload under {twin!r} to replace it, or choose another id",
                                                    f"มีแคตตาล็อก {twin} อยู่แล้ว (รหัสที่ต่างกันแค่ตัวพิมพ์เล็กใหญ่ถือเป็นรหัสเดียวกัน) "
                                                    f"อัปโหลดในชื่อ {twin} เพื่อแทนที่ หรือใช้รหัสอื่น")])
        if not catalog.title and catalog_id in self.catalog_ids():  # a new version without a title keeps the one it had (a docs walkthrough)
            with contextlib.suppress(InputError):
                catalog.title = self.catalog(catalog_id).title
        self.catalog_dir.mkdir(exist_ok=True)
        table = catalog_to_table(catalog)
        write_table(self.catalog_dir / f"{catalog_id}.csv", table.columns, table.rows, guard_formulas=False)  # read by load_catalog(stored=True)
        with self._lock:
            for key in [k for k in self._aligners if k[0] == catalog_id]:
                del self._aligners[key]
            self._uploads[catalog_id] = self._uploads.get(catalog_id, 0) + 1
        catalog.name = catalog_id
        return catalog

    def catalog_removable(self, catalog_id: str) -> bool:
        """What :meth:`remove_catalog` removes: an uploaded catalog other than the configured default (this process's
        or a running service's on this data directory)."""
        return (catalog_id not in BUILTIN_CATALOGS and catalog_id not in self.defaults_in_use() and bool(re.fullmatch(UPLOADED_CATALOG_ID, catalog_id))
                and (self.catalog_dir / f"{catalog_id}.csv").is_file())

    def serving(self, started: bool) -> None:
        """Note (or clear) that a service of this process serves this data directory, with its default catalog: the
        CLI, configured otherwise, removed a running service's default and every page failed (a blind review). The
        note is named uniquely and locked while the service runs, so a note a crashed service left behind, a reused
        pid or two containers' pid 1 on one volume count only while their service lives (a second blind review)."""
        if started:
            folder = self.data_dir / "serving"
            folder.mkdir(exist_ok=True)
            draft = folder / f"{uuid.uuid4().hex}.draft"  # locked before it is a note: a note seen unlocked is a dead service's
            draft.write_text(json.dumps({"catalog": self.settings.catalog, "pid": os.getpid()}), encoding="utf-8")
            held: BinaryIO = draft.open("rb")
            _lock_note(held, block=True)
            note = draft.rename(draft.with_suffix(".json"))
            self._serving = (note, held)
        elif self._serving is not None:
            self._serving[0].unlink(missing_ok=True)
            self._serving[1].close()
            self._serving = None

    def defaults_in_use(self) -> dict[str, Path | None]:
        """The default catalogs of this process (None) and of the services running on this data directory (their
        note); a note no live service holds is removed."""
        found: dict[str, Path | None] = {}
        for note in sorted((self.data_dir / "serving").glob("*.json")):
            try:
                with note.open("rb") as handle:
                    if _lock_note(handle, block=False):  # nobody holds it: its service is gone
                        note.unlink(missing_ok=True)
                        continue
                    found.setdefault(str(json.loads(note.read_text(encoding="utf-8"))["catalog"]), note)
            except (OSError, ValueError, KeyError):
                continue
        found[self.settings.catalog] = None
        return found

    def remove_catalog(self, catalog_id: str, *, force: bool = False) -> int:
        """Remove an uploaded catalog; how many active decisions name it (kept: readable in lists, stats and
        exports, and counted again if a catalog of this id is uploaded again). Test and mistaken uploads stayed
        in every page's list for good (a catalog author's walkthrough). The built-in catalogs and the configured
        default cannot be removed: every entry point without ``--catalog`` reads it. Jobs labelled with it keep
        their results but lose their review grid and corrected file, so they refuse the removal unless ``force``."""
        if catalog_id in BUILTIN_CATALOGS:
            raise Conflict(f"{catalog_id!r} is built in and cannot be removed", thai=f"แคตตาล็อก {catalog_id} มากับระบบ ลบไม่ได้")
        defaults = self.defaults_in_use()
        if catalog_id in defaults:
            by = f" of the service running on this data directory ({defaults[catalog_id]})" if defaults[catalog_id] else ""
            raise Conflict(f"{catalog_id!r} is the configured default catalog (PLANALIGN_CATALOG){by}: set another before removing it",
                           thai=f"แคตตาล็อก {catalog_id} เป็นแคตตาล็อกเริ่มต้นของระบบ (PLANALIGN_CATALOG) กรุณาตั้งค่าเป็นแคตตาล็อกอื่นก่อนลบ")
        path = self.catalog_dir / f"{catalog_id}.csv"
        gone = NotFound(f"no uploaded catalog {catalog_id!r}; uploaded: {', '.join(self.catalog_ids()[len(BUILTIN_CATALOGS):]) or 'none'}",
                        thai=f"ไม่มีแคตตาล็อกที่อัปโหลดชื่อ {catalog_id}")
        if not (re.fullmatch(UPLOADED_CATALOG_ID, catalog_id) and path.is_file()):
            raise gone
        jobs = self.jobs.using_catalog(catalog_id) if not force else []
        if jobs:
            raise Conflict(f"{len(jobs)} jobs labelled with {catalog_id!r} ({', '.join(jobs[:5])}{', ...' if len(jobs) > 5 else ''}) would lose their "
                           f"review grid and corrected file; remove it anyway with force (they expire after {self.settings.job_retention_days:g} days)",
                           thai=f"มีงานจัดหมวด {len(jobs)} งานที่ใช้แคตตาล็อก {catalog_id} ถ้าลบ งานเหล่านั้นจะตรวจทานและดาวน์โหลดไฟล์ที่แก้ไขแล้วไม่ได้ "
                                f"ยืนยันการลบอีกครั้งหากต้องการลบ (บรรทัดคำสั่ง: --force; งานจะหมดอายุใน {self.settings.job_retention_days:g} วัน)")
        with self._lock:  # one removal (or upload's cache reset) at a time: two removals raced to a 500 (a blind review)
            try:
                path.unlink()
            except FileNotFoundError:  # removed meanwhile
                raise gone from None
            for key in [k for k in self._aligners if k[0] == catalog_id]:
                del self._aligners[key]
            self._uploads[catalog_id] = self._uploads.get(catalog_id, 0) + 1
        return len(self.decisions.active(catalog_id))

    def upload_catalog(self, catalog_id: str, catalog: Catalog) -> tuple[Catalog, CatalogChanges]:
        """Store a validated catalog under ``catalog_id`` and say what it changed (:meth:`catalog_upload_effects`,
        read before it is stored): the one sequence of the API's upload and ``planalign catalogs add``."""
        changes = self.catalog_upload_effects(catalog_id, catalog)
        return self.add_catalog(catalog_id, catalog), changes

    def embed_in_background(self, catalog_id: str) -> None:
        """Embed an uploaded catalog's node texts for the default encoder now, in the background: a
        catalog of 459 nodes takes about 33 s with e5 on 2 cores, and the first draft aligned under
        it waited for that, then got a 503 (a walkthrough). Once the service is warm; a request
        building it meanwhile makes this one give way."""
        def run() -> None:
            self.warmed.wait()
            try:
                self._zero_shot(catalog_id, None, False)
            except Unavailable:  # a request is building it
                pass
            except Exception:  # a background thread has nobody to raise to
                log.exception("embedding catalog %s in the background failed", catalog_id)

        threading.Thread(target=run, name=f"embed-{catalog_id}", daemon=True).start()

    def catalog_upload_effects(self, catalog_id: str, catalog: Catalog) -> CatalogChanges:
        """What storing ``catalog`` under ``catalog_id`` changes, said before it is stored: the nodes added,
        removed, renamed and moved, and the active decisions it touches. A decision on a removed node no
        longer counts (the review grid and the corrected file leave it out), and one on a renamed node still
        teaches its text under the new name (a node "การศึกษา" renamed "การจัดการขยะ" made a health check a
        waste project at 1.0, said nowhere: a blind test). Counts alone left the office unable to find the
        decisions or tell what changed (a catalog author's walkthrough)."""
        if not (self.catalog_dir / f"{catalog_id}.csv").is_file():
            return CatalogChanges()
        try:
            before = self.catalog(catalog_id).nodes
        except InputError:  # a stored file that no longer reads (edited by hand): the upload replaces it all the same (a blind review)
            before = {}
        after = catalog.nodes
        active = self.decisions.active(catalog_id)
        renamed = sorted(i for i, node in after.items() if i in before and before[i].name.strip() != node.name.strip())
        stale = [d for d in active if d.node_id not in after]
        return CatalogChanges(
            replaced=True, added=sorted(set(after) - set(before)), removed=sorted(set(before) - set(after)), renamed=renamed,
            moved=sorted(i for i, node in after.items() if i in before and before[i].parent_id != node.parent_id),
            stale_decisions=len(stale), newly_stale_decisions=sum(d.node_id in before for d in stale),
            renamed_decisions=sum(d.node_id in renamed for d in active))

    # ------------------------------------------------------------------------------- aligners
    def aligner(self, catalog: str | None = None, encoder: str | None = None, *, allow_path: bool = False, learn: bool = True,
                exclude: set[str] | None = None) -> Aligner:
        """The aligner for a catalog and encoder, shared: learned from the catalog's decisions when it has
        some and ``learn``, else zero-shot. ``exclude``: text keys not to learn from (measuring them)."""
        zero = self._zero_shot(catalog, encoder, allow_path)
        return self.learning.aligner(self.catalog_id(catalog), zero, exclude) if learn else zero

    def catalog_id(self, catalog: str | None) -> str:
        """The id decisions are kept under: the catalog as named (the configured default when none)."""
        return catalog or self.settings.catalog

    def _zero_shot(self, catalog: str | None, encoder: str | None, allow_path: bool) -> Aligner:
        """The zero-shot aligner for a catalog and encoder, built once and shared."""
        key_id = catalog or self.settings.catalog
        with self._lock:
            uploads = self._uploads.get(key_id, 0)
        resolved = self.catalog(catalog, allow_path=allow_path)
        key = (key_id, encoder or self.settings.encoder, resolved.digest)
        with self._lock:
            if key in self._aligners:
                return self._aligners[key]
            building = self._building.setdefault(key, threading.Lock())
        # Only callers of this very aligner wait while it embeds its catalog; in the service they wait
        # a bounded time (503, retry) instead of hanging behind a model load at start-up.
        self._refuse_while_warming(f"the model for catalog {key[0]!r}")
        if not building.acquire(timeout=self._wait_limit if self._wait_limit is not None else -1):
            raise Unavailable(f"the model for catalog {key[0]!r} is still loading; retry in a few seconds")
        try:
            with self._lock:
                if key in self._aligners:
                    return self._aligners[key]
            aligner = self.new_aligner(resolved, key[1])
            with self._lock:
                if self._uploads.get(key_id, 0) == uploads:  # replaced while it was embedded (~30 s for 450 nodes): answer, do not keep
                    self._aligners[key] = aligner
                self._building.pop(key, None)
            return aligner
        finally:
            building.release()

    def new_aligner(self, catalog: Catalog, encoder: str | None = None) -> Aligner:
        """A fresh aligner (not shared); ``cascade`` is static with e5 for uncertain drafts."""
        name = encoder or self.settings.encoder
        if name == CASCADE:
            fast = Aligner(catalog, self.encoder("static"))
            return fast.with_fallback(self.new_aligner(catalog, "e5"), CASCADE_BELOW)
        # e5's scores take a second opinion from USE (measured with e5 only: index/align/scoring.py).
        return Aligner(catalog, self.encoder(name), second=self.encoder("use") if name == "e5" else None)

    def trained_aligner(self, catalog: str | None, encoder: str | None, train: Table, label_column: str | None,
                        text_columns: str | None = None, progress: Progress | None = None) -> tuple[Aligner, list[tuple[int, str]]]:
        """An aligner fitted on labelled examples; returns it with the skipped rows and why."""
        if not label_column:
            raise InputError("--train needs --label-col (the column with node ids or names)",
                             thai="--train ต้องมี --label-col (คอลัมน์รหัสหรือชื่อหมวดในแผน)")
        aligner = self.new_aligner(self.catalog(catalog, allow_path=True), encoder)
        columns = parse_columns(text_columns) if text_columns else guess_columns(train, exclude={label_column}).text
        if not columns:
            raise TableError("the training file has no text column besides the label column; name it with --text-col",
                             thai="ไฟล์ตัวอย่างไม่มีคอลัมน์ข้อความนอกจากคอลัมน์ป้ายกำกับ กรุณาระบุคอลัมน์ข้อความ")
        labelled = read_labelled(train, columns, label_column, aligner.catalog)
        level = learning_level(aligner.catalog, labelled.labels) if labelled.labels else None
        # the rows the model leaves out, labelled only above the level it learns at, are said with the other rows skipped
        above = [(row, f"labelled only above the level learned ({level}), where nine rows in ten have a label")
                 for row, labels in zip(labelled.rows, labelled.labels) if level and not labels_at(aligner.catalog, labels, level)]
        aligner.fit_examples(labelled.texts, labelled.labels, progress, level=level)
        return aligner, sorted(labelled.skipped + above)

    # ------------------------------------------------------------------------------ alignment
    def align(self, draft: str, *, aligner: Aligner, level: str | None = None, top_k: int = 3,
              check_duplicates: bool = False, catalog: str | None = None) -> AlignOutcome:
        """Suggestions for one draft (and its duplicates in the store when asked and indexed), and the labels counting on
        this very text in ``catalog`` (the catalog's id, as decisions name it): a draft decided before was re-opened on
        the planner page with nothing marked, and its decision could not be taken back there (a planner's walkthrough)."""
        self.check_text(draft, "the draft", "ร่างโครงการ")
        self._refuse_while_warming("the model")
        alignment = aligner.align(draft, top_k=top_k, level=level)
        similar = self.check_duplicates(draft, related=True) if check_duplicates and self.index() is not None else []
        # the aligner's catalog: a file named on the command line is the catalog its decisions name (read as another, every
        # label was "removed"), and it is read already (the file again: +15 ms on a 444-node catalog, a blind review)
        labels = self.labels_counting(self.catalog_id(catalog), text_key(draft), aligner.catalog)
        return AlignOutcome(alignment, aligner.catalog.name, aligner.encoder_label, similar, aligner.model_version, aligner.examples, labels)

    def labels_counting(self, catalog_id: str, key: str, known: Catalog | None = None) -> list[Decision]:
        """The labels counting on one text (its key), at every level: its active decisions less those that do not count
        (:meth:`labels_not_counting`). The planner page marks them, and a withdrawal answers with them: it said "D4
        stands" when a decision at the issue level had overridden D4 (a blind review)."""
        labels = self.decisions.active(catalog_id, {key})
        why = self.labels_not_counting(catalog_id, labels, known) if labels else {}  # never decided: one indexed query
        return [d for d in labels if d.id not in why]

    def classify(self, table: Table, text_columns: list[str], *, aligner: Aligner, level: str | None = None,
                 progress: Progress | None = None) -> Classified:
        return classify_table(table, text_columns, aligner, level, progress, self.settings.max_text_chars)

    def evaluate(self, table: Table, text_columns: list[str], label_column: str, *, aligner: Aligner, level: str | None = None,
                 progress: Progress | None = None) -> tuple[Report, str, list[tuple[int, str]]]:
        """Quality on a labelled table; returns the report, its level and the rows skipped with why.

        ``level``: default the shallowest level among the labels, so every label counts (deeper ones
        lifted to their ancestor there); a label above a given level cannot be scored and its row is
        skipped with that reason (it used to be dropped without a word, and the first row's label
        chose the level)."""
        catalog = aligner.catalog
        gold = read_labelled(table, text_columns, label_column, catalog)
        level = catalog.resolve_level(level) if level else labels_level(catalog, gold.labels)
        scored, lifted, skipped = scorable(catalog, gold, level)
        if not scored:
            raise InputError(f"no label is at or under the level {level}; score at a level the labels name (--level)",
                             thai=f"ไม่มีป้ายกำกับใดอยู่ที่ระดับ {level} หรือต่ำกว่า กรุณาเลือกระดับที่ป้ายกำกับระบุ")
        results = aligner.align_many([gold.texts[i] for i in scored], top_k=3, level=level, progress=progress)
        return evaluate_alignments(catalog, results, lifted, level), level, skipped

    # ---------------------------------------------------------------------------- the index
    def index(self) -> ProjectIndex | None:
        """The current index version.

        In the service the background indexer loads and swaps versions (request threads never read
        index files); a one-shot process loads here, falling back to the previous generation when
        the newest is damaged (``index_problems`` says what was skipped).
        """
        if self._indexer is not None:
            if not self._indexer.wait_loaded(SERVICE_WAIT_S):
                raise Unavailable("the search index is still loading; retry in a few seconds")
            return self._index
        root = index_root(self.data_dir)
        try:
            pointer = read_pointer(root)
        except IndexDamaged:
            pointer = ("", -1)  # unreadable CURRENT: load_latest falls back
        if pointer is None:
            return None
        if pointer == self._index_pointer:
            return self._index
        with self._index_lock:
            if pointer != self._index_pointer:
                loaded = load_latest(self.data_dir, self._index)
                self._index, self.index_problems, self._index_pointer = loaded.index, loaded.problems, pointer
            return self._index

    def _set_index(self, index: ProjectIndex | None) -> None:
        with self._index_lock:
            self._index = index
            self._index_pointer = (index.generation, index.deltas) if index is not None else None
        with self._lock:  # duplicate clusters of older versions (hundreds of MB at 14k projects) are not served again
            version = index.version if index is not None else None
            self._duplicates = {k: v for k, v in self._duplicates.items() if k[0] == version}

    def _nothing_stored(self) -> bool:
        """No index loaded and no project stored: a fresh data directory, where searching and
        duplicates answer "nothing" at once. (Counted only while no index is loaded.)"""
        return self._index is None and self.store.count() == 0

    def require_index(self) -> ProjectIndex:
        index = self.index()
        if index is None:
            if self._indexer is not None and not self._indexer.state.agreed:
                raise Unavailable(f"the search index is being built ({self._indexer.state.describe()}); retry shortly")
            stored = self.store.count()
            if stored:  # a store restored without its index (an operator's walkthrough: "ingest projects first" beside 80 stored)
                raise IndexStateError(f"{stored:,} projects are stored but not indexed (a store restored or written without its index): "
                                      "run planalign reindex, or start the service, which indexes them",
                                      thai=f"มีโครงการในฐานข้อมูล {stored:,} รายการแต่ยังไม่อยู่ในดัชนีค้นหา (เช่น กู้คืนเฉพาะฐานข้อมูล) "
                                           "กรุณาสั่ง planalign reindex หรือเปิดบริการ ซึ่งจะสร้างดัชนีให้")
            raise IndexStateError("no projects indexed yet: ingest projects first (planalign ingest FILE)",
                                  thai="ยังไม่มีโครงการในดัชนี: นำเข้าโครงการก่อน (planalign ingest FILE)")
        return index

    def index_encoder(self, index: ProjectIndex) -> Encoder:
        """Queries must be embedded by the encoder that built the index."""
        return self.encoder(index.encoder_name)

    def index_encoder_name(self, requested: str | None = None, adding: int = 0) -> str:
        """The index's encoder: ``requested`` (a new or rebuilt index), else the existing index's own,
        else the setting (``auto`` chosen by the store's size plus ``adding`` projects about to be
        stored). Never ``auto`` itself, which names no model."""
        if requested and requested != AUTO_INDEX_ENCODER:
            return requested
        return indexed_encoder(self.data_dir) or choose_index_encoder(self.settings.index_encoder, self.store.count() + adding)

    def sync(self, encoder: str | None = None, *, only: Sequence[str] | None = None, rebuild: bool = False,
             backend: str = "auto", progress: Progress | None = None, planned: Progress | None = None) -> SyncResult:
        """Bring the index in line with the store (``encoder`` only for a new or rebuilt index;
        ``auto`` and the default choose by the store's size, an existing index keeps its encoder)."""
        with self._write_lock:
            encoder_used = self.encoder(self.index_encoder_name(encoder))
            result, index = sync_index(self.data_dir, self.store, encoder_used, current=self._index, only=only,
                                       rebuild=rebuild, backend=backend, progress=progress, planned=planned)
            self._set_index(index)
        return result

    def table_limits(self) -> Limits:
        """What an uploaded file may hold: ``max_rows`` rows, ``max_field_chars`` characters per cell."""
        return Limits(max_rows=self.settings.max_rows, max_cell_chars=self.settings.max_field_chars, max_inflated=MAX_XLSX_INFLATED)

    def check_text(self, text: str, what: str = "the text", what_th: str = "ข้อความ") -> None:
        """A text (a draft, a text to classify or check) within ``max_text_chars``, else 413; measured without the
        whitespace around it, which nothing reads (a file's cells are stripped: the same text was refused as a list
        sent to /v1/classify and taken from a file; an entry-point audit)."""
        limit = self.settings.max_text_chars
        if len(text) > limit and len(text.strip()) > limit:
            english, thai = too_long(len(text.strip()), limit, what, what_th)
            raise TooLarge(english, thai=thai)

    def check_projects(self, projects: Sequence[Project]) -> None:
        """Every field of every project within ``max_field_chars``, else 413 (nothing is written)."""
        limit = self.settings.max_field_chars
        for project in projects:
            for name, value in project:
                if isinstance(value, str) and len(value) > limit:
                    raise TooLarge(f"project {project.id[:80]!r}: field {name!r} has {len(value):,} characters, "
                                   f"over the limit of {limit:,} (PLANALIGN_MAX_FIELD_CHARS)",
                                   thai=f"โครงการ {project.id[:80]} ช่อง {name} ยาว {len(value):,} ตัวอักษร เกินที่รับได้ {limit:,} ตัวอักษร กรุณาตัดให้สั้นลง")

    def ingest(self, projects: Sequence[Project], *, encoder: str | None = None, progress: Progress | None = None,
               reconcile: bool = False, who: str = LOCAL) -> IngestOutcome:
        """Upsert projects into the store (one transaction: all or nothing), index what changed, and keep
        their declared alignment as decisions (under ``who``). ``progress`` counts each project three
        times outside the service: embedded ahead of the commit, indexed, aligned.

        ``reconcile``: compare every stored project with the index, not only these (the CLI heals
        what a killed earlier run left unindexed). In the service the index work is queued.
        """
        with contextlib.suppress(InputError):  # a configured catalog that cannot be read: the forms' ids as they are
            catalog = self.catalog()
            projects = [with_declared_ids(p, catalog) for p in projects]
        self.check_projects(projects)
        if self._indexer is None:
            self._embed_ahead(projects, encoder, progress)
        stored = self.store.upsert(projects)
        if self._indexer is None and reconcile:
            outcome = IngestOutcome(stored, self.sync(encoder, progress=progress))
        else:
            first = self._indexer is None and self.index() is None
            outcome = IngestOutcome(stored, self._index_after_write(stored.changed, encoder, progress, first))
        if stored.changed and self._indexer is None:  # the service aligns stale items when coverage is read
            try:
                self.refresh_alignments(only=stored.changed, progress=progress)
            except InputError as exc:  # stored and indexed: a catalog that cannot be read leaves coverage to refresh later, not an error
                log.warning("projects stored, but not aligned for coverage: %s", exc)
        outcome.declared, read = self.declare(projects, who, ingested=True)
        outcome.undeclared, outcome.declared_extra = read.missed, read.extra
        return outcome

    def _embed_ahead(self, projects: Sequence[Project], encoder: str | None, progress: Progress | None) -> None:
        """Embed, before the store commit, the projects the index does not hold as they are.

        The encoders keep what they embed in the data directory's cache (texts for ``e5``, words
        for ``static``), so the index pass after the commit, or the restart's reconciliation after a
        ``kill -9`` right after it, finds the model work done. Without this, a one-shot ingest of the
        13.5k Traffy reports killed right after its commit left a restart 152.8 s of e5 on every new
        word (``make reliability``, K2) against the 120 s target. A kill during this step leaves the
        store untouched. Costs the ingest a second split of the new texts (~6 s per 13.5k reports).
        Projects the index already holds unchanged only advance ``progress``.
        """
        index = self.index()
        digests = [p.content_hash() for p in projects]
        fresh = [(p, d) for p, d in zip(projects, digests) if index is None or not index.holds(p.id, d)]
        if progress and len(fresh) < len(projects):
            progress(len(projects) - len(fresh))
        if not fresh:
            return
        # The encoder the index pass after the commit will choose: by the store's size then.
        unstored = len(fresh) - len(self.store.content_hashes([p.id for p, _ in fresh]))
        encoder_used = self.encoder(self.index_encoder_name(encoder, adding=unstored))
        embed_projects([p for p, _ in fresh], [d for _, d in fresh], encoder_used, progress)

    # ----------------------------------------------------------------------------- decisions
    def decide(self, items: Sequence[DecisionInput], *, catalog: str | None = None, who: str = LOCAL,
               committed: Progress | None = None, chunk: int = 500) -> Recorded:
        """Check every decision (one bad one stores none), store those that change a label, ask for a refit.

        Stored ``chunk`` decisions a transaction: an import cut short (a crash, a kill) keeps the chunks
        committed before it, and sending it again stores the rest (the same decisions are unchanged)."""
        catalog_id = self.catalog_id(catalog)
        known = self.catalog(catalog)
        return self._store_decisions(check(items, known, catalog_id, who), known, catalog, chunk=chunk, committed=committed)

    def _store_decisions(self, checked: list[NewDecision], known: Catalog, catalog: str | None, *, rows: Sequence[dict] | None = None,
                         chunk: int = 500, committed: Progress | None = None) -> Recorded:
        """Checked decisions stored, the batch's last word on each text only (:func:`latest_per_text`; ``rows``: a
        file's rows, for an export's stamps), and a refit asked for when any changed a label: one path for a list
        sent (a list deciding one text twice stored both at every send: a blind review) and a file imported."""
        latest = latest_per_text(checked, rows)
        recorded = self.decisions.record(latest, chunk=chunk, committed=committed, on_one_path=known.on_one_path)
        recorded.superseded = len(checked) - len(latest)
        if recorded.stored:
            self.learning.changed(self.catalog_id(catalog))
            self._realign_decided(catalog, recorded)
        return recorded

    def withdraw_decision(self, decision_id: int, *, who: str = LOCAL, source: str | None = None, allow_path: bool = False) -> Withdrawal:
        """Withdraw a decision taken by mistake (a slipped key, a test text): it no longer counts, so its text's label
        is the newest decision still standing there (an older one, or none), a refit is asked for, and the history
        keeps both. Says the text's labels standing now, at every level (an older one back at this level, or one at
        another level the withdrawn decision had overridden: the pages mark them again). A decision withdrawn before
        answers its withdrawal (``created`` false): a retried request changes nothing. ``allow_path``: a decision's
        catalog may be a file (the command line's owner), read to tell which labels count."""
        check_withdrawal_source(source)
        if not 1 <= decision_id <= MAX_DECISION_ID:  # no such row; past the column's range a 500 (a blind review)
            raise NotFound(f"no decision {decision_id}", thai=f"ไม่พบการตัดสินใจรายการที่ {decision_id}")
        try:
            done = self.decisions.withdraw(decision_id, who, source)
        except IsWithdrawal:
            raise Conflict(f"decision {decision_id} is a withdrawal itself; to label the text again, record a decision",
                           thai=f"รายการที่ {decision_id} เป็นการยกเลิกอยู่แล้ว หากต้องการกำหนดหมวดให้ข้อความนี้อีกครั้ง ให้บันทึกการตัดสินใจใหม่") from None
        if done is None:
            raise NotFound(f"no decision {decision_id}", thai=f"ไม่พบการตัดสินใจรายการที่ {decision_id}")
        made, created = done
        if created:
            self.learning.changed(made.catalog)
            if self.known_nodes(made.catalog) is not None:  # a removed catalog's decisions have no coverage to refresh
                self._realign_decided(made.catalog, Recorded(stored=[made]))
        try:
            known = self.catalog(made.catalog, allow_path=allow_path)
        except InputError:  # gone, or a file the API may not read: which labels count cannot be told, the standing ones are said
            return Withdrawal(made, self.decisions.active(made.catalog, {made.text_key}), created)  # ("none left" was untrue; a blind review)
        return Withdrawal(made, self.labels_counting(made.catalog, made.text_key, known), created)

    def decisions_page(self, *, catalog: str | None = None, level: str | None = None, source: str | None = None, who: str | None = None,
                       text: str | None = None, node_id: str | None = None, contains: str | None = None, active_only: bool = False,
                       offset: int = 0, limit: int | None = 50) -> tuple[int, list[Decision]]:
        """Decisions newest first, and how many match. A filter that names no catalog, level or source
        there is is refused (404 / 422), not answered with an empty page that reads as "no decisions"."""
        level, node_id = self._checked_decision_filters(catalog, level, source, node_id)
        return self.decisions.page(catalog=catalog, level=level, source=source, who=who, text=text, node_id=node_id, contains=contains,
                                   active_only=active_only, offset=offset, limit=limit)

    def _checked_decision_filters(self, catalog: str | None, level: str | None, source: str | None,
                                  node_id: str | None) -> tuple[str | None, str | None]:
        """The level and node as the filtered catalog names them (default: the configured catalog; "d4.2", "D๔.๒": D4.2,
        as a label is found: "d4.2" listed nothing, an evaluation team at scale), after refusing a catalog, level or
        source there is not (404 / 422): zeros or an empty page read as "no decisions"."""
        if node_id:
            node_id = self._decided_node(catalog, level, node_id)
        if catalog or level:
            known = self._decided_catalog(catalog)
            if known is not None and level:
                level = known.resolve_level(level)
            elif level and level not in self.decisions.levels(catalog or ""):  # the catalog gone: the levels its decisions name
                raise InputError(f"no decision of catalog {catalog!r} is at level {level!r}",
                                 thai=f"ไม่มีการตัดสินใจของแผน {catalog} ในระดับ {level}")
        if source:
            check_source(source)
        return level, node_id

    def _decided_node(self, catalog: str | None, level: str | None, node_id: str) -> str:
        """A node filter as the catalog names it, found as a label is (any case, Thai digits, a name; at ``level``); without
        a catalog, in every catalog with decisions, when they agree on one id; else as typed ("d4.2" listed nothing: an
        evaluation team at scale; a second catalog's "s1.1" was looked up in the default only: a blind review)."""
        found: set[str] = set()
        for catalog_id in [catalog] if catalog else self.decisions.catalogs():
            with contextlib.suppress(InputError):  # a catalog that cannot be read is refused where it was asked for
                named = self._decided_catalog(catalog_id)
                if named is not None and node_id in named.nodes:
                    return node_id
                node = named.find(node_id, level) if named is not None else None
                found |= {node.id} if node is not None else set()
        return found.pop() if len(found) == 1 else node_id

    def decision_stats(self, catalog: str | None = None, period: str = "week", *, level: str | None = None, source: str | None = None,
                       who: str | None = None, text: str | None = None, node_id: str | None = None, contains: str | None = None) -> dict:
        """Decisions per source and level, the acceptance rate over time, and the models learned from
        them (in use or kept on disk: their versions and review thresholds). The filters are
        :meth:`decisions_page`'s, so a list's summary counts what the list shows (the evaluation page's
        summary said "not filtered by level, text or node" beside a filtered list); refused alike."""
        level, node_id = self._checked_decision_filters(catalog, level, source, node_id)
        filters: dict[str, Any] = {"level": level, "source": source, "who": who, "text": text, "node_id": node_id, "contains": contains}
        # a model kept on disk for an encoder this configuration does not use is listed as not in use: beside 10,000
        # decisions, a tfidf model of 4 examples read as the current one (a blind test). In use: loaded by this process
        # (citizen reports align with the index encoder), or of the encoders configured for suggestions and the index.
        configured = {self.settings.encoder, self.index_encoder_name()}  # "auto" names no model: the one it chose (a blind review)
        models = [{**{k: v for k, v in m.items() if k != "loaded"}, "in_use": m["loaded"] or m["encoder"] in configured}
                  for m in self.learning.status(stored=True) if catalog is None or m["catalog"] == catalog]
        theirs = ({d.id for d in self.decisions.page(catalog=catalog, active_only=True, limit=None, **filters)[1]}
                  if any(filters.values()) else None)
        reasons = []
        for c in [catalog] if catalog else self.decisions.catalogs():
            every = self.decisions.active(c)  # whole texts: a label is overridden by anyone's decision
            why = self.labels_not_counting(c, every)
            reasons += [why[d.id] for d in every if d.id in why and (theirs is None or d.id in theirs)]
        return {**self.decisions.stats(catalog, period, **filters), "not_counting": reasons.count("removed"),
                "overridden": reasons.count("overridden"), "models": models}

    def overridden(self, decisions: Sequence[Decision]) -> set[int]:
        """The ids of these decisions (a page of a list, an export) that are active labels another level's newer
        decision overrides (:meth:`labels_not_counting`)."""
        found: set[int] = set()
        for catalog in {d.catalog for d in decisions}:
            keys = {d.text_key for d in decisions if d.catalog == catalog}
            why = self.labels_not_counting(catalog, self.decisions.active(catalog, keys))
            found |= {i for i, reason in why.items() if reason == "overridden"}
        return found & {d.id for d in decisions}

    def labels_not_counting(self, catalog_id: str, active: Sequence[Decision], known: Catalog | None = None) -> dict[int, str]:
        """Of a catalog's active labels (:meth:`DecisionStore.active`, whole texts), those that do not count, and
        why: ``removed``, a node the catalog no longer has (every one, when the catalog is gone), or
        ``overridden``, a newer decision on the text at another level, off the label's path, counts instead
        (dimension D4, then issue D1.4: learning and the pages follow D1.4; lists and stats called D4 active
        beside it, and an export of the active labels gave the text two dimensions: a planner's walkthrough).
        ``known``: the catalog, when the caller has it."""
        try:
            catalog = known or self.catalog(catalog_id)
        except InputError:
            return dict.fromkeys((d.id for d in active), "removed")
        found: dict[int, str] = {}
        by_text: dict[str, list[Decision]] = {}
        for d in active:
            if d.node_id in catalog.nodes:
                by_text.setdefault(d.text_key, []).append(d)
            else:
                found[d.id] = "removed"
        for group in (g for g in by_text.values() if len(g) > 1):
            counted = decided_node(group, catalog)
            found.update((d.id, "overridden") for d in group if not catalog.on_one_path(d.node_id, counted))
        return found

    def known_nodes(self, catalog: str) -> set[str] | None:
        """The node ids of a catalog as it is now; None when it is gone or unreadable. A decision naming another
        node no longer counts (a re-upload removed it); lists and stats say so (a catalog author's walkthrough:
        "5 decisions no longer count", and no list told which)."""
        try:
            return set(self.catalog(catalog).nodes)
        except InputError:
            return None

    def _decided_catalog(self, catalog: str | None) -> Catalog | None:
        """The catalog decisions are filtered by; None when it is gone but decisions are stored under its id: they
        stay readable (filtered lists, stats, exports, a level as stored) after the catalog is removed, where the
        unfiltered stats counted them and the filtered ones were a 404 (a blind test). No catalog and no decisions: 404."""
        try:
            return self.catalog(catalog)
        except InputError:  # gone, or a stored file that no longer reads (both turned the decisions' pages into errors)
            if catalog and self.decisions.fingerprint(catalog)[0] > 0:
                return None
            raise

    def import_decisions(self, table: Table, text_columns: list[str], label_column: str, *, catalog: str | None = None,
                         level: str | None = None, source: str = "imported", project_column: str | None = None, who: str = LOCAL,
                         committed: Progress | None = None, chunk: int = 500) -> Recorded:
        """A file's rows as decisions (row numbers in errors as in a spreadsheet). A ``level`` or
        ``source`` that does not exist is one error, not one per row."""
        catalog_id = self.catalog_id(catalog)
        check_source(source)
        known = self.catalog(catalog)  # once (it was read three times an import)
        written = unguarded(table)  # the cells as written: an export guards "-shop" as "'-shop" (read as another catalog: a blind review)
        # an export of several catalogs names each row's: filed under one, rows of catalogs sharing ids changed meaning (a blind review)
        named = {str(row.get("catalog") or "").strip() for row in written.rows} if "catalog" in table.columns else set()
        if others := sorted(named - {"", catalog_id}):
            shown = ", ".join(others[:5]) + (" …" if len(others) > 5 else "")
            raise InputError(f"the file's catalog column names other catalogs than {catalog_id} ({shown}): import one catalog's decisions at a "
                             f"time (decisions export --catalog C, then decisions import --catalog C), or, to file every row under "
                             f"{catalog_id} (a catalog renamed, a new year's), remove the catalog column",
                             thai=f"คอลัมน์ catalog ของไฟล์ระบุแผนอื่นนอกจาก {catalog_id} ({shown}) กรุณานำเข้าการตัดสินใจทีละแผน "
                                  f"(decisions export --catalog C แล้ว decisions import --catalog C) หรือถ้าต้องการให้ทุกแถวเป็นของแผน "
                                  f"{catalog_id} (แผนที่เปลี่ยนชื่อ หรือแผนปีใหม่) ให้ลบคอลัมน์ catalog ออก")
        if level:
            known.resolve_level(level)
        refuse_model_answers(label_column)
        items = from_table(written, text_columns, label_column, level, source, project_column, known)
        # a reviewed file's rows left without a label were not decided: skipped and counted, as eval and
        # jobs skip them (one such row refused the whole file, a walkthrough); a label that names nothing still refuses it
        # so are the rows of a corrected file whose final_label is the model's suggestion (suggestion_only)
        machine = suggestion_only(table, label_column, known)
        # an export's withdrawn decisions, and its withdrawals, are history: a withdrawn label imported came back (a blind review)
        withdrawn = [any(str(row.get(c) or "").strip() for c in WITHDRAWAL_COLUMNS) for row in table.rows]
        # an export's declared rows speak for their projects' forms (ingesting the projects brings them): imported, they
        # became people's decisions that outlived the projects (a blind review)
        forms = [str(row.get("source") or "").strip() == "declared" and source != "declared" for row in written.rows]
        decided = [(number, item) for number, item, model, gone, form in zip(table.row_numbers(), items, machine, withdrawn, forms)
                   if (item.node or "").strip() and not model and not gone and not form]
        if items and not decided and any(machine):
            raise InputError(f"no row of this corrected file was decided by a person: {SUGGESTION_ONLY}",
                             thai="ไม่มีแถวใดในไฟล์นี้ที่คนตัดสินหมวดไว้ คอลัมน์ final_label ของแถวที่ไม่มี decision_label คือข้อเสนอของระบบเอง "
                                  "ไม่ใช่การตัดสินของคน")
        # the wrong column named, most likely: a file of no decisions is refused, not "0 stored" (a blind review)
        if items and not decided and not any(withdrawn) and not any(forms):
            raise InputError(f"no row of column {label_column!r} names a node: is it the label column?",
                             thai=f"ไม่มีแถวใดในคอลัมน์ {label_column} ระบุหมวด กรุณาตรวจว่าเป็นคอลัมน์หมวดที่ถูกต้อง")
        checked = check([item for _, item in decided], known, catalog_id, who, numbers=[number for number, _ in decided], what="row")
        by_number = dict(zip(table.row_numbers(), table.rows))
        recorded = self._store_decisions(checked, known, catalog, rows=[by_number[number] for number, _ in decided], chunk=chunk,
                                         committed=committed)
        recorded.withdrawn = sum(withdrawn)
        recorded.forms = sum(form and not gone for form, gone in zip(forms, withdrawn))
        recorded.undecided = len(items) - len(decided) - recorded.withdrawn - recorded.forms
        return recorded

    def declare(self, projects: Sequence[Project], who: str = LOCAL, *, ingested: bool = False) -> tuple[Recorded, Declared]:
        """The alignment the projects' forms declare, as ``declared`` decisions on the default catalog,
        and what was read (the projects whose declaration names no node of it, nodes beyond one per level).
        ``ingested``: the forms were just stored, so a level one no longer declares loses its declared decision
        (:meth:`DecisionStore.forget_declared`); not when the stored forms are read again (the service's start: a
        default catalog since changed would forget what the forms declared on it).

        The embedded sample projects declare nothing here: we wrote them, nobody decided on them, and
        `make run` learned from them (every suggestion "learned from 332 decisions" of invented text, an
        evaluation-team walkthrough). Coverage still reads their declared field from the projects."""
        try:
            catalog = self.catalog()
        except InputError:  # a configured catalog that cannot be read: nothing to declare against
            return Recorded(), Declared([], [], [])
        forms = [p for p in projects if p.source != SAMPLE_SOURCE]
        read = declared(forms, catalog)
        catalog_id = self.catalog_id(None)
        levels: dict[str, set[str]] = {}
        for decision in read.decisions:
            levels.setdefault(decision.project_id, set()).add(decision.level or "")
        for changed in self.decisions.forget_declared([p.id for p in forms], catalog=catalog_id, kept=levels) if ingested else ():
            self.learning.changed(changed)
        return (self.decide(read.decisions, who=who) if read.decisions else Recorded()), read

    def refit(self, catalog: str | None = None, encoder: str | None = None, progress: Progress | None = None):
        """Fit the catalog's model on its decisions now (if they changed); returns it, or None without decisions."""
        return self.learning.refit(self.catalog_id(catalog), self.aligner(catalog, encoder, learn=False), progress)

    def delete(self, ids: Sequence[str]) -> tuple[list[str], SyncResult]:
        """Delete stored projects, and what their forms declared: a deleted project's declared alignment went on
        teaching its text (D2 at 1.0 after the delete, a blind test). A person's decisions on the text stay."""
        found = self.store.delete(ids)
        for catalog in self.decisions.forget_declared(list(ids)):  # all asked for: a project deleted before is cleaned too
            self.learning.changed(catalog)
        return found, self._index_after_write(found, None, None, False)

    def _index_after_write(self, ids: list[str], encoder: str | None, progress: Progress | None, everything: bool) -> SyncResult:
        if self._indexer is None:
            return self.sync(encoder, only=None if everything else ids, progress=progress)
        indexed = True
        if ids:
            indexed = self._indexer.wait(self._indexer.enqueue(ids), self.settings.write_index_wait_s)
        current = self._index
        return SyncResult(len(ids) if indexed else 0, 0, len(current) if current is not None else 0, pending=0 if indexed else len(ids))

    def reindex(self, encoder: str | None = None, backend: str = "auto", progress: Progress | None = None) -> SyncResult:
        """Rebuild the index, then align what is stale under the active catalog (a new encoder re-aligns the reports)."""
        result = self.sync(encoder, rebuild=True, backend=backend, progress=progress)
        self.refresh_alignments()
        return result

    # -------------------------------------------------------------------------------- search
    def search(self, query: str, *, filters: Filters | None = None, mode: str = "hybrid", offset: int = 0,
               limit: int = 10, facets: bool = False, collapse: bool = True) -> SearchPage:
        """A page of hits, ``total`` = the hits above the relevance floor, and facets over those.

        ``collapse``: results with the very same text are one hit at the best one's rank, the others'
        ids in its ``copies``, and ``total`` counts distinct texts (:func:`~planalign.index.hybrid.collapse`),
        ``total_rows`` the rows; facets count rows, copies included, among the best 200.

        An empty store is an answer (no hits, and a hint), not an outage: it needs no model or index.
        A query without a letter or digit is refused: e5 still embeds "..." and the dense ranking
        answered it with arbitrary projects."""
        if not any(ch.isalnum() for ch in query):
            raise InputError("the query has no letter or digit to search for",
                             thai="คำค้นต้องมีตัวอักษรหรือตัวเลขอย่างน้อยหนึ่งตัว")
        if self._nothing_stored():
            return SearchPage([], 0, {}, EMPTY_STORE_HINT)
        mode = search_mode(query, mode)
        if mode != "keyword":  # a keyword search (a number, a word the user wants as typed) needs no model
            self._refuse_while_warming("the model")
        index = self.require_index()
        encoder = self.index_encoder(index) if mode != "keyword" else None
        depth = max(FACET_DEPTH, offset + limit) if facets else offset + limit
        filters = filters or Filters()
        dimensions = self._counted_dimensions(index) if filters.dimension or facets else None
        if filters.dimension and dimensions is not None:
            filters = replace(filters, dimension=None, positions=dimensions == filters.dimension)
        offices = self._office_rows(index)
        if filters.kind or offices.any():  # reviewers search projects: Traffy reports were listed among them as projects of "กรุงเทพมหานคร"
            # A row that only names an office is neither a project nor a report: every kind leaves it out (the
            # CLI's and the API's default, all, listed "สำนักสิ่งแวดล้อม" second for "ขยะ" where the page did not: a walkthrough).
            allowed = self._report_rows(index) if filters.kind == "report" else ~self._not_projects(index) if filters.kind == "project" else ~offices
            filters = replace(filters, kind=None, scope=allowed, positions=allowed if filters.positions is None else filters.positions & allowed)
        top = max(depth, COLLAPSE_DEPTH) if collapse else depth
        ranked = rank(index, encoder, query, mode, filters, top)
        groups: list[list[int]] = []
        rows_total, found = ranked.total, ranked
        keys = self._text_keys(index) if collapse else None
        while keys is not None:  # deep enough for the page once identical texts are one hit (a page past 1,000 rows came short)
            found, groups = collapse_same(ranked, keys[ranked.positions].tolist())
            if len(found) > offset + limit or len(ranked) < top:
                break
            top *= 4
            ranked = rank(index, encoder, query, mode, filters, top)
        counts: dict[str, dict[str, int]] = {}
        for name, meta in FACET_FIELDS if facets else ():
            column = dimensions if name == "dimension" and dimensions is not None else index.meta[meta]
            values = [column[p] for p in ranked.positions[: min(ranked.total, FACET_DEPTH)]]
            counted: dict[str, int] = {}
            for value in values:
                if value not in ("", None):
                    counted[str(value)] = counted.get(str(value), 0) + 1
            counts[name] = dict(sorted(counted.items(), key=lambda item: -item[1]))
        ranked = found
        hits = to_hits(index, self.store, ranked.page(offset, limit), query, offset)
        groups_shown = {index.ids[group[0]]: group for group in groups[offset : offset + limit]}
        years, orgs, districts = index.meta["fiscal_year"], index.meta["org"], index.meta["district"]
        for hit in hits:
            group = groups_shown.get(hit.id, [])
            hit.copies = [index.ids[p] for p in group[1:]]
            if hit.copies:  # the hit shows its first row's office and year: say how far the same line goes
                hit.copies_years = sorted({int(years[p]) for p in group if years[p]})
                # a district's row may name only its district (the office's name derived from it at ingest): one office
                hit.copies_orgs = len({orgs[p] or DISTRICT_OFFICE_PREFIX + districts[p] for p in group if orgs[p] or districts[p]})
            hit.report = is_report(hit.source, self.settings.report_sources)
        if dimensions is not None:
            for hit in hits:
                position = index.position.get(hit.id)
                hit.dimension_id = str(dimensions[position]) if position is not None and dimensions[position] else hit.dimension_id
        unrecognized = (UNRECOGNIZED_HINT if query_words(query) else NO_TOPIC_HINT) if ranked.unrecognized else ""
        hints = [unrecognized, OLD_WORDS_HINT if index.tokens_version != TOKENS_VERSION else "", _year_not_stored(filters.year, index) if not hits else ""]
        return SearchPage(hits, ranked.total, counts, " ".join(h for h in hints if h) or None, rows_total,
                          did_you_mean(query, *self._spellings(index)))

    def _spellings(self, index: ProjectIndex) -> tuple[list[str], str]:
        """What "did you mean" reads, once per index version: the projects' names (the spellings it
        proposes; a citizen report's "name" is its whole complaint, and 117k of them made a miss cost
        ~0.1 s) and every stored name joined (a part found there is spelt as people write it: on 300
        common phrases of Traffy 2023-01, 5 suggestions against the ordinance's names alone, 2 with the
        2022 reports stored; eval/README.md)."""
        def build() -> tuple[list[str], str]:
            names, every = [], []
            for name, source in self.store.names():
                every.append(name[:NAME_CHARS_SPELLED])
                if not is_report(source, self.settings.report_sources):
                    names.append(name[:NAME_CHARS_SPELLED])
            return names, "\n".join(every)
        return self._for_version("spellings", index, build)

    def search_filters(self, year: int | None = None, district: str | None = None, group: str | None = None,
                       dimension: str | None = None, kind: str | None = None) -> Filters:
        """Filters as a person types them, checked: "สำนักงานเขตบางเขน" / "เขตบางเขน" is the district
        บางเขน, "d1" the dimension D1; a district, group or dimension that does not exist is refused
        with the ones that do (it matched nothing, silently, and read as "no such projects")."""
        try:  # a value the store holds is one a facet offers, standard or not
            index = self.index()
        except Unavailable:
            index = None
        district, group = checked_place(district, group, set(index.meta["district"]) if index is not None else set(),
                                        set(index.meta["district_group"]) if index is not None else set())
        catalog = self.catalog()
        dimension = catalog.resolve_node(dimension, catalog.levels[0]) if dimension and dimension.strip() else None
        kind = (kind or "").strip().lower() or None
        if kind == "all":
            kind = None
        if kind is not None and kind not in KINDS:
            raise InputError(f"unknown kind {kind!r}; choose one of all, {', '.join(KINDS)}",
                             thai=f"ไม่มีประเภท {kind} (มี: all ทั้งหมด, project โครงการ, report เรื่องที่ประชาชนแจ้ง)")
        return Filters(year, district, group, dimension, kind=kind)

    def _office_names(self, index: ProjectIndex) -> frozenset[str]:
        """The district offices' and the stored projects' organisations' names (:func:`office_names`), not
        the citizen reports' "orgs" ("กรุงเทพโปร่งใส", "เพื่อนชัชชาติ": projects named so were dropped; blind review)."""
        reports = self._report_rows(index)  # read per draft check: 8 ms over 117k rows each time (blind review)
        return self._for_version("offices", index, lambda: office_names({org for org, report in zip(index.meta["org"], reports) if not report}))

    def _text_keys(self, index: ProjectIndex) -> np.ndarray:
        """Per index row, a fingerprint of its text: its keyword words in order (numbers included, spacing
        and punctuation aside), hashed once per index version, so search finds identical texts without
        reading the store (up to 1,000 rows a query: a blind review timed keyword search 1.3 -> 17 ms).
        Not the vectors: `static` and TF-IDF drop numbers, and "ซอย 48" / "ซอย 52" would be one text. A
        citizen report and a project with the same words differ: one hit would carry the first one's flag."""
        def build() -> np.ndarray:
            tokens, reports = index.keyword.tokens, self._report_rows(index)
            return np.fromiter((hash(("\x1f".join(words), bool(report))) for words, report in zip(tokens, reports)), dtype=np.int64, count=len(tokens))
        return self._for_version("text keys", index, build)

    def _office_rows(self, index: ProjectIndex) -> np.ndarray:
        """Per index row, whether it only names an office (:func:`names_an_office`): a budget line, not a
        project, so a search of projects and a draft's duplicate candidates leave it out ("ฝุ่น PM2.5" had
        "สำนักสิ่งแวดล้อม", a repayment line, first; a walkthrough). Read once per index version; only the
        rows whose keyword words all occur in some office's name are read from the store (a cap on the
        number of words missed long office names: a blind review)."""
        def build() -> np.ndarray:
            reports, offices = self._report_rows(index), self._office_names(index)
            # the offices' names cut as a row's keyword words are (lower case, abbreviations expanded: "CCTV" is "cctv")
            office_words = {w for name in offices for w in index_words(content_tokens(name))}
            maybe = [p for p, words in enumerate(index.keyword.tokens) if words and not reports[p] and office_words.issuperset(words)]
            stored = self.store.get([index.ids[p] for p in maybe])
            found = np.zeros(len(index.ids), dtype=bool)
            for p in maybe:
                project = stored.get(index.ids[p])
                found[p] = project is not None and names_an_office(project, offices)
            return found

        return self._for_version("office rows", index, build)

    def _report_rows(self, index: ProjectIndex) -> np.ndarray:
        """Per index row, whether it is a citizen report (its source, :func:`is_report`), read once per index version."""
        def build() -> np.ndarray:
            reports = {i for i, source in self.store.sources() if is_report(source, self.settings.report_sources)}
            return np.fromiter((i in reports for i in index.ids), dtype=bool, count=len(index.ids))

        return self._for_version("reports", index, build)

    def _not_projects(self, index: ProjectIndex) -> np.ndarray:
        """Per index row, whether it is no project: a citizen report or a row that only names an office
        (the sweep, the draft check and a search of projects all leave these out)."""
        return self._report_rows(index) | self._office_rows(index)

    def _for_version(self, name: str, index: ProjectIndex, build: Callable[[], Any]) -> Any:
        """``build()``, computed once per index version (a new version, after an ingest, builds it again)."""
        with self._lock:
            cached = self._per_version.get(name)
        if cached is not None and cached[0] == index.version:
            return cached[1]
        found = build()
        with self._lock:
            self._per_version[name] = (index.version, found)
        return found

    def _counted_dimensions(self, index: ProjectIndex) -> np.ndarray | None:
        """Per index row, the top-level node its project counts for in coverage under the default catalog
        (declared, else a person's decision, else predicted), or its declared dimension where coverage
        does not know it yet ("" when neither). The search filter and facet "dimension" read these:
        the form's declared dimension alone left every undeclared project out of them.

        In the service a search never aligns: it reads the coverage frame last built and, when the
        store's alignments changed since (a decision, an ingest, a background refresh that finished)
        or there is none yet, has it rebuilt in the background once the service is warm. A one-shot
        process builds the frame here, as the coverage command does, aligning the few projects out
        of date (after a ``decisions import``, say) before it answers."""
        try:
            if self._indexer is None:
                frame: Frame | None = self.coverage_frame(background=False)[0]
            else:
                key = self.catalog().name[:64]
                with self._lock:
                    built = self._frames.get(key)
                frame = built[1] if built is not None else None
                if self.warmed.is_set() and (built is None or built[0][2] != self.store.alignment_version(key)):
                    self._coverage_soon()
        except Exception:  # coverage is an extra here: the search itself must answer
            log.exception("search: coverage could not be read; the dimension filter reads the declared field")
            frame = None
        cached = self._dimensions
        if cached is not None and cached[0] == index.version and cached[1] is frame:
            return cached[2]
        declared = index.meta["dimension_id"]
        if frame is None:
            return None
        top = frame.catalog.levels[0]
        codes, names = frame.node[top], frame.level_nodes[top]
        row = {project_id: i for i, project_id in enumerate(frame.ids)}
        found = np.array([names[codes[row[p]]] if p in row and codes[row[p]] >= 0 else declared[i] or "" for i, p in enumerate(index.ids)],
                         dtype=object)
        self._dimensions = (index.version, frame, found)  # the frame itself, not its id: a freed frame's id is reused
        return found

    def _coverage_soon(self) -> None:
        """Rebuild the default catalog's coverage frame in a background thread (one at a time)."""
        if not self._coverage_building.acquire(blocking=False):
            return

        def run() -> None:
            try:
                self.coverage_frame()
            except Exception:
                log.exception("rebuilding coverage for search failed")
            finally:
                self._coverage_building.release()

        threading.Thread(target=run, name="coverage-for-search", daemon=True).start()

    # ---------------------------------------------------------------------------- duplicates
    def check_duplicates(self, text: str, config: DedupConfig | None = None, *, related: bool = False) -> list[Match]:
        """Stored projects that duplicate one draft (``related``: also similar ones that are not)."""
        self.check_text(text)
        if not text.strip():
            raise InputError("empty text", thai="กรุณาใส่ข้อความโครงการที่จะตรวจหาโครงการซ้ำ")
        prepare_text(text)  # digits or marks only: refused as align refuses them, not answered "no duplicates"
        if self._nothing_stored():
            return []
        self._refuse_while_warming("the model")
        index = self.require_index()
        return check_draft(index, self.store, self.index_encoder(index), text, config, related=related, excluded=self._not_projects(index),
                           offices=self._office_names(index))

    def duplicate_clusters(self, year: int | None = None, across: bool = ACROSS_DISTRICTS, config: DedupConfig | None = None,
                           progress: Callable[[str], None] | None = None) -> DuplicateSet:
        """Duplicates among stored projects, computed once per index version and filter.

        Texts come from the store and vectors from the index (nothing is embedded); the query views
        are centered on the store's mean whatever the filter, as in the single-draft check.
        Concurrent callers of the same clusters wait for one computation instead of each running it.
        An empty store has none (not an error).
        """
        if self._nothing_stored():
            return DuplicateSet([], [], DedupResult([]))
        index = self.require_index()
        config = config or DedupConfig(across_groups=across)
        key = (index.version, year, config)
        while True:
            with self._lock:
                cached = self._duplicates.get(key)
                if cached is not None:
                    return cached
                running = self._computing.get(key)
                if running is None:
                    running = self._computing[key] = threading.Event()
                    break
            running.wait()
        try:
            found = self._compute_clusters(index, year, config, progress)
            with self._lock:
                self._duplicates = {k: v for k, v in self._duplicates.items() if k[0] == index.version}
                self._duplicates[key] = found
            return found
        finally:
            with self._lock:
                self._computing.pop(key, None)
            running.set()

    def _compute_clusters(self, index: ProjectIndex, year: int | None, config: DedupConfig,
                          progress: Callable[[str], None] | None) -> DuplicateSet:
        candidates = index.live_positions(index.mask(fiscal_year=year))
        projects = self.store.get([index.ids[p] for p in candidates])
        # citizen reports (PLANALIGN_REPORT_SOURCES) are not projects: 6,000 Traffy pairs buried the projects' own; nor are rows naming an office
        excluded = self._not_projects(index)
        positions = [p for p in candidates if index.ids[p] in projects and not excluded[p]]
        kept = [projects[index.ids[p]] for p in positions]
        mean, params = index_semantics(index)
        records = make_records([p.search_text() for p in kept], center(index.query_view[positions], mean), names=[p.name for p in kept],
                               groups=[p.district or p.org for p in kept], years=[p.fiscal_year for p in kept])
        result = find_duplicates(records, config, configured(params, config),
                                 weak_copies=index.encoder_name != "e5", progress=progress)
        return DuplicateSet([p.id for p in kept], records, result, [p.org for p in kept], [p.fiscal_year for p in kept])

    def duplicates_in_table(self, table: Table, text_columns: list[str], *, id_column: str | None = None,
                            group_column: str | None = None, year_column: str | None = None, encoder: str | None = None,
                            config: DedupConfig | None = None, progress: Progress | None = None) -> DuplicateSet:
        """Duplicates among a file's rows (no store); without an id column a row is named by its
        number as the file shows it (``Table.row_numbers``: a spreadsheet's row, header = 1), the number a
        person finds it under when opening the file. A row that only names an office (a district office
        or a value of ``group_column``: the ordinance file's repayment lines) is no project, as in the store.

        Offices' lists: two different texts one office lists side by side are two of its items, not a
        pair (:func:`~planalign.index.dedup.find_duplicates`), per fiscal year (``year_column``); a file
        without a year column is one year's lists. Before, its rows had no year and belonged to no list:
        143 ordinance lines of 5 offices gave 40 "same project" pairs of one list's different items
        ("งานบริหารทั่วไปฝ่ายพัฒนาชุมชน" / "งานพัฒนาชุมชนและบริการสังคม"; a walkthrough), none once ingested."""
        table.require([*text_columns] + [c for c in (id_column, group_column, year_column) if c])
        config = config or DedupConfig()
        offices = office_names({r[group_column] for r in table.rows} if group_column else set())
        joined = ((str(n), r, join_text_columns(r, text_columns)) for n, r in zip(table.row_numbers(), table.rows))
        kept = [(n, r, text) for n, r, text in joined if text and not is_office_name(text, offices)]
        numbered, texts = [(n, r) for n, r, _ in kept], [text for _, _, text in kept]
        if id_column:
            _require_unique_ids([(n, r[id_column]) for n, r in numbered], id_column)
        years: list[int | None] = ([_row_year(n, r[year_column]) for n, r in numbered] if year_column
                                   else [ONE_YEAR] * len(numbered))  # a bad cell before any model work
        name = choose_index_encoder(encoder or self.settings.index_encoder, len(texts))
        vectors = self.encoder(name).encode_queries([normalize(t)[:EMBED_CHARS] for t in texts], progress)  # the query view, as the index keeps it
        centered, params = semantic_vectors(vectors, name)
        groups = [r[group_column] for _, r in numbered] if group_column else None
        records = make_records(texts, centered, groups=groups, years=years)
        ids = [r[id_column] for _, r in numbered] if id_column else [n for n, _ in numbered]
        return DuplicateSet(ids, records, find_duplicates(records, config, configured(params, config), weak_copies=name != "e5"),
                            years=years if year_column else None, by_row=id_column is None)

    # ------------------------------------------------------------------------------ coverage
    def alignment_plan(self, catalog: str | None = None) -> AlignmentPlan:
        """How stored items are aligned under a catalog: projects by the drafts' aligner, citizen reports by
        the index encoder's (e5 would take hours over 117k reports) after their category map."""
        resolved = self.catalog(catalog)
        digest = resolved.digest[:12]
        # items stored under a catalog with a childless node above the deepest level were aligned
        # before such a node could be chosen (index.coverage.alignment_rows): aligned again once
        if any(not resolved.children(n.id) for level in resolved.levels[:-1] for n in resolved.at_level(level)):
            digest += "/leaf"
        report_encoder = self.index_encoder_name()
        mapping = load_category_map(resolved, self.settings.report_map)
        report_model = f"{digest}/{report_encoder}/{SCORING_VERSION}/{mapping.digest[:8] if mapping else 'nomap'}"

        def aligners(report: bool) -> Aligner:
            return self.aligner(catalog, report_encoder if report else None)

        project_model = f"{digest}/{self.settings.encoder}/{SCORING_VERSION}/{COVERAGE_VERSION}"
        return AlignmentPlan(resolved, resolved.name[:64], project_model, report_model, mapping, self.settings.report_sources, aligners)

    def decided_nodes(self, catalog: str | None, ids: Sequence[str], *, history: dict[str, list[Decision]] | None = None,
                      projects: dict[str, Project] | None = None) -> dict[str, str]:
        """A person's decision per stored project (made on it: its project id), under ``catalog``.

        It outranks the aligner but not the form's declared alignment
        (:func:`planalign.index.coverage.choose`); recording one marks the project's alignment out of
        date (:meth:`_realign_decided`), so coverage counts it at its next refresh. ``history`` (the
        people's decisions on these projects) and ``projects``: already read by the caller.
        """
        resolved = self.catalog(catalog)
        found = history if history is not None else self._people_decisions(catalog, ids)  # the form's own: declared_node
        names = {pid: p.name for pid, p in (projects if projects is not None else self.store.get(list(found))).items()}
        decided = {}
        for pid, made in found.items():
            newest = {d.level: d for d in made if d.node_id in resolved.nodes and about_project(names.get(pid, ""), d.text)}  # oldest first
            if newest:
                decided[pid] = decided_node(list(newest.values()), resolved)
        return decided

    def _realign_decided(self, catalog: str | None, recorded: Recorded) -> None:
        """The stored projects a person just decided on are aligned again at the next coverage refresh
        (not for a form's declared alignment: coverage reads that from the project itself)."""
        ids = sorted({d.project_id for d in recorded.stored if d.project_id and d.source != "declared"})
        if ids:
            try:
                self.store.invalidate_alignments(self.alignment_plan(catalog).key, ids)
            except InputError:  # the decisions are stored; a catalog or report map that cannot be read has no coverage to refresh
                log.exception("decisions stored, but coverage of their projects could not be marked out of date")

    def refresh_alignments(self, catalog: str | None = None, *, only: Sequence[str] | None = None,
                           progress: Progress | None = None) -> int:
        """Align the stored items that are new, changed, or aligned by another catalog version or model; returns how many."""
        plan = self.alignment_plan(catalog)
        with self._lock:
            lock = self._refreshing.setdefault(plan.key, threading.Lock())
        with lock:
            offices = office_names(self.store.orgs())
            stale = self._stale(plan, only, offices)
            for start in range(0, len(stale), ALIGN_CHUNK):
                chunk = list(stale)[start : start + ALIGN_CHUNK]
                projects = self.store.get(chunk)
                before = self._people_decisions(catalog, chunk)
                rows = align_stored(list(projects.values()), plan, self.decided_nodes(catalog, chunk, history=before, projects=projects),
                                    {pid: stale[pid] for pid in chunk}, offices)
                self.store.write_alignments(plan.key, rows)
                # a decision recorded while this chunk was aligned marked it out of date before the write
                # replaced it: mark those projects again, or the decision would wait for their next change
                # (compared as sets of ids: PostgreSQL may commit a lower id after a higher one)
                after = self._people_decisions(catalog, chunk)
                late = [pid for pid, found in after.items() if {d.id for d in found} != {d.id for d in before.get(pid, [])}]
                if late:
                    self.store.invalidate_alignments(plan.key, late)
                if progress:
                    progress(len(chunk))
            return len(stale)

    def _people_decisions(self, catalog: str | None, ids: Sequence[str]) -> dict[str, list[Decision]]:
        """The people's decisions made on each of these stored projects (not their forms' declarations)."""
        return self.decisions.for_projects(self.catalog_id(catalog), ids, people_only=True)

    def _stale(self, plan: AlignmentPlan, only: Sequence[str] | None = None, offices: frozenset[str] | None = None) -> dict[str, str]:
        """Stored items to align again, with their stored content hashes (``offices``: the stored offices'
        names, when the caller has them; an office's name becomes one when its rows arrive: aligned again then)."""
        states = self.store.alignment_states(plan.key, plan.catalog.levels[-1], only)
        offices = office_names(self.store.orgs()) if offices is None else offices
        return {pid: s.content_hash for pid, s in states.items()
                if s.aligned_hash != s.content_hash or s.model != plan.stamp(s.name, s.source, offices)}

    def pending_alignments(self, catalog: str | None = None) -> int:
        return len(self._stale(self.alignment_plan(catalog)))

    def coverage_frame(self, catalog: str | None = None, *, background: bool = True) -> tuple[Frame, int]:
        """The coverage columns of every stored item and how many still await alignment, built once per version.

        Stale items count under their previous alignment meanwhile (or as ``pending`` when they have none under
        this catalog, or theirs names a node it no longer has); a few are aligned
        here, many in a background thread (``background``) or not at all (the CLI aligns them first).
        """
        plan = self.alignment_plan(catalog)
        stamp = (plan.project_model, plan.report_model, self.store.alignment_version(plan.key))
        with self._lock:
            cached = self._frames.get(plan.key)
            building = self._frame_locks.setdefault(plan.key, threading.Lock())
        if cached is not None and cached[0] == stamp:
            return cached[1], cached[2]
        with building:  # one build per catalog at a time: a second reader waits for it instead of building again
            with self._lock:
                cached = self._frames.get(plan.key)
            if cached is not None and cached[0] == stamp:
                return cached[1], cached[2]
            return self._build_frame(catalog, plan, stamp, background)

    def _build_frame(self, catalog: str | None, plan: AlignmentPlan, stamp: tuple, background: bool) -> tuple[Frame, int]:
        pending = len(self._stale(plan))
        for _ in range(3):  # a decision recorded during a refresh leaves its project out of date again: align it too
            if not 0 < pending <= INLINE_ALIGN_LIMIT:
                break
            self.refresh_alignments(catalog)
            # the version is read before what is still stale: a change after it makes the next read rebuild
            stamp = (*stamp[:2], self.store.alignment_version(plan.key))
            pending = len(self._stale(plan))
        if pending and background:
            self._refresh_in_background(catalog, plan.key)
        frame = Frame(plan.catalog, self.store.coverage_columns(plan.key), self.settings.report_sources,
                      CALIBRATIONS.get(self.settings.encoder, Calibration()).review_below)  # the stored suggestions' encoder
        with self._lock:
            self._frames[plan.key] = (stamp, frame, pending)
        return frame, pending

    def _refresh_in_background(self, catalog: str | None, key: str) -> None:
        with self._lock:
            lock = self._refreshing.setdefault(key, threading.Lock())
        if lock.locked():  # a refresh of this catalog is already running
            return

        def run() -> None:
            try:
                log.info("aligning stored items under catalog %s: %d aligned", key, self.refresh_alignments(catalog))
            except Exception:  # a background thread has nobody to raise to
                log.exception("aligning stored items under catalog %s failed", key)

        threading.Thread(target=run, name=f"align-{key}", daemon=True).start()

    def coverage(self, *, year: int | None = None, catalog: str | None = None, level: str | None = None, group: str | None = None,
                 district: str | None = None, background: bool = True) -> Coverage:
        """Projects, budget and citizen reports per catalog node (default level: the first, e.g. dimension)."""
        district, group = checked_place(district, group, {NO_DISTRICT})
        frame, pending = self.coverage_frame(catalog, background=background)
        result = frame.coverage(frame.catalog.resolve_level(level) if level else frame.catalog.levels[0], year, group or None, district or None)
        result.pending = pending
        return result

    def citizen_needs(self, *, year: int | None = None, catalog: str | None = None, level: str | None = None, group: str | None = None,
                      limit: int | None = 20, min_reports: int = 10) -> Needs:
        """District x node cells where citizens report much more than the district's projects cover, with example reports
        (``limit`` None: every one, as the exports give them)."""
        _, group = checked_place(None, group)
        frame, pending = self.coverage_frame(catalog)
        found = frame.needs(frame.catalog.resolve_level(level) if level else frame.catalog.levels[0], year, group or None, limit, min_reports)
        texts = self.store.get([frame.ids[p] for need in found.needs for p in need.positions])
        for need in found.needs:
            need.examples = [Example(frame.ids[p], texts[frame.ids[p]].name if frame.ids[p] in texts else "", *frame.describe(p, found.level)[1:])
                             for p in need.positions]
        found.pending = pending
        return found

    def coverage_items(self, *, node: str | None, reports: bool = False, year: int | None = None, catalog: str | None = None,
                       level: str | None = None, group: str | None = None, district: str | None = None, offset: int = 0,
                       limit: int = 50) -> tuple[int, list[Item]]:
        """The projects (or reports) behind one coverage cell; node "" = the ones that could not be aligned."""
        district, group = checked_place(district, group, {NO_DISTRICT})
        frame, _ = self.coverage_frame(catalog)
        # no level given: the node's own ("node=D1.1" alone was "no dimension 'D1.1'": a committee walkthrough), as find reads it
        known = frame.catalog.find(node) if node and not level else None
        chosen = frame.catalog.resolve_level(level) if level else known.level if known is not None else frame.catalog.levels[0]
        node = frame.catalog.resolve_node(node, chosen) if node else node  # "" (not aligned) and None (every node) as they are
        total, positions = frame.items(chosen, node, reports=reports, year=year, group=group or None, district=district or None,
                                       offset=offset, limit=limit)
        stored = self.store.get([frame.ids[p] for p in positions])
        items = []
        for p in positions:
            project = stored.get(frame.ids[p])
            if project is not None:
                node_id, source, confidence = frame.describe(p, chosen)
                items.append(Item(project.id, project.name, project.org, project.district, project.fiscal_year, project.budget,
                                  node_id, source, confidence))
        return total, items

    # ----------------------------------------------------------------------------- warm-up
    def warm_up(self) -> None:
        """Load the drafts' encoder and embed the default catalog before the first request needs them.

        In the service, requests that need a model not loaded yet wait at most a moment for this to
        end, then get 503 (readiness says "starting"), instead of competing with it for the CPU.
        """
        self._warming.active = True
        try:
            aligner = self.aligner()
            if self._indexer is None:
                self.index()
            for encoder in {id(e): e for e in (aligner.encoder, self.encoder(self.index_encoder_name()))}.values():
                # a text no cache holds: the model's first real inference (seconds) happens now, not in a request
                encoder.encode_queries([f"อุ่นเครื่อง {uuid.uuid4().hex[:12]}"])
            if self._indexer is not None and self._indexer.wait_loaded(60) and self._index is not None:
                # one request of each kind: first-use work (per-version arrays, kernels) happens now, not in a request
                self.align(WARM_UP_DRAFT, aligner=aligner, check_duplicates=True)
                self.search(WARM_UP_DRAFT, facets=True)
        finally:
            self._warming.active = False
            self.warmed.set()

    def wait_warm(self) -> None:
        """A background worker (a job queued before a restart) waits for the service's warm-up,
        which always ends (``warmed`` is set even when it fails), instead of being refused like a request."""
        if self._wait_limit is not None:
            self.warmed.wait()

    def _refuse_while_warming(self, what: str) -> None:
        """In the service, a request needing a model waits a bounded time for the warm-up, then gets 503."""
        if self._wait_limit is None or self.warmed.is_set() or getattr(self._warming, "active", False):
            return
        if not self.warmed.wait(self._wait_limit):
            raise Unavailable(f"starting: {what} is loading; retry in a few seconds")


_RESERVED_NAMES = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))}


def fiscal_year(value: object) -> int | None:
    """A B.E. or C.E. year as B.E. (None stays None); an InputError when it is not a year."""
    return parse_year(value) if value is not None else None  # type: ignore[arg-type]
