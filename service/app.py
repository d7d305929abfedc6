"""The FastAPI application: routers, limits, errors, metrics, background jobs, web UI."""
from __future__ import annotations

import logging
import threading
import time
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import Counter, Histogram
from starlette.exceptions import HTTPException
from starlette.middleware.base import BaseHTTPMiddleware

from planalign import __version__
from planalign.app import Application
from planalign.config import Settings
from planalign.corpora.catalog import CatalogError
from planalign.errors import Conflict, InputError, NotFound
from planalign.service.api import align, catalogs, classify, decisions, duplicates, health, projects, search
from planalign.service.ui import routes as ui

log = logging.getLogger("planalign.service")
REQUESTS = Counter("planalign_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("planalign_request_seconds", "HTTP request latency", ["route"])

DESCRIPTION = """Thai NLP alignment and search for Bangkok (BMA) strategy catalogs and projects.

* **align**: a draft project -> suggested dimension / issue / goal / OKR with confidence and evidence
* **classify**: label texts inline, or a whole CSV/XLSX file as a background job
* **search**: prior projects, semantic + keyword, with filters and facets
* **duplicates**: clusters of near-copies and semantic overlaps across districts
* **decisions**: the node a person chose for a text; the aligner learns from them
* **projects**, **catalogs**: manage the data

Write endpoints need the `X-API-Key` header when keys are configured.
"""


class BodySizeLimit(BaseHTTPMiddleware):
    """Refuse bodies over the limit before reading them (declared length) or while reading them."""

    def __init__(self, app, limit: int) -> None:
        super().__init__(app)
        self.limit = limit

    async def dispatch(self, request: Request, call_next):
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.limit:
            return _error(413, f"request body over the limit of {self.limit:,} bytes")
        if request.method in ("POST", "PUT", "PATCH") and not declared:
            body = b""
            async for chunk in request.stream():
                body += chunk
                if len(body) > self.limit:
                    return _error(413, f"request body over the limit of {self.limit:,} bytes")
            request._body = body  # starlette reuses the buffered body downstream
        return await call_next(request)


class Metrics(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next):
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        name = getattr(route, "path", "unmatched")
        REQUESTS.labels(request.method, name, str(response.status_code)).inc()
        LATENCY.labels(name).observe(time.perf_counter() - started)
        return response


def _error(status: int, message: str, detail: object | None = None) -> JSONResponse:
    body: dict[str, object] = {"error": message}
    if detail is not None:
        body["detail"] = detail
    return JSONResponse(body, status_code=status)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.load()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        core = Application(settings)
        app.state.planalign = core
        app.state.warm = False
        core.jobs.start()
        core.learning.start()  # refits a catalog's model in the background when its decisions change

        def warm_up() -> None:
            core.warm_up()
            app.state.warm = True

        threading.Thread(target=warm_up, name="warm-up", daemon=True).start()
        yield
        core.close()

    app = FastAPI(title="planalign", version=__version__, description=DESCRIPTION, lifespan=lifespan)
    app.add_middleware(Metrics)
    app.add_middleware(BodySizeLimit, limit=settings.max_body_bytes)

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, exc: HTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": list(e.get("loc", [])), "msg": e.get("msg", "")} for e in exc.errors()]
        return _error(422, "invalid request", errors)

    @app.exception_handler(CatalogError)
    async def bad_catalog(_: Request, exc: CatalogError) -> JSONResponse:
        return _error(422, str(exc).splitlines()[0], [{"row": row, "message": msg} for row, msg in exc.problems])

    @app.exception_handler(InputError)
    async def bad_input(_: Request, exc: InputError) -> JSONResponse:
        status = 404 if isinstance(exc, NotFound) else 409 if isinstance(exc, Conflict) else 422
        return _error(status, str(exc))

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> JSONResponse:
        log.error("internal error on %s %s", request.method, request.url.path, exc_info=exc)
        return _error(500, f"internal error: {type(exc).__name__}")

    for module in (health, align, classify, decisions, search, duplicates, projects, catalogs):
        app.include_router(module.router)
    ui.mount(app)
    return app
