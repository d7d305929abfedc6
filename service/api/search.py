"""GET /v1/search: hybrid search with filters, paging, facets and highlighted snippets."""
from __future__ import annotations

from collections import Counter
from dataclasses import asdict

from fastapi import APIRouter, Depends, Query

from planalign.index.hybrid import Filters, rank_positions, to_hits
from planalign.service.api.deps import current_index, fiscal_year, get_state, require_read_key
from planalign.service.state import ServiceState

router = APIRouter(prefix="/v1", tags=["search"], dependencies=[Depends(require_read_key)])
FACET_DEPTH = 200  # facets count the best 200 matches, as a reviewer scanning results would


@router.get("/search", summary="Search prior projects (semantic + keyword)")
def search(
    q: str = Query(..., min_length=1, max_length=2000, description="Query, e.g. ขุดลอกคลอง", examples=["ขุดลอกคลอง"]),
    year: int | None = Query(None, description="Fiscal year, B.E. (2567) or C.E. (2024)"),
    district: str | None = Query(None, max_length=100, examples=["บางเขน"]),
    group: str | None = Query(None, max_length=100, description="District group", examples=["กรุงเทพเหนือ"]),
    dimension: str | None = Query(None, max_length=100, examples=["D1"]),
    mode: str = Query("hybrid", pattern="^(hybrid|dense|keyword)$"),
    page: int = Query(1, ge=1, le=1000),
    page_size: int = Query(10, ge=1, le=100),
    state: ServiceState = Depends(get_state),
) -> dict:
    index = current_index(state)
    encoder = state.workspace.index_encoder(index) if mode != "keyword" else None
    ranked = rank_positions(index, encoder, q, mode, Filters(fiscal_year(year), district, group, dimension), max(FACET_DEPTH, page * page_size))
    facets = {
        name: dict(Counter(str(index.meta[field][p]) for p, _ in ranked[:FACET_DEPTH] if index.meta[field][p] not in ("", None)).most_common())
        for name, field in (("year", "fiscal_year"), ("district_group", "district_group"), ("dimension", "dimension_id"))
    }
    window = ranked[(page - 1) * page_size : page * page_size]
    results = [asdict(hit) for hit in to_hits(index, state.workspace.store, window, q)]
    return {"query": q, "mode": mode, "total": len(ranked), "page": page, "page_size": page_size, "facets": facets, "results": results}
