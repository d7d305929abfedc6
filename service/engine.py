"""Building the objects every entry point needs: catalog, encoder (cached under the data dir), aligner.

The CLI and the HTTP API share this so that they give the same answers for the same inputs.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from planalign.config import resolve_data_dir
from planalign.corpora.catalog import Catalog, load_catalog
from planalign.corpora.labelled import parse_columns, read_labelled
from planalign.corpora.tables import Table, read_table
from planalign.index.align import Aligner
from planalign.index.project_index import IndexStateError, ProjectIndex, SyncResult, indexed_encoder, load_index, sync_index
from planalign.index.store import ENV_DB_URL, ProjectStore, default_url
from planalign.nlp.encoders import Encoder, get_encoder
from planalign.nlp.encoders.factory import CASCADE, CASCADE_BELOW, DEFAULT_ENCODER, DEFAULT_INDEX_ENCODER


def cached_encoder(name: str | None, data_dir: str | Path | None) -> Encoder:
    return get_encoder(name or DEFAULT_ENCODER, cache_dir=resolve_data_dir(data_dir) / "cache")


def make_aligner(catalog: Catalog, encoder: str | None, data_dir: str | Path | None) -> Aligner:
    """An aligner for ``encoder``; ``cascade`` is the static fast path with e5 for uncertain drafts."""
    if encoder == CASCADE:
        fast = Aligner(catalog, cached_encoder("static", data_dir))
        return fast.with_fallback(Aligner(catalog, cached_encoder("e5", data_dir)), CASCADE_BELOW)
    return Aligner(catalog, cached_encoder(encoder, data_dir))


def guess_text_column(table: Table, exclude: set[str]) -> str:
    """The column with the longest texts on average: the draft text in a labelled file."""
    candidates = [c for c in table.columns if c not in exclude]
    if not candidates:
        raise ValueError("the training file has no text column besides the label column")
    sample = table.rows[:500]
    return max(candidates, key=lambda c: sum(len(r.get(c, "")) for r in sample))


def build_aligner(
    catalog: str | Catalog | None = None,
    encoder: str | None = None,
    data_dir: str | Path | None = None,
    train: str | Path | Table | None = None,
    label_column: str | None = None,
    train_text_columns: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[Aligner, list[tuple[int, str]]]:
    """An aligner for the catalog, fitted on ``train`` (a file or a table already read) when given.

    Returns it with the training rows that were skipped, and why.
    """
    if train is not None and not label_column:
        raise ValueError("--train needs --label-col (the column with node ids or names)")
    catalog = catalog if isinstance(catalog, Catalog) else load_catalog(catalog)
    aligner = make_aligner(catalog, encoder, data_dir)
    if train is None:
        return aligner, []
    table = train if isinstance(train, Table) else read_table(train)
    columns = parse_columns(train_text_columns) if train_text_columns else [guess_text_column(table, {label_column})]
    labelled = read_labelled(table, columns, label_column, catalog)
    aligner.fit_examples(labelled.texts, labelled.labels, progress)
    return aligner, labelled.skipped


class Workspace:
    """The data directory's store and index, opened lazily; one per command or service process."""

    def __init__(self, data_dir: str | Path | None = None, db_url: str | None = None) -> None:
        self.data_dir = resolve_data_dir(data_dir)
        self.db_url = db_url or os.environ.get(ENV_DB_URL) or default_url(self.data_dir)
        self._store: ProjectStore | None = None

    @property
    def store(self) -> ProjectStore:
        if self._store is None:
            self._store = ProjectStore(self.db_url)
        return self._store

    def index(self) -> ProjectIndex:
        index = load_index(self.data_dir)
        if index is None:
            raise IndexStateError(f"no index in {self.data_dir}: ingest projects first (planalign ingest FILE)")
        return index

    def index_encoder(self, index: ProjectIndex) -> Encoder:
        """Queries must be embedded by the encoder that built the index."""
        return cached_encoder(index.encoder_name, self.data_dir)

    def sync(self, encoder: str | None = None, rebuild: bool = False, backend: str = "auto", progress: Callable[[int], None] | None = None) -> SyncResult:
        name = encoder or indexed_encoder(self.data_dir) or DEFAULT_INDEX_ENCODER
        return sync_index(self.data_dir, self.store, cached_encoder(name, self.data_dir), rebuild=rebuild, backend=backend, progress=progress)
