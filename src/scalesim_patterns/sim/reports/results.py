"""What a simulation reports, per run and across replications, and its JSON / CSV forms.

One set of dataclasses serves both: a run's figures are `Report[float]`; the summary over
replications is `Report[Estimate]` with the same shape, each number replaced by its mean and
95 % confidence half-width. The JSON form is documented in docs/results-format.md; it contains
nothing that depends on the machine or the wall clock, so the same seed gives byte-identical
output.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, is_dataclass, replace
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from scalesim_patterns.sim.core.stats import Estimate, batch_means, estimate, paired_difference

if TYPE_CHECKING:
    from scalesim_patterns.sim.reports.resilience_reports import ClientReport
    from scalesim_patterns.sim.reports.workflow_reports import (
        Decision,
        EventStoreReport,
        RolloutReport,
        SagaReport,
    )
    from scalesim_patterns.sim.tracing.spans import TraceSet

__all__ = [
    "FORMAT",
    "Comparison",
    "ConsumerGroupReport",
    "DatabaseReport",
    "EndpointReport",
    "EntryReport",
    "Latency",
    "Progress",
    "ReplicaReport",
    "Report",
    "RunResult",
    "ServiceReport",
    "SimulationResult",
    "TimeSeries",
    "TopicReport",
    "summarise",
]

FORMAT = "scalesim.results/v1"
QUANTILES = (0.5, 0.9, 0.95, 0.99, 0.999)

N = TypeVar("N", float, Estimate)


@dataclass(frozen=True)
class Latency(Generic[N]):
    """Seconds; over successful requests only (failures are counted, not timed)."""

    mean: N | None
    p50: N | None
    p90: N | None
    p95: N | None
    p99: N | None
    p999: N | None
    max: N | None


@dataclass(frozen=True)
class EndpointReport(Generic[N]):
    count: N
    """Requests finished (successfully or not) in the measured period."""
    ok: N
    throughput: N
    """Finished requests per second of measured time."""
    error_rate: N
    """Failed share of finished requests."""
    errors: dict[str, N]
    """Failed requests by cause."""
    latency: Latency[N]


@dataclass(frozen=True)
class EntryReport(EndpointReport[N]):
    arrivals: N
    """Requests sent in the measured period."""
    in_flight_mean: N
    """Time-average number of requests sent and not yet answered (L in Little's law)."""
    in_flight_start: N
    in_flight_end: N


@dataclass(frozen=True)
class ReplicaReport(Generic[N]):
    utilisation: N
    """Time-average busy workers / workers."""
    busy_mean: N
    queue_mean: N
    """Time-average calls waiting for a worker."""
    queue_max: N


@dataclass(frozen=True)
class ServiceReport(Generic[N]):
    replicas: N
    workers: N
    throughput: N
    errors: N
    utilisation: N
    busy_mean: N
    queue_mean: N
    """Sum over replicas."""
    queue_max: N
    """Largest queue of any replica."""
    endpoints: dict[str, EndpointReport[N]]
    per_replica: list[ReplicaReport[N]]


@dataclass(frozen=True)
class DatabaseReport(Generic[N]):
    queries: N
    throughput: N
    failures: N
    wait_mean: N | None
    """Mean time waiting for a pool connection."""
    utilisation: N | None
    """Busy connections / connections, time-averaged over all pools."""
    latency: Latency[N]
    """Wait plus the operation itself."""


@dataclass(frozen=True)
class ConsumerGroupReport(Generic[N]):
    """One consumer group of a topic over the measured span; no message is ever lost:
    `published + backlog_start = delivered + dead_lettered + backlog_end`."""

    delivered: N
    """Messages the group acknowledged."""
    redeliveries: N
    """Deliveries of a message delivered before (after a failure, a timeout or a refusal)."""
    dead_lettered: N
    """Messages given up after `maxDeliveries` failed deliveries."""
    backlog_start: N
    backlog_end: N
    """Messages waiting or in flight (delivered, unacknowledged) at the start / end."""
    backlog_mean: N
    """Time-average backlog."""
    backlog_max: N
    age_end: N
    """Age of the oldest unacknowledged message at the end (0 when none), seconds."""
    age_max: N
    """Largest age the oldest unacknowledged message reached, seconds."""
    lag: Latency[N]
    """From publish until this group finished with the message."""


@dataclass(frozen=True)
class TopicReport(Generic[N]):
    published: N
    """Messages the broker accepted (acknowledged to their publisher)."""
    consumed: N
    """Consumer calls answered, redeliveries included (one per group per delivery)."""
    failures: N
    """Of which failed or refused."""
    lag: Latency[N]
    """From publish until a consumer has finished with the message (all groups)."""
    redeliveries: N
    dead_lettered: N
    backlog_end: N
    """Summed over groups."""
    age_max: N
    """The worst group's."""
    groups: dict[str, ConsumerGroupReport[N]]


@dataclass(frozen=True)
class BriefReport(Generic[N]):
    """Figures the product brief states expectations for, measured where the engine sees them
    (the rest of the brief's figures are read from the other sections: see sim/reports/brief.py)."""

    gateway_added: Latency[N] | None
    """Time a request spends in the gateway before it goes upstream: queueing for a worker, the
    proxy's work and the auth check (None without a gateway)."""
    mesh_hop: Latency[N] | None
    """Sidecar cost per meshed call: both proxies of a service-to-service hop, the one of a
    gateway-to-service hop (None without an enabled mesh)."""


@dataclass(frozen=True)
class Report(Generic[N]):
    totals: EntryReport[N]
    """All entries together."""
    entries: dict[str, EntryReport[N]]
    services: dict[str, ServiceReport[N]]
    gateway: ServiceReport[N] | None
    databases: dict[str, DatabaseReport[N]]
    topics: dict[str, TopicReport[N]]
    sagas: dict[str, SagaReport[N]] = field(default_factory=dict)
    event_stores: dict[str, EventStoreReport[N]] = field(default_factory=dict)
    rollouts: dict[str, RolloutReport[N]] = field(default_factory=dict)
    clients: dict[str, ClientReport[N]] = field(default_factory=dict)
    brief: BriefReport[N] | None = None
    """Resilience policies per `caller->target` (docs/resilience.md); only configured ones."""


@dataclass(frozen=True)
class TimeSeries:
    """Columns per window; window i covers [time[i], time[i] + window)."""

    window: float
    time: list[float]
    entries: dict[str, dict[str, list[float | None]]]
    """count, errors, throughput, mean, p50, p90, p99, max per entry (and `*` for all)."""
    services: dict[str, dict[str, list[float | None]]]
    """throughput, errors, utilisation, queue, replicas, and mean, p50, p90, p99 latency of the
    calls the service's endpoints answered successfully, per service."""
    sagas: dict[str, dict[str, list[float | None]]] = field(default_factory=dict)
    """started, completed, compensated, stuck (per window), open (at the window's end)."""
    projections: dict[str, dict[str, list[float | None]]] = field(default_factory=dict)
    """Keyed `store/projection`: applied (events/s), lag_mean, lag_max, age_max."""
    rollouts: dict[str, dict[str, list[float | None]]] = field(default_factory=dict)
    """weight, old_/new_ throughput, error_rate, replicas per service under rollout."""
    clients: dict[str, dict[str, list[float | None]]] = field(default_factory=dict)
    """Per `caller->target` with a resilience policy: breaker state, retries, rejections."""
    topics: dict[str, dict[str, list[float | None]]] = field(default_factory=dict)
    """Keyed `topic/group`: backlog, backlog_max, age, age_max, delivered, redeliveries,
    dead_lettered."""


@dataclass(frozen=True)
class RunResult:
    replication: int
    seed: int
    events: int
    report: Report[float]
    series: TimeSeries
    decisions: dict[str, list[Decision]] = field(default_factory=dict)
    """Rollout controllers' actions, per service."""
    extras: dict[str, Any] = field(default_factory=dict)
    """Further per-run sections (`resilience`, `cascade`), each written under its key."""
    traces: TraceSet | None = None
    """Spans of sampled requests, when the run was asked to record them (never in the JSON)."""


@dataclass(frozen=True)
class Progress:
    """Passed to the progress callback a few hundred times per replication."""

    replication: int
    replications: int
    time: float
    """Simulated seconds done in this replication."""
    end: float
    requests: int
    """Entry requests finished so far in this replication."""
    events: int
    wall: float
    """Wall-clock seconds spent on this replication."""

    @property
    def fraction(self) -> float:
        done = self.replication + (self.time / self.end if self.end else 1.0)
        return done / self.replications

    @property
    def requests_per_second(self) -> float:
        """Simulation speed: entry requests finished per wall-clock second."""
        return self.requests / self.wall if self.wall > 0 else 0.0


@dataclass(frozen=True)
class SimulationResult:
    architecture: str
    scenario: str | None
    seed: int
    duration: float
    warmup: float
    window: float
    runs: list[RunResult]
    summary: Report[Estimate]
    notes: list[str] = field(default_factory=list)
    slos: list[Any] = field(default_factory=list)
    """`SloResult`s: the file's objectives judged on the summary (see sim/reports/slo.py)."""
    brief: list[Any] = field(default_factory=list)
    """`BriefFigure`s: the product brief's expectations judged (see sim/reports/brief.py)."""

    @property
    def replications(self) -> int:
        return len(self.runs)

    @property
    def traces(self) -> TraceSet | None:
        """The traces recorded (replication 0), when the run was asked for them."""
        return self.runs[0].traces if self.runs else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "architecture": self.architecture,
            "scenario": self.scenario,
            "config": {
                "seed": self.seed,
                "duration": self.duration,
                "warmup": self.warmup,
                "window": self.window,
                "replications": self.replications,
            },
            "notes": list(self.notes),
            "slos": _jsonable(self.slos),
            "brief": _jsonable(self.brief),
            "summary": _jsonable(self.summary),
            "runs": [
                {
                    "replication": r.replication,
                    "events": r.events,
                    "report": _jsonable(r.report),
                    "timeseries": _jsonable(r.series),
                    "decisions": _jsonable(r.decisions),
                    **{key: _jsonable(value) for key, value in r.extras.items()},
                }
                for r in self.runs
            ],
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, allow_nan=False) + "\n"

    def timeseries_csv(self, replication: int = 0) -> str:
        return series_csv(self.runs[replication].series)


@dataclass(frozen=True)
class Comparison:
    """Two variants under common random numbers; `difference` = b − a, paired by replication."""

    a: SimulationResult
    b: SimulationResult
    difference: Report[Estimate]

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT + "+comparison",
            "a": self.a.to_dict(),
            "b": self.b.to_dict(),
            "difference": _jsonable(self.difference),
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, allow_nan=False) + "\n"


def series_csv(series: TimeSeries) -> str:
    """One row per window; columns `entry:<name>:<metric>` and `service:<name>:<metric>`."""
    columns: list[tuple[str, list[float | None]]] = []
    for name, metrics in series.entries.items():
        columns += [(f"entry:{name}:{m}", col) for m, col in metrics.items()]
    for name, metrics in series.services.items():
        columns += [(f"service:{name}:{m}", col) for m, col in metrics.items()]
    for kind, group in (
        ("saga", series.sagas),
        ("projection", series.projections),
        ("rollout", series.rollouts),
        ("client", series.clients),
        ("topic", series.topics),
    ):
        for name, metrics in group.items():
            columns += [(f"{kind}:{name}:{m}", col) for m, col in metrics.items()]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["time", *(c for c, _ in columns)])
    for i, t in enumerate(series.time):
        writer.writerow([_num(t), *(_num(col[i]) for _, col in columns)])
    return out.getvalue()


def _num(v: float | None) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    return repr(v)


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, Estimate):
        return obj.to_json()
    if is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: _jsonable(getattr(obj, f.name)) for f in fields(obj)}
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def _combine(values: Sequence[Any], leaf: Callable[[list[float], int], Estimate | None]) -> Any:
    """Walk same-shaped reports in step and turn each list of leaf numbers into an Estimate."""
    present = [v for v in values if v is not None]
    if not present:
        return None
    first = present[0]
    if is_dataclass(first) and not isinstance(first, type):
        if len(present) != len(values):
            return None
        return type(first)(
            **{f.name: _combine([getattr(v, f.name) for v in values], leaf) for f in fields(first)}
        )
    if isinstance(first, dict):
        keys: list[str] = []
        for v in present:
            keys += [k for k in v if k not in keys]
        return {
            k: _combine([v.get(k) if v is not None else None for v in values], leaf) for k in keys
        }
    if isinstance(first, list):
        size = min(len(v) for v in present)
        return [_combine([v[i] for v in present], leaf) for i in range(size)]
    nums = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    return leaf(nums, len(values))


def _estimate_leaf(nums: list[float], _: int) -> Estimate | None:
    """Over the runs that have a value (a latency is missing in a run with no success)."""
    return estimate(nums) if nums else None


def summarise(runs: Sequence[RunResult], warmup: float) -> Report[Estimate]:
    """Means and t-intervals over replications; with one run, batch means for latency means."""
    summary = cast(Report[Estimate], _combine([r.report for r in runs], _estimate_leaf))
    if len(runs) == 1:
        summary = _with_batch_means(summary, runs[0], warmup)
    return summary


def difference(a: Sequence[RunResult], b: Sequence[RunResult]) -> Report[Estimate]:
    n = len(a)

    def leaf(nums: list[float], total: int) -> Estimate | None:
        if len(nums) != total:
            return None
        return paired_difference(nums[:n], nums[n:])

    return cast(Report[Estimate], _combine([r.report for r in [*a, *b]], leaf))


def latency_windows(
    series: TimeSeries, warmup: float
) -> dict[str, tuple[list[float], list[float]]]:
    """Per entry (and "*"), each window's latency sum and success count after `warmup`.

    These are the observations batch means groups; the coverage benchmark reads the same ones.
    """
    start = next((i for i, t in enumerate(series.time) if t >= warmup - 1e-9), len(series.time))
    out: dict[str, tuple[list[float], list[float]]] = {}
    for name, cols in series.entries.items():
        ok = [
            (c or 0.0) - (e or 0.0)
            for c, e in zip(cols["count"][start:], cols["errors"][start:], strict=True)
        ]
        sums = [(m or 0.0) * n for m, n in zip(cols["mean"][start:], ok, strict=True)]
        out[name] = (sums, ok)
    return out


def _with_batch_means(summary: Report[Estimate], run: RunResult, warmup: float) -> Report[Estimate]:
    """One run's summary with batch-means intervals on each entry's latency mean and error rate
    (the two figures that are ratios of per-window sums, so an SLO on them can be decided)."""
    series = run.series
    entries = dict(summary.entries)
    totals = summary.totals
    for name, (sums, ok) in latency_windows(series, warmup).items():
        errors = error_windows(series, warmup, name)
        latency = batch_means(sums, ok) if sum(ok) > 0 else None
        error_rate = batch_means(*errors) if sum(errors[1]) > 0 else None
        if name != "*" and name in entries:
            entries[name] = _with_interval(entries[name], latency, error_rate)
        if name == "*" or len(series.entries) == 1:
            totals = _with_interval(totals, latency, error_rate)
    return replace(summary, totals=totals, entries=entries)


def error_windows(series: TimeSeries, warmup: float, name: str) -> tuple[list[float], list[float]]:
    """An entry's failed and finished calls per window after `warmup`."""
    start = next((i for i, t in enumerate(series.time) if t >= warmup - 1e-9), len(series.time))
    cols = series.entries[name]
    return (
        [e or 0.0 for e in cols["errors"][start:]],
        [c or 0.0 for c in cols["count"][start:]],
    )


def _with_interval(
    report: EntryReport[Estimate], latency: Estimate | None, error_rate: Estimate | None
) -> EntryReport[Estimate]:
    if latency is not None and latency.half_width is not None and report.latency.mean is not None:
        mean = Estimate(report.latency.mean.mean, latency.half_width, latency.n)
        report = replace(report, latency=replace(report.latency, mean=mean))
    if error_rate is not None and error_rate.half_width is not None:
        rate = Estimate(report.error_rate.mean, error_rate.half_width, error_rate.n)
        report = replace(report, error_rate=rate)
    return report
