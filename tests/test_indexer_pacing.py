"""The background indexer yields to requests, and the service process returns freed memory (issue 15).

Measured by ``make reliability`` (slowest request while the index recovers; RSS growth under load);
these tests pin the mechanisms: small chunks, pauses only while requests are in flight, the counter
the service keeps of them, the glibc calls."""
import sys
import threading
import time
from collections.abc import Sequence
from types import SimpleNamespace

import numpy as np
import pytest
from fastapi.testclient import TestClient

from planalign import memory
from planalign.app import InFlight
from planalign.config import Settings
from planalign.corpora.projects import Project
from planalign.index.project_index import EMBED_CHUNK, embed_projects
from planalign.indexer import PACE_MAX_S, Indexer
from planalign.service.app import create_app


class WordCounter:
    """A model-free encoder built on words (like ``static``): records the batch sizes it is given."""

    name = "words"
    dim = 4
    batch_size = 4096

    def __init__(self) -> None:
        self.batches: list[int] = []

    def encode_tokens(self, tokenized: Sequence[Sequence[str]], kind: str = "passage", progress=None) -> np.ndarray:
        self.batches.append(len(tokenized))
        return np.ones((len(tokenized), self.dim), dtype=np.float32) / 2


def test_word_encoders_are_fed_and_reported_in_small_chunks_not_their_batch_size():
    projects = [Project(id=f"P{i}", name=f"โครงการขุดลอกคลองที่ {i}") for i in range(150)]
    encoder = WordCounter()
    steps: list[int] = []
    rows = embed_projects(projects, ["h"] * len(projects), encoder, steps.append)  # type: ignore[arg-type]
    assert steps == [EMBED_CHUNK, EMBED_CHUNK, 150 - 2 * EMBED_CHUNK]
    assert set(encoder.batches) <= {EMBED_CHUNK, 150 - 2 * EMBED_CHUNK}  # passage and query view per chunk
    assert len(rows) == 150 and len(rows.tokens) == 150 and rows.tokens[0]


def _indexer(requests: InFlight) -> Indexer:
    return Indexer(SimpleNamespace(requests=requests), reconcile_interval=60)  # type: ignore[arg-type]


def test_the_indexer_pauses_after_a_chunk_only_while_requests_are_in_flight():
    requests = InFlight()
    indexer = _indexer(requests)
    indexer._chunk_started = time.thread_time() - 0.1  # a chunk of 0.1 s just ended, nobody waiting
    started = time.monotonic()
    indexer._yield_to_requests()
    assert time.monotonic() - started < 0.05
    with requests:
        indexer._chunk_started = time.thread_time() - 0.1
        started = time.monotonic()
        indexer._yield_to_requests()
        assert 0.09 <= time.monotonic() - started < 0.1 + 0.2
        indexer._chunk_started = time.thread_time() - 10  # a long chunk (e5 for new words): the pause is capped
        started = time.monotonic()
        indexer._yield_to_requests()
        assert time.monotonic() - started < PACE_MAX_S + 0.2
    assert requests.active == 0


def test_the_indexer_does_not_pause_for_a_write_that_waits_for_it():
    """A POST /v1/projects waits (in Indexer.wait) for the very work the indexer is doing: it is in
    flight, but pausing for it would only delay it."""
    requests = InFlight()
    indexer = _indexer(requests)
    ticket = indexer.enqueue(["P1"])
    with requests:  # the write request itself
        waiting = threading.Thread(target=indexer.wait, args=(ticket, 5.0))
        waiting.start()
        deadline = time.monotonic() + 2
        while indexer._waiters == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        indexer._chunk_started = time.thread_time() - 0.1
        started = time.monotonic()
        indexer._yield_to_requests()
        assert time.monotonic() - started < 0.05
        with requests:  # another request arrives: the indexer yields to it
            indexer._chunk_started = time.thread_time() - 0.1
            started = time.monotonic()
            indexer._yield_to_requests()
            assert time.monotonic() - started >= 0.09
        indexer.stop(timeout=0.1)
        waiting.join(5)
    assert indexer._waiters == 0


def test_the_service_counts_requests_in_flight_but_not_health_checks(tmp_path, monkeypatch):
    seen: dict[str, int] = {}
    with TestClient(create_app(Settings(data_dir=tmp_path, encoder="tfidf", index_encoder="tfidf"))) as client:
        core = client.app.state.planalign  # type: ignore[attr-defined]
        real = core.catalog_ids

        def watched() -> list[str]:
            seen["during"] = core.requests.active
            return real()

        monkeypatch.setattr(core, "catalog_ids", watched)
        assert client.get("/v1/catalogs").status_code == 200
        assert seen["during"] == 1
        assert client.get("/healthz").status_code == 200 and client.get("/readyz").status_code in (200, 503)
        assert core.requests.active == 0


def test_in_flight_counts_across_threads():
    requests = InFlight()
    inside = threading.Barrier(5)
    release = threading.Event()

    def request() -> None:
        with requests:
            inside.wait(5)
            release.wait(5)

    threads = [threading.Thread(target=request) for _ in range(4)]
    for thread in threads:
        thread.start()
    inside.wait(5)
    assert requests.active == 4
    release.set()
    for thread in threads:
        thread.join(5)
    assert requests.active == 0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
def test_glibc_takes_the_arena_limit_and_trims():
    assert memory.limit_arenas(memory.ARENAS) is True
    junk = [bytearray(1 << 16) for _ in range(2000)]  # 130 MB of small blocks in the heap, then freed
    del junk
    assert memory.trim() is True
