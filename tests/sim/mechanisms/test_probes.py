"""Kubelet probes: threshold state machine, tick schedule, and when a failing container is
detected when the probe runs tick by tick as the replica lifecycle runs it, against the
closed form (first failing tick + (failureThreshold − 1) periods + the timeout of a hang)."""

from __future__ import annotations

import math
import random
import statistics
from typing import Literal

import pytest

from scalesim_patterns.sim.mechanisms import Probe


def detection_time(
    fail_start: float, *, phase: float = 0.0, hang: bool = False, threshold: int = 3
) -> float:
    """Closed form, probe defaults (period 10 s, timeout 1 s): the first tick at or after
    `fail_start` fails, and `threshold` failures in a row report, each a timeout late if hung."""
    first = phase + math.ceil((fail_start - phase) / 10.0) * 10.0
    return first + (threshold - 1) * 10.0 + (1.0 if hang else 0.0)


def test_readiness_starts_unready_and_needs_failure_threshold_failures() -> None:
    p = Probe()
    assert p.state == "UNREADY"
    assert p.observe(0.0, True) == "READY"  # successThreshold 1
    assert p.observe(10.0, False) is None
    assert p.observe(20.0, False) is None
    assert p.observe(30.0, True) is None  # a success breaks the run
    assert [p.observe(t, False) for t in (40.0, 50.0, 60.0)] == [None, None, "UNREADY"]
    assert p.observe(70.0, False) is None  # already unready
    assert p.transitions == [(0.0, "UNREADY", "READY"), (60.0, "READY", "UNREADY")]


def test_readiness_success_threshold() -> None:
    p = Probe(success_threshold=2, failure_threshold=1)
    assert p.observe(0.0, True) is None
    assert p.observe(10.0, True) == "READY"
    assert p.observe(20.0, False) == "UNREADY"
    assert p.observe(30.0, True) is None
    assert p.observe(40.0, True) == "READY"


def test_liveness_failure_asks_for_a_restart_then_holds() -> None:
    p = Probe("liveness")
    assert p.state == "LIVE"
    assert [p.observe(t, False) for t in (10.0, 20.0, 30.0)] == [None, None, "RESTART"]
    assert p.observe(40.0, False) is None  # on hold until a new container
    assert p.observe(50.0, True) is None
    p.container_restarted(55.0)
    assert p.state == "LIVE"
    assert [p.observe(t, False) for t in (60.0, 70.0)] == [None, None]  # counting afresh
    assert p.observe(80.0, False) == "RESTART"


def test_startup_probe() -> None:
    p = Probe("startup", failure_threshold=2)
    assert p.state == "UNKNOWN"
    assert p.observe(0.0, False) is None
    assert p.observe(10.0, True) == "STARTED"


def test_probe_outcome_uses_the_timeout() -> None:
    p = Probe(timeout=1.0)
    assert p.passes(0.999)
    assert p.passes(1.0)
    assert not p.passes(1.001)
    assert not p.passes(0.01, healthy=False)


def test_ticks_inside_the_initial_delay_are_skipped() -> None:
    p = Probe(initial_delay=10.0)
    # Ticks at 0, 10, 20 …; container started at 3: tick 10 is 7 s in (skipped), 20 is 17 s.
    assert not p.due(3.0, 10.0) and p.due(3.0, 20.0)
    # Kubelet compares whole seconds: 9.5 s elapsed counts as 9 < 10.
    assert not p.due(0.5, 10.0) and p.due(0.5, 20.0)
    assert p.due(0.0, 10.0)
    assert Probe().due(3.0, 3.0)


def simulate_unready_time(
    fail_start: float,
    phase: float,
    hang: bool,
    kind: Literal["readiness", "liveness"] = "readiness",
    threshold: int = 3,
) -> float:
    """Run a probe tick by tick on a container that turns bad at fail_start; when the probe
    reports the container bad (unready, or to be restarted)."""
    p = Probe(kind, failure_threshold=threshold)
    t = phase
    while True:
        healthy = t < fail_start
        response_time = 0.01 if healthy else (5.0 if hang else 0.0)
        ok = p.passes(response_time, healthy)
        done = t + min(response_time, p.timeout)  # a hung probe reports at the timeout
        if p.observe(done, ok) in ("UNREADY", "RESTART"):
            return done
        t += p.period


@pytest.mark.parametrize("hang", [False, True])
@pytest.mark.parametrize("phase", [0.0, 3.25, 9.5])
@pytest.mark.parametrize("fail_start", [25.0, 30.0, 31.0, 47.75])
def test_probe_by_probe_detection_matches_the_closed_form(
    fail_start: float, phase: float, hang: bool
) -> None:
    got = simulate_unready_time(fail_start, phase, hang)
    assert got == detection_time(fail_start, phase=phase, hang=hang)


def test_detection_examples() -> None:
    # Failing from t=25 with probes at 0, 10, 20 …: failures at 30, 40, 50 → unready at 50.
    assert simulate_unready_time(25.0, 0.0, False) == 50.0
    # A probe exactly at the start of the failure already fails.
    assert simulate_unready_time(30.0, 0.0, False) == 50.0
    # A hung container: each failing probe reports after the 1 s timeout.
    assert simulate_unready_time(25.0, 0.0, True) == 51.0
    # Liveness with failureThreshold 1 restarts at the first failing probe.
    assert simulate_unready_time(25.0, 0.0, False, kind="liveness", threshold=1) == 30.0


def test_mean_detection_delay_over_random_phases() -> None:
    # (3 − 1) × 10 + 10/2 = 25 s on average; 95 % CI from 4000 random phases.
    rng = random.Random(99)
    delays = [simulate_unready_time(100.0, rng.random() * 10.0, False) - 100.0 for _ in range(4000)]
    mean = statistics.fmean(delays)
    half_width = 1.96 * statistics.stdev(delays) / math.sqrt(len(delays))
    assert abs(mean - 25.0) < half_width
    assert min(delays) >= 20.0 and max(delays) <= 30.0


def test_invalid_configuration_is_refused() -> None:
    with pytest.raises(ValueError):
        Probe("liveness", success_threshold=2)
    with pytest.raises(ValueError):
        Probe(period=0.0)
    with pytest.raises(ValueError):
        Probe("sidecar")  # type: ignore[arg-type]
