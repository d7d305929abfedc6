"""The service under failure: background indexing and reconciliation, degraded health, job cancel,
500s that keep the connection, concurrent writes (issue 15). Model-free encoders throughout."""
import http.client
import json
import socket
import threading
import time

import pytest
from fastapi.testclient import TestClient

import planalign.app as app_module
from conftest import wait_for
from planalign.app import Application
from planalign.config import Settings
from planalign.corpora.projects import Project
from planalign.index.project_index import index_root
from planalign.jobs import BATCH_ROWS
from planalign.service.app import create_app

PROJECTS = [
    {"id": "A1", "name": "โครงการขุดลอกคลองบางบัว", "objective": "ลดน้ำท่วมขัง", "org": "สำนักงานเขตบางเขน", "fiscal_year": "2567"},
    {"id": "A2", "name": "โครงการอบรมอาสาสมัครป้องกันยาเสพติด", "org": "สำนักงานเขตจตุจักร", "fiscal_year": "2566"},
]


def settings(tmp_path, **extra) -> Settings:
    return Settings(data_dir=tmp_path, encoder="tfidf", index_encoder="tfidf", **extra)


class Gate:
    """Holds the background indexer inside its next pass until opened (sync_index wrapped)."""

    def __init__(self, monkeypatch) -> None:
        self.open = threading.Event()
        self.entered = threading.Event()
        real = app_module.sync_index

        def gated(*args, **kwargs):
            if threading.current_thread().name == "indexer":
                self.entered.set()
                assert self.open.wait(60), "gate never opened"
            return real(*args, **kwargs)

        monkeypatch.setattr(app_module, "sync_index", gated)


def _ready(client: TestClient) -> dict | None:
    response = client.get("/readyz")
    return response.json() if response.status_code == 200 else None


def test_startup_reconciles_projects_the_store_has_but_the_index_lacks(tmp_path, monkeypatch):
    """kill -9 after the store's commit and before the index write: the restart indexes what is missing."""
    core = Application(settings(tmp_path))
    core.ingest([Project(id="OLD", name="โครงการปลูกต้นไม้ริมถนน")])
    changed = Project(id="OLD", name="โครงการปลูกต้นไม้ริมคลองแสนแสบ")
    core.store.upsert([Project(id=f"N{i}", name=f"โครงการซ่อมถนนซอย {i}") for i in range(50)] + [changed])  # store only
    core.close()
    gate = Gate(monkeypatch)
    with TestClient(create_app(settings(tmp_path))) as client:
        assert gate.entered.wait(30)
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["status"] in ("starting", "indexing")
        assert client.get("/v1/search", params={"q": "ซ่อมถนน"}).status_code == 200  # the old version answers meanwhile
        gate.open.set()
        body = wait_for(lambda: _ready(client))
        assert body["projects"] == 51 and body["detail"] == "index agrees with the store"
        hits = client.get("/v1/search", params={"q": "คลองแสนแสบ", "mode": "keyword"}).json()["results"]
        assert [h["id"] for h in hits] == ["OLD"]


def test_writes_commit_and_only_queue_index_work(tmp_path, monkeypatch):
    with TestClient(create_app(settings(tmp_path, write_index_wait_s=0.2))) as client:
        wait_for(lambda: _ready(client))
        gate = Gate(monkeypatch)
        started = time.perf_counter()
        response = client.post("/v1/projects", json={"projects": PROJECTS})
        elapsed = time.perf_counter() - started
        assert response.status_code == 200 and elapsed < 2.0, elapsed
        assert response.json()["inserted"] == 2 and response.json()["pending"] == 2
        assert client.get("/v1/projects/A1").status_code == 200  # committed
        assert gate.entered.wait(30)
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["status"] == "indexing"
        gate.open.set()
        wait_for(lambda: _ready(client))
        assert client.get("/v1/search", params={"q": "ยาเสพติด", "mode": "keyword"}).json()["results"][0]["id"] == "A2"
        deleted = client.delete("/v1/projects/A2")
        assert deleted.status_code == 200
        wait_for(lambda: _ready(client))
        assert client.get("/v1/search", params={"q": "ยาเสพติด", "mode": "keyword"}).json()["results"] == []


def test_a_failing_index_pass_degrades_health_keeps_the_write_and_is_retried(tmp_path, monkeypatch):
    with TestClient(create_app(settings(tmp_path))) as client:
        wait_for(lambda: _ready(client))
        real = app_module.sync_index
        failures = []

        def failing_once(*args, **kwargs):
            if not failures:
                failures.append(1)
                raise OSError(28, "No space left on device")
            return real(*args, **kwargs)

        monkeypatch.setattr(app_module, "sync_index", failing_once)
        response = client.post("/v1/projects", json={"projects": PROJECTS})
        assert response.status_code == 200 and response.json()["inserted"] == 2  # the store write stands
        wait_for(lambda: failures)
        wait_for(lambda: _ready(client), timeout=30)
        assert client.get("/healthz").json() == {"status": "ok"}
        assert client.get("/v1/search", params={"q": "ยาเสพติด", "mode": "keyword"}).json()["results"][0]["id"] == "A2"


def test_damaged_newest_generation_is_served_from_the_previous_degraded_then_repaired(tmp_path, monkeypatch):
    core = Application(settings(tmp_path))
    core.ingest([Project(**{k: v for k, v in p.items() if k != "fiscal_year"}) for p in PROJECTS])
    first = core.index().generation
    core.reindex()
    newest = index_root(tmp_path) / core.index().generation
    core.close()
    (newest / "vectors.npy").write_bytes(b"\x93NUMPY truncated")
    gate = Gate(monkeypatch)
    with TestClient(create_app(settings(tmp_path))) as client:
        assert gate.entered.wait(30)
        health = client.get("/healthz")
        assert health.status_code == 200 and health.json()["status"] == "degraded"
        assert any("previous generation" in p for p in health.json()["problems"])
        assert str(tmp_path) not in health.text
        hits = client.get("/v1/search", params={"q": "ยาเสพติด", "mode": "keyword"})
        assert hits.status_code == 200 and hits.json()["results"][0]["id"] == "A2"  # served by the previous generation
        assert client.app.state.planalign.index().generation == first
        assert client.get("/readyz").status_code == 503
        gate.open.set()
        wait_for(lambda: _ready(client))
        assert client.get("/healthz").json() == {"status": "ok"}
        assert client.app.state.planalign.index().generation not in (first, newest.name)


def test_a_cancelled_job_stops_and_keeps_the_rows_it_finished(tmp_path):
    """Stopping a slow job kept nothing: the rows finished before it stopped are its (partial) result."""
    rows = "id,text\n" + "\n".join(f"{i},โครงการลอกท่อระบายน้ำซอย {i} เพื่อลดน้ำท่วมขัง" for i in range(6000)) + "\n"
    with TestClient(create_app(settings(tmp_path))) as client:
        wait_for(lambda: _ready(client))
        running = client.post("/v1/classify/jobs", files={"file": ("big.csv", rows.encode())}, data={"text_col": "text"}).json()
        queued = client.post("/v1/classify/jobs", files={"file": ("next.csv", rows.encode())}, data={"text_col": "text"}).json()
        assert queued["progress"]["total"] == 6000  # counted at upload
        wait_for(lambda: client.get(f"/v1/classify/jobs/{running['id']}").json()["progress"]["done"] >= 200)
        # the queued job first: cancelled after the running one, the worker could start it in between (1 run in 3)
        assert client.delete(f"/v1/classify/jobs/{queued['id']}").json()["status"] == "cancelled"
        shown = client.get(f"/v1/classify/jobs/{running['id']}").json()["progress"]["done"]
        cancelled = client.delete(f"/v1/classify/jobs/{running['id']}")
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
        assert cancelled.json()["params"]["partial_rows"] >= 200  # the answer waits for the worker to stop and keep them
        for job in (running, queued):
            status = client.get(f"/v1/classify/jobs/{job['id']}").json()
            assert status["status"] == "cancelled" and status["progress"]["done"] < 6000
            assert status["message_th"] == "งานนี้ถูกยกเลิกตามคำขอ"  # a Thai page had nothing to show
        status = client.get(f"/v1/classify/jobs/{running['id']}").json()
        kept = status["params"]["partial_rows"]
        assert kept % BATCH_ROWS == 0 and status["progress"]["done"] == kept  # whole batches, in file order
        assert kept >= shown  # every row the progress had counted (282 shown, 200 kept: an integrator's walkthrough)
        result = client.get(f"/v1/classify/jobs/{running['id']}/result")
        assert result.status_code == 200 and "big-labelled-partial.csv" in result.headers["content-disposition"]
        assert [line.split(",")[0] for line in result.text.splitlines()[1:]] == [str(i) for i in range(kept)]
        assert client.get(f"/v1/classify/jobs/{queued['id']}/result").status_code == 409  # cancelled before it started: nothing
        review = client.get(f"/v1/classify/jobs/{running['id']}/review")  # the review grid is for finished jobs, and says so
        assert review.status_code == 409 and "ยกเลิกก่อนเสร็จ" in review.json()["message_th"] and f"{kept:,}" in review.json()["message_th"]
        assert f"first {kept:,} rows" in review.json()["error"]  # as the Thai says: it read "a result exists only when status is done"
        again = client.delete(f"/v1/classify/jobs/{running['id']}")  # nothing left to cancel: not "it has finished"
        assert again.status_code == 409 and again.json()["message_th"] == "งานนี้ถูกยกเลิกไปแล้ว"
        assert client.delete("/v1/classify/jobs/nope").status_code == 404
        # the worker is free again: a small job runs to the end
        small = client.post("/v1/classify/jobs", files={"file": ("s.csv", b"text\n\xe0\xb8\x82\xe0\xb8\xb8\xe0\xb8\x94\n")},
                            data={"text_col": "text"}).json()
        assert wait_for(lambda: client.get(f"/v1/classify/jobs/{small['id']}").json()["status"] == "done", timeout=60)


def test_a_cancel_that_comes_once_every_row_is_done_leaves_the_job_done(tmp_path, monkeypatch):
    """A cancel while the result was being written turned a finished job into a "partial" of every row,
    without its metrics (a blind review): once every row is done, the job ends done."""
    from planalign import jobs as job_module

    rows = "text,label\n" + "".join(f"โครงการลอกท่อระบายน้ำซอย {i},D1.4\n" for i in range(30))
    with TestClient(create_app(settings(tmp_path))) as client:
        wait_for(lambda: _ready(client))
        manager = client.app.state.planalign.jobs
        writing = job_module.write_table

        def cancelled_while_writing(path, *args, **kwargs):
            for job in manager.recent(1)[1]:
                manager.cancel(job.id, wait=0)  # from the worker's own thread: no wait
            return writing(path, *args, **kwargs)

        monkeypatch.setattr(job_module, "write_table", cancelled_while_writing)
        job = client.post("/v1/classify/jobs", files={"file": ("late.csv", rows.encode())}, data={"text_col": "text", "label_col": "label"}).json()
        assert wait_for(lambda: client.get(f"/v1/classify/jobs/{job['id']}").json()["status"] == "done", timeout=60)  # "cancelled" a moment
        status = client.get(f"/v1/classify/jobs/{job['id']}").json()
        assert status["status"] == "done" and status["metrics"]["n"] == 30 and "partial_rows" not in status["params"]


def test_concurrent_api_ingests_of_the_same_ids_all_succeed(tmp_path):
    batch = [{"id": f"C{i}", "name": f"โครงการซ่อมถนนซอย {i}"} for i in range(200)]
    with TestClient(create_app(settings(tmp_path))) as client:
        wait_for(lambda: _ready(client))
        start = threading.Barrier(6)
        statuses = []

        def ingest() -> None:
            start.wait()
            response = client.post("/v1/projects", json={"projects": batch})
            statuses.append((response.status_code, response.text[:300]))

        threads = [threading.Thread(target=ingest) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert [s for s, _ in statuses] == [200] * 6, statuses
        assert not any("INSERT" in text or "Integrity" in text for _, text in statuses)
        assert sum(json.loads(text)["inserted"] for _, text in statuses) == 200
        wait_for(lambda: _ready(client))
        assert client.get("/readyz").json()["projects"] == 200


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_500_keeps_the_keep_alive_connection(tmp_path, monkeypatch):
    """Before: Starlette re-raised after the 500 and uvicorn closed the connection, failing the client's next request."""
    import uvicorn

    def broken(self, *args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(Application, "search", broken)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings(tmp_path)), host="127.0.0.1", port=port, log_level="critical"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: server.started, timeout=30)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for n in range(3):
            connection.request("GET", "/v1/search?q=x", headers={"X-Request-ID": f"ebudget-{n}"} if n else {})
            response = connection.getresponse()
            body = json.loads(response.read())
            assert response.status == 500 and body["error"].startswith("internal error") and "RuntimeError" not in json.dumps(body)
            assert body["message_th"].startswith("เกิดข้อผิดพลาดภายในระบบ")
            assert response.getheader("connection", "").lower() != "close"
            # the request's id, the client's own when it sent one, is in the answer and in its message: the log line has it too
            request_id = response.getheader("x-request-id")
            assert (request_id == f"ebudget-{n}" if n else len(request_id) == 16) and request_id in body["error"] and request_id in body["message_th"]
        connection.request("GET", "/healthz")  # same connection, still open
        assert connection.getresponse().status == 200
        connection.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.mark.parametrize("path", ["/v1/search?q=x", "/v1/duplicates"])
def test_requests_while_the_index_loads_wait_briefly_then_answer(tmp_path, path):
    core = Application(settings(tmp_path))
    core.ingest([Project(id="X", name="โครงการขุดลอกคลอง")])
    core.close()
    with TestClient(create_app(settings(tmp_path))) as client:
        assert client.get(path).status_code == 200  # the first load of a small index finishes within the wait


def test_finished_jobs_are_removed_after_the_retention_days_unless_changed_or_used(tmp_path):
    """Every upload and its result were kept forever. A finished job neither changed nor used (its
    result, review grid, corrected file) for ``job_retention_days`` goes, row and folder; a recent
    one and one in use stay, nothing else in the jobs folder is touched, a removed jobs folder fails
    no upload, and 0 days keeps everything."""
    import os
    import shutil

    from sqlalchemy import update

    from planalign.index.schema import classify_jobs

    rows = "text\n" + "".join(f"โครงการลอกท่อระบายน้ำซอย {i}\n" for i in range(3))
    with TestClient(create_app(settings(tmp_path, job_retention_days=30))) as client:
        wait_for(lambda: _ready(client))
        manager = client.app.state.planalign.jobs
        jobs = []
        for name in ("old.csv", "used.csv", "recent.csv"):
            job = client.post("/v1/classify/jobs", files={"file": (name, rows.encode())}, data={"text_col": "text"}).json()
            assert wait_for(lambda job=job: client.get(f"/v1/classify/jobs/{job['id']}").json()["status"] == "done", timeout=60)
            jobs.append(job["id"])
        old, used, recent = jobs
        in_31_days = time.time() + 31 * 86_400
        stale = in_31_days - 31 * 86_400 - 1
        for job_id in (old, used):  # both unchanged for 31 days, seen from then
            manager.app.store.write(lambda connection, job_id=job_id: connection.execute(
                update(classify_jobs).where(classify_jobs.c.id == job_id).values(updated=stale)))
            os.utime(manager.root / job_id, (stale, stale))
        manager.app.store.write(lambda connection: connection.execute(
            update(classify_jobs).where(classify_jobs.c.id == recent).values(updated=in_31_days - 86_400)))
        os.utime(manager.root / recent, (stale, stale))
        assert client.get(f"/v1/classify/jobs/{used}/review").status_code == 200  # a reviewer at work: used now
        os.utime(manager.root / used, (in_31_days - 86_400,) * 2)  # ... and again yesterday, seen from then
        (manager.root / "lost+found").mkdir()
        os.utime(manager.root / "lost+found", (stale, stale))
        assert manager.remove_expired(now=in_31_days) == 1
        assert client.get(f"/v1/classify/jobs/{old}").status_code == 404 and not (manager.root / old).exists()
        for job_id in (used, recent):
            assert client.get(f"/v1/classify/jobs/{job_id}/result").status_code == 200
        assert (manager.root / "lost+found").is_dir()
        shutil.rmtree(manager.root / recent)  # files gone under a request (a removal in between): a 404 that says so
        gone = client.get(f"/v1/classify/jobs/{recent}/result")
        assert gone.status_code == 404 and "อาจถูกลบไปแล้ว" in gone.json()["message_th"]
        assert client.get(f"/v1/classify/jobs/{recent}/review").status_code == 404
        shutil.rmtree(manager.root)  # an administrator freeing the disk: sweeps and uploads still work
        assert manager.remove_expired(now=in_31_days) == 1  # the unchanged job whose files went with it
        assert client.post("/v1/classify/jobs", files={"file": ("next.csv", rows.encode())}, data={"text_col": "text"}).status_code == 202
        app = client.app.state.planalign
        app.settings = app.settings.model_copy(update={"job_retention_days": 0})
        assert manager.remove_expired(now=in_31_days + 365 * 86_400) == 0
        assert client.get(f"/v1/classify/jobs/{recent}").status_code == 200


def test_a_result_removed_while_it_is_being_sent_arrives_whole_under_its_thai_name(tmp_path, monkeypatch):
    """The result was checked, then opened by the server when it sent it: a sweep or an
    administrator removing the folder in between made the download a 500. It is opened before the
    response starts now, and a Thai file name is kept (RFC 5987)."""
    import shutil
    from urllib.parse import quote

    rows = "text\n" + "".join(f"โครงการลอกท่อระบายน้ำซอย {i}\n" for i in range(3))
    with TestClient(create_app(settings(tmp_path))) as client:
        wait_for(lambda: _ready(client))
        manager = client.app.state.planalign.jobs
        job = client.post("/v1/classify/jobs", files={"file": ("แผนเขต.csv", rows.encode())}, data={"text_col": "text"}).json()
        assert wait_for(lambda: client.get(f"/v1/classify/jobs/{job['id']}").json()["status"] == "done", timeout=60)
        whole = client.get(f"/v1/classify/jobs/{job['id']}/result").content
        opened = manager.open_result

        def open_then_removed(job_id: str, fmt: str):
            handle = opened(job_id, fmt)
            shutil.rmtree(manager.root / job_id)
            return handle

        monkeypatch.setattr(manager, "open_result", open_then_removed)
        sent = client.get(f"/v1/classify/jobs/{job['id']}/result")
        assert sent.status_code == 200 and sent.content == whole and "ซอย 2" in whole.decode("utf-8-sig")
        assert sent.headers["content-disposition"] == f"attachment; filename*=utf-8''{quote('แผนเขต-labelled.csv')}"
        gone = client.get(f"/v1/classify/jobs/{job['id']}/result")
        assert gone.status_code == 404 and "อาจถูกลบไปแล้ว" in gone.json()["message_th"]


def test_a_job_cancelled_inside_a_batch_keeps_every_row_it_counted_and_no_more(tmp_path, monkeypatch):
    """Rows embedded counted as done while a batch ran: a cancel inside the first batch said 16 done and kept none (a
    walkthrough), inside a later one the progress fell back (282 shown, 200 kept: an integrator's walkthrough). The
    progress counts finished batches now, and a cancel still stops at the next encoder batch (finishing the batch first
    made it wait a minute for long rows: a blind review)."""
    rows = "text\n" + "".join(f"โครงการลอกท่อระบายน้ำซอย {i}\n" for i in range(BATCH_ROWS + 30))
    with TestClient(create_app(settings(tmp_path))) as client:
        wait_for(lambda: _ready(client))
        core = client.app.state.planalign
        classify = core.classify
        calls = []

        def cancelled_in(batch):
            def classify_then_cancel(table, columns, *, aligner, level=None, progress=None):
                calls.append(len(table.rows))
                if len(calls) == batch:
                    progress(16)  # rows embedded so far: no longer counted as done
                    assert client.get(f"/v1/classify/jobs/{core.jobs._running}").json()["progress"]["done"] == BATCH_ROWS * (batch - 1)
                    core.jobs.cancel(core.jobs._running, wait=0)  # a person presses cancel now
                return classify(table, columns, aligner=aligner, level=level, progress=progress)
            return classify_then_cancel

        for batch, kept in ((1, 0), (2, BATCH_ROWS)):
            calls.clear()
            monkeypatch.setattr(core, "classify", cancelled_in(batch))
            job_id = client.post("/v1/classify/jobs", files={"file": ("r.csv", rows.encode())}, data={"text_col": "text"}).json()["id"]

            def ended(job_id=job_id, kept=kept):
                s = client.get(f"/v1/classify/jobs/{job_id}").json()
                return s["status"] == "cancelled" and s["progress"]["done"] == kept and s["params"].get("partial_rows") == (kept or None)
            wait_for(ended, timeout=60)
            wait_for(lambda job_id=job_id: core.jobs._running != job_id, timeout=20)
            assert calls == [BATCH_ROWS, 30][:batch]  # it stopped in the batch it was in
            result = client.get(f"/v1/classify/jobs/{job_id}/result")
            assert result.status_code == 409 if not kept else len(result.text.splitlines()) == kept + 1


def test_batches_are_bounded_by_rows_and_by_characters():
    from planalign.jobs import BATCH_CHARS, batches

    short = [{"t": "ลอกท่อ"}] * (BATCH_ROWS * 2 + 1)
    assert batches(short, ["t"]) == [(0, BATCH_ROWS), (BATCH_ROWS, 2 * BATCH_ROWS), (2 * BATCH_ROWS, 2 * BATCH_ROWS + 1)]
    long = [{"t": "ก" * (BATCH_CHARS // 3)}] * 7  # three long rows a batch; a row longer than the bound is a batch of its own
    assert batches(long, ["t"]) == [(0, 3), (3, 6), (6, 7)] and batches([{"t": "ก" * (BATCH_CHARS * 2)}] * 2, ["t"]) == [(0, 1), (1, 2)]
    assert batches([], ["t"]) == [(0, 0)]


def test_a_job_cancelled_just_before_a_crash_says_no_row_is_done_after_the_restart(tmp_path):
    """Cancelled, then killed before the worker kept its finished rows: after the restart it said 200
    done, with no result to download (a security probe)."""
    with TestClient(create_app(settings(tmp_path))) as client:
        wait_for(lambda: _ready(client))
        job = client.post("/v1/classify/jobs", files={"file": ("r.csv", "text\nโครงการลอกท่อระบายน้ำ\n".encode())}, data={"text_col": "text"}).json()
        assert wait_for(lambda: client.get(f"/v1/classify/jobs/{job['id']}").json()["status"] == "done", timeout=60)
        jobs = client.app.state.planalign.jobs
        jobs.cancel(job["id"], wait=0)  # a finished job: nothing to stop, and its id is not kept for ever (the set only grew)
        assert job["id"] not in jobs._cancelled
        jobs._update(job["id"], even_cancelled=True, status="cancelled", done=200)  # as the kill left it
    with TestClient(create_app(settings(tmp_path))) as client:
        wait_for(lambda: _ready(client))
        assert client.get(f"/v1/classify/jobs/{job['id']}").json()["progress"]["done"] == 0
