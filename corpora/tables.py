"""Reading and writing the tables users hand us: CSV, TSV, XLSX, XLS (Excel 97-2003), JSONL, JSON.

Thai government CSV exports are often TIS-620/cp874 or UTF-8 with a BOM; both are detected here,
so callers only ever see ``str``. Every problem is raised as :class:`TableError` with a message a
user can act on, never as a codec or openpyxl traceback; messages name the file by ``name`` when a
caller gives one (an upload is named by the user's file name, not by its temporary path).

Reading is bounded: ``max_rows`` stops a reader at the first row over the limit (an XLSX is
streamed row by row, so a 300,000-row workbook is refused after reading ``max_rows`` rows, not
loaded whole; an XLS, at most 65,536 rows a sheet, is parsed a sheet at a time, its rows as long as
their own cells, each sheet unloaded once read), a workbook's first :data:`SHEETS_READ` sheets at
most are looked at, ``max_cell_chars`` refuses a cell over the limit, and a workbook whose parts
decompress to more than ``max_inflated`` bytes (uploads: :data:`MAX_XLSX_INFLATED`) is refused before it is parsed.
A CSV with an unclosed quote is refused (Python's reader would otherwise merge every following row
into one cell), and so is a row with more values than the header (an unquoted "1,250" would
otherwise shift the row's values into the wrong columns and drop the last); empty extra fields, as
spreadsheets export them, are fine.

Writing neutralises spreadsheet formulas: a text cell starting with ``=``, ``+``, ``-``, ``@``, a
tab or a carriage return (unless it is a plain number such as ``-20``) is written to CSV/TSV with a
leading apostrophe (``'=HYPERLINK(...)``), the OWASP recommendation, and to XLSX as a text cell
marked "quote prefix", so Excel and LibreOffice show it as text and never evaluate it. Numbers
given as numbers stay numbers.

An XLSX is written for people who sum and sort in Excel: a text cell that is a plain number
("400000", "0.2483", "-20", a Buddhist-era year "2566") becomes a number cell, except in an
identifier column (:func:`is_id_column`: "id", "*_id", "รหัส...", labels, or a column the caller
names), and except for a number a spreadsheet would alter ("0012", more than 15 digits). The header
row is frozen and every column is sized to its content.
"""
from __future__ import annotations

import codecs
import csv
import gzip
import io
import itertools
import json
import re
import uuid
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, Set
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import charset_normalizer

from planalign.corpora.form import KNOWN_HEADERS, header_key
from planalign.errors import InputError, TooLarge

SUPPORTED_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xls", ".jsonl", ".json")  # text ones also as .gz
WORKBOOK_SUFFIXES = (".xlsx", ".xls")
# What the service takes as a table upload (a job, projects): offices still save Excel 97-2003 .xls, and
# Excel's "Unicode Text" as .txt (the CLI read it, a job refused it: a walkthrough).
TABLE_UPLOAD_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xls", ".jsonl")
_ZIP_MAGIC = b"PK\x03\x04"  # an .xlsx
_OLE_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")  # an Excel 97-2003 .xls
MAX_CELL_CHARS = 1_000_000
# An XLSX is a zip of XML. An uploaded workbook inflating past this many bytes (Limits.max_inflated) is refused
# before it is parsed, whatever its ratio (a user's own file on the command line is read whole: 117k Traffy reports
# saved as one workbook inflate to 112 MB): a ratio test (100x) let an 8.5 MB workbook of 300 MB of shared strings (ratio 35) hold 2.1 GB for
# good; 95 MB took 45 s and 0.5 GB (a security probe). 20,000 rows of a form's 20 columns inflate to tens of MB
# (a CSV has no such bound to meet).
MAX_XLSX_INFLATED = 100 * 1024 * 1024
# Columns a table may have: a JSON-lines file of 8,000 one-key rows (351 KB) padded every row to 8,000 columns
# (1.5 GB; a security probe). Submission forms have tens.
MAX_COLUMNS = 1_000
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d[\d,]*(\.\d+)?(e[+-]?\d+)?", re.IGNORECASE)
# A number as programs print it or people type budgets: no leading zero (an id such as "0012" keeps it),
# thousands separators only in groups of three ("1,200,000" and "250,000.00" stayed text, and Excel's SUM
# left them out: a walkthrough). Plan numbers such as "1.10" are kept as written by their columns being
# ids or labels (is_id_column, kept_as_text), not here: budgets are written "250000.00" (a blind review).
# An item number of a list ("1.10", the tenth of section 1; "12.20"): a number would write it 1.1, which is
# another item (a browser walkthrough: a CSV's "1.10" came back from the XLSX download as 1.1). A workbook's
# text cell of this form, or a column of a CSV holding one and no number of three or more digits before
# the point, is written as text; amounts ("250000.00", "1234.50", "250,000.00", "0.50") stay numbers
# (a blind review of a first rule that made a column of "1234.50" text, and Excel's SUM skipped it).
_ITEM_NUMBER = re.compile(r"[1-9]\d?\.\d*[1-9]\d*0")
_LARGE_NUMBER = re.compile(r"-?(?:\d{3,}|\d{1,3},\d{3})[\d,]*(?:\.\d+)?")
# A run of 12 or more digits without separators is an identifier (a 13-digit citizen or tax id, an account number), not
# an amount: Excel shows such a number as 1.23457E+12 and a column held both kinds (a blind review); BMA's whole yearly
# budget is 11 digits, and an amount written with separators stays a number at any size.
_CANONICAL_NUMBER = re.compile(r"-?(0|[1-9]\d{0,10}|[1-9]\d{0,2}(,\d{3}){1,4})(\.\d+)?")
_SHEET_TITLE_BAD = re.compile(r"[\[\]:*?/\\\x00-\x1f]")  # characters Excel refuses in a sheet's name
_ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2})?")  # how _clean writes a date or date-time cell read from a workbook
_ID_COLUMN = re.compile(r"(^|_)(id|ids|label|labels)($|_)|รหัส|^cluster$", re.IGNORECASE)
XLSX_MAX_WIDTH = 60
XLSX_WIDTH_SAMPLE = 500  # rows read to size the columns


class TableError(InputError):
    """A table cannot be read or written; the message says why and where."""


class TableTooLarge(TableError, TooLarge):
    """A table is over a configured limit (rows, characters per cell): 413 in the API."""


@dataclass(frozen=True)
class Limits:
    """Bounds on what a reader accepts; None = unbounded."""

    max_rows: int | None = None
    max_cell_chars: int = MAX_CELL_CHARS
    max_inflated: int | None = None  # bytes a workbook's XML may inflate to (uploads: MAX_XLSX_INFLATED; a user's own file: any)


@dataclass
class Table:
    """Rows as dictionaries of strings, with the column order of the file."""

    columns: list[str]
    rows: list[dict[str, Any]]  # strings as read; writers also take numbers
    # Each row's number as a person finds it in the file: as a spreadsheet shows a CSV/TSV or XLSX
    # (header = 1, blank rows counted), the line of a JSON-lines file, the position (from 1) in a JSON
    # list. What a message or an output names a row by when the file has no ids (``row_numbers``).
    sheet_rows: list[int] = field(default_factory=list)
    source: str = ""  # how messages call the file it was read from (:func:`read_table`'s label)
    # A workbook's columns with a text cell that is an item number ("1.10", :data:`_ITEM_NUMBER`): written
    # back as text (:func:`kept_as_text`), not as the number 1.1 (a walkthrough). CSV cells are all text.
    text_cells: set[str] = field(default_factory=set)
    sheet: str = ""  # the workbook sheet it was read from: an XLSX written from it keeps the name ("โครงการปี 2566" came back "Sheet")
    # A workbook's columns with a date cell: written back as dates (:func:`write_table`'s ``date_columns``), not ISO text.
    date_cells: set[str] = field(default_factory=set)

    def row_numbers(self) -> list[int]:
        """Each row's number as a person finds it in the file (``sheet_rows``); for a table built in
        memory, as a spreadsheet would number it (header = 1)."""
        return self.sheet_rows or list(range(2, len(self.rows) + 2))

    def where(self, conditions: dict[str, str]) -> Table:
        """The rows whose columns equal the values (``--where level=item``), keeping the file's row numbers."""
        self.require(list(conditions))
        kept = [(n, r) for n, r in zip(self.row_numbers(), self.rows) if all(r[c] == v for c, v in conditions.items())]
        return replace(self, rows=[r for _, r in kept], sheet_rows=[n for n, _ in kept])

    def require(self, columns: Iterable[str], source: str | None = None) -> None:
        """Raise a clear error naming any missing column and the ones that exist (``source``: the user's file name)."""
        missing = [c for c in columns if c not in self.columns]
        source = source or self.source  # "ไฟล์ ไม่มีคอลัมน์ ..." named no file when the caller did not (a walkthrough)
        if missing:
            has = ", ".join(self.columns) or "(none)"
            raise TableError(f"missing column(s): {', '.join(missing)}; {source or 'the file'} has: {has}",
                             thai=f"ไฟล์{' ' + source if source else ''} ไม่มีคอลัมน์ {', '.join(missing)} (คอลัมน์ในไฟล์: {has}) กรุณาเลือกคอลัมน์ที่มีอยู่ในไฟล์")

    def require_rows(self, source: str) -> None:
        """Refuse a file with a header and no data row: its job or ingest would end "done" with
        nothing in it, which reads as success (``source``: the user's file name)."""
        if not self.rows:
            has = ", ".join(self.columns) or "(none)"
            raise TableError(f"{source}: the file has a header ({has}) but no data rows; nothing to do",
                             thai=f"ไฟล์ {source} มีแต่แถวหัวตาราง ไม่มีข้อมูล กรุณาใส่ข้อมูลอย่างน้อยหนึ่งแถว")


def decode_bytes(data: bytes, source: str = "input") -> str:
    """Decode text bytes: UTF-8 (with or without BOM), then cp874/TIS-620 (cp1252 where cp874 reads a
    Western file's accented letters as Thai signs), then detection.

    Binary data (NUL bytes, undecodable content) is refused instead of producing mojibake. UTF-16 with its
    byte-order mark (Excel's "Unicode Text" export) is text: it was refused as "an image or PDF" for its NUL
    bytes (a security probe).
    """
    for boms, encoding in (((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE), "utf-32"), ((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE), "utf-16")):
        if data.startswith(boms):  # UTF-32's mark first: it begins with UTF-16's (a UTF-32 file was read as UTF-16, NULs in every name)
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                break  # a BOM and then no such text: refused below
            if "\x00" not in text:
                return text
            break
    if b"\x00" in data[:8192]:
        raise TableError(f"{source}: looks like a binary file, not text; save it as CSV (UTF-8) or XLSX and upload that",
                         thai=f"ไฟล์ {source} ไม่ใช่ไฟล์ข้อความหรือตาราง (อาจเป็นรูปภาพ PDF หรือไฟล์ที่เสีย) กรุณาบันทึกเป็น CSV (UTF-8) หรือ XLSX แล้วลองอีกครั้ง")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    view = data.decode("cp874", errors="replace")
    if _latin_read_as_thai(view):  # Excel's Western export: cp874 made "café" "caf้" and "Köln" "K๖ln"
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            pass
    elif "\ufffd" not in view:  # Thai, or no Thai and nothing cp874 reads otherwise than cp1252 (smart quotes, €, –)
        return view
    best = charset_normalizer.from_bytes(data).best()
    if best is None or best.chaos > 0.3:
        raise TableError(f"{source}: cannot detect the text encoding (tried UTF-8, cp874/TIS-620, cp1252)",
                         thai=f"อ่านตัวอักษรในไฟล์ {source} ไม่ได้ กรุณาบันทึกเป็น CSV แบบ UTF-8 หรือ XLSX แล้วลองอีกครั้ง")
    return str(best)


# What cp874 makes of a Western file's accented letters, never seen in Thai writing: a Thai vowel or
# tone mark on a Latin letter ("caf้"), a byte cp874 lacks there ("Z\ufffdrich": ü, ý, þ, ÿ, Û), or
# one or two Thai letters or digits inside a Latin word ("K๖ln", "Sใo Paulo"; a Thai word between
# two Latin ones, "BTSและMRT", is longer).
_LATIN_READ_AS_THAI = re.compile(r"[A-Za-z](?:[\u0e31\u0e34-\u0e3a\u0e47-\u0e4e\ufffd]|[\u0e01-\u0e5b]{1,2}(?=[A-Za-z]))")
_MARK_AFTER_THAI = re.compile(r"[\u0e01-\u0e2e][\u0e31\u0e34-\u0e3a\u0e47-\u0e4e]")


def _latin_read_as_thai(text: str) -> bool:
    """Whether cp874 made Thai signs of a Western file's accented letters: they sit on Latin letters
    more often than marks sit on Thai consonants (a Thai file's typo, a tone mark typed after
    "iPad", stays Thai)."""
    sample = text[:65536]
    return len(_LATIN_READ_AS_THAI.findall(sample)) > len(_MARK_AFTER_THAI.findall(sample))


def read_text_file(path: str | Path) -> str:
    """Read a whole text file with encoding detection."""
    path = Path(path)
    if not path.is_file():
        raise TableError(f"{path}: no such file", thai=f"ไม่พบไฟล์ {path}")
    return decode_bytes(path.read_bytes(), str(path))


def read_table(path: str | Path, *, name: str | None = None, limits: Limits | None = None) -> Table:
    """Read a table by its extension; cells come back as stripped strings.

    ``name``: how messages call the file (default: its path); ``limits``: rows and characters per
    cell beyond which the file is refused (:class:`TableTooLarge`).
    """
    path = Path(path)
    label = name or str(path)
    limits = limits or Limits()
    if not path.is_file():
        raise TableError(f"{label}: no such file", thai=f"ไม่พบไฟล์ {label}")
    compressed = path.suffix.lower() == ".gz"
    suffix = Path(path.stem).suffix.lower() if compressed else path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES or (compressed and suffix in WORKBOOK_SUFFIXES):
        raise TableError(f"{label}: unsupported file type {suffix or '(none)'}; use {', '.join(SUPPORTED_SUFFIXES)}",
                         thai=f"ไม่รองรับไฟล์ชนิด {suffix or '(ไม่มีนามสกุล)'} ของ {label} กรุณาใช้ไฟล์ {', '.join(SUPPORTED_SUFFIXES)}")
    if suffix in WORKBOOK_SUFFIXES or (not compressed and _is_workbook(path)):
        # a workbook saved or renamed as .csv or .txt reads as the workbook it is ("looks like a binary file": an
        # integrator's walkthrough, against the README's "a renamed file still reads")
        table = _read_workbook(path, label, limits)
    else:
        raw = path.read_bytes()
        if compressed:
            try:
                raw = gzip.decompress(raw)
            except (OSError, EOFError) as exc:
                raise TableError(f"{label}: not a readable gzip file ({exc})",
                                 thai=f"แตกไฟล์บีบอัด {label} (.gz) ไม่ได้ ไฟล์อาจเสีย กรุณาบีบอัดใหม่หรืออัปโหลดไฟล์ที่ไม่บีบอัด") from exc
        text = decode_bytes(raw, label)
        if suffix == ".jsonl":
            table = _read_jsonl(text, label, limits)
        elif suffix == ".json":
            table = _read_json(text, label, limits)
        else:
            table = _read_delimited(text, label, "\t" if suffix == ".tsv" else None, limits)
    if not table.columns:
        raise TableError(f"{label}: the file is empty (no header row)",
                         thai=f"ไฟล์ {label} ว่างเปล่า (ไม่มีแถวหัวตาราง) กรุณาตรวจว่าแถวแรกเป็นชื่อคอลัมน์")
    table.source = label
    return table


def _check_columns(count: int, label: str) -> None:
    if count > MAX_COLUMNS:
        raise TableTooLarge(f"{label}: more than {MAX_COLUMNS:,} columns; a table of projects has tens",
                            thai=f"ไฟล์ {label} มีคอลัมน์เกิน {MAX_COLUMNS:,} คอลัมน์ กรุณาตรวจว่าเป็นตารางโครงการ")


def _check_rows(count: int, label: str, limits: Limits) -> None:
    if limits.max_rows is not None and count > limits.max_rows:
        raise TableTooLarge(f"{label}: more than {limits.max_rows:,} data rows (the limit per file); split the file",
                            thai=f"ไฟล์ {label} มีข้อมูลเกิน {limits.max_rows:,} แถว (จำนวนสูงสุดต่อไฟล์) กรุณาแบ่งเป็นหลายไฟล์")


def _check_cells(row: dict[str, str], number: int, label: str, limits: Limits) -> dict[str, str]:
    for column, value in row.items():
        if len(value) > limits.max_cell_chars:
            raise TableTooLarge(f"{label}: row {number}, column {column!r}: {len(value):,} characters, "
                                f"over the limit of {limits.max_cell_chars:,} per cell",
                                thai=f"ไฟล์ {label} แถวที่ {number} คอลัมน์ {column}: ยาว {len(value):,} ตัวอักษร "
                                     f"เกินที่รับได้ {limits.max_cell_chars:,} ตัวอักษรต่อช่อง กรุณาตัดข้อความให้สั้นลง")
    return row


def _clean(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime) and value.time() == time.min:  # a date cell: "2024-10-01", not "2024-10-01 00:00:00" (a walkthrough)
        value = value.date()
    return str(value).strip()


def _unique_columns(header: Sequence[object], label: str) -> list[str]:
    columns = [_clean(h) for h in header]
    seen: set[str] = set()
    for index, name in enumerate(columns):
        if not name:
            columns[index] = name = f"column_{index + 1}"
        if name in seen:
            raise TableError(f"{label}: column {name!r} appears twice in the header",
                             thai=f"ไฟล์ {label} มีคอลัมน์ชื่อ {name} ซ้ำกันในแถวหัวตาราง กรุณาเปลี่ยนชื่อคอลัมน์ให้ไม่ซ้ำกัน")
        seen.add(name)
    return columns


def _read_delimited(text: str, label: str, delimiter: str | None, limits: Limits) -> Table:
    if not text.strip():
        return Table([], [])
    if "\r" in text and "\n" not in text:  # an old Mac file's lines end in CR alone: refused with Python's own words (a security probe)
        text = text.replace("\r", "\n")
    if delimiter is None:
        try:
            delimiter = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
    csv.field_size_limit(2**31 - 1)  # process-wide; cells are checked against the caller's limit below, with a clear message
    # strict: a quoted field that is never closed is an error, not the rest of the file in one cell
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, strict=True)
    # A record's first line in the file, as messages name it (a quoted cell may span lines), kept for the
    # records with a value until they are checked (every record's: 2 GB for 20 million empty lines, a blind
    # review); "reading": the record being read.
    first_line: dict[int | str, int] = {"reading": 1}

    def records() -> Iterator[tuple[int, list[str]]]:
        for record, values in enumerate(reader, start=1):
            if any(v.strip() for v in values):
                first_line[record] = first_line["reading"]
            yield record, values
            first_line["reading"] = reader.line_num + 1

    def check_width(record: int, values: Sequence[object], columns: list[str]) -> None:
        line = first_line.pop(record)
        if any(_clean(v) for v in values[len(columns) :]):
            raise TableError(
                f"{label}: line {line}: {len(values)} fields but the header has {len(columns)} columns; "
                "a value with a comma in it (1,250) needs quotes (\"1,250\"), or the row's values shift into the wrong columns",
                thai=f"ไฟล์ {label} บรรทัดที่ {line}: มี {len(values)} ช่อง แต่หัวตารางมี {len(columns)} คอลัมน์ "
                     f"ข้อความที่มีจุลภาค (เช่น 1,250) ต้องอยู่ในเครื่องหมายคำพูด (\"1,250\") มิฉะนั้นข้อมูลจะเลื่อนไปผิดคอลัมน์ กรุณาแก้ในไฟล์แล้วลองอีกครั้ง")

    try:
        return _table_from_rows(records(), label, limits, check_width)
    except csv.Error as exc:
        line = reader.line_num
        if "unexpected end of data" in str(exc):
            line = first_line["reading"]
            raise TableError(f"{label}: line {line}: a quoted field (starting with \") is never closed; "
                             "fix the quote, or the rest of the file would be read as one cell",
                             thai=f"ไฟล์ {label} บรรทัดที่ {line}: มีเครื่องหมายคำพูด (\") เปิดแต่ไม่ปิด กรุณาแก้ในไฟล์แล้วลองอีกครั้ง") from exc
        raise TableError(f"{label}: line {line}: {exc}",
                         thai=f"อ่านไฟล์ {label} บรรทัดที่ {line} ไม่ได้ (รูปแบบ CSV ไม่ถูกต้อง) กรุณาบันทึกใหม่เป็น CSV (UTF-8) หรือ XLSX") from exc


def _read_jsonl(text: str, label: str, limits: Limits) -> Table:
    records, numbers = [], []
    for number, line in enumerate(text.split("\n"), start=1):  # not splitlines(): U+2028 may stand unescaped inside a JSON string
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise TableError(f"{label}: line {number}: not valid JSON ({exc.msg})",
                             thai=f"ไฟล์ {label} บรรทัดที่ {number} ไม่ใช่ JSON ที่ถูกต้อง") from exc
        except RecursionError as exc:  # a 500 that blamed the service (a security probe)
            raise _too_deep(f"{label}: line {number}", f"ไฟล์ {label} บรรทัดที่ {number}") from exc
        if not isinstance(record, dict):
            raise TableError(f"{label}: line {number}: expected a JSON object per line",
                             thai=f"ไฟล์ {label} บรรทัดที่ {number}: แต่ละบรรทัดของ .jsonl ต้องเป็นออบเจกต์ JSON หนึ่งรายการ")
        records.append(record)
        numbers.append(number)
        _check_rows(len(records), label, limits)
    return _from_records(records, numbers, label, limits)


def _read_json(text: str, label: str, limits: Limits) -> Table:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TableError(f"{label}: not valid JSON ({exc.msg}, line {exc.lineno})",
                         thai=f"ไฟล์ {label} ไม่ใช่ JSON ที่ถูกต้อง (บรรทัดที่ {exc.lineno})") from exc
    except RecursionError as exc:
        raise _too_deep(label, f"ไฟล์ {label}") from exc
    if isinstance(data, dict):
        data = next((v for v in data.values() if isinstance(v, list)), None)
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise TableError(f"{label}: expected a JSON list of objects",
                         thai=f"ไฟล์ {label} ต้องเป็นรายการ (list) ของออบเจกต์ JSON หนึ่งรายการต่อหนึ่งแถว")
    _check_rows(len(data), label, limits)
    return _from_records(data, list(range(1, len(data) + 1)), label, limits)


def _too_deep(where: str, where_thai: str) -> TableError:
    return TableError(f"{where}: JSON nested too deeply to be a table row", thai=f"{where_thai}: JSON ซ้อนกันลึกเกินกว่าจะเป็นแถวของตาราง")


def _from_records(records: list[dict], numbers: list[int], label: str, limits: Limits) -> Table:
    """``numbers``: each record's line (JSON lines) or position from 1 (a JSON list), as messages name it."""
    seen: dict[str, None] = {}  # ordered, and a key looked up in O(1): a list made 50,000 keys 46 s of CPU (a security probe)
    for record in records:
        seen.update(dict.fromkeys(record))
        _check_columns(len(seen), label)
    columns = list(seen)
    rows = [_check_cells({c: _json_cell(r.get(c)) for c in columns}, n, label, limits) for n, r in zip(numbers, records)]
    return Table(columns, rows, numbers)


def _json_cell(value: object) -> str:
    if isinstance(value, list):
        return "|".join(_clean(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return _clean(value)


def _unreadable_workbook(label: str) -> TableError:
    """A file named .xlsx or .xls that is not a workbook (the library's exception class means nothing to its owner)."""
    return TableError(f"{label}: not a readable Excel workbook (.xlsx or .xls); open it in Excel or LibreOffice, save it again as .xlsx (or CSV) and upload that",
                      thai=f"เปิดไฟล์ {label} เป็นสมุดงาน Excel (.xlsx หรือ .xls) ไม่ได้ กรุณาเปิดด้วย Excel หรือ LibreOffice แล้วบันทึกใหม่เป็น .xlsx หรือ CSV แล้วอัปโหลดอีกครั้ง")


def _is_workbook(path: Path) -> bool:
    """Whether the file starts as an .xlsx (a zip) or an Excel 97-2003 .xls does."""
    with path.open("rb") as file:
        magic = file.read(8)
    return magic.startswith(_ZIP_MAGIC) or magic == _OLE_MAGIC


def _read_workbook(path: Path, label: str, limits: Limits) -> Table:
    """An .xlsx or an Excel 97-2003 .xls, told apart by their first bytes rather than the name: offices
    rename one to the other, and a system's "Excel export" is often the other kind."""
    with path.open("rb") as file:
        magic = file.read(8)
    if magic.startswith(_ZIP_MAGIC):
        return _read_xlsx(path, label, limits)
    if magic == _OLE_MAGIC:
        return _read_xls(path, label, limits)
    raise _unreadable_workbook(label)


def _read_xlsx(path: Path, label: str, limits: Limits) -> Table:
    from openpyxl import load_workbook

    _refuse_zip_bomb(path, label, limits.max_inflated)
    with path.open("rb") as handle:  # a handle, not the path: openpyxl refuses a path named .xls by its name
        try:
            workbook = load_workbook(handle, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many types for a corrupt or non-xlsx file
            raise _unreadable_workbook(label) from exc
        try:
            return _first_sheet_with_data(((sheet.title, _rows_as_stored(sheet)) for sheet in workbook.worksheets), label, limits)
        finally:
            workbook.close()


def _rows_as_stored(sheet: Any) -> Iterator[Sequence[object]]:
    """A read-only sheet's rows, each as wide as its own cells and MAX_COLUMNS + 1 at most: openpyxl pads every
    row to the width the file declares (``<dimension ref="A1:XFD100000"/>`` in a 1.6 KB file made 100,000 rows
    of 16,384 cells, 112 s of one request: a security probe), so the declaration is dropped; and a row whose
    one cell is at XFD is 16,384 wide, which every check of a row then walked (40,000 of them: 76 s, a blind
    review): a header that wide is refused as too many columns, a data row keeps what its header can name."""
    sheet.reset_dimensions()
    for row in sheet.iter_rows(values_only=True):
        yield row[: MAX_COLUMNS + 1] if len(row) > MAX_COLUMNS + 1 else row


def _read_xls(path: Path, label: str, limits: Limits) -> Table:
    import xlrd

    try:
        # on demand: a sheet is parsed when read and unloaded after; ragged: a row holds its own cells, not
        # the sheet's widest row (a 5 KB file with A1 and IV65536 filled was 65,536 x 256 cells, a blind
        # review); warnings go nowhere (xlrd prints them to stdout, inside `--json` output)
        book = xlrd.open_workbook(str(path), on_demand=True, ragged_rows=True, logfile=io.StringIO())
    except Exception as exc:  # xlrd raises XLRDError, CompDocError, struct errors... for a damaged file
        raise _unreadable_workbook(label) from exc

    def values(index: int) -> Iterator[tuple[object, ...]]:
        sheet = book.sheet_by_index(index)
        try:
            for number in range(sheet.nrows):
                yield tuple(_xls_value(cell, book.datemode) for cell in sheet.row(number))
        finally:
            book.unload_sheet(index)

    try:
        return _first_sheet_with_data(((book.sheet_names()[i], values(i)) for i in range(book.nsheets)), label, limits)
    finally:
        book.release_resources()


def _xls_value(cell: Any, datemode: int) -> object:
    """A cell as openpyxl gives it: dates as datetimes and times of day as times (an .xls stores both
    as day numbers), errors as their text ("#DIV/0!")."""
    import xlrd

    if cell.ctype == xlrd.XL_CELL_DATE:
        try:
            moment = xlrd.xldate.xldate_as_datetime(cell.value, datemode)
        except (xlrd.xldate.XLDateError, OverflowError, ValueError):
            return cell.value
        return moment.time() if 0 <= cell.value < 1 else moment
    if cell.ctype == xlrd.XL_CELL_BOOLEAN:
        return bool(cell.value)
    if cell.ctype == xlrd.XL_CELL_ERROR:
        return xlrd.error_text_from_code.get(cell.value, "#ERROR")
    if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return None
    return cell.value


def _first_sheet_with_data(sheets: Iterable[tuple[str, Iterator[Sequence[object]]]], label: str, limits: Limits) -> Table:
    """The first sheet with data, passing over a cover: no rows, or one column of a few lines (a cover
    sheet before the data "ข้อมูล" read as "a header and no rows", a walkthrough; a cover of two lines
    won as a one-column table, a blind review), or labels and values (:func:`_labels_and_values`:
    "หน่วยงาน | สำนักงานเขตบางเขน", "ปีงบประมาณ | 2568" was read as the data and the job refused for want
    of "ชื่อโครงการ", a walkthrough), read only when no later sheet has data.

    A later sheet with the very same header refuses the file, naming the sheets: one sheet a district
    lost the other districts without a word (a walkthrough), and read together their rows would share
    row numbers, which every message and a job's scores go by (a blind review of a first version that
    stacked them). The later sheets' headers are only looked at: one that cannot be read is passed over."""
    try:
        first: Table | None = None
        labels_and_values: Table | None = None
        chosen: tuple[str, Table] | None = None
        twins: list[str] = []
        for name, rows in itertools.islice(sheets, SHEETS_READ):
            numbered: Iterator[tuple[int, Sequence[object]]] = enumerate(rows, start=1)
            if chosen is not None:
                try:
                    probed = _table_from_rows(itertools.islice(numbered, 2 * TITLE_ROWS + 1), label, Limits())
                except Exception:  # a duplicate column name, 2,000 columns, a huge note: not data of this file
                    continue
                if probed.columns == chosen[1].columns and probed.rows:  # a blank form of the same header is no data (a blind review)
                    twins.append(name)
                continue
            table = replace(_table_from_rows(numbered, label, limits, typed=True), sheet=name)  # every sheet read says its name (a blind review)
            first = first or table
            if not table.rows or (len(table.columns) == 1 and len(table.rows) <= COVER_ROWS):
                continue
            if _labels_and_values(table):
                labels_and_values = labels_and_values or table
                continue
            chosen = (name, table)
        if chosen is not None and twins:
            sheets_named = ", ".join([chosen[0], *twins])
            raise TableError(f"{label}: the sheets {sheets_named} have the same columns, and one file is read as one sheet: "
                             "put their rows on one sheet, or upload each sheet as a file of its own",
                             thai=f"ไฟล์ {label} มีหลายชีตที่มีคอลัมน์เดียวกัน ({sheets_named}) ระบบอ่านไฟล์ละหนึ่งชีต "
                                  "กรุณารวมข้อมูลไว้ในชีตเดียว หรือแยกแต่ละชีตเป็นไฟล์แล้วอัปโหลดทีละไฟล์")
        return chosen[1] if chosen else labels_and_values or first or Table([], [])
    except TableError:
        raise
    except Exception as exc:  # a damaged sheet inside a readable file
        raise _unreadable_workbook(label) from exc


def _labels_and_values(table: Table) -> bool:
    """Two columns of a few lines whose first column is mostly the form's field names (its header
    included): a cover's "หน่วยงาน | สำนักงานเขตบางเขน", "ปีงบประมาณ | 2568", not a small "text | label"
    sheet of data (a blind review: a first rule, two columns naming fewer than two of the form's
    columns, passed over that one for the reference list after it)."""
    if len(table.columns) != 2 or len(table.rows) > COVER_ROWS or header_key(table.columns[1]) in KNOWN_HEADERS:
        return False  # "รหัส | ชื่อโครงการ" over one project is data: a cover's second column is values (a walkthrough)
    first = [table.columns[0]] + [str(row.get(table.columns[0], "")) for row in table.rows]
    return 2 * sum(header_key(value) in KNOWN_HEADERS or value.rstrip().endswith(":") for value in first) >= len(first)


SHEETS_READ = 10  # sheets looked at for the first with data: a cover or two come first, not 200 sheets (a blind review)
TITLE_ROWS = 10  # rows looked at for a form's title above its header
TITLE_LINES = 2  # lines of one value a form's title may take
COVER_ROWS = 5  # a one-column sheet of this many rows or fewer, before a sheet of data, is a cover


def _table_from_rows(numbered: Iterator[tuple[int, Sequence[object]]], label: str, limits: Limits,
                     check_width: Callable[[int, Sequence[object], list[str]], None] | None = None, typed: bool = False) -> Table:
    """A sheet or a CSV file's records (numbered as a spreadsheet shows them) as a table. Its header is
    its first row with a value, unless that row (and the one after it) hold one value each, a form's
    title ("แบบฟอร์มเสนอโครงการ ปีงบประมาณ 2567"; the title was read as the only column name, and the
    job refused for want of "ชื่อโครงการ", a walkthrough), and the next row holds several values and
    is either under an empty row or names two of the form's columns (:data:`KNOWN_HEADERS`: ชื่อโครงการ,
    งบประมาณ, ...): that row is the header. Otherwise the first row stays the header: a header with an
    empty cell, or a one-column sheet with a note beside a later row, lost its first rows to a looser
    rule (a blind review), and so did a header naming one of the form's columns over an empty row.
    ``check_width`` may refuse a row with values beyond the header (a CSV's unquoted "1,250")."""
    ahead: list[tuple[int, Sequence[object]]] = []
    for number, values in numbered:  # streamed: one row in memory at a time after the header
        if _has_value(values):
            ahead.append((number, values))
            if len(ahead) == TITLE_ROWS or sum(1 for v in values if _clean(v)) > 1:
                break
    if not ahead:
        return Table([], [])
    last_number, last_values = ahead[-1]
    titled = (1 < len(ahead) <= TITLE_LINES + 1 and sum(1 for v in last_values if _clean(v)) > 1
              and not any(header_key(_clean(v)) in KNOWN_HEADERS for v in ahead[0][1])  # "ชื่อโครงการ" alone over an empty row: a header
              and (last_number > ahead[-2][0] + 1 or sum(1 for v in last_values if header_key(_clean(v)) in KNOWN_HEADERS) >= 2))
    start = len(ahead) - 1 if titled else 0
    _check_columns(len(ahead[start][1]), label)  # blank cells too: each becomes a column every row is padded to (a blind review)
    columns = _unique_columns(ahead[start][1], label)
    rows: list[dict[str, Any]] = []
    sheet_rows: list[int] = []
    text_cells: set[str] = set()
    date_cells: set[str] = set()
    for number, values in itertools.chain(ahead[start + 1 :], numbered):
        if not _has_value(values):
            continue
        if check_width is not None:
            check_width(number, values, columns)
        row = {c: _clean(v) for c, v in zip(columns, values)} | {c: "" for c in columns[len(values) :]}
        if typed:  # a workbook's text cell that a number would change ("1.10" -> 1.1) stays text when written back
            text_cells.update(c for c, v in zip(columns, values) if isinstance(v, str) and _ITEM_NUMBER.fullmatch(row[c]))
            date_cells.update(c for c, v in zip(columns, values) if isinstance(v, (datetime, date)))
        rows.append(_check_cells(row, number, label, limits))
        sheet_rows.append(number)
        _check_rows(len(rows), label, limits)
    return Table(columns, rows, sheet_rows, text_cells=text_cells, date_cells=date_cells)


def _has_value(values: Sequence[object]) -> bool:
    """A row with a value: a row of None is told in C, before any cell is cleaned (rows of a workbook's empty cells)."""
    return any(values) and any(_clean(v) for v in values)


def _refuse_zip_bomb(path: Path, label: str, limit: int | None) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            inflated = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise _unreadable_workbook(label) from exc
    if limit is not None and inflated > limit:
        raise TableTooLarge(f"{label}: the workbook decompresses to {inflated / 1e6:,.0f} MB; refused as too large to read safely",
                            thai=f"ไฟล์ {label} เมื่อแตกออกมีขนาด {inflated / 1e6:,.0f} MB ใหญ่เกินกว่าจะอ่านได้อย่างปลอดภัย กรุณาบันทึกเป็น CSV หรือแบ่งไฟล์")


WRITABLE_SUFFIXES = (".csv", ".tsv", ".xlsx", ".jsonl")


def _writable_suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in WRITABLE_SUFFIXES:
        raise TableError(f"{path}: cannot write {suffix or '(no extension)'}; use {', '.join(WRITABLE_SUFFIXES)}",
                         thai=f"เขียนไฟล์ชนิด {suffix or '(ไม่มีนามสกุล)'} ไม่ได้ กรุณาใช้ {', '.join(WRITABLE_SUFFIXES)}")
    return suffix


def check_output(path: Path, reads: Iterable[Path | None] = ()) -> None:
    """An output a command can write, checked before any work: a known extension, a folder that
    exists (a typo in it created folders), and not a file the command reads (``reads``: the input
    was overwritten by its own labelled copy)."""
    _writable_suffix(path)
    if not path.parent.is_dir():
        raise TableError(f"{path}: the folder {path.parent} does not exist", thai=f"ไม่มีโฟลเดอร์ {path.parent} สำหรับไฟล์ผลลัพธ์ {path.name}")
    if path.exists() and any(read is not None and read.exists() and read.samefile(path) for read in reads):
        raise TableError(f"{path}: is also the file read; write the output to another file, the input would be overwritten",
                         thai=f"ไฟล์ผลลัพธ์ {path.name} เป็นไฟล์เดียวกับไฟล์ที่อ่าน กรุณาตั้งชื่อไฟล์ผลลัพธ์ใหม่ ไม่เช่นนั้นไฟล์เดิมจะถูกเขียนทับ")


def write_table(path: str | Path, columns: Sequence[str], rows: Iterable[Mapping[str, object]],
                *, text_columns: Iterable[str] = (), guard_formulas: bool = True, sheet: str = "", date_columns: Iterable[str] = ()) -> None:
    """Write rows by the path's extension. CSV gets a UTF-8 BOM so Excel shows Thai correctly.

    ``text_columns``: identifier columns besides the ones :func:`is_id_column` recognises by name
    (e.g. a user's ``--id-col``), kept as text in an XLSX; ``sheet``: an XLSX's sheet name (:attr:`Table.sheet`); ``date_columns``: where
    an XLSX writes an ISO date as a date (:attr:`Table.date_cells`: a workbook's own dates). ``guard_formulas`` off: a file only this
    program reads (a stored catalog) keeps its text as it is; guarded, an uploaded catalog's "- ขุดลอก..."
    read back as "'- ขุดลอก..." and ids "=A" and "'=A" collided (a security probe). The file is written
    next to its destination and renamed into place, so a failure never leaves a half-written output behind.
    """
    path = Path(path)
    suffix = _writable_suffix(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # a name of its own: two uploads of one catalog id at once shared ".x.csv.partial" and stored a mix of both (a security probe)
    temporary = path.with_name(f".{uuid.uuid4().hex[:16]}.partial")  # short: a long output name still fits (a blind review)
    try:
        if suffix == ".xlsx":
            _write_xlsx(temporary, columns, list(rows), set(text_columns), sheet, set(date_columns))
        elif suffix == ".jsonl":
            with temporary.open("w", encoding="utf-8") as handle:
                for row in rows:
                    handle.write(json.dumps({c: row.get(c, "") for c in columns}, ensure_ascii=False) + "\n")
        else:
            with temporary.open("w", encoding="utf-8-sig", newline="") as handle:
                writer = csv.writer(handle, delimiter="\t" if suffix == ".tsv" else ",")
                cell = _csv_cell if guard_formulas else (lambda value: value)
                writer.writerow([cell(c) for c in columns])
                for row in rows:
                    writer.writerow([cell(row.get(c, "")) for c in columns])
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)


def kept_as_text(id_column: str | None, text_columns: Sequence[str], label_column: str | None = None, also: Iterable[str] = ()) -> list[str]:
    """The columns of a labelled output an XLSX keeps as text: the id, the texts classified, the
    gold labels ("12345" as a draft became the number 12345; an id "0012" became 12; a label "2.2"
    a number beside its node "2.2") and ``also`` (the input's own :attr:`Table.text_cells`)."""
    return [c for c in (id_column, *text_columns, label_column, *also) if c]


def is_id_column(name: str) -> bool:
    """A column of identifiers or labels ("id", "id_a", "node_id", "pred_label", "รหัสโครงการ"): its
    cells stay text in an XLSX even when they look like numbers, so "1.10" is not shown as 1.1."""
    return bool(_ID_COLUMN.search(name))


def _item_numbers(values: Iterable[object]) -> bool:
    """A column of item numbers (:data:`_ITEM_NUMBER`): one of them, and no amount of three digits or more."""
    texts = [v for v in values if isinstance(v, str)]
    return any(_ITEM_NUMBER.fullmatch(v) for v in texts) and not any(_LARGE_NUMBER.fullmatch(v) for v in texts)


def _write_xlsx(path: Path, columns: Sequence[str], rows: list[Mapping[str, object]], text_columns: set[str], title: str = "",
                dated: Set[str] = frozenset()) -> None:
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_SHEET_TITLE_BAD.sub(" ", title).strip().strip("'")[:31].strip() or None)  # Excel's rules for a name
    sheet.freeze_panes = "A2"  # the header stays in view while scrolling
    numbered = {c for c in columns if _item_numbers(row.get(c) for row in rows)}
    numeric = [not (c in text_columns or c in numbered or is_id_column(c)) for c in columns]
    for number, column in enumerate(columns, start=1):
        longest = max([len(str(column))] + [len(str(row.get(column, ""))) for row in rows[:XLSX_WIDTH_SAMPLE]])
        sheet.column_dimensions[get_column_letter(number)].width = min(max(longest + 2, 8), XLSX_MAX_WIDTH)
    sheet.append([_xlsx_cell(sheet, c, False) for c in columns])
    for row in rows:
        sheet.append([_xlsx_cell(sheet, row.get(c, ""), number_ok, c in dated) for c, number_ok in zip(columns, numeric)])
    workbook.save(path)


def is_formula_like(value: object) -> bool:
    """Text a spreadsheet would evaluate: starts with = + - @ tab or CR and is not a plain number."""
    return isinstance(value, str) and value.startswith(FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value)


def read_written_table(path: str | Path) -> Table:
    """A CSV this program wrote (a job's result), read back as it was before writing (:func:`unguarded`)."""
    return unguarded(read_table(path))


def unguarded(table: Table) -> Table:
    """The table with the apostrophe our writers put before formula-like text taken off again, so the
    review grid, the decisions taken there, the corrected file and a decisions export imported again
    carry the user's text, not ``'- โครงการ...`` (an export imported twice stored its texts anew, a
    security probe). One ambiguity: a cell that was itself an apostrophe before formula-like text loses it.
    A new table: the caller's (an import's) is left as read."""
    def bare(value: object) -> object:
        return value[1:] if isinstance(value, str) and value.startswith("'") and is_formula_like(value[1:]) else value

    return Table(table.columns, [{column: bare(value) for column, value in row.items()} for row in table.rows], table.sheet_rows,
                 table.source, table.text_cells)


def _csv_cell(value: object) -> object:
    return f"'{value}" if is_formula_like(value) else value


def _iso_moment(value: str) -> datetime | None:
    """The date or date and time an ISO text names ("2024-10-01", "2025-03-15 09:30:00": how a date cell reads), else
    None; a year Excel's dates do not hold (before 1900) too: "0001-01-01" was written as a serial Excel shows as ####."""
    if not _ISO_MOMENT.fullmatch(value):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:  # "2024-02-30"
        return None
    return moment if moment.year >= 1900 else None


def _xlsx_cell(sheet, value: object, number_ok: bool, date_ok: bool = False) -> object:
    """Numbers stay numbers, and so does a plain number given as text where ``number_ok`` (an ISO date where ``date_ok`` too); other
    text is always a text cell (openpyxl would write "=..." as a formula)."""
    if not isinstance(value, str):
        return value
    if number_ok and _CANONICAL_NUMBER.fullmatch(value):
        value = value.replace(",", "")
        return float(value) if "." in value else int(value)
    if number_ok and date_ok and (moment := _iso_moment(value)) is not None:  # a workbook's date went back as text (a walkthrough)
        from openpyxl.cell import WriteOnlyCell

        dated = WriteOnlyCell(sheet, value=moment)
        dated.number_format = "yyyy-mm-dd" if len(value) == 10 else "yyyy-mm-dd hh:mm:ss"
        return dated
    # Excel refuses control characters and caps a cell at 32,767 characters.
    text = "".join(ch for ch in value if ch >= " " or ch in "\t\n")[:32767]
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = "s"
    if is_formula_like(value) or is_formula_like(text):  # as written too: "\x01=HYPERLINK(...)" lost its \x01, no prefix (a security probe)
        cell.quotePrefix = True  # shown as text, and stays text when a user edits the cell
    return cell
