"""The run store on SQLite and on PostgreSQL: migrations, versions, event numbering, the
interrupted-run rule, deletes; and the whole API once on PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from scalesim_patterns.web import create_app
from scalesim_patterns.web.store import NameTaken, NotFound, Store

from .conftest import create, make_settings, start, stream, wait


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_store(request: pytest.FixtureRequest, db_url: str) -> Iterator[Store]:
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else db_url
    store = Store.open(url)
    assert store.backend == request.param
    yield store
    store.close()


def test_migrations_create_the_schema_once(any_store: Store) -> None:
    tables = set(sa.inspect(any_store.engine).get_table_names())
    assert {
        "architectures",
        "architecture_versions",
        "runs",
        "run_events",
        "architecture_layouts",
        "alembic_version",
    } <= tables
    with any_store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == "0002"
    from scalesim_patterns.web.store.db import migrate

    migrate(any_store.engine)  # a second upgrade is a no-op


def test_a_store_of_the_first_schema_is_upgraded_with_its_data(db_url: str) -> None:
    """A store made before layouts existed (revision 0001) gets the layout table on open and
    keeps its architectures; a layout can then be saved."""
    from alembic import command
    from alembic.config import Config

    from scalesim_patterns.web.store.db import MIGRATIONS, connect

    engine = connect(db_url, migrate_schema=False)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "0001")
    assert "architecture_layouts" not in sa.inspect(engine).get_table_names()
    engine.dispose()
    old = Store(connect(db_url, migrate_schema=False))
    arch = old.create_architecture("kept", "t1", True, [], {})
    old.close()

    store = Store.open(db_url)
    try:
        assert "architecture_layouts" in sa.inspect(store.engine).get_table_names()
        assert store.architecture(arch.id).name == "kept"
        assert store.layout(arch.id) == {}
        store.save_layout(arch.id, {"service:a": {"x": 1.0, "y": 2.0}})
        assert store.layout(arch.id) == {"service:a": {"x": 1.0, "y": 2.0}}
    finally:
        store.close()


def test_versions_and_names(any_store: Store) -> None:
    a = any_store.create_architecture("shop", "t1", True, [], {"services": 1})
    assert any_store.add_version(a.id, "t1", True, [], {}) == 1  # unchanged text: no version
    assert any_store.add_version(a.id, "t2", False, [{"line": 1}], {}) == 2
    assert [v.text for v in any_store.versions(a.id)] == ["t1", "t2"]
    assert any_store.version(a.id).text == "t2" and any_store.version(a.id, 1).text == "t1"
    with pytest.raises(NameTaken):
        any_store.create_architecture("shop", "x", True, [], {})
    with pytest.raises(NotFound):
        any_store.version(a.id, 3)
    b = any_store.create_architecture("other", "x", True, [], {})
    with pytest.raises(NameTaken):
        any_store.rename_architecture(b.id, "shop")
    assert any_store.rename_architecture(b.id, "renamed").name == "renamed"


def test_events_are_numbered_without_gaps_under_concurrent_writers(any_store: Store) -> None:
    a = any_store.create_architecture("s", "t", True, [], {})
    run = any_store.create_run(
        kind="simulate",
        source="web",
        architecture_id=a.id,
        version=1,
        architecture_name="s",
        options={},
        estimated_requests=1,
    )

    def writer(k: int) -> None:
        for i in range(20):
            any_store.append_events(run.id, [("progress", {"w": k, "i": i})])

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    events = any_store.events(run.id)
    assert [e.seq for e in events] == list(range(1, 81))
    assert any_store.run(run.id).last_event == 80
    # nothing is added after the end
    any_store.append_events(run.id, [("state", {"state": "done"})], state="done", result="{}")
    assert any_store.append_events(run.id, [("progress", {})]) == 81
    assert len(any_store.events(run.id)) == 81 and any_store.result(run.id) == "{}"


def test_active_runs_are_marked_interrupted_on_start(any_store: Store) -> None:
    a = any_store.create_architecture("s", "t", True, [], {})
    ids = []
    for state in ("queued", "running", "done"):
        r = any_store.create_run(
            kind="simulate",
            source="web",
            architecture_id=a.id,
            version=1,
            architecture_name="s",
            options={},
            estimated_requests=1,
        )
        any_store.append_events(r.id, [("state", {"state": state})], state=state)
        ids.append(r.id)
    assert sorted(any_store.mark_interrupted()) == ids[:2]
    for run_id in ids[:2]:
        run = any_store.run(run_id)
        assert run.state == "failed" and run.interrupted and "interrupted" in (run.error or "")
        assert any_store.events(run_id)[-1].type == "state"
    assert any_store.run(ids[2]).state == "done" and not any_store.run(ids[2]).interrupted
    assert any_store.mark_interrupted() == []


def test_delete_architecture_takes_its_runs_and_events(any_store: Store) -> None:
    a = any_store.create_architecture("s", "t", True, [], {})
    r = any_store.create_run(
        kind="simulate",
        source="web",
        architecture_id=a.id,
        version=1,
        architecture_name="s",
        options={},
        estimated_requests=1,
    )
    any_store.append_events(r.id, [("state", {"state": "queued"})])
    with pytest.raises(RuntimeError):
        any_store.delete_architecture(a.id)
    any_store.append_events(r.id, [("state", {"state": "cancelled"})], state="cancelled")
    any_store.delete_architecture(a.id)
    with pytest.raises(NotFound):
        any_store.run(r.id)
    with any_store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM run_events")).scalar() == 0


@pytest.mark.postgres
def test_the_api_on_postgresql(pg_url: str) -> None:
    with TestClient(create_app(make_settings(pg_url))) as c:
        assert c.get("/readyz").json()["store"] == "postgresql"
        arch = create(c)
        run = start(c, arch["id"], duration="3s")
        events = stream(c, run["id"])
        assert [e[0] for e in events] == list(range(1, len(events) + 1))
        assert wait(c, run["id"])["state"] == "done"
        assert c.get(f"/api/runs/{run['id']}/result").json()["format"] == "scalesim.results/v1"


def test_concurrent_saves_get_distinct_versions(any_store: Store) -> None:
    a = any_store.create_architecture("s", "t0", True, [], {})
    got: list[int] = []
    lock = threading.Lock()

    def save(k: int) -> None:
        for i in range(5):
            n = any_store.add_version(a.id, f"t{k}-{i}", True, [], {})
            with lock:
                got.append(n)

    threads = [threading.Thread(target=save, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got) == list(range(2, 22))
    assert [v.version for v in any_store.versions(a.id)] == list(range(1, 22))
