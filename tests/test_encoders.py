import numpy as np
import pytest

from planalign.nlp.encoders import EncoderError, get_encoder
from planalign.nlp.encoders.base import Encoder
from planalign.nlp.encoders.cache import CachedEncoder


class Counting(Encoder):
    name = "counting"
    dim = 3

    def __init__(self):
        self.seen: list[str] = []

    def _embed(self, texts, kind):
        self.seen.extend(texts)
        return np.array([[len(t), 1.0 if kind == "query" else 0.0, 1.0] for t in texts])


def test_cache_embeds_each_text_once_per_side(tmp_path):
    inner = Counting()
    cached = CachedEncoder(inner, tmp_path / "c.sqlite")
    first = cached.encode(["ขุดลอกคลอง", "ลอกท่อ", "ขุดลอกคลอง"], "passage")
    again = CachedEncoder(inner, tmp_path / "c.sqlite").encode(["ลอกท่อ", "ขุดลอกคลอง"], "passage")
    assert inner.seen == ["ขุดลอกคลอง", "ลอกท่อ"]
    assert np.allclose(first[1], again[0]) and np.allclose(first[0], first[2])
    cached.encode(["ลอกท่อ"], "query")  # the query side is a different embedding
    assert inner.seen[-1] == "ลอกท่อ"
    assert np.allclose(np.linalg.norm(first, axis=1), 1.0)


def test_a_damaged_cache_is_set_aside_and_a_cache_failing_in_use_is_done_without(tmp_path, caplog):
    """The cache only saves time (README), yet a truncated file (a restore cut short) stopped every command with
    "database disk image is malformed" and kept the service from ever being ready (an operator's year)."""
    path = tmp_path / "c.sqlite"
    first = CachedEncoder(Counting(), path)
    first.encode([f"ขุดลอกคลองสายที่ {n}" for n in range(3000)], "passage")
    first._connection().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    first._connection().close()
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])  # cut short, as a copy stopped half way
    for suffix in ("-wal", "-shm"):
        (tmp_path / f"c.sqlite{suffix}").unlink(missing_ok=True)
    inner = Counting()
    with caplog.at_level("WARNING", logger="planalign.cache"):
        vectors = CachedEncoder(inner, path).encode(["ลอกท่อ", "ขุดลอกคลองสายที่ 1"], "passage")
    assert vectors.shape == (2, 3) and inner.seen == ["ลอกท่อ", "ขุดลอกคลองสายที่ 1"]
    assert [p.name.split(".damaged-")[0] for p in tmp_path.glob("c.sqlite.damaged-*")] == ["c.sqlite"]
    assert "moved to c.sqlite.damaged-" in caplog.text
    again = Counting()
    CachedEncoder(again, path).encode(["ลอกท่อ"], "passage")
    assert again.seen == []  # the new cache keeps what it was given
    # failing while in use (a full disk, damage a read finds): answered without it
    broken = CachedEncoder(Counting(), path)
    broken._connection().close()
    broken._local.db = _Failing()
    assert broken.encode(["ปลูกต้นไม้ริมคลอง"], "passage").shape == (1, 3) and broken._failed


def test_a_full_disk_at_open_leaves_a_healthy_cache_where_it_is(tmp_path, monkeypatch):
    """A full disk at start was taken for damage: the healthy cache was moved aside, and the start failed all the same
    (a blind review). The cache is done without for a while, and kept."""
    import sqlite3

    from planalign.nlp.encoders import cache

    path = tmp_path / "c.sqlite"
    CachedEncoder(Counting(), path).encode(["ลอกท่อ"], "passage")

    def full(db):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(cache, "_create", full)
    inner = Counting()
    encoder = CachedEncoder(inner, path)
    assert encoder.encode(["ลอกท่อ"], "passage").shape == (1, 3) and inner.seen == ["ลอกท่อ"] and encoder._failed
    assert not list(tmp_path.glob("*.damaged-*")) and path.exists()
    monkeypatch.setattr(cache, "_create", lambda db: (_ for _ in ()).throw(sqlite3.ProgrammingError("a bug")))
    with pytest.raises(sqlite3.ProgrammingError):  # a programming error is raised, not taken for a failing cache
        CachedEncoder(Counting(), path)


class _Failing:
    """A connection whose every statement fails as a damaged file's does."""

    def execute(self, *args, **kwargs):
        raise __import__("sqlite3").DatabaseError("database disk image is malformed")

    executemany = execute

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_tfidf_vectors_are_unit_and_similar_for_similar_thai():
    encoder = get_encoder("tfidf")
    vectors = encoder.encode_passages(["ขุดลอกคลองแสนแสบ", "ขุดลอกคลองลาดพร้าว", "อบรมอาสาสมัคร"])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]


def test_e5_query_and_passage_sides_differ_and_match_meaning():
    encoder = get_encoder("e5")
    query = encoder.encode_queries(["น้ำท่วม"])[0]
    passages = encoder.encode_passages(["ก่อสร้างเขื่อนป้องกันน้ำท่วม", "จัดอบรมคอมพิวเตอร์ให้ผู้สูงอายุ"])
    assert passages[0] @ query > passages[1] @ query
    assert not np.allclose(encoder.encode_passages(["น้ำท่วม"])[0], query)


@pytest.mark.parametrize("name, message", [("bert", "unknown encoder"), ("st:/no/such/dir", "no such local model directory")])
def test_factory_errors(name, message):
    with pytest.raises(EncoderError, match=message):
        get_encoder(name)


def test_static_encoder_matches_meaning_and_keeps_sides_apart(session_data_dir):
    static = get_encoder("static", session_data_dir / "cache")
    drafts = ["ขุดลอกคลองระบายน้ำป้องกันน้ำท่วมขัง", "อบรมผู้สูงอายุใช้โทรศัพท์มือถือ"]
    catalog = static.encode_passages(["การระบายน้ำและป้องกันน้ำท่วม", "การดูแลและพัฒนาทักษะผู้สูงอายุ"])
    queries = static.encode_queries(drafts)
    similarity = queries @ catalog.T
    assert similarity[0, 0] > similarity[0, 1] and similarity[1, 1] > similarity[1, 0]
    assert np.allclose(np.linalg.norm(queries, axis=1), 1.0)
    # Drafts are read with the teacher's query-side word vectors, stored texts with passage-side ones.
    assert not np.allclose(static.encode_passages(drafts[:1])[0], queries[0])


def test_static_encoder_reads_pre_split_words_like_raw_text(session_data_dir):
    from planalign.nlp.tokenize import content_tokens

    static = get_encoder("static", session_data_dir / "cache")
    texts = ["ซ่อมแซมทางเท้าชำรุด ถ.พหลโยธิน", "", "ติดตั้งกล้องวงจรปิด (CCTV) ในชุมชน"]
    from_text = static.encode_passages(texts)
    from_tokens = static.encode_tokens([content_tokens(t) for t in texts], "passage")
    assert np.allclose(from_text, from_tokens, atol=1e-6)
    assert not from_text[1].any()  # a text without words is a zero row, not NaN


def test_a_cold_static_table_moves_the_progress_bar_as_words_are_embedded():
    """The first run embeds every word with e5 (~100 a second): 4,096 texts' words in one step left the
    progress bar still for minutes. Batches are cut at 512 new words, and the vectors do not depend on it."""
    from planalign.nlp.encoders.static import StaticEncoder

    dim = 384
    basis = {"mean_query": np.zeros(dim, np.float32), "mean_passage": np.zeros(dim, np.float32), "projection": np.eye(dim, dtype=np.float32)}

    class Words(Encoder):
        name, dim = "words", 384

        def _embed(self, texts, kind):
            return np.random.default_rng(len(texts)).normal(size=(len(texts), 384))

    texts = [[f"คำ{i}", f"คำ{i + 1}", "คลอง"] for i in range(0, 3000, 2)]  # 1,500 texts, 3,001 distinct words
    steps: list[int] = []
    cold = StaticEncoder(Words(), basis)
    vectors = cold.encode_tokens(texts, "query", steps.append)
    assert sum(steps) == len(texts) and len(steps) >= 6 and max(steps) <= 256
    warm: list[int] = []
    assert np.allclose(cold.encode_tokens(texts, "query", warm.append), vectors, atol=1e-5)
    assert warm == [len(texts)]  # a warm table: one batch, the same vectors
