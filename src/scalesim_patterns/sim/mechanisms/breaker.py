"""Circuit breakers as clock-driven state machines: Resilience4j's failure-rate breaker and
pybreaker's consecutive-failure breaker.

Both take the simulated time as an argument instead of reading a clock, so the engine drives them
with its own time and tests drive them with a scripted one. The engine's protocol per call is::

    if breaker.try_acquire(now):      # False: rejected at once ("not permitted")
        ...                            # later, when the call ends:
        breaker.on_success(now, duration) | breaker.on_failure(now, duration) | breaker.on_ignored(now)

Rejections are counted in `rejected` and never reach the failure counts. Every state change is
appended to `transitions` as `(time, from_state, to_state)`.

The semantics follow the libraries' source, not only their docs; docs/mechanisms.md lists where
the two differ and what the simulator does about it.
"""

from __future__ import annotations

import math
from typing import Final, Literal, Protocol

__all__ = [
    "CLOSED",
    "HALF_OPEN",
    "OPEN",
    "CircuitBreaker",
    "ConsecutiveFailureBreaker",
    "FailureRateBreaker",
]

CLOSED: Final = "CLOSED"
OPEN: Final = "OPEN"
HALF_OPEN: Final = "HALF_OPEN"

_FAILED: Final = 1
_SLOW: Final = 2


class CircuitBreaker(Protocol):
    """What the engine needs from either breaker family."""

    transitions: list[tuple[float, str, str]]
    rejected: int

    @property
    def state(self) -> str: ...

    def try_acquire(self, now: float) -> bool: ...

    def on_success(self, now: float, duration: float) -> None: ...

    def on_failure(self, now: float, duration: float) -> None: ...

    def on_ignored(self, now: float) -> None: ...


class _CountWindow:
    """The last `size` outcomes (Resilience4j FixedSizeSlidingWindowMetrics)."""

    __slots__ = ("failed", "pos", "ring", "size", "slow", "total")

    def __init__(self, size: int) -> None:
        self.size = size
        self.ring = [0] * size
        self.pos = 0
        self.total = 0
        self.failed = 0
        self.slow = 0

    def record(self, now: float, code: int) -> None:
        pos = self.pos
        if self.total == self.size:
            old = self.ring[pos]
            self.failed -= old & _FAILED
            self.slow -= old >> 1
        else:
            self.total += 1
        self.ring[pos] = code
        self.failed += code & _FAILED
        self.slow += code >> 1
        pos += 1
        self.pos = 0 if pos == self.size else pos


class _TimeWindow:
    """Outcomes of the last `size` whole seconds, current second included
    (Resilience4j SlidingTimeWindowMetrics: one bucket per epoch second)."""

    __slots__ = ("b_failed", "b_slow", "b_total", "failed", "head", "size", "slow", "total")

    def __init__(self, size: int, now: float) -> None:
        self.size = size
        self.b_total = [0] * size
        self.b_failed = [0] * size
        self.b_slow = [0] * size
        self.head = math.floor(now)
        self.total = 0
        self.failed = 0
        self.slow = 0

    def _advance(self, second: int) -> None:
        gap = second - self.head
        if gap <= 0:
            return
        size = self.size
        if gap >= size:
            for i in range(size):
                self.b_total[i] = self.b_failed[i] = self.b_slow[i] = 0
            self.total = self.failed = self.slow = 0
        else:
            for s in range(self.head + 1, second + 1):
                i = s % size
                self.total -= self.b_total[i]
                self.failed -= self.b_failed[i]
                self.slow -= self.b_slow[i]
                self.b_total[i] = self.b_failed[i] = self.b_slow[i] = 0
        self.head = second

    def record(self, now: float, code: int) -> None:
        second = math.floor(now)
        if second > self.head:
            self._advance(second)
        # A clock that steps back (it should not) lands in the current bucket, as in Resilience4j.
        i = self.head % self.size
        self.b_total[i] += 1
        self.total += 1
        if code & _FAILED:
            self.b_failed[i] += 1
            self.failed += 1
        if code & _SLOW:
            self.b_slow[i] += 1
            self.slow += 1


class _Breaker:
    """What both families share: the state, its recorded transitions and the call counters."""

    __slots__ = (
        "_state",
        "failures",
        "ignored",
        "opened",
        "permitted",
        "rejected",
        "successes",
        "transitions",
    )

    def __init__(self) -> None:
        self._state = CLOSED
        self.transitions: list[tuple[float, str, str]] = []
        self.permitted = 0
        self.rejected = 0
        self.successes = 0
        self.failures = 0
        self.ignored = 0
        self.opened = 0

    @property
    def state(self) -> str:
        """ "CLOSED", "OPEN" or "HALF_OPEN" (an OPEN failure-rate breaker stays OPEN past its
        wait until a call arrives)."""
        return self._state

    def _move(self, now: float, new_state: str) -> None:
        self.transitions.append((now, self._state, new_state))
        self._state = new_state


class FailureRateBreaker(_Breaker):
    """Resilience4j CircuitBreaker (CircuitBreakerStateMachine) with its defaults.

    CLOSED records every result in a sliding window (count- or time-based) and, after each
    recorded result, opens when the failure rate or the slow-call rate reaches its threshold —
    but only once the window holds `minimum_calls` results (count windows clamp that to the
    window size, time windows do not). OPEN rejects every call until `wait_in_open` has passed;
    the first call *after* that (strictly after, as `Instant.isAfter`) moves it to HALF_OPEN.
    HALF_OPEN hands out `permitted_in_half_open` permits and records into a fresh count window of
    that size; as soon as it holds min(minimum_calls, permitted) results it closes (fresh metrics)
    or re-opens, the wait growing by `wait_multiplier` per consecutive re-open up to `max_wait`.
    """

    __slots__ = (
        "_attempts",
        "_count_based",
        "_fail_threshold",
        "_min_closed",
        "_min_half_open",
        "_open_until",
        "_permits",
        "_slow_duration",
        "_slow_threshold",
        "_window",
        "max_wait",
        "permitted_in_half_open",
        "slow_calls",
        "wait_in_open",
        "wait_multiplier",
        "window_size",
    )

    def __init__(
        self,
        *,
        window_type: Literal["count", "time"] = "count",
        window_size: int = 100,
        minimum_calls: int = 100,
        failure_rate_threshold: float = 50.0,
        slow_call_rate_threshold: float = 100.0,
        slow_call_duration: float = 60.0,
        wait_in_open: float = 60.0,
        permitted_in_half_open: int = 10,
        wait_multiplier: float = 1.0,
        max_wait: float | None = None,
    ) -> None:
        if window_type not in ("count", "time"):
            raise ValueError(f"window_type must be 'count' or 'time', not {window_type!r}")
        if window_size < 1 or minimum_calls < 1 or permitted_in_half_open < 1:
            raise ValueError("window_size, minimum_calls and permitted_in_half_open must be >= 1")
        if not 0 < failure_rate_threshold <= 100 or not 0 < slow_call_rate_threshold <= 100:
            raise ValueError("rate thresholds are percentages in (0, 100]")
        if wait_multiplier < 1:
            raise ValueError("wait_multiplier must be >= 1")
        self._count_based = window_type == "count"
        self.window_size = window_size
        self._min_closed = min(minimum_calls, window_size) if self._count_based else minimum_calls
        self._min_half_open = min(minimum_calls, permitted_in_half_open)
        self._fail_threshold = float(failure_rate_threshold)
        self._slow_threshold = float(slow_call_rate_threshold)
        self._slow_duration = float(slow_call_duration)
        self.wait_in_open = float(wait_in_open)
        self.permitted_in_half_open = permitted_in_half_open
        self.wait_multiplier = float(wait_multiplier)
        self.max_wait = max_wait
        super().__init__()
        self._attempts = 0
        self._open_until = 0.0
        self._permits = 0
        self._window: _CountWindow | _TimeWindow = self._closed_window(0.0)
        self.slow_calls = 0

    @property
    def open_until(self) -> float:
        """End of the current (or last) open wait; calls are permitted strictly after it."""
        return self._open_until

    @property
    def window_counts(self) -> tuple[int, int, int]:
        """(recorded, failed, slow) results in the current state's window."""
        w = self._window
        return w.total, w.failed, w.slow

    def current_wait(self) -> float:
        """Open wait for the current attempt count: wait × multiplier^(attempt−1), capped."""
        wait = self.wait_in_open * self.wait_multiplier ** max(self._attempts - 1, 0)
        if self.max_wait is not None and wait > self.max_wait:
            wait = self.max_wait
        return wait

    def _closed_window(self, now: float) -> _CountWindow | _TimeWindow:
        if self._count_based:
            return _CountWindow(self.window_size)
        return _TimeWindow(self.window_size, now)

    def _open(self, now: float) -> None:
        self._attempts += 1
        self._open_until = now + self.current_wait()
        self.opened += 1
        self._move(now, OPEN)

    def _half_open(self, now: float) -> None:
        self._permits = self.permitted_in_half_open
        self._window = _CountWindow(self.permitted_in_half_open)
        self._move(now, HALF_OPEN)

    def _close(self, now: float) -> None:
        self._attempts = 0
        self._window = self._closed_window(now)
        self._move(now, CLOSED)

    def try_acquire(self, now: float) -> bool:
        """Whether a call may start now. False means rejected at once and is counted apart."""
        state = self._state
        if state is CLOSED:
            self.permitted += 1
            return True
        if state is OPEN:
            if now > self._open_until:
                self._half_open(now)
            else:
                self.rejected += 1
                return False
        if self._permits > 0:
            self._permits -= 1
            self.permitted += 1
            return True
        self.rejected += 1
        return False

    def on_success(self, now: float, duration: float) -> None:
        """A permitted call ended well after `duration` seconds (slow if strictly above)."""
        self.successes += 1
        if duration > self._slow_duration:
            self.slow_calls += 1
            self._record(now, _SLOW)
        else:
            self._record(now, 0)

    def on_failure(self, now: float, duration: float) -> None:
        """A permitted call ended with a recorded error after `duration` seconds."""
        self.failures += 1
        if duration > self._slow_duration:
            self.slow_calls += 1
            self._record(now, _FAILED | _SLOW)
        else:
            self._record(now, _FAILED)

    def on_ignored(self, now: float) -> None:
        """An ignored error: neither success nor failure; gives a HALF_OPEN permit back."""
        self.ignored += 1
        if self._state is HALF_OPEN:
            self._permits += 1

    def _record(self, now: float, code: int) -> None:
        state = self._state
        if state is OPEN:
            # A call admitted before the breaker opened; Resilience4j records it into metrics
            # the next state discards, so it changes nothing.
            return
        window = self._window
        window.record(now, code)
        total = window.total
        minimum = self._min_closed if state is CLOSED else self._min_half_open
        if total < minimum:
            return
        breached = (
            window.failed * 100.0 / total >= self._fail_threshold
            or window.slow * 100.0 / total >= self._slow_threshold
        )
        if breached:
            self._open(now)
        elif state is HALF_OPEN:
            self._close(now)


class ConsecutiveFailureBreaker(_Breaker):
    """pybreaker.CircuitBreaker, clock-driven.

    CLOSED counts consecutive failures (any success resets the count) and opens at `fail_max`.
    OPEN rejects until `reset_timeout` has passed since it opened; the first call at or after that
    moment is the trial (HALF_OPEN). A successful trial closes it once `success_threshold`
    successes are in (pybreaker's default 1); a failed one re-opens it for another full timeout.
    pybreaker serialises calls with a lock, so exactly one trial runs at a time; here concurrent
    callers are rejected while the trial is in flight. Excluded errors (`on_ignored`) count as
    successes, as pybreaker's `exclude` does.
    """

    __slots__ = (
        "_opened_at",
        "_trial_in_flight",
        "fail_counter",
        "fail_max",
        "reset_timeout",
        "success_counter",
        "success_threshold",
    )

    def __init__(
        self, *, fail_max: int = 5, reset_timeout: float = 60.0, success_threshold: int = 1
    ) -> None:
        if fail_max < 1 or success_threshold < 1:
            raise ValueError("fail_max and success_threshold must be >= 1")
        self.fail_max = fail_max
        self.reset_timeout = float(reset_timeout)
        self.success_threshold = success_threshold
        super().__init__()
        self._opened_at = 0.0
        self._trial_in_flight = False
        self.fail_counter = 0
        self.success_counter = 0

    def _open(self, now: float) -> None:
        self._opened_at = now
        self.success_counter = 0
        self._trial_in_flight = False
        self.opened += 1
        self._move(now, OPEN)

    def try_acquire(self, now: float) -> bool:
        """Whether a call may start now; False is a rejection (pybreaker's CircuitBreakerError)."""
        state = self._state
        if state is CLOSED:
            self.permitted += 1
            return True
        if state is OPEN:
            if now < self._opened_at + self.reset_timeout:
                self.rejected += 1
                return False
            self.success_counter = 0
            self._move(now, HALF_OPEN)
        if self._trial_in_flight:
            self.rejected += 1
            return False
        self._trial_in_flight = True
        self.permitted += 1
        return True

    def on_success(self, now: float, duration: float) -> None:
        self.successes += 1
        self._succeeded(now)

    def on_ignored(self, now: float) -> None:
        """An excluded error; pybreaker handles it exactly like a success."""
        self.ignored += 1
        self._succeeded(now)

    def _succeeded(self, now: float) -> None:
        self.fail_counter = 0
        if self._state is HALF_OPEN:
            self._trial_in_flight = False
            self.success_counter += 1
            if self.success_counter >= self.success_threshold:
                self.success_counter = 0
                self._move(now, CLOSED)

    def on_failure(self, now: float, duration: float) -> None:
        self.failures += 1
        self.fail_counter += 1
        state = self._state
        if state is CLOSED:
            if self.fail_counter >= self.fail_max:
                self._open(now)
        elif state is HALF_OPEN:
            self._open(now)
