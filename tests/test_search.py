"""Store + index + hybrid search + delete, end to end with the model-free encoder."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import run_cli
from planalign.app import Application
from planalign.config import Settings
from planalign.corpora.projects import Project
from planalign.decisions import DecisionInput
from planalign.errors import InputError, Unavailable
from planalign.index.hybrid import Filters, search
from planalign.index.project_index import current_generation, index_root, load_index

PROJECTS = [
    Project(id="P1", fiscal_year=2566, org="สำนักงานเขตบางเขน", district="บางเขน", district_group="กรุงเทพเหนือ", dimension_id="D1",
            name="โครงการขุดลอกคลองบางบัวเพื่อระบายน้ำ", objective="ลดน้ำท่วมขังในชุมชนริมคลอง"),
    Project(id="P2", fiscal_year=2567, org="สำนักงานเขตจตุจักร", district="จตุจักร", district_group="กรุงเทพเหนือ", dimension_id="D2",
            name="โครงการอบรมอาสาสมัครป้องกันยาเสพติด", objective="สร้างเครือข่ายเฝ้าระวังยาเสพติดในชุมชน"),
    Project(id="P3", fiscal_year=2567, org="สำนักงานเขตบางรัก", district="บางรัก", district_group="กรุงเทพใต้", dimension_id="D1",
            name="โครงการปรับปรุงทางเท้าถนนสีลม", objective="ให้คนเดินเท้าสะดวก ปลอดภัย"),
    Project(id="P4", fiscal_year=2567, org="สำนักงานเขตดอนเมือง", district="ดอนเมือง", district_group="กรุงเทพเหนือ", dimension_id="D1",
            name="โครงการลอกท่อระบายน้ำซอยสรงประภา", objective="ป้องกันน้ำท่วมถนนช่วงฝนตกหนัก"),
]


@pytest.fixture
def workspace(tmp_path):
    app = Application(Settings(data_dir=tmp_path, encoder="tfidf"))  # search and the index under test; alignment (coverage) is not
    app.store.upsert(PROJECTS)
    app.sync("tfidf")
    return app


def test_keyword_dense_and_hybrid_find_the_flood_projects(workspace):
    index = workspace.index()
    encoder = workspace.index_encoder(index)
    for mode in ("keyword", "dense", "hybrid"):
        hits = search(index, workspace.store, encoder, "น้ำท่วม ระบายน้ำ", mode=mode, top=2)
        assert {h.id for h in hits} == {"P1", "P4"}, mode


def test_a_head_word_finds_the_compounds_that_start_with_it(workspace):
    """The dictionary keeps "ท่อระบายน้ำ" (drain pipe) whole; a reviewer searching "ท่อ" means every pipe
    (keyword mode found nothing)."""
    index = workspace.index()
    assert [h.id for h in search(index, workspace.store, None, "ท่อ", mode="keyword")] == ["P4"]
    assert [h.id for h in search(index, workspace.store, None, "คลองบางบัว", mode="keyword")] == ["P1"]  # the query is not widened


def test_filters_restrict_results(workspace):
    index = workspace.index()
    encoder = workspace.index_encoder(index)
    assert [h.id for h in search(index, workspace.store, encoder, "น้ำท่วม", filters=Filters(year=2566))] == ["P1"]
    assert {h.id for h in search(index, workspace.store, encoder, "โครงการ", filters=Filters(group="กรุงเทพใต้"))} == {"P3"}
    assert search(index, workspace.store, encoder, "น้ำท่วม", filters=Filters(district="ไม่มีเขตนี้")) == []
    assert {h.id for h in search(index, workspace.store, encoder, "ชุมชน", filters=Filters(dimension="D2"))} == {"P2"}


def test_snippet_highlights_query_words(workspace):
    index = workspace.index()
    hit = search(index, workspace.store, None, "ยาเสพติด", mode="keyword")[0]
    assert hit.id == "P2"
    start, end = hit.highlights[0]
    assert hit.snippet[start:end] == "ยาเสพติด"


def test_a_highlight_starts_and_ends_between_words() -> None:
    """Thai has no spaces, so query words are found as substrings; only those cut at word boundaries
    are marked ("หมา" was marked inside "กฎหมาย", blind review). Compounds split into two words count."""
    from planalign.index.snippets import snippet

    def marked(text: str, words: list[str]) -> list[str]:
        shown, spans = snippet(text, words)
        return [shown[a:b] for a, b in spans]

    text = "ออกกฎหมายควบคุมสุนัขและหมาจรจัด"
    _, spans = snippet(text, ["หมา"])
    assert spans == [(text.index("หมาจร"), text.index("หมาจร") + 3)]
    assert marked("ตั้งถังขยะในชุมชน", ["ขยะ"]) == ["ขยะ"] and marked("ติดตั้งกล้อง CCTV และ BTS", ["bts", "cctv"]) == ["CCTV", "BTS"]
    assert marked("น้ำท่วมขังซอยพหลโยธิน 48", ["น้ำท่วม", "48"]) == ["น้ำท่วม", "48"] and marked("ซอย 148", ["48"]) == []
    assert marked("จัดทำตารางเวร", ["ตา"]) == [] and marked("ซ่อมไฟฟ้าในซอย", ["ไฟ"]) == []  # two-letter pieces of a word
    assert marked("ป้องกันยาเสพติดในโรงเรียน", ["เสพติด"]) == ["เสพติด"] and marked("ติดตั้งไฟจราจร", ["จราจร"]) == ["จราจร"]


def test_reingest_is_idempotent_and_delete_reaches_the_index(workspace):
    generation = current_generation(index_root(workspace.data_dir))
    assert workspace.store.upsert(PROJECTS).unchanged == 4
    result = workspace.sync()
    assert (result.added, result.removed) == (0, 0)
    assert current_generation(index_root(workspace.data_dir)) == generation  # nothing rewritten
    workspace.store.delete(["P1"])
    assert workspace.sync().removed == 1
    index = workspace.index()
    assert "P1" not in index.position and len(index) == 3
    assert "P1" not in load_index(workspace.data_dir).position  # the delta was written, not only applied in memory
    assert "P1" not in {h.id for h in search(index, workspace.store, None, "คลองบางบัว", mode="keyword")}


def test_changed_project_is_reembedded(workspace):
    changed = PROJECTS[2].model_copy(update={"name": "โครงการปลูกต้นไม้ริมถนนสีลม"})
    workspace.store.upsert([changed])
    result = workspace.sync()
    assert (result.added, result.removed, result.total) == (1, 0, 4)
    hits = search(workspace.index(), workspace.store, None, "ปลูกต้นไม้", mode="keyword")
    assert hits[0].id == "P3"


def test_other_encoder_needs_reindex(workspace):
    with pytest.raises(Exception, match="reindex"):
        workspace.sync("use")


def test_kill_during_reindex_leaves_a_usable_index(workspace, tmp_path):
    before = current_generation(index_root(workspace.data_dir))
    env = dict(os.environ, PLANALIGN_DATA=str(workspace.data_dir), PLANALIGN_TEST_PAUSE_BEFORE_SWITCH="30")
    process = subprocess.Popen([sys.executable, "-m", "planalign.service.cli", "reindex"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    root = index_root(workspace.data_dir)
    deadline = time.time() + 60
    while not any(p.name.endswith(".partial") and (p / "manifest.json").exists() for p in root.iterdir()):
        assert time.time() < deadline and process.poll() is None, "reindex never reached the write"
        time.sleep(0.1)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert current_generation(root) == before
    index = load_index(workspace.data_dir)
    assert len(index) == 4
    assert search(index, workspace.store, None, "ยาเสพติด", mode="keyword")[0].id == "P2"
    # The next writer cleans the abandoned partial generation up.
    workspace.store.delete(["P3"])
    workspace.sync()
    assert not [p for p in root.iterdir() if p.name.endswith(".partial")]


def test_cli_ingest_search_delete(tmp_path):
    source = tmp_path / "projects.csv"
    source.write_text(
        "รหัส,โครงการ/กิจกรรม,วัตถุประสงค์,หน่วยงาน/สำนักงานเขต,งบประมาณ\n"
        "X1,โครงการขุดลอกคลองลาดพร้าว,ลดน้ำท่วม,สำนักงานเขตห้วยขวาง,\"1,500,000\"\n"
        "X2,โครงการอบรมอาสาสมัครป้องกันอัคคีภัย,ซ้อมดับเพลิง,สำนักงานเขตบางกะปิ,-20\n"
        "X3,โครงการอบรมอาสาสมัครป้องกันอัคคีภัย,ซ้อมดับเพลิง,สำนักงานเขตบางกะปิ,200000\n",
        encoding="utf-8")
    data = tmp_path / "data"
    first = run_cli("ingest", str(source), "--year", "2024", "--encoder", "tfidf", data_dir=data)
    assert first.returncode == 0, first.stderr
    assert "row 3 rejected: budget '-20' is negative" in first.stderr and "2 new" in first.stderr
    again = run_cli("ingest", str(source), "--year", "2024", data_dir=data)
    assert "0 new, 0 updated, 2 unchanged" in again.stderr
    found = run_cli("search", "คลองลาดพร้าว", "--json", "--year", "2567", data_dir=data)
    assert found.returncode == 0, found.stderr
    body = json.loads(found.stdout)
    assert body["total"] == 1 and body["mode"] == "hybrid" and body["hint"] is None and body["did_you_mean"] is None
    assert body["facets"]["year"] == {"2567": 1}  # as the API's (it printed {}: a blind review)
    hits = body["results"]
    assert hits[0]["id"] == "X1" and hits[0]["year"] == 2567 and hits[0]["report"] is False
    from planalign.service.api.schemas import HitOut

    assert set(hits[0]) == set(HitOut.model_fields)  # the API's fields: district, dimension, highlights were missing (a walkthrough)
    plain = run_cli("search", "คลองลาดพร้าว", "--year", "2567", data_dir=data).stdout
    assert "งบประมาณ 1,500,000 บาท" in plain  # the budget in the CLI's own lines too (a second review)
    assert hits[0]["budget"] == 1500000.0 and hits[0]["highlights"]  # what a reviewer weighs a duplicate by (not shown: a walkthrough)
    rebuilt = run_cli("reindex", data_dir=data)  # a tfidf index: duplicates borrow e5's thresholds, and the user is told
    assert rebuilt.returncode == 0 and "not for tfidf" in rebuilt.stderr and "เกณฑ์ตรวจโครงการซ้ำ" in rebuilt.stderr
    assert "index encoder: tfidf" in rebuilt.stderr  # which one was built was said nowhere but in its manifest (a docs walkthrough)
    assert run_cli("delete", "X1", data_dir=data).returncode == 0
    after = json.loads(run_cli("search", "คลองลาดพร้าว", "--json", "--mode", "keyword", data_dir=data).stdout)["results"]
    assert "X1" not in [h["id"] for h in after]
    misspelt = json.loads(run_cli("search", "อบรมอาสาสมัครป้องกันอัคคีภย", "--json", data_dir=data).stdout)
    assert misspelt["did_you_mean"] == "อบรมอาสาสมัครป้องกันอัคคีภัย"  # --json carries what the API says, not only the hits
    missing = run_cli("delete", "NOPE", data_dir=data)
    assert missing.returncode == 2 and "not found: NOPE" in missing.stderr and "ไม่พบโครงการรหัส NOPE" in missing.stderr  # a user mistake, in Thai too


def test_cli_search_on_an_empty_store_says_to_ingest_first(tmp_path):
    """Nothing stored is no error (issue 14): no results, and the hint says how to add projects."""
    result = run_cli("search", "น้ำท่วม", data_dir=tmp_path)
    assert result.returncode == 0 and "ยังไม่มีโครงการในระบบ" in result.stderr and "planalign ingest" in result.stderr
    as_json = json.loads(run_cli("search", "น้ำท่วม", "--json", data_dir=tmp_path).stdout)
    assert as_json["results"] == [] and "ยังไม่มีโครงการในระบบ" in as_json["hint"]


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "empty"),
        (bytes(range(256)) * 20, "binary"),
        (b"x,y\n1,2\n", "no project name column"),
        ("โครงการ,งบประมาณ\n".encode(), "no data rows"),
    ],
)
def test_bad_ingest_files_change_nothing(tmp_path, content, message):
    data = tmp_path / "data"
    good = tmp_path / "good.csv"
    good.write_text("รหัส,โครงการ\nG1,โครงการปลูกต้นไม้ริมคลอง\n", encoding="utf-8")
    assert run_cli("ingest", str(good), "--encoder", "tfidf", data_dir=data).returncode == 0
    bad = tmp_path / "bad.csv"
    bad.write_bytes(content)
    result = run_cli("ingest", str(bad), data_dir=data)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr
    hits = json.loads(run_cli("search", "ปลูกต้นไม้", "--json", "--mode", "keyword", data_dir=data).stdout)["results"]
    assert [h["id"] for h in hits] == ["G1"]


def test_ingest_rejects_bad_rows_and_keeps_the_rest(tmp_path):
    source = tmp_path / "mixed.csv"
    source.write_text(
        "รหัส,โครงการ,งบประมาณ,ปีงบประมาณ\n"
        "M1,ลอกท่อระบายน้ำ,๑๒๐๐๐๐,2567\nM2,ขุดลอกคลอง,abc,2567\nM3,ปลูกต้นไม้,-1,2567\nM1,ซ้ำ,100,2567\nM4,,100,2567\nM5,ซ่อมถนน,100,99\n",
        encoding="cp874")
    result = run_cli("ingest", str(source), "--encoder", "tfidf", data_dir=tmp_path / "data")
    assert result.returncode == 0, result.stderr
    for row, reason, thai in [(3, "not a number", "ไม่ใช่ตัวเลข"), (4, "negative", "ติดลบ"), (5, "duplicate id 'M1'", "ซ้ำกับแถว 2"),
                              (6, "empty project name", "ไม่มีชื่อโครงการ"), (7, "not a year", "ไม่ใช่ปี")]:
        line = next(line for line in result.stderr.splitlines() if f"row {row} rejected" in line)
        assert reason in line and thai in line
    assert "1 new" in result.stderr and "5 rejected" in result.stderr


def test_index_built_with_the_static_fast_path_reopens_and_finds_by_meaning(tmp_path):
    workspace = Application(Settings(data_dir=tmp_path))
    workspace.store.upsert(PROJECTS)
    workspace.sync("static")
    index = workspace.index()
    assert index.encoder_name == "static"
    hits = search(index, workspace.store, workspace.index_encoder(index), "แก้ปัญหาน้ำท่วมขัง", mode="dense", top=2)
    assert {h.id for h in hits} == {"P1", "P4"}


def test_small_changes_append_deltas_that_reload_and_leave_old_versions_intact(workspace):
    before = workspace.index()
    generation = before.generation
    workspace.ingest([Project(id="P5", name="โครงการขุดลอกคูน้ำซอยวัดไผ่ตัน", objective="ลดน้ำท่วม")])
    workspace.delete(["P2"])
    changed = PROJECTS[2].model_copy(update={"name": "โครงการปลูกต้นไม้ริมถนนสีลม"})
    workspace.ingest([changed])
    after = workspace.index()
    assert after.generation == generation and after.deltas == before.deltas + 3  # no generation rewritten
    assert len(after) == 4 and after.dead == 2 and "P2" not in after.position
    reloaded = load_index(workspace.data_dir)
    assert reloaded.version == after.version and reloaded.position == after.position
    for index in (after, reloaded):
        keyword = [h.id for h in search(index, workspace.store, None, "ขุดลอก", mode="keyword")]
        dense = [h.id for h in search(index, workspace.store, workspace.index_encoder(index), "ปลูกต้นไม้ริมถนน", mode="dense", top=1)]
        assert "P5" in keyword and dense == ["P3"]
        assert "P2" not in {h.id for h in search(index, workspace.store, None, "ยาเสพติด", mode="keyword")}
    # A request still holding the first version keeps answering from it, unchanged.
    assert len(before) == 4 and "P5" not in before.position
    positions, _ = before.vectors.search(workspace.index_encoder(before).encode_queries(["ขุดลอกคูน้ำ"])[0], 10)
    assert "P5" not in {before.ids[p] for p in positions}


@pytest.mark.parametrize("backend", ["flat", "hnsw"])
def test_a_version_appended_to_twice_maps_each_row_to_its_own_position(backend):
    """A write that fails after its append, then the retry, append twice to one version: the second
    rows went to positions the shared faiss structure gave the first, and hits named other rows."""
    import numpy as np

    from planalign.index.ann.factory import make_ann

    rows = np.eye(8, dtype=np.float32)
    first = make_ann(rows[:3], backend)
    dropped = first.appended(rows[3:5])
    retried = first.appended(rows[5:7])
    for version, own in ((retried, range(5, 7)), (dropped, range(3, 5))):
        for position, row in enumerate(own, start=3):
            found, score = version.search(rows[row], 1)
            assert found.tolist() == [position] and score[0] > 0.99
    assert retried.search(rows[3], 1)[1][0] < 0.5  # a row of the dropped version is not found in the retried one
    assert len(first.appended(rows[7:8])) == 4  # the first version is still searchable and appendable


def test_an_index_write_that_fails_leaves_search_right_after_the_next_one(tmp_path, monkeypatch):
    import planalign.index.project_index as project_index

    app = Application(Settings(data_dir=tmp_path, encoder="tfidf", index_encoder="tfidf"))
    app.ingest(PROJECTS[:3], reconcile=True)
    written = project_index._write_delta

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(project_index, "_write_delta", disk_full)
    with pytest.raises(OSError):
        app.ingest([Project(id="X", name="โครงการติดตั้งกล้องวงจรปิดในชุมชน")])
    monkeypatch.setattr(project_index, "_write_delta", written)
    app.ingest([Project(id="Y", name="โครงการจัดเก็บขยะมูลฝอยริมคลอง")])
    index = app.index()
    encoder = app.index_encoder(index)
    found, _ = index.vectors.search(encoder.encode_queries(["โครงการจัดเก็บขยะมูลฝอยริมคลอง"])[0], 1)
    assert index.ids[found[0]] == "Y"
    _, scores = index.vectors.search(encoder.encode_queries(["โครงการติดตั้งกล้องวงจรปิดในชุมชน"])[0], 1)
    assert scores[0] < 0.9  # X was never indexed: it was found as Y with score 1.0


def test_an_ingest_with_a_catalog_that_cannot_be_read_stores_and_indexes_without_an_error(tmp_path):
    """It raised after the commit (the command line said the input was wrong, exit 2, with the projects stored)."""
    app = Application(Settings(data_dir=tmp_path, encoder="tfidf", index_encoder="tfidf", catalog=str(tmp_path / "gone.csv")))
    outcome = app.ingest(PROJECTS[:2], reconcile=True)
    assert outcome.stored.inserted == ["P1", "P2"] and app.store.count() == 2 and len(app.index()) == 2


def test_many_changes_compact_into_a_new_generation(workspace):
    first = workspace.index().generation
    many = [Project(id=f"N{i}", name=f"โครงการซ่อมแซมถนนสายที่ {i}") for i in range(2100)]
    result = workspace.ingest(many).index
    assert result.compacted and workspace.index().generation != first and workspace.index().dead == 0
    assert len(workspace.index()) == 2104


def test_the_dimension_filter_and_facet_count_the_node_each_project_counts_for(tmp_path, monkeypatch):
    """Most submissions declare no dimension: the filter and the facet read the node coverage counts
    each project for (declared, else decided, else predicted), not the form's field alone."""
    app = Application(Settings(data_dir=tmp_path, encoder="tfidf", index_encoder="tfidf"))
    app.ingest([Project(id="U1", fiscal_year=2567, name="โครงการขุดลอกคลองและลอกท่อระบายน้ำป้องกันน้ำท่วม"),
                Project(id="U2", fiscal_year=2567, name="โครงการจัดเก็บขยะมูลฝอยและคัดแยกขยะในชุมชน"),
                Project(id="U3", fiscal_year=2567, name="โครงการขุดลอกคลองเพื่อเก็บขยะในคลอง", dimension_id="D4")])
    page = app.search("ขุดลอกคลอง ขยะ", filters=Filters(dimension="D1"), facets=True)
    assert [h.id for h in page.hits] == ["U1"] and page.hits[0].dimension_id == "D1"
    assert {h.id for h in app.search("ขุดลอกคลอง ขยะ", filters=Filters(dimension="D4")).hits} == {"U2", "U3"}  # U3 declared
    assert "D1" in app.search("ขุดลอกคลอง ขยะ", facets=True).facets["dimension"]  # only U3's declared D4 before
    # a reviewer's decision on U1 moves it at the next search (the coverage frame is rebuilt, not a stale copy)
    app.decide([DecisionInput(text="โครงการขุดลอกคลองและลอกท่อระบายน้ำ", node="D4.1", project_id="U1", source="reviewer")])
    assert {h.id for h in app.search("ขุดลอกคลอง ขยะ", filters=Filters(dimension="D4")).hits} == {"U1", "U2", "U3"}
    # coverage that cannot be read (a model still loading) leaves search answering, on the declared field
    monkeypatch.setattr(app, "coverage_frame", lambda *args, **kwargs: (_ for _ in ()).throw(Unavailable("the model is loading")))
    assert {h.id for h in app.search("ขุดลอกคลอง ขยะ", filters=Filters(dimension="D4")).hits} == {"U3"}


def test_search_filters_read_names_as_people_type_them_and_refuse_unknown_ones(tmp_path):
    app = Application(Settings(data_dir=tmp_path, encoder="tfidf", index_encoder="tfidf"))
    for typed in ("สำนักงานเขตบางเขน", "เขตบางเขน", " บางเขน "):
        assert app.search_filters(district=typed).district == "บางเขน"
    assert app.search_filters(dimension="d1").dimension == "D1" and app.search_filters(group=" กรุงเทพเหนือ").group == "กรุงเทพเหนือ"
    for wrong, thai in (({"district": "บางกอก"}, "ไม่มีเขต บางกอก"), ({"group": "กรุงเทพตะวันตก"}, "ไม่มีกลุ่มเขต"), ({"dimension": "D10"}, "ไม่มีหัวข้อ D10")):
        with pytest.raises(InputError) as refused:
            app.search_filters(**wrong)
        assert thai in refused.value.thai


def test_a_filter_whose_rows_share_the_query_topic_keeps_its_relevant_hits(tmp_path):
    """Scores were standardized against the filtered rows: with dimension D1, whose projects are all about
    floods, "น้ำท่วม" had 0 relevant hits where the unfiltered search counted them (real ordinance: 52 and 0)."""
    app = Application(Settings(data_dir=tmp_path, encoder="tfidf"))
    districts = ["บางเขน", "จตุจักร", "บางรัก", "ดอนเมือง", "ดุสิต", "บางซื่อ", "ลาดพร้าว", "สายไหม", "หลักสี่", "บางนา"]
    floods = [Project(id=f"F{i}", fiscal_year=2567, district=districts[i % 10], dimension_id="D1", name=f"โครงการขุดลอกคลองป้องกันน้ำท่วมเขต{districts[i % 10]} แห่งที่ {i}",
                      objective="ลดน้ำท่วมขังและเพิ่มการระบายน้ำ") for i in range(40)]  # past MIN_POOL: the floor decides within the filter
    others = [Project(id=f"O{i}", fiscal_year=2567, district=districts[i % 10], dimension_id=f"D{2 + i % 8}", name=name)
              for i, name in enumerate(["โครงการอบรมอาสาสมัครป้องกันยาเสพติด", "โครงการตรวจสุขภาพผู้สูงอายุ", "โครงการปลูกต้นไม้ริมถนน",
                                        "โครงการคัดแยกขยะในโรงเรียน", "โครงการส่งเสริมอาชีพสตรี", "โครงการจัดงานเทศกาลอาหาร",
                                        "โครงการซ่อมแซมทางเท้า", "โครงการพัฒนาระบบสารสนเทศ"] * 100)]
    app.store.upsert(floods + others)
    app.sync("tfidf")
    everything = app.search("น้ำท่วม", facets=True)
    assert everything.total == everything.facets["dimension"]["D1"] == 40
    assert app.search("น้ำท่วม", filters=Filters(dimension="D1")).total == 40


def test_a_query_word_finds_the_official_word_for_the_same_thing(workspace):
    """A reviewer's "ขยะ" found none of the ordinance's "ผลผลิตจัดการมูลฝอย" lines (nlp/data/synonyms.tsv);
    the hit says it matches the query and highlights the word it matched."""
    workspace.store.upsert([Project(id="P5", fiscal_year=2566, name="ผลผลิตจัดการมูลฝอย", objective="เก็บและกำจัดมูลฝอยจากครัวเรือน")])
    workspace.sync("tfidf")
    index = workspace.index()
    hits = search(index, workspace.store, None, "ขยะ", mode="keyword")
    assert [h.id for h in hits] == ["P5"] and hits[0].why == ["lexical"]
    assert hits[0].snippet[slice(*hits[0].highlights[0])] == "มูลฝอย"
    assert search(index, workspace.store, None, "คลองบางบัว", mode="keyword")[0].id == "P1"  # a word without synonyms is unchanged


def test_reviewers_can_search_projects_apart_from_citizen_reports(workspace):
    """Traffy reports stored for coverage were listed among the projects, as projects of "กรุงเทพมหานคร"
    (a walkthrough: "ลอกท่อระบายน้ำ" showed "ฝาท่อระบายน้ำชำรุด" first). A hit says which it is, and
    ``kind`` keeps one or the other."""
    workspace.store.upsert([Project(id="R1", fiscal_year=2566, org="กรุงเทพมหานคร", name="ท่อระบายน้ำอุดตัน น้ำท่วมขังหน้าบ้าน",
                                    source="traffy_2023"),
                            Project(id="R2", fiscal_year=2566, name="ฝาท่อระบายน้ำชำรุด", source="Traffy-API")])
    workspace.sync("tfidf")
    every = workspace.search("ท่อระบายน้ำ", mode="keyword", limit=10)
    assert {h.id: h.report for h in every.hits} == {"P4": False, "R1": True, "R2": True}
    assert [h.id for h in workspace.search("ท่อระบายน้ำ", filters=workspace.search_filters(kind="project"), mode="keyword").hits] == ["P4"]
    reports = workspace.search("ท่อระบายน้ำ", filters=workspace.search_filters(kind="report"), mode="keyword")
    assert {h.id for h in reports.hits} == {"R1", "R2"} and reports.total == 2
    assert workspace.search_filters(kind=" All ").kind is None
    with pytest.raises(InputError) as refused:
        workspace.search_filters(kind="reports")
    assert refused.value.thai.startswith("ไม่มีประเภท reports")


def test_every_hit_shown_says_why_in_thai():
    """A relevant hit with neither reason alone (over the floor by words and meaning together) showed no reason (a walkthrough)."""
    from planalign.index.hybrid import Hit
    from planalign.service.format import explanation_thai

    def hit(why, relevant):
        return Hit("P1", 6.0, "งานบริหารทั่วไปและบริการทะเบียน", "สำนักงานเขตบางเขน", 2566, "", why=why, relevant=relevant)

    assert explanation_thai(hit(["lexical", "semantic"], True)) == "ตรงคำค้น · ความหมายใกล้เคียง"
    assert explanation_thai(hit([], True)) == "ใกล้เคียงบางส่วน" and explanation_thai(hit([], False)) == "เกี่ยวข้องน้อย"
