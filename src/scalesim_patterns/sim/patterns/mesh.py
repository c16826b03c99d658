"""The caller's sidecar (Istio/Envoy): host choice, retries, route timeout, connection-pool
limits and outlier detection, beneath the application's own policies.

For a service-to-service call with the mesh on, this transport layer replaces the plain network
hop: the sidecar picks the host itself (the target's balancing policy over its ready endpoints,
minus ejected hosts, avoiding hosts already tried), checks the connection pool, sends the try
over the hop, and on a retriable failure backs off (fully jittered) and tries again, preferring
another host. Istio's defaults apply: 2 retries on connect-failure, refused-stream, unavailable,
cancelled and retriable status 503; no route timeout; unlimited connection pool; no outlier
detection unless configured. Per-destination overrides (`mesh.services`) replace the mesh-wide
field as a more specific DestinationRule/VirtualService does.

What is per what, as in Envoy: the connection pool is counted per caller replica (each sidecar
has its own limits); outlier detection is kept per calling service — the observations of all
its sidecars pooled (Envoy keeps one detector per sidecar; docs/resilience.md says what that
changes).

Failures the sidecar makes itself map onto the engine's causes: connection refused and resets
→ `unavailable`, per-try and route timeouts → `timeout`, pool overflow → `rejected` (counted as
`overflow`), nothing to send to → `unavailable` (counted as `no_healthy_upstream`).
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any, Final

from scalesim_patterns.model.edge import ConnectionPool, Mesh, OutlierDetection
from scalesim_patterns.model.resilience import EnvoyRetry
from scalesim_patterns.sim.core.causes import (
    BULKHEAD_FULL,
    CIRCUIT_OPEN,
    ERROR,
    OK,
    RATE_LIMITED,
    REJECTED,
    TIMEOUT,
    UNAVAILABLE,
)
from scalesim_patterns.sim.core.kernel import FunctionHandler, Kernel
from scalesim_patterns.sim.core.rng import Sampler
from scalesim_patterns.sim.mechanisms.outlier import (
    DISPATCH,
    OVERFLOW,
    QUEUE,
    ConnectionPoolLimits,
    OutlierDetector,
)
from scalesim_patterns.sim.mechanisms.retry import EnvoyRetryPolicy, envoy_retries_cause
from scalesim_patterns.sim.network.balancing import OwnRequests, caller_replica, two_choices
from scalesim_patterns.sim.network.pipeline import CallSite, Invoke
from scalesim_patterns.sim.network.station import (
    ABANDONED,
    ANSWERED,
    LOST,
    PENDING,
    Call,
    Replica,
    ServiceRuntime,
)
from scalesim_patterns.sim.patterns.workflow_state import under_rollout
from scalesim_patterns.sim.platform.faults import Partition, partition_between
from scalesim_patterns.sim.platform.lifecycle import Fleet, Refusing, fleets
from scalesim_patterns.sim.reports.telemetry import ClientStats, add_section, client_stats

__all__ = ["HTTP_STATUS", "MeshOutliers", "MeshPools", "SidecarRequests", "mesh_layer"]

HTTP_STATUS: Final = {
    ERROR: 500,
    TIMEOUT: 504,
    REJECTED: 503,
    UNAVAILABLE: 503,
    CIRCUIT_OPEN: 503,
    BULKHEAD_FULL: 503,
    RATE_LIMITED: 429,
}
"""The status an application answers for each cause, as the caller's sidecar sees it."""

# Why the sidecar itself failed a try (None: the upstream answered).
_CONNECT: Final = 1
_TIMEOUT: Final = 2
_RESET: Final = 3


def _retries_response(policy: EnvoyRetryPolicy, code: int) -> bool:
    """Whether Envoy retries an upstream response with this status (`retry_on` conditions)."""
    on = policy.retry_on
    if code >= 500 and "5xx" in on:
        return True
    if code in (502, 503, 504) and "gateway-error" in on:
        return True
    return "retriable-status-codes" in on and code in policy.retriable_status_codes


def _retries_local(policy: EnvoyRetryPolicy, why: int) -> bool:
    if why == _CONNECT:
        return envoy_retries_cause("unavailable", policy.retry_on, policy.retriable_status_codes)
    if why == _TIMEOUT:
        return envoy_retries_cause("timeout", policy.retry_on, policy.retriable_status_codes)
    return bool(policy.retry_on & {"reset", "5xx"})


class _Outliers:
    """One outlier detector for (calling service, target), over the target's pods."""

    def __init__(
        self,
        engine: Any,
        spec: OutlierDetection,
        target: ServiceRuntime,
        fleet: Fleet | None,
        stats: ClientStats,
    ) -> None:
        self.detector = OutlierDetector(
            0,
            consecutive_5xx_errors=spec.consecutive_5xx_errors,
            interval=spec.interval,
            base_ejection_time=spec.base_ejection_time,
            max_ejection_percent=spec.max_ejection_percent,
            min_health_percent=spec.min_health_percent,
        )
        self.target = target
        self.fleet = fleet
        self.stats = stats
        self.index: dict[Any, int] = {}
        self.labels: list[str] = []
        self.kernel: Kernel = engine.kernel
        self.reconcile()
        if fleet is not None:
            fleet.listeners.append(self.reconcile)
        engine.every(spec.interval, self.detector.sweep)

    def key(self, rep: Replica) -> Any:
        """Envoy's host is the pod (its address), which outlives container restarts."""
        if self.fleet is not None:
            pod = self.fleet.pod_of(rep)
            if pod is not None:
                return pod
        return rep

    def host(self, rep: Replica) -> int:
        k = self.key(rep)
        i = self.index.get(k)
        if i is None:
            i = self.index[k] = self.detector.add_host()
            label = (
                f"{self.target.name}#{k.id}"
                if self.fleet is not None and not isinstance(k, Replica)
                else f"{self.target.name}#{rep.index}"
            )
            self.labels.append(label)
        return i

    def reconcile(self) -> None:
        """Endpoints that left the balancer leave the pool; new ones join (EDS update)."""
        present = {self.key(r) for r in self.target.routable}
        for k in [k for k in self.index if k not in present]:
            self.detector.remove_host(self.index.pop(k))
        for r in self.target.routable:
            self.host(r)

    def result(self, rep: Replica, is_error: bool) -> None:
        if self.detector.on_result(self.host(rep), self.kernel.now, is_error):
            self.stats.ejections += 1

    def ejected(self, rep: Replica) -> bool:
        i = self.index.get(self.key(rep))
        return i is not None and self.detector.is_ejected(i)


class _Pool:
    """A caller replica's connection pool towards the target (one sidecar's cluster)."""

    __slots__ = ("active", "pending")

    def __init__(self) -> None:
        self.active = 0
        self.pending: deque[_Exchange] = deque()


class MeshPools(dict[tuple[str, str, object], _Pool]):
    """Plug-in state: each sidecar's connection pool, by (caller, target, caller replica)."""


class SidecarRequests(dict[tuple[str, str, Replica | None], OwnRequests]):
    """Plug-in state: each sidecar's own active requests per host of a target, by (caller,
    target, caller replica), for least-request balancing as Envoy counts them."""


class MeshOutliers(dict[tuple[str, str], _Outliers]):
    """Plug-in state: the outlier detector of each (calling service, target)."""


class _Exchange:
    """One call through the sidecar: its tries, hosts tried, and deadline."""

    __slots__ = (
        "counted",
        "deadline_hit",
        "host",
        "in_pool",
        "local",
        "origin",
        "own",
        "pool",
        "sidecar",
        "tried",
        "tries",
        "try_call",
    )

    def __init__(self, sidecar: _Sidecar, origin: Call, pool: _Pool | None) -> None:
        self.sidecar = sidecar
        self.origin = origin
        self.pool = pool
        self.tries = 0
        self.tried: list[Any] = []
        self.host: Replica | None = None
        self.try_call: Call | None = None
        self.in_pool = False
        self.local = 0
        self.deadline_hit = False
        self.own: OwnRequests | None = None
        """The sidecar's own requests per host (least-request balancing only)."""
        self.counted = False


class _Sidecar:
    """The compiled sidecar behaviour of one call site."""

    def __init__(
        self,
        site: CallSite,
        mesh: Mesh,
        retry: EnvoyRetry | None,
        timeout: float | None,
        pool: ConnectionPool | None,
        outliers: OutlierDetection | None,
        partition: Partition | None,
    ) -> None:
        engine = site.engine
        self.engine = engine
        self.kernel: Kernel = engine.kernel
        self.target = site.service
        self.endpoint = site.endpoint
        self.stats = client_stats(engine, site.caller, site.target_service)
        self.retry = (
            EnvoyRetryPolicy(
                num_retries=retry.attempts,
                retry_on=retry.retry_on,
                base_interval=retry.base_interval,
                max_interval=retry.max_interval,
                per_try_timeout=retry.per_try_timeout,
            )
            if retry is not None
            else None
        )
        self.per_try = retry.per_try_timeout if retry is not None else None
        self.timeout = timeout
        self.limits = (
            ConnectionPoolLimits(
                max_connections=pool.max_connections,
                max_pending=pool.http1_max_pending_requests,
                max_requests=pool.http2_max_requests,
            )
            if pool is not None
            else None
        )
        # One pool per (caller replica, target): every call site of the caller towards the
        # target goes through the same sidecar cluster.
        pools = engine.plugins.get(MeshPools)
        if pools is None:
            pools = engine.plugins.add(MeshPools())
        self.pools: MeshPools = pools
        self.requests = engine.plugins.obtain(SidecarRequests)
        self.partition = partition
        self.outlier_spec = outliers
        self.caller = site.caller
        self.fleet: Fleet | None = None
        self.outliers: _Outliers | None = None
        self.bound = False
        self.lb = self.target.lb
        self.rr = 0
        self.rnd = site.stream("mesh-lb").random
        self.retry_rnd = site.stream("mesh-retry").random
        legs = site.legs
        self.leg_there: Sampler | None = legs[0] if legs is not None else None
        self.leg_back: Sampler | None = legs[1] if legs is not None else None
        self.arrive_ = self.arrive
        self.deliver_ = self.deliver
        self.go_back_ = self.go_back
        self.try_expired_ = self.try_expired
        self.reply_ = FunctionHandler(self.reply)
        self.deadline_ = self.deadline
        self.retry_now_ = self.start_try

    # -- the call ---------------------------------------------------------------------------

    def bind(self) -> None:
        """Finish building once installers have run (the target's fleet exists by then)."""
        self.bound = True
        engine = self.engine
        self.fleet = fleets(engine).get(self.target.name)
        if self.outlier_spec is not None:
            table = engine.plugins.get(MeshOutliers)
            if table is None:
                table = engine.plugins.add(MeshOutliers())
                _register_outlier_reporting(engine, table)
            key = (self.caller, self.target.name)
            found = table.get(key)
            if found is None:
                found = table[key] = _Outliers(
                    engine, self.outlier_spec, self.target, self.fleet, self.stats
                )
            self.outliers = found

    def invoke(self, o: Call) -> None:
        if not self.bound:
            self.bind()
        self.stats.mesh_calls += 1
        pool = None
        if self.limits is not None:
            key = (self.caller, self.target.name, caller_replica(o))
            pool = self.pools.get(key)
            if pool is None:
                pool = self.pools[key] = _Pool()
        ex = _Exchange(self, o, pool)
        if self.lb == "least-request":
            key = (self.caller, self.target.name, caller_replica(o))
            own = self.requests.get(key)
            if own is None:
                own = self.requests[key] = OwnRequests()
            ex.own = own
        if self.timeout is not None:
            self.kernel.schedule(self.timeout, self.deadline_, ex)
        self.start_try(ex)

    def pick(self, ex: _Exchange) -> Replica | None:
        hosts = self.target.routable
        od = self.outliers
        if od is not None:
            healthy = [r for r in hosts if not od.ejected(r)]
            if healthy or not od.detector.in_panic():
                hosts = healthy
        n = len(hosts)
        if n == 0:
            return None
        choice = hosts[0]
        for _ in range(6):  # the first pick plus Istio's 5 host-selection retries
            if n == 1:
                choice = hosts[0]
            elif self.lb == "round-robin":
                choice = hosts[self.rr % n]
                self.rr += 1
            elif self.lb == "random":
                choice = hosts[int(self.rnd() * n)]
            else:
                assert ex.own is not None
                choice = two_choices(hosts, n, self.rnd, ex.own)
            if n == 1 or not ex.tried or self._key(choice) not in ex.tried:
                break
        return choice

    def _key(self, rep: Replica) -> Any:
        if self.fleet is not None:
            pod = self.fleet.pod_of(rep)
            if pod is not None:
                return pod
        return rep

    def start_try(self, ex: _Exchange) -> None:
        if ex.origin.state != PENDING:
            return
        ex.tries += 1
        self.stats.mesh_attempts += 1
        pool = ex.pool
        if pool is not None:
            assert self.limits is not None
            decision = self.limits.admit(pool.active, len(pool.pending))
            if decision == OVERFLOW:
                self.stats.overflow += 1
                self.answer(ex, REJECTED)
                return
            if decision == QUEUE:
                pool.pending.append(ex)
                return
            assert decision == DISPATCH
            pool.active += 1
            ex.in_pool = True
        self.dispatch(ex)

    def dispatch(self, ex: _Exchange) -> None:
        host = self.pick(ex)
        if host is None:
            self.release(ex)
            self.stats.no_healthy_upstream += 1
            self.answer(ex, UNAVAILABLE)
            return
        ex.host = host
        if ex.own is not None:
            ex.own.started(host)
            ex.counted = True
        ex.tried.append(self._key(host))
        ex.local = 0
        t = Call(self.endpoint, self.reply_, ex, self.kernel.now)
        t.replica = host  # the host this try goes to (accept sets the same)
        ex.try_call = t
        if self.per_try is not None:
            self.kernel.schedule(self.per_try, self.try_expired_, t)
        if self.partition is not None and self.partition.active:
            ex.local = _CONNECT
            self.fail_try(t)
            return
        if self.leg_there is None:
            self.arrive(t)
        else:
            t.back = self.go_back_
            self.kernel.schedule(self.leg_there.draw(), self.arrive_, t)

    def arrive(self, t: Call) -> None:
        host = t.replica
        if t.state == ANSWERED:
            return
        if isinstance(host, Refusing) or host.removed != math.inf or not self.serves(host):
            ex: _Exchange = t.parent
            if ex.try_call is t:
                ex.local = _CONNECT
            st = self.endpoint.stats
            st.n += 1
            st.fails[UNAVAILABLE] += 1
            self.fail_try(t)
            return
        host.accept(t)

    def serves(self, host: Replica) -> bool:
        """Whether the pod of a host chosen before the try left can still take it (an outage
        may have broken it meanwhile)."""
        fleet = self.fleet
        if fleet is None:
            return True
        pod = fleet.pod_of(host)
        return pod is None or fleet.serving(pod)

    def fail_try(self, t: Call) -> None:
        """A connection failure made by the network or the sidecar: the answer comes back over
        the hop when there is one."""
        if t.state != PENDING:
            return
        t.status = UNAVAILABLE
        if self.leg_back is None:
            t.state = ANSWERED
            self.reply(t)
        else:
            self.go_back(t)

    def go_back(self, t: Call) -> None:
        assert self.leg_back is not None
        self.kernel.schedule(self.leg_back.draw(), self.deliver_, t)

    def deliver(self, t: Call) -> None:
        if t.state == PENDING:
            t.state = ANSWERED
            self.reply(t)

    def try_expired(self, t: Call) -> None:
        if t.state == PENDING:
            ex: _Exchange = t.parent
            t.state = ABANDONED
            t.status = TIMEOUT
            if ex.try_call is t:
                ex.local = _TIMEOUT
            self.reply(t)

    def deadline(self, ex: _Exchange) -> None:
        """The route timeout: the whole call, retries included, answers 504."""
        if ex.origin.state != PENDING:
            return
        ex.deadline_hit = True
        t = ex.try_call
        if t is not None and t.state == PENDING:
            t.state = ABANDONED
        self.host_done(ex)
        if ex in (ex.pool.pending if ex.pool is not None else ()):
            assert ex.pool is not None
            ex.pool.pending.remove(ex)
        self.release(ex)
        self.answer(ex, TIMEOUT)

    def host_done(self, ex: _Exchange) -> None:
        """The try's request is over for the sidecar: it stops counting on its host."""
        if ex.counted:
            ex.counted = False
            assert ex.own is not None and ex.host is not None
            ex.own.ended(ex.host)

    def release(self, ex: _Exchange) -> None:
        """The try's request is over for the sidecar: free its pool slot."""
        pool = ex.pool
        if pool is None or not ex.in_pool:
            return
        ex.in_pool = False
        pool.active -= 1
        while pool.pending:
            waiting = pool.pending.popleft()
            if waiting.origin.state == PENDING:
                pool.active += 1
                waiting.in_pool = True
                waiting.sidecar.dispatch(waiting)  # maybe another site of the same caller
                break

    def reply(self, t: Call) -> None:
        ex: _Exchange = t.parent
        if ex.try_call is not t or ex.deadline_hit:
            return  # an abandoned try's late answer
        ex.try_call = None
        self.release(ex)
        self.host_done(ex)
        status = t.status
        host = ex.host
        assert host is not None
        if isinstance(t.replica, Refusing):
            ex.local = _CONNECT
        elif t.endpoint is LOST:
            ex.local = _RESET  # the container serving the try died (Replica.kill)
        if self.outliers is not None:
            self.outliers.result(host, status != OK and status != RATE_LIMITED)
        if status == OK:
            self.answer(ex, OK)
            return
        policy = self.retry
        if policy is not None and ex.tries <= policy.num_retries:
            if ex.local:
                again = _retries_local(policy, ex.local)
            else:
                again = _retries_response(policy, HTTP_STATUS.get(status, 500))
            if again:
                self.stats.mesh_retries += 1
                wait = policy.backoff(ex.tries, self.retry_rnd())
                self.kernel.schedule(wait, self.retry_now_, ex)
                return
        self.answer(ex, status)

    def answer(self, ex: _Exchange, status: int) -> None:
        o = ex.origin
        if o.state == PENDING:
            o.status = status
            o.state = ANSWERED
            o.reply.handle(o)


def _register_outlier_reporting(engine: Any, table: MeshOutliers) -> None:
    def section() -> list[dict[str, Any]]:
        return [
            {
                "client": f"{caller}->{target}",
                "events": [[t, od.labels[int(h)], what] for t, h, what in od.detector.transitions],
            }
            for (caller, target), od in table.items()
        ]

    add_section(engine, "outliers", section)

    def window(recorder: Any) -> None:
        worst: dict[str, int] = {}
        for (_, target), od in table.items():
            worst[target] = max(worst.get(target, 0), od.detector.ejected_count)
        n = len(recorder.time)
        for target, count in worst.items():
            cols = recorder.services.get(target)
            if cols is None:
                continue
            col = cols.setdefault("ejected", [])
            while len(col) < n - 1:
                col.append(None)
            col.append(float(count))

    engine.window_hooks.append(window)


def mesh_layer(site: CallSite, nxt: Invoke) -> Invoke:
    """The transport layer (sim/extensions.py lists it) for calls made from a service's pod
    through its sidecar; other sites keep `next`."""
    spec = site.engine.arch.spec.mesh
    if spec is None or not spec.enabled or not site.mesh or site.caller.startswith("@"):
        return nxt
    if under_rollout(site.engine, site.target_service):
        # The rollout's router splits the target's traffic between versions; the sidecar's
        # own host choice would bypass it (docs/resilience.md, limits).
        return nxt
    override = spec.services.get(site.target_service)
    retry = override.retry if override is not None and override.retry is not None else spec.retry
    timeout = override.timeout if override is not None else None
    pool = (
        override.connection_pool
        if override is not None and override.connection_pool is not None
        else spec.connection_pool
    )
    outliers = (
        override.outlier_detection
        if override is not None and override.outlier_detection is not None
        else spec.outlier_detection
    )
    partition = partition_between(site.engine, site.caller, site.target_service)
    if (
        retry is None
        and timeout is None
        and pool is None
        and outliers is None
        and partition is None
    ):
        return nxt
    return _Sidecar(site, spec, retry, timeout, pool, outliers, partition).invoke
