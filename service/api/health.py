"""Liveness, readiness and Prometheus metrics."""
from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from planalign.service.api.deps import get_state
from planalign.service.state import ServiceState

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
def healthz() -> dict:
    return {"status": "ok"}


@router.get("/readyz", summary="Model and index loaded", responses={503: {"description": "not ready"}})
def readyz(state: ServiceState = Depends(get_state)) -> JSONResponse:
    checks = {"model": state.ready_model, "catalog": state.ready_model, "index": state.index() is not None}
    ready = checks["model"]
    body = {"status": "ready" if ready else "starting", "checks": checks, "projects": len(state.index() or [])}
    return JSONResponse(body, status_code=200 if ready else 503)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
