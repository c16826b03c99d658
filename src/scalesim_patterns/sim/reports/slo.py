"""Service-level objectives checked against a simulation: the question a design review asks.

An SLO names a gateway route (`/orders`, measured at the client over every method of that path)
or a `service.endpoint` (measured at that endpoint, whoever calls it). Each objective is judged on
the summary over replications; the verdict is "met" or "missed" only when the whole 95 % interval
lies on one side of the objective, otherwise "uncertain". A figure without an interval (a single
run, where batch means could not give one or the figure has none, such as a percentile) cannot
decide: its verdict is "uncertain" too, however far its value lies from the objective, since
one run of a stochastic system is one draw of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from scalesim_patterns.model.architecture import Architecture, Slo
from scalesim_patterns.sim.core.stats import Estimate
from scalesim_patterns.sim.reports.results import EndpointReport, Report

__all__ = ["PERCENTILES", "SloResult", "evaluate_slos"]

PERCENTILES: dict[float, str] = {50.0: "p50", 90.0: "p90", 95.0: "p95", 99.0: "p99", 99.9: "p999"}
"""The latency percentiles the simulator reports."""

Verdict = Literal["met", "missed", "uncertain", "no data"]


@dataclass(frozen=True)
class SloResult:
    name: str
    target: str
    objective: str
    """What was asked, e.g. `p99 <= 500ms` or `availability >= 99.5%`."""
    measured: float | None
    """Seconds for latency, percent for availability."""
    half_width: float | None
    verdict: Verdict


def _targets(report: Report[Estimate], target: str) -> list[EndpointReport[Estimate]]:
    if target.startswith("/"):
        return [
            e for name, e in report.entries.items() if name == target or name.endswith(f" {target}")
        ]
    service, _, endpoint = target.partition(".")
    svc = report.services.get(service)
    found = svc.endpoints.get(endpoint) if svc is not None else None
    return [found] if found is not None else []


def _judge(value: Estimate | None, limit: float, higher_is_better: bool) -> Verdict:
    if value is None:
        return "no data"
    low, high = value.low, value.high
    if low is None or high is None or value.n < 2:
        return "uncertain"
    if higher_is_better:
        return "met" if low >= limit else "missed" if high < limit else "uncertain"
    return "met" if high <= limit else "missed" if low > limit else "uncertain"


def _one(slo: Slo, report: Report[Estimate]) -> list[SloResult]:
    reports = _targets(report, slo.target)
    out: list[SloResult] = []
    if slo.latency is not None:
        key = PERCENTILES.get(slo.latency_percentile)
        label = f"p{slo.latency_percentile:g} <= {slo.latency * 1e3:g}ms"
        value: Estimate | None = None
        if key is not None and len(reports) == 1:
            value = getattr(reports[0].latency, key)
        elif key is not None and reports:
            # Several methods of one path: the worst of them stands for the path.
            values = [v for r in reports if (v := getattr(r.latency, key)) is not None]
            value = max(values, key=lambda v: v.mean) if values else None
        out.append(
            SloResult(
                slo.name,
                slo.target,
                label,
                value.mean if value else None,
                value.half_width if value else None,
                _judge(value, slo.latency, higher_is_better=False),
            )
        )
    if slo.availability is not None:
        label = f"availability >= {slo.availability:g}%"
        avail: Estimate | None = None
        # An entry no request reached has no error rate: it has no say in availability.
        rated = [(r, r.error_rate) for r in reports if r.error_rate is not None]
        if rated:
            count = sum(r.count.mean for r, _ in rated)
            failed = sum(r.count.mean * e.mean for r, e in rated)
            if count > 0:
                worst = max((e for _, e in rated), key=lambda e: e.mean)
                hw = worst.half_width * 100 if worst.half_width is not None else None
                avail = Estimate(100 * (1 - failed / count), hw, worst.n)
        out.append(
            SloResult(
                slo.name,
                slo.target,
                label,
                avail.mean if avail else None,
                avail.half_width if avail else None,
                _judge(avail, slo.availability, higher_is_better=True),
            )
        )
    return out


def evaluate_slos(arch: Architecture, summary: Report[Estimate]) -> list[SloResult]:
    """Every objective of `spec.slos`, judged on a simulation's summary."""
    return [r for slo in arch.spec.slos for r in _one(slo, summary)]
