"""The project form's columns as files spell them: the one list both the table readers (which row is
the header) and the project ingest (which column is which field) read."""
from __future__ import annotations

import re

# Field -> header spellings seen on forms and exports (compared without spaces, case-insensitive).
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "project_id", "รหัส", "รหัสโครงการ", "ลำดับ", "ticket_id"),
    "fiscal_year": ("fiscal_year", "year", "fiscal_year_be", "ปีงบประมาณ", "ปี", "พ.ศ."),
    "date": ("date", "timestamp", "created", "วันที่", "วันที่แจ้ง"),
    "org": ("org", "organization", "agency", "หน่วยงาน", "หน่วยงาน/สำนักงานเขต", "สำนักงานเขต", "หน่วยงานรับผิดชอบ", "ส่วนราชการ"),
    "district": ("district", "เขต"),
    "district_group": ("district_group", "group", "กลุ่มเขต"),
    "name": ("name", "project", "project_name", "item", "โครงการ", "โครงการ/กิจกรรม", "ชื่อโครงการ", "ชื่อโครงการ/กิจกรรม", "กิจกรรม"),
    "objective": ("objective", "objectives", "วัตถุประสงค์"),
    "target": ("target", "targets", "เป้าหมาย", "กลุ่มเป้าหมาย"),
    "budget": ("budget", "amount", "งบประมาณ", "งบประมาณ(บาท)", "วงเงิน"),
    "duration": ("duration", "period", "ระยะเวลา", "ระยะเวลาดำเนินงาน", "ระยะเวลาดำเนินการ"),
    "text": ("text", "description", "details", "รายละเอียด", "รายละเอียดโครงการ"),
    "plan_alignment": ("plan_alignment", "alignment", "ความสอดคล้องกับแผนระดับกทม.", "ความสอดคล้องกับแผน", "ความสอดคล้อง"),
    "dimension_id": ("dimension_id", "dimension", "ด้าน", "มิติ"),
    "issue_id": ("issue_id", "issue", "ประเด็นการพัฒนา", "ประเด็น"),
    "goal_id": ("goal_id", "goal", "เป้าหมายตามแผน"),
    "okr_id": ("okr_id", "okr"),
    "source": ("source", "ที่มา"),
    "category": ("category", "type", "ประเภท", "หมวด", "ประเภทปัญหา"),  # e.g. a Traffy report's types, "ถนน,ทางเท้า"
}


def draft_text(*parts: str | None) -> str:
    """One draft from the form's fields as given (free text, name, objective, target): each stripped, empty ones left
    out, one a line. The command line joined them unstripped, so 40 trailing spaces took a draft the API and the
    pages took over the length limit (an entry-point audit)."""
    return "\n".join(part.strip() for part in parts if part and part.strip())


def header_key(header: str) -> str:
    """A header as it is compared: without spaces, case-insensitive ("ชื่อ โครงการ" is "ชื่อโครงการ")."""
    return re.sub(r"\s+", "", header).lower()


KNOWN_HEADERS = frozenset(header_key(alias) for aliases in HEADER_ALIASES.values() for alias in aliases)
