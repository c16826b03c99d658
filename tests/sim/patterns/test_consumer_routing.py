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
