import json

import pytest

from planalign.corpora.catalog import CatalogError, load_catalog


def write(tmp_path, text, name="c.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_embedded_default_catalog_has_9_dimensions_and_28_issues():
    catalog = load_catalog()
    assert catalog.levels == ["dimension", "issue"]
    assert len(catalog.at_level("dimension")) == 9
    assert len(catalog.at_level("issue")) == 28
    flood = catalog.nodes["D1.4"]
    assert flood.name == "ป้องกันและแก้ปัญหาน้ำท่วม"
    assert flood.keywords, "our descriptions come with keywords"
    assert [n.id for n in catalog.ancestors("D1.4")] == ["D1", "D1.4"]


def test_embedded_names_match_the_shared_catalog(shared_data):
    shared = load_catalog(shared_data / "catalogs" / "bma_strategy_9d_28issues.csv")
    ours = load_catalog()
    assert {n.id: n.name for n in shared} == {n.id: n.name for n in ours}


def test_shared_20_year_plan_loads(shared_data):
    catalog = load_catalog(shared_data / "catalogs" / "bma_20yr_plan_7d.csv")
    assert len(catalog.at_level("dimension")) == 7


def test_find_by_id_and_name(shop_catalog):
    catalog = load_catalog(shop_catalog)
    assert catalog.find("PET.DOG").name == "สุนัข"
    assert catalog.find("แมว").id == "PET.CAT"
    assert catalog.find("ไม่มี") is None
    assert catalog.resolve_level(None) == "issue"
    assert catalog.resolve_level("ประเด็นการพัฒนา") == "issue"


def test_a_label_with_its_levels_word_before_the_name_is_found():
    """"ด้านเศรษฐกิจดี" in a labelled file was refused as no node of the catalog (an evaluation team's walkthrough)."""
    catalog = load_catalog("bma-9d")
    for label, node in (("ด้านเศรษฐกิจดี", "D7"), ("ด้านที่ ๔ สิ่งแวดล้อมดี", "D4"), ("มิติที่ 2: ปลอดภัยดี", "D2"), ("ประเด็นเดินได้ เดินดี", "D1.1")):
        assert catalog.find(label).id == node, label
    assert catalog.find("ด้าน") is None and catalog.find("ด้านอื่น") is None
    # the word and the number must agree with the node the name finds (a blind review: both were taken)
    for contradicting in ("ด้านที่ 4 เศรษฐกิจดี", "ประเด็นเศรษฐกิจดี", "ด้าน D1.4"):
        assert catalog.find(contradicting) is None, contradicting
    assert catalog.find("ประเด็นที่ 1.1 เดินได้ เดินดี").id == "D1.1"
    for numbered, node in (("ประเด็นที่ 1 เดินได้ เดินดี", "D1.1"), ("ประเด็นการพัฒนาที่ ๑ เดินได้ เดินดี", "D1.1"), ("ด้านที่ 07 เศรษฐกิจดี", "D7")):
        assert catalog.find(numbered).id == node, numbered  # a number among its siblings, zero-padded (a second review)


HEADER = "id,parent_id,level,name,description\n"


@pytest.mark.parametrize(
    "body, message",
    [
        ("A,,dimension,a,\nA,,dimension,b,\n", "row 3: duplicate id 'A' (first on row 2)"),
        ("A,,dimension,a,\nB,Z,issue,b,\n", "row 3: unknown parent 'Z'"),
        ("A,B,dimension,a,\nB,A,issue,b,\n", "cycle in parent links"),
        ("A,,dimension,,\n", "row 2: empty name for id 'A'"),
        ("A,,issue,a,\nB,A,dimension,b,\n", "row 3: level order: 'dimension' 'B' cannot sit under 'issue' 'A'"),
        ("A,,dimension,a,\nB,A,dimension,b,\n", "same level 'dimension' as its parent"),
        ("", "has no rows"),
    ],
)
def test_validation_errors_have_row_numbers(tmp_path, body, message):
    with pytest.raises(CatalogError) as info:
        load_catalog(write(tmp_path, HEADER + body))
    assert message in str(info.value)


def test_all_problems_reported_at_once(tmp_path):
    with pytest.raises(CatalogError) as info:
        load_catalog(write(tmp_path, HEADER + "A,,dimension,,\nA,,dimension,x,\nC,Q,issue,c,\n"))
    assert len(info.value.problems) == 3
    # a level out of order beside the others: it was said only once they were fixed (a docs walkthrough)
    with pytest.raises(CatalogError) as more:
        load_catalog(write(tmp_path, HEADER + "A,,dimension,a,\nB,Q,issue,b,\nC,D,issue,c,\nD,C,issue,d,\nE,A,issue,e,\nF,E,dimension,f,\n"))
    assert [(p.row, p.message.split(":")[0].split(" for ")[0]) for p in more.value.problems] == [
        (3, "unknown parent 'Q'"), (4, "cycle in parent links"), (4, "id 'C' has the same level 'issue' as its parent 'D'"),
        (5, "id 'D' has the same level 'issue' as its parent 'C'"), (7, "level order")]


def test_missing_columns(tmp_path):
    with pytest.raises(CatalogError, match=r"missing column.*description"):
        load_catalog(write(tmp_path, "id,parent_id,level,name\nA,,dimension,a\n"))


def test_custom_levels_and_depth(tmp_path):
    catalog = load_catalog(
        write(tmp_path, HEADER + "S,,strategy,ยุทธศาสตร์,\nS1,S,measure,มาตรการ,\nS1a,S1,okr,ตัวชี้วัด,\n")
    )
    assert catalog.levels == ["strategy", "measure", "okr"]


def test_custom_level_in_two_positions_is_refused(tmp_path):
    body = "S,,strategy,a,\nM,S,measure,b,\nT,,measure,c,\nU,T,strategy,d,\n"
    with pytest.raises(CatalogError, match="level order"):
        load_catalog(write(tmp_path, HEADER + body))


def test_nested_json_catalog(tmp_path):
    nested = [{"id": "E", "level": "dimension", "name": "การศึกษา", "children": [
        {"id": "E1", "level": "issue", "name": "ครู", "keywords": ["ครู", "สวัสดิการครู"]}]}]
    catalog = load_catalog(write(tmp_path, json.dumps(nested, ensure_ascii=False), "c.json"))
    assert catalog.nodes["E1"].parent_id == "E"
    assert catalog.nodes["E1"].keywords == ("ครู", "สวัสดิการครู")
    assert catalog.title == ""
    wrapped = load_catalog(write(tmp_path, json.dumps({"title": "แผนการศึกษา", "nodes": nested}, ensure_ascii=False), "w.json"))
    assert wrapped.title == "แผนการศึกษา" and set(wrapped.nodes) == {"E", "E1"}
    with pytest.raises(CatalogError, match="node 3: id must be text or a number"):  # E, E1, then this one; it became the id "{'x': 1}"
        load_catalog(write(tmp_path, json.dumps([nested[0], {"id": {"x": 1}, "level": "dimension", "name": "ก"}]), "o.json"))
    with pytest.raises(CatalogError, match="node 1: keywords must be text"):  # [1, 2] was a 500, {"a": 1} the keyword "{'a': 1}"
        load_catalog(write(tmp_path, json.dumps([{"id": "A", "level": "dimension", "name": "ก", "keywords": {"a": 1}}]), "k.json"))
    assert load_catalog(write(tmp_path, json.dumps([{"id": "A", "level": "dimension", "name": "ก", "keywords": [1, "สอง"]}]),
                              "n.json")).nodes["A"].keywords == ("1", "สอง")
    for children in (5, True, 3.5):  # each was a 500
        with pytest.raises(CatalogError, match="node 1: children must be a list"):
            load_catalog(write(tmp_path, json.dumps([{"id": "A", "level": "dimension", "name": "ก", "children": children}]), "c5.json"))
    problem = load_catalog_error(tmp_path, [{"id": "A", "level": "dimension", "name": "ก"}, {"id": "B", "parent_id": "Q", "level": "issue", "name": "ข"}])
    assert problem.row == 2  # a JSON list's position from 1 (it said row 3, as if a header)


def test_a_misspelt_level_beside_the_right_one_is_refused_and_a_skipped_level_is_not(tmp_path):
    """"isue" beside "issue" was a third level under the issues; the dashboard counted every project under one of its nodes (a walkthrough)."""
    head = "id,parent_id,level,name,description\nD1,,dimension,น้ำ,\nD1.1,D1,issue,ท่อ,\nD1.2,D1,issue,คลอง,\n"
    with pytest.raises(CatalogError, match=r"row 5: level 'isue' .* beside level 'issue'"):
        load_catalog(write(tmp_path, head + "D1.3,D1,isue,เขื่อน,\n", "typo.csv"))
    # a goal under an issue in one branch and straight under a dimension in another: a skipped level, read as before
    skipped = head + "G1,D1.1,goal,ลอกท่อทุกซอย,\nD2,,dimension,ขยะ,\nG2,D2,goal,คัดแยกขยะ,\n"
    assert load_catalog(write(tmp_path, skipped, "skip.csv")).levels == ["dimension", "issue", "goal"]
    # levels of other names side by side are a catalog's design, not a typo (a blind review of a first rule refused these)
    design = "id,parent_id,level,name,description\nG1,,goal,น้ำ,\nK1,G1,kpi,ตัวชี้วัด,\nP1,G1,project,โครงการ,\nD2,,dimension,ขยะ,\nG2,D2,goal,คัดแยก,\n"
    assert set(load_catalog(write(tmp_path, design, "design.csv")).levels) == {"dimension", "goal", "kpi", "project"}
    only_goals = head + "D2,,dimension,ขยะ,\nG2,D2,goal,คัดแยกขยะ,\n"  # one dimension of issues, another of goals
    assert load_catalog(write(tmp_path, only_goals, "goals.csv")).levels == ["dimension", "issue", "goal"]
    # a catalog stored before the rule still reads (its decisions would be stranded)
    assert "isue" in load_catalog(write(tmp_path, head + "D1.3,D1,isue,เขื่อน,\n", "stored.csv"), stored=True).levels


def test_a_catalog_with_thai_column_names_is_read():
    """"รหัส, รหัสแม่, ระดับ, ชื่อ, คำอธิบาย" was refused for want of "id" (a browser walkthrough); a projects file's Thai headers were read."""
    from planalign.corpora.catalog import catalog_from_table
    from planalign.corpora.tables import Table

    rows = [{"รหัส": "D1", "รหัสแม่": "", "ระดับ": "dimension", "ชื่อ": "น้ำดี", "คำอธิบาย": "น้ำท่วม น้ำเสีย", "คำสำคัญ": "คลอง|ท่อ"},
            {"รหัส": "D1.1", "รหัสแม่": "D1", "ระดับ": "issue", "ชื่อ": "ระบายน้ำ", "คำอธิบาย": "", "คำสำคัญ": ""}]
    catalog = catalog_from_table(Table(list(rows[0]), rows), "thai")
    assert catalog.nodes["D1.1"].parent_id == "D1" and catalog.nodes["D1"].keywords == ("คลอง", "ท่อ")


def load_catalog_error(tmp_path, nodes: list[dict]):
    with pytest.raises(CatalogError) as raised:
        load_catalog(write(tmp_path, json.dumps(nodes, ensure_ascii=False), "bad.json"))
    return raised.value.problems[0]


def test_missing_file_is_a_catalog_error(tmp_path):
    with pytest.raises(CatalogError, match="no such catalog"):
        load_catalog(tmp_path / "nope.csv")


def test_a_chain_of_thousands_of_levels_is_refused_quickly_and_a_long_cycle_named_once(tmp_path):
    """A 2,000-node chain (each node the parent of the next) answered 500 and made every catalog list take 16 s
    (a security probe): the cycle check walked every chain from each of its nodes."""
    import time

    chain = "".join(f"N{i},{f'N{i - 1}' if i else ''},L{i},ชั้น {i},\n" for i in range(2000))
    started = time.perf_counter()
    with pytest.raises(CatalogError, match="2000 levels; a catalog has at most 12") as refused:
        load_catalog(write(tmp_path, HEADER + chain))
    assert time.perf_counter() - started < 2 and "ระดับ" in str(refused.value.problems[0].thai)
    rotating = "".join(f"N{i},{f'N{i - 1}' if i else ''},L{i % 12},ชั้น {i},\n" for i in reversed(range(2000)))  # leaf first
    with pytest.raises(CatalogError, match="levels deep; a catalog has at most 12"):  # a RecursionError (a blind review)
        load_catalog(write(tmp_path, HEADER + rotating, "rotating.csv"))
    loop = "".join(f"N{i},N{(i + 1) % 3000},okr,ชั้น {i},\n" for i in range(3000))  # one cycle through 3,000 nodes
    with pytest.raises(CatalogError) as cyclic:
        load_catalog(write(tmp_path, HEADER + loop, "loop.csv"))
    assert sum("cycle in parent links" in p.message for p in cyclic.value.problems) == 1
    deep = write(tmp_path, '{"id": "A", "name": "ก", "level": "dimension", "children": ' + "[" * 100_000 + "]" * 100_000 + "}", "deep.json")
    with pytest.raises(CatalogError, match="nested too deeply"):  # a 500 before
        load_catalog(deep)


def test_a_name_several_nodes_carry_is_the_one_at_the_level_asked_or_none(tmp_path):
    """"อื่น ๆ" under two dimensions was silently the first; "สิ่งแวดล้อม", a dimension's name and its
    issue's, was refused for the issue level (a walkthrough)."""
    path = tmp_path / "dup.csv"
    path.write_text("id,parent_id,level,name,description\nA,,dimension,สิ่งแวดล้อม,\nA1,A,issue,สิ่งแวดล้อม,\nA3,A,issue,อื่น ๆ,\n"
                    "B,,dimension,สุขภาพ,\nB1,B,issue,อื่น ๆ,\n", encoding="utf-8")
    catalog = load_catalog(path)
    assert catalog.find("สิ่งแวดล้อม", "dimension").id == "A" and catalog.find("สิ่งแวดล้อม", "issue").id == "A1"
    assert catalog.find("สิ่งแวดล้อม").id == "A1"  # one path: the deepest, which lifts to both
    assert catalog.find("อื่น ๆ") is None and catalog.find("อื่นๆ", "issue") is None  # two paths: ambiguous
    assert [n.id for n in catalog.named("อื่น ๆ")] == ["A3", "B1"] and catalog.find("สุขภาพ").id == "B"
    assert catalog.resolve_node("สิ่งแวดล้อม", "dimension") == "A"  # a search filter by the dimension's name (a blind review)
    from planalign.decisions import DecisionError, DecisionInput, check

    chosen = check([DecisionInput(text="โครงการปลูกต้นไม้ริมคลอง", node="สิ่งแวดล้อม", level="issue", source="imported")], catalog, "dup", "local")
    assert chosen[0].node_id == "A1"
    with pytest.raises(DecisionError) as refused:
        check([DecisionInput(text="โครงการเก็บขยะอันตรายริมคลอง", node="อื่น ๆ", level="issue", source="imported")], catalog, "dup", "local")
    assert "ตรงกับหลายหมวด (A3, B1)" in refused.value.thai


def test_an_aligner_built_from_a_catalog_replaced_meanwhile_is_not_kept(tmp_path, shop_catalog):
    """A catalog uploaded again while its first version was embedded in the background (~30 s for 450
    nodes): the old version's aligner was cached under its old stamp and never evicted (a blind review)."""
    from planalign.app import Application
    from planalign.config import Settings

    app = Application(Settings(data_dir=tmp_path, encoder="tfidf", index_encoder="tfidf"))
    app.add_catalog("shop", load_catalog(shop_catalog))
    build = app.new_aligner

    def replaced_while_building(catalog, encoder=None):
        aligner = build(catalog, encoder)
        changed = tmp_path / "changed.csv"
        changed.write_text(shop_catalog.read_text(encoding="utf-8").replace("สินค้าและบริการสำหรับสัตว์เลี้ยง", "ของใช้สำหรับสัตว์เลี้ยง"), encoding="utf-8")
        app.add_catalog("shop", load_catalog(changed))
        return aligner

    app.new_aligner = replaced_while_building
    assert app.aligner("shop").catalog.name == "shop"  # the caller is answered ...
    assert not any(key[0] == "shop" for key in app._aligners)  # ... but the replaced version is not kept
    app.new_aligner = build
    assert app.aligner("shop").catalog.nodes["PET"].description == "ของใช้สำหรับสัตว์เลี้ยง" and any(key[0] == "shop" for key in app._aligners)


def test_a_catalog_removed_between_the_check_and_the_removal_is_not_found_not_a_crash(tmp_path, shop_catalog, monkeypatch):
    """Two removals at once: the second passed the check, then its unlink raised FileNotFoundError, a 500 (a blind
    review; 6 of 200 races). The moment between them, made to happen: the file is gone though the check saw it."""
    import pathlib

    from planalign.app import Application
    from planalign.config import Settings
    from planalign.errors import NotFound

    app = Application(Settings(data_dir=tmp_path, encoder="tfidf", index_encoder="tfidf"))
    app.add_catalog("shop", load_catalog(shop_catalog))
    (app.catalog_dir / "shop.csv").unlink()  # the other removal's work
    monkeypatch.setattr(pathlib.Path, "is_file", lambda self: True)  # ... done after this one's check
    with pytest.raises(NotFound):
        app.remove_catalog("shop")


def test_the_cli_leaves_a_running_services_default_catalog_in_place(tmp_path, shop_catalog):
    """A blind review: the CLI, configured otherwise, removed the catalog a service on the same data directory answered
    with by default, and every page of it failed; a note a killed service left behind does not count (a second one:
    a pid-named note counted forever once its pid was reused, and two containers' pid 1 shared one note)."""
    from planalign.app import Application
    from planalign.config import Settings
    from planalign.errors import Conflict

    service = Application(Settings(data_dir=tmp_path, encoder="tfidf", index_encoder="tfidf", catalog="shop"))
    cli = Application(Settings(data_dir=tmp_path, encoder="tfidf", index_encoder="tfidf"))
    cli.add_catalog("shop", load_catalog(shop_catalog))
    service.serving(True)
    assert not cli.catalog_removable("shop")
    with pytest.raises(Conflict, match="the service running on this data directory") as refused:
        cli.remove_catalog("shop", force=True)
    assert str(tmp_path / "serving") in str(refused.value)  # the note is named, for an operator who must clear one
    service.serving(False)
    assert not list((tmp_path / "serving").glob("*.json"))
    stale = tmp_path / "serving" / "left-by-a-crash.json"  # a killed service's note: nobody holds its lock
    stale.write_text('{"catalog": "shop", "pid": 1}', encoding="utf-8")
    assert cli.catalog_removable("shop") and not stale.exists() and cli.remove_catalog("shop") == 0


def test_a_missing_column_is_named_with_its_thai_header_and_names_lose_their_double_spaces(tmp_path):
    """A catalog author's walkthrough: the message named only the English headers of a file written with Thai ones,
    and "ด้านที่ ๑  การจัดการน้ำ" kept its two spaces everywhere it was shown."""
    missing = tmp_path / "missing.csv"
    missing.write_text("รหัส,ระดับ,ชื่อ,คำอธิบาย\nM1,ด้าน,น้ำ,\n", encoding="utf-8")
    with pytest.raises(CatalogError) as refused:
        load_catalog(missing)
    assert "parent_id (รหัสแม่)" in refused.value.thai and "parent_id (รหัสแม่)" in str(refused.value)
    spaced = tmp_path / "spaced.csv"
    spaced.write_text("id,parent_id,level,name,description\nM1,,dimension, ด้านที่ ๑  การจัดการน้ำ ,\n", encoding="utf-8")
    assert load_catalog(spaced).nodes["M1"].name == "ด้านที่ ๑ การจัดการน้ำ"
