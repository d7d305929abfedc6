"""Liveness, readiness and Prometheus metrics.

``/healthz`` answers 200 while the process can serve: ``{"status": "ok"}``, or
``{"status": "degraded", "problems": [...]}`` when it serves from a fallback (the newest index
generation failed to load and the previous one answers until it is rebuilt) or background indexing
is failing. Still 200: restarting the process cannot repair the index files and would only drop the
requests it still answers; monitoring alerts on the status field. ``/readyz`` is 503 until the
model is warm and the index loaded, while store and index disagree ("indexing n of m"), and while the
database does not answer ("store_unreachable").
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import threading

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from planalign.service.api.decisions import metrics_text
from planalign.service.api.deps import RETRY_AFTER_S, AppDep, require_read_key
from planalign.service.api.schemas import Health, Readiness

router = APIRouter(tags=["health"])
STORE_CHECK_S = 3.0  # a database that does not answer a "SELECT 1" in this long is unreachable for readiness
# The probe runs on a daemon thread of its own: on the request threads it waited behind busy requests and said a
# healthy store was unreachable (a blind review), and a pool's thread kept a stopping process waiting for a hung
# database (a second one); one probe at a time per store, a later one waits for it instead of starting another.
_probing: dict[int, concurrent.futures.Future] = {}
_probing_lock = threading.Lock()


def _probe(store) -> concurrent.futures.Future:
    with _probing_lock:
        pending = _probing.get(id(store))
        if pending is None or pending.done():
            pending = _probing[id(store)] = concurrent.futures.Future()

            def run(done: concurrent.futures.Future = pending) -> None:
                done.set_result(store.reachable())

            threading.Thread(target=run, name="planalign-store-probe", daemon=True).start()
        return pending


async def _store_answers(app) -> bool:
    """Whether the store answers a query within STORE_CHECK_S."""
    try:
        return bool(await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(_probe(app.store))), STORE_CHECK_S))
    except TimeoutError:
        return False


def sample_detail(done: int, total: int) -> str:
    """Readiness while a first start loads the sample: what and how far ("... 120/323")."""
    return f"กำลังสร้างดัชนีโครงการตัวอย่าง {done}/{total}" if total else "กำลังโหลดโครงการตัวอย่าง"


# HEAD as well as GET: monitors and load balancers probe with either (HEAD was a 405: an integrator's walkthrough). The
# HEAD routes stay out of the OpenAPI description: one operation a path, its id stable (GET and HEAD shared one, and
# which method named it changed with the hash seed: a blind review).
@router.head("/healthz", include_in_schema=False)
@router.get("/healthz", summary="The process is up (and whether it serves from a fallback)", response_model=Health,
            response_model_exclude_none=True)
async def healthz(request: Request, app: AppDep) -> JSONResponse:  # async: never queued behind busy worker threads
    indexer = app.indexer
    problems = list(indexer.state.problems) if indexer is not None else list(app.index_problems)
    body = Health(status="degraded" if problems else "ok", problems=None if request.scope.get("planalign.status_only") else problems or None)
    return JSONResponse(body.model_dump(exclude_none=True))


@router.head("/readyz", include_in_schema=False)
@router.get("/readyz", summary="Model and index loaded, and the index agrees with the store", response_model=Readiness,
            responses={503: {"model": Readiness}})
async def readyz(request: Request, app: AppDep) -> JSONResponse:
    model_ready = bool(getattr(request.app.state, "warm", False))
    indexer = app.indexer
    state = indexer.state if indexer is not None else None
    loaded = state is None or state.loaded
    agreed = state is None or state.agreed
    index = app._index if state is not None else await run_in_threadpool(app.index)
    store = await _store_answers(app)
    if not store:
        status = "store_unreachable"
    elif not (model_ready and loaded):
        status = "starting"
    elif not agreed:
        status = "indexing"
    else:
        status = "ready"
    detail = state.describe() if state is not None else None
    if getattr(request.app.state, "loading_sample", False):  # a first start: the embedded sample projects are being indexed
        detail = sample_detail(state.done if state is not None and state.running else 0, state.total if state is not None and state.running else 0)
    if not store:
        detail = "ติดต่อฐานข้อมูลไม่ได้ (the store does not answer)"
    body = Readiness(status=status, checks={"model": model_ready, "catalog": model_ready, "index": index is not None, "index_agrees": agreed,
                                            "store": store},
                     projects=len(index or []), detail=detail,
                     indexing={"done": state.done, "total": state.total, "queued": state.queued} if state is not None and not agreed else None)
    ready = status == "ready"
    # probed under a name the service does not answer to (a load balancer's address): the status alone, no counts
    shown = {"status": status} if request.scope.get("planalign.status_only") else body.model_dump(exclude_none=True)
    return JSONResponse(shown, status_code=200 if ready else 503, headers=None if ready else {"Retry-After": RETRY_AFTER_S})


@router.get("/metrics", summary="Prometheus metrics (needs the key when reads do: PLANALIGN_READ_REQUIRES_KEY)", response_class=Response,
            dependencies=[Depends(require_read_key)])
def metrics(app: AppDep) -> Response:
    """Counts of decisions, acceptance and alignments per catalog: usage a deployment whose reads are
    confidential keeps to itself too (it was open beside a keyed search; a security probe)."""
    return Response(generate_latest() + metrics_text(app), media_type=CONTENT_TYPE_LATEST)
