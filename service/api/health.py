"""Liveness, readiness and Prometheus metrics."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from planalign.service.api.decisions import metrics_text
from planalign.service.api.deps import AppDep
from planalign.service.api.schemas import Health, Readiness

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up", response_model=Health)
def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", summary="Model and index loaded", response_model=Readiness, responses={503: {"model": Readiness}})
def readyz(request: Request, app: AppDep) -> JSONResponse:
    model_ready = bool(getattr(request.app.state, "warm", False))
    index = app.index()
    body = Readiness(status="ready" if model_ready else "starting",
                     checks={"model": model_ready, "catalog": model_ready, "index": index is not None}, projects=len(index or []))
    return JSONResponse(body.model_dump(), status_code=200 if model_ready else 503)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics(app: AppDep) -> Response:
    return Response(generate_latest() + metrics_text(app), media_type=CONTENT_TYPE_LATEST)
