"""``make bench`` / ``make bench-quick``: speed and memory, each figure beside its baseline.

Model sections (baseline: the default e5 encoder, measured in the same run):
* encoder throughput, texts/s, short (project names) and paragraph-length (Traffy reports);
* single-draft ``align`` latency p50/p95 (warm model, no embedding cache; e5 as the product runs it,
  with USE beside it), beside the same drafts embedded one by one by the encoder alone (``embed_*``:
  the model's own share, which moves with the machine's speed);
* batch classification rows/s.
Search sections (each at 1k, 10k and ~117k Traffy reports; ``--quick``: 1k and 2k), index encoder
``static`` (the default for a new index) unless ``--encoder`` says otherwise:
* end to end from an empty data directory (no embedding cache, no word table): store ingest, then
  normalizing, tokenizing, embedding and building the vector and keyword indexes, seconds;
* search latency p50/p95 per mode (index/hybrid.py: hybrid = both dense views + BM25 + feedback on a
  candidate pool); the approximate (HNSW) dense index against exact brute-force search in the same
  run: latency and recall@10;
* the duplicate sweep over the whole store with the embeddings given (texts from the store, both
  vector views from the index, nothing embedded): wall seconds of each of DEDUP_RUNS runs (best and
  worst), CPU seconds (this process and its 2 workers), candidate pairs, the machine's load average;
* memory of the real service: ``planalign serve`` started on that data directory in its own process,
  resident set after it answered a search (and its peak).
Coverage section (``GET /v1/coverage``): the FY2566 ordinance items (~1,800 projects) and the Traffy
reports (all ~117k; ``--quick``: 2,000) in one store: the time to align every stored item from an
empty data directory (projects: the drafts' encoder e5; reports: their category map, else ``static``),
the first answer right after readiness, then warm latency p50/p95 over year x level x group filters,
through the HTTP app (serialization included); acceptance: warm <= 200 ms.
Learning from decisions (Traffy categories catalog, e5 with its embedding cache):
* importing 1,000 decisions (labelled 2022 reports) and refitting the catalog's model, seconds;
* ``align`` latency p50/p95 with the model learned from 5,000 decisions against zero-shot, on the
  same 100 other reports in the same run: their embeddings cached (the model's own cost), and
  embedded by e5 each time (what a user's new draft costs).
Results: ``eval/results/bench.json`` and ``eval/results/bench.md``.
"""
from __future__ import annotations

import argparse
import copy
import csv
import gzip
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np

from planalign.app import Application
from planalign.config import Settings
from planalign.corpora.catalog import load_catalog
from planalign.corpora.projects import Project, fiscal_year_of
from planalign.corpora.tables import Table
from planalign.eval.datasets import DatasetMissing, devset, shared_data_dir
from planalign.eval.search_eval import load_queries
from planalign.index.align import Aligner
from planalign.index.ann.base import exact_top_k
from planalign.index.ann.hnsw import HnswIndex
from planalign.index.classify import classify_table
from planalign.index.hybrid import MODES, Filters, rank_positions
from planalign.nlp.encoders import get_encoder
from planalign.nlp.encoders.factory import CASCADE
from planalign.nlp.encoders.static import StaticEncoder
from planalign.nlp.normalize import normalize
from planalign.nlp.tokenize import forget_memos

RESULTS = Path(__file__).resolve().parent / "results"
# The search sections index with static at every size, for one comparable series (a new index would
# use e5 up to 20,000 texts: `auto`, planalign/config.py; e5 at 10k reports takes ~30 min).
BENCH_INDEX_ENCODER = "static"
DEDUP_RUNS = 2


def traffy_projects(limit: int | None) -> list[Project]:
    """Traffy reports (2022 then January 2023) as projects, the first ``limit`` of them."""
    projects: list[Project] = []
    for split in ("2022", "2023-01"):
        path = shared_data_dir() / "traffy" / f"traffy_{split}.csv.gz"
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                text = row["description"].strip()
                if not text:
                    continue
                projects.append(Project(id=row["ticket_id"], name=text, org=row["org"], district=row["district"], category=row["type"],
                                        district_group=row["district_group"], fiscal_year=fiscal_year_of(row["timestamp"]), source=f"traffy_{split}"))
                if limit and len(projects) >= limit:
                    return projects
    return projects


def percentile_ms(samples: list[float], q: float) -> float:
    return round(float(np.percentile(samples, q)) * 1000, 2)


def bench_size(size: int | None, encoder: str, queries: list[str], root: Path, with_service: bool = True) -> dict:
    projects = traffy_projects(size)
    data_dir = root / f"bench-traffy-{encoder}-{len(projects)}"
    shutil.rmtree(data_dir, ignore_errors=True)  # end to end: no store, no index, no embedding cache
    app = Application(Settings.load(data_dir=data_dir))
    started = time.perf_counter()
    app.store.upsert(projects)
    ingest_s = time.perf_counter() - started
    started = time.perf_counter()
    app.sync(encoder, rebuild=True)
    index_s = time.perf_counter() - started
    row = measure(app, data_dir, queries, {"store_ingest_s": round(ingest_s, 1), "index_build_s": round(index_s, 1),
                                           "end_to_end_s": round(ingest_s + index_s, 1)}, with_service)
    row.update(update_latency(app, projects))
    return row


def bench_existing(data_dir: Path, queries: list[str], with_service: bool = True) -> dict:
    """The same measurements on a data directory already filled (``--existing DIR``, e.g. the 117k
    store of ``make demo-real``), without its hour-long cold build: first one project's upsert and
    delete on the loaded index and the full rewrite baseline (which also brings the index to the
    current format), then search, HNSW and the duplicate sweep with the embeddings given."""
    app = Application(Settings.load(data_dir=data_dir))
    app.require_index()
    updates = update_latency(app, app.store.list(0, 5))
    row = measure(app, data_dir, queries, {"store_ingest_s": "", "index_build_s": "existing", "end_to_end_s": ""}, with_service)
    row.update(updates)
    return row


def measure(app: Application, data_dir: Path, queries: list[str], build: dict, with_service: bool) -> dict:
    index = app.require_index()
    # Uncached, and for static a new word table: query latency includes embedding the query (words).
    embedder = StaticEncoder(get_encoder("e5")) if index.encoder_name == "static" else get_encoder(index.encoder_name)
    embedder.encode_queries(["warm-up"])
    row: dict = {"documents": len(index), "encoder": index.encoder_name, **build, "vector_backend": index.vectors.backend,
                 **(service_memory_mb(data_dir, queries[0]) if with_service else {})}
    # First sight of each query: static embeds the query words it has not seen with e5 (then keeps them).
    first_sight = []
    for query in queries:
        t = time.perf_counter()
        rank_positions(index, embedder, query, "hybrid", Filters(), 10)
        first_sight.append(time.perf_counter() - t)
    row["hybrid_first_sight_p50_ms"], row["hybrid_first_sight_p95_ms"] = percentile_ms(first_sight, 50), percentile_ms(first_sight, 95)
    for mode in MODES:
        for query in queries[:5]:  # warm-up: first-call costs (page faults, lazy init) are not latency
            rank_positions(index, embedder, query, mode, Filters(), 10)
        latencies = []
        for query in queries:
            t = time.perf_counter()
            rank_positions(index, embedder, query, mode, Filters(), 10)
            latencies.append(time.perf_counter() - t)
        row[f"{mode}_p50_ms"], row[f"{mode}_p95_ms"] = percentile_ms(latencies, 50), percentile_ms(latencies, 95)
    # Approximate vs exact dense search on the same vectors and query embeddings.
    vectors = index.vectors.vectors
    query_vectors = embedder.encode_queries([normalize(q) for q in queries])
    hnsw = index.vectors if index.vectors.backend == "hnsw" else HnswIndex(vectors)
    recalls, strict, approx_t, exact_t = [], [], [], []
    for q in query_vectors:
        t = time.perf_counter()
        approx, approx_scores = hnsw.search(q, 10)
        approx_t.append(time.perf_counter() - t)
        t = time.perf_counter()
        exact, exact_scores = exact_top_k(vectors, q, 10)
        exact_t.append(time.perf_counter() - t)
        strict.append(len(set(approx.tolist()) & set(exact.tolist())) / 10)
        # Traffy holds many identical reports: a result tied with the 10th exact score is as good as
        # the one exact search happened to return, so ties count as hits.
        recalls.append(min(10, int((approx_scores >= exact_scores[-1] - 1e-5).sum())) / 10)
    row.update(hnsw_p50_ms=percentile_ms(approx_t, 50), hnsw_p95_ms=percentile_ms(approx_t, 95),
               exact_p50_ms=percentile_ms(exact_t, 50), exact_p95_ms=percentile_ms(exact_t, 95),
               hnsw_recall_at_10=round(float(np.mean(recalls)), 4), hnsw_recall_at_10_strict_ids=round(float(np.mean(strict)), 4))
    row.update(dedup_sweep(data_dir))
    row["rss_mb_peak"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(row), flush=True)
    return row


def _cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def dedup_sweep(data_dir: Path) -> dict:
    """As `planalign dedup` on the store (all years, any pair), with the embeddings given: texts from
    the store, query views from the index (loaded before timing), nothing embedded. Each run in a
    fresh core (the result is cached per index version); the shared cores of this machine make the
    wall time vary, so every run and the load average are reported."""
    walls, cpus = [], []
    load_before = os.getloadavg()[0]
    for _ in range(DEDUP_RUNS):
        app = Application(Settings.load(data_dir=data_dir))
        app.require_index()
        started, cpu = time.perf_counter(), _cpu_seconds()
        found = app.duplicate_clusters(None, across=False)
        walls.append(time.perf_counter() - started)
        cpus.append(_cpu_seconds() - cpu)
    return {"dedup_s_best": round(min(walls), 1), "dedup_s_worst": round(max(walls), 1), "dedup_cpu_s": round(min(cpus), 1),
            "dedup_candidates": found.result.candidates, "dedup_pairs": len(found.result.pairs), "dedup_clusters": len(found.result.clusters),
            "load_avg_1min": f"{load_before:.1f}-{os.getloadavg()[0]:.1f}"}


def bench_coverage(root: Path, reports: int | None, repeats: int = 5) -> dict:
    """Align ~1,800 ordinance items and ``reports`` Traffy reports from scratch, then time ``GET /v1/coverage``."""
    from planalign.corpora.projects import read_projects

    ordinance = read_projects(shared_data_dir() / "budget" / "bma_budget_ordinance_2566_items.csv", source="ordinance-2566",
                              where={"level": "item"}).projects
    items = ordinance + traffy_projects(reports)
    data_dir = root / f"bench-coverage-{len(items)}"
    shutil.rmtree(data_dir, ignore_errors=True)
    app = Application(Settings.load(data_dir=data_dir))
    app.store.upsert(items)
    started = time.perf_counter()
    aligned = app.refresh_alignments()
    row: dict[str, Any] = {"data": "from scratch", "aligned": aligned, "align_s": round(time.perf_counter() - started, 1)}
    app.close()
    return coverage_latency(data_dir, row, repeats)


def coverage_latency(data_dir: Path, row: dict[str, Any], repeats: int = 5) -> dict:
    """``GET /v1/coverage`` on an aligned data directory: the first answer, then warm p50/p95 over filters."""
    from fastapi.testclient import TestClient

    from planalign.service.app import create_app

    groups = [None, "กรุงเทพเหนือ", "กรุงธนใต้"]
    filters = [{"level": level, **({"year": year} if year else {}), **({"group": g} if g else {})}
               for year in (2566, 2565, None) for level in ("dimension", "issue") for g in groups]
    with TestClient(create_app(Settings.load(data_dir=data_dir))) as client:
        deadline = time.time() + 600
        while client.get("/readyz").status_code != 200 and time.time() < deadline:  # the warm-up (model, index) is not timed
            time.sleep(0.5)
        started = time.perf_counter()
        first = client.get("/v1/coverage", params={"year": 2566})
        row["first_ms"] = round((time.perf_counter() - started) * 1000, 1)
        assert first.status_code == 200 and first.json()["pending"] == 0, first.text[:300]
        latencies = []
        for _ in range(repeats):
            for params in filters:
                started = time.perf_counter()
                response = client.get("/v1/coverage", params=params)
                latencies.append(time.perf_counter() - started)
                assert response.status_code == 200, response.text[:300]
        everything = client.get("/v1/coverage").json()
        row.update(projects=everything["total_projects"], reports=everything["total_reports"])
        needs = []
        for _ in range(repeats):
            started = time.perf_counter()
            assert client.get("/v1/coverage/needs", params={"year": 2566, "level": "issue"}).status_code == 200
            needs.append(time.perf_counter() - started)
    body = first.json()
    row.update(warm_p50_ms=percentile_ms(latencies, 50), warm_p95_ms=percentile_ms(latencies, 95), warm_max_ms=round(max(latencies) * 1000, 1),
               requests=len(latencies), needs_p50_ms=percentile_ms(needs, 50), needs_p95_ms=percentile_ms(needs, 95),
               fy2566_projects=body["total_projects"], fy2566_reports=body["total_reports"])
    print(json.dumps(row), flush=True)
    return row


def update_latency(app: Application, projects: list[Project], repeats: int = 5) -> dict:
    """One project's upsert and delete through the core, index loaded (as the service does it).

    Each is a store transaction plus an index delta (embed, append to the vector and BM25 indexes,
    tombstone, write the delta file, switch ``CURRENT``); baseline: the same change as a full
    generation rewrite (``reindex`` of the store), measured once in the same run.
    """
    upserts, deletes = [], []
    for n in range(repeats):
        changed = projects[n].model_copy(update={"id": f"bench-upsert-{n}", "name": projects[n].name + " (แก้ไข)"})
        started = time.perf_counter()
        app.ingest([changed])
        upserts.append(time.perf_counter() - started)
        started = time.perf_counter()
        app.delete([changed.id])
        deletes.append(time.perf_counter() - started)
    started = time.perf_counter()
    app.sync(rebuild=True)
    return {"upsert_one_p50_s": round(float(np.median(upserts)), 3), "upsert_one_max_s": round(max(upserts), 3),
            "delete_one_p50_s": round(float(np.median(deletes)), 3), "delete_one_max_s": round(max(deletes), 3),
            "full_rewrite_s": round(time.perf_counter() - started, 1)}


def service_memory_mb(data_dir: Path, query: str, port: int = 8765) -> dict:
    """Start ``planalign serve`` on ``data_dir``, search once, and read its resident set from /proc."""
    command = [str(Path(sys.executable).with_name("planalign")), "serve", "--data-dir", str(data_dir), "--port", str(port)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 600
        while time.time() < deadline:
            if server.poll() is not None:
                raise RuntimeError(f"`planalign serve` exited with status {server.returncode} on {data_dir}")
            try:
                with urllib.request.urlopen(f"{base}/readyz", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(1)
        with urllib.request.urlopen(f"{base}/v1/search?q={urllib.parse.quote(query)}", timeout=600) as response:
            response.read()
        status = Path(f"/proc/{server.pid}/status").read_text()
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        kb = {name: int(fields[name].split()[0]) for name in ("VmRSS", "VmHWM")}
        return {"service_rss_mb": round(kb["VmRSS"] / 1024, 1), "service_peak_rss_mb": round(kb["VmHWM"] / 1024, 1)}
    finally:
        server.terminate()
        server.wait(30)


def first_start(timeout: float = 600) -> dict:
    """``planalign serve --sample`` (what ``make run`` starts) on a fresh data directory: seconds
    until the port accepts connections and until ``/readyz`` is 200, the server's CPU seconds at each
    (wall time on a machine shared with other jobs says little; CPU time does not depend on them),
    and the readiness details seen meanwhile (targets on 2 cores: port within 10 s, ready within 60 s)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with tempfile.TemporaryDirectory() as folder:
        command = [str(Path(sys.executable).with_name("planalign")), "serve", "--sample", "--data-dir", folder, "--port", str(port)]
        started = time.perf_counter()
        server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_open = ready = None
        cpu: dict[str, float] = {}
        details: list[str] = []
        try:
            while time.perf_counter() - started < timeout and ready is None:
                if server.poll() is not None:
                    raise RuntimeError(f"`planalign serve --sample` exited with status {server.returncode}")
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5):
                        ready = time.perf_counter() - started
                        cpu["ready_cpu_s"] = _process_cpu_seconds(server.pid)
                except urllib.error.HTTPError as exc:  # 503 while starting: the body says what is loading
                    detail = json.loads(exc.read() or b"{}").get("detail")
                    if detail and detail not in details:
                        details.append(detail)
                except OSError:
                    time.sleep(0.1)
                    continue
                if port_open is None:
                    port_open = time.perf_counter() - started
                    cpu["port_open_cpu_s"] = _process_cpu_seconds(server.pid)
                time.sleep(0.2)
        finally:
            server.terminate()
            server.wait(30)
    return {"port_open_s": round(port_open, 1) if port_open is not None else None, "ready_s": round(ready, 1) if ready is not None else None,
            **{k: round(v, 1) for k, v in cpu.items()},
            "details": " → ".join(details if len(details) <= 4 else details[:2] + ["…"] + details[-2:])}


def _process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a running process, all its threads (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def throughput(encoder_name: str, texts: list[str], cache_dir: Path) -> float:
    """Texts per second, uncached (``static`` keeps its warm word table: that is its design)."""
    encoder = get_encoder(encoder_name, cache_dir if encoder_name == "static" else None)
    # Warm-up: the model's first call; for ``static`` its word table (built once per vocabulary).
    encoder.encode_passages(texts if encoder_name == "static" else texts[:8])
    encoder.encode_queries(texts if encoder_name == "static" else texts[:8])
    forget_memos()
    started = time.perf_counter()
    encoder.encode_passages(texts)
    return round(len(texts) / (time.perf_counter() - started), 1)


def static_cold_classify(table: Table, catalog, root: Path) -> float:
    """Rows/s when none of the rows' words was seen before: each new word costs one e5 call."""
    cache = Path(tempfile.mkdtemp(dir=root, prefix="bench-cold-"))
    try:
        aligner = Aligner(catalog, get_encoder("static", cache))  # the catalog's own words: not timed
        forget_memos()
        started = time.perf_counter()
        classify_table(table, ["text"], aligner, "issue")
        return round(len(table.rows) / (time.perf_counter() - started), 1)
    finally:
        shutil.rmtree(cache, ignore_errors=True)


def _uncached_e5(aligner: Aligner) -> Aligner:
    """The product's e5 aligner with its encoders uncached: e5, and USE beside it (the e5 row measured
    e5 alone until 2026-12-06, leaving out USE's call and, then, the two models' threads slowing each other)."""
    aligner.encoder = get_encoder("e5")
    if aligner.scorer.second is not None:
        aligner.scorer.second = get_encoder("use")
    return aligner


def bench_models(encoders: list[str], root: Path, quick: bool) -> list[dict]:
    short = [t.split("\n")[0] for t in devset("issue").texts][: 60 if quick else 149]
    paragraphs = [p.name for p in traffy_projects(3000) if len(p.name) > 200][: 30 if quick else 100]
    drafts = devset("issue").texts[: 20 if quick else 60]
    catalog = load_catalog()
    rows: list[dict[str, Any]] = []
    for name in encoders:
        row: dict[str, Any]
        if name == CASCADE:  # an aligner, not an encoder: no throughput of its own
            row = {"encoder": name, "short_texts_per_s": None, "paragraphs_per_s": None}
            aligner = Application(Settings.load(data_dir=root)).new_aligner(catalog, name)
            assert aligner.fallback is not None
            _uncached_e5(aligner.fallback)
        else:
            row = {"encoder": name, "short_texts_per_s": throughput(name, short, root / "cache"),
                   "paragraphs_per_s": throughput(name, paragraphs, root / "cache")}
            if name == "e5":  # as the product aligns: USE's second opinion beside e5 (Application.new_aligner)
                aligner = _uncached_e5(Application(Settings.load(data_dir=root)).new_aligner(catalog, "e5"))
            else:
                aligner = Aligner(catalog, get_encoder(name, root / "cache" if name == "static" else None))
        aligner.align(drafts[0])
        if name in ("static", CASCADE):  # the warm word table is static's design; new words: see below
            aligner.align_many(drafts + paragraphs)
        if name != CASCADE:  # the encoder's own share of a draft's latency: the same drafts embedded one by one
            embedded = []
            for draft in drafts:
                started = time.perf_counter()
                aligner.encoder.encode_queries([draft])
                embedded.append(time.perf_counter() - started)
            row.update(embed_p50_ms=percentile_ms(embedded, 50), embed_p95_ms=percentile_ms(embedded, 95))
        latencies = []
        for draft in drafts:
            started = time.perf_counter()
            aligner.align(draft)
            latencies.append(time.perf_counter() - started)
        row.update(align_p50_ms=percentile_ms(latencies, 50), align_p95_ms=percentile_ms(latencies, 95))
        table = Table(["text"], [{"text": t} for t in drafts + paragraphs])
        forget_memos()
        started = time.perf_counter()
        classify_table(table, ["text"], aligner, "issue")
        row["classify_rows_per_s"] = round(len(table.rows) / (time.perf_counter() - started), 1)
        if name == "static":
            row["classify_rows_per_s_new_words"] = static_cold_classify(table, catalog, root)
        rows.append(row)
        print(json.dumps(row), flush=True)
    baseline = next((r for r in rows if r["encoder"] == "e5"), rows[0])
    for row in rows:
        row["classify_speedup_vs_e5"] = round(row["classify_rows_per_s"] / baseline["classify_rows_per_s"], 1)
    return rows


def bench_learning(root: Path, drafts_n: int = 100) -> dict:
    """Decisions: import + refit time at 1,000, and align latency with 5,000 against zero-shot."""
    from planalign.corpora.catalog import load_catalog
    from planalign.eval.datasets import eval_data_path, restricted, traffy

    catalog = load_catalog(eval_data_path("traffy_categories.csv"))
    reports = restricted(traffy("2022"), set(catalog.nodes), "traffy-2022", 3000)
    later = restricted(traffy("2023-01"), set(catalog.nodes), "traffy-2023-01", 2000 + drafts_n)
    texts, labels = reports.texts + later.texts[:2000], [ls[0] for ls in reports.labels + later.labels[:2000]]
    drafts = later.texts[2000:]
    data_dir = Path(tempfile.mkdtemp(dir=root, prefix="bench-learning-"))
    (data_dir / "cache").symlink_to(root / "cache", target_is_directory=True)  # e5's cached embeddings
    try:
        app = Application(Settings.load(data_dir=data_dir, encoder="e5"))
        app.add_catalog("traffy", catalog)
        zero = app.aligner("traffy", learn=False)
        started = time.perf_counter()
        app.import_decisions(Table(["text", "label"], [{"text": t, "label": label} for t, label in zip(texts[:1000], labels[:1000])]), ["text"], "label",
                             catalog="traffy")
        import_s = time.perf_counter() - started
        started = time.perf_counter()
        app.refit("traffy")
        refit_s = time.perf_counter() - started
        app.import_decisions(Table(["text", "label"], [{"text": t, "label": label} for t, label in zip(texts[1000:], labels[1000:])]), ["text"], "label",
                             catalog="traffy")
        started = time.perf_counter()
        learned = app.refit("traffy")
        refit_5000_s = time.perf_counter() - started
        assert learned is not None, "5,000 decisions give a model"
        row: dict[str, Any] = {"import_1000_s": round(import_s, 1), "refit_1000_s": round(refit_s, 1),
                               "import_and_refit_1000_s": round(import_s + refit_s, 1), "refit_5000_s": round(refit_5000_s, 1),
                               "examples": learned.examples}
        uncached = get_encoder("e5")  # as bench_models: every draft embedded by e5, as a user's new draft is
        for name, aligner in (("zero_shot", zero), ("learned_5000", learned.aligner)):
            aligner.align_many(drafts, with_evidence=True)  # the drafts' embeddings into the cache: the same cost on both sides
            fresh = copy.copy(aligner)
            fresh.encoder = uncached
            for label, used in (("cached", aligner), ("e5", fresh)):
                latencies = []
                for draft in drafts:
                    started = time.perf_counter()
                    used.align(draft)
                    latencies.append(time.perf_counter() - started)
                row[f"align_{label}_{name}_p50_ms"], row[f"align_{label}_{name}_p95_ms"] = percentile_ms(latencies, 50), percentile_ms(latencies, 95)
        print(json.dumps(row), flush=True)
        return row
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def plot(models: list[dict], search: list[dict], name: str) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    files = []
    if models:
        figure, axes = plt.subplots(1, 2, figsize=(10, 3.5))
        names = [m["encoder"] for m in models]
        axes[0].bar(names, [m["classify_rows_per_s"] for m in models])
        axes[0].set_yscale("log")
        axes[0].set_title("batch classify, rows/s (log)")
        axes[1].bar(names, [m["align_p95_ms"] for m in models])
        axes[1].set_title("align p95, ms")
        figure.tight_layout()
        figure.savefig(RESULTS / f"{name}-models.png", dpi=90)
        plt.close(figure)
        files.append(f"{name}-models.png")
    if search:
        figure, axes = plt.subplots(1, 2, figsize=(10, 3.5))
        sizes = [str(r["documents"]) for r in search]
        for mode in MODES:
            axes[0].plot(sizes, [r[f"{mode}_p95_ms"] for r in search], marker="o", label=mode)
        axes[0].set_title("search p95, ms")
        axes[0].legend()
        axes[1].plot(sizes, [r["hnsw_p95_ms"] for r in search], marker="o", label="HNSW")
        axes[1].plot(sizes, [r["exact_p95_ms"] for r in search], marker="o", label="exact")
        axes[1].set_title("dense p95, ms: HNSW vs exact")
        axes[1].legend()
        figure.tight_layout()
        figure.savefig(RESULTS / f"{name}-search.png", dpi=90)
        plt.close(figure)
        files.append(f"{name}-search.png")
    return files


def markdown_table(rows: list[dict]) -> list[str]:
    columns = list(dict.fromkeys(column for row in rows for column in row))  # rows may lack a section
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    return lines + ["| " + " | ".join(str(r.get(c, "")) for c in columns) + " |" for r in rows]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes, about two minutes")
    parser.add_argument("--encoder", default=BENCH_INDEX_ENCODER, help="encoder for the index (e5 needs ~5 h at 117k: two views)")
    parser.add_argument("--sizes", default=None, help="comma-separated corpus sizes (0 = all reports)")
    parser.add_argument("--encoders", default=None, help="encoders for the model sections [default: e5,static,cascade,use,tfidf; --quick: e5,static,cascade]")
    parser.add_argument("--skip-models", action="store_true")
    parser.add_argument("--skip-search", action="store_true")
    parser.add_argument("--existing", default=None, help="also measure updates, search and duplicates on this filled data dir (after --sizes)")
    parser.add_argument("--skip-coverage", action="store_true")
    parser.add_argument("--coverage-data", type=Path, default=None,
                        help="time coverage on this already aligned data directory (e.g. make demo-real's) instead of building one")
    parser.add_argument("--skip-learning", action="store_true")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else ([1000, 2000] if args.quick else [1000, 10000, 0])
    root = Settings.load().resolved_data_dir()
    # Queries: our judged search queries and the names of our dev-set drafts (none is a corpus text).
    queries = [q["query"] for q in load_queries()] + [t.split("\n")[0] for t in devset("issue").texts]
    queries = queries[:50] if args.quick else queries
    start = [first_start()]  # needs no shared data
    try:
        encoders = args.encoders or ("e5,static,cascade" if args.quick else "e5,static,cascade,use,tfidf")
        models = [] if args.skip_models else bench_models([e.strip() for e in encoders.split(",")], root, args.quick)
        search = [] if args.skip_search else [bench_size(size or None, args.encoder, queries, root, with_service=not args.quick or size == sizes[-1])
                                              for size in sizes]
        if args.existing:
            search.append(bench_existing(Path(args.existing), queries))
        if args.skip_coverage:
            coverage = []
        elif args.coverage_data:
            coverage = [coverage_latency(args.coverage_data, {"data": str(args.coverage_data.name), "aligned": None, "align_s": None})]
        else:
            coverage = [bench_coverage(root, 2000 if args.quick else None)]
        learning = [] if args.skip_learning else [bench_learning(root, 30 if args.quick else 100)]
    except DatasetMissing as exc:
        print(f"skipped: {exc}", file=sys.stderr)
        return 0
    RESULTS.mkdir(exist_ok=True)
    name = "bench-quick" if args.quick else "bench"
    previous = RESULTS / f"{name}.json"
    if previous.exists() and (args.skip_models or args.skip_search or args.skip_coverage or args.skip_learning):  # keep the sections not re-measured
        old = json.loads(previous.read_text(encoding="utf-8"))
        models, search = models or old.get("models", []), search or old.get("search", [])
        coverage, learning = coverage or old.get("coverage", []), learning or old.get("learning", [])
    sections = {"start": start, "models": models, "search": search, "coverage": coverage, "learning": learning}
    (RESULTS / f"{name}.json").write_text(json.dumps(sections, ensure_ascii=False, indent=1), encoding="utf-8")
    report = [f"# Benchmark ({time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores)", ""]
    report += ["## First start (`planalign serve --sample` on an empty data directory, as `make run`)", "",
               "port_open_s: until the port accepts connections; ready_s: until /readyz is 200 (the sample indexed from the "
               "shipped vectors, the model warm); targets 10 s and 60 s.", ""] + markdown_table(start) + [""]
    if models:
        report += ["## Models (baseline: e5 in the same run)", ""] + markdown_table(models) + [""]
    if search:
        report += [f"## Search over Traffy reports (index encoder `{args.encoder}`)", "",
                   "Each size starts from an empty data directory (no embedding cache, no word table): end_to_end_s = "
                   "store ingest + normalizing, tokenizing, embedding and indexing. hybrid_first_sight: each query the "
                   "first time, with a new static word table (unseen query words cost one e5 call); the other latencies "
                   "are repeats. service_rss_mb: `planalign serve` on that index, after one search.", ""]
        report += markdown_table(search) + [""]
    if coverage:
        report += ["## Coverage (`GET /v1/coverage`, FY2566 ordinance items + Traffy reports)", "",
                   "align_s: every stored item aligned from an empty data directory (projects: e5, or their declared node; reports: "
                   "their category map, else `static`; null with `--coverage-data`: aligned at ingest). first_ms: the first answer right after the service is "
                   "ready (its warm-up is still reading the coverage columns from the store). "
                   "warm: repeated requests over year x level x district-group filters through the HTTP app; acceptance: warm <= 200 ms.", ""]
        report += markdown_table(coverage) + [""]
    if learning:
        report += ["## Learning from decisions (e5, cached embeddings; Traffy categories)", "",
                   "import_1000_s + refit_1000_s: `decisions import` of 1,000 labelled reports and the refit it triggers. "
                   "align_*: the same other reports aligned one by one (with evidence, as `/v1/align`) with the model learned from 5,000 "
                   "decisions and zero-shot: align_cached_* with their embeddings cached on both sides (the model's own cost), "
                   "align_e5_* embedded by e5 each time (what a new draft costs).", ""]
        report += markdown_table(learning) + [""]
    report += [f"![{f}]({f})" for f in plot(models, search, name)]
    (RESULTS / f"{name}.md").write_text("\n".join(report) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
