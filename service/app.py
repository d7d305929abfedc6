"""The FastAPI application: routers, limits, errors, metrics, security headers, background work, web UI.

The middlewares are plain ASGI (no ``BaseHTTPMiddleware``), outermost first:

* :class:`Guard` turns any exception that escaped the routers into a JSON 500 *and keeps the
  connection open* (Starlette's ``ServerErrorMiddleware`` answers and then re-raises, which made
  uvicorn drop the keep-alive connection: the client's next request failed too);
* :class:`TrustedHosts` (where ``allowed_hosts`` are listed): a request sent to another host name
  (DNS rebinding) gets our JSON 400;
* :class:`SecurityHeaders`: ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY``,
  ``Referrer-Policy: same-origin`` on every response, and on the pages a Content-Security-Policy
  without inline scripts or styles (the pages have none: all script is in ``/static``);
* :class:`SameOrigin`: a state-changing request (POST, PUT, PATCH, DELETE) that carries an
  ``Origin`` (else ``Referer``) header must come from the service's own origin (the ``Host`` it was
  sent to) or one of ``allowed_origins``, unless it carries an API key: a page on another site
  cannot set that header without a CORS preflight, which this service grants to ``allowed_origins``
  only. Clients without either header (curl, scripts) are not browsers and pass;
* Starlette's ``CORSMiddleware`` (where ``allowed_origins`` are listed): their pages may call the API
  from the browser (the preflight was a 405 and no answer said ``Access-Control-Allow-Origin``, so
  the e-budget system's front end could not call it at all: an integrator's walkthrough);
* :class:`BodySizeLimit`: bodies over ``max_body_bytes`` get 413, by declared length or while read;
* :class:`Metrics`: request counts and latency per route for ``/metrics``;
* :class:`Busy`: counts the requests being answered (``Application.requests``), health checks aside,
  so the background indexer yields the GIL to them (planalign/indexer.py).
"""
from __future__ import annotations

import logging
import re
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio.to_thread
import fastapi_offline
from fastapi import Depends, FastAPI, Request, params
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import Counter, Histogram
from sqlalchemy.exc import OperationalError
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from planalign import __version__
from planalign.app import Application
from planalign.config import Settings
from planalign.corpora.catalog import CatalogError
from planalign.errors import Conflict, InputError, NotFound, TooLarge, Unavailable
from planalign.index.store import store_failure
from planalign.sample import ingest_sample
from planalign.service.api import align, catalogs, classify, coverage, decisions, duplicates, health, projects, search, tables
from planalign.service.api.deps import API_KEY_HEADER, RETRY_AFTER_S, refuse_unknown_query_parameters
from planalign.service.ui import routes as ui

HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})  # /metrics labels; any other is "other"
# Errors raised by the framework itself (no route, a method the route does not take, a body it cannot parse)
FRAMEWORK_THAI = {404: "ไม่พบที่อยู่ (URL) นี้ในระบบ กรุณาตรวจที่อยู่ หรือดูรายการที่ /docs",
                  405: "ที่อยู่นี้ไม่รับคำขอแบบนี้ (HTTP method) ดูแบบที่ใช้ได้ในส่วนหัว Allow หรือที่ /docs",
                  400: "คำขอไม่ถูกต้อง ระบบอ่านข้อมูลที่ส่งมาไม่ได้"}
log = logging.getLogger("planalign.service")
REQUESTS = Counter("planalign_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("planalign_request_seconds", "HTTP request latency", ["route"])
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; "
            "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
DOC_PAGES = ("/docs", "/redoc")  # FastAPI's API pages start Swagger UI / ReDoc with an inline script: no page CSP there
# Swagger UI and ReDoc from the fastapi-offline package, not a CDN: an office intranet has no internet.
DOC_ASSETS = "/static/apidocs"
DOC_ASSETS_DIR = Path(fastapi_offline.__file__).resolve().parent / "static"
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")  # a client's X-Request-ID taken as it is; anything else gets a new one
INTERNAL_TH = "เกิดข้อผิดพลาดภายในระบบ (ไม่ใช่ความผิดของไฟล์หรือข้อมูลของท่าน) กรุณาลองใหม่ หากยังไม่ได้ แจ้งผู้ดูแลระบบ"

DESCRIPTION = """Thai NLP alignment and search for Bangkok (BMA) strategy catalogs and projects.

* **align**: a draft project -> suggested dimension / issue / goal / OKR with confidence and evidence
* **classify**: label texts inline, or a whole CSV/XLSX file as a background job
* **search**: prior projects, semantic + keyword, with filters and facets
* **duplicates**: clusters of near-copies and semantic overlaps across districts
* **decisions**: the node a person chose for a text; the aligner learns from them
* **coverage**: projects, budget and citizen reports per dimension and issue, district by district; needs without projects
* **projects**, **catalogs**: manage the data

Write endpoints need the `X-API-Key` header when keys are configured (`PLANALIGN_API_KEYS`); reads
need it too when `PLANALIGN_READ_REQUIRES_KEY` is set, where a read-only key (`PLANALIGN_READ_KEYS`)
also reads. A state-changing request sent by a browser must come from this service's own pages
(same origin) or carry the key.
"""


FIELD_THAI = {"name": "ชื่อโครงการ", "objective": "วัตถุประสงค์", "target": "เป้าหมาย", "text": "ข้อความ"}  # the draft's fields on the planner page


_LOC_NOISE = frozenset({"body", "query", "path", "str", "int", "float", "bool", "none", "list", "dict"})


def _validation_thai(errors: Sequence[Any]) -> str:
    """What to fix, in Thai: the fields a person can fix (not a union's branch labels: "DecisionIn",
    "list[DecisionIn]" for one decision or a list), with the limit a too-long value broke; a body that
    is not JSON says so (it was "กรุณาตรวจช่อง: 0", the character position; a walkthrough)."""
    if any(e.get("type") == "json_invalid" for e in errors):
        return "ข้อมูลที่ส่งมาไม่ใช่ JSON ที่ถูกต้อง กรุณาตรวจเครื่องหมายวงเล็บ จุลภาค และเครื่องหมายคำพูด"
    fields: dict[str, tuple[str, list[int]]] = {}  # what a person reads for a field -> (its words, the list items it is wrong in)
    for e in errors:
        given = list(e.get("loc", ()))
        raw = [str(part) for part in given]
        if raw[:1] == ["header"] and len(raw) > 1:  # an over-long Idempotency-Key named nothing (an integrator's walkthrough)
            fields.setdefault(raw[-1], (f"ส่วนหัว {raw[-1]}", []))
            continue
        # not a body union's branch label ("DecisionIn", "list[DecisionIn]", right after "body" with more after it), nor a value's
        # types ("str", "int", "float") or where it came from; a key typed with a capital ("Text") is a key (a blind review)
        branch = [at == 1 and raw[0] == "body" and (part.endswith("]") or (part[:1].isupper() and (len(raw) > 2 or e.get("type") != "extra_forbidden")))
                  for at, part in enumerate(raw)]  # a non-object body's branch errors named "DecisionIn" (a blind review)
        kept = [(part, isinstance(original, int)) for part, original, label in zip(raw, given, branch) if part not in _LOC_NOISE and not label]
        # a list's position is a number in the location; a key of digits ("2568", a spreadsheet's year header) is a key
        field = next((part for part, position in reversed(kept) if not position), "")
        items = [int(part) + 1 for part, position in kept if position]
        if not field and not items:
            continue
        limit = (e.get("ctx") or {}).get("max_length")
        # as the planner page labels it ("name" read as English); a list's item that is no object: the item itself
        named = (f"{FIELD_THAI[field]} ({field})" if field in FIELD_THAI else field) if field else "รายการ"
        said = f"{named} ไม่เกิน {limit:,} ตัวอักษร" if e.get("type") == "string_too_long" and limit else named
        # which items of a list, once per field ("texts: 2" read as a field named 2, "year" without its project, and 10,000
        # projects each named: an integrator's walkthrough, a blind review)
        _, where = fields.setdefault(said, (said, []))
        where.extend(item for item in items[-1:] if item not in where)
    def with_items(said: str, where: list[int]) -> str:
        if not where:
            return said
        shown = ", ".join(str(n) for n in where[:5]) + (f" และอีก {len(where) - 5:,} รายการ" if len(where) > 5 else "")
        return f"รายการที่ {shown}" if said == "รายการ" else f"{said} (รายการที่ {shown})"

    named_fields = [with_items(said, where) for said, where in fields.values()]
    return f"ข้อมูลที่ส่งมาไม่ถูกต้อง กรุณาตรวจช่อง: {', '.join(named_fields)}" if named_fields else "ข้อมูลที่ส่งมาไม่ถูกต้อง"


def _json(status: int, message: str, detail: object | None = None, headers: dict[str, str] | None = None,
          thai: str | None = None) -> JSONResponse:
    """The one error body: ``error`` (English, for scripts and logs), ``message_th`` (Thai, for the pages) when known, ``detail``."""
    body: dict[str, object] = {"error": message}
    if thai:
        body["message_th"] = thai
    if detail is not None:
        body["detail"] = detail
    return JSONResponse(body, status_code=status, headers=headers)


# The Thai lead of an input error that has no Thai message of its own (the English reason follows).
INPUT_TH = {404: "ไม่พบสิ่งที่ขอ", 409: "ทำรายการนี้ในตอนนี้ไม่ได้", 413: "ข้อมูลใหญ่เกินกำหนด", 422: "ข้อมูลที่ส่งมาไม่ถูกต้อง"}


class Guard:
    """Any exception the routers let through becomes a JSON 500; the connection stays usable. Every answer
    carries ``X-Request-ID`` (the client's own, when it sent a plain one, else a new one), and a 500 names it
    as its log line does, so an integrator's report finds the traceback (it was neither echoed nor logged: an
    integrator's walkthrough)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False
        sent_id = Headers(scope=scope).get("x-request-id", "")
        request_id = sent_id if REQUEST_ID.fullmatch(sent_id) else uuid.uuid4().hex[:16]

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode("ascii"))]
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            log.error("internal error on %s %s (request %s)", scope.get("method"), scope.get("path"), request_id, exc_info=exc)
            if started:  # half a response is out: nothing sane to add, the connection must close
                raise
            await _json(500, f"internal error; the service log has the details under request {request_id}",
                        thai=f"{INTERNAL_TH} (รหัสคำขอ {request_id})")(scope, receive, watch)


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")

        async def add(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                extra = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"), (b"referrer-policy", b"same-origin")]
                content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                if content_type.startswith(b"text/html") and not path.startswith(DOC_PAGES):
                    extra.append((b"content-security-policy", PAGE_CSP.encode()))
                headers += [(k, v) for k, v in extra if k not in names]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, add)


class SameOrigin:
    """Refuse cross-site state-changing requests (CSRF) from browsers."""

    def __init__(self, app: ASGIApp, allowed: tuple[str, ...]) -> None:
        self.app = app
        self.allowed = {_origin_key(o) for o in allowed}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in STATE_CHANGING:
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        if API_KEY_HEADER.lower() in headers:
            return await self.app(scope, receive, send)  # checked by the routers; a cross-site page cannot send it
        source = headers.get("origin") or headers.get("referer")
        if source is None:
            return await self.app(scope, receive, send)  # not a browser
        origin = _origin_key(source)
        if origin is not None and (_same_host(origin, headers.get("host", "")) or origin in self.allowed):
            return await self.app(scope, receive, send)
        shown = source if len(source) < 200 else source[:200] + "..."
        await _json(403, f"cross-site request refused: {shown!r} is not this service's origin; send the request from its own "
                         f"pages, add the origin to PLANALIGN_ALLOWED_ORIGINS, or authenticate with the {API_KEY_HEADER} header",
                    thai=f"ปฏิเสธคำขอจากเว็บไซต์อื่น ({shown}) กรุณาใช้หน้าเว็บของระบบนี้ หรือให้ผู้ดูแลเพิ่มที่มาใน PLANALIGN_ALLOWED_ORIGINS "
                         f"หรือส่งกุญแจ API ในส่วนหัว {API_KEY_HEADER}")(scope, receive, send)


class TrustedHosts(TrustedHostMiddleware):
    """Starlette's host check, its refusal in our JSON error with the Thai message (it was plain English text).

    The inner app marks the scope when the check lets a request through; a response to an unmarked
    request is the check's own refusal, replaced whole. Health probes (``PROBES``) answer under any
    name: a monitor on the machine probes ``localhost`` (an operator listed the public name and ``curl
    localhost:8000/readyz`` got 400), a load balancer or Kubernetes its own address (a blind review).
    Under a name that is neither listed nor this machine's they say their status alone, so a page whose
    name was rebound to this machine reads no counts (another review)."""

    PROBES = ("/healthz", "/readyz")
    LOOPBACK = ("localhost", "127.0.0.1", "::1")

    def __init__(self, app: ASGIApp, allowed_hosts: list[str]) -> None:
        async def allowed(scope: Scope, receive: Receive, send: Send) -> None:
            scope["planalign.host_allowed"] = True
            await app(scope, receive, send)

        super().__init__(allowed, allowed_hosts=allowed_hosts, www_redirect=False)

    def listed(self, host: str) -> bool:
        """Whether a host name is one the service answers to (Starlette's rule: a name, or "*.domain")."""
        return self.allow_any or any(host == pattern or (pattern.startswith("*") and host.endswith(pattern[1:])) for pattern in self.allowed_hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await super().__call__(scope, receive, send)
        if scope.get("path") in self.PROBES:
            key = _origin_key(f"http://{Headers(scope=scope).get('host', '')}")  # the Host's name, as the origin check reads it
            host = key[1] if key is not None else ""
            if host not in self.LOOPBACK and not self.listed(host):
                scope["planalign.status_only"] = True  # a name neither listed nor this machine's: the status alone
            return await self.app(scope, receive, send)
        refused = False

        async def answer(message: Message) -> None:
            nonlocal refused
            if scope.get("planalign.host_allowed"):
                return await send(message)
            if not refused:
                refused = True
                host = Headers(scope=scope).get("host", "")[:200]
                await _json(400, f"host {host!r} is not one this service answers to (PLANALIGN_ALLOWED_HOSTS)",
                            thai=f"ระบบนี้ไม่รับคำขอที่ส่งถึงชื่อโฮสต์ {host} กรุณาเปิดระบบด้วยที่อยู่ที่ผู้ดูแลกำหนด "
                                 "หรือให้ผู้ดูแลเพิ่มชื่อนี้ใน PLANALIGN_ALLOWED_HOSTS")(scope, receive, send)

        await super().__call__(scope, receive, answer)


def cors_origins(allowed: Sequence[str]) -> list[str]:
    """The listed origins as a browser sends them (lower case, no default port, no path), for the CORS answer: the
    same-origin check compares them so, while CORS compared the strings as written ("https://ebudget.bangkok.go.th:443"
    let the keyless writes through and refused the preflight: a blind review). "*" and what is no origin are left out."""
    found = []
    for origin in allowed:
        key = _origin_key(origin)
        if key is not None:
            scheme, host, port = key
            name = f"[{host}]" if ":" in host else host
            found.append(f"{scheme}://{name}" + ("" if port == (443 if scheme == "https" else 80) else f":{port}"))
    return list(dict.fromkeys(found))


def _origin_key(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an origin or URL, default ports filled in; None when it is not one ("null")."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return parts.scheme, parts.hostname.lower(), port or (443 if parts.scheme == "https" else 80)


def _same_host(origin: tuple[str, str, int], host: str) -> bool:
    """The origin names the host the request was sent to (its port, or the scheme's default when Host has none).

    The scheme is not compared: behind a TLS proxy the service sees http while the page is https.
    """
    key = _origin_key(f"{origin[0]}://{host}")
    return key is not None and key[1:] == origin[1:]


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
        too_big = _json(413, f"request body over the limit of {self.limit:,} bytes",
                        thai=f"ข้อมูลที่ส่งมาใหญ่เกินกำหนด (ไม่เกิน {self.limit:,} ไบต์ต่อคำขอ) กรุณาแบ่งส่งเป็นหลายครั้ง")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            return await too_big(scope, receive, send)
        seen = 0
        started = exceeded = answering = False  # answering: the app's own response is under way

        async def counted() -> Message:
            nonlocal seen, exceeded
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    exceeded = True
                    raise _TooBig
            return message

        async def watch(message: Message) -> None:
            nonlocal started, answering
            if exceeded and not answering:  # the app caught the refusal (FastAPI answers a body it cannot read with 400): 413 instead
                if not started and message["type"] == "http.response.start":
                    started = True
                    await too_big(scope, receive, send)
                return
            if message["type"] == "http.response.start":
                started = answering = True
            await send(message)

        try:
            await self.app(scope, counted, watch)
        except _TooBig:
            if started:
                raise
            await too_big(scope, receive, send)


class Busy:
    """Requests in flight, for the indexer to yield to; probes of health and metrics are not counted."""

    QUIET = ("/healthz", "/readyz", "/metrics")

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        core = getattr(scope["app"].state, "planalign", None) if "app" in scope else None
        if scope["type"] != "http" or core is None or scope.get("path") in self.QUIET:
            return await self.app(scope, receive, send)
        with core.requests:
            await self.app(scope, receive, send)


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
            method = scope.get("method", "")  # a made-up method ("M0000001X") was a series of its own: 5,000 of them (a security probe)
            REQUESTS.labels(method if method in HTTP_METHODS else "other", name, str(status)).inc()
            LATENCY.labels(name).observe(time.perf_counter() - started)


SAMPLE_INDEX_WAIT_S = 600


def wait_indexed(core: Application) -> None:
    """Until the indexer agrees with the store (the sample is searchable), at most :data:`SAMPLE_INDEX_WAIT_S`."""
    deadline = time.monotonic() + SAMPLE_INDEX_WAIT_S
    while core.indexer is not None and not core.indexer.state.agreed and time.monotonic() < deadline:
        time.sleep(0.2)


def _scrub(message: str, roots: tuple[str, ...]) -> str:
    """Error messages never show a server path (the data directory, temporary upload files)."""
    for root in roots:
        if root and root != "/":
            message = re.sub(re.escape(root) + r"[^\s'\":,]*", "(server file)", message)
    return message


def _mount_api_docs(app: FastAPI) -> None:
    """``/docs`` (Swagger UI) and ``/redoc`` with their scripts served by this service, so they work offline."""
    app.mount(DOC_ASSETS, StaticFiles(directory=str(DOC_ASSETS_DIR)), name="apidocs")
    openapi_url = app.openapi_url or "/openapi.json"
    title = f"{app.title} API"

    @app.get(DOC_PAGES[0], include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=openapi_url, title=title, swagger_js_url=f"{DOC_ASSETS}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{DOC_ASSETS}/swagger-ui.css", swagger_favicon_url=f"{DOC_ASSETS}/favicon.png")

    @app.get(DOC_PAGES[1], include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(openapi_url=openapi_url, title=title, redoc_js_url=f"{DOC_ASSETS}/redoc.standalone.js",
                              redoc_favicon_url=f"{DOC_ASSETS}/favicon.png", with_google_fonts=False)


def create_app(settings: Settings | None = None, *, sample: bool = False) -> FastAPI:
    """The service. ``sample``: load the embedded sample projects if the store is empty, after the
    port is open (``/readyz`` reports how far; ``planalign serve --sample``, ``make run``)."""
    settings = settings or Settings.load()
    roots = tuple(sorted({str(settings.resolved_data_dir()), str(settings.resolved_data_dir().resolve()), tempfile.gettempdir()},
                         key=len, reverse=True))

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # Sync handlers run on this many worker threads: on a few cores more threads only interleave
        # (GIL) and hold more temporaries at once; the other requests queue. Health checks are async.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.request_threads
        core = Application(settings)
        app.state.planalign = core
        app.state.warm = False
        app.state.loading_sample = False
        core.serving(True)  # other processes on this data directory (the CLI) leave its default catalog in place
        core.start_indexer()
        core.jobs.start()
        core.learning.start()  # refits a catalog's model in the background when its decisions change

        def warm_up() -> None:
            try:
                if sample and core.store.count() == 0:
                    app.state.loading_sample = True
                    ingest_sample(core)  # committed to the store; the indexer embeds it, from the shipped vectors
                core.warm_up()
                if app.state.loading_sample:
                    wait_indexed(core)
                    app.state.loading_sample = False
                app.state.warm = True
            except Exception:  # readiness stays "starting"; requests load what they need themselves
                log.exception("warm-up failed")
                core.warmed.set()  # it ended: queued jobs waiting on it (Application.wait_warm) go on
                return
            try:  # after readiness: the dashboard's first answer, and alignments a catalog or model change left stale
                core.coverage_frame()
            except Exception:
                log.exception("coverage warm-up failed")

        threading.Thread(target=warm_up, name="warm-up", daemon=True).start()
        yield
        core.serving(False)
        core.close()

    app = FastAPI(title="planalign", version=__version__, description=DESCRIPTION, lifespan=lifespan, docs_url=None, redoc_url=None)
    _mount_api_docs(app)
    # add_middleware puts each one outside the ones before it: Guard ends up outermost of ours.
    app.add_middleware(Busy)
    app.add_middleware(Metrics)
    app.add_middleware(BodySizeLimit, limit=settings.max_body_bytes)
    app.add_middleware(SameOrigin, allowed=settings.allowed_origins)
    if origins := cors_origins(settings.allowed_origins):  # their preflights answered; keys travel in headers: no cookies allowed
        app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["GET", "POST", "DELETE"],
                           allow_headers=[API_KEY_HEADER, "Authorization", "Content-Type", "X-Request-ID", "Idempotency-Key"],
                           expose_headers=["Content-Disposition", "Retry-After", "X-Total-Count", "X-Request-ID", "Idempotent-Replayed"], max_age=600)
    app.add_middleware(SecurityHeaders)
    if settings.allowed_hosts:  # DNS rebinding: a page on evil.example, its name rebound to 127.0.0.1, is answered as evil.example
        app.add_middleware(TrustedHosts, allowed_hosts=list(settings.allowed_hosts))
    app.add_middleware(Guard)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 404 and request.url.path.split("/")[1] != "v1" and "text/html" in request.headers.get("accept", ""):
            return ui.not_found(request)  # a person's browser, not an API client
        thai = getattr(exc, "thai", None) or FRAMEWORK_THAI.get(exc.status_code)  # Refused's own; Starlette's 404/405/400 had none
        return _json(exc.status_code, _scrub(str(exc.detail), roots), headers=getattr(exc, "headers", None), thai=_scrub(thai, roots) if thai else None)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        sent_shape = _the_shape_sent(exc.errors())
        errors = [{"loc": list(e.get("loc", [])), "msg": e.get("msg", "")} for e in sent_shape]
        sent = request.headers.get("content-type", "")
        if errors and "json" not in sent.lower() and _takes_json(request) and all(e["loc"][:1] == ["body"] and len(e["loc"]) <= 2 for e in errors):
            # a JSON body sent as text or a form: it read "Input should be a valid dictionary" (an integrator's walkthrough)
            return _json(415, f"send the body as JSON with Content-Type: application/json (it came as {sent[:100] or 'no Content-Type'})",
                         errors, thai="กรุณาส่งข้อมูลเป็น JSON พร้อมส่วนหัว Content-Type: application/json")
        return _json(422, "invalid request", errors, thai=_validation_thai(sent_shape))

    @app.exception_handler(CatalogError)
    async def bad_catalog(_: Request, exc: CatalogError) -> JSONResponse:
        return _json(422, _scrub(exc.summary(), roots),
                     [{"row": p.row, "message": _scrub(p.message, roots), "message_th": _scrub(p.thai, roots)} for p in exc.problems],
                     thai=_scrub(exc.thai, roots) if exc.thai else None)

    @app.exception_handler(InputError)
    async def bad_input(_: Request, exc: InputError) -> JSONResponse:
        status = 404 if isinstance(exc, NotFound) else 409 if isinstance(exc, Conflict) else 413 if isinstance(exc, TooLarge) else 422
        message = _scrub(str(exc), roots)
        return _json(status, message, getattr(exc, "detail", None), thai=_scrub(exc.thai, roots) if exc.thai else f"{INPUT_TH[status]}: {message}")

    @app.exception_handler(Unavailable)
    async def unavailable(_: Request, exc: Unavailable) -> JSONResponse:
        return _json(503, str(exc), headers={"Retry-After": RETRY_AFTER_S}, thai=exc.thai)

    @app.exception_handler(OperationalError)
    async def store_failed(_: Request, exc: OperationalError) -> JSONResponse:
        """The database did not answer (PostgreSQL stopped, a lock held past the retries, a full disk): a 503 to retry,
        as /readyz says store_unreachable, not a 500 "internal error" (an operator's year). A program's error that
        SQLite also raises as OperationalError (a missing table, SQL it refuses) stays a 500 (a blind review)."""
        if store_failure(exc) is None:
            raise exc  # Guard answers it as every bug: a JSON 500 naming the request, its traceback logged
        log.warning("the store failed under a request: %s", (str(exc.orig or exc).splitlines() or ["?"])[0])
        return _json(503, "the store did not answer; retry shortly", headers={"Retry-After": RETRY_AFTER_S},
                     thai="ฐานข้อมูลไม่ตอบสนอง กรุณาลองใหม่ในอีกสักครู่")

    app.include_router(health.router)  # monitors add cache-busters (/healthz?probe=1): not refused
    for module in (align, classify, tables, decisions, search, duplicates, projects, catalogs, coverage):
        app.include_router(module.router, dependencies=[Depends(refuse_unknown_query_parameters)])  # the pages' routes take any
    ui.mount(app)
    _declare_errors(app)
    return app


# What the API's errors look like, for the OpenAPI description: every error is one shape (_json), and a generated
# client read only 200 and FastAPI's HTTPValidationError (``detail[].type`` required, never sent) while the service
# answered 400, 401, 403, 404, 409, 413 and 503 in our shape (an integrator's walkthrough, schemathesis).
ERROR_SCHEMA = {
    "type": "object", "title": "Error", "required": ["error"],
    "properties": {
        "error": {"type": "string", "description": "What went wrong, in English (for scripts and logs)"},
        "message_th": {"type": "string", "description": "The same for a person, in Thai (the pages show it)"},
        "detail": {"description": "422 of a request's fields: a list of {loc, msg}, one per field refused; a batch of decisions: "
                                  "one {decision (or row), error, message_th} an item refused; other errors: more about the problem "
                                  "where there is more (a catalog's or a file's problems)"},
    },
}
ERROR_STATUSES = {
    "400": "the request cannot be read (its body, or a host name not listed in PLANALIGN_ALLOWED_HOSTS)",
    "401": "an API key is needed and none, or an unknown one, was sent",
    "403": "a read-only key asked to write, or a browser page of another site asked to write",
    "404": "what the path or a parameter names does not exist",
    "409": "the request conflicts with the state of what it names (a job not finished or already ended, a catalog in use)",
    "413": "the body, a file or a batch is over the service's limits",
    "415": "a JSON body sent without Content-Type: application/json",
    "422": "a field, parameter or file content is not valid",
    "503": "the service is starting, loading a model or an index, or busy; retry after Retry-After seconds",
}


ERROR_HEADERS = {
    "401": {"WWW-Authenticate": {"description": "How to send the key: ApiKey header=\"X-API-Key\"", "schema": {"type": "string"}}},
    "503": {"Retry-After": {"description": "Seconds to wait before trying again", "schema": {"type": "integer"}}},
}


def _the_shape_sent(errors: Sequence[Any]) -> list[Any]:
    """A body that may be one object or a list of them (POST /v1/decisions) is checked as both; the errors of the shape
    not sent are left out when the other shape has errors of its own: one decision without its text also read "list:
    Input should be a valid list" (a planner's walkthrough)."""
    shapes = {tuple(e.get("loc", ())[:2]) for e in errors if len(e.get("loc", ())) >= 2 and e.get("loc", ())[0] == "body"}
    branches = {str(loc[1]) for loc in shapes}
    if not any(f"list[{name}]" in branches for name in branches):  # not the two branches of such a body: every error is the request's own
        return list(errors)  # ("texts" given as text beside an extra field: the field's error was dropped, a blind review)
    under = {loc: [e for e in errors if tuple(e.get("loc", ())[:2]) == loc] for loc in shapes}
    wrong_shape = {loc for loc, found in under.items()
                   if len(found) == 1 and len(found[0].get("loc", ())) == 2 and found[0].get("type") in ("list_type", "model_type", "model_attributes_type", "dict_type")}
    if wrong_shape and shapes - wrong_shape:  # both shapes wrong (neither sent): every error stays
        return [e for e in errors if tuple(e.get("loc", ())[:2]) not in wrong_shape]
    return list(errors)


def _takes_json(request: Request) -> bool:
    """Whether the route answering ``request`` reads a JSON body (not a form or an upload): only there is another
    Content-Type a 415 (a list of decisions sent as text got the 422 of its union's branches: a blind review)."""
    body = getattr(request.scope.get("route"), "body_field", None)
    return body is not None and isinstance(body.field_info, params.Body) and not isinstance(body.field_info, params.Form)


def _declare_errors(app: FastAPI) -> None:
    """Every API operation declares the error statuses it can answer, with the one error body."""
    generated = app.openapi

    def described() -> dict[str, Any]:
        schema = generated()  # FastAPI's, kept as app.openapi_schema: amended once, in place
        if "Error" in schema.get("components", {}).get("schemas", {}):
            return schema
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for unused in ("HTTPValidationError", "ValidationError"):
            components.pop(unused, None)
        components["Error"] = ERROR_SCHEMA
        error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
        for path, operations in schema.get("paths", {}).items():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                # /healthz answers 200 on purpose, a fallback included (its own body says so)
                statuses = dict(ERROR_STATUSES) if path.startswith("/v1/") else {} if path == "/healthz" else {"503": ERROR_STATUSES["503"]}
                if "requestBody" not in operation or "application/json" not in operation["requestBody"].get("content", {}):
                    statuses.pop("415", None)  # only a JSON body can come with another type
                if "requestBody" not in operation:
                    statuses.pop("413", None)  # nothing sent to be too large
                if not path.startswith("/v1/") and operation.get("security"):  # /metrics: a key when reads need one
                    statuses.update({s: ERROR_STATUSES[s] for s in ("401", "403")})
                for status, why in statuses.items():
                    responses.setdefault(status, {"description": why})
                for status, response in responses.items():
                    if status in ERROR_HEADERS:  # sent, so declared: a client generated from the document did not see them (an integrator)
                        response.setdefault("headers", {}).update(ERROR_HEADERS[status])
                    if status[0] in "45" and "Readiness" not in str(response.get("content", "")):
                        response["content"] = error
                        if response.get("description") == "Validation Error":  # FastAPI's words for its own 422 body
                            response["description"] = ERROR_STATUSES["422"]
        return schema

    app.openapi = described  # type: ignore[method-assign]
