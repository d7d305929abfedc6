"""The persisted search index over the project store: vectors, BM25 tokens and filter metadata.

The index is a derived copy of the store, kept in sync by :meth:`ProjectIndex.sync`, which embeds
and tokenizes only projects that are new or changed. Each sync writes a complete new *generation*
directory and then switches the ``CURRENT`` pointer with an atomic rename, so a crash or a kill at
any moment leaves either the old or the new generation in use, never a half-written one.
"""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Iterator

import numpy as np

from planalign.index.keyword import KeywordIndex
from planalign.index.store import ProjectStore
from planalign.index.vectors import VectorIndex
from planalign.nlp.encoders import Encoder
from planalign.nlp.encoders.static import StaticEncoder
from planalign.nlp.normalize import normalize
from planalign.nlp.tokenize import content_tokens

META_FIELDS = ("fiscal_year", "org", "district", "district_group", "dimension_id")
FORMAT_VERSION = 1
Progress = Callable[[int], None]


class IndexStateError(RuntimeError):
    """The index is missing or does not fit the request (e.g. built with another encoder)."""


@dataclass
class SyncResult:
    added: int
    removed: int
    total: int


class ProjectIndex:
    """One loaded generation: positions 0..n-1 map to project ids."""

    def __init__(self, encoder_name: str, ids: list[str], hashes: list[str], meta: dict[str, list], vectors: VectorIndex, keyword: KeywordIndex) -> None:
        self.encoder_name = encoder_name
        self.ids = ids
        self.hashes = hashes
        self.meta = meta
        self.vectors = vectors
        self.keyword = keyword
        self.position = {pid: i for i, pid in enumerate(ids)}
        self._meta_arrays: dict[str, np.ndarray] = {}  # per filter field, built on first use

    @cached_property
    def centroid(self) -> np.ndarray:
        """Mean document vector, for centered cosines (duplicate checks); computed once per generation."""
        return self.vectors.vectors.mean(axis=0)

    def __len__(self) -> int:
        return len(self.ids)

    def mask(self, **filters: object) -> np.ndarray | None:
        """Boolean mask of positions matching every given filter (None values are ignored)."""
        mask: np.ndarray | None = None
        for name, wanted in filters.items():
            if wanted is None or wanted == "":
                continue
            values = self._meta_arrays.get(name)
            if values is None:
                values = self._meta_arrays[name] = np.asarray(self.meta[name], dtype=object)
            hit = values == wanted
            mask = hit if mask is None else mask & hit
        return mask


def index_root(data_dir: Path) -> Path:
    return data_dir / "index"


@contextmanager
def _write_lock(root: Path) -> Iterator[None]:
    """One writer at a time per data directory (readers never wait: they read a finished generation)."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def current_generation(root: Path) -> Path | None:
    pointer = root / "CURRENT"
    if not pointer.is_file():
        return None
    generation = root / pointer.read_text(encoding="utf-8").strip()
    return generation if (generation / "manifest.json").is_file() else None


def indexed_encoder(data_dir: Path) -> str | None:
    """The encoder of the current generation, from its manifest alone (no vectors, no BM25 rebuild)."""
    generation = current_generation(index_root(data_dir))
    if generation is None:
        return None
    return json.loads((generation / "manifest.json").read_text(encoding="utf-8"))["encoder"]


def load_index(data_dir: Path) -> ProjectIndex | None:
    """The current generation, or None when nothing was indexed yet."""
    generation = current_generation(index_root(data_dir))
    if generation is None:
        return None
    manifest = json.loads((generation / "manifest.json").read_text(encoding="utf-8"))
    ids = json.loads((generation / "ids.json").read_text(encoding="utf-8"))
    extra = json.loads((generation / "meta.json").read_text(encoding="utf-8"))
    return ProjectIndex(
        manifest["encoder"],
        ids,
        extra.pop("content_hash"),
        extra,
        VectorIndex.load(generation, manifest["backend"]),
        KeywordIndex.load(generation),
    )


def sync_index(
    data_dir: Path,
    store: ProjectStore,
    encoder: Encoder,
    rebuild: bool = False,
    backend: str = "auto",
    progress: Progress | None = None,
) -> SyncResult:
    """Bring the index in line with the store; only new or changed projects are embedded."""
    root = index_root(data_dir)
    with _write_lock(root):
        old = None if rebuild else load_index(data_dir)
        if old is not None and old.encoder_name != encoder.name:
            raise IndexStateError(f"the index was built with encoder {old.encoder_name!r}; run `planalign reindex --encoder {encoder.name}` to rebuild it")
        keep_rows: list[int] = []
        changed: list[str] = []
        # The store keeps each project's content hash: comparing hashes finds what changed without
        # loading (or re-hashing) the projects that did not.
        wanted = store.content_hashes()
        for project_id, digest in wanted.items():
            position = old.position.get(project_id) if old else None
            if position is not None and old.hashes[position] == digest:
                keep_rows.append(position)
            else:
                changed.append(project_id)
        loaded = store.get(changed)
        new_projects = [loaded[i] for i in changed]
        removed = (len(old) - len(keep_rows)) if old else 0
        if old is not None and not new_projects and not removed:
            return SyncResult(0, 0, len(old))
        texts = [normalize(p.search_text()) for p in new_projects]
        new_tokens = [content_tokens(t, normalized=True) for t in texts]
        if isinstance(encoder, StaticEncoder):  # it embeds the words just split instead of splitting again
            new_vectors = encoder.encode_tokens(new_tokens, "passage", progress)
        else:
            new_vectors = encoder.encode_passages([t[:2000] for t in texts], progress)
        ids = [old.ids[i] for i in keep_rows] + [p.id for p in new_projects] if old else [p.id for p in new_projects]
        hashes = [wanted[i] for i in ids]
        meta = {
            name: ([old.meta[name][i] for i in keep_rows] if old else []) + [getattr(p, name) for p in new_projects]
            for name in META_FIELDS
        }
        old_vectors = old.vectors.vectors[keep_rows] if old and keep_rows else np.zeros((0, encoder.dim), dtype=np.float32)
        vectors = np.vstack([old_vectors, new_vectors]) if len(new_vectors) else old_vectors
        tokens = ([old.keyword.tokens[i] for i in keep_rows] if old else []) + new_tokens
        index = ProjectIndex(encoder.name, ids, hashes, meta, VectorIndex(vectors, backend), KeywordIndex(tokens))
        _write_generation(root, index)
        return SyncResult(len(new_projects), removed, len(ids))


def _write_generation(root: Path, index: ProjectIndex) -> None:
    name = f"gen-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
    staging = root / f".{name}.partial"
    staging.mkdir(parents=True)
    index.vectors.save(staging)
    index.keyword.save(staging)
    (staging / "ids.json").write_text(json.dumps(index.ids, ensure_ascii=False), encoding="utf-8")
    (staging / "meta.json").write_text(json.dumps({**index.meta, "content_hash": index.hashes}, ensure_ascii=False), encoding="utf-8")
    manifest = {"version": FORMAT_VERSION, "encoder": index.encoder_name, "backend": index.vectors.backend, "count": len(index.ids), "created": time.time()}
    (staging / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    _pause_for_crash_test()
    os.rename(staging, root / name)
    pointer = root / ".CURRENT.partial"
    pointer.write_text(name, encoding="utf-8")
    os.replace(pointer, root / "CURRENT")  # the atomic switch
    for stale in root.iterdir():
        if stale.name.startswith(("gen-", ".gen-")) and stale.name != name:
            shutil.rmtree(stale, ignore_errors=True)


def _pause_for_crash_test() -> None:
    """Tests kill the process here, mid-write, to prove the old generation stays usable."""
    delay = os.environ.get("PLANALIGN_TEST_PAUSE_BEFORE_SWITCH")
    if delay:
        time.sleep(float(delay))
