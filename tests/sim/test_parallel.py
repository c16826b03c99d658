"""Replications in a process pool give exactly what a serial run gives, only sooner."""

from __future__ import annotations

from scalesim_patterns.sim import simulate
from scalesim_patterns.sim.reports.results import Progress

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


def test_compare_reports_one_progress_over_both_variants() -> None:
    from scalesim_patterns.sim import compare

    path = TEMPLATES / "ecommerce.yaml"
    seen: list[Progress] = []
    compare(path, path, duration=10, warmup=2, replications=2, jobs=1, progress=seen.append)
    fractions = [p.fraction for p in seen]
    assert fractions == sorted(fractions), "the bar never goes back"
    assert fractions[0] < 0.5 < fractions[-1] <= 1.0
    assert {p.replications for p in seen} == {4}
