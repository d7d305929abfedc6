"""Duplicate clusters over the store, and a check of one draft against it."""
from __future__ import annotations

import threading

from fastapi import APIRouter, Depends, Query

from planalign.index.dedup import DedupConfig, find_duplicates
from planalign.service.api.deps import current_index, fiscal_year, get_state, require_read_key
from planalign.service.api.schemas import CheckRequest
from planalign.service.duplicates import check_draft, records_from_store
from planalign.service.state import ServiceState

router = APIRouter(prefix="/v1/duplicates", tags=["duplicates"], dependencies=[Depends(require_read_key)])
_cache: dict[tuple, dict] = {}
_cache_lock = threading.Lock()


@router.get("", summary="Clusters of duplicate projects (near-copies and semantic overlaps)")
def clusters(
    year: int | None = Query(None, description="Only projects of this fiscal year"),
    across_districts: bool = Query(True, description="Only pairs from different districts/organizations"),
    min_size: int = Query(2, ge=2, le=1000),
    limit: int = Query(50, ge=1, le=500),
    state: ServiceState = Depends(get_state),
) -> dict:
    index = current_index(state)
    year = fiscal_year(year)
    key = (id(index), year, across_districts)
    with _cache_lock:  # one computation per index generation and filter; concurrent callers wait
        if key not in _cache:
            _cache.clear()
            _cache[key] = _compute(state, index, year, across_districts)
        computed = _cache[key]
    selected = [c for c in computed["clusters"] if c["size"] >= min_size][:limit]
    return {"total_clusters": len(computed["clusters"]), "clusters": selected}


def _compute(state: ServiceState, index, year: int | None, across: bool) -> dict:
    records = records_from_store(state.workspace, index, year)
    result = find_duplicates(records.texts, records.vectors, records.groups, DedupConfig(across_groups=across), names=records.names, tokens=records.tokens)
    clusters = []
    for name, members in result.clusters.items():
        pairs = [p for p in result.pairs if p.cluster == name]
        clusters.append({
            "cluster": name,
            "size": len(members),
            "members": [{"id": records.ids[m], "name": records.names[m], "org": records.orgs[m], "year": records.years[m]} for m in members],
            "pairs": [{"id_a": records.ids[p.a], "id_b": records.ids[p.b], "score": p.score, "kind": p.kind, "why": p.why} for p in pairs[:200]],
        })
    return {"clusters": clusters}


@router.post("/check", summary="Stored projects that duplicate one draft")
def check(request: CheckRequest, state: ServiceState = Depends(get_state)) -> dict:
    return {"matches": [vars(m) for m in check_draft(state.workspace, current_index(state), request.text)]}
