"""Shared fixtures: a small non-BMA catalog, the real shared data (skipped when absent), CLI runner."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

# Six nodes about a garden shop: nothing to do with BMA, to show the catalog is data, not code.
SHOP_CATALOG = """id,parent_id,level,name,description,keywords
PET,,dimension,สัตว์เลี้ยง,สินค้าและบริการสำหรับสัตว์เลี้ยง,สัตว์เลี้ยง|อาหารสัตว์
PET.DOG,PET,issue,สุนัข,อาหาร ของเล่น และการดูแลสุนัข,หมา|สุนัข|ลูกหมา|ปลอกคอ|อาหารสุนัข
PET.CAT,PET,issue,แมว,อาหาร ทรายแมว และการดูแลแมว,แมว|ลูกแมว|ทรายแมว|ที่ลับเล็บ
PLANT,,dimension,พืชและสวน,ต้นไม้ เมล็ดพันธุ์ และอุปกรณ์ทำสวน,ต้นไม้|ปุ๋ย|ดิน
PLANT.FRUIT,PLANT,issue,ไม้ผล,กิ่งพันธุ์และต้นไม้ผล,มะม่วง|ทุเรียน|ผลไม้|กิ่งตอน
PLANT.FLOWER,PLANT,issue,ไม้ดอก,ไม้ดอกไม้ประดับ,กุหลาบ|กล้วยไม้|ดอกไม้|ไม้ประดับ
"""
# A ragged catalog: PET.CAT has no goals, the other issues have some.
SHOP_CATALOG_RAGGED = """id,parent_id,level,name,description,keywords
PET,,dimension,สัตว์เลี้ยง,สินค้าและบริการสำหรับสัตว์เลี้ยง,สัตว์เลี้ยง
PET.DOG,PET,issue,สุนัข,อาหาร ของเล่น และการดูแลสุนัข,หมา|สุนัข|ปลอกคอ
PET.DOG.FOOD,PET.DOG,goal,อาหารสุนัขคุณภาพ,อาหารเม็ดและอาหารเปียกสำหรับสุนัข,อาหารหมา
PET.DOG.TOY,PET.DOG,goal,ของเล่นสุนัข,ลูกบอล เชือก และของเล่นสำหรับหมา,ของเล่นหมา
PET.CAT,PET,issue,แมว,ทรายแมว ที่ลับเล็บ และการดูแลแมว,แมว|ทรายแมว|ที่ลับเล็บ
PLANT,,dimension,พืชและสวน,ต้นไม้และอุปกรณ์ทำสวน,ต้นไม้
PLANT.FRUIT,PLANT,issue,ไม้ผล,กิ่งพันธุ์และต้นไม้ผล,มะม่วง|ทุเรียน
PLANT.FRUIT.MANGO,PLANT.FRUIT,goal,มะม่วง,กิ่งตอนมะม่วงพันธุ์ดี,มะม่วง|กิ่งตอน
"""


@contextmanager
def store_at(url: str, revision: str) -> Iterator:  # -> Iterator[sqlalchemy Connection]
    """A store migrated only up to ``revision``, as an older planalign left it, open to write rows as it wrote them."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine

    from planalign.index.migrations import HERE

    engine = create_engine(url)
    config = Config()
    config.set_main_option("script_location", str(HERE))
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            yield connection
    finally:
        engine.dispose()


@pytest.fixture
def shop_catalog(tmp_path: Path) -> Path:
    path = tmp_path / "shop.csv"
    path.write_text(SHOP_CATALOG, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def session_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One data directory per test session, so the e5 embedding cache is shared between tests."""
    return tmp_path_factory.mktemp("planalign-data")


def run_cli(*args: str, data_dir: Path, stdin: str | None = None, timeout: int = 600, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run the real console entry point in a subprocess (real exit codes and stderr)."""
    env = dict(os.environ, PLANALIGN_DATA=str(data_dir), COLUMNS="200", **(env or {}))
    env.pop("PLANALIGN_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "planalign.service.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        input=stdin,
        timeout=timeout,
    )


def wait_for(check, timeout: float = 30.0, every: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise AssertionError("condition not reached in time")


def wait_ready(client, timeout: float = 60) -> None:
    """Poll ``/readyz`` until the service is ready (models loaded, store and index agree); fail with its last answer."""
    deadline = time.time() + timeout
    while (answer := client.get("/readyz")).status_code != 200:
        assert time.time() < deadline, f"service never became ready: {answer.text}"
        time.sleep(0.05)


def wait_job(client, job_id: str, timeout: float = 120) -> dict:
    """Poll a classification job through the API until it ends (done, failed or cancelled); its last status."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        status = client.get(f"/v1/classify/jobs/{job_id}").json()
        if status["status"] not in ("queued", "running"):
            return status
        time.sleep(0.1)
    raise AssertionError("job did not finish")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def served(data_dir: Path, **settings: object) -> Iterator[str]:
    """The app on 127.0.0.1:<free port>, served by uvicorn in a background thread, as `planalign serve` serves it."""
    import uvicorn

    from planalign.config import Settings
    from planalign.service.app import create_app
    from planalign.service.cli import REQUEST_HEAD_BYTES

    app = create_app(Settings(data_dir=data_dir, **{"encoder": "tfidf", "index_encoder": "tfidf", **settings}))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on",
                                           h11_max_incomplete_event_size=REQUEST_HEAD_BYTES))
    thread = threading.Thread(target=server.run, name=f"uvicorn-{data_dir.name}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
