"""Service configuration: environment variables, optionally a TOML file, then command-line flags.

| setting | environment | default |
|---|---|---|
| data_dir | PLANALIGN_DATA | per-user data directory |
| db_url | PLANALIGN_DB_URL | SQLite file in the data directory |
| catalog | PLANALIGN_CATALOG | bma-9d |
| encoder | PLANALIGN_ENCODER | e5 (aligns drafts) |
| index_encoder | PLANALIGN_INDEX_ENCODER | static (builds a new search index) |
| api_keys | PLANALIGN_API_KEYS (comma-separated) | none: writes are open |
| read_requires_key | PLANALIGN_READ_REQUIRES_KEY | false |
| max_body_bytes | PLANALIGN_MAX_BODY_BYTES | 20 MB |
| sync_classify_limit | PLANALIGN_SYNC_CLASSIFY_LIMIT | 100 texts |
"""
from __future__ import annotations

import os
import tomllib
from pathlib import Path

from pydantic import BaseModel, Field

from planalign.nlp.encoders.factory import DEFAULT_ENCODER, DEFAULT_INDEX_ENCODER

_ENV = {
    "data_dir": "PLANALIGN_DATA",
    "db_url": "PLANALIGN_DB_URL",
    "catalog": "PLANALIGN_CATALOG",
    "encoder": "PLANALIGN_ENCODER",
    "index_encoder": "PLANALIGN_INDEX_ENCODER",
    "api_keys": "PLANALIGN_API_KEYS",
    "read_requires_key": "PLANALIGN_READ_REQUIRES_KEY",
    "max_body_bytes": "PLANALIGN_MAX_BODY_BYTES",
    "sync_classify_limit": "PLANALIGN_SYNC_CLASSIFY_LIMIT",
}


class Settings(BaseModel):
    data_dir: Path | None = None
    db_url: str | None = None
    catalog: str = "bma-9d"
    encoder: str = DEFAULT_ENCODER
    index_encoder: str = DEFAULT_INDEX_ENCODER
    api_keys: list[str] = Field(default_factory=list)
    read_requires_key: bool = False
    max_body_bytes: int = 20 * 1024 * 1024
    sync_classify_limit: int = 100

    @classmethod
    def load(cls, config_file: str | Path | None = None, **overrides: object) -> "Settings":
        """File values, overridden by environment variables, overridden by explicit arguments."""
        values: dict[str, object] = {}
        config_file = config_file or os.environ.get("PLANALIGN_CONFIG")
        if config_file:
            with open(config_file, "rb") as handle:
                values.update(tomllib.load(handle).get("planalign", {}))
        for name, variable in _ENV.items():
            raw = os.environ.get(variable)
            if raw is None:
                continue
            if name == "api_keys":
                values[name] = [k.strip() for k in raw.split(",") if k.strip()]
            elif name == "read_requires_key":
                values[name] = raw.strip().lower() in {"1", "true", "yes", "on"}
            else:
                values[name] = raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)
