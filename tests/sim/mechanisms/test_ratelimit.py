"""Rate limiters: Kong fixed windows (aligned, all limits, rejections uncounted, 2× boundary burst)
and Envoy's token bucket in both refill modes."""

from __future__ import annotations

import pytest

from scalesim_patterns.sim.mechanisms import FixedWindowRateLimiter, TokenBucket


def passes(limiter: FixedWindowRateLimiter | TokenBucket, times: list[float]) -> list[bool]:
    return [limiter.allow(t) for t in times]


def test_window_of_one_second_resets_at_the_boundary() -> None:
    rl = FixedWindowRateLimiter.kong(second=10)
    assert passes(rl, [0.1 * i for i in range(10)]) == [True] * 10
    assert not rl.allow(0.95)
    assert rl.allow(1.0)  # a new calendar second
    assert (rl.allowed, rl.rejected) == (11, 1)


def test_fixed_window_lets_twice_the_limit_through_around_a_boundary() -> None:
    rl = FixedWindowRateLimiter.kong(minute=10)
    burst = passes(rl, [59.5] * 10) + passes(rl, [60.0] * 10)
    assert burst == [True] * 20  # 20 requests within half a second under a 10/minute limit
    assert not rl.allow(60.1)
    assert rl.used(60.1) == (10,)


def test_every_configured_limit_must_allow_and_rejections_are_not_counted() -> None:
    rl = FixedWindowRateLimiter.kong(second=2, minute=5)
    assert passes(rl, [0.0, 0.0, 0.0]) == [True, True, False]  # second limit
    assert passes(rl, [1.0, 1.0, 1.5]) == [True, True, False]  # minute count now 4
    # Had the two rejected requests counted, the minute would already be used up.
    assert passes(rl, [2.0, 2.0]) == [True, False]  # 5th of the minute passes, then minute limit
    assert rl.used(2.0) == (1, 5)
    assert passes(rl, [60.0, 60.0, 60.0]) == [True, True, False]


def test_epoch_offset_moves_the_window_boundaries() -> None:
    rl = FixedWindowRateLimiter.kong(minute=10, epoch_offset=30.0)  # minutes start at t = 30, 90
    assert passes(rl, [29.0] * 10 + [31.0] * 10) == [True] * 20
    assert not rl.allow(89.9)
    assert rl.allow(90.0)


def test_local_policy_is_one_counter_per_gateway_replica() -> None:
    replicas = [FixedWindowRateLimiter.kong(second=5) for _ in range(3)]
    allowed = sum(replicas[i % 3].allow(0.5) for i in range(30))
    assert allowed == 15  # 3 replicas × 5


def test_limited_periods_are_recorded() -> None:
    rl = FixedWindowRateLimiter.kong(second=1)
    passes(rl, [0.0, 0.5, 0.7, 1.2])
    assert rl.transitions == [(0.5, "OPEN", "LIMITED"), (1.2, "LIMITED", "OPEN")]


def test_timer_bucket_refills_in_discrete_fills() -> None:
    tb = TokenBucket(10, tokens_per_fill=5, fill_interval=1.0, refill="timer")
    assert passes(tb, [0.0] * 11) == [True] * 10 + [False]
    assert not tb.allow(0.999)
    assert passes(tb, [1.0] * 6) == [True] * 5 + [False]
    assert tb.tokens(3.5) == 10.0  # two fills (t=2, 3) of 5, capped at max_tokens
    assert passes(tb, [3.5] * 11) == [True] * 10 + [False]


def test_timer_bucket_bursts_twice_around_a_fill() -> None:
    tb = TokenBucket(10, tokens_per_fill=10, fill_interval=1.0, refill="timer")
    assert passes(tb, [0.999] * 10 + [1.0] * 10 + [1.0]) == [True] * 20 + [False]


def test_continuous_bucket_refills_smoothly() -> None:
    tb = TokenBucket(10, tokens_per_fill=10, fill_interval=1.0)  # 10 tokens/s
    assert passes(tb, [0.5] * 11) == [True] * 10 + [False]  # full since start, capped at 10
    assert tb.tokens(0.75) == pytest.approx(2.5)
    assert passes(tb, [0.75] * 3) == [True, True, False]
    assert passes(tb, [0.999] * 10 + [1.0] * 10).count(True) == 3  # no 2× burst at 1.0


def test_continuous_bucket_long_run_rate_is_the_fill_rate() -> None:
    tb = TokenBucket(5, tokens_per_fill=1, fill_interval=0.1)  # 10/s
    offered = [i * 0.01 for i in range(1000)]  # 100/s for 10 s
    allowed = sum(passes(tb, offered))
    assert allowed == 104  # the initial 5 plus 9.99 s × 10/s = 99.9 refilled: floor(104.9)


def test_bucket_records_limited_periods() -> None:
    tb = TokenBucket(1, fill_interval=1.0, refill="timer")
    passes(tb, [0.0, 0.1, 0.2, 1.0])
    assert tb.transitions == [(0.1, "OPEN", "LIMITED"), (1.0, "LIMITED", "OPEN")]


@pytest.mark.parametrize(
    "make",
    [
        lambda: FixedWindowRateLimiter([]),
        lambda: FixedWindowRateLimiter([(0.0, 5)]),
        lambda: TokenBucket(5, fill_interval=0.0),
        lambda: TokenBucket(5, refill="leaky"),  # type: ignore[arg-type]
    ],
)
def test_invalid_configuration_is_refused(make: object) -> None:
    with pytest.raises(ValueError):
        make()  # type: ignore[operator]
