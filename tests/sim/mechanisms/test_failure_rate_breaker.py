"""FailureRateBreaker: every Resilience4j transition on scripted sequences and a scripted clock."""

from __future__ import annotations

import pytest

from scalesim_patterns.sim.mechanisms import CLOSED, HALF_OPEN, OPEN, FailureRateBreaker


def feed(br: FailureRateBreaker, pattern: str, t: float = 0.0, duration: float = 0.01) -> None:
    """One permitted call per character at time t: S success, F failure, I ignored."""
    for c in pattern:
        assert br.try_acquire(t), f"call {c} at {t} was rejected"
        if c == "S":
            br.on_success(t, duration)
        elif c == "F":
            br.on_failure(t, duration)
        else:
            br.on_ignored(t)


def test_defaults_need_a_full_window_before_judging() -> None:
    br = FailureRateBreaker()
    feed(br, "F" * 99)  # 100 % failures, but only 99 of the 100 minimum calls
    assert br.state == CLOSED
    feed(br, "F")
    assert br.state == OPEN
    assert br.transitions == [(0.0, CLOSED, OPEN)]


def test_failure_rate_exactly_at_threshold_opens() -> None:
    br = FailureRateBreaker()
    feed(br, "S" * 50 + "F" * 50)  # 50/100 = 50 % >= 50 %
    assert br.state == OPEN


def test_failure_rate_just_below_threshold_stays_closed() -> None:
    br = FailureRateBreaker()
    feed(br, "F" * 49 + "S" * 51)  # 49 %
    assert br.state == CLOSED
    assert br.window_counts == (100, 49, 0)


def test_count_window_clamps_minimum_calls_to_its_size() -> None:
    # minimum_calls 100 > window 10: Resilience4j judges from the 10th call.
    br = FailureRateBreaker(window_size=10, minimum_calls=100)
    feed(br, "F" * 9)
    assert br.state == CLOSED
    feed(br, "F")
    assert br.state == OPEN


def test_time_window_does_not_clamp_minimum_calls() -> None:
    br = FailureRateBreaker(window_type="time", window_size=10, minimum_calls=20)
    feed(br, "F" * 19, t=0.5)
    assert br.state == CLOSED  # 19 calls < 20, although the window is "10" wide
    feed(br, "F", t=0.6)
    assert br.state == OPEN


def test_count_window_evicts_the_oldest_outcome() -> None:
    br = FailureRateBreaker(window_size=4, minimum_calls=4)
    feed(br, "SFSS")  # 1/4 = 25 %
    assert br.state == CLOSED
    feed(br, "F")  # window [F S S F]: 2/4 = 50 % (without eviction it would be 2/5)
    assert br.state == OPEN


def test_time_window_buckets_expire_by_whole_seconds() -> None:
    # A 2-second window covers the current second and the one before it.
    br = FailureRateBreaker(window_type="time", window_size=2, minimum_calls=2)
    feed(br, "F", t=0.5)  # bucket of second 0
    feed(br, "S", t=2.0)  # second 2: window = seconds {1, 2}; the failure has expired
    assert br.window_counts == (1, 0, 0)
    feed(br, "S", t=2.9)
    assert br.state == CLOSED
    assert br.window_counts == (2, 0, 0)


def test_time_window_keeps_the_previous_second() -> None:
    br = FailureRateBreaker(window_type="time", window_size=2, minimum_calls=2)
    feed(br, "F", t=0.5)
    feed(br, "S", t=1.99)  # seconds {0, 1}: F and S → 50 %
    assert br.state == OPEN


def test_time_window_gap_longer_than_window_clears_everything() -> None:
    br = FailureRateBreaker(window_type="time", window_size=3, minimum_calls=3)
    feed(br, "FF", t=0.1)
    feed(br, "S", t=100.0)
    assert br.window_counts == (1, 0, 0)
    feed(br, "SS", t=101.0)
    assert br.state == CLOSED


def test_slow_calls_are_strictly_above_the_duration() -> None:
    br = FailureRateBreaker(
        window_size=4, minimum_calls=4, slow_call_rate_threshold=50, slow_call_duration=1.0
    )
    feed(br, "SSSS", duration=1.0)  # exactly 1.0 s is not slow
    assert br.state == CLOSED
    assert br.slow_calls == 0
    feed(br, "S", duration=1.0)
    feed(br, "S", duration=1.001)  # window: 3 fast, 1 slow = 25 %
    assert br.state == CLOSED
    feed(br, "S", duration=1.5)  # 2 of 4 slow = 50 %
    assert br.state == OPEN
    assert br.failures == 0


def test_slow_failure_counts_as_failure_and_as_slow() -> None:
    br = FailureRateBreaker(
        window_size=2,
        minimum_calls=2,
        failure_rate_threshold=100,
        slow_call_rate_threshold=100,
        slow_call_duration=1.0,
    )
    feed(br, "S", duration=2.0)
    feed(br, "F", duration=2.0)  # slow 2/2 = 100 % (failure 1/2 alone would not open)
    assert br.state == OPEN
    assert (br.slow_calls, br.failures, br.successes) == (2, 1, 1)


def opened() -> FailureRateBreaker:
    br = FailureRateBreaker(
        window_size=4, minimum_calls=4, wait_in_open=10.0, permitted_in_half_open=3
    )
    feed(br, "FFFF", t=0.0)
    assert br.state == OPEN
    return br


def test_open_rejects_until_strictly_after_the_wait() -> None:
    br = opened()
    assert not br.try_acquire(5.0)
    assert not br.try_acquire(10.0)  # Instant.isAfter: not yet at exactly 10 s
    assert br.state == OPEN
    assert (br.rejected, br.failures) == (2, 4)
    assert br.try_acquire(10.001)
    assert br.state == HALF_OPEN
    assert br.transitions[-1] == (10.001, OPEN, HALF_OPEN)


def test_open_has_no_timer_of_its_own() -> None:
    br = opened()
    assert br.state == OPEN  # long after the wait nothing changes until a call arrives
    assert br.open_until == 10.0
    assert br.try_acquire(1000.0)
    assert br.state == HALF_OPEN


def test_half_open_permits_exactly_the_configured_calls() -> None:
    br = opened()
    assert [br.try_acquire(11.0) for _ in range(4)] == [True, True, True, False]
    assert br.rejected == 1


def test_half_open_closes_below_threshold_with_fresh_metrics() -> None:
    br = opened()
    feed(br, "SS", t=11.0)
    assert br.state == HALF_OPEN  # 2 of 3 results in
    feed(br, "F", t=11.5)  # 1/3 = 33 % < 50 %
    assert br.state == CLOSED
    assert br.window_counts == (0, 0, 0)
    feed(br, "FFF", t=12.0)  # a fresh 4-call window: 3 calls are below the minimum
    assert br.state == CLOSED


def test_half_open_reopens_when_breached() -> None:
    br = opened()
    feed(br, "SFF", t=11.0)  # 2/3 = 67 %
    assert br.state == OPEN
    assert br.open_until == 21.0
    assert [s for _, _, s in br.transitions] == [OPEN, HALF_OPEN, OPEN]


def test_half_open_decides_at_min_of_minimum_calls_and_permits() -> None:
    # Resilience4j's half-open window judges from min(minimumNumberOfCalls, permitted) results.
    br = FailureRateBreaker(
        window_size=10, minimum_calls=2, wait_in_open=1.0, permitted_in_half_open=5
    )
    feed(br, "FF")
    assert br.state == OPEN
    feed(br, "SS", t=2.0)
    assert br.state == CLOSED  # after 2 results, not 5


def test_ignored_error_returns_the_half_open_permit() -> None:
    br = FailureRateBreaker(
        window_size=1, minimum_calls=1, wait_in_open=1.0, permitted_in_half_open=1
    )
    feed(br, "F")
    assert br.try_acquire(2.0)
    assert not br.try_acquire(2.0)
    br.on_ignored(2.1)  # neither success nor failure: permit back, state unchanged
    assert br.state == HALF_OPEN
    assert br.window_counts == (0, 0, 0)
    assert br.try_acquire(2.2)
    br.on_success(2.3, 0.1)
    assert br.state == CLOSED
    assert (br.ignored, br.rejected) == (1, 1)


def test_ignored_errors_do_not_count_while_closed() -> None:
    br = FailureRateBreaker(window_size=2, minimum_calls=2)
    feed(br, "FIIII")
    assert br.state == CLOSED
    assert br.window_counts == (1, 1, 0)


def test_results_of_calls_admitted_before_opening_change_nothing() -> None:
    br = FailureRateBreaker(window_size=2, minimum_calls=2, wait_in_open=5.0)
    assert br.try_acquire(0.0)  # in flight while the breaker opens
    feed(br, "FF", t=0.1)
    assert br.state == OPEN
    br.on_success(0.5, 0.5)
    br.on_failure(0.6, 0.6)
    assert br.state == OPEN
    assert br.open_until == 5.1
    assert br.rejected == 0


def test_open_wait_backs_off_per_consecutive_reopen_and_resets_on_close() -> None:
    br = FailureRateBreaker(
        window_size=1,
        minimum_calls=1,
        wait_in_open=10.0,
        permitted_in_half_open=1,
        wait_multiplier=2.0,
        max_wait=25.0,
    )
    feed(br, "F", t=0.0)
    assert br.open_until == 10.0
    feed(br, "F", t=11.0)  # trial fails: 10 × 2
    assert br.open_until == 31.0
    feed(br, "F", t=32.0)  # 10 × 4 = 40, capped at 25
    assert br.open_until == 57.0
    feed(br, "S", t=58.0)
    assert br.state == CLOSED
    feed(br, "F", t=59.0)  # a new run of opens starts again at 10
    assert br.open_until == 69.0


def test_transitions_record_every_state_change_with_its_time() -> None:
    br = FailureRateBreaker(
        window_size=2, minimum_calls=2, wait_in_open=3.0, permitted_in_half_open=2
    )
    feed(br, "FF", t=1.0)
    assert not br.try_acquire(2.0)
    feed(br, "SS", t=4.5)
    assert br.transitions == [
        (1.0, CLOSED, OPEN),
        (4.5, OPEN, HALF_OPEN),
        (4.5, HALF_OPEN, CLOSED),
    ]
    assert (br.permitted, br.rejected, br.opened) == (4, 1, 1)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"window_type": "sliding"},
        {"window_size": 0},
        {"failure_rate_threshold": 0},
        {"slow_call_rate_threshold": 101},
        {"wait_multiplier": 0.5},
    ],
)
def test_invalid_configuration_is_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        FailureRateBreaker(**kwargs)  # type: ignore[arg-type]
