"""Meaning checks on a structurally valid architecture.

Each check returns (severity, path, message) with the path written the way the file nests it
(camelCase keys), so the loader can point at the line. A check never stops at the first problem.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator

from .architecture import Architecture
from .diagnostics import Path, Severity
from .steps import AppendStep, CallStep, ParallelStep, PublishStep, QueryStep, SagaStep
from .traffic import (
    ConstantArrival,
    OpenLoop,
    PoissonArrival,
    RampArrival,
    SpikeArrival,
    StepArrival,
)

__all__ = ["Finding", "check_architecture", "endpoint_calls"]

Finding = tuple[Severity, Path, str]
E, W = Severity.ERROR, Severity.WARNING


def _hint(name: str, known: Iterable[str]) -> str:
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
        patterns = set(self.arch.metadata.patterns)
        for sname, svc in self.spec.services.items():
            for cname in svc.clients:
                if cname != "*":
                    self.service_ref(cname, ("spec", "services", sname, "clients", cname))
            for ename, ep in svc.endpoints.items():
                base: Path = ("spec", "services", sname, "endpoints", ename, "steps")
                for i, step in enumerate(ep.steps):
                    p = (*base, i)
                    if isinstance(step, CallStep):
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

    def check_data(self) -> None:
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
        for gname, saga in self.spec.sagas.items():
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

    def check_cycles(self) -> None:
        """Synchronous call cycles deadlock thread-per-request services and never finish."""
        graph = {
            f"{s}.{e}": [c for c, _ in endpoint_calls(self.arch, s, e) if _exists(self.arch, c)]
            for s, svc in self.spec.services.items()
            for e in svc.endpoints
        }
        state: dict[str, int] = {}
        stack: list[str] = []
        reported: set[frozenset[str]] = set()

        def visit(node: str) -> None:
            state[node] = 1
            stack.append(node)
            for nxt in graph.get(node, []):
                if state.get(nxt) == 1:
                    cycle = [*stack[stack.index(nxt) :], nxt]
                    key = frozenset(cycle)
                    if key not in reported:
                        reported.add(key)
                        s, e = nxt.split(".", 1)
                        self.err(
                            ("spec", "services", s, "endpoints", e),
                            "synchronous call cycle: " + " -> ".join(cycle),
                        )
                elif state.get(nxt) is None:
                    visit(nxt)
            stack.pop()
            state[node] = 2

        for node in sorted(graph):
            if node not in state:
                visit(node)

    def check_capacity(self) -> None:
        """Open-loop load above what a service's workers can do at all: the queue grows for ever.

        Closed loops cannot overload: their population bounds the load.
        """
        rates: dict[str, float] = {}
        for src in self.spec.traffic.values():
            if not isinstance(src, OpenLoop):
                continue
            peak = _peak_rate(src)
            total = sum(e.weight for e in src.mix)
            for entry in src.mix:
                share = peak * entry.weight / total
                for target, w in _entry_targets(
                    self.arch, entry.route, entry.method, entry.endpoint
                ):
                    _accumulate(self.arch, target, share * w, rates, 0)
        response: dict[str, float] = {}
        for sname, svc in self.spec.services.items():
            work = 0.0
            for e, ep in svc.endpoints.items():
                rate = rates.get(f"{sname}.{e}", 0.0)
                if rate:
                    ref = f"{sname}.{e}"
                    held = (
                        ep.work.mean()
                        if svc.concurrency == "async"
                        else _response(self.arch, ref, response, 0)
                    )
                    work += rate * held
            most = svc.autoscaling.max_replicas if svc.autoscaling else svc.replicas
            capacity = most * svc.workers
            if work > capacity > 0:
                need = int(work // svc.workers) + 1
                held_note = (
                    ""
                    if svc.concurrency == "async"
                    else " (a thread waits for its calls and queries)"
                )
                self.warn(
                    ("spec", "services", sname, "replicas"),
                    f"peak offered work {work:.1f} worker-seconds per second{held_note} exceeds "
                    f"{capacity} workers (utilisation {work / capacity:.0%}); at least {need} replicas "
                    "are needed",
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
    for step in ep.steps:
        if isinstance(step, CallStep):
            total += (
                step.probability * step.repeat * (hop + _response(arch, step.call, memo, depth + 1))
            )
        elif isinstance(step, ParallelStep):
            total += step.probability * max(
                c.probability * c.repeat * (hop + _response(arch, c.call, memo, depth + 1))
                for c in step.parallel
            )
        elif isinstance(step, QueryStep) and step.query in spec.databases:
            db = spec.databases[step.query]
            total += step.probability * step.repeat * db.latency_of(step.operation).mean()
        elif isinstance(step, PublishStep):
            broker = arch.topic_owner(step.publish)
            if broker is not None:
                total += step.probability * spec.brokers[broker].default_latencies()[0].mean()
        elif isinstance(step, SagaStep) and step.saga in spec.sagas:
            total += step.probability * sum(
                hop + _response(arch, st.action, memo, depth + 1)
                for st in spec.sagas[step.saga].steps
            )
    memo[ref] = total
    return total


def _exists(arch: Architecture, ref: str) -> bool:
    s, _, e = ref.partition(".")
    return s in arch.spec.services and e in arch.spec.services[s].endpoints


def endpoint_calls(arch: Architecture, service: str, endpoint: str) -> Iterator[tuple[str, float]]:
    """Synchronous calls an endpoint makes, with the mean number per request."""
    ep = arch.spec.services[service].endpoints[endpoint]
    for step in ep.steps:
        if isinstance(step, CallStep):
            yield step.call, step.probability * step.repeat
        elif isinstance(step, ParallelStep):
            for c in step.parallel:
                yield c.call, step.probability * c.probability * c.repeat
        elif isinstance(step, SagaStep):
            saga = arch.spec.sagas.get(step.saga)
            if saga is not None and saga.mode == "orchestrated":
                for s in saga.steps:
                    yield s.action, step.probability


def _entry_targets(
    arch: Architecture, route: str | None, method: str | None, endpoint: str | None
) -> list[tuple[str, float]]:
    if endpoint is not None:
        return [(endpoint, 1.0)]
    if arch.spec.gateway is None:
        return []
    for r in arch.spec.gateway.routes:
        if r.path == route and (method is None or r.methods is None or method in r.methods):
            return [(t, w / 100) for t, w in r.targets()]
    return []


def _accumulate(
    arch: Architecture, ref: str, rate: float, rates: dict[str, float], depth: int
) -> None:
    if depth > 32 or not _exists(arch, ref):
        return
    rates[ref] = rates.get(ref, 0.0) + rate
    s, _, e = ref.partition(".")
    for target, mult in endpoint_calls(arch, s, e):
        _accumulate(arch, target, rate * mult, rates, depth + 1)


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
    return c.out
