"""A file's columns before a job: the evaluation page checks the columns it will ask for while the file is chosen."""
from __future__ import annotations

from fastapi import APIRouter, Depends, File, UploadFile
from starlette.concurrency import run_in_threadpool

from planalign.corpora.projects import guess_columns
from planalign.corpora.tables import TABLE_UPLOAD_SUFFIXES, read_table
from planalign.service.api.deps import AppDep, display_name, read_upload, refuse_unknown_form_fields, require_read_key, upload_path
from planalign.service.api.schemas import TableColumns

router = APIRouter(prefix="/v1/tables", tags=["classify"])
PREVIEW_ROWS = 5


@router.post("/columns", summary="The columns and first rows of a CSV/XLSX/XLS/JSONL file (nothing is stored)",
             dependencies=[Depends(require_read_key), Depends(refuse_unknown_form_fields)], response_model=TableColumns)
async def table_columns(app: AppDep, file: UploadFile = File(..., description="The file a job would classify")) -> TableColumns:
    suffix, content = await read_upload(file, TABLE_UPLOAD_SUFFIXES)
    name = display_name(file, suffix)

    def read() -> TableColumns:  # the same reader and limits as a job: a file accepted here is accepted there
        with upload_path(suffix, content, name) as path:
            table = read_table(path, name=name, limits=app.table_limits())
        guess = guess_columns(table)
        return TableColumns(filename=name, columns=table.columns, rows=table.rows[:PREVIEW_ROWS], total_rows=len(table.rows),
                            text_columns=guess.text, id_column=guess.id)

    return await run_in_threadpool(read)
