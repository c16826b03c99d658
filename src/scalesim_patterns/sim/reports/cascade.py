"""Naming the cascade: which part of the system failed first and how the failure spread.

Read after the run from the time series (so it costs nothing while simulating):

* a service is **saturated** in a window when its utilisation is at least 95 % and its queue grew
  since the previous window;
* it is **failing** when at least 10 % of the calls it finished in the window failed (with at
  least 5 calls, so a single error in a quiet window does not count);
* a **breaker opened** when any of a client's breakers moved to OPEN;
* a **fault** started (from the scenario).

Each condition is reported when it starts (once per episode). A service, database or broker
is *affected* from its first saturation, failure or fault. The spread follows the call graph
backwards: an affected service is blamed on the affected dependency it calls that was affected
first (at or before it); the path runs from the origin — the first affected part that nothing
it depends on explains — to the last part reached.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scalesim_patterns.sim.network.steps import PublishStepRuntime, QueryStepRuntime

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


def analyse(engine: Host, series: TimeSeries) -> dict[str, Any]:
    events: list[tuple[float, int, str, str, str]] = []
    window = series.window
    for name, cols in series.services.items():
        util = cols.get("utilisation", [])
        queue = cols.get("queue", [])
        thr = cols.get("throughput", [])
        errs = cols.get("errors", [])
        saturated = failing = False
        for i, t0 in enumerate(series.time):
            t = t0 + window  # when the window closed: the condition is known from then
            u = util[i] if i < len(util) else None
            q = queue[i] if i < len(queue) else None
            q0 = queue[i - 1] if 0 < i <= len(queue) else None
            high = u is not None and u >= SATURATION
            if high and not saturated and q is not None and q0 is not None and q > q0:
                events.append((t, 1, name, "saturated", f"utilisation {u:.0%}, queue {q:.1f}"))
                saturated = True
            elif not high:
                saturated = False
            calls = (thr[i] or 0.0) * window if i < len(thr) else 0.0
            bad = errs[i] if i < len(errs) else None
            bad = bad if bad is not None else 0.0
            share = bad / calls if calls else 0.0
            if calls >= MIN_CALLS and share >= ERROR_SHARE:
                if not failing:
                    events.append(
                        (t, 2, name, "failing", f"{share:.0%} of {calls:.0f} calls failed")
                    )
                failing = True
            elif calls >= MIN_CALLS:
                failing = False
    from scalesim_patterns.sim.platform.fault_log import FaultLog
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
    for t, _, kind, target, what in engine.plugins.get(FaultLog) or []:
        if what == "start":
            for part in target.split("<->"):
                events.append((t, 0, part.split(".", 1)[0], "fault", kind))
    events.sort(key=lambda e: (e[0], e[1], e[2]))

    first: dict[str, float] = {}
    for t, _, name, what, _ in events:
        if what in ("saturated", "failing", "fault") and name not in first:
            first[name] = t
    deps = _dependencies(engine)
    spread: list[list[Any]] = []
    blamed: dict[str, str | None] = {}
    for name, t in sorted(first.items(), key=lambda kv: (kv[1], kv[0])):
        causes = [d for d in deps.get(name, ()) if d in blamed]
        cause = min(causes, key=lambda d: (first[d], d)) if causes else None
        blamed[name] = cause
        spread.append([t, name, cause])
    origin = None
    roots = [name for name, cause in blamed.items() if cause is None]
    if roots:
        origin = min(roots, key=lambda n: (first[n], n))
    path: list[str] = []
    if origin is not None:
        # The longest chain of blame that starts at the origin.
        def chain(node: str) -> list[str]:
            best = [node]
            for name, cause in blamed.items():
                if cause == node:
                    sub = chain(name)
                    if len(sub) + 1 > len(best):
                        best = [node, *sub]
            return best

        path = chain(origin)
    return {
        "events": [[t, name, what, detail] for t, _, name, what, detail in events],
        "origin": origin,
        "spread": spread,
        "path": path,
        "cascade": len(path) >= 2,
    }


def install_cascade(engine: Host) -> None:
    """Installer (sim/extensions.py): add the analysis to every run's result."""
    engine.run_extras["cascade"] = lambda series: analyse(engine, series)
