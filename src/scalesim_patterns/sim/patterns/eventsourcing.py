"""Event stores: appends with optimistic concurrency, and projections that catch up behind them.

**Append** (`append:` step). The owner appends its events with the stream's expected version and
waits `appendLatency` (default: EventStoreDB's write figure, lognormal p50 3 ms, p99 20 ms) for
the answer. With probability `conflictProbability` another writer moved the stream first: the
append is refused, the aggregate reloads the stream (`readLatency`, default p50 2 ms, p99 15 ms)
and appends again, up to `maxAppendRetries` times; the last refusal fails the step with cause
`error`. Attempts per append therefore follow a truncated geometric law: mean
(1 − p^(m+1)) / (1 − p) for m retries. A batch (`events: n`) is atomic. With `writeRateLimit`
the store writes at most that many events per second: appends queue FIFO for write capacity.

**Projections.** Each projection is a catch-up subscription run by its service: it reads a page
of the stream (`readLatency`), applies up to `batch` events (`handle` each), stores its
checkpoint, and reads on at once while it is behind; once caught up it polls every
`pollInterval`. Applying a batch takes a worker of the service's first replica (the
subscription's leader), queueing with the requests it serves: read-side load slows projections,
and projections show in the service's utilisation, as they do on a real pod.

What is measured: *consistency lag* per event (append → applied, the window in which a read
after a write sees stale data), lag in events (head position − checkpoint, time-weighted) and
the age of the oldest event not yet applied.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from mypy_extensions import mypyc_attr

from scalesim_patterns.model.data import ENGINE_DEFAULTS, EventStore, Projection
from scalesim_patterns.model.distributions import LogNormal
from scalesim_patterns.model.steps import AppendStep
from scalesim_patterns.sim.core.causes import ERROR, OK, UNAVAILABLE
from scalesim_patterns.sim.core.histogram import LogHistogram
from scalesim_patterns.sim.core.kernel import FunctionHandler, Kernel
from scalesim_patterns.sim.core.rng import Function, Sampler
from scalesim_patterns.sim.network.station import (
    Call,
    EndpointRuntime,
    Replica,
    ServiceRuntime,
    StepRuntime,
)
from scalesim_patterns.sim.patterns.workflow_state import Workflows

if TYPE_CHECKING:
    from scalesim_patterns.sim.network.host import Host

__all__ = [
    "AppendStepRuntime",
    "EventStoreRuntime",
    "ProjectionRuntime",
    "build_event_store",
    "compile_append_step",
]

_TRIM: Final = 4096
"""Append marks kept beyond the slowest projection before the list is trimmed."""


class EventStoreRuntime:
    """The store's head position, the time of every append still unread, and its counters."""

    def __init__(self, name: str, kernel: Kernel, store: EventStore) -> None:
        self.name = name
        self.kernel = kernel
        self.conflict_probability = store.conflict_probability
        self.max_retries = store.max_append_retries
        self.rate = float(store.write_rate_limit) if store.write_rate_limit else None
        self.next_free = 0.0
        self.head = 0
        self.marks: list[tuple[int, float]] = []
        """(last position of an append, its time), from `base` on."""
        self.base = 0
        self.projections: list[ProjectionRuntime] = []
        self.appends = self.events = self.attempts = self.conflicts = self.failures = 0
        self.stream_length = store.stream_length
        self.snapshot_every = store.snapshot_every
        self.replay_cost = float(store.replay_cost)
        self.read_page = store.read_page
        self.up = True
        """False during an outage: appends fail at once, projections cannot read."""
        self.extra: Sampler | None = None
        """A latency fault's draw, added to every append and read."""
        self.base_counts = (0, 0, 0, 0, 0)
        self.latency = LogHistogram()

    def counts(self) -> tuple[int, int, int, int, int]:
        return (self.appends, self.events, self.attempts, self.conflicts, self.failures)

    def load_cost(self, read: Sampler) -> float:
        """Loading an aggregate of `stream_length` events: the reads and the replay. With
        snapshots every N events it reads the latest snapshot and replays the L mod N events
        after it; without, it reads the whole stream, `read_page` events per read."""
        length = self.stream_length
        assert length is not None
        every = self.snapshot_every
        page = self.read_page
        if every is not None and length >= every:
            tail = length % every
            reads = 1 + (-(-tail // page) if tail else 0)
            replayed = tail
        else:
            reads = -(-length // page)
            replayed = length
        total = sum(read.draw() for _ in range(reads)) + replayed * self.replay_cost
        if self.extra is not None:
            total += sum(self.extra.draw() for _ in range(reads))
        return total

    def capacity_wait(self, events: int) -> float:
        """Time until the store can take `events` more under its write-rate limit."""
        if self.rate is None:
            return 0.0
        now = self.kernel.now
        start = max(now, self.next_free)
        self.next_free = start + events / self.rate
        return start - now

    def written(self, events: int) -> None:
        now = self.kernel.now
        self.head += events
        self.events += events
        if self.projections:
            self.marks.append((self.head, now))
            for p in self.projections:
                p.lag_changed(now)
            if len(self.marks) > 2 * _TRIM:
                drop = min(p.mark for p in self.projections) - self.base
                if drop > _TRIM:
                    del self.marks[:drop]
                    self.base += drop

    def reset(self) -> None:
        self.base_counts = self.counts()
        self.latency.clear()
        for p in self.projections:
            p.reset()


class AppendOp:
    __slots__ = ("attempts", "call", "t0")

    def __init__(self, call: Call, t0: float) -> None:
        self.call = call
        self.t0 = t0
        self.attempts = 0


@mypyc_attr(allow_interpreted_subclasses=True)  # tracing's TracedAppendStepRuntime
class AppendStepRuntime(StepRuntime):
    """`append:`: append with expected version; on a conflict reload and retry."""

    __slots__ = (
        "append_latency",
        "appended_",
        "attempt_",
        "conflict_rnd",
        "events",
        "kernel",
        "prob_rnd",
        "probability",
        "read_latency",
        "snapshot_rnd",
        "store",
    )

    def __init__(
        self,
        kernel: Kernel,
        store: EventStoreRuntime,
        events: int,
        append_latency: Sampler,
        read_latency: Sampler,
        conflict_rnd: Callable[[], float],
        probability: float,
        prob_rnd: Callable[[], float],
        snapshot_rnd: Callable[[], float] | None = None,
    ) -> None:
        self.kernel = kernel
        self.store = store
        self.snapshot_rnd = snapshot_rnd if snapshot_rnd is not None else prob_rnd
        self.events = events
        self.append_latency = append_latency
        self.read_latency = read_latency
        self.conflict_rnd = conflict_rnd
        self.probability = probability
        self.prob_rnd = prob_rnd
        self.attempt_ = self.attempt
        self.appended_ = self.appended

    def start(self, x: Call) -> bool:
        if self.probability < 1.0 and self.prob_rnd() >= self.probability:
            return True
        op = AppendOp(x, self.kernel.now)
        store = self.store
        if store.stream_length is not None and store.up:
            # A command handler loads the aggregate, decides, then appends.
            self.kernel.schedule(store.load_cost(self.read_latency), self.attempt_, op)
        else:
            self.attempt(op)
        return False

    def attempt(self, op: AppendOp) -> None:
        op.attempts += 1
        store = self.store
        store.attempts += 1
        if not store.up:
            store.appends += 1
            store.failures += 1
            x = op.call
            x.endpoint.finish(x, UNAVAILABLE)
            return
        delay = store.capacity_wait(self.events) + self.append_latency.draw()
        if store.extra is not None:
            delay += store.extra.draw()
        every = store.snapshot_every
        if (
            every is not None
            and store.stream_length is not None
            and self.snapshot_rnd() < self.events / every
        ):
            delay += self.append_latency.draw()  # this append crosses a snapshot: write it too
        self.kernel.schedule(delay, self.appended_, op)

    def appended(self, op: AppendOp) -> None:
        status = self.settle(op)
        if status is None:
            return
        x = op.call
        if status:
            x.endpoint.finish(x, status)
        else:
            x.endpoint.advance(x)

    def settle(self, op: AppendOp) -> int | None:
        """Book an append that reached the store: None when a version conflict sends it back to
        reload and try again, else its outcome (OK, or ERROR once the retries are spent).

        Apart from `appended` so that the traced runtime can report the outcome before the
        caller resumes without copying this bookkeeping."""
        store = self.store
        p = store.conflict_probability
        if p and self.conflict_rnd() < p:
            store.conflicts += 1
            if op.attempts <= store.max_retries:
                reload = (
                    store.load_cost(self.read_latency)
                    if store.stream_length is not None
                    else self.read_latency.draw()
                )
                self.kernel.schedule(reload, self.attempt_, op)
                return None
            store.appends += 1
            store.failures += 1
            return ERROR
        store.appends += 1
        store.written(self.events)
        store.latency.record(self.kernel.now - op.t0)
        return OK


@mypyc_attr(allow_interpreted_subclasses=True)  # tracing's TracedProjectionRuntime
class ProjectionRuntime:
    """A catch-up subscription: read a page, apply it on the service's leader replica, repeat."""

    def __init__(
        self,
        name: str,
        store: EventStoreRuntime,
        kernel: Kernel,
        service: ServiceRuntime,
        projection: Projection,
        versions: list[ServiceRuntime],
        handle: Sampler,
        read: Sampler,
        causes: int,
        error_rnd: Callable[[], float],
    ) -> None:
        self.name = name
        self.store = store
        self.kernel = kernel
        self.service = service
        self.versions = versions
        """The service's ReplicaSets, old version first: the leader is the first pod in rotation."""
        self.handle = handle
        self.read = read
        self.batch = projection.batch
        self.poll_interval = float(projection.poll_interval)
        self.endpoint = EndpointRuntime(
            service, f"projection:{name}", Function(self.batch_work), 0.0, error_rnd, causes
        )
        self.checkpoint = 0
        self.mark = 0
        """Absolute index in the store's marks of the append holding checkpoint + 1."""
        self.k = 0
        self.applied = 0
        self.applied0 = 0
        self.lag = LogHistogram()
        # Time-weighted lag in events: current value, integral, and time spent at each value.
        self.lag_now = 0
        self.t_lag = 0.0
        self.area = 0.0
        self.area0 = 0.0
        self.t0 = 0.0
        self.time_at: dict[int, float] = {}
        self.lag_max = 0
        self.age_max = 0.0
        # Window figures.
        self.w_area = 0.0
        self.w_applied = 0
        self.w_lag_max = 0
        self.w_age_max = 0.0
        self.series: dict[str, list[float | None]] = {
            k: [] for k in ("applied", "lag_mean", "lag_max", "age_max")
        }
        self.poll_ = self.poll
        self.fetched_ = self.fetched
        self.done_ = FunctionHandler(self.done)

    def batch_work(self) -> float:
        handle = self.handle
        return sum(handle.draw() for _ in range(self.k))

    def start(self) -> None:
        self.kernel.at(0.0, self.poll_, None)

    def poll(self, _: object) -> None:
        store = self.store
        if not store.up:  # the store is down: try again after the poll interval
            self.kernel.schedule(self.poll_interval, self.poll_, None)
            return
        delay = self.read.draw()
        if store.extra is not None:
            delay += store.extra.draw()
        self.kernel.schedule(delay, self.fetched_, None)

    def fetched(self, _: object) -> None:
        k = min(self.batch, self.store.head - self.checkpoint)
        if k <= 0:
            self.kernel.schedule(self.poll_interval, self.poll_, None)
            return
        self.k = k
        self.leader().accept(Call(self.endpoint, self.done_, None, self.kernel.now))

    def leader(self) -> Replica:
        """The pod running the subscription: the first in rotation (it moves when that pod goes)."""
        for svc in self.versions:
            if svc.routable:
                return svc.routable[0]
        return self.service.replicas[0]

    def done(self, c: Call) -> None:
        k = self.kernel
        if c.status:
            k.schedule(self.poll_interval, self.poll_, None)
            return
        now = k.now
        self.observe_age(now)
        store = self.store
        marks = store.marks
        pos = self.checkpoint
        target = pos + self.k
        record = self.lag.record
        while pos < target:
            end, t = marks[self.mark - store.base]
            upto = min(end, target)
            for _ in range(upto - pos):
                record(now - t)
            pos = upto
            if upto == end:
                self.mark += 1
        self.checkpoint = target
        self.applied += self.k
        self.w_applied += self.k
        self.lag_changed(now)
        if store.head > self.checkpoint:
            self.poll(None)
        else:
            k.schedule(self.poll_interval, self.poll_, None)

    def age(self, now: float) -> float:
        """Age of the oldest event appended and not yet applied."""
        store = self.store
        if store.head <= self.checkpoint:
            return 0.0
        return now - store.marks[self.mark - store.base][1]

    def observe_age(self, now: float) -> None:
        age = self.age(now)
        if age > self.age_max:
            self.age_max = age
        if age > self.w_age_max:
            self.w_age_max = age

    def lag_changed(self, now: float) -> None:
        self.integrate(now)
        lag = self.store.head - self.checkpoint
        self.lag_now = lag
        if lag > self.lag_max:
            self.lag_max = lag
        if lag > self.w_lag_max:
            self.w_lag_max = lag

    def integrate(self, now: float) -> None:
        dt = now - self.t_lag
        if dt > 0:
            lag = self.lag_now
            self.area += lag * dt
            self.w_area += lag * dt
            self.time_at[lag] = self.time_at.get(lag, 0.0) + dt
        self.t_lag = now

    def reset(self) -> None:
        now = self.kernel.now
        self.integrate(now)
        self.applied0 = self.applied
        self.lag.clear()
        self.area0 = self.area
        self.t0 = now
        self.time_at = {}
        self.lag_max = self.lag_now
        self.age_max = self.age(now)

    def lag_quantile(self, q: float) -> float:
        total = sum(self.time_at.values())
        if total <= 0:
            return float(self.lag_now)
        acc = 0.0
        for lag in sorted(self.time_at):
            acc += self.time_at[lag]
            if acc >= q * total - 1e-12:
                return float(lag)
        return float(max(self.time_at))

    def close_window(self, span: float) -> None:
        now = self.kernel.now
        self.integrate(now)
        self.observe_age(now)
        cols = self.series
        cols["applied"].append(self.w_applied / span if span > 0 else math.nan)
        cols["lag_mean"].append(self.w_area / span if span > 0 else math.nan)
        cols["lag_max"].append(float(self.w_lag_max))
        cols["age_max"].append(self.w_age_max)
        self.w_area = 0.0
        self.w_applied = 0
        self.w_lag_max = self.lag_now
        self.w_age_max = self.age(now)


def _store_default(kind: str) -> LogNormal:
    """EventStoreDB's order-of-magnitude figure, when the file gives none."""
    p50, p99 = ENGINE_DEFAULTS["eventstoredb"][kind]
    return LogNormal(p50=p50, p99=p99)


def build_event_store(engine: Host, name: str) -> EventStoreRuntime:
    spec = engine.arch.spec
    model = spec.event_stores[name]
    rt = EventStoreRuntime(name, engine.kernel, model)
    read = model.read_latency or _store_default("read")
    rollouts = engine.plugins.obtain(Workflows).rollouts
    tracer = engine.tracer
    make: Callable[..., ProjectionRuntime] = ProjectionRuntime
    if tracer is not None:
        from scalesim_patterns.sim.tracing.workflows import traced_projection

        make = traced_projection(tracer)
    for proj in model.projections:
        rt.projections.append(
            make(
                proj.name,
                rt,
                engine.kernel,
                engine.services[proj.service],
                proj,
                [engine.services[proj.service]]
                + ([rollouts[proj.service].new] if proj.service in rollouts else []),
                engine.streams.sampler(proj.handle, f"handle:{name}/{proj.name}"),
                engine.streams.sampler(read, f"read:{name}/{proj.name}"),
                engine.causes,
                engine.streams.get(f"error:{name}/{proj.name}").random,
            )
        )
    return rt


def compile_append_step(
    engine: Host, service: str, endpoint: str, index: int | str, step: AppendStep
) -> AppendStepRuntime:
    store = engine.plugins.obtain(Workflows).event_stores[step.append]
    model = engine.arch.spec.event_stores[step.append]
    ref = f"{service}.{endpoint}"
    append = model.append_latency or _store_default("write")
    read = model.read_latency or _store_default("read")
    streams = engine.streams
    args = (
        engine.kernel,
        store,
        step.events,
        streams.sampler(append, f"append:{step.append}:{ref}:{index}"),
        streams.sampler(read, f"reload:{step.append}:{ref}:{index}"),
        streams.get(f"conflict:{step.append}:{ref}:{index}").random,
        step.probability,
        streams.get(f"branch:{ref}:{index}").random,
        streams.get(f"snapshot:{step.append}:{ref}:{index}").random,
    )
    tracer = engine.tracer
    if tracer is None:
        return AppendStepRuntime(*args)
    from scalesim_patterns.sim.tracing.workflows import TracedAppendStepRuntime

    traced = TracedAppendStepRuntime(*args)
    traced.tracer = tracer
    return traced
