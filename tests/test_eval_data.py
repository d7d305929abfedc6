"""The evaluation's own label files agree with the shared data they label (skipped without ../shared/data)."""
import csv
from pathlib import Path

import pytest

from planalign.corpora.catalog import load_catalog
from planalign.eval.datasets import eval_data_path, project_names

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
