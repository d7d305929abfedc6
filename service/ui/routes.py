"""Web pages (placeholder until the UI lands)."""
from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import HTMLResponse


def mount(app: FastAPI) -> None:
    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home() -> str:
        return "<!doctype html><html lang='th'><meta charset='utf-8'><title>planalign</title><h1>planalign</h1></html>"
