"""The FastAPI application: routers, limits, errors, metrics, security headers, background work, web UI.

The middlewares are plain ASGI (no ``BaseHTTPMiddleware``), outermost first:

* :class:`Guard` turns any exception that escaped the routers into a JSON 500 *and keeps the
  connection open* (Starlette's ``ServerErrorMiddleware`` answers and then re-raises, which made
  uvicorn drop the keep-alive connection: the client's next request failed too);
* :class:`BodySizeLimit`: bodies over ``max_body_bytes`` get 413, by declared length or while read;
* :class:`Metrics`: request counts and latency per route for ``/metrics``.
"""
from __future__ import annotations

import logging
import re
import tempfile
import threading
import time
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import Counter, Histogram
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from planalign import __version__
from planalign.app import Application
from planalign.config import Settings
from planalign.corpora.catalog import CatalogError
from planalign.errors import Conflict, InputError, NotFound, TooLarge, Unavailable
from planalign.service.api import align, catalogs, classify, duplicates, health, projects, search
from planalign.service.ui import routes as ui

log = logging.getLogger("planalign.service")
REQUESTS = Counter("planalign_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("planalign_request_seconds", "HTTP request latency", ["route"])
RETRY_AFTER_S = "2"

DESCRIPTION = """Thai NLP alignment and search for Bangkok (BMA) strategy catalogs and projects.

* **align**: a draft project -> suggested dimension / issue / goal / OKR with confidence and evidence
* **classify**: label texts inline, or a whole CSV/XLSX file as a background job
* **search**: prior projects, semantic + keyword, with filters and facets
* **duplicates**: clusters of near-copies and semantic overlaps across districts
* **projects**, **catalogs**: manage the data

Write endpoints need the `X-API-Key` header when keys are configured.
"""


def _json(status: int, message: str, detail: object | None = None, headers: dict[str, str] | None = None) -> JSONResponse:
    body: dict[str, object] = {"error": message}
    if detail is not None:
        body["detail"] = detail
    return JSONResponse(body, status_code=status, headers=headers)


_error = _json


class Guard:
    """Any exception the routers let through becomes a JSON 500; the connection stays usable."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            log.error("internal error on %s %s", scope.get("method"), scope.get("path"), exc_info=exc)
            if started:  # half a response is out: nothing sane to add, the connection must close
                raise
            await _json(500, f"internal error: {type(exc).__name__}")(scope, receive, send)


class _TooBig(Exception):
    pass


class BodySizeLimit:
    """Refuse bodies over the limit before reading them (declared length) or while reading them."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = next((v for k, v in scope.get("headers", []) if k.lower() == b"content-length"), None)
        too_big = _json(413, f"request body over the limit of {self.limit:,} bytes")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            return await too_big(scope, receive, send)
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooBig
            return message

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watch)
        except _TooBig:
            if started:
                raise
            await too_big(scope, receive, send)


class Metrics:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        status = 500

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            route = scope.get("route")
            name = getattr(route, "path", "unmatched")
            REQUESTS.labels(scope.get("method", ""), name, str(status)).inc()
            LATENCY.labels(name).observe(time.perf_counter() - started)


def _scrub(message: str, roots: tuple[str, ...]) -> str:
    """Error messages never show a server path (the data directory, temporary upload files)."""
    for root in roots:
        if root and root != "/":
            message = re.sub(re.escape(root) + r"[^\s'\":,]*", "(server file)", message)
    return message


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.load()
    roots = tuple(sorted({str(settings.resolved_data_dir()), str(settings.resolved_data_dir().resolve()), tempfile.gettempdir()},
                         key=len, reverse=True))

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        core = Application(settings)
        app.state.planalign = core
        app.state.warm = False
        core.start_indexer()
        core.jobs.start()

        def warm_up() -> None:
            core.warm_up()
            app.state.warm = True

        threading.Thread(target=warm_up, name="warm-up", daemon=True).start()
        yield
        core.close()

    app = FastAPI(title="planalign", version=__version__, description=DESCRIPTION, lifespan=lifespan)
    # add_middleware puts each one outside the ones before it: Guard ends up outermost of ours.
    app.add_middleware(Metrics)
    app.add_middleware(BodySizeLimit, limit=settings.max_body_bytes)
    app.add_middleware(Guard)

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, exc: HTTPException) -> JSONResponse:
        return _json(exc.status_code, _scrub(str(exc.detail), roots), headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": list(e.get("loc", [])), "msg": e.get("msg", "")} for e in exc.errors()]
        return _json(422, "invalid request", errors)

    @app.exception_handler(CatalogError)
    async def bad_catalog(_: Request, exc: CatalogError) -> JSONResponse:
        return _json(422, _scrub(str(exc).splitlines()[0], roots), [{"row": row, "message": _scrub(msg, roots)} for row, msg in exc.problems])

    @app.exception_handler(InputError)
    async def bad_input(_: Request, exc: InputError) -> JSONResponse:
        status = 404 if isinstance(exc, NotFound) else 409 if isinstance(exc, Conflict) else 413 if isinstance(exc, TooLarge) else 422
        return _json(status, _scrub(str(exc), roots))

    @app.exception_handler(Unavailable)
    async def unavailable(_: Request, exc: Unavailable) -> JSONResponse:
        return _json(503, str(exc), headers={"Retry-After": RETRY_AFTER_S})

    for module in (health, align, classify, search, duplicates, projects, catalogs):
        app.include_router(module.router)
    ui.mount(app)
    return app
