"""Strategy catalogs: list, browse as a tree, upload (validated)."""
from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from starlette.concurrency import run_in_threadpool

from planalign.app import Application
from planalign.corpora.catalog import Catalog, load_catalog
from planalign.errors import InputError
from planalign.service.api.deps import AppDep, CallerDep, audit, display_name, read_upload, refuse_unknown_form_fields, require_read_key, require_write_key, upload_path
from planalign.service.api.schemas import CatalogList, CatalogNode, CatalogRemoved, CatalogSummary, CatalogTree, CatalogUploaded

router = APIRouter(prefix="/v1/catalogs", tags=["catalogs"])
UPLOAD_SUFFIXES = (".csv", ".xlsx", ".xls", ".json")


def _summary(catalog_id: str, catalog: Catalog, app: Application) -> CatalogSummary:
    return CatalogSummary(id=catalog_id, title=catalog.title or catalog_id, levels=catalog.levels, nodes=len(catalog),
                          per_level={level: len(catalog.at_level(level)) for level in catalog.levels},
                          removable=app.catalog_removable(catalog_id))


def _tree(catalog: Catalog, parent: str | None = None) -> list[CatalogNode]:
    return [CatalogNode(id=n.id, level=n.level, name=n.name, description=n.description, keywords=list(n.keywords), children=_tree(catalog, n.id))
            for n in catalog.children(parent)]


@router.get("", summary="Available catalogs", dependencies=[Depends(require_read_key)], response_model=CatalogList)
def list_catalogs(app: AppDep) -> CatalogList:
    """Every readable catalog; an unreadable stored file is named apart, not a 422 for the whole list (one broken
    upload emptied the catalog picker of every page: a security probe)."""
    summaries, unreadable = [], []
    for catalog_id in app.catalog_ids():
        try:
            summaries.append(_summary(catalog_id, app.catalog(catalog_id), app))
        except InputError:  # a catalog's problems, or bytes that are no table
            unreadable.append(catalog_id)
    return CatalogList(default=app.catalog().name, catalogs=summaries, unreadable=unreadable)


@router.get("/{catalog_id}", summary="One catalog as a tree", dependencies=[Depends(require_read_key)], response_model=CatalogTree)
def get_catalog(catalog_id: str, app: AppDep) -> CatalogTree:
    catalog = app.catalog(catalog_id)
    return CatalogTree(**_summary(catalog_id, catalog, app).model_dump(), tree=_tree(catalog))


@router.post("", status_code=201, summary="Upload a catalog (CSV/XLSX/XLS/JSON with id,parent_id,level,name,description[,keywords])",
             dependencies=[Depends(require_write_key), Depends(refuse_unknown_form_fields)], response_model=CatalogUploaded)
async def upload_catalog(
    app: AppDep,
    who: CallerDep,
    file: UploadFile = File(..., description="CSV, XLSX, XLS or JSON in the catalog format"),
    catalog_id: str = Form(..., alias="id", max_length=64, description="Id to store it under, e.g. bma-20yr"),
    title: str | None = Form(None, max_length=200, description="The name people read, e.g. แผนพัฒนากรุงเทพมหานคร 20 ปี "
                                                                        "(default: the file's catalog_title, else the title of the catalog it replaces)"),
) -> CatalogUploaded:
    suffix, content = await read_upload(file, UPLOAD_SUFFIXES)
    name = display_name(file, suffix)

    def store() -> CatalogUploaded:  # parsing and validation run off the event loop
        with upload_path(suffix, content, name) as path:
            loaded = load_catalog(path, app.table_limits())  # validated, row numbers in errors; an upload's limits
        if title and title.strip():
            loaded.title = title.strip()
        catalog, changes = app.upload_catalog(catalog_id, loaded)
        audit.info("%s %s catalog %s (%d nodes)", who, "replaced" if changes.replaced else "added", catalog_id, len(catalog))
        app.embed_in_background(catalog_id)
        return CatalogUploaded(**_summary(catalog_id, catalog, app).model_dump(), tree=_tree(catalog), **asdict(changes))

    return await run_in_threadpool(store)


@router.delete("/{catalog_id}", summary="Remove an uploaded catalog (its decisions are kept, readable, and count again if it is uploaded again)",
               dependencies=[Depends(require_write_key)], response_model=CatalogRemoved)
def remove_catalog(catalog_id: str, app: AppDep, who: CallerDep,
                   force: bool = Query(False, description="Remove it although jobs labelled with it lose their review grid and corrected file "
                                                          "(refused with 409 otherwise)")) -> CatalogRemoved:
    kept = app.remove_catalog(catalog_id, force=force)
    audit.info("%s removed catalog %s%s", who, catalog_id, " (forced)" if force else "")
    return CatalogRemoved(id=catalog_id, decisions_kept=kept)
