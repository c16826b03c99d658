"""Cache-aside (model/caches.py, sim/network/caches.py) against figures computed here.

- Che's approximation: the library's value (Newton on binned ranks) against a plain bisection
  over every key written in this file, and the simulated LRU cache's hit ratio against it (Che
  is accurate to well under 1 % for Zipf popularity and thousands of keys: Fricker, Robert and
  Roberts, ITC 2012).
- A TTL cache whose entries are not refreshed by hits: key i hits with probability
  λᵢT / (1 + λᵢT) for Poisson requests (one miss, then the hits within T, renewal).
- The miss load on the database: lookups × (1 − hit ratio); during a cache outage, every lookup.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from scalesim_patterns.model.caches import Cache, che_hit_ratio, zipf_probabilities
from scalesim_patterns.sim import Engine, simulate
from scalesim_patterns.sim.core.stats import estimate

from .models import architecture, poisson, service
from .test_queueing_theory import assert_inside


def _che_by_bisection(keys: int, exponent: float, capacity: int) -> float:
    w = [k**-exponent for k in range(1, keys + 1)]
    total = sum(w)
    p = [x / total for x in w]
    lo, hi = 0.0, 1e12
    for _ in range(300):
        mid = (lo + hi) / 2
        if sum(1 - math.exp(-q * mid) for q in p) < capacity:
            lo = mid
        else:
            hi = mid
    return sum(q * (1 - math.exp(-q * lo)) for q in p)


def test_che_hit_ratio_matches_an_independent_computation() -> None:
    expected = _che_by_bisection(20_000, 0.8, 2_000)
    assert che_hit_ratio(zipf_probabilities(20_000, 0.8), 2_000) == pytest.approx(expected, 1e-9)
    binned = Cache.model_validate(
        {"owner": "s", "popularity": {"keys": 20_000, "exponent": 0.8}, "capacity": 2_000}
    )
    assert binned.expected_hit_ratio() == pytest.approx(expected, 1e-6)


def _cached(cache: dict[str, Any], rate: str = "100/s", duration: str = "400s", **spec: Any) -> Any:
    return architecture(
        {
            "s": service(
                "0s",
                workers=1000,
                concurrency="async",
                steps=[{"cache": "c", "miss": [{"query": "d"}]}],
            )
        },
        poisson(rate),
        duration=duration,
        warmup="100s",
        caches={"c": {"owner": "s", "latency": "0s", **cache}},
        databases={
            "d": {"engine": "postgresql", "owner": "s", "pool": 100, "latency": {"read": "1ms"}}
        },
        **spec,
    )


def test_simulated_lru_hits_as_che_predicts() -> None:
    arch = _cached(
        {"popularity": {"keys": 5_000, "exponent": 0.8}, "capacity": 500}, "100/s", "250s"
    )
    result = simulate(arch, replications=5, seed=8)
    measured = estimate([r.extras["caches"]["c"]["hit_ratio"] for r in result.runs])
    che = _che_by_bisection(5_000, 0.8, 500)
    assert measured.half_width is not None and measured.half_width < 0.01
    # Che's own error plus the interval: well inside 0.01 here; a cache that evicted the most
    # recently used, or never expired, or ignored capacity would miss by 0.05 or more.
    assert abs(measured.mean - che) < 0.01, (measured, che)


def test_ttl_cache_hit_ratio_is_the_renewal_figure() -> None:
    rate, ttl = 50.0, 1.0
    w = [k**-1.0 for k in range(1, 101)]
    p = [x / sum(w) for x in w]
    theory = sum(q * (rate * q * ttl) / (1 + rate * q * ttl) for q in p)
    arch = _cached({"popularity": {"keys": 100, "exponent": 1.0}, "ttl": "1s"}, "50/s", "250s")
    result = simulate(arch, replications=10, seed=9)
    measured = estimate([r.extras["caches"]["c"]["hit_ratio"] for r in result.runs])
    assert_inside(measured, theory, 0.02)


def test_miss_load_on_the_database_is_lookups_times_misses() -> None:
    result = simulate(_cached({"hitRatio": 0.8}, "100/s", "250s"), replications=10, seed=10)
    db = estimate([r.report.databases["d"].throughput for r in result.runs])
    assert_inside(db, 100 * (1 - 0.8), 0.06)
    hits = estimate([r.extras["caches"]["c"]["hit_ratio"] for r in result.runs])
    assert_inside(hits, 0.8, 0.02)


def test_a_cache_outage_sends_the_whole_load_to_the_database() -> None:
    # Cache down from 200 s to 300 s: the database serves every lookup (100/s) instead of the
    # misses (10/s), and the cache's series shows it.
    arch = _cached(
        {"hitRatio": 0.9},
        "100/s",
        duration="400s",
        scenarios={
            "cache-down": {
                "faults": [{"type": "outage", "target": "c", "at": "200s", "duration": "100s"}]
            }
        },
    )
    engine = Engine(arch, seed=3, replication=0, scenario="cache-down")
    run = engine.run(None)
    series = run.extras["caches"]["c"]["series"]
    during = [i for i, t in enumerate(run.series.time) if 210 <= t < 290]
    before = [i for i, t in enumerate(run.series.time) if 110 <= t < 190]
    assert all(series["hit_ratio"][i] == 0 for i in during)
    errors = sum(series["errors"][i] or 0 for i in during)
    lookups = sum(series["lookups"][i] or 0 for i in during)
    assert errors == lookups > 0
    assert lookups / len(during) == pytest.approx(100, rel=0.1)
    hit_before = sum(series["hit_ratio"][i] or 0 for i in before) / len(before)
    assert hit_before == pytest.approx(0.9, abs=0.03)
    # Over the measured span (100 s–400 s): 200 s at 10 % misses and 100 s at 100 %.
    expected = (200 * 100 * 0.1 + 100 * 100) / 300
    assert run.report.databases["d"].throughput == pytest.approx(expected, rel=0.08)
