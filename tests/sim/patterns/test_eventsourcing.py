"""Event stores in the engine: optimistic-concurrency retries, write capacity, projection lag."""

from __future__ import annotations

import math
from typing import Any

import pytest

from scalesim_patterns.model import Architecture
from scalesim_patterns.sim import simulate

from ..models import architecture

MS = 0.001


def store_arch(
    store: dict[str, Any],
    *,
    arrival: dict[str, Any],
    events: int = 1,
    work: str = "1ms",
    duration: str = "100s",
    view: dict[str, Any] | None = None,
) -> Architecture:
    services: dict[str, Any] = {
        "w": {
            "replicas": 1,
            "workers": 256,
            "endpoints": {"cmd": {"work": work, "steps": [{"append": "es", "events": events}]}},
        }
    }
    if view is not None:
        services["v"] = view
    return architecture(
        services,
        {"load": {"arrival": arrival, "mix": [{"endpoint": "w.cmd"}]}},
        duration=duration,
        eventStores={"es": {"owner": "w", **store}},
    )


def test_conflicts_retry_a_truncated_geometric_number_of_times() -> None:
    p, m = 0.3, 3
    arch = store_arch(
        {
            "appendLatency": "3ms",
            "readLatency": "2ms",
            "conflictProbability": p,
            "maxAppendRetries": m,
        },
        arrival={"process": "poisson", "rate": "200/s"},
    )
    report = simulate(arch, seed=5).runs[0].report
    es = report.event_stores["es"]
    n = es.appends
    assert n > 19000
    # Attempts A: P(A = k) = p^(k−1)(1 − p) for k ≤ m, P(A = m + 1) = p^m.
    probs = {k: p ** (k - 1) * (1 - p) for k in range(1, m + 1)}
    probs[m + 1] = p**m
    mean = sum(k * q for k, q in probs.items())
    assert mean == pytest.approx((1 - p ** (m + 1)) / (1 - p))  # 1 + p + … + p^m
    sd = math.sqrt(sum(k * k * q for k, q in probs.items()) - mean**2)
    assert es.attempts_mean is not None
    assert abs(es.attempts_mean - mean) < 1.96 * sd / math.sqrt(n)
    # The last conflict fails the append with cause `error`: probability p^(m+1).
    q = p ** (m + 1)
    assert abs(es.failures / n - q) < 1.96 * math.sqrt(q * (1 - q) / n)
    assert report.totals.errors["error"] == es.failures
    assert es.events == n - es.failures
    # A success after j conflicts took j + 1 appends and j reloads: at most 4 × 3 + 3 × 2 ms.
    assert es.append_latency.max == pytest.approx((4 * 3 + 3 * 2) * MS, abs=1e-9)


def test_write_rate_limit_queues_appends_like_an_md1_server() -> None:
    # 50 appends/s on a store that writes 100 events/s: M/D/1 with ρ = 0.5, service 10 ms,
    # Wq = ρ·s / (2(1 − ρ)) = 5 ms; plus 3 ms append and 1 ms of the endpoint's own work.
    arch = store_arch(
        {"appendLatency": "3ms", "writeRateLimit": "100/s"},
        arrival={"process": "poisson", "rate": "50/s"},
        duration="2000s",
    )
    result = simulate(arch, seed=2, warmup=20)
    est = result.summary.entries["w.cmd"].latency.mean
    assert est is not None and est.half_width is not None
    assert abs(est.mean - 0.009) < est.half_width
    assert est.half_width < 0.0005


def test_projection_catches_up_in_batches_exactly() -> None:
    """One append of 100 events at a known instant; constant read, handle and poll times."""
    r, h, batch, poll, append = 1 * MS, 2 * MS, 10, 0.1, 4 * MS
    view = {
        "replicas": 1,
        "workers": 1,
        "endpoints": {"summary": {"work": "1ms"}},
    }
    arch = store_arch(
        {
            "appendLatency": "4ms",
            "readLatency": "1ms",
            "projections": [
                {
                    "name": "p",
                    "service": "v",
                    "handle": "2ms",
                    "batch": batch,
                    "pollInterval": "100ms",
                }
            ],
        },
        arrival={"process": "constant", "rate": "1/s"},
        events=100,
        duration="1900ms",
        view=view,
    )
    report = simulate(arch).runs[0].report
    proj = report.event_stores["es"].projections["p"]
    t_append = 1.0 + 1 * MS + append  # arrival at 1 s, 1 ms of work, then the append
    # Idle polls finish reading at r + k(r + poll); the first after the append finds the events.
    k = math.ceil((t_append - r) / (r + poll))
    found = r + k * (r + poll)
    # Batch b is applied at found + batch·h + b(r + batch·h).
    done = [found + batch * h + b * (r + batch * h) for b in range(10)]
    lags = [t - t_append for t in done]
    assert proj.applied == 100
    assert proj.lag.mean == pytest.approx(sum(lags) / 10, abs=1e-9)
    assert proj.lag.max == pytest.approx(lags[-1], abs=1e-9)
    assert proj.age_max == pytest.approx(lags[-1], abs=1e-9)
    assert proj.lag_events_max == 100
    assert proj.lag_events_end == 0
    area = 100 * (done[0] - t_append) + sum(
        (100 - 10 * b) * (done[b] - done[b - 1]) for b in range(1, 10)
    )
    assert proj.lag_events_mean == pytest.approx(area / 1.9, abs=1e-9)
    # Applying events takes the projection service's worker.
    assert report.services["v"].busy_mean == pytest.approx(100 * h / 1.9, abs=1e-9)
    assert report.event_stores["es"].consistency_lag_p99 == pytest.approx(lags[-1], rel=0.02)


def test_projections_account_for_every_event() -> None:
    view = {"replicas": 2, "workers": 2, "endpoints": {"summary": {"work": "1ms"}}}
    arch = store_arch(
        {
            "projections": [
                {
                    "name": "fast",
                    "service": "v",
                    "handle": {"type": "exponential", "mean": "300us"},
                    "batch": 20,
                    "pollInterval": "50ms",
                },
                {
                    "name": "slow",
                    "service": "v",
                    "handle": {"type": "exponential", "mean": "1ms"},
                    "batch": 100,
                    "pollInterval": "500ms",
                },
            ],
        },
        arrival={"process": "poisson", "rate": "300/s"},
        events=2,
        duration="60s",
        view=view,
    )
    es = simulate(arch, seed=4).runs[0].report.event_stores["es"]
    assert es.events > 30000
    for name in ("fast", "slow"):
        p = es.projections[name]
        assert p.applied + p.lag_events_end == es.events
        assert p.lag.p50 is not None and p.lag.max is not None
        assert 0 < p.lag_events_mean <= p.lag_events_p99 <= p.lag_events_max
        assert p.age_max >= p.lag.max - 1e-9
    slow, fast = es.projections["slow"], es.projections["fast"]
    assert slow.lag.mean is not None and fast.lag.mean is not None
    # A 500 ms poll leaves events waiting about half a poll on average; a 50 ms one far less.
    assert slow.lag.mean > 0.2 > fast.lag.mean
