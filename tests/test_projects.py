import pytest

from planalign.corpora.projects import ColumnGuess, fiscal_year_of, guess_columns, map_headers, parse_budget, parse_year, read_projects
from planalign.corpora.tables import Table, TableError, write_table


@pytest.mark.parametrize(
    "raw, baht",
    [("1,500,000", 1_500_000), ("๑,๕๐๐,๐๐๐", 1_500_000), ("1.5 ล้านบาท", 1_500_000), ("2 แสนบาท", 200_000), ("250000 บาท", 250_000), ("", None),
     ("80,000 ล้านบาท", 80_000_000_000), ("1,000,000,000,000", 1e12), ("1 ล้านล้านบาท", 1e12),
     ("3 พันล้านบาท", 3e9), ("2MM", 2e6), ("250,000.-", 250_000), ("100,000.- บาท", 100_000), ("๒๐๐,๐๐๐.-บาท", 200_000),
     ("1,500,000 บาท (หนึ่งล้านห้าแสนบาทถ้วน)", 1_500_000), ("2 แสนบาทถ้วน", 200_000), ("5,000 บ.", 5_000), ("500k", 500_000),
     ("1.5 million baht", 1_500_000), ("2 mil", 2_000_000), ("1.5 ล้านบาท/ปี", 1_500_000), ("1.5 ล้าน฿", 1_500_000), ("1.5 ล้านบาท*", 1_500_000),
     # a spaced dash after a label is no sign; a note in brackets is no part of the amount (a second review)
     ("งบประมาณ \u2013 1,500,000 บาท", 1_500_000), ("2,000,000 บาท (งบปี 2568, 2569)", 2_000_000), ("1.5 ล้าน/ปี", 1_500_000),
     ("1,500,000*", 1_500_000), ("2 แสนถ้วน", 200_000), ("1 500 000.50", 1_500_000.5),
     ("1,500 (ล้านบาท)", 1_500_000_000), ("1.5 (ล้าน)", 1_500_000)],  # a unit in brackets (stored 1,500 and 1.5: a blind review)
)
def test_budget_forms(raw, baht):
    """Budgets as Thai forms write them; the largest a line of the FY2566 ordinance could hold is accepted."""
    assert parse_budget(raw) == baht


@pytest.mark.parametrize("raw, message", [("-5", "negative"), ("ห้าแสน", "not a number"), ("12 ขวด", "not a number"),
                                          ("1" + "0" * 36, "column mistake"), ("2000000 ล้านบาท", "column mistake"),
                                          ("1.5 ล้านล้านบาท", "column mistake"), ("1000000000001", "column mistake"),
                                          ("1 ล้าน 5 แสนบาท", "not a number"), ("1-2 ล้านบาท", "not a number"), ("250,000.-.-", "not a number"),
                                          # read as 50,000 / 1,000,000 / 200,000 / 5,000 / 100 / 80,000 (a blind review)
                                          ("5 หมื่นห้าพันบาท", "not a number"), ("1 ล้านห้าแสน", "not a number"), ("2 แสนกว่าบาท", "not a number"),
                                          ("USD 5000", "not in baht"), ("100.000,00", "not a number"), ("\u221280000", "negative"),
                                          ("งบประมาณ \u221280,000 บาท", "negative"), ("THB \u221280,000", "negative"),
                                          # separators not in groups of three: stored 123, 150, 10,000, 1,234,567 (an integrator)
                                          ("1,2,3", "not a number"), ("1,50", "not a number"), ("100,00", "not a number"),
                                          ("12,34,567", "not a number"),
                                          # a duration in the budget column (stored as 1 baht by a first version: a second review)
                                          ("1 ปี (ต.ค. 67 - ก.ย. 68)", "not a number"), ("3 ปี", "not a number"),
                                          # two numbers apart were joined into one (a third review: 1,520,000 and 500,000,600,000)
                                          ("1.5 - 2 ล้านบาท", "not a number"), ("500000 - 600000", "not a number"),
                                          ("ปี 68 500000", "not a number"), ("ปรับลด \u2013 500,000", "negative")])
def test_bad_budgets(raw, message):
    with pytest.raises(ValueError, match=message):
        parse_budget(raw)


@pytest.mark.parametrize("date, year", [
    ("2022-09-30 18:00:00+00", 2566),  # Traffy's UTC timestamp: 1 October 01:00 in Bangkok (it gave 2565)
    ("2022-09-30 16:59:59+00", 2565), ("2022-10-01", 2566), ("2565-10-01", 2566),
    ("30/09/2565", 2565), ("1/10/2565", 2566), ("15/10/2022", 2566),  # a Thai form's day/month/year (it gave none)
    ("", None), ("ไม่ระบุ", None)])
def test_the_fiscal_year_of_a_date_is_bangkoks(date, year):
    assert fiscal_year_of(date) == year


def test_years_common_era_converted():
    assert parse_year("2023") == 2566
    assert parse_year("พ.ศ. ๒๕๖๗") == 2567
    assert parse_year("", 2568) == 2568
    with pytest.raises(ValueError):
        parse_year("99")
    for typed in ("25688", "2567-2568", "2200", "2568.5"):  # read as 2568, 2567, 2743 and 2568 (blind reviews)
        with pytest.raises(ValueError, match="year"):
            parse_year(typed)
    for typed in ("2568 (2025)", "2568/2025", "ปีงบประมาณ 2568 (ต.ค. 2567 - ก.ย. 2568)",  # one year, written in two eras or with its period
                  "ปีงบประมาณ (พ.ศ. 2568)", "(2568)", "ปีงบประมาณ 2568 ฉบับ 1.1"):  # in brackets only; a number beside it
        assert parse_year(typed) == 2568
    assert parse_year("2568 (ข้อ 1234)") == 2568  # a number in brackets that is no year
    # a date gives its fiscal year, which starts on 1 October (a third review: the calendar year was read)
    assert (parse_year("30.09.2567"), parse_year("01.10.2567"), parse_year("2024-10-01")) == (2567, 2568, 2568)
    with pytest.raises(ValueError, match="2 years"):  # another year in brackets contradicts it
        parse_year("2025 (2569)")
    for typed in ("68 (เดิม 2567)", "ต่อเนื่อง (เริ่ม 2566)"):  # the year in brackets is another one (stored as 2567 / 2566)
        with pytest.raises(ValueError, match="not a year"):
            parse_year(typed)
    assert parse_year("2568.0") == parse_year(2568.0) == 2568  # a spreadsheet's number


def test_row_numbers_of_two_districts_lists_are_two_districts_projects(tmp_path):
    """A blind review: each district numbers its list 1, 2 ("ลำดับ"), and the second district's file replaced the first's
    projects as "2 updated" (coverage and search lost them). A row number is an id within its office and year."""
    from planalign.app import Application
    from planalign.config import Settings
    from planalign.corpora.projects import rows_to_projects

    def listed(office: str, names: list[str]) -> Table:
        return Table(["ลำดับ", "หน่วยงาน", "ชื่อโครงการ", "ปีงบประมาณ", "งบประมาณ"],
                     [{"ลำดับ": str(n), "หน่วยงาน": office, "ชื่อโครงการ": name, "ปีงบประมาณ": "2570", "งบประมาณ": "100,000"}
                      for n, name in enumerate(names, start=1)])

    laksi = listed("สำนักงานเขตหลักสี่", ["ซ่อมผิวจราจรซอยแจ้งวัฒนะ 10", "ลอกท่อระบายน้ำซอยวิภาวดี 60"])
    bangsue = listed("สำนักงานเขตบางซื่อ", ["ปลูกต้นไม้ริมคลองเปรมประชากร", "อบรมอาสาสมัครป้องกันอัคคีภัย"])
    assert [p.id for p in rows_to_projects(laksi).projects] == ["หลักสี่-2570-1", "หลักสี่-2570-2"]
    core = Application(Settings(data_dir=tmp_path, encoder="tfidf"))
    for table in (laksi, bangsue):
        stored = core.store.upsert(rows_to_projects(table).projects)
        assert (len(stored.inserted), len(stored.updated)) == (2, 0)
    assert core.store.count() == 4
    assert core.store.upsert(rows_to_projects(laksi).projects).unchanged == 2  # the same list again: unchanged
    # a column mapped to the id by name is taken as written
    assert [p.id for p in rows_to_projects(laksi, overrides={"ลำดับ": "id"}).projects] == ["1", "2"]
    # the year as read: the same list with its year written another way updates its projects (a second review)
    other_era = Table(laksi.columns, [{**row, "ปีงบประมาณ": "พ.ศ. 2570" if n else "2027"} for n, row in enumerate(laksi.rows)])
    assert [p.id for p in rows_to_projects(other_era).projects] == ["หลักสี่-2570-1", "หลักสี่-2570-2"]
    # and a list whose year comes from its date column: two years' lists stay apart (a second review: both were "หลักสี่-1")
    dated = [Table(["ลำดับ", "หน่วยงาน", "ชื่อโครงการ", "วันที่"], [{"ลำดับ": "1", "หน่วยงาน": "สำนักงานเขตหลักสี่", "ชื่อโครงการ": "ลอกท่อ",
                                                                   "วันที่": when}]) for when in ("2024-11-01", "2025-11-01")]
    assert [(p.id, p.fiscal_year) for table in dated for p in rows_to_projects(table).projects] == [("หลักสี่-2568-1", 2568), ("หลักสี่-2569-1", 2569)]


def test_thai_form_headers_are_recognized():
    mapping = map_headers(["โครงการ/กิจกรรม", "วัตถุประสงค์", "เป้าหมาย", "งบประมาณ", "ระยะเวลาดำเนินงาน",
                           "ความสอดคล้องกับแผนระดับ กทม.", "หน่วยงาน/สำนักงานเขต"])
    assert mapping == {"โครงการ/กิจกรรม": "name", "วัตถุประสงค์": "objective", "เป้าหมาย": "target", "งบประมาณ": "budget",
                       "ระยะเวลาดำเนินงาน": "duration", "ความสอดคล้องกับแผนระดับ กทม.": "plan_alignment", "หน่วยงาน/สำนักงานเขต": "org"}


def test_read_rows_with_rejections(tmp_path):
    path = tmp_path / "p.csv"
    columns = ["รหัส", "โครงการ/กิจกรรม", "หน่วยงาน/สำนักงานเขต", "งบประมาณ", "ความสอดคล้องกับแผนระดับ กทม."]
    rows = [
        {"รหัส": "P1", "โครงการ/กิจกรรม": "ขุดลอกคลองบางเขน", "หน่วยงาน/สำนักงานเขต": "สำนักงานเขตบางเขน", "งบประมาณ": "1.2 ล้านบาท",
         "ความสอดคล้องกับแผนระดับ กทม.": "D1.4 ป้องกันน้ำท่วม"},
        {"รหัส": "P2", "โครงการ/กิจกรรม": "", "หน่วยงาน/สำนักงานเขต": "", "งบประมาณ": "", "ความสอดคล้องกับแผนระดับ กทม.": ""},
        {"รหัส": "P3", "โครงการ/กิจกรรม": "อบรมอาสาสมัคร", "หน่วยงาน/สำนักงานเขต": "", "งบประมาณ": "-100", "ความสอดคล้องกับแผนระดับ กทม.": ""},
        {"รหัส": "P1", "โครงการ/กิจกรรม": "ซ้ำ", "หน่วยงาน/สำนักงานเขต": "", "งบประมาณ": "", "ความสอดคล้องกับแผนระดับ กทม.": ""},
    ]
    write_table(path, columns, rows)
    result = read_projects(path, year=2567)
    assert [p.id for p in result.projects] == ["P1"]
    project = result.projects[0]
    assert (project.district, project.district_group, project.budget, project.fiscal_year) == ("บางเขน", "กรุงเทพเหนือ", 1_200_000, 2567)
    assert (project.dimension_id, project.issue_id) == ("D1", "D1.4")
    reasons = {r.row: r for r in result.rejected}
    assert (reasons[3].reason, reasons[3].thai) == ("empty project name", "ไม่มีชื่อโครงการ")
    assert "negative" in reasons[4].reason and reasons[4].thai == "งบประมาณ -100 ติดลบ"
    assert "duplicate id 'P1'" in reasons[5].reason and "ซ้ำกับแถว 2" in reasons[5].thai
    rows.insert(1, dict.fromkeys(columns, ""))  # a blank row: the rejections after it keep the numbers the spreadsheet shows
    write_table(path, columns, rows)
    assert [r.row for r in read_projects(path, year=2567).rejected] == [4, 5, 6]


def test_districts_are_read_as_people_write_them(tmp_path):
    """A district column "สำนักงานเขตบางเขน" was stored as written and an org "เขตบางเขน" gave no
    district: coverage for บางเขน counted half its projects."""
    path = tmp_path / "k.csv"
    rows = [("K1", "เขตบางเขน", ""), ("K2", "", "เขตบางเขน"), ("K3", "", "สำนักงานเขตบางเขน"), ("K4", "สำนักงานเขต บางเขน", ""),
            ("K5", "เขตพัฒนาพิเศษภาคตะวันออก", "")]
    write_table(path, ["id", "name", "org", "district"], [{"id": i, "name": f"โครงการที่ {i}", "org": org, "district": d} for i, org, d in rows])
    found = {p.id: (p.district, p.district_group) for p in read_projects(path, year=2567).projects}
    assert found == {**{i: ("บางเขน", "กรุงเทพเหนือ") for i in ("K1", "K2", "K3", "K4")}, "K5": ("", "")}  # not a district: none


def test_missing_name_column_is_fatal(tmp_path):
    path = tmp_path / "p.csv"
    write_table(path, ["x", "y"], [{"x": "1", "y": "2"}])
    with pytest.raises(TableError, match="no project name column"):
        read_projects(path)


def test_map_override(tmp_path):
    path = tmp_path / "p.jsonl"
    write_table(path, ["key", "title"], [{"key": "A", "title": "ปลูกต้นไม้"}])
    result = read_projects(path, overrides={"key": "id", "title": "name"})
    assert result.projects[0].id == "A" and result.projects[0].name == "ปลูกต้นไม้"
    with pytest.raises(TableError, match="unknown field"):
        read_projects(path, overrides={"key": "nonsense"})


def test_text_columns_are_guessed_by_header_then_by_wordiness_never_from_excluded_columns():
    """One guesser for the evaluation page's upload and a training file's text (its label column excluded)."""
    rows = [{"ชื่อโครงการ": "ลอกท่อระบายน้ำ", "ป้ายกำกับ": "ด้านที่ 1 เดินทางดี การระบายน้ำและป้องกันน้ำท่วม", "งบ": "120,000"},
            {"ชื่อโครงการ": "ปลูกต้นไม้ริมคลอง", "ป้ายกำกับ": "ด้านที่ 4 สิ่งแวดล้อมดี พื้นที่สีเขียวและต้นไม้", "งบ": "80,000"}]
    table = Table(["ชื่อโครงการ", "ป้ายกำกับ", "งบ"], rows)
    assert guess_columns(table, exclude={"ป้ายกำกับ"}).text == ["ชื่อโครงการ"]
    unnamed = Table(["a", "b", "c"], [{"a": r["ชื่อโครงการ"], "b": r["ป้ายกำกับ"], "c": r["งบ"]} for r in rows])
    assert guess_columns(unnamed).text == ["b"]  # the longest texts
    assert guess_columns(unnamed, exclude={"b"}).text == ["a"]  # numbers are not text
    assert guess_columns(Table(["b", "c"], [{"b": r["ป้ายกำกับ"], "c": r["งบ"]} for r in rows]), exclude={"b"}).text == []
    # of two columns for one field, the better name wins, not the first: "ลำดับ" (a row number) before "รหัสโครงการ"
    # was taken as the id, and the corrected file sorted its row numbers as text (an evaluation team's walkthrough)
    numbered = Table(["ลำดับ", "หน่วยงาน", "รหัสโครงการ", "กิจกรรม", "ชื่อโครงการ"],
                     [{"ลำดับ": "1", "หน่วยงาน": "สำนักงานเขตบางเขน", "รหัสโครงการ": "066013", "กิจกรรม": "อบรม", "ชื่อโครงการ": "ลอกท่อระบายน้ำ"}])
    assert guess_columns(numbered) == ColumnGuess(text=["ชื่อโครงการ"], id="รหัสโครงการ")
    assert list(map_headers(numbered.columns)) == ["หน่วยงาน", "รหัสโครงการ", "ชื่อโครงการ"]  # in the file's order
    assert map_headers(numbered.columns, {"ลำดับ": "id"})["ลำดับ"] == "id" and "รหัสโครงการ" not in map_headers(numbered.columns, {"ลำดับ": "id"})
    # other fields keep the first column: a district office before its section stays the org (a blind review)
    assert map_headers(["สำนักงานเขต", "หน่วยงาน", "ชื่อโครงการ"])["สำนักงานเขต"] == "org"


def test_a_heading_or_total_row_is_no_project(tmp_path):
    """A budget document's heading (its amount the sum of the lines under it) counted those lines twice in
    coverage: 4,735 million baht of the FY2566 ordinance (a dashboard audit). A project row never is one,
    and two lines that only happen to add up to a third (50,000 + 50,000) stay projects."""
    path = tmp_path / "budget.csv"
    columns = ["หน่วยงาน", "โครงการ/กิจกรรม", "งบประมาณ"]
    lines = [("งบกลาง", "เงินสำรองจ่ายทั่วไป", "1,150,000,000"), ("งบกลาง", "กรณีฉุกเฉินหรือจำเป็น", "500,000,000"),
             ("งบกลาง", "กรณีค่าใช้จ่ายเกี่ยวกับน้ำท่วม", "100,000,000"), ("งบกลาง", "กรณีค่าใช้จ่ายเพื่อการพัฒนา", "550,000,000"),
             ("สำนักงานเขตบางเขน", "งานรักษาความสะอาด", "100,000"), ("สำนักงานเขตบางเขน", "งานกวาดถนน", "50,000"),
             ("สำนักงานเขตบางเขน", "งานเก็บขยะ", "50,000"), ("สำนักงานเขตบางเขน", "โครงการลอกท่อระบายน้ำ", "90,000"),
             ("สำนักงานเขตบางเขน", "โครงการปลูกต้นไม้", "30,000"), ("สำนักงานเขตบางเขน", "งานสวน", "30,000"),
             ("สำนักงานเขตบางเขน", "งานตัดหญ้า", "30,000"), ("สำนักงานเขตบางเขน", "รวมงานสวนและโครงการ", "90,000")]
    rows = [dict(zip(columns, line)) for line in lines]
    write_table(path, columns, rows)
    assert read_projects(path, year=2566).rejected == []  # only on request: a district's round budgets can add up by chance
    result = read_projects(path, year=2566, drop_subtotals=True)
    assert [r.row for r in result.rejected] == [2, 13]  # the heading over 3 lines, the total after 3 lines
    assert "ไม่ใช่โครงการ" in result.rejected[0].thai
    names = [p.name for p in result.projects]
    assert "งานรักษาความสะอาด" in names and "โครงการลอกท่อระบายน้ำ" in names  # 50,000 + 50,000 and 30,000 x 3: not headings
    assert sum(p.budget or 0 for p in result.projects) == 1_150_000_000 + 100_000 + 50_000 + 50_000 + 90_000 + 90_000
    # a blind review's cases: lines without a budget are no parts; "รวม" inside "รวบรวม" names no total
    blank = [{"หน่วยงาน": "เขตบางนา", "โครงการ/กิจกรรม": name, "งบประมาณ": budget} for name, budget in
             [("ปรับปรุงสวนหย่อมชุมชน", "200,000"), ("ซ่อมแซมทางเท้า", "200,000"), ("จัดซื้อครุภัณฑ์", ""), ("อบรมอาสาสมัคร", ""),
              ("ปลูกต้นไม้", "50,000"), ("ลอกท่อ", "50,000"), ("ตัดหญ้า", "50,000"), ("รวบรวมขยะชุมชน", "150,000")]]
    write_table(path, columns, blank)
    assert read_projects(path, year=2566, drop_subtotals=True).rejected == []
    # a district not among the 50 is still said when the subtotals are dropped (a second review: the list was lost)
    unknown = [{"หน่วยงาน": "สำนักงานเขตบางกะปี", "โครงการ/กิจกรรม": "ลอกท่อ", "งบประมาณ": "50,000"}]
    write_table(path, columns, unknown)
    assert read_projects(path, year=2566, drop_subtotals=True).unknown_districts == [(2, "บางกะปี", "บางกะปิ")]
    for label in ("รวมทั้งหมด", "ยอดรวม"):  # labels the tokenizer keeps whole
        totals = [("เขตบางเขน", "งานกวาดถนน", "1,200,000"), ("เขตบางเขน", "งานเก็บขยะ", "800,000"), ("เขตบางเขน", "งานสวน", "500,000"),
                  ("เขตบางเขน", label, "2,500,000")]
        write_table(path, columns, [dict(zip(columns, line)) for line in totals])
        assert [r.row for r in read_projects(path, year=2566, drop_subtotals=True).rejected] == [5], label
    # the document's own structure read as lines, each over one line of its amount or none: 947 million baht of the
    # FY2566 ordinance still counted twice (a committee walkthrough summed the stored lines against the office totals)
    structure = [("มหาวิทยาลัย", "ข้อ 5  งบประมาณรายจ่ายของการพาณิชย์ของกรุงเทพมหานครให้ตั้งเป็นจำนวน", "719,012,050"),
                 ("มหาวิทยาลัย", "ประกอบด้วย รายจ่ายประจำ จำนวน 642,958,650 บาท และรายจ่ายพิเศษ จำนวน", "76,053,400"),
                 ("สำนักงานตลาด", "รายจ่ายพิเศษ", "8,142,400"), ("สำนักงานตลาด", "แผนงานการพาณิชย์ของกรุงเทพมหานคร", "8,142,400"),
                 ("สำนักงานตลาด", "งานบริหารการตลาด", "8,142,400"), ("สำนักงานตลาด", "โครงการจัดระเบียบแผงค้ารายจ่ายพิเศษ", "500,000"),
                 ("เขตบางนา", "แผนงานส่งเสริมสุขภาพผู้สูงอายุ", "500,000"), ("เขตบางนา", "งานรักษาความสะอาด", "300,000")]  # a plan line of its own
    write_table(path, columns, [dict(zip(columns, line)) for line in structure])
    read = read_projects(path, year=2566, drop_subtotals=True)
    assert [r.row for r in read.rejected] == [2, 3, 4, 5] and "เอกสารงบประมาณ" in read.rejected[0].thai
    assert [p.name for p in read.projects] == ["งานบริหารการตลาด", "โครงการจัดระเบียบแผงค้ารายจ่ายพิเศษ", "แผนงานส่งเสริมสุขภาพผู้สูงอายุ",
                                               "งานรักษาความสะอาด"]


def test_a_where_filter_says_how_many_rows_it_left_out(tmp_path):
    """`ingest --where` dropped rows with no word (a docs walkthrough): the count is kept for the CLI to print."""
    path = tmp_path / "items.csv"
    write_table(path, ["level", "โครงการ/กิจกรรม"], [{"level": "org", "โครงการ/กิจกรรม": "สำนักงานเขตบางเขน"},
                                                     {"level": "item", "โครงการ/กิจกรรม": "งานรักษาความสะอาด"},
                                                     {"level": "item", "โครงการ/กิจกรรม": "งานเทศกิจ"}])
    result = read_projects(path, year=2566, where={"level": "item"})
    assert len(result.projects) == 2 and result.left_out == 1 and result.rejected == []
    assert read_projects(path, year=2566).left_out == 0
    # the levels a file mixes, for the CLI's warning (the ordinance without --where stored its office totals too: a walkthrough)
    assert (read_projects(path, year=2566).levels, result.levels) == (["item", "org"], ["item"])
