"""The caller's sidecar: outlier ejection, connection-pool overflow, timeouts, host choice."""

from __future__ import annotations

import math
from typing import Any

import pytest

from scalesim_patterns.sim import simulate
from scalesim_patterns.sim.core.stats import estimate

from ..models import architecture, poisson, service

OUTLIERS = {
    "consecutive5xxErrors": 5,
    "interval": "1s",
    "baseEjectionTime": "5s",
    "maxEjectionPercent": 50,
}


def _hung_pod(mesh: dict[str, Any], replicas: int = 3) -> Any:
    return architecture(
        {
            "a": service("1ms", workers=50, steps=[{"call": "b.e"}]),
            "b": {"replicas": replicas, "workers": 10, "endpoints": {"e": {"work": "5ms"}}},
        },
        poisson("100/s", "a.e"),
        duration="60s",
        mesh={"enabled": True, "sidecarOverhead": "0s", **mesh},
        scenarios={
            "hang": {"faults": [{"type": "outage", "target": "b", "replicas": 1, "at": "20s"}]}
        },
    )


def test_outlier_detection_ejects_a_failing_host_and_returns_it_on_the_sweep() -> None:
    run = simulate(_hung_pod({"outlierDetection": OUTLIERS}), seed=1, scenario="hang").runs[0]
    (od,) = run.extras["resilience"]["outliers"]
    events = od["events"]
    assert {host for _, host, _ in events} == {"b#0"}
    ejected = [t for t, _, what in events if what == "EJECTED"]
    returned = [t for t, _, what in events if what == "RETURNED"]
    # Five refused calls in a row eject it (a third of 100/s reach it: ~0.15 s).
    assert 20.0 < ejected[0] < 20.5
    # Ejected for base × n (5 s, 10 s, 15 s …), back at the first 1 s sweep after that; still
    # dead, so five more failures eject it again for longer.
    for n, (out, back) in enumerate(zip(ejected, returned, strict=False), start=1):
        assert back == math.ceil(out + 5.0 * n)
    assert len(ejected) >= 3
    # The mesh's retries (connect-failure) send the refused calls elsewhere: nothing fails.
    assert run.report.totals.error_rate == 0.0
    assert run.report.clients["a->b"].ejections == len(ejected)
    assert run.series.services["b"]["ejected"][30] == 1.0


def test_istio_default_max_ejection_percent_never_ejects_from_a_small_pool() -> None:
    run = simulate(
        _hung_pod({"outlierDetection": {**OUTLIERS, "maxEjectionPercent": 10}}),
        seed=1,
        scenario="hang",
    ).runs[0]
    (od,) = run.extras["resilience"]["outliers"]
    assert [what for _, _, what in od["events"]] and {w for _, _, w in od["events"]} == {"OVERFLOW"}
    assert run.report.clients["a->b"].ejections == 0


def test_connection_pool_overflow_is_an_immediate_503_as_in_erlangs_loss_system() -> None:
    # 5 requests in flight at most; 20/s of 1 s calls offer 20 erlangs. Overflow is a loss
    # system, M/G/5/5, whose blocking probability is Erlang B(5, 20) whatever the service law.
    arch = architecture(
        {
            "a": service("1ms", workers=500, concurrency="async", steps=[{"call": "b.e"}]),
            "b": {
                "workers": 500,
                "endpoints": {"e": {"work": {"type": "exponential", "mean": "1s"}}},
            },
        },
        poisson("20/s", "a.e"),
        duration="300s",
        warmup="20s",
        mesh={
            "enabled": True,
            "sidecarOverhead": "0s",
            "retry": None,
            "connectionPool": {"http2MaxRequests": 5},
        },
    )
    result = simulate(arch, seed=1, replications=5)
    offered, c = 20.0, 5
    terms = [offered**k / math.factorial(k) for k in range(c + 1)]
    blocking = terms[-1] / sum(terms)
    shares = [
        r.report.clients["a->b"].overflow / r.report.clients["a->b"].mesh_calls for r in result.runs
    ]
    assert estimate(shares).contains(blocking)
    for r in result.runs:
        assert r.report.totals.errors["rejected"] == r.report.clients["a->b"].overflow
        assert r.report.services["b"].busy_mean <= 5.0


def test_no_healthy_upstream_when_every_host_is_ejected() -> None:
    run = simulate(
        _hung_pod({"outlierDetection": {**OUTLIERS, "maxEjectionPercent": 100}}, replicas=1),
        seed=1,
        scenario="hang",
    ).runs[0]
    client = run.report.clients["a->b"]
    assert client.ejections >= 1
    assert client.no_healthy_upstream > 0
    assert run.report.totals.errors["unavailable"] == run.report.totals.count - run.report.totals.ok


def test_per_try_and_route_timeouts() -> None:
    def arch(mesh: dict[str, Any]) -> Any:
        return architecture(
            {
                "a": service("1ms", workers=100, steps=[{"call": "b.e"}]),
                "b": {"workers": 100, "endpoints": {"e": {"work": "300ms"}}},
            },
            poisson("50/s", "a.e"),
            duration="20s",
            mesh={"enabled": True, "sidecarOverhead": "0s", **mesh},
        )

    # Per-try timeout 100 ms, retried on `reset` (Istio's default list would not): three tries.
    per_try = {
        "retry": {"style": "envoy", "attempts": 2, "perTryTimeout": "100ms", "retryOn": ["reset"]}
    }
    report = simulate(arch(per_try), seed=1).runs[0].report
    client = report.clients["a->b"]
    # Every finished call made three tries; calls still going at the end made fewer.
    assert 3 * report.totals.count <= client.mesh_attempts <= 3 * client.mesh_calls
    assert report.totals.errors["timeout"] == report.totals.count
    assert report.totals.ok == 0
    # The abandoned tries keep b busy: 3 tries × 300 ms × 50/s = 45 workers.
    assert report.services["b"].busy_mean == pytest.approx(45.0, rel=0.05)
    # A route timeout of 150 ms answers 504 whatever the retries.
    route = {"services": {"b": {"timeout": "150ms"}}}
    report = simulate(arch(route), seed=1).runs[0].report
    assert report.totals.errors["timeout"] == report.totals.count


def test_calls_lost_with_a_crashed_pod_are_resets_the_sidecar_retries_on_reset() -> None:
    # b's calls take 1 s, so about 25 are at work on the pod that crashes at 10 s. Their
    # sidecars see the connection reset: retried on another host when `reset` is in retryOn,
    # failed otherwise. New tries refused by the crashed pod until it leaves the balancer are
    # connect failures, retried in both cases.
    def run(retry_on: list[str]) -> Any:
        arch = architecture(
            {
                "a": service("1ms", workers=200, steps=[{"call": "b.e"}]),
                "b": {
                    "replicas": 2,
                    "workers": 100,
                    "startupTime": "1s",
                    "endpoints": {"e": {"work": "1s"}},
                },
            },
            poisson("50/s", "a.e"),
            duration="20s",
            mesh={
                "enabled": True,
                "sidecarOverhead": "0s",
                "retry": {"style": "envoy", "attempts": 2, "retryOn": retry_on},
            },
            scenarios={
                "f": {"faults": [{"type": "crash", "target": "b", "replicas": 1, "at": "10s"}]}
            },
        )
        return simulate(arch, seed=1, scenario="f").runs[0].report

    resets = run(["connect-failure", "reset"])
    lost = resets.services["b"].endpoints["e"].errors["unavailable"]
    assert lost > 10  # the calls at work on the crashed pod, and the refused tries
    assert resets.totals.errors["unavailable"] == 0.0
    no_resets = run(["connect-failure"])
    at_work = no_resets.totals.errors["unavailable"]
    # Only the calls at work when the pod crashed reach the caller: λ × 1 s / 2 pods ≈ 25.
    assert 10 <= at_work <= 45
