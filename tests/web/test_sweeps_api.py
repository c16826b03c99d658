"""Sweeps through the API: the plan language of `scalesim sweep --vary`, refusals that name the
field and what would be valid, limits that say which and by how much, progress as points finish,
and a stored result whose rows are the sweep package's own `run_task` rows (so the page and the
CLI agree), listed in history beside runs."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from scalesim_patterns.sweep import make_plan, parse_vary, prepare
from scalesim_patterns.sweep.tasks import run_task
from scalesim_patterns.web import create_app
from scalesim_patterns.web.config import Settings

from .conftest import create, limited, make_settings, stream, wait

VARY = ["services.checkout.replicas=1,3"]


def sweep(client: TestClient, arch_id: int, **kw: Any) -> Any:
    body = {"architecture_id": arch_id, "vary": VARY, "duration": "6s", "replications": 2, **kw}
    return client.post("/api/sweeps", json=body)


@pytest.fixture(params=["sqlite-1-process", "sqlite-pool", "postgresql"])
def sweep_client(request: pytest.FixtureRequest, db_url: str) -> Any:
    """Two server workers on this 2-core machine leave one process per run (tasks in turn);
    one worker gives the run a pool of 2 (tasks side by side). PostgreSQL stores it too."""
    if request.param == "postgresql":
        url, workers = request.getfixturevalue("pg_url"), 2
    else:
        url, workers = db_url, 2 if request.param == "sqlite-1-process" else 1
    with TestClient(create_app(make_settings(url, workers=workers))) as c:
        yield c


def test_a_sweep_runs_streams_points_and_stores_the_table(sweep_client: TestClient) -> None:
    client = sweep_client
    arch = create(client, template="circuit-breaker")
    r = sweep(client, arch["id"], seed=4)
    assert r.status_code == 202, r.text
    run = r.json()
    assert run["kind"] == "sweep"
    assert run["sweep"]["points"] == 2 and run["sweep"]["tasks"] == 4
    assert run["sweep"]["dimensions"] == [
        {"path": "services.checkout.replicas", "values": ["1", "3"]}
    ]
    events = stream(client, run["id"])
    points = [d for _, k, d in events if k == "point"]
    assert sorted((p["point"], p["replication"]) for p in points) == [
        (0, 0),
        (0, 1),
        (1, 0),
        (1, 1),
    ]
    assert {p["settings"]["services.checkout.replicas"] for p in points} == {"1", "3"}
    progress = [d for _, k, d in events if k == "progress"]
    assert [p["tasks_done"] for p in progress] == [0, 1, 2, 3, 4]
    assert progress[-1]["fraction"] == 1.0 and all(p["tasks"] == 4 for p in progress)
    assert events[-1][2]["state"] == "done"

    result = client.get(f"/api/runs/{run['id']}/result").json()
    assert result["format"] == "scalesim.sweep/v1"
    assert result["dimensions"] == ["services.checkout.replicas"]
    # the rows are what the sweep package computes for the same tasks, independently run here
    text = client.get(f"/api/architectures/{arch['id']}").json()["text"]
    plan = make_plan([parse_vary(v) for v in VARY], seed=4)
    tasks, _ = prepare(text, "x.yaml", plan, replications=2, seed=4, duration=6.0)
    expected = [run_task(t) for t in tasks]
    for row, want in zip(result["rows"], expected, strict=True):
        assert row["point"] == want["point"] and row["replication"] == want["replication"]
        assert row["services.checkout.replicas"] == plan.points[want["point"]][0]
        assert row["throughput"] == want["throughput"] and row["p99"] == want["p99"]
    # common random numbers: the same replication draws the same arrivals at every point
    by = {(r["point"], r["replication"]): r for r in result["rows"]}
    assert by[(0, 0)]["arrivals"] == by[(1, 0)]["arrivals"]
    # more replicas of checkout: its utilisation falls, and the summary says the setting moves it
    assert by[(1, 0)]["checkout:utilisation"] < by[(0, 0)]["checkout:utilisation"]
    assert result["sensitivity"]["checkout:utilisation"]["services.checkout.replicas"] == 1.0

    listed = client.get("/api/runs", params={"kind": "sweep"}).json()
    assert [x["id"] for x in listed] == [run["id"]]
    assert run["id"] in [x["id"] for x in client.get("/api/runs").json()]


@pytest.mark.parametrize(
    ("vary", "sample", "field", "says"),
    [
        (["services.checkout.replicas"], None, "vary[0]", "PATH=v1,v2"),
        (
            ["services.checkout.replicas=1,2", "services.chekout.workers=4,8"],
            None,
            "vary[1]",
            "did you mean 'checkout'",
        ),
        (["services.checkout.replicas=0,2"], None, "vary[0]", "greater than or equal to 1"),
        (["services.checkout.replicas=a..b:3"], None, "vary[0]", "not a number"),
        (["services.checkout.replicas=1,2"], "sobol:3", "sample", "power of 2"),
        (["services.checkout.replicas=1,2"], "grid:3", "sample", "lhs:N or sobol:N"),
    ],
)
def test_bad_plans_name_the_field_and_what_is_valid(
    client: TestClient, vary: list[str], sample: str | None, field: str, says: str
) -> None:
    arch = create(client, template="circuit-breaker")
    r = sweep(client, arch["id"], vary=vary, sample=sample)
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["code"] == "invalid_sweep"
    assert err["details"]["field"] == field
    assert says in err["message"] and err["message"].startswith(f"{field}: ")
    assert err["details"]["valid"]


def test_limits_say_which_and_by_how_much(db_url: str) -> None:
    settings: Settings = limited(Settings(db_url=db_url, workers=1), sweep_tasks=10)
    with TestClient(create_app(settings)) as client:
        arch = create(client, template="circuit-breaker")
        r = sweep(client, arch["id"], vary=["services.checkout.replicas=1..6:6"], replications=2)
        assert r.status_code == 422
        err = r.json()["error"]
        assert err["code"] == "limit_exceeded"
        assert err["details"] == {"limit": "sweep_tasks", "value": 12, "maximum": 10}
        assert "over by 2" in err["message"] and "6 x 2" in err["message"]
    settings = limited(Settings(db_url=db_url, workers=1), requests=90_000)
    with TestClient(create_app(settings)) as client:
        arch = create(client, name="cb2", template="circuit-breaker")
        r = sweep(
            client, arch["id"], vary=["traffic.shoppers.arrival.rate=100/s,400/s"], duration="60s"
        )
        assert r.status_code == 422, r.text
        err = r.json()["error"]
        assert err["details"]["limit"] == "requests"
        # the largest point: 400/s over 60 s is 24,000 per replication, × 2 points × 2 reps
        assert err["details"]["value"] == 400 * 60 * 2 * 2
        assert json.dumps(err["details"]["maximum"]) == "90000"
        assert "over by 6,000" in err["message"]


def test_a_running_sweep_is_cancelled_with_its_processes(db_url: str) -> None:
    """One server worker gives the run a pool of processes; cancelling kills them all and
    the sweep stops part way (no result), as a run does."""
    with TestClient(create_app(make_settings(db_url, workers=1))) as client:
        arch = create(client, template="circuit-breaker")
        r = sweep(client, arch["id"], vary=["services.checkout.replicas=1..8:8"], duration="120s")
        assert r.status_code == 202, r.text
        run_id = r.json()["id"]
        wait(client, run_id, states=("running",))
        cancelled = client.post(f"/api/runs/{run_id}/cancel")
        assert cancelled.status_code == 200
        run = wait(client, run_id, timeout=10)
        assert run["state"] == "cancelled"
        assert (run["progress"] or {}).get("tasks_done", 0) < 16
        assert client.get(f"/api/runs/{run_id}/result").status_code == 409


def test_a_sample_without_scipy_is_refused_on_its_field(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """scipy comes with the `sweep` extra; a server without it still runs grids."""
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "scipy" else real(name, *a)
    )
    arch = create(client, template="circuit-breaker")
    r = sweep(client, arch["id"], sample="lhs:4")
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["details"]["field"] == "sample" and "scipy" in err["message"]
    assert "scalesim-patterns[sweep]" in err["details"]["valid"]


def test_a_sampled_sweep_gives_the_same_bytes_twice(db_url: str) -> None:
    """Same design, plan and seed: the same stored result, byte for byte, though the pool's
    simulations finish in whatever order."""
    with TestClient(create_app(make_settings(db_url, workers=1))) as client:
        arch = create(client, template="circuit-breaker")
        body = {
            "vary": [
                "services.checkout.workers=4..16:13",
                "traffic.shoppers.arrival.rate=100/s..300/s:3",
            ],
            "sample": "lhs:3",
            "replications": 1,
            "seed": 9,
            "duration": "5s",
        }
        texts = []
        for _ in range(2):
            r = sweep(client, arch["id"], **body)
            assert r.status_code == 202, r.text
            assert r.json()["sweep"]["method"] == "lhs" and r.json()["sweep"]["points"] == 3
            assert wait(client, r.json()["id"])["state"] == "done"
            texts.append(client.get(f"/api/runs/{r.json()['id']}/result").text)
        assert texts[0] == texts[1]
        result = json.loads(texts[0])
        assert result["method"] == "lhs" and len(result["rows"]) == 3
        plan = make_plan([parse_vary(v) for v in body["vary"]], "lhs:3", seed=9)
        assert result["points"] == [list(p) for p in plan.points]
