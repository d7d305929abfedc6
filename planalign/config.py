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
| index_encoder | PLANALIGN_INDEX_ENCODER | auto (a new search index: e5 up to 20,000 projects, static above) |
| api_keys | PLANALIGN_API_KEYS (comma-separated; ``name:key`` names a key) | none: writes are open |
| read_keys | PLANALIGN_READ_KEYS (as api_keys) | none; keys that read, not write (a key in both lists writes); with them, writes need an api key |
| read_requires_key | PLANALIGN_READ_REQUIRES_KEY | false |
| max_body_bytes | PLANALIGN_MAX_BODY_BYTES | 20 MB |
| sync_classify_limit | PLANALIGN_SYNC_CLASSIFY_LIMIT | 100 texts |
| max_rows | PLANALIGN_MAX_ROWS | 20,000 rows per uploaded file (classification job, project file) |
| max_text_chars | PLANALIGN_MAX_TEXT_CHARS | 20,000 characters per text (a draft, a text to classify or check) |
| max_field_chars | PLANALIGN_MAX_FIELD_CHARS | 20,000 characters per field (a project field, a cell of an uploaded file) |
| write_index_wait_s | PLANALIGN_WRITE_INDEX_WAIT_S | 1.0 s: how long a write waits for its projects to become searchable |
| reconcile_interval_s | PLANALIGN_RECONCILE_INTERVAL_S | 60 s between background store/index comparisons |
| job_retention_days | PLANALIGN_JOB_RETENTION_DAYS | 30: finished jobs go this long after last changed or used (at start-up, on uploads); 0 keeps |
| request_threads | PLANALIGN_REQUEST_THREADS | 6: requests computed at once (the rest wait their turn); bounds memory and tail latency |
| allowed_origins | PLANALIGN_ALLOWED_ORIGINS (comma-separated) | none: browser writes from the service's own origin only; listed ones may call the API (CORS) |
| allowed_hosts | PLANALIGN_ALLOWED_HOSTS (comma-separated) | any; `serve` on a loopback address: localhost, 127.0.0.1, ::1 (DNS rebinding) |
| report_sources | PLANALIGN_REPORT_SOURCES (comma-separated) | traffy: rows from these sources are citizen reports (counted apart, no duplicates) |
| report_map | PLANALIGN_REPORT_MAP | a CSV ``category,node_id`` for reports; default: the built-in Traffy map for bma-9d |

The TOML file (``--config`` or ``PLANALIGN_CONFIG``) holds the same names in a ``[planalign]`` table, and
nothing else; its relative ``data_dir`` and ``report_map`` are relative to the file.
"""
from __future__ import annotations

import contextvars
import difflib
import hashlib
import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any

import platformdirs
from pydantic import AliasChoices, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from planalign.errors import InputError

# The duplicate sweep's default for the API, the pages and the command line alike (they differed): reviewers
# look for one project submitted by two offices; two items of one office's list are its own business.
ACROSS_DISTRICTS = True
ENV_CONFIG = "PLANALIGN_CONFIG"
_KEY_NAME = re.compile(r"^([A-Za-z0-9_.@-]{1,64}):(.+)$")
DEFAULT_CATALOG = "bma-9d"
DEFAULT_ENCODER = "e5"
# A new search index is built with e5 while embedding the corpus is affordable and with static past
# that: project corpora are small (a year of BMA projects is a few thousand texts) and e5 is
# clearly better on them (eval/README.md: search and duplicates), while static indexes the 117k
# Traffy reports in minutes. The index embeds two views per text (passage and query), so e5 costs
# twice its throughput: ~47 project names/s or ~6 report paragraphs/s on 2 cores (eval/results/
# bench.md); 20,000 project texts then take about 7-20 minutes once (the embedding cache keeps them).
AUTO_INDEX_ENCODER = "auto"
DEFAULT_INDEX_ENCODER = AUTO_INDEX_ENCODER
E5_INDEX_LIMIT = 20_000
# Stored rows from these sources (by prefix: traffy, traffy_2022, ...) are citizen reports: coverage
# sets them against the projects instead of counting them as projects.
DEFAULT_REPORT_SOURCES = ("traffy",)


_READING_ENVIRONMENT = contextvars.ContextVar("planalign_reading_environment", default=False)  # Settings.load's first, partial read


class Settings(BaseSettings):
    """What an entry point needs to know about its environment; immutable once loaded."""

    model_config = SettingsConfigDict(env_prefix="PLANALIGN_", extra="forbid", frozen=True, populate_by_name=True)

    data_dir: Path | None = Field(None, validation_alias=AliasChoices("data_dir", "PLANALIGN_DATA"))
    db_url: str | None = None
    catalog: str = DEFAULT_CATALOG
    encoder: str = DEFAULT_ENCODER
    index_encoder: str = DEFAULT_INDEX_ENCODER
    api_keys: Annotated[tuple[str, ...], NoDecode] = ()
    read_keys: Annotated[tuple[str, ...], NoDecode] = ()
    read_requires_key: bool = False
    max_body_bytes: int = Field(20 * 1024 * 1024, gt=0)
    sync_classify_limit: int = Field(100, gt=0)
    max_rows: int = Field(20_000, gt=0)
    max_text_chars: int = Field(20_000, gt=0)
    max_field_chars: int = Field(20_000, gt=0)
    write_index_wait_s: float = Field(1.0, ge=0, le=30)
    reconcile_interval_s: float = Field(60.0, gt=0)
    job_retention_days: float = Field(30.0, ge=0)
    request_threads: int = Field(6, gt=0, le=200)
    allowed_origins: Annotated[tuple[str, ...], NoDecode] = ()
    allowed_hosts: Annotated[tuple[str, ...], NoDecode] = ()

    report_sources: Annotated[tuple[str, ...], NoDecode] = DEFAULT_REPORT_SOURCES
    report_map: Path | None = None

    @model_validator(mode="after")
    def _reads_need_a_key_there_is(self) -> Settings:
        """Reads "needing" a key nobody has were open to anyone (an operator's walkthrough); checked on what every
        source gave together (:meth:`load` reads the environment alone first: keys in the file, the switch in the
        environment were refused, a blind review), and on settings built directly (the service's tests, embedders)."""
        if self.read_requires_key and not self.keyed and not _READING_ENVIRONMENT.get():
            raise InputError("read_requires_key needs api_keys or read_keys: without a key, reads would be open to anyone",
                             thai="ตั้ง read_requires_key (PLANALIGN_READ_REQUIRES_KEY) แล้วต้องตั้ง api_keys หรือ read_keys ด้วย "
                                  "มิฉะนั้นทุกคนจะอ่านข้อมูลได้โดยไม่ต้องใช้คีย์")
        return self

    @field_validator("api_keys", "read_keys", "allowed_origins", "allowed_hosts", "report_sources", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        """Comma-separated in the environment, a list in a TOML file; blank entries are dropped from
        both (a blank key in a TOML list, e.g. an unset template variable, matched a request sending
        no key at all and opened every read and write; a review)."""
        if isinstance(value, str):
            value = value.split(",")
        if isinstance(value, (list, tuple)):
            return tuple(str(k).strip() for k in value if str(k).strip())
        return value

    @classmethod
    def load(cls, config_file: str | os.PathLike[str] | None = None, **flags: Any) -> Settings:
        """Settings from flags (``None`` = not given), the environment, then the TOML file."""
        path = config_file or os.environ.get(ENV_CONFIG)
        from_file = _relative_to(_toml_table(Path(path)), Path(path).resolve().parent) if path else {}
        try:
            token = _READING_ENVIRONMENT.set(True)
            try:
                from_env = cls()
            finally:
                _READING_ENVIRONMENT.reset(token)
            chosen = {**from_file, **{k: getattr(from_env, k) for k in from_env.model_fields_set}}
            chosen.update({k: v for k, v in flags.items() if v is not None})
            return cls(**chosen)
        except ValidationError as exc:
            ours = [e["ctx"]["error"] for e in exc.errors() if isinstance(e.get("ctx", {}).get("error"), InputError)]
            if ours:  # a rule across settings, said in both languages
                raise InputError(f"invalid configuration: {ours[0]}", thai=f"ค่าตั้งระบบไม่ถูกต้อง: {ours[0].thai}") from exc
            problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
            raise InputError(f"invalid configuration: {problems}", thai=f"ค่าตั้งระบบไม่ถูกต้อง: {problems}") from exc

    def key_names(self) -> dict[str, str]:
        """API key -> the name decisions are recorded under.

        An entry ``name:key`` (name: 1-64 of A-Z a-z 0-9 _ . @ -) names its key; any other entry is a
        bare key, as before names existed, named ``key-`` and the first 8 hex digits of its SHA-256
        (so the key itself is never written anywhere).
        """
        return _named(self.api_keys)

    def read_key_names(self) -> dict[str, str]:
        """Read-only API key -> its name, as :meth:`key_names`."""
        return _named(self.read_keys)

    @property
    def keyed(self) -> bool:
        """Whether any API key is configured: writes then need a (write) key."""
        return bool(self.api_keys or self.read_keys)

    def resolved_data_dir(self) -> Path:
        """The data directory (created if needed): the setting, else a per-user directory."""
        path = Path(self.data_dir or platformdirs.user_data_dir("planalign")).expanduser()
        path.mkdir(parents=True, exist_ok=True)
        return path


def _named(entries: tuple[str, ...]) -> dict[str, str]:
    """Key -> name of ``name:key`` entries; a bare key is named ``key-`` and 8 hex digits of its SHA-256."""
    names: dict[str, str] = {}
    for entry in entries:
        named = _KEY_NAME.match(entry)
        key, name = (named.group(2), named.group(1)) if named else (entry, f"key-{hashlib.sha256(entry.encode('utf-8')).hexdigest()[:8]}")
        names[key] = name
    return names


NEAR_NAME = 0.75  # a table name this like "planalign" (difflib) is a misspelling of it when there is no [planalign]: planalgin 0.89


def _toml_table(path: Path) -> dict[str, Any]:
    """The file's ``[planalign]`` table. A file without one but with settings (a misspelt ``[planalgin]``, settings
    outside any table) is refused, and so are settings beside the table: they were ignored without a word, API keys
    included, and the service opened every write to anyone (an operator's walkthrough). Other tools' tables, and a
    file of comments only, are fine."""
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except FileNotFoundError as exc:
        raise InputError(f"configuration file {path} not found", thai=f"ไม่พบไฟล์ค่าตั้งระบบ {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"configuration file {path} is not valid TOML: {exc}", thai=f"ไฟล์ค่าตั้งระบบ {path} ไม่ใช่ TOML ที่ถูกต้อง: {exc}") from exc
    table = document.get("planalign")
    # settings outside any table (whatever their names: "api_key", "API_KEYS"), and, without a [planalign] table, one
    # named nearly so; other tools' tables are left alone
    astray = sorted(k for k, v in document.items() if k != "planalign" and (
        not isinstance(v, dict) or (table is None and difflib.SequenceMatcher(None, k.lower(), "planalign").ratio() >= NEAR_NAME)))
    if astray:
        raise InputError(f"configuration file {path}: settings go in a [planalign] table ({', '.join(astray)} "
                         f"{'is' if len(astray) == 1 else 'are'} not read)",
                         thai=f"ไฟล์ค่าตั้งระบบ {path}: ค่าตั้งต้องอยู่ในตาราง [planalign] (ระบบไม่อ่าน {', '.join(astray)})")
    if table is None:  # a file of comments, or of other tools' tables
        return {}
    if not isinstance(table, dict):
        raise InputError(f"configuration file {path}: [planalign] must be a table", thai=f"ไฟล์ค่าตั้งระบบ {path}: [planalign] ต้องเป็นตาราง (table)")
    return table


def _relative_to(table: dict[str, Any], folder: Path) -> dict[str, Any]:
    """A configuration file's relative paths read as the file's: the data directory, the report map and a local model
    (``st:dir``); ``~`` is the user's home. Run from another directory, the CLI made a second store beside the
    service's (an operator's walkthrough). The catalog stays as written: it is also the id its decisions are kept
    under, which an anchored path would change (a blind review)."""
    def anchored(value: str) -> str:
        path = Path(value).expanduser()
        return str(path if path.is_absolute() else folder / path)

    found = dict(table)
    for name in ("data_dir", "report_map"):
        if isinstance(found.get(name), str):
            found[name] = anchored(found[name])
    for name in ("encoder", "index_encoder"):
        if isinstance(found.get(name), str) and found[name].startswith("st:"):
            found[name] = "st:" + anchored(found[name][3:])
    return found


def choose_index_encoder(setting: str, corpus_size: int) -> str:
    """The encoder for a new index: the setting, or for ``auto`` e5 up to :data:`E5_INDEX_LIMIT`
    texts and ``static`` above."""
    if setting != AUTO_INDEX_ENCODER:
        return setting
    return "e5" if corpus_size <= E5_INDEX_LIMIT else "static"
