"""Sagas in the engine: order of steps and compensations, pivot, stuck sagas, choreography hops."""

from __future__ import annotations

import math
from typing import Any

import pytest

from scalesim_patterns.model import Architecture
from scalesim_patterns.sim import Engine, SimulationError, simulate
from scalesim_patterns.sim.network.station import Call
from scalesim_patterns.sim.patterns.workflow_state import Workflows

from ..models import architecture

MS = 0.001


def participant(work: str, undo: str = "1ms", error_rate: float = 0.0, **undo_extra: Any) -> Any:
    return {
        "replicas": 1,
        "workers": 64,
        "endpoints": {
            "do": {"work": work, "errorRate": error_rate},
            "undo": {"work": undo, **undo_extra},
        },
    }


def saga_arch(
    steps: list[dict[str, Any]],
    *,
    participants: dict[str, Any],
    saga: dict[str, Any] | None = None,
    rate: str = "1/s",
    duration: str = "100s",
    orchestrator: dict[str, Any] | None = None,
    **spec: Any,
) -> Architecture:
    """Orchestrator `o.start` (1 ms of its own work) runs saga `t` once per arrival."""
    services = {
        "o": orchestrator
        or {
            "replicas": 1,
            "workers": 64,
            "endpoints": {"start": {"work": "1ms", "steps": [{"saga": "t"}]}},
        },
        **participants,
    }
    body = {"mode": "orchestrated", "orchestrator": "o", "steps": steps, **(saga or {})}
    return architecture(
        services,
        {
            "load": {
                "arrival": {"process": "constant", "rate": rate},
                "mix": [{"endpoint": "o.start"}],
            }
        },
        duration=duration,
        sagas={"t": body},
        **spec,
    )


def step(name: str, svc: str, *, undo: bool = True, pivot: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "action": f"{svc}.do"}
    if undo:
        out["compensation"] = f"{svc}.undo"
    if pivot:
        out["pivot"] = True
    return out


ABC = [step("a", "a"), step("b", "b"), step("c", "c")]


def test_happy_path_runs_steps_in_order_and_writes_state_per_transition() -> None:
    arch = saga_arch(
        ABC,
        participants={"a": participant("10ms"), "b": participant("20ms"), "c": participant("30ms")},
        saga={"stateStore": "sdb"},
        databases={
            "sdb": {"engine": "postgresql", "owner": "o", "latency": {"write": "2ms"}},
        },
    )
    report = simulate(arch).runs[0].report
    saga = report.sagas["t"]
    n = report.totals.count
    assert n == 99
    assert saga.started == saga.completed == n
    assert saga.compensated == saga.stuck == saga.compensations == 0
    assert [saga.steps[s].attempts for s in "abc"] == [n, n, n]
    # One write when the saga starts and one per step transition: 4 writes of 2 ms.
    assert report.databases["sdb"].queries == 4 * n
    assert saga.duration.mean == pytest.approx((60 + 4 * 2) * MS, abs=1e-9)
    assert saga.duration.max == pytest.approx((60 + 4 * 2) * MS, abs=1e-9)
    # The request waits for the saga: its own 1 ms plus the saga.
    assert report.totals.latency.max == pytest.approx((1 + 68) * MS, abs=1e-9)
    assert report.totals.error_rate == 0


def test_failure_compensates_completed_steps_newest_first() -> None:
    arch = saga_arch(
        ABC,
        participants={
            "a": participant("10ms", undo="3ms"),
            "b": participant("20ms", undo="2ms"),
            "c": participant("30ms", error_rate=1.0),
        },
    )
    engine = Engine(arch, seed=1)
    saga = engine.plugins.obtain(Workflows).sagas["t"]
    order: list[str] = []

    def spy(j: int, original: Any) -> Any:
        def invoke(c: Call) -> None:
            order.append(saga.step_names[j])
            original(c)

        return invoke

    saga.comp_invokes = [spy(j, inv) if inv else None for j, inv in enumerate(saga.comp_invokes)]
    report = engine.run().report
    rep = report.sagas["t"]
    n = int(report.totals.count)
    assert n == 99
    assert order[: 2 * n] == ["b", "a"] * n
    assert rep.compensated == rep.started == n
    assert rep.completed == rep.stuck == 0
    assert rep.steps["c"].failures == n
    assert rep.steps["b"].compensations == rep.steps["a"].compensations == n
    assert rep.steps["c"].compensations == 0
    assert rep.compensations == 2 * n
    # 10 + 20 + 30 forward, then undo b (2 ms) and undo a (3 ms).
    assert rep.compensation_duration.max == pytest.approx(65 * MS, abs=1e-9)
    assert rep.compensation_duration.mean == pytest.approx(65 * MS, abs=1e-9)
    # The request fails with the root cause of the failed step.
    assert report.totals.errors["error"] == n
    assert report.services["b"].endpoints["undo"].count == n


def test_steps_after_the_pivot_are_retried_until_they_succeed() -> None:
    p = 0.5
    arch = saga_arch(
        [step("a", "a"), step("p", "p", pivot=True), step("b", "b", undo=False)],
        participants={
            "a": participant("10ms"),
            "p": participant("20ms"),
            "b": participant("5ms", error_rate=p),
        },
        saga={"compensationBackoff": "100ms"},
        duration="2000s",
    )
    report = simulate(arch, seed=1).runs[0].report
    rep = report.sagas["t"]
    n = rep.started
    assert n > 1900
    assert rep.completed + rep.open_end == n
    assert rep.compensated == rep.stuck == rep.compensations == 0
    # Attempts at b are geometric: mean 1 / (1 − p), variance p / (1 − p)².
    attempts = rep.steps["b"].attempts / rep.completed
    half = 1.96 * math.sqrt(p / (1 - p) ** 2) / math.sqrt(rep.completed)
    assert abs(attempts - 1 / (1 - p)) < half
    # The request is answered once the pivot has succeeded: 1 + 10 + 20 ms, whatever b does.
    assert report.totals.latency.max == pytest.approx(31 * MS, abs=1e-9)
    assert report.totals.error_rate == 0


def test_failure_at_the_pivot_undoes_only_the_steps_before_it() -> None:
    arch = saga_arch(
        [step("a", "a"), step("p", "p", pivot=True), step("b", "b", undo=False)],
        participants={
            "a": participant("10ms"),
            "p": participant("20ms", error_rate=1.0),
            "b": participant("5ms"),
        },
    )
    rep = simulate(arch).runs[0].report.sagas["t"]
    assert rep.compensated == rep.started > 0
    assert rep.steps["a"].compensations == rep.started
    assert rep.steps["p"].compensations == 0
    assert rep.steps["b"].attempts == 0


def test_a_compensation_that_keeps_failing_leaves_the_saga_stuck() -> None:
    arch = saga_arch(
        ABC,
        participants={
            "a": participant("10ms"),
            "b": participant("20ms", errorRate=1.0),
            "c": participant("30ms", error_rate=1.0),
        },
        saga={"compensationRetries": 2, "compensationBackoff": "1s"},
        rate="0.2/s",
    )
    report = simulate(arch).runs[0].report
    rep = report.sagas["t"]
    n = rep.started
    assert n == 19
    assert rep.stuck == n
    assert rep.compensated == rep.completed == 0
    # One try and two retries of b's compensation; a's is never reached.
    assert rep.steps["b"].compensation_failures == 3 * n
    assert rep.steps["a"].compensations == rep.steps["a"].compensation_failures == 0
    assert report.totals.errors["error"] == n


def test_saga_deadline_abandons_the_step_in_flight_and_compensates_it() -> None:
    arch = saga_arch(
        [step("a", "a"), step("b", "b")],
        participants={"a": participant("10ms"), "b": participant("100ms")},
        saga={"timeout": "50ms"},
    )
    report = simulate(arch).runs[0].report
    rep = report.sagas["t"]
    n = rep.started
    assert rep.compensated == n > 0
    # b's outcome is unknown when the deadline passes, so b is undone too, then a.
    assert rep.steps["b"].compensations == rep.steps["a"].compensations == n
    assert rep.steps["b"].failures == n
    assert report.totals.errors["timeout"] == n
    assert rep.compensation_duration.max == pytest.approx((50 + 1 + 1) * MS, abs=1e-9)


def test_steps_on_the_orchestrator_run_in_its_thread() -> None:
    """One worker that waits for the saga must not wait for a second worker of its own pool."""
    orchestrator = {
        "replicas": 1,
        "workers": 1,
        "endpoints": {
            "start": {"work": "1ms", "steps": [{"saga": "t"}]},
            "do": {"work": "5ms"},
            "undo": {"work": "1ms"},
        },
    }
    arch = saga_arch(
        [step("local", "o"), step("a", "a")],
        participants={"a": participant("10ms")},
        orchestrator=orchestrator,
        rate="20/s",
    )
    report = simulate(arch).runs[0].report
    rep = report.sagas["t"]
    assert rep.completed == rep.started == report.totals.count > 1900
    assert report.services["o"].endpoints["do"].count == rep.started
    assert report.totals.latency.max == pytest.approx(16 * MS, abs=1e-9)


def choreo(c_error: float) -> Architecture:
    return saga_arch(
        ABC,
        participants={
            "a": participant("10ms", undo="3ms"),
            "b": participant("20ms", undo="2ms"),
            "c": participant("30ms", error_rate=c_error),
        },
        saga={"mode": "choreographed", "broker": "bus"},
        brokers={
            "bus": {
                "type": "kafka",
                "publishLatency": "2ms",
                "deliveryLatency": "5ms",
                "topics": {"saga-events": {}},
            }
        },
    )


def test_choreography_pays_the_broker_on_every_hop() -> None:
    report = simulate(choreo(0.0)).runs[0].report
    rep = report.sagas["t"]
    assert rep.completed == rep.started == report.totals.count
    # a, then two hops of publish (2 ms) + delivery (5 ms) before b and before c.
    assert rep.duration.max == pytest.approx((10 + 7 + 20 + 7 + 30) * MS, abs=1e-9)
    assert rep.duration.mean == pytest.approx((10 + 7 + 20 + 7 + 30) * MS, abs=1e-9)
    # The request returns once the first step's event is acknowledged.
    assert report.totals.latency.max == pytest.approx((1 + 10 + 2) * MS, abs=1e-9)


def test_choreographed_compensation_travels_back_over_the_broker() -> None:
    report = simulate(choreo(1.0)).runs[0].report
    rep = report.sagas["t"]
    assert rep.compensated == rep.started > 0
    assert rep.steps["b"].compensations == rep.steps["a"].compensations == rep.started
    expected = 10 + 7 + 20 + 7 + 30 + 7 + 2 + 7 + 3
    assert rep.compensation_duration.max == pytest.approx(expected * MS, abs=1e-9)
    # Nobody waits for the later steps: the request succeeded after the first publish.
    assert report.totals.error_rate == 0


def test_a_saga_that_starts_itself_is_refused() -> None:
    arch = saga_arch(
        [{"name": "a", "action": "o.start"}],
        participants={},
    )
    with pytest.raises(SimulationError, match="start itself"):
        simulate(arch)
