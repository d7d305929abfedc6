"""Duplicate clusters over the store, and a check of one draft against it; every pair with its matched and conflicting fields."""
from __future__ import annotations

from collections import Counter, defaultdict

from fastapi import APIRouter, Depends, Query

from planalign.app import fiscal_year
from planalign.config import ACROSS_DISTRICTS
from planalign.index.dedup import Pair
from planalign.service.api.deps import AppDep, require_read_key
from planalign.service.api.schemas import CheckRequest, CheckResponse, Cluster, ClusterLink, ClusterMember, ClusterPair, ClustersResponse

router = APIRouter(prefix="/v1/duplicates", tags=["duplicates"], dependencies=[Depends(require_read_key)])
PAIRS_PER_CLUSTER = 200


@router.get("", summary="Clusters of duplicate projects (re-submissions and the same project in other words)", response_model=ClustersResponse)
def clusters(
    app: AppDep,
    year: int | None = Query(None, description="Only projects of this fiscal year"),
    across_districts: bool = Query(ACROSS_DISTRICTS, description="Only pairs from different districts/organizations"),
    min_size: int = Query(2, ge=2, le=1000),
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, description="Clusters to skip (largest first): the next page of a store with more than `limit`"),
) -> ClustersResponse:
    found = app.duplicate_clusters(fiscal_year(year), across_districts)
    records, ids = found.records, found.ids
    orgs = found.orgs or [""] * len(ids)

    def member(m: int) -> ClusterMember:
        return ClusterMember(id=ids[m], name=records[m].name, org=orgs[m], year=found.years[m] if found.years else None)

    cluster_of = {m: name for name, members in found.result.clusters.items() for m in members}
    inside: dict[str, list[Pair]] = defaultdict(list)
    leaving: dict[str, list[tuple[Pair, int]]] = defaultdict(list)  # (pair, its text outside the cluster)
    flagged: Counter[str] = Counter()  # every flagged pair inside each cluster, also past the ones shown
    linked: Counter[str] = Counter()  # every flagged pair from a cluster to a text outside it
    for p in found.result.pairs:  # once, best first (a store's sweep can flag 800k pairs); models only for what is shown
        if p.cluster:
            flagged[p.cluster] += 1
            if len(inside[p.cluster]) < PAIRS_PER_CLUSTER:
                inside[p.cluster].append(p)
            continue
        for here, there in ((p.a, p.b), (p.b, p.a)):
            if here in cluster_of:
                linked[cluster_of[here]] += 1
                if len(leaving[cluster_of[here]]) < PAIRS_PER_CLUSTER:
                    leaving[cluster_of[here]].append((p, there))
    kept = [(name, members) for name, members in found.result.clusters.items() if len(members) >= min_size]
    shown = [Cluster(cluster=name, size=len(members), name=found.cluster_name(name), members=[member(m) for m in members],
                     pairs=[ClusterPair(id_a=ids[p.a], id_b=ids[p.b], decision=p.decision) for p in inside[name]], pairs_total=flagged[name],
                     links=[ClusterLink(id_a=ids[p.a], id_b=ids[p.b], decision=p.decision, outside=member(there), outside_cluster=cluster_of.get(there, ""))
                            for p, there in leaving[name]], links_total=linked[name])
             for name, members in kept[offset : offset + limit]]
    return ClustersResponse(total_clusters=len(kept), clusters=shown)


@router.post("/check", summary="Stored projects that duplicate one draft", response_model=CheckResponse)
def check(request: CheckRequest, app: AppDep) -> CheckResponse:
    return CheckResponse(matches=app.check_duplicates(request.text))
