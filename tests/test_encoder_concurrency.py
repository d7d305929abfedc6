"""Encoders shared by request threads and background work (issue 15): a miss never stalls other threads."""
import threading
import time

import numpy as np

from planalign.nlp.encoders.base import Encoder
from planalign.nlp.encoders.cache import CachedEncoder
from planalign.nlp.encoders.static import StaticEncoder


class SlowTeacher(Encoder):
    """A stand-in for e5: words containing "slow" take seconds to embed."""

    name = "slow-teacher"
    dim = 8

    def _embed(self, texts, kind):
        if any("slow" in t for t in texts):
            time.sleep(3)
        rng = np.random.default_rng(abs(hash(tuple(texts))) % 2**32)
        return rng.normal(size=(len(texts), self.dim))


def test_a_static_miss_is_embedded_outside_the_lock(tmp_path):
    teacher = CachedEncoder(SlowTeacher(), tmp_path / "cache.sqlite")
    basis = {"mean_query": np.zeros(8), "mean_passage": np.zeros(8), "projection": np.eye(8)}
    encoder = StaticEncoder(teacher, basis)
    encoder.encode_tokens([["ถนน", "คลอง"]], "query")  # known words
    slow = threading.Thread(target=lambda: encoder.encode_tokens([["slowword1", "slowword2"]], "query"))
    slow.start()
    time.sleep(0.3)  # the slow batch is now inside the teacher
    started = time.perf_counter()
    fast = encoder.encode_tokens([["ถนน"], ["คลอง", "ถนน"]], "query")
    assert time.perf_counter() - started < 1.0  # before: waited the whole 3 s behind the lock
    assert fast.shape == (2, 8) and np.allclose(np.linalg.norm(fast, axis=1), 1)
    slow.join()
    both = encoder.encode_tokens([["slowword1", "ถนน"]], "query")
    assert both.shape == (1, 8)


def test_concurrent_misses_of_the_same_words_agree(tmp_path):
    teacher = CachedEncoder(SlowTeacher(), tmp_path / "cache.sqlite")
    basis = {"mean_query": np.zeros(8), "mean_passage": np.zeros(8), "projection": np.eye(8)}
    encoder = StaticEncoder(teacher, basis)
    words = [[f"คำ{i}" for i in range(50)]]
    results = []
    threads = [threading.Thread(target=lambda: results.append(encoder.encode_tokens(words, "passage"))) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 6 and all(np.allclose(r, results[0]) for r in results)
