"""Store tests on SQLite, and on a throwaway PostgreSQL server when its binaries are installed."""
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

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
    with pytest.raises(IntegrityError):
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


# The schema as `create_all` made it before migrations existed (planalign 0.1, sessions 1-2).
OLD_SCHEMA = [
    """CREATE TABLE projects (id VARCHAR(200) NOT NULL PRIMARY KEY, fiscal_year INTEGER, org VARCHAR(300) NOT NULL,
       district VARCHAR(100) NOT NULL, district_group VARCHAR(100) NOT NULL, name TEXT NOT NULL, objective TEXT NOT NULL,
       target TEXT NOT NULL, budget FLOAT, duration TEXT NOT NULL, text TEXT NOT NULL, plan_alignment TEXT NOT NULL,
       dimension_id VARCHAR(100) NOT NULL, issue_id VARCHAR(100) NOT NULL, goal_id VARCHAR(100) NOT NULL, okr_id VARCHAR(100) NOT NULL,
       source TEXT NOT NULL, content_hash VARCHAR(40) NOT NULL)""",
    """CREATE TABLE classify_jobs (id VARCHAR(40) NOT NULL PRIMARY KEY, status VARCHAR(10) NOT NULL, created FLOAT NOT NULL,
       updated FLOAT NOT NULL, params TEXT NOT NULL, total INTEGER NOT NULL, done INTEGER NOT NULL, error TEXT NOT NULL, metrics TEXT NOT NULL)""",
    """INSERT INTO projects VALUES ('OLD1', 2566, 'สำนักงานเขตบางเขน', 'บางเขน', '', 'โครงการเดิมก่อนมีการย้ายโครงสร้าง', '', '', 5000, '', '',
       '', 'D1', '', '', '', 'old', 'x')""",
]


def _upgrades_in_place(url: str) -> None:
    from sqlalchemy import create_engine, inspect, text

    engine = create_engine(url)
    with engine.begin() as connection:
        for statement in OLD_SCHEMA:
            connection.execute(text(statement))
    store = ProjectStore(url)
    assert [p.id for p in store.list(0, 10)] == ["OLD1"] and store.get(["OLD1"])["OLD1"].budget == 5000
    with store.engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() is not None
    assert {"projects", "classify_jobs", "alembic_version"} <= set(inspect(store.engine).get_table_names())
    assert store.delete(["OLD1"]) == ["OLD1"]
    _exercise(store)
    assert ProjectStore(url).count() == 1  # opening again applies nothing twice


def test_sqlite_store_made_before_migrations_upgrades_in_place(tmp_path):
    _upgrades_in_place(f"sqlite:///{tmp_path / 'old.db'}")


def test_postgres_store_made_before_migrations_upgrades_in_place(postgres_url):
    _upgrades_in_place(postgres_url)


def test_paging_is_in_id_order(tmp_path):
    store = ProjectStore(f"sqlite:///{tmp_path / 'p.db'}")
    store.upsert([Project(id=f"P{i:03d}", name=f"โครงการที่ {i}") for i in range(30)])
    assert [p.id for p in store.list(10, 5)] == [f"P{i:03d}" for i in range(10, 15)]
    assert store.list(29, 5)[0].id == "P029" and store.list(30, 5) == []


def test_a_store_that_cannot_be_opened_says_why_in_both_languages(tmp_path):
    """An operator's walkthrough: "postgres://..." was a NoSuchModuleError, a missing directory an OperationalError and a
    store of a newer version a CommandError, each "internal error" in English only (a bug, not the setting)."""
    from sqlalchemy import text

    from planalign.errors import InputError

    with pytest.raises(InputError) as url:
        ProjectStore("postgres://office:S3CRET@db.example/planalign")
    assert "S3CRET" not in str(url.value) and "postgresql+psycopg://" in str(url.value) and "เปิดฐานข้อมูลตาม URL" in url.value.thai
    for broken in ("postgresql+psycopg//office:S3CRET@db/plan", "postgresql://office:S3CRET@db:54x2/plan",  # no "://", a port no number
                   "postgresql+psycopg//office:S3/CRET@db/plan", "postgresql://office:S3@CRET@db:54x2/plan"):  # "/" and "@" in it (a second review)
        with pytest.raises(InputError) as unparsed:  # its password was printed whole, or it was an internal error (a blind review)
            ProjectStore(broken)
        assert not any(part in str(unparsed.value) + unparsed.value.thai for part in ("S3CRET", "S3/CRET", "S3@", "CRET@")), unparsed.value
        assert "office:***@" in str(unparsed.value)
    with pytest.raises(InputError) as missing:
        ProjectStore(f"sqlite:///{tmp_path / 'no-such-dir' / 'x.db'}")
    assert "cannot open the store" in str(missing.value) and "ผู้ใช้นี้เขียนได้" in missing.value.thai
    (tmp_path / "text.db").write_text("not a database: a restore gone wrong\n" * 100, encoding="utf-8")
    with pytest.raises(InputError) as not_one:  # "internal error" before (an operator's year)
        ProjectStore(f"sqlite:///{tmp_path / 'text.db'}")
    assert "file is not a database" in str(not_one.value)
    store = ProjectStore(f"sqlite:///{tmp_path / 'x.db'}")
    with store.engine.begin() as connection:  # as a newer planalign leaves it
        connection.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))
    store.close()
    with pytest.raises(InputError) as newer:
        ProjectStore(f"sqlite:///{tmp_path / 'x.db'}")
    assert "written by a newer planalign" in str(newer.value) and "รุ่นที่ใหม่กว่า" in newer.value.thai
