"""The persisted search index over the project store: vectors, BM25 and filter metadata.

The index is a derived copy of the store, kept in sync by :func:`sync_index`, which embeds and
tokenizes only projects that are new or changed.

On disk an index is a *generation* directory (every row written in full) plus *deltas*: small
files of rows added and ids removed since. ``CURRENT`` names the generation and how many of its
deltas count. Every file is written beside its place and renamed into it, and ``CURRENT`` is
switched last with an atomic rename, so a crash or a kill at any moment leaves the previous state
in use, never a half-written one. A change to a few projects appends one delta (milliseconds at
117k projects: the vectors are appended to the faiss index, the words to the BM25 matrix, and
replaced rows are tombstoned); a large change, or deltas grown past a share of the generation,
writes a new generation (compaction).

In memory an index is an immutable *version*: applying a delta returns a new version, so a
request that started on the old one finishes on it undisturbed.

Damage: when the newest state fails to load (a truncated or missing file), :func:`load_latest`
falls back to the newest state that does load: the same generation with fewer deltas, else the
generation it replaced (``PREVIOUS``, kept on disk for that), and says so (``Loaded.problems``).
The next :func:`sync_index` then compares every stored project with that older state and writes a
fresh generation, which repairs the index. Generations replaced less than
:data:`GENERATION_GRACE_S` ago are kept too, so a reader in another process that is still loading
one never finds its files deleted under it (and a reader that does fail because the state moved
on retries on the new state).

Every row has two vectors (two *views* of the same text): the passage view (``passage:`` for e5),
searched by the vector backend, and the query view (``query:`` for e5, the query-side word table for
``static``; the same vector twice for encoders without sides, ``tfidf`` and ``use``). Search compares
a query with both (symmetric and asymmetric similarity, index/hybrid.py) and the duplicate decision
compares query views (index/dedup.py). The query view is stored beside the backend's files
(``query_vectors.npy``, and in each delta). A generation written before the query view existed has
no such file: it loads with the passage view standing in for it (search and duplicates work, with
the quality measured before issue 11) until ``planalign reindex`` rebuilds it.
"""
from __future__ import annotations

import copy
import fcntl
import io
import itertools
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from planalign.corpora.projects import Project
from planalign.errors import Conflict
from planalign.index.ann import AnnIndex, load_ann, make_ann
from planalign.index.keyword import KeywordIndex
from planalign.index.store import ProjectStore
from planalign.nlp.encoders import Encoder
from planalign.nlp.encoders.base import EMBED_CHARS, TokenEncoder
from planalign.nlp.normalize import normalize
from planalign.nlp.tokenize import TOKENS_VERSION, content_tokens, index_words

META_FIELDS = ("fiscal_year", "org", "district", "district_group", "dimension_id")
FORMAT_VERSION = 2
# Deltas are compacted into a new generation once they hold the larger of this many rows and this share of it:
# past that, tombstones waste search depth and appended BM25 weights drift from the statistics.
COMPACT_MIN_ROWS = 2_000
COMPACT_SHARE = 0.10
# A replaced generation stays on disk this long (besides the one before the current): a process
# that read CURRENT just before the switch may still be loading its files.
GENERATION_GRACE_S = 600.0
LOAD_ATTEMPTS = 3
QUERY_VIEW_FILE = "query_vectors.npy"
EMBED_CHUNK = 64  # texts per progress step (for model encoders: at least their batch)
Progress = Callable[[int], None]


class IndexStateError(Conflict):
    """The index is missing or does not fit the request (e.g. built with another encoder)."""


class IndexDamaged(Exception):
    """An index file is missing, truncated or unreadable (not the user's fault: logged and repaired)."""


@dataclass
class SyncResult:
    added: int
    removed: int
    total: int
    compacted: bool = False
    pending: int = 0  # changed projects queued for the background indexer, not yet searchable


@dataclass
class Rows:
    """New rows for the index: one per project, in the order given."""

    ids: list[str]
    hashes: list[str]
    meta: dict[str, list]
    tokens: list[list[str]]
    vectors: np.ndarray
    query_vectors: np.ndarray | None = None  # the query view (None: rows of an index without it)

    def __len__(self) -> int:
        return len(self.ids)


class RowBuffer:
    """Unit rows (the query view) with cheap appends: versions share a buffer grown by doubling,
    and an old version ignores the rows beyond its own size (as the vector backends do)."""

    def __init__(self, rows: np.ndarray) -> None:
        self._buffer = np.ascontiguousarray(rows, dtype=np.float32)
        self.size = len(self._buffer)

    @property
    def rows(self) -> np.ndarray:
        return self._buffer[: self.size]

    def appended(self, rows: np.ndarray) -> RowBuffer:
        rows = np.asarray(rows, dtype=np.float32).reshape(len(rows), self._buffer.shape[1])
        new = copy.copy(self)
        needed = self.size + len(rows)
        if needed > len(self._buffer):
            new._buffer = np.empty((max(needed, 2 * len(self._buffer), 16), self._buffer.shape[1]), dtype=np.float32)
            new._buffer[: self.size] = self.rows
        new._buffer[self.size : needed] = rows
        new.size = needed
        return new


@dataclass
class ProjectIndex:
    """One version of the index; positions 0..n-1 map to project ids (dead rows included)."""

    encoder_name: str
    ids: list[str]
    hashes: list[str]
    meta: dict[str, list]
    vectors: AnnIndex
    keyword: KeywordIndex
    alive: np.ndarray
    generation: str = ""
    deltas: int = 0
    query_vectors: RowBuffer | None = None  # the query view; None: a generation written without it
    tokens_version: int = TOKENS_VERSION  # of the tokenizer that cut the keyword rows (1: before it was recorded)
    position: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        self.position = {pid: i for i, pid in enumerate(self.ids) if self.alive[i]}

    @property
    def version(self) -> str:
        """Changes with every update: caches of derived results are keyed by it."""
        return f"{self.generation}+{self.deltas}"

    @property
    def dead(self) -> int:
        return len(self.ids) - len(self.position)

    def __len__(self) -> int:
        return len(self.position)

    def holds(self, project_id: str, content_hash: str) -> bool:
        """Whether this version holds the project with exactly this content (else it is to embed)."""
        position = self.position.get(project_id)
        return position is not None and self.hashes[position] == content_hash

    @cached_property
    def centroid(self) -> np.ndarray:
        """Mean vector of the live rows, for centered cosines; computed once per version."""
        live = self.vectors.vectors[self.alive] if self.dead else self.vectors.vectors
        return live.mean(axis=0) if len(live) else np.zeros(self.vectors.dim, dtype=np.float32)

    @property
    def has_query_view(self) -> bool:
        return self.query_vectors is not None

    @property
    def query_view(self) -> np.ndarray:
        """The query-view rows (the passage rows stand in for an index built without them)."""
        return self.query_vectors.rows if self.query_vectors is not None else self.vectors.vectors

    @cached_property
    def query_centroid(self) -> np.ndarray:
        """Mean query-view vector of the live rows: duplicates are compared centered on it."""
        live = self.query_view[self.alive] if self.dead else self.query_view
        return live.mean(axis=0) if len(live) else np.zeros(self.vectors.dim, dtype=np.float32)

    @cached_property
    def passage_centering(self) -> tuple[np.ndarray, np.ndarray]:
        """Per row: its passage vector's dot product with :attr:`centroid` and the norm of the
        passage vector minus the centroid, so centered cosines come from raw dot products
        (cos_c(q, d) = (q.d - q.m - d.m + m.m) / (|q - m| |d - m|)) without a centered copy."""
        rows = self.vectors.vectors
        dots = rows @ self.centroid
        norms = np.sqrt(np.maximum(1.0 - 2.0 * dots + float(self.centroid @ self.centroid), 1e-12))
        return dots.astype(np.float32), norms.astype(np.float32)

    @cached_property
    def _meta_arrays(self) -> dict[str, np.ndarray]:
        return {}

    def mask(self, **filters: object) -> np.ndarray | None:
        """Live positions matching every given filter (None values ignored); None = every row."""
        mask: np.ndarray | None = self.alive if self.dead else None
        for name, wanted in filters.items():
            if wanted is None or wanted == "":
                continue
            values = self._meta_arrays.get(name)
            if values is None:
                values = self._meta_arrays[name] = np.asarray(self.meta[name], dtype=object)
            hit = values == wanted
            mask = hit if mask is None else mask & hit
        return mask

    def live_positions(self, mask: np.ndarray | None = None) -> np.ndarray:
        mask = self.mask() if mask is None else mask
        return np.flatnonzero(mask) if mask is not None else np.arange(len(self.ids))

    def with_rows(self, rows: Rows, removed: Sequence[str] = ()) -> ProjectIndex:
        """A new version: ``rows`` appended (replacing live rows of the same id), ``removed`` dropped."""
        alive = np.concatenate([self.alive, np.ones(len(rows), dtype=bool)])
        for project_id in [*removed, *rows.ids]:
            position = self.position.get(project_id)
            if position is not None:
                alive[position] = False
        new = copy.copy(self)
        new.ids = self.ids + rows.ids
        new.hashes = self.hashes + rows.hashes
        new.meta = {name: self.meta[name] + rows.meta[name] for name in META_FIELDS}
        new.vectors = self.vectors.appended(rows.vectors) if len(rows) else self.vectors
        new.keyword = self.keyword.appended(rows.tokens) if len(rows) else self.keyword
        if self.query_vectors is not None and len(rows):
            new.query_vectors = self.query_vectors.appended(rows.query_vectors if rows.query_vectors is not None else rows.vectors)
        new.alive = alive
        new.deltas = self.deltas + 1
        new.__post_init__()
        for cached in ("centroid", "_meta_arrays", "query_centroid", "passage_centering"):
            new.__dict__.pop(cached, None)
        return new


# ---------------------------------------------------------------------------------------- files
def index_root(data_dir: Path) -> Path:
    return data_dir / "index"


@contextmanager
def _write_lock(root: Path) -> Iterator[None]:
    """One writer at a time per data directory (readers never wait: they read finished files)."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _parse_pointer(path: Path) -> tuple[str, int] | None:
    """(generation name, number of deltas) from a pointer file; None when it does not exist."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise IndexDamaged(f"{path.name} is unreadable ({type(exc).__name__})") from exc
    name, _, deltas = text.strip().partition("\n")
    if not name.startswith("gen-") or "/" in name or not (deltas or "0").strip().isdigit():
        raise IndexDamaged(f"{path.name} is damaged (it does not name a generation)")
    return name, int(deltas or 0)


def read_pointer(root: Path) -> tuple[str, int] | None:
    """(generation name, number of deltas) from ``CURRENT``, or None when nothing was indexed.

    A damaged ``CURRENT`` raises :class:`IndexDamaged`; a missing generation is found by loading.
    """
    return _parse_pointer(root / "CURRENT")


def current_generation(root: Path) -> Path | None:
    pointer = read_pointer(root)
    return root / pointer[0] if pointer else None


def indexed_encoder(data_dir: Path) -> str | None:
    """The encoder of the newest generation whose manifest reads (no vectors, no BM25)."""
    root = index_root(data_dir)
    for name in ("CURRENT", "PREVIOUS"):
        try:
            pointer = _parse_pointer(root / name)
            if pointer is not None:
                return str(json.loads((root / pointer[0] / "manifest.json").read_text(encoding="utf-8"))["encoder"])
        except (IndexDamaged, OSError, ValueError, KeyError):
            continue
    return None


@dataclass
class Loaded:
    """What :func:`load_latest` found: the newest version that loads, and what it had to skip."""

    index: ProjectIndex | None
    pointer: tuple[str, int] | None  # what CURRENT said
    problems: list[str] = field(default_factory=list)

    @property
    def exact(self) -> bool:
        """The loaded version is the one CURRENT names (nothing damaged was skipped)."""
        if self.pointer is None:
            return self.index is None and not self.problems
        return self.index is not None and (self.index.generation, self.index.deltas) == self.pointer


def load_index(data_dir: Path, have: ProjectIndex | None = None) -> ProjectIndex | None:
    """The current version on disk, or None when nothing was indexed yet; damage raises.

    ``have``: a version already in memory; when it is of the same generation only the deltas it
    lacks are read (a reader following a writer in another process does not reload 117k rows).
    """
    root = index_root(data_dir)
    pointer = read_pointer(root)
    if pointer is None:
        return None
    index, problem = _load_state(root, pointer, have)
    if problem is not None or index is None or index.deltas != pointer[1]:
        raise IndexDamaged(problem or f"generation {pointer[0]} did not load")
    return index


def load_latest(data_dir: Path, have: ProjectIndex | None = None) -> Loaded:
    """The newest version that loads: CURRENT, else fewer of its deltas, else PREVIOUS (with what it skipped)."""
    root = index_root(data_dir)
    problems: list[str] = []
    pointer: tuple[str, int] | None = None
    for _ in range(LOAD_ATTEMPTS):
        try:
            pointer = read_pointer(root)
        except IndexDamaged as exc:
            problems.append(str(exc))
            break
        if pointer is None:
            return Loaded(None, None)
        index, problem = _load_state(root, pointer, have)
        if problem is None:
            return Loaded(index, pointer)
        try:
            moved = read_pointer(root) != pointer
        except IndexDamaged:
            moved = False
        if not moved:  # damage, not a writer switching under us
            problems.append(problem)
            if index is not None:
                return Loaded(index, pointer, problems)
            break
    try:
        previous = _parse_pointer(root / "PREVIOUS")
    except IndexDamaged as exc:
        problems.append(str(exc))
        previous = None
    if previous is not None and (pointer is None or previous[0] != pointer[0]):
        index, problem = _load_state(root, previous, None)
        if problem is not None:
            problems.append(problem)
        if index is not None:
            problems.append(f"serving the previous generation {index.generation} (+{index.deltas} deltas) until the index is rebuilt")
            return Loaded(index, pointer, problems)
    problems.append("no generation could be loaded; the index will be rebuilt from the store")
    return Loaded(None, pointer, problems)


def _load_state(root: Path, pointer: tuple[str, int], have: ProjectIndex | None) -> tuple[ProjectIndex | None, str | None]:
    """Generation + deltas as far as they load: (version or None, what failed or None)."""
    name, deltas = pointer
    generation = root / name
    try:
        if have is not None and have.generation == name and have.deltas <= deltas:
            index = have
        else:
            index = _read_generation(generation, name)
    except Exception as exc:  # a truncated npy/faiss/json file raises many types
        return None, _damage(name, exc)
    while index.deltas < deltas:
        number = index.deltas + 1
        try:
            rows, removed = _read_delta(generation / _delta_name(number), index.vectors.dim)
        except Exception as exc:
            return index, _damage(f"{name}/{_delta_name(number)}", exc)
        index = index.with_rows(rows, removed)
    return index, None


def _read_generation(generation: Path, name: str) -> ProjectIndex:
    manifest = json.loads((generation / "manifest.json").read_text(encoding="utf-8"))
    ids = json.loads((generation / "ids.json").read_text(encoding="utf-8"))
    extra = json.loads((generation / "meta.json").read_text(encoding="utf-8"))
    hashes = extra.pop("content_hash")
    vectors = load_ann(generation, manifest["backend"])
    keyword = KeywordIndex.load(generation)
    query_view = _load_query_view(generation)
    if (not (len(ids) == len(hashes) == len(vectors) == keyword.size == manifest["count"])
            or any(len(v) != len(ids) for v in extra.values()) or (query_view is not None and query_view.size != len(ids))):
        raise IndexDamaged("its files disagree on the number of rows")
    return ProjectIndex(manifest["encoder"], ids, hashes, extra, vectors, keyword, np.ones(len(ids), dtype=bool), name, 0, query_view,
                        manifest.get("tokens", 1))


def _damage(where: str, exc: Exception) -> str:
    """A message naming the generation or file inside the index, never a server path."""
    if isinstance(exc, FileNotFoundError):
        what = f"missing file {Path(exc.filename).name}" if exc.filename else "a missing file"
    elif isinstance(exc, IndexDamaged):
        what = str(exc)
    else:
        what = f"unreadable ({type(exc).__name__})"
    return f"index {where} failed to load: {what}"


def _load_query_view(generation: Path) -> RowBuffer | None:
    path = generation / QUERY_VIEW_FILE
    return RowBuffer(np.load(path)) if path.is_file() else None


def _delta_name(number: int) -> str:
    return f"delta-{number:06d}.npz"


def _write_delta(generation: Path, number: int, rows: Rows, removed: Sequence[str]) -> None:
    payload = {"ids": rows.ids, "hashes": rows.hashes, "meta": rows.meta, "tokens": rows.tokens, "removed": list(removed)}
    buffer = io.BytesIO()
    arrays = {"vectors": rows.vectors.astype(np.float32), "payload": np.array(json.dumps(payload, ensure_ascii=False))}
    if rows.query_vectors is not None:
        arrays["query_vectors"] = rows.query_vectors.astype(np.float32)
    np.savez(buffer, **arrays)  # type: ignore[arg-type]
    _atomic_write(generation / _delta_name(number), buffer.getvalue(), pause=True)


def _read_delta(path: Path, dim: int) -> tuple[Rows, list[str]]:
    with np.load(path) as stored:
        payload = json.loads(str(stored["payload"]))
        vectors = stored["vectors"].reshape(-1, dim)
        queries = stored["query_vectors"].reshape(-1, dim) if "query_vectors" in stored.files else None
    return Rows(payload["ids"], payload["hashes"], payload["meta"], payload["tokens"], vectors, queries), payload["removed"]


def _atomic_write(path: Path, content: bytes, pause: bool = False) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(content)
    if pause:
        _pause_for_crash_test()
    os.replace(partial, path)


def _point(root: Path, name: str, deltas: int) -> None:
    """The atomic switch: readers see the old state or the new one, never a mix."""
    _atomic_write(root / "CURRENT", f"{name}\n{deltas}".encode())


def _write_generation(root: Path, index: ProjectIndex, previous: tuple[str, int] | None) -> str:
    """Write ``index`` as a new generation and switch to it; ``previous`` (a state that loads) becomes PREVIOUS."""
    name = f"gen-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
    staging = root / f".{name}.partial"
    staging.mkdir(parents=True)
    index.vectors.save(staging)
    index.keyword.save(staging)
    if index.query_vectors is not None:
        np.save(staging / QUERY_VIEW_FILE, index.query_vectors.rows)
    (staging / "ids.json").write_text(json.dumps(index.ids, ensure_ascii=False), encoding="utf-8")
    (staging / "meta.json").write_text(json.dumps({**index.meta, "content_hash": index.hashes}, ensure_ascii=False), encoding="utf-8")
    manifest = {"version": FORMAT_VERSION, "encoder": index.encoder_name, "backend": index.vectors.backend,
                "count": len(index.ids), "created": time.time(), "tokens": index.tokens_version}
    (staging / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    _pause_for_crash_test()
    os.rename(staging, root / name)
    if previous is not None:  # the fallback if this generation is damaged later
        _atomic_write(root / "PREVIOUS", f"{previous[0]}\n{previous[1]}".encode())
    _point(root, name, 0)
    _remove_stale(root, keep={name, previous[0] if previous else name})
    return name


def _remove_stale(root: Path, keep: set[str]) -> None:
    """Generations neither kept nor replaced within the grace period (a reader may still be loading those)."""
    def created(path: Path) -> float:
        try:
            return float(json.loads((path / "manifest.json").read_text(encoding="utf-8"))["created"])
        except (OSError, ValueError, KeyError, TypeError):
            return path.stat().st_mtime

    generations = sorted((created(p), p) for p in root.iterdir() if p.name.startswith("gen-") and p.is_dir())
    now = time.time()
    for (_, path), (replaced_at, _) in itertools.pairwise(generations):
        if path.name not in keep and now - replaced_at > GENERATION_GRACE_S:
            shutil.rmtree(path, ignore_errors=True)


def _remove_abandoned(root: Path) -> None:
    """Files a killed writer left half-written (only a writer holding the lock may call this)."""
    for path in [*root.glob(".gen-*.partial"), *root.glob("gen-*/.delta-*.partial")]:
        shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)


def _pause_for_crash_test() -> None:
    """Tests kill the process here, mid-write, to prove the old state stays usable."""
    delay = os.environ.get("PLANALIGN_TEST_PAUSE_BEFORE_SWITCH")
    if delay:
        time.sleep(float(delay))


# ----------------------------------------------------------------------------------------- sync
def embed_projects(projects: Sequence[Project], hashes: Sequence[str], encoder: Encoder, progress: Progress | None = None) -> Rows:
    """Index rows for projects: their words (for BM25) and both vector views (passage and query)."""
    tokens: list[list[str]] = []
    passages, queries = [], []
    # Split, embed and report chunk by chunk: progress moves evenly, and the service's indexer pauses
    # between chunks while requests wait (planalign/indexer.py), so a chunk must be short work. With
    # ``static`` the words are split and embedded 64 texts at a time (~0.1 s of Python holding the GIL).
    chunk = EMBED_CHUNK if isinstance(encoder, TokenEncoder) else max(EMBED_CHUNK, encoder.batch_size)
    for start in range(0, len(projects), chunk):
        texts = [normalize(p.search_text()) for p in projects[start : start + chunk]]
        words = [content_tokens(t, normalized=True) for t in texts]
        tokens.extend(index_words(w) for w in words)  # BM25's words; the encoders read the words as written
        if isinstance(encoder, TokenEncoder):  # it embeds the words just split instead of splitting again
            passage = encoder.encode_tokens(words, "passage")
            query = encoder.encode_tokens(words, "query")
        else:
            clipped = [t[:EMBED_CHARS] for t in texts]
            passage = encoder.encode_passages(clipped)
            query = passage if encoder.one_sided else encoder.encode_queries(clipped)
        passages.append(passage)
        queries.append(query)
        if progress:
            progress(len(words))
    shape = (len(projects), encoder.dim)
    vectors = np.vstack(passages).astype(np.float32).reshape(shape) if passages else np.zeros(shape, dtype=np.float32)
    query_vectors = np.vstack(queries).astype(np.float32).reshape(shape) if queries else np.zeros(shape, dtype=np.float32)
    meta = {name: [getattr(p, name) for p in projects] for name in META_FIELDS}
    return Rows([p.id for p in projects], list(hashes), meta, tokens, vectors, query_vectors)


def sync_index(
    data_dir: Path,
    store: ProjectStore,
    encoder: Encoder,
    *,
    current: ProjectIndex | None = None,
    only: Sequence[str] | None = None,
    rebuild: bool = False,
    backend: str = "auto",
    progress: Progress | None = None,
    planned: Progress | None = None,
) -> tuple[SyncResult, ProjectIndex | None]:
    """Bring the index in line with the store; only new or changed projects are embedded.

    ``current``: the caller's loaded version (saves a reload); ``only``: the ids that may have
    changed (a request's upsert), else every stored project is compared by content hash.
    ``planned`` is told how many projects will be embedded once that is known (for "n of m").
    When the newest state on disk was damaged, every stored project is compared with the state
    that loaded and a new generation is written: the repair. Returns what changed and the new version.
    """
    root = index_root(data_dir)
    with _write_lock(root):
        _remove_abandoned(root)
        loaded = Loaded(None, None) if rebuild else load_latest(data_dir, current)
        old = loaded.index
        repair = not rebuild and not loaded.exact
        if old is not None and old.encoder_name != encoder.name:
            raise IndexStateError(f"the index was built with encoder {old.encoder_name!r}; "
                                  f"run `planalign reindex --encoder {encoder.name}` to rebuild it",
                                  thai=f"ดัชนีสร้างด้วยตัวเข้ารหัส {old.encoder_name} สั่ง planalign reindex --encoder {encoder.name} เพื่อสร้างใหม่")
        if old is not None and old.tokens_version != TOKENS_VERSION:
            # Its keyword rows were cut by another tokenizer, and a delta or compaction would keep them:
            # every project is indexed again (the encoders' caches make the vectors cheap), the old
            # generation staying the fallback as for `planalign reindex`.
            rebuild, repair, only, old = True, False, None, None
        if repair:
            only = None
        wanted = store.content_hashes(only)
        indexed = old.position if old is not None else {}
        checked = list(only) if only is not None else list(indexed)
        removed = [pid for pid in checked if pid in indexed and pid not in wanted]
        changed = [pid for pid, digest in wanted.items() if old is None or not old.holds(pid, digest)]
        if planned:
            planned(len(changed))
        if old is not None and not changed and not removed and not repair:
            return SyncResult(0, 0, len(old)), old
        if old is None and not changed and loaded.pointer is None:
            return SyncResult(0, 0, 0), None  # nothing stored, nothing indexed: no empty generation
        loaded_projects = store.get(changed)
        changed = [pid for pid in changed if pid in loaded_projects]  # deleted meanwhile
        rows = embed_projects([loaded_projects[pid] for pid in changed], [wanted[pid] for pid in changed], encoder, progress)
        if not repair and old is not None and len(rows) + len(removed) + old.dead < max(COMPACT_MIN_ROWS, COMPACT_SHARE * len(old)):
            new = old.with_rows(rows, removed)
            _write_delta(root / old.generation, new.deltas, rows, removed)
            _point(root, old.generation, new.deltas)
            return SyncResult(len(rows), len(removed), len(new)), new
        new = _compacted(old, rows, removed, encoder.name, backend)
        new.generation = _write_generation(root, new, (old.generation, old.deltas) if old is not None else _intact_pointer(root) if rebuild else None)
        return SyncResult(len(rows), len(removed), len(new), compacted=True), new


def _intact_pointer(root: Path) -> tuple[str, int] | None:
    """CURRENT, when it names a generation whose manifest reads (a rebuild keeps it as the fallback)."""
    try:
        pointer = read_pointer(root)
    except IndexDamaged:
        return None
    return pointer if pointer is not None and (root / pointer[0] / "manifest.json").is_file() else None


def _compacted(old: ProjectIndex | None, rows: Rows, removed: Sequence[str], encoder_name: str, backend: str) -> ProjectIndex:
    """A whole new generation: the live rows of ``old`` that stay, then ``rows``."""
    gone = set(removed) | set(rows.ids)
    keep = [p for pid, p in sorted(old.position.items(), key=lambda item: item[1]) if pid not in gone] if old else []
    ids = [old.ids[p] for p in keep] + rows.ids if old else list(rows.ids)
    hashes = [old.hashes[p] for p in keep] + rows.hashes if old else list(rows.hashes)
    meta = {name: ([old.meta[name][p] for p in keep] if old else []) + rows.meta[name] for name in META_FIELDS}
    tokens = ([old.keyword.tokens[p] for p in keep] if old else []) + rows.tokens
    dim = rows.vectors.shape[1] if len(rows) else (old.vectors.dim if old else 1)
    kept_vectors = old.vectors.vectors[keep] if old and keep else np.zeros((0, dim), dtype=np.float32)
    vectors = np.vstack([kept_vectors, rows.vectors]) if len(rows) else kept_vectors
    # The query view: kept rows bring theirs; an old generation without it stays without it (reindex).
    query_view = None
    if rows.query_vectors is not None and (not keep or (old is not None and old.query_vectors is not None)):
        kept_queries = old.query_view[keep] if old and keep else np.zeros((0, dim), dtype=np.float32)
        query_view = RowBuffer(np.vstack([kept_queries, rows.query_vectors]) if len(rows) else kept_queries)
    return ProjectIndex(encoder_name, ids, hashes, meta, make_ann(vectors, backend), KeywordIndex(tokens), np.ones(len(ids), dtype=bool),
                        query_vectors=query_view)
