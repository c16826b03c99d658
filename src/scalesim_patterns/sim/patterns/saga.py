"""Sagas: one business transaction across services, kept consistent by compensations.

An **orchestrated** saga is run by its orchestrator from the endpoint whose `saga:` step starts
it. Each forward step is a call to the step's action through the orchestrator's normal call
pipeline (network, sidecars, timeouts and every resilience layer apply). With a `stateStore`,
the orchestrator writes the saga's state to that database (through its replica's connection
pool) when the saga starts and after every action or compensation attempt: a state machine that
survives a crash must persist each transition before acting on it.

- A step before the pivot (or the pivot itself) that fails makes the saga run the compensations
  of the completed steps, newest first. A step whose call *timed out* is compensated too: its
  outcome is unknown, and compensations are idempotent ("cancel if it exists").
- A step after the pivot is retried every `compensationBackoff` until it succeeds (after
  `FORWARD_ATTEMPTS_LIMIT` attempts the saga is reported stuck: someone has to look at it).
- A failing compensation is retried `compensationRetries` times, `compensationBackoff` apart;
  then the saga is stuck.
- `timeout` bounds the saga until its outcome is decided: past it, the orchestrator stops
  waiting for the step in flight and compensates (that step included).

The request that started the saga waits for it, as it does with an orchestrator in the request
path. It is answered when the outcome is certain: success once the pivot has succeeded (what
follows is retried until it succeeds, so the orchestrator finishes it in the background — the
request would otherwise hang for as long as an outage after the pivot lasts) or, without a
pivot, once every step has; failure once the compensations are done (or the saga is stuck),
with the root cause of the step that failed (`timeout` when the saga's own deadline passed).

A **choreographed** saga has no coordinator. The starting endpoint calls the first step's
action, publishes its event and answers once the broker acknowledges. Each later participant
reacts to the previous step's event: it receives it `publishLatency + deliveryLatency` after the
previous action finished, through its service's balancer and queue. A failure publishes the
events that make earlier participants compensate, one broker hop each, newest first. Nobody
enforces `timeout` without a coordinator.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from mypy_extensions import mypyc_attr

from scalesim_patterns.model.data import Saga
from scalesim_patterns.model.steps import SagaStep
from scalesim_patterns.sim.core.causes import ERROR, OK, TIMEOUT
from scalesim_patterns.sim.core.histogram import LogHistogram
from scalesim_patterns.sim.core.kernel import Deadlines, FunctionHandler, Kernel, Timer
from scalesim_patterns.sim.core.rng import ZERO, Sampler
from scalesim_patterns.sim.network.host import SimulationError
from scalesim_patterns.sim.network.station import (
    ABANDONED,
    Call,
    EndpointRuntime,
    Replica,
    StepRuntime,
)
from scalesim_patterns.sim.network.steps import DatabaseRuntime
from scalesim_patterns.sim.patterns.workflow_state import Workflows

if TYPE_CHECKING:
    from scalesim_patterns.sim.network.host import Host

__all__ = [
    "FORWARD_ATTEMPTS_LIMIT",
    "SagaInstance",
    "SagaRuntime",
    "SagaStepRuntime",
    "StateWriter",
    "build_saga",
    "compile_saga_step",
]

Invoke = Callable[[Call], None]

FORWARD_ATTEMPTS_LIMIT: Final = 1000
"""Attempts at a step after the pivot before the saga is reported stuck (≈17 min at 1 s backoff)."""

COMPLETED: Final = 0
COMPENSATED: Final = 1
STUCK: Final = 2


class SagaInstance:
    """One running saga: where it is and what it still owes the request that started it."""

    __slots__ = (
        "answered",
        "attempt",
        "call",
        "cause",
        "comp",
        "decided",
        "expired",
        "finished",
        "inflight",
        "replica",
        "step",
        "t0",
        "then",
        "timer",
    )

    def __init__(self, call: Call, t0: float) -> None:
        self.call = call
        self.replica: Replica = call.replica
        self.t0 = t0
        self.step = 0
        self.attempt = 0
        self.comp = -1
        self.cause = ERROR
        self.inflight: Call | None = None
        self.timer: Timer | None = None
        self.decided = False
        """The outcome is settled (pivot passed, or compensating): the deadline no longer applies."""
        self.expired = False
        self.finished = False
        self.answered = False
        self.then: Callable[[SagaInstance], None] | None = None


@mypyc_attr(allow_interpreted_subclasses=True)  # tracing's TracedStateWriter
class StateWriter:
    """Writes saga state to the orchestrator's database through its replica's pool.

    It follows the pool protocol of `QueryStepRuntime` (`run(x, waited)` for a waiter that gets a
    connection), so saga writes queue FIFO with the service's own queries.
    """

    __slots__ = ("db", "done_", "kernel", "latency")

    def __init__(self, kernel: Kernel, db: DatabaseRuntime, latency: Sampler) -> None:
        self.kernel = kernel
        self.db = db
        self.latency = latency
        self.done_ = self.done

    def write(self, inst: SagaInstance, then: Callable[[SagaInstance], None]) -> None:
        inst.then = then
        db = self.db
        pool = db.pool_of(inst.replica)
        if pool.size == 0:
            # The orchestrator cannot reach its store: count it, and carry on without the record.
            db.count += 1
            db.fails += 1
            then(inst)
        elif pool.take(self, inst, self.kernel.now):
            self.run(inst, 0.0)

    def run(self, inst: SagaInstance, waited: float) -> None:
        latency = self.latency.draw()
        self.db.served(waited, latency)
        self.kernel.schedule(latency, self.done_, inst)

    def done(self, inst: SagaInstance) -> None:
        inst.replica.pools[self.db.name].give_back(self.kernel.now)
        then = inst.then
        assert then is not None
        then(inst)


class InProcess(Replica):
    """The orchestrator's replica as seen by a step it runs in-process: it has no worker to take
    or give back (the orchestrator's own thread does the work) and the same connection pools."""

    __slots__ = ()

    def release(self) -> None:
        return


class LocalInvoke:
    """A saga step on the orchestrator's own service is a function call in its thread, not a
    request: no network hop, no queue, no second worker, no client timeout.

    Sending it through the service would make each saga hold one worker while waiting for
    another of the same pool — a thread pool deadlocking itself under load, which is not how
    orchestrators run their local transactions.
    """

    __slots__ = ("kernel", "remote", "service", "shadows")

    def __init__(self, kernel: Kernel, service: str, remote: Invoke) -> None:
        self.kernel = kernel
        self.service = service
        self.remote = remote
        self.shadows: dict[Replica, InProcess] = {}

    def __call__(self, c: Call) -> None:
        rep: Replica = c.parent.replica
        svc = rep.service
        if svc.name.partition("@")[0] != self.service:
            self.remote(c)
            return
        shadow = self.shadows.get(rep)
        if shadow is None:
            shadow = InProcess(svc, rep.index, rep.workers, 0)
            shadow.pools = rep.pools
            self.shadows[rep] = shadow
        c.endpoint = svc.endpoints[c.endpoint.name]
        c.replica = shadow
        c.t_arrive = self.kernel.now
        shadow.hold(c)
        c.endpoint.begin(c)


@mypyc_attr(allow_interpreted_subclasses=True)  # tracing's TracedSagaRuntime
class SagaRuntime:
    """A saga definition compiled for one replication: its participants and its counters."""

    def __init__(
        self,
        name: str,
        saga: Saga,
        kernel: Kernel,
        *,
        actions: list[EndpointRuntime],
        action_invokes: list[Invoke],
        compensations: list[EndpointRuntime | None],
        compensation_invokes: list[Invoke | None],
        writer: StateWriter | None,
        hop: tuple[Sampler, Sampler] | None,
    ) -> None:
        self.name = name
        self.kernel = kernel
        self.mode = saga.mode
        self.step_names = [s.name for s in saga.steps]
        self.n = len(saga.steps)
        pivots = [i for i, s in enumerate(saga.steps) if s.pivot]
        self.pivot = pivots[0] if pivots else None
        self.retries = saga.compensation_retries
        self.backoff = float(saga.compensation_backoff)
        self.timeout = float(saga.timeout) if saga.timeout else None
        self.actions = actions
        self.action_invokes = action_invokes
        self.comp_eps = compensations
        self.comp_invokes = compensation_invokes
        self.writer = writer
        self.ack, self.delivery = hop if hop is not None else (ZERO, ZERO)
        n = self.n
        self.started = self.completed = self.compensated = self.stuck = 0
        self.base = (0, 0, 0, 0)
        self.open = 0
        self.attempts = [0] * n
        self.failures = [0] * n
        self.comp_ok = [0] * n
        self.comp_failures = [0] * n
        self.step_base: list[tuple[int, int, int, int]] = [(0, 0, 0, 0)] * n
        self.duration = LogHistogram()
        self.comp_duration = LogHistogram()
        self.series: dict[str, list[float | None]] = {
            k: [] for k in ("started", "completed", "compensated", "stuck", "open")
        }
        self._window = (0, 0, 0, 0)
        # Callbacks bound once.
        self.forward_ = self.forward
        self.forward_reply_ = FunctionHandler(self.forward_reply)
        self.after_forward_ = self.after_forward
        self.retry_ = self.retry
        self.compensate_ = self.compensate
        self.comp_reply_ = FunctionHandler(self.comp_reply)
        self.comp_backoff_ = self.comp_backoff
        self.stuck_ = self.end_stuck
        self.expire_ = self.expire
        self.deadlines = Deadlines(kernel, self.timeout) if self.timeout is not None else None
        self.first_reply_ = FunctionHandler(self.first_reply)
        self.answer_ok_ = self.answer_ok
        self.deliver_ = self.deliver
        self.choreo_reply_ = FunctionHandler(self.choreo_reply)
        self.deliver_comp_ = self.deliver_comp
        self.choreo_comp_reply_ = FunctionHandler(self.choreo_comp_reply)

    # ---- common ----------------------------------------------------------------------------

    def retriable(self, i: int) -> bool:
        """Steps after the pivot are retried until they succeed instead of being undone."""
        return self.pivot is not None and i > self.pivot

    def first_compensation(self, i: int, status: int) -> int:
        """The newest step to undo when step i failed with `status`."""
        if status == TIMEOUT and self.comp_eps[i] is not None:
            return i
        return i - 1

    def previous_compensable(self, j: int) -> int:
        while j >= 0 and self.comp_eps[j] is None:
            j -= 1
        return j

    def persist(self, inst: SagaInstance, then: Callable[[SagaInstance], None]) -> None:
        if self.writer is None:
            then(inst)
        else:
            self.writer.write(inst, then)

    def answer_ok(self, inst: SagaInstance) -> None:
        if not inst.answered:
            inst.answered = True
            x = inst.call
            x.endpoint.advance(x)

    def end(self, inst: SagaInstance, outcome: int) -> None:
        inst.finished = True
        inst.decided = True
        if inst.timer is not None:
            inst.timer.cancel()
        self.open -= 1
        took = self.kernel.now - inst.t0
        if outcome == COMPLETED:
            self.completed += 1
            self.duration.record(took)
        elif outcome == COMPENSATED:
            self.compensated += 1
            self.comp_duration.record(took)
        else:
            self.stuck += 1
        if not inst.answered:
            inst.answered = True
            x = inst.call
            if outcome == COMPLETED:
                x.endpoint.advance(x)
            else:
                x.endpoint.finish(x, inst.cause or ERROR)

    def end_stuck(self, inst: SagaInstance) -> None:
        self.end(inst, STUCK)

    def begin(self, x: Call) -> SagaInstance:
        inst = SagaInstance(x, self.kernel.now)
        self.started += 1
        self.open += 1
        return inst

    # ---- orchestrated ----------------------------------------------------------------------

    def start(self, x: Call) -> None:
        inst = self.begin(x)
        if self.deadlines is not None:
            inst.timer = self.deadlines.start(self.expire_, inst)
        self.persist(inst, self.forward_)

    def forward(self, inst: SagaInstance) -> None:
        if inst.expired:
            # The deadline passed while the last transition was being written.
            inst.comp = inst.step - 1
            inst.cause = TIMEOUT
            self.compensate(inst)
            return
        i = inst.step
        self.attempts[i] += 1
        c = Call(self.actions[i], self.forward_reply_, inst, self.kernel.now)
        inst.inflight = c
        self.action_invokes[i](c)

    def forward_reply(self, c: Call) -> None:
        inst: SagaInstance = c.parent
        if c is not inst.inflight:
            return  # abandoned when the saga's deadline passed
        inst.inflight = None
        i = inst.step
        if c.status == OK:
            inst.step = i + 1
            inst.attempt = 0
            if i == self.pivot:
                inst.decided = True
                if inst.timer is not None:
                    inst.timer.cancel()
            self.persist(inst, self.after_forward_)
            return
        self.failures[i] += 1
        if self.retriable(i):
            inst.attempt += 1
            inst.cause = c.status
            self.persist(
                inst, self.stuck_ if inst.attempt >= FORWARD_ATTEMPTS_LIMIT else self.retry_
            )
            return
        inst.decided = True
        inst.cause = c.status
        inst.comp = self.first_compensation(i, c.status)
        self.persist(inst, self.compensate_)

    def after_forward(self, inst: SagaInstance) -> None:
        if inst.step == self.n:
            self.end(inst, COMPLETED)
            return
        if self.pivot is not None and inst.step == self.pivot + 1:
            self.answer_ok(inst)
        self.forward(inst)

    def retry(self, inst: SagaInstance) -> None:
        self.kernel.schedule(self.backoff, self.forward_, inst)

    def expire(self, inst: SagaInstance) -> None:
        if inst.decided or inst.finished:
            return
        inst.expired = True
        inst.decided = True
        c = inst.inflight
        if c is None:
            return  # writing state: `forward` sees `expired` next
        c.state = ABANDONED
        inst.inflight = None
        i = inst.step
        self.failures[i] += 1
        inst.cause = TIMEOUT
        inst.comp = self.first_compensation(i, TIMEOUT)
        self.persist(inst, self.compensate_)

    def compensate(self, inst: SagaInstance) -> None:
        j = self.previous_compensable(inst.comp)
        inst.comp = j
        if j < 0:
            self.end(inst, COMPENSATED)
            return
        ep = self.comp_eps[j]
        invoke = self.comp_invokes[j]
        assert ep is not None and invoke is not None
        invoke(Call(ep, self.comp_reply_, inst, self.kernel.now))

    def comp_reply(self, c: Call) -> None:
        inst: SagaInstance = c.parent
        j = inst.comp
        if c.status == OK:
            self.comp_ok[j] += 1
            inst.comp = j - 1
            inst.attempt = 0
            self.persist(inst, self.compensate_)
            return
        self.comp_failures[j] += 1
        inst.attempt += 1
        self.persist(inst, self.stuck_ if inst.attempt > self.retries else self.comp_backoff_)

    def comp_backoff(self, inst: SagaInstance) -> None:
        self.kernel.schedule(self.backoff, self.compensate_, inst)

    # ---- choreographed ---------------------------------------------------------------------

    def start_choreographed(self, x: Call, invoke0: Invoke) -> None:
        inst = self.begin(x)
        self.attempts[0] += 1
        c = Call(self.actions[0], self.first_reply_, inst, self.kernel.now)
        inst.inflight = c
        invoke0(c)

    def hop(self) -> float:
        """Publish until the broker acknowledges, then delivery to the next participant."""
        return self.ack.draw() + self.delivery.draw()

    def first_reply(self, c: Call) -> None:
        inst: SagaInstance = c.parent
        inst.inflight = None
        k = self.kernel
        if c.status == OK:
            if self.n == 1:
                self.end(inst, COMPLETED)
                return
            inst.step = 1
            ack = self.ack.draw()
            k.schedule(ack, self.answer_ok_, inst)
            k.schedule(ack + self.delivery.draw(), self.deliver_, inst)
            return
        self.failures[0] += 1
        inst.cause = c.status
        j = self.previous_compensable(self.first_compensation(0, c.status))
        if j < 0:
            self.end(inst, COMPENSATED)
            return
        # The request fails now; the participant undoes its step when the event reaches it.
        inst.answered = True
        x = inst.call
        x.endpoint.finish(x, c.status)
        inst.comp = j
        k.schedule(self.hop(), self.deliver_comp_, inst)

    def deliver(self, inst: SagaInstance) -> None:
        i = inst.step
        self.attempts[i] += 1
        ep = self.actions[i]
        ep.service.arrive_(Call(ep, self.choreo_reply_, inst, self.kernel.now))

    def choreo_reply(self, c: Call) -> None:
        inst: SagaInstance = c.parent
        i = inst.step
        k = self.kernel
        if c.status == OK:
            if i == self.n - 1:
                self.end(inst, COMPLETED)
                return
            inst.step = i + 1
            inst.attempt = 0
            k.schedule(self.hop(), self.deliver_, inst)
            return
        self.failures[i] += 1
        if self.retriable(i):
            inst.attempt += 1
            if inst.attempt >= FORWARD_ATTEMPTS_LIMIT:
                self.end(inst, STUCK)
            else:
                k.schedule(self.backoff, self.deliver_, inst)
            return
        inst.cause = c.status
        j = self.previous_compensable(self.first_compensation(i, c.status))
        if j < 0:
            self.end(inst, COMPENSATED)
            return
        inst.comp = j
        k.schedule(self.hop(), self.deliver_comp_, inst)

    def deliver_comp(self, inst: SagaInstance) -> None:
        j = inst.comp
        ep = self.comp_eps[j]
        assert ep is not None
        ep.service.arrive_(Call(ep, self.choreo_comp_reply_, inst, self.kernel.now))

    def choreo_comp_reply(self, c: Call) -> None:
        inst: SagaInstance = c.parent
        j = inst.comp
        k = self.kernel
        if c.status == OK:
            self.comp_ok[j] += 1
            inst.attempt = 0
            nxt = self.previous_compensable(j - 1)
            if nxt < 0:
                self.end(inst, COMPENSATED)
                return
            inst.comp = nxt
            k.schedule(self.hop(), self.deliver_comp_, inst)
            return
        self.comp_failures[j] += 1
        inst.attempt += 1
        if inst.attempt > self.retries:
            self.end(inst, STUCK)
        else:
            k.schedule(self.backoff, self.deliver_comp_, inst)

    # ---- figures ---------------------------------------------------------------------------

    def totals(self) -> tuple[int, int, int, int]:
        return (self.started, self.completed, self.compensated, self.stuck)

    def reset(self) -> None:
        self.base = self.totals()
        self.step_base = [
            (self.attempts[i], self.failures[i], self.comp_ok[i], self.comp_failures[i])
            for i in range(self.n)
        ]
        self.duration.clear()
        self.comp_duration.clear()

    def close_window(self) -> None:
        now = self.totals()
        for key, a, b in zip(
            ("started", "completed", "compensated", "stuck"), now, self._window, strict=True
        ):
            self.series[key].append(float(a - b))
        self.series["open"].append(float(self.open))
        self._window = now


class SagaStepRuntime(StepRuntime):
    """A `saga:` step: start the saga for this call; the call resumes when the saga answers."""

    __slots__ = ("invoke0", "prob_rnd", "probability", "saga")

    def __init__(
        self,
        saga: SagaRuntime,
        probability: float,
        prob_rnd: Callable[[], float],
        invoke0: Invoke | None,
    ) -> None:
        self.saga = saga
        self.probability = probability
        self.prob_rnd = prob_rnd
        self.invoke0 = invoke0

    def start(self, x: Call) -> bool:
        if self.probability < 1.0 and self.prob_rnd() >= self.probability:
            return True
        if self.invoke0 is None:
            self.saga.start(x)
        else:
            self.saga.start_choreographed(x, self.invoke0)
        return False


def build_saga(engine: Host, name: str) -> SagaRuntime:
    """Compile saga `name`: its participants' call sites, its state writer, its broker hops."""
    spec = engine.arch.spec
    saga = spec.sagas[name]
    caller = saga.orchestrator if saga.mode == "orchestrated" else None
    actions: list[EndpointRuntime] = []
    action_invokes: list[Invoke] = []
    comps: list[EndpointRuntime | None] = []
    comp_invokes: list[Invoke | None] = []

    def site(label: str, target: str) -> Invoke:
        if caller is None:
            return _unused
        service = target.partition(".")[0]
        policy = spec.services[caller].client_policy(service)
        _, invoke = engine.call_site(f"saga:{name}:{label}", caller, target, policy, sidecars=2)
        if service == caller:
            return LocalInvoke(engine.kernel, caller, invoke)
        return invoke

    for step in saga.steps:
        actions.append(engine.endpoint(step.action))
        action_invokes.append(site(step.name, step.action))
        if step.compensation is not None:
            comps.append(engine.endpoint(step.compensation))
            comp_invokes.append(site(f"{step.name}:undo", step.compensation))
        else:
            comps.append(None)
            comp_invokes.append(None)
    tracer = engine.tracer
    writer: StateWriter | None = None
    if saga.mode == "orchestrated" and saga.state_store is not None:
        db = spec.databases[saga.state_store]
        writer_args = (
            engine.kernel,
            engine.databases[saga.state_store],
            engine.streams.sampler(db.latency_of("write"), f"db:{saga.state_store}:saga:{name}"),
        )
        if tracer is None:
            writer = StateWriter(*writer_args)
        else:
            from scalesim_patterns.sim.tracing.workflows import traced_state_writer

            writer = traced_state_writer(tracer, name, db.engine, *writer_args)
    hop: tuple[Sampler, Sampler] | None = None
    if saga.mode == "choreographed":
        assert saga.broker is not None
        publish, delivery = spec.brokers[saga.broker].default_latencies()
        hop = (
            engine.streams.sampler(publish, f"ack:saga:{name}"),
            engine.streams.sampler(delivery, f"delivery:saga:{name}"),
        )
    make: Callable[..., SagaRuntime] = SagaRuntime
    if tracer is not None:
        from scalesim_patterns.sim.tracing.workflows import traced_saga

        make = traced_saga(tracer)
    return make(
        name,
        saga,
        engine.kernel,
        actions=actions,
        action_invokes=action_invokes,
        compensations=comps,
        compensation_invokes=comp_invokes,
        writer=writer,
        hop=hop,
    )


def _unused(c: Call) -> None:
    raise AssertionError("a choreographed saga delivers events, it does not call")


def compile_saga_step(
    engine: Host, service: str, endpoint: str, index: int | str, step: SagaStep
) -> SagaStepRuntime:
    """The runtime of a `saga:` step of `service.endpoint` (its index-th step)."""
    ref = f"{service}.{endpoint}"
    model = engine.arch.spec.sagas[step.saga]
    for s in model.steps:
        if ref in (s.action, s.compensation):
            raise SimulationError(
                f"{ref} starts saga '{step.saga}', whose step '{s.name}' calls {ref} again: "
                "the saga would start itself without end"
            )
    sagas = engine.plugins.obtain(Workflows).sagas
    saga = sagas.get(step.saga)
    if saga is None:
        saga = sagas[step.saga] = build_saga(engine, step.saga)
    branch = engine.streams.get(f"branch:{ref}:{index}").random
    invoke0: Invoke | None = None
    if saga.mode == "choreographed":
        first = engine.arch.spec.sagas[step.saga].steps[0].action
        policy = engine.arch.spec.services[service].client_policy(first.partition(".")[0])
        _, remote = engine.call_site(
            f"{ref}->saga:{step.saga}#{index}", service, first, policy, sidecars=2
        )
        local = first.partition(".")[0] == service
        invoke0 = LocalInvoke(engine.kernel, service, remote) if local else remote
    return SagaStepRuntime(saga, step.probability, branch, invoke0)
