"""Pods over time: crashes, restarts, probes and scaling, and what the load balancer sees.

A service whose pods can change (a crash or outage fault targets it, or it autoscales) gets a
`Fleet`. Each pod has a current container (a `Replica`; a restart makes a new one, so figures
of the old container stay with it), a state (starting, serving, broken) and an endpoint that is
in the load balancer or not. The balancer's list, `ServiceRuntime.routable`, is rebuilt from
those states whenever one changes: a pod in the balancer that cannot serve is represented there
by a `Refusing` stand-in, which answers every call at once with `unavailable` (connection
refused), so the engine's hot path needs no check at all.

Kubernetes behaviour modelled (docs/resilience.md):

* A container that exits (crash) is restarted at once by kubelet; its pod is NotReady while the
  container is not running, so the endpoint leaves the balancer after the propagation delay.
* A new container is Ready as soon as it runs when there is no readiness probe (the application
  refuses connections until its start-up time has passed); with a readiness probe it joins the
  balancer only after the probe has passed `successThreshold` times (plus propagation).
* Probes are simulated tick by tick (kubelet's probe workers): readiness failures remove the
  endpoint, liveness and startup failures restart the container. A probe fails when the pod
  cannot serve (not started, or broken by an outage fault); probes are answered apart from the
  request workers, so load alone does not fail them.
* Work in flight on a container that dies is lost: its callers see `unavailable` at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, cast

from scalesim_patterns.model.distributions import LogNormal
from scalesim_patterns.model.service import Probe as ProbeSpec
from scalesim_patterns.model.service import Service
from scalesim_patterns.sim.core.causes import UNAVAILABLE
from scalesim_patterns.sim.core.kernel import Timer
from scalesim_patterns.sim.mechanisms.probes import Probe
from scalesim_patterns.sim.network.pipeline import Transport
from scalesim_patterns.sim.network.station import (
    ANSWERED,
    PENDING,
    Call,
    EndpointRuntime,
    Replica,
    ServiceRuntime,
)
from scalesim_patterns.sim.network.waiting import WaitingCalls
from scalesim_patterns.sim.patterns.workflow_state import under_rollout

if TYPE_CHECKING:
    from scalesim_patterns.sim.network.host import Host, WindowRecorder
    from scalesim_patterns.sim.reports.results import Report

__all__ = [
    "DEFAULT_STARTUP",
    "DELIVERIES",
    "Fleet",
    "Fleets",
    "Pod",
    "Refusing",
    "fleet",
    "fleets",
    "in_flight",
    "install_lifecycle",
    "kill_calls",
]

DEFAULT_STARTUP = LogNormal(p50=5.0, p99=15.0)
"""Pod start-up time when the service gives none: scheduling, image pull and warm-up."""

DELIVERIES: set[Any] = {Transport.deliver}
"""Functions whose pending event carries an answer back to its caller (the call has finished
on its server). Transports that send calls themselves add theirs."""


class Refusing(Replica):
    """A pod's place in the balancer while it cannot serve: every call is refused at once."""

    __slots__ = ("pod",)

    def __init__(self, service: ServiceRuntime, pod: Pod) -> None:
        super().__init__(service, -1, 0, 0)
        self.pod = pod

    def enqueue(self, c: Call, now: float) -> None:
        # ServiceRuntime.arrive counted the call as active before finding no free worker.
        self.active -= 1
        c.endpoint.refuse(c, UNAVAILABLE)

    def accept(self, c: Call) -> None:
        c.replica = self
        c.t_arrive = self.kernel.now
        c.endpoint.refuse(c, UNAVAILABLE)


class _Zombie(EndpointRuntime):
    """Stands in for the endpoint of a call whose container died: whatever was still going to
    happen to that call (a step's answer, a query's end) is dropped."""

    __slots__ = ()

    def begin(self, c: Call) -> None:
        pass

    def work_done(self, c: Call) -> None:
        pass

    def advance(self, c: Call) -> None:
        pass

    def finish(self, c: Call, status: int) -> None:
        pass

    def refuse(self, c: Call, status: int) -> None:
        pass


def _noop(_: Any) -> None:
    pass


class Pod:
    """One pod of a fleet; its container changes on every restart."""

    __slots__ = (
        "broken",
        "deleted",
        "generation",
        "id",
        "in_lb",
        "probes",
        "replica",
        "start",
        "tomb",
        "up",
    )

    def __init__(self, pod_id: int, replica: Replica, tomb: Refusing) -> None:
        self.id = pod_id
        self.replica = replica
        self.tomb = tomb
        self.up = True
        """The application in the current container serves (it has started)."""
        self.broken: set[int] = set()
        """Outage faults (by index) that make this pod refuse connections."""
        self.in_lb = True
        self.deleted = False
        self.generation = 0
        self.start = 0.0
        """When the current container started."""
        self.probes: dict[str, Probe] = {}


def fleets(engine: Host) -> Fleets:
    """The fleets of an engine, by service name (created on demand by `fleet`)."""
    return engine.plugins.obtain(Fleets)


def fleet(engine: Host, service: str) -> Fleet:
    """The service's fleet, made the first time a mechanism needs it (at install time)."""
    found = fleets(engine)
    if service not in found:
        found[service] = Fleet(engine, service)
        if under_rollout(engine, service):
            engine.notes.append(
                f"{service}: its crashes, outages or autoscaling are not coordinated with its "
                "rollout, which manages the same pods; read the figures with care"
            )
    return found[service]


class Fleet:
    """The pods of one service, their containers, probes and load-balancer membership."""

    def __init__(self, engine: Host, name: str) -> None:
        self.engine = engine
        self.kernel = engine.kernel
        self.name = name
        self.svc = engine.services[name]
        model: Service = engine.arch.spec.services[name]
        self.health = model.health
        self.propagation = self.health.propagation_delay if self.health is not None else 1.0
        self.startup = engine.streams.sampler(
            model.startup_time or DEFAULT_STARTUP, f"startup:{name}"
        )
        self.phase_rnd = engine.streams.get(f"probe:{name}").random
        self.specs: dict[str, ProbeSpec] = {}
        if self.health is not None:
            for kind in ("startup", "readiness", "liveness"):
                spec = getattr(self.health, kind)
                if spec is not None:
                    self.specs[kind] = spec
        self.outage: set[int] = set()
        """Service-wide outage faults in force."""
        self.cured_by_restart: set[int] = set()
        """Outage faults that a new container clears (a hung pod with no fault duration)."""
        self.events: list[tuple[float, str, str]] = []
        """(time, pod, what): crash, restart, started, ready, unready, added, deleted."""
        self.listeners: list[Callable[[], None]] = []
        """Called after every change of the balancer's list."""
        self.zombie = _Zombie(self.svc, "~dead", lambda: 0.0, 0.0, lambda: 1.0, engine.causes)
        self.pods: list[Pod] = []
        self.desired = len(self.svc.replicas)
        self._next_id = 0
        self._by_replica: dict[Replica, Pod] = {}
        for rep in self.svc.replicas:
            pod = self._pod(rep)
            pod.start = -1e9  # running long before the simulation starts
            for kind, spec in self.specs.items():
                probe = _probe(kind, spec)
                _settle(probe)
                pod.probes[kind] = probe
                self._schedule_probe(pod, kind, self.phase_rnd() * spec.period)
        self.not_ready_traffic = 0
        """Containers put in the balancer before they could serve (no readiness probe)."""
        engine.window_hooks.append(self._window)

    # ---- queries --------------------------------------------------------------------------

    def serving(self, pod: Pod) -> bool:
        return pod.up and not pod.broken and not self.outage and not pod.deleted

    def pod_of(self, rep: Replica) -> Pod | None:
        if isinstance(rep, Refusing):
            return rep.pod
        return self._by_replica.get(rep)

    @property
    def live(self) -> list[Pod]:
        return [p for p in self.pods if not p.deleted]

    def ready_count(self) -> int:
        """Pods whose endpoint is in the balancer and that can serve."""
        return sum(1 for p in self.pods if p.in_lb and self.serving(p))

    # ---- building blocks ------------------------------------------------------------------

    def _pod(self, rep: Replica) -> Pod:
        pod = Pod(self._next_id, rep, cast(Refusing, None))
        pod.tomb = Refusing(self.svc, pod)
        self._next_id += 1
        self.pods.append(pod)
        self._by_replica[rep] = pod
        return pod

    def _log(self, pod: Pod, what: str) -> None:
        self.events.append((self.kernel.now, f"{self.name}#{pod.id}", what))

    def sync(self) -> None:
        """Rebuild the balancer's list from the pods' states."""
        self.svc.routable = [
            (p.replica if self.serving(p) else p.tomb) for p in self.pods if p.in_lb
        ]
        for listener in self.listeners:
            listener()

    def _retire(self, rep: Replica, *, drain: bool = False) -> None:
        """The container is gone (its work was lost), or — `drain` — it gets no more calls and
        finishes those it has (a pod deleted by a scale-down)."""
        if rep.died != float("inf"):
            return
        rep.flush()
        if not drain:
            rep.busy = 0
            rep.active = 0
        rep.died = self.kernel.now
        for db_name, pool in rep.pools.items():
            db = self.engine.databases.get(db_name)
            if db is not None:
                db.left += pool.size

    def _set_lb(self, pod: Pod, value: bool, delay: float) -> None:
        """The endpoint joins or leaves the balancer after `delay` (propagation)."""
        self.kernel.schedule(delay, self._apply_lb, (pod, value))

    def _apply_lb(self, arg: tuple[Pod, bool]) -> None:
        pod, value = arg
        if pod.deleted and value:
            return
        if pod.in_lb != value:
            pod.in_lb = value
            self._log(pod, "ready" if value else "unready")
            if value and not self.serving(pod) and "readiness" not in self.specs:
                self.not_ready_traffic += 1
            self.sync()

    def _new_container(self, pod: Pod, start: float) -> None:
        """Replace the pod's container: the new one runs from `start` and serves after its
        start-up time."""
        self._retire(pod.replica)
        rep = self.svc.add_replica()
        self._by_replica[rep] = pod
        pod.replica = rep
        self._start_container(pod, start, fresh=False)

    def _start_container(self, pod: Pod, start: float, *, fresh: bool) -> None:
        """The pod's container runs from `start` and serves after its start-up time.

        With a readiness probe the pod joins the balancer when the probe passes. Without one
        it is Ready when its container runs: a restarted container runs at once (its start-up
        time is the application starting, refusing connections meanwhile), a new pod's
        container runs at the end of its start-up time (mostly scheduling and image pull)."""
        pod.up = False
        pod.broken -= self.cured_by_restart
        pod.generation += 1
        pod.start = start
        gen = pod.generation
        now = self.kernel.now
        serve_at = start + self.startup()
        self.kernel.at(serve_at, self._started, (pod, gen))
        pod.probes = {}
        for kind, spec in self.specs.items():
            pod.probes[kind] = _probe(kind, spec)
            self._schedule_probe(pod, kind, start - now)
        if "readiness" not in self.specs:
            running = serve_at if fresh else start
            self._set_lb(pod, True, max(running - now, 0.0) + self.propagation)
        self.sync()

    def _started(self, arg: tuple[Pod, int]) -> None:
        pod, gen = arg
        if pod.generation != gen or pod.deleted:
            return
        pod.up = True
        self._log(pod, "started")
        self.sync()

    # ---- probes ---------------------------------------------------------------------------

    def _schedule_probe(self, pod: Pod, kind: str, delay: float) -> None:
        self.kernel.schedule(max(delay, 0.0), self._tick, (pod, pod.generation, kind))

    def _tick(self, arg: tuple[Pod, int, str]) -> None:
        pod, gen, kind = arg
        if pod.generation != gen or pod.deleted:
            return
        probe = pod.probes[kind]
        now = self.kernel.now
        self.kernel.schedule(probe.period, self._tick, arg)
        if not probe.due(pod.start, now):
            return
        startup = pod.probes.get("startup")
        if kind != "startup" and startup is not None and startup.state != "STARTED":
            return  # kubelet holds readiness and liveness back until the startup probe passes
        new = probe.observe(now, self.serving(pod))
        if new == "READY":
            self._set_lb(pod, True, self.propagation)
        elif new == "UNREADY":
            self._set_lb(pod, False, self.propagation)
        elif new == "RESTART":
            self._log(pod, f"{kind} failed")
            self.restart(pod)

    # ---- what happens to pods -------------------------------------------------------------

    def kill(self, pods: Iterable[Pod]) -> int:
        """Lose the work in flight on these pods' containers; returns how many calls."""
        reps = {p.replica for p in pods if p.replica.died == float("inf")}
        if not reps:
            return 0
        return kill_calls(self.engine, reps, self.zombie)

    def crash(self, pods: list[Pod], down_for: float) -> None:
        """The containers exit; kubelet restarts them (after `down_for`, a crash loop)."""
        self.kill(pods)
        now = self.kernel.now
        for pod in pods:
            self._log(pod, "crash")
            if pod.in_lb:
                self._set_lb(pod, False, self.propagation)
            self._new_container(pod, now + down_for)

    def restart(self, pod: Pod) -> None:
        """kubelet kills and restarts the container (liveness or startup probe failed)."""
        self.kill([pod])
        self._log(pod, "restart")
        if "readiness" in self.specs and pod.in_lb:
            self._set_lb(pod, False, self.propagation)
        self._new_container(pod, self.kernel.now)

    def break_pods(self, pods: list[Pod], fault: int, on: bool) -> None:
        """An outage of these pods starts (work in flight is lost) or ends."""
        if on:
            self.kill(pods)
            for pod in pods:
                pod.broken.add(fault)
                self._log(pod, "outage")
        else:
            for pod in pods:
                pod.broken.discard(fault)
        self.sync()

    def break_service(self, fault: int, on: bool) -> None:
        """A service-wide outage starts or ends; restarts do not clear it."""
        if on:
            self.kill(self.live)
            self.outage.add(fault)
            self.events.append((self.kernel.now, self.name, "outage"))
        else:
            self.outage.discard(fault)
            self.events.append((self.kernel.now, self.name, "recovered"))
        self.sync()

    def scale_to(self, n: int) -> None:
        """Set the number of pods (the HPA writes spec.replicas). New pods start now; removed
        pods are the not-ready first, then the newest (ReplicaSet's deletion order); they leave
        the balancer at once and finish the work they have."""
        live = self.live
        self.desired = n
        if n > len(live):
            for _ in range(n - len(live)):
                rep = self.svc.add_replica()
                pod = self._pod(rep)
                pod.in_lb = False
                self._log(pod, "added")
                self._start_container(pod, self.kernel.now, fresh=True)
            self.sync()
            return
        ranked = sorted(
            live, key=lambda p: (p.in_lb and self.serving(p), -p.start, -p.id), reverse=False
        )
        for pod in ranked[: len(live) - n]:
            pod.deleted = True
            pod.in_lb = False
            self._retire(pod.replica, drain=True)
            self._log(pod, "deleted")
        self.pods = [p for p in self.pods if not p.deleted]
        self.sync()

    # ---- time series ----------------------------------------------------------------------

    def _window(self, recorder: WindowRecorder) -> None:
        cols = recorder.services.get(self.name)
        if cols is None:
            return
        n = len(recorder.time)
        for key, value in (("ready", self.ready_count()), ("pods", len(self.live))):
            col = cols.setdefault(key, [])
            while len(col) < n - 1:
                col.append(None)
            col.append(float(value))


class Fleets(dict[str, Fleet]):
    """Plug-in state: the fleet of every service whose pods can change, by service name."""


def _probe(kind: str, spec: ProbeSpec) -> Probe:
    return Probe(
        cast(Any, kind),
        period=spec.period,
        timeout=spec.timeout,
        failure_threshold=spec.failure_threshold,
        success_threshold=spec.success_threshold if kind == "readiness" else 1,
        initial_delay=spec.initial_delay,
    )


def _settle(probe: Probe) -> None:
    """A pod running before the simulation starts has passed its probes."""
    for _ in range(probe.success_threshold):
        probe.observe(0.0, True)
    probe.transitions.clear()


# ---- losing the work in flight ------------------------------------------------------------


def in_flight(engine: Host, reps: set[Replica]) -> list[Call]:
    """Calls being served by these containers: queued, working, or waiting on their steps.

    Nothing in the hot path keeps such a list, so it is found when needed (a crash is rare):
    every call in flight anywhere is reachable from a pending event, a queue or a waiting list,
    and each call's `parent` chain (through layers' states, via their `origin`) leads to the
    calls waiting for it. A call counts as on a replica while its server has not answered.
    """
    heap = engine.kernel.heap
    answered: set[int] = set()
    for _, _, fn, arg in heap:
        if getattr(fn, "__func__", None) in DELIVERIES:
            answered.add(id(arg))
    found: dict[int, Call] = {}
    seen: set[int] = set()

    def visit(obj: Any) -> None:
        for _ in range(256):
            if obj is None or id(obj) in seen:
                return
            seen.add(id(obj))
            if isinstance(obj, Call):
                if (
                    id(obj) not in answered
                    and obj.state != ANSWERED
                    and getattr(obj, "replica", None) in reps
                ):
                    found[id(obj)] = obj
                if obj.state != PENDING:
                    return  # nobody upstream waits for it any more
                obj = obj.parent
            else:
                obj = getattr(obj, "origin", None)

    for _, _, fn, arg in heap:
        owner = getattr(fn, "__self__", None)
        if isinstance(owner, Timer):
            if owner.active:
                visit(owner.arg)
        else:
            visit(arg)
    services = list(engine.services.values())
    if engine.gateway is not None:
        services.append(engine.gateway)
    for svc in services:
        for rep in svc.replicas:
            for c in rep.queue:
                visit(c)
            for pool in rep.pools.values():
                for entry in pool.waiting:
                    visit(entry[1])
    waiting = engine.plugins.get(WaitingCalls)
    for holder in waiting.holders if waiting is not None else ():
        for obj in holder():
            visit(obj)
    return list(found.values())


def kill_calls(engine: Host, reps: set[Replica], zombie: EndpointRuntime) -> int:
    """Fail every call in flight on these containers with `unavailable` (connection reset) and
    make sure nothing more happens to them."""
    calls = in_flight(engine, reps)
    ids = {id(c) for c in calls}
    heap = engine.kernel.heap
    for i, (t, seq, fn, arg) in enumerate(heap):
        if id(arg) in ids and getattr(fn, "__func__", None) is EndpointRuntime.work_done:
            heap[i] = (t, seq, _noop, None)  # same (time, seq): the heap order is unchanged
    for rep in reps:
        rep.queue.clear()
        for pool in rep.pools.values():
            keep = [e for e in pool.waiting if id(e[1]) not in ids]
            pool.waiting.clear()
            pool.waiting.extend(keep)
    answers: list[Call] = []
    for c in calls:
        st = c.endpoint.stats
        st.n += 1
        st.fails[UNAVAILABLE] += 1
        c.endpoint = zombie
        c.rep = 1
        if c.state == PENDING:
            answers.append(c)
    for c in answers:
        if c.state != PENDING:
            continue
        mark = getattr(c.parent, "mark_reset", None)
        if mark is not None:
            mark(c)  # a sidecar tells a reset from an answer
        c.status = UNAVAILABLE
        back = c.back
        if back is None:
            c.state = ANSWERED
            c.reply(c)
        else:
            back(c)
    return len(calls)


def install_lifecycle(engine: Host) -> None:
    """Installer (sim/extensions.py), after those that create fleets: report what pods did."""
    found = fleets(engine)
    if not found:
        return
    from scalesim_patterns.sim.reports.telemetry import add_section

    add_section(
        engine,
        "pods",
        lambda: [
            [t, pod, what]
            for t, pod, what in sorted(
                (e for f in found.values() for e in f.events), key=lambda e: e[0]
            )
        ],
    )

    def note(report: Report[float]) -> Report[float]:
        for f in found.values():
            if f.not_ready_traffic:
                engine.notes.append(
                    f"{f.name}: {f.not_ready_traffic} new container(s) received traffic before "
                    "they could serve (no readiness probe)"
                )
        return report

    engine.report_hooks.append(note)
