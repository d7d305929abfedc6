"""Store tests on SQLite, and on a throwaway PostgreSQL server when its binaries are installed."""
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from planalign.corpora.projects import Project
from planalign.index.store import ProjectStore


def _projects():
    return [
        Project(id="A", fiscal_year=2567, org="สำนักงานเขตบางเขน", district="บางเขน", name="ขุดลอกคลองบางบัว", budget=1e6),
        Project(id="B", fiscal_year=2566, org="สำนักงานเขตจตุจักร", district="จตุจักร", name="อบรมอาสาสมัครป้องกันยาเสพติด"),
    ]


def _exercise(store: ProjectStore) -> None:
    first = store.upsert(_projects())
    assert sorted(first.inserted) == ["A", "B"] and first.unchanged == 0
    again = store.upsert(_projects())
    assert again.inserted == [] and again.updated == [] and again.unchanged == 2
    changed = _projects()[0].model_copy(update={"budget": 2e6})
    assert store.upsert([changed]).updated == ["A"]
    assert store.get(["A"])["A"].budget == 2e6
    assert store.delete(["B", "nope"]) == ["B"]
    assert [p.id for p in store.iter_all()] == ["A"]
    assert store.count() == 1


def test_sqlite_store(tmp_path):
    _exercise(ProjectStore(f"sqlite:///{tmp_path / 'p.db'}"))


def test_failed_batch_keeps_stored_data(tmp_path):
    store = ProjectStore(f"sqlite:///{tmp_path / 'p.db'}")
    store.upsert(_projects())
    bad = _projects()[0].model_copy(update={"name": None})  # violates NOT NULL inside the transaction
    with pytest.raises(Exception):
        store.upsert([Project(id="C", name="ใหม่"), bad])
    assert sorted(p.id for p in store.iter_all()) == ["A", "B"]
    assert store.get(["A"])["A"].name == "ขุดลอกคลองบางบัว"


def _pg_bin() -> Path | None:
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent  # /usr/local/bin may hold only a few symlinks
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return candidates[-1].parent if candidates else None


@pytest.fixture
def postgres_url():
    """A throwaway server: initdb in a temp dir, a free port, trust auth on loopback only."""
    bin_dir = _pg_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL server binaries (initdb) are not installed")
    pytest.importorskip("psycopg")
    # initdb refuses to run as root; as root, run the server as the 'postgres' system user.
    run_as: list[str] = []
    if os.geteuid() == 0:
        if subprocess.run(["id", "postgres"], capture_output=True).returncode != 0 or not shutil.which("runuser"):
            pytest.skip("running as root without a 'postgres' user to run the server as")
        run_as = ["runuser", "-u", "postgres", "--"]
    root = Path(tempfile.mkdtemp(prefix="planalign-pg-"))
    root.chmod(0o777)
    data = root / "data"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    subprocess.run([*run_as, str(bin_dir / "initdb"), "-D", str(data), "-U", "planalign", "--auth=trust", "-E", "UTF8", "--locale=C"],
                   check=True, capture_output=True)
    server = subprocess.Popen([*run_as, str(bin_dir / "postgres"), "-D", str(data), "-p", str(port), "-k", str(root), "-h", "127.0.0.1"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 30
        while True:
            ready = subprocess.run([str(bin_dir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)], capture_output=True)
            if ready.returncode == 0:
                break
            if time.time() > deadline or server.poll() is not None:
                pytest.fail("the throwaway PostgreSQL server did not start")
            time.sleep(0.2)
        yield f"postgresql+psycopg://planalign@127.0.0.1:{port}/postgres"
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(root, ignore_errors=True)


def test_postgres_store(postgres_url):
    store = ProjectStore(postgres_url)
    _exercise(store)
    store.close()
