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
"""
from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from planalign.config import Settings
from planalign.corpora.catalog import BUILTIN_CATALOGS, Catalog, CatalogError, catalog_to_table, load_catalog
from planalign.corpora.labelled import join_text_columns, parse_columns, read_labelled
from planalign.corpora.projects import Project, parse_year
from planalign.corpora.tables import Table, write_table
from planalign.decisions import DecisionInput, check, declared, from_table
from planalign.errors import InputError, NotFound
from planalign.index.align import Aligner, Alignment
from planalign.index.classify import Classified, classify_table, guess_text_column
from planalign.index.decisions import DecisionStore, Recorded
from planalign.index.dedup import DedupConfig, DedupRecord, DedupResult, Match, check_draft, find_duplicates, make_records
from planalign.index.evaluation import Report, evaluate_alignments
from planalign.index.hybrid import Filters, Hit, rank_positions, to_hits
from planalign.index.project_index import (
    IndexStateError,
    ProjectIndex,
    SyncResult,
    index_root,
    indexed_encoder,
    load_index,
    read_pointer,
    sync_index,
)
from planalign.index.store import ProjectStore, UpsertResult, default_url
from planalign.nlp.encoders import Encoder, get_encoder
from planalign.nlp.encoders.factory import CASCADE, CASCADE_BELOW

Progress = Callable[[int], None]
UPLOADED_CATALOG_ID = r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}$"
FACET_FIELDS = (("year", "fiscal_year"), ("district_group", "district_group"), ("dimension", "dimension_id"))
FACET_DEPTH = 200  # facets count the best 200 matches, as a reviewer scanning results would


@dataclass
class AlignOutcome:
    """A draft's alignment, what answered it, and possible duplicates already in the store."""

    alignment: Alignment
    catalog: str
    encoder: str
    duplicates: list[Match] = field(default_factory=list)
    model_version: int = 0  # 0: zero-shot; n: the n-th model learned from the catalog's decisions
    examples: int = 0  # decisions (texts) that model learned from


@dataclass
class IngestOutcome:
    stored: UpsertResult
    index: SyncResult
    declared: Recorded = field(default_factory=Recorded)


@dataclass
class SearchPage:
    hits: list[Hit]
    total: int
    facets: dict[str, dict[str, int]]


@dataclass
class DuplicateSet:
    """Duplicate pairs over some records, with what a caller shows of each record."""

    ids: list[str]
    records: list[DedupRecord]
    result: DedupResult
    orgs: list[str] | None = None
    years: list[str] | None = None


class Application:
    """Everything a planalign process does, behind one object built from settings."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings.load()
        self.data_dir = self.settings.resolved_data_dir()
        self.cache_dir = self.data_dir / "cache"
        self.catalog_dir = self.data_dir / "catalogs"
        self._store: ProjectStore | None = None
        self._lock = threading.RLock()  # guards the attributes below, held only briefly (re-entered: jobs need the store)
        self._aligners: dict[tuple, Aligner] = {}
        self._building: dict[tuple, threading.Lock] = {}
        self._index: ProjectIndex | None = None
        self._index_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._duplicates: dict[tuple, DuplicateSet] = {}
        self._jobs = None
        self._learning = None

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
        if self._store is not None:
            self._store.close()

    def encoder(self, name: str | None = None) -> Encoder:
        """The shared encoder ``name`` (default: the drafts' encoder), cached under the data directory."""
        return get_encoder(name or self.settings.encoder, self.cache_dir)

    # ------------------------------------------------------------------------------ catalogs
    def catalog_ids(self) -> list[str]:
        uploaded = sorted(p.stem for p in self.catalog_dir.glob("*.csv")) if self.catalog_dir.is_dir() else []
        return list(BUILTIN_CATALOGS) + [c for c in uploaded if c not in BUILTIN_CATALOGS]

    def catalog(self, ref: str | None = None, *, allow_path: bool = False) -> Catalog:
        """A catalog by id (built-in or uploaded); ``allow_path``: also a file (the CLI's owner only).

        The configured default (``PLANALIGN_CATALOG``) may be a file: the machine's owner set it.
        """
        if ref is None:
            ref, allow_path = self.settings.catalog, True
        if ref in BUILTIN_CATALOGS:
            return load_catalog(ref)
        path = self.catalog_dir / f"{ref}.csv"
        if re.match(UPLOADED_CATALOG_ID, ref) and path.is_file():
            catalog = load_catalog(path)
            catalog.name = ref
            return catalog
        if allow_path:
            return load_catalog(ref)
        raise NotFound(f"no catalog {ref!r}; available: {', '.join(self.catalog_ids())}")

    def add_catalog(self, catalog_id: str, catalog: Catalog) -> Catalog:
        """Store a validated uploaded catalog (atomic write: a failed upload changes nothing)."""
        if not re.match(UPLOADED_CATALOG_ID, catalog_id) or catalog_id in BUILTIN_CATALOGS or catalog_id.upper() in _RESERVED_NAMES:
            raise CatalogError(catalog_id, [(None, "catalog id must be 1-64 of A-Z a-z 0-9 _ . - (not starting with a dot) and not a built-in name")])
        self.catalog_dir.mkdir(exist_ok=True)
        table = catalog_to_table(catalog)
        write_table(self.catalog_dir / f"{catalog_id}.csv", table.columns, table.rows)
        with self._lock:
            for key in [k for k in self._aligners if k[0] == catalog_id]:
                del self._aligners[key]
        catalog.name = catalog_id
        return catalog

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
        resolved = self.catalog(catalog, allow_path=allow_path)
        key = (catalog or self.settings.catalog, encoder or self.settings.encoder, _catalog_stamp(resolved))
        with self._lock:
            if key in self._aligners:
                return self._aligners[key]
            building = self._building.setdefault(key, threading.Lock())
        with building:  # only callers of this very aligner wait while it embeds its catalog
            with self._lock:
                if key in self._aligners:
                    return self._aligners[key]
            aligner = self.new_aligner(resolved, key[1])
            with self._lock:
                self._aligners[key] = aligner
                self._building.pop(key, None)
            return aligner

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
            raise InputError("--train needs --label-col (the column with node ids or names)")
        aligner = self.new_aligner(self.catalog(catalog, allow_path=True), encoder)
        columns = parse_columns(text_columns) if text_columns else [guess_text_column(train, {label_column})]
        labelled = read_labelled(train, columns, label_column, aligner.catalog)
        aligner.fit_examples(labelled.texts, labelled.labels, progress)
        return aligner, labelled.skipped

    # ------------------------------------------------------------------------------ alignment
    def align(self, draft: str, *, aligner: Aligner, level: str | None = None, top_k: int = 3,
              check_duplicates: bool = False) -> AlignOutcome:
        """Suggestions for one draft (and its duplicates in the store when asked and indexed)."""
        alignment = aligner.align(draft, top_k=top_k, level=level)
        duplicates = self.check_duplicates(draft) if check_duplicates and self.index() is not None else []
        return AlignOutcome(alignment, aligner.catalog.name, _encoder_label(aligner), duplicates, aligner.model_version, aligner.examples)

    def classify(self, table: Table, text_columns: list[str], *, aligner: Aligner, level: str | None = None,
                 progress: Progress | None = None) -> Classified:
        return classify_table(table, text_columns, aligner, level, progress)

    def evaluate(self, table: Table, text_columns: list[str], label_column: str, *, aligner: Aligner,
                 progress: Progress | None = None) -> tuple[Report, int]:
        """Quality on a labelled table at the level of its labels; returns the report and rows skipped."""
        gold = read_labelled(table, text_columns, label_column, aligner.catalog)
        level = aligner.catalog.nodes[gold.labels[0][0]].level
        results = aligner.align_many(gold.texts, top_k=3, level=level, progress=progress)
        return evaluate_alignments(aligner.catalog, results, gold.labels, level), len(gold.skipped)

    # ---------------------------------------------------------------------------- the index
    def index(self) -> ProjectIndex | None:
        """The current index version; follows writers (this process's or another's) cheaply."""
        pointer = read_pointer(index_root(self.data_dir))
        have = self._index
        if pointer is None:
            return None
        if have is not None and (have.generation, have.deltas) == pointer:
            return have
        with self._index_lock:
            have = self._index
            if have is None or (have.generation, have.deltas) != pointer:
                self._index = load_index(self.data_dir, have)
            return self._index

    def require_index(self) -> ProjectIndex:
        index = self.index()
        if index is None:
            raise IndexStateError(f"no projects indexed yet in {self.data_dir}: ingest projects first (planalign ingest FILE)")
        return index

    def index_encoder(self, index: ProjectIndex) -> Encoder:
        """Queries must be embedded by the encoder that built the index."""
        return self.encoder(index.encoder_name)

    def sync(self, encoder: str | None = None, *, only: Sequence[str] | None = None, rebuild: bool = False,
             backend: str = "auto", progress: Progress | None = None) -> SyncResult:
        """Bring the index in line with the store (``encoder`` only for a new or rebuilt index)."""
        name = encoder or indexed_encoder(self.data_dir) or self.settings.index_encoder
        with self._write_lock:
            result, index = sync_index(self.data_dir, self.store, self.encoder(name), current=self._index, only=only,
                                       rebuild=rebuild, backend=backend, progress=progress)
            with self._index_lock:
                self._index = index
        return result

    def ingest(self, projects: Sequence[Project], *, encoder: str | None = None, progress: Progress | None = None,
               who: str = "local") -> IngestOutcome:
        """Upsert projects into the store, index what changed, and keep their declared alignment as decisions."""
        stored = self.store.upsert(projects)
        first = self.index() is None
        outcome = IngestOutcome(stored, self.sync(encoder, only=None if first else stored.changed, progress=progress))
        outcome.declared = self.declare(projects, who)
        return outcome

    # ----------------------------------------------------------------------------- decisions
    def decide(self, items: Sequence[DecisionInput], *, catalog: str | None = None, who: str = "local",
               committed: Progress | None = None, chunk: int = 500) -> Recorded:
        """Check every decision (one bad one stores none), store those that change a label, ask for a refit."""
        catalog_id = self.catalog_id(catalog)
        checked = check(items, self.catalog(catalog), catalog_id, who)
        recorded = self.decisions.record(checked, chunk=chunk, committed=committed)
        if recorded.stored:
            self.learning.changed(catalog_id)
        return recorded

    def import_decisions(self, table: Table, text_columns: list[str], label_column: str, *, catalog: str | None = None,
                         level: str | None = None, source: str = "imported", project_column: str | None = None, who: str = "local",
                         committed: Progress | None = None, chunk: int = 500) -> Recorded:
        """A file's rows as decisions (row numbers in errors as in a spreadsheet)."""
        catalog_id = self.catalog_id(catalog)
        items = from_table(table, text_columns, label_column, level, source, project_column)
        checked = check(items, self.catalog(catalog), catalog_id, who, first=2, what="row")
        recorded = self.decisions.record(checked, chunk=chunk, committed=committed)
        if recorded.stored:
            self.learning.changed(catalog_id)
        return recorded

    def declare(self, projects: Sequence[Project], who: str = "local") -> Recorded:
        """The alignment the projects' forms declare, as ``declared`` decisions on the default catalog."""
        try:
            catalog = self.catalog()
        except InputError:  # a configured catalog that cannot be read: nothing to declare against
            return Recorded()
        items = declared(projects, catalog)
        return self.decide(items, who=who) if items else Recorded()

    def refit(self, catalog: str | None = None, encoder: str | None = None, progress: Progress | None = None):
        """Fit the catalog's model on its decisions now (if they changed); returns it, or None without decisions."""
        return self.learning.refit(self.catalog_id(catalog), self.aligner(catalog, encoder, learn=False), progress)

    def delete(self, ids: Sequence[str]) -> tuple[list[str], SyncResult]:
        found = self.store.delete(ids)
        return found, self.sync(only=found)

    def reindex(self, encoder: str | None = None, backend: str = "auto", progress: Progress | None = None) -> SyncResult:
        return self.sync(encoder, rebuild=True, backend=backend, progress=progress)

    # -------------------------------------------------------------------------------- search
    def search(self, query: str, *, filters: Filters | None = None, mode: str = "hybrid", offset: int = 0,
               limit: int = 10, facets: bool = False) -> SearchPage:
        index = self.require_index()
        encoder = self.index_encoder(index) if mode != "keyword" else None
        depth = max(FACET_DEPTH, offset + limit) if facets else offset + limit
        ranked = rank_positions(index, encoder, query, mode, filters or Filters(), depth)
        counts: dict[str, dict[str, int]] = {}
        for name, meta in FACET_FIELDS if facets else ():
            values = [index.meta[meta][p] for p, _ in ranked[:FACET_DEPTH]]
            counted: dict[str, int] = {}
            for value in values:
                if value not in ("", None):
                    counted[str(value)] = counted.get(str(value), 0) + 1
            counts[name] = dict(sorted(counted.items(), key=lambda item: -item[1]))
        hits = to_hits(index, self.store, ranked[offset : offset + limit], query)
        return SearchPage(hits, len(ranked), counts)

    # ---------------------------------------------------------------------------- duplicates
    def check_duplicates(self, text: str, config: DedupConfig | None = None) -> list[Match]:
        index = self.require_index()
        if not text.strip():
            raise InputError("empty text")
        return check_draft(index, self.store, self.index_encoder(index), text, config)

    def duplicate_clusters(self, year: int | None = None, across: bool = True, config: DedupConfig | None = None) -> DuplicateSet:
        """Duplicates among stored projects, computed once per index version and filter."""
        index = self.require_index()
        config = config or DedupConfig(across_groups=across)
        key = (index.version, year, config)
        with self._lock:
            cached = self._duplicates.get(key)
        if cached is not None:
            return cached
        candidates = index.live_positions(index.mask(fiscal_year=year))
        projects = self.store.get([index.ids[p] for p in candidates])
        positions = [p for p in candidates if index.ids[p] in projects]
        kept = [projects[index.ids[p]] for p in positions]
        records = make_records([p.search_text() for p in kept], index.vectors.vectors[positions], names=[p.name for p in kept],
                               groups=[p.district or p.org for p in kept], tokens=[index.keyword.tokens[p] for p in positions])
        found = DuplicateSet([p.id for p in kept], records, find_duplicates(records, config), [p.org for p in kept],
                             [str(p.fiscal_year or "") for p in kept])
        with self._lock:
            self._duplicates = {k: v for k, v in self._duplicates.items() if k[0] == index.version}
            self._duplicates[key] = found
        return found

    def duplicates_in_table(self, table: Table, text_columns: list[str], *, id_column: str | None = None,
                            group_column: str | None = None, encoder: str | None = None, config: DedupConfig | None = None,
                            progress: Progress | None = None) -> DuplicateSet:
        """Duplicates among a file's rows (no store); without an id column a row is its 0-based number."""
        table.require([*text_columns] + [c for c in (id_column, group_column) if c])
        numbered = [(str(n), r) for n, r in enumerate(table.rows) if join_text_columns(r, text_columns)]
        texts = [join_text_columns(r, text_columns) for _, r in numbered]
        vectors = self.encoder(encoder or self.settings.index_encoder).encode_passages([t[:2000] for t in texts], progress)
        groups = [r[group_column] for _, r in numbered] if group_column else None
        records = make_records(texts, vectors, groups=groups)
        ids = [r[id_column] for _, r in numbered] if id_column else [n for n, _ in numbered]
        return DuplicateSet(ids, records, find_duplicates(records, config))

    # ----------------------------------------------------------------------------- warm-up
    def warm_up(self) -> None:
        """Load the drafts' encoder, embed the default catalog and load its learned model before the first request needs them."""
        self.aligner()
        self.index()


_RESERVED_NAMES = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))}


def _catalog_stamp(catalog: Catalog) -> str:
    """Changes when a catalog's content changes (an uploaded catalog replaced under the same id)."""
    return str(hash(tuple((n.id, n.parent_id, n.level, n.name, n.description, n.keywords) for n in catalog)))


def _encoder_label(aligner: Aligner) -> str:
    return CASCADE if aligner.fallback is not None else aligner.encoder.name


def fiscal_year(value: object) -> int | None:
    """A B.E. or C.E. year as B.E. (None stays None); an InputError when it is not a year."""
    return parse_year(value) if value is not None else None  # type: ignore[arg-type]
