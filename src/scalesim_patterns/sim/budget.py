"""How much work a simulation will be, estimated from the file before anything runs.

A few characters make a simulation absurd: a rate of 10^12/s, 10^9 replicas or users or
replications, `scale: .inf`, an Erlang distribution with k = 10^9, a duration of 10^6 h. Such a run
would start and eat memory for hours with no word. `check` estimates events and memory from the
architecture alone (arrival rates, call fan-out, populations, replicas, replications) and refuses
beyond `SimulationLimits` with the estimate and the way to lift the limit. The estimate is rough
(within a small factor for ordinary files), which is all a guard needs; it is independent of the
engine so that the web server can ask it before queueing a run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from ..model.architecture import Architecture
from ..model.checks import call_rates
from ..model.distributions import Erlang
from ..model.traffic import (
    ClosedLoop,
    ConstantArrival,
    DiurnalArrival,
    OpenLoop,
    PoissonArrival,
    RampArrival,
    SeriesArrival,
    SpikeArrival,
    StepArrival,
    TrafficOverride,
)
from .engine import SimulationError

__all__ = [
    "DEFAULT_SIMULATION_LIMITS",
    "SimulationLimits",
    "SimulationTooLarge",
    "WorkEstimate",
    "check",
    "estimate",
]

EVENTS_PER_HOP = 4
"""Kernel events per request at one endpoint: arrival, start, finish, answer."""
DRAWS_PER_EVENT = 8
"""Random draws that cost about as much as one event (for Erlang's k draws per sample)."""
BYTES_PER_REPLICA = 4096
BYTES_PER_WORKER = 256
BYTES_PER_USER = 1024
BYTES_PER_REQUEST_IN_FLIGHT = 1024
BASE_BYTES = 64 * 1024**2
"""The interpreter, the model and the time series, whatever the size of the run."""


@dataclass(frozen=True)
class SimulationLimits:
    """The largest simulation run without being asked twice. `None` lifts a limit.

    `max_events` counts kernel events over all replications (about 10^5-10^6 a second of one
    core); `max_memory` is bytes for one replication (each worker process holds one).
    """

    max_events: float | None = 1e9
    max_memory: float | None = 4 * 1024**3


DEFAULT_SIMULATION_LIMITS = SimulationLimits()


@dataclass(frozen=True)
class WorkEstimate:
    """What a run will cost, from the file alone."""

    requests: float
    """Requests the traffic sources send, over all replications."""
    events: float
    """Kernel events, over all replications."""
    memory: float
    """Peak bytes of one replication."""
    replications: int
    duration: float

    def describe(self) -> str:
        reps = f"{self.replications:,} replication{'s' if self.replications != 1 else ''}"
        return (
            f"about {_num(self.requests)} requests and {_num(self.events)} events "
            f"({reps} of {_num(self.duration)}s), {_bytes(self.memory)} of memory per replication"
        )


class SimulationTooLarge(SimulationError):
    """The estimate is beyond the limits; `estimate` says by how much."""

    def __init__(self, message: str, estimate: WorkEstimate) -> None:
        super().__init__(message)
        self.estimate = estimate


def _num(x: float) -> str:
    if not math.isfinite(x):
        return "infinitely many"
    if x < 1e6:
        return f"{x:,.0f}"
    return f"{x:.1e}"


def _bytes(n: float) -> str:
    if not math.isfinite(n):
        return "unbounded"
    for unit, factor in (("TiB", 1024**4), ("GiB", 1024**3), ("MiB", 1024**2)):
        if n >= factor:
            return f"{n / factor:.3g} {unit}"
    return f"{n / 1024:.3g} KiB"


def _peak(arrival: Any) -> float:
    if isinstance(arrival, PoissonArrival | ConstantArrival):
        return float(arrival.rate)
    if isinstance(arrival, RampArrival):
        return float(max(arrival.from_, arrival.to))
    if isinstance(arrival, StepArrival):
        return float(max(s.rate for s in arrival.steps))
    if isinstance(arrival, SpikeArrival):
        return float(max(arrival.base, arrival.peak))
    if isinstance(arrival, DiurnalArrival):
        return float(arrival.mean * (1 + arrival.amplitude))
    if isinstance(arrival, SeriesArrival):
        return float(arrival.peak())
    return 0.0  # pragma: no cover - every arrival process is listed above


def _max_erlang_k(node: Any) -> int:
    """Largest Erlang k anywhere in the model: each sample of it costs k random draws."""
    best = 1
    todo = [node]
    while todo:
        item = todo.pop()
        if type(item) in _LEAVES:
            continue  # most of the walk: numbers and names (0.9 % of a start, walked slowly)
        if isinstance(item, Erlang):
            best = max(best, item.k)
        elif isinstance(item, BaseModel):
            # A model's `__dict__` holds its fields' values, and nothing else (extra keys are
            # refused, private attributes are kept apart): the values of `model_fields`.
            todo.extend(item.__dict__.values())
        elif isinstance(item, list | tuple):
            todo.extend(item)
        elif isinstance(item, dict):
            todo.extend(item.values())
    return best


_LEAVES = frozenset({float, int, str, bool, type(None)})
"""Types `_max_erlang_k` has nothing to look into."""


def _entries(arch: Architecture, route: str | None, endpoint: str | None) -> list[str]:
    if endpoint is not None:
        return [endpoint]
    gateway = arch.spec.gateway
    if gateway is None:
        return []
    return [t for r in gateway.routes if r.path == route for t, _ in r.all_targets()]


def _hops_per_request(arch: Architecture, entries: list[str]) -> float:
    """Mean endpoints one request visits (itself, calls, queries, publishes and consumers)."""
    if not entries:
        return 1.0
    rates = call_rates(arch, {e: 1.0 / len(entries) for e in entries})
    hops = 0.0
    for ref, rate in rates.items():
        service, _, name = ref.partition(".")
        steps = arch.spec.services[service].endpoints[name].steps
        hops += rate * (1 + len(steps))
    return max(hops, 1.0)


def _resolve(
    arch: Architecture, duration: float | None, scenario: str | None
) -> tuple[float, dict[str, TrafficOverride]]:
    sim = arch.spec.simulation
    chosen = arch.spec.scenarios.get(scenario) if scenario is not None else None
    if duration is None and chosen is not None:
        duration = chosen.duration
    total = float(duration if duration is not None else sim.duration)
    if not (math.isfinite(total) and total > 0):
        raise SimulationError(f"the simulated duration must be positive and finite, got {total:g}s")
    return total, dict(chosen.traffic) if chosen is not None else {}


def estimate(
    arch: Architecture,
    *,
    duration: float | None = None,
    scenario: str | None = None,
    replications: int = 1,
) -> WorkEstimate:
    """Requests, events and memory a run of `arch` will take, from the file alone."""
    total, overrides = _resolve(arch, duration, scenario)
    k = _max_erlang_k(arch)
    per_hop = EVENTS_PER_HOP + k / DRAWS_PER_EVENT
    requests = 0.0
    events = 0.0
    in_flight = 0.0
    users = 0
    for name, src in arch.spec.traffic.items():
        override = overrides.get(name)
        entries = [t for m in src.requests() for t in _entries(arch, m.route, m.endpoint)]
        hops = _hops_per_request(arch, entries)
        if isinstance(src, OpenLoop):
            arrival = override.arrival if override and override.arrival else src.arrival
            scale = override.scale if override and override.scale is not None else 1.0
            rate = _peak(arrival) * scale * src.per_arrival()
            count = rate * total
            in_flight += _backlog(arch, entries, rate, total)
        else:
            assert isinstance(src, ClosedLoop)
            population = override.users if override and override.users is not None else src.users
            users += population
            thinks = [src.think_time.mean()]
            thinks += [s.think_time.mean() for s in src.session or [] if s.think_time is not None]
            think = max(min(thinks), 1e-3)
            count = population * total / think
            in_flight += population
        requests += count
        events += count * hops * per_hop
    replicas = sum(
        max(s.replicas, s.autoscaling.max_replicas if s.autoscaling else 0)
        for s in arch.spec.services.values()
    )
    workers = sum(
        max(s.replicas, s.autoscaling.max_replicas if s.autoscaling else 0) * s.workers
        for s in arch.spec.services.values()
    )
    memory = (
        BASE_BYTES
        + replicas * BYTES_PER_REPLICA
        + workers * BYTES_PER_WORKER
        + users * BYTES_PER_USER
        + in_flight * BYTES_PER_REQUEST_IN_FLIGHT
    )
    return WorkEstimate(
        requests=requests * replications,
        events=events * replications,
        memory=memory,
        replications=replications,
        duration=total,
    )


def _backlog(arch: Architecture, entries: list[str], rate: float, duration: float) -> float:
    """Requests left waiting at the end when the entry services cannot keep up (queues without
    a capacity grow without bound); at least what the workers hold at once."""
    if not entries:
        return 0.0
    capacity = 0.0
    bounded = 0.0
    for ref in entries:
        service, _, name = ref.partition(".")
        svc = arch.spec.services.get(service)
        if svc is None or name not in svc.endpoints:
            continue
        most = max(svc.replicas, svc.autoscaling.max_replicas if svc.autoscaling else 0)
        held = max(svc.endpoints[name].work.mean(), 1e-6)
        capacity += most * svc.workers / held / len(entries)
        if svc.queue_capacity is not None:
            bounded += most * svc.queue_capacity
    excess = max(0.0, rate - capacity) * duration
    queued = min(excess, bounded) if bounded else excess
    return queued + min(rate, capacity) * 1.0  # a second's worth in service


def check(
    arch: Architecture,
    *,
    duration: float | None = None,
    scenario: str | None = None,
    replications: int = 1,
    limits: SimulationLimits | None = DEFAULT_SIMULATION_LIMITS,
) -> WorkEstimate:
    """The estimate; SimulationTooLarge when it is beyond `limits` (None: no limit)."""
    est = estimate(arch, duration=duration, scenario=scenario, replications=replications)
    if limits is None:
        return est
    over: list[str] = []
    if limits.max_events is not None and not est.events <= limits.max_events:
        over.append(
            f"more than the limit of {_num(limits.max_events)} events "
            f"(lift it with --max-events {_lift(est.events)})"
        )
    if limits.max_memory is not None and not est.memory <= limits.max_memory:
        over.append(
            f"more than the limit of {_bytes(limits.max_memory)} of memory "
            f"(lift it with --max-memory {_lift(est.memory)})"
        )
    if over:
        raise SimulationTooLarge(
            f"the simulation is too large: {est.describe()}; "
            + "; ".join(over)
            + ". In Python: simulate(..., limits=SimulationLimits(...)), or limits=None for no "
            "limit. Or shorten the duration, lower rates, replicas, users or replications.",
            est,
        )
    return est


def _lift(value: float) -> str:
    if not math.isfinite(value):
        return "0 (no limit)"
    return f"{float(f'{value * 1.1:.2g}'):.2g}"
