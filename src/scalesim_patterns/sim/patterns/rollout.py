"""Progressive delivery: canary and blue-green rollouts with Argo Rollouts' semantics.

**Versions.** A service with a `canary` or `blue-green` deployment gets a second
`ServiceRuntime`, `<service>@<version>`: the new version's ReplicaSet, with the same workers,
queue and steps, its work scaled by `newVersion.workScale` and its error rate replaced by
`newVersion.errorRate` when given. A `VersionRouter` takes the service's place as the target of
every call (`ServiceRuntime.arrive_`): it sends each call to the new version with the current
weight and to the old one otherwise. Without a rollout nothing is routed, so a service without
`deployment` costs nothing. New pods become ready after a draw of the service's `startupTime`
(none: at once); pods scaled down leave the balancer at once and finish what they hold.

**Controller.** `RolloutController` is a reconcile loop with explicit state, like the Kubernetes
controller it imitates: `reconcile()` compares where the rollout is (`phase`, `step`, the
ReplicaSets' ready pods, the analysis runs' phases) with where its spec says it should go, takes
the next actions, and returns; it is run again when something it waits for happens (a pod
ready, a measurement, a pause's end), never polled.

- Canary: `setWeight` scales the canary to ceil(replicas × weight / 100) pods and, once they are
  ready, routes that share of traffic to it — exactly with `trafficRouting: istio` (and a mesh),
  or in proportion to ready pods with `replicas` (where the old version shrinks as the canary
  grows). `pause` waits its duration; a pause without one stays paused (reported). `analysis`
  runs `count` measurements `interval` apart, each over the interval just ended, of the new
  version's server-side success rate and p99; a measurement fails below `successRate` or above
  `maxLatencyP99`, and the run fails when failures exceed `failureLimit`. A background
  `analysis` runs from the start through every step. Failure aborts: weight back to 0 at once,
  canary scaled down after 30 s. After the last step the rollout is promoted: the new version
  scaled to `replicas` takes all traffic, the old one is scaled down 30 s later.
- Blue-green: the preview ReplicaSet (`previewReplicas`, default `replicas`) starts; once ready
  the pre-promotion analysis runs; then, with `autoPromotion` (after `autoPromotionDelay` if
  given; without autoPromotion the rollout stays paused), the new version scales to `replicas`
  and the active service switches to it instantly; post-promotion analysis follows (failure
  switches back and aborts); then the rollout is complete and the old version is scaled down
  after `scaleDownDelay`.

No traffic reaches a preview: nobody sends requests to it in the simulation. A measurement that
saw no request is recorded as `NoData` and does not count as failed (Argo would report an error
for an empty query): pre-promotion analysis cannot catch a bad version here; post-promotion
analysis can.

Unlike Argo, whose first measurement is taken when the run starts over a query window reaching
back in time, measurement i covers [start + (i−1)·interval, start + i·interval]: an analysis step
takes `count × interval`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from scalesim_patterns.model.service import Analysis, Deployment, Service
from scalesim_patterns.sim.core.histogram import LogHistogram
from scalesim_patterns.sim.core.kernel import Kernel
from scalesim_patterns.sim.core.rng import Sampler, Scaled
from scalesim_patterns.sim.network.processor import service_runtime
from scalesim_patterns.sim.network.station import Call, EndpointRuntime, Replica, ServiceRuntime
from scalesim_patterns.sim.network.steps import DatabaseRuntime

if TYPE_CHECKING:
    # Imported where they are made (a decision, the report): not before the first event.
    from scalesim_patterns.sim.network.host import Host
    from scalesim_patterns.sim.reports.workflow_reports import Decision, RolloutReport

__all__ = [
    "ABORT_SCALE_DOWN_DELAY",
    "CANARY_SCALE_DOWN_DELAY",
    "AnalysisRun",
    "Connections",
    "Meter",
    "ReplicaSet",
    "RolloutController",
    "VersionEndpoint",
    "VersionRouter",
    "prepare_rollout",
]

ABORT_SCALE_DOWN_DELAY: Final = 30.0
"""Argo's abortScaleDownDelaySeconds default: the aborted version's pods stay 30 s."""
CANARY_SCALE_DOWN_DELAY: Final = 30.0
"""Argo's canary scaleDownDelaySeconds default with traffic routing."""


class Meter:
    """Requests finished by the new version since the current measurement window opened."""

    __slots__ = ("fails", "hist", "n")

    def __init__(self) -> None:
        self.n = 0
        self.fails = 0
        self.hist = LogHistogram()

    def add(self, status: int, latency: float) -> None:
        self.n += 1
        if status:
            self.fails += 1
        else:
            self.hist.record(latency)

    def clear(self) -> None:
        self.n = 0
        self.fails = 0
        self.hist.clear()


class VersionEndpoint(EndpointRuntime):
    """An endpoint of the new version: also reports each outcome to the running analyses."""

    __slots__ = ("meters",)

    def __init__(
        self,
        service: ServiceRuntime,
        name: str,
        work: Sampler,
        error_rate: float,
        error_rnd: Callable[[], float],
        causes: int,
        meters: list[Meter],
    ) -> None:
        super().__init__(service, name, work, error_rate, error_rnd, causes)
        self.meters = meters

    def finish(self, c: Call, status: int) -> None:
        latency = self.kernel.now - c.t_arrive
        super().finish(c, status)
        for m in self.meters:
            m.add(status, latency)

    def refuse(self, c: Call, status: int) -> None:
        super().refuse(c, status)
        for m in self.meters:
            m.add(status, 0.0)


class VersionRouter:
    """Stands in for a service's `arrive`: picks the version, then that version's balancer."""

    __slots__ = ("new", "new_eps", "rnd", "stable", "stable_arrive", "stable_eps", "weight")

    def __init__(
        self,
        stable: ServiceRuntime,
        new: ServiceRuntime,
        rnd: Callable[[], float],
    ) -> None:
        self.stable = stable
        self.new = new
        self.stable_arrive = stable.arrive
        self.stable_eps = stable.endpoints
        self.new_eps = new.endpoints
        self.rnd = rnd
        self.weight = 0.0
        """Share of calls sent to the new version, 0..1."""

    def arrive(self, c: Call) -> None:
        w = self.weight
        ep = c.endpoint
        if w > 0.0 and (w >= 1.0 or self.rnd() < w):
            if ep.service is not self.new:
                c.endpoint = self.new_eps[ep.name]
            self.new.arrive(c)
        else:
            if ep.service is not self.stable:
                c.endpoint = self.stable_eps[ep.name]
            self.stable_arrive(c)


class Connections:
    """Database connections of terminated pods go back to the servers, and pools that could not
    open all theirs (the server was at `maxConnections`) open the rest, as HikariCP retries.

    A rollout runs both versions at once, so it is where a database's connection limit bites;
    without this the new pods would stay starved after the old ones are gone.
    """

    def __init__(self, databases: dict[str, DatabaseRuntime]) -> None:
        self.databases = databases
        self.closed: set[int] = set()

    def terminate(self, rep: Replica) -> None:
        now = rep.kernel.now
        for name, pool in rep.pools.items():
            if id(pool) in self.closed:
                continue
            self.closed.add(id(pool))
            db = self.databases[name]
            db.left += pool.size
            for other in db.pools:
                if db.left <= 0:
                    break
                if id(other) in self.closed or other.size >= db.pool_size:
                    continue
                grow = min(db.pool_size - other.size, db.left)
                db.left -= grow
                other.size += grow
                while other.waiting and other.busy < other.size:
                    step, x, since = other.waiting.popleft()
                    other.flush(now)
                    other.busy += 1
                    step.run(x, now - since)


class ReplicaSet:
    """The pods of one version: ready ones are in the balancer, starting ones are not yet.

    A pod scaled down leaves the balancer, finishes what it holds and stops (its database
    connections go back then), or is killed with what it still holds after `grace`
    (terminationGracePeriodSeconds)."""

    def __init__(
        self,
        service: ServiceRuntime,
        kernel: Kernel,
        startup: Sampler | None,
        on_change: Callable[[], None],
        connections: Connections,
        grace: float,
    ) -> None:
        self.service = service
        self.kernel = kernel
        self.startup = startup
        self.on_change = on_change
        self.connections = connections
        self.grace = grace
        self.up: list[Replica] = list(service.routable)
        self.starting: list[Replica] = []
        self.ready_ = self.ready

    @property
    def total(self) -> int:
        return len(self.up) + len(self.starting)

    @property
    def ready_count(self) -> int:
        return len(self.up)

    def scale(self, n: int) -> bool:
        """Ask for `n` pods; True when that changed anything."""
        svc = self.service
        changed = self.total != n
        while self.total < n:
            rep = svc.add_replica()
            svc.routable.remove(rep)
            self.starting.append(rep)
            delay = self.startup.draw() if self.startup is not None else 0.0
            self.kernel.schedule(max(delay, 0.0), self.ready_, rep)
        while self.total > n:
            if self.starting:
                self.starting.pop().stop()
                continue
            rep = self.up.pop()
            if rep in svc.routable:
                svc.routable.remove(rep)
            rep.drain(self.connections.terminate)
            if rep.died == math.inf:
                self.kernel.schedule(self.grace, _kill, rep)
        return changed

    def ready(self, rep: Replica) -> None:
        if rep not in self.starting:
            return  # scaled down before it started
        self.starting.remove(rep)
        self.up.append(rep)
        self.service.routable.append(rep)
        self.on_change()


def _kill(rep: Replica) -> None:
    """The grace period of a draining pod is over: kubelet kills what it still runs."""
    if rep.died == math.inf:
        rep.kill()


class AnalysisRun:
    """`count` measurements `interval` apart of the new version's success rate and p99."""

    def __init__(self, ctl: RolloutController, spec: Analysis, label: str) -> None:
        self.ctl = ctl
        self.spec = spec
        self.label = label
        self.phase = "Running"
        self.taken = 0
        self.failed = 0
        self.meter = Meter()
        ctl.meters.append(self.meter)
        self.measure_ = self.measure
        ctl.log(
            "analysis",
            f"{label}: {spec.count} × {float(spec.interval):g}s, successRate ≥ {spec.success_rate:g}"
            + (
                f", p99 ≤ {float(spec.max_latency_p99):g}s"
                if spec.max_latency_p99 is not None
                else ""
            ),
            step=ctl.step if ctl.strategy == "canary" else None,
        )
        ctl.kernel.schedule(float(spec.interval), self.measure_, None)

    def measure(self, _: object) -> None:
        if self.phase != "Running":
            return
        spec = self.spec
        m = self.meter
        rate = (m.n - m.fails) / m.n if m.n else None
        p99 = m.hist.quantile(0.99)
        if rate is None:
            verdict = "NoData"
        else:
            ok = rate >= spec.success_rate and (
                spec.max_latency_p99 is None or (p99 is not None and p99 <= spec.max_latency_p99)
            )
            verdict = "Successful" if ok else "Failed"
        self.taken += 1
        ctl = self.ctl
        ctl.measurements += 1
        if verdict == "Failed":
            self.failed += 1
            ctl.failed_measurements += 1
        ctl.log(
            "measurement",
            f"{self.label}: measurement {self.taken}/{spec.count}",
            success_rate=rate,
            p99=p99,
            requests=m.n,
            verdict=verdict,
        )
        m.clear()
        if self.failed > spec.failure_limit:
            self.stop("Failed")
            ctl.log("analysis-failed", f"{self.label}: {self.failed} failed measurement(s)")
            ctl.reconcile()
        elif self.taken >= spec.count:
            self.stop("Successful")
            ctl.log("analysis-successful", f"{self.label}")
            ctl.reconcile()
        else:
            ctl.kernel.schedule(float(spec.interval), self.measure_, None)

    def stop(self, phase: str) -> None:
        if self.phase == "Running":
            self.phase = phase
            self.ctl.meters.remove(self.meter)


class RolloutController:
    """One service's rollout as a reconcile loop over explicit state."""

    def __init__(
        self,
        name: str,
        kernel: Kernel,
        service: Service,
        stable: ServiceRuntime,
        new: ServiceRuntime,
        router: VersionRouter,
        startup: Sampler | None,
        meters: list[Meter],
        mesh: bool,
        connections: Connections,
    ) -> None:
        dep = service.deployment
        assert dep is not None and dep.new_version is not None
        self.name = name
        self.kernel = kernel
        self.deployment: Deployment = dep
        self.strategy = dep.strategy
        self.old_version = service.version
        self.new_version = dep.new_version.version
        self.replicas = service.replicas
        self.stable = stable
        self.new = new
        self.router = router
        self.meters = meters
        self.by_replicas = dep.canary is not None and (
            dep.canary.traffic_routing == "replicas" or not mesh
        )
        grace = float(service.termination_grace_period)
        self.stable_set = ReplicaSet(stable, kernel, startup, self.pods_changed, connections, grace)
        self.new_set = ReplicaSet(new, kernel, startup, self.pods_changed, connections, grace)
        # State.
        self.phase = "Pending"
        """Pending → Progressing → Healthy (promoted) | Degraded (aborted) | Paused (indefinitely)."""
        self.step = 0
        self.stage = "preview"
        """Blue-green: preview → pre → wait → scale → post."""
        self.pause_until: float | None = None
        self.wait_since = 0.0
        self.run: AnalysisRun | None = None
        self.background: AnalysisRun | None = None
        self.weight = 0.0
        """Percent of traffic the new version gets."""
        self.decisions: list[Decision] = []
        self.started_at: float | None = None
        self.promoted_at: float | None = None
        self.aborted_at: float | None = None
        self.measurements = 0
        self.failed_measurements = 0
        self.skip_post = False
        """A full promotion by hand skips the post-promotion analysis too."""
        # Figures.
        self.base = (0, 0)
        self.series: dict[str, list[float | None]] = {
            k: []
            for k in (
                "weight",
                "old_throughput",
                "old_error_rate",
                "old_replicas",
                "new_throughput",
                "new_error_rate",
                "new_replicas",
            )
        }
        self._window = ((0, 0), (0, 0))
        self.reconcile_ = self.reconcile_at
        self.scale_down_old_ = self.scale_down_old
        self.scale_down_new_ = self.scale_down_new

    # ---- plumbing --------------------------------------------------------------------------

    def install(self) -> None:
        self.kernel.at(float(self.deployment.start_at), self.reconcile_, None)

    def log(self, action: str, detail: str, **figures: float | int | str | None) -> None:
        from scalesim_patterns.sim.reports.workflow_reports import Decision

        self.decisions.append(Decision(self.kernel.now, action, detail, **figures))  # type: ignore[arg-type]

    def set_weight(self, percent: float) -> None:
        if percent != self.weight:
            self.weight = percent
            self.router.weight = percent / 100.0
            self.log("weight", f"new version gets {percent:g}% of traffic", weight=percent)

    def pods_changed(self) -> None:
        if self.by_replicas and self.phase == "Progressing":
            self.follow_pods()
        self.reconcile()

    def follow_pods(self) -> None:
        new, old = self.new_set.ready_count, self.stable_set.ready_count
        total = new + old
        self.set_weight(round(100.0 * new / total, 6) if total else 0.0)

    def reconcile_at(self, _: object) -> None:
        self.reconcile()

    # ---- the loop --------------------------------------------------------------------------

    def reconcile(self) -> None:
        if self.phase in ("Healthy", "Degraded", "Paused"):
            return
        now = self.kernel.now
        if self.phase == "Pending":
            self.phase = "Progressing"
            self.started_at = now
            self.log(
                "started",
                f"{self.strategy} rollout of {self.name} {self.old_version} → {self.new_version}",
            )
            canary = self.deployment.canary
            if canary is not None and canary.analysis is not None:
                self.background = AnalysisRun(self, canary.analysis, "background analysis")
            bg = self.deployment.blue_green
            if bg is not None:
                preview = bg.preview_replicas or self.replicas
                self.new_set.scale(preview)
                self.log("scaled", f"preview ReplicaSet {self.new_version} to {preview} pods")
        if self.deployment.canary is not None:
            self.reconcile_canary(now)
        else:
            self.reconcile_blue_green(now)

    def reconcile_canary(self, now: float) -> None:
        canary = self.deployment.canary
        assert canary is not None
        if self.background is not None and self.background.phase == "Failed":
            self.abort("background analysis failed")
            return
        steps = canary.steps
        while self.step < len(steps):
            s = steps[self.step]
            if s.set_weight is not None:
                desired = math.ceil(self.replicas * s.set_weight / 100)
                if self.new_set.scale(desired):
                    self.log("scaled", f"canary to {desired} pods", step=self.step)
                if self.new_set.ready_count < self.new_set.total:
                    return
                if self.by_replicas:
                    if self.stable_set.scale(self.replicas - desired):
                        self.log("scaled", f"stable to {self.replicas - desired} pods")
                    self.follow_pods()
                else:
                    self.set_weight(float(s.set_weight))
                self.step += 1
            elif s.pause is not None:
                if s.pause.duration is None:
                    self.phase = "Paused"
                    self.log("paused", "paused until promoted by hand", step=self.step)
                    return
                if self.pause_until is None:
                    self.pause_until = now + float(s.pause.duration)
                    self.log("pause", f"pause {float(s.pause.duration):g}s", step=self.step)
                    self.kernel.at(self.pause_until, self.reconcile_, None)
                    return
                if now < self.pause_until:
                    return
                self.pause_until = None
                self.step += 1
            else:
                assert s.analysis is not None
                if self.run is None:
                    self.run = AnalysisRun(self, s.analysis, f"step {self.step} analysis")
                    return
                if self.run.phase == "Running":
                    return
                if self.run.phase == "Failed":
                    self.abort(f"step {self.step} analysis failed")
                    return
                self.run = None
                self.step += 1
        # Every step done: full promotion.
        if self.new_set.scale(self.replicas):
            self.log("scaled", f"canary to {self.replicas} pods")
        if self.new_set.ready_count < self.replicas:
            return
        if self.by_replicas:
            self.stable_set.scale(0)
        self.set_weight(100.0)
        self.complete(CANARY_SCALE_DOWN_DELAY)

    def reconcile_blue_green(self, now: float) -> None:
        bg = self.deployment.blue_green
        assert bg is not None
        if self.stage == "preview":
            if self.new_set.ready_count < self.new_set.total:
                return
            self.log("preview-ready", f"{self.new_set.ready_count} preview pods ready")
            self.stage = "pre"
        if self.stage == "pre":
            if bg.pre_promotion_analysis is not None:
                if self.run is None:
                    self.run = AnalysisRun(
                        self, bg.pre_promotion_analysis, "pre-promotion analysis"
                    )
                    return
                if self.run.phase == "Running":
                    return
                if self.run.phase == "Failed":
                    self.abort("pre-promotion analysis failed")
                    return
                self.run = None
            self.stage = "wait"
            self.wait_since = now
            if not bg.auto_promotion:
                self.phase = "Paused"
                self.log("paused", "autoPromotion is off: waits to be promoted by hand")
                return
        if self.stage == "wait":
            if bg.auto_promotion_delay is not None:
                until = self.wait_since + float(bg.auto_promotion_delay)
                if now < until:
                    if self.pause_until != until:
                        self.pause_until = until
                        self.log("pause", f"autoPromotionDelay {float(bg.auto_promotion_delay):g}s")
                        self.kernel.at(until, self.reconcile_, None)
                    return
                self.pause_until = None
            self.stage = "scale"
        if self.stage == "scale":
            if self.new_set.scale(self.replicas):
                self.log("scaled", f"{self.new_version} to {self.replicas} pods")
            if self.new_set.ready_count < self.replicas:
                return
            self.set_weight(100.0)
            self.log("switched", f"active service now selects {self.new_version}")
            self.stage = "post"
        if self.stage == "post":
            if bg.post_promotion_analysis is not None and not self.skip_post:
                if self.run is None:
                    self.run = AnalysisRun(
                        self, bg.post_promotion_analysis, "post-promotion analysis"
                    )
                    return
                if self.run.phase == "Running":
                    return
                if self.run.phase == "Failed":
                    self.abort("post-promotion analysis failed")
                    return
                self.run = None
            self.complete(float(bg.scale_down_delay))

    # ---- by hand (a scenario's `changes:`) --------------------------------------------------

    def promote(self, full: bool) -> None:
        """`kubectl argo rollouts promote [--full]`: resumes a rollout paused at a canary step
        (an indefinite pause, or a timed one not yet over) or a blue-green rollout waiting for
        promotion; `full` skips every remaining step, pause and analysis. A rollout that is not
        paused is left alone (Argo: "Promotes a rollout paused at a canary step, or a paused
        blue-green pre-promotion"), unless `full`."""
        if self.phase in ("Pending", "Healthy", "Degraded"):
            self.log("promote-ignored", f"promote by hand: rollout is {self.phase}")
            return
        canary = self.deployment.canary
        if full:
            self.log("promote", "promoted by hand (--full): remaining steps skipped")
            for run in (self.run, self.background):
                if run is not None:
                    run.stop("Terminated")
            self.run = None
            self.background = None
            self.pause_until = None
            self.phase = "Progressing"
            if canary is not None:
                self.step = len(canary.steps)
            else:
                self.stage = "scale"
                self.skip_post = True
            self.reconcile()
            return
        if canary is not None:
            paused = self.phase == "Paused" or self.pause_until is not None
            if not paused:
                self.log("promote-ignored", "promote by hand: rollout is not paused")
                return
            self.log("promote", f"promoted by hand: step {self.step} skipped", step=self.step)
            self.phase = "Progressing"
            self.pause_until = None
            self.step += 1
        else:
            waiting = self.phase == "Paused" or (self.stage == "wait" and self.pause_until)
            if not waiting:
                self.log("promote-ignored", "promote by hand: not waiting for promotion")
                return
            self.log("promote", "promoted by hand")
            self.phase = "Progressing"
            self.pause_until = None
            self.stage = "scale"
        self.reconcile()

    def abort_by_hand(self) -> None:
        """`kubectl argo rollouts abort`: traffic back to the stable version at once."""
        if self.phase in ("Progressing", "Paused"):
            self.abort("aborted by hand")
        else:
            self.log("abort-ignored", f"abort by hand: rollout is {self.phase}")

    # ---- outcomes --------------------------------------------------------------------------

    def complete(self, scale_down_delay: float) -> None:
        self.phase = "Healthy"
        self.promoted_at = self.kernel.now
        if self.background is not None:
            self.background.stop("Terminated")
        self.log("promoted", f"{self.new_version} is stable", weight=self.weight)
        if self.stable_set.total:
            self.kernel.schedule(scale_down_delay, self.scale_down_old_, None)

    def abort(self, reason: str) -> None:
        self.phase = "Degraded"
        self.aborted_at = self.kernel.now
        for run in (self.run, self.background):
            if run is not None:
                run.stop("Terminated")
        self.log("aborted", reason)
        switched = self.strategy == "blue-green" and self.weight > 0
        if self.by_replicas:
            self.new_set.scale(0)
            self.stable_set.scale(self.replicas)
            self.set_weight(0.0)
            self.log("scaled-down", f"canary {self.new_version} scaled down")
            return
        self.set_weight(0.0)
        if switched:
            self.log("switched-back", f"active service selects {self.old_version} again")
        self.kernel.schedule(ABORT_SCALE_DOWN_DELAY, self.scale_down_new_, None)

    def scale_down_old(self, _: object) -> None:
        self.stable_set.scale(0)
        self.log("scaled-down", f"{self.old_version} scaled down")

    def scale_down_new(self, _: object) -> None:
        self.new_set.scale(0)
        self.log("scaled-down", f"{self.new_version} scaled down")

    # ---- figures ---------------------------------------------------------------------------

    def counts(self, svc: ServiceRuntime) -> tuple[int, int]:
        n = fails = 0
        for ep in svc.endpoints.values():
            n += ep.stats.n
            fails += sum(ep.stats.fails)
        return n, fails

    def reset(self) -> None:
        self.base = self.counts(self.new)

    def close_window(self, span: float) -> None:
        old, new = self.counts(self.stable), self.counts(self.new)
        (o0, of0), (n0, nf0) = self._window
        cols = self.series
        cols["weight"].append(self.weight)
        for prefix, (n, f), (b, bf), rs in (
            ("old", old, (o0, of0), self.stable_set),
            ("new", new, (n0, nf0), self.new_set),
        ):
            count = n - b
            cols[f"{prefix}_throughput"].append(count / span if span > 0 else None)
            cols[f"{prefix}_error_rate"].append((f - bf) / count if count else None)
            cols[f"{prefix}_replicas"].append(float(rs.ready_count))
        self._window = (old, new)

    def report(self) -> RolloutReport[float]:
        from scalesim_patterns.sim.reports.workflow_reports import RolloutReport

        n, fails = self.counts(self.new)
        return RolloutReport(
            started_at=self.started_at,
            promoted=1.0 if self.phase == "Healthy" else 0.0,
            aborted=1.0 if self.phase == "Degraded" else 0.0,
            paused=1.0 if self.phase == "Paused" else 0.0,
            promoted_at=self.promoted_at,
            aborted_at=self.aborted_at,
            final_weight=self.weight,
            measurements=float(self.measurements),
            failed_measurements=float(self.failed_measurements),
            new_requests=float(n - self.base[0]),
            new_errors=float(fails - self.base[1]),
        )


def prepare_rollout(engine: Host, name: str, connections: Connections) -> RolloutController | None:
    """Give service `name` its new version and router, before any call site binds to it.

    Returns None when the service has no canary or blue-green deployment to simulate.
    """
    svc = engine.arch.spec.services[name]
    dep = svc.deployment
    if dep is None or dep.strategy == "rolling" or dep.new_version is None:
        if dep is not None and dep.strategy == "rolling" and dep.new_version is not None:
            engine.notes.append(f"{name}: rolling updates are not simulated; newVersion is ignored")
        return None
    stable = engine.services[name]
    version = dep.new_version
    label = f"{name}@{version.version}"
    streams = engine.streams
    new = service_runtime(label, engine.kernel, svc, 0, streams.get(f"lb:{label}").random)
    meters: list[Meter] = []
    for ep_name, ep in svc.endpoints.items():
        ref = f"{label}.{ep_name}"
        base = streams.sampler(ep.work, f"work:{ref}")
        work = base if version.work_scale == 1.0 else Scaled(base, version.work_scale)
        rate = version.error_rate if version.error_rate is not None else ep.error_rate
        new.endpoints[ep_name] = VersionEndpoint(
            new, ep_name, work, rate, streams.get(f"error:{ref}").random, engine.causes, meters
        )
    router = VersionRouter(stable, new, streams.get(f"route:{name}").random)
    stable.arrive_ = router.arrive
    startup = (
        streams.sampler(svc.startup_time, f"startup:{label}")
        if svc.startup_time is not None
        else None
    )
    mesh = engine.arch.spec.mesh is not None and engine.arch.spec.mesh.enabled
    return RolloutController(
        name, engine.kernel, svc, stable, new, router, startup, meters, mesh, connections
    )


def share_steps(ctl: RolloutController) -> None:
    """The new version runs the same compiled steps (they keep their state on the call)."""
    for ep_name, ep in ctl.new.endpoints.items():
        ep.set_steps(ctl.stable.endpoints[ep_name].steps)
