"""Concurrent writers on one store: no IntegrityError, no "database is locked", no SQL text (issue 15)."""
import subprocess
import sys
import threading

from planalign.corpora.projects import Project
from planalign.index.store import ProjectStore

SCRIPT = """
import sys
from planalign.corpora.projects import Project
from planalign.index.store import ProjectStore
store = ProjectStore(sys.argv[1])
batch = [Project(id=f"C{i}", name=f"โครงการซ่อมถนนสายที่ {i}", budget=float(i)) for i in range(300)]
for _ in range(3):
    store.upsert(batch)
print("ok")
"""


def _batch(n: int = 300) -> list[Project]:
    return [Project(id=f"C{i}", name=f"โครงการซ่อมถนนสายที่ {i}", budget=float(i)) for i in range(n)]


def test_threads_upserting_the_same_new_ids_all_succeed(tmp_path):
    store = ProjectStore(f"sqlite:///{tmp_path / 'p.db'}")
    start = threading.Barrier(8)
    results, errors = [], []

    def ingest() -> None:
        start.wait()
        try:
            results.append(store.upsert(_batch()))
        except Exception as exc:  # the test reports whatever escapes
            errors.append(repr(exc))

    threads = [threading.Thread(target=ingest) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(len(r.inserted) for r in results) == 300  # each id inserted exactly once, by whoever won
    assert sum(r.unchanged for r in results) == 300 * 7
    assert store.count() == 300


def test_processes_upserting_the_same_ids_all_succeed(tmp_path):
    url = f"sqlite:///{tmp_path / 'p.db'}"
    ProjectStore(url).close()  # migrated once, as a service would have done
    processes = [subprocess.Popen([sys.executable, "-c", SCRIPT, url], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(3)]
    outputs = [p.communicate(timeout=300) for p in processes]
    for process, (out, err) in zip(processes, outputs):
        assert process.returncode == 0 and out.strip() == "ok", err[-2000:]
    assert ProjectStore(url).count() == 300


def test_concurrent_deletes_and_upserts_do_not_fail(tmp_path):
    store = ProjectStore(f"sqlite:///{tmp_path / 'p.db'}")
    store.upsert(_batch())
    errors = []

    def churn(n: int) -> None:
        try:
            for _ in range(5):
                store.delete([f"C{i}" for i in range(n, 300, 4)])
                store.upsert(_batch())
        except Exception as exc:
            errors.append(repr(exc))

    threads = [threading.Thread(target=churn, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and store.count() == 300
