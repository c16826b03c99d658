"""Resilience policies a caller wraps around its calls.

Field names follow the components people deploy (Resilience4j, pybreaker, Envoy/Istio, Kong) and
every default is that component's real default (see docs/mechanisms.md), so a policy copied from a
production config means the same thing here.
"""

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator

from .base import Spec, empty_list, signed
from .distributions import Distribution
from .units import Duration

__all__ = [
    "CAUSES",
    "Bulkhead",
    "CircuitBreaker",
    "ClientPolicy",
    "ConsecutiveFailureBreaker",
    "EnvoyRetry",
    "FailureRateBreaker",
    "Fallback",
    "FixedWindowRateLimit",
    "RateLimit",
    "Resilience4jRetry",
    "Retry",
    "SemaphoreBulkhead",
    "ThreadPoolBulkhead",
    "TokenBucketRateLimit",
]

Cause = Literal[
    "error",
    "timeout",
    "rejected",
    "unavailable",
    "circuit_open",
    "bulkhead_full",
    "rate_limited",
    "unauthorized",
]
CAUSES: tuple[str, ...] = Cause.__args__  # type: ignore[attr-defined]
"""Why a call failed; every error the simulator counts carries one of these."""

_RETRY_ON: tuple[Cause, ...] = Cause.__args__  # type: ignore[attr-defined]
_FALLBACK_ON: tuple[Cause, ...] = (
    "circuit_open",
    "bulkhead_full",
    "timeout",
    "error",
    "unavailable",
)


def _default_tag(field: str, default: str) -> Any:
    def fill(value: Any) -> Any:
        if isinstance(value, dict) and field not in value:
            return {field: default, **value}
        return value

    return signed(fill)


class FailureRateBreaker(Spec):
    """Resilience4j CircuitBreaker: opens on the failure (or slow-call) rate of a sliding window."""

    type: Literal["failure-rate"] = "failure-rate"
    window_type: Literal["count", "time"] = "count"
    window_size: int = Field(100, ge=1)
    """Calls (count window) or one-second buckets (time window)."""
    minimum_calls: int = Field(100, ge=1)
    failure_rate_threshold: float = Field(50.0, gt=0, le=100)
    slow_call_rate_threshold: float = Field(100.0, gt=0, le=100)
    slow_call_duration: Duration = 60.0
    wait_in_open: Duration = 60.0
    permitted_in_half_open: int = Field(10, ge=1)
    wait_multiplier: float = Field(1.0, ge=1)
    """Back-off of the open wait per consecutive re-open; 1 keeps it fixed."""
    max_wait: Duration | None = None
    record_on: list[Cause] | None = None
    """Causes that count as failures (`recordExceptions`). Not given: every cause does, as
    Resilience4j's empty default means; given: the causes not listed count as successes."""
    ignore_on: list[Cause] = Field(default_factory=empty_list)
    """Causes that count as neither success nor failure (`ignoreExceptions`); wins over
    `record_on`. Empty by default, as in Resilience4j."""


class ConsecutiveFailureBreaker(Spec):
    """pybreaker / Hystrix-like: opens after `failMax` failures in a row, one trial after the timeout."""

    type: Literal["consecutive"] = "consecutive"
    fail_max: int = Field(5, ge=1)
    reset_timeout: Duration = 60.0
    record_on: list[Cause] | None = None
    """As for the failure-rate breaker: not given, every cause is a failure."""
    ignore_on: list[Cause] = Field(default_factory=empty_list)
    """pybreaker's `exclude`: these causes are not failures."""


CircuitBreaker = Annotated[
    FailureRateBreaker | ConsecutiveFailureBreaker,
    Field(discriminator="type"),
    BeforeValidator(_default_tag("type", "failure-rate")),
]


class Resilience4jRetry(Spec):
    """Application-level retry: `maxAttempts` counts the first call."""

    style: Literal["resilience4j"] = "resilience4j"
    max_attempts: int = Field(3, ge=1)
    wait: Duration = 0.5
    backoff: Literal["fixed", "exponential"] = "fixed"
    multiplier: float = Field(1.5, ge=1)
    randomization: float = Field(0.0, ge=0, lt=1)
    """Randomisation factor: the wait is drawn in [w(1−f), w(1+f)]."""
    max_wait: Duration | None = None
    retry_on: list[Cause] = Field(default_factory=lambda: list(_RETRY_ON))
    """Resilience4j retries every exception unless told otherwise, so every cause by default."""


class EnvoyRetry(Spec):
    """Mesh retry (Envoy/Istio): fully jittered back-off, prefers other hosts."""

    style: Literal["envoy"] = "envoy"
    attempts: int = Field(2, ge=0)
    """Retries after the first try (Istio `attempts`)."""
    per_try_timeout: Duration | None = None
    retry_on: list[str] = Field(
        default_factory=lambda: [
            "connect-failure",
            "refused-stream",
            "unavailable",
            "cancelled",
            "retriable-status-codes",
        ]
    )
    """Istio's default, whose retriable status codes are [503]."""
    base_interval: Duration = 0.025
    max_interval: Duration | None = None
    """Defaults to 10 × baseInterval (250ms)."""


Retry = Annotated[
    Resilience4jRetry | EnvoyRetry,
    Field(discriminator="style"),
    BeforeValidator(_default_tag("style", "resilience4j")),
]


class SemaphoreBulkhead(Spec):
    type: Literal["semaphore"] = "semaphore"
    max_concurrent: int = Field(25, ge=1)
    max_wait: Duration = 0.0
    per_consumer: bool = False
    """One bulkhead per consumer (tenant) the calls carry, so one tenant cannot take every
    permit (a per-tenant bulkhead); the breaker stays shared."""


class ThreadPoolBulkhead(Spec):
    """Java ThreadPoolExecutor order: core threads, then queue, then extra threads, then reject."""

    type: Literal["thread-pool"] = "thread-pool"
    core_threads: int = Field(1, ge=1)
    max_threads: int = Field(2, ge=1)
    queue_capacity: int = Field(100, ge=0)
    keep_alive: Duration = 0.02
    per_consumer: bool = False
    """One pool (its threads and its queue) per consumer (tenant) the calls carry, so one
    tenant's backlog never fills another's queue; the breaker stays shared."""

    @model_validator(mode="after")
    def _core_within_max(self) -> "ThreadPoolBulkhead":
        # Resilience4j's ThreadPoolBulkheadConfig.Builder refuses it too (IllegalArgumentException).
        if self.max_threads < self.core_threads:
            raise ValueError(
                f"maxThreads ({self.max_threads}) must be at least coreThreads ({self.core_threads})"
            )
        return self


Bulkhead = Annotated[
    SemaphoreBulkhead | ThreadPoolBulkhead,
    Field(discriminator="type"),
    BeforeValidator(_default_tag("type", "semaphore")),
]


class FixedWindowRateLimit(Spec):
    """Kong `rate-limiting`: calendar-aligned fixed windows; every configured limit must allow."""

    type: Literal["fixed-window"] = "fixed-window"
    second: int | None = Field(None, ge=1)
    minute: int | None = Field(None, ge=1)
    hour: int | None = Field(None, ge=1)
    day: int | None = Field(None, ge=1)
    policy: Literal["local", "cluster", "redis"] = "local"
    """`local` counts per gateway replica: N replicas let N × limit through."""
    limit_by: Literal["consumer", "ip"] = "consumer"
    """Kong's `limit_by`: one counter per consumer (requests without one share a counter, as
    Kong falls back to the client address), or `ip`: one counter for every simulated client."""

    def limits(self) -> list[tuple[float, int]]:
        """(window length in seconds, limit) for each configured window."""
        pairs = ((1.0, self.second), (60.0, self.minute), (3600.0, self.hour), (86400.0, self.day))
        return [(w, n) for w, n in pairs if n is not None]


class TokenBucketRateLimit(Spec):
    """Envoy local rate limit: a bucket that starts full, refilled at `tokensPerFill / fillInterval`.

    Current Envoy refills continuously; `refill: timer` gives older releases' discrete fills.
    """

    type: Literal["token-bucket"] = "token-bucket"
    max_tokens: int = Field(ge=1)
    tokens_per_fill: int = Field(1, ge=1)
    fill_interval: Duration
    refill: Literal["continuous", "timer"] = "continuous"


RateLimit = Annotated[
    FixedWindowRateLimit | TokenBucketRateLimit,
    Field(discriminator="type"),
    BeforeValidator(_default_tag("type", "fixed-window")),
]


class Fallback(Spec):
    """What the caller answers instead when the call fails or is not permitted."""

    latency: Distribution | None = None
    """Time the fallback takes; none means it answers at once."""
    outcome: Literal["success", "error"] = "success"
    on: list[Cause] = Field(default_factory=lambda: list(_FALLBACK_ON))


class ClientPolicy(Spec):
    """How a caller protects itself on calls to one dependency."""

    timeout: Duration | None = None
    retry: Retry | None = None
    circuit_breaker: CircuitBreaker | None = None
    bulkhead: Bulkhead | None = None
    fallback: Fallback | None = None

    def merged(self, override: "ClientPolicy | None") -> "ClientPolicy":
        """This policy with every field the override sets replaced."""
        if override is None:
            return self
        data = {key: getattr(self, key) for key in type(self).model_fields}
        for key in override.model_fields_set:
            data[key] = getattr(override, key)
        return ClientPolicy.model_construct(**data)
