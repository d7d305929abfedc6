"""Field extraction from Thai project text (nlp/fields.py): no model, no shared data."""
from planalign.nlp.fields import canonical, extract, places, quantities


def dimension_values(text: str, dimension: str) -> list[float]:
    found, _ = quantities(canonical(text))
    return [q.value for q in found if q.dimension == dimension]


def test_thai_digits_thousands_and_abbreviations_become_one_canonical_form():
    text = canonical("ก่อสร้างเขื่อน ค.ส.ล. ความยาว ๑,๒๕๐ เมตร กทม.")
    assert "คอนกรีตเสริมเหล็ก" in text and "1250 เมตร" in text and "กรุงเทพมหานคร" in text
    assert canonical("ถ.พระราม 4 ซ.48 กรุงเทพฯ") == "ถนนพระราม 4 ซอย48 กรุงเทพมหานคร"
    assert "มัธยมศึกษาปีที่ 3" in canonical("นักเรียนชั้น ม.3")
    # written without its inner dots too: a re-submission spelling "คสล." was read as reworded (a walkthrough)
    assert canonical("เขื่อน คสล. ดาดท้องคลอง") == canonical("เขื่อน ค.ส.ล. ดาดท้องคลอง") == "เขื่อน คอนกรีตเสริมเหล็ก ดาดท้องคลอง"


def test_lengths_in_any_unit_compare_in_metres():
    assert dimension_values("ระยะทาง 1.25 กิโลเมตร", "length_m") == [1250.0]
    assert dimension_values("ความยาว 1,250 เมตร", "length_m") == [1250.0]
    assert dimension_values("ยาว 1.25 กม.", "length_m") == [1250.0]
    assert dimension_values("พื้นที่ 2 ไร่", "area_m2") == [3200.0]
    # ม. / ซม. after a number (read as bare numbers: 1250 m against 980 m was no conflict); not a grade, not January
    assert dimension_values("ยาว 1250 ม.", "length_m") == [1250.0] and dimension_values("ท่อขนาด 60 ซม.", "length_m") == [0.6]
    assert canonical("นักเรียนชั้น ม.3") == "นักเรียนชั้น มัธยมศึกษาปีที่ 3" and canonical("เริ่ม 1 ม.ค. 2567") == "เริ่ม 1 ม.ค. 2567"


def test_thai_number_words_before_a_unit_become_digits_but_not_elsewhere():
    assert dimension_values("อาคารเรียนสี่ชั้น", "floors") == [4.0]
    assert "หกล้ม" in canonical("ป้องกันผู้สูงอายุหกล้ม")
    assert dimension_values("ติดตั้งกล้อง 24 จุด", "count") == dimension_values("ติดตั้งกล้อง 24 ตำแหน่ง", "count") == [24.0]


def test_a_percentage_written_unit_first_is_a_percentage_not_a_number():
    """"ร้อยละ 10" was the identifier number 10 ("ตรงกัน: หมายเลข 10" in a pair's evidence, a walkthrough)."""
    found, identifiers = quantities(canonical("ลดปริมาณขยะร้อยละ 10 ในชุมชน"))
    assert [(q.dimension, q.value) for q in found] == [("percent", 10.0)] and not identifiers
    assert dimension_values("ลดปริมาณขยะ 10 เปอร์เซ็นต์", "percent") == [10.0]
    assert quantities(canonical("เพิ่มขึ้นร้อยละ 10 ถึง 30"))[1] == set()  # its 30 was an identifier (a blind review)
    assert [q.dimension for q in quantities(canonical("ลดขยะร้อยละ 10 และ 5 ชุมชนเข้าร่วม"))[0]] == ["percent"]  # a list is no range: 5 is no percentage


def test_years_are_not_quantities_or_identifiers():
    found, identifiers = quantities(canonical("โครงการปลอดบุหรี่ ประจำปีงบประมาณ พ.ศ. 2568 ระยะเวลา 12 เดือน"))
    assert "2568" not in identifiers and [q.value for q in found if q.dimension == "months"] == [12.0]


def test_soi_numbers_belong_to_the_soi_name():
    soi = [p for p in places(canonical("ลอกท่อระบายน้ำซอยพหลโยธิน 48 เขตบางเขน")) if p.type == "soi"]
    assert [(p.name, p.numbers) for p in soi] == [("พหลโยธิน48", ("48",))]
    assert soi[0].label() == "ซอยพหลโยธิน 48"
    assert any(p.type == "district" and p.name == "บางเขน" for p in places(canonical("ลอกท่อระบายน้ำซอยพหลโยธิน 48 เขตบางเขน")))


def test_a_line_break_ends_a_place_name():
    """A form's next line is no part of a name: "ซอย" at a line's end took "3.3 เป้าหมาย"'s section number."""
    assert [p.label() for p in places(canonical("ปรับปรุงทางเท้าในซอย\n3.3 เป้าหมาย ทางเท้า 500 เมตร"))] == []
    assert [p.label() for p in places(canonical("ลอกท่อระบายน้ำซอยอ่อนนุช 46\n4. เป้าหมาย 500 เมตร"))] == ["ซอยอ่อนนุช 46"]
    assert [p.label() for p in places(canonical("ลอกท่อซอย 3\n4. เป้าหมาย"))] == []  # not "ซอย 34"
    # the form's fields are joined by line breaks: a target's number is not the place's (a blind review)
    assert [p.label() for p in places(canonical("โครงการขุดลอกคลองบางบัว\n200 ครัวเรือน"))] == ["คลองบางบัว"]
    assert "ซอยลาดพร้าว 48" in [p.label() for p in places(canonical("ปรับปรุงซอยลาดพร้าว 48\n12 ครั้ง"))]


def test_nested_places_and_canals():
    found = {(p.type, p.name) for p in places(canonical("ปรับปรุงทางเดินในชุมชนซอยเทียนทะเล 20 ริมคลองบางบัว"))}
    assert ("soi", "เทียนทะเล20") in found and ("canal", "บางบัว") in found


def test_a_campaign_goal_after_community_is_no_community_name():
    assert places(canonical("รณรงค์ชุมชนปลอดยาเสพติดและเฝ้าระวังในพื้นที่")) == []
    assert places(canonical("โครงการหมู่บ้านต้นแบบเศรษฐกิจพอเพียง")) == []
    assert ("community", "บ้านมั่นคง") in {(p.type, p.name) for p in places(canonical("โครงการพัฒนาชุมชนบ้านมั่นคงคลองลำนุ่น"))}  # a name stays one


def test_activity_and_target_group_families():
    record = extract("โครงการอบรมอาชีพให้ผู้สูงอายุและคนพิการในชุมชน")
    assert "train" in record.activities and {"elderly", "disabled"} <= record.groups
    assert "dredge" in extract("โครงการขุดลอกคลองลาดพร้าว").activities
    assert "study" not in extract("นักเรียนชั้นประถมศึกษา").activities  # ศึกษา inside ประถมศึกษา is no study
    # "สร้าง" builds a thing, not awareness or strength: a training draft's pair read "กิจกรรม ก่อสร้าง ≠ อบรม" (a reviewer's walkthrough)
    for abstract in ("โครงการเสริมสร้างศักยภาพผู้เรียนในโรงเรียนสังกัดกรุงเทพมหานคร", "โครงการสร้างการรับรู้เรื่องภัยพิบัติ",
                     "โครงการสร้างความเข้มแข็งให้ชุมชน", "สร้างเครือข่ายอาสาสมัครป้องกันยาเสพติด"):
        assert "construct" not in extract(abstract).activities, abstract
    assert "construct" not in extract("สร้างการ์ตูนรณรงค์ลดขยะ").activities
    for built in ("โครงการสร้างสะพานข้ามคลองบางบัว", "โครงการก่อสร้างอาคารเรียน", "จัดสร้างศาลาที่พักผู้โดยสาร", "สร้างถนนคอนกรีตเสริมเหล็ก",
                  "สร้างการ์ดเรลริมถนน"):  # a guard rail is built; a cartoon ("สร้างการ์ตูนรณรงค์") is not (a second review)
        assert "construct" in extract(built).activities, built


def test_no_place_from_a_function_word_or_from_every_one():
    """Duplicate evidence showed "คลองไม่ / คลองโดยตรง" (from "ริมคลองไม่ให้ไหลลงคลองโดยตรง") and a subdistrict
    "แจ้งเตือนประชาชนเมื่อค่าฝุ่น" (from "ทุกแขวง แจ้งเตือน...": a walkthrough). Named places stay."""
    assert not extract("ปรับปรุงท่อระบายน้ำริมคลองไม่ให้ไหลลงคลองโดยตรง").places
    assert not extract("ทุกแขวง แจ้งเตือนประชาชนเมื่อค่าฝุ่นสูง").places
    named = extract("ปรับปรุงถนนแจ้งวัฒนะ ซอย 10 และขุดลอกคลองบางบัว แขวงอนุสาวรีย์")
    assert {(p.type, p.name) for p in named.places} >= {("road", "แจ้งวัฒนะ"), ("canal", "บางบัว"), ("subdistrict", "อนุสาวรีย์")}
