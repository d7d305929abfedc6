from planalign.nlp.tokenize import bma_vocabulary, chunk, content_tokens, holds_in, holds_word, index_words, split_sentences, tokenize


def test_dotted_abbreviations_stay_whole():
    tokens = tokenize("ก่อสร้างรางระบายน้ำ ค.ส.ล. ของ กทม.")
    assert "ค.ส.ล." in tokens
    assert "กทม." in tokens


def test_custom_dictionary_keeps_district_names_whole():
    vocabulary = bma_vocabulary()
    assert "ลาดพร้าว" in vocabulary or "บางขุนเทียน" in vocabulary
    assert "บางขุนเทียน" in tokenize("ปลูกป่าชายเลนที่บางขุนเทียน")


def test_content_tokens_expand_abbreviations_and_drop_stopwords():
    tokens = content_tokens("โครงการของ กทม. เพื่อขุดลอกคลอง")
    assert "กรุงเทพมหานคร" in tokens
    assert "ของ" not in tokens and "โครงการ" not in tokens
    assert "คลอง" in tokens


def test_sentences_split_on_lines_and_merge_short_pieces():
    text = "โครงการขุดลอกคลองเปรมประชากรเพื่อระบายน้ำ\nเป้าหมาย ความยาว 5 กิโลเมตร\nงบ 2 ล้าน"
    sentences = split_sentences(text)
    assert sentences[0].startswith("โครงการขุดลอกคลอง")
    assert len(sentences) == 2  # the last short piece merges into its neighbour
    assert "งบ 2 ล้าน" in sentences[-1]


def test_chunk_respects_limit_and_keeps_all_text():
    text = " ".join(["ขุดลอกคลอง"] * 200)
    pieces = chunk(text, max_chars=100)
    assert all(len(p) <= 100 for p in pieces)
    assert "".join(pieces).replace(" ", "") == text.replace(" ", "")


def test_a_full_stop_after_a_word_does_not_split_the_word():
    """The abbreviation guard took "ซ่อมถนน." for an abbreviation ending in "มถนน." and cut the word
    ("ซ่อ" + "มถนน."); a one-letter abbreviation glued to a word ("บ้าน." -> "บ้า" + "น.") likewise.
    About 40% of Traffy reports carry a Thai word followed by a dot."""
    assert tokenize("ซ่อมถนน. ทางเท้า") == ["ซ่อม", "ถนน", ".", "ทางเท้า"]
    assert content_tokens("น้ำท่วมขังหน้าบ้าน. แจ้งเขตแล้ว") == ["น้ำท่วมขัง", "หน้าบ้าน", "แจ้ง", "เขต"]
    assert content_tokens("การศึกษา. ครู") == ["การศึกษา", "ครู"]
    # abbreviations stay whole: known and glued, several dots, standing alone, a time's น.
    assert content_tokens("งบของกทม.") == ["งบ", "กรุงเทพมหานคร"]
    assert tokenize("ถนนค.ส.ล.") == ["ถนน", "ค.ส.ล."]
    assert tokenize("ซอยลาดพร้าว ถ.ลาดพร้าว")[2] == "ถ."
    assert tokenize("เวลา 10.00 น.")[-1] == "น."


def test_index_words_add_the_head_of_a_compound_and_a_bma_name_after_it():
    words = content_tokens("ขุดลอกคลองลาดพร้าว จัดเก็บขยะอันตราย")
    assert {"คลองลาดพร้าว", "ขยะอันตราย"} <= set(words) and not {"คลอง", "ขยะ"} & set(words)
    assert {"คลอง", "ลาดพร้าว", "ขยะ"} <= set(index_words(words))
    assert "อันตราย" not in index_words(words)  # a rest that is no BMA name stays inside the compound
    assert index_words(["น้ำ"]) == ["น้ำ"]


def test_a_rare_dictionary_word_does_not_cut_a_common_bma_word(tmp_path):
    """newmm takes either of two cuts into two words: "ทาง" + "เท้าหน้า" (front leg) kept keyword search
    from finding "โครงการปรับปรุงทางเท้าหน้าตลาดบางแค" for "ทางเท้า" (a walkthrough); nlp/data/not_words.txt."""
    assert tokenize("โครงการปรับปรุงทางเท้าหน้าตลาดบางแค")[2:4] == ["ทางเท้า", "หน้า"]
    assert tokenize("สะพานลอยหน้าโรงเรียน")[:2] == ["สะพานลอย", "หน้า"] and tokenize("ไฟทางในซอย")[:2] == ["ไฟทาง", "ใน"]
    from planalign.app import Application
    from planalign.config import Settings
    from planalign.corpora.projects import Project

    app = Application(Settings(data_dir=tmp_path, index_encoder="tfidf"))
    app.ingest([Project(id="S1", name="โครงการปรับปรุงทางเท้าหน้าตลาดบางแค"), Project(id="S2", name="โครงการขุดลอกคลองบางบัว")])
    assert [h.id for h in app.search("ทางเท้า", mode="keyword").hits] == ["S1"]


def test_a_compound_holds_a_word_only_where_the_rest_is_words():
    assert holds_word("เขตปลอดบุหรี่", "บุหรี่") and holds_word("ยาเสพติด", "ยา") and holds_word("คลองลาดพร้าว", "ลาดพร้าว")
    assert not holds_word("พยาบาล", "ยา") and not holds_word("ยาว", "ยา") and not holds_word("กฎหมาย", "หมา")
    # across the words of a text too, each end between two words
    assert holds_in(["ลอก", "ท่อระบายน้ำ"], "ลอกท่อ") and holds_in(["ขุดลอก", "คลอง"], "ขุดลอกคลอง")
    assert not holds_in(["ผู้ช่วย", "พยาบาล"], "ยา") and not holds_in(["ซ่อม", "ถนน", "มีนบุรี"], "นม")
