"""Probes at system level: when the balancer notices a bad pod, when kubelet restarts it."""

from __future__ import annotations

from typing import Any

import pytest

from scalesim_patterns.sim import simulate

from ..models import architecture, poisson, service

READINESS = {"period": "2s", "failureThreshold": 3}
LIVENESS = {"period": "5s", "failureThreshold": 2}


def _pods(health: dict[str, Any] | None, fault: dict[str, Any], startup: str = "4s") -> Any:
    b: dict[str, Any] = {
        "replicas": 3,
        "workers": 10,
        "startupTime": startup,
        "endpoints": {"e": {"work": "5ms"}},
    }
    if health is not None:
        b["health"] = health
    return architecture(
        {"a": service("1ms", workers=50, steps=[{"call": "b.e"}]), "b": b},
        poisson("100/s", "a.e"),
        duration="60s",
        scenarios={"f": {"faults": [fault]}},
    )


HANG = {"type": "outage", "target": "b", "replicas": 1, "at": "20s"}


def _events(run: Any, what: str) -> list[float]:
    return [t for t, _, w in run.extras["resilience"]["pods"] if w == what]


def test_readiness_takes_a_hung_pod_out_after_failure_threshold_probes() -> None:
    for seed in range(1, 6):
        run = simulate(_pods({"readiness": READINESS}, HANG), seed=seed, scenario="f").runs[0]
        (unready,) = _events(run, "unready")
        # The first probe at or after 20 s fails, two more 2 s apart, then 1 s to propagate:
        # between (3 − 1) × 2 + 1 and 3 × 2 + 1 seconds after the hang.
        assert 25.0 <= unready <= 27.0
        errors = run.series.entries["a.e"]["errors"]
        assert sum(errors[int(unready) + 1 :]) == 0  # type: ignore[arg-type]
        assert all(errors[w] for w in range(20, int(unready)))  # refused until then


def test_without_probes_a_hung_pod_keeps_getting_calls() -> None:
    run = simulate(_pods(None, HANG), seed=1, scenario="f").runs[0]
    assert _events(run, "unready") == []
    errors = run.series.entries["a.e"]["errors"]
    counts = run.series.entries["a.e"]["count"]
    share = sum(errors[21:]) / sum(counts[21:])  # type: ignore[arg-type]
    assert share == pytest.approx(1 / 3, abs=0.02)


def test_liveness_restarts_the_pod_and_it_returns_after_its_start_up() -> None:
    health = {"readiness": READINESS, "liveness": LIVENESS}
    run = simulate(_pods(health, HANG), seed=2, scenario="f").runs[0]
    (restart,) = _events(run, "restart")
    assert 25.0 <= restart <= 30.0  # second failing probe, 5 s apart
    (started,) = _events(run, "started")
    assert started == pytest.approx(restart + 4.0)  # the container's start-up time
    ready = _events(run, "ready")
    assert len(ready) == 1
    # Readiness probes of the new container run every 2 s from its start: the first one after
    # it serves passes, and the endpoint is back 1 s later.
    assert started + 1.0 <= ready[0] <= started + 2.0 + 1.0
    assert run.series.services["b"]["ready"][50] == 3.0


def test_a_startup_probe_holds_liveness_back_while_a_slow_pod_starts() -> None:
    crash = {"type": "crash", "target": "b", "replicas": 1, "at": "10s"}
    slow_start = "20s"  # longer than liveness allows (2 × 5 s)
    without = simulate(
        _pods({"liveness": LIVENESS}, crash, startup=slow_start), seed=1, scenario="f"
    ).runs[0]
    # Liveness kills the container before it can start: a restart loop.
    assert len(_events(without, "restart")) >= 3
    assert _events(without, "started") == []
    startup = {"period": "2s", "failureThreshold": 15}
    with_ = simulate(
        _pods({"liveness": LIVENESS, "startup": startup}, crash, startup=slow_start),
        seed=1,
        scenario="f",
    ).runs[0]
    assert _events(with_, "restart") == []
    assert _events(with_, "started") == [30.0]


def test_readiness_keeps_a_restarted_pod_out_until_it_can_serve() -> None:
    crash = {"type": "crash", "target": "b", "replicas": 1, "at": "10s"}
    run = simulate(_pods({"readiness": READINESS}, crash), seed=1, scenario="f").runs[0]
    errors = run.series.entries["a.e"]["errors"]
    assert errors[10]  # in flight and during the 1 s propagation
    assert sum(errors[11:]) == 0  # type: ignore[arg-type]
    (started,) = _events(run, "started")
    assert started == 14.0
    assert _events(run, "ready")[0] >= started + 1.0
