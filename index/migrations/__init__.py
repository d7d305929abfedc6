"""Alembic migrations of the store: ``upgrade()`` brings any store (SQLite, PostgreSQL) to head."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

HERE = Path(__file__).resolve().parent


def upgrade(engine: Engine) -> None:
    """Apply every migration the store lacks (a store made before migrations existed included)."""
    config = Config()
    config.set_main_option("script_location", str(HERE))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
