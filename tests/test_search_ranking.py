"""The fused ranking: relevance floor, total, explanations, modes, the second vector view; tfidf, no shared data."""
import numpy as np
import pytest

from planalign.app import Application
from planalign.config import Settings, choose_index_encoder
from planalign.corpora.projects import Project
from planalign.errors import Unavailable
from planalign.index.hybrid import LEXICAL, Filters, rank
from planalign.index.project_index import QUERY_VIEW_FILE, current_generation, index_root, load_index
from planalign.nlp.fields import DISTRICTS
from planalign.service.format import copies_spread_thai

TOPICS = [
    "โครงการปลูกต้นไม้ริมถนน{}", "โครงการอบรมอาสาสมัครป้องกันอัคคีภัยชุมชน{}", "โครงการจัดงานเทศกาลดนตรีในสวนสาธารณะ{}",
    "โครงการตรวจสุขภาพผู้สูงอายุในชุมชน{}", "โครงการติดตั้งไฟฟ้าส่องสว่างซอย{}", "โครงการคัดแยกขยะในโรงเรียน{}",
    "โครงการซ่อมแซมทางเท้าถนน{}", "โครงการส่งเสริมอาชีพผู้มีรายได้น้อย{}",
]
PLACES = ["บางเขน", "จตุจักร", "ดุสิต", "บางรัก", "ลาดพร้าว"]
DRAINAGE = ["โครงการลอกท่อระบายน้ำซอยวัดไผ่ตัน", "โครงการขุดลอกคลองบางบัวเพื่อระบายน้ำ", "โครงการลอกท่อระบายน้ำถนนพหลโยธิน ลดน้ำท่วมขัง"]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    app = Application(Settings(data_dir=tmp_path_factory.mktemp("ranking"), index_encoder="tfidf"))
    texts = [topic.format(place) for topic in TOPICS for place in PLACES] + DRAINAGE
    app.ingest([Project(id=f"T{i}", name=text) for i, text in enumerate(texts)])
    return app


def test_total_counts_the_matches_above_the_floor_not_the_candidate_depth(workspace):
    page = workspace.search("ลอกท่อระบายน้ำ", limit=10)
    assert 1 <= page.total <= 10 < len(workspace.index())
    relevant = [h for h in page.hits if h.relevant]
    assert len(relevant) == min(page.total, 10) and all(h.relevant for h in page.hits[: page.total])
    assert {h.name for h in relevant} <= set(DRAINAGE) and "โครงการลอกท่อระบายน้ำซอยวัดไผ่ตัน" in {h.name for h in relevant}
    assert not any(h.relevant for h in page.hits[page.total :])


def test_each_hit_says_why_it_is_shown(workspace):
    hits = workspace.search("ลอกท่อระบายน้ำ", limit=10).hits
    assert LEXICAL in hits[0].why
    assert all(set(h.why) <= {"lexical", "semantic"} for h in hits)
    assert not any(LEXICAL in h.why for h in hits if "ระบาย" not in h.name and "ลอก" not in h.name)


def test_keyword_mode_counts_every_document_with_a_query_word(workspace):
    page = workspace.search("ท่อระบายน้ำ", mode="keyword", limit=50)
    assert page.total == sum("ท่อระบายน้ำ" in text for text in DRAINAGE) == len(page.hits) == 2
    assert all(LEXICAL in h.why for h in page.hits)


def test_dense_and_hybrid_rank_by_meaning_and_filters_apply(workspace):
    index = workspace.index()
    encoder = workspace.index_encoder(index)
    for mode in ("dense", "hybrid"):
        ranked = rank(index, encoder, "ลอกท่อระบายน้ำ", mode, Filters(), 3)
        assert index.ids[ranked.positions[0]] in {f"T{len(TOPICS) * len(PLACES) + i}" for i in range(len(DRAINAGE))}, mode
    assert workspace.search("ลอกท่อระบายน้ำ", filters=Filters(year=2599)).hits == []


def test_queries_are_put_in_canonical_form(workspace):
    plain = workspace.search("ขุดลอกคลองบางบัว", mode="keyword").hits
    abbreviated = workspace.search("ขุดลอก คลองบางบัว กทม.", mode="keyword").hits
    assert plain and abbreviated and plain[0].id == abbreviated[0].id


def test_a_tiny_store_counts_the_hits_that_contain_the_query(tmp_path):
    app = Application(Settings(data_dir=tmp_path, index_encoder="tfidf"))
    app.ingest([Project(id="A", name="โครงการลอกท่อระบายน้ำซอยพหลโยธิน 48"), Project(id="B", name="โครงการปลูกต้นไม้ริมถนน")])
    page = app.search("ลอกท่อ")
    assert page.total == 1 and page.hits[0].id == "A" and page.hits[0].relevant and not page.hits[1].relevant


def test_the_index_keeps_a_query_view_and_an_old_generation_without_it_still_loads(workspace, tmp_path):
    index = workspace.index()
    assert index.has_query_view and index.query_view.shape == index.vectors.vectors.shape
    # tfidf embeds both sides alike: its query view is the passage vector
    assert np.allclose(index.query_view, index.vectors.vectors)
    app = Application(Settings(data_dir=tmp_path, index_encoder="tfidf"))
    app.ingest([Project(id=f"P{i}", name=text) for i, text in enumerate(DRAINAGE)])
    (current_generation(index_root(tmp_path)) / QUERY_VIEW_FILE).unlink()  # as written before issue 11
    old = load_index(tmp_path)
    assert not old.has_query_view and np.shares_memory(old.query_view, old.vectors.vectors)
    app = Application(Settings(data_dir=tmp_path, index_encoder="tfidf"))  # a process started after the upgrade
    assert app.search("ลอกท่อ").hits
    app.ingest([Project(id="N", name="โครงการปลูกต้นไม้ริมคลอง")])  # a delta on the old generation
    assert not app.index().has_query_view and "N" in {h.id for h in app.search("ปลูกต้นไม้", mode="keyword").hits}
    app.reindex()
    assert app.index().has_query_view


def test_auto_index_encoder_chooses_by_corpus_size():
    assert choose_index_encoder("auto", 300) == "e5"
    assert choose_index_encoder("auto", 117_000) == "static"
    assert choose_index_encoder("tfidf", 117_000) == "tfidf"


def test_a_query_of_no_known_word_has_no_relevant_hit_only_the_nearest(tmp_path):
    """Keyboard mash (Thai keys typed with the keyboard on the wrong layout) got hits called "close in
    meaning" on the static index: z-scores always stand some documents 3 deviations up. The nearest
    are still listed, none relevant, with a hint in Thai; a real query keeps its relevant hits."""
    app = Application(Settings(data_dir=tmp_path, index_encoder="static"))
    app.ingest([Project(id=f"T{i}", name=topic.format(place)) for i, (topic, place) in enumerate((t, p) for t in TOPICS for p in PLACES)])
    mash = app.search("ฟหกดเ่าสว", limit=5)
    assert len(mash.hits) == 5 and mash.total == 0 and not any(h.relevant or h.why for h in mash.hits)
    assert mash.hint is not None and mash.hint.startswith("ไม่รู้จักคำในคำค้นนี้")
    real = app.search("ปลูกต้นไม้ริมถนน", limit=5)
    assert real.total > 0 and real.hits[0].relevant and real.hint is None
    english = app.search("tree planting", limit=5)  # no English dictionary offline: a Latin word is a word (blind review)
    assert english.hint is None and english.hits[0].name.startswith("โครงการปลูกต้นไม้ริมถนน")
    assert app.search("qwzxv", limit=5).total == 0  # Latin keys without a vowel that no stored text has: a slip
    for nothing in ("ๆ", "การ", "ของ และ"):  # no content word: its hits were listed as relevant (a walkthrough)
        found = app.search(nothing, limit=5)
        assert found.total == 0 and not any(h.relevant for h in found.hits) and found.hint.startswith("คำค้นนี้มีแต่คำเชื่อม"), nothing


def test_a_synonym_counts_as_a_query_word_only_as_a_whole_word(monkeypatch):
    """Synonyms are matched on the document's words, not inside them: with หมา for สุนัข, every project
    on กฎหมาย or กลุ่มเป้าหมาย said "ตรงคำค้น" (blind review); the query's own word is still found inside a compound."""
    from planalign.index import hybrid

    monkeypatch.setattr(hybrid, "synonyms", lambda word: (word, "หมา") if word == "สุนัข" else (word,))
    assert hybrid.explain({"สุนัข"}, ["อบรม", "กฎหมาย", "กลุ่มเป้าหมาย"], 0.0, 0.0) == ()
    assert hybrid.explain({"สุนัข"}, ["ฉีดวัคซีน", "หมา", "จรจัด"], 0.0, 0.0) == (LEXICAL,)
    assert hybrid.explain({"ท่อ"}, ["ลอก", "ท่อระบายน้ำ"], 0.0, 0.0) == (LEXICAL,)
    # and the count reads words as the reason does: lines saying only "มูลฝอย" were shown "ตรงคำค้น" for "ขยะ"
    # and left out of total ("1 project" on waste: a committee walkthrough)
    assert hybrid.holds_every(["สุนัข"], ["ฉีดวัคซีน", "หมา", "จรจัด"]) and not hybrid.holds_every(["สุนัข"], ["อบรม", "กฎหมาย"])
    monkeypatch.undo()
    assert hybrid.holds_every(["ขยะ"], ["เก็บ", "มูลฝอย"]) and not hybrid.holds_every(["ขยะ", "คลอง"], ["เก็บ", "มูลฝอย"])


def test_a_search_of_projects_leaves_out_lines_that_only_name_an_office(tmp_path):
    """The ordinance's repayment section lists offices as item lines: "ฝุ่น PM2.5" had "สำนักสิ่งแวดล้อม"
    first among projects (a walkthrough); duplicates already left such lines out. Every kind leaves it out: the
    CLI's and the API's default (all) listed it where the page (projects) did not (a later walkthrough)."""
    app = Application(Settings(data_dir=tmp_path, index_encoder="tfidf"))
    app.ingest([Project(id="O1", org="งบประมาณรายจ่ายเพื่อชดใช้เงินยืม", name="สำนักสิ่งแวดล้อม"),
                Project(id="O2", org="งบประมาณรายจ่ายเพื่อชดใช้เงินยืม", name="สำนักงานพัฒนาระบบดิจิทัลและสารสนเทศกรุงเทพมหานคร"),
                Project(id="D1", org="สำนักงานพัฒนาระบบดิจิทัลและสารสนเทศกรุงเทพมหานคร", name="โครงการพัฒนาระบบสารสนเทศ สำนักงานพัฒนาระบบดิจิทัล"),
                Project(id="O3", org="งบประมาณรายจ่ายเพื่อชดใช้เงินยืม", name="ศูนย์ควบคุม CCTV"),
                Project(id="C1", org="ศูนย์ควบคุม CCTV", name="โครงการติดตั้งกล้อง CCTV ในชุมชน"),
                Project(id="P1", org="สำนักสิ่งแวดล้อม", name="โครงการตรวจวัดคุณภาพอากาศและฝุ่นละอองขนาดเล็ก สำนักสิ่งแวดล้อม"),
                Project(id="P2", org="สำนักงานเขตบางเขน", name="โครงการขุดลอกคลองบางบัว")])
    projects = app.search("สำนักสิ่งแวดล้อม", filters=app.search_filters(kind="project"), mode="keyword")
    assert [h.id for h in projects.hits] == ["P1"]
    assert [h.id for h in app.search("สำนักสิ่งแวดล้อม", filters=app.search_filters(kind="all"), mode="keyword").hits] == ["P1"]
    assert [h.id for h in app.search("สำนักสิ่งแวดล้อม", mode="keyword").hits] == ["P1"]
    # a long office name (9 keyword words with its compounds' heads; a cap on words missed it: blind review)
    digital = app.search("ระบบดิจิทัลและสารสนเทศ", filters=app.search_filters(kind="project"), mode="keyword")
    assert "O2" not in {h.id for h in digital.hits} and "D1" in {h.id for h in digital.hits}
    # an office name in Latin letters (its keyword words are lower case; a blind review)
    assert [h.id for h in app.search("CCTV", filters=app.search_filters(kind="project"), mode="keyword").hits] == ["C1"]


def test_feedback_votes_come_from_distinct_texts():
    """The top three were often copies of one line (50 districts budget the same routine line): their one
    vote made every copy a relevant hit under a dimension filter (a walkthrough)."""
    from planalign.index.hybrid import PARAMS, _feedback_seeds

    line, other, third = np.eye(3)
    passages = np.array([line, line, line, other, third, line])
    assert _feedback_seeds(passages, np.array([9.0, 8.9, 8.8, 5.0, 4.0, 8.7]), PARAMS) == [0, 3, 4]


def test_a_query_of_numbers_only_is_answered_by_the_texts_that_carry_them(tmp_path):
    """Meaning says nothing of a number: "48" listed 50 "งานปกครอง" lines as relevant (a walkthrough)."""
    app = Application(Settings(data_dir=tmp_path, index_encoder="static"))
    app.ingest([Project(id="S48", name="โครงการปรับปรุงถนนซอยพหลโยธิน 48"), Project(id="S52", name="โครงการปรับปรุงถนนซอยพหลโยธิน 52")]
               + [Project(id=f"G{i}", name="งานปกครอง", district=f"เขต{i}") for i in range(30)])
    page = app.search("48", limit=10)
    assert page.total == 1 and [h.id for h in page.hits] == ["S48"]
    # while the service's models warm up (the warm-up never ends here), a keyword answer needs none; meaning waits, then 503
    app._wait_limit = 0.05
    assert [h.id for h in app.search("48").hits] == ["S48"] and app.search("พหลโยธิน", mode="keyword").total == 2
    with pytest.raises(Unavailable):
        app.search("ถนนพหลโยธิน")


def test_results_with_the_same_text_are_one_hit_that_names_the_others(tmp_path):
    """Every district budgets the same routine lines: "ขยะ" listed 50 copies of one line before the
    Environment Department's own waste lines, on page 11 (a walkthrough)."""
    app = Application(Settings(data_dir=tmp_path, index_encoder="tfidf"))
    copies = [Project(id=f"W{i:02d}", name="งานเก็บขยะมูลฝอยและขนถ่ายสิ่งปฏิกูล", district=DISTRICTS[i % 20], fiscal_year=2566 + i % 2)
              for i in range(29)] + [Project(id="W29", name="งานเก็บขยะมูลฝอยและขนถ่ายสิ่งปฏิกูล", org="สำนักงานเขต" + DISTRICTS[0], fiscal_year=2560)]
    own = [Project(id="E1", org="สำนักสิ่งแวดล้อม", name="ผลผลิตจัดการขยะมูลฝอย"),
           Project(id="E2", org="สำนักสิ่งแวดล้อม", name="โครงการฝึกอบรมหลักสูตรการจัดการขยะมูลฝอยสำหรับผู้ประกอบการ")]
    app.ingest(copies + own + [Project(id=f"P{i}", name=n) for i, n in enumerate(["โครงการขุดลอกคลองบางบัว", "โครงการปลูกต้นไม้ริมถนน"])])
    page = app.search("ขยะ", mode="keyword", limit=10)
    line = next(h for h in page.hits if h.id.startswith("W"))
    assert {h.id for h in page.hits} >= {"E1", "E2"} and len([h for h in page.hits if h.id.startswith("W")]) == 1
    assert sorted([line.id, *line.copies]) == [c.id for c in copies] and page.total == 3 and page.total_rows == 32
    # how far the line goes (the hit shows one row's); an office named by its district alone or in full is one
    assert line.copies_years == [2560, 2566, 2567] and line.copies_orgs == 20
    assert copies_spread_thai(line) == " (20 หน่วยงาน, ปีงบประมาณ 2560, 2566-2567)"  # as the CLI and the page say it
    assert next(h for h in page.hits if h.id == "E1").copies_years == []
    app.ingest([Project(id="T1", name="งานเก็บขยะมูลฝอยและขนถ่ายสิ่งปฏิกูล", source="traffy_2023")])  # a citizen's report in the same words
    mixed = app.search("ขยะ", mode="keyword", limit=10)
    assert [(h.id, h.report) for h in mixed.hits if "T1" in [h.id, *h.copies]] == [("T1", True)] and mixed.total == 4
    assert app.search("ขยะ", filters=app.search_filters(kind="project"), mode="keyword", limit=10).total == 3
    every = app.search("ขยะ", mode="keyword", limit=40, collapse=False)
    assert len([h for h in every.hits if h.id.startswith("W")]) == 30 and every.total == 33 and not any(h.copies for h in every.hits)


def test_collapsed_search_pages_past_a_thousand_rows_and_keeps_numbered_lines_apart(tmp_path):
    """Identical texts were read among the best 1,000 rows only: a page past them came short and total
    stopped near 1,000 (a blind review); lines that differ only by a number are different texts."""
    app = Application(Settings(data_dir=tmp_path, index_encoder="tfidf"))
    app.ingest([Project(id=f"C{i:04d}", name=f"โครงการชุมชนสะอาด หมู่ที่ {i}") for i in range(1100)]
               + [Project(id=f"S{soi}", name=f"โครงการปรับปรุงถนนซอยพหลโยธิน {soi}") for soi in (48, 52)])
    page = app.search("ชุมชน", mode="keyword", offset=1090, limit=10)
    assert page.total == 1100 and len(page.hits) == 10 and not any(h.copies for h in page.hits)
    assert len(app.search("พหลโยธิน", mode="keyword").hits) == 2


def test_a_filter_never_raises_a_hits_score(tmp_path):
    """The feedback's voters were the filtered pool's best: "ขุดลอกคลอง" in a district group without a dredging
    project made its road and drain projects vote for each other into relevant hits (a walkthrough). The
    voters are the whole corpus's best now, so a hit scores under a filter exactly as it does without one."""
    app = Application(Settings(data_dir=tmp_path, index_encoder="tfidf"))
    projects = [Project(id=f"T{i}{j}", name=topic.format(place), district=place) for i, topic in enumerate(TOPICS) for j, place in enumerate(PLACES)]
    app.ingest(projects + [Project(id=f"D{i}", name=text, district="บางเขน") for i, text in enumerate(DRAINAGE)])
    everywhere = {h.id: h.score for h in app.search("ขุดลอกคลอง", limit=60, collapse=False).hits}
    filtered = app.search("ขุดลอกคลอง", filters=app.search_filters(None, "ดุสิต"), limit=10, collapse=False).hits
    assert filtered and all(h.score == everywhere[h.id] for h in filtered)


def test_deleted_rows_never_vote_and_an_unnarrowed_search_asks_no_seeds(tmp_path, monkeypatch):
    """A blind review: the whole corpus's voters included a deleted project (index rows stay until a rebuild),
    and every search on an index with deleted rows took the narrowed path."""
    from planalign.index import hybrid
    from planalign.index.hybrid import _centered_passages

    app = Application(Settings(data_dir=tmp_path, index_encoder="tfidf"))
    projects = [Project(id=f"T{i}{j}", name=topic.format(place), district=place) for i, topic in enumerate(TOPICS) for j, place in enumerate(PLACES)]
    app.ingest(projects + [Project(id=f"D{i}", name=text, district="บางเขน") for i, text in enumerate(DRAINAGE)]
               + [Project(id="X1", name="โครงการขุดลอกคลองลาดพร้าวและคลองบางซื่อ", district="บางเขน")])
    index = app.index()
    gone = _centered_passages(index, np.array([index.position["X1"]]))[0]
    app.delete(["X1"])
    voters = []
    original = hybrid._unfiltered_seeds
    monkeypatch.setattr(hybrid, "_unfiltered_seeds", lambda *a, **k: voters.append(original(*a, **k)) or voters[-1])
    app.search("ขุดลอกคลอง", limit=5)
    assert voters == []  # not narrowed: the pool's own best vote, as before
    app.search("ขุดลอกคลอง", filters=app.search_filters(None, "ดุสิต"), limit=5)
    assert len(voters) == 1 and len(voters[0]) and not any(np.allclose(v, gone, atol=1e-6) for v in voters[0])


def test_a_word_inside_a_compound_is_found_and_hits_holding_every_query_word_count(tmp_path):
    """The dictionary keeps "เขตปลอดบุหรี่" whole: keyword search for "บุหรี่" found none of 12 districts' smoke-free
    lines, and the hybrid counted none of them in ``total`` though they were its top hits (an integrator's walkthrough)."""
    app = Application(Settings(data_dir=tmp_path, index_encoder="tfidf"))
    smoke_free = [f"โครงการรณรงค์เขตปลอดบุหรี่ในชุมชน{place}" for place in PLACES[:3]]
    texts = [topic.format(place) for topic in TOPICS for place in PLACES] + smoke_free + ["โครงการอบรมผู้ช่วยพยาบาลชุมชน"]
    app.ingest([Project(id=f"S{i}", name=text) for i, text in enumerate(texts)])
    keyword = app.search("บุหรี่", mode="keyword", limit=10)
    assert keyword.total == 3 and {h.name for h in keyword.hits} == set(smoke_free)
    hybrid = app.search("บุหรี่", limit=10)
    assert hybrid.total >= 3 and {h.name for h in hybrid.hits[:3]} == set(smoke_free) and all(h.relevant for h in hybrid.hits[:3])
    assert not app.search("ยา", mode="keyword").hits  # found as a whole word only: "ยา" is no part of "พยาบาล"
    assert not any(h.relevant for h in app.search("ยา", limit=50).hits if "พยาบาล" in h.name)  # nor counted so in the hybrid (a blind review)


def test_a_query_word_is_looked_for_in_a_bounded_number_of_compounds(monkeypatch):
    """Unbounded, a one-letter query sat in 1,182 compounds of 117k reports: 1.6 s and 1.1 GB a request (a blind review)."""
    from planalign.index import keyword as keyword_module
    from planalign.index.keyword import KeywordIndex

    index = KeywordIndex([["เขตปลอดบุหรี่"], ["สูบบุหรี่"], ["สูบบุหรี่"], ["ก้นบุหรี่"], ["ยาเสพติด"], ["ก"]])
    assert index.compounds_of("ยา") == [] and index.compounds_of("ก") == []  # under three characters: words whole
    monkeypatch.setattr(keyword_module, "MAX_COMPOUNDS", 2)
    assert index.compounds_of("บุหรี่")[0] == "สูบบุหรี่" and len(index.compounds_of("บุหรี่")) == 2  # those in most documents
    assert np.count_nonzero(index.scores(["บุหรี่"])) == 3


def test_the_lexical_reason_takes_whole_words_only(tmp_path):
    """"ตรงคำค้น" came from a substring: "ยา" in "พยาบาล", which a small store then counted as a match (a blind review)."""
    app = Application(Settings(data_dir=tmp_path, index_encoder="tfidf"))
    app.ingest([Project(id="A", name="โครงการอบรมผู้ช่วยพยาบาลชุมชน"), Project(id="B", name="โครงการรณรงค์ต่อต้านยาเสพติดในโรงเรียน"),
                Project(id="C", name="โครงการปลูกต้นไม้ริมถนน")])
    page = app.search("ยา")
    assert page.total == 1 and page.hits[0].id == "B" and LEXICAL in page.hits[0].why
    assert all(LEXICAL not in h.why for h in page.hits if h.id == "A")
