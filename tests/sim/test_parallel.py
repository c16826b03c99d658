"""Replications in a process pool give exactly what a serial run gives, only sooner."""

from __future__ import annotations

from scalesim_patterns.sim import simulate
from scalesim_patterns.sim.results import Progress

from ..conftest import TEMPLATES


def test_parallel_replications_are_byte_identical_to_serial() -> None:
    path = TEMPLATES / "ecommerce.yaml"
    serial = simulate(
        path, duration=20, warmup=5, replications=3, scenario="payment-outage", jobs=1
    )
    seen: list[Progress] = []
    parallel = simulate(
        path,
        duration=20,
        warmup=5,
        replications=3,
        scenario="payment-outage",
        jobs=2,
        progress=seen.append,
    )
    assert parallel.to_json() == serial.to_json()
    assert seen, "the workers' progress reaches the caller"
    assert all(0.0 <= p.fraction <= 1.0 for p in seen)
    assert max(p.replication for p in seen) <= 3
