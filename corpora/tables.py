"""Reading and writing the tables users hand us: CSV, TSV, XLSX, JSONL, JSON.

Thai government CSV exports are often TIS-620/cp874 or UTF-8 with a BOM; both are detected here,
so callers only ever see ``str``. Every problem is raised as :class:`TableError` with a message a
user can act on, never as a codec or openpyxl traceback.
"""
from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import charset_normalizer

from planalign.errors import InputError

SUPPORTED_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".jsonl", ".json")  # text ones also as .gz
MAX_CELL_CHARS = 1_000_000


class TableError(InputError):
    """A table cannot be read or written; the message says why and where."""


@dataclass
class Table:
    """Rows as dictionaries of strings, with the column order of the file."""

    columns: list[str]
    rows: list[dict[str, Any]]  # strings as read; writers also take numbers

    def require(self, columns: Iterable[str]) -> None:
        """Raise a clear error naming any missing column and the ones that exist."""
        missing = [c for c in columns if c not in self.columns]
        if missing:
            raise TableError(
                f"missing column(s): {', '.join(missing)}; the file has: {', '.join(self.columns) or '(none)'}"
            )


def decode_bytes(data: bytes, source: str = "input") -> str:
    """Decode text bytes: UTF-8 (with or without BOM), then cp874/TIS-620, then detection.

    Binary data (NUL bytes, undecodable content) is refused instead of producing mojibake.
    """
    if b"\x00" in data[:8192]:
        raise TableError(f"{source}: looks like a binary file, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp874")
        if any("\u0e01" <= ch <= "\u0e5b" for ch in text[:4096]) or text.isascii():
            return text
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(data).best()
    if best is None or best.chaos > 0.3:
        raise TableError(f"{source}: cannot detect the text encoding (tried UTF-8, cp874/TIS-620)")
    return str(best)


def read_text_file(path: str | Path) -> str:
    """Read a whole text file with encoding detection."""
    path = Path(path)
    if not path.is_file():
        raise TableError(f"{path}: no such file")
    return decode_bytes(path.read_bytes(), str(path))


def read_table(path: str | Path) -> Table:
    """Read a table by its extension; cells come back as stripped strings."""
    path = Path(path)
    if not path.is_file():
        raise TableError(f"{path}: no such file")
    compressed = path.suffix.lower() == ".gz"
    suffix = Path(path.stem).suffix.lower() if compressed else path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES or (compressed and suffix == ".xlsx"):
        raise TableError(f"{path}: unsupported file type {suffix or '(none)'}; use {', '.join(SUPPORTED_SUFFIXES)}")
    if suffix == ".xlsx":
        table = _read_xlsx(path)
    else:
        raw = path.read_bytes()
        if compressed:
            try:
                raw = gzip.decompress(raw)
            except (OSError, EOFError) as exc:
                raise TableError(f"{path}: not a readable gzip file ({exc})") from exc
        text = decode_bytes(raw, str(path))
        if suffix == ".jsonl":
            table = _read_jsonl(text, path)
        elif suffix == ".json":
            table = _read_json(text, path)
        else:
            table = _read_delimited(text, path, "\t" if suffix == ".tsv" else None)
    if not table.columns:
        raise TableError(f"{path}: the file is empty (no header row)")
    return table


def _clean(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _unique_columns(header: Sequence[object], path: Path) -> list[str]:
    columns = [_clean(h) for h in header]
    seen: set[str] = set()
    for index, name in enumerate(columns):
        if not name:
            columns[index] = name = f"column_{index + 1}"
        if name in seen:
            raise TableError(f"{path}: column {name!r} appears twice in the header")
        seen.add(name)
    return columns


def _read_delimited(text: str, path: Path, delimiter: str | None) -> Table:
    if not text.strip():
        return Table([], [])
    if delimiter is None:
        try:
            delimiter = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
    csv.field_size_limit(MAX_CELL_CHARS * 4)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = next(reader)
        columns = _unique_columns(header, path)
        rows = []
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            rows.append({c: _clean(v) for c, v in zip(columns, values)} | {c: "" for c in columns[len(values) :]})
    except csv.Error as exc:
        raise TableError(f"{path}: line {reader.line_num}: {exc}") from exc
    return Table(columns, rows)


def _read_jsonl(text: str, path: Path) -> Table:
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise TableError(f"{path}: line {number}: not valid JSON ({exc.msg})") from exc
        if not isinstance(record, dict):
            raise TableError(f"{path}: line {number}: expected a JSON object per line")
        records.append(record)
    return _from_records(records)


def _read_json(text: str, path: Path) -> Table:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TableError(f"{path}: not valid JSON ({exc.msg}, line {exc.lineno})") from exc
    if isinstance(data, dict):
        data = next((v for v in data.values() if isinstance(v, list)), None)
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise TableError(f"{path}: expected a JSON list of objects")
    return _from_records(data)


def _from_records(records: list[dict]) -> Table:
    columns: list[str] = []
    for record in records:
        columns.extend(k for k in record if k not in columns)
    rows = [{c: _json_cell(r.get(c)) for c in columns} for r in records]
    return Table(columns, rows)


def _json_cell(value: object) -> str:
    if isinstance(value, list):
        return "|".join(_clean(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return _clean(value)


def _read_xlsx(path: Path) -> Table:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a corrupt or non-xlsx file
        raise TableError(f"{path}: not a readable .xlsx workbook ({type(exc).__name__})") from exc
    try:
        sheet = workbook.worksheets[0]
        rows_iter = sheet.iter_rows(values_only=True)
        header = next((r for r in rows_iter if any(v is not None and _clean(v) for v in r)), None)
        if header is None:
            return Table([], [])
        columns = _unique_columns(header, path)
        rows = [
            {c: _clean(v) for c, v in zip(columns, values)} | {c: "" for c in columns[len(values) :]}
            for values in rows_iter
            if any(_clean(v) for v in values)
        ]
    finally:
        workbook.close()
    return Table(columns, rows)


def write_table(path: str | Path, columns: Sequence[str], rows: Iterable[Mapping[str, object]]) -> None:
    """Write rows by the path's extension. CSV gets a UTF-8 BOM so Excel shows Thai correctly.

    The file is written next to its destination and renamed into place, so a failure never leaves
    a half-written output behind.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".tsv", ".xlsx", ".jsonl"):
        raise TableError(f"{path}: cannot write {suffix or '(no extension)'}; use .csv, .tsv, .xlsx or .jsonl")
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.partial")
    try:
        if suffix == ".xlsx":
            from openpyxl import Workbook

            workbook = Workbook(write_only=True)
            sheet = workbook.create_sheet()
            sheet.append(list(columns))
            for row in rows:
                sheet.append([_xlsx_cell(row.get(c, "")) for c in columns])
            workbook.save(temporary)
        elif suffix == ".jsonl":
            with temporary.open("w", encoding="utf-8") as handle:
                for row in rows:
                    handle.write(json.dumps({c: row.get(c, "") for c in columns}, ensure_ascii=False) + "\n")
        else:
            with temporary.open("w", encoding="utf-8-sig", newline="") as handle:
                writer = csv.writer(handle, delimiter="\t" if suffix == ".tsv" else ",")
                writer.writerow(columns)
                for row in rows:
                    writer.writerow([row.get(c, "") for c in columns])
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)


def _xlsx_cell(value: object) -> object:
    # Excel refuses control characters and caps a cell at 32,767 characters.
    if isinstance(value, str):
        value = "".join(ch for ch in value if ch >= " " or ch in "\t\n")[:32767]
    return value
