"""Retry policies: attempt counting, causes retried by default, and back-off values/distributions."""

from __future__ import annotations

import math
import random
import statistics

import pytest

from scalesim_patterns.sim.mechanisms import CAUSES, EnvoyRetryPolicy, RetryPolicy
from scalesim_patterns.sim.mechanisms.retry import envoy_retries_cause

# --- Resilience4j -------------------------------------------------------------------------


ALMOST_ONE = 1 - 1e-12
"""A uniform draw just below 1: the top of a retry's jitter range."""


def test_max_attempts_counts_the_first_call() -> None:
    policy = RetryPolicy()  # max_attempts 3 → 2 retries
    assert [policy.should_retry(n, "error") for n in (1, 2, 3)] == [True, True, False]
    assert not RetryPolicy(max_attempts=1).should_retry(1, "error")


def test_resilience4j_retries_every_cause_by_default() -> None:
    policy = RetryPolicy()
    assert policy.retryable == frozenset(CAUSES)
    assert policy.should_retry(1, "circuit_open")  # CallNotPermittedException is retried too
    assert policy.should_retry(1, "bulkhead_full")


def test_retry_on_and_ignore_narrow_the_causes() -> None:
    policy = RetryPolicy(retry_on=["error", "timeout", "unavailable"], ignore=["timeout"])
    assert policy.retryable == {"error", "unavailable"}
    assert not policy.should_retry(1, "timeout")
    assert not policy.should_retry(1, "rejected")


def test_fixed_wait_is_500ms() -> None:
    policy = RetryPolicy(max_attempts=4)
    assert [policy.backoff(n, 0.7) for n in (1, 2, 3)] == [0.5, 0.5, 0.5]


def test_exponential_wait_truncates_each_step_to_a_millisecond() -> None:
    # 500 → 750 → 1125 → 1687 (1687.5 truncated) → 2530 (1687 × 1.5 = 2530.5 truncated)
    policy = RetryPolicy(max_attempts=6, backoff="exponential")
    assert [policy.backoff(n, 0.0) for n in range(1, 6)] == [0.5, 0.75, 1.125, 1.687, 2.53]
    assert policy.backoff(8, 0.0) == pytest.approx(int(int(int(2530 * 1.5) * 1.5) * 1.5) / 1000)


def test_exponential_wait_is_capped_by_max_wait() -> None:
    policy = RetryPolicy(max_attempts=5, backoff="exponential", multiplier=2.0, max_wait=1.5)
    assert [policy.backoff(n, 0.0) for n in range(1, 5)] == [0.5, 1.0, 1.5, 1.5]


def test_randomised_wait_spans_plus_minus_the_factor() -> None:
    policy = RetryPolicy(randomization=0.5)  # 500ms ± 50 % → [250, 750)
    assert policy.backoff(1, 0.0) == 0.25
    assert policy.backoff(1, 0.5) == 0.5
    assert policy.backoff(1, 0.999999) == 0.749


def test_randomised_exponential_wait_is_capped_after_randomisation() -> None:
    policy = RetryPolicy(
        max_attempts=4, backoff="exponential", multiplier=2.0, randomization=0.5, max_wait=1.2
    )
    # retry 2: interval 1000ms, randomised to 500 + u·1000 → u=0.9: 1400 → capped at 1200
    assert policy.backoff(2, 0.9) == 1.2
    assert policy.backoff(2, 0.2) == 0.7


def test_randomised_wait_mean_matches_theory() -> None:
    # int(250 + 500u) for u ~ U[0,1): mean 499.5ms. 95 % CI from 20 000 draws.
    policy = RetryPolicy(randomization=0.5)
    rng = random.Random(20240601)
    waits = [policy.backoff(1, rng.random()) * 1000 for _ in range(20_000)]
    mean = statistics.fmean(waits)
    half_width = 1.96 * statistics.stdev(waits) / math.sqrt(len(waits))
    assert abs(mean - 499.5) < half_width
    assert min(waits) >= 250 and max(waits) < 750


@pytest.mark.parametrize(
    "kwargs",
    [{"max_attempts": 0}, {"wait": 0.0}, {"backoff": "linear"}, {"randomization": 1.5}],
)
def test_resilience4j_invalid_configuration_is_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


# --- Envoy / Istio ------------------------------------------------------------------------


def test_envoy_num_retries_excludes_the_first_try() -> None:
    policy = EnvoyRetryPolicy()  # 2 retries → 3 tries in all
    assert [policy.should_retry(n, "unavailable") for n in (1, 2, 3)] == [True, True, False]
    assert not EnvoyRetryPolicy(num_retries=0).should_retry(1, "unavailable")


def test_istio_default_policy_retries_connect_failures_and_503s_only() -> None:
    policy = EnvoyRetryPolicy()
    assert policy.retryable == {"unavailable", "rejected"}
    for cause in ("error", "timeout", "overflow", "circuit_open", "bulkhead_full", "rate_limited"):
        assert not policy.should_retry(1, cause), cause


def test_without_retriable_status_codes_503_is_not_retried() -> None:
    policy = EnvoyRetryPolicy(
        retry_on=["connect-failure", "refused-stream", "unavailable", "cancelled"]
    )
    assert policy.retryable == {"unavailable"}


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("5xx", {"error", "timeout", "rejected", "unavailable"}),
        ("gateway-error", {"timeout", "rejected", "unavailable"}),
        ("reset", {"timeout", "unavailable"}),
        ("connect-failure", {"unavailable"}),
        ("envoy-ratelimited", {"rate_limited"}),
        ("retriable-4xx", set()),
    ],
)
def test_envoy_conditions_map_to_causes(condition: str, expected: set[str]) -> None:
    got = {c for c in CAUSES if envoy_retries_cause(c, [condition], ())}
    assert got == expected


def test_envoy_never_retries_overflow_or_client_side_rejections() -> None:
    everything = ["5xx", "gateway-error", "reset", "connect-failure", "retriable-status-codes"]
    policy = EnvoyRetryPolicy(retry_on=everything, retriable_status_codes=[429, 500, 503])
    assert policy.retryable == {"error", "timeout", "rejected", "unavailable", "rate_limited"}


def test_envoy_backoff_ranges_double_up_to_the_max() -> None:
    policy = EnvoyRetryPolicy(num_retries=6)  # base 25ms, max 250ms
    # The largest wait of each retry is its range minus 1 ms (`random % range`, in ms).
    tops = [round(policy.backoff(n, ALMOST_ONE) + 0.001, 3) for n in range(1, 7)]
    assert tops == [0.025, 0.05, 0.1, 0.2, 0.25, 0.25]
    assert policy.backoff(1, 0.0) == 0.0
    assert policy.backoff(1, 0.9999) == 0.024
    assert policy.backoff(2, 0.9999) == 0.049
    assert policy.backoff(6, 0.5) == 0.125


def test_envoy_backoff_beyond_num_retries_keeps_the_capped_range() -> None:
    policy = EnvoyRetryPolicy()  # table holds 2 retries; later attempts are computed
    assert policy.backoff(7, ALMOST_ONE) == 0.249
    assert policy.backoff(7, 0.5) == 0.125


def test_documented_backoff_is_2n_minus_1_times_base_capped_at_max() -> None:
    policy = EnvoyRetryPolicy(num_retries=5, jitter="documented")
    tops = [round(policy.backoff(n, ALMOST_ONE) + 0.001, 3) for n in range(1, 4)]
    assert tops == [0.025, 0.075, 0.175]
    # Ranges of 375 ms from the 4th retry on: a draw of 0.6 gives 225 ms, 0.7 would give 262 ms,
    # capped at max_interval.
    assert policy.backoff(4, 0.6) == 0.225 and policy.backoff(5, 0.6) == 0.225
    assert policy.backoff(5, 0.7) == 0.25
    assert policy.backoff(4, 0.5) == 0.187
    assert policy.backoff(4, 0.9) == 0.25  # 337ms drawn, capped at 250ms


def test_envoy_backoff_means_match_theory() -> None:
    # floor(u·R) ms is uniform on {0 … R−1}: mean (R−1)/2. 95 % CI per retry, 20 000 draws each.
    policy = EnvoyRetryPolicy()
    rng = random.Random(7)
    for attempt, span in ((1, 25), (2, 50)):
        waits = [policy.backoff(attempt, rng.random()) * 1000 for _ in range(20_000)]
        mean = statistics.fmean(waits)
        half_width = 1.96 * statistics.stdev(waits) / math.sqrt(len(waits))
        assert abs(mean - (span - 1) / 2) < half_width, attempt
        assert max(waits) == span - 1


def test_envoy_max_interval_defaults_to_ten_times_base() -> None:
    policy = EnvoyRetryPolicy(base_interval=0.1)
    assert policy.max_interval == 1.0
    assert policy.prefer_other_hosts
    assert policy.per_try_timeout is None


@pytest.mark.parametrize(
    "kwargs",
    [
        {"retry_on": ["5xx", "typo"]},
        {"num_retries": -1},
        {"base_interval": 0.0},
        {"base_interval": 0.1, "max_interval": 0.05},
        {"jitter": "full"},
    ],
)
def test_envoy_invalid_configuration_is_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        EnvoyRetryPolicy(**kwargs)  # type: ignore[arg-type]


def test_backoff_attempts_start_at_one() -> None:
    with pytest.raises(ValueError):
        RetryPolicy().backoff(0, 0.5)
    with pytest.raises(ValueError):
        EnvoyRetryPolicy().backoff(0, 0.5)
