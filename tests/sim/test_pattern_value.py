"""Each resilience pattern of the catalog earns its place: the template's own fault, simulated
with and without the pattern under the same random numbers (`compare`), and the pattern's
benefit is outside the noise (the paired 95 % interval of the difference excludes 0).

To keep the runs short the fault is moved to 10 s and the runs end soon after it: the same
fault on the same system, only earlier.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from scalesim_patterns.model import Architecture, load
from scalesim_patterns.model.traffic import SpikeArrival
from scalesim_patterns.sim import compare
from scalesim_patterns.sim.core.stats import Estimate

TEMPLATES = Path(__file__).resolve().parents[2] / "src/scalesim_patterns/catalog/templates"


def _template(name: str, scenario: str) -> Architecture:
    path = TEMPLATES / f"{name}.yaml"
    if not path.exists():
        pytest.skip(f"template {name} is not in the catalog")
    arch = load(path)
    if scenario not in arch.spec.scenarios:
        pytest.skip(f"template {name} has no scenario {scenario}")
    for fault in arch.spec.scenarios[scenario].faults:
        fault.at = 10.0
    for override in arch.spec.scenarios[scenario].traffic.values():
        if isinstance(override.arrival, SpikeArrival):
            override.arrival.at = 10.0
    return arch


def _without(arch: Architecture, remove: Callable[[Architecture], None]) -> Architecture:
    variant = arch.model_copy(deep=True)
    remove(variant)
    return variant


def _benefit(diff: Estimate | None) -> float:
    """The paired difference (without − with) when its interval excludes 0, else 0."""
    assert diff is not None and diff.half_width is not None
    if diff.mean - diff.half_width > 0:
        return diff.mean
    return 0.0


def test_circuit_breaker_keeps_the_cart_page_fast_while_payment_is_slow() -> None:
    arch = _template("circuit-breaker", "payment-slow")

    def remove(a: Architecture) -> None:
        a.spec.services["checkout"].clients["payment-provider"].circuit_breaker = None

    cmp = compare(
        arch, _without(arch, remove), scenario="payment-slow", duration=45, warmup=5, replications=3
    )
    cart = cmp.difference.entries["checkout.cart"].latency.p99
    # Without the breaker, payment calls hold checkout's threads for the 2 s timeout and the
    # cart page queues behind them for the whole fault.
    assert _benefit(cart) > 1.0
    with_breaker = cmp.a.summary.entries["checkout.cart"].latency.p99
    assert with_breaker is not None and cart is not None and with_breaker.mean < cart.mean / 5
    assert cmp.a.summary.clients["checkout->payment-provider"].breaker_opened.mean >= 3


def test_bulkhead_keeps_checkout_served_while_the_recommender_is_slow() -> None:
    arch = _template("bulkhead", "recommender-slow")

    def remove(a: Architecture) -> None:
        a.spec.services["storefront"].clients["recommender"].bulkhead = None

    cmp = compare(
        arch,
        _without(arch, remove),
        scenario="recommender-slow",
        duration=25,
        warmup=5,
        replications=3,
    )
    checkout = cmp.difference.entries["storefront.checkout"].latency.p99
    assert _benefit(checkout) > 0.5
    assert cmp.a.summary.clients["storefront->recommender"].bulkhead_full.mean > 0


def test_readiness_probes_keep_a_restarting_pod_out_of_rotation() -> None:
    arch = _template("health-check-api", "catalog-pod-crash")

    def remove(a: Architecture) -> None:
        a.spec.services["catalog"].health = None

    cmp = compare(
        arch,
        _without(arch, remove),
        scenario="catalog-pod-crash",
        duration=55,
        warmup=5,
        replications=5,
    )
    # Without probes the restarted pod is Ready as soon as its container runs and refuses calls
    # while its JVM starts (12 s to 40 s); the caller retries them elsewhere. With a readiness
    # probe only the calls of the first second (propagation) are refused.
    refused = cmp.difference.services["catalog"].endpoints["search"].errors["unavailable"]
    assert _benefit(refused) > 100
    retries = cmp.difference.clients["web->catalog"].retries
    assert _benefit(retries) > 100


def test_gateway_rate_limits_keep_the_apps_served_during_a_partner_storm() -> None:
    arch = _template("api-gateway", "partner-retry-storm")

    def remove(a: Architecture) -> None:
        assert a.spec.gateway is not None
        a.spec.gateway.rate_limit = None
        for route in a.spec.gateway.routes:
            route.rate_limit = None

    cmp = compare(
        arch,
        _without(arch, remove),
        scenario="partner-retry-storm",
        duration=25,
        warmup=5,
        replications=3,
    )
    # The storm lands on the order service the partner route shares with the apps' order routes;
    # Kong itself is event-driven (its CPU, not a thread pool, is what it spends), so routes to
    # other services see the same gateway either way.
    for entry in ("GET /orders", "POST /orders"):
        assert _benefit(cmp.difference.entries[entry].latency.p99) > 0.5, entry
    # With the limits the partners' excess is answered 429 at the gateway.
    partner = cmp.a.summary.entries["/partner/orders"].errors["rate_limited"]
    assert partner is not None and partner.mean > 0
