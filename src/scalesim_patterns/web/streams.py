"""A finished simulation as run events: one `window` per recorded window of each replication
and the `timeline` of what happened when (the same events `scalesim simulate` prints)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scalesim_patterns.sim import RunResult, TimeSeries, Window
from scalesim_patterns.sim.reports.live import window_of

__all__ = ["Event", "critical_path_event", "timeline_events", "window_event", "window_events"]

Event = tuple[str, dict[str, Any]]

ROLLOUT_ACTIONS = frozenset(
    {
        "started",
        "weight",
        "analysis-failed",
        "aborted",
        "switched",
        "switched-back",
        "promoted",
        "paused",
    }
)


def window_event(w: Window, variant: str | None) -> Event:
    """A closed window as a `window` event (the same whether sent live or at the end)."""
    return (
        "window",
        {
            "variant": variant,
            "replication": w.replication,
            "index": w.index,
            "time": w.time,
            "window": w.window,
            "entries": w.entries,
            "services": w.services,
            "clients": w.clients,
            "sagas": w.sagas,
            "projections": w.projections,
            "rollouts": w.rollouts,
            "routes": w.routes,
        },
    )


def window_events(
    series: TimeSeries,
    replication: int,
    variant: str | None,
    changes: Mapping[str, Any] | None = None,
) -> list[Event]:
    return [
        window_event(window_of(series, replication, i, changes), variant)
        for i in range(len(series.time))
    ]


def timeline_events(run: RunResult, variant: str | None) -> list[Event]:
    """Faults, breaker transitions, scaling, pod changes, rollout steps, in time order; then
    the cascade, when there was one."""
    found: list[tuple[float, str, str]] = []
    resilience = run.extras.get("resilience") or {}
    for fault in resilience.get("faults", []):
        t, _, kind, target, edge = fault
        found.append(
            (t, "fault", f"fault {kind} on {target} {'starts' if edge == 'start' else 'ends'}")
        )
    for breaker in resilience.get("breakers", []):
        where = f" ({breaker['replica']})" if breaker.get("replica") not in (None, "-") else ""
        for t, old, new in breaker.get("transitions", []):
            found.append((t, "breaker", f"breaker {breaker['client']}{where}: {old} -> {new}"))
    for scaler in resilience.get("autoscaling", []):
        for t, old, new, *_ in scaler.get("events", []):
            if old != new:
                found.append(
                    (t, "scaling", f"autoscaler scales {scaler['service']} {old} -> {new} replicas")
                )
    for t, pod, what in resilience.get("pods", []):
        if what not in ("added", "started"):
            found.append((t, "pod", f"pod {pod}: {what}"))
    for service, decisions in run.decisions.items():
        for d in decisions:
            if d.action in ROLLOUT_ACTIONS:
                found.append(
                    (d.time, "rollout", f"rollout {service}: {d.action} {d.detail}".rstrip())
                )
    found.sort(key=lambda e: e[0])
    events: list[Event] = [
        (
            "timeline",
            {
                "variant": variant,
                "replication": run.replication,
                "time": t,
                "kind": kind,
                "text": text,
            },
        )
        for t, kind, text in found
    ]
    cascade = run.extras.get("cascade") or {}
    if cascade.get("cascade"):
        path = " -> ".join(str(p) for p in cascade.get("path", []))
        seen = cascade.get("events") or []
        start = float(seen[0][0]) if seen else 0.0
        events.append(
            (
                "timeline",
                {
                    "variant": variant,
                    "replication": run.replication,
                    "time": start,
                    "kind": "cascade",
                    "text": f"cascade: failure started at {cascade.get('origin')} and spread along {path}",
                },
            )
        )
    return events


def critical_path_event(traces: Any) -> Event:
    """The critical-path summary of a run's sampled traces (replication 0) as one `traces`
    event: per entry, the hops and causes that make up its p50 and its p99, as `scalesim
    simulate --traces` prints them (docs/simulation.md, *Critical path*)."""
    from scalesim_patterns.sim.tracing.critical_path import summarise

    def band(b: Any) -> dict[str, Any]:
        return {
            "latency_ms": b.latency_ms,
            "traces": b.traces,
            "parts": [
                {"hop": p.hop, "cause": p.cause, "ms": p.ms, "share": p.share} for p in b.parts
            ],
        }

    return (
        "traces",
        {
            "message": traces.message(),
            "entries": [
                {"entry": e.entry, "traces": e.traces, "p50": band(e.p50), "p99": band(e.p99)}
                for e in summarise(traces)
            ],
        },
    )
