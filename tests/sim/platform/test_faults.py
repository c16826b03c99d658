"""Scenario faults: each happens at its time, for its duration, and does what it says."""

from __future__ import annotations

from typing import Any

import pytest

from scalesim_patterns.sim import SimulationError, simulate
from scalesim_patterns.sim.core.stats import estimate

from ..models import architecture, poisson, service


def _pair(faults: list[dict[str, Any]], *, b: dict[str, Any] | None = None, **spec: Any) -> Any:
    return architecture(
        {
            "a": service("1ms", workers=100, steps=[{"call": "b.e"}]),
            "b": b or {"replicas": 2, "workers": 50, "endpoints": {"e": {"work": "10ms"}}},
        },
        poisson("100/s", "a.e"),
        duration="30s",
        scenarios={"f": {"faults": faults}},
        **spec,
    )


def test_latency_fault_adds_to_the_work_for_its_duration_only() -> None:
    arch = _pair(
        [{"type": "latency", "target": "b", "add": "50ms", "at": "10s", "duration": "10s"}]
    )
    run = simulate(arch, seed=1, scenario="f").runs[0]
    means = run.series.entries["a.e"]["mean"]
    assert means[5] == pytest.approx(0.011)
    assert means[15] == pytest.approx(0.061)
    assert means[25] == pytest.approx(0.011)
    # The added time holds b's workers: 100/s × 60 ms = 6 busy during the fault.
    utilisation = run.series.services["b"]["utilisation"]
    assert utilisation[15] == pytest.approx(6.0 / 100, rel=0.15)
    log = run.extras["resilience"]["faults"]
    assert log == [[10.0, 0, "latency", "b", "start"], [20.0, 0, "latency", "b", "end"]]


def test_latency_fault_on_one_endpoint_and_on_a_database() -> None:
    arch = architecture(
        {
            "s": {
                "workers": 50,
                "endpoints": {
                    "x": {"work": "1ms", "steps": [{"query": "db"}]},
                    "y": {"work": "1ms"},
                },
            }
        },
        {
            "load": {
                "arrival": {"process": "poisson", "rate": "50/s"},
                "mix": [{"endpoint": "s.x"}, {"endpoint": "s.y"}],
            }
        },
        duration="20s",
        databases={"db": {"engine": "postgresql", "owner": "s", "latency": {"read": "2ms"}}},
        scenarios={
            "f": {
                "faults": [
                    {"type": "latency", "target": "s.y", "add": "10ms", "at": "5s"},
                    {"type": "latency", "target": "db", "add": "20ms", "at": "5s"},
                ]
            }
        },
    )
    series = simulate(arch, seed=1, scenario="f").runs[0].series.entries
    assert series["s.x"]["mean"][2] == pytest.approx(0.003)
    assert series["s.x"]["mean"][10] == pytest.approx(0.023)
    assert series["s.y"]["mean"][10] == pytest.approx(0.011)


def test_errors_fault_raises_the_error_rate() -> None:
    arch = _pair([{"type": "errors", "target": "b.e", "rate": 0.3, "at": "10s", "duration": "20s"}])
    result = simulate(arch, seed=1, scenario="f", replications=5)
    shares = []
    for run in result.runs:
        cols = run.series.entries["a.e"]
        shares.append(sum(cols["errors"][10:30]) / sum(cols["count"][10:30]))  # type: ignore[arg-type]
        assert sum(cols["errors"][:10]) == 0  # type: ignore[arg-type]
    assert estimate(shares).contains(0.3)


def test_crash_loses_the_work_in_flight_and_the_pod_comes_back_after_its_start_up() -> None:
    # b's calls take 1 s, so about 50 are in flight on each pod when one crashes at 10 s.
    b = {"replicas": 2, "workers": 200, "startupTime": "3s", "endpoints": {"e": {"work": "1s"}}}
    arch = _pair([{"type": "crash", "target": "b", "replicas": 1, "at": "10s"}], b=b)
    result = simulate(arch, seed=1, scenario="f")
    run = result.runs[0]
    report = run.report
    lost = report.services["b"].endpoints["e"].errors["unavailable"]
    assert report.totals.errors["unavailable"] == lost
    errors = run.series.entries["a.e"]["errors"]
    # In-flight calls fail at once; until the endpoint leaves the balancer (1 s propagation)
    # half of the new calls are refused too. Without a readiness probe the restarted container
    # is Ready as soon as it runs (11 s), so it gets half the calls and refuses them until its
    # application has started (13 s); after that none fail.
    assert errors[10] is not None and errors[10] > 60
    assert errors[11] == pytest.approx(50, abs=20)
    assert errors[12] == pytest.approx(50, abs=20)
    assert sum(errors[13:]) == 0  # type: ignore[arg-type]
    assert result.notes == [
        "b: 1 new container(s) received traffic before they could serve (no readiness probe)"
    ]
    pods = run.extras["resilience"]["pods"]
    assert [p[1:] for p in pods] == [
        ["b#0", "crash"],
        ["b#0", "unready"],
        ["b#0", "ready"],
        ["b#0", "started"],
    ]
    assert [p[0] for p in pods] == [10.0, 11.0, 11.0, 13.0]
    # The old container's figures stay with it: three containers in the report, two live.
    assert len(report.services["b"].per_replica) == 3
    assert report.services["b"].replicas == 2


def test_crash_with_duration_keeps_the_pod_down() -> None:
    b = {"replicas": 2, "workers": 50, "startupTime": "2s", "endpoints": {"e": {"work": "10ms"}}}
    arch = _pair(
        [{"type": "crash", "target": "b", "replicas": 1, "at": "5s", "duration": "10s"}], b=b
    )
    run = simulate(arch, seed=1, scenario="f").runs[0]
    started = [p[0] for p in run.extras["resilience"]["pods"] if p[2] == "started"]
    assert started == [17.0]  # down 10 s, then 2 s to start
    ready = run.series.services["b"]["ready"]
    assert ready[10] == 1.0
    assert ready[20] == 2.0


def test_outage_refuses_every_call_until_it_ends() -> None:
    arch = _pair([{"type": "outage", "target": "b", "at": "10s", "duration": "5s"}])
    run = simulate(arch, seed=1, scenario="f").runs[0]
    cols = run.series.entries["a.e"]
    for w in range(10, 15):
        assert cols["errors"][w] == cols["count"][w]
    assert sum(cols["errors"][:10]) == 0  # type: ignore[arg-type]
    assert sum(cols["errors"][16:]) == 0  # type: ignore[arg-type]


def test_partition_fails_calls_between_the_two_services_both_ways() -> None:
    arch = architecture(
        {
            "a": service("1ms", workers=50, steps=[{"call": "b.e"}]),
            "b": service("1ms", workers=50, steps=[{"call": "c.e"}]),
            "c": service("1ms", workers=50),
        },
        poisson("100/s", "a.e"),
        duration="20s",
        scenarios={
            "f": {
                "faults": [
                    {"type": "partition", "between": ["c", "b"], "at": "5s", "duration": "5s"}
                ]
            }
        },
    )
    run = simulate(arch, seed=1, scenario="f").runs[0]
    cols = run.series.entries["a.e"]
    assert all(cols["errors"][w] == cols["count"][w] for w in range(5, 10))
    assert sum(cols["errors"][11:]) == 0  # type: ignore[arg-type]
    assert run.report.services["c"].endpoints["e"].errors["unavailable"] > 0
    assert run.report.services["b"].endpoints["e"].errors["unavailable"] > 0


def test_database_outage_fails_queries_and_the_pool_comes_back() -> None:
    arch = architecture(
        {"s": {"workers": 50, "endpoints": {"e": {"work": "1ms", "steps": [{"query": "db"}]}}}},
        poisson("100/s", "s.e"),
        duration="20s",
        databases={
            "db": {"engine": "postgresql", "owner": "s", "pool": 5, "latency": {"read": "2ms"}}
        },
        scenarios={
            "f": {"faults": [{"type": "outage", "target": "db", "at": "5s", "duration": "5s"}]}
        },
    )
    run = simulate(arch, seed=1, scenario="f").runs[0]
    cols = run.series.entries["s.e"]
    assert all(cols["errors"][w] == cols["count"][w] for w in range(5, 10))
    assert sum(cols["errors"][11:]) == 0  # type: ignore[arg-type]
    assert run.report.databases["db"].failures == run.report.totals.errors["unavailable"]


def test_broker_outage_holds_publishers_until_the_broker_is_back() -> None:
    arch = architecture(
        {
            "s": {"workers": 500, "endpoints": {"e": {"work": "1ms", "steps": [{"publish": "t"}]}}},
            "c": {"workers": 10, "endpoints": {"on": {"work": "1ms"}}},
        },
        poisson("50/s", "s.e"),
        duration="20s",
        brokers={
            "k": {
                "type": "kafka",
                "publishLatency": "2ms",
                "deliveryLatency": "1ms",
                "topics": {"t": {"consumers": [{"service": "c", "endpoint": "on"}]}},
            }
        },
        scenarios={
            "f": {"faults": [{"type": "outage", "target": "k", "at": "5s", "duration": "5s"}]}
        },
    )
    run = simulate(arch, seed=1, scenario="f").runs[0]
    assert run.report.totals.error_rate == 0.0
    latency = run.report.totals.latency.max
    assert latency is not None and 4.9 < latency < 5.01  # published at ~5 s, acknowledged at 10 s
    assert run.report.topics["t"].lag.max is not None and run.report.topics["t"].lag.max > 4.9


def test_faults_are_deterministic() -> None:
    arch = _pair(
        [
            {"type": "crash", "target": "b", "replicas": 1, "at": "5s"},
            {"type": "errors", "target": "b", "rate": 0.1, "at": "8s", "duration": "5s"},
        ]
    )
    one = simulate(arch, seed=4, scenario="f").to_json()
    two = simulate(arch, seed=4, scenario="f").to_json()
    assert one == two


def test_a_fault_that_cannot_apply_is_refused_with_a_clear_error() -> None:
    arch = architecture(
        {"s": {"workers": 5, "endpoints": {"e": {"work": "1ms", "steps": [{"query": "db"}]}}}},
        poisson("10/s", "s.e"),
        duration="5s",
        databases={"db": {"engine": "postgresql", "owner": "s"}},
        scenarios={"f": {"faults": [{"type": "errors", "target": "db", "rate": 0.5}]}},
    )
    with pytest.raises(SimulationError, match="errors on 'db'"):
        simulate(arch, scenario="f")
