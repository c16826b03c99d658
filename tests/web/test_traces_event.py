"""A run of a file with tracing enabled streams the critical-path summary of its sampled traces
(a `traces` event before `done`), the same summary `simulate --traces` prints, and its result
stays byte-identical to the untraced `simulate --json`; a file without tracing gets no event."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from scalesim_patterns.model import loads
from scalesim_patterns.sim import simulate
from scalesim_patterns.sim.tracing.critical_path import summarise
from scalesim_patterns.sim.tracing.recorder import TraceOptions

from .conftest import create, start, stream

SECTIONS = Path(__file__).parents[1] / "e2e" / "sections.yaml"


def test_traced_run_streams_its_critical_paths(client: TestClient) -> None:
    text = SECTIONS.read_text()
    r = client.post("/api/architectures", json={"name": "sections", "text": text})
    assert r.status_code == 201, r.text
    arch = r.json()
    run = start(client, arch["id"], duration="12s", seed=5)
    events = stream(client, run["id"])
    kinds = [k for _, k, _ in events]
    assert kinds[-1] == "state" and events[-1][2]["state"] == "done"
    (traces,) = [d for _, k, d in events if k == "traces"]
    assert kinds.index("traces") == len(kinds) - 2

    traced = simulate(loads(text), seed=5, duration=12.0, jobs=1, traces=TraceOptions())
    assert traced.traces is not None
    expected = summarise(traced.traces)
    assert [e["entry"] for e in traces["entries"]] == [e.entry for e in expected]
    for got, want in zip(traces["entries"], expected, strict=True):
        assert got["traces"] == want.traces
        assert got["p99"]["latency_ms"] == want.p99.latency_ms
        assert [(p["hop"], p["cause"]) for p in got["p50"]["parts"]] == [
            (p.hop, p.cause) for p in want.p50.parts
        ]
        # the parts of a band add up to its mean latency (Jaeger's critical path covers it)
        assert abs(sum(p["ms"] for p in got["p50"]["parts"]) - got["p50"]["latency_ms"]) < 1e-6
    assert traces["message"] == traced.traces.message()

    untraced = simulate(loads(text), seed=5, duration=12.0, jobs=1)
    assert client.get(f"/api/runs/{run['id']}/result").text == untraced.to_json()


def test_untraced_file_has_no_traces_event(client: TestClient) -> None:
    arch = create(client, template="circuit-breaker")  # no spec.tracing
    run = start(client, arch["id"], duration="5s")
    assert "traces" not in [k for _, k, _ in stream(client, run["id"])]
