"""Circuit breakers at system level: a breaker in front of a dead dependency."""

from __future__ import annotations

from typing import Any

import pytest

from scalesim_patterns.sim import simulate

from ..models import architecture, poisson, service


def _dead_dependency(
    breaker: dict[str, Any], *, replicas: int = 1, back_at: str | None = None
) -> Any:
    fault: dict[str, Any] = {"type": "outage", "target": "b", "at": "20s"}
    if back_at is not None:
        fault["duration"] = back_at
    return architecture(
        {
            "a": service(
                "1ms",
                workers=50,
                replicas=replicas,
                steps=[{"call": "b.e"}],
                clients={
                    "b": {
                        "timeout": "100ms",
                        "circuitBreaker": breaker,
                        "fallback": {"latency": "2ms"},
                    }
                },
            ),
            "b": {"workers": 50, "endpoints": {"e": {"work": "10ms"}}},
        },
        poisson("100/s", "a.e"),
        duration="60s",
        scenarios={"dead": {"faults": [fault]}},
    )


FAILURE_RATE = {
    "type": "failure-rate",
    "windowSize": 20,
    "minimumCalls": 10,
    "waitInOpen": "5s",
    "permittedInHalfOpen": 3,
}


def test_breaker_holds_the_caller_latency_at_the_fallback_once_open() -> None:
    run = simulate(_dead_dependency(FAILURE_RATE), seed=3, scenario="dead").runs[0]
    means = run.series.entries["a.e"]["mean"]
    # Before: own work 1 ms + b's 10 ms. After: own work 1 ms + the 2 ms fallback, except for
    # the three trial calls every 5 s (refused at once, then the fallback too).
    assert means[10] == pytest.approx(0.011)
    for window in range(21, 60):
        assert means[window] == pytest.approx(0.003, rel=0.02), window
    states = run.series.clients["a->b"]["breaker"]
    assert set(states[:20]) == {0.0}
    assert set(states[21:]) == {2.0}


def test_breaker_transitions_follow_wait_in_open() -> None:
    run = simulate(_dead_dependency(FAILURE_RATE), seed=3, scenario="dead").runs[0]
    (record,) = run.extras["resilience"]["breakers"]
    transitions = record["transitions"]
    # Opens once the 20-call window is half failures: 10 refused calls at 100/s, ~0.1 s.
    t0, old, new = transitions[0]
    assert (old, new) == ("CLOSED", "OPEN")
    assert 20.0 < t0 < 20.5
    # Then every cycle: the first call strictly after the wait half-opens it; the dependency is
    # still dead, so the trial fails and it opens again.
    opened = t0
    for (t_half, a, b), (t_open, c, d) in zip(transitions[1::2], transitions[2::2], strict=False):
        assert (a, b, c, d) == ("OPEN", "HALF_OPEN", "HALF_OPEN", "OPEN")
        assert opened + 5.0 < t_half < opened + 5.0 + 0.2  # next arrival (100/s) after the wait
        assert t_open >= t_half
        opened = t_open
    spent = record["time_in_state"]
    lifetime = 60.0 - record["created"]  # made at the first call
    assert sum(spent.values()) == pytest.approx(lifetime)
    assert spent["CLOSED"] == pytest.approx(t0 - record["created"])
    report = run.report.clients["a->b"]
    assert report.open_share == pytest.approx(spent["OPEN"] / lifetime)
    assert report.not_permitted == record["not_permitted"]
    assert run.report.totals.error_rate == 0.0  # the fallback answered every refused call


def test_breaker_closes_again_when_the_dependency_returns() -> None:
    run = simulate(_dead_dependency(FAILURE_RATE, back_at="12s"), seed=3, scenario="dead").runs[0]
    (record,) = run.extras["resilience"]["breakers"]
    last = record["transitions"][-1]
    assert last[1:] == ["HALF_OPEN", "CLOSED"]
    assert 32.0 < last[0] < 36.0  # the first half-open cycle after b is back at 32 s
    assert run.series.entries["a.e"]["mean"][50] == pytest.approx(0.011)


def test_consecutive_breaker_opens_after_fail_max_and_tries_one_call_after_the_timeout() -> None:
    breaker = {"type": "consecutive", "failMax": 5, "resetTimeout": "3s"}
    run = simulate(_dead_dependency(breaker), seed=2, scenario="dead").runs[0]
    (record,) = run.extras["resilience"]["breakers"]
    assert record["type"] == "consecutive"
    transitions = record["transitions"]
    assert transitions[0][1:] == ["CLOSED", "OPEN"]
    report = run.report.clients["a->b"]
    # Only the first five calls after the outage reached b; then one trial per 3 s.
    cycles = (60.0 - transitions[0][0]) / 3.0
    assert report.attempts == pytest.approx(report.calls - report.not_permitted)
    refused = run.report.services["b"].endpoints["e"].errors["unavailable"]
    assert 5 + int(cycles) - 1 <= refused <= 5 + int(cycles) + 1


def test_each_caller_replica_has_its_own_breaker() -> None:
    run = simulate(_dead_dependency(FAILURE_RATE, replicas=3), seed=3, scenario="dead").runs[0]
    records = run.extras["resilience"]["breakers"]
    assert sorted(r["replica"] for r in records) == ["a#0", "a#1", "a#2"]
    assert all(r["transitions"][0][1:] == ["CLOSED", "OPEN"] for r in records)
    # Each sees a third of the calls, so each needs about three times as long to open.
    assert max(r["transitions"][0][0] for r in records) > 20.15
