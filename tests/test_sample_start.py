"""A first start on the embedded sample (issue 14): the service answers at once and says how far the
sample is, and the shipped vectors spare the model every sample text."""
from __future__ import annotations

import re
import time

import pytest
from fastapi.testclient import TestClient

from planalign.app import Application
from planalign.config import Settings
from planalign.corpora.projects import sample_projects
from planalign.sample import ingest_sample, preload_sample_vectors
from planalign.service.app import create_app


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


@pytest.mark.slow
def test_shipped_vectors_cover_the_sample_first_start(tmp_path, monkeypatch):
    """Ingesting the sample with the default encoders (e5 for the index and the drafts) embeds nothing:
    the shipped vectors hold every text a first start embeds. Fails when the sample, the default
    catalog or the index text changes without `make sample-vectors`."""
    core = Application(Settings(data_dir=tmp_path, encoder="e5", index_encoder="auto"))
    assert preload_sample_vectors(core) > 2 * len(sample_projects())
    inner = core.encoder("e5").inner  # type: ignore[attr-defined]
    embedded: list[str] = []
    original = inner._embed
    monkeypatch.setattr(inner, "_embed", lambda texts, kind: embedded.extend(texts) or original(texts, kind))
    outcome = ingest_sample(core)
    assert outcome.index.total == len(sample_projects()) and embedded == []
