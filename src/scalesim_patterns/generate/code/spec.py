"""A service's behaviour as data (`app/spec.json`): what the generated runtime executes.

Every name from the architecture file reaches the generated code only as a JSON value (written by
`json.dumps`, which escapes it), never as Python source, so no name can change the program.
Policies are resolved here, once, exactly as the simulator resolves them: a call's `clients:` entry
(`*` then the target's) merged with the step's own fields; distributions are normalised to the
parameters the runtime draws from; Envoy retry conditions become the causes they retry.
"""

from __future__ import annotations

import json
import re
from typing import Any

from scalesim_patterns.model import Architecture
from scalesim_patterns.model.counts import Count, EmpiricalCount
from scalesim_patterns.model.distributions import (
    Constant,
    Distribution,
    Empirical,
    Erlang,
    Exponential,
    HyperExponential,
    LogNormal,
    Uniform,
)
from scalesim_patterns.model.resilience import (
    CAUSES,
    ClientPolicy,
    ConsecutiveFailureBreaker,
    EnvoyRetry,
    FailureRateBreaker,
    SemaphoreBulkhead,
)
from scalesim_patterns.model.service import Service
from scalesim_patterns.model.steps import (
    AppendStep,
    CacheStep,
    CallStep,
    ChoiceStep,
    GroupStep,
    ParallelStep,
    PublishStep,
    QueryStep,
    SagaStep,
    Step,
)

from ..cache_clients import VALUE_BYTES
from ..graph import endpoint_path
from ..names import env_key
from ..services import DEFAULT_LIVENESS, DEFAULT_READINESS

__all__ = ["SUPPORTED_ENGINES", "cache_spec", "distribution", "service_spec", "spec_json"]

SUPPORTED_ENGINES = frozenset({"postgresql", "mysql", "redis"})
"""Engines the generated code has a driver for; queries to others are skipped and reported."""

DEFAULT_STARTUP = "/health/started"


def distribution(d: Distribution) -> dict[str, Any]:
    """The parameters the runtime's `sample` draws from, in seconds."""
    if isinstance(d, Constant):
        return {"kind": "constant", "value": d.value}
    if isinstance(d, Exponential):
        return {"kind": "exponential", "mean": d.mean()}
    if isinstance(d, Uniform):
        return {"kind": "uniform", "min": d.min, "max": d.max}
    if isinstance(d, Erlang):
        return {"kind": "erlang", "k": d.k, "mean": d.mean()}
    if isinstance(d, LogNormal):
        mu, sigma = d.mu_sigma
        return {"kind": "lognormal", "mu": mu, "sigma": sigma}
    if isinstance(d, HyperExponential):
        return {"kind": "hyperexponential", "branches": [list(b) for b in d.branches()]}
    if isinstance(d, Empirical):
        return {"kind": "empirical", "points": [list(p) for p in d.points()]}
    raise TypeError(f"no runtime form for {type(d).__name__}")  # pragma: no cover


# Envoy retry conditions → the model's causes they retry (docs/resilience.md, the caller's sidecar:
# connect failures and resets are `unavailable`, a per-try timeout is `timeout`, 5xx answers by status).
_ENVOY_CAUSES: dict[str, tuple[str, ...]] = {
    "5xx": ("error", "timeout", "rejected", "unavailable"),
    "gateway-error": ("timeout", "rejected", "unavailable"),
    "reset": ("timeout", "unavailable"),
    "reset-before-request": ("unavailable",),
    "connect-failure": ("unavailable",),
    "retriable-status-codes": ("rejected", "unavailable"),
    "envoy-ratelimited": ("rate_limited",),
}


def _policy(policy: ClientPolicy) -> dict[str, Any]:
    out: dict[str, Any] = {"timeout": policy.timeout}
    retry = policy.retry
    if isinstance(retry, EnvoyRetry):
        causes = sorted({c for on in retry.retry_on for c in _ENVOY_CAUSES.get(on, ())})
        out["retry"] = {
            "style": "envoy",
            "attempts": retry.attempts,
            "per_try_timeout": retry.per_try_timeout,
            "base_interval": retry.base_interval,
            "max_interval": retry.max_interval
            if retry.max_interval is not None
            else 10 * retry.base_interval,
            "retry_on_causes": causes,
        }
    elif retry is not None:
        out["retry"] = {
            "style": "resilience4j",
            "max_attempts": retry.max_attempts,
            "wait": retry.wait,
            "backoff": retry.backoff,
            "multiplier": retry.multiplier,
            "randomization": retry.randomization,
            "max_wait": retry.max_wait,
            "retry_on_causes": sorted(retry.retry_on),
        }
    if policy.circuit_breaker is not None:
        cb = policy.circuit_breaker
        out["circuit_breaker"] = {  # as in Resilience4j: no record_on records every cause
            "record_on": sorted(cb.record_on) if cb.record_on is not None else None,
            "ignore_on": sorted(cb.ignore_on),
        }
    if policy.fallback is not None:
        fb = policy.fallback
        out["fallback"] = {
            "latency": distribution(fb.latency) if fb.latency is not None else None,
            "outcome": fb.outcome,
            "on": sorted(fb.on),
        }
    return out


def _breaker(policy: ClientPolicy) -> dict[str, Any] | None:
    b = policy.circuit_breaker
    if isinstance(b, FailureRateBreaker):
        return {
            "type": "failure-rate",
            "window_type": b.window_type,
            "window_size": b.window_size,
            "minimum_calls": b.minimum_calls,
            "failure_rate_threshold": b.failure_rate_threshold,
            "slow_call_rate_threshold": b.slow_call_rate_threshold,
            "slow_call_duration": b.slow_call_duration,
            "wait_in_open": b.wait_in_open,
            "permitted_in_half_open": b.permitted_in_half_open,
            "wait_multiplier": b.wait_multiplier,
            "max_wait": b.max_wait,
        }
    if isinstance(b, ConsecutiveFailureBreaker):
        return {"type": "consecutive", "fail_max": b.fail_max, "reset_timeout": b.reset_timeout}
    return None


def _bulkhead(policy: ClientPolicy) -> dict[str, Any] | None:
    b = policy.bulkhead
    if b is None:
        return None
    out: dict[str, Any]
    if isinstance(b, SemaphoreBulkhead):
        out = {"type": "semaphore", "max_concurrent": b.max_concurrent, "max_wait": b.max_wait}
    else:
        out = {
            "type": "thread-pool",
            "max_threads": b.max_threads,
            "queue_capacity": b.queue_capacity,
        }
    if b.per_consumer:
        out["per_consumer"] = True  # one per consumer (`X-Consumer-Username`), made on first use
    return out


class _Builder:
    """Walks one service's endpoints, collecting the policy instances its call sites share."""

    def __init__(self, arch: Architecture, name: str, svc: Service) -> None:
        self.arch = arch
        self.name = name
        self.svc = svc
        self.breakers: dict[str, dict[str, Any]] = {}
        self.bulkheads: dict[str, dict[str, Any]] = {}
        self.upstreams: set[str] = set()
        self.databases: set[str] = set()
        self.topics: dict[str, set[str]] = {}
        self.caches: set[str] = set()

    def call(self, step: CallStep, site: str) -> dict[str, Any]:
        target = self.arch.spec.services[step.service]
        endpoint = target.endpoints[step.endpoint]
        own = step.policy()
        merged = self.svc.client_policy(step.service).merged(own)
        client_key = f"client:{step.service}"
        breaker_key = bulkhead_key = None
        breaker = _breaker(merged)
        if breaker is not None:
            breaker_key = (
                f"site:{site}" if "circuit_breaker" in own.model_fields_set else client_key
            )
            self.breakers[breaker_key] = breaker
        bulkhead = _bulkhead(merged)
        if bulkhead is not None:
            bulkhead_key = f"site:{site}" if "bulkhead" in own.model_fields_set else client_key
            self.bulkheads[bulkhead_key] = bulkhead
        self.upstreams.add(step.service)
        return {
            "kind": "call",
            "call": step.call,
            "target": step.service,
            "method": endpoint.method,
            "path": _concrete(endpoint_path(step.endpoint, endpoint.path)),
            "probability": step.probability,
            "repeat": _count(step.repeat),
            "policy": _policy(merged),
            "breaker": breaker_key,
            "bulkhead": bulkhead_key,
        }

    def step(self, step: Step, site: str) -> dict[str, Any]:
        if isinstance(step, CallStep):
            return self.call(step, site)
        if isinstance(step, ChoiceStep):
            return {
                "kind": "choice",
                "options": [
                    {
                        "weight": o.weight,
                        "step": None if o.call is None else self.call(o.as_call(), f"{site}.{i}"),
                    }
                    for i, o in enumerate(step.choice)
                ],
            }
        if isinstance(step, CacheStep):
            # Cache-aside (app/runtime/caches.py): look the key up; on a miss run `miss` (the
            # backing store's read), then set the key with the cache's TTL.
            self.caches.add(step.cache)
            return {
                "kind": "cache",
                "cache": step.cache,
                "probability": step.probability,
                "miss": [self.step(s, f"{site}.{i}") for i, s in enumerate(step.miss)],
            }
        if isinstance(step, GroupStep):
            return {
                "kind": "group",
                "repeat": _count(step.repeat),
                "probability": step.probability,
                "steps": [self.step(s, f"{site}.{i}") for i, s in enumerate(step.steps)],
            }
        if isinstance(step, ParallelStep):
            return {
                "kind": "parallel",
                "probability": step.probability,
                "calls": [self.call(c, f"{site}.{i}") for i, c in enumerate(step.parallel)],
            }
        if isinstance(step, QueryStep):
            self.databases.add(step.query)
            return {
                "kind": "query",
                "database": step.query,
                "operation": step.operation,
                "repeat": _count(step.repeat),
                "probability": step.probability,
            }
        if isinstance(step, PublishStep):
            broker = _broker_of(self.arch, step.publish)
            self.topics.setdefault(broker, set()).add(step.publish)
            return {
                "kind": "publish",
                "broker": broker,
                "topic": step.publish,
                "probability": step.probability,
            }
        if isinstance(step, SagaStep):
            return {"kind": "saga", "saga": step.saga, "probability": step.probability}
        assert isinstance(step, AppendStep)
        return {
            "kind": "append",
            "store": step.append,
            "events": step.events,
            "probability": step.probability,
        }

    def saga_call(self, ref: str, site: str) -> dict[str, Any]:
        return self.call(CallStep.model_validate({"call": ref}), site)


HOT_KEYS = 100
"""A fixed `hitRatio` h is made real with keys: h of the lookups ask for one of `HOT_KEYS`
recurring keys (each misses once, then hits while cached), the rest for a key never asked before
(a miss). The cache itself decides every hit and miss."""


def cache_spec(arch: Architecture, key: str) -> dict[str, Any]:
    """What the runtime's cache-aside client needs for cache `key` (app/runtime/caches.py)."""
    cache = arch.spec.caches[key]
    if cache.popularity is not None:
        keys: dict[str, Any] = {
            "kind": "zipf",
            "keys": cache.popularity.keys,
            "exponent": cache.popularity.exponent,
        }
    else:
        assert cache.hit_ratio is not None  # the model asks for one or the other
        keys = {"kind": "fixed", "hit_ratio": cache.hit_ratio, "hot_keys": HOT_KEYS}
    return {
        "engine": cache.engine,
        "env": env_key(key),
        "prefix": f"{arch.name}:{key}:",
        "ttl": cache.ttl,
        "keys": keys,
        "value_bytes": VALUE_BYTES,
    }


def _count(count: Count) -> int | dict[str, Any]:
    """A repeat for the runtime's `count` (app/runtime/work.py)."""
    if isinstance(count, int):
        return count
    if isinstance(count, EmpiricalCount):
        return {"type": "empirical", "values": [[k, w] for k, w in sorted(count.values.items())]}
    return count.model_dump(by_alias=True)


def _concrete(path: str) -> str:
    """A path to request: template parameters (`{id}`) filled with `1`."""
    return re.sub(r"\{[^}]*\}", "1", path)


def _broker_of(arch: Architecture, topic: str) -> str:
    for key, broker in sorted(arch.spec.brokers.items()):
        if topic in broker.topics:
            return key
    raise KeyError(topic)  # pragma: no cover - validate refuses unknown topics


def service_spec(arch: Architecture, name: str) -> dict[str, Any]:
    """Everything the runtime needs to behave as service `name` of the file."""
    spec = arch.spec
    svc = spec.services[name]
    b = _Builder(arch, name, svc)
    endpoints: dict[str, Any] = {}
    for ep_name, ep in sorted(svc.endpoints.items()):
        endpoints[ep_name] = {
            "name": ep_name,
            "method": ep.method,
            "path": endpoint_path(ep_name, ep.path),
            "work": distribution(ep.work),
            "error_rate": ep.error_rate,
            "steps": [b.step(s, f"{ep_name}.{i}") for i, s in enumerate(ep.steps)],
        }
    sagas: dict[str, Any] = {}
    for saga_name, saga in sorted(spec.sagas.items()):
        if saga.mode != "orchestrated" or saga.orchestrator != name:
            continue
        if saga.state_store is not None:
            b.databases.add(saga.state_store)
        sagas[saga_name] = {
            "state_store": saga.state_store,
            "compensation_retries": saga.compensation_retries,
            "compensation_backoff": saga.compensation_backoff,
            "steps": [
                {
                    "name": s.name,
                    "action": b.saga_call(s.action, f"saga.{saga_name}.{s.name}"),
                    "compensation": b.saga_call(s.compensation, f"saga.{saga_name}.{s.name}.undo")
                    if s.compensation
                    else None,
                    "pivot": s.pivot,
                }
                for s in saga.steps
            ],
        }
    choreography = _choreography(arch, name, endpoints, b)
    consumers = []
    for key, broker in sorted(spec.brokers.items()):
        for topic, t in sorted(broker.topics.items()):
            for c in t.consumers:
                if c.service == name:
                    b.topics.setdefault(key, set()).add(topic)
                    consumers.append(
                        {
                            "broker": key,
                            "topic": topic,
                            "endpoint": c.endpoint,
                            "group": c.group or name,
                        }
                    )
    databases = {
        db: {
            "engine": spec.databases[db].engine,
            "env": env_key(db),
            "table": "scalesim_" + re.sub(r"[^a-z0-9]", "_", db.lower()),
            "pool": spec.databases[db].pool,
        }
        for db in sorted(b.databases)
        if db in spec.databases
    }
    brokers = {
        key: {
            "type": spec.brokers[key].type,
            "env": env_key(key),
            "prefix": f"{arch.name}.{key}",
            "stream": env_key(f"{arch.name}-{key}"),
            "topics": sorted(topics),
            # Every channel of the broker in the whole file: a NATS stream is made once, by
            # whichever service starts first, and must carry every service's subjects.
            "channels": _channels(arch, key),
        }
        for key, topics in sorted(b.topics.items())
    }
    caches = {key: cache_spec(arch, key) for key in sorted(b.caches) if key in spec.caches}
    health = svc.health
    readiness = health.readiness.path if health and health.readiness else None
    liveness = health.liveness.path if health and health.liveness else None
    startup = health.startup.path if health and health.startup else None
    out = {
        "architecture": arch.name,
        "service": name,
        "version": svc.version,
        "port": svc.port,
        "workers": svc.workers,
        "queue_capacity": svc.queue_capacity,
        "concurrency": svc.concurrency,
        **_scheduling(arch, svc),
        "endpoints": endpoints,
        "sagas": sagas,
        "choreography": choreography,
        "consumers": consumers,
        "databases": databases,
        "brokers": brokers,
        "unsupported": sorted(
            k for k, d in databases.items() if d["engine"] not in SUPPORTED_ENGINES
        ),
        "upstreams": {t: env_key(t) for t in sorted(b.upstreams)},
        "breakers": dict(sorted(b.breakers.items())),
        "bulkheads": dict(sorted(b.bulkheads.items())),
        "health": {
            "readiness": readiness or DEFAULT_READINESS,
            "liveness": liveness or DEFAULT_LIVENESS,
            "startup": startup or DEFAULT_STARTUP,
        },
        "causes": list(CAUSES),
    }
    if caches:  # only then: every other service's spec stays as it was
        out["caches"] = caches
    return out


def saga_channels(saga_name: str, steps: int) -> list[tuple[str, str]]:
    """(done, undo) channel of each step of a choreographed saga, in step order."""
    return [(f"saga-{saga_name}-{i}-done", f"saga-{saga_name}-{i}-undo") for i in range(steps)]


def saga_channel_names(arch: Architecture, key: str) -> list[str]:
    """The channels of every choreographed saga that broker `key` carries."""
    names: set[str] = set()
    for saga_name, saga in arch.spec.sagas.items():
        if saga.mode == "choreographed" and saga.broker == key:
            for done, undo in saga_channels(saga_name, len(saga.steps)):
                names.update((done, undo))
    return sorted(names)


def _channels(arch: Architecture, key: str) -> list[str]:
    return sorted(set(arch.spec.brokers[key].topics) | set(saga_channel_names(arch, key)))


def _choreography(
    arch: Architecture, name: str, endpoints: dict[str, Any], b: _Builder
) -> dict[str, Any]:
    """The choreographed sagas this service starts or takes part in.

    No coordinator: the starting endpoint runs step 0 (in-process on its own service, else a
    call) and publishes its `done` event; the service of step i reacts to step i−1's `done` by
    running its action in-process and publishing its own `done`, or, on a failure before the
    pivot, the `undo` of the newest earlier step with a compensation; each `undo` runs that
    step's compensation (retried) and passes the `undo` on to the next earlier one. After the
    pivot a failed step is retried until it succeeds (docs/sagas-and-rollouts.md).
    """
    out: dict[str, Any] = {}
    starts = {
        s["saga"] for ep in endpoints.values() for s in ep["steps"] if s.get("kind") == "saga"
    }
    for saga_name, saga in sorted(arch.spec.sagas.items()):
        if saga.mode != "choreographed" or saga.broker is None:
            continue
        services = [step.action.split(".", 1)[0] for step in saga.steps]
        if saga_name not in starts and name not in services:
            continue
        channels = saga_channels(saga_name, len(saga.steps))
        steps = []
        for (done, undo), step, service in zip(channels, saga.steps, services, strict=True):
            comp = step.compensation.split(".", 1)[1] if step.compensation else None
            steps.append(
                {
                    "name": step.name,
                    "service": service,
                    "action": step.action.split(".", 1)[1],
                    "compensation": comp,
                    "pivot": step.pivot,
                    "done": done,
                    "undo": undo,
                }
            )
        first = None
        if saga_name in starts and services[0] != name:
            first = b.saga_call(saga.steps[0].action, f"saga.{saga_name}.{saga.steps[0].name}")
        b.topics.setdefault(saga.broker, set()).update(c for pair in channels for c in pair)
        out[saga_name] = {
            "broker": saga.broker,
            "compensation_retries": saga.compensation_retries,
            "compensation_backoff": saga.compensation_backoff,
            "steps": steps,
            "first": first,
        }
    return out


def spec_json(spec: dict[str, Any]) -> str:
    """Stable text: sorted keys, fixed separators, a final newline."""
    return json.dumps(spec, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _scheduling(arch: Architecture, svc: Service) -> dict[str, Any]:
    """A priority-scheduled service's consumer priorities (the admission queue orders by them);
    nothing for a FIFO service, whose spec stays as it was."""
    if svc.scheduling != "priority":
        return {}
    priorities: dict[str, int] = {}
    for src in arch.spec.traffic.values():
        if src.consumer is not None and src.priority is not None:
            priorities[src.consumer] = src.priority
    if arch.spec.gateway is not None:
        for name, consumer in arch.spec.gateway.consumers.items():
            priorities[name] = consumer.priority
    return {"scheduling": "priority", "priorities": dict(sorted(priorities.items()))}
