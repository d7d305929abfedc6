"""The one line between a user's mistake and a bug.

Every problem with what a user gave us (a file, a catalog, a draft, a flag) is an :class:`InputError`
and becomes a 4xx answer or exit status 2 with its message. Anything else is a bug: a 500 or exit
status 1 with a log line, never dressed up as the user's fault.
"""
from __future__ import annotations


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
