"""Security regressions of issue 15: catalogs by id only, no server paths or file content in errors,
cross-site writes, security headers, limits, formulas in results, keys, ids. Model-free encoders."""
import csv
import io
import json
import re
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from conftest import SHOP_CATALOG, wait_job, wait_ready
from planalign.config import Settings
from planalign.service.app import create_app

KEY = "secret-key"
SECRET = "username,password\nadmin,hunter2\n"


def make(tmp_path, **extra) -> TestClient:
    return TestClient(create_app(Settings(data_dir=tmp_path / "data", encoder="tfidf", index_encoder="tfidf", **extra)))


@pytest.fixture
def client(tmp_path):
    with make(tmp_path) as c:
        wait_ready(c)
        yield c


# ------------------------------------------------------------------------------ catalogs by id only
def _catalog_answers(client: TestClient, reference: str) -> list[tuple[int, str]]:
    """Status and error of every API field that takes a catalog, for one reference."""
    answers = [
        client.post("/v1/align", json={"text": "ลูกแมว", "catalog": reference}),
        client.post("/v1/classify", json={"texts": ["ลูกแมว"], "catalog": reference}),
        client.post("/v1/classify/jobs", files={"file": ("a.csv", b"text\n\xe0\xb8\x82\n")}, data={"text_col": "text", "catalog": reference}),
        client.post("/v1/classify/jobs", files={"file": ("a.csv", b"text\n\xe0\xb8\x82\n")},
                    data={"text_col": "text", "catalog": reference, "level": "issue"}),
        client.get(f"/v1/catalogs/{reference}") if "/" not in reference else None,
    ]
    return [(r.status_code, r.text) for r in answers if r is not None]


def test_catalog_fields_never_read_server_files_and_do_not_reveal_whether_they_exist(client, tmp_path):
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "secret.csv").write_text(SECRET, encoding="utf-8")
    (folder / "shop0.csv").write_text(SHOP_CATALOG, encoding="utf-8")
    for existing, missing in [(folder / "secret.csv", folder / "secreX.csv"), (folder / "shop0.csv", folder / "shopX.csv"),
                              (Path("/etc/passwd"), Path("/etc/passwX")), (Path("../../etc/hosts.csv"), Path("../../etc/hostX.csv"))]:
        assert not missing.exists()
        for short in (False, True):  # an absolute path (too long for an id) and a relative one (short)
            there = str(existing) if not short else f"../{existing.name}"
            absent = str(missing) if not short else f"../{missing.name}"
            got, expected = _catalog_answers(client, there), _catalog_answers(client, absent)
            for (status, text), (status_absent, text_absent) in zip(got, expected):
                assert status in (404, 422), text
                assert (status, text.replace(there, "REF")) == (status_absent, text_absent.replace(absent, "REF"))  # no existence oracle
                assert "hunter2" not in text and "password" not in text and "PET.DOG" not in text


# ------------------------------------------------------------------- no server paths in any message
def test_upload_errors_name_the_users_file_never_a_server_path(client):
    cases = [
        ("/v1/projects/file", {}, ("ของฉัน.csv", b'id,name\n1,"never closed\n2,x\n'), "ของฉัน.csv: line 2: a quoted field"),
        ("/v1/projects/file", {}, ("mine.xlsx", b"PK\x03\x04 not a workbook"), "mine.xlsx: not a readable Excel workbook"),
        ("/v1/classify/jobs", {"text_col": "text"}, ("mine.xls", bytes.fromhex("d0cf11e0a1b11ae1") + b"damaged"), "mine.xls: not a readable Excel workbook"),
        ("/v1/projects/file", {}, ("C:\\Users\\me\\mine.jsonl", b'{"name": "x"}\n{oops\n'), "mine.jsonl: line 2: not valid JSON"),
        ("/v1/classify/jobs", {"text_col": "text"}, ("mine.csv", b"text\n\xff\xfe\x00\x00binary"), "mine.csv: looks like a binary file"),
        ("/v1/catalogs", {"id": "mine"}, ("mine.csv", b"id,parent_id,level,name,description\nA,,dimension,x,\n\"B,A,issue,y,\n"), "line 3"),
        ("/v1/catalogs", {"id": "mine2"}, ("mine.json", b"{oops"), "mine.json: not valid UTF-8 JSON"),
    ]
    for path, data, upload, message in cases:
        response = client.post(path, files={"file": upload}, data=data)
        assert response.status_code == 422, response.text
        assert message in response.text, response.text
        assert "/tmp" not in response.text and "upload." not in response.text and "planalign-upload" not in response.text


def test_job_errors_name_the_users_file(client):
    job = client.post("/v1/classify/jobs", files={"file": ("data.csv", "text\nขุดลอกคลอง\n".encode())}, data={"text_col": "text"}).json()
    status = wait_job(client, job["id"])
    assert status["status"] == "done" and status["params"]["filename"] == "data.csv"


# ------------------------------------------------------------------------------- cross-site writes
def test_cross_site_writes_are_refused(client):
    body = {"projects": [{"id": "X1", "name": "โครงการทดสอบ"}]}
    evil = client.post("/v1/projects", json=body, headers={"Origin": "https://evil.example"})
    assert evil.status_code == 403 and "cross-site" in evil.json()["error"] and "เว็บไซต์อื่น" in evil.json()["message_th"]
    assert client.post("/v1/projects", json=body, headers={"Origin": "null"}).status_code == 403
    assert client.post("/v1/projects", json=body, headers={"Referer": "http://evil.example/page.html"}).status_code == 403
    assert client.post("/v1/catalogs", files={"file": ("shop.csv", SHOP_CATALOG.encode())}, data={"id": "shop"},
                       headers={"Origin": "http://evil.example"}).status_code == 403
    assert client.delete("/v1/projects/X1", headers={"Origin": "http://evil.example"}).status_code == 403
    assert client.get("/v1/projects/X1").status_code == 404  # nothing was written
    # the service's own pages (same host and port), scripts without browser headers, and key holders pass
    assert client.post("/v1/projects", json=body, headers={"Origin": "http://testserver"}).status_code == 200
    assert client.post("/v1/projects", json=body, headers={"Referer": "http://testserver/evaluate"}).status_code == 200
    assert client.post("/v1/projects", json=body).status_code == 200
    assert client.post("/v1/projects", json=body, headers={"Origin": "https://evil.example", "X-API-Key": "x"}).status_code == 200
    # reads are not state-changing
    assert client.get("/v1/search", params={"q": "ทดสอบ"}, headers={"Origin": "https://evil.example"}).status_code == 200


def test_other_origins_can_be_allowed_and_keys_still_apply(tmp_path):
    # listed as a person may write it: CORS compares it as the browser sends it, as the same-origin check does (a blind review)
    with make(tmp_path, allowed_origins="HTTPS://Planalign.BMA.go.th:443/", api_keys=KEY) as client:
        wait_ready(client)
        body = {"projects": [{"id": "X1", "name": "โครงการทดสอบ"}]}
        assert client.post("/v1/projects", json=body, headers={"Origin": "https://planalign.bma.go.th", "X-API-Key": KEY}).status_code == 200
        assert client.post("/v1/projects", json=body, headers={"Origin": "https://evil.example", "X-API-Key": "wrong"}).status_code == 401
        assert client.post("/v1/projects", json=body, headers={"Origin": "https://evil.example"}).status_code == 403
        # a listed origin's page may call the API from the browser: its preflight is granted (it was a 405 and no
        # answer allowed the origin: an integrator's walkthrough); another origin's is not
        ask = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "x-api-key, content-type"}
        granted = client.options("/v1/align", headers={"Origin": "https://planalign.bma.go.th", **ask})
        assert granted.status_code == 200 and granted.headers["access-control-allow-origin"] == "https://planalign.bma.go.th"
        assert "x-api-key" in granted.headers["access-control-allow-headers"].lower()
        listed = client.get("/v1/classify/jobs", headers={"Origin": "https://planalign.bma.go.th", "X-API-Key": KEY})
        assert "x-total-count" in listed.headers["access-control-expose-headers"].lower()  # the count a front end pages by
        assert "access-control-allow-origin" not in client.options("/v1/align", headers={"Origin": "https://evil.example", **ask}).headers
        answer = client.post("/v1/align", json={"text": "ขุดลอกคลอง"}, headers={"Origin": "https://planalign.bma.go.th", "X-API-Key": KEY})
        assert answer.status_code == 200 and answer.headers["access-control-allow-origin"] == "https://planalign.bma.go.th"
        assert "access-control-allow-origin" not in client.get("/healthz", headers={"Origin": "https://evil.example"}).headers


# ------------------------------------------------------------------------------- headers and pages
class _Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inline: list[str] = []

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        if tag == "script" and not names.get("src"):
            self.inline.append("<script> without src")
        if tag == "style" or "style" in names:
            self.inline.append(f"inline style on <{tag}>")
        self.inline += [f"{k} on <{tag}>" for k in names if k.startswith("on")]
        if any(str(v or "").lower().startswith("javascript:") for v in names.values()):
            self.inline.append(f"javascript: URL on <{tag}>")


@pytest.mark.parametrize("page", ["/", "/review", "/evaluate", "/catalog"])
def test_pages_send_security_headers_and_need_no_inline_script(client, page):
    response = client.get(page)
    headers = response.headers
    assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    csp = headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    parser = _Scripts()
    parser.feed(response.text)
    assert parser.inline == []  # so the CSP without 'unsafe-inline' breaks nothing


def test_api_responses_are_not_sniffed_and_docs_still_load(client):
    assert client.get("/v1/catalogs").headers["x-content-type-options"] == "nosniff"
    docs = client.get("/docs")
    assert docs.status_code == 200 and "content-security-policy" not in docs.headers  # Swagger UI needs its inline script


def test_static_scripts_never_use_inline_styles_or_html_injection():
    static = Path(__file__).resolve().parents[1] / "service" / "ui" / "static"
    for script in static.glob("*.js"):
        text = script.read_text(encoding="utf-8")
        assert not re.search(r"innerHTML\s*=|setAttribute\(\s*[\"']style|eval\(", text), script.name


# -------------------------------------------------------------------------------------------- limits
def test_text_and_field_limits_answer_413_with_the_limit(tmp_path):
    with make(tmp_path, max_text_chars=5000, max_field_chars=3000, max_rows=50) as client:
        wait_ready(client)
        huge = "ก" * 1_000_000  # one "word" of a million characters: 46 s in one align request before
        started = time.perf_counter()
        response = client.post("/v1/align", json={"text": huge})
        assert response.status_code == 413 and "over the limit of 5,000" in response.json()["error"]
        assert time.perf_counter() - started < 2
        assert client.post("/v1/align", json={"name": "ก" * 3000, "objective": "ข" * 3000}).status_code == 413  # the joined draft
        assert client.post("/v1/classify", json={"texts": ["ขุดลอก", "ก" * 6000]}).json()["error"].startswith("texts[1] has 6,000")
        assert client.post("/v1/duplicates/check", json={"text": "ก" * 6000}).status_code == 413
        long_field = client.post("/v1/projects", json={"projects": [{"id": "L1", "name": "โครงการ", "objective": "ก" * 4000}]})
        assert long_field.status_code == 413 and "'objective' has 4,000 characters" in long_field.json()["error"]
        assert client.get("/v1/projects/L1").status_code == 404  # refused whole: nothing written
        name = "ก" * 5_000_000  # a 5 MB one-line name took 117 s in an upload before
        started = time.perf_counter()
        upload = client.post("/v1/projects/file", files={"file": ("big.csv", f"id,name\n1,{name}\n".encode())})
        assert upload.status_code == 413 and "big.csv: row 2, column 'name': 5,000,000 characters" in upload.json()["error"]
        assert time.perf_counter() - started < 5
        rows = "text\n" + "".join(f"ข้อความ {i}\n" for i in range(51))
        job = client.post("/v1/classify/jobs", files={"file": ("rows.csv", rows.encode())}, data={"text_col": "text"})
        assert job.status_code == 413 and "more than 50 data rows" in job.json()["error"]
        assert client.post("/v1/projects/file", files={"file": ("rows.csv", rows.replace("text", "name").encode())}).status_code == 413


# ------------------------------------------------------------------------------ formulas in results
def test_formulas_in_inputs_are_neutralised_in_job_results(client):
    rows = [["id", "text", "budget"], ["1", '=HYPERLINK("http://evil.example","คลิก") ขุดลอกคลอง', "1500000"], ["2", "@SUM(A1) ลอกท่อ", "-20"]]
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    job = client.post("/v1/classify/jobs", files={"file": ("in.csv", buffer.getvalue().encode())}, data={"text_col": "text"}).json()
    assert wait_job(client, job["id"])["status"] == "done"
    text = client.get(f"/v1/classify/jobs/{job['id']}/result?format=csv").content.decode("utf-8-sig")
    out = list(csv.reader(io.StringIO(text)))
    assert out[1][1].startswith("'=HYPERLINK") and out[2][1].startswith("'@SUM") and out[2][2] == "-20"
    sheet = load_workbook(io.BytesIO(client.get(f"/v1/classify/jobs/{job['id']}/result?format=xlsx").content)).active
    cell = sheet["B2"]
    assert cell.data_type == "s" and cell.quotePrefix and cell.value.startswith("=HYPERLINK")
    assert isinstance(sheet["F2"].value, float)  # pred_score stays a number


# -------------------------------------------------------------------------- smaller items of the issue
def test_non_ascii_api_keys_never_give_500(tmp_path):
    with make(tmp_path, api_keys="คีย์ลับ,ascii-key") as client:
        wait_ready(client)
        body = {"projects": [{"id": "K1", "name": "โครงการทดสอบ"}]}
        assert client.post("/v1/projects", json=body, headers={"X-API-Key": "ผิด".encode()}).status_code == 401
        assert client.post("/v1/projects", json=body, headers={"X-API-Key": b"\xff\xfe"}).status_code == 401
        assert client.post("/v1/projects", json=body, headers={"X-API-Key": "คีย์ลับ".encode()}).status_code == 200
        assert client.post("/v1/projects", json=body, headers={"X-API-Key": "ascii-key"}).status_code == 200


def test_project_ids_with_slashes_can_be_fetched_and_deleted(client):
    assert client.post("/v1/projects", json={"projects": [{"id": "BKK/2568/001", "name": "โครงการทดสอบ"}]}).status_code == 200
    assert client.get("/v1/projects/BKK/2568/001").json()["id"] == "BKK/2568/001"
    assert client.delete("/v1/projects/BKK/2568/001").status_code == 200
    assert client.get("/v1/projects/BKK/2568/001").status_code == 404


@pytest.mark.parametrize("catalog_id", [".", "..", "CON", "con", "nul", ".hidden", "a/b", "x" * 65, "bma-9d\n", "ok\n"])
def test_unreachable_catalog_ids_are_refused_at_upload(client, catalog_id):
    response = client.post("/v1/catalogs", files={"file": ("shop.csv", SHOP_CATALOG.encode())}, data={"id": catalog_id})
    assert response.status_code == 422, response.text
    assert catalog_id not in [c["id"] for c in client.get("/v1/catalogs").json()["catalogs"]]


def test_a_rebound_host_name_is_refused_where_hosts_are_listed(tmp_path):
    """DNS rebinding: a page on evil.example whose name is rebound to 127.0.0.1 sends its own Host; with no key set,
    the same-origin check took that Host as the service's own and the write went through (a security probe).
    `serve` on a loopback address lists this machine's names (PLANALIGN_ALLOWED_HOSTS otherwise)."""
    from planalign.service.cli import LOOPBACK_HOSTS

    with TestClient(create_app(Settings(data_dir=tmp_path / "data", encoder="tfidf", index_encoder="tfidf", allowed_hosts=LOOPBACK_HOSTS)),
                    base_url="http://127.0.0.1:8000") as listed:
        wait_ready(listed)
        rebound = {"host": "rebind.evil.example:8000", "origin": "http://rebind.evil.example:8000"}
        decision = {"text": "ขุดลอกคลอง", "node_id": "D1.4"}
        assert listed.post("/v1/decisions", json=decision, headers=rebound).status_code == 400
        refused = listed.get("/v1/projects", headers={"host": "rebind.evil.example:8000"})
        assert refused.status_code == 400  # in our JSON error, in Thai too (it was Starlette's "Invalid host header" text)
        assert "rebind.evil.example" in refused.json()["error"] and "PLANALIGN_ALLOWED_HOSTS" in refused.json()["message_th"]
        assert listed.get("/v1/projects", headers={"host": "localhost:8000"}).status_code == 200
        assert listed.post("/v1/decisions", json=decision, headers={"origin": "http://127.0.0.1:8000"}).status_code == 200
    # the public name listed, a monitor on the machine still probes localhost (an operator got 400); a rebound name does not
    with TestClient(create_app(Settings(data_dir=tmp_path / "data", encoder="tfidf", index_encoder="tfidf", allowed_hosts=("planalign.bma.go.th",))),
                    base_url="http://planalign.bma.go.th") as public:
        wait_ready(public)
        for host in ("localhost:8000", "127.0.0.1", "[::1]:8000", "planalign.bma.go.th"):
            assert public.get("/healthz", headers={"host": host}).status_code == 200 and "projects" in public.get("/readyz", headers={"host": host}).json()
        # a load balancer or Kubernetes probes by its own address (a blind review): answered, with the status alone, so a
        # rebound page reads no counts (another review)
        for host in ("10.0.3.7:8000", "rebind.evil.example"):
            probe = public.get("/readyz", headers={"host": host})
            assert probe.status_code == 200 and probe.json() == {"status": "ready"}
        assert public.get("/metrics", headers={"host": "localhost"}).status_code == 400


def test_confusion_png_without_labels_is_404(client):
    plain = client.post("/v1/classify/jobs", files={"file": ("a.csv", "text\nขุดลอกคลอง\n".encode())}, data={"text_col": "text"}).json()
    other = client.post("/v1/classify/jobs", files={"file": ("b.csv", "text,gold\nขุดลอกคลอง,ไม่มีหมวดนี้\n".encode())},
                        data={"text_col": "text", "label_col": "gold"}).json()
    for job in (plain, other):
        assert wait_job(client, job["id"])["status"] == "done"
        response = client.get(f"/v1/classify/jobs/{job['id']}/confusion.png")
        assert response.status_code == 404 and "error" in response.json()


def test_unknown_routes_and_methods_answer_in_the_error_shape(client):
    assert set(client.get("/nothing").json()) == {"error", "message_th"}  # Thai too, as every other error
    assert set(client.put("/v1/search").json()) == {"error", "message_th"}


def test_an_unknown_address_is_a_thai_page_for_a_browser_and_json_for_the_api(client):
    browser = client.get("/nope", headers={"Accept": "text/html,application/xhtml+xml"})
    assert browser.status_code == 404 and "ไม่พบหน้านี้" in browser.text and 'href="/review"' in browser.text
    planner = client.get("/planner", headers={"Accept": "text/html"})  # the planner's page by its name (a walkthrough met the 404)
    assert planner.status_code == 200 and 'id="draft-text"' in planner.text
    parser = _Scripts()
    parser.feed(browser.text)
    assert parser.inline == [] and browser.headers["x-frame-options"] == "DENY"
    for path, accept in (("/nope", "*/*"), ("/v1/nope", "text/html"), ("/v1", "text/html")):
        api = client.get(path, headers={"Accept": accept})
        assert api.status_code == 404 and api.json()["error"] == "Not Found"


def test_a_long_query_gets_the_apis_thai_answer_not_the_servers_plain_error(tmp_path):
    """A query of some 20,000 Thai characters (about 180 KB percent-encoded) was answered "Invalid HTTP request
    received." in plain English by the server (h11's cap on a request's head) instead of the API's Thai 422 (a
    reviewer walkthrough). Served as `planalign serve` serves, the longest query the API takes (2,000 characters)
    is searched and one of 30,000 gets the Thai 422."""
    import urllib.error
    import urllib.parse
    import urllib.request

    from conftest import served

    with served(tmp_path) as url:
        for length, status in ((2_000, 200), (30_000, 422)):
            query = urllib.parse.quote("ขุดลอกคลอง" * (length // 10))
            try:
                with urllib.request.urlopen(f"{url}/v1/search?q={query}", timeout=60) as response:
                    code, body = response.status, response.read()
            except urllib.error.HTTPError as error:
                code, body = error.code, error.read()
            assert code == status, body[:200]
            assert json.loads(body)  # JSON from the API, not the server's plain text
            if status == 422:
                assert "message_th" in json.loads(body)
