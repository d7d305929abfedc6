"""Vectors shipped with the package, put into a data directory's embedding cache before a model runs.

``corpora/data/sample_vectors.npz`` holds every vector a first start on the embedded data computes
with the default encoders (e5 and USE): the embedded catalog's node texts and the sample projects'
index views and alignment (``make sample-vectors`` builds it, :mod:`planalign.sample`). They are the
same on every machine, so each new data directory starts its cache from them: the first alignment on
the default catalog no longer embeds its node texts (about 15 s of e5 on 2 cores, measured on a
one-row ``planalign ingest``: 16.8 s -> 3.8 s), and the sample's first start embeds nothing.

A marker file named after the npz's digest records that a cache directory received this version of
the vectors, so later processes skip the copy; a new package version with other vectors copies again
(vectors already cached are kept).
"""
from __future__ import annotations

import functools
import hashlib
import io
import logging
from importlib import resources
from pathlib import Path

import numpy as np

from planalign.nlp.encoders.cache import cache_rows, preload

log = logging.getLogger("planalign.shipped_vectors")
VECTORS_FILE = "sample_vectors.npz"
SEPARATOR = "__"  # npz member names: "<cache file stem>__keys" and "<cache file stem>__vectors"


def shipped_path() -> Path:
    return Path(str(resources.files("planalign.corpora").joinpath("data", VECTORS_FILE)))


@functools.cache
def _shipped() -> tuple[bytes, str] | None:
    """The npz's bytes and digest (read once per process), or None when the package has none."""
    source = shipped_path()
    if not source.is_file():
        return None
    data = source.read_bytes()
    return data, hashlib.sha1(data).hexdigest()[:16]


def seed_cache(cache_dir: Path) -> int:
    """Put the shipped vectors into the embedding caches under ``cache_dir`` unless they are there
    already (the marker, and the cache files it was written beside); how many vectors were new.
    Only a speed-up: a file that cannot be read or written is logged and the models compute the
    vectors as before."""
    shipped = _shipped()
    if shipped is None:
        return 0
    data, digest = shipped
    marker = cache_dir / f".shipped-{digest}"
    try:
        with np.load(io.BytesIO(data)) as arrays:
            stems = sorted({name.rsplit(SEPARATOR, 1)[0] for name in arrays.files})
            if marker.exists() and all((cache_dir / f"{stem}.sqlite").exists() for stem in stems):
                return 0
            added = sum(preload(cache_dir / f"{stem}.sqlite", [k.decode() for k in arrays[f"{stem}{SEPARATOR}keys"]],
                                arrays[f"{stem}{SEPARATOR}vectors"]) for stem in stems)
        cache_dir.mkdir(parents=True, exist_ok=True)
        marker.touch()
    except Exception as exc:  # a damaged package file, a full disk, a cache we may not write: embed as before
        log.warning("could not start the embedding cache %s from the shipped vectors: %s", cache_dir, exc)
        return 0
    return added


def write_shipped_vectors(cache_dir: Path, out: Path) -> dict[str, tuple[int, ...]]:
    """Every vector of the caches under ``cache_dir`` as the npz to ship; each array's shape."""
    arrays: dict[str, np.ndarray] = {}
    for path in sorted(cache_dir.glob("embeddings-*.sqlite")):
        keys, vectors = cache_rows(path)
        arrays[f"{path.stem}{SEPARATOR}keys"] = np.array(keys, dtype="S40")
        arrays[f"{path.stem}{SEPARATOR}vectors"] = vectors
    np.savez_compressed(out, **arrays)  # type: ignore[arg-type]
    return {name: array.shape for name, array in arrays.items() if name.endswith("vectors")}
