"""Strategy coverage: projects, budget and citizen reports per catalog node; needs projects answer least; drill-down; export."""
from __future__ import annotations

import tempfile
from pathlib import Path

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from planalign.app import fiscal_year
from planalign.corpora.tables import write_table
from planalign.service.api.deps import MEDIA, AppDep, attachment, require_read_key
from planalign.service.api.schemas import CoverageItems, CoverageResponse, NeedsResponse
from planalign.service.format import coverage_rows, district_rows, need_rows, thai_headers

router = APIRouter(prefix="/v1/coverage", tags=["coverage"], dependencies=[Depends(require_read_key)])

Year = Query(None, description="Fiscal year, B.E. (2566) or C.E. (2023); default: every year", examples=[2566])
Catalog = Query(None, max_length=64, description="Catalog id (default: the service's)", examples=["bma-9d"])
Level = Query(None, max_length=64, description="Catalog level (default: the first, e.g. dimension)", examples=["issue"])
Group = Query(None, max_length=100, description="District group", examples=["กรุงเทพเหนือ"])
District = Query(None, max_length=100, description='District; "-" = projects without a district (central agencies)', examples=["บางเขน"])


@router.get("", summary="Projects, budget and citizen reports per catalog node, with districts and year-over-year", response_model=CoverageResponse)
def coverage(app: AppDep, year: int | None = Year, catalog: str | None = Catalog, level: str | None = Level, group: str | None = Group,
             district: str | None = District) -> CoverageResponse:
    return CoverageResponse.model_validate(app.coverage(year=fiscal_year(year), catalog=catalog, level=level, group=group, district=district))


@router.get("/needs", summary="Citizen needs projects answer least: a district's report share high where its project share is low",
            response_model=NeedsResponse)
def needs(app: AppDep, year: int | None = Year, catalog: str | None = Catalog, level: str | None = Level, group: str | None = Group,
          limit: int = Query(20, ge=1, le=200), min_reports: int = Query(10, ge=1, description="Only cells with at least this many reports")) -> NeedsResponse:
    found = app.citizen_needs(year=fiscal_year(year), catalog=catalog, level=level, group=group, limit=limit, min_reports=min_reports)
    return NeedsResponse.model_validate(found)


@router.get("/items", summary="The projects (or reports) behind one coverage cell", response_model=CoverageItems)
def items(app: AppDep, node: str | None = Query(None, max_length=100, description='Node id; "" = not aligned; absent = every node'),
          reports: bool = Query(False, description="Citizen reports instead of projects"), year: int | None = Year, catalog: str | None = Catalog,
          level: str | None = Level, group: str | None = Group, district: str | None = District,
          offset: int = Query(0, ge=0, le=2**62), limit: int = Query(50, ge=1, le=500)) -> CoverageItems:
    total, found = app.coverage_items(node=node, reports=reports, year=fiscal_year(year), catalog=catalog, level=level, group=group,
                                      district=district, offset=offset, limit=limit)
    return CoverageItems.model_validate({"total": total, "offset": offset, "items": found}, from_attributes=True)


@router.get("/export", summary="Coverage as CSV or XLSX: per node, per district (the heatmap), or the needs list",
            responses={200: {"content": {MEDIA["csv"]: {}, MEDIA["xlsx"]: {}}}}, response_class=Response)
def export(app: AppDep, format: str = Query("csv", pattern="^(csv|xlsx)$"), table: str = Query("nodes", pattern="^(nodes|districts|needs)$"),
           year: int | None = Year, catalog: str | None = Catalog, level: str | None = Level, group: str | None = Group,
           district: str | None = District,
           headers: str = Query("en", pattern="^(en|th)$", description="Column names: en (stable, for programs) or th (the dashboard's own words)")) -> Response:
    year = fiscal_year(year)
    if table == "needs":
        needs = app.citizen_needs(year=year, catalog=catalog, level=level, group=group, limit=None)  # all of them (it stopped at 200 of 216: a walkthrough)
        columns, rows, used = *need_rows(needs), needs.level
    else:
        found = app.coverage(year=year, catalog=catalog, level=level, group=group, district=district)
        columns, rows, used = *(coverage_rows(found) if table == "nodes" else district_rows(found)), found.level
    if headers == "th":
        columns, rows = thai_headers(columns, rows)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"coverage.{format}"
        write_table(path, columns, rows)
        content = path.read_bytes()
    # the dimension and the issue tables of a year were both "coverage-nodes-2566.csv" (a walkthrough): the level is in the name
    name = f"coverage-{table}-{used}-{year or 'all'}.{format}"  # the level the rows are at (default: the first)
    return Response(content, media_type=MEDIA[format], headers={"Content-Disposition": attachment(name)})
