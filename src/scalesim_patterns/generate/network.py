"""NetworkPolicies: deny everything, then allow exactly the connections the design declares.

A namespace-wide default-deny (ingress and egress) covers every pod, including ones created by
operators; DNS egress is allowed to every pod. Each workload then gets one policy whose ingress
lists who may connect to it and whose egress lists what it may connect to, so both ends of every
edge agree.
"""

from __future__ import annotations

from typing import Any

from scalesim_patterns.model.service import Service

from .brokers import broker_ports
from .cache_clients import cache_egress
from .context import Context
from .names import k8s_name
from .protocols import scraped_port
from .render import Document
from .services import STORE_PORT
from .smoke import has_smoke, smoke_selector

__all__ = [
    "PRIVATE_RANGES",
    "collector_policy",
    "collector_selector",
    "namespace_policies",
    "service_policy",
    "store_policy",
]

PRIVATE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]


def _ns_selector(namespace: str) -> dict[str, Any]:
    return {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}}}


def _ports(*ports: int | str) -> list[dict[str, Any]]:
    return [{"protocol": "TCP", "port": p} for p in ports]


def _policy(
    ctx: Context,
    name: str,
    labels: dict[str, str],
    selector: dict[str, str],
    ingress: list[dict[str, Any]] | None,
    egress: list[dict[str, Any]] | None,
) -> Document:
    types = []
    spec: dict[str, Any] = {"podSelector": {"matchLabels": selector} if selector else {}}
    if ingress is not None:
        types.append("Ingress")
    if egress is not None:
        types.append("Egress")
    spec["policyTypes"] = types
    if ingress is not None:
        spec["ingress"] = ingress
    if egress is not None:
        spec["egress"] = egress
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": ctx.meta(name, labels),
        "spec": spec,
    }


def collector_selector(ctx: Context) -> dict[str, str]:
    """Labels the OpenTelemetry operator puts on the collector pods it creates."""
    return {
        "app.kubernetes.io/component": "opentelemetry-collector",
        "app.kubernetes.io/instance": f"{ctx.ns}.{ctx.collector_name()}",
    }


def namespace_policies(ctx: Context) -> list[Document]:
    labels = ctx.labels(ctx.arch.name, "network")
    dns = {
        "to": [
            {
                **_ns_selector("kube-system"),
                "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
            }
        ],
        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
    }
    docs = [
        _policy(ctx, "default-deny", labels, {}, [], []),
        _policy(ctx, "allow-dns", labels, {}, None, [dns]),
    ]
    if ctx.mesh:
        docs.append(
            _policy(
                ctx,
                "allow-istio",
                labels,
                {},
                [
                    {
                        "from": [_ns_selector(ctx.options.monitoring_namespace)],
                        "ports": _ports(15020, 15090),
                    }
                ],
                [{"to": [_ns_selector(ctx.options.istio_namespace)], "ports": _ports(15012)}],
            )
        )
    return docs


def service_policy(ctx: Context, name: str, svc: Service) -> Document:
    spec = ctx.arch.spec
    g = ctx.graph
    ingress: list[dict[str, Any]] = []
    callers = [c for c in g.callers_of(name) if not spec.services[c].external]
    if callers:
        ingress.append(
            {
                "from": [{"podSelector": {"matchLabels": ctx.selector(c)}} for c in callers],
                "ports": _ports(svc.port),
            }
        )
    if name in g.routed:
        ingress.append(
            {"from": [_ns_selector(ctx.options.kong_namespace)], "ports": _ports(svc.port)}
        )
    if svc.expose is not None:
        # Exposed without the gateway: its own Ingress, served by the cluster's controller.
        ingress.append(
            {"from": [_ns_selector(svc.expose.controller_namespace)], "ports": _ports(svc.port)}
        )
    if has_smoke(svc):
        ingress.append(
            {
                "from": [{"podSelector": {"matchLabels": smoke_selector(ctx, name)}}],
                "ports": _ports(svc.port),
            }
        )
    ingress.append(
        {
            "from": [_ns_selector(ctx.options.monitoring_namespace)],
            "ports": _ports(scraped_port(svc)),
        }
    )
    egress: list[dict[str, Any]] = []
    external = False
    for callee in g.callees_of(name):
        target = spec.services[callee]
        if target.external:
            external = True
            continue
        egress.append(
            {
                "to": [{"podSelector": {"matchLabels": ctx.selector(callee)}}],
                "ports": _ports(target.port),
            }
        )
    for db in sorted(g.db_clients):
        if name in g.db_clients[db] and db in spec.databases:
            egress.append(
                {
                    "to": [{"podSelector": {"matchLabels": ctx.selector(ctx.db_names[db])}}],
                    "ports": _ports(spec.databases[db].port),
                }
            )
    for broker in sorted(g.broker_clients):
        if name in g.broker_clients[broker] and broker in spec.brokers:
            egress.append(
                {
                    "to": [
                        {"podSelector": {"matchLabels": ctx.selector(ctx.broker_names[broker])}}
                    ],
                    "ports": _ports(*broker_ports(spec.brokers[broker])),
                }
            )
    for store in sorted(g.store_clients):
        if name in g.store_clients[store] and store in spec.event_stores:
            egress.append(
                {
                    "to": [{"podSelector": {"matchLabels": ctx.selector(ctx.store_names[store])}}],
                    "ports": _ports(STORE_PORT),
                }
            )
    egress.extend(cache_egress(ctx, name))
    if ctx.tracing:
        egress.append(
            {
                "to": [{"podSelector": {"matchLabels": collector_selector(ctx)}}],
                "ports": _ports(4317, 4318),
            }
        )
    if external:
        egress.append(
            {
                "to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": PRIVATE_RANGES}}],
                "ports": _ports(443),
            }
        )
    return _policy(ctx, name, ctx.labels(name, "service"), ctx.selector(name), ingress, egress)


def store_policy(
    ctx: Context,
    name: str,
    component: str,
    clients: set[str],
    client_ports: list[int],
    peer_ports: list[int],
) -> Document:
    """Only the listed services reach a data store; replicas of a cluster reach each other."""
    ingress: list[dict[str, Any]] = []
    deployed = sorted(c for c in clients if c in ctx.arch.spec.services)
    if deployed:
        ingress.append(
            {
                "from": [{"podSelector": {"matchLabels": ctx.selector(c)}} for c in deployed],
                "ports": _ports(*client_ports),
            }
        )
    egress: list[dict[str, Any]] = []
    if peer_ports:
        peers = [{"podSelector": {"matchLabels": ctx.selector(name)}}]
        ingress.append({"from": peers, "ports": _ports(*peer_ports)})
        egress.append({"to": peers, "ports": _ports(*peer_ports)})
    return _policy(ctx, name, ctx.labels(name, component), ctx.selector(name), ingress, egress)


def collector_policy(ctx: Context) -> Document:
    backend_port = int(ctx.options.trace_backend.rpartition(":")[2] or 4317)
    return _policy(
        ctx,
        k8s_name(ctx.collector_name(), "collector"),
        ctx.labels(ctx.collector_name(), "collector"),
        collector_selector(ctx),
        [
            {"from": [{"podSelector": {}}], "ports": _ports(4317, 4318)},
            {
                "from": [_ns_selector(ctx.options.monitoring_namespace)],
                "ports": _ports(8888, 8889),
            },
        ],
        [
            {
                "to": [_ns_selector(ctx.options.trace_backend_namespace)],
                "ports": _ports(backend_port),
            }
        ],
    )
