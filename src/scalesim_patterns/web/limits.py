"""What a run would cost, estimated before it starts, and the check against the server's limits.

The estimate is an upper bound on entry requests: the peak arrival rate of each open source
times the simulated time, and for closed sources one request per user per mean think time
(ignoring response time, which only lowers the rate). Scenario traffic overrides are applied.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scalesim_patterns.model import Architecture

from .config import Limits

__all__ = ["LimitExceeded", "RunPlan", "check_architecture_size", "plan_run"]

MIN_THINK = 1e-3
"""Closed users with no think time send as fast as answers come; count one per millisecond."""


class LimitExceeded(ValueError):
    """A configured limit would be crossed; the 422 names it and both figures."""

    def __init__(self, limit: str, value: float, maximum: float, what: str) -> None:
        self.limit = limit
        self.value = value
        self.maximum = maximum
        super().__init__(
            f"{what} {_fmt(value)} exceeds the server's limit of {_fmt(maximum)} "
            f"(limit '{limit}', over by {_fmt(value - maximum)})"
        )


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.3g}"


@dataclass(frozen=True)
class RunPlan:
    duration: float
    """Simulated seconds of one replication."""
    replications: int
    requests: int
    """Estimated entry requests over all replications."""


def _peak_rate(arrival: object) -> float:
    process = getattr(arrival, "process", None)
    if process in ("poisson", "constant"):
        return float(arrival.rate)  # type: ignore[attr-defined]
    if process == "ramp":
        return float(max(arrival.from_, arrival.to))  # type: ignore[attr-defined]
    if process == "step":
        return float(max(s.rate for s in arrival.steps))  # type: ignore[attr-defined]
    if process == "spike":
        return float(max(arrival.base, arrival.peak))  # type: ignore[attr-defined]
    if process == "diurnal":
        return float(arrival.mean * (1 + arrival.amplitude))  # type: ignore[attr-defined]
    rate = getattr(arrival, "rate", None)
    return float(rate) if isinstance(rate, int | float) else 0.0


def requests_per_second(arch: Architecture, scenario: str | None) -> float:
    """Upper bound of entry requests per simulated second, scenario overrides applied."""
    overrides = arch.spec.scenarios[scenario].traffic if scenario else {}
    total = 0.0
    for name, source in arch.spec.traffic.items():
        override = overrides.get(name)
        if source.type == "open":
            arrival = override.arrival if override and override.arrival else source.arrival
            rate = _peak_rate(arrival)
        else:
            users = override.users if override and override.users else source.users
            think = max(float(source.think_time.mean()), MIN_THINK)
            rate = users / think
        if override and override.scale:
            rate *= override.scale
        total += rate
    return total


def plan_run(
    arch: Architecture,
    *,
    scenario: str | None,
    duration: float | None,
    replications: int | None,
    limits: Limits,
    compare: bool = False,
    variants: int = 1,
) -> RunPlan:
    """The run's duration, replications and estimated requests; LimitExceeded when over."""
    sim = arch.spec.simulation
    scen = arch.spec.scenarios[scenario] if scenario else None
    span = (
        duration
        if duration is not None
        else (scen.duration if scen and scen.duration else sim.duration)
    )
    if compare:
        count = replications or max(sim.replications, 5)
    else:
        count = replications if replications is not None else sim.replications
    if span > limits.duration:
        raise LimitExceeded("duration", span, limits.duration, "simulated duration (s)")
    if count > limits.replications:
        raise LimitExceeded("replications", count, limits.replications, "replications")
    per_second = requests_per_second(arch, scenario)
    requests = per_second * span * count * variants
    estimate = math.ceil(requests) if math.isfinite(requests) else 2**62
    if estimate > limits.requests:
        raise LimitExceeded(
            "requests",
            estimate,
            limits.requests,
            f"estimated simulated requests ({per_second:,.0f}/s x {span:,.0f}s x {count} "
            f"replication{'s' if count != 1 else ''}{' x 2 variants' if variants > 1 else ''})",
        )
    return RunPlan(duration=span, replications=count, requests=estimate)


def check_architecture_size(text: str, arch: Architecture | None, limits: Limits) -> None:
    size = len(text.encode("utf-8"))
    if size > limits.file_bytes:
        raise LimitExceeded("file_bytes", size, limits.file_bytes, "architecture text (bytes)")
    if arch is not None:
        spec = arch.spec
        parts = (
            len(spec.services)
            + len(spec.databases)
            + len(spec.brokers)
            + len(spec.event_stores)
            + len(spec.sagas)
        )
        if parts > limits.services:
            raise LimitExceeded(
                "services",
                parts,
                limits.services,
                "services, databases, brokers, event stores and sagas",
            )
