"""Per-consumer rate limits (Kong's `limit_by: consumer`): a greedy consumer is held to its own
window while another is not touched, checked against the fixed-window arithmetic."""

from __future__ import annotations

import math
from typing import Any

from scalesim_patterns.model import validate_text
from scalesim_patterns.sim import simulate

from ..models import architecture

Z = 4.0
SECONDS = 30


def shop(gateway_extra: dict[str, Any], *, greedy: str = "200/s", modest: str = "20/s") -> Any:
    svc = {"replicas": 2, "workers": 64, "endpoints": {"get": {"work": "1ms"}}}
    gateway = {
        "auth": {"type": "key-auth"},
        "routes": [{"path": "/api", "endpoint": "api.get"}],
        "consumers": {"acme": {}, "globex": {}},
        **gateway_extra,
    }
    traffic = {
        "greedy": {
            "consumer": "acme",
            "arrival": {"process": "poisson", "rate": greedy},
            "mix": [{"route": "/api"}],
        },
        "modest": {
            "consumer": "globex",
            "arrival": {"process": "poisson", "rate": modest},
            "mix": [{"route": "/api"}],
        },
    }
    return architecture({"api": svc}, traffic, duration=f"{SECONDS}s", gateway=gateway)


def limits(run: Any) -> dict[str, dict[str, Any]]:
    return {e["scope"]: e for e in run.extras["resilience"]["rate_limits"]}


def test_limit_by_consumer_holds_the_greedy_one_and_spares_the_other() -> None:
    arch = shop({"rateLimit": {"second": 50, "policy": "cluster"}})
    run = simulate(arch, seed=1, jobs=1).runs[0]
    by = limits(run)
    acme, globex = by["gateway, consumer acme"], by["gateway, consumer globex"]
    # 200/s offered against 50 a second: every one-second window fills (P(Poisson(200) < 50)
    # is about 1e-30), so exactly 50 × 30 pass.
    assert acme["allowed"] == 50 * SECONDS
    assert abs(acme["allowed"] + acme["rejected"] - 200 * SECONDS) <= Z * math.sqrt(200 * SECONDS)
    # 20/s never reaches 50 in a second (P(Poisson(20) >= 50) is about 1e-8): nothing refused.
    assert globex["rejected"] == 0
    assert abs(globex["allowed"] - 20 * SECONDS) <= Z * math.sqrt(20 * SECONDS)


def test_limit_by_ip_counts_everybody_together() -> None:
    arch = shop({"rateLimit": {"second": 50, "policy": "cluster", "limitBy": "ip"}})
    run = simulate(arch, seed=1, jobs=1).runs[0]
    (only,) = run.extras["resilience"]["rate_limits"]
    assert only["scope"] == "gateway"
    assert only["allowed"] == 50 * SECONDS  # the modest consumer now shares the greedy one's fate


def poisson_min_moments(lam: float, cap: int) -> tuple[float, float]:
    """Mean and variance of min(N, cap) for N ~ Poisson(lam), summed exactly."""
    mean = second = 0.0
    p = math.exp(-lam)
    for k in range(400):
        m = min(k, cap)
        mean += m * p
        second += m * m * p
        p *= lam / (k + 1)
    return mean, second - mean * mean


def test_a_consumers_own_limit_replaces_the_shared_one() -> None:
    arch = shop(
        {
            "rateLimit": {"second": 50, "policy": "cluster"},
            "consumers": {"acme": {}, "globex": {"rateLimit": {"second": 10, "policy": "cluster"}}},
        }
    )
    run = simulate(arch, seed=2, jobs=1).runs[0]
    by = limits(run)
    assert by["gateway, consumer acme"]["allowed"] == 50 * SECONDS
    globex = by["consumer globex"]
    # Each second lets min(N, 10) of globex's N ~ Poisson(20) arrivals through.
    mean, var = poisson_min_moments(20.0, 10)
    expected = mean * SECONDS
    assert abs(globex["allowed"] - expected) <= Z * math.sqrt(var * SECONDS), (globex, expected)
    assert globex["rejected"] > 0


BASE = """\
apiVersion: scalesim.dev/v1alpha1
kind: Architecture
metadata: {name: mini}
spec:
  gateway:
    GATEWAY
    routes: [{path: /api, endpoint: api.get}]
  services:
    api:
      endpoints: {get: {work: 1ms}}
  traffic:
    partner:
      consumer: CONSUMER
      arrival: {process: poisson, rate: 5/s}
      mix: [MIX]
"""


def findings(gateway: str, consumer: str, mix: str = "{route: /api}") -> list[str]:
    text = BASE.replace("GATEWAY", gateway).replace("CONSUMER", consumer).replace("MIX", mix)
    _, diags = validate_text(text, "a.yaml")
    return [f"{d.severity}: {d.message} @{d.line}" for d in diags]


def test_consumer_misuse_is_reported() -> None:
    good = "auth: {type: key-auth}\n    consumers: {acme: {}}"
    assert findings(good, "acme") == []
    (unknown,) = findings(good, "acm")
    assert unknown.startswith("error: unknown consumer 'acm'; did you mean 'acme'?")
    (no_auth,) = findings("consumers: {acme: {}}", "acme")
    assert "set `gateway.auth`" in no_auth and no_auth.endswith("@6")
    (bypass,) = findings(good, "acme", "{endpoint: api.get}")
    assert bypass.startswith("warning:") and "never apply" in bypass


def tenants(per_consumer: bool) -> Any:
    bulkhead = {"maxConcurrent": 2, "perConsumer": per_consumer}
    services = {
        "front": {
            "workers": 200,
            "clients": {"back": {"bulkhead": bulkhead}},
            "endpoints": {
                "a": {"work": "0s", "steps": [{"call": "back.work"}]},
                "b": {"work": "0s", "steps": [{"call": "back.work"}]},
            },
        },
        "back": {"workers": 200, "endpoints": {"work": {"work": "100ms"}}},
    }
    traffic = {
        # The greedy tenant: 100/s against calls that take 100 ms.
        "greedy": {
            "consumer": "acme",
            "arrival": {"process": "poisson", "rate": "100/s"},
            "mix": [{"endpoint": "front.a"}],
        },
        # The modest tenant: two users, so never more than two calls at once.
        "modest": {
            "consumer": "globex",
            "users": 2,
            "thinkTime": "50ms",
            "mix": [{"endpoint": "front.b"}],
        },
    }
    return architecture(services, traffic, duration=f"{SECONDS}s")


def test_a_per_tenant_bulkhead_keeps_the_greedy_tenant_out_of_the_others_permits() -> None:
    run = simulate(tenants(True), seed=1, jobs=1).runs[0]
    greedy, modest = run.report.entries["front.a"], run.report.entries["front.b"]
    # Two users never hold more than the two permits of their own bulkhead: nothing refused.
    assert modest.errors.get("bulkhead_full", 0) == 0 and modest.count > 0
    # Two permits, each held 100 ms: at most 20 calls a second get through (plus the two
    # permits' last calls); the rest of the ~100/s is refused at once.
    admitted = greedy.count - greedy.errors.get("bulkhead_full", 0)
    assert admitted <= 20 * SECONDS + 2
    assert greedy.errors.get("bulkhead_full", 0) >= greedy.count - 20 * SECONDS - 2 > 0
    # One shared bulkhead: the greedy tenant now takes the modest one's permits too.
    shared = simulate(tenants(False), seed=1, jobs=1).runs[0]
    assert shared.report.entries["front.b"].errors.get("bulkhead_full", 0) > 0


def mmck_blocking(c: int, k: int, offered: float) -> float:
    """Erlang's loss probability of M/M/c/K (c servers, K places in all), from the birth-death
    chain's stationary distribution."""
    terms = [offered**n / math.factorial(n) for n in range(c)]
    terms += [offered**n / (math.factorial(c) * c ** (n - c)) for n in range(c, k + 1)]
    return terms[-1] / sum(terms)


POOL = {"coreThreads": 2, "maxThreads": 2, "queueCapacity": 3}
"""A fixed pool of 2 threads and a queue of 3: M/M/2/5 per tenant when the calls take Exp(1 s)."""


def thread_pool_tenants(per_consumer: bool) -> Any:
    bulkhead = {"type": "thread-pool", **POOL, "perConsumer": per_consumer}
    services = {
        "front": {
            "workers": 1000,
            "concurrency": "async",
            "clients": {"back": {"bulkhead": bulkhead}},
            "endpoints": {
                "a": {"work": "0s", "steps": [{"call": "back.work"}]},
                "b": {"work": "0s", "steps": [{"call": "back.work"}]},
            },
        },
        "back": {
            "workers": 1000,
            "endpoints": {"work": {"work": {"type": "exponential", "mean": "1s"}}},
        },
    }
    traffic = {
        "busy": {
            "consumer": "acme",
            "arrival": {"process": "poisson", "rate": "3/s"},
            "mix": [{"endpoint": "front.a"}],
        },
        "quiet": {
            "consumer": "globex",
            "arrival": {"process": "poisson", "rate": "1.5/s"},
            "mix": [{"endpoint": "front.b"}],
        },
    }
    return architecture(services, traffic, duration="3000s", warmup="50s")


def refused_share(result: Any, entry: str) -> Any:
    from scalesim_patterns.sim.core.stats import estimate

    return estimate(
        [
            r.report.entries[entry].errors.get("bulkhead_full", 0) / r.report.entries[entry].count
            for r in result.runs
        ]
    )


def test_a_per_tenant_thread_pool_is_one_mmck_queue_per_tenant() -> None:
    result = simulate(thread_pool_tenants(True), replications=10, seed=4)
    # Each tenant has its own pool and queue: Erlang's M/M/2/5 loss at its own offered load.
    for entry, offered in (("front.a", 3.0), ("front.b", 1.5)):
        expected = mmck_blocking(2, 5, offered)
        est = refused_share(result, entry)
        assert est.half_width is not None and est.half_width < 0.15 * expected
        assert est.contains(expected), (entry, est, expected)
    # One shared pool: the quiet tenant now sees the loss of 4.5 calls a second (0.56, not
    # its own 0.085).
    shared = simulate(thread_pool_tenants(False), replications=10, seed=4)
    quiet = refused_share(shared, "front.b")
    assert quiet.contains(mmck_blocking(2, 5, 4.5)), quiet
