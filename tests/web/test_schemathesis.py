"""Property-based calls against the OpenAPI schema (schemathesis): no 500, no response that
breaks the schema, every error JSON. Bounded examples per operation to keep the suite fast.

Runs are refused by a tiny request limit, so no generated call starts a simulation (the run
routes are exercised for real in test_runs_api.py)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from scalesim_patterns.web import create_app

from .conftest import limited, make_settings

_DB = Path(tempfile.mkdtemp(prefix="scalesim-schemathesis-")) / "store.db"
APP = create_app(limited(make_settings(f"sqlite:///{_DB}", workers=1), requests=1))
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture(scope="module", autouse=True)
def _running_app() -> Iterator[None]:
    """The app's lifespan (store, runner) around the generated calls, with one architecture."""
    with TestClient(APP) as client:
        client.post("/api/architectures", json={"name": "seed", "template": "saga"})
        yield
    shutil.rmtree(_DB.parent, ignore_errors=True)


@schema.parametrize()
@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_conforms(case: Any) -> None:
    response = case.call()
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"error"} and {"code", "message", "details"} <= set(body["error"])
    # Schema-valid calls may still be refused for what a schema cannot say (an id that does
    # not exist, a name taken, a limit, exactly one of template/text/document): every other
    # built-in check runs, including response schema, status codes, headers and 405s.
    case.validate_response(response, excluded_checks=[positive_data_acceptance])


def test_schema_lists_every_route() -> None:
    app = create_app(make_settings(f"sqlite:///{Path('/nonexistent/never-opened.db')}"))
    paths = set(app.openapi()["paths"])
    assert {
        "/healthz",
        "/readyz",
        "/api/catalog",
        "/api/architectures",
        "/api/architectures/{arch_id}/versions/{version}/generate.zip",
        "/api/runs/{run_id}/events",
        "/api/compare",
    } <= paths
