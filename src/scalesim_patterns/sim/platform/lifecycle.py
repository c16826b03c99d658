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
* Work in flight on a container that dies, or on a pod an outage breaks, is lost: its callers
  see `unavailable` at once (`Replica.kill`, on the replica's record of what it holds).
* A pod deleted by a scale-down leaves the balancer at once and drains: it finishes what it
  holds, then stops; whatever it still holds after the service's `terminationGracePeriod`
  (Kubernetes' default 30 s) is lost when kubelet kills it (`Replica.drain`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final, cast

from scalesim_patterns.model.distributions import LogNormal
from scalesim_patterns.model.service import Probe as ProbeSpec
from scalesim_patterns.model.service import Service
from scalesim_patterns.sim.core.causes import UNAVAILABLE
from scalesim_patterns.sim.mechanisms.probes import Probe
from scalesim_patterns.sim.network.station import Call, Replica, ServiceRuntime
from scalesim_patterns.sim.patterns.workflow_state import under_rollout
from scalesim_patterns.sim.platform.fleets import Fleets

if TYPE_CHECKING:
    from scalesim_patterns.sim.network.host import Host, WindowRecorder
    from scalesim_patterns.sim.reports.results import Report

__all__ = [
    "DEFAULT_STARTUP",
    "Fleet",
    "Fleets",
    "Pod",
    "Refusing",
    "fleet",
    "fleets",
    "install_lifecycle",
]

DEFAULT_STARTUP: Final = LogNormal(p50=5.0, p99=15.0)
"""Pod start-up time when the service gives none: scheduling, image pull and warm-up."""


class Refusing(Replica):
    """A pod's place in the balancer while it cannot serve: every call is refused at once."""

    __slots__ = ("pod",)

    def __init__(self, service: ServiceRuntime, pod: Pod) -> None:
        super().__init__(service, -1, 0, 0)
        self.pod = pod

    def enqueue(self, c: Call, now: float) -> None:
        # ServiceRuntime.arrive recorded the call as held before finding no free worker.
        self.unhold(c)
        c.endpoint.refuse(c, UNAVAILABLE)

    def accept(self, c: Call) -> None:
        c.replica = self
        c.t_arrive = self.kernel.now
        c.endpoint.refuse(c, UNAVAILABLE)


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

    tomb: Refusing
    """What stands in for the pod while it is down; set by the fleet right after the pod is
    made (it needs the pod). Never None, not even for a moment: the compiled build checks."""

    def __init__(self, pod_id: int, replica: Replica) -> None:
        self.id = pod_id
        self.replica = replica
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
        self.grace = float(model.termination_grace_period)
        self.events: list[tuple[float, str, str]] = []
        """(time, pod, what): crash, restart, started, ready, unready, added, deleted, stopped
        (a deleted pod finished its work), killed (its grace period ended first)."""
        self.listeners: list[Callable[[], None]] = []
        """Called after every change of the balancer's list."""
        self.draining: dict[Replica, Pod] = {}
        """Containers of deleted pods still finishing their work, oldest first."""
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
        pod = Pod(self._next_id, rep)
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

    def _end(self, rep: Replica) -> None:
        """The container is gone: its work is lost and it stops."""
        if rep.died != math.inf:
            return
        rep.kill()
        rep.stop()
        self._close_connections(rep)

    def _close_connections(self, rep: Replica) -> None:
        """A stopped container's database connections go back to the servers."""
        for db_name, pool in rep.pools.items():
            db = self.engine.databases.get(db_name)
            if db is not None:
                db.left += pool.size

    def _drained(self, rep: Replica) -> None:
        """A deleted pod's container finished its work (or an outage took it) and stopped."""
        pod = self.draining.pop(rep, None)
        if pod is None:
            return  # killed at the end of its grace period (`_grace_over`)
        self._log(pod, "stopped")
        self._close_connections(rep)

    def _grace_over(self, rep: Replica) -> None:
        """terminationGracePeriod has passed: kubelet kills what is still running."""
        pod = self.draining.pop(rep, None)
        if pod is None:
            return
        self._log(pod, "killed")
        rep.kill()
        self._close_connections(rep)

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
        """Replace the pod's container: the old one is gone (its work lost once the balancer
        has its stand-in), the new one runs from `start` and serves after its start-up time."""
        old = pod.replica
        rep = self.svc.add_replica()
        self._by_replica[rep] = pod
        pod.replica = rep
        self._start_container(pod, start, fresh=False)
        self._end(old)

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
        serve_at = start + self.startup.draw()
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

    def crash(self, pods: list[Pod], down_for: float) -> None:
        """The containers exit; kubelet restarts them (after `down_for`, a crash loop)."""
        now = self.kernel.now
        for pod in pods:
            self._log(pod, "crash")
            if pod.in_lb:
                self._set_lb(pod, False, self.propagation)
            self._new_container(pod, now + down_for)

    def restart(self, pod: Pod) -> None:
        """kubelet kills and restarts the container (liveness or startup probe failed)."""
        self._log(pod, "restart")
        if "readiness" in self.specs and pod.in_lb:
            self._set_lb(pod, False, self.propagation)
        self._new_container(pod, self.kernel.now)

    def break_pods(self, pods: list[Pod], fault: int, on: bool) -> None:
        """An outage of these pods starts (work in flight is lost; the workers are free for
        when it ends) or ends."""
        if on:
            for pod in pods:
                pod.broken.add(fault)
                self._log(pod, "outage")
            self.sync()
            for pod in pods:
                pod.replica.kill()
        else:
            for pod in pods:
                pod.broken.discard(fault)
            self.sync()

    def break_service(self, fault: int, on: bool) -> None:
        """A service-wide outage starts (every pod loses its work, draining ones too) or ends;
        restarts do not clear it."""
        if on:
            self.outage.add(fault)
            self.events.append((self.kernel.now, self.name, "outage"))
            self.sync()
            for pod in self.live:
                pod.replica.kill()
            for rep in list(self.draining):
                rep.kill()
        else:
            self.outage.discard(fault)
            self.events.append((self.kernel.now, self.name, "recovered"))
            self.sync()

    def scale_to(self, n: int) -> None:
        """Set the number of pods (the HPA writes spec.replicas). New pods start now; removed
        pods are the not-ready first, then the newest (ReplicaSet's deletion order); they leave
        the balancer at once, finish the work they hold and stop, or are killed with what they
        still hold when their grace period ends."""
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
        removed = ranked[: len(live) - n]
        for pod in removed:
            pod.deleted = True
            pod.in_lb = False
            self._log(pod, "deleted")
        self.pods = [p for p in self.pods if not p.deleted]
        self.sync()
        for pod in removed:
            rep = pod.replica
            self.draining[rep] = pod
            rep.drain(self._drained)
            if rep in self.draining:
                self.kernel.schedule(self.grace, self._grace_over, rep)

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
