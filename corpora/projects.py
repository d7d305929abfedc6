"""Project records and their ingest from the project form's files.

A project arrives as a row of a CSV/XLSX/JSONL export whose headers may be Thai (the BMA form:
โครงการ/กิจกรรม, วัตถุประสงค์, เป้าหมาย, งบประมาณ...) or English, whose years may be Buddhist or
Common Era and whose budgets may read "1,500,000", "๑,๕๐๐,๐๐๐" or "1.5 ล้านบาท". This module turns
such rows into validated :class:`Project` records and reports every rejected row with its reason,
so one bad row never stops (or corrupts) an ingest.
"""
from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from difflib import get_close_matches
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from pydantic import BaseModel, Field, ValidationError

from planalign.corpora.form import HEADER_ALIASES, header_key
from planalign.corpora.tables import Table, TableError, read_table
from planalign.errors import InputError
from planalign.nlp.normalize import normalize

if TYPE_CHECKING:
    from planalign.corpora.catalog import Catalog, Node

DISTRICT_OFFICE_PREFIX = "สำนักงานเขต"

FIELDS = tuple(HEADER_ALIASES)
_DATE = re.compile(r"(\d{4})-(\d{1,2})-\d{1,2}")
_THAI_DATE = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")  # day/month/year, as Thai forms write dates
_BANGKOK = timezone(timedelta(hours=7))  # no daylight saving in Thailand
_CATALOG_ID = re.compile(r"\b[A-Z]{1,3}\d+(?:\.\d+){0,3}\b")
_ID_LETTERS = re.compile(r"[A-Z]{1,3}(?=\d)")  # an id's letters ("D" of "D1.4")
_DISTRICT_PREFIX = re.compile(r"^(?:สำนักงานเขต|เขต)\s*")


def district_name(text: str) -> str:
    """A district as people write it, to its name: "สำนักงานเขตบางเขน", "เขต บางเขน", "บางเขน" -> "บางเขน"."""
    return _DISTRICT_PREFIX.sub("", normalize(text)).strip()
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_MULTIPLIERS = {"ล้าน": 1_000_000, "แสน": 100_000, "หมื่น": 10_000, "พัน": 1_000, "million": 1_000_000, "mil": 1_000_000, "mm": 1_000_000,
                "m": 1_000_000, "k": 1_000}
# what may follow an amount: the currency ("บาทถ้วน": exactly, as cheques write it), "a year", a footnote's star
# (a bare "ปี" is a duration: "1 ปี" was stored as 1 baht; a footnote's star may follow any amount)
_BAHT = re.compile(r"(?:บาท|บ\.?|฿|thb|baht)?(?:ถ้วน)?\.?(?:(?:/|ต่อ)ปี)?\**")
_UNIT_IN_BRACKETS = re.compile(r"\(((?:ล้าน|แสน|หมื่น|พัน)+(?:บาท)?)\)$")
_IN_WORDS = re.compile(r"\([^()]*\)$")  # "1,500,000 บาท (หนึ่งล้านห้าแสนบาทถ้วน)": the amount again in words, beside it
_MINUS = re.compile(r"[\u2212\u2013\u2012\ufe63\uff0d](?=\d)")  # a minus as word processors write it ("−80000" was stored as 80,000)
# a dash between the budget's label and the amount, spaced ("งบประมาณ – 1,500,000 บาท", Word's autoformat of " - "): a
# separator, not a sign; after anything else ("ปรับลด – 500,000", "1.5 - 2 ล้าน") it stays, and is refused or a minus
_SEPARATING_DASH = re.compile(r"(งบประมาณ|งบ|budget|:)\s*[-\u2212\u2013\u2012\ufe63\uff0d]\s+(?=\d)", re.IGNORECASE)
# two numbers apart ("500000 600000", "ปี 68 500000", "1.5 2 ล้าน"): removing the spaces joined them into one amount (a
# blind review); a space between groups of three is a thousands separator ("1 500 000")
_APART = re.compile(r"\d\s+(?!\d{3}(?!\d))\d")
_DECIMAL_COMMA = re.compile(r"\d\.\d{3},\d")  # "100.000,00": a European amount
# a thousands separator not followed by exactly three digits ("1,50", "100,00", "12,34,567", "1,2,3"): not an amount as Thai
# forms write one (an integrator's walkthrough stored 150, 10,000, 1,234,567 and 123 baht)
_BAD_GROUPS = re.compile(r"\d,(?!\d{3}(?!\d))|(?<![\d,])\d{4,},\d")
_FOREIGN_MONEY = re.compile(r"usd|us\$|\$|€|eur|£|gbp|¥|jpy|cny|rmb|ดอลลาร์|ยูโร|เยน|ปอนด์|หยวน")
# A project's budget above this is a typing or a column mistake, not a budget: BMA's whole annual
# budget is under 100,000 million baht (FY2566 ordinance: about 79,000 million). A row of 1e36 baht
# was stored and made every budget total on the dashboard meaningless (a security probe's note).
MAX_BUDGET = 1e12


class Project(BaseModel):
    """One project as stored: the form's fields plus optional alignment labels."""

    id: str = Field(min_length=1, max_length=200)
    fiscal_year: int | None = None  # Buddhist Era
    org: str = ""
    district: str = ""
    district_group: str = ""
    name: str = Field(min_length=1)
    objective: str = ""
    target: str = ""
    budget: float | None = None  # baht
    duration: str = ""
    text: str = ""
    plan_alignment: str = ""
    dimension_id: str = ""
    issue_id: str = ""
    goal_id: str = ""
    okr_id: str = ""
    source: str = ""
    category: str = ""  # the submitter's own classification (a Traffy report's types); maps to catalog nodes for coverage

    def search_text(self) -> str:
        """The text that is embedded, indexed and compared for duplicates."""
        return "\n".join(p for p in (self.name, self.objective, self.target, self.text) if p)

    def content_hash(self) -> str:
        """Changes whenever any stored field changes: re-ingesting the same row is a no-op.

        Fields added after a store was filled (``category``) count only when set, so rows without
        them keep their hash and are not re-embedded after an upgrade.
        """
        return hashlib.sha1(self.model_dump_json(exclude=_LATER_FIELDS if not self.category else None).encode()).hexdigest()


_LATER_FIELDS = {"category"}
PROJECT_FIELDS = tuple(Project.model_fields)
"""The one list of project fields: the store's columns, the API's project model and the file
headers (:data:`HEADER_ALIASES`, which adds the input-only ``date``) all follow it."""
assert set(PROJECT_FIELDS) <= set(HEADER_ALIASES), "every project field needs its file header aliases"


class Rejection(NamedTuple):
    """A row left out of an ingest: its number as the file shows it, and why (English, and Thai for people)."""

    row: int
    reason: str
    thai: str


@dataclass
class IngestResult:
    projects: list[Project] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    left_out: int = 0  # rows a --where filter left out (not rejected: not asked for)
    levels: list[str] = field(default_factory=list)  # the values of a "level" column read whole (org, section, item...)
    # (row, district, the nearest of Bangkok's 50 or ""): kept projects of a district not among the 50 ("บางกระบือ"): stored, but
    # coverage counts them with the central agencies (no district group) and its district filter refuses the name (a blind review)
    unknown_districts: list[tuple[int, str, str]] = field(default_factory=list)


@lru_cache(maxsize=1)
def is_report(source: str, report_sources: Collection[str]) -> bool:
    """A stored row that is a citizen report (Traffy), not a project: its source starts with one of
    ``report_sources`` (PLANALIGN_REPORT_SOURCES). Coverage counts them apart; duplicates leave them out."""
    lowered = (source or "").lower()
    return any(lowered.startswith(s.lower()) for s in report_sources if s)


def office_names(orgs: Collection[str]) -> frozenset[str]:
    """Every district office's name and the given organisations' names, normalized, spaces removed:
    the texts that name an office and say nothing of a project (:func:`names_an_office`)."""
    offices = {DISTRICT_OFFICE_PREFIX + district for district in district_groups()}
    return frozenset(_office_key(name) for name in offices | set(orgs) if name)


def names_an_office(project: Project, offices: frozenset[str]) -> bool:
    """A stored row whose whole text is an office's name (``offices``: :func:`office_names`), as the
    FY2566 ordinance's repayment section lists its 68 lines ("สำนักงานเขตบางบอน", "สำนักการแพทย์").
    Such a row is a budget line, not a project: duplicates leave it out (a walkthrough found a draft
    about Bang Bon's community plan called the same project as "สำนักงานเขตบางบอน", and a cluster
    joining "สำนักงานเขตบางนา" with "โครงการก่อสร้างโรงพยาบาลบางนา")."""
    return is_office_name(project.search_text(), offices)


def is_office_name(text: str, offices: frozenset[str]) -> bool:
    """Whether ``text`` is nothing but an office's name (a draft "สำนักการแพทย์" was a copy of "งานบริหารทั่วไปสำนักการแพทย์")."""
    return _office_key(text) in offices


def _office_key(text: str) -> str:
    """A name compared without its spaces ("สำนักงานเขต บางบอน" is "สำนักงานเขตบางบอน")."""
    return re.sub(r"\s+", "", normalize(text))


def district_groups() -> dict[str, str]:
    """District name -> district group (กลุ่มเขต), for rows that give only the district."""
    text = resources.files("planalign.corpora").joinpath("data", "district_groups.csv").read_text(encoding="utf-8")
    return {row["district"]: row["district_group"] for row in csv.DictReader(text.splitlines())}


def parse_budget(value: str) -> float | None:
    """Baht from "1,500,000", Thai digits, "1.5 ล้านบาท", "2 แสน"; None when empty.

    Raises InputError for negative, non-numeric or impossibly large (over ``MAX_BUDGET``) budgets.
    """
    not_a_number = InputError(f"budget {value!r} is not a number", thai=f"งบประมาณ {value} ไม่ใช่ตัวเลข (เช่น 1,500,000 หรือ 1.5 ล้านบาท)")
    spaced = _SEPARATING_DASH.sub(r"\1 ", normalize(value))
    if _APART.search(spaced):
        raise not_a_number
    whole = spaced.replace(" ", "").lower()
    if not whole or whole in {"-", "–"}:
        return None
    if _FOREIGN_MONEY.search(whole):
        raise InputError(f"budget {value!r} is not in baht", thai=f"งบประมาณ {value} ไม่ใช่จำนวนเงินบาท")
    # a unit in brackets is the amount's ("1,500 (ล้านบาท)" was stored as 1,500 baht: a blind review); any other note in
    # brackets after it ("(งบปี 2568, 2569)", the amount again in words) is no part of it
    amount_part = _IN_WORDS.sub("", _UNIT_IN_BRACKETS.sub(r"\1", whole))
    if _DECIMAL_COMMA.search(amount_part) or _BAD_GROUPS.search(amount_part):  # "100.000,00" was read as 100 baht, "1,50" as 150
        raise not_a_number
    text = _MINUS.sub("-", amount_part).replace(",", "")
    match = _NUMBER.search(text)
    if not match:
        raise not_a_number
    amount = float(match.group(0))
    # "250,000.-" / "100,000.- บาท": the form's way of writing no satang (refused, the whole project with it: a walkthrough)
    rest = re.sub(r"^\.?-(?=(?:บาท|thb)?$)", "", text[match.end() :])
    while word := next((w for w in _MULTIPLIERS if rest.startswith(w)), None):
        amount *= _MULTIPLIERS[word]
        rest = rest[len(word):]
        if word.isascii():  # "ล้านล้าน" is a million millions; "2MM" is finance's two million
            break
    # only the currency may follow: "1 ล้าน 5 แสน" was read as 1,000,000, "5 หมื่นห้าพันบาท" as 50,000, "2 แสนกว่าบาท" (over
    # 200,000) as 200,000 (a blind review)
    if not _BAHT.fullmatch(rest):
        raise not_a_number
    if amount < 0:
        raise InputError(f"budget {value!r} is negative", thai=f"งบประมาณ {value} ติดลบ")
    if amount > MAX_BUDGET:
        raise InputError(f"budget {value!r} is over {MAX_BUDGET:,.0f} baht: a typing or column mistake",
                         thai=f"งบประมาณ {value} เกิน 1 ล้านล้านบาท ซึ่งมากกว่างบประมาณทั้งปีของ กทม. หลายเท่า: โปรดตรวจตัวเลขหรือคอลัมน์")
    return amount


def parse_year(value: str | int | None, default: int | None = None) -> int | None:
    """A fiscal year in Buddhist Era; Common Era years (2023) are converted (2566)."""
    if value is None or str(value).strip() == "":
        return default
    if isinstance(value, int) and value < 0:  # a flag or a query's -2566 was read as 2566 by the cells' rule below (a security probe)
        raise InputError(f"year {value} is not a year", thai=f"ปีงบประมาณ {value} ไม่ใช่ปี (เช่น 2567)")
    # four digits standing alone, outside brackets, naming one year in either era ("2568", "2568/2025"; "ปีงบประมาณ 2568
    # (ต.ค. 2567 - ก.ย. 2568)"): "25688" was read as 2568 and "2567-2568" as 2567 (a blind review)
    not_a_year = InputError(f"year {value!r} is not a year", thai=f"ปีงบประมาณ {value} ไม่ใช่ปี (เช่น 2567)")
    written = normalize(str(value))
    if re.search(r"(?<!\d)\d{4}\.\d*[1-9]", written):  # 2568.5 was stored as 2568 (an integrator's walkthrough); a spreadsheet's 2568.0 is 2568
        raise not_a_year
    if _DATE_CELL.fullmatch(written):  # a date: its fiscal year (1 October 2567 is FY2568; it was read as 2567: a blind review)
        fiscal = fiscal_year_of(written.replace(".", "/"))
        if fiscal is None:
            raise not_a_year
        return fiscal
    text = _BRACKETED.sub(" ", written)
    found = {_buddhist_era(int(y)) for y in _YEAR.findall(text)}
    # the brackets: the year itself when nothing outside them has a digit ("ปีงบประมาณ (พ.ศ. 2568)"; "68 (เดิม 2567)" was
    # stored as 2567: a blind review), else the same year in the other era ("2568 (2025)") or a period of several ("(ต.ค. 2567
    # - ก.ย. 2568)"); one other year there is a contradiction, a number that is no year ("(ข้อ 1234)") nothing
    inside = [{year for y in _YEAR.findall(part) if (year := _buddhist_era(int(y))) is not None} for part in _BRACKETED.findall(written)]
    if found:
        found |= {year for years in inside if len(years) == 1 for year in years}
    elif not re.search(r"\d", text):  # only a year in the brackets, its era named or not ("ต่อเนื่อง (เริ่ม 2566)" says no fiscal year)
        found = {_buddhist_era(int(y)) for y in _YEAR_ALONE.findall(written)}
    if len(found) > 1:
        raise InputError(f"year {value!r} names {len(found)} years; give one fiscal year",
                         thai=f"ปีงบประมาณ {value} ระบุ {len(found)} ปี กรุณาระบุปีงบประมาณปีเดียว")
    if not found or re.search(r"\d{5}", text):
        raise not_a_year
    year = found.pop()
    if year is not None:
        return year
    raise InputError(f"year {value!r} is neither a Buddhist Era (25xx) nor a Common Era (20xx) year",
                     thai=f"ปีงบประมาณ {value} ไม่ใช่ทั้งปีพุทธศักราช (25xx) และปีคริสต์ศักราช (20xx)")


_BRACKETED = re.compile(r"\([^()]*\)")
_YEAR = re.compile(r"(?<!\d)\d{4}(?!\d)")
_YEAR_ALONE = re.compile(r"\(\s*(?:พ\.?\s?ศ\.?|ค\.?\s?ศ\.?|ปี(?:งบประมาณ)?)?\s*(\d{4})\s*\)")
_DATE_CELL = re.compile(r"\d{1,2}[./-]\d{1,2}[./-]\d{4}|\d{4}-\d{2}-\d{2}(?:[ T].*)?")


def _buddhist_era(year: int) -> int | None:
    """A year of either era in Buddhist Era (2023 -> 2566); None when it is neither (1900-2100 CE, 2400-2800 BE)."""
    return year + 543 if 1900 <= year <= 2100 else year if 2400 <= year <= 2800 else None


def fiscal_year_of(date: str) -> int | None:
    """Thai government fiscal year (B.E.) of a date: it starts on 1 October, in Bangkok.

    ISO dates and timestamps (a timestamp with an offset is read in Bangkok time: Traffy's
    "2022-09-30 18:00:00+00" is 1 October, 01:00, FY2566; the UTC date put it in FY2565) and the
    Thai day/month/year form ("30/09/2565", B.E. or C.E.; it gave no year at all)."""
    text = (date or "").strip()
    try:
        when = datetime.fromisoformat(text)
        local = when.astimezone(_BANGKOK) if when.tzinfo else when
        year, month = local.year, local.month
    except ValueError:
        match, thai = _DATE.search(text), _THAI_DATE.search(text)
        if match:
            year, month = int(match.group(1)), int(match.group(2))
        elif thai:
            year, month = int(thai.group(3)), int(thai.group(2))
        else:
            return None
    year = year + 543 if year < 2400 else year
    return year + 1 if month >= 10 else year


RANKED_FIELDS = ("id", "name")  # fields whose aliases are listed best first (HEADER_ALIASES): "รหัสโครงการ" over "ลำดับ", "ชื่อโครงการ" over "กิจกรรม"


def column_pairs(items: Sequence[str] | None, option: str, value: str = "VALUE", value_thai: str = "ค่า") -> dict[str, str]:
    """``COLUMN=VALUE`` items (the CLI's ``--map`` and ``--where``, the API's ``map``: ``value`` names what follows "=") as a dict."""
    pairs = {}
    for item in items or []:
        key, sep, said = item.partition("=")
        if not sep or not key.strip():
            raise TableError(f"{option} takes COLUMN={value}, got {item!r}", thai=f"{option} ต้องเขียนเป็น คอลัมน์={value_thai} (ได้รับ {item!r})")
        pairs[key.strip()] = said.strip()
    return pairs


def map_headers(columns: list[str], overrides: dict[str, str] | None = None) -> dict[str, str]:
    """Input column -> project field, from the aliases and the user's ``--map col=field`` (the API's ``map``)."""
    overrides = overrides or {}
    unknown = [f for f in overrides.values() if f not in FIELDS]
    if unknown:
        raise TableError(f"map (--map) names unknown field(s): {', '.join(unknown)}; fields are: {', '.join(FIELDS)}",
                         thai=f"map (--map) ระบุช่องข้อมูลที่ไม่มี: {', '.join(unknown)} (ช่องที่มี: {', '.join(FIELDS)})")
    missing = [c for c in overrides if c not in columns]
    if missing:
        raise TableError(f"map (--map) names column(s) not in the file: {', '.join(missing)}",
                         thai=f"map (--map) ระบุคอลัมน์ที่ไม่มีในไฟล์: {', '.join(missing)}")
    # alias -> (field, rank); of two columns for an id or a name the better-ranked alias wins, not the first column: a
    # file with "ลำดับ" (a row number) before "รหัสโครงการ" took the row numbers as project ids (an evaluation team's
    # walkthrough). For the other fields the first column still wins: ranked, "หน่วยงาน" (a section) beat "สำนักงานเขต"
    # and the district derived from it was lost (a blind review).
    lookup = {header_key(alias): (name, rank if name in RANKED_FIELDS else 0) for name, aliases in HEADER_ALIASES.items()
              for rank, alias in enumerate(aliases)}
    mapping: dict[str, str] = {column: overrides[column] for column in columns if column in overrides}
    taken = set(overrides.values())
    best: dict[str, tuple[int, str]] = {}  # field -> (rank, column)
    for column in columns:
        found = lookup.get(header_key(column)) if column not in overrides else None
        if found and found[0] not in taken and (found[0] not in best or found[1] < best[found[0]][0]):
            best[found[0]] = (found[1], column)
    mapping.update({column: name for name, (_, column) in best.items()})
    return {column: mapping[column] for column in columns if column in mapping}  # in the file's order


# A row number ("ลำดับ"), the id a submission list has when it has no project code: every office numbers its list 1, 2, ...,
# so a second district's file replaced the first's projects as "updated" (a blind review). Read as an id within its office
# and year; a column mapped to id by name (``--map ลำดับ=id``) is taken as written.
ROW_NUMBER_HEADER = header_key("ลำดับ")


def row_number_id(number: str, office: str, fiscal_year: str | int) -> str:
    """A row number as a project id: ``office-year-number`` ("บางเขน-2568-3"), the parts known."""
    return "-".join(part for part in (district_name(office) if office else "", str(fiscal_year).strip(), number.strip()) if part)


def nearest_district(name: str, districts: Collection[str]) -> str:
    """The district a mistyped name most likely means: the one it begins ("ป้อมปราบ"), else a close spelling
    ("บางกะปี": บางกะปิ); "" when none is close (a looser match offered บางบอน for the subdistrict บางกระบือ)."""
    begun = [d for d in districts if len(name) >= 3 and d.startswith(name)]
    return begun[0] if len(begun) == 1 else next(iter(get_close_matches(name, list(districts), 1, 0.75)), "")


def rows_to_projects(table: Table, year: int | None = None, source: str = "", overrides: dict[str, str] | None = None, id_prefix: str = "",
                     drop_subtotals: bool = False) -> IngestResult:
    """Validate rows into projects; a row failing validation is rejected with its reason.

    ``id_prefix`` namespaces the ids generated for rows without an id column.
    """
    mapping = map_headers(table.columns, overrides)
    if "name" not in mapping.values():
        raise TableError(
            "no project name column: expected one of "
            f"{', '.join(HEADER_ALIASES['name'][:6])}... (or map one: COLUMN=name, the CLI's --map, the API's map field); "
            f"the file has: {', '.join(table.columns)}",
            thai=f"ไม่พบคอลัมน์ชื่อโครงการ (เช่น {', '.join(HEADER_ALIASES['name'][4:9])}) คอลัมน์ในไฟล์: {', '.join(table.columns)} "
                 "กรุณาตั้งชื่อหัวคอลัมน์ให้ตรง หรือระบุ คอลัมน์=name (คำสั่ง: --map, API: ช่อง map)",
        )
    result = IngestResult()
    if "level" in table.columns:  # a budget document's office, section and item rows: said, they add up twice (the CLI, the API)
        result.levels = sorted({str(row.get("level", "")).strip() for row in table.rows} - {""})
    numbers: list[int] = []  # the kept projects' row numbers
    seen: dict[str, int] = {}
    occurrences: dict[tuple[str, ...], int] = {}
    groups = district_groups()
    id_column = next((column for column, fieldname in mapping.items() if fieldname == "id"), None)
    numbered = id_column is not None and id_column not in (overrides or {}) and header_key(id_column) == ROW_NUMBER_HEADER
    for number, row in zip(table.row_numbers(), table.rows):
        values = {fieldname: row.get(column, "").strip() for column, fieldname in mapping.items()}
        if numbered and values.get("id"):
            try:  # the year the project gets ("พ.ศ. 2570", "2027": 2570; a date's), so a list written another way updates its projects
                fiscal_year: int | str = _fiscal_year(values, year) or ""
            except InputError:
                fiscal_year = ""  # refused with the row below
            values["id"] = row_number_id(values["id"], values.get("district") or values.get("org", ""), fiscal_year)
        if not values.get("id"):
            # Rows without ids are known by their content and how often it repeated before in
            # this file, so re-ingesting the same file is idempotent even with repeated lines.
            key = (values.get("fiscal_year", ""), values.get("org", ""), values.get("name", ""))
            occurrences[key] = occurrences.get(key, 0) + 1
            values["id"] = id_prefix + hashlib.sha1("\x00".join((*key, str(occurrences[key]))).encode()).hexdigest()[:16]
        try:
            if any(ord(ch) < 32 or ord(ch) == 127 for ch in values["id"]):  # checked on the way in only: a store written before still reads
                raise InputError("an id cannot hold a line break, a tab or another control character (no URL could fetch or delete it)",
                                 thai="รหัสโครงการต้องไม่มีการขึ้นบรรทัดใหม่ แท็บ หรืออักขระควบคุมอื่น")
            project = _row_to_project(values, year, source, groups)
        except (InputError, ValidationError) as exc:
            result.rejected.append(Rejection(number, *_reason(exc)))
            continue
        if project.id in seen:
            result.rejected.append(Rejection(number, f"duplicate id {project.id!r} in this file (first on row {seen[project.id]})",
                                             f"รหัส {project.id} ซ้ำกับแถว {seen[project.id]} ในไฟล์เดียวกัน"))
            continue
        seen[project.id] = number
        result.projects.append(project)
        numbers.append(number)
        if project.district and project.district not in groups:
            result.unknown_districts.append((number, project.district, nearest_district(project.district, groups)))
    return _without_subtotals(result, numbers) if drop_subtotals else result


# a total's label: "รวม", "รวมทั้งหมด", "ยอดรวม", "ผลรวม", "... รวม"; not the "รวม" of "รวบรวม" (the tokenizer keeps
# "ยอดรวม" and "รวมทั้งหมด" whole, so a word test missed them: a blind review)
_TOTAL = re.compile(r"(?:^|\s|ยอด|ผล)รวม")
SUBTOTAL_MIN_PARTS = 3  # a heading over fewer lines is too easily a coincidence of round budgets (100,000 = 50,000 + 50,000)
# The budget document's own structure read as lines: an article ("ข้อ 5 งบประมาณรายจ่าย..."), its breakdown sentence
# ("ประกอบด้วย รายจ่ายประจำ จำนวน ..."), an expense type alone ("รายจ่ายพิเศษ") and a plan ("แผนงานการพาณิชย์ฯ") over a
# single line of the same amount: 947 million baht counted twice on the FY2566 ordinance after the sums rule (a
# committee walkthrough checked the stored total against the ordinance's office totals). No project is named so.
_ARTICLE = re.compile(r"^(?:ข้อ\s*[\d๐-๙]+\s|ประกอบด้วย\s)")  # the ordinance's own sentences: never a line of work
_STRUCTURE = re.compile(r"^(?:รายจ่าย(?:ประจำ|พิเศษ)$|แผนงาน|งบประมาณรายจ่าย)")  # over the next line of the same amount only


def _without_subtotals(result: IngestResult, numbers: list[int]) -> IngestResult:
    """Rows that are a heading or a total of the lines next to them, not projects, moved to the rejected.

    A budget document read line by line carries its headings as lines: on the FY2566 ordinance,
    "เงินสำรองจ่ายทั่วไป รวม" (1,150 million baht) over its three cases, "เงินอุดหนุนทั่วไป" over the
    university's 11 lines, two offices' "รายจ่ายประจำ" over their items: 4,735 million baht counted twice
    in coverage (a dashboard audit). A row is such a heading when its budget equals, to the baht, the sum
    of the next 3 or more rows of the same office and year, each with a budget (a project, "โครงการ...",
    never is); or, named as a total ("รวม", "ยอดรวม", "รวมทั้งหมด"; not "รวบรวม"), the sum of the rows before it. On that ordinance
    this finds those four lines and no other of its 1,775; and a line that is the document's own sentence
    (:data:`_ARTICLE`), or named as its structure over a next line of the same amount (:data:`_STRUCTURE`): six more
    there, so the stored lines add up to the ordinance's office totals.

    Only on request (``ingest --drop-subtotals``): on a district's own list of round budgets (1,500,000
    over three lines of 500,000) a real project can be such a sum, and a rejected project is lost (a
    blind review rejected 34 of 100 costed rows of a synthetic list of round amounts)."""
    projects = result.projects
    heading = [False] * len(projects)
    for i, project in enumerate(projects):
        if _ARTICLE.match(project.name):
            heading[i] = True
            continue
        if not project.budget or project.name.startswith("โครงการ"):
            continue
        if _STRUCTURE.match(project.name) and _heads_next(projects, i):  # a district's "แผนงานส่งเสริมสุขภาพ" line of its own stays
            heading[i] = True
            continue
        directions = (1, -1) if _TOTAL.search(project.name) else (1,)
        heading[i] = any(_sums_to(projects, i, step) for step in directions)
    headings = {number for number, is_heading in zip(numbers, heading) if is_heading}
    kept = IngestResult(rejected=list(result.rejected), left_out=result.left_out, levels=result.levels,
                        unknown_districts=[said for said in result.unknown_districts if said[0] not in headings])
    for project, number, is_heading in zip(projects, numbers, heading):
        amount = f"{project.budget:,.0f}" if project.budget else "-"
        if is_heading and (_ARTICLE.match(project.name) or _STRUCTURE.match(project.name)):
            kept.rejected.append(Rejection(number, f"a heading of the budget document (an article, an expense type or a plan; {amount} baht), not a project",
                                           f"เป็นหัวข้อของเอกสารงบประมาณ (ข้อ ประเภทรายจ่าย หรือแผนงาน; {amount} บาท) ไม่ใช่โครงการ"))
        elif is_heading:
            kept.rejected.append(Rejection(number, f"a heading or total of the rows next to it ({amount} baht), not a project",
                                           f"เป็นหัวข้อหรือยอดรวมของแถวข้างเคียง ({amount} บาท) ไม่ใช่โครงการ"))
        else:
            kept.projects.append(project)
    kept.rejected.sort(key=lambda r: r.row)
    return kept


def _heads_next(projects: list[Project], at: int) -> bool:
    """Whether the next row, of the same office and year, has exactly this row's budget (a plan over its one work line)."""
    following = projects[at + 1] if at + 1 < len(projects) else None
    return following is not None and (following.org, following.fiscal_year) == (projects[at].org, projects[at].fiscal_year) \
        and following.budget == projects[at].budget


def _sums_to(projects: list[Project], at: int, step: int) -> bool:
    """Whether the budgets of 3 or more rows next to ``at`` (after it, or before it with ``step`` -1),
    of its office and year, add up to its budget."""
    target, total, parts = projects[at].budget or 0.0, 0.0, 0
    position = at + step
    while 0 <= position < len(projects):
        other = projects[position]
        if (other.org, other.fiscal_year) != (projects[at].org, projects[at].fiscal_year) or not other.budget:
            return False  # a line without a budget is no part of a total
        total += other.budget
        parts += 1
        if parts >= SUBTOTAL_MIN_PARTS and abs(total - target) < 0.5:
            return True
        if total > target + 0.5:
            return False
        position += step
    return False


_FIELD_THAI = {"id": "รหัส", "name": "ชื่อโครงการ", "fiscal_year": "ปีงบประมาณ", "budget": "งบประมาณ", "org": "หน่วยงาน"}


def _reason(exc: InputError | ValidationError) -> tuple[str, str]:
    """Why a row was rejected, in English (scripts, logs) and Thai (the people who fix the file)."""
    if isinstance(exc, ValidationError):  # name the fields
        errors = exc.errors()
        english = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors)
        thai = "; ".join(f"{_FIELD_THAI.get(str(e['loc'][0]), e['loc'][0]) if e['loc'] else 'แถว'}: ค่าไม่ถูกต้อง ({e['msg']})" for e in errors)
        return english, thai
    return str(exc), exc.thai or str(exc)


def _fiscal_year(values: dict[str, str], year: int | None) -> int | None:
    """A row's fiscal year: its year column, else the year given for the file, else its date's."""
    return parse_year(values.get("fiscal_year"), year) or fiscal_year_of(values.get("date", ""))


def _row_to_project(values: dict[str, str], year: int | None, source: str, groups: dict[str, str]) -> Project:
    name = normalize(values.get("name", ""))
    if not name:
        raise InputError("empty project name", thai="ไม่มีชื่อโครงการ")
    org = normalize(values.get("org", ""))
    district = district_name(values.get("district", ""))
    if not district and (org.startswith(DISTRICT_OFFICE_PREFIX) or district_name(org) in groups):  # "เขตบางเขน" as the org too
        district = district_name(org)
    alignment = values.get("plan_alignment", "")
    ids = _CATALOG_ID.findall(alignment)
    issue = values.get("issue_id", "") or next((i for i in ids if i.count(".") == 1), "")
    # Hierarchical ids carry their parent: issue D1.4 lies under dimension D1.
    dimension = values.get("dimension_id", "") or next((i for i in ids if "." not in i), "") or issue.split(".")[0]
    return Project(
        id=values["id"],
        fiscal_year=_fiscal_year(values, year),
        org=org,
        district=district,
        district_group=normalize(values.get("district_group", "")) or groups.get(district, ""),
        name=name,
        objective=normalize(values.get("objective", "")),
        target=normalize(values.get("target", "")),
        budget=parse_budget(values.get("budget", "")),
        duration=normalize(values.get("duration", "")),
        text=normalize(values.get("text", "")),
        plan_alignment=alignment,
        dimension_id=dimension,
        issue_id=issue,
        goal_id=values.get("goal_id", ""),
        okr_id=values.get("okr_id", ""),
        source=values.get("source", "") or source,
        category=normalize(values.get("category", "")),
    )


def read_projects(path: str | Path, year: int | None = None, source: str | None = None, overrides: dict[str, str] | None = None,
                  where: dict[str, str] | None = None, drop_subtotals: bool = False) -> IngestResult:
    """Read a CSV/XLSX/JSONL file of projects; ``where`` keeps only rows whose columns equal the values;
    ``drop_subtotals``: a budget document's heading and total rows are rejected (:func:`_without_subtotals`)."""
    path = Path(path)
    table = read_table(path)
    if where:
        kept = table.where(where)  # rejections keep the file's row numbers
        left_out, table = len(table.rows) - len(kept.rows), kept
    if not table.rows:
        raise TableError(f"{path}: no data rows" + (" matching --where" if where else ""),
                         thai=f"ไฟล์ {path} ไม่มีแถวข้อมูล" + (" ที่ตรงกับ --where" if where else ""))
    result = rows_to_projects(table, year, source if source is not None else path.name, overrides, drop_subtotals=drop_subtotals)
    result.left_out = left_out if where else 0
    return result


SAMPLE_SOURCE = "planalign sample data (written by the planalign team, not real BMA projects)"
"""The source of every embedded sample project (``sample_projects.jsonl``): coverage tells them from real ones."""


def sample_records() -> list[dict]:
    """The embedded sample projects as written, including their evaluation keys (``dup_group``)."""
    text = resources.files("planalign.corpora").joinpath("data", "sample_projects.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def sample_projects() -> list[Project]:
    """The embedded sample projects (written by us; clearly marked as sample data)."""
    fields = set(Project.model_fields)
    return [Project(**{k: v for k, v in record.items() if k in fields}) for record in sample_records()]


TEXT_FIELDS = ("name", "objective", "target", "text")  # what a draft is made of, in the order the project form has them
GUESS_ROWS = 50


@dataclass
class ColumnGuess:
    """Which columns of a file look like the text to align and the project id (the evaluation page preselects them)."""

    text: list[str]
    id: str | None


def guess_columns(table: Table, exclude: Collection[str] = ()) -> ColumnGuess:
    """The text columns by their header (the form's aliases: ชื่อโครงการ, วัตถุประสงค์, name, ...), else the one
    column with the longest text in its first rows; the id column by its header. ``exclude``: columns
    that are not text whatever they hold (a training file's label column).

    A file with other headers than the page's default (only project names, an export in English) still gets
    a sensible choice instead of a job that fails later.
    """
    columns = [c for c in table.columns if c not in exclude]
    by_field = {field_name: column for column, field_name in map_headers(columns).items()}
    text = [by_field[f] for f in TEXT_FIELDS if f in by_field]
    if not text and columns:
        sample = table.rows[:GUESS_ROWS]

        def wordiness(column: str) -> float:
            cells = [str(row.get(column) or "") for row in sample]
            return sum(len(c) for c in cells if not _NUMBER.fullmatch(c.replace(",", ""))) / max(len(cells), 1)

        best = max(columns, key=wordiness)
        text = [best] if wordiness(best) > 0 else []
    return ColumnGuess(text=text, id=by_field.get("id"))


_ALIGNMENT_PARTS = re.compile(r"[,|;/\n]+")


_ID_FIELDS = {"dimension": "dimension_id", "issue": "issue_id", "goal": "goal_id", "okr": "okr_id"}  # catalog level -> project field


def with_declared_ids(project: Project, catalog: Catalog) -> Project:
    """``project`` with its id fields saying what its form declares on ``catalog`` (:func:`declared_nodes`,
    their ancestors filled in: D1.4 declared is under D1). A walkthrough: a form declaring "ด้านเดินทางดี
    / ประเด็นป้องกันและแก้ปัญหาน้ำท่วม" gave declared decisions D1 / D1.4 while the stored project said
    ``dimension_id`` "" and ``issue_id`` "", and one declaring "D99" (refused, no such node) said
    ``dimension_id`` "D99". A level the form declares nothing at keeps its id when it is a node, or was
    given in its own column; an id read from the plan-alignment text (or its dimension, derived from
    it) that names no node is left out there (the text keeps what the form says)."""
    nodes = declared_nodes(project, catalog)
    update: dict[str, str] = {}
    for node in nodes + [a for n in nodes for a in catalog.ancestors(n.id)]:
        if node.level in _ID_FIELDS:
            update.setdefault(_ID_FIELDS[node.level], node.id)
    read = set(_CATALOG_ID.findall(project.plan_alignment))
    read |= {i.split(".")[0] for i in read}  # a dimension derived from an issue id read there (ingest derives it)
    for name in _ID_FIELDS.values():
        value = getattr(project, name)
        if name not in update and value in read and value not in catalog.nodes:
            update[name] = ""
    changed = {f: v for f, v in update.items() if getattr(project, f) != v}
    return project.model_copy(update=changed) if changed else project


def declared_nodes(project: Project, catalog: Catalog) -> list[Node]:
    """The nodes of ``catalog`` a project's form declares, at most one per level: the ids parsed at
    ingest (dimension_id ... okr_id) when they are nodes of the catalog; otherwise the plan-alignment
    text's parts read as node ids or names (:meth:`Catalog.find`), then node names found in it, the
    longest first ("มิติที่ 2 ปลอดภัยดี").

    One rule for the declared decisions ingest records and for coverage's "declared" source:
    coverage read the id fields alone, so a form declaring "สุขภาพดี" or "เดินได้ เดินดี" was counted
    as matched by the system (a walkthrough: 29% declared for a year whose 7 projects all declared)."""
    chosen: dict[str, Node] = {}
    for node in _named_nodes(project, catalog):
        chosen.setdefault(node.level, node)
    return list(chosen.values())


def _named_nodes(project: Project, catalog: Catalog) -> list[Node]:
    """Every node a form names, in order: its id fields, else its plan-alignment text's parts, else node names
    found in that text (the longest first; a name inside another one found is left out: it is part of it)."""
    ids = [project.dimension_id, project.issue_id, project.goal_id, project.okr_id]
    nodes = [catalog.nodes[i] for i in ids if i and i in catalog.nodes]
    return nodes or _text_named(project, catalog)


def _text_named(project: Project, catalog: Catalog) -> list[Node]:
    """The nodes a form's plan-alignment text names: its parts by id or whole name, else node names found in it."""
    if not project.plan_alignment.strip():
        return []
    nodes = _parts_named(project, catalog)
    if nodes:
        return nodes
    text = re.sub(r"\s+", "", project.plan_alignment)
    found = [n for n in sorted(catalog, key=lambda n: -len(n.name)) if len(n.name) >= 4 and re.sub(r"\s+", "", n.name) in text]
    return [n for n in found if not any(n.name != other.name and n.name in other.name for other in found)]


def undeclared_extras(project: Project, catalog: Catalog) -> tuple[list[Node], list[Node]]:
    """What a form declares beyond one path of the catalog, said at ingest instead of dropped silently (a blind
    test): (the nodes left out, more than one at a level: "D1.1|D7.2" keeps D1.1; the nodes kept that lie on two
    paths: "D7|D1.1", a dimension and another dimension's issue). The plan-alignment text is read besides the
    id fields ingest parsed from it (it took the first issue, or the first name found)."""
    kept = declared_nodes(project, catalog)
    on_path = {a.id for node in kept for a in catalog.ancestors(node.id)}
    named = _named_nodes(project, catalog) + _text_named(project, catalog)
    left_out = list({n.id: n for n in named if n.id not in on_path}.values())
    deepest = max(kept, key=lambda n: catalog.levels.index(n.level)) if kept else None
    apart = [n for n in kept if deepest is not None and n.id not in {a.id for a in catalog.ancestors(deepest.id)}]
    return left_out, ([deepest, *apart] if apart and deepest is not None else [])


def unknown_ids(project: Project, catalog: Catalog) -> list[str]:
    """The ids a form declares (its id fields, its plan-alignment text) that the catalog does not have, in the
    catalog's own shape (the letters of its ids: "D9.9" beside D1 ... D9.4, not "PM2.5"). Said at ingest beside
    the nodes kept: "D9.9" kept its dimension D9 with nothing said (a docs walkthrough)."""
    shapes = {m.group(0) for m in (_ID_LETTERS.match(node_id) for node_id in catalog.nodes) if m}
    said = _CATALOG_ID.findall(project.plan_alignment) + [project.dimension_id, project.issue_id, project.goal_id, project.okr_id]
    return list(dict.fromkeys(i for i in said if i and (m := _ID_LETTERS.match(i)) and m.group(0) in shapes
                              and catalog.find(i) is None))  # "D๑.๔" is D1.4, as declared_nodes reads it (a blind review)


def _parts_named(project: Project, catalog: Catalog) -> list[Node]:
    """The nodes the plan-alignment text's parts name, by id or whole name."""
    return [n for n in (catalog.find(part) for part in _ALIGNMENT_PARTS.split(project.plan_alignment) if part.strip()) if n is not None]
