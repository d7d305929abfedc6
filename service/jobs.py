"""Background classification jobs that survive a restart.

A job is a row in the store's database (status, progress, parameters) plus its input and result
files under ``<data dir>/jobs/<id>/``. One worker thread runs jobs in order; on start-up, jobs that
were queued or running when the service stopped are queued again, so an upload is never lost.
"""
from __future__ import annotations

import json
import queue
import threading
import time
import traceback
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Float, Integer, String, Text, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from planalign.corpora.labelled import parse_columns, split_labels
from planalign.corpora.tables import read_table, write_table
from planalign.eval.metrics import evaluate
from planalign.index.classify import classify_table

class _Base(DeclarativeBase):
    pass


class JobRow(_Base):
    __tablename__ = "classify_jobs"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    status: Mapped[str] = mapped_column(String(10), index=True)
    created: Mapped[float] = mapped_column(Float)
    updated: Mapped[float] = mapped_column(Float)
    params: Mapped[str] = mapped_column(Text)  # JSON: text_col, id_col, label_col, catalog, level, filename
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    metrics: Mapped[str] = mapped_column(Text, default="")  # JSON when the file had a label column


@dataclass
class Job:
    id: str
    status: str
    created: float
    updated: float
    params: dict
    total: int
    done: int
    error: str
    metrics: dict | None

    def as_dict(self) -> dict:
        return {
            "id": self.id, "status": self.status, "created": self.created, "updated": self.updated,
            "progress": {"done": self.done, "total": self.total}, "error": self.error or None,
            "params": self.params, "metrics": self.metrics,
        }


def _to_job(row: JobRow) -> Job:
    return Job(row.id, row.status, row.created, row.updated, json.loads(row.params), row.total, row.done, row.error,
               json.loads(row.metrics) if row.metrics else None)


class JobManager:
    def __init__(self, state) -> None:  # state: ServiceState (kept untyped to avoid an import cycle)
        self.state = state
        self.engine = state.workspace.store.engine
        _Base.metadata.create_all(self.engine)
        self.root = state.workspace.data_dir / "jobs"
        self.root.mkdir(exist_ok=True)
        self._queue: queue.Queue[str] = queue.Queue()
        self._worker: threading.Thread | None = None

    def start(self) -> None:
        """Start the worker and queue again whatever was pending when the service last stopped."""
        with Session(self.engine) as session:
            pending = session.scalars(select(JobRow.id).where(JobRow.status.in_(["queued", "running"])).order_by(JobRow.created))
            for job_id in pending:
                self._queue.put(job_id)
        if self._worker is None:
            self._worker = threading.Thread(target=self._run_forever, name="classify-jobs", daemon=True)
            self._worker.start()

    def submit(self, filename: str, content: bytes, params: dict) -> Job:
        job_id = uuid.uuid4().hex
        folder = self.root / job_id
        folder.mkdir(parents=True)
        (folder / f"input{Path(filename).suffix.lower()}").write_bytes(content)
        now = time.time()
        with Session(self.engine) as session, session.begin():
            session.add(JobRow(id=job_id, status="queued", created=now, updated=now, params=json.dumps({**params, "filename": filename}, ensure_ascii=False)))
        self._queue.put(job_id)
        return self.get(job_id)

    def get(self, job_id: str) -> Job | None:
        with Session(self.engine) as session:
            row = session.get(JobRow, job_id)
            return _to_job(row) if row else None

    def result_path(self, job_id: str, fmt: str) -> Path:
        return self.root / job_id / f"result.{fmt}"

    def _update(self, job_id: str, **fields: object) -> None:
        with Session(self.engine) as session, session.begin():
            row = session.get(JobRow, job_id)
            for name, value in fields.items():
                setattr(row, name, value)
            row.updated = time.time()

    def _run_forever(self) -> None:
        while True:
            job_id = self._queue.get()
            try:
                self._run(job_id)
            except Exception as exc:  # a job must never kill the worker
                self._update(job_id, status="failed", error=f"{type(exc).__name__}: {exc}")
                traceback.print_exc()

    def _run(self, job_id: str) -> None:
        job = self.get(job_id)
        if job is None or job.status in ("done", "failed"):
            return
        folder = self.root / job_id
        source = next(folder.glob("input.*"))
        params = job.params
        table = read_table(source)
        self._update(job_id, status="running", total=len(table.rows), done=0)
        columns = parse_columns(params["text_col"])
        aligner = self.state.aligner(params.get("catalog"))
        progress = _Throttled(lambda done: self._update(job_id, done=done))
        labelled = classify_table(table, columns, aligner, params.get("level"), progress)
        write_table(folder / "result.csv", labelled.columns, labelled.rows)
        write_table(folder / "result.xlsx", labelled.columns, labelled.rows)
        metrics = None
        label_col = params.get("label_col")
        if label_col and label_col in table.columns:
            metrics = _metrics(labelled.rows, label_col, aligner, params.get("level"))
        self._update(job_id, status="done", done=len(table.rows), metrics=json.dumps(metrics, ensure_ascii=False) if metrics else "")


class _Throttled:
    """Counts rows and writes progress at most twice a second."""

    def __init__(self, write) -> None:
        self.write = write
        self.done = 0
        self.last = 0.0

    def __call__(self, rows: int) -> None:
        self.done += rows
        now = time.monotonic()
        if now - self.last > 0.5:
            self.last = now
            self.write(self.done)


def _metrics(rows: list[dict], label_col: str, aligner, level: str | None) -> dict:
    """Accuracy, per-class F1 and a confusion matrix for rows whose gold label is in the catalog."""
    catalog = aligner.catalog
    level = catalog.resolve_level(level)
    ranked, gold, confidence = [], [], []
    for row in rows:
        nodes = [catalog.find(label) for label in split_labels(row.get(label_col, ""))]
        ids = [a.id for a in (catalog.ancestor_at(n.id, level) for n in nodes if n) if a]
        if not ids or not row["pred_label"]:
            continue
        ranked.append(row["pred_top3"].split("|"))
        gold.append(ids)
        confidence.append(float(row["pred_score"] or 0))
    report = evaluate(ranked, gold, confidence)
    labels = sorted({g[0] for g in gold} | {r[0] for r in ranked})
    matrix = [[0] * len(labels) for _ in labels]
    for r, g in zip(ranked, gold):
        truth = r[0] if r[0] in g else g[0]
        matrix[labels.index(truth)][labels.index(r[0])] += 1
    return {**report.as_dict(), "level": level, "labels": labels, "confusion": matrix}
