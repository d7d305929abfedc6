"""Strategy catalogs: list, browse as a tree, upload (validated)."""
from __future__ import annotations

from fastapi import APIRouter, Depends, File, Form, HTTPException, UploadFile

from planalign.corpora.catalog import Catalog, load_catalog
from planalign.service.api.deps import get_state, read_upload, require_read_key, require_write_key, upload_path
from planalign.service.state import ServiceState, UnknownCatalog

router = APIRouter(prefix="/v1/catalogs", tags=["catalogs"])
UPLOAD_SUFFIXES = (".csv", ".xlsx", ".json")


def _summary(catalog_id: str, catalog: Catalog) -> dict:
    return {"id": catalog_id, "levels": catalog.levels, "nodes": len(catalog),
            "per_level": {level: len(catalog.at_level(level)) for level in catalog.levels}}


def _tree(catalog: Catalog, parent: str | None = None) -> list[dict]:
    return [
        {"id": n.id, "level": n.level, "name": n.name, "description": n.description, "keywords": list(n.keywords),
         "children": _tree(catalog, n.id)}
        for n in catalog.children(parent)
    ]


@router.get("", summary="Available catalogs", dependencies=[Depends(require_read_key)])
def list_catalogs(state: ServiceState = Depends(get_state)) -> dict:
    return {"default": state.settings.catalog, "catalogs": [_summary(c, state.catalog(c)) for c in state.catalog_ids()]}


@router.get("/{catalog_id}", summary="One catalog as a tree", dependencies=[Depends(require_read_key)])
def get_catalog(catalog_id: str, state: ServiceState = Depends(get_state)) -> dict:
    try:
        catalog = state.catalog(catalog_id)
    except UnknownCatalog as exc:
        raise HTTPException(404, f"no catalog {catalog_id!r}; available: {', '.join(state.catalog_ids())}") from exc
    return {**_summary(catalog_id, catalog), "tree": _tree(catalog)}


@router.post("", status_code=201, summary="Upload a catalog (id,parent_id,level,name,description[,keywords])",
             dependencies=[Depends(require_write_key)])
async def upload_catalog(
    file: UploadFile = File(..., description="CSV, XLSX or JSON in the catalog format"),
    catalog_id: str = Form(..., alias="id", description="Id to store it under, e.g. bma-20yr"),
    state: ServiceState = Depends(get_state),
) -> dict:
    suffix, content = await read_upload(file, UPLOAD_SUFFIXES)
    with upload_path(suffix, content) as path:
        catalog = state.add_catalog(catalog_id, load_catalog(path))  # validated, row numbers in errors
    return _summary(catalog_id, catalog)
