"""ConsecutiveFailureBreaker against the real pybreaker, call for call, on the same clock.

pybreaker reads the wall clock through the `datetime` name imported into its module
(`datetime.now(UTC)` when opening and when checking the reset timeout); the tests swap that name
for a subclass whose `now()` returns a scripted time. Times are multiples of 1/64 s, exact both
as floats and in timedelta's microseconds, so boundary cases compare equal on both sides.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from unittest import mock

import pybreaker
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scalesim_patterns.sim.mechanisms import (
    CLOSED,
    HALF_OPEN,
    OPEN,
    ConsecutiveFailureBreaker,
)

EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
TICK = 1 / 64
STATE_NAMES = {"closed": CLOSED, "open": OPEN, "half-open": HALF_OPEN}


class Boom(Exception):
    pass


class Excluded(Exception):
    pass


class ScriptedClock:
    def __init__(self) -> None:
        self.t = 0.0


@contextmanager
def pybreaker_clock(clock: ScriptedClock) -> Iterator[None]:
    class FakeDatetime(datetime):
        @classmethod
        def now(cls, tz: object = None) -> datetime:  # type: ignore[override]
            return EPOCH + timedelta(seconds=clock.t)

    with mock.patch.object(pybreaker, "datetime", FakeDatetime):
        yield


def call_pybreaker(cb: pybreaker.CircuitBreaker, outcome: str) -> bool:
    """One synchronous call through pybreaker; True if the guarded function actually ran."""
    ran = False

    def guarded() -> None:
        nonlocal ran
        ran = True
        if outcome == "fail":
            raise Boom
        if outcome == "excluded":
            raise Excluded

    with suppress(pybreaker.CircuitBreakerError, Boom, Excluded):
        cb.call(guarded)
    return ran


def call_ours(br: ConsecutiveFailureBreaker, now: float, outcome: str) -> bool:
    if not br.try_acquire(now):
        return False
    if outcome == "fail":
        br.on_failure(now, 0.0)
    elif outcome == "excluded":
        br.on_ignored(now)
    else:
        br.on_success(now, 0.0)
    return True


def run_side_by_side(
    fail_max: int, reset_ticks: int, success_threshold: int, steps: list[tuple[int, str]]
) -> list[tuple[float, bool, str]]:
    clock = ScriptedClock()
    ours = ConsecutiveFailureBreaker(
        fail_max=fail_max, reset_timeout=reset_ticks * TICK, success_threshold=success_threshold
    )
    trace = []
    with pybreaker_clock(clock):
        real = pybreaker.CircuitBreaker(
            fail_max=fail_max,
            reset_timeout=reset_ticks * TICK,
            success_threshold=success_threshold,
            exclude=[Excluded],
        )
        ticks = 0
        for i, (dt, outcome) in enumerate(steps):
            ticks += dt
            clock.t = ticks * TICK
            ran_real = call_pybreaker(real, outcome)
            ran_ours = call_ours(ours, clock.t, outcome)
            where = f"step {i} at t={clock.t} ({outcome})"
            assert ran_ours == ran_real, where
            assert ours.state == STATE_NAMES[real.current_state], where
            assert ours.fail_counter == real.fail_counter, where
            assert ours.success_counter == real.success_counter, where
            trace.append((clock.t, ran_ours, ours.state))
    return trace


step = st.tuples(
    st.integers(min_value=0, max_value=400),
    st.sampled_from(["ok", "fail", "fail", "excluded"]),
)


@settings(max_examples=300, deadline=None)
@given(
    fail_max=st.integers(min_value=1, max_value=6),
    reset_ticks=st.integers(min_value=1, max_value=640),
    success_threshold=st.integers(min_value=1, max_value=3),
    steps=st.lists(step, max_size=60),
)
def test_matches_pybreaker_on_random_scripts(
    fail_max: int, reset_ticks: int, success_threshold: int, steps: list[tuple[int, str]]
) -> None:
    run_side_by_side(fail_max, reset_ticks, success_threshold, steps)


def test_defaults_open_on_fifth_consecutive_failure_and_match_pybreaker() -> None:
    # 4 failures, a success (resets the count), then 5 failures: open at the 5th of those.
    steps = [(64, "fail")] * 4 + [(64, "ok")] + [(64, "fail")] * 5 + [(64, "ok")]
    trace = run_side_by_side(5, 60 * 64, 1, steps)
    states = [s for _, _, s in trace]
    assert states[:9] == [CLOSED] * 9
    assert states[9] == OPEN
    assert trace[10] == (11.0, False, OPEN)  # rejected at once, 1 s after opening


def test_reset_timeout_boundary_matches_pybreaker() -> None:
    # Opens at t=1 (fail_max 1). pybreaker lets the trial through at exactly opened_at + timeout.
    steps = [(64, "fail"), (10 * 64 - 1, "ok"), (1, "ok"), (0, "ok")]
    trace = run_side_by_side(1, 10 * 64, 1, steps)
    assert trace[1] == (11.0 - TICK, False, OPEN)
    assert trace[2] == (11.0, True, CLOSED)
    assert trace[3] == (11.0, True, CLOSED)


def test_failed_trial_reopens_for_a_full_timeout() -> None:
    steps = [(0, "fail"), (640, "fail"), (639, "ok"), (1, "ok")]
    trace = run_side_by_side(1, 640, 1, steps)
    assert [s for _, _, s in trace] == [OPEN, OPEN, OPEN, CLOSED]
    assert [ran for _, ran, _ in trace] == [True, True, False, True]


def test_excluded_errors_count_as_successes_like_pybreaker() -> None:
    steps = [(1, "fail"), (1, "fail"), (1, "excluded"), (1, "fail"), (1, "fail")]
    trace = run_side_by_side(3, 64, 1, steps)
    assert trace[-1][2] == CLOSED  # the excluded error reset the count: only 2 in a row


def test_only_one_trial_in_flight_while_half_open() -> None:
    br = ConsecutiveFailureBreaker(fail_max=1, reset_timeout=5.0)
    assert br.try_acquire(0.0)
    br.on_failure(0.0, 0.1)
    assert br.state == OPEN
    assert br.try_acquire(5.0)  # the trial
    assert br.state == HALF_OPEN
    assert not br.try_acquire(5.1)  # a concurrent caller: rejected
    assert br.rejected == 1
    br.on_success(5.2, 0.2)
    assert br.state == CLOSED
    assert br.try_acquire(5.3)
    assert br.transitions == [(0.0, CLOSED, OPEN), (5.0, OPEN, HALF_OPEN), (5.2, HALF_OPEN, CLOSED)]


def test_rejections_are_not_failures() -> None:
    br = ConsecutiveFailureBreaker(fail_max=2, reset_timeout=60.0)
    for t in (0.0, 1.0):
        assert br.try_acquire(t)
        br.on_failure(t, 0.0)
    for t in range(2, 12):
        assert not br.try_acquire(float(t))
    assert (br.failures, br.rejected, br.permitted) == (2, 10, 2)


def test_invalid_configuration_is_refused() -> None:
    with pytest.raises(ValueError):
        ConsecutiveFailureBreaker(fail_max=0)
