"""The embedded sample projects, loaded fast on a fresh machine.

``make run`` starts on an empty data directory and loads the 323 sample projects: embedding them
with e5 (the index encoder ``auto`` chooses for that size, two views per project, and their
alignment to the default catalog) took minutes on 2 cores before the service could answer. The
vectors are the same on every machine, so they are computed once (``make sample-vectors``, which
runs exactly what a first start runs, on a temporary data directory, and keeps every vector the
embedding caches received) and shipped as ``corpora/data/sample_vectors.npz``; a first start puts
them into the embedding cache, and no sample text reaches a model.
"""
from __future__ import annotations

import sys
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from planalign.app import Application, IngestOutcome
from planalign.config import Settings
from planalign.corpora.projects import sample_projects
from planalign.nlp.encoders.base import Progress
from planalign.nlp.encoders.cache import cache_rows, preload

VECTORS_FILE = "sample_vectors.npz"
_SEPARATOR = "__"  # npz member names: "<cache file stem>__keys" and "<cache file stem>__vectors"


def sample_size() -> int:
    return len(sample_projects())


def preload_sample_vectors(core: Application) -> int:
    """Put the shipped vectors into this data directory's embedding caches; how many were new."""
    source = resources.files("planalign.corpora").joinpath("data", VECTORS_FILE)
    if not source.is_file():
        return 0
    with source.open("rb") as handle, np.load(handle) as arrays:
        stems = {name.rsplit(_SEPARATOR, 1)[0] for name in arrays.files}
        return sum(preload(core.cache_dir / f"{stem}.sqlite", [k.decode() for k in arrays[f"{stem}{_SEPARATOR}keys"]],
                           arrays[f"{stem}{_SEPARATOR}vectors"]) for stem in sorted(stems))


def ingest_sample(core: Application, progress: Progress | None = None) -> IngestOutcome:
    """The sample projects into the store and the index, from the shipped vectors where they fit."""
    preload_sample_vectors(core)
    return core.ingest(sample_projects(), progress=progress, reconcile=True)


def build_sample_vectors(out: Path) -> None:
    """What a first start embeds for the sample with the default encoders, as an npz (``make sample-vectors``)."""
    with tempfile.TemporaryDirectory() as folder:
        defaults = {name: Settings.model_fields[name].default for name in ("encoder", "index_encoder", "catalog", "db_url")}
        core = Application(Settings(data_dir=Path(folder), **defaults))  # the defaults, whatever the environment says
        try:
            core.ingest(sample_projects(), reconcile=True)
            core.warm_up()
            arrays: dict[str, Any] = {}  # Any: numpy types savez_compressed(**arrays) as bool-valued
            for path in sorted(core.cache_dir.glob("embeddings-*.sqlite")):
                keys, vectors = cache_rows(path)
                arrays[f"{path.stem}{_SEPARATOR}keys"] = np.array(keys, dtype="S40")
                arrays[f"{path.stem}{_SEPARATOR}vectors"] = vectors
        finally:
            core.close()
    np.savez_compressed(out, **arrays)
    print(f"wrote {out}: " + ", ".join(f"{name} {array.shape}" for name, array in arrays.items() if name.endswith("vectors")), file=sys.stderr)


if __name__ == "__main__":
    build_sample_vectors(Path(str(resources.files("planalign.corpora").joinpath("data", VECTORS_FILE))))
