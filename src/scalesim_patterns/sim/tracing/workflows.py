"""Traced variants of the saga, event-store and counted-query runtimes (traced runs only).

Each subclass reports to the `Tracer` and otherwise does exactly what its plain class does,
drawing the same random numbers in the same order, so a traced run's figures are those of the
untraced run. The plain classes stay untouched: an untraced run never sees these.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from scalesim_patterns.sim.core.causes import ERROR, OK, UNAVAILABLE
from scalesim_patterns.sim.network.loops import CountedQueryStep
from scalesim_patterns.sim.network.station import Call
from scalesim_patterns.sim.patterns.eventsourcing import (
    AppendOp,
    AppendStepRuntime,
    ProjectionRuntime,
)
from scalesim_patterns.sim.patterns.saga import (
    COMPENSATED,
    COMPLETED,
    SagaInstance,
    SagaRuntime,
    StateWriter,
)
from scalesim_patterns.sim.tracing.recorder import QuerySpans, Tracer

__all__ = [
    "TracedAppendStepRuntime",
    "TracedCountedQueryStep",
    "TracedProjectionRuntime",
    "TracedSagaRuntime",
    "TracedStateWriter",
    "traced_projection",
    "traced_saga",
    "traced_state_writer",
]

_OUTCOMES = {COMPLETED: "completed", COMPENSATED: "compensated"}


class TracedCountedQueryStep(QuerySpans, CountedQueryStep):
    """A query step with a drawn `repeat` that reports each query as a span."""

    __slots__ = ("engine_name", "operation", "tracer")


class TracedSagaRuntime(SagaRuntime):
    """A saga whose runs are `saga {name}` spans holding their steps and state writes."""

    tracer: Tracer

    def begin(self, x: Call) -> SagaInstance:
        inst = super().begin(x)
        self.tracer.saga_begin(inst, self.name, self.mode)
        return inst

    def end(self, inst: SagaInstance, outcome: int) -> None:
        status = OK if outcome == COMPLETED else (inst.cause or ERROR)
        self.tracer.saga_end(inst, _OUTCOMES.get(outcome, "stuck"), status)
        super().end(inst, outcome)


class TracedStateWriter(StateWriter):
    """Saga state writes as database spans under the saga's span."""

    __slots__ = ("engine_name", "saga", "tracer")

    tracer: Tracer
    engine_name: str
    saga: str

    def run(self, inst: SagaInstance, waited: float) -> None:
        latency = self.latency.draw()
        self.db.served(waited, latency)
        self.kernel.schedule(latency, self.done_, inst)
        self.tracer.saga_write(inst, self.db.name, self.engine_name, waited, latency, self.saga)


class TracedAppendStepRuntime(AppendStepRuntime):
    """An append step that reports each append's outcome as a `streams.append` span."""

    __slots__ = ("tracer",)

    tracer: Tracer

    def attempt(self, op: AppendOp) -> None:
        if not self.store.up:
            self.tracer.appended(
                op.call, self.store, op.t0, self.events, op.attempts + 1, UNAVAILABLE
            )
        super().attempt(op)

    def settle(self, op: AppendOp) -> int | None:
        # Reported here, before `appended` lets the caller resume (its trace may end as it does).
        status = super().settle(op)
        if status is not None:
            self.tracer.appended(op.call, self.store, op.t0, self.events, op.attempts, status)
        return status


class TracedProjectionRuntime(ProjectionRuntime):
    """A projection whose applied batches close the spans of the traced appends in them."""

    tracer: Tracer
    t_read = 0.0
    """When the read that fetched the current batch began."""

    def poll(self, _: object) -> None:
        self.t_read = self.kernel.now
        super().poll(_)

    def done(self, c: Call) -> None:
        if not c.status:
            self.tracer.projected(self, self.t_read, self.checkpoint + self.k)
        super().done(c)


def traced_projection(tracer: Tracer) -> Callable[..., ProjectionRuntime]:
    """A constructor of traced projections with `ProjectionRuntime`'s arguments."""

    def make(*args: Any) -> ProjectionRuntime:
        projection = TracedProjectionRuntime(*args)
        projection.tracer = tracer
        return projection

    return make


def traced_saga(tracer: Tracer) -> Callable[..., SagaRuntime]:
    """A constructor of traced sagas with `SagaRuntime`'s arguments."""

    def make(*args: Any, **kwargs: Any) -> SagaRuntime:
        saga = TracedSagaRuntime(*args, **kwargs)
        saga.tracer = tracer
        return saga

    return make


def traced_state_writer(tracer: Tracer, saga: str, engine: str, *args: Any) -> StateWriter:
    """A traced `StateWriter(*args)` for saga `saga` on a database of engine `engine`."""
    writer = TracedStateWriter(*args)
    writer.tracer = tracer
    writer.saga = saga
    writer.engine_name = engine
    return writer
