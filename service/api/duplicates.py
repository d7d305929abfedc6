"""Duplicate clusters over the store, and a check of one draft against it; every pair with its matched and conflicting fields."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from planalign.app import fiscal_year
from planalign.service.api.deps import AppDep, require_read_key
from planalign.service.api.schemas import CheckRequest, CheckResponse, Cluster, ClusterMember, ClusterPair, ClustersResponse

router = APIRouter(prefix="/v1/duplicates", tags=["duplicates"], dependencies=[Depends(require_read_key)])
PAIRS_PER_CLUSTER = 200


@router.get("", summary="Clusters of duplicate projects (re-submissions and the same project in other words)", response_model=ClustersResponse)
def clusters(
    app: AppDep,
    year: int | None = Query(None, description="Only projects of this fiscal year"),
    across_districts: bool = Query(True, description="Only pairs from different districts/organizations"),
    min_size: int = Query(2, ge=2, le=1000),
    limit: int = Query(50, ge=1, le=500),
) -> ClustersResponse:
    found = app.duplicate_clusters(fiscal_year(year), across_districts)
    records, ids = found.records, found.ids
    shown = []
    for name, members in found.result.clusters.items():
        pairs = [ClusterPair(id_a=ids[p.a], id_b=ids[p.b], decision=p.decision) for p in found.result.pairs if p.cluster == name]
        shown.append(Cluster(cluster=name, size=len(members), name=found.cluster_name(name), pairs=pairs[:PAIRS_PER_CLUSTER], members=[
            ClusterMember(id=ids[m], name=records[m].name, org=(found.orgs or [""] * len(ids))[m], year=found.years[m] if found.years else None)
            for m in members]))
    kept = [c for c in shown if c.size >= min_size]
    return ClustersResponse(total_clusters=len(kept), clusters=kept[:limit])


@router.post("/check", summary="Stored projects that duplicate one draft", response_model=CheckResponse)
def check(request: CheckRequest, app: AppDep) -> CheckResponse:
    return CheckResponse(matches=app.check_duplicates(request.text))
