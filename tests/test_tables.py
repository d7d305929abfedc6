import codecs
import datetime
import json

import pytest
import xlwt
from openpyxl import Workbook

from planalign.corpora.tables import SHEETS_READ, Limits, TableError, decode_bytes, read_table, write_table

ROWS = [{"id": "1", "text": "ขุดลอกคลองแสนแสบ"}, {"id": "2", "text": "อบรมอาสาสมัครป้องกันยาเสพติด"}]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp874"])
def test_csv_encodings_are_detected(tmp_path, encoding):
    path = tmp_path / "in.csv"
    path.write_bytes("id,text\n1,ขุดลอกคลองแสนแสบ\n2,อบรมอาสาสมัครป้องกันยาเสพติด\n".encode(encoding))
    table = read_table(path)
    assert table.columns == ["id", "text"]
    assert table.rows == ROWS


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".jsonl", ".tsv"])
def test_round_trip(tmp_path, suffix):
    path = tmp_path / f"out{suffix}"
    write_table(path, ["id", "text"], ROWS)
    assert read_table(path).rows == ROWS


def test_xlsx_numbers_and_blank_rows(tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["id", "งบประมาณ"])
    sheet.append([1, 1500000.0])
    sheet.append([None, None])
    sheet.append([2, 250000])
    workbook.save(tmp_path / "a.xlsx")
    table = read_table(tmp_path / "a.xlsx")
    assert table.rows == [{"id": "1", "งบประมาณ": "1500000"}, {"id": "2", "งบประมาณ": "250000"}]
    assert table.row_numbers() == [2, 4]  # as the sheet shows them: the blank row counted


def test_a_cover_of_labels_and_values_is_passed_over_for_the_data_after_it(tmp_path):
    """A cover "หน่วยงาน | สำนักงานเขตบางเขน" was read as the data: the job refused for want of
    "ชื่อโครงการ" and the column guess proposed "หน่วยงาน" (a walkthrough). Alone, it is read."""
    workbook = Workbook()
    cover = workbook.active
    for values in (["หน่วยงาน", "สำนักงานเขตบางเขน"], ["ปีงบประมาณ", 2568], ["ผู้จัดทำ", "ฝ่ายโยธา"]):
        cover.append(values)
    data = workbook.create_sheet("โครงการ")
    for values in (["รหัส", "ชื่อโครงการ", "งบประมาณ"], ["B1", "โครงการลอกท่อระบายน้ำซอยพหลโยธิน 48", "1,000,000"]):
        data.append(values)
    workbook.save(tmp_path / "cover.xlsx")
    assert read_table(tmp_path / "cover.xlsx").columns == ["รหัส", "ชื่อโครงการ", "งบประมาณ"]
    del workbook["โครงการ"]
    workbook.save(tmp_path / "alone.xlsx")
    assert read_table(tmp_path / "alone.xlsx").rows[0] == {"หน่วยงาน": "ปีงบประมาณ", "สำนักงานเขตบางเขน": "2568"}
    small = Workbook()  # a small table of two of the form's columns is data, not a cover
    for values in (["ชื่อโครงการ", "งบประมาณ"], ["ขุดลอกคลองแสนแสบ", 1500000]):
        small.active.append(values)
    small.create_sheet("หมายเหตุ").append(["ข้อมูลจากสำนักงบประมาณ", "ปี 2568"])
    small.save(tmp_path / "small.xlsx")
    assert read_table(tmp_path / "small.xlsx").columns == ["ชื่อโครงการ", "งบประมาณ"]
    labels = Workbook()  # a small "text | label" sheet before a reference list is the data (a blind review)
    for values in (["text", "label"], ["ลอกท่อระบายน้ำ", "D1.4"], ["ปลูกต้นไม้", "D4.1"]):
        labels.active.append(values)
    reference = labels.create_sheet("รายการหมวด")
    for values in (["id", "level", "name"], ["D1", "dimension", "เดินทางดี"], ["D1.4", "issue", "น้ำท่วม"]):
        reference.append(values)
    labels.save(tmp_path / "labels.xlsx")
    assert read_table(tmp_path / "labels.xlsx").columns == ["text", "label"]


def test_a_workbook_of_several_sheets_of_one_header_is_refused_naming_them(tmp_path):
    """One sheet a district: the second district's rows were left out without a word, and a first sheet
    of one project ("รหัส | ชื่อโครงการ") was passed over as a cover (a walkthrough). Read together, their
    rows shared row numbers, which messages and a job's scores go by (a blind review): refused, named."""
    workbook = Workbook()
    workbook.active.title = "เขตบางเขน"
    for values in (["รหัส", "ชื่อโครงการ"], ["A1", "โครงการขุดลอกคลองบางบัว"]):
        workbook.active.append(values)
    workbook.create_sheet("หมายเหตุ").append(["ข้อมูลจากสำนักงบประมาณ", "ปี 2568"])  # another header: no twin
    workbook.save(tmp_path / "one.xlsx")
    assert [r["รหัส"] for r in read_table(tmp_path / "one.xlsx").rows] == ["A1"]  # the one-project sheet is data
    other = workbook.create_sheet("เขตจตุจักร")
    for values in (["รหัส", "ชื่อโครงการ"], ["B1", "โครงการปลูกต้นไม้ริมถนน"]):
        other.append(values)
    workbook.save(tmp_path / "districts.xlsx")
    with pytest.raises(TableError, match="เขตบางเขน, เขตจตุจักร") as refused:
        read_table(tmp_path / "districts.xlsx")
    assert "ชีตเดียว" in (refused.value.thai or "")
    blank = Workbook()  # the data, then a blank form of the same header: read (it was refused: a blind review)
    for values in (["รหัส", "ชื่อโครงการ"], ["A1", "โครงการขุดลอกคลองบางบัว"]):
        blank.active.append(values)
    blank.create_sheet("แบบฟอร์มเปล่า").append(["รหัส", "ชื่อโครงการ"])
    blank.save(tmp_path / "blank.xlsx")
    assert [r["รหัส"] for r in read_table(tmp_path / "blank.xlsx").rows] == ["A1"]


@pytest.mark.parametrize("later", [["รวม", "รวม"], [f"c{i}" for i in range(1200)], ["หมายเหตุ", "x" * 30_000]])
def test_a_later_sheet_that_cannot_be_read_is_passed_over_not_fatal(tmp_path, later):
    """A summary sheet with a repeated column name, 1,200 columns or a long note refused the whole file once
    later sheets' headers were read (a blind review); they are only looked at."""
    workbook = Workbook()
    for values in (["รหัส", "ชื่อโครงการ"], ["A1", "โครงการขุดลอกคลองบางบัว"], ["A2", "โครงการปลูกต้นไม้"]):
        workbook.active.append(values)
    summary = workbook.create_sheet("สรุป")
    summary.append(later if len(later) != 2 or later[0] != "หมายเหตุ" else ["หมายเหตุ", "ค่า"])
    if later[0] == "หมายเหตุ":
        summary.append(later)
    workbook.save(tmp_path / "book.xlsx")
    assert len(read_table(tmp_path / "book.xlsx").rows) == 2


def test_a_form_title_above_the_header_and_a_cover_sheet_are_passed_over(tmp_path):
    """Government workbooks put a form's title above the header and a cover sheet first: the title was
    read as the only column name, and a cover sheet as "a header and no data" (a walkthrough)."""
    workbook = Workbook()
    cover = workbook.active
    cover.title = "ปก"
    cover.append(["ไฟล์โครงการปี 2566"])
    data = workbook.create_sheet("ข้อมูล")
    data.append(["แบบฟอร์มเสนอโครงการ ปีงบประมาณ 2567"])
    data.append([None])
    data.append(["ชื่อโครงการ", "งบประมาณ"])
    data.append(["ขุดลอกคลองแสนแสบ", 1500000])
    data.append(["อบรมอาสาสมัครป้องกันยาเสพติด", 250000])
    workbook.save(tmp_path / "form.xlsx")
    table = read_table(tmp_path / "form.xlsx")
    assert table.columns == ["ชื่อโครงการ", "งบประมาณ"] and table.row_numbers() == [4, 5]
    assert table.rows[0] == {"ชื่อโครงการ": "ขุดลอกคลองแสนแสบ", "งบประมาณ": "1500000"}
    # no empty row under the title: the row naming the form's columns is the header (CSV alike)
    direct = Workbook()
    for values in (["แบบฟอร์มเสนอโครงการ"], ["สำนักงานเขตบางรัก ปีงบประมาณ 2567"], ["ลำดับ", "ชื่อโครงการ", "งบประมาณ (บาท)"], [1, "ขุดลอกคลองสีลม", 500000]):
        direct.active.append(values)
    direct.save(tmp_path / "direct.xlsx")
    (tmp_path / "direct.csv").write_text("แบบฟอร์มเสนอโครงการ ปีงบประมาณ 2567,,\nรหัส,ชื่อโครงการ,หมายเหตุ\nBRK-1,ขุดลอกคลองสีลม,\n", encoding="utf-8")
    for name, number in (("direct.xlsx", 4), ("direct.csv", 3)):
        table = read_table(tmp_path / name)
        assert table.columns[1] == "ชื่อโครงการ" and table.rows[0]["ชื่อโครงการ"] == "ขุดลอกคลองสีลม" and table.row_numbers() == [number]
    # a one-column sheet keeps its first row as the header
    single = Workbook()
    for value in ("text", "ลอกท่อ", "ซ่อมถนน"):
        single.active.append([value])
    single.save(tmp_path / "single.xlsx")
    assert read_table(tmp_path / "single.xlsx").rows == [{"text": "ลอกท่อ"}, {"text": "ซ่อมถนน"}]
    # without an empty row under them, single values are the header and data (a header with an empty cell; a note beside row 5)
    blank_cell = Workbook()
    for values in (["ชื่อโครงการ", None], ["ขุดลอกคลอง", 100], ["ปลูกต้นไม้", 200]):
        blank_cell.active.append(values)
    blank_cell.save(tmp_path / "blank_cell.xlsx")
    assert [r["ชื่อโครงการ"] for r in read_table(tmp_path / "blank_cell.xlsx").rows] == ["ขุดลอกคลอง", "ปลูกต้นไม้"]
    texts = Workbook()
    for values in (["ชื่อโครงการ", None], ["ขุดลอกคลอง", "สำนักงานเขตบางรัก"], ["ปลูกต้นไม้", "หน่วยงาน"]):
        texts.active.append(values)
    texts.save(tmp_path / "texts.xlsx")
    assert [r["ชื่อโครงการ"] for r in read_table(tmp_path / "texts.xlsx").rows] == ["ขุดลอกคลอง", "ปลูกต้นไม้"]
    noted = Workbook()
    for values in (["text"], ["ลอกท่อ"], ["ซ่อมถนน"], ["ขุดคลอง"], ["ปลูกต้นไม้", "หมายเหตุ: ปีหน้า"], ["ทาสี"]):
        noted.active.append(values)
    noted.save(tmp_path / "noted.xlsx")
    assert [r["text"] for r in read_table(tmp_path / "noted.xlsx").rows] == ["ลอกท่อ", "ซ่อมถนน", "ขุดคลอง", "ปลูกต้นไม้", "ทาสี"]
    # a one-column list with an empty row, then a line with a note: no title (three lines before it)
    gap = Workbook()
    for values in (["text"], ["ลอกท่อ"], ["ซ่อมถนน"], [None], ["ปลูกต้นไม้", "หมายเหตุ"]):
        gap.active.append(values)
    gap.save(tmp_path / "gap.xlsx")
    assert [r["text"] for r in read_table(tmp_path / "gap.xlsx").rows] == ["ลอกท่อ", "ซ่อมถนน", "ปลูกต้นไม้"]
    # a one-column data sheet is read, not a lookup sheet after it; a later sheet over the limits is not read
    lookup = Workbook()
    for value in ("text", "ลอกท่อ", "ซ่อมถนน", "ขุดคลอง", "ปลูกต้นไม้", "ทาสี", "ตัดต้นไม้"):
        lookup.active.append([value])
    codes = lookup.create_sheet("รหัส")
    for row in [["รหัส", "ความหมาย"]] + [[str(n), "x"] for n in range(50)]:
        codes.append(row)
    lookup.save(tmp_path / "lookup.xlsx")
    assert read_table(tmp_path / "lookup.xlsx", limits=Limits(max_rows=10)).columns == ["text"]
    # a cover sheet of two lines does not win over the data sheet
    workbook.active.append(["จัดทำโดย กองยุทธศาสตร์"])
    workbook.save(tmp_path / "form2.xlsx")
    assert read_table(tmp_path / "form2.xlsx").columns == ["ชื่อโครงการ", "งบประมาณ"]
    # no sheet with data: the first one's header is what the file says it has
    empty = Workbook()
    empty.active.append(["ชื่อโครงการ", "งบประมาณ"])
    empty.create_sheet("ว่าง")
    empty.save(tmp_path / "empty.xlsx")
    assert read_table(tmp_path / "empty.xlsx").columns == ["ชื่อโครงการ", "งบประมาณ"]


def _xls(path, sheets):
    """An Excel 97-2003 workbook as offices still save them: ``sheets`` maps a name to its rows."""
    workbook = xlwt.Workbook(encoding="utf-8")
    dated = xlwt.easyxf(num_format_str="D/M/YYYY")
    for name, rows in sheets.items():
        sheet = workbook.add_sheet(name)
        for r, values in enumerate(rows):
            for c, value in enumerate(values):
                if value is not None:
                    sheet.write(r, c, value, dated) if isinstance(value, datetime.date) else sheet.write(r, c, value)
    workbook.save(str(path))
    return path


def test_xls_workbooks_read_like_xlsx_ones(tmp_path):
    """Offices still save Excel 97-2003 .xls, which the evaluation page refused as an unsupported type."""
    path = _xls(tmp_path / "ผ1.xls", {
        "ปก": [["ไฟล์โครงการปี 2567"]],
        "ข้อมูล": [["แบบฟอร์มเสนอโครงการ ปีงบประมาณ 2567"], [], ["ชื่อโครงการ", "งบประมาณ", "วันเริ่ม"],
                   ["ขุดลอกคลองแสนแสบ", 1500000, datetime.date(2023, 10, 2)], [], ["อบรมอาสาสมัครป้องกันยาเสพติด", 250000.5, None]],
    })
    table = read_table(path)
    assert table.columns == ["ชื่อโครงการ", "งบประมาณ", "วันเริ่ม"] and table.row_numbers() == [4, 6]
    assert table.rows == [{"ชื่อโครงการ": "ขุดลอกคลองแสนแสบ", "งบประมาณ": "1500000", "วันเริ่ม": "2023-10-02"},
                          {"ชื่อโครงการ": "อบรมอาสาสมัครป้องกันยาเสพติด", "งบประมาณ": "250000.5", "วันเริ่ม": ""}]
    # the same cells in an .xlsx read the same (a date as openpyxl gives it)
    workbook = Workbook()
    for values in (["ชื่อโครงการ", "งบประมาณ", "วันเริ่ม"], ["ขุดลอกคลองแสนแสบ", 1500000, datetime.datetime(2023, 10, 2)]):
        workbook.active.append(values)
    workbook.save(tmp_path / "same.xlsx")
    assert read_table(tmp_path / "same.xlsx").rows == table.rows[:1]
    # told apart by content: an .xls renamed .xlsx, and an .xlsx renamed .xls, still read
    (tmp_path / "renamed.xlsx").write_bytes(path.read_bytes())
    (tmp_path / "renamed.xls").write_bytes((tmp_path / "same.xlsx").read_bytes())
    assert read_table(tmp_path / "renamed.xlsx").rows == table.rows and read_table(tmp_path / "renamed.xls").rows == table.rows[:1]
    # and saved or renamed as text: "looks like a binary file" (an integrator's walkthrough)
    (tmp_path / "renamed.csv").write_bytes((tmp_path / "same.xlsx").read_bytes())
    (tmp_path / "renamed.txt").write_bytes(path.read_bytes())
    assert read_table(tmp_path / "renamed.csv").rows == table.rows[:1] and read_table(tmp_path / "renamed.txt").rows == table.rows
    with pytest.raises(TableError, match="more than 10 data rows"):
        read_table(_xls(tmp_path / "big.xls", {"a": [["text"]] + [["ลอกท่อ"]] * 20}), limits=Limits(max_rows=10))
    for name, content in (("damaged.xls", path.read_bytes()[:600]), ("html.xls", "<table><tr><td>ชื่อโครงการ</td></tr></table>".encode())):
        (tmp_path / name).write_bytes(content)
        with pytest.raises(TableError, match=f"{name}: not a readable Excel workbook"):
            read_table(tmp_path / name)


def test_xls_cells_sheets_and_warnings_as_xlsx_gives_them(tmp_path, capsys):
    """Error cells and times of day read as openpyxl gives them; xlrd's warnings do not reach stdout
    (inside `--json` output); a workbook's first SHEETS_READ sheets are looked at, not 200 (a blind review)."""
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("a")
    for c, value in enumerate(["ชื่อโครงการ", "งบประมาณ", "เวลา"]):
        sheet.write(0, c, value)
    sheet.write(1, 0, "ตรวจจุดเสี่ยง")
    sheet.row(1).set_cell_error(1, "#DIV/0!")
    sheet.write(1, 2, datetime.time(9, 30), xlwt.easyxf(num_format_str="HH:MM"))
    book.save(str(tmp_path / "cells.xls"))
    raw = (tmp_path / "cells.xls").read_bytes()
    (tmp_path / "cells.xls").write_bytes(raw + b"\x00" * 7)  # a size that is no multiple of a sector: xlrd warns
    assert read_table(tmp_path / "cells.xls").rows == [{"ชื่อโครงการ": "ตรวจจุดเสี่ยง", "งบประมาณ": "#DIV/0!", "เวลา": "09:30:00"}]
    assert capsys.readouterr().out == ""
    covers = {f"ปก{i}": [["ไฟล์โครงการ"]] for i in range(SHEETS_READ)}
    late = _xls(tmp_path / "late.xls", {**covers, "ข้อมูล": [["ชื่อโครงการ", "งบประมาณ"], ["ขุดลอกคลอง", 100]]})
    assert read_table(late).columns == ["ไฟล์โครงการ"]  # the first sheet's header: sheets past the limit are not read


def test_a_csv_forms_title_above_the_header_is_passed_over(tmp_path):
    """A form saved as CSV keeps its title line (and the empty line under it) above the header."""
    (tmp_path / "form.csv").write_text("แบบฟอร์มเสนอโครงการ ปีงบประมาณ 2567,\n,\nชื่อโครงการ,งบประมาณ\nขุดลอกคลองแสนแสบ,1500000\n", encoding="utf-8")
    table = read_table(tmp_path / "form.csv")
    assert table.columns == ["ชื่อโครงการ", "งบประมาณ"] and table.rows == [{"ชื่อโครงการ": "ขุดลอกคลองแสนแสบ", "งบประมาณ": "1500000"}]
    assert table.row_numbers() == [4]
    # one of the form's column names over an empty row is a header, not a title (a blind review: a row was lost)
    (tmp_path / "named.csv").write_text("ชื่อโครงการ,\n,\nขุดลอกคลองสีลม,สำนักงานเขตบางรัก\nปลูกต้นไม้,สำนักงานเขตสาทร\n", encoding="utf-8")
    assert [r["ชื่อโครงการ"] for r in read_table(tmp_path / "named.csv").rows] == ["ขุดลอกคลองสีลม", "ปลูกต้นไม้"]
    # a one-column CSV keeps its first line as the header, its empty lines counted in the row numbers
    (tmp_path / "list.csv").write_text("text\n\nลอกท่อ\nซ่อมถนน\n", encoding="utf-8")
    assert read_table(tmp_path / "list.csv").columns == ["text"] and read_table(tmp_path / "list.csv").row_numbers() == [3, 4]


def test_rows_are_numbered_as_the_file_shows_them(tmp_path):
    (tmp_path / "a.csv").write_text("text\nลอกท่อ\n\n,\nซ่อมถนน\n", encoding="utf-8")
    (tmp_path / "a.jsonl").write_text('{"text": "ลอกท่อ"}\n\n{"text": "ซ่อมถนน"}\n', encoding="utf-8")
    (tmp_path / "a.json").write_text('[{"text": "ลอกท่อ"}, {"text": "ซ่อมถนน"}]', encoding="utf-8")
    assert [read_table(tmp_path / f"a.{kind}").row_numbers() for kind in ("csv", "jsonl", "json")] == [[2, 5], [1, 3], [1, 2]]


def test_jsonl_error_names_the_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"a": 1}) + "\n{oops\n", encoding="utf-8")
    with pytest.raises(TableError, match="line 2"):
        read_table(path)


def test_binary_and_empty_files_are_refused(tmp_path):
    junk = tmp_path / "junk.csv"
    junk.write_bytes(bytes(range(256)) * 10)
    with pytest.raises(TableError, match="binary"):
        read_table(junk)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(TableError, match="empty"):
        read_table(empty)


def test_missing_column_is_named(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("id,text\n1,x\n", encoding="utf-8")
    with pytest.raises(TableError, match=r"missing column.*objective; .*in\.csv has: id, text"):  # the file it was read from named
        read_table(path).require(["text", "objective"])


def test_unsupported_extension(tmp_path):
    path = tmp_path / "in.docx"
    path.write_text("x")
    with pytest.raises(TableError, match="unsupported file type"):
        read_table(path)


def test_decode_cp874_text():
    assert decode_bytes("น้ำท่วม".encode("cp874")) == "น้ำท่วม"
    # English words, a Thai word between two Latin ones, typos: a mark after a space, a tone mark typed after "iPad"
    mixed = "ชื่อ,หน่วยงาน\nโครงการ Smart City ของเขต,สำนักงานเขตบางรัก\nที ่ตกหล่นจากการพิมพ์,cafe\nระบบBTSและMRT,x\nซื้อ iPad่ให้โรงเรียน,y\n"
    assert decode_bytes(mixed.encode("cp874")) == mixed
    thai = "".join(f"P{i},โครงการก่อสร้างและปรับปรุงถนนในซอยแยก {i}\n" for i in range(20))
    assert "ปรับปรุงถนนในซอยแยก 19" in decode_bytes(thai.encode("cp874") + b"P98,x\x9fy\n")  # a stray byte cp874 lacks: still Thai


def test_a_western_file_is_not_read_as_thai():
    """Latin-1 / cp1252 bytes decode as cp874 too, accented letters becoming Thai marks ("caf้"),
    letters or digits ("K๖ln", "Sใo Paulo") or nothing (ü); smart quotes, € and dashes read alike in
    both; other files are not taken for cp1252."""
    for text in ("name,city\nJosé García,Málaga\nCafé Naïve,Zürich\n", "name,city\nAna Núñez,Köln\nPeña,São Paulo\nHauptstraße 5\n",
                 "name,city\nMüller,Zürich\nDüsseldorf,München\n", "Item,Cost\nConsulting,“€1,200” – fees…\n"):
        if max(text) <= "\xff":  # Latin-1 has no smart quotes or euro
            assert decode_bytes(text.encode("latin-1")) == text
        assert decode_bytes(text.encode("cp1252")) == text
    russian = "имя,город\nИван Петров,Москва\nОльга Смирнова,Санкт-Петербург\n"
    assert decode_bytes(russian.encode("cp1251")) == russian


def test_xlsx_numbers_are_numbers_ids_stay_text(tmp_path):
    """Excel must sum budgets and sort scores: plain numbers become number cells, identifiers stay
    text ("0012" keeps its zeros), formulas stay neutralised, the header is frozen, columns sized."""
    from openpyxl import load_workbook

    path = tmp_path / "out.xlsx"
    rows = [{"id": "0012", "รหัสโครงการ": "2566001", "project": "S2566-0001", "ref": "2566", "name": "โครงการขุดลอกคลองเปรมประชากร",
             "fiscal_year": "2566", "budget": "400000", "pred_score": "0.2483", "change": "-20", "note": "=SUM(A1:A9)", "pred_label": "1.10"}]
    write_table(path, list(rows[0]), rows, text_columns=["ref"])
    sheet = load_workbook(path).active
    cells = {sheet.cell(1, n).value: sheet.cell(2, n) for n in range(1, len(rows[0]) + 1)}
    assert {c: cells[c].data_type for c in ("budget", "pred_score", "fiscal_year", "change")} == dict.fromkeys(
        ("budget", "pred_score", "fiscal_year", "change"), "n")
    assert (cells["budget"].value, cells["pred_score"].value, cells["fiscal_year"].value, cells["change"].value) == (400000, 0.2483, 2566, -20)
    assert isinstance(cells["fiscal_year"].value, int)
    for column, value in (("id", "0012"), ("รหัสโครงการ", "2566001"), ("project", "S2566-0001"), ("ref", "2566"), ("pred_label", "1.10")):
        assert (cells[column].data_type, cells[column].value) == ("s", value)
    assert cells["note"].data_type == "s" and cells["note"].quotePrefix
    assert sheet.freeze_panes == "A2"
    widths = {sheet.cell(1, n).value: sheet.column_dimensions[sheet.cell(1, n).column_letter].width for n in range(1, len(rows[0]) + 1)}
    assert widths["name"] > widths["change"] >= 8 and all(w <= 60 for w in widths.values())
    assert read_table(path).rows[0]["budget"] == "400000"  # and it reads back as before


def test_xlsx_budgets_with_separators_are_numbers_and_plan_numbers_stay_as_written(tmp_path):
    """"1,200,000" stayed text, so Excel's SUM left those rows out; a plan number "1.10" in a job's label
    column ("ประเด็นยุทธศาสตร์") became 1.1 beside its node "1.10" (a walkthrough)."""
    from openpyxl import load_workbook

    from planalign.corpora.tables import kept_as_text

    path = tmp_path / "out.xlsx"
    rows = [{"งบประมาณ": "1,200,000", "เป้าหมาย": "12,345.50", "ประเด็นยุทธศาสตร์": "1.10", "ร้อยละ": "0.50", "หมายเหตุ": "1,2,3", "ข้อ": "1.10",
             "ยอด": "1234.50"},
            {"งบประมาณ": "250000.00", "เป้าหมาย": "1,2345", "ประเด็นยุทธศาสตร์": "2.2", "ร้อยละ": "-5", "หมายเหตุ": " 1,000", "ข้อ": "1.2",
             "ยอด": "250000"}]
    write_table(path, list(rows[0]), rows, text_columns=kept_as_text(None, [], "ประเด็นยุทธศาสตร์"))
    sheet = load_workbook(path).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=2)]
    # "ข้อ": a user's own column of item numbers from a CSV (a browser walkthrough: "1.10" came back as 1.1)
    # "ยอด": amounts with satang stay summable (a first item-number rule made the column text: a blind review)
    assert values[0] == [1_200_000, 12345.5, "1.10", 0.5, "1,2,3", "1.10", 1234.5]
    assert values[1] == [250_000, "1,2345", "2.2", -5, " 1,000", "1.2", 250_000]


def test_xlsx_keeps_long_digit_runs_as_text_and_amounts_as_numbers(tmp_path):
    """A blind review: in a column named for nothing, a 13-digit tax id became a number Excel shows as 1.23457E+12 while
    the one with a leading zero stayed text. Amounts stay numbers: BMA's yearly budget has 11 digits, and one written
    with separators is an amount at any size."""
    from openpyxl import load_workbook

    path = tmp_path / "out.xlsx"
    rows = [{"เลขประจำตัวผู้เสียภาษี": "1234567890123", "งบประมาณ": "79000000000", "ยอดรวม": "1,234,567,890,123"},
            {"เลขประจำตัวผู้เสียภาษี": "0994000160097", "งบประมาณ": "250000.00", "ยอดรวม": "-120,000"}]
    write_table(path, list(rows[0]), rows)
    values = [[cell.value for cell in row] for row in load_workbook(path).active.iter_rows(min_row=2)]
    assert values == [["1234567890123", 79_000_000_000, 1_234_567_890_123], ["0994000160097", 250_000, -120_000]]


def test_excel_unicode_text_is_read_not_refused_as_binary(tmp_path):
    """Excel's "Unicode Text" export (UTF-16 with a byte-order mark, tab-separated) was refused as an image or PDF
    for its NUL bytes (a security probe); offices save Thai lists that way."""
    for suffix in (".tsv", ".csv"):
        path = tmp_path / f"unicode{suffix}"
        path.write_bytes("รหัส\tโครงการ\n1\tโครงการขุดลอกคลองบางบัว\n2\tโครงการปลูกต้นไม้\n".encode("utf-16"))
        table = read_table(path)
        assert table.columns == ["รหัส", "โครงการ"] and [r["โครงการ"] for r in table.rows] == ["โครงการขุดลอกคลองบางบัว", "โครงการปลูกต้นไม้"]
    old_mac = tmp_path / "mac.csv"  # lines ending in CR alone were refused with Python's "universal-newline mode" (a security probe)
    old_mac.write_bytes("text,label\rขุดลอกคลอง,D1.4\rปลูกต้นไม้,D4.1\r".encode())
    assert [r["label"] for r in read_table(old_mac).rows] == ["D1.4", "D4.1"]
    wide = tmp_path / "wide.csv"  # UTF-32 begins with UTF-16's mark: it was read as UTF-16, a NUL in every column name
    wide.write_bytes("รหัส,โครงการ\n1,โครงการขุดลอกคลองบางบัว\n".encode("utf-32"))
    assert read_table(wide).columns == ["รหัส", "โครงการ"]
    broken = tmp_path / "broken.csv"
    broken.write_bytes(codecs.BOM_UTF16_LE + b"\x00\xd8")  # a BOM, then a lone surrogate: no text
    with pytest.raises(TableError):
        read_table(broken)


def test_a_one_column_sheet_says_its_name(tmp_path):
    """Only the sheet chosen among several said its name; a sheet of one column or a cover's labels did not (a blind review)."""
    book = Workbook()
    book.active.title = "โครงการปี 2566"
    for value in ("ชื่อโครงการ", "ลอกท่อ", "ปลูกต้นไม้", "ซ่อมถนน"):
        book.active.append([value])
    book.save(tmp_path / "one.xlsx")
    assert read_table(tmp_path / "one.xlsx").sheet == "โครงการปี 2566"


def test_only_a_workbooks_own_dates_go_back_as_dates(tmp_path):
    """A date cell went back as ISO text (a walkthrough); then any ISO-looking text became a date, "0001-01-01" a
    serial Excel shows as #### (a blind review): dates only in the columns the workbook held dates in, from 1900."""
    from openpyxl import load_workbook

    folder = tmp_path
    book = Workbook()
    book.active.append(["ชื่อโครงการ", "เริ่ม", "หมายเหตุ"])
    book.active.append(["ลอกท่อ", datetime.datetime(2024, 10, 1), "2024-10-01"])
    book.active.append(["ปลูกต้นไม้", datetime.datetime(2025, 3, 15, 9, 30), "0001-01-01"])
    book.save(folder / "in.xlsx")
    table = read_table(folder / "in.xlsx")
    assert table.date_cells == {"เริ่ม"}
    write_table(folder / "out.xlsx", table.columns, table.rows + [{"ชื่อโครงการ": "x", "เริ่ม": "0001-01-01", "หมายเหตุ": ""}],
                date_columns=table.date_cells)
    values = [row[1:] for row in load_workbook(folder / "out.xlsx").active.iter_rows(min_row=2, values_only=True)]
    assert values == [(datetime.datetime(2024, 10, 1), "2024-10-01"), (datetime.datetime(2025, 3, 15, 9, 30), "0001-01-01"), ("0001-01-01", None)]
