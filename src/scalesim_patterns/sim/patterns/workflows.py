"""Where sagas, event stores and rollouts meet the engine: building, warm-up, figures.

The engine calls these few functions at fixed points (build, warm-up reset, window close,
report) so that the three features keep their logic in their own modules (`saga`,
`eventsourcing`, `rollout`) and the engine only holds their runtimes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from scalesim_patterns.model.steps import AppendStep, SagaStep
from scalesim_patterns.sim.core.histogram import LogHistogram
from scalesim_patterns.sim.network.station import ServiceRuntime, StepRuntime
from scalesim_patterns.sim.patterns.eventsourcing import (
    EventStoreRuntime,
    build_event_store,
    compile_append_step,
)
from scalesim_patterns.sim.patterns.rollout import Connections, prepare_rollout, share_steps
from scalesim_patterns.sim.patterns.saga import SagaRuntime, compile_saga_step
from scalesim_patterns.sim.patterns.workflow_state import Workflows

if TYPE_CHECKING:
    # The report sections are imported by the functions that build them, after the run: the
    # engine imports this module before its first event, and they are dataclasses.
    from scalesim_patterns.sim.network.host import Host
    from scalesim_patterns.sim.reports.results import Latency
    from scalesim_patterns.sim.reports.workflow_reports import (
        Decision,
        EventStoreReport,
        ProjectionReport,
        RolloutReport,
        SagaReport,
        SagaStepReport,
    )

__all__ = [
    "close_window",
    "compile_step",
    "decisions",
    "extra_services",
    "prepare",
    "reports",
    "reset",
    "series",
    "start",
]


_NONE: Final = Workflows()
"""Read in place of the state of a run that has no saga, event store or rollout (never changed)."""


def _state(host: Host) -> Workflows:
    return host.plugins.get(Workflows) or _NONE


def prepare(engine: Host) -> None:
    """After the services exist and before any call site binds to them."""
    connections = Connections(engine.databases)
    for name in engine.arch.spec.services:
        ctl = prepare_rollout(engine, name, connections)
        if ctl is not None:
            engine.plugins.obtain(Workflows).rollouts[name] = ctl
    for name in engine.arch.spec.event_stores:
        engine.plugins.obtain(Workflows).event_stores[name] = build_event_store(engine, name)


def compile_step(
    engine: Host, service: str, endpoint: str, index: int | str, step: SagaStep | AppendStep
) -> StepRuntime:
    if isinstance(step, SagaStep):
        return compile_saga_step(engine, service, endpoint, index, step)
    return compile_append_step(engine, service, endpoint, index, step)


def start(engine: Host) -> None:
    """After every step is compiled: share steps with new versions, schedule the controllers."""
    for ctl in _state(engine).rollouts.values():
        share_steps(ctl)
        ctl.install()
    for store in _state(engine).event_stores.values():
        for projection in store.projections:
            projection.start()


def extra_services(engine: Host) -> list[ServiceRuntime]:
    """New versions under rollout: ReplicaSets that are not services of the file."""
    return [ctl.new for ctl in _state(engine).rollouts.values()]


def reset(engine: Host) -> None:
    for saga in _state(engine).sagas.values():
        saga.reset()
    for store in _state(engine).event_stores.values():
        store.reset()
    for ctl in _state(engine).rollouts.values():
        ctl.reset()


def close_window(engine: Host, span: float) -> None:
    for saga in _state(engine).sagas.values():
        saga.close_window()
    for store in _state(engine).event_stores.values():
        for projection in store.projections:
            projection.close_window(span)
    for ctl in _state(engine).rollouts.values():
        ctl.close_window(span)


def series(engine: Host) -> dict[str, dict[str, dict[str, list[float | None]]]]:
    return {
        "sagas": {name: s.series for name, s in _state(engine).sagas.items()},
        "projections": {
            f"{name}/{p.name}": p.series
            for name, store in _state(engine).event_stores.items()
            for p in store.projections
        },
        "rollouts": {name: ctl.series for name, ctl in _state(engine).rollouts.items()},
    }


def decisions(engine: Host) -> dict[str, list[Decision]]:
    return {name: list(ctl.decisions) for name, ctl in _state(engine).rollouts.items()}


def reports(
    engine: Host, span: float
) -> tuple[
    dict[str, SagaReport[float]],
    dict[str, EventStoreReport[float]],
    dict[str, RolloutReport[float]],
]:
    sagas = {name: _saga_report(s) for name, s in _state(engine).sagas.items()}
    stores = {name: _store_report(s, span) for name, s in _state(engine).event_stores.items()}
    rollouts = {name: ctl.report() for name, ctl in _state(engine).rollouts.items()}
    return sagas, stores, rollouts


def _latency(hist: LogHistogram) -> Latency[float]:
    from scalesim_patterns.sim.reports.results import QUANTILES, Latency

    if hist.count == 0:
        return Latency(None, None, None, None, None, None, None)
    q = hist.quantiles(QUANTILES)
    return Latency(hist.mean, q[0], q[1], q[2], q[3], q[4], hist.max)


def _saga_report(s: SagaRuntime) -> SagaReport[float]:
    from scalesim_patterns.sim.reports.workflow_reports import SagaReport, SagaStepReport

    started, completed, compensated, stuck = (
        float(a - b) for a, b in zip(s.totals(), s.base, strict=True)
    )
    steps: dict[str, SagaStepReport[float]] = {}
    for i, name in enumerate(s.step_names):
        a0, f0, c0, cf0 = s.step_base[i]
        steps[name] = SagaStepReport(
            attempts=float(s.attempts[i] - a0),
            failures=float(s.failures[i] - f0),
            compensations=float(s.comp_ok[i] - c0),
            compensation_failures=float(s.comp_failures[i] - cf0),
        )
    return SagaReport(
        started=started,
        completed=completed,
        compensated=compensated,
        stuck=stuck,
        open_end=float(s.open),
        compensations=sum(st.compensations for st in steps.values()),
        duration=_latency(s.duration),
        compensation_duration=_latency(s.comp_duration),
        steps=steps,
    )


def _store_report(s: EventStoreRuntime, span: float) -> EventStoreReport[float]:
    from scalesim_patterns.sim.reports.workflow_reports import EventStoreReport, ProjectionReport

    appends, events, attempts, conflicts, failures = (
        a - b for a, b in zip(s.counts(), s.base_counts, strict=True)
    )
    now = s.kernel.now
    projections: dict[str, ProjectionReport[float]] = {}
    worst: float | None = None
    for p in s.projections:
        p.integrate(now)
        p.observe_age(now)
        elapsed = now - p.t0
        lag = _latency(p.lag)
        if lag.p99 is not None and (worst is None or lag.p99 > worst):
            worst = lag.p99
        applied = p.applied - p.applied0
        projections[p.name] = ProjectionReport(
            applied=float(applied),
            throughput=applied / span,
            lag=lag,
            lag_events_mean=(p.area - p.area0) / elapsed if elapsed > 0 else float(p.lag_now),
            lag_events_p99=p.lag_quantile(0.99),
            lag_events_max=float(p.lag_max),
            lag_events_end=float(p.lag_now),
            age_max=p.age_max,
        )
    return EventStoreReport(
        appends=float(appends),
        events=float(events),
        attempts_mean=attempts / appends if appends else None,
        conflicts=float(conflicts),
        failures=float(failures),
        append_latency=_latency(s.latency),
        consistency_lag_p99=worst,
        projections=projections,
    )
