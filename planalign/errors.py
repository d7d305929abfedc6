"""The one line between a user's mistake and a bug.

Every problem with what a user gave us (a file, a catalog, a draft, a flag) is an :class:`InputError`
and becomes a 4xx answer or exit status 2 with its message. Anything else is a bug: a 500 or exit
status 1 with a log line, never dressed up as the user's fault.
"""
from __future__ import annotations

import sqlite3


class InputError(ValueError):
    """The user's input cannot be used; the message says why and what to do.

    ``thai``: the same in Thai for the pages (people in the office read Thai; the API's ``error``
    stays English for scripts and logs). The API sends it as ``message_th``.
    """

    def __init__(self, message: str, thai: str | None = None) -> None:
        super().__init__(message)
        self.thai = thai
        self.detail: list[dict] | None = None  # one entry an item where a batch has several problems (the API's ``detail``)


class NotFound(InputError):
    """A named thing (catalog, project, job) does not exist."""


class Conflict(InputError):
    """The request does not fit the current state (e.g. an index built with another encoder)."""


class TooLarge(InputError):
    """Over a configured limit (rows per file, characters per text or field): 413 / exit 2."""


class Unavailable(Exception):
    """The service cannot answer this yet (its index is still loading, its batch slots are taken): 503 with
    Retry-After, not a bug. ``thai``: the same for the pages (by default: a model or index still loading)."""

    thai = "ระบบกำลังเตรียมแบบจำลองหรือดัชนีค้นหา กรุณาลองใหม่ในอีกสักครู่"

    def __init__(self, message: str = "", thai: str | None = None) -> None:
        super().__init__(message)
        if thai is not None:
            self.thai = thai


def sqlite_failure(exc: BaseException) -> str | None:
    """What a SQLite error says failed when the machine, not the program, is at fault (the driver gives no codes, only
    messages): ``full`` (a full disk), ``damaged`` (no database, or a damaged one), ``locked`` (another writer holds
    the file), ``unavailable`` (an I/O error, a file it cannot open or write); None for a program's error (a broken
    constraint, SQL it refuses, a missing table), which stays a bug. The one reading of SQLite's messages for the
    store and the embedding cache (each had its own list)."""
    if not isinstance(exc, sqlite3.DatabaseError) or isinstance(exc, (sqlite3.IntegrityError, sqlite3.ProgrammingError)):
        return None
    message = str(exc).lower()
    if "full" in message or "no space left" in message:
        return "full"
    if "not a database" in message or "malformed" in message:
        return "damaged"
    if "locked" in message:
        return "locked"
    return "unavailable" if any(word in message for word in ("unable to open", "disk i/o", "readonly", "read-only")) else None
