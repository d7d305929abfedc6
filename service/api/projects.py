"""Projects: ingest (JSON or a file), fetch, list and delete.

A write commits to the store (all rows or none) and queues the index work for the service's one
background indexer; the answer says how many changed projects are not searchable yet (``pending``).
"""
from __future__ import annotations

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from starlette.concurrency import run_in_threadpool

from planalign.app import IngestOutcome, fiscal_year
from planalign.corpora.projects import FIELDS, IngestResult, Project, column_pairs, rows_to_projects
from planalign.corpora.tables import TABLE_UPLOAD_SUFFIXES, Table, read_table
from planalign.errors import NotFound
from planalign.service.api.deps import AppDep, CallerDep, audit, display_name, read_upload, refuse_unknown_form_fields, require_read_key, require_write_key, upload_path
from planalign.service.api.schemas import DeclaredBeyondOnePath, Deleted, IngestResponse, ProjectsIn, ProjectsPage, RejectedRow, UndeclaredAlignment, UnknownDistrict

router = APIRouter(prefix="/v1/projects", tags=["projects"])


UNDECLARED_SHOWN = 100  # a file ingested against the wrong catalog would otherwise list every project


def _response(read: IngestResult, outcome: IngestOutcome, who: str, what: str) -> IngestResponse:
    stored = outcome.stored
    audit.info("%s stored projects (%s): %d inserted, %d updated, %d unchanged, %d rejected", who, what, len(stored.inserted), len(stored.updated),
               stored.unchanged, len(read.rejected))
    return IngestResponse(inserted=len(stored.inserted), updated=len(stored.updated), unchanged=stored.unchanged,
                          rejected=[RejectedRow(row=r.row, reason=r.reason, reason_th=r.thai) for r in read.rejected], indexed=outcome.index.total,
                          pending=outcome.index.pending, undeclared=[UndeclaredAlignment(id=i, declared=d) for i, d in outcome.undeclared[:UNDECLARED_SHOWN]],
                          undeclared_total=len(outcome.undeclared),
                          declared_extra=[DeclaredBeyondOnePath(id=i, what=d) for i, d in outcome.declared_extra[:UNDECLARED_SHOWN]],
                          declared_extra_total=len(outcome.declared_extra), mixed_levels=read.levels if len(read.levels) > 1 else [],
                          unknown_districts=[UnknownDistrict(row=row, district=name, nearest=near)
                                             for row, name, near in read.unknown_districts[:UNDECLARED_SHOWN]],
                          unknown_districts_total=len(read.unknown_districts))


@router.post("", summary="Add or update projects given as JSON (upsert by id: a project sent again replaces the stored one whole, "
                          "so a field left out is emptied)", dependencies=[Depends(require_write_key)],
             response_model=IngestResponse, responses={413: {"description": "a field over PLANALIGN_MAX_FIELD_CHARS"}})
def ingest_json(body: ProjectsIn, app: AppDep, who: CallerDep) -> IngestResponse:
    rows = [{k: "" if v is None else str(v) for k, v in p.model_dump().items()} for p in body.projects]
    read = rows_to_projects(Table(list(body.projects[0].model_dump()), rows, list(range(1, len(rows) + 1))), source="api")  # rejections name items from 1
    return _response(read, app.ingest(read.projects, who=who), who, "JSON")


@router.post("/file", summary="Add or update projects from a CSV/XLSX/XLS/JSONL file (Thai form headers recognized)",
             dependencies=[Depends(require_write_key), Depends(refuse_unknown_form_fields)], response_model=IngestResponse,
             responses={413: {"description": "over PLANALIGN_MAX_ROWS rows or a cell over PLANALIGN_MAX_FIELD_CHARS"}})
async def ingest_file(
    app: AppDep,
    who: CallerDep,
    file: UploadFile = File(...),
    year: int | None = Form(None, description="Fiscal year for rows without one"),
    source: str | None = Form(None, max_length=200),
    mapping: list[str] = Form([], alias="map", description="COLUMN=field, once per column the headers do not name (as the CLI's ingest --map): "
                                          "รหัส=id, ชื่อ=name; fields: " + ", ".join(FIELDS)),
) -> IngestResponse:
    suffix, content = await read_upload(file, TABLE_UPLOAD_SUFFIXES)
    name = display_name(file, suffix)

    def ingest() -> IngestResponse:  # reading, parsing and the store write run off the event loop
        with upload_path(suffix, content, name) as path:
            table = read_table(path, name=name, limits=app.table_limits())
        table.require_rows(name)
        read = rows_to_projects(table, fiscal_year(year), source or name, column_pairs(mapping, "map", "field", "ช่องข้อมูล"))
        return _response(read, app.ingest(read.projects, who=who), who, name)

    return await run_in_threadpool(ingest)


@router.get("", summary="List projects", dependencies=[Depends(require_read_key)], response_model=ProjectsPage)
def list_projects(app: AppDep, limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0, le=2**62)) -> ProjectsPage:
    return ProjectsPage(total=app.store.count(), offset=offset, projects=app.store.list(offset, limit))


@router.get("/{project_id:path}", summary="One project", dependencies=[Depends(require_read_key)], response_model=Project)
def get_project(project_id: str, app: AppDep) -> Project:
    project = app.store.get([project_id]).get(project_id)
    if project is None:
        raise NotFound(f"no project {project_id!r}", thai=f"ไม่พบโครงการรหัส {project_id}")
    return project


@router.delete("/{project_id:path}", summary="Delete a project from the store (and, in the background, the index)",
               dependencies=[Depends(require_write_key)], response_model=Deleted)
def delete_project(project_id: str, app: AppDep, who: CallerDep) -> Deleted:
    found, _ = app.delete([project_id])
    if not found:
        raise NotFound(f"no project {project_id!r}", thai=f"ไม่พบโครงการรหัส {project_id}")
    audit.info("%s deleted project %s", who, project_id)
    return Deleted(deleted=project_id)
