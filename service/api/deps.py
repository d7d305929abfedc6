"""Shared pieces of the routers: the service state, API-key checks, JSON errors."""
from __future__ import annotations

import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi import Depends, HTTPException, Request, UploadFile
from fastapi.security import APIKeyHeader

from planalign.corpora.projects import parse_year
from planalign.index.project_index import ProjectIndex
from planalign.service.state import ServiceState

API_KEY_HEADER = "X-API-Key"
_api_key = APIKeyHeader(name=API_KEY_HEADER, auto_error=False, description="Required for writes when keys are configured.")


def get_state(request: Request) -> ServiceState:
    return request.app.state.planalign


def _check(state: ServiceState, key: str | None) -> None:
    keys = state.settings.api_keys
    if keys and not any(secrets.compare_digest(key or "", k) for k in keys):
        raise HTTPException(status_code=401, detail=f"missing or invalid API key (header {API_KEY_HEADER})")


def require_write_key(state: ServiceState = Depends(get_state), key: str | None = Depends(_api_key)) -> None:
    """Writes need a key whenever keys are configured."""
    _check(state, key)


def require_read_key(state: ServiceState = Depends(get_state), key: str | None = Depends(_api_key)) -> None:
    """Reads need a key only when configured so (PLANALIGN_READ_REQUIRES_KEY)."""
    if state.settings.read_requires_key:
        _check(state, key)


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


def current_index(state: ServiceState) -> ProjectIndex:
    index = state.index()
    if index is None:
        raise HTTPException(503, "no projects indexed yet: ingest projects first")
    return index


def fiscal_year(year: int | None) -> int | None:
    """A B.E. or C.E. year query parameter as B.E.; 422 when it is not a year."""
    try:
        return parse_year(year) if year is not None else None
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
