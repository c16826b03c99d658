"""Kubelet probes: threshold state machine, tick schedule, and the detection-time helpers
checked against a probe-by-probe simulation."""

from __future__ import annotations

import math
import random
import statistics

import pytest

from scalesim_patterns.sim.mechanisms import (
    Probe,
    detection_time,
    liveness_restart_time,
    mean_detection_delay,
    readiness_removal_time,
)


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


def test_first_probe_skips_ticks_inside_the_initial_delay() -> None:
    p = Probe(initial_delay=10.0)
    # Ticks at 0, 10, 20 …; container started at 3: tick 10 is 7 s in (skipped), 20 is 17 s.
    assert p.first_probe(3.0) == 20.0
    # Kubelet compares whole seconds: 9.5 s elapsed counts as 9 < 10.
    assert p.first_probe(0.5) == 20.0
    assert p.first_probe(0.0) == 10.0
    assert Probe().first_probe(3.0, phase=2.5) == 12.5


def test_detection_time_examples() -> None:
    # Failing from t=25 with probes at 0, 10, 20 …: failures at 30, 40, 50 → unready at 50.
    assert detection_time(25.0) == 50.0
    # A probe exactly at the start of the failure already fails.
    assert detection_time(30.0) == 50.0
    # A hung container: each failing probe reports after the 1 s timeout.
    assert readiness_removal_time(25.0, hang=True) == 50.0 + 1.0 + 1.0
    assert readiness_removal_time(25.0, phase=7.0, propagation_delay=2.0) == 27.0 + 20.0 + 2.0
    assert liveness_restart_time(25.0, failure_threshold=1) == 30.0


def simulate_unready_time(fail_start: float, phase: float, hang: bool) -> float:
    """Run a readiness probe tick by tick on a container that turns bad at fail_start."""
    p = Probe()
    t = phase
    while True:
        healthy = t < fail_start
        response_time = 0.01 if healthy else (5.0 if hang else 0.0)
        ok = p.passes(response_time, healthy)
        done = t + min(response_time, p.timeout)  # a hung probe reports at the timeout
        if p.observe(done, ok) == "UNREADY":
            return done
        t += p.period


@pytest.mark.parametrize("hang", [False, True])
@pytest.mark.parametrize("phase", [0.0, 3.25, 9.5])
@pytest.mark.parametrize("fail_start", [25.0, 30.0, 31.0, 47.75])
def test_helper_matches_probe_by_probe_simulation(
    fail_start: float, phase: float, hang: bool
) -> None:
    expected = simulate_unready_time(fail_start, phase, hang)
    assert (
        readiness_removal_time(fail_start, phase=phase, hang=hang, propagation_delay=0.0)
        == expected
    )


def test_mean_detection_delay_over_random_phases() -> None:
    # (3 − 1) × 10 + 10/2 = 25 s on average; 95 % CI from 4000 random phases.
    rng = random.Random(99)
    delays = [detection_time(100.0, phase=rng.random() * 10.0) - 100.0 for _ in range(4000)]
    mean = statistics.fmean(delays)
    half_width = 1.96 * statistics.stdev(delays) / math.sqrt(len(delays))
    assert abs(mean - mean_detection_delay()) < half_width
    assert mean_detection_delay() == 25.0
    assert min(delays) >= 20.0 and max(delays) <= 30.0


def test_invalid_configuration_is_refused() -> None:
    with pytest.raises(ValueError):
        Probe("liveness", success_threshold=2)
    with pytest.raises(ValueError):
        Probe(period=0.0)
    with pytest.raises(ValueError):
        Probe("sidecar")  # type: ignore[arg-type]
