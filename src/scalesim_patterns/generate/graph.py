"""Who talks to whom: the call graph the network and mesh policies are derived from.

Policies allow exactly what the architecture declares, so this module reads every place a
connection is declared (call steps, parallel calls, orchestrated sagas, queries, publishes,
consumers, event-store appends and projections, gateway routes, database ownership) and nothing
else. Edges are sets, iterated sorted, so the generated policies never depend on dict order.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from scalesim_patterns.model import Architecture
from scalesim_patterns.model.edge import Route
from scalesim_patterns.model.resilience import ClientPolicy
from scalesim_patterns.model.steps import (
    AppendStep,
    CallStep,
    ParallelStep,
    PublishStep,
    QueryStep,
    expand,
)

__all__ = [
    "CallSite",
    "Graph",
    "Operation",
    "build_graph",
    "endpoint_path",
    "ingress_backend",
    "split_paths",
    "upstream_path",
]

Operation = tuple[str, str]
"""(HTTP method, path) of an endpoint."""


def endpoint_path(name: str, path: str | None) -> str:
    return path if path is not None else f"/{name}"


@dataclass(frozen=True)
class CallSite:
    """A call step whose own fields override the caller's client policy for that one call."""

    caller: str
    callee: str
    endpoint: str
    policy: ClientPolicy


@dataclass
class Graph:
    calls: dict[str, dict[str, set[Operation]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(set))
    )
    """callee → caller → operations called."""
    call_sites: list[CallSite] = field(default_factory=list)
    db_clients: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    """Database → services allowed to connect: owner, sharedWith, saga state-store orchestrators."""
    db_queriers: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    """Database → services whose steps query it (may include services that are not allowed)."""
    broker_clients: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    publishes: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    """Service → topics it publishes."""
    consumes: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    """Service → topics it consumes."""
    store_clients: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    routed: dict[str, list[Route]] = field(default_factory=lambda: defaultdict(list))
    """Service → gateway routes that reach it (directly or as a split target)."""

    def callers_of(self, callee: str) -> list[str]:
        return sorted(self.calls.get(callee, {}))

    def callees_of(self, caller: str) -> list[str]:
        return sorted(c for c, callers in self.calls.items() if caller in callers)

    def blocked_queries(self) -> list[tuple[str, str]]:
        """(service, database) pairs the architecture queries but does not allow."""
        return sorted(
            (svc, db)
            for db, queriers in self.db_queriers.items()
            for svc in queriers - self.db_clients.get(db, set())
        )


def _operation(arch: Architecture, ref: str) -> tuple[str, Operation] | None:
    service, _, endpoint = ref.partition(".")
    svc = arch.spec.services.get(service)
    if svc is None or endpoint not in svc.endpoints:
        return None
    ep = svc.endpoints[endpoint]
    return service, (ep.method, endpoint_path(endpoint, ep.path))


def build_graph(arch: Architecture) -> Graph:
    spec = arch.spec
    g = Graph()

    def call(caller: str, ref: str) -> None:
        found = _operation(arch, ref)
        if found is not None:
            g.calls[found[0]][caller].add(found[1])

    topic_broker = {t: b for b, broker in spec.brokers.items() for t in broker.topics}
    for sname, svc in spec.services.items():
        for ep in svc.endpoints.values():
            for step, _ in expand(ep.steps):  # groups opened, a choice's options as calls
                if isinstance(step, CallStep | ParallelStep):
                    calls = [step] if isinstance(step, CallStep) else step.parallel
                    for c in calls:
                        call(sname, c.call)
                        if c.policy().model_fields_set:
                            g.call_sites.append(CallSite(sname, c.service, c.endpoint, c.policy()))
                elif isinstance(step, QueryStep):
                    g.db_queriers[step.query].add(sname)
                elif isinstance(step, PublishStep):
                    g.publishes[sname].add(step.publish)
                    if step.publish in topic_broker:
                        g.broker_clients[topic_broker[step.publish]].add(sname)
                elif isinstance(step, AppendStep):
                    g.store_clients[step.append].add(sname)
    for saga in spec.sagas.values():
        if saga.mode == "orchestrated" and saga.orchestrator is not None:
            for s in saga.steps:
                for ref in (s.action, s.compensation):
                    if ref is not None:
                        call(saga.orchestrator, ref)
            if saga.state_store is not None:
                g.db_clients[saga.state_store].add(saga.orchestrator)
        elif saga.broker is not None:
            for s in saga.steps:
                for ref in (s.action, s.compensation):
                    if ref is not None and ref.partition(".")[0] in spec.services:
                        g.broker_clients[saga.broker].add(ref.partition(".")[0])
    for bname, broker in spec.brokers.items():
        for tname, topic in broker.topics.items():
            for consumer in topic.consumers:
                g.broker_clients[bname].add(consumer.service)
                g.consumes[consumer.service].add(tname)
    for dname, db in spec.databases.items():
        g.db_clients[dname].add(db.owner)
        g.db_clients[dname].update(db.shared_with)
    for store_name, store in spec.event_stores.items():
        g.store_clients[store_name].add(store.owner)
        g.store_clients[store_name].update(p.service for p in store.projections)
    if spec.gateway is not None:
        for route in spec.gateway.routes:
            for target in sorted({t.partition(".")[0] for t, _ in route.all_targets()}):
                if target in spec.services:
                    g.routed[target].append(route)
    return g


def ingress_backend(arch: Architecture, route: Route) -> str:
    """The service a route's Ingress points at: for a split, the target with the largest weight.

    With the mesh on, that service's VirtualService splits the route's traffic between all its
    targets; without it the Ingress can only send everything there.
    """
    best, best_weight = "", -1
    for ref, weight in route.targets():
        service = ref.partition(".")[0]
        if weight > best_weight:
            best, best_weight = service, weight
    return best


def upstream_path(arch: Architecture, route: Route) -> str:
    """The path the route's requests must reach the service on: its endpoint's own path.

    Kong rewrites the public path (`/orders`) to this one (`/place`) before the mesh sees the
    request, so Istio matches, authorizes and the service serves the same path. Every target of
    a split must serve the same path (checked in `escape.check_design`); a missing endpoint falls
    back to the route's path.
    """
    for ref, _ in route.targets():
        service, _, endpoint = ref.partition(".")
        svc = arch.spec.services.get(service)
        if svc is not None and endpoint in svc.endpoints:
            return endpoint_path(endpoint, svc.endpoints[endpoint].path)
    return route.path


def split_paths(arch: Architecture, route: Route) -> set[str]:
    """Paths of every target endpoint of a route, its consumer matches' included (one for a
    consistent route)."""
    out: set[str] = set()
    for ref, _ in route.all_targets():
        service, _, endpoint = ref.partition(".")
        svc = arch.spec.services.get(service)
        if svc is not None and endpoint in svc.endpoints:
            out.add(endpoint_path(endpoint, svc.endpoints[endpoint].path))
    return out
