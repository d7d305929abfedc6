"""Shared pieces of the routers: the service state, API-key checks, JSON errors."""
from __future__ import annotations

import secrets

from fastapi import Depends, HTTPException, Request
from fastapi.security import APIKeyHeader

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
