"""Where planalign keeps its state (caches, store, indexes, jobs).

Every command takes ``--data-dir``; without it the ``PLANALIGN_DATA`` environment variable wins,
else a per-user data directory. Keeping all state under one root is what lets two data directories
run side by side without interfering.
"""
from __future__ import annotations

import os
from pathlib import Path

import platformdirs

ENV_DATA_DIR = "PLANALIGN_DATA"


def resolve_data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Return the data directory (created if needed): explicit > $PLANALIGN_DATA > user dir."""
    chosen = explicit or os.environ.get(ENV_DATA_DIR) or platformdirs.user_data_dir("planalign")
    path = Path(chosen).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path
