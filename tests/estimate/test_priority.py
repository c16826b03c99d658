"""Priority scheduling in the estimate against the non-preemptive priority queue's closed forms,
computed here independently: Cobham's per-class M/G/1 waits and the M/M/c form with one
service rate (Gross & Harris, *Fundamentals of Queueing Theory*, §3.4.2)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from scalesim_patterns.estimate import estimate
from scalesim_patterns.estimate.queues import mgc_wait, priority_waits
from tests.sim.models import architecture, exp


def cobham(classes: list[tuple[float, float, float]]) -> list[float]:
    """M/G/1 non-preemptive priority: (rate, E[S], E[S²]) per class, highest first → W_k."""
    w0 = sum(lam * s2 for lam, _, s2 in classes) / 2
    out, sigma = [], 0.0
    for lam, s, _ in classes:
        before = sigma
        sigma += lam * s
        out.append(w0 / ((1 - before) * (1 - sigma)))
    return out


def erlang_c_by_sum(c: int, a: float) -> float:
    """Erlang's C from its textbook sum (not the B recursion the code uses)."""
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


def test_priority_waits_is_cobham_for_mg1_with_unequal_work() -> None:
    # exponential 10 ms (E[S²] = 2E[S]²), constant 20 ms (E[S²] = E[S]²), exponential 5 ms
    classes = [(10.0, 0.010, 2e-4), (15.0, 0.020, 4e-4), (40.0, 0.005, 5e-5)]
    rho = sum(lam * s for lam, s, _ in classes)
    fifo = sum(lam * s2 for lam, _, s2 in classes) / 2 / (1 - rho)  # Pollaczek–Khinchine
    got = priority_waits(fifo, [lam * s for lam, s, _ in classes])
    assert got == pytest.approx(cobham(classes), rel=1e-12)
    # Kleinrock's conservation law: the rate-weighted mean is the FIFO wait when E[S] is equal
    # per class; here (unequal work) it is Σ ρ_k W_k = ρ W_fifo
    assert sum(lam * s * w for (lam, s, _), w in zip(classes, got, strict=True)) == pytest.approx(
        rho * fifo
    )


def test_priority_waits_is_the_mmc_form_with_one_service_rate() -> None:
    # M/M/3, μ = 50/s, classes of 40, 30 and 50 /s: W_k = C(c, a)/(cμ) / ((1−σ_{k−1})(1−σ_k))
    mu, c, lams = 50.0, 3, [40.0, 30.0, 50.0]
    a = sum(lams) / mu
    w0 = erlang_c_by_sum(c, a) / (c * mu)
    expected, sigma = [], 0.0
    for lam in lams:
        before = sigma
        sigma += lam / (c * mu)
        expected.append(w0 / ((1 - before) * (1 - sigma)))
    fifo = mgc_wait(sum(lams), 1 / mu, c)
    got = priority_waits(fifo, [lam / (c * mu) for lam in lams])
    assert got == pytest.approx(expected, rel=1e-9)
    assert sum(lam * w for lam, w in zip(lams, got, strict=True)) / sum(lams) == pytest.approx(fifo)


def test_saturated_priority_station_reports_every_class_saturated() -> None:
    assert priority_waits(math.inf, [0.5, 0.6]) == [math.inf, math.inf]


CLASSES = [("gold", 30, 20.0, "10ms"), ("silver", 10, 15.0, "20ms"), ("free", 0, 25.0, "10ms")]
"""(tenant, priority, arrivals per second, exponential mean work): ρ = 0.2 + 0.3 + 0.25."""


def tenants(
    scheduling: str,
    workers: int = 1,
    scale: float = 1.0,
    classes: list[tuple[str, int, float, str]] = CLASSES,
) -> Any:
    endpoints = {name: {"work": exp(work)} for name, _, _, work in classes}
    services = {
        "s": {"workers": workers, "scheduling": scheduling, "endpoints": endpoints},
    }
    traffic = {
        name: {
            "consumer": name,
            "priority": priority,
            "arrival": {"process": "poisson", "rate": f"{lam * scale:g}/s"},
            "mix": [{"endpoint": f"s.{name}"}],
        }
        for name, priority, lam, _ in classes
    }
    return architecture(services, traffic)


def _seconds(work: str) -> float:
    return float(work.removesuffix("ms")) / 1000


def test_one_worker_per_class_response_is_cobham() -> None:
    est = estimate(tenants("priority"))
    classes = [(lam, _seconds(w), 2 * _seconds(w) ** 2) for _, _, lam, w in CLASSES]
    waits = cobham(classes)
    fifo = estimate(tenants("fifo"))
    for (name, _, _, work), w in zip(CLASSES, waits, strict=True):
        expected = w + _seconds(work)
        assert est.consumers[name].response_mean == pytest.approx(expected, rel=1e-6), name
        assert est.endpoints[f"s.{name}"].response_mean == pytest.approx(expected, rel=1e-6)
    # the test can tell: FIFO gives every class the P-K wait, far from gold's and free's
    assert fifo.consumers["gold"].response_mean > 1.5 * est.consumers["gold"].response_mean
    assert fifo.consumers["free"].response_mean < 0.6 * est.consumers["free"].response_mean
    # the station's reported wait stays the FIFO one (conservation over the classes)
    assert est.stations["s"].wait_mean == pytest.approx(fifo.stations["s"].wait_mean)


def test_three_workers_equal_work_is_the_mmc_priority_form() -> None:
    # every class 10 ms exponential on M/M/3 at 3× the rates: ρ = 3·(20+15+25)·0.01/3 = 0.6
    equal = [(n, p, lam, "10ms") for n, p, lam, _ in CLASSES]
    est = estimate(tenants("priority", workers=3, scale=3.0, classes=equal))
    mu, c = 100.0, 3
    lams = [3 * lam for _, _, lam, _ in equal]
    w0 = erlang_c_by_sum(c, sum(lams) / mu) / (c * mu)
    sigma = 0.0
    for (name, _, _, _), lam in zip(equal, lams, strict=True):
        before = sigma
        sigma += lam / (c * mu)
        expected = w0 / ((1 - before) * (1 - sigma)) + 1 / mu
        assert est.consumers[name].response_mean == pytest.approx(expected, rel=1e-6), name
