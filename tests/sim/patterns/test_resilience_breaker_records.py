"""What a breaker records (issue 8, defect 3): every outcome, as Resilience4j's defaults do.

Resilience4j's `recordExceptions` is empty by default, meaning every exception is a failure, and
`ignoreExceptions` is empty; the bulkhead sits inside the breaker, so its rejections reach it.
"""

from __future__ import annotations

from typing import Any

import pytest

from scalesim_patterns.sim import simulate

from ..models import architecture, poisson, service

BREAKER = {"type": "failure-rate", "windowSize": 20, "minimumCalls": 10, "waitInOpen": "5s"}


def _bulkhead_bound(breaker: dict[str, Any] | None) -> Any:
    """10 calls/s to a 1 s dependency through a bulkhead of one permit: an Erlang loss system
    M/D/1/1, so a share a/(1+a) = 10/11 ≈ 91 % of the calls find the permit taken."""
    client: dict[str, Any] = {"bulkhead": {"maxConcurrent": 1}}
    if breaker is not None:
        client["circuitBreaker"] = breaker
    return architecture(
        {
            "a": service("1ms", workers=50, steps=[{"call": "b.e"}], clients={"b": client}),
            "b": service("1s", workers=10),
        },
        poisson("10/s", "a.e"),
        duration="200s",
        warmup="20s",
    )


def test_the_bulkhead_alone_refuses_ten_calls_in_eleven() -> None:
    # The premise of the next tests, against the Erlang loss formula (insensitive to the
    # service-time distribution): a = λ·E[S] = 10, blocking = a / (1 + a).
    entry = simulate(_bulkhead_bound(None), seed=2).runs[0].report.entries["a.e"]
    assert entry.errors["bulkhead_full"] / entry.count == pytest.approx(10 / 11, abs=0.02)


def test_bulkhead_rejections_open_the_breaker_by_default() -> None:
    report = simulate(_bulkhead_bound(BREAKER), seed=2).runs[0].report
    client = report.clients["a->b"]
    assert client.breaker_opened >= 1
    assert client.open_share > 0.5
    assert client.not_permitted > 0


def test_an_outcome_the_file_ignores_is_neither_success_nor_failure() -> None:
    ignoring = {**BREAKER, "ignoreOn": ["bulkhead_full"]}
    run = simulate(_bulkhead_bound(ignoring), seed=2).runs[0]
    client = run.report.clients["a->b"]
    assert client.breaker_opened == 0 and client.not_permitted == 0
    states = run.series.clients["a->b"]["breaker"]
    assert states and all(state == 0 for state in states)  # CLOSED throughout


def test_a_record_list_makes_other_outcomes_successes_as_in_resilience4j() -> None:
    # `recordOn` given: only those causes are failures; every other outcome counts as a success
    # (Resilience4j: "all other exceptions count as a success, unless explicitly ignored").
    from scalesim_patterns.sim import Engine

    engine = Engine(_bulkhead_bound({**BREAKER, "recordOn": ["error"]}), seed=2)
    engine.run()
    from scalesim_patterns.sim.patterns.resilience import GuardTable

    (guards,) = engine.plugins.obtain(GuardTable).values()
    breaker = guards.breaker
    assert breaker is not None
    assert breaker.failures == 0 and breaker.ignored == 0
    assert breaker.successes > 0.9 * breaker.permitted


def test_ignore_wins_over_record_and_unknown_causes_are_refused() -> None:
    both = {**BREAKER, "recordOn": ["bulkhead_full"], "ignoreOn": ["bulkhead_full"]}
    client = simulate(_bulkhead_bound(both), seed=2).runs[0].report.clients["a->b"]
    assert client.breaker_opened == 0
    with pytest.raises(ValueError, match="ignoreOn"):
        _bulkhead_bound({**BREAKER, "ignoreOn": ["teapot"]})
