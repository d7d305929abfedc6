"""The Thai web UI: five server-rendered pages (and a Thai page for an unknown address); small vanilla scripts call the /v1 JSON API.

Everything is served from this package (templates/ and static/): no CDN, no external URL, so the
pages work on a machine without internet. The pages are left out of the OpenAPI schema.
"""
from __future__ import annotations

import csv
import io
from functools import lru_cache
from importlib import resources
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from planalign import __version__
from planalign.service.format import PAGE_TERMS

HERE = Path(__file__).resolve().parent
TEMPLATES = Jinja2Templates(directory=str(HERE / "templates"))

# (path, template, nav label, page title)
PAGES = [
    ("/", "planner.html", "วางแผนโครงการ", "หน้าวางแผน"),
    ("/review", "review.html", "ค้นหาโครงการ", "หน้าค้นหา"),
    ("/evaluate", "evaluate.html", "ประเมินผล", "หน้าประเมินผล"),
    ("/catalog", "catalog.html", "แผนยุทธศาสตร์", "หน้าแผนยุทธศาสตร์"),
    ("/dashboard", "dashboard.html", "ภาพรวมยุทธศาสตร์", "ภาพรวมความครอบคลุมของแผนยุทธศาสตร์"),
]


@lru_cache(maxsize=1)
def _districts() -> tuple[list[str], list[str]]:
    """District names and district groups, for the search filters (from the bundled table)."""
    try:
        text = resources.files("planalign.corpora").joinpath("data/district_groups.csv").read_text(encoding="utf-8-sig")
    except (OSError, ModuleNotFoundError):
        return [], []
    rows = list(csv.DictReader(io.StringIO(text)))
    districts = sorted({r["district"].strip() for r in rows if r.get("district")})
    groups = list(dict.fromkeys(r["district_group"].strip() for r in rows if r.get("district_group")))
    return districts, groups


def _context(request: Request, path: str, title: str) -> dict:
    state = getattr(request.app.state, "planalign", None)
    settings = getattr(state, "settings", None)
    return {
        "title": title,
        "active": path,
        "nav": [(p, label) for p, _t, label, _title in PAGES],
        "version": __version__,
        "needs_key": bool(settings and (settings.keyed or settings.read_requires_key)),
        "default_catalog": getattr(settings, "catalog", "") or "",
        "terms": PAGE_TERMS,  # the Thai words of duplicate evidence and search hits, one table for the CLI and the pages
        "districts": _districts()[0],
        "district_groups": _districts()[1],
    }


def not_found(request: Request) -> HTMLResponse:
    """A page in Thai for an address that is not one of the pages (a browser asking for HTML)."""
    return TEMPLATES.TemplateResponse(request, "not_found.html", _context(request, "", "ไม่พบหน้านี้"), status_code=404)


def _page(template: str, path: str, title: str):
    def render(request: Request) -> HTMLResponse:
        return TEMPLATES.TemplateResponse(request, template, _context(request, path, title))

    render.__name__ = f"ui_{template.split('.')[0]}"
    return render


def mount(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    for path, template, _label, title in PAGES:
        app.add_api_route(path, _page(template, path, title), methods=["GET"], response_class=HTMLResponse,
                          include_in_schema=False)
    # the planner's page by its name too: a walkthrough typed /planner and met "ไม่พบหน้านี้"
    app.add_api_route("/planner", _page("planner.html", "/", PAGES[0][3]), methods=["GET"], response_class=HTMLResponse, include_in_schema=False)
