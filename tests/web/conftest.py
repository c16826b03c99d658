"""Fixtures for the web app: an app on a fresh SQLite store (and on PostgreSQL when asked), a
test client, and helpers to create architectures and wait for runs."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from scalesim_patterns.web import Limits, Settings, create_app
from scalesim_patterns.web.store import Store

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TERMINAL = ("done", "failed", "cancelled")


def pg_required() -> bool:
    """CI (or whoever sets SCALESIM_TEST_PG_URL) wants PostgreSQL: then it must be there."""
    return bool(os.environ.get("SCALESIM_TEST_PG_URL")) or os.environ.get("CI") == "true"


def pg_base_url() -> str:
    return os.environ.get("SCALESIM_TEST_PG_URL") or DEFAULT_PG


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A URL to a fresh schema of the test PostgreSQL database, dropped afterwards. Fails when
    PostgreSQL is required and unreachable; skips only on a machine that does not ask for it."""
    import sqlalchemy as sa

    base = pg_base_url()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(base.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    except sa.exc.OperationalError as exc:
        engine.dispose()
        if pg_required():
            pytest.fail(f"PostgreSQL at {base} is required here and unreachable: {exc}")
        pytest.skip(f"no PostgreSQL at {base} (set SCALESIM_TEST_PG_URL to require it)")
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        engine.dispose()


def make_settings(db_url: str, **kw: Any) -> Settings:
    return Settings(db_url=db_url, workers=kw.pop("workers", 2), **kw)


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.db'}"


@pytest.fixture
def settings(db_url: str) -> Settings:
    return make_settings(db_url)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as c:
        yield c


def limited(settings: Settings, **limits: Any) -> Settings:
    return replace(settings, limits=replace(Limits(), **limits))


def create(
    client: TestClient, name: str = "shop", template: str = "ecommerce", **kw: Any
) -> dict[str, Any]:
    r = client.post("/api/architectures", json={"name": name, "template": template, **kw})
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def start(client: TestClient, arch_id: int, **kw: Any) -> dict[str, Any]:
    body = {"architecture_id": arch_id, "duration": "5s", "replications": 1, **kw}
    r = client.post("/api/runs", json=body)
    assert r.status_code == 202, r.text
    run: dict[str, Any] = r.json()
    return run


def wait(
    client: TestClient, run_id: int, states: tuple[str, ...] = TERMINAL, timeout: float = 60
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        run: dict[str, Any] = client.get(f"/api/runs/{run_id}").json()
        if run["state"] in states:
            return run
        if time.monotonic() > deadline:
            raise AssertionError(f"run {run_id} still {run['state']} after {timeout}s")
        time.sleep(0.05)


def read_events(lines: Any) -> list[tuple[int, str, dict[str, Any]]]:
    """Parse an SSE stream into (id, event, data) triples."""
    out: list[tuple[int, str, dict[str, Any]]] = []
    seq, kind, data = None, None, None
    for line in lines:
        if line.startswith("id: "):
            seq = int(line[4:])
        elif line.startswith("event: "):
            kind = line[7:]
        elif line.startswith("data: "):
            data = json.loads(line[6:])
        elif line == "" and seq is not None:
            assert kind is not None and data is not None
            out.append((seq, kind, data))
            seq, kind, data = None, None, None
    return out


def stream(
    client: TestClient, run_id: int, headers: dict[str, str] | None = None, **params: Any
) -> list[tuple[int, str, dict[str, Any]]]:
    with client.stream(
        "GET", f"/api/runs/{run_id}/events", headers=headers or {}, params=params
    ) as r:
        assert r.status_code == 200, r.read()
        assert r.headers["content-type"].startswith("text/event-stream")
        return read_events(r.iter_lines())


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store.open(db_url)
    yield s
    s.close()
