"""A first start on the embedded sample (issue 14): the service answers at once and says how far the
sample is, and the shipped vectors spare the model every sample text."""
from __future__ import annotations

import re
import time

import numpy as np
from fastapi.testclient import TestClient

from planalign import shipped_vectors
from planalign.app import Application
from planalign.config import Settings
from planalign.corpora.projects import sample_projects
from planalign.nlp.encoders.cache import cache_rows
from planalign.sample import ingest_sample
from planalign.service.app import create_app
from planalign.shipped_vectors import seed_cache


def test_serve_sample_reports_progress_then_is_ready(tmp_path):
    """Readiness is 503 "starting" with a Thai detail on the sample while it loads, then 200 with every project searchable."""
    bodies = []
    with TestClient(create_app(Settings(data_dir=tmp_path, encoder="tfidf", index_encoder="tfidf"), sample=True)) as client:
        deadline = time.monotonic() + 300  # 2 cores shared with other jobs
        while time.monotonic() < deadline:
            response = client.get("/readyz")
            bodies.append((response.status_code, response.json()))
            if response.status_code == 200:
                break
            time.sleep(0.05)
        assert bodies[-1][0] == 200 and bodies[-1][1]["projects"] == len(sample_projects()), bodies[-3:]
        loading = [body for status, body in bodies if status == 503 and re.match(r"กำลัง(สร้างดัชนี|โหลด)โครงการตัวอย่าง", body.get("detail") or "")]
        assert loading and all(body["status"] == "starting" for body in loading), bodies[:5]
        assert client.get("/v1/search", params={"q": "ขุดลอกคลอง"}).json()["results"]


def test_shipped_vectors_cover_the_sample_first_start(tmp_path, monkeypatch):
    """Ingesting the sample with the default encoders (e5 for the index and the drafts, USE beside
    e5) embeds nothing, and the first draft aligned on a new data directory embeds only the draft:
    every new cache starts from the shipped vectors. Fails when the sample, the default catalog or
    the text preparation changes without `make sample-vectors` (the models' inference is stubbed: a
    stale file fails fast, it is not embedded)."""
    core = Application(Settings(data_dir=tmp_path, encoder="e5", index_encoder="auto"))
    embedded: list[str] = []
    for name in ("e5", "use"):
        inner = core.encoder(name).inner  # type: ignore[attr-defined]
        monkeypatch.setattr(inner, "_embed", lambda texts, kind, dim=inner.dim: embedded.extend(texts) or np.zeros((len(texts), dim), np.float32))
    outcome = ingest_sample(core)
    assert outcome.index.total == len(sample_projects()) and embedded == []
    core.aligner().align("โครงการปลูกต้นไม้ริมคลองลาดพร้าว")
    assert embedded and all("ปลูกต้นไม้" in text for text in embedded), embedded
    # a second process on the same directory does not copy them again; a build starts from an empty cache
    assert list(core.cache_dir.glob(".shipped-*")) and seed_cache(core.cache_dir) == 0
    assert seed_cache(tmp_path / "other") > 2 * len(sample_projects())
    Application(Settings(data_dir=tmp_path / "build"), shipped_vectors=False).encoder("e5")
    assert not (tmp_path / "build" / "cache" / "embeddings-e5.sqlite").exists() or not cache_rows(tmp_path / "build" / "cache" / "embeddings-e5.sqlite")[0]


def test_a_damaged_shipped_file_only_costs_the_speed_up(tmp_path, monkeypatch, caplog):
    """Seeding is a speed-up: a package file that cannot be read is logged, and the encoder still loads."""
    monkeypatch.setattr(shipped_vectors, "_shipped", lambda: (b"not an npz", "0123456789abcdef"))
    assert seed_cache(tmp_path / "cache") == 0 and "could not start the embedding cache" in caplog.text
    core = Application(Settings(data_dir=tmp_path, encoder="e5"))
    assert core.encoder("e5").encode_queries(["ลอกท่อระบายน้ำ"]).shape == (1, 384)
