"""Event stores: loading an aggregate with and without snapshots (`streamLength`,
`snapshotEvery`), and faults that target a store — against figures computed by hand.

Loading L events with reads of `readPage` events costs ceil(L / page) reads and L replays; with a
snapshot every N events (L ≥ N) it costs one snapshot read, ceil((L mod N) / page) reads of the
tail and L mod N replays; an append of e events writes a snapshot with probability e / N.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from scalesim_patterns.model import Architecture
from scalesim_patterns.model.checks import check_architecture
from scalesim_patterns.sim import Engine, simulate
from scalesim_patterns.sim.core.stats import estimate

from ..models import architecture, service
from ..test_queueing_theory import assert_inside

READ, APPEND, REPLAY = 0.002, 0.003, 0.0001


def _store(
    rate: str = "1/s",
    duration: str = "300s",
    scenarios: dict[str, Any] | None = None,
    **store: Any,
) -> Architecture:
    return architecture(
        {
            "s": service("0s", workers=100, concurrency="async", steps=[{"append": "es"}]),
            "r": service("0s", workers=4, concurrency="async"),
        },
        {"load": {"arrival": {"process": "constant", "rate": rate}, "mix": [{"endpoint": "s.e"}]}},
        duration=duration,
        eventStores={
            "es": {
                "owner": "s",
                "appendLatency": f"{APPEND * 1000:g}ms",
                "readLatency": f"{READ * 1000:g}ms",
                "replayCost": f"{REPLAY * 1e6:g}us",
                "projections": [
                    {"name": "p", "service": "r", "handle": "0s", "pollInterval": "1s"}
                ],
                **store,
            }
        },
        scenarios=scenarios or {},
    )


def _latencies(arch: Architecture) -> Any:
    result = simulate(arch, replications=5, seed=2)
    return result, estimate([r.report.entries["s.e"].latency.mean for r in result.runs])


def test_loading_without_snapshots_reads_and_replays_the_whole_stream() -> None:
    # 1000 events, 500 per read: 2 reads + 1000 replays + the append.
    result, mean = _latencies(_store(streamLength=1000))
    expected = 2 * READ + 1000 * REPLAY + APPEND
    assert mean.mean == pytest.approx(expected, rel=1e-9)
    assert result.runs[0].report.entries["s.e"].latency.max == pytest.approx(expected, rel=0.011)


@pytest.mark.parametrize("every", [100, 300])
def test_snapshots_cut_the_load_to_the_tail(every: int) -> None:
    tail = 1000 % every
    reads = 1 + math.ceil(tail / 500)
    expected = reads * READ + tail * REPLAY + APPEND + APPEND / every  # + the snapshot writes
    _, mean = _latencies(_store(rate="20/s", streamLength=1000, snapshotEvery=every))
    assert_inside(mean, expected, 0.05)
    plain = 2 * READ + 1000 * REPLAY + APPEND
    assert mean.mean < plain / 4  # the choice shows in latency


def test_without_stream_length_nothing_changes() -> None:
    _, mean = _latencies(_store(snapshotEvery=10))
    assert mean.mean == pytest.approx(APPEND, rel=1e-9)


def test_an_event_store_outage_fails_the_appends_and_projections_catch_up() -> None:
    arch = _store(
        rate="10/s",
        duration="300s",
        scenarios={
            "down": {
                "faults": [{"type": "outage", "target": "es", "at": "100s", "duration": "100s"}]
            }
        },
    )
    engine = Engine(arch, seed=1, replication=0, scenario="down")
    run = engine.run(None)
    entry = run.report.entries["s.e"]
    # Constant arrivals at 10/s: those in [100 s, 200 s) fail, 1000 ± 1 of them.
    assert abs(entry.errors["unavailable"] - 1000) <= 1
    store = run.report.event_stores["es"]
    proj = store.projections["p"]
    # The event appended just before the outage waits for it to end (100 s) plus at most one
    # poll interval; afterwards the projection is caught up to within one poll's appends.
    assert 100.0 <= proj.age_max <= 101.0 + 1e-9
    assert proj.lag_events_end <= 10


def test_store_faults_are_outage_or_latency() -> None:
    arch = _store(scenarios={"x": {"faults": [{"type": "crash", "target": "es"}]}})
    messages = [m for _, _, m in check_architecture(arch)]
    assert "a crash fault targets a service" in messages
    arch = _store(scenarios={"x": {"faults": [{"type": "errors", "target": "es", "rate": 0.1}]}})
    messages = [m for _, _, m in check_architecture(arch)]
    assert "an event store takes outage and latency faults, not errors" in messages
