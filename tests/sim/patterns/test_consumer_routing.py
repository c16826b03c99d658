"""Priority routing (`byConsumer` on a gateway route): a matched consumer's requests take the
match's targets, in its weights; everyone else keeps the route's own target. Checked by counts:
the split's share within binomial bounds, each consumer's total within Poisson bounds."""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Any

import pytest

from scalesim_patterns.sim import simulate

from ..models import architecture

SECONDS = 200
GOLD, FREE = 20.0, 30.0
Z = NormalDist().inv_cdf(0.9995)  # two-sided 99.9 %: one false alarm in a thousand runs


def shop(mesh: bool) -> Any:
    def svc() -> dict[str, Any]:
        return {"replicas": 1, "workers": 64, "endpoints": {"get": {"work": "1ms"}}}

    gateway = {
        "auth": {"type": "key-auth"},
        "consumers": {"gold": {"priority": 10}, "free": {}},
        "routes": [
            {
                "path": "/api",
                "endpoint": "api.get",
                "byConsumer": [
                    {
                        "consumers": ["gold"],
                        "split": [
                            {"endpoint": "premium.get", "weight": 80},
                            {"endpoint": "premium-b.get", "weight": 20},
                        ],
                    }
                ],
            }
        ],
    }
    traffic = {
        name: {
            "consumer": name,
            "arrival": {"process": "poisson", "rate": f"{rate:g}/s"},
            "mix": [{"route": "/api"}],
        }
        for name, rate in (("gold", GOLD), ("free", FREE))
    }
    extra: dict[str, Any] = {"gateway": gateway}
    if mesh:
        extra["mesh"] = {"type": "istio"}
    return architecture(
        {"api": svc(), "premium": svc(), "premium-b": svc()},
        traffic,
        duration=f"{SECONDS}s",
        **extra,
    )


def within_poisson(count: float, mean: float) -> bool:
    return abs(count - mean) <= Z * math.sqrt(mean)


@pytest.mark.parametrize("mesh", [False, True])
def test_a_consumer_match_takes_its_consumers_traffic_in_its_weights(mesh: bool) -> None:
    run = simulate(shop(mesh), seed=3, jobs=1).runs[0]
    count = {name: s.endpoints["get"].count for name, s in run.report.services.items()}
    gold = count["premium"] + count["premium-b"]
    # Every gold request, and only those, went to the premium pair; every free one to api.
    assert within_poisson(gold, GOLD * SECONDS), count
    assert within_poisson(count["api"], FREE * SECONDS), count
    # The match's split: premium's share of gold's requests is Binomial(gold, 0.8).
    p = 0.8
    half = Z * math.sqrt(p * (1 - p) / gold)
    assert abs(count["premium"] / gold - p) <= half, count
    # The run's `consumers` section counts the same requests, per consumer (a few may still be
    # on their way back when the run ends).
    by = run.extras["consumers"]
    assert abs(by["gold"]["count"] - gold) <= 5 and abs(by["free"]["count"] - count["api"]) <= 5
    assert by["gold"]["errors"] == {} and by["gold"]["latency"]["mean"] > 0


TEXT = """\
apiVersion: scalesim.dev/v1alpha1
kind: Architecture
metadata: {name: mini}
spec:
  gateway:
    auth: {type: key-auth}
    consumers: {gold: {priority: GOLD}, free: {}}
    routes:
      - path: /api
        endpoint: api.get
        AUTH
        byConsumer: [{consumers: [MATCH], endpoint: TARGET}]
  services:
    api:
      scheduling: priority
      QUEUE
      endpoints: {get: {work: 1ms}}
    premium:
      endpoints: {get: {work: 1ms}}
  traffic:
    partner:
      consumer: gold
      PRIORITY
      arrival: {process: poisson, rate: 5/s}
      mix: [{route: /api}]
"""

TENANTS = """\
apiVersion: scalesim.dev/v1alpha1
kind: Architecture
metadata: {name: mini}
spec:
  services:
    api:
      scheduling: priority
      endpoints: {get: {work: 1ms}}
  traffic:
    a:
      consumer: acme
      priority: 5
      arrival: {process: poisson, rate: 5/s}
      mix: [{endpoint: api.get}]
    b:
      SECOND
      arrival: {process: poisson, rate: 5/s}
      mix: [{endpoint: api.get}]
"""


def diagnostics(text: str) -> list[str]:
    from scalesim_patterns.model import validate_text

    _, diags = validate_text(text, "a.yaml")
    return [f"{d.severity}: {d.message} @{d.line}" for d in diags]


def findings(**fields: str) -> list[str]:
    values = {
        "GOLD": "10",
        "AUTH": "auth: true",
        "MATCH": "gold",
        "TARGET": "premium.get",
        "QUEUE": "queueCapacity: 10",
        "PRIORITY": "",
    }
    values.update(fields)
    text = TEXT
    for key, value in values.items():
        text = text.replace(key, value)
    return diagnostics(text)


def tenants(second: str) -> list[str]:
    return diagnostics(TENANTS.replace("SECOND", second))


def test_priority_and_consumer_routes_validate() -> None:
    assert findings() == []
    assert tenants("consumer: globex") == []
    assert tenants("consumer: acme") == []  # the same tenant, its priority given once


def test_priority_misuse_is_reported() -> None:
    (unknown,) = findings(MATCH="golf")
    assert unknown.startswith("error: unknown consumer 'golf'; did you mean 'gold'?")
    assert unknown.endswith("@12")
    (target,) = findings(TARGET="premium.put")
    assert target.startswith("error: service 'premium' has no endpoint 'put'")
    (no_auth,) = findings(AUTH="auth: false")
    assert no_auth.startswith("error:") and "identifies no consumer" in no_auth
    (no_queue,) = findings(QUEUE="queueCapacity: 0")
    assert no_queue.startswith("error:") and "queueCapacity: 0" in no_queue
    assert no_queue.endswith("@15")
    (gateway_consumer,) = findings(PRIORITY="priority: 3")
    assert "gateway.consumers.gold.priority" in gateway_consumer
    (no_tenant,) = tenants("priority: 1")
    assert no_tenant.startswith("error:") and "set `consumer`" in no_tenant
    (twice,) = tenants("consumer: acme\n      priority: 1")
    assert twice.startswith("error:") and "already has priority 5" in twice
    (again,) = findings(MATCH="gold, gold")
    assert again.startswith("warning:") and "never takes its requests" in again


def test_priority_scheduling_without_classes_is_a_warning() -> None:
    (flat,) = findings(GOLD="0")
    assert flat.startswith("warning:") and "first come first served" in flat
    assert flat.endswith("@15")


def test_thread_pool_core_above_max_is_refused() -> None:
    import pydantic

    from scalesim_patterns.model.resilience import ThreadPoolBulkhead

    with pytest.raises(pydantic.ValidationError, match="maxThreads \\(2\\) must be at least"):
        ThreadPoolBulkhead.model_validate({"coreThreads": 4})


CAPACITY = """\
apiVersion: scalesim.dev/v1alpha1
kind: Architecture
metadata: {name: mini}
spec:
  gateway:
    auth: {type: key-auth}
    consumers: {gold: {}, free: {}}
    routes:
      - path: /api
        endpoint: api.get
        byConsumer: [{consumers: [gold], endpoint: premium.get}]
  services:
    api: {workers: 1, endpoints: {get: {work: 100ms}}}
    premium: {workers: 1, endpoints: {get: {work: 100ms}}}
  traffic:
    gold: {consumer: gold, arrival: {process: poisson, rate: 15/s}, mix: [{route: /api}]}
    free: {consumer: free, arrival: {process: poisson, rate: 5/s}, mix: [{route: /api}]}
"""


def test_the_capacity_check_follows_consumer_matches() -> None:
    # gold's 15/s of 100 ms reach premium (1.5 workers' worth on 1), free's 5/s stay on api.
    (over,) = diagnostics(CAPACITY)
    assert over.startswith("warning:") and "exceeds 1 workers" in over and over.endswith("@14")


def test_a_route_weights_change_moves_the_others_and_leaves_the_matched_consumer() -> None:
    arch = shop(False)
    arch = arch.model_validate(
        {
            **arch.model_dump(by_alias=True, exclude_unset=True),
            "spec": {
                **arch.model_dump(by_alias=True, exclude_unset=True)["spec"],
                "scenarios": {
                    "move": {
                        "changes": [
                            {
                                "type": "route-weights",
                                "at": "100s",
                                "route": "/api",
                                "split": [{"endpoint": "premium-b.get", "weight": 100}],
                            }
                        ]
                    }
                },
            },
        }
    )
    run = simulate(arch, scenario="move", seed=3, jobs=1).runs[0]
    count = {name: s.endpoints["get"].count for name, s in run.report.services.items()}
    # free's requests: api for 100 s, then premium-b; gold's: its own 80/20 split all along.
    assert within_poisson(count["api"], FREE * 100), count
    assert within_poisson(count["premium-b"], FREE * 100 + GOLD * SECONDS * 0.2), count
    assert within_poisson(count["premium"], GOLD * SECONDS * 0.8), count
