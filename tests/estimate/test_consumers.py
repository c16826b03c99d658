"""Consumers in the estimate: a route's `byConsumer` matches send a tenant's requests to its own
target, and a per-tenant thread-pool bulkhead whose callee has servers to spare refuses the
share Erlang's M/M/c/K loss formula gives (computed here from its textbook product form, not the
code's ratios); test_tenant_pool_sim.py checks a callee the pool's calls saturate."""

from __future__ import annotations

import math
from typing import Any

import pytest

from scalesim_patterns.estimate import IGNORED, estimate
from scalesim_patterns.estimate.queues import erlang_b, mmck_loss
from tests.sim.models import architecture, exp


def mmck_by_product_form(c: int, k: int, a: float) -> float:
    """p_K of M/M/c/K: p_n = a^n/n! p_0 (n ≤ c), a^c/c! (a/c)^(n−c) p_0 (c < n ≤ K)."""
    terms = [a**n / math.factorial(n) for n in range(c + 1)]
    terms += [a**c / math.factorial(c) * (a / c) ** (n - c) for n in range(c + 1, k + 1)]
    return terms[-1] / sum(terms)


@pytest.mark.parametrize(("c", "k", "a"), [(1, 1, 0.5), (2, 5, 3.0), (8, 28, 6.5), (4, 4, 9.0)])
def test_mmck_loss_is_the_product_form(c: int, k: int, a: float) -> None:
    assert mmck_loss(c, k, a) == pytest.approx(mmck_by_product_form(c, k, a), rel=1e-12)


def test_mmck_loss_limits() -> None:
    # K = c is Erlang's B; M/M/1/K is (1−ρ)ρ^K / (1−ρ^(K+1)); a huge queue stays finite
    assert mmck_loss(5, 5, 4.0) == pytest.approx(erlang_b(5, 4.0), rel=1e-12)
    rho = 0.8
    assert mmck_loss(1, 6, rho) == pytest.approx((1 - rho) * rho**6 / (1 - rho**7))
    assert 0.0 < mmck_loss(10, 5000, 12.0) <= 1.0


def test_nothing_about_consumers_is_ignored_any_more() -> None:
    assert not any("byConsumer" in line or "priority" in line for line in IGNORED)


def routed() -> Any:
    """Gold's requests go to `fast` (byConsumer), everyone else's to `slow`."""
    return architecture(
        {
            "slow": {"workers": 1, "endpoints": {"e": {"work": exp("10ms")}}},
            "fast": {"workers": 1, "endpoints": {"e": {"work": exp("10ms")}}},
        },
        {
            name: {
                "consumer": name,
                "arrival": {"process": "poisson", "rate": rate},
                "mix": [{"route": "/r"}],
            }
            for name, rate in (("gold", "20/s"), ("free", "50/s"))
        },
        gateway={
            "workers": 64,
            "consumers": {"gold": {"priority": 10}, "free": {}},
            "routes": [
                {
                    "path": "/r",
                    "endpoint": "slow.e",
                    "byConsumer": [{"consumers": ["gold"], "endpoint": "fast.e"}],
                }
            ],
        },
    )


def test_by_consumer_match_routes_the_tenant_to_its_own_target() -> None:
    est = estimate(routed())
    assert est.endpoints["fast.e"].rate == pytest.approx(20.0)
    assert est.endpoints["slow.e"].rate == pytest.approx(50.0)
    # each an M/M/1 of its own: R = S / (1 − ρ)
    assert est.endpoints["fast.e"].response_mean == pytest.approx(0.01 / (1 - 0.2))
    assert est.endpoints["slow.e"].response_mean == pytest.approx(0.01 / (1 - 0.5))
    gold, free = est.consumers["gold"], est.consumers["free"]
    assert free.response_mean - gold.response_mean == pytest.approx(0.02 - 0.0125)
    # the entry's mean is the two tenants' rate-weighted mean
    entry = est.entries["/r"]
    assert entry.response_mean == pytest.approx(
        (20 * gold.response_mean + 50 * free.response_mean) / 70
    )


HEAVY, LIGHT = 60.0, 4.0
"""Calls per second of each tenant; each call holds a pool thread for 50 ms (b's response)."""


def bulkheaded(per_consumer: bool = True) -> Any:
    bulkhead = {
        "type": "thread-pool",
        "coreThreads": 2,
        "maxThreads": 2,
        "queueCapacity": 3,
        "perConsumer": per_consumer,
    }
    return architecture(
        {
            "a": {
                "workers": 200,
                "clients": {"b": {"bulkhead": bulkhead}},
                "endpoints": {"e": {"work": "0s", "steps": [{"call": "b.e"}]}},
            },
            # 200 workers: b's wait is nil (Erlang C at 3 erlangs), its response its 50 ms work
            "b": {"workers": 200, "endpoints": {"e": {"work": exp("50ms")}}},
        },
        {
            name: {
                "consumer": name,
                "arrival": {"process": "poisson", "rate": f"{rate:g}/s"},
                "mix": [{"endpoint": "a.e"}],
            }
            for name, rate in (("heavy", HEAVY), ("light", LIGHT))
        },
    )


def test_per_tenant_pool_refuses_the_erlang_loss_share() -> None:
    est = estimate(bulkheaded())
    # each tenant its own M/M/2/5 pool; hops are 0 in these files, so a thread is held 50 ms
    heavy = mmck_by_product_form(2, 5, HEAVY * 0.05)
    light = mmck_by_product_form(2, 5, LIGHT * 0.05)
    assert heavy > 0.2 and light < 1e-3  # the tenants differ: the test can tell
    assert est.consumers["heavy"].error_rate == pytest.approx(heavy, rel=1e-6)
    assert est.consumers["light"].error_rate == pytest.approx(light, rel=1e-6)
    assert est.consumers["heavy"].throughput == pytest.approx(HEAVY * (1 - heavy), rel=1e-6)
    # refused calls never reach b
    reached = HEAVY * (1 - heavy) + LIGHT * (1 - light)
    assert est.endpoints["b.e"].rate == pytest.approx(reached, rel=1e-6)
    assert est.entries["a.e"].error_rate == pytest.approx(
        (HEAVY * heavy + LIGHT * light) / (HEAVY + LIGHT), rel=1e-6
    )


def test_a_shared_pool_is_still_ignored() -> None:
    # without perConsumer the bulkhead stays in the ignore list: every call goes through
    est = estimate(bulkheaded(per_consumer=False))
    assert est.endpoints["b.e"].rate == pytest.approx(HEAVY + LIGHT)
    assert est.consumers["heavy"].error_rate == 0.0
