"""Worker-seconds a service's replicas offered over a span: what its utilisation is measured
against, in the run's report (`assemble`) and in each time-series window (`timeseries`).

Apart from `assemble` so that the time series, which runs from the first event, does not load
the results' dataclasses before the run has finished.
"""

from __future__ import annotations

from scalesim_patterns.sim.network.station import Replica

__all__ = ["alive_seconds", "worker_seconds"]


def alive_seconds(rep: Replica, start: float, end: float, span: float) -> float:
    """Seconds of [start, end] the replica existed (replicas come and go with autoscaling,
    crashes and restarts); exactly `span` for one that lived throughout."""
    if rep.born <= start and rep.died >= end:
        return span
    return max(0.0, min(rep.died, end) - max(rep.born, start))


def worker_seconds(replicas: list[Replica], start: float, end: float, span: float) -> float:
    """Worker-seconds available in [start, end] (span = end - start)."""
    full = 0
    part = 0.0
    for rep in replicas:
        if rep.born <= start and rep.died >= end:
            full += rep.workers
        else:
            part += float(rep.workers) * alive_seconds(rep, start, end, span)
    return full * span + part
