"""Naming the cascade: which part of the system failed first and how the failure spread.

Read after the run from the time series and the calls' own record of what failed them (so it
costs nothing while simulating beyond a counter on the failure path):

* a service is **saturated** in a window when its utilisation is at least 95 % and its queue grew
  since the previous window;
* it is **failing** when at least 10 % of the calls it finished in the window failed (with at
  least 5 calls, so a single error in a quiet window does not count);
* a **breaker opened** when any of a client's breakers moved to OPEN;
* a **fault** started (from the scenario).

Each condition is reported when it starts (once per episode). A service, database or broker
is *affected* from its first saturation, failure or fault. The spread follows causality, not
names or the order services are looked at: an affected service is blamed on a dependency it
calls that was affected at or before it, preferring the one whose failed calls failed it most
(each step counts, per dependency, the caller failures that a failed call caused:
`steps.Caused`), then the earliest affected. A service is the origin when nothing it depends on
explains it; the path runs from the origin along the longest chain of blame. Renaming services
changes nothing but the names (tests/sim/reports/test_cascade.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scalesim_patterns.sim.network.loops import ChoiceStepRuntime
from scalesim_patterns.sim.network.steps import (
    CallStepRuntime,
    ParallelStepRuntime,
    PublishStepRuntime,
    QueryStepRuntime,
)

if TYPE_CHECKING:
    from scalesim_patterns.sim.network.host import Host
    from scalesim_patterns.sim.reports.results import TimeSeries
    from scalesim_patterns.sim.reports.telemetry import ClientStats

__all__ = ["ERROR_SHARE", "MIN_CALLS", "SATURATION", "analyse", "install_cascade"]

OPEN = "OPEN"
"""The breakers' open state (mechanisms.breaker.OPEN; not imported, to keep this module light)."""
SATURATION = 0.95
ERROR_SHARE = 0.10
MIN_CALLS = 5


def _dependencies(engine: Host) -> dict[str, set[str]]:
    """What each service (and the gateway) calls, queries or publishes to."""
    deps: dict[str, set[str]] = {}
    for site in engine.sites:
        if site.caller.startswith("@client"):
            continue
        deps.setdefault(site.caller, set()).add(site.target_service)
    for name, svc in engine.services.items():
        for ep in svc.endpoints.values():
            for step in ep.steps:
                if isinstance(step, QueryStepRuntime):
                    deps.setdefault(name, set()).add(step.db.name)
                elif isinstance(step, PublishStepRuntime):
                    broker = engine.arch.topic_owner(step.topic.name)
                    if broker is not None:
                        deps.setdefault(name, set()).add(broker)
    return deps


Event = tuple[float, int, str, str, str]
"""(time, rank for simultaneous events, part, what happened, detail)."""


def analyse(engine: Host, series: TimeSeries) -> dict[str, Any]:
    """The cascade section of a run's result: events, origin, who blamed whom, the path."""
    events = sorted(
        [
            *_condition_events(series),
            *_breaker_events(engine, series.window),
            *_fault_events(engine),
        ],
        key=lambda e: (e[0], e[1], e[2]),
    )
    first = _first_affected(events)
    blamed = _blame(first, _dependencies(engine), _caused(engine))
    origin = _origin(first, blamed)
    path = _longest_chain(origin, first, blamed) if origin is not None else []
    spread = [[first[n], n, blamed[n]] for n in sorted(first, key=lambda n: (first[n], n))]
    return {
        "events": [[t, name, what, detail] for t, _, name, what, detail in events],
        "origin": origin,
        "spread": spread,
        "path": path,
        "cascade": len(path) >= 2,
    }


def _condition_events(series: TimeSeries) -> list[Event]:
    """Saturation and failure episodes of every service, each when it starts."""
    events: list[Event] = []
    for name, cols in series.services.items():
        events.extend(_saturation(name, cols, series.time, series.window))
        events.extend(_failing(name, cols, series.time, series.window))
    return events


def _column(cols: dict[str, list[float | None]], key: str, i: int) -> float | None:
    col = cols.get(key, [])
    return col[i] if 0 <= i < len(col) else None


def _saturation(
    name: str, cols: dict[str, list[float | None]], time: list[float], window: float
) -> list[Event]:
    events: list[Event] = []
    saturated = False
    for i, t0 in enumerate(time):
        t = t0 + window  # when the window closed: the condition is known from then
        u = _column(cols, "utilisation", i)
        q = _column(cols, "queue", i)
        q0 = _column(cols, "queue", i - 1) if i > 0 else None
        high = u is not None and u >= SATURATION
        if high and not saturated and q is not None and q0 is not None and q > q0:
            events.append((t, 1, name, "saturated", f"utilisation {u:.0%}, queue {q:.1f}"))
            saturated = True
        elif not high:
            saturated = False
    return events


def _failing(
    name: str, cols: dict[str, list[float | None]], time: list[float], window: float
) -> list[Event]:
    events: list[Event] = []
    failing = False
    for i, t0 in enumerate(time):
        calls = (_column(cols, "throughput", i) or 0.0) * window
        bad = _column(cols, "errors", i) or 0.0
        share = bad / calls if calls else 0.0
        if calls >= MIN_CALLS and share >= ERROR_SHARE:
            if not failing:
                events.append(
                    (t0 + window, 2, name, "failing", f"{share:.0%} of {calls:.0f} calls failed")
                )
            failing = True
        elif calls >= MIN_CALLS:
            failing = False
    return events


def _breaker_events(engine: Host, window: float) -> list[Event]:
    """A client's breakers opening, at most once per window per client."""
    events: list[Event] = []
    from scalesim_patterns.sim.reports.telemetry import ClientRegistry

    registry: dict[str, ClientStats] = engine.plugins.get(ClientRegistry) or {}
    for key, stats in registry.items():
        caller = key.split("->", 1)[0]
        opened = sorted(
            t for rec in stats.breakers for t, _, new in rec.breaker.transitions if new == OPEN
        )
        last_window = None
        for t in opened:
            w = int(t // window)
            if w != last_window:
                events.append((t, 3, caller, "breaker opened", key))
                last_window = w
    return events


def _fault_events(engine: Host) -> list[Event]:
    events: list[Event] = []
    from scalesim_patterns.sim.platform.fault_log import FaultLog

    for t, _, kind, target, what in engine.plugins.get(FaultLog) or []:
        if what == "start":
            for part in target.split("<->"):
                events.append((t, 0, part.split(".", 1)[0], "fault", kind))
    return events


def _first_affected(events: list[Event]) -> dict[str, float]:
    first: dict[str, float] = {}
    for t, _, name, what, _ in events:
        if what in ("saturated", "failing", "fault") and name not in first:
            first[name] = t
    return first


def _caused(engine: Host) -> dict[tuple[str, str], int]:
    """(caller, dependency) -> how many of the caller's failures a failed call to it caused."""
    out: dict[tuple[str, str], int] = {}
    services = [*engine.services.values()]
    if engine.gateway is not None:
        services.append(engine.gateway)
    for svc in services:
        for ep in svc.endpoints.values():
            steps: list[Any] = []
            for step in ep.steps:
                steps.extend(step.calls() if isinstance(step, ChoiceStepRuntime) else [step])
            for step in steps:
                if not isinstance(step, CallStepRuntime | ParallelStepRuntime | QueryStepRuntime):
                    continue
                for dep, rec in step.caused.items():
                    key = (svc.name, dep)
                    out[key] = out.get(key, 0) + rec.count
    return out


def _blame(
    first: dict[str, float], deps: dict[str, set[str]], caused: dict[tuple[str, str], int]
) -> dict[str, str | None]:
    """Each affected part's cause: the affected dependency (at or before it) whose failed calls
    failed it most, else the earliest affected; None when no dependency explains it.

    Every affected part is judged against all the others at once, so the order in which parts
    are looked at (and so their names) cannot change the answer; two parts that blame each other
    (services calling one another, affected together) keep the better-evidenced direction.
    """
    blamed: dict[str, str | None] = {}
    for name, t in first.items():
        candidates = [d for d in deps.get(name, ()) if d in first and first[d] <= t]
        blamed[name] = (
            max(candidates, key=lambda d: (caused.get((name, d), 0), -first[d], d))
            if candidates
            else None
        )
    for name in sorted(blamed):
        cause = blamed[name]
        if cause is not None and blamed.get(cause) == name:
            weaker = min(
                (name, cause), key=lambda n: (caused.get((n, blamed[n] or ""), 0), -first[n], n)
            )
            blamed[weaker] = None
    return blamed


def _origin(first: dict[str, float], blamed: dict[str, str | None]) -> str | None:
    """The earliest part nothing explains; among simultaneous ones, the one explaining most."""
    roots = [name for name, cause in blamed.items() if cause is None]
    if not roots:
        return None
    reach = {root: len(_explained(root, blamed)) for root in roots}
    return min(roots, key=lambda n: (first[n], -reach[n], n))


def _explained(node: str, blamed: dict[str, str | None]) -> set[str]:
    out: set[str] = set()
    frontier = [node]
    while frontier:
        cur = frontier.pop()
        for name, cause in blamed.items():
            if cause == cur and name not in out and name != node:
                out.add(name)
                frontier.append(name)
    return out


def _longest_chain(node: str, first: dict[str, float], blamed: dict[str, str | None]) -> list[str]:
    """The longest chain of blame from `node`; between equally long ones, the earlier reached."""
    best = [node]
    for name in sorted(blamed, key=lambda n: (first[n], n)):
        if blamed[name] == node:
            sub = _longest_chain(name, first, blamed)
            if len(sub) + 1 > len(best):
                best = [node, *sub]
    return best


def install_cascade(engine: Host) -> None:
    """Installer (sim/extensions.py): add the analysis to every run's result."""
    engine.run_extras["cascade"] = lambda series: analyse(engine, series)
