"""Decisions: record (one or a list), list and export, withdraw, stats; the review grid of a finished job."""
from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Body, Depends, Query
from fastapi.responses import Response

from planalign.app import Application
from planalign.corpora.tables import write_table
from planalign.decisions import DecisionError, DecisionInput, TextsTooLong, check
from planalign.errors import InputError, TooLarge, Unavailable
from planalign.index.decisions import Decision
from planalign.review import corrected, review
from planalign.service.api.deps import MEDIA, AppDep, CallerDep, attachment, require_read_key, require_write_key
from planalign.service.api.schemas import DecisionIn, DecisionsPage, DecisionsStored, DecisionStats, LabelDecisionOut, ModelOut, ReviewOut, WithdrawnOut
from planalign.service.format import DECISION_EXPORT_COLUMNS, DECISION_TEXT_COLUMNS, decision_rows

if TYPE_CHECKING:
    from prometheus_client.core import Metric

router = APIRouter(tags=["decisions"])
FILE_RESPONSES: dict[int | str, dict[str, Any]] = {200: {"content": {"application/json": {}, MEDIA["csv"]: {}, MEDIA["xlsx"]: {}}}}


def _file(columns: list[str], rows: list[dict], fmt: str, stem: str, text_columns: list[str] | None = None, sheet: str = "",
          date_columns: set[str] | None = None) -> Response:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"out.{fmt}"
        write_table(path, columns, rows, text_columns=text_columns or [], sheet=sheet, date_columns=date_columns or set())
        return Response(path.read_bytes(), media_type=MEDIA[fmt], headers={"Content-Disposition": attachment(f"{stem}.{fmt}")})


@router.post("/v1/decisions", summary="Record decisions: the node a person chose for a text (one, or a list)",
             dependencies=[Depends(require_write_key)], response_model=DecisionsStored)
def record(app: AppDep, who: CallerDep, body: Annotated[DecisionIn | list[DecisionIn], Body()]) -> DecisionsStored:
    items = body if isinstance(body, list) else [body]
    if not items:
        raise InputError("send 1 to 10,000 decisions", thai="ส่งการตัดสินใจได้ครั้งละ 1 ถึง 10,000 รายการ")
    if len(items) > 10_000:  # too many is a 413, as for /v1/classify's texts (it was a 422 here: an integrator's walkthrough)
        raise TooLarge(f"at most 10,000 decisions per request, got {len(items):,}; send them in parts or import a file",
                       thai=f"ส่งการตัดสินใจได้ครั้งละไม่เกิน 10,000 รายการ (ได้รับ {len(items):,}) กรุณาแบ่งส่ง หรือนำเข้าเป็นไฟล์")
    catalogs = {item.catalog or app.settings.catalog for item in items}
    if len(catalogs) > 1:
        raise InputError(f"one catalog per request, got {', '.join(sorted(catalogs))}",
                         thai=f"ส่งการตัดสินใจได้ครั้งละหนึ่งแผน (ได้รับ {', '.join(sorted(catalogs))})")
    # a 50,000-character text went past the limit every other text has (a security probe); here, not in Application.decide:
    # a form's declared alignment is its joined fields, each within its own limit
    too_long = []
    for number, item in enumerate(items, start=1):
        try:
            app.check_text(item.text, f"decision {number}'s text", f"ข้อความของการตัดสินรายการที่ {number} ")
        except TooLarge as exc:
            too_long.append((number, str(exc), exc.thai or str(exc)))
    if too_long:  # every problem of the list at once, the others' too (a blind review: an unknown node came out on the second send)
        long_numbers = {number for number, _, _ in too_long}
        rest = [(number, item) for number, item in enumerate(items, start=1) if number not in long_numbers]
        try:
            check([_as_input(item) for _, item in rest], app.catalog(items[0].catalog), app.catalog_id(items[0].catalog), who,
                  numbers=[number for number, _ in rest])
        except DecisionError as exc:
            raise TextsTooLong(sorted(too_long + exc.problems)) from None
        raise TextsTooLong(too_long)
    recorded = app.decide([_as_input(i) for i in items], catalog=items[0].catalog, who=who)
    return DecisionsStored(stored=len(recorded.stored), unchanged=recorded.unchanged, superseded=recorded.superseded,
                           withdrawn_before=recorded.withdrawn_before,
                           model=_model(app, items[0].catalog, bool(recorded.stored)), decisions=_with_in_catalog(app, recorded.stored))


def _as_input(item: DecisionIn) -> DecisionInput:
    return DecisionInput(text=item.text, node=item.node_id, level=item.level, project_id=item.project_id or "", suggested=item.suggested or "",
                         suggested_confidence=item.suggested_confidence, source=item.source)


@router.delete("/v1/decisions/{decision_id}", summary="Withdraw a decision taken by mistake: it no longer counts; the history keeps both",
               dependencies=[Depends(require_write_key)], response_model=WithdrawnOut)
def withdraw(decision_id: int, app: AppDep, who: CallerDep,
             source: str | None = Query(None, max_length=20, description="Where the withdrawal comes from (planner, reviewer, evaluator, "
                                                                           "imported); default: the decision's own")) -> WithdrawnOut:
    made = app.withdraw_decision(decision_id, who=who, source=source)
    try:
        model = _model(app, made.withdrawal.catalog, made.created)
    except InputError:  # a removed catalog's decision: withdrawn all the same (it was stored, and the answer was a 404: a blind review)
        model = None
    return WithdrawnOut(withdrawal=_with_in_catalog(app, [made.withdrawal])[0], already=not made.created,
                        still_active=_with_in_catalog(app, made.still_active), model=model)


def _model(app: Application, catalog: str | None, changed: bool) -> ModelOut:
    """The catalog's model as an answer to a write says it: its version and examples, and whether a refit follows."""
    catalog_id = app.catalog_id(catalog)
    try:
        current = app.aligner(catalog)
    except Unavailable:  # stored all the same: a 503 here read as "not saved", and the review grid sent the batch again (a blind test)
        kept = next((m for m in app.learning.status(stored=True) if m["catalog"] == catalog_id and m["encoder"] == app.settings.encoder), None)
        return ModelOut(catalog=catalog_id, version=kept["version"] if kept else 0, examples=kept["examples"] if kept else 0,
                        refit_pending=changed, loading=True)
    return ModelOut(catalog=catalog_id, version=current.model_version, examples=current.examples, refit_pending=changed)


@router.get("/v1/decisions", summary="Decisions, newest first (filters, paging; format=csv|xlsx for a file of all that match)",
            dependencies=[Depends(require_read_key)], response_model=DecisionsPage, responses=FILE_RESPONSES)
def list_decisions(app: AppDep, catalog: str | None = Query(None, max_length=64), level: str | None = Query(None, max_length=64),
                   source: str | None = Query(None, max_length=20), who: str | None = Query(None, max_length=100),
                   text: str | None = Query(None, max_length=100_000, description="Only decisions on this text"),
                   q: str | None = Query(None, max_length=200, description="Only decisions whose text holds these characters (a name in part)"),
                   node_id: str | None = Query(None, max_length=100, description="Only decisions on this node"),
                   active: bool = Query(False, description="Only the active decision per text and level"),
                   offset: int = Query(0, ge=0, le=1_000_000_000), limit: int = Query(50, ge=1, le=500),
                   format: str = Query("json", pattern="^(json|csv|xlsx)$")) -> DecisionsPage | Response:
    def page(offset: int, limit: int | None):
        return app.decisions_page(catalog=catalog, level=level, source=source, who=who, text=text, node_id=node_id, contains=q,
                                  active_only=active, offset=offset, limit=limit)

    if format != "json":
        everything = page(0, None)[1]
        return _file(list(DECISION_EXPORT_COLUMNS), decision_rows(everything, app.overridden(everything)), format, "decisions",
                     list(DECISION_TEXT_COLUMNS))
    total, found = page(offset, limit)
    return DecisionsPage(total=total, offset=offset, decisions=_with_in_catalog(app, found))


def _with_in_catalog(app: Application, decisions: list[Decision]) -> list[LabelDecisionOut]:
    """Decisions as answers, each saying whether its node is in its catalog as it is now."""
    known = {c: app.known_nodes(c) for c in {d.catalog for d in decisions}}
    overridden = app.overridden(decisions)

    def in_catalog(d: Decision) -> bool | None:
        nodes = known[d.catalog]
        return None if nodes is None or d.is_withdrawal else d.node_id in nodes

    return [LabelDecisionOut.model_validate({**d.as_dict(), "in_catalog": in_catalog(d), "overridden": d.id in overridden}) for d in decisions]


@router.get("/v1/decisions/stats", summary="Counts per source and level; acceptance rate (suggestion = decision) over time; models in use",
            dependencies=[Depends(require_read_key)], response_model=DecisionStats)
def stats(app: AppDep, catalog: str | None = Query(None, max_length=64),
          period: str = Query("week", pattern="^(day|week|month)$"),
          level: str | None = Query(None, max_length=64, description="Only decisions at this level"),
          source: str | None = Query(None, max_length=20, description="Only decisions from this source (planner, reviewer, evaluator, declared, imported)"),
          who: str | None = Query(None, max_length=100, description="Only decisions by this API key's name (or local)"),
          text: str | None = Query(None, max_length=100_000, description="Only decisions on this text"),
          q: str | None = Query(None, max_length=200, description="Only decisions whose text holds these characters (a name in part)"),
          node_id: str | None = Query(None, max_length=100, description="Only decisions on this node")) -> DecisionStats:
    """The filters are GET /v1/decisions's: the summary of a filtered list counts what the list shows."""
    return DecisionStats(**app.decision_stats(catalog, period, level=level, source=source, who=who, text=text, node_id=node_id, contains=q))


@router.get("/v1/classify/jobs/{job_id}/review", summary="A finished job's rows for review: needs_review first, with their decisions",
            dependencies=[Depends(require_read_key)], response_model=ReviewOut)
def review_rows(job_id: str, app: AppDep, needs_review: bool | None = Query(None), dimension: str | None = Query(None, max_length=100),
                offset: int = Query(0, ge=0, le=1_000_000_000), limit: int = Query(100, ge=1, le=1000)) -> ReviewOut:
    return ReviewOut.model_validate(review(app, job_id, needs_review=needs_review, dimension=dimension, offset=offset, limit=limit))


@router.get("/v1/classify/jobs/{job_id}/corrected", summary="The job's labelled file with the decisions laid over it",
            dependencies=[Depends(require_read_key)], responses={200: {"content": {MEDIA["csv"]: {}, MEDIA["xlsx"]: {}}}}, response_class=Response)
def corrected_file(job_id: str, app: AppDep, format: str = Query("csv", pattern="^(csv|xlsx)$")) -> Response:
    table, stem, as_text = corrected(app, job_id)
    return _file(table.columns, table.rows, format, f"{stem}-corrected", as_text, table.sheet, table.date_cells)


def metrics_text(app: Application) -> bytes:
    """Decision and model metrics in the Prometheus text format, counted from the store at each scrape.

    ``planalign_decisions_total`` counts people's decisions and imported ones, which are never deleted, so it only
    grows and the acceptance rate over any window is ``rate(...{suggestion="accepted"}) /
    rate(...{suggestion=~"accepted|corrected"})``; ``planalign_decision_acceptance_ratio`` gives it directly over
    the last 7 and 30 days and all time. A form's declared alignments go with their project when it is deleted:
    they are the gauge ``planalign_declared_decisions`` (in the counter, a delete read as a counter reset and
    broke ``rate()``; a blind review).
    """
    import time

    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

    class Collector:
        def collect(self) -> Iterator[Metric]:
            total = CounterMetricFamily("planalign_decisions", "Decisions made (declared ones aside), by whether the suggestion shown was chosen",
                                        labels=["catalog", "source", "suggestion"])
            declared = GaugeMetricFamily("planalign_declared_decisions", "Alignments declared on stored projects' forms (they go with a deleted project)",
                                         labels=["catalog"])
            per_catalog_declared: dict[str, int] = {}
            for catalog, source, shown, count in app.decisions.counts():
                if source == "declared":  # one series a catalog: an import's declarations may carry a suggestion (three lines broke the scrape)
                    per_catalog_declared[catalog] = per_catalog_declared.get(catalog, 0) + count
                else:
                    total.add_metric([catalog, source, shown], count)
            for catalog, count in per_catalog_declared.items():
                declared.add_metric([catalog], count)
            yield total
            yield declared
            ratio = GaugeMetricFamily("planalign_decision_acceptance_ratio", "Share of decisions whose suggestion shown was the node chosen",
                                      labels=["catalog", "window"])
            for window, since in (("7d", time.time() - 7 * 86400), ("30d", time.time() - 30 * 86400), ("all", None)):
                per_catalog: dict[str, list[int]] = {}
                for catalog, source, shown, count in app.decisions.counts(since):
                    if source == "declared":  # as the counter leaves them out: a form is no judgement of a suggestion
                        continue
                    kept = per_catalog.setdefault(catalog, [0, 0])
                    kept[0] += count if shown == "accepted" else 0
                    kept[1] += count if shown != "none" else 0
                for catalog, (accepted, judged) in per_catalog.items():
                    if judged:
                        ratio.add_metric([catalog, window], accepted / judged)
            yield ratio
            version = GaugeMetricFamily("planalign_model_version", "Version of the model learned from decisions", labels=["catalog", "encoder"])
            examples = GaugeMetricFamily("planalign_model_examples", "Decided texts the model learned from", labels=["catalog", "encoder"])
            for model in app.learning.status():
                version.add_metric([model["catalog"], model["encoder"]], model["version"])
                examples.add_metric([model["catalog"], model["encoder"]], model["examples"])
            yield version
            yield examples

    registry = CollectorRegistry(auto_describe=False)
    registry.register(Collector())
    return generate_latest(registry)
