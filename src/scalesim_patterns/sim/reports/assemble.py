"""A run's `Report` assembled from the runtime objects' counters after the run.

The engine only builds and runs; this module reads the counters it leaves (each with its
value at the end of warm-up, the `...0` fields) and turns them into the report's figures, so
that what a figure means is defined in one place, next to the report it fills.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from scalesim_patterns.sim.core.causes import CAUSE_NAMES
from scalesim_patterns.sim.core.histogram import LogHistogram
from scalesim_patterns.sim.network.station import EndpointStats, ServiceRuntime
from scalesim_patterns.sim.network.steps import DatabaseRuntime
from scalesim_patterns.sim.network.topics import TopicRuntime
from scalesim_patterns.sim.network.traffic import EntryRuntime
from scalesim_patterns.sim.reports.capacity import alive_seconds, worker_seconds
from scalesim_patterns.sim.reports.results import (
    QUANTILES,
    BriefReport,
    DatabaseReport,
    EndpointReport,
    EntryReport,
    Latency,
    ReplicaReport,
    Report,
    ServiceReport,
)
from scalesim_patterns.sim.reports.topic_reports import topic_report
from scalesim_patterns.sim.reports.workflow_reports import (
    EventStoreReport,
    RolloutReport,
    SagaReport,
)

__all__ = ["assemble_report", "latency_of", "worker_seconds"]


def assemble_report(
    span: float,
    causes: int,
    *,
    entries: dict[str, EntryRuntime],
    services: dict[str, ServiceRuntime],
    extra_services: Iterable[ServiceRuntime],
    gateway: ServiceRuntime | None,
    databases: dict[str, DatabaseRuntime],
    topics: dict[str, TopicRuntime],
    sagas: dict[str, SagaReport[float]],
    event_stores: dict[str, EventStoreReport[float]],
    rollouts: dict[str, RolloutReport[float]],
    brief: BriefReport[float] | None = None,
) -> Report[float]:
    """The run's figures over the measured `span` (duration minus warm-up)."""
    for entry in entries.values():
        entry.flush()
    entry_reports = {name: _entry_report(e, span) for name, e in entries.items()}
    totals = _totals_report(list(entries.values()), span, causes)
    service_reports = {name: _service_report(s, span) for name, s in services.items()}
    for extra in extra_services:
        service_reports[extra.name] = _service_report(extra, span)
    return Report(
        totals=totals,
        entries=entry_reports,
        services=service_reports,
        gateway=_service_report(gateway, span) if gateway is not None else None,
        databases={name: _database_report(d, span) for name, d in databases.items()},
        topics={name: topic_report(t, span) for name, t in topics.items()},
        sagas=sagas,
        event_stores=event_stores,
        rollouts=rollouts,
        brief=brief,
    )


def _entry_report(e: EntryRuntime, span: float) -> EntryReport[float]:
    base = _endpoint_report(e.stats, span)
    return EntryReport(
        **base.__dict__,
        arrivals=float(e.arrivals - e.arrivals0),
        in_flight_mean=(e.area - e.area0) / span,
        in_flight_start=float(e.inflight0),
        in_flight_end=float(e.inflight),
    )


def latency_of(hist: LogHistogram) -> Latency[float]:
    if hist.count == 0:
        return Latency(None, None, None, None, None, None, None)
    q = hist.quantiles(QUANTILES)
    return Latency(hist.mean, q[0], q[1], q[2], q[3], q[4], hist.max)


def _errors(fails: list[int], base: list[int]) -> dict[str, float]:
    return {CAUSE_NAMES[i]: float(fails[i] - base[i]) for i in range(1, len(CAUSE_NAMES))}


def _endpoint_report(st: EndpointStats, span: float) -> EndpointReport[float]:
    count = int(st.n - st.n0)
    errors = _errors(st.fails, st.fails0)
    failed = sum(errors.values())
    return EndpointReport(
        count=float(count),
        ok=float(count - failed),
        throughput=count / span,
        error_rate=failed / count if count else math.nan,
        errors=errors,
        latency=latency_of(st.hist),
    )


def _totals_report(entries: list[EntryRuntime], span: float, causes: int) -> EntryReport[float]:
    merged = EndpointStats(causes)
    merged.hist = LogHistogram.merged(e.stats.hist for e in entries)
    for e in entries:
        merged.n += e.stats.n
        merged.n0 += e.stats.n0
        for i in range(causes):
            merged.fails[i] += e.stats.fails[i]
            merged.fails0[i] += e.stats.fails0[i]
    base = _endpoint_report(merged, span)
    return EntryReport(
        **base.__dict__,
        arrivals=float(sum(e.arrivals - e.arrivals0 for e in entries)),
        in_flight_mean=sum(e.area - e.area0 for e in entries) / span,
        in_flight_start=float(sum(e.inflight0 for e in entries)),
        in_flight_end=float(sum(e.inflight for e in entries)),
    )


def _service_report(s: ServiceRuntime, span: float) -> ServiceReport[float]:
    per_replica: list[ReplicaReport[float]] = []
    busy_total = q_total = 0.0
    end = s.kernel.now
    start = end - span
    workers = 0.0
    for rep in s.replicas:
        rep.flush()
        busy = (rep.area_busy - rep.area_busy0) / span
        queue = (rep.area_q - rep.area_q0) / span
        busy_total += busy
        q_total += queue
        alive = alive_seconds(rep, start, end, span)
        workers += float(rep.workers) * alive / span
        per_replica.append(
            ReplicaReport(
                utilisation=(
                    busy / float(rep.workers)
                    if alive == span
                    else busy * span / (float(rep.workers) * alive)
                    if alive > 0
                    else math.nan
                ),
                busy_mean=busy,
                queue_mean=queue,
                queue_max=float(rep.qmax),
            )
        )
    endpoints = {name: _endpoint_report(ep.stats, span) for name, ep in s.endpoints.items()}
    return ServiceReport(
        replicas=float(sum(1 for rep in s.replicas if rep.removed == math.inf)),
        workers=float(s.workers),
        throughput=sum(e.count for e in endpoints.values()) / span,
        errors=sum(e.count - e.ok for e in endpoints.values()),
        utilisation=busy_total / workers if workers else math.nan,
        busy_mean=busy_total,
        queue_mean=q_total,
        queue_max=float(max((rep.qmax for rep in s.replicas), default=0)),
        endpoints=endpoints,
        per_replica=per_replica,
    )


def _database_report(d: DatabaseRuntime, span: float) -> DatabaseReport[float]:
    now = d.kernel.now
    size = sum(p.size for p in d.pools)
    area = 0.0
    for pool in d.pools:
        pool.flush(now)
        area += pool.area - pool.area0
    queries = d.count - d.count0
    failures = d.fails - d.fails0
    served = queries - failures
    return DatabaseReport(
        queries=float(queries),
        throughput=queries / span,
        failures=float(failures),
        wait_mean=(d.wait_sum - d.wait_sum0) / served if served else None,
        utilisation=area / (size * span) if size else None,
        latency=latency_of(d.hist),
    )
