"""Retry policies: Resilience4j's application-level Retry and Envoy's (Istio's) mesh retry.

Both answer the two questions the engine asks after a failed attempt:

* `should_retry(attempt_number, cause)` — `attempt_number` counts the attempts made so far, the
  failed one included (1 after the original call failed);
* `backoff(attempt, u)` — the wait before retry number `attempt` (1 = the first retry), from a
  uniform draw `u` in [0, 1) supplied by the caller, in seconds.

Causes are the engine's failure vocabulary (`CAUSES`). Which ones a style retries by default
differs, and that difference is the point of modelling both:

========================  ===================  ==============================================
cause                     Resilience4j default Envoy (Istio default retry policy)
========================  ===================  ==============================================
error (500 from the app)  retried              not retried (needs `5xx`)
timeout (per-try timeout) retried              not retried (needs `5xx`/`gateway-error`/`reset`)
rejected (503 from app)   retried              retried (`retriable-status-codes` 503)
overflow (proxy 503)      retried              never (Envoy never retries an overflow)
unavailable (connect)     retried              retried (`connect-failure`)
no_healthy_upstream       retried              never (no upstream attempt was made)
circuit_open              retried              never (rejected in the app, Envoy never sees it)
bulkhead_full             retried              never (idem)
rate_limited (429)        retried              not retried (needs 429 in retriable codes)
========================  ===================  ==============================================

Resilience4j retries every exception unless `retryExceptions`/`ignoreExceptions` say otherwise —
including its own CallNotPermittedException and BulkheadFullException.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Final, Literal, Protocol

__all__ = [
    "BULKHEAD_FULL",
    "CAUSES",
    "CIRCUIT_OPEN",
    "ERROR",
    "ISTIO_DEFAULT_RETRY_ON",
    "NO_HEALTHY_UPSTREAM",
    "OVERFLOW",
    "RATE_LIMITED",
    "REJECTED",
    "TIMEOUT",
    "UNAVAILABLE",
    "EnvoyRetryPolicy",
    "RetryPolicy",
    "RetryStyle",
    "envoy_retries_cause",
]

ERROR: Final = "error"
TIMEOUT: Final = "timeout"
REJECTED: Final = "rejected"
UNAVAILABLE: Final = "unavailable"
CIRCUIT_OPEN: Final = "circuit_open"
BULKHEAD_FULL: Final = "bulkhead_full"
RATE_LIMITED: Final = "rate_limited"
OVERFLOW: Final = "overflow"
NO_HEALTHY_UPSTREAM: Final = "no_healthy_upstream"

CAUSES: Final[tuple[str, ...]] = (
    ERROR,
    TIMEOUT,
    REJECTED,
    UNAVAILABLE,
    CIRCUIT_OPEN,
    BULKHEAD_FULL,
    RATE_LIMITED,
    OVERFLOW,
    NO_HEALTHY_UPSTREAM,
)
"""The engine's causes plus two the proxy distinguishes: `overflow` (connection-pool limit hit,
local 503) and `no_healthy_upstream` (nothing to send to, local 503)."""

ISTIO_DEFAULT_RETRY_ON: Final[frozenset[str]] = frozenset(
    {"connect-failure", "refused-stream", "unavailable", "cancelled", "retriable-status-codes"}
)
"""Istio's default route retry policy (pilot DefaultPolicy), used with retriable code 503."""

_KNOWN_ENVOY_CONDITIONS: Final = frozenset(
    {
        "5xx",
        "gateway-error",
        "reset",
        "reset-before-request",
        "connect-failure",
        "envoy-ratelimited",
        "retriable-4xx",
        "refused-stream",
        "retriable-status-codes",
        "retriable-headers",
        "http3-post-connect-failure",
        "cancelled",
        "deadline-exceeded",
        "internal",
        "resource-exhausted",
        "unavailable",
    }
)

_STATUS_OF_CAUSE: Final = {ERROR: 500, REJECTED: 503, RATE_LIMITED: 429}


class RetryStyle(Protocol):
    """What the engine needs from either retry style."""

    retryable: frozenset[str]

    def should_retry(self, attempt_number: int, cause: str) -> bool: ...

    def backoff(self, attempt: int, u: float) -> float: ...


def _ms(seconds: float) -> int:
    return round(seconds * 1000.0)


class RetryPolicy:
    """Resilience4j Retry: `max_attempts` counts the original call (default 3 = 2 retries).

    Waits are whole milliseconds as in Resilience4j's IntervalFunction: fixed `wait` (500ms), or
    exponential, where each step is the previous one times `multiplier` truncated to a
    millisecond (500, 750, 1125, 1687 …, i.e. `wait × multiplier^(n−1)` up to that truncation).
    A randomisation factor f draws the wait uniformly in [w(1−f), w(1+f)); `max_wait` caps the
    exponential wait after randomisation. `retry_on=None` retries every cause, as Resilience4j
    retries every exception by default; `ignore` removes causes.
    """

    __slots__ = (
        "_base_ms",
        "backoff_kind",
        "max_attempts",
        "max_wait",
        "multiplier",
        "randomization",
        "retryable",
        "wait",
    )

    def __init__(
        self,
        *,
        max_attempts: int = 3,
        wait: float = 0.5,
        backoff: Literal["fixed", "exponential"] = "fixed",
        multiplier: float = 1.5,
        randomization: float = 0.0,
        max_wait: float | None = None,
        retry_on: Iterable[str] | None = None,
        ignore: Iterable[str] = (),
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        if _ms(wait) < 1:
            raise ValueError("wait must be at least 1ms (Resilience4j rejects shorter intervals)")
        if backoff not in ("fixed", "exponential"):
            raise ValueError(f"backoff must be 'fixed' or 'exponential', not {backoff!r}")
        if multiplier < 1.0:
            raise ValueError("multiplier must be >= 1")
        if not 0.0 <= randomization <= 1.0:
            raise ValueError("randomization factor must be in [0, 1]")
        self.max_attempts = max_attempts
        self.wait = wait
        self.backoff_kind = backoff
        self.multiplier = multiplier
        self.randomization = randomization
        self.max_wait = max_wait
        causes = frozenset(CAUSES if retry_on is None else retry_on)
        self.retryable = causes - frozenset(ignore)
        # Un-randomised wait before retry n (index n-1) for every retry max_attempts allows.
        self._base_ms = tuple(self._interval_ms(n) for n in range(1, max(max_attempts, 2)))

    def _interval_ms(self, attempt: int) -> int:
        interval = _ms(self.wait)
        if self.backoff_kind == "exponential":
            for _ in range(attempt - 1):
                interval = int(interval * self.multiplier)
        return interval

    def should_retry(self, attempt_number: int, cause: str) -> bool:
        return attempt_number < self.max_attempts and cause in self.retryable

    def backoff(self, attempt: int, u: float) -> float:
        """Seconds to wait before retry `attempt` (1-based); `u` is used only when randomised."""
        if attempt < 1:
            raise ValueError("attempt is 1 for the first retry")
        base = self._base_ms
        interval = base[attempt - 1] if attempt <= len(base) else self._interval_ms(attempt)
        if self.randomization:
            delta = self.randomization * interval
            low = interval - delta
            interval = int(low + u * (2.0 * delta))
        if self.max_wait is not None and self.backoff_kind == "exponential":
            cap = _ms(self.max_wait)
            if interval > cap:
                interval = cap
        return interval / 1000.0


def envoy_retries_cause(cause: str, retry_on: Iterable[str], status_codes: Iterable[int]) -> bool:
    """Whether an Envoy route with these `retry_on` conditions retries a failure of this cause."""
    on = frozenset(retry_on)
    codes = frozenset(status_codes)
    by_code = "retriable-status-codes" in on and _STATUS_OF_CAUSE.get(cause, -1) in codes
    if cause == ERROR:
        return "5xx" in on or by_code
    if cause == REJECTED:
        return bool(on & {"5xx", "gateway-error"}) or by_code
    if cause == TIMEOUT:
        return bool(on & {"5xx", "gateway-error", "reset"})
    if cause == UNAVAILABLE:
        return bool(
            on & {"connect-failure", "5xx", "gateway-error", "reset", "reset-before-request"}
        )
    if cause == RATE_LIMITED:
        return "envoy-ratelimited" in on or by_code
    # overflow, no_healthy_upstream, circuit_open, bulkhead_full: never.
    return False


class EnvoyRetryPolicy:
    """Envoy route retry policy with Istio's defaults.

    `num_retries` retries after the original try (Istio `attempts`, default 2). Back-off is fully
    jittered in whole milliseconds. With `jitter="envoy"` (what current Envoy code does) the
    n-th retry waits uniformly in [0, min(2^(n−1)·base, max)); with `jitter="documented"` (what
    Envoy's docs and older releases say) it waits in [0, (2^n−1)·base), capped at max — the
    interval stops growing once past max, so the cap leaves a point mass at max.
    `max_interval` defaults to 10 × base. `per_try_timeout`, `prefer_other_hosts` and
    `host_selection_retry_max_attempts` are carried for the engine (Istio sets the latter to 5).
    """

    __slots__ = (
        "_intervals_ms",
        "_max_ms",
        "base_interval",
        "host_selection_retry_max_attempts",
        "jitter",
        "max_interval",
        "num_retries",
        "per_try_timeout",
        "prefer_other_hosts",
        "retriable_status_codes",
        "retry_on",
        "retryable",
    )

    def __init__(
        self,
        *,
        num_retries: int = 2,
        retry_on: Iterable[str] = ISTIO_DEFAULT_RETRY_ON,
        retriable_status_codes: Iterable[int] = (503,),
        base_interval: float = 0.025,
        max_interval: float | None = None,
        per_try_timeout: float | None = None,
        prefer_other_hosts: bool = True,
        host_selection_retry_max_attempts: int = 5,
        jitter: Literal["envoy", "documented"] = "envoy",
    ) -> None:
        if num_retries < 0:
            raise ValueError("num_retries must be >= 0")
        on = frozenset(retry_on)
        unknown = on - _KNOWN_ENVOY_CONDITIONS
        if unknown:
            raise ValueError(f"unknown Envoy retry_on condition(s): {sorted(unknown)}")
        base_ms = _ms(base_interval)
        if base_ms < 1:
            raise ValueError("base_interval must be at least 1ms")
        max_ms = 10 * base_ms if max_interval is None else _ms(max_interval)
        if max_ms < base_ms:
            raise ValueError("max_interval must be >= base_interval")
        if jitter not in ("envoy", "documented"):
            raise ValueError("jitter must be 'envoy' or 'documented'")
        self.num_retries = num_retries
        self.retry_on = on
        self.retriable_status_codes = frozenset(retriable_status_codes)
        self.base_interval = base_ms / 1000.0
        self.max_interval = max_ms / 1000.0
        self._max_ms = max_ms
        self.per_try_timeout = per_try_timeout
        self.prefer_other_hosts = prefer_other_hosts
        self.host_selection_retry_max_attempts = host_selection_retry_max_attempts
        self.jitter = jitter
        self.retryable = frozenset(
            c for c in CAUSES if envoy_retries_cause(c, on, self.retriable_status_codes)
        )
        self._intervals_ms = self._jitter_ranges(max(num_retries, 1), base_ms, max_ms, jitter)

    @staticmethod
    def _jitter_ranges(n: int, base_ms: int, max_ms: int, jitter: str) -> tuple[int, ...]:
        ranges = []
        if jitter == "envoy":
            # JitteredExponentialBackOffStrategy: double the range until it would pass max.
            nxt = base_ms
            for _ in range(n):
                ranges.append(nxt)
                nxt = nxt * 2 if nxt < max_ms // 2 else max_ms
        else:
            # The (2^n − 1)·base of the docs; the retry count stops once the range exceeds max.
            retry = 1
            for _ in range(n):
                span = ((1 << retry) - 1) * base_ms
                ranges.append(span)
                if span <= max_ms:
                    retry += 1
        return tuple(ranges)

    def _range_ms(self, attempt: int) -> int:
        ranges = self._intervals_ms
        if attempt <= len(ranges):
            return ranges[attempt - 1]
        base_ms = round(self.base_interval * 1000)
        return self._jitter_ranges(attempt, base_ms, self._max_ms, self.jitter)[-1]

    def should_retry(self, attempt_number: int, cause: str) -> bool:
        return attempt_number <= self.num_retries and cause in self.retryable

    def backoff(self, attempt: int, u: float) -> float:
        """Seconds before retry `attempt`: `random % range` in ms, capped at max_interval."""
        if attempt < 1:
            raise ValueError("attempt is 1 for the first retry")
        wait = math.floor(u * self._range_ms(attempt))
        if wait > self._max_ms:
            wait = self._max_ms
        return wait / 1000.0
