"""Request and response models, with Thai examples for the OpenAPI page."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

DRAFT_EXAMPLE = {
    "name": "โครงการขุดลอกคลองลาดพร้าวเพื่อป้องกันน้ำท่วม",
    "objective": "เพื่อเพิ่มประสิทธิภาพการระบายน้ำและลดน้ำท่วมขังในชุมชนริมคลอง",
    "target": "คลองลาดพร้าว ความยาว 3 กิโลเมตร",
    "top_k": 3,
}


class ErrorBody(BaseModel):
    error: str = Field(description="What went wrong, in words a user can act on.")
    detail: object | None = None


class AlignRequest(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [DRAFT_EXAMPLE, {"text": "โครงการอบรมอาสาสมัครป้องกันยาเสพติดในชุมชน"}]})

    text: str | None = Field(None, max_length=1_000_000, description="Free text of the draft")
    name: str | None = Field(None, max_length=10_000, description="โครงการ")
    objective: str | None = Field(None, max_length=100_000, description="วัตถุประสงค์")
    target: str | None = Field(None, max_length=100_000, description="เป้าหมาย")
    catalog: str | None = Field(None, max_length=64, description="Catalog id (default: the service's)")
    level: str | None = Field(None, max_length=64, description="Only this level, e.g. issue")
    top_k: int = Field(3, ge=1, le=50)
    check_duplicates: bool = Field(True, description="Also list possible duplicates already in the store")

    def draft(self) -> str:
        return "\n".join(p.strip() for p in (self.text, self.name, self.objective, self.target) if p and p.strip())


class ClassifyRequest(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"texts": ["โครงการลอกท่อระบายน้ำซอยวัดไผ่ตัน", "โครงการคัดแยกขยะในโรงเรียน"], "level": "issue"}]})

    texts: list[str] = Field(min_length=1, description="Drafts to label (at most the sync limit, 100 by default)")
    catalog: str | None = Field(None, max_length=64)
    level: str | None = Field(None, max_length=64)


class CheckRequest(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"text": "โครงการกรุงเทพมหานครเขตปลอดบุหรี่ ประจำปี 2568"}]})

    text: str = Field(min_length=1, max_length=100_000)


class ProjectIn(BaseModel):
    """A project as JSON; the same fields as the ingest file (Thai digits and C.E. years accepted)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "BKN-2568-001", "fiscal_year": "2568", "org": "สำนักงานเขตบางเขน", "name": "โครงการลอกท่อระบายน้ำซอยพหลโยธิน 48",
        "objective": "ลดน้ำท่วมขังในซอย", "budget": "1.2 ล้านบาท", "issue_id": "D1.4"}]})

    id: str | None = Field(None, max_length=200)
    fiscal_year: str | int | None = None
    org: str | None = None
    district: str | None = None
    district_group: str | None = None
    name: str = Field(max_length=10_000)
    objective: str | None = None
    target: str | None = None
    budget: str | float | None = None
    duration: str | None = None
    text: str | None = None
    dimension_id: str | None = None
    issue_id: str | None = None
    goal_id: str | None = None
    okr_id: str | None = None
    source: str | None = None


class ProjectsIn(BaseModel):
    projects: list[ProjectIn] = Field(min_length=1, max_length=10_000)
