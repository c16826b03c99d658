"""Windows as they close: a typed hook for callers that show a run while it runs.

`simulate(..., on_window=fn)` calls `fn` with each closed time-series window of each
replication, in window order within a replication. Nothing is installed when no callback is
given, and the callback only reads the recorder's columns, so results are the same with or
without it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from scalesim_patterns.sim.reports.timeseries import SeriesRecorder

if TYPE_CHECKING:
    from scalesim_patterns.sim.engine import Engine
    from scalesim_patterns.sim.network.host import WindowRecorder
    from scalesim_patterns.sim.reports.results import TimeSeries

__all__ = ["Window", "WindowFn", "watch_windows", "window_of"]

Row = dict[str, dict[str, float | None]]


@dataclass(frozen=True)
class Window:
    """One closed window of one replication: the figures of column `index` of its series."""

    replication: int
    index: int
    time: float
    """Start of the window (simulated seconds); it covers [time, time + window)."""
    window: float
    entries: Row
    services: Row
    clients: Row
    sagas: Row
    projections: Row
    rollouts: Row
    routes: Row = field(default_factory=dict)
    """Per gateway route a scenario's changes move (`/shop`), each target's share of the
    route's requests in the window (the window's column of the result's `changes.routes`)."""


WindowFn = Callable[[Window], None]


def _row(groups: dict[str, dict[str, list[float | None]]], i: int) -> Row:
    return {
        name: {metric: (col[i] if i < len(col) else None) for metric, col in metrics.items()}
        for name, metrics in groups.items()
    }


def route_shares(changes: Mapping[str, Any] | None, index: int) -> Row:
    """Column `index` of a run's `changes.routes` shares: `{route: {target: share}}`."""
    routes: Mapping[str, Any] = (changes or {}).get("routes") or {}
    return {
        key: {t: (col[index] if index < len(col) else None) for t, col in r["share"].items()}
        for key, r in routes.items()
    }


def window_of(
    series: TimeSeries, replication: int, index: int, changes: Mapping[str, Any] | None = None
) -> Window:
    """Window `index` of a replication's series (live or finished: the same figures);
    `changes` is the run's `changes` section, when its scenario has one."""
    return Window(
        replication=replication,
        index=index,
        time=series.time[index],
        window=series.window,
        entries=_row(series.entries, index),
        services=_row(series.services, index),
        clients=_row(series.clients, index),
        sagas=_row(series.sagas, index),
        projections=_row(series.projections, index),
        rollouts=_row(series.rollouts, index),
        routes=route_shares(changes, index),
    )


def watch_windows(engine: Engine, on_window: WindowFn) -> None:
    """Call `on_window` as each window of `engine`'s run closes, once every window hook
    (including those installed later in the run) has added its columns."""

    from scalesim_patterns.sim.platform.changes import Changes

    def closed(recorder: SeriesRecorder) -> None:
        # The changes' own window hook has closed their route shares by now (hooks run first).
        state = engine.plugins.get(Changes)
        section = {"routes": {k: r.section() for k, r in state.routes.items()}} if state else None
        on_window(window_of(recorder.result(), engine.replication, len(recorder.time) - 1, section))

    def attach(recorder: WindowRecorder) -> None:
        if isinstance(recorder, SeriesRecorder):
            recorder.on_close = closed  # runs after the hooks, from this window on

    engine.window_hooks.append(attach)
