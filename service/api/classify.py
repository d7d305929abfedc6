"""Classification: a few texts inline, or a whole file as a background job."""
from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, UploadFile
from fastapi.responses import FileResponse, Response

from planalign.corpora.tables import Table
from planalign.index.classify import classify_table
from planalign.service.api.deps import get_state, read_upload, require_read_key, require_write_key
from planalign.service.api.schemas import ClassifyRequest
from planalign.service.plots import confusion_png
from planalign.service.state import ServiceState

router = APIRouter(prefix="/v1/classify", tags=["classify"])
UPLOAD_SUFFIXES = (".csv", ".tsv", ".xlsx", ".jsonl")
MEDIA = {"csv": "text/csv; charset=utf-8", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@router.post("", summary="Label up to 100 texts synchronously", dependencies=[Depends(require_read_key)])
def classify(request: ClassifyRequest, state: ServiceState = Depends(get_state)) -> dict:
    limit = state.settings.sync_classify_limit
    if len(request.texts) > limit:
        raise HTTPException(413, f"at most {limit} texts per request; upload a file to /v1/classify/jobs instead")
    aligner = state.aligner(request.catalog)
    table = Table(["text"], [{"text": t} for t in request.texts])
    labelled = classify_table(table, ["text"], aligner, request.level)
    return {
        "catalog": aligner.catalog.name,
        "level": aligner.catalog.resolve_level(request.level),
        "results": [
            {"index": i, "pred_label": r["pred_label"] or None, "pred_name": r["pred_name"] or None,
             "pred_score": float(r["pred_score"]) if r["pred_score"] else None,
             "pred_top3": r["pred_top3"].split("|") if r["pred_top3"] else [], "error": r["error"] or None}
            for i, r in enumerate(labelled.rows)
        ],
    }


@router.post("/jobs", status_code=202, summary="Upload a CSV/XLSX/JSONL file to label in the background",
             dependencies=[Depends(require_write_key)])
async def submit_job(
    file: UploadFile = File(..., description="CSV (UTF-8 or TIS-620), XLSX or JSONL"),
    text_col: str = Form(..., description="Text column(s), comma-separated, e.g. ชื่อโครงการ,วัตถุประสงค์"),
    id_col: str | None = Form(None),
    label_col: str | None = Form(None, description="Gold labels, to report accuracy when the job is done"),
    catalog: str | None = Form(None),
    level: str | None = Form(None),
    state: ServiceState = Depends(get_state),
) -> dict:
    suffix, content = await read_upload(file, UPLOAD_SUFFIXES)
    state.catalog(catalog)  # unknown catalog: fail now, not in the background
    if level:
        state.catalog(catalog).resolve_level(level)
    job = state.jobs.submit(file.filename or f"upload{suffix}", content,
                            {"text_col": text_col, "id_col": id_col, "label_col": label_col, "catalog": catalog, "level": level})
    return {**job.as_dict(), "status_url": f"/v1/classify/jobs/{job.id}", "result_url": f"/v1/classify/jobs/{job.id}/result"}


def _job(state: ServiceState, job_id: str):
    job = state.jobs.get(job_id)
    if job is None:
        raise HTTPException(404, f"no job {job_id!r}")
    return job


@router.get("/jobs/{job_id}", summary="Job status and progress", dependencies=[Depends(require_read_key)])
def job_status(job_id: str, state: ServiceState = Depends(get_state)) -> dict:
    return _job(state, job_id).as_dict()


@router.get("/jobs/{job_id}/result", summary="The labelled file", dependencies=[Depends(require_read_key)],
            responses={200: {"content": {MEDIA["csv"]: {}, MEDIA["xlsx"]: {}}}})
def job_result(job_id: str, format: str = Query("csv", pattern="^(csv|xlsx)$"), state: ServiceState = Depends(get_state)) -> FileResponse:
    job = _job(state, job_id)
    if job.status != "done":
        raise HTTPException(409, f"job is {job.status}; the result is ready when status is done")
    stem = Path(job.params.get("filename", "result")).stem
    return FileResponse(state.jobs.result_path(job_id, format), media_type=MEDIA[format], filename=f"{stem}-labelled.{format}")


@router.get("/jobs/{job_id}/confusion.png", summary="Confusion matrix picture (files with a label column)",
            dependencies=[Depends(require_read_key)], responses={200: {"content": {"image/png": {}}}})
def job_confusion(job_id: str, state: ServiceState = Depends(get_state)) -> Response:
    job = _job(state, job_id)
    if not job.metrics:
        raise HTTPException(404, "this job has no metrics (no label column, or not done yet)")
    return Response(confusion_png(job.metrics["labels"], job.metrics["confusion"]), media_type="image/png")


