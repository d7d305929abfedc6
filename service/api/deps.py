"""Shared pieces of the routers: the application, API-key checks, uploads, files sent back."""
from __future__ import annotations

import logging
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath, PureWindowsPath
from types import UnionType
from typing import Annotated, Union, get_args, get_origin
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request, UploadFile
from fastapi.security import APIKeyHeader

from planalign.app import Application
from planalign.corpora.catalog import CatalogError
from planalign.errors import InputError
from planalign.index.decisions import LOCAL

# Who changed what, by the API key's name: a deletion among 50 offices could not be traced to anyone (an operator's walkthrough)
audit = logging.getLogger("planalign.audit")

API_KEY_HEADER = "X-API-Key"
_api_key = APIKeyHeader(name=API_KEY_HEADER, auto_error=False, description="Required for writes when keys are configured, and for reads too with "
                                                                                  "PLANALIGN_READ_REQUIRES_KEY (a read-only key reads only).")


async def get_app(request: Request) -> Application:  # async: a plain def would take a worker thread for nothing
    return request.app.state.planalign


AppDep = Annotated[Application, Depends(get_app)]


RETRY_AFTER_S = "2"  # seconds a 503 (starting, loading, busy) asks the client to wait


class Refused(HTTPException):
    """A request refused before it is read (an upload too large, no API key), with its message in Thai for the pages (``message_th``)."""

    def __init__(self, status_code: int, detail: str, thai: str) -> None:
        # a 401 names its scheme, as HTTP asks (an integrator's walkthrough): the key goes in the X-API-Key header
        super().__init__(status_code, detail, headers={"WWW-Authenticate": f'ApiKey header="{API_KEY_HEADER}"'} if status_code == 401 else None)
        self.thai = thai


def _given(key: str | None) -> bytes:
    # HTTP header bytes arrive decoded as latin-1: encoding back gives the bytes the client sent, so a
    # non-ASCII key configured here matches the same key sent as UTF-8 (and a wrong one is a 401, never a 500).
    return (key or "").encode("latin-1", "replace")


def _name_of(given: bytes, names: dict[str, str]) -> str | None:
    return next((name for k, name in names.items() if secrets.compare_digest(given, k.encode("utf-8"))), None)


def _check(app: Application, key: str | None, reading: bool = False) -> None:
    """A write needs a write key (``api_keys``) once any key is configured; a read (when reads need a
    key) takes a read-only key (``read_keys``) too. A read-only key sent to write is a 403 that says so."""
    settings, given = app.settings, _given(key)
    if not settings.keyed or _name_of(given, settings.key_names()) is not None:
        return
    if _name_of(given, settings.read_key_names()) is not None:
        if reading:
            return
        raise Refused(403, "this API key may only read", "กุญแจ API นี้ใช้อ่านข้อมูลได้อย่างเดียว แก้ไขหรือบันทึกข้อมูลไม่ได้ กรุณาขอกุญแจสำหรับบันทึกจากผู้ดูแลระบบ")
    raise Refused(401, f"missing or invalid API key (header {API_KEY_HEADER})",
                  f"ไม่มีกุญแจ API หรือกุญแจไม่ถูกต้อง (ส่งในส่วนหัว {API_KEY_HEADER}) กรุณาขอกุญแจจากผู้ดูแลระบบ")


async def caller(app: AppDep, key: Annotated[str | None, Depends(_api_key)]) -> str:
    """Who makes a write: the name of the API key given (``name:key`` in the settings), else ``local``."""
    return _name_of(_given(key), app.settings.key_names()) or LOCAL


CallerDep = Annotated[str, Depends(caller)]


async def require_write_key(app: AppDep, key: Annotated[str | None, Depends(_api_key)]) -> None:
    """Writes need a key whenever keys are configured."""
    _check(app, key)


async def require_read_key(app: AppDep, key: Annotated[str | None, Depends(_api_key)]) -> None:
    """Reads need a key only when configured so (PLANALIGN_READ_REQUIRES_KEY)."""
    if app.settings.read_requires_key:
        _check(app, key, reading=True)


async def refuse_unknown_query_parameters(request: Request) -> None:
    """Query parameters an endpoint does not read are refused (422), as unknown JSON keys and form fields
    are: `GET /v1/search?q=ท่อ&top_k=1` answered with the default page size and said nothing (a docs
    walkthrough). The known ones are the route's own and its dependencies' ``Query`` parameters (by
    alias), so a new parameter needs no second list."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    known: set[str] = set()
    lists: set[str] = set()
    pending = [dependant]
    while pending:  # the route and its dependencies, each one's own query parameters
        current = pending.pop()
        known.update(param.alias for param in current.query_params)
        lists.update(param.alias for param in current.query_params if _is_sequence(param.field_info.annotation))
        pending.extend(current.dependencies)
    unknown = sorted(set(request.query_params.keys()) - known)
    if unknown:
        names, allowed = ", ".join(unknown), ", ".join(sorted(known))
        raise Refused(422, f"unknown query parameter(s): {names}; this endpoint reads {allowed or '(none)'}",
                      f"ไม่รู้จักพารามิเตอร์ {names} (ที่ใช้ได้: {allowed or 'ไม่มี'})")
    # one value each: `?district=บางเขน&district=บางกะปิ` searched บางกะปิ alone and said nothing (it reads as both)
    repeated = sorted({name for name, _ in request.query_params.multi_items() if name not in lists
                       and len(request.query_params.getlist(name)) > 1})
    if repeated:
        names = ", ".join(repeated)
        raise Refused(422, f"query parameter(s) given more than once: {names}; each takes one value",
                      f"พารามิเตอร์ {names} ระบุได้ค่าเดียว แต่ได้รับมากกว่าหนึ่งค่า")


def _is_sequence(annotation: object) -> bool:
    """A list-valued query parameter (``list[str]``, optional or not), which may repeat."""
    options = get_args(annotation) if get_origin(annotation) in (Union, UnionType) else (annotation,)
    return any(get_origin(option) in (list, set, tuple) or option in (list, set, tuple) for option in options)


async def refuse_unknown_form_fields(request: Request) -> None:
    """Multipart fields an upload endpoint does not read are refused (422), as JSON bodies refuse
    unknown keys: a misspelt or unsupported field ("learn_" for "learn", "top") was dropped in
    silence and the upload ran with the defaults. The known fields are the route's own ``File`` and
    ``Form`` parameters (by alias), so a new parameter needs no second list; the form was already
    parsed for them (Starlette keeps it), so reading it here costs nothing."""
    route = request.scope.get("route")
    known = {param.alias for param in getattr(getattr(route, "dependant", None), "body_params", [])}
    unknown = sorted(set((await request.form()).keys()) - known)
    if unknown:
        fields, allowed = ", ".join(unknown), ", ".join(sorted(known))
        raise Refused(422, f"unknown form field(s): {fields}; this upload reads {allowed}",
                            f"ไม่รู้จักช่อง {fields} ในแบบฟอร์ม ช่องที่ใช้ได้: {allowed}")


async def read_upload(file: UploadFile, allowed: tuple[str, ...]) -> tuple[str, bytes]:
    """The upload's suffix and bytes; 415 for a file type we do not read, 400 for an empty file."""
    suffix = Path(file.filename or "").suffix.lower()
    name = display_name(file, suffix)
    if suffix not in allowed:
        raise Refused(415, f"{name}: unsupported file type {suffix or '(none)'}; upload {', '.join(allowed)}",
                            f"ไม่รองรับไฟล์ {name} กรุณาอัปโหลดไฟล์ชนิด {', '.join(allowed)}")
    content = await file.read()
    if not content:
        raise Refused(400, f"{name}: the uploaded file is empty", f"ไฟล์ {name} ว่างเปล่า กรุณาเลือกไฟล์ที่มีข้อมูล")
    return suffix, content


MEDIA = {"csv": "text/csv; charset=utf-8", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}  # the table files routes send


def attachment(filename: str) -> str:
    """A Content-Disposition that saves the file under ``filename``; a Thai name (an uploaded file's)
    is sent the RFC 5987 way, as Starlette's FileResponse does."""
    quoted = quote(filename)
    return f'attachment; filename="{filename}"' if quoted == filename else f"attachment; filename*=utf-8''{quoted}"


def display_name(file: UploadFile, suffix: str) -> str:
    """The user's file name as messages show it (no client folders, bounded length)."""
    name = PureWindowsPath(PurePosixPath(file.filename or "").name).name.strip() or f"upload{suffix}"
    return name if len(name) <= 120 else name[:100] + "..." + suffix


@contextmanager
def upload_path(suffix: str, content: bytes, name: str) -> Iterator[Path]:
    """The upload as a temporary file, since our readers take paths (and detect type by suffix).

    A problem with the file is reported under the user's file ``name``, never the temporary path.
    """
    with tempfile.TemporaryDirectory(prefix="planalign-upload-") as folder:
        path = Path(folder) / f"upload{suffix}"
        path.write_bytes(content)
        try:
            yield path
        except InputError as exc:
            _rename(exc, (str(path), path.name), name)
            raise


def _rename(exc: InputError, temporary: tuple[str, ...], name: str) -> None:
    def fix(text: str) -> str:
        for old in temporary:  # the full path first, then the bare file name
            text = text.replace(old, name)
        return text

    exc.args = tuple(fix(a) if isinstance(a, str) else a for a in exc.args)
    if exc.thai:
        exc.thai = fix(exc.thai)
    if isinstance(exc, CatalogError):
        exc.source = name
        exc.problems = [p._replace(message=fix(p.message), thai=fix(p.thai)) for p in exc.problems]
        exc.thai = exc.summary_thai()
