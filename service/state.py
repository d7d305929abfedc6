"""What a running service holds: workspace, catalogs (built-in and uploaded) and aligners.

Aligners embed their catalog once, so they are kept per (catalog, encoder); an uploaded catalog
replaces its cached aligner.
"""
from __future__ import annotations

import re
import threading
from pathlib import Path

from planalign.corpora.catalog import BUILTIN_CATALOGS, Catalog, CatalogError, load_catalog
from planalign.corpora.tables import write_table
from planalign.index.align import Aligner
from planalign.index.project_index import ProjectIndex, current_generation, index_root, load_index
from planalign.service.engine import Workspace, make_aligner
from planalign.service.settings import Settings

_CATALOG_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
CATALOG_COLUMNS = ["id", "parent_id", "level", "name", "description", "keywords"]


class UnknownCatalog(KeyError):
    """No catalog with that id."""


class ServiceState:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.workspace = Workspace(settings.data_dir, settings.db_url)
        self.catalog_dir = self.workspace.data_dir / "catalogs"
        self.catalog_dir.mkdir(exist_ok=True)
        self._aligners: dict[tuple[str, str], Aligner] = {}
        self._index: ProjectIndex | None = None
        self._index_generation: str | None = None
        self._lock = threading.RLock()
        self.ready_model = False
        self.jobs = None  # JobManager, attached by the app

    def warm_up(self) -> None:
        """Load the encoder and embed the default catalog before the first request needs them."""
        self.aligner()
        self.index()
        self.ready_model = True

    # ------------------------------------------------------------- catalogs
    def catalog_ids(self) -> list[str]:
        uploaded = sorted(p.stem for p in self.catalog_dir.glob("*.csv"))
        return list(BUILTIN_CATALOGS) + [c for c in uploaded if c not in BUILTIN_CATALOGS]

    def catalog(self, catalog_id: str | None) -> Catalog:
        catalog_id = catalog_id or self.settings.catalog
        if catalog_id in BUILTIN_CATALOGS:
            return load_catalog(catalog_id)
        path = self.catalog_dir / f"{catalog_id}.csv"
        if _CATALOG_ID.match(catalog_id) and path.is_file():
            catalog = load_catalog(path)
            catalog.name = catalog_id
            return catalog
        if Path(catalog_id).suffix and Path(catalog_id).is_file():  # a configured catalog file
            return load_catalog(catalog_id)
        raise UnknownCatalog(catalog_id)

    def add_catalog(self, catalog_id: str, catalog: Catalog) -> Catalog:
        """Store a validated uploaded catalog (atomic write: a failed upload changes nothing)."""
        if not _CATALOG_ID.match(catalog_id) or catalog_id in BUILTIN_CATALOGS:
            raise CatalogError(catalog_id, [(None, "catalog id must be 1-64 of A-Z a-z 0-9 _ . - and not a built-in name")])
        write_table(self.catalog_dir / f"{catalog_id}.csv", CATALOG_COLUMNS, catalog.to_rows())
        with self._lock:
            for key in [k for k in self._aligners if k[0] == catalog_id]:
                del self._aligners[key]
        return catalog

    # ------------------------------------------------------------- models
    def aligner(self, catalog_id: str | None = None) -> Aligner:
        catalog_id = catalog_id or self.settings.catalog
        key = (catalog_id, self.settings.encoder)
        with self._lock:
            if key not in self._aligners:
                self._aligners[key] = make_aligner(self.catalog(catalog_id), self.settings.encoder, self.workspace.data_dir)
            return self._aligners[key]

    def index(self) -> ProjectIndex | None:
        """The current index generation, reloaded when a writer has switched to a new one."""
        generation = current_generation(index_root(self.workspace.data_dir))
        with self._lock:
            if generation is None:
                return None
            if generation.name != self._index_generation:
                self._index = load_index(self.workspace.data_dir)
                self._index_generation = generation.name
            return self._index
