"""Saving a simulation the CLI ran into the run store, so CLI and web share one history."""

from __future__ import annotations

import re
from typing import Any

from scalesim_patterns.sim import SimulationResult

from .documents import analyse
from .store import RunRecord, Store
from .streams import Event, timeline_events, window_events

__all__ = ["save_simulation", "store_name"]


def store_name(name: str) -> str:
    """An architecture's `metadata.name` as a store name (letters, digits, `.`, `_`, `-`)."""
    clean = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-._")[:100]
    return clean or "architecture"


def save_simulation(
    store: Store, text: str, result: SimulationResult, options: dict[str, Any]
) -> RunRecord:
    """Store `text` as the newest version of the architecture of its name (a new one when no
    architecture has that name; no new version when the text is unchanged) and the finished
    run with its result and events, as if the server had run it."""
    name = store_name(result.architecture)
    analysis = analyse(text, name)
    existing = store.architecture_by_name(name)
    if existing is None:
        arch = store.create_architecture(
            name, text, analysis.valid, analysis.diagnostics, analysis.summary
        )
        version = 1
    else:
        arch = existing
        version = store.add_version(
            arch.id, text, analysis.valid, analysis.diagnostics, analysis.summary
        )
    requests = sum(int(r.report.totals.arrivals) for r in result.runs)
    run = store.create_run(
        kind="simulate",
        source="cli",
        architecture_id=arch.id,
        version=version,
        architecture_name=arch.name,
        options=options,
        estimated_requests=requests,
    )
    events: list[Event] = [("state", {"state": "queued"}), ("state", {"state": "running"})]
    for r in result.runs:
        events += window_events(r.series, r.replication, None)
    for r in result.runs:
        events += timeline_events(r, None)
    store.append_events(run.id, events, state="running")
    store.append_events(
        run.id,
        [("state", {"state": "done", "result_url": f"/api/runs/{run.id}/result"})],
        state="done",
        result=result.to_json(),
    )
    return store.run(run.id)
