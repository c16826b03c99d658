"""Bulkheads at system level: a slow dependency cannot take every thread of its caller."""

from __future__ import annotations

from typing import Any

import pytest

from scalesim_patterns.sim import simulate

from ..models import architecture


def _two_dependencies(bulkhead: dict[str, Any] | None, *, fallback: bool = False) -> Any:
    client: dict[str, Any] = {}
    if bulkhead is not None:
        client["bulkhead"] = bulkhead
    if fallback:
        client["fallback"] = {}
    return architecture(
        {
            "a": {
                "workers": 20,
                "endpoints": {
                    "to-slow": {"work": "1ms", "steps": [{"call": "slow.e"}]},
                    "to-fast": {"work": "1ms", "steps": [{"call": "fast.e"}]},
                },
                "clients": {"slow": client} if client else {},
            },
            "slow": {"workers": 100, "endpoints": {"e": {"work": "1s"}}},
            "fast": {"workers": 100, "endpoints": {"e": {"work": "5ms"}}},
        },
        {
            "load": {
                "arrival": {"process": "poisson", "rate": "100/s"},
                "mix": [
                    {"endpoint": "a.to-slow", "weight": 20},
                    {"endpoint": "a.to-fast", "weight": 80},
                ],
            }
        },
        duration="60s",
        warmup="10s",
    )


def test_semaphore_bulkhead_keeps_a_slow_dependency_from_starving_another() -> None:
    # 20 calls/s to a 1 s dependency need 20 threads: all of a's. Without a bulkhead the fast
    # calls queue behind them; with at most 5 threads for the slow one, 15 stay for the rest.
    without = simulate(_two_dependencies(None), seed=1).runs[0].report
    with_ = simulate(_two_dependencies({"maxConcurrent": 5}), seed=1).runs[0].report
    fast_without = without.entries["a.to-fast"].latency.p99
    fast_with = with_.entries["a.to-fast"].latency.p99
    assert fast_without is not None and fast_with is not None
    assert fast_without > 1.0
    assert fast_with == pytest.approx(0.006, rel=0.02)  # 1 ms + 5 ms, no queueing at all
    slow = with_.entries["a.to-slow"]
    assert slow.errors["bulkhead_full"] > 0.7 * slow.count
    assert with_.clients["a->slow"].bulkhead_full == slow.errors["bulkhead_full"]
    # The slow dependency never has more than 5 of a's calls at once.
    assert with_.services["slow"].busy_mean <= 5.0


def test_bulkhead_rejections_go_to_the_fallback() -> None:
    report = simulate(_two_dependencies({"maxConcurrent": 5}, fallback=True), seed=1).runs[0].report
    slow = report.entries["a.to-slow"]
    assert slow.error_rate == 0.0
    assert report.clients["a->slow"].fallbacks > 0.7 * slow.count


def test_thread_pool_bulkhead_bounds_concurrency_to_its_max_threads() -> None:
    # Core 2, max 4 threads, queue 3: at most 4 calls run at once and up to 3 wait; beyond that
    # the executor rejects (Java ThreadPoolExecutor order).
    bulkhead = {"type": "thread-pool", "coreThreads": 2, "maxThreads": 4, "queueCapacity": 3}
    report = simulate(_two_dependencies(bulkhead), seed=1).runs[0].report
    assert report.services["slow"].busy_mean <= 4.0
    assert report.services["slow"].busy_mean > 3.5  # saturated: 20/s offered, 4/s served
    slow = report.entries["a.to-slow"]
    assert slow.ok == pytest.approx(4.0 * 50, rel=0.05)
    assert slow.errors["bulkhead_full"] == pytest.approx(slow.count - slow.ok, abs=1)
    fast = report.entries["a.to-fast"].latency.p99
    assert fast is not None and fast < 0.01


def test_semaphore_waiters_give_up_after_max_wait() -> None:
    report = (
        simulate(_two_dependencies({"maxConcurrent": 5, "maxWait": "100ms"}), seed=1).runs[0].report
    )
    slow = report.entries["a.to-slow"]
    assert slow.errors["bulkhead_full"] > 0.7 * slow.count
    # A call that got its permit waited at most 100 ms for it: 1 ms + wait + 1 s.
    assert slow.latency.max is not None and slow.latency.max <= 1.101 + 1e-9
    # Rejected calls waited the full 100 ms first, holding a's thread meanwhile: a's busy
    # time includes 0.1 s per rejected call on top of 1.001 s per admitted one.
    busy = report.services["a"].busy_mean * 50  # worker-seconds over the 50 s measured
    expected = slow.ok * 1.001 + slow.errors["bulkhead_full"] * 0.101
    assert busy == pytest.approx(expected + report.entries["a.to-fast"].count * 0.006, rel=0.05)
