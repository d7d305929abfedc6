"""Property-based API fuzzing from the OpenAPI schema: no input may produce a server error (500)."""
import contextlib
import importlib
import pkgutil
import tempfile
import time

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings

schemathesis = pytest.importorskip("schemathesis")
# Imported here, at a shallow stack: hypothesis imports it lazily deep inside strategy generation,
# where CPython 3.11.7's ast.parse can fail with "SystemError: AST constructor recursion depth
# mismatch" (seen once in `make test`: a flaky failure of the generator, not of the service).
import hypothesis.strategies._internal.regex  # noqa: E402, F401

# The same failure in schemathesis' own lazy imports at collection (pytest rewrites a plugin's modules as it
# imports them, with ast.parse deep in the stack): once in specs.openapi.schemas, once in
# generation.dictionaries (two make test runs). Every submodule is imported here instead (383, ~2 s).
for _module in pkgutil.walk_packages(schemathesis.__path__, "schemathesis."):
    with contextlib.suppress(ImportError):  # optional extras (allure reporting)
        importlib.import_module(_module.name)

from planalign.config import Settings  # noqa: E402
from planalign.service.app import create_app  # noqa: E402

_DATA = tempfile.mkdtemp(prefix="planalign-fuzz-")
app = create_app(Settings(data_dir=_DATA, encoder="tfidf", api_keys=[]))
_client = TestClient(app)
_client.__enter__()  # run the lifespan once: state, job worker, warm-up
for _ in range(100):
    if _client.get("/readyz").status_code == 200:
        break
    time.sleep(0.1)
_client.post("/v1/projects", json={"projects": [
    {"id": "F1", "name": "โครงการขุดลอกคลองบางบัว", "org": "สำนักงานเขตบางเขน", "fiscal_year": "2567"},
    {"id": "F2", "name": "โครงการขุดลอกคลองบางบัว", "org": "สำนักงานเขตหลักสี่", "fiscal_year": "2567"},
]})

schema = schemathesis.openapi.from_asgi("/openapi.json", app)


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case):
    # the warm-up (started at import, which waits 10 s at most) may still run when a loaded machine gets
    # here: a request needing the model then gets the documented 503 "starting" (seen once in `make test`)
    assert app.state.planalign.warmed.wait(120), "the service's warm-up did not end"
    response = case.call()
    if response.status_code == 503 and (case.path == "/readyz" or response.json().get("error", "").startswith("starting:")):
        return  # documented: each call starts a fresh app, which is not ready, nor has its model, until its warm-up ends (a loaded make test)
    assert response.status_code < 500, f"{case.method} {case.path} -> {response.status_code}: {response.text[:300]}"


def teardown_module() -> None:
    """The app's lifespan ends (job worker, indexer, store) with this module, not at interpreter exit (a review)."""
    _client.__exit__(None, None, None)
