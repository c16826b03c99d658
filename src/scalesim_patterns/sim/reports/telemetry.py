"""What the resilience mechanisms tell the results: counters per client, breaker states over
time, and the per-run log sections (`RunResult.extras["resilience"]`).

Counters are plain attributes bumped by the mechanisms (only configured ones exist, so an
unconfigured run pays nothing); they are read at warm-up (baseline), at every window close
(time series) and at the end (report). Hooks are registered on the engine the first time a
mechanism asks for a client's counters or a log section.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Final, cast

from scalesim_patterns.sim.mechanisms.breaker import CLOSED, HALF_OPEN, OPEN, CircuitBreaker

if TYPE_CHECKING:
    from scalesim_patterns.sim.network.host import Host, WindowRecorder
    from scalesim_patterns.sim.reports.resilience_reports import ClientReport
    from scalesim_patterns.sim.reports.results import Report

__all__ = [
    "COUNTERS",
    "BreakerRecord",
    "ClientRegistry",
    "ClientStats",
    "Sections",
    "add_section",
    "client_stats",
    "state_code",
    "time_in_states",
]

COUNTERS: Final = (
    "calls",
    "attempts",
    "retries",
    "failed",
    "not_permitted",
    "bulkhead_full",
    "fallbacks",
    "mesh_calls",
    "mesh_attempts",
    "mesh_retries",
    "overflow",
    "no_healthy_upstream",
    "ejections",
)
"""Monotonic counters of a client."""

_SERIES: Final = (
    "calls",
    "retries",
    "failed",
    "not_permitted",
    "bulkhead_full",
    "fallbacks",
    "mesh_retries",
    "overflow",
    "no_healthy_upstream",
)
"""Counters shown per window (differences)."""

_CODE: Final = {CLOSED: 0, HALF_OPEN: 1, OPEN: 2}


def state_code(state: str) -> int:
    """0 closed, 1 half-open, 2 open: the breaker column of the time series."""
    return _CODE[state]


class BreakerRecord:
    """One breaker instance: Resilience4j and pybreaker keep one per application instance, so a
    client has one per caller replica."""

    __slots__ = ("breaker", "created", "kind", "replica")

    def __init__(self, replica: str, kind: str, breaker: CircuitBreaker, created: float) -> None:
        self.replica = replica
        self.kind = kind
        self.breaker = breaker
        self.created = created


class ClientStats:
    """Counters of one client, `caller->target` (their names are `COUNTERS`)."""

    __slots__ = (*COUNTERS, "base", "breakers", "key", "last")

    def __init__(self, key: str) -> None:
        self.key = key
        self.calls = 0
        self.attempts = 0
        self.retries = 0
        self.failed = 0
        self.not_permitted = 0
        self.bulkhead_full = 0
        self.fallbacks = 0
        self.mesh_calls = 0
        self.mesh_attempts = 0
        self.mesh_retries = 0
        self.overflow = 0
        self.no_healthy_upstream = 0
        self.ejections = 0
        self.breakers: list[BreakerRecord] = []
        self.base = dict.fromkeys(COUNTERS, 0)
        self.last = dict.fromkeys(COUNTERS, 0)

    def snapshot(self) -> dict[str, int]:
        return {name: cast(int, getattr(self, name)) for name in COUNTERS}


class ClientRegistry(dict[str, ClientStats]):
    """Plug-in state: the counters of every client (`caller->target`) that has any."""


class Sections(dict[str, Callable[[], Any]]):
    """Plug-in state: the run's `resilience` log sections, by name, computed after the run."""


def _registry(engine: Host) -> ClientRegistry:
    found = engine.plugins.get(ClientRegistry)
    if found is None:
        registry = found = engine.plugins.add(ClientRegistry())
        engine.reset_hooks.append(lambda: _reset(registry))
        engine.window_hooks.append(lambda rec: _window(registry, rec))
        engine.report_hooks.append(lambda rep: _report(engine, registry, rep))
    return found


def client_stats(engine: Host, caller: str, target: str) -> ClientStats:
    """The counters of the client `caller->target`, created on first use."""
    registry = _registry(engine)
    key = f"{caller}->{target}"
    stats = registry.get(key)
    if stats is None:
        stats = registry[key] = ClientStats(key)
    return stats


def add_section(engine: Host, name: str, fn: Callable[[], Any]) -> None:
    """Add `name: fn()` to the run's `resilience` section (a log of what mechanisms did)."""
    sections = engine.plugins.get(Sections)
    if sections is None:
        found = sections = engine.plugins.add(Sections())
        engine.run_extras["resilience"] = lambda _series: _sections(engine, found)
    sections[name] = fn


def _sections(engine: Host, sections: Sections) -> dict[str, Any]:
    out: dict[str, Any] = {}
    registry = engine.plugins.get(ClientRegistry) or ClientRegistry()
    breakers = [
        {
            "client": stats.key,
            "replica": rec.replica,
            "type": rec.kind,
            "created": rec.created,
            "transitions": [list(t) for t in rec.breaker.transitions],
            "time_in_state": time_in_states(
                rec.breaker.transitions, rec.created, engine.warmup, engine.duration
            ),
            "not_permitted": rec.breaker.rejected,
        }
        for stats in registry.values()
        for rec in stats.breakers
    ]
    if breakers:
        out["breakers"] = breakers
    for name, fn in sections.items():
        out[name] = fn()
    return out


def time_in_states(
    transitions: list[tuple[float, str, str]], created: float, start: float, end: float
) -> dict[str, float]:
    """Seconds spent in each state within [start, end] (the breaker is CLOSED when made)."""
    spent = {CLOSED: 0.0, OPEN: 0.0, HALF_OPEN: 0.0}
    state = CLOSED
    t = created
    for when, _, new in [*transitions, (end, "", "")]:
        lo, hi = max(t, start), min(when, end)
        if hi > lo:
            spent[state] += hi - lo
        if not new:
            break
        state, t = new, when
    return spent


def _reset(registry: dict[str, ClientStats]) -> None:
    for stats in registry.values():
        stats.base = stats.snapshot()


def _window(registry: dict[str, ClientStats], recorder: WindowRecorder) -> None:
    n = len(recorder.time)
    for key, stats in registry.items():
        cols = recorder.clients.get(key)
        if cols is None:
            cols = recorder.clients[key] = {}
        now = stats.snapshot()
        values: dict[str, float | None] = {
            name: float(now[name] - stats.last[name]) for name in _SERIES
        }
        stats.last = now
        if stats.breakers:
            states = [state_code(rec.breaker.state) for rec in stats.breakers]
            values["breaker"] = float(max(states))
            values["breakers_open"] = float(sum(1 for s in states if s == 2))
        for name, value in values.items():
            col = cols.setdefault(name, [])
            while len(col) < n - 1:
                col.append(None)
            col.append(value)


def _report(engine: Host, registry: dict[str, ClientStats], report: Report[float]) -> Report[float]:
    # After the run: the report's dataclass is not defined before the first event.
    from scalesim_patterns.sim.reports.resilience_reports import ClientReport

    start, end = engine.warmup, engine.duration
    sites, counted = _edge_sites(engine)
    clients: dict[str, ClientReport[float]] = {}
    for key, stats in registry.items():
        now = stats.snapshot()
        d = {name: float(now[name] - stats.base[name]) for name in COUNTERS}
        opened = 0
        total = open_ = half = 0.0
        for rec in stats.breakers:
            spent = time_in_states(rec.breaker.transitions, rec.created, start, end)
            total += sum(spent.values())
            open_ += spent[OPEN]
            half += spent[HALF_OPEN]
            opened += sum(1 for t, _, new in rec.breaker.transitions if new == OPEN and t >= start)
        clients[key] = ClientReport(
            calls=d["calls"],
            attempts=d["attempts"],
            retries=d["retries"],
            attempts_per_call=d["attempts"] / d["calls"] if d["calls"] else math.nan,
            failed=d["failed"],
            not_permitted=d["not_permitted"],
            bulkhead_full=d["bulkhead_full"],
            fallbacks=d["fallbacks"],
            breaker_opened=float(opened),
            open_share=open_ / total if total else 0.0,
            half_open_share=half / total if total else 0.0,
            mesh_calls=d["mesh_calls"],
            mesh_attempts=d["mesh_attempts"],
            mesh_retries=d["mesh_retries"],
            overflow=d["overflow"],
            no_healthy_upstream=d["no_healthy_upstream"],
            ejections=d["ejections"],
            call_sites=float(sites.get(key, 0)),
            counted_sites=float(counted.get(key, 0)),
        )
    return replace(report, clients=clients)


def _edge_sites(engine: Host) -> tuple[dict[str, int], dict[str, int]]:
    """Per `caller->target`: its call sites, and those whose calls a client counts (an
    application policy, or the mesh's sidecar)."""
    sites: dict[str, int] = {}
    counted: dict[str, int] = {}
    for site in engine.sites:
        key = f"{site.caller}->{site.target_service}"
        sites[key] = sites.get(key, 0) + 1
        p = site.policy
        policy = any(x is not None for x in (p.retry, p.circuit_breaker, p.bulkhead, p.fallback))
        if policy or site.mesh:
            counted[key] = counted.get(key, 0) + 1
    return sites, counted
