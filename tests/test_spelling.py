"""Did you mean: a query part no stored name contains, spelt as the names spell it (real Thai slips)."""
from __future__ import annotations

from planalign.index.spelling import did_you_mean

NAMES = [
    "โครงการลอกท่อระบายน้ำซอยเพชรเกษม 63",
    "โครงการปรับปรุงทางเท้าหน้าตลาดบางแค",
    "ผลผลิตบริการสวนสาธารณะและอนุรักษ์ พันธุกรรมพืช",
    "โครงการก่อสร้างเขื่อน ค.ส.ล. ริมคลองวัดด่าน",
    "ชุมชนซอยเพชรเกษม 63 ปรับปรุงทางเดิน",
    "งานศูนย์บริการสาธารณสุข",
    "คลอง",
]


def test_a_dropped_or_swapped_mark_is_put_right_to_whole_words():
    assert did_you_mean("ลอกท่อระบายนำ", NAMES) == "ลอกท่อระบายน้ำ"  # the window ended inside "น้ำ"
    assert did_you_mean("ก่อสร้างเขือน", NAMES) == "ก่อสร้างเขื่อน"  # a window of the query's length cut "เขื่อ"
    assert did_you_mean("ปรับปรุงทางท้าว", NAMES) == "ปรับปรุงทางเท้า"
    assert did_you_mean("สวนสาธารนะ", NAMES) == "สวนสาธารณะ"
    assert did_you_mean("ศูนบริการสาธารณะสุข", NAMES) is None  # three slips in 19 characters: past what it puts right
    assert did_you_mean("ลอกท่อ ซอยเพชรเกษน", NAMES) == "ลอกท่อ ซอยเพชรเกษม"  # only the misspelt part changes, at the word's edge


def test_no_suggestion_when_the_query_is_spelt_as_stored_or_nothing_is_near():
    assert did_you_mean("ลอกท่อระบายน้ำ", NAMES) is None
    assert did_you_mean("ฝึกอบรมอาสาสมัคร", NAMES) is None  # nothing stored near it
    assert did_you_mean("ซ่อม", NAMES) is None
    # a draft pasted as the query is not "corrected" into a stored name
    assert did_you_mean("โครงการลอกท่อระบายน้ำและขุดลอกคลองซอยเพชรเกษม 65", NAMES) is None
    assert did_you_mean("ขุดลอกครอง", NAMES) is None  # "คลอง" alone is shorter than the part: not a spelling of it
    # a blind review's wrong ones: a window starting on a tone mark, two edits in 13 characters, a word cut short
    names = NAMES + ["ค่าจ้างเหมาบริการ จ่ายอาหารผู้ป่วย", "โครงการวางท่อระบายน้ำถนนเพชรเกษม", "งานตัดต้นไม้ล้มทับสายไฟ"]
    assert did_you_mean("ขายอาหาร", names) is None and did_you_mean("ฝาท่อระบายน้ำ", names) is None
    # a part people write so (a citizen report holds it) is no slip, whatever the projects' names say
    assert did_you_mean("ลอกท่อระบายนำ", NAMES, known="ขอให้ลอกท่อระบายนำหน้าบ้าน") is None
    # a district's name spelt right is no slip of a stored name's words: "ถนนสาทร" was put "right" to "ถนนสายร"
    roads = NAMES + ["โครงการปรับปรุงถนนสายรองในชุมชน"]
    assert did_you_mean("ถนนสาทร", roads) is None and did_you_mean("ถนนสายรง", roads) == "ถนนสายรอง"
