"""Request and response models, with Thai examples for the OpenAPI page.

Response models read the core's dataclasses directly (``from_attributes``), so a handler returns
what the application gave it and OpenAPI shows every shape.
"""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr, create_model
from pydantic.json_schema import JsonDict

from planalign.corpora.form import draft_text
from planalign.corpora.projects import PROJECT_FIELDS, Project

DRAFT_EXAMPLE: JsonDict = {
    "name": "โครงการขุดลอกคลองลาดพร้าวเพื่อป้องกันน้ำท่วม",
    "objective": "เพื่อเพิ่มประสิทธิภาพการระบายน้ำและลดน้ำท่วมขังในชุมชนริมคลอง",
    "target": "คลองลาดพร้าว ความยาว 3 กิโลเมตร",
    "top_k": 3,
}


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class In(BaseModel):
    """A request body: an unknown field is refused (422 naming it), not dropped without a word
    (``{"top": 5}`` answered with the default 3 suggestions as if it had been read)."""

    model_config = ConfigDict(extra="forbid")


# ------------------------------------------------------------------------------------ align
class AlignRequest(In):
    model_config = ConfigDict(json_schema_extra={"examples": [DRAFT_EXAMPLE, {"text": "โครงการอบรมอาสาสมัครป้องกันยาเสพติดในชุมชน"}]})

    text: str | None = Field(None, max_length=1_000_000, description="Free text of the draft. The service takes at most "
                             "PLANALIGN_MAX_TEXT_CHARS characters of draft (20,000 by default): a longer one is a 413; this schema's "
                             "bound only stops absurd bodies before they are read (an integrator read it as the limit)")
    name: str | None = Field(None, max_length=10_000, description="โครงการ")
    objective: str | None = Field(None, max_length=100_000, description="วัตถุประสงค์")
    target: str | None = Field(None, max_length=100_000, description="เป้าหมาย")
    catalog: str | None = Field(None, max_length=64, description="Catalog id (default: the service's)")
    level: str | None = Field(None, max_length=64, description="Only this level, e.g. issue")
    top_k: int = Field(3, ge=1, le=50)
    check_duplicates: bool = Field(True, description="Also list possible duplicates already in the store")
    learn: bool = Field(True, description="Learn from the catalog's decisions (false: zero-shot only)")

    def draft(self) -> str:
        return draft_text(self.text, self.name, self.objective, self.target)


class EvidenceOut(Out):
    draft_text: str = Field(description="The part of the draft that matched")
    matched_text: str = Field(description="The catalog text (or labelled example) it matched")
    matched_kind: str = Field(description="name | description | keywords | example (a decided text the learned top suggestion follows)")
    similarity: float
    shared_words: list[str]


class SuggestionOut(Out):
    node_id: str
    name: str
    level: str
    score: float = Field(description="Raw similarity score (for ranking)")
    confidence: float = Field(description="Calibrated probability that this suggestion is right")
    path: list[str] = Field(description="Node ids from the root down to this node")
    evidence: list[EvidenceOut]


class NeighbourOut(Out):
    text: str
    labels: list[str]
    similarity: float


class MatchedFieldOut(Out):
    field: str = Field(description="place.soi, place.canal, place.road, place.district, quantity.length_m, quantity.count, number, "
                                   "target_group, activity, text, ...", examples=["place.soi"])
    value: str = Field(description="The value both texts share (activity and target group: a family name such as dredge, elderly)",
                       examples=["ซอยพหลโยธิน 55"])


class ConflictingFieldOut(Out):
    field: str = Field(description="As in matched fields, plus wording (a word substituted in an otherwise identical text)",
                       examples=["place.soi"])
    a: str = Field(description="The first text's value (the draft's, in a check)", examples=["ซอยเทียนทะเล 20"])
    b: str = Field(description="The other text's value", examples=["ซอยเทียนทะเล 26"])


class DecisionOut(Out):
    kind: Literal["copy", "same_project", "related", "different"] = Field(
        description="copy: a re-submission (near-verbatim); same_project: the same project in other words; "
                    "related: same theme but another place, quantity or target group (never a duplicate); different")
    score: float = Field(description="What decided: the aligned share of words (copy) or the field-adjusted semantic score")
    semantic: float | None = Field(None, description="Centered cosine of the two texts' query-view embeddings")
    lexical: float | None = Field(None, description="Share of the shorter text's words found in the other, in order")
    matched_fields: list[MatchedFieldOut] = Field(description="Fields both texts share: places, quantities, numbers, activity, target group")
    conflicting_fields: list[ConflictingFieldOut] = Field(description="Fields where each text has a value the other lacks")


class CopyOut(Out):
    id: str
    org: str
    year: int | None = Field(None, description="The stored project's fiscal year (B.E.)")
    budget: float | None = Field(None, description="The stored project's budget in baht")


class DuplicateOut(Out):
    id: str
    org: str
    name: str
    year: int | None = Field(None, description="The stored project's fiscal year (B.E.)")
    budget: float | None = Field(None, description="The stored project's budget in baht")
    decision: DecisionOut
    copies: list[CopyOut] = Field(default_factory=list, description="The other stored projects of the same name judged the same way "
                                                                    "(a line every district budgets is one entry naming the others)")


class DecidedOut(Out):
    id: int = Field(description="The decision's id (DELETE /v1/decisions/{id} withdraws it)")
    level: str
    node_id: str
    source: str
    who: str
    created: float = Field(description="Unix time")


class AlignResponse(Out):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [{
        "catalog": "bma-9d", "encoder": "e5", "model_version": 3, "examples": 120,
        "warnings": [], "neighbours": [], "duplicates": [], "needs_review": {"dimension": False},
        "levels": {"dimension": [{"node_id": "D1", "name": "เดินทางดี", "level": "dimension", "score": 0.41, "confidence": 0.83,
                                  "path": ["D1"], "evidence": []}]}}]})

    catalog: str
    encoder: str = Field(description="The encoder that answered (e5, static, cascade, ...)")
    model_version: int = Field(0, description="0: zero-shot; n: the n-th model learned from the catalog's decisions")
    examples: int = Field(0, description="How many decided texts that model learned from")
    learned: bool = Field(False, description="The decisions changed this answer; false: the zero-shot answer stands (the model's "
                                             "learners, corrections and decided texts leave this draft alone, or zero-shot was asked)")
    levels: dict[str, list[SuggestionOut]]
    needs_review: dict[str, bool] = Field(description="Per level: a person should check the top suggestion")
    ends_above: dict[str, str] = Field(default_factory=dict, description="Per level: the node without children at a shallower level where "
                                       "the draft's best path ends (an issue without goals); the level's suggestions then come from other "
                                       "branches and need review")
    neighbours: list[NeighbourOut]
    warnings: list[str]
    warnings_th: list[str] = Field(default_factory=list, description="The same warnings in Thai, in the same order (for the pages)")
    decided: list[DecidedOut] = Field(default_factory=list, description="The labels counting on this very text (normalized): the draft "
                                                                       "was decided before, at these levels")
    duplicates: list[DuplicateOut] = Field(description="Stored projects similar to the draft: duplicates first (decision kind copy or "
                                                       "same_project), then related projects that are not duplicates (kind related), "
                                                       "each with the fields that match and differ")


# --------------------------------------------------------------------------------- classify
class ClassifyRequest(In):
    model_config = ConfigDict(json_schema_extra={"examples": [{"texts": ["โครงการลอกท่อระบายน้ำซอยวัดไผ่ตัน", "โครงการคัดแยกขยะในโรงเรียน"], "level": "issue"}]})

    texts: list[str] = Field(min_length=1, description="Drafts to label (at most the sync limit, 100 by default)")
    catalog: str | None = Field(None, max_length=64)
    level: str | None = Field(None, max_length=64)
    learn: bool = Field(True, description="Learn from the catalog's decisions (false: zero-shot only)")


class ClassifyRow(BaseModel):
    index: int
    pred_label: str | None
    pred_name: str | None
    pred_score: float | None
    pred_confidence: float | None
    pred_top3: list[str]
    needs_review: bool = Field(description="A person should check this suggestion (low confidence, or the catalog barely matches the text)")
    error: str | None
    error_th: str | None = Field(None, description="The error in Thai, as the files and the pages give it")
    warnings: list[str] = Field(default_factory=list, description="e.g. a text with (almost) no Thai characters: the catalog is Thai")
    warnings_th: list[str] = Field(default_factory=list, description="The same warnings in Thai, in the same order")


class ClassifyResponse(BaseModel):
    catalog: str
    encoder: str
    model_version: int = Field(0, description="0: zero-shot; n: the n-th model learned from the catalog's decisions")
    examples: int = Field(0, description="How many decided texts that model learned from")
    level: str
    results: list[ClassifyRow]


class JobProgress(BaseModel):
    done: int
    total: int


class JobOut(Out):
    id: str
    status: Literal["queued", "running", "done", "failed", "cancelled"]
    created: float
    updated: float
    progress: JobProgress
    error: str | None
    message_th: str | None = Field(None, description="Why the job failed, in Thai, naming the user's file (for the pages)")
    params: dict[str, Any]
    metrics: dict[str, Any] | None = Field(None, description="Quality when the file had a label column")
    jobs_ahead: int = Field(0, description="A queued job: the jobs before it in the queue (one job runs at a time, in the order submitted)")
    rows_ahead: int = Field(0, description="A queued job: the rows those jobs have left")
    status_url: str
    result_url: str


class TableColumns(Out):
    """An uploaded file's header and first rows, and the columns that look like its text and id."""

    filename: str
    columns: list[str]
    rows: list[dict[str, Any]] = Field(description="The first rows, as read")
    total_rows: int
    text_columns: list[str] = Field(description="Columns that look like the text to align (by header, else the wordiest column)",
                                    examples=[["ชื่อโครงการ", "วัตถุประสงค์"]])
    id_column: str | None = Field(None, examples=["รหัสโครงการ"])


# ----------------------------------------------------------------------------------- search
class HitOut(Out):
    id: str
    score: float = Field(description="Fused score (standard deviations over the candidates); for ranking only")
    name: str
    org: str
    year: int | None
    snippet: str
    highlights: list[tuple[int, int]]
    district: str
    district_group: str
    dimension_id: str
    why: list[Literal["lexical", "semantic"]] = Field(
        description="Why the hit is shown: lexical = it contains the query's words (ตรงคำค้น); semantic = close in meaning "
                    "(ความหมายใกล้เคียง); empty for a weak hit")
    relevant: bool = Field(description="Above the relevance floor, i.e. counted in total")
    report: bool = Field(False, description="A citizen report (Traffy), not a project (filter with kind)")
    copies: list[str] = Field(default_factory=list, description="Ids of the other results with this very text (every district "
                                                                "budgets the same routine lines), shown as this one hit; collapse=false lists them apart")
    copies_years: list[int] = Field(default_factory=list, description="With copies: the fiscal years (B.E.) of this text's rows, "
                                                                      "this hit's included (the hit shows its own year)")
    copies_orgs: int = Field(0, description="With copies: how many agencies or district offices have this text (the hit shows its own)")
    budget: float | None = Field(None, description="The project's budget in baht (this hit's own row)")


class SearchResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "query": "ขุดลอกคลอง", "mode": "hybrid", "total": 1, "page": 1, "page_size": 10, "facets": {"year": {"2567": 1}},
        "results": [{"id": "S2567-0012", "score": 7.41, "name": "โครงการขุดลอกคลองบางบัว", "org": "สำนักงานเขตบางเขน", "year": 2567,
                     "snippet": "โครงการขุดลอกคลองบางบัว", "highlights": [[9, 16]], "district": "บางเขน", "district_group": "กรุงเทพเหนือ",
                     "dimension_id": "D1", "why": ["lexical", "semantic"], "relevant": True}]}]})

    query: str
    mode: str
    total: int = Field(description="Hits above the relevance floor (keyword mode: documents containing a query word); "
                                   "with collapse, distinct texts")
    total_rows: int | None = Field(None, description="The stored rows behind total, each copy of a text counted")
    page: int
    page_size: int
    facets: dict[str, dict[str, int]]
    hint: str | None = Field(None, description="Why nothing can be found: no project stored yet, or no word of the query "
                                               "is known (the results are then only the nearest, none relevant)")
    more: bool = Field(False, description="Another page of hits follows (after the relevant ones, weaker hits marked relevant=false)")
    did_you_mean: str | None = Field(None, description="The query as the stored projects' names spell it, when a part of it (4 characters "
                                                       "or more) is in no stored text and one edit per 7 characters from a project's name "
                                                       "(ลอกท่อระบายนำ -> ลอกท่อระบายน้ำ); the results are not changed by it")
    results: list[HitOut]


# ------------------------------------------------------------------------------- duplicates
class CheckRequest(In):
    model_config = ConfigDict(json_schema_extra={"examples": [{"text": "โครงการกรุงเทพมหานครเขตปลอดบุหรี่ ประจำปี 2568"}]})

    text: str = Field(min_length=1, max_length=100_000)


class CheckResponse(BaseModel):
    matches: list[DuplicateOut]


class ClusterMember(BaseModel):
    id: str
    name: str
    org: str
    year: int | None = Field(description="Fiscal year, B.E., as in search results (None when the project has none)")


class ClusterPair(Out):
    id_a: str
    id_b: str
    decision: DecisionOut


class ClusterLink(ClusterPair):
    outside: ClusterMember = Field(description="The pair's text outside this cluster")
    outside_cluster: str = Field(description="The cluster that text is in; empty when it is in none")


class Cluster(BaseModel):
    cluster: str = Field(description="C1, C2, ...: the clusters of this answer, largest first; the same group of projects may be "
                                     "numbered otherwise under other filters, so keep its members' ids, not this name")
    size: int
    name: str = Field(description="What the cluster is: its members' commonest project name (or text)")
    members: list[ClusterMember]
    pairs: list[ClusterPair] = Field(description="Flagged pairs with both texts in this cluster (average linkage: at least half the pairs "
                                                 "between two groups flagged), best first, at most 200")
    pairs_total: int = Field(0, description="Every flagged pair inside the cluster (pairs lists the first 200: 50 copies of one line are 1,225)")
    links: list[ClusterLink] = Field([], description="Flagged pairs from a member to a text outside the cluster (in another cluster, or in "
                                                     "none): too few of the pairs between them were flagged to join them; at most 200")
    links_total: int = Field(0, description="Every flagged pair from a member to a text outside the cluster (links lists the first 200)")


class ClustersResponse(BaseModel):
    total_clusters: int = Field(description="Clusters of at least min_size texts (before limit)")
    clusters: list[Cluster]


# --------------------------------------------------------------------------------- projects
_PROJECT_EXAMPLE: JsonDict = {"id": "BKN-2568-001", "fiscal_year": "2568", "org": "สำนักงานเขตบางเขน", "name": "โครงการลอกท่อระบายน้ำซอยพหลโยธิน 48",
                    "objective": "ลดน้ำท่วมขังในซอย", "budget": "1.2 ล้านบาท", "issue_id": "D1.4"}
# The one project field list; values as on a form (Thai digits, C.E. years, "1.2 ล้านบาท").
ProjectIn: type[BaseModel] = create_model(  # type: ignore[call-overload]
    "ProjectIn",
    # an unknown field ("year" for fiscal_year) is refused (422 naming it), not dropped while the project is stored without it
    __config__=ConfigDict(extra="forbid", json_schema_extra={"examples": [_PROJECT_EXAMPLE]}),
    # strict: a JSON true was stored as a budget of 1 baht (a blind review); a number or its text, as a form writes it
    **{name: ((StrictStr | StrictInt | StrictFloat | None), None) for name in PROJECT_FIELDS if name not in ("id", "name")},
    id=(str | None, Field(None, max_length=200)),
    name=(str, Field(max_length=10_000)),
)


class ProjectsIn(In):
    projects: list[ProjectIn] = Field(min_length=1, max_length=10_000)


class RejectedRow(BaseModel):
    row: int = Field(description="The row as the file shows it (a spreadsheet's row, header = 1; a JSON-lines file's line), "
                                 "or the project's position in the JSON list, from 1")
    reason: str
    reason_th: str = Field(description="The same in Thai, for the people who correct the file")


class UndeclaredAlignment(BaseModel):
    id: str
    declared: str


class DeclaredBeyondOnePath(BaseModel):
    id: str
    what: str = Field(description='e.g. "left out: D7.2" (two issues declared, D1.1 kept), "on two paths: D1.1, D7" or '
                                  '"not in the catalog: D9.9" (its dimension D9 kept)')


class UnknownDistrict(BaseModel):
    row: int
    district: str
    nearest: str = Field("", description="The nearest of Bangkok's 50 districts' names, when one is near")


class IngestResponse(BaseModel):
    inserted: int
    updated: int
    unchanged: int
    rejected: list[RejectedRow]
    indexed: int = Field(description="Projects in the search index when the answer was sent")
    pending: int = Field(0, description="Changed projects committed to the store but not searchable yet (the background indexer adds them shortly)")
    undeclared: list[UndeclaredAlignment] = Field([], description="Projects whose plan alignment (ความสอดคล้องกับแผนระดับ กทม.) names no node "
                                                                  "of the catalog: stored, without a declared decision (the first 100)")
    undeclared_total: int = Field(0, description="How many projects declare an alignment that names no node of the catalog")
    declared_extra: list[DeclaredBeyondOnePath] = Field([], description="Projects whose plan alignment names more than one node at a level "
                                                                        "(one is kept), kept nodes on two paths, or ids the catalog does not "
                                                                        "have beside the nodes kept (the first 100)")
    declared_extra_total: int = Field(0, description="How many projects declare beyond one path of the catalog, or ids it does not have")
    mixed_levels: list[str] = Field([], description="The values of the file's level column when it holds several (org, section, item...): "
                                                    "rows of one level often total the next, counted twice in coverage; keep one level's rows")
    unknown_districts: list[UnknownDistrict] = Field([], description="Projects stored with a district that is not one of Bangkok's 50: "
                                                                     "coverage counts them with the central agencies (check the name; the first 100)")
    unknown_districts_total: int = Field(0, description="How many projects name a district that is not one of Bangkok's 50")


class ProjectsPage(BaseModel):
    total: int
    offset: int
    projects: list[Project]


class Deleted(BaseModel):
    deleted: str


# --------------------------------------------------------------------------------- catalogs
class CatalogSummary(BaseModel):
    id: str
    title: str = Field(description="The catalog's name for people (its catalog_title), else its id", examples=["ยุทธศาสตร์กรุงเทพมหานคร 9 ด้าน 9 ดี"])
    levels: list[str]
    nodes: int
    per_level: dict[str, int]
    removable: bool = Field(False, description="An uploaded catalog other than the configured default: DELETE /v1/catalogs/{id} removes it")


class CatalogList(BaseModel):
    default: str
    catalogs: list[CatalogSummary]
    unreadable: list[str] = Field(default_factory=list, description="Stored catalogs that cannot be read (upload them again under their id)")


class CatalogNode(BaseModel):
    id: str
    level: str
    name: str
    description: str
    keywords: list[str]
    children: list[CatalogNode]


class CatalogTree(CatalogSummary):
    tree: list[CatalogNode]


class CatalogUploaded(CatalogTree):
    replaced: bool = Field(description="A catalog of this id was stored before and is replaced")
    added: list[str] = Field(default_factory=list, description="Node ids the replaced version did not have")
    removed: list[str] = Field(default_factory=list, description="Node ids of the replaced version this one lacks (a renumbered node is "
                                                                 "removed and added: its decisions stay with the old id)")
    renamed: list[str] = Field(default_factory=list, description="Node ids whose name this version changes")
    moved: list[str] = Field(default_factory=list, description="Node ids this version puts under another parent")
    stale_decisions: int = Field(description="Active decisions naming a node this version lacks: they no longer count "
                                             "(GET /v1/decisions?catalog=...&active=true marks them in_catalog=false); "
                                             "uploading a version with the node again brings them back")
    newly_stale_decisions: int = Field(0, description="Of stale_decisions, those on a node the replaced version had (this upload removes it)")
    renamed_decisions: int = Field(description="Active decisions naming a node this version renames: they still count, under the new name; "
                                               "check them (GET /v1/decisions?catalog=...)")


class CatalogRemoved(BaseModel):
    id: str
    decisions_kept: int = Field(description="Active decisions on it: kept, readable (GET /v1/decisions?catalog=...), and counted again "
                                            "if a catalog of this id is uploaded again")


# -------------------------------------------------------------------------------- decisions
DecisionSource = Literal["planner", "reviewer", "evaluator", "declared", "imported"]


class DecisionIn(In):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "text": "โครงการขุดลอกคลองลาดพร้าวเพื่อป้องกันน้ำท่วม", "node_id": "D1.4", "level": "issue", "suggested": "D1.4",
        "suggested_confidence": 0.83, "source": "planner"}]})

    text: str = Field(max_length=100_000, description="The text decided on (the draft as aligned)")
    node_id: str = Field(max_length=300, description="The node chosen: an id or a name")
    catalog: str | None = Field(None, max_length=64, description="Catalog id (default: the service's)")
    level: str | None = Field(None, max_length=64, description="The node must be at this level (default: the node's own)")
    project_id: str | None = Field(None, max_length=200)
    suggested: str | None = Field(None, max_length=300, description="The top-1 suggestion shown at the time")
    suggested_confidence: float | None = Field(None, ge=0, le=1)
    source: DecisionSource = "planner"


class LabelDecisionOut(Out):
    id: int
    created: float = Field(description="Unix time")
    catalog: str
    level: str
    node_id: str
    text: str
    project_id: str
    suggested: str
    suggested_confidence: float | None
    accepted: bool | None = Field(description="The suggestion shown was the node chosen (null: none was shown)")
    source: str
    who: str = Field(description="The API key's name, or local")
    withdraws: int | None = Field(None, description="This row is a withdrawal (node_id empty) of that decision (DELETE /v1/decisions/{id})")
    withdrawn_by: int | None = Field(None, description="This decision was withdrawn by that row: it no longer counts (lists only)")
    in_catalog: bool | None = Field(None, description="The node is in the catalog as it is now (false: a re-upload removed it, and the "
                                                      "decision no longer counts; null: the catalog is gone, or a withdrawal)")
    overridden: bool = Field(False, description="An active label that a newer decision on the same text at another level, off this node's "
                                                "path, overrides (dimension D4, then issue D1.4): it no longer counts")


class ModelOut(BaseModel):
    catalog: str
    version: int = Field(description="0: zero-shot (no decisions yet)")
    examples: int
    refit_pending: bool = Field(description="Decisions changed since; a new model is being fitted in the background")
    loading: bool = Field(False, description="The model is still loading (start-up, a replaced catalog): the decisions are stored; "
                                             "version and examples are those of the model last saved")


class DecisionsStored(BaseModel):
    stored: int = Field(description="Decisions stored (they change an active label)")
    unchanged: int = Field(description="Decisions equal to the active one: not stored again")
    superseded: int = Field(0, description="Decisions of the list on a text a later one of the list decides again: its last word is kept")
    withdrawn_before: int = Field(0, description="Imported decisions a person withdrew from an earlier import: not brought back "
                                                 "(a person's own decision, source planner, reviewer or evaluator, restores one)")
    decisions: list[LabelDecisionOut]
    model: ModelOut


class DecisionsPage(BaseModel):
    total: int
    offset: int
    decisions: list[LabelDecisionOut]


class AcceptancePeriod(BaseModel):
    period: str
    decisions: int
    with_suggestion: int
    accepted: int
    acceptance_rate: float | None


class LearnedModel(BaseModel):
    catalog: str
    encoder: str
    version: int
    examples: int
    fitted: float
    fit_seconds: float
    level: str | None = Field(None, description="The level the model learned at, where its review thresholds apply: the deepest at which "
                                                "nine decided texts in ten have a label")
    review_below: float | None = Field(None, description="From 50 decisions: the confidence under which a zero-shot suggestion at the model's "
                                                         "level needs review, the lowest from which the decided texts' suggestions were right "
                                                         "for >= 90% (one-sided 90% bound); 1.0 flags all; null: the shipped threshold")
    fused_review_below: float | None = Field(None, description="The same for suggestions the decisions changed (fused probabilities, "
                                                               "judged out of fold); null: one half")
    in_use: bool = Field(True, description="Loaded by this process, or of an encoder configured for suggestions or the index "
                                           "(PLANALIGN_ENCODER, PLANALIGN_INDEX_ENCODER); false: kept from another configuration, not refit while unused")


class WithdrawnOut(BaseModel):
    withdrawal: LabelDecisionOut = Field(description="The withdrawal (withdraws: the decision's id); the decision stays in the history")
    already: bool = Field(False, description="The decision was withdrawn before, by this withdrawal: nothing changed (a retry)")
    still_active: list[LabelDecisionOut] = Field(description="The text's labels standing now, at every level: the newest decision still "
                                                             "standing at the withdrawn one's level (an older one, or none), and one at "
                                                             "another level the withdrawn decision had overridden (off its path, older); "
                                                             "a label another one overrides, or whose node the catalog no longer has, "
                                                             "is left out, as align's `decided` leaves it out")
    model: ModelOut | None = Field(description="The catalog's model; null when the catalog is gone")


class DecisionStats(BaseModel):
    decisions: int
    active: int = Field(description="Active labels: one per text and level")
    withdrawn: int = Field(0, description="Decisions withdrawn (DELETE /v1/decisions/{id}): kept in the history, counted neither as "
                                          "decisions nor in the acceptance rates here (/metrics counts every decision made)")
    not_counting: int = Field(0, description="Of the active labels, those naming a node the catalog no longer has (a re-upload removed "
                                             "it, or the catalog is gone): learning, coverage and the review grid leave them out; GET /v1/decisions "
                                             "marks them in_catalog=false (null: catalog gone)")
    overridden: int = Field(0, description="Of the active labels, those a newer decision on the same text at another level, off their "
                                           "path, overrides: they no longer count; GET /v1/decisions marks them overridden=true")
    by_source: dict[str, int]
    by_level: dict[str, int]
    with_suggestion: int
    accepted: int
    acceptance_rate: float | None = Field(description="Share of decisions whose suggestion shown was the node chosen")
    active_with_suggestion: int = Field(0, description="Of the active labels, those decided on a suggestion shown")
    active_accepted: int = Field(0, description="... and those where it was the node chosen")
    active_acceptance_rate: float | None = Field(None, description="The acceptance rate of the active labels: a suggestion accepted "
                                                                   "and then corrected counts as corrected (acceptance_rate counts both decisions)")
    over_time: list[AcceptancePeriod]
    models: list[LearnedModel]


class ReviewDecision(Out):
    id: int = Field(description="The decision's id (DELETE /v1/decisions/{id} withdraws it)")
    node_id: str
    level: str = Field(description="The level it was decided at: the job's, or another (a dimension on a row of an issue-level job)")
    source: str
    who: str
    created: float


class ReviewRowOut(Out):
    index: int = Field(description="The row's position in the file, from 0")
    row: int = Field(description="The row's number as the file shows it: a spreadsheet's row (header = 1, blank rows counted), "
                                 "a JSON-lines file's line, a JSON list's position from 1")
    row_id: str = Field(description="The value of the job's id column (empty when it has none)")
    project_id: str = Field(description="The stored project this row is (its id names one and the text carries its name), else empty: "
                                        "send it with a decision on the row, so coverage counts the decision for that project")
    text: str
    pred_label: str
    pred_name: str
    pred_confidence: float | None
    pred_top3: list[str]
    needs_review: bool
    error: str
    error_th: str = Field(description="Why the row's text could not be aligned, in Thai (empty when it was)")
    dimension: str = Field(description="Top-level node of the decision, else of the suggestion")
    decision: ReviewDecision | None
    accepted: bool = Field(False, description="The decision agrees with the suggestion: the same node, or one on its path "
                                              "(D4 decided on a row suggested D4.2)")
    removed_suggestion: bool = Field(False, description="The suggestion names a node the catalog no longer has (revised since the job): "
                                                        "it cannot be accepted, only corrected")
    removed_decision: str = Field("", description="The node of the row's newest decision when the catalog no longer has it: "
                                                  "that decision no longer counts")
    note: str = Field("", description="In Thai: what a revision of the catalog since the job left behind on this row (the corrected file's review_note)")
    text_key: str = Field("", description="The text as decisions name it (normalized, whitespace collapsed): a decision on a row is a "
                                          "decision on every row of the same key (empty: no text)")


class ReviewOut(Out):
    job_id: str
    catalog: str
    level: str
    total: int = Field(description="Rows matching the filters")
    needs_review: int
    decided: int
    rows: list[ReviewRowOut]
    review_below: float | None = Field(None, description="The confidence under which the job flagged most suggestions for review (the zero-shot "
                                                          "threshold, or the fused one once the learned model re-scores every row); "
                                                          "1.0: every row (no confidence at which the catalog's decided suggestions were "
                                                          "right 90% of the time); null: a job from before it was recorded")
    review_decisions: int = Field(0, description="How many of the catalog's decisions set review_below (0: a default: the encoder's "
                                                 "calibrated threshold, or 0.5 for fused probabilities)")


# ----------------------------------------------------------------------------------- health
class Health(BaseModel):
    status: Literal["ok", "degraded"] = Field(description="degraded: serving from a fallback (e.g. the previous index generation) or indexing is failing")
    problems: list[str] | None = Field(None, description="What is degraded (no server paths)")


class IndexingProgress(BaseModel):
    done: int
    total: int
    queued: int


class Readiness(BaseModel):
    status: Literal["ready", "starting", "indexing", "store_unreachable"] = Field(
        description="indexing: the index does not agree with the store yet; store_unreachable: the database does not answer")
    checks: dict[str, bool]
    projects: int
    detail: str | None = Field(None, description='e.g. "indexing 1200 of 13584"')
    indexing: IndexingProgress | None = None


# --------------------------------------------------------------------------------- coverage
# index/coverage.py SOURCES ("pending": not aligned under the catalog yet; a 500 on /v1/coverage/items before: a blind review)
AlignmentSource = Literal["declared", "decision", "mapped", "predicted", "above", "none", "pending"]


class NodeCoverageOut(Out):
    id: str | None = Field(description="Catalog node id; null: items not aligned, those that cannot be (no readable text, an office's name: "
                                       "sources.none) and those not aligned under this catalog yet (sources.pending)")
    name: str
    parent_id: str | None
    projects: int = Field(description="Projects counted for this node (each project counts once per level)")
    budget: float = Field(description="Their budget, baht")
    project_share: float = Field(description="projects / total_projects")
    budget_share: float = Field(description="budget / total_budget")
    sources: dict[str, int] = Field(description="Projects by where their node comes from: declared, decision, mapped, predicted; none: "
                                                "cannot be aligned; pending: not aligned under this catalog yet")
    reports: int = Field(description="Citizen reports counted for this node")
    report_share: float
    report_sources: dict[str, int] = Field(description="Reports by where their node comes from (mapped: their category)")
    districts_without: list[str] = Field(description="Districts of the filter with no project on this node")
    previous_projects: int | None = Field(None, description="The same for the previous fiscal year, when it is stored")
    previous_budget: float | None = None
    change_projects: int | None = None
    change_budget: float | None = None
    uncertain: int = Field(0, description="Of projects, those the system matched with a confidence under review_below (worth a person's check)")
    uncertain_budget: float = Field(0.0, description="Their budget, baht")


class CellOut(Out):
    node_id: str | None
    projects: int
    budget: float
    reports: int


class DistrictCoverageOut(Out):
    district: str = Field(description='"" = projects without a district (central agencies)')
    group: str
    projects: int
    budget: float
    reports: int
    cells: list[CellOut] = Field(description="Non-empty cells of this district's row, per node")


class CoverageResponse(Out):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [{
        "catalog": "bma-9d", "level": "dimension", "year": 2566, "group": None, "district": None, "total_projects": 2, "total_budget": 1500000.0,
        "total_reports": 1, "previous_year": None, "pending": 0, "years": [2566],
        "nodes": [{"id": "D1", "name": "เดินทางดี", "parent_id": None, "projects": 2, "budget": 1500000.0, "project_share": 1.0, "budget_share": 1.0,
                   "sources": {"declared": 1, "predicted": 1}, "reports": 1, "report_share": 1.0, "report_sources": {"mapped": 1},
                   "districts_without": ["ดุสิต"]}],
        "districts": [{"district": "บางเขน", "group": "กรุงเทพเหนือ", "projects": 2, "budget": 1500000.0, "reports": 1,
                       "cells": [{"node_id": "D1", "projects": 2, "budget": 1500000.0, "reports": 1}]}]}]})

    catalog: str
    level: str
    year: int | None
    group: str | None
    district: str | None
    total_projects: int
    total_budget: float
    total_reports: int
    previous_year: int | None = Field(description="The year compared with (year - 1), when projects of it are stored")
    pending: int = Field(description="Stored items still being aligned under this catalog (counted under their previous alignment meanwhile)")
    years: list[int] = Field(description="Fiscal years with stored projects or citizen reports")
    project_years: list[int] = Field(default_factory=list, description="Fiscal years with stored projects")
    sample_projects: int = Field(0, description="Of total_projects, the embedded sample projects (written by the planalign team, not real)")
    projects_without_budget: int = Field(0, description="Of total_projects, those stored without a budget (counted as 0 baht in every budget figure)")
    sample_years: list[int] = Field(default_factory=list, description="Years whose projects are all sample projects (the page opens on "
                                                                      "the newest year that is not one of them)")
    hint: str = Field("", description="In Thai, why every figure is zero: nothing of the year asked is stored (the years that are)")
    uncertain_projects: int = Field(0, description="Projects the system matched with a confidence under review_below: how much of the "
                                                   "figures a person should check")
    uncertain_budget: float = Field(0.0, description="Their budget, baht")
    review_below: float | None = Field(None, description="The threshold the uncertain counts use: the encoder's shipped zero-shot review "
                                                         "threshold (a catalog's decisions may set another for its suggestions)")
    nodes: list[NodeCoverageOut] = Field(description="Every node of the level; they add up to the totals")
    districts: list[DistrictCoverageOut] = Field(description="The districts of the filter (grouped), then the projects without a district")


class ExampleOut(Out):
    id: str
    text: str
    source: AlignmentSource
    confidence: float | None


class NeedOut(Out):
    district: str
    group: str
    node_id: str
    name: str
    reports: int = Field(description="The district's reports on this node")
    report_share: float = Field(description="... as a share of the district's reports")
    projects: int = Field(description="The district's projects on this node")
    project_share: float = Field(description="... as a share of the district's projects")
    budget: float
    budget_share: float
    gap: float = Field(description="report_share - project_share: how much more citizens ask than projects answer")
    examples: list[ExampleOut]


class NeedsResponse(Out):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [{
        "catalog": "bma-9d", "level": "issue", "year": 2566, "group": None, "total_reports": 1200, "pending": 0,
        "needs": [{"district": "บางเขน", "group": "กรุงเทพเหนือ", "node_id": "D1.4", "name": "ป้องกันและแก้ปัญหาน้ำท่วม", "reports": 85,
                   "report_share": 0.21, "projects": 0, "project_share": 0.0, "budget": 0.0, "budget_share": 0.0, "gap": 0.21,
                   "examples": [{"id": "2022-ABC123", "text": "น้ำท่วมขังหน้าซอยพหลโยธิน 48 ทุกครั้งที่ฝนตก", "source": "mapped", "confidence": None}]}]}]})

    catalog: str
    level: str
    year: int | None
    group: str | None
    total_reports: int
    pending: int
    total_needs: int = Field(0, description="Every district x node cell passing the rule; needs lists the first `limit` of them")
    needs: list[NeedOut]


class CoverageItemOut(Out):
    id: str
    name: str
    org: str
    district: str
    year: int | None
    budget: float | None
    node_id: str | None
    source: AlignmentSource
    confidence: float | None = Field(description="The aligner's confidence (predicted only)")


class CoverageItems(BaseModel):
    total: int
    offset: int
    items: list[CoverageItemOut]
