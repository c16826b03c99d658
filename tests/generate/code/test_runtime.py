"""The generated runtime's mechanisms, run in-process (the same text every service ships).

Checked against independent figures: distribution means against the model's own formulas, retry
waits against the simulator's Resilience4j retry, the aspect order by counting attempts.
"""

from __future__ import annotations

import asyncio
import math
import random
import statistics
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

from scalesim_patterns.generate.code import service_spec
from scalesim_patterns.generate.code.spec import distribution
from scalesim_patterns.model import loads
from scalesim_patterns.model.distributions import Distribution
from scalesim_patterns.sim.mechanisms.retry import RetryPolicy


@pytest.fixture(scope="module")
def runtime(generated_runtime: Callable[[str], ModuleType]) -> dict[str, ModuleType]:
    return {"work": generated_runtime("work"), "resilience": generated_runtime("resilience")}


def _dist(text: str) -> Distribution:
    arch = loads(
        "apiVersion: scalesim.dev/v1alpha1\nkind: Architecture\nmetadata: {name: d}\nspec:\n"
        f"  services:\n    s:\n      endpoints:\n        e: {{work: {text}}}\n"
        "  traffic:\n    t: {arrival: {process: poisson, rate: 1/s}, mix: [{endpoint: s.e}]}\n"
    )
    return arch.spec.services["s"].endpoints["e"].work


@pytest.mark.parametrize(
    "text",
    [
        "{type: constant, value: 3ms}",
        "{type: exponential, mean: 10ms}",
        "{type: uniform, min: 1ms, max: 5ms}",
        "{type: erlang, k: 3, mean: 6ms}",
        "{type: lognormal, p50: 2ms, p99: 12ms}",
        "{type: hyperexponential, mean: 10ms, scv: 4}",
        "{type: empirical, percentiles: {p50: 2ms, p90: 5ms, p99: 9ms, max: 20ms}}",
    ],
)
def test_sample_mean_matches_the_models_mean(runtime: dict[str, ModuleType], text: str) -> None:
    dist = _dist(text)
    rng = random.Random(7)
    draws = [runtime["work"].sample(distribution(dist), rng) for _ in range(40_000)]
    mean = statistics.fmean(draws)
    half_width = 4 * statistics.pstdev(draws) / math.sqrt(len(draws)) + 1e-12
    assert abs(mean - dist.mean()) <= half_width, (mean, dist.mean())


@pytest.mark.parametrize(
    "retry",
    [
        {"wait": 0.5, "backoff": "fixed", "multiplier": 1.5, "randomization": 0.0},
        {"wait": 0.5, "backoff": "exponential", "multiplier": 1.5, "randomization": 0.0},
        {"wait": 0.1, "backoff": "exponential", "multiplier": 2.0, "randomization": 0.5},
    ],
)
def test_retry_waits_match_the_simulators_resilience4j_retry(
    runtime: dict[str, ModuleType], retry: dict[str, Any]
) -> None:
    spec = {"style": "resilience4j", "max_attempts": 6, "max_wait": 0.7, **retry}
    reference = RetryPolicy(max_attempts=6, **retry, max_wait=0.7)
    for n in range(1, 6):
        u = random.Random(n).random()
        wait = runtime["resilience"]._Wait(spec, random.Random(n))

        class State:
            attempt_number = n

        assert wait(State()) == pytest.approx(reference.backoff(n, u)), n


def _policy(runtime: dict[str, ModuleType], text: str) -> Any:
    arch = loads(
        "apiVersion: scalesim.dev/v1alpha1\nkind: Architecture\nmetadata: {name: p}\nspec:\n"
        "  services:\n    a:\n      clients:\n        b: " + text + "\n"
        "      endpoints:\n        x: {work: 1ms, steps: [{call: b.y}]}\n"
        "    b:\n      endpoints:\n        y: {work: 1ms}\n"
        "  traffic:\n    t: {arrival: {process: poisson, rate: 1/s}, mix: [{endpoint: a.x}]}\n"
    )
    spec = service_spec(arch, "a")
    step = spec["endpoints"]["x"]["steps"][0]
    res = runtime["resilience"]
    breaker = res.Breaker(spec["breakers"][step["breaker"]]) if step["breaker"] else None
    bulkhead = res.Bulkhead(spec["bulkheads"][step["bulkhead"]]) if step["bulkhead"] else None
    return res.Policy(step["policy"], breaker, bulkhead, random.Random(1))


def test_retry_then_fallback_and_the_breaker_counts_every_attempt(
    runtime: dict[str, ModuleType],
) -> None:
    policy = _policy(
        runtime,
        "{retry: {maxAttempts: 3, wait: 1ms}, circuitBreaker: {type: consecutive, failMax: 10},"
        " fallback: {outcome: success}}",
    )
    attempts = []

    async def failing(timeout: float | None) -> Any:
        attempts.append(timeout)
        raise runtime["resilience"].CallFailed("error")

    result = asyncio.run(policy.run(failing))
    assert result == {"fallback": True, "cause": "error"}
    assert len(attempts) == 3
    assert policy.breaker.consecutive == 3


def test_timeout_is_per_attempt_and_is_a_timeout(runtime: dict[str, ModuleType]) -> None:
    policy = _policy(runtime, "{timeout: 20ms, retry: {maxAttempts: 2, wait: 1ms}}")
    seen = []

    async def slow(timeout: float | None) -> Any:
        seen.append(timeout)
        await asyncio.sleep(1)

    with pytest.raises(runtime["resilience"].CallFailed) as failure:
        asyncio.run(policy.run(slow))
    assert failure.value.cause == "timeout"
    assert seen == [pytest.approx(0.02), pytest.approx(0.02)]


def _bulkhead_refusal(runtime: dict[str, ModuleType], breaker: str) -> tuple[str, str]:
    """A second call refused by a one-permit bulkhead: its cause and the breaker's state."""
    policy = _policy(runtime, "{bulkhead: {maxConcurrent: 1}, circuitBreaker: " + breaker + "}")

    async def scenario() -> str:
        gate = asyncio.Event()

        async def held(timeout: float | None) -> Any:
            await gate.wait()
            return "ok"

        first = asyncio.create_task(policy.run(held))
        await asyncio.sleep(0.01)
        cause = "admitted"
        try:
            await policy.run(held)
        except runtime["resilience"].CallFailed as failure:
            cause = str(failure.cause)
        gate.set()
        await first
        return cause

    cause = asyncio.run(scenario())
    return cause, str(policy.breaker.state)


def test_bulkhead_rejection_is_recorded_by_the_breaker_by_default(
    runtime: dict[str, ModuleType],
) -> None:
    # Resilience4j records every exception unless told otherwise; the bulkhead sits inside.
    cause, state = _bulkhead_refusal(runtime, "{type: consecutive, failMax: 1}")
    assert (cause, state) == ("bulkhead_full", "OPEN")


def test_an_ignored_cause_is_not_recorded_by_the_breaker(runtime: dict[str, ModuleType]) -> None:
    breaker = "{type: consecutive, failMax: 1, ignoreOn: [bulkhead_full]}"
    assert _bulkhead_refusal(runtime, breaker) == ("bulkhead_full", "CLOSED")


def test_consecutive_breaker_opens_and_refuses(runtime: dict[str, ModuleType]) -> None:
    policy = _policy(
        runtime, "{circuitBreaker: {type: consecutive, failMax: 2, resetTimeout: 60s}}"
    )
    calls = []

    async def failing(timeout: float | None) -> Any:
        calls.append(1)
        raise runtime["resilience"].CallFailed("unavailable")

    causes = []
    for _ in range(4):
        try:
            asyncio.run(policy.run(failing))
        except runtime["resilience"].CallFailed as failure:
            causes.append(failure.cause)
    assert causes == ["unavailable", "unavailable", "circuit_open", "circuit_open"]
    assert len(calls) == 2


def test_an_error_fallback_is_marked_and_every_opening_is_counted(
    runtime: dict[str, ModuleType],
) -> None:
    # failMax 2, no retries: calls 1-2 open the breaker, call 3 is refused (circuit_open) and
    # answered by the error fallback; after the reset a failing trial re-opens it: two openings.
    policy = _policy(
        runtime,
        "{circuitBreaker: {type: consecutive, failMax: 2, resetTimeout: 10ms},"
        " fallback: {outcome: error, on: [circuit_open]}}",
    )
    failed = runtime["resilience"].CallFailed

    async def failing(timeout: float | None) -> Any:
        raise failed("error")

    async def scenario() -> list[tuple[str, bool]]:
        seen = []
        for pause in (0, 0, 0, 0.05):
            await asyncio.sleep(pause)
            try:
                await policy.run(failing)
            except failed as failure:
                seen.append((failure.cause, failure.fallback))
        return seen

    assert asyncio.run(scenario()) == [
        ("error", False), ("error", False), ("circuit_open", True), ("error", False),
    ]  # fmt: skip
    assert policy.breaker.opened == 2 and policy.breaker.state == "OPEN"


def test_a_late_answer_while_open_neither_reopens_nor_restarts_the_wait(
    runtime: dict[str, ModuleType],
) -> None:
    # Resilience4j's OpenState makes no transition on results of calls let through before it
    # opened: the breaker stays open from its first opening and counts one opening.
    now = [0.0]
    breaker = runtime["resilience"].Breaker(
        {"type": "consecutive", "fail_max": 2, "reset_timeout": 10.0}, clock=lambda: now[0]
    )
    breaker.record(True, 0.1)
    breaker.record(True, 0.1)
    assert breaker.state == "OPEN" and breaker.opened == 1 and breaker.opened_at == 0.0
    now[0] = 5.0
    breaker.record(True, 3.0)  # a slow call started before the opening
    assert breaker.state == "OPEN" and breaker.opened == 1 and breaker.opened_at == 0.0
