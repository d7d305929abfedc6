"""Strategy coverage: alignment of every stored item, sums that equal the stored totals, needs, API and CLI."""
from __future__ import annotations

import io
import itertools
import json
import random

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import func, select

from conftest import SHOP_CATALOG_RAGGED, run_cli, store_at
from planalign import app as app_module
from planalign.app import Application
from planalign.config import Settings
from planalign.corpora.catalog import catalog_from_table, catalog_to_table, load_catalog
from planalign.corpora.projects import Project, district_groups
from planalign.decisions import DecisionInput
from planalign.errors import InputError
from planalign.index.coverage import NO_DISTRICT, choose
from planalign.index.schema import project_alignments, projects
from planalign.service.app import create_app

TEXTS = {  # issue -> project names that say it plainly
    "D1.4": ["โครงการขุดลอกคลองและลอกท่อระบายน้ำป้องกันน้ำท่วม", "โครงการก่อสร้างเขื่อนริมคลองป้องกันน้ำท่วมขัง"],
    "D4.2": ["โครงการจัดเก็บขยะมูลฝอยและคัดแยกขยะในชุมชน", "โครงการลดฝุ่น PM2.5 และตรวจควันดำ"],
    "D5.1": ["โครงการคัดกรองเบาหวานและความดันโลหิตสูงในชุมชน", "โครงการป้องกันไข้เลือดออกกำจัดลูกน้ำยุงลาย"],
    "D6.1": ["โครงการพัฒนาศูนย์พัฒนาเด็กเล็กและอาหารกลางวันเด็กปฐมวัย"],
}
REPORTS = [("น้ำท่วมขังหน้าซอยทุกครั้งที่ฝนตก", "น้ำท่วม,ถนน"), ("ขยะไม่มีคนมาเก็บ ส่งกลิ่นเหม็น", "อื่นๆ"),
           ("ทางเท้าแตก เดินลำบาก", "ทางเท้า"), ("ท่อระบายน้ำอุดตัน น้ำขัง", ""), ("!!!", "")]


def _store(seed: int = 7) -> list[Project]:
    """Projects of two years over districts of every group (and central agencies), some declared, some not; reports."""
    rng = random.Random(seed)
    districts = list(district_groups().items())
    items: list[Project] = []
    for n in range(70):
        issue = rng.choice(list(TEXTS))
        district, group = rng.choice(districts) if n % 5 else ("", "")
        declared = {"issue_id": issue} if n % 3 == 0 else {"dimension_id": issue.split(".")[0]} if n % 7 == 0 else {}
        items.append(Project(id=f"P{n:03d}", fiscal_year=rng.choice([2565, 2566]), org=f"สำนักงานเขต{district}" if district else "สำนักอนามัย",
                             district=district, district_group=group, name=rng.choice(TEXTS[issue]) if n != 13 else "???",
                             budget=rng.choice([None, 100_000.0, 2_500_000.0, 1_234.5]), source="form", **declared))
    for n in range(90):
        text, category = REPORTS[n % len(REPORTS)]
        district, group = districts[n % 12]
        items.append(Project(id=f"R{n:03d}", fiscal_year=2566, district=district, district_group=group, name=text, category=category,
                             source="traffy_2022"))
    return items


@pytest.fixture(scope="module")
def core(tmp_path_factory) -> Application:
    app = Application(Settings(data_dir=tmp_path_factory.mktemp("coverage"), encoder="tfidf", index_encoder="tfidf"))
    app.ingest(_store())
    return app


def _stored_totals(app: Application, year, group, district) -> tuple[int, float, int]:
    """Counts and budget straight from the projects table, for the same filter."""
    c = projects.c
    report = c.source.like("traffy%")
    where = []
    if year is not None:
        where.append(c.fiscal_year == year)
    if group:
        where.append(c.district_group == group)
    if district == NO_DISTRICT:
        where.append(c.district == "")
    elif district:
        where.append(c.district == district)
    with app.store.engine.connect() as connection:
        count, budget = connection.execute(select(func.count(), func.coalesce(func.sum(c.budget), 0.0)).where(~report, *where)).one()
        reports = connection.scalar(select(func.count()).where(report, *where))
    return int(count), float(budget), int(reports)


def test_every_filter_sums_to_the_stored_totals(core: Application) -> None:
    groups = [None, *dict.fromkeys(district_groups().values())]
    districts = [None, NO_DISTRICT, "บางเขน", "ดุสิต", "หนองจอก"]
    checked = 0
    for year, level, group, district in itertools.product([None, 2565, 2566, 2599], ["dimension", "issue"], groups, districts):
        if group and district_groups().get(district or "", group) != group:  # a district and a group it is not in: refused, not zeros
            with pytest.raises(InputError):
                core.coverage(year=year, level=level, group=group, district=district)
            checked += 1
            continue
        found = core.coverage(year=year, level=level, group=group, district=district)
        count, budget, reports = _stored_totals(core, year, group, district)
        assert (found.total_projects, found.total_reports) == (count, reports)
        assert found.total_budget == pytest.approx(budget)
        assert sum(n.projects for n in found.nodes) == count and sum(n.reports for n in found.nodes) == reports
        assert sum(n.budget for n in found.nodes) == pytest.approx(budget)
        assert sum(sum(n.sources.values()) for n in found.nodes) == count
        if not group and not district:  # the district rows (and the central agencies' row) cover everything too
            assert sum(d.projects for d in found.districts) == count and sum(d.reports for d in found.districts) == reports
            assert sum(d.budget for d in found.districts) == pytest.approx(budget)
        checked += 1
    assert checked == 4 * 2 * 7 * 5


def test_coverage_reads_district_names_as_people_type_them_and_refuses_unknown_ones(core: Application) -> None:
    """"สำนักงานเขตบางเขน" is บางเขน (it counted nothing, silently); a name that is no district is refused."""
    typed = core.coverage(year=2566, district=" สำนักงานเขตบางเขน ")
    assert typed.total_projects == core.coverage(year=2566, district="บางเขน").total_projects > 0
    assert core.coverage_items(node=None, district="เขตบางเขน", limit=500)[0] == core.coverage_items(node=None, district="บางเขน", limit=500)[0]
    assert core.coverage_items(node="d4", level="dimension")[0] == core.coverage_items(node="D4", level="dimension")[0] > 0  # "d4" found nothing
    with pytest.raises(InputError):
        core.coverage_items(node="D4.2", level="dimension")  # an issue is not a dimension
    for district, group in (("บางเขนใต้", None), (None, "กรุงเทพกลางเหนือ"), ("เขต", None), ("สำนักงานเขต", None)):  # a prefix alone meant "all"
        with pytest.raises(InputError) as refused:
            core.coverage(district=district, group=group)
        assert "ไม่มี" in refused.value.thai
    # a district and a group it is not in: every figure 0 and no word (a committee walkthrough)
    with pytest.raises(InputError, match="in the group กรุงเทพเหนือ") as apart:
        core.coverage(year=2566, district="บางเขน", group="กรุงเทพกลาง")
    assert "กรุงเทพเหนือ" in apart.value.thai
    assert core.coverage(year=2566, district="บางเขน", group="กรุงเทพเหนือ").total_projects == typed.total_projects  # together, as they are


def test_declared_wins_and_issue_counts_for_its_dimension(core: Application) -> None:
    items = {i.id: i for i in core.coverage_items(node=None, level="issue", limit=500)[1]}
    dimensions = {i.id: i for i in core.coverage_items(node=None, level="dimension", limit=500)[1]}
    assert items["P000"].source == "declared" and items["P000"].node_id in TEXTS  # issue_id declared
    assert dimensions["P000"].node_id == items["P000"].node_id.split(".")[0]
    # declared dimension only (P007): the dimension is declared, the issue predicted under it
    assert dimensions["P007"].source == "declared" and items["P007"].source == "predicted"
    assert items["P007"].node_id.startswith(dimensions["P007"].node_id + ".")
    predicted = [i for i in items.values() if i.source == "predicted" and i.id not in ("P007",)]
    assert predicted and all(dimensions[i.id].node_id == i.node_id.split(".")[0] for i in predicted)
    assert items["P013"].node_id is None and items["P013"].source == "none"  # no readable text: counted as not aligned
    assert choose("D1.4", "D2.1", "D4.2") == ("D1.4", "declared") and choose(None, "D2.1", "D4.2") == ("D2.1", "decision")
    assert choose(None, None, "D4.2") == ("D4.2", "mapped") and choose(None) is None


def test_an_alignment_declared_by_name_counts_as_declared(tmp_path) -> None:
    """Coverage read a form's declaration from the id fields alone: "สุขภาพดี" or "มิติที่ 2 ปลอดภัยดี"
    was recorded as a declared decision but counted as matched by the system (a walkthrough: 29%
    declared for a year whose 7 projects all declared)."""
    app = Application(Settings(data_dir=tmp_path, encoder="tfidf", index_encoder="tfidf"))
    forms = {"N1": ("โครงการตรวจสุขภาพผู้สูงอายุในชุมชน", "สุขภาพดี"), "N2": ("โครงการปรับปรุงทางเท้าซอยวัดไผ่ตัน", "เดินได้ เดินดี"),
             "N3": ("โครงการติดตั้งกล้องวงจรปิดในซอยเปลี่ยว", "มิติที่ 2 ปลอดภัยดี"), "N4": ("โครงการลอกท่อระบายน้ำซอยสรงประภา", "D1.4"),
             "N5": ("โครงการอบรมอาชีพผู้มีรายได้น้อย", "")}
    catalog = app.catalog()
    app.ingest([Project(id=i, fiscal_year=2568, name=name, plan_alignment=said) for i, (name, said) in forms.items()])
    dimensions = {i.id: i for i in app.coverage_items(node=None, level="dimension", limit=50)[1]}
    expected = {"N1": catalog.find("สุขภาพดี"), "N2": catalog.find("เดินได้ เดินดี"), "N3": catalog.find("ปลอดภัยดี")}
    for pid, node in expected.items():
        assert node is not None and dimensions[pid].source == "declared", pid
        assert dimensions[pid].node_id == (node.id if node.level == "dimension" else node.id.split(".")[0]), pid
    assert dimensions["N4"].source == "declared" and dimensions["N5"].source == "predicted"
    nodes = app.coverage(year=2568, level="dimension").nodes
    assert sum(n.sources.get("declared", 0) for n in nodes) == 4 and sum(n.projects for n in nodes) == 5  # the dashboard's 80%


def test_projects_without_a_budget_are_counted_and_said(tmp_path) -> None:
    """Counted as 0 baht and said nowhere (a walkthrough: 3 of 7 projects without a budget)."""
    app = Application(Settings(data_dir=tmp_path, encoder="tfidf", index_encoder="tfidf"))
    app.ingest([Project(id="B1", fiscal_year=2568, name="โครงการลอกท่อระบายน้ำซอยสรงประภา", budget=1_500_000),
                Project(id="B2", fiscal_year=2568, name="โครงการปลูกต้นไม้ริมคลอง"),
                Project(id="B3", fiscal_year=2568, name="โครงการอบรมอาชีพผู้สูงอายุ", budget=0)])
    found = app.coverage(year=2568, level="dimension")
    assert (found.total_projects, found.total_budget, found.projects_without_budget) == (3, 1_500_000, 1)  # 0 baht is a budget


def test_a_line_that_only_names_an_office_is_not_aligned(tmp_path) -> None:
    """The ordinance's repayment section lists offices by name ("สำนักงานเขตบางขุนเทียน", "สำนักการแพทย์"): e5
    put 18 district offices' names under D3.2 (60% of D3's budget, a dashboard audit). Such a line is
    counted as not aligned, its budget kept in the totals, unless its form declares a node."""
    app = Application(Settings(data_dir=tmp_path, encoder="tfidf", index_encoder="tfidf"))
    app.ingest([Project(id="K1", fiscal_year=2566, name="สำนักงานเขตบางขุนเทียน", budget=31_500_000.0),
                Project(id="K2", fiscal_year=2566, org="สำนักการแพทย์", name="โครงการคัดกรองเบาหวานและความดันโลหิตสูงในชุมชน", budget=1_000_000.0),
                Project(id="K3", fiscal_year=2566, name="สำนักการแพทย์", budget=464_500_000.0),
                Project(id="K4", fiscal_year=2566, name="สำนักการแพทย์ ", budget=5_000.0, issue_id="D5.1")])
    items = {i.id: i for i in app.coverage_items(node=None, level="dimension", limit=50)[1]}
    assert items["K1"].node_id is None and items["K3"].node_id is None  # not aligned
    assert items["K2"].node_id == "D5" and items["K4"].source == "declared" and items["K4"].node_id == "D5"
    result = app.coverage(year=2566, level="dimension")
    unaligned = next(n for n in result.nodes if n.id is None)
    assert (unaligned.projects, unaligned.budget) == (2, 496_000_000.0) and result.total_budget == 497_005_000.0
    assert app.pending_alignments() == 0  # the office rows' stamps read back as current


def test_a_line_becomes_an_office_name_when_its_office_arrives(tmp_path) -> None:
    """The office set is the stored organisations: "สำนักกิจการพิเศษ" ingested before any row of that office
    was aligned by its words, and stayed so after (a blind review). It is aligned again when the office arrives."""
    app = Application(Settings(data_dir=tmp_path, encoder="tfidf", index_encoder="tfidf"))
    app.ingest([Project(id="K1", fiscal_year=2566, name="สำนักกิจการพิเศษ", budget=10_000_000.0)])
    assert {i.id: i for i in app.coverage_items(node=None, level="dimension", limit=50)[1]}["K1"].node_id is not None
    app.ingest([Project(id="K2", fiscal_year=2566, org="สำนักกิจการพิเศษ", name="โครงการคัดกรองเบาหวานในชุมชน", budget=1_000.0)])
    assert {i.id: i for i in app.coverage_items(node=None, level="dimension", limit=50)[1]}["K1"].node_id is None


def test_sample_projects_are_told_apart_and_report_years_can_be_chosen(tmp_path) -> None:
    """Real items ingested beside the embedded samples: the page opened on a year of 107 invented projects, and
    the years of citizen reports without projects (76% of Traffy, fiscal 2565) could not be chosen (a dashboard audit)."""
    from planalign.corpora.projects import sample_projects

    app = Application(Settings(data_dir=tmp_path, encoder="tfidf", index_encoder="tfidf"))
    samples = [p for p in sample_projects() if p.fiscal_year in (2567, 2568)][:20]
    app.ingest(samples + [Project(id="REAL-1", fiscal_year=2566, name="โครงการขุดลอกคลองบางบัว", budget=1_000_000.0, source="ordinance"),
                          Project(id="T-1", fiscal_year=2565, name="น้ำท่วมขังหน้าซอย", source="traffy_2022")])
    result = app.coverage(level="dimension")
    sample_years = sorted({p.fiscal_year for p in samples})
    assert result.years == [2565, 2566, *sample_years] and result.sample_years == sample_years
    assert result.project_years == [2566, *sample_years]  # the page opens on a year of projects (2566 here), not of reports alone
    assert result.sample_projects == len(samples) and app.coverage(year=2566, level="dimension").sample_projects == 0
    assert app.coverage(year=2566, level="dimension").previous_year is None  # 2565 holds reports only: no year-over-year


def test_reports_use_the_category_map_then_the_aligner(core: Application) -> None:
    reports = {i.id: i for i in core.coverage_items(node=None, level="issue", reports=True, limit=500)[1]}
    assert (reports["R000"].node_id, reports["R000"].source) == ("D1.4", "mapped")  # น้ำท่วม listed before ถนน
    assert (reports["R002"].node_id, reports["R002"].source) == ("D1.1", "mapped")
    assert reports["R001"].source == "predicted" and reports["R001"].node_id == "D4.2"  # อื่นๆ: the text decides
    assert reports["R004"].source == "none"


def test_year_over_year_and_districts_without(core: Application) -> None:
    found = core.coverage(year=2566, level="issue")
    before = core.coverage(year=2565, level="issue")
    assert found.previous_year == 2565 and before.previous_year is None
    for node, old in zip(found.nodes, before.nodes):
        assert node.id == old.id and node.previous_projects == old.projects and node.change_projects == node.projects - old.projects
        assert node.change_budget == pytest.approx(node.budget - old.budget)
    empty = next(n for n in found.nodes if n.id == "D9.1")
    assert empty.projects == 0 and len(empty.districts_without) == 50
    flood = core.coverage(year=2566, level="issue", group="กรุงเทพเหนือ")
    north = [d for d, g in district_groups().items() if g == "กรุงเทพเหนือ"]
    assert all(set(n.districts_without) <= set(north) for n in flood.nodes)


def test_needs_without_projects_have_example_reports(core: Application) -> None:
    needs = core.citizen_needs(year=2566, level="issue", limit=50, min_reports=3)
    assert needs.needs, "reports on nodes where districts have no projects"
    for need in needs.needs:
        assert need.gap == pytest.approx(need.report_share - need.project_share) and need.gap > 0 and need.reports >= 3
        assert all(round(x, 6) == x for x in (need.report_share, need.project_share, need.budget_share, need.gap))  # as coverage's
        assert need.examples and all(e.text for e in need.examples)
        cell = core.coverage_items(node=need.node_id, level="issue", reports=True, year=2566, district=need.district, limit=500)[1]
        assert {e.id for e in need.examples} <= {i.id for i in cell}
    assert needs.total_needs == len(needs.needs)
    first = core.citizen_needs(year=2566, level="issue", limit=1, min_reports=3)
    assert len(first.needs) == 1 and first.total_needs == needs.total_needs  # the page says "1 of N", not N = 1


def test_alignments_follow_changes_of_projects_catalog_map_and_scoring(tmp_path, monkeypatch) -> None:
    app = Application(Settings(data_dir=tmp_path, encoder="tfidf", index_encoder="tfidf"))
    store = _store()[:20] + _store()[70:80]
    app.ingest(store)
    assert app.pending_alignments() == 0
    assert app.ingest(store).stored.changed == [] and app.refresh_alignments() == 0  # nothing changed: nothing aligned
    moved = store[1].model_copy(update={"issue_id": "D6.1"})
    app.ingest([moved])
    assert [i.node_id for i in app.coverage_items(node="D6.1", level="issue", limit=500)[1] if i.id == moved.id] == ["D6.1"]
    # a catalog replaced under the same id: everything is aligned again under the new version
    table = catalog_to_table(load_catalog())
    for row in table.rows:
        if row["id"] == "D1.4":
            row["description"] += " เพิ่มเติม"
    app.add_catalog("city", catalog_from_table(table, "city"))
    assert app.pending_alignments("city") == len(store)
    assert app.coverage(catalog="city", level="issue").pending == 0  # few: aligned on first read
    app.add_catalog("city", catalog_from_table(catalog_to_table(load_catalog()), "city"))
    assert app.pending_alignments("city") == len(store)
    # another report map: the reports are aligned again, the projects are not
    other = tmp_path / "map.csv"
    other.write_text("category,node_id\nน้ำท่วม,D4.2\n", encoding="utf-8")
    remapped = Application(Settings(data_dir=tmp_path, encoder="tfidf", index_encoder="tfidf", report_map=other))
    assert remapped.pending_alignments() == 10
    assert remapped.refresh_alignments() == 10
    reports = {i.id: i for i in remapped.coverage_items(node=None, reports=True, level="issue", limit=100)[1]}
    assert (reports["R000"].node_id, reports["R000"].source) == ("D4.2", "mapped")
    # a new version of the scoring (an upgrade of planalign): everything is aligned again
    monkeypatch.setattr(app_module, "SCORING_VERSION", "next")
    assert remapped.pending_alignments() == len(store)
    # deleting removes the alignments and the coverage follows
    before = remapped.coverage().total_projects
    remapped.delete([store[0].id])
    assert remapped.coverage().total_projects == before - 1
    with remapped.store.engine.connect() as connection:
        assert connection.scalar(select(func.count()).where(project_alignments.c.project_id == store[0].id)) == 0


def test_unknown_map_node_is_an_input_error(tmp_path) -> None:
    bad = tmp_path / "map.csv"
    bad.write_text("category,node_id\nน้ำท่วม,X9\n", encoding="utf-8")
    app = Application(Settings(data_dir=tmp_path, encoder="tfidf", index_encoder="tfidf", report_map=bad))
    with pytest.raises(ValueError, match="X9"):
        app.alignment_plan()


def test_a_write_outdates_coverage_of_a_catalog_never_aligned(tmp_path) -> None:
    """The service reads an empty store's coverage at warm-up; the first write must make it stale
    (it did not when the catalog had no version row yet: the dashboard stayed empty under load)."""
    store = Application(Settings(data_dir=tmp_path, encoder="tfidf", index_encoder="tfidf")).store
    before = store.alignment_version("bma-9d")
    store.upsert(_store()[:2])
    after_write = store.alignment_version("bma-9d")
    store.delete([_store()[0].id])
    assert before < after_write < store.alignment_version("bma-9d")


def test_api_coverage_needs_items_and_export(tmp_path) -> None:
    with TestClient(create_app(Settings(data_dir=tmp_path, encoder="tfidf", index_encoder="tfidf"))) as client:
        rows = [{**p.model_dump(), "budget": p.budget or ""} for p in _store()]
        assert client.post("/v1/projects", json={"projects": rows}).status_code == 200
        body = client.get("/v1/coverage", params={"year": 2023, "level": "issue"}).json()  # C.E. year accepted
        assert body["year"] == 2566 and body["level"] == "issue" and body["previous_year"] == 2565
        assert sum(n["projects"] for n in body["nodes"]) == body["total_projects"] > 0
        assert {"id", "name", "projects", "budget", "project_share", "reports", "districts_without"} <= set(body["nodes"][0])
        assert body["districts"][0]["group"] and body["years"] == [2565, 2566]
        needs = client.get("/v1/coverage/needs", params={"year": 2566, "level": "issue", "min_reports": 3}).json()
        assert needs["needs"] and needs["needs"][0]["examples"]
        cell = client.get("/v1/coverage/items", params={"node": "D1.4", "level": "issue", "year": 2566, "reports": True}).json()
        assert cell["total"] >= 1 and all(i["node_id"] == "D1.4" for i in cell["items"])
        # an issue's id alone is read at its level ("no dimension 'D1.4'": a committee walkthrough)
        alone = client.get("/v1/coverage/items", params={"node": "D1.4", "year": 2566, "reports": True})
        assert alone.status_code == 200 and alone.json() == cell
        for spelled in ("d1.4", "D๑.๔", "ป้องกันและแก้ปัญหาน้ำท่วม"):  # as find reads a node (a second review)
            assert client.get("/v1/coverage/items", params={"node": spelled, "year": 2566, "reports": True}).json() == cell, spelled
        csv = client.get("/v1/coverage/export", params={"year": 2566, "format": "csv"})
        assert csv.status_code == 200 and csv.content.decode("utf-8-sig").splitlines()[0].startswith("level,id,name,projects,budget")
        issues = client.get("/v1/coverage/export", params={"year": 2566, "format": "csv", "level": "issue"})  # not the dimensions' file name
        assert 'filename="coverage-nodes-dimension-2566.csv"' in csv.headers["content-disposition"]  # the default level: the first
        assert csv.content.decode("utf-8-sig").splitlines()[1].startswith("dimension,")
        assert 'filename="coverage-nodes-issue-2566.csv"' in issues.headers["content-disposition"]
        assert issues.content.decode("utf-8-sig").splitlines()[1].startswith("issue,")
        xlsx = client.get("/v1/coverage/export", params={"year": 2566, "format": "xlsx", "table": "districts"})
        sheet = load_workbook(io.BytesIO(xlsx.content)).active
        assert sheet.cell(1, 1).value == "district" and sheet.max_row > 10
        # every row's nodes and what no node took add up to its totals (the not-aligned were left out: a walkthrough)
        header = [c.value for c in sheet[1]]
        for row in sheet.iter_rows(min_row=2, values_only=True):
            values = dict(zip(header, row))
            for measure in ("projects", "budget", "reports"):
                assert sum(v for c, v in values.items() if c.endswith(f" {measure}")) == values[measure], (values["district"], measure)
        assert "unaligned projects" in header
        # the dashboard's files name their columns in Thai, values unchanged
        thai = client.get("/v1/coverage/export", params={"year": 2566, "format": "xlsx", "table": "districts", "headers": "th"})
        named = load_workbook(io.BytesIO(thai.content)).active
        header = [c.value for c in named[1]]
        assert header[:3] == ["เขต", "กลุ่มเขต", "จำนวนโครงการ"] and "D1 งบประมาณ (บาท)" in header and not any("unaligned" in h for h in header)
        assert [c.value for c in named[2]] == [c.value for c in sheet[2]]
        nodes = client.get("/v1/coverage/export", params={"year": 2566, "format": "csv", "headers": "th"}).content.decode("utf-8-sig")
        assert nodes.splitlines()[0].startswith("ระดับ,รหัส,ชื่อ,จำนวนโครงการ,งบประมาณ (บาท)") and "ระบุในแบบฟอร์ม" in nodes.splitlines()[0]
        needs_file = client.get("/v1/coverage/export", params={"year": 2566, "table": "needs", "level": "issue", "headers": "th"})
        assert needs_file.content.decode("utf-8-sig").splitlines()[0].startswith("เขต,กลุ่มเขต,รหัส,ชื่อ,เรื่องแจ้งของประชาชน")
        listed = client.get("/v1/coverage/needs", params={"year": 2566, "level": "issue", "limit": 1}).json()
        assert len(needs_file.content.decode("utf-8-sig").splitlines()) - 1 == listed["total_needs"]  # the export holds them all
        assert client.get("/v1/coverage/export", params={"headers": "fr"}).status_code == 422
        assert client.get("/v1/coverage", params={"level": "nope"}).status_code == 422
        assert client.get("/v1/coverage", params={"catalog": "nope"}).status_code == 404


def test_cli_coverage_json_and_xlsx(tmp_path) -> None:
    source = tmp_path / "projects.jsonl"
    source.write_text("\n".join(json.dumps(p.model_dump(), ensure_ascii=False) for p in _store()[:40]), encoding="utf-8")
    env = {"PLANALIGN_ENCODER": "tfidf", "PLANALIGN_INDEX_ENCODER": "tfidf"}
    assert run_cli("ingest", str(source), data_dir=tmp_path / "d", env=env).returncode == 0
    result = run_cli("coverage", "--year", "2566", "--level", "issue", "--json", data_dir=tmp_path / "d", env=env)
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert {"year", "level", "total_projects", "total_budget", "nodes"} <= set(body) and body["year"] == 2566
    assert sum(n["projects"] for n in body["nodes"]) == body["total_projects"]
    assert sum(n["budget"] for n in body["nodes"]) == pytest.approx(body["total_budget"])
    out = tmp_path / "coverage.xlsx"
    result = run_cli("coverage", "--year", "2566", "--out", str(out), data_dir=tmp_path / "d", env=env)
    assert result.returncode == 0, result.stderr
    sheet = load_workbook(out).active
    assert [c.value for c in sheet[1]][:4] == ["level", "id", "name", "projects"] and sheet.max_row >= 10
    assert run_cli("coverage", "--table", "nope", "--out", str(out), data_dir=tmp_path / "d", env=env).returncode == 2
    # a year with nothing stored says so (a table of zeros alone, a walkthrough); a file's table without --out is refused
    empty = run_cli("coverage", "--year", "2599", data_dir=tmp_path / "d", env=env)
    assert empty.returncode == 0 and "ไม่มีรายการของปีงบประมาณ 2599 ในระบบ (ปีที่มี: " in " ".join(empty.stdout.split())
    refused = run_cli("coverage", "--table", "districts", data_dir=tmp_path / "d", env=env)
    assert refused.returncode == 2 and "--out" in refused.stderr


def test_a_store_from_before_coverage_upgrades_in_place(tmp_path) -> None:
    from sqlalchemy import inspect, text

    from planalign.index.store import ProjectStore

    url = f"sqlite:///{tmp_path / 'old.db'}"
    with store_at(url, "0001") as connection:
        connection.execute(text("INSERT INTO projects VALUES ('OLD', 2566, 'สำนักงานเขตบางเขน', 'บางเขน', 'กรุงเทพเหนือ', 'โครงการลอกท่อ', '', '', 1000.0,"
                                " '', '', '', 'D1', 'D1.4', '', '', 'form', 'h')"))
    store = ProjectStore(url)
    assert store.get(["OLD"])["OLD"].category == ""
    assert store.alignment_states("bma-9d", "issue")["OLD"].aligned_hash == ""  # not aligned yet: the next refresh does it
    # coverage reads the decisions made on stored projects by project id: indexed (0004)
    assert "ix_decisions_project" in {i["name"] for i in inspect(store.engine).get_indexes("decisions")}


def test_coverage_table_keeps_every_number_whole_on_an_80_column_terminal(core: Application) -> None:
    """The budget column read "247,400…" at 80 columns; numbers now keep their width and the names wrap."""
    from rich.cells import cell_len
    from rich.console import Console

    from planalign.service.format import print_coverage

    for year in (2565, 2566):  # 2566 adds the change against 2565: wider than 80, wrapped by the terminal, never cut
        found = core.coverage(year=year, level="dimension")
        console = Console(width=80, record=True, color_system=None)
        print_coverage(console, found)
        shown = console.export_text()
        assert "…" not in shown
        assert found.previous_year is not None or all(cell_len(line.rstrip()) <= 80 for line in shown.splitlines())  # Thai marks take no cell
        for node in found.nodes:
            assert f"{node.budget:,.0f}" in shown and f"{node.budget_share:.1%}" in shown
            assert found.previous_year is None or f"{node.change_budget:+,.0f}" in shown


def test_a_persons_decision_on_a_stored_project_counts_in_coverage(tmp_path) -> None:
    """A reviewer corrects a stored project's suggestion: coverage counts it under the decided node
    (source "decision") at the next refresh; a later decision at the dimension level that agrees
    keeps the deeper one; the other projects keep their predicted node."""
    app = Application(Settings(data_dir=tmp_path, encoder="tfidf", index_encoder="tfidf"))
    app.ingest([Project(id=f"P{n}", fiscal_year=2566, name=text, source="form") for n, text in
                enumerate(["โครงการขุดลอกคลองและลอกท่อระบายน้ำป้องกันน้ำท่วม", "โครงการจัดเก็บขยะมูลฝอยและคัดแยกขยะในชุมชน"])])

    def issues() -> dict[str, tuple[str | None, str]]:
        return {i.id: (i.node_id, i.source) for i in app.coverage_items(node=None, level="issue", limit=10)[1]}

    assert issues() == {"P0": ("D1.4", "predicted"), "P1": ("D4.2", "predicted")}
    app.decide([DecisionInput(text="โครงการขุดลอกคลองเพื่อการระบายน้ำ", node="D4.1", project_id="P0", source="reviewer")])
    assert issues() == {"P0": ("D4.1", "decision"), "P1": ("D4.2", "predicted")}
    app.decide([DecisionInput(text="โครงการขุดลอกคลองเพื่อการระบายน้ำ", node="D4", level="dimension", project_id="P0", source="reviewer")])
    assert issues()["P0"] == ("D4.1", "decision")
    # a form's declaration stored as a decision is not a person's: coverage reads it from the project itself
    app.decide([DecisionInput(text="โครงการจัดเก็บขยะมูลฝอย", node="D4.1", project_id="P1", source="declared")])
    assert app.decided_nodes(None, ["P0", "P1"]) == {"P0": "D4.1"}
    # projects of several districts share a name: each one's decision is its own, not "unchanged" after the first
    same = "โครงการจัดเก็บขยะมูลฝอยและคัดแยกขยะในชุมชน"
    app.ingest([Project(id=f"S{n}", fiscal_year=2566, district=d, name=same, source="form") for n, d in enumerate(["บางเขน", "ดุสิต"])])
    first = app.decide([DecisionInput(text=same, node="D4.1", project_id=pid, source="reviewer") for pid in ("S0", "S1")])
    assert len(first.stored) == 2 and app.decided_nodes(None, ["S0", "S1"]) == {"S0": "D4.1", "S1": "D4.1"}
    again = app.decide([DecisionInput(text=same, node="D4.1", project_id=pid, source="reviewer") for pid in ("S0", "S1")])
    assert (len(again.stored), again.unchanged) == (0, 2)  # the same decisions twice: idempotent
    differ = [DecisionInput(text=same, node=node, project_id=pid, source="reviewer") for pid, node in (("S0", "D4.2"), ("S1", "D1.4"))]
    assert len(app.decide(differ).stored) == 2 and app.decided_nodes(None, ["S0", "S1"]) == {"S0": "D4.2", "S1": "D1.4"}
    assert app.decide(differ).unchanged == 2  # decided differently: still idempotent (the text's label flipped at every import)
    # ids get reused: a decision on other words never moves the project that now holds the id
    app.decide([DecisionInput(text="โครงการจัดงานประเพณีสงกรานต์", node="D7.1", project_id="S9", source="reviewer")])  # no S9 yet
    app.ingest([Project(id="S9", fiscal_year=2566, name="โครงการก่อสร้างสะพานข้ามคลอง", source="form"),
                Project(id="S0", fiscal_year=2566, name="โครงการจัดงานวันเด็กแห่งชาติ", source="form")])  # S0 replaced
    assert app.decided_nodes(None, ["S0", "S1", "S9"]) == {"S1": "D1.4"}
    # a decision on other words under S1's id neither hides S1's own decision nor is itself dropped as unchanged
    stray = app.decide([DecisionInput(text="โครงการอบรมภาษาอังกฤษ", node="D1.4", project_id="S1", source="reviewer")])
    assert len(stray.stored) == 1 and app.decided_nodes(None, ["S1"]) == {"S1": "D1.4"}
    app.decide([DecisionInput(text="โครงการอบรมภาษาอังกฤษ", node="D6.1", project_id="S1", source="reviewer")])
    assert app.decided_nodes(None, ["S1"]) == {"S1": "D1.4"}  # the newest is about another project: the older one holds
    # the form's declaration does not swallow a person's agreeing decision (coverage reads people's only)
    app.decide([DecisionInput(text=same, node="D4.1", project_id="S2", source="declared")])
    assert len(app.decide([DecisionInput(text=same, node="D4.1", project_id="S2", source="reviewer")]).stored) == 1
    # a person's decision made again after a differing declaration is stored (it was dropped as unchanged)
    app.decide([DecisionInput(text=same, node="D1.4", project_id="S2", source="declared")])
    assert len(app.decide([DecisionInput(text=same, node="D4.1", project_id="S2", source="reviewer")]).stored) == 1
    # the form read again declares what it declared: not stored again over the person's decision
    assert app.decide([DecisionInput(text=same, node="D1.4", project_id="S2", source="declared")]).unchanged == 1


def test_a_decision_made_while_its_project_is_being_aligned_is_not_lost(tmp_path, monkeypatch) -> None:
    """The refresh read the decisions, a reviewer decided, then the refresh wrote its older answer over
    the mark the decision left: the project kept its predicted node until it changed. A coverage read
    that aligns the few out-of-date projects itself then cached the result as up to date."""
    app = Application(Settings(data_dir=tmp_path, encoder="tfidf", index_encoder="tfidf"))
    app.ingest([Project(id="P0", fiscal_year=2566, name="โครงการขุดลอกคลองและลอกท่อระบายน้ำป้องกันน้ำท่วม", source="form")])
    app.coverage(background=False)
    read_decisions = app.decided_nodes

    def decide_meanwhile(node: str) -> None:
        app.store.invalidate_alignments(app.alignment_plan().key, ["P0"])  # the project changed: a refresh is due

        def decided_meanwhile(catalog, ids, **read):
            found = read_decisions(catalog, ids, **read)
            monkeypatch.setattr(app, "decided_nodes", read_decisions)
            app.decide([DecisionInput(text="โครงการขุดลอกคลองและลอกท่อระบายน้ำ", node=node, project_id="P0", source="reviewer")])
            return found

        monkeypatch.setattr(app, "decided_nodes", decided_meanwhile)

    def counted() -> list[tuple[str | None, str]]:
        return [(i.node_id, i.source) for i in app.coverage_items(node=None, level="issue")[1]]

    decide_meanwhile("D4.1")
    assert app.refresh_alignments() == 1 and app.pending_alignments() == 1  # aligned without the decision, and due again
    assert counted() == [("D4.1", "decision")]
    decide_meanwhile("D4.2")
    assert counted() == [("D4.2", "decision")] and app.pending_alignments() == 0  # the read aligned it again at once
    assert counted() == [("D4.2", "decision")]


def test_a_dimension_without_issues_gets_the_projects_it_ranks_first_for(tmp_path) -> None:
    """An uploaded catalog may leave a dimension without issues: the deepest level never lists it,
    so coverage put its projects under another dimension's best issue."""
    from planalign.index.align import Aligner
    from planalign.index.coverage import alignment_rows
    from planalign.nlp.encoders import get_encoder

    path = tmp_path / "small.csv"
    path.write_text("id,parent_id,level,name,description\n"
                    "W1,,dimension,สุขภาพ,\nW1.1,W1,issue,ป้องกันโรค,ตรวจคัดกรองสุขภาพและฉีดวัคซีน\n"
                    "W2,,dimension,การศึกษา,โรงเรียน ครู นักเรียน ศูนย์พัฒนาเด็กเล็ก\n", encoding="utf-8")
    catalog = load_catalog(str(path))
    aligner = Aligner(catalog, get_encoder("tfidf"))
    school = Project(id="S1", name="โครงการปรับปรุงห้องเรียนโรงเรียนและศูนย์พัฒนาเด็กเล็ก", source="form")
    assert aligner.align(school.search_text()).levels["dimension"][0].node_id == "W2"
    rows = {r.level: (r.node_id, r.source) for r in alignment_rows(school, catalog, None, aligner.align(school.search_text()), "m")}
    assert rows == {"dimension": ("W2", "predicted"), "issue": ("", "none")}
    clinic = Project(id="S2", name="โครงการตรวจคัดกรองสุขภาพและฉีดวัคซีนผู้สูงอายุ", source="form")
    rows = {r.level: (r.node_id, r.source) for r in alignment_rows(clinic, catalog, None, aligner.align(clinic.search_text()), "m")}
    assert rows == {"dimension": ("W1", "predicted"), "issue": ("W1.1", "predicted")}


def test_items_a_new_catalog_has_not_reached_are_told_apart_from_those_that_cannot_be_aligned():
    """Right after a catalog upload every ordinance line sat under "cannot be aligned" (no readable text or an
    office's name) in the dashboard and its exports, without a word that alignment was still running (a committee
    walkthrough). Items without an alignment row yet are "pending", said in the row's name and its own column."""
    from planalign.corpora.catalog import load_catalog
    from planalign.index.coverage import Frame
    from planalign.index.store import CoverageColumns
    from planalign.service.format import coverage_rows, thai_headers

    catalog = load_catalog("bma-9d")
    ids = ["A", "B", "C", "D"]
    aligned = {"dimension": (["A", "B"], ["D1", ""], ["predicted", "none"], [0.8, None])}  # C and D: not aligned yet
    frame = Frame(catalog, CoverageColumns(ids, [2566] * 4, ["บางเขน"] * 4, ["กรุงเทพเหนือ"] * 4, [100.0] * 4, ["form"] * 4, aligned), (), 0.53)
    coverage = frame.coverage("dimension", year=2566)
    assert coverage.uncertain_projects == 0  # 0.8 is over the review threshold
    replaced = {"dimension": (["A", "B", "C"], ["D1", "", "D99"], ["predicted", "none", "predicted"], [0.8, None, 0.7])}  # D99: a replaced catalog's
    again = Frame(catalog, CoverageColumns(ids, [2566] * 4, ["บางเขน"] * 4, ["กรุงเทพเหนือ"] * 4, [100.0] * 4, ["form"] * 4, replaced), (), 0.53)
    assert next(n.sources for n in again.coverage("dimension", year=2566).nodes if n.id is None) == {"none": 1, "pending": 2}
    unsure = {"dimension": (["A", "B", "C"], ["D1", "", "D1"], ["predicted", "none", "predicted"], [0.8, None, 0.4])}
    doubtful = Frame(catalog, CoverageColumns(ids, [2566] * 4, ["บางเขน"] * 4, ["กรุงเทพเหนือ"] * 4, [100.0] * 4, ["form"] * 4, unsure), (), 0.53)
    found = doubtful.coverage("dimension", year=2566)
    assert (found.uncertain_projects, found.uncertain_budget) == (1, 100.0)
    assert next((n.uncertain, n.projects) for n in found.nodes if n.id == "D1") == (1, 2)
    unaligned = next(n for n in coverage.nodes if n.id is None)
    assert unaligned.projects == 3 and unaligned.sources == {"none": 1, "pending": 2}
    columns, rows = coverage_rows(coverage)
    last = rows[-1]
    assert "รอประมวลผล 2 รายการ" in last["name"] and (last["none"], last["pending"]) == (1, 2)
    assert all(sum(row[s] for s in ("declared", "decision", "mapped", "predicted", "none", "pending")) == row["projects"] for row in rows)
    assert "รอจัดเข้าหัวข้อ" in thai_headers(columns, rows)[0]


def test_every_coverage_source_is_one_the_api_answers_with():
    """"pending" joined the coverage sources and /v1/coverage/items answered 500 for a waiting item (a blind review)."""
    import typing

    from planalign.index.coverage import SOURCES
    from planalign.service.api.schemas import AlignmentSource

    assert set(typing.get_args(AlignmentSource)) == set(SOURCES)


def test_items_whose_node_has_no_children_at_a_level_are_told_apart_from_unreadable_ones(tmp_path):
    """A 4-level catalog whose issues do not all have goals put a quarter of the budget under "cannot be aligned
    (no readable words, or only an office's name)" at the goal level (a catalog author's walkthrough). Items whose
    node above has no children there are "above", named so in the row, the API and the exports."""
    from planalign.corpora.catalog import load_catalog
    from planalign.index.coverage import Frame
    from planalign.index.store import CoverageColumns
    from planalign.service.format import coverage_rows, thai_headers

    path = tmp_path / "ragged.csv"
    path.write_text(SHOP_CATALOG_RAGGED, encoding="utf-8")
    catalog = load_catalog(path)
    ids = ["cat", "dog", "blank"]
    aligned = {"dimension": (ids, ["PET", "PET", ""], ["predicted", "declared", "none"], [0.9, None, None]),
               "issue": (ids, ["PET.CAT", "PET.DOG", ""], ["predicted", "declared", "none"], [0.9, None, None]),
               "goal": (ids, ["", "", ""], ["none", "none", "none"], [None, None, None])}  # stored as alignment_rows writes them
    frame = Frame(catalog, CoverageColumns(ids, [2566] * 3, ["บางเขน"] * 3, ["กรุงเทพเหนือ"] * 3, [100.0, 200.0, 300.0], ["form"] * 3, aligned), (), 0.53)
    goals = frame.coverage("goal", year=2566)
    unaligned = next(n for n in goals.nodes if n.id is None)
    # the dog's declared issue has goals (the aligner found none for it): that is "none", not "above"
    assert unaligned.sources == {"above": 1, "none": 2} and unaligned.projects == 3
    assert "ไม่มีหัวข้อย่อยระดับนี้ 1 รายการ" in unaligned.name and "จัดเข้าหัวข้อไม่ได้" in unaligned.name
    issues = frame.coverage("issue", year=2566)
    assert next(n for n in issues.nodes if n.id is None).sources == {"none": 1}  # the issue level as before
    assert next(n for n in issues.nodes if n.id is None).name.startswith("จัดเข้าหัวข้อไม่ได้")
    _, rows = coverage_rows(goals)
    assert (rows[-1]["above"], rows[-1]["none"]) == (1, 2) and rows[-1]["name"] == unaligned.name
    assert thai_headers(*coverage_rows(goals))[1][0]["ระดับ"] == "เป้าหมาย"  # the Thai file said "goal" (the walkthrough)
