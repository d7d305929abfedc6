"""Projects: ingest (JSON or a file), fetch, list and delete; the index follows every change."""
from __future__ import annotations

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, UploadFile

from planalign.app import IngestOutcome, fiscal_year
from planalign.corpora.projects import IngestResult, Project, read_projects, rows_to_projects
from planalign.corpora.tables import Table
from planalign.service.api.deps import AppDep, CallerDep, read_upload, require_read_key, require_write_key, upload_path
from planalign.service.api.schemas import Deleted, IngestResponse, ProjectsIn, ProjectsPage, RejectedRow

router = APIRouter(prefix="/v1/projects", tags=["projects"])
UPLOAD_SUFFIXES = (".csv", ".tsv", ".xlsx", ".jsonl")


def _response(read: IngestResult, outcome: IngestOutcome) -> IngestResponse:
    stored = outcome.stored
    return IngestResponse(inserted=len(stored.inserted), updated=len(stored.updated), unchanged=stored.unchanged,
                          rejected=[RejectedRow(row=row, reason=reason) for row, reason in read.rejected], indexed=outcome.index.total)


@router.post("", summary="Add or update projects given as JSON (upsert by id)", dependencies=[Depends(require_write_key)],
             response_model=IngestResponse)
def ingest_json(body: ProjectsIn, app: AppDep, who: CallerDep) -> IngestResponse:
    rows = [{k: "" if v is None else str(v) for k, v in p.model_dump().items()} for p in body.projects]
    read = rows_to_projects(Table(list(body.projects[0].model_dump()), rows), source="api")
    return _response(read, app.ingest(read.projects, who=who))


@router.post("/file", summary="Add or update projects from a CSV/XLSX/JSONL file (Thai form headers recognized)",
             dependencies=[Depends(require_write_key)], response_model=IngestResponse)
async def ingest_file(
    app: AppDep,
    who: CallerDep,
    file: UploadFile = File(...),
    year: int | None = Form(None, description="Fiscal year for rows without one"),
    source: str | None = Form(None),
) -> IngestResponse:
    suffix, content = await read_upload(file, UPLOAD_SUFFIXES)
    with upload_path(suffix, content) as path:
        read = read_projects(path, fiscal_year(year), source or file.filename)
    return _response(read, app.ingest(read.projects, who=who))


@router.get("", summary="List projects", dependencies=[Depends(require_read_key)], response_model=ProjectsPage)
def list_projects(app: AppDep, limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0, le=1_000_000_000)) -> ProjectsPage:
    return ProjectsPage(total=app.store.count(), offset=offset, projects=app.store.list(offset, limit))


@router.get("/{project_id:path}", summary="One project", dependencies=[Depends(require_read_key)], response_model=Project)
def get_project(project_id: str, app: AppDep) -> Project:
    project = app.store.get([project_id]).get(project_id)
    if project is None:
        raise HTTPException(404, f"no project {project_id!r}")
    return project


@router.delete("/{project_id:path}", summary="Delete a project from the store and the index", dependencies=[Depends(require_write_key)],
               response_model=Deleted)
def delete_project(project_id: str, app: AppDep) -> Deleted:
    found, _ = app.delete([project_id])
    if not found:
        raise HTTPException(404, f"no project {project_id!r}")
    return Deleted(deleted=project_id)
