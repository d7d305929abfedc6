"""POST /v1/align: suggestions for one draft, plus its possible duplicates in the store."""
from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Depends

from planalign.service.api.deps import get_state, require_read_key
from planalign.service.api.schemas import AlignRequest
from planalign.service.duplicates import check_draft
from planalign.service.state import ServiceState

router = APIRouter(prefix="/v1", tags=["align"], dependencies=[Depends(require_read_key)])


@router.post("/align", summary="Suggest the dimension, issue, goal and OKR a draft aligns with")
def align(request: AlignRequest, state: ServiceState = Depends(get_state)) -> dict:
    draft = request.draft()
    if not draft:
        raise ValueError("give the draft as text or as name/objective/target")
    aligner = state.aligner(request.catalog)
    result = asdict(aligner.align(draft, top_k=request.top_k, level=request.level))
    duplicates = []
    index = state.index() if request.check_duplicates else None
    if index is not None:
        duplicates = [vars(m) for m in check_draft(state.workspace, index, draft)]
    return {"catalog": aligner.catalog.name, **result, "duplicates": duplicates}
