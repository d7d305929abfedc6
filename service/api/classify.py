"""Classification: a few texts inline, or a whole file as a background job."""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Literal

from fastapi import APIRouter, Depends, File, Form, Header, Query, UploadFile
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from planalign.corpora.labelled import parse_columns, refuse_model_answers
from planalign.corpora.tables import TABLE_UPLOAD_SUFFIXES, Table, read_table
from planalign.errors import Conflict, NotFound, TooLarge, Unavailable
from planalign.index.align import Alignment, AlignmentInputError, warning_thai
from planalign.jobs import Job
from planalign.service.api.deps import (
    MEDIA,
    AppDep,
    CallerDep,
    Refused,
    attachment,
    audit,
    display_name,
    read_upload,
    refuse_unknown_form_fields,
    require_read_key,
    require_write_key,
    upload_path,
)
from planalign.service.api.schemas import ClassifyRequest, ClassifyResponse, ClassifyRow, JobOut, JobProgress
from planalign.service.plots import confusion_png

router = APIRouter(prefix="/v1/classify", tags=["classify"])
BATCH_FROM = 10  # texts from which a synchronous request takes one of the batch slots (Application.batch_slots)


@router.post("", summary="Label a few texts synchronously (up to PLANALIGN_SYNC_CLASSIFY_LIMIT, 100 by default)",
             dependencies=[Depends(require_read_key)], response_model=ClassifyResponse)
def classify(request: ClassifyRequest, app: AppDep) -> ClassifyResponse:
    limit = app.settings.sync_classify_limit
    if len(request.texts) > limit:
        raise TooLarge(f"at most {limit} texts per request; upload a file to /v1/classify/jobs instead",
                       thai=f"จัดหมวดได้ครั้งละไม่เกิน {limit} ข้อความ ถ้ามากกว่านั้นให้อัปโหลดเป็นไฟล์")
    for number, text in enumerate(request.texts):
        app.check_text(text, f"texts[{number}]", f"ข้อความที่ {number + 1} ")
    batch = len(request.texts) > BATCH_FROM  # a few texts are computed as single drafts are: one at a time they were 503s (a blind review)
    if batch and not app.batch_slots.acquire(blocking=False):  # no wait: a waiting batch held a request thread (a blind review)
        raise Unavailable("other batches are being labelled: retry shortly, or upload a file to /v1/classify/jobs",
                          thai="ระบบกำลังจัดหมวดชุดข้อความอื่นอยู่ กรุณาลองใหม่ในอีกสักครู่ หรืออัปโหลดเป็นไฟล์ (งานเบื้องหลัง)")
    try:
        aligner = app.aligner(request.catalog, learn=request.learn)
        classified = app.classify(Table(["text"], [{"text": t} for t in request.texts]), ["text"], aligner=aligner, level=request.level)
    finally:
        if batch:
            app.batch_slots.release()
    rows = [_row(i, result, classified.level) for i, result in enumerate(classified.results)]
    return ClassifyResponse(catalog=aligner.catalog.name, encoder=aligner.encoder_label, model_version=aligner.model_version, examples=aligner.examples,
                            level=classified.level, results=rows)


def _row(index: int, result: Alignment | AlignmentInputError, level: str) -> ClassifyRow:
    if not isinstance(result, Alignment):
        return ClassifyRow(index=index, pred_label=None, pred_name=None, pred_score=None, pred_confidence=None, pred_top3=[], needs_review=True,
                           error=str(result), error_th=result.thai or str(result))
    top = result.levels[level]
    return ClassifyRow(index=index, pred_label=top[0].node_id, pred_name=top[0].name, pred_score=top[0].score,
                       pred_confidence=top[0].confidence, pred_top3=[s.node_id for s in top], needs_review=result.needs_review[level], error=None,
                       warnings=result.warnings, warnings_th=[warning_thai(w) for w in result.warnings])


def _job_out(job: Job, ahead: dict[str, tuple[int, int]]) -> JobOut:
    """A job as the API answers it; ``ahead``: :meth:`JobManager.ahead`, read once for a list."""
    params = {k: v for k, v in job.params.items() if k not in ("error_th", "submitted")}  # "submitted": the fields above, as asked (jobs.submit)
    jobs_ahead, rows_ahead = ahead.get(job.id, (0, 0))
    return JobOut(id=job.id, status=job.status, created=job.created, updated=job.updated, progress=JobProgress(done=job.done, total=job.total),
                  error=job.error or None, params=params, metrics=job.metrics, jobs_ahead=jobs_ahead, rows_ahead=rows_ahead,
                  message_th=job.params.get("error_th") or ("งานนี้ถูกยกเลิกตามคำขอ" if job.status == "cancelled" else None),
                  status_url=f"/v1/classify/jobs/{job.id}", result_url=f"/v1/classify/jobs/{job.id}/result")


@router.post("/jobs", status_code=202, summary="Upload a CSV/XLSX/XLS/JSONL file to label in the background",
             dependencies=[Depends(require_write_key), Depends(refuse_unknown_form_fields)],
             response_model=JobOut,
             responses={202: {"description": "The job, queued (or the one this Idempotency-Key made before)",
                              "headers": {"Idempotent-Replayed": {"description": "true when the answer is a job this caller's key made before",
                                                                  "schema": {"type": "string", "enum": ["true"]}}}},
                        413: {"description": "over PLANALIGN_MAX_ROWS rows or a cell over PLANALIGN_MAX_FIELD_CHARS"},
                        409: {"description": "the Idempotency-Key was used for another file or other parameters"}})
async def submit_job(
    app: AppDep,
    who: CallerDep,
    response: Response,
    file: UploadFile = File(..., description="CSV or TSV (UTF-8, UTF-16 with BOM, TIS-620 or cp1252: detected), XLSX, XLS or JSONL"),
    text_col: str = Form(..., max_length=2000, description="Text column(s), comma-separated, e.g. ชื่อโครงการ,วัตถุประสงค์"),
    id_col: str | None = Form(None, max_length=200),
    label_col: str | None = Form(None, max_length=200, description="Gold labels, to report accuracy when the job is done"),
    catalog: str | None = Form(None, max_length=64, description="Catalog id (built-in or uploaded), never a file path"),
    level: str | None = Form(None, max_length=64),
    learn: bool = Form(True, description="Learn from the catalog's decisions (false: zero-shot only)"),
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", min_length=1, max_length=200,
                                         description="Any unique text per job (a UUID): the same key sent again by the same caller answers the job "
                                                     "it made (header Idempotent-Replayed: true) instead of queuing the file twice"),
) -> JobOut:
    suffix, content = await read_upload(file, TABLE_UPLOAD_SUFFIXES)
    name = display_name(file, suffix)

    def submit() -> JobOut:  # the file is read once here, off the event loop: a bad or oversized file fails now, not later
        resolved = app.catalog(catalog)  # an id only: unknown ids, and paths, are 404 whether or not such a file exists
        if level:
            resolved.resolve_level(level)
        with upload_path(suffix, content, name) as path:
            table = read_table(path, name=name, limits=app.table_limits())
        table.require_rows(name)
        table.require(parse_columns(text_col) + [c for c in (id_col, label_col) if c], name)  # refused now, not as a failed job later
        if label_col:  # the model's own answers as gold labels: refused now (the job ran unscored and learned without those texts)
            refuse_model_answers(label_col)
        # who submitted it, by key name (never the key): a shared list of every team's jobs said no owner (an integrator's walkthrough)
        params = {"text_col": text_col, "id_col": id_col, "label_col": label_col, "catalog": catalog, "level": level, "learn": learn,
                  "submitted_by": who}
        job, replayed = app.jobs.submit(name, content, params, total=len(table.rows), idempotency_key=idempotency_key)
        if replayed:
            response.headers["Idempotent-Replayed"] = "true"
        else:
            audit.info("%s submitted job %s: %s, %d rows, catalog %s", who, job.id, name, len(table.rows), catalog or "(default)")
        return _job_out(job, app.jobs.ahead())

    return await run_in_threadpool(submit)


@router.get("/jobs", summary="The newest jobs first (file, status, progress); X-Total-Count says how many match",
            dependencies=[Depends(require_read_key)], response_model=list[JobOut],
            responses={200: {"description": "The jobs of this page", "headers": {
                "X-Total-Count": {"description": "How many jobs match (paging reads it)", "schema": {"type": "integer"}}}}})
def recent_jobs(app: AppDep, response: Response, limit: int = Query(20, ge=1, le=200), offset: int = Query(0, ge=0, le=1_000_000_000),
                status: Literal["queued", "running", "done", "failed", "cancelled"] | None = Query(None)) -> list[JobOut]:
    ahead = app.jobs.ahead()
    total, jobs = app.jobs.recent(limit, offset=offset, status=status)
    response.headers["X-Total-Count"] = str(total)  # the list stays a list (the pages read it); paging reads the count
    return [_job_out(job, ahead) for job in jobs]


@router.get("/jobs/{job_id}", summary="Job status and progress", dependencies=[Depends(require_read_key)], response_model=JobOut)
def job_status(job_id: str, app: AppDep) -> JobOut:
    return _job_out(app.jobs.require(job_id), app.jobs.ahead())


@router.delete("/jobs/{job_id}", summary="Cancel a queued or running job (a running job stops at its next batch)",
               dependencies=[Depends(require_write_key)], response_model=JobOut,
               responses={409: {"description": "the job has already finished"}, 403: {"description": "another API key submitted the job"}})
def cancel_job(job_id: str, app: AppDep, who: CallerDep) -> JobOut:
    job = app.jobs.require(job_id)
    owner = job.params.get("submitted_by")
    # with keys, a job is cancelled by the key that submitted it: any write key stopped another office's 2,000 rows (an integrator's walkthrough);
    # a job of no key configured now (sent before keys were, or by a key since removed) by any write key, or nobody could (a blind review)
    if app.settings.keyed and owner in app.settings.key_names().values() and owner != who:
        raise Refused(403, f"job {job_id} was submitted by {owner!r}; only that API key may cancel it",
                      f"งานนี้ส่งโดยกุญแจ API ชื่อ {owner} ยกเลิกได้เฉพาะผู้ที่ส่งงานนี้")
    if job.status not in ("queued", "running"):
        raise Conflict(f"job is {job.status}; only a queued or running job can be cancelled",
                       thai=("งานนี้ถูกยกเลิกไปแล้ว" if job.status == "cancelled" else "งานนี้จบไปแล้ว ยกเลิกได้เฉพาะงานที่รอคิวหรือกำลังทำอยู่"))
    audit.info("%s cancelled job %s", who, job_id)
    return _job_out(app.jobs.cancel(job_id) or job, app.jobs.ahead())


@router.get("/jobs/{job_id}/result", summary="The labelled file", dependencies=[Depends(require_read_key)],
            responses={200: {"content": {MEDIA["csv"]: {}, MEDIA["xlsx"]: {}}}}, response_class=StreamingResponse)
def job_result(job_id: str, app: AppDep, format: str = Query("csv", pattern="^(csv|xlsx)$")) -> StreamingResponse:
    job = app.jobs.require(job_id, done=True, partial=True)
    stem = Path(job.params.get("filename", "result")).stem
    part = "-partial" if job.status != "done" else ""  # a cancelled job's rows done before it stopped (params.partial_rows)
    handle = app.jobs.open_result(job_id, format)  # opened now: a file removed later is still sent whole
    return StreamingResponse(_chunks(handle), media_type=MEDIA[format], headers={
        "Content-Disposition": attachment(f"{stem}-labelled{part}.{format}"), "Content-Length": str(os.fstat(handle.fileno()).st_size)})


def _chunks(handle: BinaryIO, size: int = 1 << 16) -> Iterator[bytes]:
    """The open file in pieces, closed at the end (or when the client goes)."""
    with handle:
        while piece := handle.read(size):
            yield piece


@router.get("/jobs/{job_id}/confusion.png", summary="Confusion matrix picture (files with a label column)",
            dependencies=[Depends(require_read_key)], responses={200: {"content": {"image/png": {}}}}, response_class=Response)
def job_confusion(job_id: str, app: AppDep) -> Response:
    job = app.jobs.require(job_id)
    if not job.metrics or not job.metrics.get("labels"):
        raise NotFound("this job has no metrics (no label column, no labels at its level, or not done yet)",
                       thai="งานนี้ไม่มีผลวัดคุณภาพ (ไฟล์ไม่มีคอลัมน์ป้ายกำกับ หรืองานยังไม่เสร็จ)")
    return Response(confusion_png(job.metrics["labels"], job.metrics["confusion"]), media_type="image/png")
