"""A service's client policies as the `application.yml` a Spring Boot service with
resilience4j-spring-boot3 loads: `resilience4j.<module>.instances.<target>.*`.

One instance per target service, named after it (the name a `@CircuitBreaker(name = "...")`,
`@Retry`, `@Bulkhead` or `@TimeLimiter` annotation refers to). Property names and units are
Resilience4j's own (resilience4j.readme.io, Spring Boot 3 configuration):

- circuit breaker (failure-rate): `slidingWindowType` COUNT_BASED/TIME_BASED, `slidingWindowSize`,
  `minimumNumberOfCalls`, `failureRateThreshold`, `slowCallRateThreshold`,
  `slowCallDurationThreshold`, `waitDurationInOpenState`, `permittedNumberOfCallsInHalfOpenState`,
  and `enableExponentialBackoff` / `exponentialBackoffMultiplier` /
  `exponentialMaxWaitDurationInOpenState` for a growing open wait;
- circuit breaker (consecutive, pybreaker's `failMax`): Resilience4j has no consecutive breaker, so
  it is written as the equivalent count-based one — a window of `failMax` calls that opens at a
  100 % failure rate once it holds `failMax` calls opens exactly after `failMax` failures in a
  row — with one trial call in half-open;
- retry: `maxAttempts` (the first call included), `waitDuration`, `enableExponentialBackoff`,
  `exponentialBackoffMultiplier`, `exponentialMaxWaitDuration`, `enableRandomizedWait`,
  `randomizedWaitFactor`;
- bulkhead: `maxConcurrentCalls`, `maxWaitDuration`; thread-pool bulkhead: `coreThreadPoolSize`,
  `maxThreadPoolSize`, `queueCapacity`, `keepAliveDuration`;
- timeout: `resilience4j.timelimiter.instances.<target>.timeoutDuration`;
- a per-tenant bulkhead (`perConsumer`) is a shared configuration,
  `resilience4j.<bulkhead|thread-pool-bulkhead>.configs.<target>-per-consumer.*`, from which the
  service creates one instance per consumer through the registry (Spring Boot's `configs` are
  templates for instances made in code).

Which causes count or are retried (`recordOn`, `retryOn`) map to exception classes of the
service's HTTP client, which the file does not name: they stay in `clients.yaml`.
"""

from __future__ import annotations

from typing import Any

from scalesim_patterns.model.resilience import (
    ClientPolicy,
    ConsecutiveFailureBreaker,
    FailureRateBreaker,
    Resilience4jRetry,
    SemaphoreBulkhead,
    ThreadPoolBulkhead,
)
from scalesim_patterns.model.service import Service

__all__ = ["application_yml"]


def _duration(seconds: float) -> str:
    """Spring Boot's duration text: whole milliseconds (`200ms`), or seconds when exact."""
    ms = round(seconds * 1000)
    if ms % 1000 == 0 and ms:
        return f"{ms // 1000}s"
    return f"{ms}ms"


def _breaker(spec: FailureRateBreaker | ConsecutiveFailureBreaker) -> dict[str, Any]:
    if isinstance(spec, ConsecutiveFailureBreaker):
        return {
            "slidingWindowType": "COUNT_BASED",
            "slidingWindowSize": spec.fail_max,
            "minimumNumberOfCalls": spec.fail_max,
            "failureRateThreshold": 100,
            "waitDurationInOpenState": _duration(spec.reset_timeout),
            "permittedNumberOfCallsInHalfOpenState": 1,
        }
    out: dict[str, Any] = {
        "slidingWindowType": "COUNT_BASED" if spec.window_type == "count" else "TIME_BASED",
        "slidingWindowSize": spec.window_size,
        "minimumNumberOfCalls": spec.minimum_calls,
        "failureRateThreshold": spec.failure_rate_threshold,
        "slowCallRateThreshold": spec.slow_call_rate_threshold,
        "slowCallDurationThreshold": _duration(spec.slow_call_duration),
        "waitDurationInOpenState": _duration(spec.wait_in_open),
        "permittedNumberOfCallsInHalfOpenState": spec.permitted_in_half_open,
    }
    if spec.wait_multiplier > 1:
        out["enableExponentialBackoff"] = True
        out["exponentialBackoffMultiplier"] = spec.wait_multiplier
        if spec.max_wait is not None:
            out["exponentialMaxWaitDurationInOpenState"] = _duration(spec.max_wait)
    return out


def _retry(spec: Resilience4jRetry) -> dict[str, Any]:
    out: dict[str, Any] = {
        "maxAttempts": spec.max_attempts,
        "waitDuration": _duration(spec.wait),
    }
    if spec.backoff == "exponential":
        out["enableExponentialBackoff"] = True
        out["exponentialBackoffMultiplier"] = spec.multiplier
        if spec.max_wait is not None:
            out["exponentialMaxWaitDuration"] = _duration(spec.max_wait)
    if spec.randomization > 0:
        out["enableRandomizedWait"] = True
        out["randomizedWaitFactor"] = spec.randomization
    return out


def application_yml(svc: Service) -> dict[str, Any] | None:
    """The `resilience4j:` tree of the service's client policies, or None when it has none."""
    modules: dict[str, dict[str, Any]] = {}

    def put(module: str, target: str, values: dict[str, Any], kind: str = "instances") -> None:
        modules.setdefault(module, {}).setdefault(kind, {})[target] = values

    for target, policy in sorted(svc.clients.items()):
        if target == "*":
            continue  # a default for every target: written per named target only
        _policy(policy, target, put)
    if not modules:
        return None
    return {"resilience4j": dict(sorted(modules.items()))}


def _policy(policy: ClientPolicy, target: str, put: Any) -> None:
    if policy.circuit_breaker is not None:
        put("circuitbreaker", target, _breaker(policy.circuit_breaker))
    if isinstance(policy.retry, Resilience4jRetry):
        put("retry", target, _retry(policy.retry))
    # A per-tenant bulkhead is a shared config (`configs.<target>-per-consumer`) from which the
    # service makes one instance per consumer: `registry.bulkhead(target + ":" + consumer,
    # "<target>-per-consumer")`, the consumer read from the `X-Consumer-Username` header.
    bulkhead = policy.bulkhead
    if bulkhead is not None and bulkhead.per_consumer:
        name, kind = f"{target}-per-consumer", "configs"
    else:
        name, kind = target, "instances"
    if isinstance(bulkhead, SemaphoreBulkhead):
        put(
            "bulkhead",
            name,
            {
                "maxConcurrentCalls": bulkhead.max_concurrent,
                "maxWaitDuration": _duration(bulkhead.max_wait),
            },
            kind,
        )
    elif isinstance(bulkhead, ThreadPoolBulkhead):
        put(
            "thread-pool-bulkhead",
            name,
            {
                "coreThreadPoolSize": bulkhead.core_threads,
                "maxThreadPoolSize": bulkhead.max_threads,
                "queueCapacity": bulkhead.queue_capacity,
                "keepAliveDuration": _duration(bulkhead.keep_alive),
            },
            kind,
        )
    if policy.timeout is not None:
        put("timelimiter", target, {"timeoutDuration": _duration(policy.timeout)})
