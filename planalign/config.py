"""One configuration for every entry point: flags > environment > TOML file > defaults.

Every CLI command, ``serve``, the job worker, ``make eval`` and ``make bench`` build their
:class:`Settings` with :meth:`Settings.load`, so a variable documented in the README works for every
command it names.

| setting | environment | default |
|---|---|---|
| data_dir | PLANALIGN_DATA | per-user data directory |
| db_url | PLANALIGN_DB_URL | SQLite file in the data directory |
| catalog | PLANALIGN_CATALOG | bma-9d |
| encoder | PLANALIGN_ENCODER | e5 (aligns drafts) |
| index_encoder | PLANALIGN_INDEX_ENCODER | static (builds a new search index) |
| api_keys | PLANALIGN_API_KEYS (comma-separated; ``name:key`` names a key) | none: writes are open |
| read_requires_key | PLANALIGN_READ_REQUIRES_KEY | false |
| max_body_bytes | PLANALIGN_MAX_BODY_BYTES | 20 MB |
| sync_classify_limit | PLANALIGN_SYNC_CLASSIFY_LIMIT | 100 texts |

The TOML file (``--config`` or ``PLANALIGN_CONFIG``) holds the same names in a ``[planalign]`` table.
"""
from __future__ import annotations

import hashlib
import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any

import platformdirs
from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from planalign.errors import InputError

ENV_CONFIG = "PLANALIGN_CONFIG"
_KEY_NAME = re.compile(r"^([A-Za-z0-9_.@-]{1,64}):(.+)$")
DEFAULT_CATALOG = "bma-9d"
DEFAULT_ENCODER = "e5"
# The search index embeds every stored project: static gives e5's search and duplicate quality on
# report corpora (eval/README.md) at a small fraction of the time, so bulk indexing defaults to it.
DEFAULT_INDEX_ENCODER = "static"


class Settings(BaseSettings):
    """What an entry point needs to know about its environment; immutable once loaded."""

    model_config = SettingsConfigDict(env_prefix="PLANALIGN_", extra="forbid", frozen=True, populate_by_name=True)

    data_dir: Path | None = Field(None, validation_alias=AliasChoices("data_dir", "PLANALIGN_DATA"))
    db_url: str | None = None
    catalog: str = DEFAULT_CATALOG
    encoder: str = DEFAULT_ENCODER
    index_encoder: str = DEFAULT_INDEX_ENCODER
    api_keys: Annotated[tuple[str, ...], NoDecode] = ()
    read_requires_key: bool = False
    max_body_bytes: int = Field(20 * 1024 * 1024, gt=0)
    sync_classify_limit: int = Field(100, gt=0)

    @field_validator("api_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(k.strip() for k in value.split(",") if k.strip())
        return value

    @classmethod
    def load(cls, config_file: str | os.PathLike[str] | None = None, **flags: Any) -> Settings:
        """Settings from flags (``None`` = not given), the environment, then the TOML file."""
        path = config_file or os.environ.get(ENV_CONFIG)
        from_file = _toml_table(Path(path)) if path else {}
        try:
            from_env = cls()
            chosen = {**from_file, **{k: getattr(from_env, k) for k in from_env.model_fields_set}}
            chosen.update({k: v for k, v in flags.items() if v is not None})
            return cls(**chosen)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
            raise InputError(f"invalid configuration: {problems}") from exc

    def key_names(self) -> dict[str, str]:
        """API key -> the name decisions are recorded under.

        An entry ``name:key`` (name: 1-64 of A-Z a-z 0-9 _ . @ -) names its key; any other entry is a
        bare key, as before names existed, named ``key-`` and the first 8 hex digits of its SHA-256
        (so the key itself is never written anywhere).
        """
        names: dict[str, str] = {}
        for entry in self.api_keys:
            named = _KEY_NAME.match(entry)
            key, name = (named.group(2), named.group(1)) if named else (entry, f"key-{hashlib.sha256(entry.encode('utf-8')).hexdigest()[:8]}")
            names[key] = name
        return names

    def resolved_data_dir(self) -> Path:
        """The data directory (created if needed): the setting, else a per-user directory."""
        path = Path(self.data_dir or platformdirs.user_data_dir("planalign")).expanduser()
        path.mkdir(parents=True, exist_ok=True)
        return path


def _toml_table(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            table = tomllib.load(handle).get("planalign", {})
    except FileNotFoundError as exc:
        raise InputError(f"configuration file {path} not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"configuration file {path} is not valid TOML: {exc}") from exc
    if not isinstance(table, dict):
        raise InputError(f"configuration file {path}: [planalign] must be a table")
    return table
