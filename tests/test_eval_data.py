"""The evaluation's own label files agree with the shared data they label (skipped without ../shared/data)."""
import csv
from pathlib import Path

import pytest

from planalign.corpora.catalog import load_catalog
from planalign.eval.datasets import OTHER_CATALOG_LABELS, eval_data_path, other_catalog_labels, other_catalog_path, project_names

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="module")
def shared() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    return SHARED_DATA


def test_project_name_labels_name_real_corpus_texts_and_official_issues(shared):
    with eval_data_path("project_names_labels.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    with (shared / "labelled" / "dedup_pairs_dev.csv").open(encoding="utf-8") as handle:
        pairs = list(csv.DictReader(handle))
    with (shared / "labelled" / "search_corpus_dev.csv").open(encoding="utf-8") as handle:
        doc_of = {r["text"]: r["doc_id"] for r in csv.DictReader(handle)}
    kind = {doc_of[p["candidate_text"]]: p["kind"] for p in pairs} | {doc_of[p["source_text"]]: "source" for p in pairs}
    official = load_catalog(shared / "catalogs" / "bma_strategy_9d_28issues.csv")
    assert len(rows) == len({r["doc_id"] for r in rows}) == 180
    # copies and paraphrases would repeat their source's label
    assert {kind[r["doc_id"]] for r in rows} == {"source", "related", "unrelated"}
    for r in rows:
        issues = r["issue_ok"].split("|")
        assert all(official.nodes[i].level == "issue" for i in issues)
        assert set(r["dimension_ok"].split("|")) == {official.nodes[i].parent_id for i in issues}
        assert (r["issue"] != "") == (r["agreed"] == "1") == (len(issues) == 1)
    data = project_names("dimension")
    assert len(data.texts) == 180 and data.texts[0] in doc_of


@pytest.mark.parametrize("catalog, levels", [("plan20", ("dimension", "issue")), ("national", ("dimension",))])
def test_other_catalog_labels_name_the_routine_items_and_project_names_and_that_catalogs_nodes(shared, catalog, levels):
    """Every labelled routine item and project name once, every label a node of its catalog at its level,
    a dimension the parent of the issue the same annotator gave (either annotator's primary label each)."""
    nodes = load_catalog(other_catalog_path(catalog)).nodes
    with eval_data_path(OTHER_CATALOG_LABELS[catalog]).open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    with eval_data_path("project_names_labels.csv").open(encoding="utf-8") as handle:
        names = {r["doc_id"] for r in csv.DictReader(handle)}
    with (shared / "labelled" / "bma_routine_items_2566.csv").open(encoding="utf-8") as handle:
        items = {r["id"] for r in csv.DictReader(handle)}
    assert {r["id"] for r in rows if r["source"] == "routine"} == items
    assert {r["id"] for r in rows if r["source"] == "projects"} == names and len(rows) == len(items) + len(names)
    for r in rows:
        for level in levels:
            ok = r[f"{level}_ok"].split("|")
            assert 1 <= len(ok) <= 2 and all(nodes[i].level == level for i in ok)
            assert (r[level] != "") == (len(ok) == 1)
        assert (r["agreed"] == "1") == all(r[level] != "" for level in levels)
        if "issue" in levels:  # each annotator's dimension is the parent of the issue they gave
            assert set(r["dimension_ok"].split("|")) == {nodes[i].parent_id for i in r["issue_ok"].split("|")}
    for source, size in (("routine", len(items)), ("projects", len(names))):
        data = other_catalog_labels(catalog, source, levels[-1])
        assert len(data.texts) == size and all(data.texts) and all(data.labels)
