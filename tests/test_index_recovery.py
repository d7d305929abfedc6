"""A damaged newest index generation: fallback to the previous one, and repair by the next write (issue 15)."""
import json
import time

import pytest

from planalign.app import Application
from planalign.config import Settings
from planalign.corpora.projects import Project
from planalign.index import project_index
from planalign.index.hybrid import search
from planalign.index.keyword import MATRIX_FILE, TOKENS_FILE
from planalign.index.project_index import IndexDamaged, index_root, load_index, load_latest, read_pointer

PROJECTS = [
    Project(id="P1", name="โครงการขุดลอกคลองบางบัวเพื่อระบายน้ำ", objective="ลดน้ำท่วมขังในชุมชนริมคลอง", fiscal_year=2566),
    Project(id="P2", name="โครงการอบรมอาสาสมัครป้องกันยาเสพติด", objective="สร้างเครือข่ายเฝ้าระวังยาเสพติด", fiscal_year=2567),
    Project(id="P3", name="โครงการปรับปรุงทางเท้าถนนสีลม", objective="ให้คนเดินเท้าสะดวก ปลอดภัย", fiscal_year=2567),
]
LATER = Project(id="P4", name="โครงการลอกท่อระบายน้ำซอยสรงประภา", objective="ป้องกันน้ำท่วมถนน", fiscal_year=2567)


def _two_generations(tmp_path) -> tuple[Application, str, str]:
    """Generation A (P1-P3, then a delta adding P4), then generation B written by a rebuild."""
    app = Application(Settings(data_dir=tmp_path, index_encoder="tfidf"))
    app.ingest(PROJECTS)
    app.ingest([LATER])
    first = app.index().generation
    assert app.index().deltas == 1
    app.reindex()
    second = app.index().generation
    assert second != first
    return app, first, second


def _fresh(tmp_path) -> Application:
    return Application(Settings(data_dir=tmp_path, index_encoder="tfidf"))


def _ids(app: Application) -> set[str]:
    """What the loaded index holds, after checking that it answers a search."""
    index = app.index()
    assert [h.id for h in search(index, app.store, None, "ยาเสพติด", mode="keyword", top=1)] == ["P2"]
    return set(index.position)


@pytest.mark.parametrize("damage", ["truncate vectors", "delete ids", "delete generation", "garbage manifest"])
def test_damaged_newest_generation_falls_back_to_the_previous_and_the_next_write_repairs(tmp_path, damage):
    _, first, second = _two_generations(tmp_path)
    newest = index_root(tmp_path) / second
    if damage == "truncate vectors":
        data = (newest / "vectors.npy").read_bytes()
        (newest / "vectors.npy").write_bytes(data[: len(data) // 2])
    elif damage == "delete ids":
        (newest / "ids.json").unlink()
    elif damage == "delete generation":
        for path in newest.iterdir():
            path.unlink()
        newest.rmdir()
    else:
        (newest / "manifest.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(IndexDamaged):
        load_index(tmp_path)  # the strict loader says what is wrong ...
    app = _fresh(tmp_path)
    index = app.index()  # ... the application serves the previous generation
    assert index is not None and index.generation == first and index.deltas == 1 and len(index) == 4
    assert app.index_problems and "previous generation" in app.index_problems[-1]
    assert not any(str(tmp_path) in p for p in app.index_problems)  # no server paths in what /healthz shows
    assert _ids(app) == {"P1", "P2", "P3", "P4"}
    # The next write repairs: a fresh generation with every stored project, loading exactly.
    result = app.ingest([Project(id="P5", name="โครงการปลูกต้นไม้ริมคลอง")])
    assert result.index.compacted
    repaired = _fresh(tmp_path)
    assert repaired.index() is not None and repaired.index_problems == []
    assert _ids(repaired) == {"P1", "P2", "P3", "P4", "P5"}
    assert read_pointer(index_root(tmp_path))[0] not in (first, second)


def test_damaged_delta_keeps_the_deltas_before_it(tmp_path):
    app = _fresh(tmp_path)
    app.ingest(PROJECTS)
    app.ingest([LATER])
    app.ingest([Project(id="P5", name="โครงการปลูกต้นไม้ริมคลอง")])
    generation = index_root(tmp_path) / app.index().generation
    (generation / "delta-000002.npz").write_bytes(b"truncated")
    loaded = load_latest(tmp_path)
    assert loaded.index.deltas == 1 and not loaded.exact and "delta-000002.npz" in loaded.problems[0]
    reopened = _fresh(tmp_path)
    assert "P5" not in reopened.index().position and "P4" in reopened.index().position
    reopened.sync()  # a write (or the service's reconciliation) rebuilds with every stored project
    assert {"P4", "P5"} <= set(_fresh(tmp_path).index().position)


def test_damaged_current_pointer_falls_back(tmp_path):
    _, first, _ = _two_generations(tmp_path)
    (index_root(tmp_path) / "CURRENT").write_bytes(b"\x00\x01garbage")
    loaded = load_latest(tmp_path)
    assert loaded.index.generation == first and not loaded.exact


def test_nothing_loadable_rebuilds_from_the_store(tmp_path):
    _, first, second = _two_generations(tmp_path)
    for name in (first, second):
        (index_root(tmp_path) / name / "ids.json").unlink()
    app = _fresh(tmp_path)
    assert app.index() is None and "rebuilt from the store" in app.index_problems[-1]
    app.sync()
    assert _ids(_fresh(tmp_path)) == {"P1", "P2", "P3", "P4"}


def test_replaced_generations_stay_for_a_grace_period(tmp_path, monkeypatch):
    """A reader in another process may still be loading a generation that was just replaced."""
    app, first, second = _two_generations(tmp_path)
    app.reindex()
    third = app.index().generation
    names = {p.name for p in index_root(tmp_path).iterdir() if p.name.startswith("gen-")}
    assert {first, second, third} <= names  # first replaced seconds ago: kept
    monkeypatch.setattr(project_index, "GENERATION_GRACE_S", 0.0)
    time.sleep(0.01)
    app.reindex()
    names = {p.name for p in index_root(tmp_path).iterdir() if p.name.startswith("gen-")}
    assert names == {third, app.index().generation}  # the current and its fallback only
    assert json.loads((index_root(tmp_path) / app.index().generation / "manifest.json").read_text())["count"] == 4


def test_a_reader_whose_generation_moves_on_while_loading_retries_on_the_new_one(tmp_path, monkeypatch):
    app, _, second = _two_generations(tmp_path)
    real = project_index._load_state
    calls = []

    def moving(root, pointer, have):
        calls.append(pointer)
        if len(calls) == 1:  # the first attempt finds its files gone: a writer switched meanwhile
            app.reindex()
            return None, "index gone: missing file ids.json"
        return real(root, pointer, have)

    monkeypatch.setattr(project_index, "_load_state", moving)
    loaded = load_latest(tmp_path)
    assert loaded.exact and loaded.problems == [] and loaded.index.generation not in (second,)
    assert len(calls) == 2


def test_a_one_shot_ingest_embeds_before_its_store_commit_so_a_restart_needs_no_model(tmp_path, monkeypatch):
    """kill -9 right after the CLI's store commit: the restart indexes from the encoder's disk cache
    (make reliability K2: 152.8 s of e5 on every new word before, 16.6 s now)."""
    from planalign.nlp.encoders.e5 import E5Encoder

    app = Application(Settings(data_dir=tmp_path, index_encoder="static"))

    def killed(*args, **kwargs):
        raise SystemExit("killed right after the store commit")

    monkeypatch.setattr(app, "sync", killed)
    with pytest.raises(SystemExit):
        app.ingest(PROJECTS, reconcile=True)
    assert app.store.count() == len(PROJECTS) and app.index() is None  # committed, nothing indexed

    def no_model(self, texts, kind):
        raise AssertionError(f"the restart embedded {texts[:3]} ({kind}) again")

    monkeypatch.setattr(E5Encoder, "_embed", no_model)
    restarted = Application(Settings(data_dir=tmp_path, index_encoder="static"))
    assert restarted.sync().added == len(PROJECTS)
    assert set(restarted.index().position) == {p.id for p in PROJECTS}
    assert [h.id for h in search(restarted.index(), restarted.store, None, "ยาเสพติด", mode="keyword", top=1)] == ["P2"]


def test_a_keyword_index_cut_by_an_older_tokenizer_is_indexed_again_at_the_next_sync(tmp_path):
    """Stored tokens outlive a tokenizer change; a generation whose manifest names another tokenizer
    version (or none: written before it was recorded) is rebuilt whole, not extended by a delta."""
    app = Application(Settings(data_dir=tmp_path, index_encoder="tfidf"))
    app.ingest(PROJECTS)
    old = app.index().generation
    generation = index_root(tmp_path) / old
    rows = [json.loads(line) for line in (generation / TOKENS_FILE).read_text(encoding="utf-8").splitlines()]
    position = app.index().position["P2"]
    rows[position] = [w for token in rows[position] for w in ([token[:3], token[3:]] if token == "ยาเสพติด" else [token])]  # cut as another tokenizer would
    (generation / TOKENS_FILE).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    (generation / MATRIX_FILE).unlink()  # weights from the tokens, as written before weights were saved
    manifest = json.loads((generation / "manifest.json").read_text(encoding="utf-8"))
    assert manifest.pop("tokens") == project_index.TOKENS_VERSION
    (generation / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")

    stale = _fresh(tmp_path)
    assert stale.index().tokens_version == 1
    assert "P2" not in [h.id for h in search(stale.index(), stale.store, None, "ยาเสพติด", mode="keyword", top=3)]
    assert "planalign reindex" in (stale.search("ยาเสพติด", mode="keyword").hint or "")  # a one-shot search says its words may be missed
    stale.ingest([LATER])  # any write syncs
    assert stale.search("ยาเสพติด", mode="keyword").hint is None
    assert stale.index().generation != old and stale.index().deltas == 0
    assert read_pointer(index_root(tmp_path)) == (stale.index().generation, 0)
    assert (index_root(tmp_path) / "PREVIOUS").read_text().split()[0] == old  # kept as the fallback
    assert _ids(_fresh(tmp_path)) == {"P1", "P2", "P3", "P4"}  # P2 found by its words again
    assert json.loads((index_root(tmp_path) / stale.index().generation / "manifest.json").read_text(encoding="utf-8"))["tokens"] == project_index.TOKENS_VERSION
