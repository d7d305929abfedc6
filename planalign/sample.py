"""The embedded sample projects, loaded fast on a fresh machine.

``make run`` starts on an empty data directory and loads the 323 sample projects: embedding them
with e5 (the index encoder ``auto`` chooses for that size, two views per project, and their
alignment to the default catalog) took minutes on 2 cores before the service could answer. The
vectors are the same on every machine, so they are computed once (``make sample-vectors``, which
runs exactly what a first start runs, on a temporary data directory, and keeps every vector the
embedding caches received) and shipped as ``corpora/data/sample_vectors.npz``; every new data
directory's embedding cache starts from them (:mod:`planalign.shipped_vectors`), so no sample text
reaches a model.
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from planalign.app import Application, IngestOutcome
from planalign.config import Settings
from planalign.corpora.projects import sample_projects
from planalign.nlp.encoders.base import Progress
from planalign.shipped_vectors import shipped_path, write_shipped_vectors


def ingest_sample(core: Application, progress: Progress | None = None) -> IngestOutcome:
    """The sample projects into the store and the index (their vectors are shipped: :mod:`planalign.shipped_vectors`)."""
    return core.ingest(sample_projects(), progress=progress, reconcile=True)


def build_sample_vectors(out: Path) -> None:
    """What a first start embeds for the sample with the default encoders, as an npz (``make sample-vectors``)."""
    with tempfile.TemporaryDirectory() as folder:
        defaults = {name: Settings.model_fields[name].default for name in ("encoder", "index_encoder", "catalog", "db_url")}
        # the defaults, whatever the environment says; an empty cache (not started from the vectors it replaces)
        core = Application(Settings(data_dir=Path(folder), **defaults), shipped_vectors=False)
        try:
            core.ingest(sample_projects(), reconcile=True)
            core.warm_up()
            shapes = write_shipped_vectors(core.cache_dir, out)
        finally:
            core.close()
    print(f"wrote {out}: " + ", ".join(f"{name} {shape}" for name, shape in shapes.items()), file=sys.stderr)


if __name__ == "__main__":
    build_sample_vectors(shipped_path())
