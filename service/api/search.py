"""GET /v1/search: hybrid search with filters, paging, facets, highlighted snippets, an honest total and why each hit is shown."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from planalign.app import fiscal_year
from planalign.service.api.deps import AppDep, require_read_key
from planalign.service.api.schemas import SearchResponse

router = APIRouter(prefix="/v1", tags=["search"], dependencies=[Depends(require_read_key)])


@router.get("/search", summary="Search prior projects (semantic + keyword); total = hits above the relevance floor", response_model=SearchResponse)
def search(
    app: AppDep,
    q: str = Query(..., min_length=1, max_length=2000, description="Query, e.g. ขุดลอกคลอง", examples=["ขุดลอกคลอง"]),
    year: int | None = Query(None, description="Fiscal year, B.E. (2567) or C.E. (2024)"),
    district: str | None = Query(None, max_length=100, examples=["บางเขน"]),
    group: str | None = Query(None, max_length=100, description="District group", examples=["กรุงเทพเหนือ"]),
    dimension: str | None = Query(None, max_length=100, examples=["D1"]),
    kind: str | None = Query(None, max_length=20, description="project: projects only; report: citizen reports (Traffy) only; "
                                                             "all or empty: both", examples=["project"]),
    mode: str = Query("hybrid", pattern="^(hybrid|dense|keyword)$"),
    page: int = Query(1, ge=1, le=1000),
    page_size: int = Query(10, ge=1, le=100),
    collapse: bool = Query(True, description="Results with the very same text as one hit (their ids in copies); total counts distinct texts"),
) -> SearchResponse:
    filters = app.search_filters(fiscal_year(year), district, group, dimension, kind)
    # one hit past the page says whether another page exists (total counts the relevant hits only; weaker ones follow)
    found = app.search(q, filters=filters, mode=mode, offset=(page - 1) * page_size, limit=page_size + 1, facets=True, collapse=collapse)
    return SearchResponse(query=q, mode=mode, total=found.total, total_rows=found.total_rows, page=page, page_size=page_size, facets=found.facets,
                          results=found.hits[:page_size], more=len(found.hits) > page_size, hint=found.hint,
                          did_you_mean=found.did_you_mean)
