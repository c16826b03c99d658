"""Meaning checks on a structurally valid architecture.

Each check returns (severity, path, message) with the path written the way the file nests it
(camelCase keys), so the loader can point at the line. A check never stops at the first problem.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from .architecture import Architecture
from .change_checks import check_changes
from .consumer_checks import check_consumers
from .counts import count_mean
from .data import Saga
from .diagnostics import Path, Severity
from .edge import Route
from .feedback import Graph, components, is_loop, solve_visits, terminates
from .protocol_checks import check_protocols
from .resilience import RateLimit, TokenBucketRateLimit
from .session_checks import check_sessions
from .steps import (
    AppendStep,
    CacheStep,
    CallStep,
    ChoiceStep,
    GroupStep,
    ParallelStep,
    PublishStep,
    QueryStep,
    SagaStep,
    Step,
    expand,
)
from .traffic import (
    ConstantArrival,
    EntryMix,
    OpenLoop,
    PoissonArrival,
    RampArrival,
    SeriesArrival,
    SpikeArrival,
    StepArrival,
    TrafficOverride,
)

__all__ = ["Finding", "check_architecture", "endpoint_calls"]

Finding = tuple[Severity, Path, str]
E, W = Severity.ERROR, Severity.WARNING


def _hint(name: str, known: Iterable[str]) -> str:
    import difflib  # for a name that is not known only: a valid file does without it

    known = sorted(known)
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if close:
        return f"; did you mean '{close[0]}'?"
    if known:
        shown = ", ".join(known[:12]) + (", ..." if len(known) > 12 else "")
        return f"; known: {shown}"
    return ""


class _Checker:
    def __init__(self, arch: Architecture) -> None:
        self.arch = arch
        self.spec = arch.spec
        self.out: list[Finding] = []

    def err(self, path: Path, msg: str) -> None:
        self.out.append((E, path, msg))

    def warn(self, path: Path, msg: str) -> None:
        self.out.append((W, path, msg))

    # references ------------------------------------------------------------------------------

    def endpoint_ref(self, ref: str, path: Path, what: str = "endpoint") -> bool:
        service, sep, endpoint = ref.partition(".")
        if not sep:
            self.err(path, f"'{ref}' is not a `service.endpoint` reference")
            return False
        svc = self.spec.services.get(service)
        if svc is None:
            self.err(
                path,
                f"unknown service '{service}' in {what} '{ref}'{_hint(service, self.spec.services)}",
            )
            return False
        if endpoint not in svc.endpoints:
            self.err(
                path,
                f"service '{service}' has no endpoint '{endpoint}'{_hint(endpoint, svc.endpoints)}",
            )
            return False
        return True

    def service_ref(self, name: str, path: Path) -> bool:
        if name not in self.spec.services:
            self.err(path, f"unknown service '{name}'{_hint(name, self.spec.services)}")
            return False
        return True

    def _dead_letter_ref(self, topic: str, target: str | None, path: Path) -> None:
        """A dead-letter topic is another topic of the file (on any broker)."""
        if target is None:
            return
        topics = {t for b in self.spec.brokers.values() for t in b.topics}
        if target == topic:
            self.err(path, f"topic '{topic}' cannot be its own dead-letter topic")
        elif target not in topics:
            self.err(path, f"unknown topic '{target}'{_hint(target, topics)}")

    def check_steps(self) -> None:
        topics = {t for b in self.spec.brokers.values() for t in b.topics}
        consumers = {
            t: {c.service for c in topic.consumers}
            for b in self.spec.brokers.values()
            for t, topic in b.topics.items()
        }
        patterns = set(self.arch.metadata.patterns)
        for sname, svc in self.spec.services.items():
            for cname in svc.clients:
                if cname != "*":
                    self.service_ref(cname, ("spec", "services", sname, "clients", cname))
            for ename, ep in svc.endpoints.items():
                base: Path = ("spec", "services", sname, "endpoints", ename, "steps")
                for p, step in _located(ep.steps, base):
                    if isinstance(step, CacheStep):
                        self._check_cache_step(sname, step, p)
                    elif isinstance(step, ChoiceStep):
                        for j, option in enumerate(step.choice):
                            if option.call is not None:
                                self.endpoint_ref(option.call, (*p, "choice", j, "call"), "call")
                    elif isinstance(step, CallStep):
                        self.endpoint_ref(step.call, (*p, "call"), "call")
                    elif isinstance(step, ParallelStep):
                        for j, call in enumerate(step.parallel):
                            self.endpoint_ref(call.call, (*p, "parallel", j, "call"), "call")
                    elif isinstance(step, QueryStep):
                        db = self.spec.databases.get(step.query)
                        if db is None:
                            self.err(
                                (*p, "query"),
                                f"unknown database '{step.query}'{_hint(step.query, self.spec.databases)}",
                            )
                        elif (
                            db.owner != sname
                            and sname not in db.shared_with
                            and "database-per-service" in patterns
                        ):
                            self.warn(
                                (*p, "query"),
                                f"service '{sname}' reaches database '{step.query}' owned by '{db.owner}': "
                                "database per service wants it to call the owner's API instead "
                                "(or list it under sharedWith)",
                            )
                    elif isinstance(step, PublishStep):
                        if step.publish not in topics:
                            self.err(
                                (*p, "publish"),
                                f"unknown topic '{step.publish}'{_hint(step.publish, topics)}",
                            )
                        elif sname in consumers.get(step.publish, set()):
                            self.warn(
                                (*p, "publish"),
                                f"service '{sname}' consumes topic '{step.publish}' that it "
                                "publishes to: each message it handles can publish another, a "
                                "loop that only ends by chance; consume it in another service",
                            )
                    elif isinstance(step, SagaStep):
                        if step.saga not in self.spec.sagas:
                            self.err(
                                (*p, "saga"),
                                f"unknown saga '{step.saga}'{_hint(step.saga, self.spec.sagas)}",
                            )
                    elif isinstance(step, AppendStep):
                        store = self.spec.event_stores.get(step.append)
                        if store is None:
                            self.err(
                                (*p, "append"),
                                f"unknown event store '{step.append}'{_hint(step.append, self.spec.event_stores)}",
                            )
                        elif store.owner != sname:
                            self.warn(
                                (*p, "append"),
                                f"only the owner '{store.owner}' should append to event store '{step.append}'",
                            )

    def _check_cache_step(self, sname: str, step: CacheStep, p: Path) -> None:
        cache = self.spec.caches.get(step.cache)
        if cache is None:
            self.err(
                (*p, "cache"), f"unknown cache '{step.cache}'{_hint(step.cache, self.spec.caches)}"
            )
        elif cache.owner != sname and cache.owner in self.spec.services:
            self.warn(
                (*p, "cache"),
                f"service '{sname}' looks up cache '{step.cache}' owned by '{cache.owner}': a "
                "cache-aside cache is filled by its owner's reads; share it deliberately or "
                "call the owner",
            )
        if any(isinstance(s, CacheStep) for s, _ in expand(step.miss)):
            self.err((*p, "miss"), "a cache step's `miss` cannot look up another cache")
        if not step.miss:
            self.warn(
                (*p, "miss"),
                "a cache step without `miss` steps reads nothing on a miss (add the query of "
                "its backing store)",
            )

    def check_data(self) -> None:
        """Databases, topics, event stores and sagas: references, pools and saga shape."""
        self._check_databases()
        for cname, cache in self.spec.caches.items():
            self.service_ref(cache.owner, ("spec", "caches", cname, "owner"))
        self._check_topics()
        self._check_event_stores()
        for gname, saga in self.spec.sagas.items():
            self._check_saga(gname, saga)

    def _check_databases(self) -> None:
        """Owners and sharers exist; their pools fit the server's connection limit."""
        for name, db in self.spec.databases.items():
            p: Path = ("spec", "databases", name)
            self.service_ref(db.owner, (*p, "owner"))
            for i, other in enumerate(db.shared_with):
                self.service_ref(other, (*p, "sharedWith", i))
            users = [self.spec.services.get(n) for n in [db.owner, *db.shared_with]]
            if all(u is not None for u in users):
                most = db.pool * sum(
                    (u.autoscaling.max_replicas if u.autoscaling else u.replicas)
                    for u in users
                    if u is not None
                )
                if most > db.max_connections:
                    self.warn(
                        (*p, "pool"),
                        f"{most} connections at most ({db.pool} per replica of "
                        f"{', '.join([db.owner, *db.shared_with])}) exceed maxConnections "
                        f"{db.max_connections}: new replicas will fail to connect",
                    )

    def _check_topics(self) -> None:
        """Topic names unique across brokers; consumers and dead-letter topics exist."""
        seen_topics: dict[str, str] = {}
        for bname, broker in self.spec.brokers.items():
            for tname, topic in broker.topics.items():
                tp: Path = ("spec", "brokers", bname, "topics", tname)
                if tname in seen_topics:
                    self.err(
                        tp,
                        f"topic '{tname}' is also on broker '{seen_topics[tname]}'; topic names must be unique",
                    )
                seen_topics[tname] = bname
                for i, c in enumerate(topic.consumers):
                    if self.service_ref(c.service, (*tp, "consumers", i, "service")):
                        self.endpoint_ref(
                            f"{c.service}.{c.endpoint}", (*tp, "consumers", i, "endpoint")
                        )
                self._dead_letter_ref(tname, topic.dead_letter, (*tp, "deadLetter"))

    def _check_event_stores(self) -> None:
        """Owners and projection services exist; projection names unique."""
        for sname, store in self.spec.event_stores.items():
            p = ("spec", "eventStores", sname)
            self.service_ref(store.owner, (*p, "owner"))
            names: set[str] = set()
            for i, proj in enumerate(store.projections):
                self.service_ref(proj.service, (*p, "projections", i, "service"))
                if proj.name in names:
                    self.err(
                        (*p, "projections", i, "name"), f"projection '{proj.name}' is defined twice"
                    )
                names.add(proj.name)

    def _check_saga(self, gname: str, saga: Saga) -> None:
        """References exist; compensations come before the pivot (retried after it)."""
        p = ("spec", "sagas", gname)
        if saga.orchestrator is not None:
            self.service_ref(saga.orchestrator, (*p, "orchestrator"))
        if saga.broker is not None and saga.broker not in self.spec.brokers:
            self.err(
                (*p, "broker"),
                f"unknown broker '{saga.broker}'{_hint(saga.broker, self.spec.brokers)}",
            )
        if saga.state_store is not None:
            store_db = self.spec.databases.get(saga.state_store)
            if store_db is None:
                self.err(
                    (*p, "stateStore"),
                    f"unknown database '{saga.state_store}'{_hint(saga.state_store, self.spec.databases)}",
                )
            elif saga.orchestrator is not None and store_db.owner != saga.orchestrator:
                self.warn(
                    (*p, "stateStore"),
                    f"saga state lives in '{saga.state_store}', owned by '{store_db.owner}', not the orchestrator",
                )
        step_names: set[str] = set()
        after_pivot = False
        for i, step in enumerate(saga.steps):
            sp = (*p, "steps", i)
            if step.name in step_names:
                self.err((*sp, "name"), f"saga step '{step.name}' is defined twice")
            step_names.add(step.name)
            self.endpoint_ref(step.action, (*sp, "action"), "saga action")
            if step.compensation is not None:
                self.endpoint_ref(step.compensation, (*sp, "compensation"), "compensation")
                if after_pivot:
                    self.warn(
                        (*sp, "compensation"),
                        "steps after the pivot are retried until they succeed; their compensation never runs",
                    )
            elif not after_pivot and not step.pivot and i < len(saga.steps) - 1:
                self.warn(
                    sp,
                    f"step '{step.name}' comes before the pivot but has no compensation: a later failure cannot undo it",
                )
            if step.pivot:
                after_pivot = True

    def check_gateway(self) -> None:
        gw = self.spec.gateway
        if gw is None:
            return
        seen: dict[tuple[str, str], int] = {}
        for i, route in enumerate(gw.routes):
            p: Path = ("spec", "gateway", "routes", i)
            methods: list[str] = list(route.methods) if route.methods else ["*"]
            for method in methods:
                key = (route.path, method)
                if key in seen:
                    self.err((*p, "path"), f"route {method} {route.path} is also route {seen[key]}")
                seen[key] = i
            if route.endpoint is not None:
                self.endpoint_ref(route.endpoint, (*p, "endpoint"), "route")
            for j, target in enumerate(route.split or []):
                self.endpoint_ref(target.endpoint, (*p, "split", j, "endpoint"), "route")
            for j, match in enumerate(route.by_consumer):
                mp: Path = (*p, "byConsumer", j)
                if match.endpoint is not None:
                    self.endpoint_ref(match.endpoint, (*mp, "endpoint"), "route")
                for t, target in enumerate(match.split or []):
                    self.endpoint_ref(target.endpoint, (*mp, "split", t, "endpoint"), "route")

    def check_traffic(self) -> None:
        routes = {r.path for r in self.spec.gateway.routes} if self.spec.gateway else set()
        for tname, src in self.spec.traffic.items():
            for i, entry in enumerate(src.mix):
                p: Path = ("spec", "traffic", tname, "mix", i)
                if entry.endpoint is not None:
                    self.endpoint_ref(entry.endpoint, (*p, "endpoint"), "mix entry")
                elif entry.route is not None:
                    if self.spec.gateway is None:
                        self.err(
                            (*p, "route"),
                            "a route needs `spec.gateway`; use `endpoint:` to call a service directly",
                        )
                    elif entry.route not in routes:
                        self.err(
                            (*p, "route"),
                            f"no gateway route '{entry.route}'{_hint(entry.route, routes)}",
                        )

    def check_scenarios(self) -> None:
        spec = self.spec
        targets = set(spec.services) | set(spec.databases) | set(spec.brokers)
        targets |= set(spec.caches) | set(spec.event_stores)
        targets |= {f"{s}.{e}" for s, svc in spec.services.items() for e in svc.endpoints}
        for sname, sc in spec.scenarios.items():
            p: Path = ("spec", "scenarios", sname)
            for i, fault in enumerate(sc.faults):
                fp = (*p, "faults", i)
                if fault.target is not None and fault.target not in targets:
                    self.err(
                        (*fp, "target"),
                        f"unknown fault target '{fault.target}'{_hint(fault.target, targets)}",
                    )
                if (
                    fault.type == "crash"
                    and fault.target is not None
                    and fault.target not in spec.services
                ):
                    self.err((*fp, "target"), "a crash fault targets a service")
                if fault.replicas is not None and fault.type not in ("crash", "outage"):
                    self.err((*fp, "replicas"), "only crash and outage faults take `replicas`")
                if fault.type == "outage" and fault.replicas and fault.target not in spec.services:
                    self.err((*fp, "replicas"), "`replicas` applies to an outage of a service")
                if (
                    fault.type in ("crash", "outage")
                    and fault.replicas
                    and fault.target in spec.services
                ):
                    svc = spec.services[fault.target]
                    most = svc.autoscaling.max_replicas if svc.autoscaling else svc.replicas
                    if fault.replicas > most:
                        self.err((*fp, "replicas"), f"'{fault.target}' has at most {most} replicas")
                if fault.target in spec.caches and fault.type not in ("outage", "latency"):
                    self.err(
                        (*fp, "type"),
                        f"a cache takes outage and latency faults, not {fault.type}",
                    )
                if fault.target in spec.event_stores and fault.type not in ("outage", "latency"):
                    self.err(
                        (*fp, "type"),
                        f"an event store takes outage and latency faults, not {fault.type}",
                    )
                for j, name in enumerate(fault.between or []):
                    self.service_ref(name, (*fp, "between", j))
            for name in sc.traffic:
                if name not in spec.traffic:
                    self.err(
                        (*p, "traffic", name),
                        f"unknown traffic source '{name}'{_hint(name, spec.traffic)}",
                    )

    def check_services(self) -> None:
        for sname, svc in self.spec.services.items():
            p: Path = ("spec", "services", sname)
            a = svc.autoscaling
            if (
                a is not None
                and "replicas" in svc.model_fields_set
                and not a.min_replicas <= svc.replicas <= a.max_replicas
            ):
                self.warn(
                    (*p, "replicas"),
                    f"replicas {svc.replicas} lies outside autoscaling {a.min_replicas}..{a.max_replicas}",
                )
            if svc.cpu is not None:
                res = svc.resources
                cores = svc.cpu.parallelism(res.cpu, res.cpu_limit)
                if svc.concurrency == "thread" and svc.workers < cores:
                    self.warn(
                        (*p, "workers"),
                        f"{svc.workers} threads can keep at most {svc.workers} of the "
                        f"{cores} cores busy",
                    )
            dep = svc.deployment
            if dep is not None and dep.canary is not None:
                weights = [s.set_weight for s in dep.canary.steps if s.set_weight is not None]
                if weights != sorted(weights):
                    self.warn(
                        (*p, "deployment", "canary", "steps"),
                        "canary weights go down between steps",
                    )
                if dep.canary.traffic_routing == "istio" and (
                    self.spec.mesh is None or not self.spec.mesh.enabled
                ):
                    self.warn(
                        (*p, "deployment", "canary", "trafficRouting"),
                        "istio traffic routing needs `spec.mesh`; without it weights follow replica counts",
                    )
        for i, slo in enumerate(self.spec.slos):
            if slo.latency is not None and slo.latency_percentile not in (50, 90, 95, 99, 99.9):
                self.warn(
                    ("spec", "slos", i, "latencyPercentile"),
                    "the simulator reports p50, p90, p95, p99 and p99.9; this objective is "
                    "generated as an alert but not judged in simulations",
                )
            if slo.latency is None and slo.availability is None:
                self.warn(
                    ("spec", "slos", i), "an SLO without `latency` or `availability` checks nothing"
                )
            p = ("spec", "slos", i, "target")
            if slo.target.startswith("/"):
                routes = {r.path for r in self.spec.gateway.routes} if self.spec.gateway else set()
                if slo.target not in routes:
                    self.err(p, f"no gateway route '{slo.target}'{_hint(slo.target, routes)}")
            else:
                self.endpoint_ref(slo.target, p, "SLO target")

    def _cpu_capacity(
        self, sname: str, most: int, loads: list[tuple[str | None, dict[str, float]]]
    ) -> None:
        """CPU demand above what the replicas' cores (or their CFS quota) serve at all."""
        svc = self.spec.services[sname]
        cpu = svc.cpu
        assert cpu is not None
        res = svc.resources
        per_replica = cpu.capacity(res.cpu, res.cpu_limit)
        capacity = most * per_replica
        for scenario, rates in loads:
            demand = sum(
                rates.get(f"{sname}.{e}", 0.0) * ep.work.mean() for e, ep in svc.endpoints.items()
            )
            if demand > capacity:
                where = f"in scenario '{scenario}', " if scenario is not None else ""
                self.warn(
                    ("spec", "services", sname, "cpu"),
                    f"{where}peak CPU demand {demand:.2f} cores exceeds the {capacity:g} cores "
                    f"{most} replica(s) can use ({per_replica:g} each: "
                    f"{'the GIL' if cpu.gil else 'cores and CPU limit'}); at least "
                    f"{int(demand // per_replica) + 1} replicas are needed",
                )
                return

    def check_cycles(self) -> None:
        """Call loops: a loop of certain calls never finishes (and deadlocks thread-per-request
        services); a loop taken with probability < 1 (feedback) must end with probability one
        (model/feedback.py), and through thread services it can still deadlock under load."""
        arch = self.arch
        certain = {
            f"{s}.{e}": [c for c in _certain_calls(arch, s, e) if _exists(arch, c)]
            for s, svc in self.spec.services.items()
            for e in svc.endpoints
        }
        in_certain = self._certain_cycles(certain)
        graph: Graph = {
            f"{s}.{e}": [(c, m) for c, m in endpoint_calls(arch, s, e) if _exists(arch, c)]
            for s, svc in self.spec.services.items()
            for e in svc.endpoints
        }
        for part in components(graph):
            if not is_loop(graph, part) or in_certain & set(part):
                continue
            s, e = part[0].split(".", 1)
            where = ("spec", "services", s, "endpoints", e)
            loop = " -> ".join([*part, part[0]]) if len(part) > 1 else f"{part[0]} -> {part[0]}"
            if not terminates(graph, part):
                self.err(
                    where,
                    f"feedback loop {loop} does not end: each visit makes on average one or more "
                    "further visits; lower the probability or the weight of the call back",
                )
                continue
            threads = sorted(
                {
                    ref.split(".", 1)[0]
                    for ref in part
                    if self.spec.services[ref.split(".", 1)[0]].concurrency == "thread"
                }
            )
            if threads:
                self.warn(
                    where,
                    f"feedback loop {loop} through thread-per-request service(s) "
                    f"{', '.join(threads)}: a thread waits while its call comes back for another "
                    "thread of the same pool, so under load the pool can fill with waiting "
                    "threads (deadlock); use concurrency: async there, or a timeout",
                )

    def _certain_cycles(self, graph: dict[str, list[str]]) -> set[str]:
        """Report cycles of calls that are always made (the old synchronous-cycle error) and
        return the endpoints on them."""
        state: dict[str, int] = {}
        stack: list[str] = []
        reported: set[frozenset[str]] = set()
        on_cycle: set[str] = set()

        def report(nxt: str) -> None:
            cycle = [*stack[stack.index(nxt) :], nxt]
            on_cycle.update(cycle)
            key = frozenset(cycle)
            if key not in reported:
                reported.add(key)
                s, e = nxt.split(".", 1)
                self.err(
                    ("spec", "services", s, "endpoints", e),
                    "synchronous call cycle: " + " -> ".join(cycle),
                )

        # Depth-first search with an explicit stack: a call chain of a thousand services must
        # not exhaust Python's recursion limit.
        for root in sorted(graph):
            if root in state:
                continue
            state[root] = 1
            stack.append(root)
            pending: list[Iterator[str]] = [iter(graph.get(root, []))]
            while pending:
                nxt = next(pending[-1], None)
                if nxt is None:
                    pending.pop()
                    state[stack.pop()] = 2
                elif state.get(nxt) == 1:
                    report(nxt)
                elif state.get(nxt) is None:
                    state[nxt] = 1
                    stack.append(nxt)
                    pending.append(iter(graph.get(nxt, [])))
        return on_cycle

    def check_capacity(self) -> None:
        """Offered load above what a service's workers can do at all, for the file's traffic and
        for each scenario's (its `scale`, `arrival` and `users` overrides).

        An open loop above capacity grows its queue for ever. A closed loop of N users thinking
        Z seconds offers at most N / (Z + R₀) requests per second, R₀ being the entry's response
        time with no queueing; above capacity every extra user only waits in the queue.
        """
        spec = self.spec
        response: dict[str, float] = {}
        hop = 2 * (spec.network.hop_latency.mean() if spec.network.hop_latency else 0.00025)

        def entry_response(entry: EntryMix, consumer: str | None) -> float:
            targets = _entry_targets(self.arch, entry.route, entry.method, entry.endpoint, consumer)
            extra = hop if entry.route is not None else 0.0
            return sum(w * (extra + _response(self.arch, t, response, 0)) for t, w in targets)

        gateway = spec.gateway

        def route_of(entry: EntryMix) -> Route | None:
            if gateway is None or entry.route is None:
                return None
            for r in gateway.routes:
                if r.path == entry.route and (
                    entry.method is None or r.methods is None or entry.method in r.methods
                ):
                    return r
            return None

        def allowed(limit: RateLimit | None) -> float | None:
            """Requests per second a gateway rate limit lets through at most (429 beyond)."""
            if limit is None or gateway is None:
                return None
            if isinstance(limit, TokenBucketRateLimit):
                return limit.tokens_per_fill / limit.fill_interval if limit.fill_interval else None
            copies = gateway.replicas if limit.policy == "local" else 1
            return min(n / w for w, n in limit.limits()) * copies

        def offered(overrides: dict[str, TrafficOverride]) -> dict[str, float]:
            flows: list[tuple[EntryMix, float, str | None]] = []
            for name, src in spec.traffic.items():
                override = overrides.get(name)
                kinds = src.requests()
                total = sum(e.weight for e in kinds)
                if isinstance(src, OpenLoop):
                    if override is not None and override.arrival is not None:
                        src = src.model_copy(update={"arrival": override.arrival})
                    scale = override.scale if override is not None and override.scale else 1.0
                    peak = _peak_rate(src) * scale * src.per_arrival()
                else:
                    users = override.users if override is not None and override.users else src.users
                    cycle = src.think_time.mean() + sum(
                        e.weight / total * entry_response(e, src.consumer) for e in kinds
                    )
                    peak = users / cycle if cycle > 0 else 0.0
                flows += [(entry, peak * entry.weight / total, src.consumer) for entry in kinds]
            # The gateway's rate limits refuse the excess before it reaches a service.
            per_route: dict[int, float] = {}
            for entry, rate, _ in flows:
                route = route_of(entry)
                if route is not None:
                    per_route[id(route)] = per_route.get(id(route), 0.0) + rate
            factor: dict[int, float] = {}
            for route in gateway.routes if gateway is not None else []:
                cap, sent = allowed(route.rate_limit), per_route.get(id(route), 0.0)
                factor[id(route)] = min(1.0, cap / sent) if cap is not None and sent else 1.0
            routed = sum(sent * factor[key] for key, sent in per_route.items())
            cap = allowed(gateway.rate_limit) if gateway is not None else None
            overall = min(1.0, cap / routed) if cap is not None and routed else 1.0
            seeds: dict[str, float] = {}
            for entry, rate, consumer in flows:
                route = route_of(entry)
                if route is not None:
                    rate *= factor[id(route)] * overall
                for target, w in _entry_targets(
                    self.arch, entry.route, entry.method, entry.endpoint, consumer
                ):
                    seeds[target] = seeds.get(target, 0.0) + rate * w
            return call_rates(self.arch, seeds)

        def work_of(sname: str, rates: dict[str, float]) -> float:
            svc = spec.services[sname]
            work = 0.0
            for e, ep in svc.endpoints.items():
                ref = f"{sname}.{e}"
                rate = rates.get(ref, 0.0)
                if rate:
                    held = (
                        ep.work.mean()
                        if svc.concurrency == "async" and svc.cpu is None
                        else _response(self.arch, ref, response, 0)
                    )
                    work += rate * held
            return work

        cases: list[tuple[str | None, dict[str, TrafficOverride]]] = [(None, {})]
        cases += [(name, sc.traffic) for name, sc in spec.scenarios.items() if sc.traffic]
        loads = [(scenario, offered(overrides)) for scenario, overrides in cases]
        for sname, svc in spec.services.items():
            most = svc.autoscaling.max_replicas if svc.autoscaling else svc.replicas
            if svc.cpu is not None:
                self._cpu_capacity(sname, most, loads)
            capacity = most * svc.workers
            # The file's own traffic first; else the scenario that loads this service most.
            over = [(work_of(sname, rates), scenario) for scenario, rates in loads]
            over = [(w, sc) for w, sc in over if w > capacity > 0]
            if not over:
                continue
            work, scenario = over[0] if over[0][1] is None else max(over, key=lambda o: o[0])
            need = int(work // svc.workers) + 1
            held_note = (
                "" if svc.concurrency == "async" else " (a thread waits for its calls and queries)"
            )
            where = f"in scenario '{scenario}', " if scenario is not None else ""
            self.warn(
                ("spec", "services", sname, "replicas"),
                f"{where}peak offered work {work:.1f} worker-seconds per second{held_note} "
                f"exceeds {capacity} workers (utilisation {work / capacity:.0%}); at least {need} "
                "replicas are needed",
            )


def _response(arch: Architecture, ref: str, memo: dict[str, float], depth: int) -> float:
    """Mean time to answer `ref` with no queueing anywhere: a lower bound on a thread's hold."""
    if ref in memo:
        return memo[ref]
    if depth > 32 or not _exists(arch, ref):
        return 0.0
    spec = arch.spec
    s, _, e = ref.partition(".")
    ep = spec.services[s].endpoints[e]
    hop = 2 * (spec.network.hop_latency.mean() if spec.network.hop_latency else 0.00025)
    total = ep.work.mean()
    memo[ref] = 0.0  # a call back into itself (probabilistic feedback) counts as nothing more
    misses = _misses(arch)
    for step, times in expand(ep.steps, misses=misses):
        if isinstance(step, CacheStep) and step.cache in spec.caches:
            one = spec.caches[step.cache].latency_of().mean()
            total += times * step.probability * one * (1 + misses.get(step.cache, 1.0))
        elif isinstance(step, CallStep):
            total += (
                times
                * step.probability
                * count_mean(step.repeat)
                * (hop + _response(arch, step.call, memo, depth + 1))
            )
        elif isinstance(step, ParallelStep):
            total += (
                times
                * step.probability
                * max(
                    c.probability
                    * count_mean(c.repeat)
                    * (hop + _response(arch, c.call, memo, depth + 1))
                    for c in step.parallel
                )
            )
        elif isinstance(step, QueryStep) and step.query in spec.databases:
            db = spec.databases[step.query]
            total += (
                times
                * step.probability
                * count_mean(step.repeat)
                * db.latency_of(step.operation).mean()
            )
        elif isinstance(step, PublishStep):
            broker = arch.topic_owner(step.publish)
            if broker is not None:
                total += (
                    times * step.probability * spec.brokers[broker].default_latencies()[0].mean()
                )
        elif isinstance(step, SagaStep) and step.saga in spec.sagas:
            total += (
                times
                * step.probability
                * sum(
                    hop + _response(arch, st.action, memo, depth + 1)
                    for st in spec.sagas[step.saga].steps
                )
            )
    memo[ref] = total
    return total


def _misses(arch: Architecture) -> dict[str, float]:
    """Each cache's expected miss share (model/caches.py), for load estimates."""
    return {name: 1.0 - c.expected_hit_ratio() for name, c in arch.spec.caches.items()}


def _located(steps: list[Step], base: Path) -> Iterator[tuple[Path, Step]]:
    """Every step with its path in the file, groups opened."""
    for i, step in enumerate(steps):
        p = (*base, i)
        if isinstance(step, GroupStep):
            yield from _located(step.steps, (*p, "steps"))
        elif isinstance(step, CacheStep):
            yield p, step
            yield from _located(step.miss, (*p, "miss"))
        else:
            yield p, step


def _exists(arch: Architecture, ref: str) -> bool:
    s, _, e = ref.partition(".")
    return s in arch.spec.services and e in arch.spec.services[s].endpoints


def endpoint_calls(arch: Architecture, service: str, endpoint: str) -> Iterator[tuple[str, float]]:
    """Synchronous calls an endpoint makes, with the mean number per request."""
    ep = arch.spec.services[service].endpoints[endpoint]
    for step, times in expand(ep.steps, misses=_misses(arch)):
        if isinstance(step, CallStep):
            yield step.call, times * step.probability * count_mean(step.repeat)
        elif isinstance(step, ParallelStep):
            for c in step.parallel:
                yield c.call, times * step.probability * c.probability * count_mean(c.repeat)
        elif isinstance(step, SagaStep):
            saga = arch.spec.sagas.get(step.saga)
            if saga is not None and saga.mode == "orchestrated":
                for s in saga.steps:
                    yield s.action, times * step.probability


def _entry_targets(
    arch: Architecture,
    route: str | None,
    method: str | None,
    endpoint: str | None,
    consumer: str | None = None,
) -> list[tuple[str, float]]:
    """Where one request of an entry goes, by share: a route's consumer match first (priority
    routing), else the route's own targets."""
    if endpoint is not None:
        return [(endpoint, 1.0)]
    if arch.spec.gateway is None:
        return []
    for r in arch.spec.gateway.routes:
        if r.path == route and (method is None or r.methods is None or method in r.methods):
            for match in r.by_consumer:
                if consumer is not None and consumer in match.consumers:
                    return [(t, w / 100) for t, w in match.targets()]
            return [(t, w / 100) for t, w in r.targets()]
    return []


def call_rates(arch: Architecture, seeds: dict[str, float]) -> dict[str, float]:
    """Mean request rate at every endpoint, given the rates `seeds` send to entry endpoints.

    Rates flow along synchronous calls one strongly connected part at a time, callers first, so
    the work is linear in the number of calls however much they fan out (following every path
    instead took 2^32 steps for 32 services that each call the next twice). Inside a feedback
    loop the visit rates solve a linear system (model/feedback.py); a loop that never ends (an
    error of its own) is not followed.
    """
    graph: Graph = {}
    for sname, svc in arch.spec.services.items():
        for ename in svc.endpoints:
            ref = f"{sname}.{ename}"
            graph[ref] = [(t, m) for t, m in endpoint_calls(arch, sname, ename) if _exists(arch, t)]
    rates = {ref: rate for ref, rate in seeds.items() if ref in graph}
    for part in reversed(list(components(graph))):
        if is_loop(graph, part):
            inflow = {ref: rates.get(ref, 0.0) for ref in part}
            solved = solve_visits(graph, part, inflow)
            if solved is not None:
                for ref, rate in solved.items():
                    if rate or ref in rates:
                        rates[ref] = rate
        inside = set(part)
        for ref in part:
            rate = rates.get(ref, 0.0)
            if not rate:
                continue
            for target, mult in graph[ref]:
                if target not in inside:
                    rates[target] = rates.get(target, 0.0) + rate * mult
    return rates


def _certain_calls(arch: Architecture, service: str, endpoint: str) -> Iterator[str]:
    """Calls an endpoint makes on every request (no probability, no choice, a fixed repeat)."""

    def walk(steps: list[Step]) -> Iterator[str]:
        for step in steps:
            if isinstance(step, GroupStep):
                if step.probability >= 1 and isinstance(step.repeat, int):
                    yield from walk(step.steps)
            elif isinstance(step, CallStep):
                if step.probability >= 1 and isinstance(step.repeat, int):
                    yield step.call
            elif isinstance(step, ParallelStep):
                if step.probability >= 1:
                    for c in step.parallel:
                        if c.probability >= 1 and isinstance(c.repeat, int):
                            yield c.call
            elif isinstance(step, SagaStep) and step.probability >= 1:
                saga = arch.spec.sagas.get(step.saga)
                if saga is not None and saga.mode == "orchestrated":
                    for s in saga.steps:
                        yield s.action

    yield from walk(arch.spec.services[service].endpoints[endpoint].steps)


def _peak_rate(src: OpenLoop) -> float:
    a = src.arrival
    if isinstance(a, PoissonArrival | ConstantArrival):
        return a.rate
    if isinstance(a, RampArrival):
        return max(a.from_, a.to)
    if isinstance(a, StepArrival):
        return max(s.rate for s in a.steps)
    if isinstance(a, SpikeArrival):
        return max(a.base, a.peak)
    if isinstance(a, SeriesArrival):
        return a.peak()
    return a.mean * (1 + a.amplitude)


def check_architecture(arch: Architecture) -> list[Finding]:
    c = _Checker(arch)
    c.check_steps()
    c.check_data()
    c.check_gateway()
    c.check_traffic()
    c.check_scenarios()
    c.check_services()
    c.check_cycles()
    c.check_capacity()
    c.out += check_changes(arch)
    c.out += check_sessions(arch)
    c.out += check_consumers(arch)
    c.out += check_protocols(arch)
    return c.out
