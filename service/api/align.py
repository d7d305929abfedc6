"""POST /v1/align: suggestions for one draft, plus its possible duplicates in the store."""
from __future__ import annotations

from fastapi import APIRouter, Depends

from planalign.errors import InputError
from planalign.index.align import warning_thai
from planalign.service.api.deps import AppDep, require_read_key
from planalign.service.api.schemas import AlignRequest, AlignResponse, DecidedOut

router = APIRouter(prefix="/v1", tags=["align"], dependencies=[Depends(require_read_key)])


@router.post("/align", summary="Suggest the dimension, issue, goal and OKR a draft aligns with", response_model=AlignResponse)
def align(request: AlignRequest, app: AppDep) -> AlignResponse:
    draft = request.draft()
    if not draft:
        raise InputError("give the draft as text or as name/objective/target",
                         thai="กรุณาใส่ข้อความโครงการ (หรือชื่อ วัตถุประสงค์ เป้าหมาย)")
    outcome = app.align(draft, aligner=app.aligner(request.catalog, learn=request.learn), level=request.level, top_k=request.top_k,
                        check_duplicates=request.check_duplicates, catalog=request.catalog)
    return AlignResponse(catalog=outcome.catalog, encoder=outcome.encoder, model_version=outcome.model_version, examples=outcome.examples,
                         learned=outcome.alignment.learned, levels=outcome.alignment.levels, needs_review=outcome.alignment.needs_review,
                         ends_above=outcome.alignment.ends_above,
                         neighbours=outcome.alignment.neighbours, warnings=outcome.alignment.warnings,
                         warnings_th=[warning_thai(w) for w in outcome.alignment.warnings],
                         duplicates=outcome.duplicates, decided=[DecidedOut.model_validate(d.as_dict()) for d in outcome.decided])
