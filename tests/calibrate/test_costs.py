"""The probe's measurements turned into the file's costs."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from scalesim_patterns.calibrate.costs import (
    apply_costs,
    derive_costs,
    difference,
    half,
    probe_text,
)
from scalesim_patterns.model import loads

TEMPLATES = (
    Path(__file__).resolve().parents[2] / "src" / "scalesim_patterns" / "catalog" / "templates"
)


def test_difference_is_per_quantile_clipped_and_never_decreasing() -> None:
    a = {"min": 1.0, "p50": 3.0, "p90": 4.0, "max": 9.0}
    b = {"min": 2.0, "p50": 1.0, "p90": 3.5, "max": 4.0}
    assert difference(a, b) == {"min": 0.0, "p50": 2.0, "p90": 2.0, "max": 5.0}
    assert half({"p50": 3.0}) == {"p50": 1.5}


def _measured(tables: dict[str, dict[str, float]]) -> dict:  # type: ignore[type-arg]
    entries = {f"probe-front.{k}": {"quantiles": v} for k, v in tables.items()}
    return {"runs": [{"report": {"entries": entries}}]}


def test_costs_from_a_probe_and_written_into_the_copy() -> None:
    nop = {"min": 0.002, "p50": 0.004, "p99": 0.010, "max": 0.012}
    call = {"min": 0.004, "p50": 0.008, "p99": 0.020, "max": 0.030}
    read = {"min": 0.003, "p50": 0.005, "p99": 0.015, "max": 0.016}
    costs = derive_costs(
        _measured({"nop": nop, "call": call, "read-postgresql": read, "write-postgresql": read})
    )
    assert costs.entry == pytest.approx({"min": 0.001, "p50": 0.002, "p99": 0.005, "max": 0.006})
    assert costs.hop == pytest.approx({"min": 0.001, "p50": 0.002, "p99": 0.005, "max": 0.009})
    assert costs.queries[("postgresql", "read")]["p99"] == pytest.approx(0.005)
    text = (TEMPLATES / "saga.yaml").read_text("utf-8")
    arch = loads(text)
    out = loads(apply_costs(text, arch, costs, {}, "saga.yaml"))
    # each leg of a request is half the round trip: the entry's mean is the tables' mean
    assert out.spec.network.entry_latency is not None
    assert abs(out.spec.network.entry_latency.mean() * 2 - _mean(nop)) < 1e-9
    read_mean = out.spec.databases["orders-db"].latency_of("read").mean()
    assert abs(read_mean - _mean(difference(read, nop))) < 1e-9
    # MySQL was not probed: its latency stays the file's
    assert out.spec.databases["inventory-db"].latency == arch.spec.databases["inventory-db"].latency


def _mean(table: dict[str, float]) -> float:
    """The mean of a piecewise-linear quantile function, by the trapezoid rule."""
    q = {"min": 0.0, "max": 1.0}
    points = sorted(
        (q.get(k, float(k[1:]) / 100 if k.startswith("p") else 0), v) for k, v in table.items()
    )
    return sum((q1 - q0) * (v0 + v1) / 2 for (q0, v0), (q1, v1) in itertools.pairwise(points))


def test_probe_covers_every_engine_and_broker_the_design_uses_and_validates() -> None:
    arch = loads((TEMPLATES / "saga.yaml").read_text("utf-8"))
    probe = loads(probe_text(arch, {"events": "kafka"}, 50.0))
    endpoints = set(probe.spec.services["probe-front"].endpoints)
    assert endpoints == {
        "nop", "call", "read-mysql", "write-mysql", "read-postgresql", "write-postgresql",
    }  # fmt: skip
    assert probe.spec.traffic["probe"].arrival.rate == 50.0  # type: ignore[union-attr]
