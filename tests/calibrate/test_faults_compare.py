"""Fault plans and the real-vs-simulated comparison."""

from __future__ import annotations

import pytest

from scalesim_patterns.calibrate.compare import _binomial_halfwidth, compare_results
from scalesim_patterns.calibrate.faults import Unsupported, plan_faults
from scalesim_patterns.model import loads

DESIGN = """
apiVersion: scalesim.dev/v1alpha1
kind: Architecture
metadata: {name: f}
spec:
  services:
    a:
      endpoints:
        go: {work: 1ms, steps: [{call: b.get}, {query: db}]}
    b:
      endpoints:
        get: {work: 1ms}
  databases:
    db: {engine: postgresql, owner: a}
  traffic:
    t: {arrival: {process: poisson, rate: 1/s}, mix: [{endpoint: a.go}]}
  scenarios:
    slow: {faults: [{type: latency, target: b.get, add: 50ms, at: 5s, duration: 4s}]}
    down: {faults: [{type: outage, target: b, at: 2s, duration: 3s}]}
    db: {faults: [{type: outage, target: db, at: 2s}]}
"""


def test_fault_plans_are_timed_actions_and_database_faults_are_refused() -> None:
    arch = loads(DESIGN)
    slow = plan_faults(arch, "slow")
    assert [(a.at, a.kind, a.service, a.key) for a in slow] == [
        (5.0, "set", "b", "get"),
        (9.0, "clear", "b", "get"),
    ]
    assert dict(slow[0].fault)["latency"] == {"kind": "constant", "value": 0.05}
    down = plan_faults(arch, "down")
    assert [(a.at, a.kind) for a in down] == [(2.0, "kill"), (5.0, "restart")]
    with pytest.raises(Unsupported, match=r"scenarios\.db\.faults\[0\].*only faults on services"):
        plan_faults(arch, "db")


def test_wilson_half_width_matches_the_textbook_interval() -> None:
    # Wilson 95 % interval for 50 of 100: [0.4038, 0.5962] (Agresti & Coull 1998, table values)
    assert _binomial_halfwidth(0.5, 100) == pytest.approx(0.0962, abs=5e-4)
    assert _binomial_halfwidth(0.0, 0) == 0.0


def _report(throughput: float, p50: float, errors: float, count: int) -> dict:  # type: ignore[type-arg]
    latency = {"mean": p50, "p50": p50, "p99": 2 * p50}
    return {"throughput": throughput, "latency": latency, "error_rate": errors, "count": count}


def test_rows_carry_relative_errors_and_the_tolerances() -> None:
    real = {"runs": [{"report": {"entries": {"a.go": _report(100.0, 0.010, 0.02, 1000)}}}]}
    sim_entry = {
        "throughput": {"mean": 104.0},
        "latency": {"mean": {"mean": 0.0116}, "p50": {"mean": 0.0116}, "p99": {"mean": 0.0259}},
        "error_rate": {"mean": 0.05},
    }
    comparison = compare_results(real, {"summary": {"entries": {"a.go": sim_entry}}})
    rows = {r.figure: r for r in comparison.rows}
    assert rows["throughput"].error == pytest.approx(0.04) and rows["throughput"].within
    assert rows["p50"].error == pytest.approx(0.16) and rows["p50"].within is False
    assert rows["p99"].error == pytest.approx(0.295) and rows["p99"].within
    # 2 % of 1000: the interval is about ±0.9 pp, so 5 % is outside it
    assert rows["error_rate"].error == pytest.approx(0.03) and rows["error_rate"].within is False
    assert {r.figure for r in comparison.misses} == {"p50", "mean", "error_rate"}


def test_traffic_beyond_a_local_driver_is_refused_with_the_scale_that_would_fit() -> None:
    from scalesim_patterns.generate.code.loadplan import (
        MAX_LOCAL_RATE,
        LoadTooLarge,
        check_local_load,
    )

    arch = loads(DESIGN.replace("rate: 1/s", "rate: 1000000000000/s"))
    with pytest.raises(LoadTooLarge, match=r"1e\+12 requests/s, more than the 5000/s") as got:
        check_local_load(arch, 1.0)
    assert f"--scale {MAX_LOCAL_RATE / 1e12:.3g}" in str(got.value)
    check_local_load(arch, MAX_LOCAL_RATE / 1e12)  # exactly at the limit: accepted
