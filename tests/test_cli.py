"""The console command end to end: real subprocess, real exit codes, no tracebacks."""
import json

import pytest
from openpyxl import load_workbook

from conftest import run_cli
from planalign.corpora.tables import read_table, write_table

ROWS = [
    {"rid": "r1", "name": "ขายอาหารลูกหมา", "detail": "ปลอกคอสุนัข"},
    {"rid": "r2", "name": "", "detail": ""},
    {"rid": "r3", "name": "กิ่งตอนมะม่วง", "detail": "ทุเรียนหมอนทอง"},
    {"rid": "r4", "name": "ทรายแมว", "detail": ""},
]
TRAIN = [  # a label by name, by id, two on one path; one only above the issue level the model learns at, left out and said
    {"text": "ทรายแมวเต้าหู้", "label": "แมว"},
    {"text": "ที่ลับเล็บแมว", "label": "PET.CAT"},
    {"text": "ปลอกคอสุนัขพันธุ์เล็ก", "label": "PET.DOG"},
    {"text": "อาหารเม็ดลูกหมา", "label": "PET.DOG"},
    {"text": "กุหลาบมอญ", "label": "PLANT.FLOWER"},
    {"text": "กล้วยไม้ป่า", "label": "PLANT.FLOWER"},
    {"text": "มะม่วงน้ำดอกไม้", "label": "PLANT.FRUIT|PLANT"},
    {"text": "ทุเรียนหมอนทอง", "label": "PLANT.FRUIT"},
    {"text": "ปุ๋ยและดินปลูก", "label": "PLANT.FLOWER"},
    {"text": "อุปกรณ์สัตว์เลี้ยงทั่วไป", "label": "PET"},
]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".jsonl"])
@pytest.mark.parametrize("with_train", [False, True])
def test_classify_contract(tmp_path, shop_catalog, suffix, with_train):
    source = tmp_path / f"in{suffix}"
    write_table(source, ["rid", "name", "detail"], ROWS)
    out = tmp_path / f"out{suffix}"
    args = ["classify", str(source), "--text-col", "name,detail", "--id-col", "rid", "--out", str(out),
            "--catalog", str(shop_catalog), "--level", "issue", "--encoder", "tfidf"]
    if with_train:
        train = tmp_path / "train.csv"
        write_table(train, ["text", "label"], TRAIN)
        args += ["--train", str(train), "--label-col", "label", "--train-text-col", "text"]
    result = run_cli(*args, data_dir=tmp_path / "data")
    assert result.returncode == 0, result.stderr
    table = read_table(out)
    assert table.columns == ["rid", "name", "detail", "pred_label", "pred_name", "pred_score", "pred_confidence", "pred_top3", "needs_review", "error", "error_th"]
    assert [r["rid"] for r in table.rows] == ["r1", "r2", "r3", "r4"]
    assert table.rows[0]["pred_label"] == "PET.DOG"
    assert not with_train or ("learned from 9 labelled examples" in result.stderr and "row 11" in result.stderr), result.stderr
    assert table.rows[2]["pred_label"] == "PLANT.FRUIT"
    assert table.rows[3]["pred_name"] == "แมว"
    assert table.rows[1]["error"] == "empty text" and table.rows[1]["pred_label"] == "" and table.rows[1]["error_th"].startswith("ข้อความว่างเปล่า")
    assert len(table.rows[0]["pred_top3"].split("|")) == 3
    assert 0 <= float(table.rows[0]["pred_score"]) <= 1
    if suffix == ".xlsx":
        assert load_workbook(out).active.max_row == 5


def test_classify_writes_a_workbooks_own_cells_back_as_they_were(tmp_path, shop_catalog):
    """A text cell "1.10" (an item number) came back as the number 1.1 and a date cell as the text
    "2024-10-01 00:00:00", then "2024-10-01" (walkthroughs); a number cell stays a number, a date a date."""
    import datetime

    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.title = "โครงการปี 2566"  # the output's sheet was "Sheet" (an evaluation team's walkthrough)
    for values in (["เลขที่", "name", "วันที่", "งบประมาณ"], ["1.10", "ทรายแมว", datetime.datetime(2024, 10, 1), "250,000.00"],
                   ["1.1", "กุหลาบมอญ", datetime.datetime(2024, 10, 2), 1200000]):  # a budget typed as text stays summable
        workbook.active.append(values)
    workbook.save(tmp_path / "in.xlsx")
    out = tmp_path / "out.xlsx"
    result = run_cli("classify", str(tmp_path / "in.xlsx"), "--text-col", "name", "--out", str(out), "--catalog", str(shop_catalog),
                     "--encoder", "tfidf", data_dir=tmp_path / "data")
    assert result.returncode == 0, result.stderr
    rows = list(load_workbook(out).active.iter_rows(min_row=2, max_col=4, values_only=True))
    assert rows == [("1.10", "ทรายแมว", datetime.datetime(2024, 10, 1), 250000), ("1.1", "กุหลาบมอญ", datetime.datetime(2024, 10, 2), 1200000)]
    assert load_workbook(out).active["C2"].number_format == "yyyy-mm-dd" and load_workbook(out).sheetnames == ["โครงการปี 2566"]


def test_align_json_output(tmp_path, shop_catalog):
    result = run_cli("align", "ทรายแมวและอาหารแมว", "--catalog", str(shop_catalog), "--encoder", "tfidf",
                     "--json", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    top = payload["levels"]["issue"][0]
    assert top["node_id"] == "PET.CAT" and top["evidence"][0]["shared_words"]


def test_a_ragged_catalogs_deeper_level_and_a_broken_catalogs_every_problem_are_said_in_thai(tmp_path):
    """A catalog author's walkthrough: the goal level of a draft whose issue has no goals gave another branch's goal
    unflagged; a broken catalog's Thai line named its first problem "and 1 more" under an English list of both."""
    from conftest import SHOP_CATALOG_RAGGED

    ragged = tmp_path / "ragged.csv"
    ragged.write_text(SHOP_CATALOG_RAGGED, encoding="utf-8")
    result = run_cli("align", "ทรายแมวและที่ลับเล็บแมว", "--catalog", str(ragged), "--encoder", "tfidf", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "หัวข้อที่ตรงที่สุด PET.CAT ไม่มีหัวข้อย่อยระดับนี้" in result.stdout
    broken = tmp_path / "broken.csv"
    broken.write_text("id,parent_id,level,name,description\nA,,dimension,ก,\nB,Z,issue,ข,\nC,Y,issue,ค,\n", encoding="utf-8")
    refused = run_cli("align", "ทรายแมว", "--catalog", str(broken), "--encoder", "tfidf", data_dir=tmp_path)
    assert refused.returncode == 2 and "แถวที่ 3: รหัส B" in refused.stderr and "แถวที่ 4: รหัส C" in refused.stderr


def test_align_table_says_when_a_suggestion_needs_review(tmp_path, shop_catalog):
    """The API and the pages flag it; the CLI's table showed only scores and bars (a walkthrough)."""
    flagged = run_cli("align", "ฟหกดเ่าสว", "--catalog", str(shop_catalog), "--encoder", "tfidf", data_dir=tmp_path)
    assert flagged.returncode == 0, flagged.stderr
    assert flagged.stdout.count("needs review (ควรให้คนตรวจ)") == 2  # both levels
    clear = run_cli("align", "ทรายแมวและอาหารแมว", "--catalog", str(shop_catalog), "--encoder", "tfidf", "--json", data_dir=tmp_path)
    shown = run_cli("align", "ทรายแมวและอาหารแมว", "--catalog", str(shop_catalog), "--encoder", "tfidf", data_dir=tmp_path)
    assert shown.stdout.count("needs review (ควรให้คนตรวจ)") == sum(json.loads(clear.stdout)["needs_review"].values())


def test_eval_prints_metrics(tmp_path, shop_catalog):
    data = tmp_path / "gold.csv"
    write_table(data, ["text", "label"], [{"text": "ปลอกคอหมา", "label": "PET.DOG"},
                                          {"text": "กล้วยไม้", "label": "PLANT.FLOWER,PLANT.FRUIT"},
                                          {"text": "ทรายแมว", "label": "แมว"}])
    result = run_cli("eval", "--data", str(data), "--text-col", "text", "--label-col", "label",
                     "--catalog", str(shop_catalog), "--encoder", "tfidf", "--json", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["n"] == 3 and report["top1"] == 1.0 and "PET.DOG" in report["per_class"]



def test_the_confusion_matrix_counts_every_row_the_measure_counts():
    """A row given no suggestion (no readable words) was a miss in n and top-1 but missing from the confusion matrix: a job's
    matrix summed to 61 of its 63 (an integrator's walkthrough). It has a column of its own."""
    from planalign.index.evaluation import NO_SUGGESTION, evaluate

    report = evaluate([["D1", "D4"], [], ["D4"], ["D1"]], [["D1"], ["D1"], ["D4"], ["D4"]], [0.8, 0.0, 0.7, 0.6])
    assert report.n == 4 and report.top1 == 0.5 and sum(map(sum, report.confusion)) == report.n
    assert report.labels == ["D1", "D4", NO_SUGGESTION] and report.confusion[0] == [1, 0, 1]  # D1 rows: one right, one given nothing


def test_eval_scores_every_label_and_says_why_a_row_is_skipped(tmp_path, shop_catalog):
    """Rows out of the score are named with their reason and the counts add up; the first row's label no longer picks the level."""
    data = tmp_path / "gold.csv"
    write_table(data, ["text", "label"], [{"text": "ปลอกคอหมา", "label": "PET.DOG"}, {"text": "ทรายแมว", "label": "PET"},
                                          {"text": "กุหลาบมอญ", "label": "X99"}, {"text": "มะม่วงน้ำดอกไม้", "label": ""}])
    args = ["eval", "--data", str(data), "--text-col", "text", "--label-col", "label", "--catalog", str(shop_catalog), "--encoder", "tfidf", "--json"]
    report = json.loads(run_cli(*args, data_dir=tmp_path).stdout)
    assert report["level"] == "dimension" and report["n"] == 2 and report["skipped"] == 2  # PET.DOG lifted to PET
    assert [r["row"] for r in report["skipped_rows"]] == [4, 5] and "X99" in report["skipped_rows"][0]["reason"]
    at_issue = json.loads(run_cli(*args, "--level", "issue", data_dir=tmp_path).stdout)
    assert at_issue["n"] == 1 and {"row": 3, "reason": "label(s) PET above the level issue"} in at_issue["skipped_rows"]


def test_cp874_input_is_read(tmp_path, shop_catalog):
    source = tmp_path / "tis620.csv"
    source.write_bytes("rid,name\n1,ทรายแมว\n".encode("cp874"))
    result = run_cli("classify", str(source), "--text-col", "name", "--out", str(tmp_path / "o.csv"),
                     "--catalog", str(shop_catalog), "--encoder", "tfidf", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    assert read_table(tmp_path / "o.csv").rows[0]["pred_label"] == "PET.CAT"


def _bad_catalog(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("id,parent_id,level,name,description\nA,,dimension,a,\nA,,dimension,b,\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "make_args, message",
    [
        (lambda p, c: ["align", "", "--catalog", str(c)], "give the draft"),
        (lambda p, c: ["align", "", "--catalog", str(c)], "ข้อผิดพลาด: กรุณาให้ร่างโครงการ"),
        (lambda p, c: ["align", "!!! ???", "--catalog", str(c)], "no readable words"),
        (lambda p, c: ["align", "x", "--catalog", str(_bad_catalog(p))], "duplicate id 'A'"),
        (lambda p, c: ["align", "x", "--catalog", str(p / "nope.csv")], "no such catalog"),
        (lambda p, c: ["align", "--file", str(p / "junk.bin"), "--catalog", str(c)], "binary"),
        (lambda p, c: ["classify", str(p / "in.csv"), "--text-col", "missing", "--out", str(p / "o.csv"),
                       "--catalog", str(c)], "missing column(s): missing"),
        (lambda p, c: ["classify", str(p / "in.csv"), "--text-col", "missing", "--out", str(p / "o.csv"),  # in Thai too, as the pages say it
                       "--catalog", str(c)], "in.csv ไม่มีคอลัมน์ missing"),  # the file named (it was "ไฟล์ ไม่มีคอลัมน์")
        (lambda p, c: ["classify", str(p / "in.csv"), "--text-col", "name", "--out", str(p / "o.doc"),
                       "--catalog", str(c)], "cannot write .doc"),
        (lambda p, c: ["align", "x", "--encoder", "bert", "--catalog", str(c)], "unknown encoder"),
        (lambda p, c: ["align", "x", "--encoder", "bert", "--catalog", str(c)], "ไม่มีตัวเข้ารหัส (encoder) ชื่อ bert"),
        (lambda p, c: ["align", "x", "--encoder", "st:/no/such/dir", "--catalog", str(c)], "no such local model"),
        (lambda p, c: ["align", "x", "--train", str(p / "in.csv"), "--catalog", str(c)], "needs --label-col"),
        # Click's own usage errors are English; a Thai line follows them (it was "Invalid value for '--year'" alone)
        (lambda p, c: ["coverage", "--year", "abc"], "ข้อผิดพลาด: ค่าของ --year ไม่ถูกต้อง ดูวิธีใช้ด้วย"),
        (lambda p, c: ["align", "x", "--bogus", "--catalog", str(c)], "ข้อผิดพลาด: ไม่มีตัวเลือก --bogus"),
        (lambda p, c: ["decisions", "import"], "ข้อผิดพลาด: ขาดค่าของ"),
    ],
)
def test_bad_input_gives_a_clear_message(tmp_path, shop_catalog, make_args, message):
    (tmp_path / "junk.bin").write_bytes(bytes(range(256)) * 40)
    (tmp_path / "in.csv").write_text("name\nแมว\n", encoding="utf-8")
    args = make_args(tmp_path, shop_catalog)
    if "--encoder" not in args and args[0] in ("align", "classify"):
        args += ["--encoder", "tfidf"]
    result = run_cli(*args, data_dir=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_dedup_file_writes_pairs_with_their_evidence(tmp_path):
    """A plain file: the same project from three districts is one cluster; another soi is not in it."""
    source = tmp_path / "items.csv"
    rows = [{"id": "A", "org": "สำนักงานเขตบางเขน", "item": "โครงการลอกท่อระบายน้ำซอยพหลโยธิน 48"},
            {"id": "B", "org": "สำนักงานเขตจตุจักร", "item": "โครงการลอกท่อระบายน้ำ ซ.พหลโยธิน ๔๘ เพื่อลดน้ำท่วมขัง"},
            {"id": "C", "org": "สำนักงานเขตหลักสี่", "item": "โครงการลอกท่อระบายน้ำซอยพหลโยธิน 48"},
            {"id": "D", "org": "สำนักงานเขตดอนเมือง", "item": "โครงการลอกท่อระบายน้ำซอยพหลโยธิน 52"},
            {"id": "E", "org": "สำนักงานเขตบางเขน", "item": "โครงการลอกท่อระบายน้ำซอยพหลโยธิน 48"}]
    write_table(source, ["id", "org", "item"], rows)
    out = tmp_path / "pairs.csv"
    result = run_cli("dedup", "--input", str(source), "--text-col", "item", "--id-col", "id", "--group-col", "org", "--across-districts",
                     "--encoder", "tfidf", "--out", str(out), data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    pairs = read_table(out).rows
    assert set(pairs[0]) >= {"id_a", "id_b", "score", "kind", "cluster", "text_a", "text_b", "group_a", "group_b", "matched_fields",
                             "conflicting_fields", "why"}
    assert {tuple(sorted((r["id_a"], r["id_b"]))) for r in pairs} == {("A", "B"), ("A", "C"), ("B", "C"), ("B", "E"), ("C", "E")}
    assert all(r["group_a"] != r["group_b"] and r["kind"] == "copy" for r in pairs) and len({r["cluster"] for r in pairs}) == 1
    assert any("ซอยพหลโยธิน 48" in r["matched_fields"] for r in pairs)


def test_dedup_check_finds_the_copy_not_every_text_sharing_its_words(tmp_path):
    reports = [f"แจ้งปัญหา ลอกท่อระบายน้ำ แล้วเศษดินกองทิ้งไว้บนทางเท้า จุดที่ {i} ส่งกลิ่นเหม็น ขอให้เจ้าหน้าที่มาเก็บ" for i in range(30)]
    source = tmp_path / "store.csv"
    write_table(source, ["id", "name", "org", "fiscal_year"], [{"id": "P1", "name": "โครงการลอกท่อระบายน้ำซอยวัดไผ่ตัน", "org": "สำนักงานเขตบางกอกน้อย"},
                                                                  {"id": "P2", "name": "โครงการลอกท่อระบายน้ำซอยวัดไผ่ตัน", "org": "สำนักงานเขตบางพลัด",
                                                                   "fiscal_year": "2567"}]
                + [{"id": f"R{i}", "name": text} for i, text in enumerate(reports)])
    ingested = run_cli("ingest", str(source), "--encoder", "tfidf", data_dir=tmp_path)
    assert ingested.returncode == 0 and "not one of Bangkok's 50" not in ingested.stderr
    result = run_cli("dedup", "--check", "โครงการลอกท่อระบายน้ำ ซอยวัดไผ่ตัน", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 2 and "P1" in lines[0] and "ยื่นซ้ำ" in lines[0] and "ชื่อเดียวกันอีก 1 รายการ" in lines[0], result.stdout  # the reason in Thai
    assert lines[1].split() == ["P2", "สำนักงานเขตบางพลัด", "·", "2567"]  # a copy by its id, office and year (a blind review)
    ignored = run_cli("dedup", "--check", "โครงการลอกท่อระบายน้ำ", "--out", str(tmp_path / "c.csv"), "--year", "2560", data_dir=tmp_path)
    assert ignored.returncode == 2 and "--out, --year apply to the sweep" in ignored.stderr and not (tmp_path / "c.csv").exists()  # exit 0, no file
    across = run_cli("dedup", "--check", "โครงการลอกท่อระบายน้ำ", "--across-districts", data_dir=tmp_path)  # it was ignored (a blind review)
    assert across.returncode == 2 and "--across-districts/--any apply to the sweep" in across.stderr
    # a district not among Bangkok's 50 is said at ingest, with the one a typo likely means (a blind review)
    typo = tmp_path / "typo.csv"
    write_table(typo, ["id", "name", "org"], [{"id": "P3", "name": "โครงการปลูกต้นไม้ริมคลอง", "org": "สำนักงานเขตป้อมปราบ"}])
    warned = run_cli("ingest", str(typo), "--encoder", "tfidf", data_dir=tmp_path)
    assert warned.returncode == 0 and "1 project(s) name a district that is not one of Bangkok's 50: row 2 'ป้อมปราบ' (did you mean" in warned.stderr
    assert "ป้อมปราบศัตรูพ่าย" in warned.stderr and "หน่วยงานส่วนกลาง" in warned.stderr


def test_classify_with_the_shared_bma_catalog_and_training(tmp_path, shared_data):
    catalog = shared_data / "catalogs" / "bma_strategy_9d_28issues.csv"
    source = tmp_path / "drafts.jsonl"
    write_table(source, ["id", "name"], [{"id": "1", "name": "โครงการขุดลอกคลองและลอกท่อระบายน้ำป้องกันน้ำท่วม"},
                                         {"id": "2", "name": "โครงการจัดการขยะ อากาศ และน้ำเสียของเขต"}])
    train = tmp_path / "train.csv"
    write_table(train, ["text", "label"], [{"text": "ลอกท่อระบายน้ำในซอย", "label": "D1.4"}, {"text": "ธนาคารขยะในโรงเรียน", "label": "D4.2"},
                                          {"text": "ขุดลอกคูคลอง", "label": "ป้องกันและแก้ปัญหาน้ำท่วม"}])
    for extra in ([], ["--train", str(train), "--label-col", "label", "--train-text-col", "text"]):
        out = tmp_path / "out.xlsx"
        result = run_cli("classify", str(source), "--text-col", "name", "--id-col", "id", "--catalog", str(catalog),
                         "--level", "issue", "--encoder", "tfidf", "--out", str(out), *extra, data_dir=tmp_path)
        assert result.returncode == 0, result.stderr
        assert [r["pred_label"] for r in read_table(out).rows] == ["D1.4", "D4.2"]


DISTRICTS = ["พระนคร", "ดุสิต", "หนองจอก", "บางรัก", "บางเขน", "บางกะปิ", "ปทุมวัน", "ป้อมปราบศัตรูพ่าย", "พระโขนง", "มีนบุรี", "ลาดกระบัง",
             "ยานนาวา", "สัมพันธวงศ์", "พญาไท", "ธนบุรี", "บางกอกใหญ่", "ห้วยขวาง", "คลองสาน", "ตลิ่งชัน", "บางกอกน้อย", "บางขุนเทียน",
             "ภาษีเจริญ", "หนองแขม", "ราษฎร์บูรณะ", "บางพลัด", "ดินแดง", "บึงกุ่ม", "สาทร", "บางซื่อ", "จตุจักร", "บางคอแหลม", "ประเวศ",
             "คลองเตย", "สวนหลวง", "จอมทอง", "ดอนเมือง", "ราชเทวี", "ลาดพร้าว", "วัฒนา", "บางแค", "หลักสี่", "สายไหม", "คันนายาว",
             "สะพานสูง", "วังทองหลาง", "คลองสามวา", "บางนา", "ทวีวัฒนา", "ทุ่งครุ", "บางบอน", "บางซื่อใต้"]


def test_dedup_per_member_rows_name_the_cluster_and_number_rows_as_a_spreadsheet(tmp_path):
    """One routine item in 51 district budgets: 51 member rows (not 1,275 pairs), each with its
    cluster's id, size and project name; without an id column rows are spreadsheet rows, and said so."""
    item = "โครงการฝึกอบรมอาสาสมัครป้องกันภัยฝ่ายพลเรือน (อปพร.)"
    source = tmp_path / "items.csv"
    lines = ["org,item"] + [f"สำนักงานเขต{d},{item}" for d in DISTRICTS] + ["", "สำนักงานเขตบางเขน,โครงการขุดลอกคลองเปรมประชากร"]
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "members.xlsx"
    result = run_cli("dedup", "--input", str(source), "--text-col", "item", "--group-col", "org", "--encoder", "tfidf", "--per-member",
                     "--out", str(out), data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    members = read_table(out)
    assert members.columns[:5] == ["cluster", "cluster_size", "cluster_name", "row", "text"]
    assert len(members.rows) == 51 and {(r["cluster"], r["cluster_size"], r["cluster_name"]) for r in members.rows} == {("C1", "51", item)}
    assert [int(r["row"]) for r in members.rows] == list(range(2, 53))  # row 1 is the header
    assert "row 1 = the header" in result.stderr and item in result.stderr
    pairs = tmp_path / "pairs.csv"
    result = run_cli("dedup", "--input", str(source), "--text-col", "item", "--encoder", "tfidf", "--out", str(pairs), data_dir=tmp_path)
    assert len(read_table(pairs).rows) == 51 * 50 // 2 and {"row_a", "row_b"} <= set(read_table(pairs).columns)
    # with a year column, each side's year (a pair across years read as one of the same year's lists: a docs walkthrough)
    yearly = tmp_path / "yearly.csv"
    yearly.write_text(f"org,item,fiscal_year_be\nสำนักงานเขตบางรัก,{item},2566\nสำนักงานเขตบางรัก,{item},2567\n", encoding="utf-8")
    result = run_cli("dedup", "--input", str(yearly), "--text-col", "item", "--group-col", "org", "--year-col", "fiscal_year_be", "--any",
                     "--encoder", "tfidf", "--out", str(pairs), data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    assert [(r["year_a"], r["year_b"]) for r in read_table(pairs).rows] == [("2566", "2567")]
    members = tmp_path / "yearly-members.csv"
    result = run_cli("dedup", "--input", str(yearly), "--text-col", "item", "--year-col", "fiscal_year_be", "--any", "--encoder", "tfidf",
                     "--per-member", "--out", str(members), data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    assert [r["year"] for r in read_table(members).rows] == ["2566", "2567"]


def test_dedup_pairs_rows_of_two_offices_by_default_as_the_api_does(tmp_path):
    """The command line paired an office's own rows by default, the API and pages did not."""
    source = tmp_path / "items.csv"
    item = "โครงการขุดลอกคลองช่องนนทรี"
    source.write_text(f"org,item\nสำนักงานเขตบางรัก,{item}\nสำนักงานเขตบางรัก,{item}\nสำนักงานเขตสาทร,{item}\n", encoding="utf-8")
    pairs = tmp_path / "pairs.csv"
    found = {}
    for flags in ([], ["--any"]):
        result = run_cli("dedup", "--input", str(source), "--text-col", "item", "--group-col", "org", "--encoder", "tfidf",
                         "--out", str(pairs), *flags, data_dir=tmp_path)
        assert result.returncode == 0, result.stderr
        found[" ".join(flags)] = {(r["row_a"], r["row_b"]) for r in read_table(pairs).rows}
    assert found == {"": {("2", "4"), ("3", "4")}, "--any": {("2", "3"), ("2", "4"), ("3", "4")}}


def test_dedup_of_a_file_keeps_the_rows_where_asks_for(tmp_path):
    """`dedup --input` had no --where: the ordinance's heading and total rows made clusters of their own (a reviewer
    walkthrough). The rows kept keep their spreadsheet numbers; --where without --input is refused."""
    source = tmp_path / "items.csv"
    source.write_text("org,level,item\nสำนักงานเขตบางรัก,item,โครงการขุดลอกคลองช่องนนทรี\nสำนักงานเขตบางรัก,total,รวม\n"
                      "สำนักงานเขตสาทร,total,รวม\nสำนักงานเขตสาทร,item,โครงการขุดลอกคลองช่องนนทรี\n", encoding="utf-8")
    pairs = tmp_path / "pairs.csv"
    result = run_cli("dedup", "--input", str(source), "--text-col", "item", "--group-col", "org", "--encoder", "tfidf", "--where", "level=item",
                     "--out", str(pairs), data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    assert {(r["row_a"], r["row_b"]) for r in read_table(pairs).rows} == {("2", "5")} and "2 row(s) left out" in result.stderr
    refused = run_cli("dedup", "--where", "level=item", "--out", str(pairs), data_dir=tmp_path)
    assert refused.returncode != 0 and "--input" in refused.stderr
    none = run_cli("dedup", "--input", str(source), "--text-col", "item", "--where", "level=Item", "--out", str(pairs), data_dir=tmp_path)
    assert none.returncode != 0 and "no data rows matching --where" in none.stderr


def test_duplicate_reasons_are_thai_and_follow_the_decision_kind():
    """A copy sharing 62% of its words is a re-submission, not "almost identical": the label is the
    kind's, the share is measured; every kind has its Thai label (the CLI prints these)."""
    from planalign.index.dedup import ConflictingField, Decision
    from planalign.service.format import KIND_THAI, describe_decision

    partial = describe_decision(Decision("copy", 0.62, (), (), 0.9, 0.62))
    assert partial.startswith(KIND_THAI["copy"]) and "62%" in partial and "เกือบเหมือน" not in partial
    for kind in ("copy", "same_project", "related", "different"):
        assert describe_decision(Decision(kind, 0.5)).startswith(KIND_THAI[kind])  # type: ignore[arg-type]
        assert any("\u0e01" <= ch <= "\u0e5b" for ch in KIND_THAI[kind])
    # a duplicate keeps only differences that do not make two projects: not the "ต่างกัน" of a related pair (a walkthrough)
    activity = (ConflictingField("activity", "ขุดลอก", "ก่อสร้าง"),)
    assert "ต่างกันบางส่วน (ควรตรวจ):" in describe_decision(Decision("same_project", 0.5, (), activity, 0.5))
    assert "· ต่างกัน:" in describe_decision(Decision("related", 0.3, (), activity, 0.3))


def test_a_header_only_file_is_an_input_error_not_an_empty_success(tmp_path):
    """A file with only its header wrote 0 rows with exit 0; now exit 2 and no output file."""
    source = tmp_path / "submissions.csv"
    source.write_text("ชื่อโครงการ,วัตถุประสงค์\n", encoding="utf-8")
    out = tmp_path / "labelled.xlsx"
    result = run_cli("classify", str(source), "--text-col", "ชื่อโครงการ,วัตถุประสงค์", "--out", str(out), data_dir=tmp_path)
    assert result.returncode == 2 and "no data rows" in result.stderr and not out.exists()
    result = run_cli("dedup", "--input", str(source), "--text-col", "ชื่อโครงการ", "--out", str(tmp_path / "p.csv"), data_dir=tmp_path)
    assert result.returncode == 2 and "no data rows" in result.stderr


def test_an_output_that_would_overwrite_the_input_or_lands_in_a_missing_folder_is_refused_before_any_work(tmp_path):
    """--out equal to the input overwrote it with its labelled copy; a missing folder was created (a typo made folders)."""
    source = tmp_path / "submissions.csv"
    source.write_text("ชื่อโครงการ\nโครงการขุดลอกคลอง\n", encoding="utf-8")
    same = run_cli("classify", str(source), "--text-col", "ชื่อโครงการ", "--out", str(tmp_path / "." / "submissions.csv"), data_dir=tmp_path)
    assert same.returncode == 2 and "the input would be overwritten" in same.stderr
    assert source.read_text(encoding="utf-8") == "ชื่อโครงการ\nโครงการขุดลอกคลอง\n"
    missing = run_cli("classify", str(source), "--text-col", "ชื่อโครงการ", "--out", str(tmp_path / "nope" / "o.csv"), data_dir=tmp_path)
    assert missing.returncode == 2 and "does not exist" in missing.stderr and not (tmp_path / "nope").exists()
    export = run_cli("decisions", "export", "--out", str(tmp_path / "typo" / "d.csv"), data_dir=tmp_path)
    assert export.returncode == 2 and not (tmp_path / "typo").exists()


def test_a_cell_over_the_configured_limit_is_refused_as_the_service_refuses_it(tmp_path):
    """classify read a 30,000-character cell (the service's upload refuses it, 413) and classified it anyway."""
    source = tmp_path / "long.csv"
    write_table(source, ["ชื่อโครงการ"], [{"ชื่อโครงการ": "โครงการขุดลอกคลอง"}, {"ชื่อโครงการ": "ขุดลอกคลอง" * 60}])
    out = tmp_path / "labelled.csv"
    result = run_cli("classify", str(source), "--text-col", "ชื่อโครงการ", "--out", str(out), data_dir=tmp_path,
                     env={"PLANALIGN_MAX_FIELD_CHARS": "500", "PLANALIGN_ENCODER": "tfidf"})
    assert result.returncode == 2 and "row 3" in result.stderr and "over the limit" in result.stderr and not out.exists()


def test_english_input_is_classified_with_a_warning(tmp_path):
    source = tmp_path / "mixed.csv"
    write_table(source, ["name"], [{"name": "Dredging the Prem Prachakorn canal to prevent floods"}, {"name": "โครงการขุดลอกคลองเปรมประชากร"}])
    result = run_cli("classify", str(source), "--text-col", "name", "--encoder", "tfidf", "--out", str(tmp_path / "o.csv"), data_dir=tmp_path)
    assert result.returncode == 0 and "1 of 2 rows have (almost) no Thai characters" in " ".join(result.stderr.split())
    assert "1 จาก 2 แถวแทบไม่มีอักษรไทย" in " ".join(result.stderr.split())  # it was English alone (a walkthrough)
    result = run_cli("align", "Dredging the Prem Prachakorn canal", "--encoder", "tfidf", data_dir=tmp_path)
    assert result.returncode == 0 and "mostly not Thai" in " ".join(result.stderr.split())
    assert "ไม่ใช่ภาษาไทย" in "".join(result.stderr.split())  # in Thai too, as classify says it (a docs walkthrough)


def test_help_keeps_square_brackets_in_every_command():
    """Rich markup would eat "[env PLANALIGN_CATALOG; default bma-9d]": every Typer is plain text."""
    import click
    import typer
    from typer.testing import CliRunner

    from planalign.service.cli import app

    root = typer.main.get_command(app)
    commands: list[tuple[list[str], click.Command]] = []

    def walk(command: click.Command, path: list[str]) -> None:
        commands.append((path, command))
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, path + [name])

    walk(root, [])
    checked = 0
    for path, command in commands:
        shown = " ".join(CliRunner().invoke(app, [*path, "--help"], terminal_width=200).output.split())
        for param in command.params:
            help_text = " ".join((getattr(param, "help", None) or "").split())
            if "[" in help_text:
                assert help_text in shown, (path, help_text)
                checked += 1
    assert checked > 20


@pytest.mark.parametrize("args", [["align", ""], ["classify", "/nope.csv", "--text-col", "a", "-o", "/tmp/o.csv"],
                                  ["dedup", "--input", "/nope.csv", "--text-col", "a", "-o", "/tmp/x.csv"],
                                  ["eval", "--data", "/nope.csv", "--text-col", "a", "--label-col", "b"],
                                  ["decisions", "import", "/nope.csv", "--text-col", "a", "--label-col", "b"]])
def test_an_input_error_prints_before_any_heavy_import(args):
    """An error that is only a message is fast (~0.3 s, was ~2.5 s): no numpy/faiss/torch/pythainlp/sklearn loaded for it."""
    import subprocess
    import sys

    probe = ("import sys; from planalign.service import cli; sys.argv = ['planalign', *sys.argv[1:]]\n"
             "try:\n    cli.main()\nexcept SystemExit as e:\n    code = e.code\n"
             "heavy = sorted(m for m in ('numpy', 'faiss', 'torch', 'pythainlp', 'sklearn', 'scipy') if m in sys.modules)\n"
             "print(code, ','.join(heavy))")
    done = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, timeout=60)
    assert done.stdout.split() == ["2"], done.stdout + done.stderr


def test_serve_lets_a_request_head_be_as_long_as_the_api_answers(tmp_path, monkeypatch):
    """`serve` raises h11's cap on a request's head (a 20,000-character query got the server's plain-English 400,
    not the API's Thai 422: a reviewer walkthrough); tests/test_security.py measures a served app."""
    import uvicorn
    from typer.testing import CliRunner

    from planalign.service.cli import REQUEST_HEAD_BYTES, app

    given: dict = {}
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: given.update(kwargs))
    result = CliRunner().invoke(app, ["serve", "--data-dir", str(tmp_path), "--encoder", "tfidf", "--port", "8199"])
    assert result.exit_code == 0, result.output
    assert given["h11_max_incomplete_event_size"] == REQUEST_HEAD_BYTES >= 500_000
    # every line has its time, and planalign's own lines (jobs, who changed what) are in the log (an operator's walkthrough)
    logging = given["log_config"]
    assert "%(asctime)s" in logging["formatters"]["default"]["fmt"] and logging["loggers"]["planalign"]["level"] == "INFO"
    assert "data directory" in result.output and str(tmp_path) in result.output.replace("\n", "")


def test_long_work_says_how_far_it_is_when_stderr_is_no_terminal(monkeypatch, capsys):
    """A Traffy month's ingest ran 36 minutes without a word into a log (a committee walkthrough): a line a minute
    there; short work stays silent."""
    from planalign.service import cli

    monkeypatch.setattr(cli, "PLAIN_PROGRESS_SECONDS", 0.0)
    monkeypatch.setattr(cli, "err", cli.Console(stderr=True, force_terminal=False, width=200))
    with cli.progress_bar(5_000, "embedding") as advance:
        advance(2_500)
    with cli.progress_bar(10, "embedding") as advance:
        advance(10)
    said = capsys.readouterr().err
    assert "embedding: 2,500/5,000 (50%)" in said and "10/10" not in said
    # and where it ended: the last line of an ingest was "2,880/9,000 (32%)", the rest done within a minute (a committee walkthrough)
    monkeypatch.setattr(cli, "PLAIN_PROGRESS_SECONDS", 3600.0)
    with cli.progress_bar(9_000, "embedding, indexing and aligning") as advance:
        advance(2_880)
        cli.PLAIN_PROGRESS_SECONDS = 0.0
        advance(1)  # said
        cli.PLAIN_PROGRESS_SECONDS = 3600.0
        advance(6_119)  # not said: within the minute
    said = capsys.readouterr().err
    assert said.strip().splitlines()[-1] == "embedding, indexing and aligning: 9,000/9,000 (100%)"
    with cli.progress_bar(9_000, "quick") as advance:
        advance(9_000)
    assert capsys.readouterr().err == ""  # work that said nothing says nothing at its end either


def test_catalogs_are_added_listed_and_removed_from_the_cli(tmp_path, shop_catalog):
    """There was no catalog command: a CLI user could not store, list or remove one (a catalog author's walkthrough).
    In process (typer's runner): five commands as subprocesses took 14 s of the suite."""
    from typer.testing import CliRunner

    from planalign.errors import Conflict, NotFound
    from planalign.service.cli import app

    def run(*args: str, **env: str):
        return CliRunner().invoke(app, [*args, "--data-dir", str(tmp_path)], env=env or None)

    added = run("catalogs", "add", str(shop_catalog), "--id", "shop", "--title", "ร้านสวน")
    assert added.exit_code == 0 and "added catalog shop (6 nodes" in added.output, added.output
    listed = run("catalogs", "list")
    assert listed.exit_code == 0 and "ร้านสวน" in listed.output and "dimension 2, issue 4" in listed.output
    revised = tmp_path / "revised.csv"
    revised.write_text("\n".join(line for line in shop_catalog.read_text(encoding="utf-8").splitlines() if not line.startswith("PET.CAT")) + "\n",
                       encoding="utf-8")
    replaced = run("catalogs", "add", str(revised), "--id", "shop")
    assert replaced.exit_code == 0 and "replaced catalog shop" in replaced.output and "removed 1: PET.CAT" in replaced.output
    assert "ร้านสวน" in run("catalogs", "list").output  # its title kept (a new version without one dropped it: a docs walkthrough)
    # a mistyped id names the stored catalogs too, not the built-in ones only (a planner's walkthrough)
    mistyped = run("align", "ขายปุ๋ยอินทรีย์", "--catalog", "shopp", PLANALIGN_ENCODER="tfidf")
    assert isinstance(mistyped.exception, NotFound) and "available: bma-9d" in str(mistyped.exception) and "shop" in str(mistyped.exception)
    default = run("catalogs", "remove", "shop", PLANALIGN_CATALOG="shop")
    assert isinstance(default.exception, Conflict) and "แคตตาล็อกเริ่มต้นของระบบ" in default.exception.thai  # every command without --catalog reads it
    removed = run("catalogs", "remove", "shop")
    assert removed.exit_code == 0 and "shop" not in run("catalogs", "list").output


def test_the_machines_refusals_are_said_in_thai_with_what_to_do(tmp_path, monkeypatch):
    """An operator's walkthrough: a full disk, a data directory that is a file and a port in use were English only
    (the port after "planalign on http://..." was printed)."""
    import errno
    import socket

    from planalign.service.cli import _os_error_thai

    assert "ดิสก์เต็ม" in _os_error_thai(OSError(errno.ENOSPC, "No space left on device")) and "คำสั่งเดิมอีกครั้ง" in _os_error_thai(
        OSError(errno.ENOSPC, "No space left on device"))
    a_file = tmp_path / "data"
    a_file.write_text("not a directory", encoding="utf-8")
    refused = run_cli("search", "ขยะ", data_dir=a_file)
    assert refused.returncode == 2 and "ต้องการโฟลเดอร์แต่พบไฟล์" in refused.stderr
    import uvicorn
    from typer.testing import CliRunner

    from planalign.service.cli import app

    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: pytest.fail("serve started"))  # a regression fails, not hangs
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = CliRunner().invoke(app, ["serve", "--port", str(port), "--encoder", "tfidf", "--data-dir", str(tmp_path / "d")])
    assert f"เปิดพอร์ต {port}" in busy.exception.thai and "planalign on http" not in busy.output


@pytest.mark.parametrize("text, limit, shown", [
    ("ปรับปรุงทางเดินริมคลองเพื่อคืนทางเท้าให้ประชาชน", 35, "ปรับปรุงทางเดินริมคลองเพื่อคืนทาง…"),  # not "...ทางเท้" nor "...เพื่อคืนทางเท้าใ"
    ("น้ำท่วมน้ำท่วม", 9, "น้ำท่วม…"),  # never before a vowel that follows its consonant
    ("ลอกท่อ ซอยพหลโยธิน 48 เขตบางเขน", 24, "ลอกท่อ ซอยพหลโยธิน 48…"),  # at a space in the second half
    ("ลอกท่อระบายน้ำ", 30, "ลอกท่อระบายน้ำ"),
    ("ไม่มี", 2, "ไ…"),  # no place between syllables within the room: cut where it must be, never longer than asked
    ("ลอกท่อระบายน้ำซอยวัดไผ่ตัน", 10, "ลอกท่อระ…"),  # not before the า of บา
])
def test_a_text_shown_in_part_is_cut_between_syllables(text, limit, shown):
    from planalign.service.format import clipped

    assert clipped(text, limit) == shown and len(clipped(text, limit)) <= limit


def test_a_store_failing_under_a_command_is_said_with_what_to_do_not_as_a_bug(monkeypatch, capsys):
    """A full disk under `decisions import` was "internal error: OperationalError ... database or disk is full", exit 1,
    in English only, though what was committed was kept (an operator's year)."""
    import sqlite3
    import sys

    from sqlalchemy.exc import OperationalError

    from planalign.service import cli

    def full(**_):
        raise OperationalError("INSERT INTO decisions ...", {}, sqlite3.OperationalError("database or disk is full"))

    monkeypatch.setattr(cli, "app", full)
    monkeypatch.setattr(sys, "argv", ["planalign", "decisions", "import"])
    with pytest.raises(SystemExit) as ended:
        cli.main()
    said = " ".join(capsys.readouterr().err.split())  # wrapped at the terminal's width
    assert ended.value.code == 2 and "internal error" not in said
    assert "what was committed before is kept" in said and "ดิสก์เต็ม" in said and "สั่งคำสั่งเดิมอีกครั้ง" in said
    # a program's error the database raises stays a bug (a UNIQUE constraint was told to restore a backup: a blind review)
    from sqlalchemy.exc import IntegrityError

    def bug(**_):
        raise IntegrityError("INSERT ...", {}, sqlite3.IntegrityError("UNIQUE constraint failed: decisions.id"))

    monkeypatch.setattr(cli, "app", bug)
    with pytest.raises(SystemExit) as ended:
        cli.main()
    said = " ".join(capsys.readouterr().err.split())
    assert ended.value.code == 1 and "internal error" in said and "backup" not in said
