"""HTTP API tests with FastAPI's TestClient and the model-free encoder."""
import io
import json
import re
import time
from unittest.mock import patch

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from test_dedup import CHAIN, chain_records

from conftest import SHOP_CATALOG, wait_for, wait_job, wait_ready
from planalign.app import Application, DuplicateSet
from planalign.config import Settings
from planalign.index.align.query import NOT_THAI_WARNING
from planalign.index.dedup import find_duplicates
from planalign.service.app import create_app

KEY = "secret-key"
PROJECTS = [
    {"id": "A1", "name": "โครงการขุดลอกคลองบางบัว", "objective": "ลดน้ำท่วมขัง", "org": "สำนักงานเขตบางเขน", "fiscal_year": "2567", "dimension_id": "D1",
     "budget": "1,500,000"},
    {"id": "A2", "name": "โครงการขุดลอกคลองบางบัว", "objective": "ลดน้ำท่วมขัง", "org": "สำนักงานเขตหลักสี่", "fiscal_year": 2024, "dimension_id": "D1"},
    {"id": "A3", "name": "โครงการอบรมอาสาสมัครป้องกันยาเสพติด", "org": "สำนักงานเขตจตุจักร", "fiscal_year": "2566", "dimension_id": "D2"},
]


def make_client(tmp_path, **settings) -> TestClient:
    app = create_app(Settings(data_dir=tmp_path, **{"encoder": "tfidf", "index_encoder": "tfidf", **settings}))
    return TestClient(app)


@pytest.fixture
def client(tmp_path):
    with make_client(tmp_path) as c:
        wait_ready(c)
        assert c.post("/v1/projects", json={"projects": PROJECTS}).status_code == 200
        wait_ready(c)  # the write is indexed by the background indexer; readiness says when it caught up
        yield c


def test_health_ready_metrics(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/healthz", params={"probe": 1}).status_code == 200  # a monitor's cache-buster is no unknown parameter
    ready = client.get("/readyz").json()
    assert ready["checks"]["index"] and ready["checks"]["store"] and ready["projects"] == 3
    core = client.app.state.planalign  # a database that stops answering: not ready (it stayed "ready": an operator's walkthrough)
    core.store.reachable, reachable = (lambda: False), core.store.reachable
    try:
        down = client.get("/readyz")
    finally:
        core.store.reachable = reachable
    assert down.status_code == 503 and down.json()["status"] == "store_unreachable" and "ติดต่อฐานข้อมูลไม่ได้" in down.json()["detail"]
    assert down.headers["retry-after"] == "2"  # when to ask again, as every other 503 says (an integrator's walkthrough)
    # probes by HEAD as by GET (HEAD was a 405: an integrator's walkthrough)
    assert client.head("/healthz").status_code == 200 and client.head("/readyz").status_code == 200
    assert "planalign_requests_total" in client.get("/metrics").text
    for n in range(3):  # made-up methods share one series (each was a series of its own, unbounded: a security probe)
        assert client.request(f"M{n}X", "/v1/decisions").status_code == 405
    metrics = client.get("/metrics").text
    assert 'method="other"' in metrics and "M0X" not in metrics
    # the framework's own refusals say it in Thai too (they were "Not Found" / "Method Not Allowed" alone)
    assert "ไม่พบที่อยู่" in client.get("/v1/nothing-here").json()["message_th"]
    assert "HTTP method" in client.request("PATCH", "/v1/decisions").json()["message_th"]
    for route, params in (("/v1/coverage", {}), ("/v1/search", {"q": "คลอง"})):  # -2566 answered for 2566 (a security probe)
        refused = client.get(route, params={**params, "year": -2566})
        assert refused.status_code == 422 and "-2566" in refused.json()["message_th"]


def test_align_returns_levels_evidence_and_duplicates(client):
    body = client.post("/v1/align", json={"name": "โครงการขุดลอกคลองบางบัว", "objective": "ลดน้ำท่วมขัง"}).json()
    issue = body["levels"]["issue"][0]
    assert issue["node_id"] == "D1.4" and 0 <= issue["confidence"] <= 1 and issue["evidence"]
    assert {i for d in body["duplicates"] for i in (d["id"], *(c["id"] for c in d["copies"]))} == {"A1", "A2"}  # one entry, the other its copy
    # what a planner judges a re-submission by: its year and budget (a walkthrough saw neither)
    shown = [d for entry in body["duplicates"] for d in (entry, *entry["copies"])]
    assert {d["id"]: (d["year"], d["budget"]) for d in shown} == {"A1": (2567, 1500000.0), "A2": (2567, None)}


def test_align_and_classify_name_a_cascade_alike(client, monkeypatch):
    """/v1/classify said the cascade's fast encoder ("static") where /v1/align said "cascade" (a review)."""
    from planalign.index.align.aligner import Aligner

    core = client.app.state.planalign
    shared = core.aligner(None)
    cascade = Aligner(shared.catalog, shared.encoder).with_fallback(Aligner(shared.catalog, shared.encoder), below=0.5)
    monkeypatch.setattr(core, "aligner", lambda *args, **kwargs: cascade)
    draft = "โครงการขุดลอกคลองบางบัว"
    assert client.post("/v1/align", json={"text": draft}).json()["encoder"] == "cascade"
    assert client.post("/v1/classify", json={"texts": [draft]}).json()["encoder"] == "cascade"


def test_a_project_id_with_a_line_break_is_refused_not_stored_out_of_reach(client):
    """It was stored, and no URL could fetch or delete it (a security probe)."""
    refused = client.post("/v1/projects", json={"projects": [{"id": "NL\n1", "name": "โครงการขุดลอกคลอง"}]}).json()
    assert refused["rejected"][0]["row"] == 1 and "line break" in refused["rejected"][0]["reason"], refused
    assert client.get("/v1/projects", params={"limit": 100}).json()["total"] == len(PROJECTS)


def test_an_empty_store_is_an_answer_not_an_outage(tmp_path):
    """A fresh data directory: search and duplicates answer 200 with nothing (and a hint), not 503."""
    with make_client(tmp_path) as fresh:
        body = fresh.get("/v1/search", params={"q": "ขุดลอกคลอง"})
        assert body.status_code == 200, body.text
        assert body.json()["results"] == [] and body.json()["total"] == 0 and "ยังไม่มีโครงการ" in body.json()["hint"]
        clusters = fresh.get("/v1/duplicates")
        assert clusters.status_code == 200 and clusters.json() == {"total_clusters": 0, "clusters": []}
        check = fresh.post("/v1/duplicates/check", json={"text": "โครงการขุดลอกคลองเปรมประชากร"})
        assert check.status_code == 200 and check.json() == {"matches": []}


def test_english_text_is_answered_with_a_warning(client):
    """The catalog is Thai: an English draft gets suggestions, and a warning saying they may be weak."""
    body = client.post("/v1/align", json={"text": "Dredging the Bang Bua canal to prevent floods"}).json()
    assert body["levels"]["issue"] and body["warnings"] == [NOT_THAI_WARNING]
    assert client.post("/v1/align", json={"text": "โครงการขุดลอกคลองบางบัว"}).json()["warnings"] == []
    rows = client.post("/v1/classify", json={"texts": ["Dredging the Bang Bua canal", "โครงการขุดลอกคลองบางบัว"]}).json()["results"]
    assert [r["warnings"] for r in rows] == [[NOT_THAI_WARNING], []]
    # in Thai too, as errors are (an integrator got English only; the planner page translated them on its own)
    assert body["warnings_th"] == rows[0]["warnings_th"] == ["ข้อความส่วนใหญ่ไม่ใช่ภาษาไทย แผนยุทธศาสตร์เป็นภาษาไทย ผลที่แนะนำอาจไม่แม่นยำ"]
    assert rows[0]["needs_review"] and body["needs_review"] == {"dimension": True, "issue": True}  # an English row was 0.90, unflagged


def test_align_errors(client):
    assert client.post("/v1/align", json={}).status_code == 422
    response = client.post("/v1/align", json={"text": "ขุดลอก", "catalog": "nope"})
    assert response.status_code == 404 and "no catalog 'nope'" in response.json()["error"]
    unreadable = client.post("/v1/align", json={"text": "12345 !!!"}).json()
    assert unreadable["error"] == "no readable words in the text" and unreadable["message_th"].startswith("ไม่พบคำที่อ่านได้")
    assert client.post("/v1/align", json={"text": "x", "top_k": 0}).status_code == 422
    misspelt = client.post("/v1/align", json={"text": "ขุดลอกคลอง", "top": 5})  # top_k: answered 3 suggestions as if read
    assert misspelt.status_code == 422 and "top" in misspelt.json()["message_th"]
    listed = client.post("/v1/classify", json={"texts": ["ขุดลอกคลอง", "ซ่อมถนน", None]})  # "กรุณาตรวจช่อง: 2" named a field "2"
    assert listed.status_code == 422 and listed.json()["message_th"].endswith("กรุณาตรวจช่อง: texts (รายการที่ 3)"), listed.json()
    before = client.get("/v1/decisions").json()["total"]
    spoofed = client.post("/v1/decisions", json={"text": "ขุดลอกคลอง", "node_id": "D1.4", "who": "ผู้อำนวยการ"})  # who: from the API key only
    assert spoofed.status_code == 422 and spoofed.json()["message_th"].endswith("กรุณาตรวจช่อง: who")  # not the union's "list[DecisionIn]"
    assert client.get("/v1/decisions").json()["total"] == before
    # what to fix, in Thai: a body that is not JSON ("กรุณาตรวจช่อง: 0", the character position), a too-long field's limit
    broken = client.post("/v1/align", content='{"text": "ขุดลอกคลอง",}', headers={"content-type": "application/json"})
    assert broken.status_code == 422 and broken.json()["message_th"].startswith("ข้อมูลที่ส่งมาไม่ใช่ JSON ที่ถูกต้อง")
    long_name = client.post("/v1/align", json={"name": "ก" * 10_001})
    # the field as the planner page labels it ("name" alone read as English there; an entry-point audit)
    assert long_name.status_code == 422 and long_name.json()["message_th"].endswith("กรุณาตรวจช่อง: ชื่อโครงการ (name) ไม่เกิน 10,000 ตัวอักษร")


def test_the_length_limit_leaves_out_the_whitespace_around_a_text_in_every_entry_point(client, tmp_path):
    """19,975 characters and 40 trailing spaces: refused by `align` and a list sent to /v1/classify, taken by /v1/align,
    the planner page and a file (an entry-point audit). Whitespace nothing reads no longer counts anywhere."""
    from conftest import run_cli

    text = ("ขุดลอกคลองระบายน้ำ " * 1200)[:19_975] + " " * 40
    assert client.post("/v1/align", json={"text": text}).status_code == 200
    assert client.post("/v1/classify", json={"texts": [text]}).status_code == 200
    (tmp_path / "draft.txt").write_text(text, encoding="utf-8")
    cli = run_cli("align", "--file", str(tmp_path / "draft.txt"), "--encoder", "tfidf", "--no-learn", data_dir=tmp_path / "data")
    assert cli.returncode == 0, cli.stderr
    over = "ก" * 20_001 + "   "
    assert client.post("/v1/classify", json={"texts": [over]}).json()["error"].startswith("texts[0] has 20,001 characters")


def test_a_service_still_loading_says_so_in_thai(client, monkeypatch):
    """The pages showed every 503 as "no projects in the system"; a 503 is a model or index still loading."""
    from planalign.errors import Unavailable

    def loading(*args, **kwargs):
        raise Unavailable("the search index is still loading; retry in a few seconds")

    monkeypatch.setattr(client.app.state.planalign, "search", loading)
    answer = client.get("/v1/search", params={"q": "ขุดลอกคลอง"})
    assert answer.status_code == 503 and answer.headers["Retry-After"] and "ลองใหม่" in answer.json()["message_th"]


def test_classify_inline_and_limit(client):
    body = client.post("/v1/classify", json={"texts": ["ลอกท่อระบายน้ำ", ""], "level": "dimension"}).json()
    assert body["results"][0]["pred_label"] == "D1" and body["results"][1]["error"] == "empty text"
    assert body["results"][1]["error_th"].startswith("ข้อความว่างเปล่า") and body["results"][0]["error_th"] is None  # files and jobs had it, this did not
    unicode_text = "text\nโครงการลอกท่อระบายน้ำ\n".encode("utf-16")  # Excel's "Unicode Text": the CLI read it, a job refused it
    job = client.post("/v1/classify/jobs", files={"file": ("รายการ.txt", unicode_text)}, data={"text_col": "text"})
    assert job.status_code == 202 and wait_job(client, job.json()["id"])["status"] == "done"
    too_many = client.post("/v1/classify", json={"texts": ["x"] * 101})
    assert too_many.status_code == 413 and "ไม่เกิน 100 ข้อความ" in too_many.json()["message_th"]  # the pages read Thai (it had none)
    # batches computed at once are bounded: 20 at once held every request thread, a planner's draft waited 81 s (an operator's walkthrough)
    slots = client.app.state.planalign.batch_slots
    taken = 0
    while slots.acquire(blocking=False):
        taken += 1
    try:
        busy = client.post("/v1/classify", json={"texts": ["ลอกท่อระบายน้ำ"] * 11})
        assert client.post("/v1/align", json={"text": "ลอกท่อระบายน้ำ"}).status_code == 200  # a single draft still answers
        assert client.post("/v1/classify", json={"texts": ["ลอกท่อระบายน้ำ"] * 10}).status_code == 200  # a few texts: as single drafts (a blind review)
    finally:
        for _ in range(taken):
            slots.release()
    assert taken == 2 and busy.status_code == 503 and busy.headers["Retry-After"] and "อัปโหลดเป็นไฟล์" in busy.json()["message_th"]
    assert client.post("/v1/classify", json={"texts": ["ลอกท่อระบายน้ำ"]}).status_code == 200


def test_classify_job_with_labels_csv_and_xlsx(client):
    data = "id,text,gold\n1,ขุดลอกคลองระบายน้ำ,D1.4\n2,ปลูกต้นไม้ริมถนน,D4.1\n3,,D4.1\n"
    response = client.post("/v1/classify/jobs", files={"file": ("s.csv", data.encode("cp874"))},
                           data={"text_col": "text", "label_col": "gold", "level": "issue"})
    assert response.status_code == 202
    status = wait_job(client, response.json()["id"])
    assert status["status"] == "done" and status["progress"] == {"done": 3, "total": 3}
    assert status["metrics"]["n"] == 2 and status["metrics"]["top1"] == 1.0
    csv_text = client.get(f"/v1/classify/jobs/{status['id']}/result?format=csv").content.decode("utf-8-sig")
    assert csv_text.splitlines()[0] == "id,text,gold,pred_label,pred_name,pred_score,pred_confidence,pred_top3,needs_review,error,error_th"
    assert csv_text.splitlines()[3].endswith(",empty text,ข้อความว่างเปล่า กรุณาใส่ชื่อหรือรายละเอียดโครงการ")  # the team reads Thai
    xlsx = client.get(f"/v1/classify/jobs/{status['id']}/result?format=xlsx")
    assert load_workbook(io.BytesIO(xlsx.content)).active.max_row == 4
    assert client.get(f"/v1/classify/jobs/{status['id']}/confusion.png").headers["content-type"] == "image/png"
    assert status["metrics"]["skipped"] == 1 and status["metrics"]["skipped_rows"] == [4]  # the row without text
    finished = client.delete(f"/v1/classify/jobs/{status['id']}")
    assert finished.status_code == 409 and "ยกเลิกได้เฉพาะงาน" in finished.json()["message_th"]


def test_a_labelled_job_is_scored_at_its_labels_level_and_says_why_not(client):
    """Dimension labels and no level asked: scored at the dimension level (as `planalign eval`), not at
    the deepest level where no label sits (it answered n = 0, top-1 0.0, without a word)."""
    data = ("id,text,label\n1,ขุดลอกคลองเพื่อป้องกันน้ำท่วม,D1\n2,ตรวจสุขภาพผู้สูงอายุ,D5\n3,ปลูกต้นไม้ริมถนน,X9\n"
            "4,จัดกิจกรรมวันเด็ก,\n5,ซ่อมถนนซอยวัดไผ่ตัน, d1 \n6,อบรมอาสาสมัครดับเพลิง,D๒\n")
    job = client.post("/v1/classify/jobs", files={"file": ("d.csv", data.encode())}, data={"text_col": "text", "label_col": "label"})
    metrics = wait_job(client, job.json()["id"])["metrics"]
    # " d1 " and "D๒" are D1 and D2 as typed (they were dropped); the unlabelled row is no typo, X9 is
    assert metrics["level"] == "dimension" and metrics["n"] == 4 and metrics["skipped"] == 2 and metrics["skipped_rows"] == [4, 5]
    assert metrics["unusable_labels"] == 1 and metrics["unusable_label_rows"] == [{"row": 4, "label": "X9", "reason": "label(s) not in the catalog: X9"}]
    assert (metrics["unlabelled"], metrics["empty_text"]) == (1, 0)  # the page says why by kind (it said "no text, or ..." of an unlabelled row)
    # a classification output's own answers as gold: refused when sent (the job ran unscored and learned without those texts)
    output = "text,pred_label\nขุดลอกคลอง,D1\n".encode()
    mirrored = client.post("/v1/classify/jobs", files={"file": ("o.csv", output)}, data={"text_col": "text", "label_col": "pred_label"})
    assert mirrored.status_code == 422 and "model's own suggestion" in mirrored.json()["error"] and "ข้อเสนอของระบบเอง" in mirrored.json()["message_th"]
    grid = client.get(f"/v1/classify/jobs/{job.json()['id']}/review").json()  # the grid reviews the level the job used
    assert grid["level"] == "dimension" and {r["pred_label"] for r in grid["rows"]} <= {"D1", "D2", "D3", "D4", "D5", "D6", "D7", "D8", "D9"}
    unknown = client.post("/v1/classify/jobs", files={"file": ("u.csv", "text,label\nขุดลอกคลอง,X9\n".encode())},
                          data={"text_col": "text", "label_col": "label"})
    done = wait_job(client, unknown.json()["id"])
    assert done["status"] == "done" and done["metrics"]["n"] == 0 and "X9" in done["metrics"]["unscored"]
    assert done["metrics"]["unscored_th"].startswith("คอลัมน์ label ไม่มีป้ายกำกับ") and "X9 (แถวที่ 2)" in done["metrics"]["unscored_th"]


def test_job_errors(client):
    assert client.post("/v1/classify/jobs", files={"file": ("a.pdf", b"x")}, data={"text_col": "t"}).status_code == 415
    assert client.post("/v1/classify/jobs", files={"file": ("a.csv", b"")}, data={"text_col": "t"}).status_code == 400
    assert client.post("/v1/classify/jobs", files={"file": ("a.csv", b"t\nx\n")}, data={"text_col": "t", "catalog": "nope"}).status_code == 404
    unknown = client.get("/v1/classify/jobs/nope")
    assert unknown.status_code == 404 and unknown.json()["message_th"].startswith("ไม่พบงานจัดหมวด nope")
    missing = client.post("/v1/classify/jobs", files={"file": ("a.csv", b"t\nx\n")}, data={"text_col": "missing"})
    assert missing.status_code == 422 and "missing column" in missing.json()["error"]  # checked at upload, not in the background
    header_only = client.post("/v1/classify/jobs", files={"file": ("h.csv", "ชื่อโครงการ\n".encode())}, data={"text_col": "ชื่อโครงการ"})
    assert header_only.status_code == 422 and "h.csv" in header_only.json()["message_th"]  # was a "done" job of 0 rows
    # a misspelt form field was dropped and the job ran zero-shot with the defaults; every upload refuses it now
    misspelt = client.post("/v1/classify/jobs", files={"file": ("a.csv", "t\nขุดลอกคลอง\n".encode())}, data={"text_col": "t", "learn_": "false"})
    assert misspelt.status_code == 422 and misspelt.json()["message_th"].startswith("ไม่รู้จักช่อง learn_")
    stored = client.get("/v1/projects").json()["total"]
    # files each endpoint would take (200/201) but for the misspelt field
    for path, content, data in (("/v1/projects/file", "name\nขุดลอกคลองบางบัว\n", {"yaer": "2567"}), ("/v1/catalogs", SHOP_CATALOG, {"id": "x", "titel": "แผน"}),
                                ("/v1/tables/columns", "t\nขุดลอกคลอง\n", {"sheet": "2"})):
        refused = client.post(path, files={"file": ("a.csv", content.encode())}, data=data)
        assert refused.status_code == 422 and next(iter(set(data) - {"id"})) in refused.json()["error"], (path, refused.text)
    assert client.get("/v1/projects").json()["total"] == stored and "x" not in {c["id"] for c in client.get("/v1/catalogs").json()["catalogs"]}


def test_search_filters_facets_paging(client):
    body = client.get("/v1/search", params={"q": "ขุดลอกคลอง"}).json()
    # A1 and A2 are the same text from two districts: one hit naming the other; the facets count both
    assert {body["results"][0]["id"], *body["results"][0]["copies"]} == {"A1", "A2"} and body["results"][1]["id"] == "A3"
    assert body["facets"]["year"]["2567"] == 2
    assert body["results"][0]["highlights"] and body["did_you_mean"] is None
    # a slip ("ครอง" for "คลอง", a dropped tone mark): the stored spelling is offered, the results are not changed by it
    assert client.get("/v1/search", params={"q": "ขุดลอกครองบางบัว"}).json()["did_you_mean"] == "ขุดลอกคลองบางบัว"
    assert client.get("/v1/search", params={"q": "อบรมอาสาสมัครป้องกันยาเสพย์ติด"}).json()["did_you_mean"] == "อบรมอาสาสมัครป้องกันยาเสพติด"
    only = client.get("/v1/search", params={"q": "โครงการ", "dimension": "D2"}).json()
    assert [r["id"] for r in only["results"]] == ["A3"]
    elsewhere = client.get("/v1/search", params={"q": "ขุดลอกคลอง", "year": 2560}).json()  # read as "no match" (a walkthrough)
    assert elsewhere["results"] == [] and elsewhere["hint"].startswith("ไม่มีรายการของปีงบประมาณ 2560 ในระบบ (ปีที่มี: ")
    assert client.get("/v1/search", params={"q": "ขุดลอกคลอง", "year": 2567}).json()["hint"] is None
    apart = {"q": "โครงการ", "collapse": "false"}  # the copies listed apart: three results to page through
    page2 = client.get("/v1/search", params={**apart, "page": 2, "page_size": 2}).json()
    assert len(page2["results"]) == 1 and page2["more"] is False
    exact = client.get("/v1/search", params={**apart, "page_size": 3}).json()  # the 3 projects fill the page exactly: no empty next page
    assert len(exact["results"]) == 3 and exact["more"] is False
    assert client.get("/v1/search", params={**apart, "page_size": 2}).json()["more"] is True
    assert client.get("/v1/search", params={"q": "โครงการ", "page_size": 2}).json()["more"] is False  # two distinct texts
    assert client.get("/v1/search", params={"q": "x", "mode": "fuzzy"}).status_code == 422
    misspelt = client.get("/v1/search", params={"q": "ท่อ", "top_k": 1})  # page_size: answered with 10 hits and nothing said (a walkthrough)
    assert misspelt.status_code == 422 and "top_k" in misspelt.json()["error"] and "page_size" in misspelt.json()["error"]
    assert "top_k" in misspelt.json()["message_th"]
    twice = client.get("/v1/search", params=[("q", "ท่อ"), ("district", "บางเขน"), ("district", "บางกะปิ")])  # searched บางกะปิ alone
    assert twice.status_code == 422 and "district" in twice.json()["error"] and "ค่าเดียว" in twice.json()["message_th"]
    for nothing in ("   ", "...", "!?"):  # e5 embeds them anyway: arbitrary projects came back as "found"
        refused = client.get("/v1/search", params={"q": nothing})
        assert refused.status_code == 422 and "ตัวอักษร" in refused.json()["message_th"]


def test_a_decision_on_a_stored_project_reaches_the_search_filter_without_a_restart(client):
    """Search reads the last coverage frame; a decision changes only the store's alignments, not the
    search index, and the filter kept the old dimension until someone opened the dashboard."""
    undeclared = {"id": "U1", "name": "โครงการจัดเก็บขยะมูลฝอยและคัดแยกขยะในชุมชน", "org": "สำนักงานเขตบางเขน", "fiscal_year": 2567}
    assert client.post("/v1/projects", json={"projects": [undeclared]}).status_code == 200
    wait_ready(client)

    def dimension_soon(expected: str) -> str:
        found, deadline = "", time.time() + 30
        while found != expected and time.time() < deadline:
            hits = client.get("/v1/search", params={"q": "ขยะมูลฝอย"}).json()["results"]
            found = next((h["dimension_id"] for h in hits if h["id"] == "U1"), "")
            time.sleep(0.2)
        return found

    assert dimension_soon("D4") == "D4"  # predicted, once the coverage frame is built in the background
    decision = {"text": undeclared["name"], "node_id": "D1.4", "project_id": "U1", "source": "reviewer"}
    assert client.post("/v1/decisions", json=decision).status_code == 200
    assert dimension_soon("D1") == "D1"
    assert {h["id"] for h in client.get("/v1/search", params={"q": "ขยะมูลฝอย", "dimension": "D1", "collapse": "false"}).json()["results"]} == {"U1", "A1", "A2"}


def test_duplicates_and_check(client):
    clusters = client.get("/v1/duplicates").json()["clusters"]
    assert [sorted(m["id"] for m in c["members"]) for c in clusters] == [["A1", "A2"]]
    assert clusters[0]["name"] == "โครงการขุดลอกคลองบางบัว"  # what the cluster is, not only its districts
    assert {type(m["year"]) for m in clusters[0]["members"]} == {int}  # a number, as in search results
    assert client.get("/v1/duplicates", params={"min_size": 3}).json() == {"total_clusters": 0, "clusters": []}  # the count after the filter
    matches = client.post("/v1/duplicates/check", json={"text": "โครงการขุดลอกคลองบางบัว ลดน้ำท่วมขัง"}).json()["matches"]
    assert {i for m in matches for i in (m["id"], *(c["id"] for c in m["copies"]))} == {"A1", "A2"}
    digits = client.post("/v1/duplicates/check", json={"text": "12345"})  # answered "no duplicates" as if it had been read
    assert digits.status_code == 422 and digits.json()["message_th"].startswith("ไม่พบคำที่อ่านได้")


def test_a_cluster_says_how_many_pairs_it_has_past_the_ones_listed(tmp_path):
    """25 copies of one line are 300 flagged pairs; the cluster listed 200 and said nothing of the rest."""
    with make_client(tmp_path) as c:
        wait_ready(c)
        copies = [{"id": f"C{i}", "name": "โครงการกรุงเทพมหานครเขตปลอดบุหรี่", "org": f"หน่วยงานที่ {i}"} for i in range(25)]
        assert c.post("/v1/projects", json={"projects": copies}).status_code == 200
        wait_ready(c)
        cluster = c.get("/v1/duplicates").json()["clusters"][0]
        assert cluster["size"] == 25 and len(cluster["pairs"]) == 200 and cluster["pairs_total"] == 300


def test_duplicates_show_a_clusters_links_to_texts_outside_it(client, monkeypatch):
    """The chain of five rewordings splits into two clusters; the flagged pair between them is shown
    under both, with the text outside and where it is (not lost because it is in neither)."""
    records = chain_records()
    found = DuplicateSet([f"P{i}" for i in range(5)], records, find_duplicates(records))
    monkeypatch.setattr(client.app.state.planalign, "duplicate_clusters", lambda year, across: found)
    clusters = {c["cluster"]: c for c in client.get("/v1/duplicates").json()["clusters"]}
    assert sorted(m["id"] for m in clusters["C1"]["members"]) == ["P2", "P3", "P4"] and len(clusters["C1"]["pairs"]) == 2
    assert [(link["outside"]["id"], link["outside"]["name"], link["outside_cluster"]) for link in clusters["C1"]["links"]] == [("P1", CHAIN[1], "C2")]
    assert [(link["outside"]["id"], link["outside_cluster"]) for link in clusters["C2"]["links"]] == [("P2", "C1")]
    assert clusters["C1"]["links_total"] == clusters["C2"]["links_total"] == 1
    # the page reaches every cluster: the next ones by offset (it showed "50 of 87" and no way to the rest)
    second = client.get("/v1/duplicates", params={"limit": 1, "offset": 1}).json()
    assert second["total_clusters"] == 2 and [c["cluster"] for c in second["clusters"]] == ["C2"]
    assert client.get("/v1/duplicates", params={"offset": 2}).json()["clusters"] == []


def test_projects_crud_and_rejections(client):
    assert client.get("/v1/projects/A1").json()["district_group"] == "กรุงเทพเหนือ"
    listing = client.get("/v1/projects", params={"limit": 2}).json()
    assert listing["total"] == 3 and len(listing["projects"]) == 2
    result = client.post("/v1/projects", json={"projects": [{"id": "B1", "name": "ปลูกต้นไม้", "budget": "-5"}]}).json()
    assert result["inserted"] == 0 and "negative" in result["rejected"][0]["reason"] and result["rejected"][0]["row"] == 1  # the first item (said 2)
    assert result["rejected"][0]["reason_th"].startswith("งบประมาณ") and "ติดลบ" in result["rejected"][0]["reason_th"]
    typo = client.post("/v1/projects", json={"projects": [{"id": "B2", "name": "ปลูกต้นไม้", "year": 2568}]})  # fiscal_year
    assert typo.status_code == 422 and "year" in typo.text and client.get("/v1/projects/B2").status_code == 404
    # which project, in Thai too ("กรุณาตรวจช่อง: year" named none; an integrator's walkthrough); a JSON true is no budget (stored 1 baht)
    second = client.post("/v1/projects", json={"projects": [{"id": "B3", "name": "ก"}, {"id": "B4", "name": "ข", "year": 2568}]})
    assert second.status_code == 422 and second.json()["message_th"].endswith("กรุณาตรวจช่อง: year (รายการที่ 2)")
    many = client.post("/v1/projects", json={"projects": [{"id": f"Y{n}", "name": "ก", "year": 2568} for n in range(30)]})
    assert many.json()["message_th"].endswith("กรุณาตรวจช่อง: year (รายการที่ 1, 2, 3, 4, 5 และอีก 25 รายการ)")  # not 30 times (a second review)
    capital = client.post("/v1/projects", json={"projects": [{"id": "Y1", "name": "ก", "Budget": "1"}]})
    assert capital.json()["message_th"].endswith("กรุณาตรวจช่อง: Budget (รายการที่ 1)")  # a key typed with a capital is named
    year_key = client.post("/v1/projects", json={"projects": [{"id": "Y1", "name": "ก", "2568": "1,500,000"}]})  # a spreadsheet's year header
    assert year_key.json()["message_th"].endswith("กรุณาตรวจช่อง: 2568 (รายการที่ 1)")  # a key, not "projects (รายการที่ 2569)"
    assert client.post("/v1/decisions", json="abc").json()["message_th"] == "ข้อมูลที่ส่งมาไม่ถูกต้อง"  # not "DecisionIn"
    assert client.post("/v1/decisions", json=[{"text": "x", "node_id": "D1"}, "oops"]).json()["message_th"].endswith("กรุณาตรวจช่อง: รายการที่ 2")
    flag = client.post("/v1/projects", json={"projects": [{"id": "B5", "name": "ปลูกต้นไม้", "budget": True}]})
    assert flag.status_code == 422 and flag.json()["message_th"].endswith("กรุณาตรวจช่อง: budget (รายการที่ 1)") and client.get("/v1/projects/B5").status_code == 404
    assert client.delete("/v1/projects/A3").status_code == 200
    assert client.get("/v1/projects/A3").status_code == 404 and client.get("/v1/projects/A3").json()["message_th"] == "ไม่พบโครงการรหัส A3"
    assert client.delete("/v1/projects/A3").status_code == 404
    upload = client.post("/v1/projects/file", files={"file": ("p.csv", "โครงการ/กิจกรรม,หน่วยงาน/สำนักงานเขต\nลอกท่อ,สำนักงานเขตดุสิต\n".encode())},
                         data={"year": 2568}).json()
    assert upload["inserted"] == 1 and upload["mixed_levels"] == []
    # a budget document's office and item rows: said, as the CLI says it (their budgets add up twice; a blind review)
    levels = "level,โครงการ/กิจกรรม,งบประมาณ\norg,สำนักงานเขตดุสิต,900000\nitem,ลอกท่อระบายน้ำ,900000\n"
    mixed = client.post("/v1/projects/file", files={"file": ("b.csv", levels.encode())}, data={"year": 2568}).json()
    assert mixed["mixed_levels"] == ["item", "org"]
    # a district not among Bangkok's 50 is said, with the one a typo likely means (stored silently, counted as a central
    # agency, and refused by coverage's district filter: a blind review)
    places = "โครงการ/กิจกรรม,หน่วยงาน/สำนักงานเขต\nลอกท่อ,สำนักงานเขตบางกะปี\nปลูกต้นไม้,สำนักงานเขตบางกระบือ\nซ่อมถนน,สำนักงานเขตบางเขน\n"
    said = client.post("/v1/projects/file", files={"file": ("d.csv", places.encode())}, data={"year": 2568}).json()
    assert said["inserted"] == 3 and said["unknown_districts_total"] == 2 and said["unknown_districts"] == [{"row": 2, "district": "บางกะปี", "nearest": "บางกะปิ"},
                                                                   {"row": 3, "district": "บางกระบือ", "nearest": ""}]
    # headers it does not know: mapped as the CLI's --map does (the API had no way to, and its error said --map)
    export = "รหัส,ชื่อ\nM1,ลอกท่อระบายน้ำซอยสุขุมวิท 50\n".encode()
    unmapped = client.post("/v1/projects/file", files={"file": ("e.csv", export)})
    assert unmapped.status_code == 422 and "the API's map field" in unmapped.json()["error"] and "API: ช่อง map" in unmapped.json()["message_th"]
    mapped = client.post("/v1/projects/file", files={"file": ("e.csv", export)}, data={"map": ["ชื่อ=name", "รหัส=id"]})
    assert mapped.status_code == 200 and mapped.json()["inserted"] == 1 and client.get("/v1/projects/M1").json()["name"].startswith("ลอกท่อ")
    assert client.post("/v1/projects/file", files={"file": ("e.csv", export)}, data={"map": "ชื่อ"}).json()["error"].startswith("map takes COLUMN=field")
    assert client.post("/v1/projects/file", files={"file": ("p.exe", b"MZ")}).status_code == 415


def test_an_uploaded_catalog_reads_back_as_uploaded_whatever_its_text_starts_with(client):
    """Stored through the spreadsheet formula guard, "- ขุดลอกคลอง" read back as "'- ขุดลอกคลอง" and the
    id "-X" as "'-X": decisions on it were refused (a security probe)."""
    text = 'id,parent_id,level,name,description\nD1,,dimension,สิ่งแวดล้อมดี,"- ขุดลอกคลอง\n- ลอกท่อ"\n-X,,dimension,+ เดินทางดี,@ถนน ทางเท้า\n'
    assert client.post("/v1/catalogs", files={"file": ("bullet.csv", text.encode())}, data={"id": "bullet"}).status_code == 201
    tree = client.get("/v1/catalogs/bullet").json()["tree"]
    assert [(n["id"], n["name"], n["description"]) for n in tree] == [("D1", "สิ่งแวดล้อมดี", "- ขุดลอกคลอง\n- ลอกท่อ"),
                                                                      ("-X", "+ เดินทางดี", "@ถนน ทางเท้า")]
    assert client.post("/v1/decisions", json={"text": "โครงการปรับปรุงถนน", "node_id": "-X", "catalog": "bullet"}).status_code == 200
    # a catalog stored by an earlier version, through the guard, reads back as it was uploaded too (a blind review)
    stored = client.app.state.planalign.catalog_dir / "older.csv"
    stored.write_text("id,parent_id,level,name,description\nD1,,dimension,สิ่งแวดล้อมดี,'- ขุดลอกคลอง\n'-X,,dimension,'+ เดินทางดี,\n", encoding="utf-8-sig")
    assert [(n["id"], n["name"], n["description"]) for n in client.get("/v1/catalogs/older").json()["tree"]] == [
        ("D1", "สิ่งแวดล้อมดี", "- ขุดลอกคลอง"), ("-X", "+ เดินทางดี", "")]


def test_catalogs_upload_browse_and_errors(client, tmp_path):
    assert client.get("/v1/catalogs").json()["catalogs"][0]["id"] == "bma-9d"
    (tmp_path / "catalogs").mkdir(exist_ok=True)
    (tmp_path / "catalogs" / "broken.csv").write_bytes(bytes(range(256)) * 8)  # a stored file no one can read
    listed = client.get("/v1/catalogs")  # it made the whole list a 422: every page's catalog picker was empty (a security probe)
    assert listed.status_code == 200 and listed.json()["unreadable"] == ["broken"] and "bma-9d" in {c["id"] for c in listed.json()["catalogs"]}
    (tmp_path / "catalogs" / "broken.csv").unlink()
    tree = client.get("/v1/catalogs/bma-9d").json()["tree"]
    assert len(tree) == 9 and tree[0]["children"][0]["id"] == "D1.1"
    created = client.post("/v1/catalogs", files={"file": ("shop.csv", SHOP_CATALOG.encode())}, data={"id": "shop"})
    assert created.status_code == 201 and created.json()["nodes"] == 6
    # embedded in the background before any draft asks (459 nodes took ~33 s, and the first draft got a 503)
    core = client.app.state.planalign
    assert wait_for(lambda: any(key[0] == "shop" for key in core._aligners), timeout=60)
    aligned = client.post("/v1/align", json={"text": "ทรายแมวและอาหารแมว", "catalog": "shop"}).json()
    assert aligned["levels"]["issue"][0]["node_id"] == "PET.CAT"
    bad = client.post("/v1/catalogs", files={"file": ("bad.csv", b"id,parent_id,level,name,description\nA,,dimension,,\nA,,dimension,x,\n")},
                      data={"id": "bad"})
    assert bad.status_code == 422 and {p["row"] for p in bad.json()["detail"]} == {2, 3}
    assert bad.json()["error"].startswith("invalid catalog bad.csv: row 2: ") and "แถวที่ 2" in bad.json()["message_th"]
    # Thai throughout (the page showed "แถวที่ 2: empty name for id 'A'"), every problem in both languages in detail
    assert bad.json()["message_th"] == "แคตตาล็อก bad.csv ไม่ถูกต้อง: แถวที่ 2: รหัส A ไม่มีชื่อ (name) และอีก 1 จุด"
    assert [p["message_th"] for p in bad.json()["detail"]] == ["รหัส A ไม่มีชื่อ (name)", "รหัส A ซ้ำกับแถวที่ 2"]
    cycle = client.post("/v1/catalogs", files={"file": ("loop.csv", "id,parent_id,level,name,description\nA,B,dimension,ก,\nB,A,issue,ข,\n".encode())},
                        data={"id": "loop"}).json()
    assert cycle["message_th"] == "แคตตาล็อก loop.csv ไม่ถูกต้อง: แถวที่ 2: หัวข้อแม่อ้างวนกลับมาที่เดิม: A -> B -> A และอีก 1 จุด"  # "cycle in parent links" before
    assert [p["message_th"] for p in cycle["detail"]][1] == "ลำดับระดับผิด: dimension A อยู่ใต้ issue B ไม่ได้"  # said with it, not after it
    level = client.post("/v1/align", json={"text": "โครงการฝึกอาชีพผู้สูงอายุ", "level": "goal"})  # bma-9d has dimensions and issues
    assert level.status_code == 422 and level.json()["error"].startswith("unknown level 'goal'") and "ไม่มีระดับ goal" in level.json()["message_th"]
    assert client.get("/v1/catalogs/bad").status_code == 404
    assert client.post("/v1/catalogs", files={"file": ("c.txt", b"x")}, data={"id": "x"}).status_code == 415
    assert created.json()["replaced"] is False


def test_an_uploaded_catalog_is_removed_and_its_decisions_come_back_with_it(client):
    """Test and mistaken uploads stayed in every page's list for good (DELETE was a 405: a catalog author's walkthrough)."""
    client.post("/v1/catalogs", files={"file": ("shop.csv", SHOP_CATALOG.encode())}, data={"id": "shop"})
    assert next(c for c in client.get("/v1/catalogs").json()["catalogs"] if c["id"] == "shop")["removable"] is True
    assert next(c for c in client.get("/v1/catalogs").json()["catalogs"] if c["id"] == "bma-9d")["removable"] is False
    client.post("/v1/decisions", json={"text": "ทรายแมวกลิ่นลาเวนเดอร์", "node_id": "PET.CAT", "catalog": "shop"})
    job = client.post("/v1/classify/jobs", files={"file": ("s.csv", "text\nทรายแมว\n".encode())}, data={"text_col": "text", "catalog": "shop"}).json()
    wait_job(client, job["id"])
    refused = client.delete("/v1/catalogs/shop")  # the job's review grid and corrected file read it (a blind review)
    assert refused.status_code == 409 and "มีงานจัดหมวด 1 งานที่ใช้แคตตาล็อก shop" in refused.json()["message_th"]
    removed = client.delete("/v1/catalogs/shop", params={"force": "true"})
    assert removed.status_code == 200 and removed.json() == {"id": "shop", "decisions_kept": 1}
    assert "shop" not in [c["id"] for c in client.get("/v1/catalogs").json()["catalogs"]]
    assert client.post("/v1/align", json={"text": "ทรายแมว", "catalog": "shop"}).status_code == 404
    assert client.get("/v1/decisions", params={"catalog": "shop"}).json()["decisions"][0]["in_catalog"] is None  # kept, readable
    assert client.get("/v1/decisions/stats", params={"catalog": "shop"}).json()["not_counting"] == 1  # a gone catalog's labels count for nothing
    builtin, unknown = client.delete("/v1/catalogs/bma-9d"), client.delete("/v1/catalogs/shop")
    assert builtin.status_code == 409 and builtin.json()["message_th"] == "แคตตาล็อก bma-9d มากับระบบ ลบไม่ได้"
    assert unknown.status_code == 404 and "ไม่มีแคตตาล็อกที่อัปโหลดชื่อ shop" in unknown.json()["message_th"]
    assert client.post("/v1/catalogs", files={"file": ("shop.csv", SHOP_CATALOG.encode())}, data={"id": "shop"}).status_code == 201
    assert client.get("/v1/decisions/stats", params={"catalog": "shop"}).json()["not_counting"] == 0  # counted again


def test_replacing_a_catalog_says_so_and_what_it_leaves_behind(client):
    """Re-uploading an id replaces that catalog: the answer says so and how many active decisions name a
    node the new version lacks (they no longer count); an id differing only in case is refused."""
    client.post("/v1/catalogs", files={"file": ("shop.csv", SHOP_CATALOG.encode())}, data={"id": "shop"})
    assert client.post("/v1/decisions", json={"text": "ทรายแมวกลิ่นลาเวนเดอร์", "node_id": "PET.CAT", "catalog": "shop"}).status_code == 200
    without_cats = "\n".join(line for line in SHOP_CATALOG.splitlines() if not line.startswith("PET.CAT")) + "\n"
    replaced = client.post("/v1/catalogs", files={"file": ("shop.csv", without_cats.encode())}, data={"id": "shop"}).json()
    assert replaced["replaced"] is True and replaced["stale_decisions"] == 1 and replaced["nodes"] == 5
    # which nodes changed and where the decisions are (counts alone told neither: a catalog author's walkthrough)
    assert (replaced["removed"], replaced["added"], replaced["renamed"], replaced["moved"], replaced["newly_stale_decisions"]) == (["PET.CAT"], [], [], [], 1)
    listed = client.get("/v1/decisions", params={"catalog": "shop", "active": "true"}).json()["decisions"]
    assert [(d["node_id"], d["in_catalog"]) for d in listed] == [("PET.CAT", False)]
    assert client.get("/v1/decisions/stats", params={"catalog": "shop"}).json()["not_counting"] == 1
    moved = without_cats.replace("PLANT.FLOWER,PLANT,", "PLANT.FLOWER,PET,")
    again_removed = client.post("/v1/catalogs", files={"file": ("shop.csv", moved.encode())}, data={"id": "shop"}).json()
    assert (again_removed["moved"], again_removed["stale_decisions"], again_removed["newly_stale_decisions"]) == (["PLANT.FLOWER"], 1, 0)
    other_case = client.post("/v1/catalogs", files={"file": ("shop.csv", SHOP_CATALOG.encode())}, data={"id": "SHOP"})
    assert other_case.status_code == 422 and "'shop' exists" in other_case.json()["error"]
    # a node kept under its id with another name: its decisions still teach, under the new name (said; a blind test)
    client.post("/v1/catalogs", files={"file": ("shop.csv", SHOP_CATALOG.encode())}, data={"id": "shop"})
    cat_row = next(line for line in SHOP_CATALOG.splitlines() if line.startswith("PET.CAT,"))
    renamed = SHOP_CATALOG.replace(cat_row, cat_row.replace(cat_row.split(",")[3], "อาหารปลา"))
    answer = client.post("/v1/catalogs", files={"file": ("shop.csv", renamed.encode())}, data={"id": "shop"}).json()
    assert (answer["stale_decisions"], answer["renamed_decisions"], answer["renamed"]) == (0, 1, ["PET.CAT"])
    assert client.get("/v1/decisions", params={"catalog": "shop"}).json()["decisions"][0]["in_catalog"] is True
    # a stored file that no longer reads (edited by hand) is replaced all the same (it failed the upload: a blind review)
    (client.app.state.planalign.catalog_dir / "shop.csv").write_text("not,a,catalog\n", encoding="utf-8")
    again = client.post("/v1/catalogs", files={"file": ("shop.csv", SHOP_CATALOG.encode())}, data={"id": "shop"})
    assert again.status_code == 201 and again.json()["replaced"] is True


def test_catalogs_carry_a_title_for_people(client):
    """Selectors and status lines show a catalog's title (its catalog_title), else its id; the title survives storage."""
    listed = {c["id"]: c["title"] for c in client.get("/v1/catalogs").json()["catalogs"]}
    assert listed["bma-9d"] == "ยุทธศาสตร์กรุงเทพมหานคร 9 ด้าน 9 ดี"
    assert client.get("/v1/catalogs/bma-9d").json()["title"] == "ยุทธศาสตร์กรุงเทพมหานคร 9 ด้าน 9 ดี"
    assert client.post("/v1/catalogs", files={"file": ("shop.csv", SHOP_CATALOG.encode())}, data={"id": "shop"}).json()["title"] == "shop"
    titled = SHOP_CATALOG.replace("keywords\n", "keywords,catalog_title\n", 1).replace("อาหารสัตว์\n", "อาหารสัตว์,แผนร้านสัตว์เลี้ยง\n", 1)
    assert client.post("/v1/catalogs", files={"file": ("pets.csv", titled.encode())}, data={"id": "pets"}).json()["title"] == "แผนร้านสัตว์เลี้ยง"
    given = client.post("/v1/catalogs", files={"file": ("shop.csv", SHOP_CATALOG.encode())}, data={"id": "plan20", "title": "แผนพัฒนากรุงเทพมหานคร 20 ปี"})
    assert given.json()["title"] == "แผนพัฒนากรุงเทพมหานคร 20 ปี"
    listed = {c["id"]: c["title"] for c in client.get("/v1/catalogs").json()["catalogs"]}
    assert listed["shop"] == "shop" and listed["pets"] == "แผนร้านสัตว์เลี้ยง" and listed["plan20"] == "แผนพัฒนากรุงเทพมหานคร 20 ปี"
    aligned = client.post("/v1/align", json={"text": "ทรายแมวและอาหารแมว", "catalog": "pets"}).json()
    assert aligned["levels"]["issue"][0]["node_id"] == "PET.CAT"  # the extra column changes nothing else


def test_body_size_limit(tmp_path):
    with make_client(tmp_path, max_body_bytes=1000) as client:
        response = client.post("/v1/align", json={"text": "ก" * 5000})
        assert response.status_code == 413 and "limit" in response.json()["error"]

        def chunks():  # no declared length: counted while read (FastAPI answered the refusal as a 400 it could not parse)
            yield b'{"text": "'
            yield from (("ก" * 100).encode() for _ in range(50))
            yield b'"}'

        chunked = client.post("/v1/align", content=chunks(), headers={"content-type": "application/json"})
        assert chunked.status_code == 413 and "1,000 bytes" in chunked.json()["error"] and "ไบต์" in chunked.json()["message_th"]


def test_api_keys_protect_writes_and_optionally_reads(tmp_path):
    with make_client(tmp_path, api_keys=[KEY]) as client:
        wait_ready(client)
        refused = client.post("/v1/projects", json={"projects": PROJECTS})
        assert refused.status_code == 401 and "กุญแจ API" in refused.json()["message_th"]  # the pages read Thai
        assert client.post("/v1/projects", json={"projects": PROJECTS}, headers={"X-API-Key": "wrong"}).status_code == 401
        assert client.post("/v1/projects", json={"projects": PROJECTS}, headers={"X-API-Key": KEY}).status_code == 200
        wait_ready(client)
        assert client.get("/v1/search", params={"q": "คลอง"}).status_code == 200
    with make_client(tmp_path, api_keys=[KEY], read_requires_key=True) as client:
        wait_ready(client)  # a restarted service answers 503 "starting" until its models are loaded
        assert client.get("/v1/search", params={"q": "คลอง"}).status_code == 401
        assert client.get("/v1/search", params={"q": "คลอง"}, headers={"X-API-Key": KEY}).status_code == 200
        assert client.get("/metrics").status_code == 401  # usage counts per catalog are reads too
        assert "planalign" in client.get("/metrics", headers={"X-API-Key": KEY}).text
        assert client.get("/healthz").status_code == 200  # a load balancer's probe needs no key
    with make_client(tmp_path, api_keys=[KEY], read_keys=["dashboard:R3AD-0NLY"], read_requires_key=True) as client:
        wait_ready(client)
        reader = {"X-API-Key": "R3AD-0NLY"}
        assert client.get("/v1/search", params={"q": "คลอง"}, headers=reader).status_code == 200
        assert client.get("/metrics", headers=reader).status_code == 200
        refused = client.post("/v1/projects", json={"projects": PROJECTS}, headers=reader)
        assert refused.status_code == 403 and "อ่านข้อมูลได้อย่างเดียว" in refused.json()["message_th"]
        assert client.post("/v1/decisions", json={"text": "ขุดลอกคลอง", "node_id": "D1"}, headers=reader).status_code == 403
        assert client.get("/v1/search", params={"q": "คลอง"}, headers={"X-API-Key": "wrong"}).status_code == 401
    with make_client(tmp_path, read_keys=["R3AD-0NLY"]) as client:  # read-only keys alone: nobody writes without a write key
        wait_ready(client)
        assert client.post("/v1/projects", json={"projects": PROJECTS}).status_code == 401
        assert client.get("/v1/search", params={"q": "คลอง"}).status_code == 200  # reads stay open unless configured


def test_jobs_survive_a_restart(tmp_path):
    rows = "text\n" + "\n".join(f"ขุดลอกคลองสายที่ {i}" for i in range(20)) + "\n"
    # A service that accepted a job and stopped before its worker ran it: the job is only on disk.
    core = Application(Settings(data_dir=tmp_path, encoder="tfidf"))
    job_id = core.jobs.submit("queued.csv", rows.encode(), {"text_col": "text"})[0].id
    core.close()
    with make_client(tmp_path) as client:
        assert client.get(f"/v1/classify/jobs/{job_id}").status_code == 200
        status = wait_job(client, job_id)
        assert status["status"] == "done" and status["progress"]["done"] == 20 and "restarted" not in status["params"]
    # ... and one that was running when the service stopped starts again from its first row, and says so (an operator's walkthrough)
    core = Application(Settings(data_dir=tmp_path, encoder="tfidf"))
    again = core.jobs.submit("running.csv", rows.encode(), {"text_col": "text"})[0].id
    core.jobs._update(again, status="running", total=20, done=13)
    core.close()
    with make_client(tmp_path) as client:
        status = wait_job(client, again)
        assert status["status"] == "done" and status["progress"]["done"] == 20 and status["params"]["restarted"] == 1


def test_a_job_queued_with_the_models_own_answers_as_labels_says_why_it_is_unscored(tmp_path):
    """A job sent before such a label column was refused at submission ran with no metrics and no word (a blind review)."""
    core = Application(Settings(data_dir=tmp_path, encoder="tfidf"))
    rows = "text,pred_label\nขุดลอกคลองสายที่ 1,D1.4\nปลูกต้นไม้ริมถนน,D4.1\n"
    job_id = core.jobs.submit("old.csv", rows.encode(), {"text_col": "text", "label_col": "pred_label"})[0].id
    core.close()
    with make_client(tmp_path) as client:
        status = wait_job(client, job_id)
        assert status["metrics"]["n"] == 0 and "model's own suggestion" in status["metrics"]["unscored"]
        assert "ข้อเสนอของระบบเอง" in status["metrics"]["unscored_th"]


def test_the_job_list_pages_filters_and_names_who_submitted(tmp_path):
    """Only ``limit`` was taken (offset and status refused), no count, and no job said whose it was (an integrator's walkthrough)."""
    with make_client(tmp_path, api_keys=[f"planning:{KEY}"]) as client:
        wait_ready(client)
        ids = [client.post("/v1/classify/jobs", files={"file": (f"f{i}.csv", "text\nขุดลอกคลอง\n".encode())}, data={"text_col": "text"},
                           headers={"X-API-Key": KEY}).json()["id"] for i in range(3)]
        for job_id in ids:
            wait_job(client, job_id)
        listed = client.get("/v1/classify/jobs", params={"limit": 2})
        assert listed.headers["x-total-count"] == "3" and [j["id"] for j in listed.json()] == ids[::-1][:2]
        assert [j["id"] for j in client.get("/v1/classify/jobs", params={"limit": 2, "offset": 2}).json()] == [ids[0]]
        assert client.get("/v1/classify/jobs", params={"status": "failed"}).json() == []
        assert len(client.get("/v1/classify/jobs", params={"status": "done"}).json()) == 3
        assert client.get("/v1/classify/jobs", params={"status": "finished"}).status_code == 422
        assert client.get("/v1/classify/jobs", params={"offset": 2**63}).status_code == 422  # past SQLite's integers: a 500 (schemathesis)
        assert {j["params"]["submitted_by"] for j in listed.json()} == {"planning"}  # the key's name, never the key


def test_a_retried_job_submission_is_one_job_and_only_its_submitter_cancels_it(tmp_path):
    """A client retrying a POST after a timeout queued the same rows twice, and any write key cancelled another office's job (an
    integrator's walkthrough): the Idempotency-Key answers the first job again, and a job is cancelled by the key that sent it."""
    rows = "ชื่อโครงการ,ประเด็น\n" + "\n".join(f"โครงการขุดลอกคลองสายที่ {i} เขตบางเขน,D1.4" for i in range(30)) + "\n"
    planning, district = {"X-API-Key": KEY}, {"X-API-Key": "D1STR1CT"}
    with make_client(tmp_path, api_keys=[f"planning:{KEY}", "bangkhen:D1STR1CT"]) as client:
        wait_ready(client)

        def post(headers: dict[str, str], content: str = rows, level: str | None = None):
            fields = {"text_col": "ชื่อโครงการ", "label_col": "ประเด็น", **({"level": level} if level else {})}
            return client.post("/v1/classify/jobs", files={"file": ("แผน 2568.csv", content.encode())}, data=fields,
                               headers={**headers, "Idempotency-Key": "e-budget-4711"})

        first = post(planning)
        assert wait_job(client, first.json()["id"])["params"]["level"] == "issue"  # the worker writes the labels' level (a blind review)
        again = post(planning)  # ... and a retry after it is still the same job
        assert first.status_code == again.status_code == 202 and again.json()["id"] == first.json()["id"]
        assert again.headers["idempotent-replayed"] == "true" and "idempotent-replayed" not in first.headers
        assert again.json()["params"]["idempotency_key"] == "e-budget-4711" and "submitted" not in again.json()["params"]
        assert client.get("/v1/classify/jobs").headers["x-total-count"] == "1"
        changed = post(planning, content=rows + "โครงการปลูกต้นไม้\n")
        assert changed.status_code == 409 and "file" in changed.json()["error"] and "Idempotency-Key" in changed.json()["message_th"]
        assert post(planning, level="issue").status_code == 409  # asked for now, not the level the worker chose
        other = post(district)  # another caller's key of the same text is its own job
        assert other.status_code == 202 and other.json()["id"] != first.json()["id"]
        refused = client.delete(f"/v1/classify/jobs/{first.json()['id']}", headers=district)
        assert refused.status_code == 403 and "planning" in refused.json()["message_th"]
        assert wait_job(client, first.json()["id"])["status"] == "done"  # not cancelled by the refused request
        assert client.delete(f"/v1/classify/jobs/{other.json()['id']}", headers=district).status_code in (200, 409)  # its own: cancelled or already done
    # a job no configured key sent (before keys, or a key since removed) is cancelled by any write key: nobody could (a blind review)
    core = Application(Settings(data_dir=tmp_path, encoder="tfidf", index_encoder="tfidf"))
    # a job stored before what was asked was kept apart is still found again by its key (a second review: 409)
    older, _ = core.jobs.submit("old.csv", rows.encode(), {"text_col": "ชื่อโครงการ", "submitted_by": "planning"}, idempotency_key="k-old")
    params = {**{k: v for k, v in older.params.items() if k != "submitted"}, "content_sha256": older.params["submitted"]["content_sha256"]}  # as it was
    core.jobs._update(older.id, params=json.dumps(params, ensure_ascii=False))
    assert core.jobs.submit("old.csv", rows.encode(), {"text_col": "ชื่อโครงการ", "submitted_by": "planning"}, idempotency_key="k-old") == \
        (core.jobs.get(older.id), True)
    orphan = core.jobs.submit("old.csv", rows.encode(), {"text_col": "ชื่อโครงการ", "submitted_by": "local"}, total=30)[0].id
    core.close()
    with make_client(tmp_path, api_keys=[f"planning:{KEY}"]) as client:
        assert client.delete(f"/v1/classify/jobs/{orphan}", headers=planning).status_code in (200, 409)


def test_a_1000_row_job_runs_while_searches_answer(client):
    rows = "id,text\n" + "\n".join(f"{i},โครงการลอกท่อระบายน้ำซอย {i} เพื่อลดน้ำท่วมขัง" for i in range(1000)) + "\n"
    job = client.post("/v1/classify/jobs", files={"file": ("big.csv", rows.encode())}, data={"text_col": "text"}).json()
    latencies = []
    while client.get(f"/v1/classify/jobs/{job['id']}").json()["status"] in ("queued", "running"):
        started = time.perf_counter()
        assert client.get("/v1/search", params={"q": "ขุดลอกคลอง"}).status_code == 200
        latencies.append(time.perf_counter() - started)
    assert wait_job(client, job["id"])["progress"] == {"done": 1000, "total": 1000}
    assert latencies, "the job finished before any search was made"
    print(f"searches during the job: {len(latencies)}, slowest {max(latencies):.3f}s")


def test_catalog_fields_never_read_server_files(client, tmp_path):
    secret = tmp_path / "secret.csv"
    secret.write_text("username,password\nadmin,hunter2\n", encoding="utf-8")
    catalog_file = tmp_path / "real.csv"
    catalog_file.write_text(SHOP_CATALOG, encoding="utf-8")
    for reference in (str(secret), str(catalog_file), "/etc/passwd", "../../etc/hosts.csv"):
        align = client.post("/v1/align", json={"text": "ลูกแมว", "catalog": reference})
        classify = client.post("/v1/classify", json={"texts": ["ลูกแมว"], "catalog": reference})
        for response in (align, classify):
            assert response.status_code in (404, 422), response.text  # unknown id, or too long to be one
            assert "hunter2" not in response.text and "password" not in response.text and str(tmp_path) not in response.text


def test_unknown_routes_answer_in_the_documented_error_shape(client):
    response = client.get("/v1/nothing-here")
    assert response.status_code == 404 and "error" in response.json()


BINARY = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8


@pytest.mark.parametrize("filename", ["สแกนโครงการ.csv", "สแกนโครงการ.xlsx", "สแกนโครงการ.xls", "โครงการ.pdf", "ว่าง.csv"])
def test_a_bad_upload_names_the_users_file_in_thai_never_a_server_path(client, filename):
    """A scanned image or PDF sent as a job or a project file: the answer names the file and what to do, in Thai too."""
    content = b"" if filename.startswith("ว่าง") else BINARY
    for path, data in (("/v1/classify/jobs", {"text_col": "ชื่อโครงการ"}), ("/v1/projects/file", {})):
        response = client.post(path, files={"file": (filename, content)}, data=data)
        body = response.json()
        assert 400 <= response.status_code < 500, body
        text = json.dumps(body, ensure_ascii=False)
        assert filename in body["error"] and filename in body["message_th"], body
        assert not re.search(r"[A-Z][a-z]+(Error|File|Exception)\b", text), text  # no exception class name
        assert "/tmp" not in text and "planalign" not in text and "upload." not in text, text
        assert re.search("[ก-๙]", body["message_th"]) and ("กรุณา" in body["message_th"]), body["message_th"]


def test_a_job_that_fails_while_running_names_the_users_file(client):
    """A file that fails only in the worker (here stored directly, past the upload checks): the job's error names the user's file."""
    core = client.app.state.planalign
    job = core.jobs.submit("แผนงาน 2568.csv", BINARY, {"text_col": "ชื่อโครงการ", "catalog": None, "level": None, "learn": True})[0]
    status = wait_job(client, job.id)
    assert status["status"] == "failed"
    assert "แผนงาน 2568.csv" in status["error"] and "แผนงาน 2568.csv" in status["message_th"]
    assert str(core.data_dir) not in json.dumps(status, ensure_ascii=False) and "input.csv" not in status["error"]
    assert "error_th" not in status["params"]


def test_a_job_whose_columns_are_missing_is_refused_at_submit_in_thai(client):
    names_only = "ชื่อโครงการ\nโครงการขุดลอกคลองบางบัว\nโครงการอบรมอาสาสมัครป้องกันยาเสพติด\n".encode()
    for data in ({"text_col": "ชื่อโครงการ,วัตถุประสงค์"}, {"text_col": "ชื่อโครงการ", "label_col": "issue_id"}):
        response = client.post("/v1/classify/jobs", files={"file": ("ชื่อโครงการ.csv", names_only)}, data=data)
        body = response.json()
        assert response.status_code == 422, body
        missing = "วัตถุประสงค์" if "วัตถุประสงค์" in data["text_col"] else "issue_id"
        assert body["message_th"].startswith(f"ไฟล์ ชื่อโครงการ.csv ไม่มีคอลัมน์ {missing}") and "ชื่อโครงการ" in body["message_th"]
    assert client.post("/v1/classify/jobs", files={"file": ("ชื่อโครงการ.csv", names_only)}, data={"text_col": "ชื่อโครงการ"}).status_code == 202


def test_an_excel_97_2003_file_is_previewed_and_classified(client, tmp_path):
    """Offices still save .xls: the evaluation page refused it as an unsupported type."""
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("โครงการ")
    for r, values in enumerate([["รหัส", "ชื่อโครงการ"], ["BKN-01", "โครงการขุดลอกคลองบางบัว"], ["BKN-02", "โครงการอบรมอาสาสมัครป้องกันยาเสพติด"]]):
        for c, value in enumerate(values):
            sheet.write(r, c, value)
    book.save(str(tmp_path / "p1.xls"))
    content = (tmp_path / "p1.xls").read_bytes()
    preview = client.post("/v1/tables/columns", files={"file": ("ผ.1 2568.xls", content)}).json()
    assert preview["columns"] == ["รหัส", "ชื่อโครงการ"] and preview["text_columns"] == ["ชื่อโครงการ"] and preview["total_rows"] == 2
    job = client.post("/v1/classify/jobs", files={"file": ("ผ.1 2568.xls", content)}, data={"text_col": "ชื่อโครงการ", "id_col": "รหัส"}).json()
    assert wait_job(client, job["id"])["status"] == "done"
    result = client.get(f"/v1/classify/jobs/{job['id']}/result?format=csv").text
    assert "BKN-02" in result and "D2" in result.splitlines()[2]  # drug prevention: safety


def test_table_columns_reads_the_header_and_guesses_the_text(client, tmp_path):
    """The evaluation page asks before submitting: the file's columns, first rows, and which columns look like the text."""
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["รหัส", "project", "budget"])
    book.active.append(["BKN-01", "โครงการขุดลอกคลองบางบัว", "1,500,000"])
    path = tmp_path / "export.xlsx"
    book.save(path)
    body = client.post("/v1/tables/columns", files={"file": ("export 2568.xlsx", path.read_bytes())}).json()
    assert body["filename"] == "export 2568.xlsx" and body["columns"] == ["รหัส", "project", "budget"] and body["total_rows"] == 1
    assert body["rows"][0]["project"] == "โครงการขุดลอกคลองบางบัว"
    assert body["text_columns"] == ["project"] and body["id_column"] == "รหัส"  # by the form's header aliases
    plain = "หัวข้อที่เสนอ,จำนวนเงิน\nโครงการอบรมอาสาสมัครป้องกันยาเสพติดในชุมชน,250000\nโครงการปลูกต้นไม้ริมคลอง,90000\n"
    body = client.post("/v1/tables/columns", files={"file": ("เสนอ.csv", plain.encode("cp874"))}).json()
    assert body["text_columns"] == ["หัวข้อที่เสนอ"] and body["id_column"] is None  # no alias: the wordiest column, not the amounts
    both = client.post("/v1/tables/columns", files={"file": ("f.csv", "วัตถุประสงค์,ชื่อโครงการ\nลดน้ำท่วม,ขุดลอกคลอง\n".encode())}).json()
    assert both["text_columns"] == ["ชื่อโครงการ", "วัตถุประสงค์"]  # in the project form's order
    refused = client.post("/v1/tables/columns", files={"file": ("สแกน.xlsx", BINARY)})
    assert refused.status_code == 422 and "สแกน.xlsx" in refused.json()["message_th"]


def test_confusion_axis_titles_are_thai_when_a_thai_font_is_installed():
    """Thai titles need a Thai font: without one matplotlib draws boxes, so the English titles stay."""
    from planalign.service import plots

    if plots._thai_font() is None:
        pytest.skip("no Thai font installed (make browser installs fonts-thai-tlwg)")
    labels, matrix = ["D1", "D2"], [[2, 1], [0, 3]]
    with_thai = plots.confusion_png(labels, matrix)
    plots._thai_font.cache_clear()
    try:
        with patch.object(plots, "THAI_FONTS", ()):
            english = plots.confusion_png(labels, matrix)
    finally:
        plots._thai_font.cache_clear()
    assert with_thai.startswith(b"\x89PNG") and english.startswith(b"\x89PNG")
    assert with_thai != english


def test_who_deleted_submitted_or_removed_what_is_in_the_log(tmp_path, caplog, shop_catalog):
    """With 50 offices a deletion could not be traced to anyone, and a job's life was not in the log (an operator's walkthrough)."""
    import logging

    with make_client(tmp_path, api_keys=["bangkhen-office:K3Y-1"]) as keyed:
        wait_ready(keyed)
        key = {"X-API-Key": "K3Y-1"}
        caplog.set_level(logging.INFO, logger="planalign")
        assert keyed.post("/v1/projects", json={"projects": PROJECTS[:1]}, headers=key).status_code == 200
        assert keyed.delete(f"/v1/projects/{PROJECTS[0]['id']}", headers=key).status_code == 200
        job = keyed.post("/v1/classify/jobs", files={"file": ("s.csv", "text\nขุดลอกคลอง\n".encode())}, data={"text_col": "text"}, headers=key).json()
        wait_job(keyed, job["id"])
        keyed.post("/v1/catalogs", files={"file": ("shop.csv", shop_catalog.read_bytes())}, data={"id": "shop"}, headers=key)
        keyed.delete("/v1/catalogs/shop", headers=key)
    logged = caplog.text
    assert f"bangkhen-office deleted project {PROJECTS[0]['id']}" in logged and "bangkhen-office stored projects (JSON): 1 inserted" in logged
    assert f"bangkhen-office submitted job {job['id']}: s.csv, 1 rows" in logged
    assert f"job {job['id']} started: 1 rows" in logged and f"job {job['id']} done in" in logged
    assert "bangkhen-office added catalog shop (6 nodes)" in logged and "bangkhen-office removed catalog shop" in logged
    assert "K3Y-1" not in logged  # the key itself is never written


def test_a_queued_job_says_what_is_before_it(tmp_path):
    """One job runs at a time: an 80-row job sat "queued" behind another office's 2,000 rows without a word (an operator's walkthrough)."""
    from planalign.app import Application
    from planalign.service.api.classify import _job_out

    core = Application(Settings(data_dir=tmp_path, encoder="tfidf", index_encoder="tfidf"))  # no worker: the jobs stay queued
    first = core.jobs.submit("big.csv", "text\nขุดลอกคลอง\n".encode(), {"text_col": "text"}, total=2000)[0]
    second = core.jobs.submit("small.csv", "text\nปลูกต้นไม้\n".encode(), {"text_col": "text"}, total=80)[0]
    ahead = core.jobs.ahead()
    assert (_job_out(first, ahead).jobs_ahead, _job_out(second, ahead).jobs_ahead, _job_out(second, ahead).rows_ahead) == (0, 1, 2000)
    core.close()


def test_a_running_service_notes_its_default_catalog_and_clears_the_note_when_it_stops(tmp_path):
    """The CLI reads the note to leave a running service's default catalog in place (a blind review)."""
    with make_client(tmp_path) as client:
        wait_ready(client)
        notes = list((tmp_path / "serving").glob("*.json"))
        assert len(notes) == 1 and json.loads(notes[0].read_text(encoding="utf-8"))["catalog"] == "bma-9d"
    assert not list((tmp_path / "serving").glob("*.json"))


def test_the_openapi_description_declares_the_errors_the_service_answers(tmp_path):
    """A generated client read only 200 and FastAPI's HTTPValidationError (``detail[].type`` required, never sent),
    while the service answers 401, 404, 413, 503... in one shape of its own (an integrator's walkthrough)."""
    with make_client(tmp_path, api_keys=[KEY]) as client:
        wait_ready(client)
        described = client.get("/openapi.json").json()
        assert "HTTPValidationError" not in json.dumps(described)
        error = described["components"]["schemas"]["Error"]
        align = described["paths"]["/v1/align"]["post"]["responses"]
        assert {"400", "401", "403", "404", "413", "422", "503"} <= set(align)
        assert all(align[s]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"} for s in ("401", "422"))
        assert "413" not in described["paths"]["/v1/search"]["get"]["responses"]  # a GET has no body to be too large
        refused = client.post("/v1/align", json={"text": 1}, headers={"X-API-Key": KEY})
        unknown = client.post("/v1/decisions", json={"text": "ขุดลอกคลอง", "node_id": "D1.4"})  # a write without its key
        assert (refused.status_code, unknown.status_code) == (422, 401)
        assert unknown.headers["www-authenticate"] == 'ApiKey header="X-API-Key"'  # a 401 names its scheme
        # a JSON body sent as text says what to send (it was a 422 "Input should be a valid dictionary")
        as_text = client.post("/v1/align", content='{"text": "ขุดลอกคลอง"}'.encode(), headers={"content-type": "text/plain", "X-API-Key": KEY})
        assert as_text.status_code == 415 and "application/json" in as_text.json()["message_th"] and "415" in align
        assert "415" not in described["paths"]["/v1/classify/jobs"]["post"]["responses"]  # an upload is a form
        decisions_as_text = client.post("/v1/decisions", content=b'[{"text": "x", "node_id": "D1.4"}]', headers={"content-type": "text/plain",
                                                                                                                "X-API-Key": KEY})
        assert decisions_as_text.status_code == 415  # a list or one decision (its union's branches made it a 422: a blind review)
        form_as_text = client.post("/v1/classify/jobs", content=b"x", headers={"content-type": "text/plain", "X-API-Key": KEY})
        assert form_as_text.status_code == 422  # an upload's form is no JSON to ask for
        assert "409" in described["paths"]["/v1/classify/jobs/{job_id}/result"]["get"]["responses"]
        assert {"401", "403"} <= set(described["paths"]["/metrics"]["get"]["responses"]) and list(described["paths"]["/healthz"]) == ["get"]
        # the headers it sends, declared (a client generated from the document saw none of them: an integrator's walkthrough)
        assert "WWW-Authenticate" in align["401"]["headers"] and "Retry-After" in align["503"]["headers"]
        jobs = described["paths"]["/v1/classify/jobs"]
        assert "X-Total-Count" in jobs["get"]["responses"]["200"]["headers"] and "Idempotent-Replayed" in jobs["post"]["responses"]["202"]["headers"]
        assert "503" not in described["paths"]["/healthz"]["get"]["responses"]  # it answers 200 on purpose
        assert "413" not in described["paths"]["/v1/catalogs/{catalog_id}"]["delete"]["responses"]
        for body in (refused.json(), unknown.json()):  # the bodies are what the description says
            assert set(error["required"]) <= set(body) and set(body) <= set(error["properties"])
            assert isinstance(body["error"], str) and isinstance(body["message_th"], str)
        assert all(set(item) == {"loc", "msg"} for item in refused.json()["detail"])
