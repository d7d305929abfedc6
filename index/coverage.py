"""Strategy coverage: which catalog node every stored project (and citizen report) counts for, and sums.

Alignment of one stored item (:func:`alignment_rows`) picks one node, by precedence
(:func:`choose`): what the project declared on its form (``dimension_id``/``issue_id``...), else a
person's decision on a suggestion (a seam: :data:`SOURCES` has it, the application passes none yet),
else the report's category through a category -> node map, else the aligner's top suggestion at the
catalog's deepest level. The node's ancestors give the item's node at every shallower level, so a
project aligned to an issue counts for that issue's dimension; a project that declared only a
dimension gets its issue predicted among that dimension's issues. An item that cannot be aligned
(no readable text) is stored with node "" and counts as "not aligned": every item counts exactly once
at every level, and the nodes add up to the totals.

Coverage itself (:class:`Frame`) is columns in memory (numpy), built once per alignment version of
the store, so a filtered answer over ~120k items is a few bincounts.
"""
from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from planalign.corpora.catalog import Catalog
from planalign.corpora.projects import SAMPLE_SOURCE, Project, declared_nodes, district_groups, is_office_name, is_report, names_an_office
from planalign.corpora.tables import TableError, read_table
from planalign.errors import InputError
from planalign.index.align import Aligner, Alignment
from planalign.index.store import AlignmentRow, CoverageColumns

# Where an item's node comes from, in order of precedence; "none": it could not be aligned.
# "pending": not aligned under this catalog yet (a catalog just uploaded: every item, until the background alignment
# reaches it), told apart from "none" (cannot be aligned): both were one "cannot be aligned" row (a committee walkthrough).
# "above": the item's node sits at a shallower level and has no children (an issue without goals), so no node of
# this level lies on its path; it was one "cannot be aligned" row with unreadable lines (a catalog author's walkthrough).
SOURCES = ("declared", "decision", "mapped", "predicted", "above", "none", "pending")
BUILTIN_MAPS = {"bma-9d": "traffy_to_bma9d.csv"}  # catalog id -> its report category map in corpora/data
NO_DISTRICT = "-"  # drill-down: items without a district (central agencies)
EXAMPLES = 3


# ----------------------------------------------------------------------------------- choosing
@dataclass(frozen=True)
class CategoryMap:
    """Report category -> catalog node, in priority order (the first mapped category of a report wins)."""

    nodes: dict[str, str]
    digest: str

    def node_for(self, categories: str) -> str | None:
        given = {c.strip() for c in categories.replace("|", ",").split(",") if c.strip()}
        return next((node for category, node in self.nodes.items() if category in given), None)


def load_category_map(catalog: Catalog, path: Path | None = None) -> CategoryMap | None:
    """The user's map file, else the built-in one for this catalog, else None; node ids are checked."""
    if path is None:
        name = BUILTIN_MAPS.get(catalog.name)
        if name is None:
            return None
        text = resources.files("planalign.corpora").joinpath("data", name).read_text(encoding="utf-8")
        rows = list(csv.DictReader(io.StringIO(text)))
        source = name
    else:
        try:
            table = read_table(path)
        except TableError as exc:
            raise InputError(f"report map {path}: {exc}", thai=f"ตารางจับคู่ประเภทเรื่องร้องเรียน {path}: {exc.thai or exc}") from exc
        table.require(["category", "node_id"])
        rows, source = table.rows, str(path)
    nodes = {r["category"].strip(): r["node_id"].strip() for r in rows if r["category"].strip()}
    unknown = sorted({n for n in nodes.values() if n not in catalog.nodes})
    if unknown:
        raise InputError(f"report map {source}: node id(s) not in catalog {catalog.name}: {', '.join(unknown)}",
                         thai=f"ตารางจับคู่ประเภทเรื่องร้องเรียน {source}: ไม่พบรหัสหมวด {', '.join(unknown)} ในแคตตาล็อก {catalog.name}")
    digest = hashlib.sha1("\n".join(f"{c}\t{n}" for c, n in nodes.items()).encode("utf-8")).hexdigest()
    return CategoryMap(nodes, digest)


def declared_node(project: Project, catalog: Catalog) -> str | None:
    """The deepest node the project's form declares in the catalog (ids or names: :func:`declared_nodes`)."""
    nodes = declared_nodes(project, catalog)
    return max(nodes, key=lambda n: catalog.levels.index(n.level)).id if nodes else None


# Part of every stored project's alignment stamp: raised when how a project's node is chosen changes,
# so stored projects are aligned again once. 2: a person's decision on a stored project counts
# (decisions recorded before it never marked their projects out of date); 3: a form's alignment
# declared by node name counts as declared (it was read from the id fields only); 4: a line that only
# names an office (the ordinance's repayment section: "สำนักงานเขตบางขุนเทียน", "สำนักการแพทย์") is not
# aligned: e5 read 18 district offices' names as "Open Bangkok" (D3.2, 521.5 million baht, 60% of D3's
# budget; a dashboard audit), an office's name saying nothing of what its money does.
COVERAGE_VERSION = 4
OFFICE_STAMP = "/office"  # the stamp's mark of a line left unaligned because it only names an office
OFFICE_NAME_CHARS = 200  # an office's name is far shorter (the longest of the ordinance's 74: under 100)


def choose(declared: str | None, decision: str | None = None, mapped: str | None = None) -> tuple[str, str] | None:
    """(node, source) by precedence declared > decision > mapped; None: the aligner decides."""
    for node, source in ((declared, "declared"), (decision, "decision"), (mapped, "mapped")):
        if node:
            return node, source
    return None


def needs_prediction(chosen: tuple[str, str] | None, catalog: Catalog) -> bool:
    """The aligner is needed unless the chosen node sits on the deepest level (or has no children)."""
    return chosen is None or (catalog.nodes[chosen[0]].level != catalog.levels[-1] and bool(catalog.children(chosen[0])))


def alignment_rows(project: Project, catalog: Catalog, chosen: tuple[str, str] | None, predicted: Alignment | Exception | None,
                   model: str, content_hash: str | None = None) -> list[AlignmentRow]:
    """The item's node at every level of the catalog (see the module's docstring)."""
    nodes: dict[str, tuple[str, str, float | None]] = {}
    if chosen is not None:
        node_id, source = chosen
        for node in catalog.ancestors(node_id):
            nodes[node.level] = (node.id, source, None)
    if isinstance(predicted, Alignment):
        anchor = chosen[0] if chosen is not None else None
        deepest = next((lv for lv in reversed(catalog.levels) if lv in predicted.levels), None)
        if deepest is not None and deepest not in nodes:
            # A node without children ranked first at its level (a dimension with no issues) is the
            # answer: the deepest level never lists it, so it was never counted.
            tops = (next((s for s in predicted.levels[lv] if anchor is None or anchor in s.path), None)
                    for lv in catalog.levels if lv != deepest and lv in predicted.levels and lv not in nodes)
            leaf = next((s for s in tops if s is not None and not catalog.children(s.node_id)), None)
            best = leaf or next((s for s in predicted.levels[deepest] if anchor is None or anchor in s.path), None)
            if best is not None:
                for node in catalog.ancestors(best.node_id):
                    if node.level not in nodes:
                        listed = next((s.confidence for s in predicted.levels.get(node.level, []) if s.node_id == node.id), None)
                        nodes[node.level] = (node.id, "predicted", listed if listed is not None else best.confidence)
    digest = content_hash or project.content_hash()
    return [AlignmentRow(project.id, level, *nodes.get(level, ("", "none", None)), model, digest) for level in catalog.levels]


# ------------------------------------------------------------------------------------ results
@dataclass
class NodeCoverage:
    id: str | None  # None: items that could not be aligned
    name: str
    parent_id: str | None
    projects: int
    budget: float
    project_share: float
    budget_share: float
    sources: dict[str, int]
    reports: int
    report_share: float
    report_sources: dict[str, int]
    districts_without: list[str]
    previous_projects: int | None = None
    previous_budget: float | None = None
    change_projects: int | None = None
    change_budget: float | None = None
    uncertain: int = 0  # of projects, those the system matched with a confidence under the review threshold
    uncertain_budget: float = 0.0


@dataclass
class CellCoverage:
    node_id: str | None
    projects: int
    budget: float
    reports: int


@dataclass
class DistrictCoverage:
    district: str  # "" = no district (central agencies)
    group: str
    projects: int
    budget: float
    reports: int
    cells: list[CellCoverage]


@dataclass
class Coverage:
    catalog: str
    level: str
    year: int | None
    group: str | None
    district: str | None
    total_projects: int
    total_budget: float
    total_reports: int
    previous_year: int | None
    nodes: list[NodeCoverage]
    districts: list[DistrictCoverage]
    years: list[int]
    pending: int = 0
    project_years: list[int] = field(default_factory=list)  # years with stored projects (``years`` adds the reports' years)
    sample_projects: int = 0  # of total_projects, the embedded sample projects (written by us, not real)
    projects_without_budget: int = 0  # of total_projects, those stored with no budget: counted as 0 baht (it was said nowhere: a walkthrough)
    sample_years: list[int] = field(default_factory=list)  # years whose projects are all sample projects
    hint: str = ""  # why everything is zero: a year with nothing stored (it printed a table of zeros, a walkthrough)
    # projects the system matched with a confidence under the review threshold (``review_below``), and their budget: the
    # totals said nothing of how sure they are (456 of 1,703 ordinance lines, 13,520 million baht at the issue level: a
    # committee walkthrough)
    uncertain_projects: int = 0
    uncertain_budget: float = 0.0
    review_below: float | None = None


def year_not_stored(year: int | None, stored: Iterable[int]) -> str:
    """In Thai, that nothing of ``year`` is stored, and the years that are (search and coverage alike); "" otherwise."""
    stored = {int(y) for y in stored if y}
    if year is None or year in stored:
        return ""
    return f"ไม่มีรายการของปีงบประมาณ {year} ในระบบ" + (f" (ปีที่มี: {', '.join(map(str, sorted(stored)))})" if stored else "")


@dataclass
class Example:
    id: str
    text: str
    source: str
    confidence: float | None


@dataclass
class Need:
    district: str
    group: str
    node_id: str
    name: str
    reports: int
    report_share: float
    projects: int
    project_share: float
    budget: float
    budget_share: float
    gap: float
    examples: list[Example] = field(default_factory=list)
    positions: list[int] = field(default_factory=list, repr=False)


@dataclass
class Needs:
    catalog: str
    level: str
    year: int | None
    group: str | None
    total_reports: int
    needs: list[Need]
    pending: int = 0
    total_needs: int = 0  # every cell passing the rule; ``needs`` holds the first ``limit`` (the page said 20 as if they were all)


@dataclass
class Item:
    id: str
    name: str
    org: str
    district: str
    year: int | None
    budget: float | None
    node_id: str | None
    source: str
    confidence: float | None


# -------------------------------------------------------------------------------------- frame
class Frame:
    """Every stored item's coverage attributes and node per level, as numpy columns."""

    def __init__(self, catalog: Catalog, columns: CoverageColumns, report_sources: Sequence[str], review_below: float | None = None) -> None:
        self.catalog = catalog
        self.review_below = review_below  # the suggestions' review threshold: under it a predicted node is uncertain
        self.ids = columns.ids
        position = {pid: i for i, pid in enumerate(columns.ids)}
        n = len(columns.ids)
        self.year = np.array([y if y is not None else -1 for y in columns.fiscal_year], dtype=np.int64)
        self.budget = np.array([b or 0.0 for b in columns.budget], dtype=np.float64)
        self.no_budget = np.array([b is None for b in columns.budget], dtype=bool)
        self.report = np.array([is_report(s or "", report_sources) for s in columns.source], dtype=bool)
        groups = district_groups()
        self.districts = list(groups)  # the 50 districts, grouped in file order
        self.groups = list(dict.fromkeys(groups.values()))
        district_code = {d: i for i, d in enumerate(self.districts)}
        self.district_names = [d or "" for d in columns.district]
        self.district = np.array([district_code.get(d or "", -1) for d in columns.district], dtype=np.int64)
        group_code = {g: i for i, g in enumerate(self.groups)}
        self.group = np.array([group_code.get(g or "", -1) for g in columns.district_group], dtype=np.int64)
        self.level_nodes = {lv: [node.id for node in catalog.at_level(lv)] for lv in catalog.levels}
        self.node: dict[str, np.ndarray] = {}
        self.source: dict[str, np.ndarray] = {}
        self.confidence: dict[str, np.ndarray] = {}
        source_code = {s: i for i, s in enumerate(SOURCES)}
        previous_level: str | None = None
        for level in catalog.levels:
            code = {node_id: i for i, node_id in enumerate(self.level_nodes[level])}
            nodes = np.full(n, -1, dtype=np.int64)
            sources = np.full(n, source_code["pending"], dtype=np.int64)  # no alignment row yet
            confidence = np.full(n, np.nan, dtype=np.float64)
            ids, node_ids, item_sources, confidences = columns.levels.get(level, ([], [], [], []))
            for pid, node_id, src, conf in zip(ids, node_ids, item_sources, confidences):
                at = position.get(pid)
                if at is not None and node_id in code:
                    nodes[at], sources[at] = code[node_id], source_code.get(src, source_code["predicted"])
                    confidence[at] = np.nan if conf is None else conf
                elif at is not None and not node_id:  # aligned to no node: no readable text, an office's name
                    sources[at] = source_code["none"]  # (a node a replaced catalog lacks: pending, aligned again shortly)
            if previous_level is not None:  # told at reading: stored rows say "none" for every level under a leaf
                shallower = self.node[previous_level]
                leaf = np.array([not catalog.children(node_id) for node_id in self.level_nodes[previous_level]] + [False])
                ends = (nodes < 0) & (sources == source_code["none"]) & (
                    (self.source[previous_level] == source_code["above"]) | ((shallower >= 0) & leaf[shallower]))
                sources[ends] = source_code["above"]
            self.node[level], self.source[level], self.confidence[level] = nodes, sources, confidence
            previous_level = level
        self.sample = np.array([s == SAMPLE_SOURCE for s in columns.source], dtype=bool)
        # years with projects or citizen reports: 76% of the Traffy reports (fiscal 2565) could not be chosen when only
        # project years were listed (a dashboard audit); year-over-year compares project years (``project_years``)
        self.project_years = sorted({int(y) for y in np.unique(self.year[~self.report]) if y >= 0})
        self.years = sorted({int(y) for y in np.unique(self.year) if y >= 0})
        self.sample_years = [y for y in self.project_years if self.sample[(self.year == y) & ~self.report].all()]

    def __len__(self) -> int:
        return len(self.ids)

    # ---------------------------------------------------------------------------- filtering
    def mask(self, year: int | None, group: str | None, district: str | None) -> np.ndarray:
        mask = np.ones(len(self.ids), dtype=bool)
        if year is not None:
            mask &= self.year == year
        if group:
            mask &= self.group == (self.groups.index(group) if group in self.groups else -2)
        if district == NO_DISTRICT:
            mask &= self.district == -1
        elif district:
            mask &= self.district == (self.districts.index(district) if district in self.districts else -2)
        return mask

    def _per_node(self, mask: np.ndarray, level: str, weights: np.ndarray | None = None) -> np.ndarray:
        """Sums per node of the level, the not-aligned items last."""
        count = len(self.level_nodes[level])
        codes = self.node[level][mask]
        codes = np.where(codes < 0, count, codes)
        return np.bincount(codes, weights=None if weights is None else weights[mask], minlength=count + 1)

    def _by_source(self, mask: np.ndarray, level: str) -> np.ndarray:
        """Counts per (node, source); the not-aligned items last."""
        count = len(self.level_nodes[level])
        codes = self.node[level][mask]
        flat = np.where(codes < 0, count, codes) * len(SOURCES) + self.source[level][mask]
        return np.bincount(flat, minlength=(count + 1) * len(SOURCES)).reshape(count + 1, len(SOURCES))

    def _scope_districts(self, group: str | None, district: str | None) -> list[int]:
        if district:
            return [self.districts.index(district)] if district in self.districts else []
        groups = district_groups()
        return [i for i, d in enumerate(self.districts) if not group or groups[d] == group]

    # ----------------------------------------------------------------------------- coverage
    def coverage(self, level: str, year: int | None = None, group: str | None = None, district: str | None = None) -> Coverage:
        scope = self.mask(year, group, district)
        projects, reports = scope & ~self.report, scope & self.report
        count = len(self.level_nodes[level])
        counts, budgets, report_counts = self._per_node(projects, level), self._per_node(projects, level, self.budget), self._per_node(reports, level)
        total, total_budget, total_reports = int(projects.sum()), float(self.budget[projects].sum()), int(reports.sum())
        by_source, report_by_source = self._by_source(projects, level), self._by_source(reports, level)
        unsure = projects & (self.source[level] == SOURCES.index("predicted")) & (self.confidence[level] < (self.review_below or 0.0))
        unsure_counts, unsure_budgets = self._per_node(unsure, level), self._per_node(unsure, level, self.budget)
        # districts of the scope with no project on a node
        in_scope = self._scope_districts(group, district)
        with_district = projects & (self.district >= 0)
        present = np.zeros((len(self.districts), count + 1), dtype=bool)
        codes = self.node[level][with_district]
        present[self.district[with_district], np.where(codes < 0, count, codes)] = True
        previous = year - 1 if year is not None and (year - 1) in self.project_years else None
        if previous is not None:
            before = self.mask(previous, group, district) & ~self.report
            previous_counts, previous_budgets = self._per_node(before, level), self._per_node(before, level, self.budget)
        nodes = []
        for i in range(count + 1):
            if i == count and counts[i] == 0 and report_counts[i] == 0:
                continue  # everything aligned: no "not aligned" row
            node = self.catalog.nodes[self.level_nodes[level][i]] if i < count else None
            both = by_source[i] + report_by_source[i]
            entry = NodeCoverage(
                id=node.id if node else None, name=node.name if node else unaligned_name(dict(zip(SOURCES, both.tolist()))),
                parent_id=node.parent_id if node else None,
                projects=int(counts[i]), budget=float(budgets[i]), project_share=_share(counts[i], total),
                budget_share=_share(budgets[i], total_budget),
                sources={s: int(by_source[i, k]) for k, s in enumerate(SOURCES) if by_source[i, k]},
                reports=int(report_counts[i]), report_share=_share(report_counts[i], total_reports),
                report_sources={s: int(report_by_source[i, k]) for k, s in enumerate(SOURCES) if report_by_source[i, k]},
                districts_without=[self.districts[d] for d in in_scope if not present[d, i]] if node else [],
                uncertain=int(unsure_counts[i]), uncertain_budget=float(unsure_budgets[i]))
            if previous is not None:
                entry.previous_projects, entry.previous_budget = int(previous_counts[i]), float(previous_budgets[i])
                entry.change_projects, entry.change_budget = int(counts[i] - previous_counts[i]), float(budgets[i] - previous_budgets[i])
            nodes.append(entry)
        return Coverage(self.catalog.name, level, year, group, district, total, total_budget, total_reports, previous, nodes,
                        self._district_cells(level, projects, reports, group, district), self.years,
                        project_years=self.project_years, sample_projects=int((projects & self.sample).sum()), sample_years=self.sample_years,
                        projects_without_budget=int((projects & self.no_budget).sum()), hint=year_not_stored(year, self.years),
                        uncertain_projects=int(unsure.sum()), uncertain_budget=float(self.budget[unsure].sum()), review_below=self.review_below)

    def _district_cells(self, level: str, projects: np.ndarray, reports: np.ndarray, group: str | None, district: str | None) -> list[DistrictCoverage]:
        """Per district of the scope (grouped), and the items without a district: sums per node."""
        count = len(self.level_nodes[level])
        rows = len(self.districts) + 1  # the last row: no district
        where = np.where(self.district < 0, len(self.districts), self.district)
        codes = np.where(self.node[level] < 0, count, self.node[level])
        flat = where * (count + 1) + codes
        size = rows * (count + 1)
        p = np.bincount(flat[projects], minlength=size).reshape(rows, count + 1)
        b = np.bincount(flat[projects], weights=self.budget[projects], minlength=size).reshape(rows, count + 1)
        r = np.bincount(flat[reports], minlength=size).reshape(rows, count + 1)
        groups = district_groups()
        wanted = self._scope_districts(group, district) + ([len(self.districts)] if not group and not district else [])
        result = []
        for d in wanted:
            name = self.districts[d] if d < len(self.districts) else ""
            if d == len(self.districts) and not p[d].any() and not r[d].any():
                continue
            cells = [CellCoverage(self.level_nodes[level][i] if i < count else None, int(p[d, i]), float(b[d, i]), int(r[d, i]))
                     for i in range(count + 1) if p[d, i] or r[d, i]]
            result.append(DistrictCoverage(name, groups.get(name, ""), int(p[d].sum()), float(b[d].sum()), int(r[d].sum()), cells))
        return result

    # -------------------------------------------------------------------------------- needs
    def needs(self, level: str, year: int | None = None, group: str | None = None, limit: int | None = 20, min_reports: int = 10,
              min_share: float = 0.05) -> Needs:
        """District x node cells where the district's share of reports on the node is far above its share of projects."""
        scope = self.mask(year, group, None) & (self.district >= 0)
        projects, reports = scope & ~self.report, scope & self.report
        count = len(self.level_nodes[level])
        codes = self.node[level]
        flat = self.district * count + codes
        aligned = codes >= 0
        size = len(self.districts) * count
        p = np.bincount(flat[projects & aligned], minlength=size).reshape(-1, count)
        b = np.bincount(flat[projects & aligned], weights=self.budget[projects & aligned], minlength=size).reshape(-1, count)
        r = np.bincount(flat[reports & aligned], minlength=size).reshape(-1, count)
        district_projects = np.bincount(self.district[projects], minlength=len(self.districts))
        district_budget = np.bincount(self.district[projects], weights=self.budget[projects], minlength=len(self.districts))
        district_reports = np.bincount(self.district[reports], minlength=len(self.districts))
        with np.errstate(divide="ignore", invalid="ignore"):
            report_share = np.nan_to_num(r / district_reports[:, None])
            project_share = np.nan_to_num(p / district_projects[:, None])
            budget_share = np.nan_to_num(b / district_budget[:, None])
        gap = report_share - project_share
        candidates = (r >= min_reports) & (report_share >= min_share) & (gap > 0)
        order = sorted(zip(*np.nonzero(candidates)), key=lambda dn: (-gap[dn], -r[dn]))[:limit]
        groups = district_groups()
        found = []
        for d, i in order:
            node = self.catalog.nodes[self.level_nodes[level][i]]
            cell = np.flatnonzero(reports & (self.district == d) & (codes == i))
            confidence = np.nan_to_num(self.confidence[level][cell], nan=1.0)  # declared or mapped: certain
            examples = cell[np.argsort(-confidence, kind="stable")[:EXAMPLES]]
            # shares rounded as coverage's are (_share): the needs file had 16 digits beside the nodes file's 6 (a walkthrough)
            found.append(Need(self.districts[d], groups[self.districts[d]], node.id, node.name, int(r[d, i]), round(float(report_share[d, i]), 6),
                              int(p[d, i]), round(float(project_share[d, i]), 6), float(b[d, i]), round(float(budget_share[d, i]), 6),
                              round(float(gap[d, i]), 6), positions=[int(x) for x in examples]))
        return Needs(self.catalog.name, level, year, group, int(reports.sum()), found, total_needs=int(candidates.sum()))

    # ---------------------------------------------------------------------------- drill-down
    def items(self, level: str, node: str | None, *, reports: bool, year: int | None = None, group: str | None = None,
              district: str | None = None, offset: int = 0, limit: int = 50) -> tuple[int, list[int]]:
        """Positions of the items behind one cell (node None: every node; "": the not-aligned), budget or confidence first."""
        mask = self.mask(year, group, district) & (self.report if reports else ~self.report)
        if node is not None:
            code = self.level_nodes[level].index(node) if node in self.level_nodes[level] else (-1 if node == "" else -2)
            mask &= self.node[level] == code
        positions = np.flatnonzero(mask)
        key = -np.nan_to_num(self.confidence[level][positions], nan=1.0) if reports else -self.budget[positions]
        ordered = positions[np.argsort(key, kind="stable")]
        return len(positions), [int(p) for p in ordered[offset : offset + limit]]

    def describe(self, position: int, level: str) -> tuple[str | None, str, float | None]:
        code = int(self.node[level][position])
        confidence = float(self.confidence[level][position])
        return (self.level_nodes[level][code] if code >= 0 else None, SOURCES[int(self.source[level][position])],
                None if np.isnan(confidence) else round(confidence, 4))


NOT_ALIGNED_THAI = "จัดเข้าหัวข้อไม่ได้ (ไม่มีคำที่อ่านได้ หรือเป็นเพียงชื่อหน่วยงาน)"
ABOVE_THAI = "หัวข้อที่จัดเข้าในระดับบนไม่มีหัวข้อย่อยระดับนี้"


def unaligned_name(sources: dict[str, int]) -> str:
    """The not-aligned row's name (every view shows it: the API's, the exports', the dashboard's): items not
    aligned under the catalog yet (a catalog just uploaded put all 1,771 ordinance lines under "cannot be
    aligned": a committee walkthrough) and items whose node at a shallower level has no children here (a
    quarter of a 4-level catalog's budget read as unreadable: a catalog author's walkthrough) are said apart
    from those that cannot be aligned. ``sources``: the row's projects and reports per source."""
    pending, above, none = (sources.get(s, 0) for s in ("pending", "above", "none"))
    if not pending and not above:
        return NOT_ALIGNED_THAI
    parts = [f"รอประมวลผล {pending:,} รายการ ตัวเลขยังไม่ครบ"] if pending else []
    parts += [f"{ABOVE_THAI} {above:,} รายการ"] if above else []
    parts += [f"{NOT_ALIGNED_THAI} {none:,} รายการ"] if none else []
    return "ยังไม่ได้จัดเข้าหัวข้อระดับนี้: " + "; ".join(parts)


def _share(part: float, whole: float) -> float:
    return round(float(part) / float(whole), 6) if whole else 0.0


# ---------------------------------------------------------------------------------- aligning
@dataclass
class AlignmentPlan:
    """How stored items are aligned under one catalog: aligners (built on first use), map, model stamps."""

    catalog: Catalog
    key: str  # the catalog's key in the store
    project_model: str
    report_model: str
    category_map: CategoryMap | None
    report_sources: tuple[str, ...]
    aligners: Callable[[bool], Aligner]  # report? -> the aligner for it

    def stamp(self, name: str, source: str, offices: frozenset[str]) -> str:
        """The stamp an item's alignment carries. A project whose name only names an office (``offices``)
        is stamped apart, so it is aligned again when the offices known change (a blind review:
        "สำนักการแพทย์" ingested before the rows naming that office stayed under D5). A citizen report
        never is one, and a long name is not tested (118k reports made the refresh 1.1 -> 16.6 s)."""
        if is_report(source, self.report_sources):
            return self.report_model
        office = len(name) <= OFFICE_NAME_CHARS and is_office_name(name, offices)
        return self.project_model + OFFICE_STAMP if office else self.project_model


def align_stored(projects: Sequence[Project], plan: AlignmentPlan, decisions: dict[str, str] | None = None,
                 hashes: dict[str, str] | None = None, offices: frozenset[str] = frozenset()) -> list[AlignmentRow]:
    """Alignment rows for stored items (``hashes``: their stored content hashes): chosen by precedence, the rest
    predicted in batches per aligner, except a line that only names an office (``offices``:
    :func:`~planalign.corpora.projects.office_names`), which stays unaligned unless declared or decided."""
    catalog = plan.catalog
    widest = max(len(catalog.at_level(level)) for level in catalog.levels)
    chosen: list[tuple[str, str] | None] = []
    batches: dict[tuple[bool, bool], list[int]] = {}
    for n, project in enumerate(projects):
        report = is_report(project.source, plan.report_sources)
        mapped = plan.category_map.node_for(project.category) if report and plan.category_map and project.category else None
        decided = (decisions or {}).get(project.id)
        pick = choose(declared_node(project, catalog), decided if decided in catalog.nodes else None, mapped)
        chosen.append(pick)
        if pick is None and not report and names_an_office(project, offices):
            continue  # counted among the items that could not be aligned
        if needs_prediction(pick, catalog):
            batches.setdefault((report, pick is not None), []).append(n)  # anchored: the issue among the chosen dimension's
    predicted: dict[int, Alignment | Exception] = {}
    for (report, anchored), members in batches.items():
        results = plan.aligners(report).align_many([projects[n].search_text() for n in members], top_k=widest if anchored else 3)
        predicted.update(zip(members, results))
    rows = []
    for n, project in enumerate(projects):
        rows.extend(alignment_rows(project, catalog, chosen[n], predicted.get(n), plan.stamp(project.name, project.source, offices), (hashes or {}).get(project.id)))
    return rows
