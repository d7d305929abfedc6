"""Build an encoder by name, the way pythainlp picks an ``engine=``.

Names: ``e5`` (default, best quality), ``static`` (e5 distilled to a word table, fastest),
``use`` (fast), ``tfidf`` (no model), ``st:<local dir>``.
Models are expensive to load, so one instance per name is shared within a process.
"""
from __future__ import annotations

import threading
from pathlib import Path

from planalign.nlp.encoders.base import Encoder, EncoderError
from planalign.nlp.encoders.cache import CachedEncoder

ENCODER_NAMES = ("e5", "static", "use", "tfidf", "st:<local model dir>")
# Not an encoder but a choice of the same option: static for clear drafts, e5 for uncertain ones.
CASCADE = "cascade"
CASCADE_BELOW = 0.6  # top confidence under which e5 re-aligns (chosen on the dev set and Traffy-2022, eval/README.md)
DEFAULT_ENCODER = "e5"
# The search index embeds every stored project: static gives e5's search and duplicate quality
# (eval/README.md) at a small fraction of the time, so bulk indexing defaults to it.
DEFAULT_INDEX_ENCODER = "static"

_instances: dict[str, Encoder] = {}
_lock = threading.Lock()


def _build(name: str) -> Encoder:
    if name == "e5":
        from planalign.nlp.encoders.e5 import E5Encoder

        return E5Encoder()
    if name == "use":
        from planalign.nlp.encoders.use import USEEncoder

        return USEEncoder()
    if name == "tfidf":
        from planalign.nlp.encoders.tfidf import TfidfEncoder

        return TfidfEncoder()
    if name.startswith("st:"):
        from planalign.nlp.encoders.st import SentenceTransformerEncoder

        return SentenceTransformerEncoder(name[3:])
    raise EncoderError(f"unknown encoder {name!r}; choose one of: {', '.join(ENCODER_NAMES)}")


def get_encoder(name: str = DEFAULT_ENCODER, cache_dir: Path | None = None) -> Encoder:
    """Return the shared encoder ``name``, with an on-disk cache under ``cache_dir`` when given.

    The model-free ``tfidf`` and the table-based ``static`` encoders are not cached per text:
    computing them is cheaper than a lookup (``static`` caches its words through its e5 teacher).
    """
    if name == "static":
        from planalign.nlp.encoders.static import StaticEncoder

        teacher = get_encoder("e5", cache_dir)
        key = f"static@{cache_dir}"
        with _lock:
            if key not in _instances:
                _instances[key] = StaticEncoder(teacher)
            return _instances[key]
    with _lock:
        if name not in _instances:
            _instances[name] = _build(name)
        encoder = _instances[name]
    if cache_dir is None or name == "tfidf":
        return encoder
    safe = "".join(ch if ch.isalnum() else "_" for ch in encoder.name)[-60:]
    return CachedEncoder(encoder, Path(cache_dir) / f"embeddings-{safe}.sqlite")
