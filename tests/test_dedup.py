"""The duplicate rules, on Thai project names, with no shared data and no model."""
from planalign.app import Application
from planalign.config import Settings
from planalign.corpora.projects import Project
from planalign.index.dedup import DedupConfig, decide, find_duplicates, make_records
from planalign.nlp.encoders import get_encoder

TFIDF = get_encoder("tfidf")


def records(*texts: str, groups: list[str] | None = None):
    return make_records(list(texts), TFIDF.encode_passages(list(texts)), groups=groups)


def test_a_resubmission_with_thai_digits_and_abbreviations_is_a_copy():
    a, b = records("โครงการก่อสร้างเขื่อน ค.ส.ล. คลองบางบัว ความยาว 1,250 เมตร เขตบางเขน",
                   "โครงการก่อสร้างเขื่อน ค.ส.ล. คลองบางบัว ความยาว ๑,๒๕๐ เมตร  เขตบางเขน")
    decision = decide(a, b, DedupConfig())
    assert decision is not None and decision.kind == "copy" and decision.overlap > 0.9
    assert "คลอง" in "".join(decision.shared_words)


def test_another_soi_number_is_another_project_however_alike():
    a, b = records("โครงการปรับปรุงถนนซอยพหลโยธิน 48 เขตบางเขน", "โครงการปรับปรุงถนนซอยพหลโยธิน 52 เขตบางเขน")
    assert decide(a, b, DedupConfig(copy_threshold=0.3)) is None


def test_years_do_not_make_projects_different():
    a, b = records("โครงการกรุงเทพมหานครเขตปลอดบุหรี่ ประจำปี 2567", "โครงการกรุงเทพมหานครเขตปลอดบุหรี่ ประจำปี 2568")
    assert decide(a, b, DedupConfig()) is not None


def test_across_groups_keeps_only_pairs_from_different_districts():
    texts = ("โครงการอบรมอาสาสมัครป้องกันยาเสพติดในชุมชน", "โครงการอบรมอาสาสมัครป้องกันยาเสพติดในชุมชน")
    same = records(*texts, groups=["บางเขน", "บางเขน"])
    other = records(*texts, groups=["บางเขน", "จตุจักร"])
    assert decide(*same, DedupConfig(across_groups=True)) is None
    assert decide(*other, DedupConfig(across_groups=True)) is not None


def test_unrelated_projects_are_not_paired_and_clusters_join_pairs():
    found = find_duplicates(records(
        "โครงการกรุงเทพมหานครเขตปลอดบุหรี่", "โครงการกรุงเทพมหานคร เขตปลอดบุหรี่", "โครงการ กรุงเทพมหานครเขตปลอดบุหรี่",
        "โครงการปลูกต้นไม้ริมคลองแสนแสบ", "โครงการจัดหารถเก็บขนมูลฝอยขนาด 5 ตัน"))
    assert {(p.a, p.b) for p in found.pairs} == {(0, 1), (0, 2), (1, 2)}
    assert list(found.clusters.values()) == [[0, 1, 2]]


def test_a_single_check_returns_no_pair_the_sweep_refuses(tmp_path):
    names = ["โครงการปรับปรุงถนนซอยพหลโยธิน 48 เขตบางเขน", "โครงการปรับปรุงถนนซอยพหลโยธิน 52 เขตบางเขน",
             "โครงการกรุงเทพมหานครเขตปลอดบุหรี่", "โครงการปลูกต้นไม้ริมคลองแสนแสบ"]
    app = Application(Settings(data_dir=tmp_path, index_encoder="tfidf"))
    app.ingest([Project(id=f"P{i}", name=name) for i, name in enumerate(names)])
    swept = {(found.ids[p.a], found.ids[p.b]) for found in [app.duplicate_clusters(across=False)] for p in found.result.pairs}
    draft = "โครงการปรับปรุงถนนซอยพหลโยธิน 48 เขตบางเขน"
    matched = {m.id for m in app.check_duplicates(draft)}
    assert matched == {"P0"}  # the soi-52 twin is refused by the number rule, as in the sweep
    assert ("P0", "P1") not in swept
