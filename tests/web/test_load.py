"""Load: 20 concurrent clients create architectures and start 40 runs on a real server with 2
workers. Every run ends done or cancelled, none is lost or duplicated, every stream delivers
its events in order (sequence numbers 1..n, no gap), and /healthz answers 200 to every probe
throughout. Its latency is printed (median, p99, worst, how many at or over 100 ms), not
asserted: a time bound in a test fails on a loaded machine, not on a slow server."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from .conftest import read_events
from .server import probing, serving

CLIENTS = 20
RUNS_EACH = 2
HEALTH_BUDGET = 0.100


def _client(base: str, i: int) -> list[dict[str, Any]]:
    out = []
    with httpx.Client(base_url=base, timeout=120) as c:
        r = c.post("/api/architectures", json={"name": f"load-{i}", "template": "ecommerce"})
        assert r.status_code == 201, r.text
        arch = r.json()
        ids = []
        for k in range(RUNS_EACH):
            r = c.post(
                "/api/runs",
                json={"architecture_id": arch["id"], "duration": "2s", "seed": 10 * i + k},
            )
            assert r.status_code == 202, r.text
            ids.append(r.json()["id"])
        if i % 4 == 0:  # some clients change their mind
            assert c.post(f"/api/runs/{ids[-1]}/cancel").status_code == 200
        for run_id in ids:
            with c.stream("GET", f"/api/runs/{run_id}/events") as s:
                assert s.status_code == 200
                events = read_events(s.iter_lines())
            run = c.get(f"/api/runs/{run_id}").json()
            result = c.get(f"/api/runs/{run_id}/result")
            out.append({"id": run_id, "events": events, "run": run, "result": result.status_code})
    return out


def test_twenty_clients_forty_runs_two_workers(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'load.db'}"
    with serving(db, tmp_path / "server.log", "--workers", "2") as (base, _):
        with probing(base, tmp_path) as probes, ThreadPoolExecutor(CLIENTS) as pool:
            results = [
                x for part in pool.map(lambda i: _client(base, i), range(CLIENTS)) for x in part
            ]
        with httpx.Client(base_url=base, timeout=30) as c:
            stored = c.get("/api/runs", params={"limit": 500}).json()
            archs = c.get("/api/architectures").json()

    assert len(results) == CLIENTS * RUNS_EACH
    started = sorted(r["id"] for r in results)
    assert len(set(started)) == len(started)
    assert sorted(r["id"] for r in stored) == started  # none lost, none duplicated
    assert len(archs) == CLIENTS
    cancelled = 0
    for r in results:
        events = r["events"]
        assert [e[0] for e in events] == list(range(1, len(events) + 1)), r["id"]
        states = [d["state"] for _, k, d in events if k == "state"]
        assert states[0] == "queued" and states[-1] in ("done", "cancelled"), states
        assert events[-1][1] == "state"  # nothing after the end
        assert r["run"]["state"] == states[-1] and r["run"]["last_event"] == len(events)
        if states[-1] == "done":
            assert states == ["queued", "running", "done"]
            assert r["result"] == 200
            assert any(k == "window" for _, k, _ in events)
        else:
            cancelled += 1
            assert r["result"] == 409
    assert cancelled <= CLIENTS // 4
    assert len(probes) > 20 and all(code == 200 for _, code in probes)
    latencies = [s for s, _ in probes]
    worst = max(latencies)
    ordered = sorted(latencies)
    over = sum(x >= HEALTH_BUDGET for x in latencies)
    print(
        f"/healthz: {len(probes)} probes, median {ordered[len(ordered) // 2] * 1000:.1f} ms, "
        f"p99 {ordered[int(len(ordered) * 0.99)] * 1000:.1f} ms, worst {worst * 1000:.1f} ms, "
        f"{over} at or over {HEALTH_BUDGET * 1000:.0f} ms"
    )
