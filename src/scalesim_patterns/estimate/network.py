"""The architecture as a queueing network, solved for its steady state.

Stations, as the simulator has them (docs/simulation.md):

- each **service replica** is a c-server FIFO station (c = `workers`); the balancer splits an
  endpoint's rate evenly over `replicas`; round robin of a Poisson stream gives each replica
  Erlang-r gaps, so the arrival variability is ca² = 1/r (random balancing keeps ca² = 1);
- a worker is held for the endpoint's `work` and, in `thread` mode, for every step as well
  (a thread blocked on I/O); in `async` mode for the work only;
- each **connection pool** (a database at one replica of a service that queries it) is a
  `pool`-server station whose service time is the operation's latency;
- the **gateway** is a `replicas` × `workers` station whose work is its overhead plus auth;
- hops, sidecars, broker acknowledgements and event-store appends are pure delays.

A station's mean wait is Allen–Cunneen's GI/G/c formula on its arrival rate and the first two
moments of its holding time. Holding times depend on the waits below them (thread mode), and
waits on holding times, so the solver iterates to the fixed point (the layered-queueing
"method of surrogates"). Closed populations (users with think time) are solved by Schweitzer's
approximate mean value analysis on the same stations: a closed customer arriving at a
station finds (N−1)/N of the closed queue there, stretched by the open traffic's utilisation,
and the population's throughput follows the response-time law X = N / (Z + R).

Tenants (sources that send as a `consumer`) are followed one source at a time: a route's
`byConsumer` match sends its consumer's requests to their own target; a `scheduling: priority`
station gives each class its own wait (Cobham's non-preemptive priority formula on the
station's FIFO wait, docs/estimate.md); a per-tenant thread-pool bulkhead refuses the share a
flow-equivalent server gives (the pool as a birth–death chain whose completion rate is the
tenant's throughput at the callee with that many calls there), and refused calls do not reach
the target.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from scalesim_patterns.model.architecture import Architecture
from scalesim_patterns.model.counts import count_mean
from scalesim_patterns.model.data import SagaStep as SagaDefStep
from scalesim_patterns.model.distributions import Constant, LogNormal
from scalesim_patterns.model.edge import Route
from scalesim_patterns.model.resilience import ThreadPoolBulkhead
from scalesim_patterns.model.series import SeriesArrival
from scalesim_patterns.model.steps import (
    AppendStep,
    CacheStep,
    CallStep,
    ChoiceStep,
    GroupStep,
    ParallelStep,
    PublishStep,
    QueryStep,
    SagaStep,
)
from scalesim_patterns.model.traffic import (
    Arrival,
    ClosedLoop,
    ConstantArrival,
    DiurnalArrival,
    OpenLoop,
    PoissonArrival,
    RampArrival,
    SpikeArrival,
    StepArrival,
    TrafficOverride,
)

from .queues import (
    MAX_POOL_POPULATION,
    fork_join_max,
    mgc_wait,
    pool_state,
    pool_throughputs,
    priority_waits,
)

__all__ = ["DEFAULT_HOP", "EstimateError", "Network", "Solution", "StationState", "steady_rate"]

DEFAULT_HOP = 0.00025
"""One-way hop when the file gives none: the simulator's default (sim/engine.py)."""
DEFAULT_AUTH = 0.0002
DEFAULT_GATEWAY = LogNormal(p50=0.001, p99=0.004)
DEFAULT_SIDECAR = LogNormal(p50=0.0004, p99=0.0014)
DEFAULT_STORE = {"read": LogNormal(p50=0.002, p99=0.015), "write": LogNormal(p50=0.003, p99=0.020)}
"""EventStoreDB's figures (model/data.py ENGINE_DEFAULTS), the simulator's event-store default."""
GATEWAY = "@gateway"
MAX_ITERATIONS = 200
EXACT_POPULATION = 64
"""Closed populations up to this size get the exact MVA recursion over the population."""
TOLERANCE = 1e-10

Kind = Literal["service", "gateway", "pool"]


class EstimateError(ValueError):
    """The file cannot be estimated (an unknown scenario, a route without a gateway)."""


def steady_rate(arrival: Arrival) -> float:
    """The rate a time-varying process settles at: a ramp's end, a step's last rate, a spike's
    base, a cycle's mean (a diurnal curve, a periodic series), a series' last rate (the estimate is of a steady state, not of a transient)."""
    if isinstance(arrival, PoissonArrival | ConstantArrival):
        return float(arrival.rate)
    if isinstance(arrival, RampArrival):
        return float(arrival.to)
    if isinstance(arrival, StepArrival):
        return float(arrival.steps[-1].rate)
    if isinstance(arrival, SpikeArrival):
        return float(arrival.base)
    if isinstance(arrival, SeriesArrival):
        points = arrival.series()
        if arrival.period is None:
            return float(points[-1][1])  # after the last point the last rate holds
        rate, period = arrival.rate_function(), float(arrival.period)
        samples = 10_000  # the cycle's mean, by the midpoint rule
        return sum(rate((i + 0.5) * period / samples) for i in range(samples)) / samples
    assert isinstance(arrival, DiurnalArrival)
    return float(arrival.mean)


@dataclass
class _Step:
    """One step reduced to what the estimate needs: a sequence of sync visits and delays."""

    probability: float
    repeat: float
    """Mean times the step runs (a count distribution's mean)."""
    calls: list[str] = field(default_factory=list)
    """`service.endpoint` called in sequence (saga actions) or together (`parallel`)."""
    parallel: bool = False
    delay: float = 0.0
    """Pure delay (broker ack, append latency), independent of load."""
    pool: tuple[str, str] | None = None
    """(service, database) whose pool the step waits on, `pool_visits` times."""
    pool_visits: float = 0.0
    pool_latency: float = 0.0
    pool_scv: float = 1.0


@dataclass
class _Endpoint:
    ref: str
    service: str
    work: float
    work_var: float
    error: float
    thread: bool
    steps: list[_Step]


@dataclass
class StationState:
    """A station's steady state: per replica figures, `replicas` of them."""

    kind: Kind
    name: str
    replicas: int
    servers: int
    arrival_rate: float = 0.0
    """Per replica."""
    holding: float = 0.0
    """Mean time a call holds one server."""
    holding_scv: float = 1.0
    ca2: float = 1.0
    wait: float = 0.0
    """Mean wait in queue per visit (all classes; under priority scheduling their mean)."""
    open_rate: float = 0.0
    priority: bool = False
    """`scheduling: priority`: waits differ by class (`class_wait`)."""
    class_wait: dict[int, float] = field(default_factory=dict)
    """Under priority scheduling: mean wait per visit of each class (by priority value)."""

    @property
    def utilisation(self) -> float:
        return self.arrival_rate * self.holding / self.servers if self.servers else 0.0

    @property
    def saturated(self) -> bool:
        return not self.utilisation < 1.0

    @property
    def queue(self) -> float:
        """Mean calls waiting per replica (Little's law)."""
        return self.arrival_rate * self.wait if math.isfinite(self.wait) else math.inf


@dataclass(frozen=True)
class _Source:
    name: str
    closed: bool
    rate: float
    users: int
    think: float
    mix: list[tuple[str, float]]
    """(entry name, share)."""
    consumer: str | None = None
    priority: int = 0
    """Its consumer's priority (0 without one), the class a priority queue serves it in."""


@dataclass(frozen=True)
class _TenantPool:
    """A per-tenant thread-pool bulkhead on `caller`'s calls to `target`: one pool of
    `threads` threads and `capacity` − `threads` waiting places per caller replica and tenant."""

    caller: str
    target: str
    threads: int
    capacity: int


@dataclass
class Solution:
    """Everything the solver found, before it is reported."""

    stations: dict[tuple[Kind, str], StationState]
    endpoint_rate: dict[str, float]
    endpoint_response: dict[str, float]
    entry_rate: dict[str, float]
    entry_response: dict[str, float]
    entry_failure: dict[str, float]
    source_rate: dict[str, float]
    iterations: int
    source_response: dict[str, float] = field(default_factory=dict)
    """Mean response of a source's requests (its consumer's class and routes)."""
    source_failure: dict[str, float] = field(default_factory=dict)
    """Share of a source's requests that fail (errors, a tenant's bulkhead full)."""


class Network:
    """The stations and flows of one architecture (under one scenario), built once and solved
    for any load multiplier; built in O(endpoints + steps), solved in a few sweeps of them."""

    def __init__(self, arch: Architecture, scenario: str | None = None) -> None:
        spec = arch.spec
        if scenario is not None and scenario not in spec.scenarios:
            known = ", ".join(sorted(spec.scenarios)) or "none defined"
            raise EstimateError(f"no scenario '{scenario}' (scenarios: {known})")
        self.arch = arch
        overrides: dict[str, TrafficOverride] = (
            dict(spec.scenarios[scenario].traffic) if scenario is not None else {}
        )
        hop = spec.network.hop_latency
        self.hop = hop.mean() if hop is not None else DEFAULT_HOP
        mesh = spec.mesh if spec.mesh is not None and spec.mesh.enabled else None
        sidecar = (mesh.sidecar_overhead or DEFAULT_SIDECAR).mean() if mesh is not None else 0.0
        self.call_delay = 2 * self.hop + 2 * sidecar
        self.gateway_delay = 2 * self.hop + sidecar
        self.endpoints: dict[str, _Endpoint] = {}
        for sname, svc in spec.services.items():
            for ename, ep in svc.endpoints.items():
                ref = f"{sname}.{ename}"
                mean = ep.work.mean()
                self.endpoints[ref] = _Endpoint(
                    ref,
                    sname,
                    mean,
                    ep.work.scv() * mean**2,
                    ep.error_rate,
                    svc.concurrency == "thread",
                    [s for step in ep.steps for s in self._steps(sname, step)],
                )
        self.async_edges = self._async_edges()
        self.order = self._order()
        self.routes: dict[str, tuple[float, list[tuple[str, float]]]] = {}
        self.route_second: dict[str, float] = {}
        self.route_matches: dict[str, list[tuple[frozenset[str], list[tuple[str, float]]]]] = {}
        """A route's `byConsumer` matches, tried in order before its own targets."""
        self.priorities = _consumer_priorities(arch)
        self.sources = [self._source(n, s, overrides.get(n)) for n, s in spec.traffic.items()]
        self.pools = self._tenant_pools()
        """Per-tenant thread-pool bulkheads, by (caller service, target service)."""
        self.visits = {src.name: self._visits(src) for src in self.sources}
        levels = {src.priority for src in self.sources}
        self.prioritised = len(levels) > 1 and any(
            svc.scheduling == "priority" for svc in spec.services.values()
        )
        """Some queue serves by priority and the traffic carries more than one class."""
        self.classes = sorted(levels, reverse=True)
        self.by_consumer = (
            self.prioritised
            or bool(self.pools)
            or any(
                self._targets(e, src.consumer) != self._targets(e)
                for src in self.sources
                for e, _ in src.mix
            )
        )
        """Sources differ by consumer: responses and failures are solved per source."""

    # -- building -------------------------------------------------------------------------

    def _steps(self, service: str, step: object) -> list[_Step]:
        spec = self.arch.spec
        if isinstance(step, CallStep):
            return [_Step(step.probability, count_mean(step.repeat), [step.call])]
        if isinstance(step, ParallelStep):
            calls = [
                c.call for c in step.parallel for _ in range(max(1, round(count_mean(c.repeat))))
            ]
            return [_Step(step.probability, 1, calls, parallel=True)]
        if isinstance(step, ChoiceStep):
            return [
                _Step(share, count_mean(option.repeat), [option.call])
                for option, share in zip(step.choice, step.shares(), strict=True)
                if option.call is not None
            ]
        if isinstance(step, GroupStep):
            # the group's steps, each run the group's mean count of times
            inner = [x for s in step.steps for x in self._steps(service, s)]
            times = count_mean(step.repeat)
            for x in inner:
                x.probability *= step.probability
                x.repeat *= times
            return inner
        if isinstance(step, CacheStep):
            cache = spec.caches.get(step.cache)
            if cache is None:
                return []
            miss = 1.0 - cache.expected_hit_ratio()
            out = [_Step(step.probability, 1, delay=cache.latency_of().mean())]
            for s in step.miss:
                for x in self._steps(service, s):
                    x.probability *= step.probability * miss
                    out.append(x)
            return out
        if isinstance(step, QueryStep):
            db = spec.databases.get(step.query)
            if db is None:
                return []
            lat = db.latency_of(step.operation)
            return [
                _Step(
                    step.probability,
                    1,
                    pool=(service, step.query),
                    pool_visits=count_mean(step.repeat),
                    pool_latency=lat.mean(),
                    pool_scv=lat.scv(),
                )
            ]
        if isinstance(step, PublishStep):
            owner = self.arch.topic_owner(step.publish)
            if owner is None:
                return []
            publish, _ = spec.brokers[owner].default_latencies()
            return [_Step(step.probability, 1, delay=publish.mean())]
        if isinstance(step, AppendStep):
            store = spec.event_stores.get(step.append)
            if store is None:
                return []
            lat = store.append_latency or DEFAULT_STORE["write"]
            return [_Step(step.probability, 1, delay=lat.mean())]
        if isinstance(step, SagaStep):
            saga = spec.sagas.get(step.saga)
            if saga is None:
                return []
            if saga.mode == "orchestrated":
                # answered once the pivot has succeeded: the steps after it run on their own
                waited = _until_pivot(saga.steps)
                out = [_Step(step.probability, 1, [s.action for s in waited])]
                db = spec.databases.get(saga.state_store) if saga.state_store else None
                if db is not None and saga.state_store is not None:
                    lat = db.latency_of("write")
                    out.append(
                        _Step(
                            step.probability,
                            1,
                            pool=(service, saga.state_store),
                            pool_visits=1 + len(waited),
                            pool_latency=lat.mean(),
                            pool_scv=lat.scv(),
                        )
                    )
                return out
            broker = spec.brokers.get(saga.broker or "")
            ack = broker.default_latencies()[0].mean() if broker is not None else 0.0
            return [_Step(step.probability, 1, [saga.steps[0].action], delay=ack)]
        return []

    def _async_edges(self) -> dict[str, list[tuple[str, float]]]:
        """Work an endpoint causes without waiting for it: consumers of what it publishes (each
        group gets every message, shared among its members) and a choreographed saga's later
        steps (each reacts to the previous step's event)."""
        spec = self.arch.spec
        groups: dict[str, dict[str, list[str]]] = {}
        for broker in spec.brokers.values():
            for tname, topic in broker.topics.items():
                by_group: dict[str, list[str]] = {}
                for i, c in enumerate(topic.consumers):
                    by_group.setdefault(c.group or f"#{i}", []).append(f"{c.service}.{c.endpoint}")
                groups[tname] = by_group
        edges: dict[str, list[tuple[str, float]]] = {}
        for sname, svc in spec.services.items():
            for ename, ep in svc.endpoints.items():
                out: list[tuple[str, float]] = []
                for step in ep.steps:
                    if isinstance(step, PublishStep):
                        for members in groups.get(step.publish, {}).values():
                            out.extend((m, step.probability / len(members)) for m in members)
                    elif isinstance(step, SagaStep):
                        saga = spec.sagas.get(step.saga)
                        if saga is not None and saga.mode == "choreographed":
                            out.extend((s.action, step.probability) for s in saga.steps[1:])
                        elif saga is not None:
                            after = saga.steps[len(_until_pivot(saga.steps)) :]
                            out.extend((s.action, step.probability) for s in after)
                edges[f"{sname}.{ename}"] = [(t, m) for t, m in out if t in self.endpoints]
        return edges

    def _order(self) -> list[str]:
        """Endpoints callers first (Kahn over sync and async edges); endpoints on a cycle (an
        error the validator reports) come last, in file order."""
        indegree = dict.fromkeys(self.endpoints, 0)
        succ: dict[str, list[str]] = {ref: [] for ref in self.endpoints}
        for ref, ep in self.endpoints.items():
            targets = [c for s in ep.steps for c in s.calls] + [t for t, _ in self.async_edges[ref]]
            for t in targets:
                if t in indegree:
                    succ[ref].append(t)
                    indegree[t] += 1
        ready = [ref for ref, n in indegree.items() if n == 0]
        order: list[str] = []
        while ready:
            ref = ready.pop()
            order.append(ref)
            for t in succ[ref]:
                indegree[t] -= 1
                if indegree[t] == 0:
                    ready.append(t)
        seen = set(order)
        return order + [ref for ref in self.endpoints if ref not in seen]

    def _route(self, route: str, method: str | None) -> tuple[float, list[tuple[str, float]]]:
        gw = self.arch.spec.gateway
        if gw is None:
            raise EstimateError(f"traffic names route {route} but the file has no gateway")
        found: Route | None = None
        for r in gw.routes:
            if r.path == route and (method is None or r.methods is None or method in r.methods):
                found = r
                break
        if found is None:
            raise EstimateError(f"no gateway route {route}")
        overhead = gw.overhead or DEFAULT_GATEWAY
        work = overhead.mean()
        var = overhead.scv() * work**2
        auth = gw.auth if gw.auth is not None and gw.auth.type != "none" else None
        if auth is not None and found.auth:
            check = auth.overhead or Constant(value=DEFAULT_AUTH)
            work += check.mean()
            var += check.scv() * check.mean() ** 2
        entry = route if method is None else f"{method} {route}"
        self.route_second[entry] = var + work * work
        self.route_matches[entry] = [
            (frozenset(m.consumers), [(t, w / 100) for t, w in m.targets() if w > 0])
            for m in found.by_consumer
        ]
        return work, [(t, w / 100) for t, w in found.targets() if w > 0]

    def _source(self, name: str, src: object, override: TrafficOverride | None) -> _Source:
        mix: list[tuple[str, float]] = []
        assert isinstance(src, OpenLoop | ClosedLoop)
        # A session is taken as the mix of its steps' expected requests (their order and each
        # step's own think time are not modelled).
        requests = src.requests()
        total = sum(m.weight for m in requests)
        for m in requests:
            if m.endpoint is not None:
                entry = m.endpoint
            else:
                assert m.route is not None
                entry = f"{m.method} {m.route}" if m.method else m.route
                self.routes[entry] = self._route(m.route, m.method)
            mix.append((entry, m.weight / total))
        if isinstance(src, OpenLoop):
            arrival = override.arrival if override and override.arrival else src.arrival
            scale = override.scale if override and override.scale else 1.0
            rate = steady_rate(arrival) * scale * src.per_arrival()
            return _Source(
                name, False, rate, 0, 0.0, mix, src.consumer, self._priority(src.consumer)
            )
        users = override.users if override and override.users is not None else src.users
        return _Source(
            name,
            True,
            0.0,
            users,
            src.think_time.mean(),
            mix,
            src.consumer,
            self._priority(src.consumer),
        )

    def _priority(self, consumer: str | None) -> int:
        return self.priorities.get(consumer, 0) if consumer is not None else 0

    def _tenant_pools(self) -> dict[tuple[str, str], _TenantPool]:
        """Thread-pool bulkheads kept per consumer (`perConsumer`), on calls the traffic makes
        as a consumer (a call without one shares a pool of its own: also one pool)."""
        out: dict[tuple[str, str], _TenantPool] = {}
        if not any(src.consumer is not None for src in self.sources):
            return out
        for sname, svc in self.arch.spec.services.items():
            for target in svc.clients:
                if target == "*" or target not in self.arch.spec.services:
                    continue
                bulkhead = svc.client_policy(target).bulkhead
                if isinstance(bulkhead, ThreadPoolBulkhead) and bulkhead.per_consumer:
                    out[(sname, target)] = _TenantPool(
                        sname,
                        target,
                        bulkhead.max_threads,
                        bulkhead.max_threads + bulkhead.queue_capacity,
                    )
        return out

    def _targets(self, entry: str, consumer: str | None = None) -> list[tuple[str, float]]:
        """Where an entry's request goes: a route's first `byConsumer` match naming the
        request's consumer (the gateway tries them in order), else the route's own targets."""
        if entry in self.routes:
            if consumer is not None:
                for names, targets in self.route_matches.get(entry, ()):
                    if consumer in names:
                        return targets
            return self.routes[entry][1]
        return [(entry, 1.0)]

    def _visits(
        self, src: _Source, passed: dict[tuple[str, str], float] | None = None
    ) -> dict[str, float]:
        """Calls at every endpoint per request of the source (sync and async alike); `passed`
        is the share of the source's calls each tenant bulkhead lets through (refused calls
        never reach the target)."""
        rate: dict[str, float] = {}
        for entry, share in src.mix:
            for target, weight in self._targets(entry, src.consumer):
                rate[target] = rate.get(target, 0.0) + share * weight
        for ref in self.order:
            r = rate.get(ref, 0.0)
            if not r:
                continue
            ep = self.endpoints[ref]
            go = r * (1.0 - ep.error)
            for s in ep.steps:
                for c in s.calls:
                    if c in self.endpoints:
                        through = 1.0
                        if passed:
                            through = passed.get((ep.service, self.endpoints[c].service), 1.0)
                        rate[c] = rate.get(c, 0.0) + go * s.probability * s.repeat * through
            for t, m in self.async_edges[ref]:
                rate[t] = rate.get(t, 0.0) + go * m
        return rate

    # -- solving --------------------------------------------------------------------------

    def _stations(self) -> dict[tuple[Kind, str], StationState]:
        spec = self.arch.spec
        out: dict[tuple[Kind, str], StationState] = {}
        for sname, svc in spec.services.items():
            ca2 = 1.0 if svc.load_balancer == "random" else 1.0 / svc.replicas
            out[("service", sname)] = StationState(
                "service",
                sname,
                svc.replicas,
                svc.workers,
                ca2=ca2,
                priority=self.prioritised and svc.scheduling == "priority",
            )
        for ep in self.endpoints.values():
            for s in ep.steps:
                if s.pool is not None and ("pool", _pool_name(s.pool)) not in out:
                    svc = spec.services[s.pool[0]]
                    db = spec.databases[s.pool[1]]
                    out[("pool", _pool_name(s.pool))] = StationState(
                        "pool", _pool_name(s.pool), svc.replicas, db.pool
                    )
        gw = spec.gateway
        if gw is not None and self.routes:
            out[("gateway", GATEWAY)] = StationState(
                "gateway", GATEWAY, gw.replicas, gw.workers, ca2=1.0 / gw.replicas
            )
        return out

    def solve(self, load: float = 1.0) -> Solution:
        """The steady state with every open rate and closed population multiplied by `load`.

        Closed populations of at most EXACT_POPULATION customers are solved by the MVA
        recursion over the population (exact for a product-form network); larger ones by
        Schweitzer's fixed point at the full population."""
        stations = self._stations()
        self.passed: dict[str, dict[tuple[str, str], float]] = {}
        self.pass_change = 0.0
        self.pass_steps: dict[tuple[str, tuple[str, str]], tuple[float, float]] = {}
        """Each accepted share's last step and the part of a step it takes."""
        self.pool_presence: dict[tuple[str, str, str | None], float] = {}
        """Each tenant pool's mean calls at its callee (all replicas), from the last step."""
        if self.pools:  # every bulkhead open to start with
            self.visits = {src.name: self._visits(src) for src in self.sources}
        open_rate = {s.name: s.rate * load for s in self.sources if not s.closed}
        users = {s.name: s.users * load for s in self.sources if s.closed}
        population = sum(users.values())
        closed_x = {s.name: 0.0 for s in self.sources if s.closed}
        iterations = 0
        if 0 < population <= EXACT_POPULATION:
            steps = max(1, round(population))
            seen: dict[tuple[Kind, str], float] = dict.fromkeys(stations, 0.0)
            for n in range(1, steps + 1):
                part = {k: v * n / steps for k, v in users.items()}
                queue, response, its = self._fixed_point(
                    stations, open_rate, part, closed_x, seen, None
                )
                seen = queue
                iterations += its
        else:
            _, response, iterations = self._fixed_point(
                stations, open_rate, users, closed_x, None, population
            )
        rates = self._rates(open_rate, closed_x)
        entry_rate: dict[str, float] = {}
        entry_response: dict[str, float] = {}
        for src in self.sources:
            x = closed_x[src.name] if src.closed else open_rate[src.name]
            for entry, share in src.mix:
                entry_rate[entry] = entry_rate.get(entry, 0.0) + x * share
                entry_response[entry] = self._entry_response(entry, response, stations)
        failure = self._failures()
        entry_failure = {e: self._entry_failure(e, failure) for e in entry_rate}
        source_response: dict[str, float] = {}
        source_failure: dict[str, float] = {}
        if any(src.consumer is not None for src in self.sources):
            by_class = self._class_responses(stations)
            weight: dict[str, float] = {}
            failed: dict[str, float] = {}
            slow: dict[str, float] = {}
            for src in self.sources:
                x = closed_x[src.name] if src.closed else open_rate[src.name]
                fail = self._failures(self.passed.get(src.name))
                resp = by_class.get(src.priority, response)
                source_response[src.name] = 0.0
                source_failure[src.name] = 0.0
                for entry, share in src.mix:
                    r = self._entry_response(entry, resp, stations, src.consumer)
                    f = sum(w * fail.get(t, 0.0) for t, w in self._targets(entry, src.consumer))
                    source_response[src.name] += share * r
                    source_failure[src.name] += share * f
                    if x * share > 0:  # (a silent source adds nothing, not 0 × inf)
                        weight[entry] = weight.get(entry, 0.0) + x * share
                        slow[entry] = slow.get(entry, 0.0) + x * share * r
                        failed[entry] = failed.get(entry, 0.0) + x * share * f
            for entry, total in weight.items():
                if total > 0 and self.by_consumer:  # else the same figures, as computed above
                    entry_response[entry] = (
                        slow[entry] / total if math.isfinite(slow[entry]) else math.inf
                    )
                    entry_failure[entry] = failed[entry] / total
        return Solution(
            stations=stations,
            endpoint_rate={ref: rates.get(ref, 0.0) for ref in self.endpoints},
            endpoint_response=response,
            entry_rate=entry_rate,
            entry_response=entry_response,
            entry_failure=entry_failure,
            source_rate={**open_rate, **closed_x},
            iterations=iterations,
            source_response=source_response,
            source_failure=source_failure,
        )

    def _class_responses(
        self, stations: dict[tuple[Kind, str], StationState]
    ) -> dict[int, dict[str, float]]:
        """Each endpoint's mean response for a request of each class (the class's own waits
        at priority stations, down its whole chain of calls); {} without priority."""
        if not self.prioritised:
            return {}
        return {cls: self._spans(stations, cls)[1] for cls in self.classes}

    def _class_rates(
        self, open_rate: dict[str, float], closed_x: dict[str, float]
    ) -> dict[int, dict[str, float]]:
        """Endpoint rates of each class's traffic alone."""
        out: dict[int, dict[str, float]] = {}
        for cls in self.classes:
            mine = {s.name for s in self.sources if s.priority == cls}
            out[cls] = self._rates(
                {k: (v if k in mine else 0.0) for k, v in open_rate.items()},
                {k: (v if k in mine else 0.0) for k, v in closed_x.items()},
            )
        return out

    def _mixed_spans(
        self,
        stations: dict[tuple[Kind, str], StationState],
        class_rates: dict[int, dict[str, float]],
    ) -> tuple[dict[str, float], dict[str, tuple[float, float]]]:
        """Responses and holding-time moments mixed over the classes by their rates at each
        endpoint: a thread blocked on a priority callee holds its worker for its class's time."""
        per = {cls: self._spans(stations, cls) for cls in self.classes}
        response: dict[str, float] = {}
        moments: dict[str, tuple[float, float]] = {}
        for ref in self.endpoints:
            total = sum(class_rates[cls].get(ref, 0.0) for cls in self.classes)
            if total <= 0:
                first = per[self.classes[-1]]
                response[ref], moments[ref] = first[1][ref], first[2][ref]
                continue
            r = m1 = m2 = 0.0
            for cls in self.classes:
                w = class_rates[cls].get(ref, 0.0) / total
                if not w:
                    continue
                _, resp, mom = per[cls]
                r += w * resp[ref]
                m1 += w * mom[ref][0]
                m2 += w * mom[ref][1]
            response[ref], moments[ref] = r, (m1, m2)
        return response, moments

    def _class_waits(
        self,
        stations: dict[tuple[Kind, str], StationState],
        class_rates: dict[int, dict[str, float]],
        moments: dict[str, tuple[float, float]],
    ) -> None:
        """Per-class waits at priority stations: Cobham's formula on the station's FIFO wait,
        each class's load its own calls times their own mean holding times."""
        busy: dict[tuple[int, str], float] = {}
        for ref, ep in self.endpoints.items():
            for cls in self.classes:
                r = class_rates[cls].get(ref, 0.0)
                if r:
                    key = (cls, ep.service)
                    busy[key] = busy.get(key, 0.0) + r * moments[ref][0]
        for (_, name), st in stations.items():
            if not st.priority:
                continue
            loads = [
                busy.get((cls, name), 0.0) / (st.replicas * st.servers) for cls in self.classes
            ]
            waits = priority_waits(st.wait, loads) if st.arrival_rate > 0 else [0.0] * len(loads)
            st.class_wait = dict(zip(self.classes, waits, strict=True))

    def _tenant_passes(
        self,
        stations: dict[tuple[Kind, str], StationState],
        open_rate: dict[str, float],
        closed_x: dict[str, float],
    ) -> dict[str, dict[tuple[str, str], float]]:
        """The share of each source's calls each per-tenant pool accepts.

        A pool thread holds a call for the hop and the callee's response, and the callee's
        response grows with the tenant's own calls there, which the pool caps; so the pool is
        taken with its callee as a flow-equivalent server (docs/estimate.md): with k threads
        busy at every caller replica, the tenant's calls cycle through the hop (plus the wait
        for the traffic ahead of them and the callee's time beyond its worker) and the callee
        replicas' servers that traffic leaves (`pool_throughputs`), shared with its peers'
        mean calls there (other tenants' pools served in the same order); the pool is a
        birth–death chain on that completion rate (`pool_state`), offered the tenant's calls
        before any refusal. Each pool's mean calls at its callee are kept for its peers' next
        step (`pool_presence`)."""
        per_class = (
            {cls: self._spans(stations, cls) for cls in self.classes}
            if self.prioritised
            else {0: self._spans(stations)}
        )
        # each source's work at each service, and per pool: [offered rate, rate × hold, rate ×
        # the time beyond the worker, accepted rate × hold]
        work: dict[tuple[str, str], float] = {}
        pooled: dict[tuple[str, str, str | None], list[float]] = {}
        for src in self.sources:
            x = closed_x[src.name] if src.closed else open_rate[src.name]
            if not x:
                continue
            spans, _, moments = per_class[src.priority if self.prioritised else 0]
            passed = self.passed.get(src.name, {})
            for ref, v in self.visits[src.name].items():
                ep = self.endpoints[ref]
                key2 = (src.name, ep.service)
                work[key2] = work.get(key2, 0.0) + x * v * moments[ref][0]
                for s in ep.steps:
                    for c in s.calls:
                        if c not in self.endpoints:
                            continue
                        key = (ep.service, self.endpoints[c].service)
                        if key not in self.pools:
                            continue
                        # offered to the pool: the caller's calls, before its refusals
                        rate = x * v * (1.0 - ep.error) * s.probability * s.repeat
                        hold = moments[c][0]
                        beyond = self.call_delay + spans[c] - hold
                        got = pooled.setdefault((*key, src.consumer), [0.0, 0.0, 0.0, 0.0])
                        got[0] += rate
                        got[1] += rate * hold
                        got[2] += rate * beyond
                        got[3] += rate * passed.get(key, 1.0) * hold
        loss: dict[tuple[str, str, str | None], float] = {}
        presence: dict[tuple[str, str, str | None], float] = {}
        for (caller, target, consumer), (rate, hold, beyond, mine_work) in pooled.items():
            if rate <= 0.0:
                continue
            pool = self.pools[(caller, target)]
            callers = self.arch.spec.services[caller].replicas
            st = stations[("service", target)]
            mine = self._priority(consumer)
            ranked = self.prioritised and st.priority
            # busy servers (all replicas) of the traffic served before the tenant's calls: a
            # priority station's higher and equal classes, a FIFO station's every call
            ahead = 0.0
            for src in self.sources:
                if not (ranked and src.priority < mine):
                    ahead += work.get((src.name, target), 0.0)
            # but not the tenant's own calls through this pool, nor its peers' (other tenants'
            # pools into the same station served in the same order as it): those share the
            # workers with its calls by the calls present, as the peers' mean calls there
            ahead -= mine_work
            present = 0.0
            for other, (_, _, _, other_work) in pooled.items():
                if other[1] != target or other == (caller, target, consumer):
                    continue
                if other[2] != consumer and (not ranked or self._priority(other[2]) == mine):
                    ahead -= other_work
                    present += self.pool_presence.get(other, 0.0)
            ahead = max(0.0, ahead)
            hold /= rate
            beyond /= rate
            free = st.servers * st.replicas - ahead
            if not free > 0.0 or not math.isfinite(free + hold + beyond):
                loss[(caller, target, consumer)] = 1.0
                continue
            wait = self._wait_ahead(st, ahead)
            offered = rate / callers
            throughputs = _pool_rates(
                pool.threads,
                callers,
                st.replicas,
                beyond + wait,
                hold,
                free / st.replicas,
                present / st.replicas,
            )
            waiting = pool.capacity - pool.threads
            refused, busy = pool_state(offered, throughputs, waiting)
            loss[(caller, target, consumer)] = refused
            # its calls at the callee, all caller replicas: busy threads less those in the delay
            there = busy - offered * (1.0 - refused) * (beyond + wait)
            presence[(caller, target, consumer)] = max(0.0, callers * there)
        self.pool_presence = presence
        return {
            src.name: {key: 1.0 - loss.get((*key, src.consumer), 0.0) for key in self.pools}
            for src in self.sources
        }

    def _wait_ahead(self, st: StationState, ahead: float) -> float:
        """The wait a lone call of the tenant finds at `st` for the work `ahead` of it (busy
        servers of the other traffic, all replicas): Allen–Cunneen on that traffic alone, and
        at a priority station the wait of the tenant's class behind it (Cobham)."""
        if ahead <= 0.0 or st.holding <= 0.0:
            return 0.0
        rate = ahead / st.holding / st.replicas
        fifo = mgc_wait(rate, st.holding, st.servers, st.ca2, max(st.holding_scv, 0.0))
        if not (self.prioritised and st.priority):
            return fifo
        # the traffic ahead is one class just above the tenant's: Cobham's lowest class
        waits = priority_waits(fifo, [ahead / (st.replicas * st.servers), 0.0])
        return waits[1]

    def _fixed_point(
        self,
        stations: dict[tuple[Kind, str], StationState],
        open_rate: dict[str, float],
        users: dict[str, float],
        closed_x: dict[str, float],
        seen: dict[tuple[Kind, str], float] | None,
        population: float | None,
    ) -> tuple[dict[tuple[Kind, str], float], dict[str, float], int]:
        """Waits, holding times and closed throughputs consistent with each other. A closed
        customer arriving at a station finds `seen` there (exact MVA: the queue at one customer
        fewer) or, with `seen` None, (N-1)/N of the current closed queue (Schweitzer)."""
        closed_q: dict[tuple[Kind, str], float] = dict.fromkeys(stations, 0.0)
        response: dict[str, float] = {}
        iterations = 0
        for iterations in range(1, MAX_ITERATIONS + 1):
            rates = self._rates(open_rate, closed_x)
            open_only = self._rates(open_rate, dict.fromkeys(closed_x, 0.0))
            class_rates = self._class_rates(open_rate, closed_x) if self.prioritised else {}
            if self.prioritised:
                response, moments = self._mixed_spans(stations, class_rates)
            else:
                _, response, moments = self._spans(stations)
            if self.pools:
                # refusals thin the flow; iterate with the waits to a common fixed point
                passed = self._tenant_passes(stations, open_rate, closed_x)
                # A full step: a tenant's refusals do not cut the load that makes them (its
                # calls are not ahead of themselves); they move with the waits and the other
                # tenants' shares, which can swing back and forth past saturation (each
                # tenant's share is what the others leave): a share whose step reverses
                # direction takes half its last step from then on.
                for name, p in passed.items():
                    old = self.passed.get(name, {})
                    for key, v in p.items():
                        was = old.get(key, 1.0)
                        step = v - was
                        last, size = self.pass_steps.get((name, key), (0.0, 1.0))
                        if step * last < 0.0:
                            size /= 2.0
                        elif step * last > 0.0:
                            size = min(1.0, size * 1.5)
                        p[key] = was + size * step
                        self.pass_steps[(name, key)] = (step, size)
                        self.pass_change = max(self.pass_change, abs(p[key] - was))
                self.passed = passed
                self.visits = {
                    src.name: self._visits(src, passed[src.name]) for src in self.sources
                }
                rates = self._rates(open_rate, closed_x)
                open_only = self._rates(open_rate, dict.fromkeys(closed_x, 0.0))
                if self.prioritised:
                    class_rates = self._class_rates(open_rate, closed_x)
            self._load(stations, rates, open_only, moments)
            change = 0.0
            for key, st in stations.items():
                if seen is not None:
                    found = seen[key]
                elif population is not None and population > 1:
                    found = closed_q[key] * (population - 1) / population
                else:
                    found = 0.0
                w = self._wait(st, found, bool(closed_x))
                if math.isfinite(w) and math.isfinite(st.wait):
                    change = max(change, abs(w - st.wait) / max(st.holding, 1e-12))
                elif math.isfinite(w) != math.isfinite(st.wait):
                    change = math.inf
                st.wait = w
            if self.prioritised:
                self._class_waits(stations, class_rates, moments)
            change = max(change, self.pass_change)
            self.pass_change = 0.0
            # Closed populations: the response-time law, and each station's closed queue.
            if closed_x:
                _, response, _ = self._spans(stations)  # Gauss-Seidel: with the new waits
            for src in self.sources:
                if not src.closed:
                    continue
                r = self._entry_mix_response(src, response, stations)
                x = users[src.name] / (src.think + r) if src.think + r > 0 else 0.0
                if abs(x - closed_x[src.name]) > 1e-12 * max(x, 1.0):
                    change = max(change, abs(x - closed_x[src.name]) / max(x, 1e-12))
                closed_x[src.name] = x
            if closed_x:
                closed_rates = self._station_rates(
                    self._rates(dict.fromkeys(open_rate, 0.0), closed_x)
                )
                for key, st in stations.items():
                    part = closed_rates.get(key, 0.0) / st.replicas
                    q = part * (st.wait + st.holding / st.servers)
                    if math.isfinite(q):
                        change = max(change, abs(q - closed_q[key]) / max(q, 1e-9))
                    closed_q[key] = q
            if iterations > 1 and change < TOLERANCE:
                break
        return closed_q, response, iterations

    def _rates(self, open_rate: dict[str, float], closed_x: dict[str, float]) -> dict[str, float]:
        out: dict[str, float] = {}
        for src in self.sources:
            x = closed_x[src.name] if src.closed else open_rate[src.name]
            if not x:
                continue
            for ref, v in self.visits[src.name].items():
                out[ref] = out.get(ref, 0.0) + x * v
            for entry, share in src.mix:
                if entry in self.routes:
                    out[f"{GATEWAY}:{entry}"] = out.get(f"{GATEWAY}:{entry}", 0.0) + x * share
        return out

    def _station_rates(self, rates: dict[str, float]) -> dict[tuple[Kind, str], float]:
        """Calls per second at every station (all replicas) for these endpoint rates."""
        out: dict[tuple[Kind, str], float] = {}
        for ref, ep in self.endpoints.items():
            r = rates.get(ref, 0.0)
            if not r:
                continue
            key: tuple[Kind, str] = ("service", ep.service)
            out[key] = out.get(key, 0.0) + r
            for s in ep.steps:
                if s.pool is not None:
                    pool: tuple[Kind, str] = ("pool", _pool_name(s.pool))
                    out[pool] = (
                        out.get(pool, 0.0) + r * (1 - ep.error) * s.probability * s.pool_visits
                    )
        for entry in self.routes:
            gw: tuple[Kind, str] = ("gateway", GATEWAY)
            out[gw] = out.get(gw, 0.0) + rates.get(f"{GATEWAY}:{entry}", 0.0)
        return out

    def _spans(
        self, stations: dict[tuple[Kind, str], StationState], cls: int | None = None
    ) -> tuple[dict[str, float], dict[str, float], dict[str, tuple[float, float]]]:
        """Each endpoint's span (work and steps), response (wait + span) and the first two
        moments of the time it holds a worker; callees before callers. `cls`: for a request
        of that priority class (its own wait at priority stations)."""
        spans: dict[str, float] = {}
        response: dict[str, float] = {}
        moments: dict[str, tuple[float, float]] = {}
        for ref in reversed(self.order):
            ep = self.endpoints[ref]
            steps_mean = 0.0
            steps_var = 0.0
            for s in ep.steps:
                # each part about exponential, the parts independent: variances add
                t = s.delay
                v = 0.0
                if s.calls:
                    times = [self.call_delay + response.get(c, 0.0) for c in s.calls]
                    if s.parallel:
                        longest = fork_join_max(times)
                        t += longest
                        v += longest * longest
                    else:
                        t += sum(times)
                        v += sum(x * x for x in times)
                if s.pool is not None:
                    pool = stations[("pool", _pool_name(s.pool))]
                    one = pool.wait + s.pool_latency
                    t += s.pool_visits * one
                    v += s.pool_visits * one * one
                t *= s.repeat
                v *= s.repeat
                steps_mean += s.probability * t
                # a step taken with probability p: E[X^2] = p (v + t^2)
                steps_var += s.probability * (v + t * t) - (s.probability * t) ** 2
            span = ep.work + (1.0 - ep.error) * steps_mean
            spans[ref] = span
            station = stations[("service", ep.service)]
            wait = station.class_wait.get(cls, station.wait) if cls is not None else station.wait
            response[ref] = wait + span
            if ep.thread:
                var = ep.work_var + (1.0 - ep.error) * steps_var
                moments[ref] = (span, var + span * span)
            else:
                moments[ref] = (ep.work, ep.work_var + ep.work * ep.work)
        return spans, response, moments

    def _load(
        self,
        stations: dict[tuple[Kind, str], StationState],
        rates: dict[str, float],
        open_only: dict[str, float],
        moments: dict[str, tuple[float, float]],
    ) -> None:
        """Arrival rates and holding-time moments of every station."""
        acc: dict[tuple[Kind, str], list[float]] = {k: [0.0, 0.0, 0.0, 0.0] for k in stations}
        for ref, ep in self.endpoints.items():
            r = rates.get(ref, 0.0)
            if not r:
                continue
            m1, m2 = moments[ref]
            a = acc[("service", ep.service)]
            a[0] += r
            a[1] += r * m1
            a[2] += r * m2
            a[3] += open_only.get(ref, 0.0)
            for s in ep.steps:
                if s.pool is None:
                    continue
                q = r * (1 - ep.error) * s.probability * s.pool_visits
                lat = s.pool_latency
                p = acc[("pool", _pool_name(s.pool))]
                p[0] += q
                p[1] += q * lat
                p[2] += q * lat * lat * (1 + s.pool_scv)
                p[3] += open_only.get(ref, 0.0) * (1 - ep.error) * s.probability * s.pool_visits
        for entry, (work, _) in self.routes.items():
            r = rates.get(f"{GATEWAY}:{entry}", 0.0)
            g = acc[("gateway", GATEWAY)]
            g[0] += r
            g[1] += r * work
            g[2] += r * self.route_second[entry]
            g[3] += open_only.get(f"{GATEWAY}:{entry}", 0.0)
        for key, st in stations.items():
            total, m1, m2, opened = acc[key]
            st.arrival_rate = total / st.replicas
            st.open_rate = opened / st.replicas
            st.holding = m1 / total if total else 0.0
            st.holding_scv = (m2 / total) / st.holding**2 - 1.0 if st.holding > 0 else 1.0

    def _wait(self, st: StationState, closed_queue: float, closed: bool) -> float:
        """Allen–Cunneen for the open traffic, plus what a closed customer finds queued."""
        if st.holding <= 0 or st.arrival_rate <= 0:
            return 0.0
        if not math.isfinite(st.holding):
            return math.inf
        open_wait = mgc_wait(st.open_rate, st.holding, st.servers, st.ca2, max(st.holding_scv, 0))
        if not closed:
            return (
                mgc_wait(st.arrival_rate, st.holding, st.servers, st.ca2, max(st.holding_scv, 0))
                if st.arrival_rate != st.open_rate
                else open_wait
            )
        if not math.isfinite(open_wait):
            return math.inf
        open_util = st.open_rate * st.holding / st.servers
        # The closed customers an arrival finds sit, by Seidmann's approximation, in a queue
        # whose server is c times as fast: each costs holding/c of waiting; the open traffic's
        # utilisation stretches that (mixed-network MVA).
        return open_wait + st.holding / st.servers * closed_queue / (1.0 - open_util)

    def _entry_response(
        self,
        entry: str,
        response: dict[str, float],
        stations: dict[tuple[Kind, str], StationState],
        consumer: str | None = None,
    ) -> float:
        if entry in self.routes:
            work = self.routes[entry][0]
            targets = self._targets(entry, consumer)
            gw = stations[("gateway", GATEWAY)]
            return (
                gw.wait
                + work
                + sum(w * (self.gateway_delay + response.get(t, 0.0)) for t, w in targets)
            )
        return response.get(entry, 0.0)

    def _entry_mix_response(
        self,
        src: _Source,
        response: dict[str, float],
        stations: dict[tuple[Kind, str], StationState],
    ) -> float:
        return sum(share * self._entry_response(e, response, stations) for e, share in src.mix)

    def _failures(self, passed: dict[tuple[str, str], float] | None = None) -> dict[str, float]:
        """Probability that a call to each endpoint fails (its own errors and its callees',
        and with `passed` a tenant bulkhead refusing the call)."""
        fail: dict[str, float] = {}
        for ref in reversed(self.order):
            ep = self.endpoints[ref]
            ok = 1.0 - ep.error
            for s in ep.steps:
                for c in s.calls:
                    through = 1.0
                    if passed and c in self.endpoints:
                        through = passed.get((ep.service, self.endpoints[c].service), 1.0)
                    good = through * (1.0 - fail.get(c, 0.0))
                    ok *= 1.0 - s.probability * (1.0 - good**s.repeat)
            fail[ref] = 1.0 - ok
        return fail

    def _entry_failure(self, entry: str, fail: dict[str, float]) -> float:
        return sum(w * fail.get(t, 0.0) for t, w in self._targets(entry))


def _consumer_priorities(arch: Architecture) -> dict[str, int]:
    """Each consumer's priority as the simulator reads it: a gateway consumer's own, else the
    `priority` of the traffic sources sending as it (validation makes them agree)."""
    out: dict[str, int] = {}
    for src in arch.spec.traffic.values():
        if src.consumer is not None and src.priority is not None:
            out[src.consumer] = src.priority
    if arch.spec.gateway is not None:
        for name, consumer in arch.spec.gateway.consumers.items():
            out[name] = consumer.priority
    return out


def _until_pivot(steps: list[SagaDefStep]) -> list[SagaDefStep]:
    """An orchestrated saga's steps its caller waits for: up to the pivot, or all of them."""
    for i, step in enumerate(steps):
        if step.pivot:
            return steps[: i + 1]
    return steps


def _pool_name(pool: tuple[str, str]) -> str:
    return f"{pool[1]}@{pool[0]}"


def _pool_rates(
    threads: int,
    callers: int,
    replicas: int,
    delay: float,
    service: float,
    servers: float,
    present: float,
) -> list[float]:
    """A per-tenant pool's completion rate with k = 0..`threads` threads busy: every one of
    `callers` caller replicas alike (k each), their calls spread at random over the callee's
    `replicas`, `servers` of each left to them, shared with `present` peer calls at each.
    Beyond MAX_POOL_POPULATION calls in all, one caller replica's calls on its share of the
    servers (and peers) of all replicas taken together; beyond that many threads, k calls
    each taking delay + service up to that share's capacity (less the peers' part of it)."""
    if threads * callers <= MAX_POOL_POPULATION:
        joint = pool_throughputs(threads * callers, delay, service, servers, replicas, present)
        return [joint[k * callers] / callers for k in range(threads + 1)]
    share = servers * replicas / callers
    peers = present * replicas / callers
    if threads <= MAX_POOL_POPULATION:
        return pool_throughputs(threads, delay, service, share, 1, peers)
    top = share / service * threads / (threads + peers) if service > 0.0 else math.inf
    each = 1.0 / (delay + service) if delay + service > 0.0 else math.inf
    return [min(k * each, top) if k else 0.0 for k in range(threads + 1)]
