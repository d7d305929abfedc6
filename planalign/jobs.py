"""Background classification jobs that survive a restart.

A job is a row in the store's database (status, progress, parameters) plus its input and result
files under ``<data dir>/jobs/<id>/``. One worker thread runs jobs in order through the application
core (the same classification and evaluation as the CLI); on start-up, jobs that were queued or
running when the service stopped are queued again, so an upload is never lost. Finished jobs are
removed ``job_retention_days`` after they were last changed or used (looked for in the background at
start-up and with a new job, at most hourly): every upload and its result were kept forever.

A job reads its file within the service's limits (``max_rows``, ``max_field_chars``; the API
already refused an oversized file at upload) and classifies it in batches (:func:`batches`),
so memory stays bounded and a cancelled job (``DELETE /v1/classify/jobs/{id}``) stops at the next
encoder batch, keeping the rows finished before it, every row its progress counted, as its result
(``partial_rows``: an evaluation team stopping a slow 20,000-row job lost the hour already done).
Error messages name the user's file, never its path on the server.
"""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import queue
import re
import shutil
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from sqlalchemy import Connection, delete, func, insert, select, update

from planalign.corpora.labelled import parse_columns, read_labelled, refuse_model_answers
from planalign.corpora.tables import Table, TableError, kept_as_text, read_table, write_table
from planalign.decisions import measured_keys
from planalign.errors import Conflict, InputError, NotFound
from planalign.index.align import Alignment
from planalign.index.evaluation import evaluate_alignments, labels_level, scorable
from planalign.index.schema import classify_jobs as table

if TYPE_CHECKING:
    from planalign.app import Application

log = logging.getLogger("planalign.jobs")
# Rows classified at a time: at most BATCH_ROWS, and at most BATCH_CHARS characters of text (one row at least). The
# progress counts finished batches only, so a cancel, which stops inside a batch at its next encoder batch, keeps
# every row the progress had counted: it counted rows embedded and fell back when cancelled (282 shown, 200 kept: an
# integrator's walkthrough); finishing the batch first instead made a cancel wait a minute for 100 long rows (a blind
# review). 50 short rows take about 1.5 s with e5 on 2 cores, 20,000 characters about 5 s.
BATCH_ROWS = 50
BATCH_CHARS = 20_000
INTERNAL_TH = "เกิดข้อผิดพลาดภายในระบบระหว่างประมวลผล (ไม่ใช่ความผิดของไฟล์ของท่าน) กรุณาส่งงานใหม่ หากยังไม่ได้ แจ้งผู้ดูแลระบบพร้อมรหัสงาน"
ACTIVE = ("queued", "running")
DELETE_CHUNK = 500  # job rows removed a statement
SWEEP_EVERY_S = 3600.0  # expired jobs are looked for at start-up and with a new job, at most this often
_JOB_FOLDER = re.compile(r"[0-9a-f]{32}")  # uuid4().hex: nothing else in the jobs folder is ours to remove
# what makes a retry under the same Idempotency-Key the same job: the file and everything that changes its result
SUBMITTED = ("content_sha256", "filename", "text_col", "id_col", "label_col", "catalog", "level", "learn")
CANCEL_WAIT_S = 15.0  # a cancel waits this long for the running job to stop at its next encoder batch (seconds with e5)


class Cancelled(Exception):
    """Raised inside a running job once it is cancelled."""


@dataclass
class Job:
    id: str
    status: str
    created: float
    updated: float
    params: dict[str, Any]
    total: int
    done: int
    error: str
    metrics: dict[str, Any] | None


class JobManager:
    def __init__(self, app: Application) -> None:
        self.app = app
        self.engine = app.store.engine
        self.root = app.data_dir / "jobs"
        self.root.mkdir(exist_ok=True)
        self._queue: queue.Queue[str] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._cancelled: set[str] = set()
        self._running: str | None = None  # the job the worker is on
        self._turn = threading.Condition()  # notified when the worker leaves a job
        self._sweeping = threading.Lock()  # one removal of expired jobs at a time
        self._sweeper: threading.Thread | None = None
        self._stopping = threading.Event()  # set by close(): a removal stops between two steps
        self._submitting = threading.Lock()  # an idempotency key's look-up and the new job's row, as one step
        self._last_sweep = -SWEEP_EVERY_S

    def start(self) -> None:
        """Start the worker and queue again whatever was pending when the service last stopped."""
        self._remove_expired_soon()
        with self.engine.connect() as connection:
            pending = connection.execute(select(table.c.id).where(table.c.status.in_(ACTIVE)).order_by(table.c.created))
            for (job_id,) in pending:
                self._queue.put(job_id)
            stopped = connection.execute(select(table.c.id).where(table.c.status == "cancelled", table.c.done > 0)).scalars().all()
        for job_id in stopped:  # cancelled, then the service stopped before its finished rows were kept: none were (it said 200 done)
            job = self.get(job_id)
            if job is not None and not job.params.get("partial_rows"):
                self._update(job_id, even_cancelled=True, done=0)
        if self._worker is None:
            self._worker = threading.Thread(target=self._run_forever, name="classify-jobs", daemon=True)
            self._worker.start()

    def submit(self, filename: str, content: bytes, params: dict[str, Any], total: int = 0, idempotency_key: str | None = None) -> tuple[Job, bool]:
        """Queue a job; with ``idempotency_key``, the job the same caller (``params["submitted_by"]``) submitted
        under that key is answered instead of a second one, ``True`` beside it.

        An integrator's client that retries a POST after a timeout queued the same 2,000 rows twice (an
        integrator's walkthrough). The key holds while its job is kept (``remove_expired``); the same key with
        another file or other parameters is a Conflict, as a retry that is not one is a client's bug."""
        if not idempotency_key:
            return self._insert(filename, content, params, total), False
        asked = {**params, "filename": filename, "content_sha256": hashlib.sha256(content).hexdigest()}
        # what was asked, kept apart: the worker writes the level it used into params (a job with labels and no level)
        # and a genuine retry then differed from its own job (a blind review)
        submitted = {k: asked.get(k) for k in SUBMITTED}
        params = {**params, "idempotency_key": idempotency_key, "submitted": submitted}
        with self._submitting:
            earlier = self._submitted_under(str(params.get("submitted_by")), idempotency_key)
            if earlier is None:
                return self._insert(filename, content, params, total), False
        before = earlier.params.get("submitted") or {k: earlier.params.get(k) for k in SUBMITTED}  # a job stored before "submitted" was
        differs = sorted(k for k in SUBMITTED if submitted.get(k) != before.get(k))
        if differs:
            raise Conflict(f"Idempotency-Key {idempotency_key!r} was used for job {earlier.id} with another "
                           f"{' and '.join('file' if k == 'content_sha256' else k for k in differs)}; use a new key for a new job",
                           thai=f"รหัสกันส่งซ้ำ (Idempotency-Key) นี้ใช้กับงาน {earlier.id} ซึ่งเป็นไฟล์หรือค่าที่ต่างกันไปแล้ว "
                                "กรุณาใช้รหัสใหม่สำหรับงานใหม่")
        return earlier, True

    def _submitted_under(self, who: str, idempotency_key: str) -> Job | None:
        with self.engine.connect() as connection:
            rows = connection.execute(select(table).order_by(table.c.created)).all()
        return next((job for job in map(_job, rows)
                     if job.params.get("idempotency_key") == idempotency_key and str(job.params.get("submitted_by")) == who), None)

    def _insert(self, filename: str, content: bytes, params: dict[str, Any], total: int) -> Job:
        self._remove_expired_soon()
        job_id = uuid.uuid4().hex
        folder = self.root / job_id
        folder.mkdir(parents=True)
        (folder / f"input{Path(filename).suffix.lower()}").write_bytes(content)
        now = time.time()
        row = {"id": job_id, "status": "queued", "created": now, "updated": now, "total": total, "done": 0, "error": "", "metrics": "",
               "params": json.dumps({**params, "filename": filename}, ensure_ascii=False)}
        self.app.store.write(lambda connection: connection.execute(insert(table).values(**row)))
        self._queue.put(job_id)
        job = self.get(job_id)
        assert job is not None
        return job

    def remove_expired(self, now: float | None = None) -> int:
        """Remove finished jobs (done, failed, cancelled) neither changed nor used (result, review
        grid, corrected file: :meth:`require` with ``done`` touches the folder) for
        ``job_retention_days``: the rows first, then the folders, so a job is never listed without
        its files; a job folder left without its row (a removal cut short) goes too. Housekeeping
        never fails a caller: one sweep at a time, errors logged. Returns how many jobs went."""
        days = self.app.settings.job_retention_days
        if days <= 0 or not self._sweeping.acquire(blocking=False):
            return 0
        try:
            return self._remove_expired((time.time() if now is None else now) - days * 86_400)
        except Exception:  # housekeeping: an upload or a start-up must not fail for it
            log.exception("removing expired jobs failed; they stay until the next sweep")
            return 0
        finally:
            self._sweeping.release()

    def _remove_expired(self, cutoff: float) -> int:
        with self.engine.connect() as connection:
            candidates = [job_id for (job_id,) in connection.execute(
                select(table.c.id).where(table.c.status.not_in(ACTIVE), table.c.updated < cutoff))]
        old: list[str] = []
        for start in range(0, len(candidates), DELETE_CHUNK):  # one bind parameter an id: SQLite allows 32,766 at most
            if self._stopping.is_set():
                break
            # "used" read just before the delete: a review grid opened meanwhile keeps its job
            chunk = [job_id for job_id in candidates[start:start + DELETE_CHUNK] if _last_touched(self.root / job_id) < cutoff]
            if chunk:
                self.app.store.write(partial(_delete_jobs, chunk))
                old += chunk
        with self.engine.connect() as connection:
            kept = {job_id for (job_id,) in connection.execute(select(table.c.id))}
        for name in _job_folders(self.root):
            folder = self.root / name
            if self._stopping.is_set():
                break
            if name not in kept and _last_touched(folder) < cutoff:
                shutil.rmtree(folder, **_ON_REMOVAL_ERROR)  # type: ignore[arg-type]
        if old:
            log.info("removed %d finished jobs unused for %g days", len(old), self.app.settings.job_retention_days)
        return len(old)

    def _remove_expired_soon(self) -> None:
        """:meth:`remove_expired` in the background, at most every ``SWEEP_EVERY_S``: a year of
        folders took seconds, which an upload or the start-up should not wait for."""
        if time.monotonic() - self._last_sweep < SWEEP_EVERY_S:
            return
        self._last_sweep = time.monotonic()
        self._sweeper = threading.Thread(target=self.remove_expired, name="expired-jobs", daemon=True)
        self._sweeper.start()

    def close(self, wait: float = 10.0) -> None:
        """Stop a removal of expired jobs between two steps (the store closes next)."""
        self._stopping.set()
        if self._sweeper is not None:
            self._sweeper.join(wait)

    def require(self, job_id: str, done: bool = False, partial: bool = False) -> Job:
        """The job, or NotFound; with ``done``, Conflict unless it has finished (its result, its review);
        with ``partial`` too, a cancelled job's result of the rows done before it stopped counts; a
        finished job asked for counts as used (its expiry starts again)."""
        job = self.get(job_id)
        if job is None:
            raise NotFound(f"no job {job_id!r}", thai=f"ไม่พบงานจัดหมวด {job_id} (อาจถูกลบไปแล้ว)")
        if done and job.status != "done" and not (partial and job.params.get("partial_rows")):
            kept = job.params.get("partial_rows")
            thai = ("งานจัดหมวดยังไม่เสร็จ ผลลัพธ์และการตรวจผลจะพร้อมเมื่องานเสร็จแล้ว" if job.status in ACTIVE
                    else f"งานจัดหมวดนี้ถูกยกเลิกก่อนเสร็จ ดาวน์โหลดผล {kept:,} แถวแรกที่ทำเสร็จได้ แต่การตรวจผลและไฟล์ที่แก้แล้วใช้ได้เฉพาะงานที่เสร็จ"
                    if kept else "งานจัดหมวดนี้ถูกยกเลิกไปแล้ว จึงไม่มีผลลัพธ์ กรุณาอัปโหลดไฟล์ใหม่" if job.status == "cancelled"
                    else "งานจัดหมวดนี้ไม่สำเร็จ จึงไม่มีผลลัพธ์ (ดูสาเหตุที่สถานะงาน) กรุณาแก้ไฟล์แล้วอัปโหลดใหม่")
            english = (f"job is cancelled; its first {kept:,} rows, done before it stopped, are at its result, but review and the corrected "
                       "file need a finished job" if kept else f"job is {job.status}; a result exists only when status is done")  # as the Thai says
            raise Conflict(english, thai=thai)
        if done:  # its result, review grid or corrected file is in use: it expires from now (remove_expired)
            with contextlib.suppress(OSError):
                os.utime(self.root / job_id)
        return job

    def get(self, job_id: str) -> Job | None:
        with self.engine.connect() as connection:
            row = connection.execute(select(table).where(table.c.id == job_id)).first()
        return None if row is None else _job(row)

    def recent(self, limit: int = 20, *, offset: int = 0, status: str | None = None) -> tuple[int, list[Job]]:
        """How many jobs there are (of ``status``), and a page of them, newest first: a job was reachable only
        through the address its page was at, so a closed tab lost its result and review grid (a walkthrough)."""
        where = [table.c.status == status] if status else []
        with self.engine.connect() as connection:
            total = connection.execute(select(func.count()).select_from(table).where(*where)).scalar_one()
            rows = connection.execute(select(table).where(*where).order_by(table.c.created.desc(), table.c.id).offset(offset).limit(limit)).all()
        return total, [_job(row) for row in rows]

    def using_catalog(self, catalog_id: str) -> list[str]:
        """The ids of the jobs kept that label with ``catalog_id`` (their review grid and corrected file read it)."""
        with self.engine.connect() as connection:
            rows = connection.execute(select(table.c.id, table.c.params)).all()
        return [job_id for job_id, params in rows if json.loads(params).get("catalog") == catalog_id]

    def ahead(self) -> dict[str, tuple[int, int]]:
        """Per queued job: the jobs before it in the one queue (queued or running, submitted earlier) and their rows
        left, read in one query (a list of jobs asks it once). An 80-row job sat "queued" behind another office's
        2,000 rows without a word (an operator's walkthrough)."""
        with self.engine.connect() as connection:
            active = connection.execute(select(table.c.id, table.c.status, table.c.total, table.c.done)
                                        .where(table.c.status.in_(ACTIVE)).order_by(table.c.created)).all()
        found: dict[str, tuple[int, int]] = {}
        jobs = rows = 0
        for job_id, status, total, done in active:
            if status == "queued":
                found[job_id] = (jobs, rows)
            jobs, rows = jobs + 1, rows + max(0, (total or 0) - (done or 0))
        return found

    def result_path(self, job_id: str, fmt: str) -> Path:
        """A finished job's result file; NotFound when its files were removed meanwhile (expired)."""
        path = self.root / job_id / f"result.{fmt}"
        if not path.is_file():
            raise _result_removed(job_id)
        return path

    def open_result(self, job_id: str, fmt: str) -> BinaryIO:
        """A finished job's result file, opened: what a download sends. Opened here, before the
        response starts, so a file removed meanwhile (an expiry sweep, an administrator) is a 404 that
        says so, or is sent whole from the open handle; served by path, it was checked, then opened,
        and one removed in between was a 500."""
        try:
            return self.result_path(job_id, fmt).open("rb")
        except FileNotFoundError:
            raise _result_removed(job_id) from None

    def cancel(self, job_id: str, wait: float = CANCEL_WAIT_S) -> Job | None:
        """Mark a queued or running job cancelled; the worker skips it or stops at its next encoder
        batch. A running job is waited for (up to ``wait`` seconds), so the answer holds the rows it
        finished (``partial_rows``): the page stopped polling at "cancelled", before they were kept."""
        asked_before = job_id in self._cancelled  # a second cancel while the worker has yet to stop at the first
        self._cancelled.add(job_id)  # before the row changes: the worker may look at its next batch meanwhile
        changed = self.app.store.write(lambda connection: connection.execute(update(table).where(table.c.id == job_id, table.c.status.in_(ACTIVE))
                                                                             .values(status="cancelled", error="cancelled by request",
                                                                                     updated=time.time())).rowcount)
        if not changed and not asked_before:  # finished or unknown: nothing would take the id out again (the set only grew; a review)
            self._cancelled.discard(job_id)
        with self._turn:
            self._turn.wait_for(lambda: self._running != job_id, timeout=wait)
        return self.get(job_id)

    def _update(self, job_id: str, *, even_cancelled: bool = False, **fields: object) -> None:
        """Status and progress from the worker; a cancelled job stays cancelled unless ``even_cancelled``."""
        where = [table.c.id == job_id] + ([] if even_cancelled else [table.c.status != "cancelled"])
        self.app.store.write(lambda connection: connection.execute(update(table).where(*where).values(**fields, updated=time.time())))

    def _keep_partial(self, job_id: str, rows: int) -> None:
        """A cancelled job's result holds its first ``rows`` rows (its status stays cancelled)."""
        job = self.get(job_id)
        self._update(job_id, even_cancelled=True, done=rows,
                     params=json.dumps({**(job.params if job else {}), "partial_rows": rows}, ensure_ascii=False))

    def _fail(self, job_id: str, error: str, thai: str | None) -> None:
        """A failed job; its Thai message for the pages goes with its parameters (``error_th``), the table has one error column."""
        job = self.get(job_id)
        params = {**(job.params if job else {}), "error_th": thai or ""}
        self._update(job_id, status="failed", error=error, params=json.dumps(params, ensure_ascii=False))

    def _check(self, job_id: str) -> None:
        if job_id in self._cancelled:
            raise Cancelled(job_id)

    def _run_forever(self) -> None:
        while True:
            job_id = self._queue.get()
            self.app.wait_warm()  # always ends (set even when the warm-up fails); a job waiting for it is still queued
            with self._turn:
                self._running = job_id
            started = time.monotonic()
            try:
                self._run(job_id)
                log.info("job %s done in %.1f s", job_id, time.monotonic() - started)  # a job's life in the log (an operator's walkthrough)
            except Cancelled:
                log.info("job %s cancelled", job_id)
            except InputError as exc:  # the file or its parameters: the user can act on it
                log.info("job %s refused its input: %s", job_id, exc)
                self._fail(job_id, str(exc), exc.thai)
            except Exception:  # a bug: logged, and a job must never kill the worker
                log.exception("job %s failed", job_id)
                self._fail(job_id, f"internal error; the service log has the details (job {job_id})", INTERNAL_TH)
            finally:
                self._cancelled.discard(job_id)
                with self._turn:
                    self._running = None
                    self._turn.notify_all()

    def _run(self, job_id: str) -> None:
        job = self.get(job_id)
        if job is None or job.status not in ACTIVE:
            return
        folder = self.root / job_id
        params = job.params
        table_in = read_table(next(folder.glob("input.*")), name=params.get("filename"), limits=self.app.table_limits())
        total = len(table_in.rows)
        restarted = job.status == "running"  # the service stopped during it: it starts again from its first row
        log.info("job %s started: %d rows, catalog %s, level %s%s", job_id, total, params.get("catalog") or "(default)", params.get("level") or "(deepest)",
                 " (again, after a restart)" if restarted else "")
        if restarted:  # said on the page: its progress fell from 97 to 1 without a word (an operator's walkthrough)
            params = {**params, "restarted": int(params.get("restarted") or 0) + 1}
            self._update(job_id, params=json.dumps(params, ensure_ascii=False))
        self._update(job_id, status="running", total=total, done=0)
        columns = parse_columns(params["text_col"])
        table_in.require(columns, params.get("filename"))
        label_col = str(params.get("label_col") or "")
        scored = bool(label_col) and label_col in table_in.columns
        unscored = unscored_th = ""  # why a labelled file gives no metrics (in Thai for the page)
        if scored:
            try:  # a classification output's own answers measure nothing (refused when a job is sent; one sent before says why)
                refuse_model_answers(label_col)
            except TableError as exc:
                scored, unscored, unscored_th = False, str(exc), exc.thai or ""
        # a measured text's own decision never predicts it
        exclude = measured_keys(table_in, columns, label_col, self.app.catalog(params.get("catalog"))) if scored else None
        aligner = self.app.aligner(params.get("catalog"), learn=params.get("learn", True), exclude=exclude)
        labelled_level = labelled = None
        if scored:
            try:  # no level asked: the labels' own (as `planalign eval`), so a file of dimensions is scored at the dimension level
                labelled = read_labelled(table_in, columns, label_col, aligner.catalog)
                labelled_level = labels_level(aligner.catalog, labelled.labels)
            except TableError as exc:
                scored, unscored, unscored_th = False, str(exc), exc.thai or ""
        level_asked = params.get("level") or labelled_level
        if level_asked != params.get("level"):  # the review grid and the corrected file read the level the job used
            params = {**params, "level": level_asked}
        review_below, review_decisions = aligner.review_threshold(aligner.catalog.resolve_level(level_asked))
        # the rows' numbers as the file shows them, for the review grid, when they are not 2, 3, ... (blank rows, JSON lines)
        numbered = {"row_numbers": table_in.sheet_rows} if table_in.sheet_rows != Table(table_in.columns, table_in.rows).row_numbers() else {}
        if table_in.text_cells:  # the corrected file keeps them as text too
            params = {**params, "text_cells": sorted(table_in.text_cells)}
        if table_in.sheet:  # and the sheet's name, and its dates as dates
            params = {**params, "sheet": table_in.sheet}
        if table_in.date_cells:
            params = {**params, "date_cells": sorted(table_in.date_cells)}
        self._update(job_id, params=json.dumps({**params, "model_version": aligner.model_version, "examples": aligner.examples,
                                                "review_below": review_below, "review_decisions": review_decisions, **numbered}, ensure_ascii=False))
        throttled = _Throttled(lambda done: self._update(job_id, done=done))

        def stop_if_cancelled(rows: int) -> None:  # called per encoder batch: where a cancelled job stops
            self._check(job_id)

        results: list = []  # kept only to score a labelled file, and then slimmed to the ranked ids of its level
        rows_out: list[dict[str, Any]] = []
        out_columns: list[str] = []
        level = ""
        def write_result() -> None:
            for fmt in ("csv", "xlsx"):
                write_table(folder / f"result.{fmt}", out_columns, rows_out, text_columns=kept_as_text(params.get("id_col"), columns, label_col, table_in.text_cells),
                            sheet=table_in.sheet, date_columns=table_in.date_cells)

        try:
            for start, end in batches(table_in.rows, columns):
                self._check(job_id)
                part = self.app.classify(Table(table_in.columns, table_in.rows[start:end]), columns, aligner=aligner,
                                         level=level_asked, progress=stop_if_cancelled)
                if scored:
                    results += [_slim(r, part.level) for r in part.results]
                rows_out += part.table.rows
                out_columns, level = part.table.columns, part.level
                throttled.set(end)
        except Cancelled:
            if rows_out:  # the rows finished before it stopped, in file order, are its result
                write_result()
                self._keep_partial(job_id, len(rows_out))
            raise
        write_result()
        metrics: dict[str, Any] | None = {"n": 0, "level": level, "unscored": unscored, "unscored_th": unscored_th} if unscored else None
        if scored and labelled is not None:
            # the rows `planalign eval` would score: with text, and labels that are nodes at or under the level
            kept, gold, skipped = scorable(aligner.catalog, labelled, level)
            position = {number: i for i, number in enumerate(table_in.row_numbers())}
            report = evaluate_alignments(aligner.catalog, [results[position[labelled.rows[i]]] for i in kept], gold, level)
            # a label given but unusable (a typo, a node above the level) apart from the rows left unlabelled
            given = {number: str(row.get(label_col) or "").strip() for number, row in zip(table_in.row_numbers(), table_in.rows)}
            unusable = [{"row": row, "label": given[row], "reason": why} for row, why in skipped if why not in ("no label", "empty text")]
            metrics = {**report.as_dict(), "level": level, "skipped": len(skipped), "skipped_rows": [row for row, _ in skipped][:20],
                       "unusable_labels": len(unusable), "unusable_label_rows": unusable[:20],
                       # why, by kind: the page said "no text, or a label not of the plan" of rows whose only gap was the label (a walkthrough)
                       "unlabelled": sum(why == "no label" for _, why in skipped), "empty_text": sum(why == "empty text" for _, why in skipped)}
        # Every row is done: a cancel that came while the result and the metrics were written is too late to
        # stop anything, and the job ends done (it became a "partial" of every row, without its metrics: a blind review).
        self._update(job_id, even_cancelled=True, status="done", error="", done=total,
                     metrics=json.dumps(metrics, ensure_ascii=False) if metrics else "")


def batches(rows: list[dict[str, Any]], columns: list[str]) -> list[tuple[int, int]]:
    """(start, end) of the rows classified together: BATCH_ROWS at most, BATCH_CHARS characters of text at most, one row
    at least; an empty file is one empty batch (its result is the header alone)."""
    spans: list[tuple[int, int]] = []
    start = chars = 0
    for i, row in enumerate(rows):
        size = sum(len(str(row.get(c) or "")) for c in columns)
        if i > start and (i - start >= BATCH_ROWS or chars + size > BATCH_CHARS):
            spans.append((start, i))
            start, chars = i, 0
        chars += size
    spans.append((start, len(rows)))
    return spans


def _delete_jobs(job_ids: list[str], connection: Connection) -> None:
    connection.execute(delete(table).where(table.c.id.in_(job_ids)))


def _result_removed(job_id: str) -> NotFound:
    return NotFound(f"job {job_id!r} has no result file (removed)", thai=f"ไม่พบไฟล์ผลของงานจัดหมวด {job_id} (อาจถูกลบไปแล้ว)")


def _last_touched(folder: Path) -> float:
    """When a job's folder last changed or was used (:meth:`JobManager.require` touches it); 0 when gone."""
    try:
        return folder.stat().st_mtime
    except OSError:
        return 0.0


def _job_folders(root: Path) -> list[str]:
    """Names of the job folders under ``root`` (none when an administrator removed it)."""
    try:
        with os.scandir(root) as entries:
            return [e.name for e in entries if _JOB_FOLDER.fullmatch(e.name) and e.is_dir(follow_symlinks=False)]
    except FileNotFoundError:
        return []


def _log_removal_error(function: Any, path: str, error: Any) -> None:
    """A file another sweep removed first is no error; anything else is logged, the sweep goes on.
    ``error``: the exception (``onexc``, Python 3.12+) or its ``sys.exc_info()`` (``onerror``)."""
    error = error[1] if isinstance(error, tuple) else error
    if not isinstance(error, FileNotFoundError):
        log.warning("could not remove %s of an expired job: %s", path, error)


_ON_REMOVAL_ERROR = {"onexc" if sys.version_info >= (3, 12) else "onerror": _log_removal_error}  # onerror is deprecated from 3.12


def _job(row: Any) -> Job:
    return Job(row.id, row.status, row.created, row.updated, json.loads(row.params), row.total or 0, row.done or 0,
               row.error or "", json.loads(row.metrics) if row.metrics else None)


def _slim(result: Alignment | Exception, level: str) -> Alignment | Exception:
    """What scoring needs of a result (its level's ranked suggestions), without evidence texts: a 20,000-row job stays small."""
    if not isinstance(result, Alignment):
        return result
    return Alignment({level: [dataclasses.replace(s, evidence=[]) for s in result.levels.get(level, [])]})


class _Throttled:
    """Counts rows and writes progress at most twice a second."""

    def __init__(self, write) -> None:
        self.write = write
        self.done = 0
        self.last = 0.0

    def set(self, done: int) -> None:
        self.done = done
        now = time.monotonic()
        if now - self.last > 0.5:
            self.last = now
            self.write(self.done)
