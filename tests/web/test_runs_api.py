"""Runs: the state machine, the event stream (order, replay), cancel, limits, compare, result."""

from __future__ import annotations

import itertools
import json
import time

from fastapi.testclient import TestClient

from scalesim_patterns.model import loads
from scalesim_patterns.sim import simulate
from scalesim_patterns.web import Settings, create_app

from .conftest import create, limited, start, stream, wait


def test_run_streams_every_event_in_order_and_matches_cli_result(client: TestClient) -> None:
    arch = create(client)
    run = start(client, arch["id"], duration="6s", replications=2, seed=7)
    assert run["state"] == "queued" and run["last_event"] == 1
    events = stream(client, run["id"])
    seqs = [e[0] for e in events]
    assert seqs == list(range(1, len(events) + 1))
    states = [d["state"] for _, k, d in events if k == "state"]
    assert states == ["queued", "running", "done"]
    assert (
        events[-1][1] == "state" and events[-1][2]["result_url"] == f"/api/runs/{run['id']}/result"
    )
    kinds = [k for _, k, _ in events]
    assert kinds.index("progress") < kinds.index("window")
    progress = [d for _, k, d in events if k == "progress"]
    assert progress[-1]["fraction"] == 1.0
    assert all(a["fraction"] <= b["fraction"] for a, b in itertools.pairwise(progress))
    windows = [d for _, k, d in events if k == "window"]
    assert {w["replication"] for w in windows} == {0, 1}
    # the result is byte-identical to simulate --json with the same settings
    result = client.get(f"/api/runs/{run['id']}/result")
    assert result.status_code == 200 and result.headers["content-type"] == "application/json"
    expected = simulate(loads(arch["text"]), seed=7, duration=6.0, replications=2, jobs=1)
    assert result.text == expected.to_json()
    # each window event is the column of the result's time series
    series = expected.runs[1].series
    last = [w for w in windows if w["replication"] == 1]
    assert [w["time"] for w in last] == series.time
    some = next(iter(series.services))
    assert [w["services"][some]["throughput"] for w in last] == series.services[some]["throughput"]
    done = client.get(f"/api/runs/{run['id']}").json()
    assert done["state"] == "done" and done["last_event"] == len(events)
    assert done["started_at"] and done["finished_at"] and done["progress"]["fraction"] == 1.0


def test_late_and_resumed_streams_replay_from_the_store(client: TestClient) -> None:
    arch = create(client)
    run = start(client, arch["id"])
    wait(client, run["id"])
    everything = stream(client, run["id"])
    assert everything[0][0] == 1  # a late client gets everything from the start
    cut = len(everything) // 2
    resumed = stream(client, run["id"], headers={"Last-Event-ID": str(cut)})
    assert resumed == everything[cut:]
    assert stream(client, run["id"], after=cut) == everything[cut:]
    assert stream(client, run["id"], after=len(everything)) == []


def test_events_of_unknown_run_are_404_json(client: TestClient) -> None:
    r = client.get("/api/runs/77/events")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


def test_cancel_a_running_run_within_a_second(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        arch = create(client)
        run = start(client, arch["id"], duration="2h")
        wait(client, run["id"], ("running",))
        time.sleep(0.3)
        t0 = time.monotonic()
        r = client.post(f"/api/runs/{run['id']}/cancel")
        assert r.status_code == 200
        final = wait(client, run["id"], timeout=5)
        took = time.monotonic() - t0
        assert final["state"] == "cancelled", final
        assert took < 1.0, f"cancel took {took:.2f}s"
        events = stream(client, run["id"])
        assert [d["state"] for _, k, d in events if k == "state"] == [
            "queued",
            "running",
            "cancelled",
        ]
        r = client.get(f"/api/runs/{run['id']}/result")
        assert r.status_code == 409 and r.json()["error"]["details"] == {"state": "cancelled"}
        # cancelling again changes nothing
        assert client.post(f"/api/runs/{run['id']}/cancel").json()["state"] == "cancelled"


def test_queued_run_is_cancelled_at_once_and_queue_is_bounded(settings: Settings) -> None:
    from dataclasses import replace

    with TestClient(create_app(replace(settings, workers=1, queue_size=1))) as client:
        arch = create(client)
        first = start(client, arch["id"], duration="2h")
        wait(client, first["id"], ("running",))
        second = start(client, arch["id"], duration="2h")
        r = client.post("/api/runs", json={"architecture_id": arch["id"], "duration": "5s"})
        assert r.status_code == 429
        err = r.json()["error"]
        assert err["code"] == "queue_full"
        assert err["details"] == {"limit": "queue", "value": 1, "maximum": 1}
        assert client.get(f"/api/runs/{second['id']}").json()["state"] == "queued"
        assert client.post(f"/api/runs/{second['id']}/cancel").json()["state"] == "cancelled"
        client.post(f"/api/runs/{first['id']}/cancel")
        assert wait(client, first["id"])["state"] == "cancelled"
        # the queue has room again
        third = start(client, arch["id"], duration="3s")
        assert wait(client, third["id"])["state"] == "done"
        assert [r["id"] for r in client.get("/api/runs").json()] == [
            third["id"],
            second["id"],
            first["id"],
        ]


def test_limits_name_the_limit_and_the_amount(settings: Settings) -> None:
    with TestClient(
        create_app(limited(settings, replications=3, duration=60, requests=10_000))
    ) as c:
        arch = create(c)
        cases = [
            ({"replications": 4, "duration": "10s"}, "replications", 4, 3),
            ({"duration": "2m"}, "duration", 120.0, 60),
        ]
        for body, limit, value, maximum in cases:
            r = c.post("/api/runs", json={"architecture_id": arch["id"], **body})
            assert r.status_code == 422, r.text
            err = r.json()["error"]
            assert err["code"] == "limit_exceeded"
            assert err["details"] == {"limit": limit, "value": value, "maximum": maximum}
            assert f"'{limit}'" in err["message"]
        # requests: the estimate is the traffic's peak rate x duration x replications
        sources = loads(arch["text"]).spec.traffic.values()
        assert all(s.type == "open" and s.arrival.process == "poisson" for s in sources)
        rate = sum(s.arrival.rate for s in sources)  # type: ignore[union-attr]
        r = c.post(
            "/api/runs", json={"architecture_id": arch["id"], "duration": "50s", "replications": 3}
        )
        err = r.json()["error"]
        assert r.status_code == 422 and err["details"]["limit"] == "requests"
        assert err["details"]["value"] == round(rate * 50 * 3)
        assert "over by" in err["message"]
        assert c.get("/api/runs").json() == []  # nothing was stored


def test_run_input_errors(client: TestClient) -> None:
    arch = create(client)
    r = client.post("/api/runs", json={"architecture_id": arch["id"], "scenario": "nope"})
    err = r.json()["error"]
    assert r.status_code == 422 and err["code"] == "unknown_scenario"
    assert "payment-slow" in err["message"] or err["details"]["known"] == sorted(
        loads(arch["text"]).spec.scenarios
    )
    assert client.post("/api/runs", json={"architecture_id": 999}).status_code == 404
    r = client.post("/api/runs", json={"architecture_id": arch["id"], "version": 9})
    assert r.status_code == 404
    for bad in (
        {"duration": "5 parsecs"},
        {"duration": -1},
        {"replications": 0},
        {"seed": -1},
        {"x": 1},
    ):
        r = client.post("/api/runs", json={"architecture_id": arch["id"], **bad})
        assert r.status_code == 422, bad
        assert r.json()["error"]["code"] == "invalid_request"
    broken = client.post("/api/architectures", json={"name": "b", "text": "kind: x\n"}).json()
    r = client.post("/api/runs", json={"architecture_id": broken["id"]})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_architecture"
    for path in ("/api/runs/5", "/api/runs/5/result"):
        assert client.get(path).status_code == 404
    assert client.post("/api/runs/5/cancel").status_code == 404
    assert client.delete("/api/runs/5").status_code == 404


def test_result_conflict_delete_and_filters(client: TestClient) -> None:
    a = create(client, "a")
    b = create(client, "b", template="saga")
    ra = start(client, a["id"], duration="2h")
    wait(client, ra["id"], ("running",))
    r = client.get(f"/api/runs/{ra['id']}/result")
    assert r.status_code == 409 and r.json()["error"]["details"]["state"] == "running"
    r = client.delete(f"/api/runs/{ra['id']}")
    assert r.status_code == 409
    r = client.delete(f"/api/architectures/{a['id']}")
    assert r.status_code == 409 and "cancel" in r.json()["error"]["message"]
    client.post(f"/api/runs/{ra['id']}/cancel")
    wait(client, ra["id"])
    rb = start(client, b["id"], duration="3s")
    wait(client, rb["id"])
    assert [
        x["id"] for x in client.get("/api/runs", params={"architecture_id": b["id"]}).json()
    ] == [rb["id"]]
    assert [x["id"] for x in client.get("/api/runs", params={"state": "cancelled"}).json()] == [
        ra["id"]
    ]
    assert len(client.get("/api/runs", params={"limit": 1}).json()) == 1
    assert client.get("/api/runs", params={"state": "bogus"}).status_code == 422
    assert client.delete(f"/api/runs/{rb['id']}").status_code == 204
    assert client.get(f"/api/runs/{rb['id']}").status_code == 404
    assert client.delete(f"/api/architectures/{a['id']}").status_code == 204
    assert client.get(f"/api/runs/{ra['id']}").status_code == 404  # its runs went with it


def test_compare_runs_both_variants_under_common_random_numbers(client: TestClient) -> None:
    from scalesim_patterns.sim import compare

    a = create(client, "a")
    b = create(client, "b", sets=["services.order.replicas=5"])
    r = client.post(
        "/api/compare",
        json={
            "a": {"architecture_id": a["id"]},
            "b": {"architecture_id": b["id"], "version": 1},
            "duration": "4s",
            "replications": 2,
            "seed": 3,
        },
    )
    assert r.status_code == 202, r.text
    run = r.json()
    assert run["kind"] == "compare"
    assert run["compare_with"] == {
        "architecture_id": b["id"],
        "version": 1,
        "architecture_name": "b",
    }
    events = stream(client, run["id"])
    assert [e[0] for e in events] == list(range(1, len(events) + 1))
    assert {d["variant"] for _, k, d in events if k == "window"} == {"a", "b"}
    result = client.get(f"/api/runs/{run['id']}/result").text
    expected = compare(
        loads(a["text"]), loads(b["text"]), seed=3, duration=4.0, replications=2, jobs=1
    )
    assert result == expected.to_json()
    assert json.loads(result)["format"].endswith("+comparison")
    r = client.post(
        "/api/compare",
        json={"a": {"architecture_id": a["id"]}, "b": {"architecture_id": 999}},
    )
    assert r.status_code == 404
