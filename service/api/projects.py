"""Projects: ingest (JSON or a file), fetch, list and delete; the index follows every change."""
from __future__ import annotations

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, UploadFile

from planalign.corpora.projects import IngestResult, parse_year, read_projects, rows_to_projects
from planalign.corpora.tables import Table
from planalign.service.api.deps import get_state, read_upload, require_read_key, require_write_key, upload_path
from planalign.service.api.schemas import ProjectsIn
from planalign.service.state import ServiceState

router = APIRouter(prefix="/v1/projects", tags=["projects"])
UPLOAD_SUFFIXES = (".csv", ".tsv", ".xlsx", ".jsonl")


def _store_and_index(state: ServiceState, result: IngestResult) -> dict:
    stored = state.workspace.store.upsert(result.projects)
    sync = state.workspace.sync(None if state.index() is not None else state.settings.index_encoder)
    return {
        "inserted": len(stored.inserted), "updated": len(stored.updated), "unchanged": stored.unchanged,
        "rejected": [{"row": row, "reason": reason} for row, reason in result.rejected],
        "indexed": sync.total,
    }


@router.post("", summary="Add or update projects given as JSON (upsert by id)", dependencies=[Depends(require_write_key)])
def ingest_json(body: ProjectsIn, state: ServiceState = Depends(get_state)) -> dict:
    rows = [{k: "" if v is None else str(v) for k, v in p.model_dump().items()} for p in body.projects]
    columns = list(body.projects[0].model_dump())
    result = rows_to_projects(Table(columns, rows), source="api")
    return _store_and_index(state, result)


@router.post("/file", summary="Add or update projects from a CSV/XLSX/JSONL file (Thai form headers recognized)",
             dependencies=[Depends(require_write_key)])
async def ingest_file(
    file: UploadFile = File(...),
    year: int | None = Form(None, description="Fiscal year for rows without one"),
    source: str | None = Form(None),
    state: ServiceState = Depends(get_state),
) -> dict:
    suffix, content = await read_upload(file, UPLOAD_SUFFIXES)
    with upload_path(suffix, content) as path:
        result = read_projects(path, parse_year(year) if year else None, source or file.filename)
    return _store_and_index(state, result)


@router.get("", summary="List projects", dependencies=[Depends(require_read_key)])
def list_projects(limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0), state: ServiceState = Depends(get_state)) -> dict:
    projects = []
    for position, project in enumerate(state.workspace.store.iter_all()):
        if position >= offset + limit:
            break
        if position >= offset:
            projects.append(project.model_dump())
    return {"total": state.workspace.store.count(), "offset": offset, "projects": projects}


@router.get("/{project_id}", summary="One project", dependencies=[Depends(require_read_key)])
def get_project(project_id: str, state: ServiceState = Depends(get_state)) -> dict:
    project = state.workspace.store.get([project_id]).get(project_id)
    if project is None:
        raise HTTPException(404, f"no project {project_id!r}")
    return project.model_dump()


@router.delete("/{project_id}", summary="Delete a project from the store and the index", dependencies=[Depends(require_write_key)])
def delete_project(project_id: str, state: ServiceState = Depends(get_state)) -> dict:
    if not state.workspace.store.delete([project_id]):
        raise HTTPException(404, f"no project {project_id!r}")
    state.workspace.sync()
    return {"deleted": project_id}
