"""What a run would cost, estimated before it starts, and the check against the server's limits.

The estimate of entry requests is the simulator's (`sim/budget.py`): the peak arrival rate of each
open source times the simulated time, and for closed sources one request per user per mean think
time (ignoring response time, which only lowers the rate), scenario overrides applied.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scalesim_patterns.model import Architecture
from scalesim_patterns.sim.budget import estimate as estimate_work

from .config import Limits

__all__ = ["LimitExceeded", "RunPlan", "check_architecture_size", "plan_run"]


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
    # The simulator's own estimate (sim/budget.py), the one `scalesim simulate` checks too.
    requests = estimate_work(arch, duration=span, scenario=scenario).requests * count * variants
    per_second = requests / (span * count * variants) if span > 0 else 0.0
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
