"""Shared pieces of the routers: the application, API-key checks, uploads."""
from __future__ import annotations

import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

from fastapi import Depends, HTTPException, Request, UploadFile
from fastapi.security import APIKeyHeader

from planalign.app import Application

API_KEY_HEADER = "X-API-Key"
_api_key = APIKeyHeader(name=API_KEY_HEADER, auto_error=False, description="Required for writes when keys are configured.")


def get_app(request: Request) -> Application:
    return request.app.state.planalign


AppDep = Annotated[Application, Depends(get_app)]


def _check(app: Application, key: str | None) -> None:
    given = (key or "").encode("utf-8", "surrogateescape")
    if app.settings.api_keys and not any(secrets.compare_digest(given, k.encode("utf-8")) for k in app.settings.key_names()):
        raise HTTPException(status_code=401, detail=f"missing or invalid API key (header {API_KEY_HEADER})")


def caller(app: AppDep, key: Annotated[str | None, Depends(_api_key)]) -> str:
    """Who makes a write: the name of the API key given (``name:key`` in the settings), else ``local``."""
    given = (key or "").encode("utf-8", "surrogateescape")
    return next((name for k, name in app.settings.key_names().items() if secrets.compare_digest(given, k.encode("utf-8"))), "local")


CallerDep = Annotated[str, Depends(caller)]


def require_write_key(app: AppDep, key: Annotated[str | None, Depends(_api_key)]) -> None:
    """Writes need a key whenever keys are configured."""
    _check(app, key)


def require_read_key(app: AppDep, key: Annotated[str | None, Depends(_api_key)]) -> None:
    """Reads need a key only when configured so (PLANALIGN_READ_REQUIRES_KEY)."""
    if app.settings.read_requires_key:
        _check(app, key)


async def read_upload(file: UploadFile, allowed: tuple[str, ...]) -> tuple[str, bytes]:
    """The upload's suffix and bytes; 415 for a file type we do not read, 400 for an empty file."""
    suffix = Path(file.filename or "").suffix.lower()
    if suffix not in allowed:
        raise HTTPException(415, f"unsupported file type {suffix or '(none)'}; upload {', '.join(allowed)}")
    content = await file.read()
    if not content:
        raise HTTPException(400, "the uploaded file is empty")
    return suffix, content


@contextmanager
def upload_path(suffix: str, content: bytes) -> Iterator[Path]:
    """The upload as a temporary file, since our readers take paths (and detect type by suffix)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"upload{suffix}"
        path.write_bytes(content)
        yield path
