"""How the command line shows the core's results: tables, Thai wording, output files.

The core returns numbers and ids; this module (and the pages' scripts) turn them into words.
"""
from __future__ import annotations

import json
import time
import unicodedata
from collections.abc import Sequence, Set
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from rich.cells import cell_len
from rich.console import Console
from rich.markup import escape
from rich.table import Table as RichTable

from planalign.app import AlignOutcome, DuplicateSet, SearchPage
from planalign.corpora.catalog import LEVEL_THAI
from planalign.index.align import Aligner
from planalign.index.align.results import warning_thai
from planalign.index.align.supervised import FUSED_REVIEW_BELOW
from planalign.index.coverage import ABOVE_THAI, SOURCES, Coverage, Needs
from planalign.index.decisions import Decision as LabelDecision
from planalign.index.dedup import Decision
from planalign.index.evaluation import Report
from planalign.index.hybrid import Hit
from planalign.index.snippets import render

if TYPE_CHECKING:
    from planalign.learning import Learned

PAIR_COLUMNS = ["id_a", "id_b", "score", "kind", "kind_thai", "cluster", "text_a", "text_b"]
DECISION_COLUMNS = ["semantic", "lexical", "matched_fields", "conflicting_fields", "why"]
# The decision kinds of index/dedup.py; how close the wording is, is said by the measured share
# ("คำของข้อความที่สั้นกว่าตรงกัน 62%": the share of the shorter text's content words the other has),
# never by the label: a copy may share only part of its words.
KIND_THAI = {"copy": "ยื่นซ้ำ", "same_project": "โครงการเดียวกันที่เขียนต่างกัน",
             "related": "เกี่ยวข้อง แต่ไม่ใช่โครงการเดียวกัน", "different": "คนละโครงการ"}
ROW_NOTE = ("row_a/row_b/row: the row's number as the input file shows it (a spreadsheet's row, row 1 = the header; a JSON-lines file's line), "
            "since it has no id column")
MEMBER_COLUMNS = ["cluster", "cluster_size", "cluster_name", "id", "text"]
# Field names of the evidence (index/dedup.py) in Thai; the pages read these tables too (PAGE_TERMS).
FIELD_THAI = {
    "place.soi": "ซอย", "place.canal": "คลอง", "place.road": "ถนน", "place.district": "เขต", "place.district_mention": "เขต",
    "place.subdistrict": "แขวง", "place.community": "ชุมชน", "place.school": "โรงเรียน", "place.market": "ตลาด", "place.junction": "แยก",
    "place.pier": "ท่าเรือ", "place.bridge": "สะพาน", "place.station": "สถานี", "place.temple": "วัด", "place.park": "สวน",
    "place.hospital": "โรงพยาบาล", "place.health_centre": "ศูนย์บริการสาธารณสุข", "place.gate": "ประตูระบายน้ำ", "place.building": "อาคาร",
    "place.agency": "หน่วยงาน", "place.other": "สถานที่", "quantity.length_m": "ความยาว", "quantity.area_m2": "พื้นที่", "quantity.volume_m3": "ปริมาตร",
    "quantity.flow_m3s": "อัตราการไหล", "quantity.power_kw": "กำลังไฟฟ้า", "quantity.money_baht": "งบประมาณ", "quantity.percent": "ร้อยละ",
    "quantity.count": "จำนวน", "quantity.floors": "จำนวนชั้น", "quantity.hours": "ระยะเวลา", "quantity.minutes": "ระยะเวลา",
    "quantity.days": "ระยะเวลา", "quantity.weeks": "ระยะเวลา", "quantity.months": "ระยะเวลา", "quantity.years": "ระยะเวลา",
    "number": "หมายเลข", "target_group": "กลุ่มเป้าหมาย", "activity": "กิจกรรม", "wording": "ถ้อยคำ", "text": "ข้อความ", "topic": "เรื่อง",
}
VALUE_THAI = {  # activity and target-group families (nlp/fields.py)
    "construct": "ก่อสร้าง", "improve": "ปรับปรุง/ซ่อมแซม", "dredge": "ขุดลอก", "install": "ติดตั้ง", "replace": "เปลี่ยน/ทดแทน",
    "procure": "จัดซื้อจัดหา", "hire": "จ้างเหมา", "train": "อบรม", "inspect": "ตรวจสอบ/เฝ้าระวัง", "vaccinate": "ฉีดวัคซีน", "plant": "ปลูก",
    "event": "จัดงาน", "system": "ระบบ/แพลตฟอร์ม", "promote": "ส่งเสริม/รณรงค์", "study": "ศึกษา/ออกแบบ", "evaluate": "ประเมินผล",
    "treat": "บำบัด/รักษา", "regulate": "จัดระเบียบ/ควบคุม", "distribute": "แจก/สนับสนุน",
    "elderly": "ผู้สูงอายุ", "disabled": "คนพิการ", "early_child": "เด็กเล็ก", "primary": "ประถมศึกษา", "secondary": "มัธยมศึกษา",
    "student": "นักเรียน", "youth": "เยาวชน", "university": "นักศึกษา", "teacher": "ครู", "staff": "บุคลากร", "unemployed": "ผู้ว่างงาน",
    "poor": "ผู้มีรายได้น้อย", "homeless": "คนไร้บ้าน", "patient": "ผู้ป่วย", "pregnant": "หญิงตั้งครรภ์", "women": "สตรี",
    "business": "ผู้ประกอบการ", "volunteer": "อาสาสมัคร", "community_leader": "ผู้นำชุมชน", "tourist": "นักท่องเที่ยว",
    "farmer": "เกษตรกร", "drug_user": "ผู้ใช้ยาเสพติด", "worker": "แรงงาน", "public": "ประชาชน", "identical": "เหมือนกันทุกตัวอักษร",
}
EXPLANATION_THAI = {"lexical": "ตรงคำค้น", "semantic": "ความหมายใกล้เคียง"}
PAGE_TERMS = {"kinds": KIND_THAI, "fields": FIELD_THAI, "values": VALUE_THAI, "explanations": EXPLANATION_THAI}  # base.html -> common.js
PARTLY_THAI = "ใกล้เคียงบางส่วน"  # a relevant hit with neither reason alone (review.js explanation says it the same)


def _value(field: str, value: str) -> str:
    values = [VALUE_THAI.get(v.strip(), v.strip()) for v in value.split(",")] if field in ("activity", "target_group", "text") else [value]
    text = ", ".join(values)
    label = FIELD_THAI.get(field, field)
    # place and wording values carry their own marker word ("ซอยพหลโยธิน 55"); others get the field's name
    return text if field.startswith("place.") or field == "wording" else f"{label} {text}"


def matched_thai(decision: Decision) -> list[str]:
    """The fields both texts share, in Thai ("คลองบางบัว", "ความยาว 1250 เมตร")."""
    return [_value(f.field, f.value) for f in decision.matched_fields]


def conflicts_thai(decision: Decision) -> list[str]:
    """The fields that differ, in Thai ("ซอยเทียนทะเล 20 ≠ ซอยเทียนทะเล 26")."""
    return [f"{_value(f.field, f.a)} ≠ {_value(f.field, f.b)}" for f in decision.conflicting_fields]

DECISION_EXPORT_COLUMNS = ("id", "created", "catalog", "level", "node_id", "text", "project_id", "suggested", "suggested_confidence",
                           "accepted", "withdraws", "withdrawn_by", "overridden", "source", "who")
DECISION_TEXT_COLUMNS = ("catalog", "text", "suggested", "who")  # kept as text in an XLSX: a suggestion "2.2" beside its node_id "2.2"


THAI_LEADING_VOWELS = "เแโใไ"  # written before the consonant they follow in speech: a text cut after one ends mid-syllable
THAI_FOLLOWING_VOWELS = "ะาำๅ"  # spacing vowels that end the syllable before them: a text cut before one ends mid-syllable


def clipped(text: str, limit: int) -> str:
    """At most ``limit`` characters of a one-line text, "…" included when it is cut: at a space when there is one in
    its second half, else between syllables as far as the script shows them (never before a tone mark, a vowel sign
    or a following vowel, never after a leading vowel; a text with no such place is cut where it must be):
    "...เพื่อคืนทางเท้าใ" was printed (a docs walkthrough)."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    room = max(limit - 1, 1)
    space = text.rfind(" ", 0, room + 1)
    end = space if space > room // 2 else room
    while end > 0 and (unicodedata.category(text[end]) == "Mn" or text[end] in THAI_FOLLOWING_VOWELS or text[end - 1] in THAI_LEADING_VOWELS):
        end -= 1
    return (text[:end].rstrip() if end > 0 else text[:room]) + "…"


def describe_model(aligner: Aligner) -> str:
    return model_words(aligner.model_version, aligner.examples)


def model_words(version: int, examples: int, learned: bool | None = None) -> str:
    """``learned``: whether the examples changed the answer this is said beside (None: said of the model alone)."""
    if version:
        unmoved = " (they did not change this answer: ข้อเสนอนี้ไม่ได้เปลี่ยนตามการตัดสินใจ)" if learned is False and examples else ""
        return f"model: v{version}, learned from {examples} decisions{unmoved}"
    return f"model: learned from {examples} labelled examples (--train)" if examples else "model: zero-shot"


def not_thai_warning(rows: int, total: int) -> tuple[str, str]:
    """The warning in English, then in Thai (the evaluation team reads Thai)."""
    return (f"{rows} of {total} rows have (almost) no Thai characters; the catalog is Thai, so their suggestions may be weak",
            f"{rows} จาก {total} แถวแทบไม่มีอักษรไทย แคตตาล็อกเป็นภาษาไทย ข้อเสนอของแถวเหล่านี้จึงอาจไม่แม่นยำ")


def describe_learned(learned: Learned | None, seconds: float) -> str:
    if learned is None:
        return "model: zero-shot (the catalog has no decisions)"
    return f"model: v{learned.version}, learned from {learned.examples} decisions ({seconds:.1f} s)"


def decision_rows(decisions: Sequence[LabelDecision], overridden: Set[int] = frozenset()) -> list[dict[str, Any]]:
    """Decisions as file rows (times in UTC, ISO 8601); ``overridden``: the ids of active labels another level's newer decision overrides."""
    return [{**{k: v for k, v in d.as_dict().items() if k in DECISION_EXPORT_COLUMNS},
             "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(d.created)),
             "suggested_confidence": "" if d.suggested_confidence is None else d.suggested_confidence,
             "accepted": "" if d.accepted is None else ("yes" if d.accepted else "no"), "withdraws": d.withdraws or "", "withdrawn_by": d.withdrawn_by or "",
             "overridden": "yes" if d.id in overridden else ""} for d in decisions]


def print_decision_stats(out: Console, stats: dict[str, Any]) -> None:
    rate = stats["acceptance_rate"]
    active_rate = stats.get("active_acceptance_rate")
    withdrawn = f" ({stats['withdrawn']} withdrawn)" if stats.get("withdrawn") else ""
    out.print(f"{stats['decisions']} decisions, {stats['active']} active labels{withdrawn}; suggestion accepted "
              f"{stats['accepted']} of {stats['with_suggestion']} times" + (f" ({rate:.1%})" if rate is not None else "")
              + (f"; among the active labels {stats['active_accepted']} of {stats['active_with_suggestion']} ({active_rate:.1%}): "
                 "a suggestion accepted, then corrected, counts as corrected there" if active_rate is not None else ""))
    if stats.get("overridden"):
        out.print(f"[yellow]{stats['overridden']} active labels are overridden by a newer decision on the same text at another level, off "
                  f"their path: they no longer count (การตัดสินใจที่ถูกแทนด้วยการตัดสินใจใหม่กว่าในอีกระดับ ไม่นับ)[/]")
    if stats.get("not_counting"):
        out.print(f"[yellow]{stats['not_counting']} active labels name a node the catalog no longer has: they no longer count "
                  f"(การตัดสินใจที่อ้างถึงหัวข้อที่ไม่มีในแคตตาล็อกแล้ว ไม่นับ)[/]")
    out.print("by source: " + (", ".join(f"{k} {v}" for k, v in stats["by_source"].items()) or "-"))
    out.print("by level: " + (", ".join(f"{k} {v}" for k, v in stats["by_level"].items()) or "-"))
    table = RichTable("ช่วง\nperiod", "การตัดสินใจ\ndecisions", "มีข้อเสนอ\nwith a suggestion", "ยอมรับ\naccepted", "อัตรายอมรับ\nacceptance rate")
    for row in stats["over_time"]:
        share = row["acceptance_rate"]
        table.add_row(row["period"], str(row["decisions"]), str(row["with_suggestion"]), str(row["accepted"]), f"{share:.1%}" if share is not None else "–")
    out.print(table)
    if not stats["models"]:
        out.print("models: none learned yet (suggestions are zero-shot)")
        return
    models = RichTable("catalog", "encoder", "version", "examples", "level", "fitted", "needs review below", "re-scored by the model: below",
                       title="models learned from the decisions", title_justify="left")
    for model in stats["models"]:
        models.add_row(escape(model["catalog"]), model["encoder"] + ("" if model.get("in_use", True) else " (not in use)"), str(model["version"]),
                       str(model["examples"]), escape(model.get("level") or "–"),  # a catalog's text, as written (not rich markup)
                       time.strftime("%Y-%m-%d %H:%M", time.localtime(model["fitted"])), _threshold(model["review_below"], "the shipped one"),
                       _threshold(model["fused_review_below"], f"{FUSED_REVIEW_BELOW:.2f}"))
    out.print(models)


def _threshold(value: float | None, default: str) -> str:
    """A review threshold as people read it: 1.0 flags every row; None keeps the default."""
    if value is None:
        return default
    return "1.00 (every row)" if value >= 1.0 else f"{value:.2f}"


def describe_decision(decision: Decision) -> str:
    """A duplicate decision in Thai, for a reviewer: the kind and its evidence."""
    parts = [KIND_THAI.get(decision.kind, decision.kind)]
    if decision.kind == "copy" and decision.lexical is not None:
        parts.append(f"คำของข้อความที่สั้นกว่าตรงกัน {decision.lexical:.0%}")
    elif decision.semantic is not None:
        parts.append(f"ความหมายใกล้เคียง {decision.semantic:.2f}")
    if decision.matched_fields:
        parts.append("ตรงกัน: " + ", ".join(matched_thai(decision)[:8]))
    if decision.conflicting_fields:  # a duplicate keeps only differences that do not make two projects: said so (common.js conflictLabel)
        label = "ต่างกันบางส่วน (ควรตรวจ)" if decision.is_duplicate else "ต่างกัน"
        parts.append(f"{label}: " + ", ".join(conflicts_thai(decision)[:6]))
    return " · ".join(parts)


def alignment_json(outcome: AlignOutcome) -> str:
    body: dict[str, Any] = {"catalog": outcome.catalog, "encoder": outcome.encoder, "model_version": outcome.model_version,
                            "examples": outcome.examples, **asdict(outcome.alignment)}
    if outcome.duplicates:
        body["duplicates"] = [asdict(m) for m in outcome.duplicates]
    body["decided"] = [{k: d.as_dict()[k] for k in ("id", "level", "node_id", "source", "who", "created")} for d in outcome.decided]
    return json.dumps(body, ensure_ascii=False)


def print_alignment(out: Console, err: Console, outcome: AlignOutcome) -> None:
    result = outcome.alignment
    for warning in result.warnings:  # in Thai too, as classify says it (English only here: a docs walkthrough)
        thai = warning_thai(warning)
        err.print(f"[yellow]warning:[/] {escape(warning)}" + (f" ({escape(thai)})" if thai != warning else ""))
    for level, suggestions in result.levels.items():
        table = RichTable(title=f"{level} ({outcome.catalog}, encoder {outcome.encoder})", title_justify="left", show_lines=False)
        for column in ("#", "รหัส\nid", "ชื่อ\nname", "คะแนน\nscore", "ความมั่นใจ\nconfidence"):
            table.add_column(column)
        for rank, s in enumerate(suggestions, start=1):
            bar = "█" * round(s.confidence * 10)
            table.add_row(str(rank), s.node_id, escape(s.name), f"{s.score:.3f}", f"{s.confidence:.2f} {bar}")
        out.print(table)
        if level in result.ends_above:  # a ragged catalog: this level lies under another branch than the draft's best path
            out.print(f"  [bold yellow]ควรให้คนตรวจ:[/] หัวข้อที่ตรงที่สุด {escape(result.ends_above[level])} ไม่มีหัวข้อย่อยระดับนี้ ข้อเสนอมาจากหัวข้ออื่น "
                      f"(the best path ends at {escape(result.ends_above[level])}, which has no {escape(level)} under it)")
        elif result.needs_review.get(level):  # the API and the pages said it; the CLI did not (a walkthrough)
            out.print("  [bold yellow]needs review (ควรให้คนตรวจ):[/] the top suggestion is uncertain or the draft barely matches the catalog")
        for ev in suggestions[0].evidence:
            out.print(f"  evidence: [cyan]{escape(clipped(ev.draft_text, 160))}[/]")
            kind = "labelled example: a decision or a --train row (ตัวอย่างที่ระบุหมวดไว้แล้ว)" if ev.matched_kind == "example" else ev.matched_kind
            out.print(f"     ~ {kind}: {escape(clipped(ev.matched_text, 160))} (sim {ev.similarity:.3f})")
            if ev.shared_words:
                out.print(f"     shared words: {escape(', '.join(ev.shared_words))}")
    err.print(model_words(outcome.model_version, outcome.examples, outcome.alignment.learned))
    for d in outcome.decided:  # the draft decided before (decisions withdraw ID takes one back)
        err.print(f"decided before (ตัดสินไว้แล้ว): {d.level} {d.node_id} by {escape(d.who)} ({d.source}), decision {d.id}")
    if result.neighbours:
        out.print("nearest labelled examples:")
        for n in result.neighbours:
            out.print(f"  {n.similarity:.3f} [{', '.join(n.labels)}] {escape(n.text[:120])}")


def print_report(out: Console, report: Report, level: str, skipped: int, names: dict[str, str]) -> None:
    out.print(f"level {level}: n={report.n} top-1 {report.top1:.3f}  top-3 {report.top3:.3f}  "
              f"macro-F1 {report.macro_f1:.3f}  ECE {report.ece:.3f}  (skipped rows: {skipped})")
    table = RichTable("ป้าย\nclass", "ชื่อ\nname", "precision", "recall", "F1", "จำนวน\nsupport")
    for label, scores in report.per_class.items():
        table.add_row(label, escape(names.get(label, "")), *(f"{scores[k]:.3f}" for k in ("precision", "recall", "f1")), str(scores["support"]))
    out.print(table)


def explanation_thai(hit: Hit) -> str:
    """Why a hit is shown, in Thai ("ตรงคำค้น · ความหมายใกล้เคียง"); a hit under the relevance floor says so."""
    labels = [EXPLANATION_THAI.get(w, w) for w in hit.why]
    if not hit.relevant:
        labels.append("เกี่ยวข้องน้อย")
    elif not labels:  # over the floor by words and meaning together, neither strong alone: it said nothing (a walkthrough)
        labels.append(PARTLY_THAI)
    return " · ".join(labels)


def copies_spread_thai(hit: Hit) -> str:
    """How far a collapsed line goes, as the search page says it: " (50 หน่วยงาน, ปีงบประมาณ 2565-2566)"."""
    parts = [f"{hit.copies_orgs} หน่วยงาน" if hit.copies_orgs > 1 else "", "ปีงบประมาณ " + year_runs(hit.copies_years) if hit.copies_years else ""]
    return f" ({', '.join(p for p in parts if p)})" if any(parts) else ""


def year_runs(years: list[int]) -> str:
    """Sorted years as runs: [2560, 2565, 2566, 2567] is "2560, 2565-2567" ("2560-2567" read as eight years)."""
    runs: list[list[int]] = []
    for year in years:
        if runs and year == runs[-1][-1] + 1:
            runs[-1].append(year)
        else:
            runs.append([year])
    return ", ".join(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]) for run in runs)


def print_hits(out: Console, hits: list[Hit], total: int | None = None, kind: str | None = None, total_rows: int | None = None) -> None:
    """Hits as a person reads them; ``kind`` (project / report / None: both) names what was counted;
    ``total_rows``: the rows behind a total of distinct texts (as the search page says them)."""
    what = {"project": "โครงการ", "report": "เรื่องที่ประชาชนแจ้ง"}.get(kind or "", "รายการ")
    rows = f" ({total_rows:,} รายการ นับข้อความเดียวกันทุกหน่วยงาน)" if total and total_rows and total_rows > total else ""
    if total is not None:
        out.print(f"พบ {total} {what}ที่ตรงกับคำค้น{rows}" if total else f"ไม่พบ{what}ที่ตรงกับคำค้นโดยตรง: ผลที่ใกล้เคียงที่สุด")
    for rank, hit in enumerate(hits, start=1):
        same = f"ข้อความเดียวกันอีก {len(hit.copies)} รายการ{copies_spread_thai(hit)}" if hit.copies else ""
        budget = f"งบประมาณ {hit.budget:,.0f} บาท" if hit.budget else ""  # as the search page shows it
        details = " · ".join(str(x) for x in (hit.id, "เรื่องที่ประชาชนแจ้ง" if hit.report else "", hit.org, hit.year, budget, explanation_thai(hit), same) if x)
        out.print(f"[bold]{rank}. {escape(hit.name)}[/]  [dim]{escape(details)}[/]")
        out.print("   " + render(escape(hit.snippet), hit.highlights, "[reverse]", "[/reverse]"))


def search_json(query: str, mode: str, page: SearchPage) -> str:
    """A search as JSON, with the API's fields (``GET /v1/search``): the hits and why there may be few. Each hit is
    the API's own model of it, so the two cannot drift (the CLI's lacked district, dimension and highlights: a walkthrough)."""
    from planalign.service.api.schemas import HitOut

    rows = [HitOut.model_validate(h).model_dump(mode="json") for h in page.hits]
    return json.dumps({"query": query, "mode": mode, "total": page.total, "total_rows": page.total_rows, "facets": page.facets,
                       "hint": page.hint, "did_you_mean": page.did_you_mean, "results": rows}, ensure_ascii=False)


def _id_columns(found: DuplicateSet, columns: list[str]) -> list[str]:
    """``id*`` columns are called ``row*`` when the ids are row numbers (:data:`ROW_NOTE`)."""
    return [c.replace("id", "row", 1) if found.by_row and c.startswith("id") else c for c in columns]


def pair_rows(found: DuplicateSet, groups: bool, years: bool) -> tuple[list[str], list[dict[str, Any]]]:
    """One row per duplicate pair, with the decision's numbers and its Thai wording."""
    columns = list(PAIR_COLUMNS) + (["group_a", "group_b"] if groups else []) + (["year_a", "year_b"] if years else []) + DECISION_COLUMNS
    rows = []
    for pair in found.result.pairs:
        a, b, d = found.records[pair.a], found.records[pair.b], pair.decision
        row: dict[str, Any] = {"id_a": found.ids[pair.a], "id_b": found.ids[pair.b], "score": d.score, "kind": d.kind, "cluster": pair.cluster,
                               "kind_thai": KIND_THAI.get(d.kind, d.kind),
                               "text_a": a.text, "text_b": b.text, "semantic": d.semantic if d.semantic is not None else "",
                               "lexical": d.lexical if d.lexical is not None else "", "matched_fields": " | ".join(matched_thai(d)),
                               "conflicting_fields": " | ".join(conflicts_thai(d)), "why": describe_decision(d)}
        if groups:
            row.update(group_a=a.group, group_b=b.group)
        if years and found.years is not None:
            row.update(year_a=found.years[pair.a], year_b=found.years[pair.b])
        rows.append(dict(zip(_id_columns(found, list(row)), row.values())))
    return _id_columns(found, columns), rows


def member_rows(found: DuplicateSet, groups: bool, years: bool) -> tuple[list[str], list[dict[str, Any]]]:
    """One row per member of a cluster (51 identical items: 51 rows, not their 1,275 pairs)."""
    columns = MEMBER_COLUMNS + (["group"] if groups else []) + (["year"] if years and found.years is not None else [])
    rows = []
    for name, members in found.result.clusters.items():
        said = found.cluster_name(name)  # once a cluster: it counts its members' texts
        for m in members:
            row: dict[str, Any] = {"cluster": name, "cluster_size": len(members), "cluster_name": said,
                                   "id": found.ids[m], "text": found.records[m].text}
            if groups:
                row["group"] = found.records[m].group
            if years and found.years is not None:
                row["year"] = found.years[m]
            rows.append(dict(zip(_id_columns(found, list(row)), row.values())))
    return _id_columns(found, columns), rows


# ---------------------------------------------------------------------------------- coverage
COVERAGE_TABLES = ("nodes", "districts", "needs")
UNALIGNED_COLUMN_THAI = "ไม่ได้จัดเข้าหัวข้อ (รอประมวลผล ไม่มีหัวข้อระดับนี้ หรือจัดเข้าหัวข้อไม่ได้)"  # a districts table's column: both kinds
NO_DISTRICT_THAI = "หน่วยงานส่วนกลาง และเรื่องแจ้งที่ไม่ระบุเขต"  # reports without a district are counted here too (a walkthrough)


# The coverage tables' columns as the dashboard's readers know them (its own words: dashboard.js's
# SOURCE_THAI); the API keeps the English names unless asked (the page asks): a file read by a
# program keeps stable names, one opened by the strategy committee reads in Thai.
COVERAGE_HEADERS_THAI = {
    "level": "ระดับ", "id": "รหัส", "name": "ชื่อ", "projects": "จำนวนโครงการ", "budget": "งบประมาณ (บาท)",
    "project_share": "สัดส่วนโครงการ", "budget_share": "สัดส่วนงบประมาณ", "declared": "ระบุในแบบฟอร์ม", "decision": "ผู้ตรวจยืนยัน",
    "mapped": "ตามหมวดเรื่องแจ้ง", "predicted": "ระบบจับคู่", "above": ABOVE_THAI,
    "none": "จัดเข้าหัวข้อไม่ได้", "pending": "รอจัดเข้าหัวข้อ", "reports": "เรื่องแจ้งของประชาชน", "report_share": "สัดส่วนเรื่องแจ้ง",
    "uncertain": "ระบบจับคู่ความมั่นใจต่ำ (ควรตรวจ)", "uncertain_budget": "งบประมาณที่ระบบจับคู่ความมั่นใจต่ำ (บาท)",
    "districts_without_count": "จำนวนเขตที่ไม่มีโครงการ", "districts_without": "เขตที่ไม่มีโครงการ",
    "previous_projects": "จำนวนโครงการปีก่อน", "previous_budget": "งบประมาณปีก่อน (บาท)",
    "change_projects": "จำนวนโครงการเปลี่ยนจากปีก่อน", "change_budget": "งบประมาณเปลี่ยนจากปีก่อน (บาท)",
    "district": "เขต", "group": "กลุ่มเขต", "node_id": "รหัส", "gap": "ส่วนต่าง (สัดส่วนเรื่องแจ้ง - สัดส่วนโครงการ)",
    **{f"example_{n}": f"ตัวอย่างเรื่องแจ้ง {n}" for n in range(1, 4)},
}


def thai_headers(columns: list[str], rows: list[dict[str, Any]]) -> tuple[list[str], list[dict[str, Any]]]:
    """A coverage table with its columns named in Thai (:data:`COVERAGE_HEADERS_THAI`); a district
    table's per-node columns ("D1 projects") keep their node id ("D1 จำนวนโครงการ")."""
    def thai(column: str) -> str:
        node, _, measure = column.rpartition(" ")
        node = UNALIGNED_COLUMN_THAI if node == UNALIGNED_COLUMN else node
        return f"{node} {COVERAGE_HEADERS_THAI[measure]}" if node else COVERAGE_HEADERS_THAI[column]

    named = [thai(c) for c in columns]
    # the level's values too: "goal" in a ระดับ column (a catalog author's walkthrough); a catalog's own level names stay
    return named, [{t: LEVEL_THAI.get(row[c], row[c]) if c == "level" else row[c] for c, t in zip(columns, named)} for row in rows]


def coverage_json(coverage: Coverage) -> str:
    """The issue's shape: {"year", "level", "total_projects", "total_budget", "nodes": [{"id", "name", "projects", "budget", ...}], ...}."""
    return json.dumps(asdict(coverage), ensure_ascii=False)


def coverage_rows(coverage: Coverage) -> tuple[list[str], list[dict[str, Any]]]:
    """One row per node (the not-aligned last): counts, budget, shares, sources, reports, year-over-year."""
    columns = ["level", "id", "name", "projects", "budget", "project_share", "budget_share", *SOURCES, "uncertain", "uncertain_budget", "reports", "report_share",
               "districts_without_count", "districts_without", "previous_projects", "previous_budget", "change_projects", "change_budget"]
    rows = []
    for node in coverage.nodes:
        row: dict[str, Any] = {"level": coverage.level, "id": node.id or "", "name": node.name, "projects": node.projects,
                               "budget": node.budget, "project_share": node.project_share, "budget_share": node.budget_share,
                               "uncertain": node.uncertain, "uncertain_budget": node.uncertain_budget,
                               "reports": node.reports, "report_share": node.report_share, "districts_without_count": len(node.districts_without),
                               "districts_without": "|".join(node.districts_without)}
        row.update({s: node.sources.get(s, 0) for s in SOURCES})  # every source: the row's sources add up to its projects
        row.update({k: "" if getattr(node, k) is None else getattr(node, k) for k in columns[-4:]})
        rows.append(row)
    return columns, rows


UNALIGNED_COLUMN = "unaligned"  # the district table's columns of what no node took (district_rows)


def district_rows(coverage: Coverage) -> tuple[list[str], list[dict[str, Any]]]:
    """The heatmap as a table: one row per district, projects / budget / reports per node, and those no
    node took ("unaligned ..."): without them a row's nodes did not add up to its totals (the central
    agencies' 399 lines against 331 in their nodes, a walkthrough)."""
    ids = [n.id for n in coverage.nodes if n.id] + [UNALIGNED_COLUMN]
    columns = ["district", "group", "projects", "budget", "reports"] + [f"{i} {k}" for i in ids for k in ("projects", "budget", "reports")]
    rows = []
    for d in coverage.districts:
        row: dict[str, Any] = {"district": d.district or NO_DISTRICT_THAI, "group": d.group, "projects": d.projects, "budget": d.budget, "reports": d.reports}
        for cell in d.cells:
            node = cell.node_id or UNALIGNED_COLUMN
            row.update({f"{node} projects": cell.projects, f"{node} budget": cell.budget, f"{node} reports": cell.reports})
        rows.append({c: row.get(c, 0) for c in columns})
    return columns, rows


def need_rows(needs: Needs) -> tuple[list[str], list[dict[str, Any]]]:
    columns = ["district", "group", "node_id", "name", "reports", "report_share", "projects", "project_share", "budget", "budget_share", "gap",
               *(f"example_{n}" for n in range(1, 4))]
    rows = []
    for need in needs.needs:
        row = {c: getattr(need, c) for c in columns[:11]}
        row.update({f"example_{n}": f"{e.id}: {e.text}" for n, e in enumerate(need.examples, start=1)})
        rows.append(row)
    return columns, rows


def print_coverage(out: Console, coverage: Coverage) -> None:
    if coverage.hint:
        out.print(f"[yellow]{escape(coverage.hint)}[/]")
    title = (f"{coverage.catalog} · {coverage.level} · ปีงบประมาณ {coverage.year or 'ทุกปี'} · {coverage.total_projects:,} โครงการ · "
             f"{coverage.total_budget:,.0f} บาท")  # the catalog named: the 20-year plan's table read as the 9-dimension one's (a walkthrough)
    # Short headers (two lines where they can) so the table fits 80 columns with its numbers whole.
    # Thai first, the API's field names under them (the evaluation team reads Thai; scripts read the API).
    columns = ["รหัส", "ชื่อ", "โครงการ", "งบประมาณ\n(บาท)", "สัดส่วน\nงบ", "แผน/คน/\nระบบ", "เรื่อง\nTraffy", "เขตที่\nไม่มี"]
    previous = coverage.previous_year is not None
    if previous:
        columns.append(f"เทียบ {coverage.previous_year}")
    rows = []
    for node in coverage.nodes:
        split = f"{node.sources.get('declared', 0)}/{node.sources.get('decision', 0)}/{node.sources.get('predicted', 0)}"  # a person's decision too
        row = [node.id or "-", escape(node.name), f"{node.projects:,}", f"{node.budget:,.0f}", f"{node.budget_share:.1%}", split,
               f"{node.reports:,}", str(len(node.districts_without))]
        if previous:
            row.append(f"{node.change_projects:+,} / {node.change_budget:+,.0f}")
        rows.append(row)
    table = RichTable(title=title, title_justify="left")
    for position, column in enumerate(columns):
        if position == 1:  # the names
            table.add_column(column, overflow="fold", min_width=8)
            continue
        # Every column but the names keeps its widest value whole ("247,400…" on an 80-column terminal): the names wrap instead.
        widest = max([cell_len(word) for word in column.split()] + [cell_len(row[position]) for row in rows])
        table.add_column(column, justify="left" if position in (0, 5) else "right", min_width=widest)
    for row in rows:
        table.add_row(*row)
    out.print(table, crop=False)  # a narrow terminal wraps a line rather than lose the digits at its end
    out.print("แผน/คน/ระบบ: จำนวนโครงการที่แบบฟอร์มระบุหัวข้อไว้ / ที่คนตัดสิน / ที่ระบบเสนอ; เขตที่ไม่มี: จำนวนเขตที่ไม่มีโครงการในหัวข้อนี้"
              + (f"; เทียบ {coverage.previous_year}: โครงการ / งบประมาณ (บาท) ที่เปลี่ยนไป" if previous else ""))
    if coverage.uncertain_projects:  # how sure the totals are (a committee walkthrough)
        out.print(f"ระบบจับคู่ด้วยความมั่นใจต่ำกว่าเกณฑ์ตรวจ ({coverage.review_below:.2f}) {coverage.uncertain_projects:,} จาก "
                  f"{coverage.total_projects:,} โครงการ งบประมาณ {coverage.uncertain_budget:,.0f} บาท ควรให้คนตรวจ "
                  "(planalign coverage ... --out: คอลัมน์ uncertain)")
    if coverage.projects_without_budget:
        out.print(f"{coverage.projects_without_budget:,} of {coverage.total_projects:,} projects have no budget: counted as 0 baht "
                  f"(ไม่ระบุงบประมาณ {coverage.projects_without_budget:,} โครงการ นับเป็น 0 บาท)")
    if coverage.pending:
        out.print(f"[yellow]{coverage.pending:,} stored items are still being aligned[/]")
