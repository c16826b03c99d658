"""Istio: VirtualServices, DestinationRules, mTLS and authorization derived from the design.

Mapping decisions (docs/generate.md explains them at length):
- Route timeouts and retries: a caller's own client policy becomes a route matched on the caller's
  pod labels (`sourceLabels`), a call step's inline policy a route matched on caller, path and
  method; everything else takes the per-service mesh override, then the mesh-wide retry.
- connectionPool comes from the mesh settings, else from the callers' bulkheads (Envoy enforces
  it per client proxy, as a bulkhead is per caller instance); outlierDetection from the mesh
  settings, else from a caller's consecutive-failure breaker.
- Authorization: a namespace-wide allow-nothing policy plus one ALLOW policy per service listing
  its callers' SPIFFE principals with exactly the methods and paths they call.
"""

from __future__ import annotations

import re
from typing import Any

from scalesim_patterns.model.edge import ConnectionPool, MeshOverride, OutlierDetection, Route
from scalesim_patterns.model.resilience import (
    ClientPolicy,
    ConsecutiveFailureBreaker,
    EnvoyRetry,
)
from scalesim_patterns.model.service import Service
from scalesim_patterns.model.units import format_duration

from .context import Context
from .gateway import auth_issuer, validates_jwt
from .graph import ingress_backend, upstream_path
from .names import k8s_name, label_value, path_slug
from .render import Document
from .smoke import has_smoke, smoke_calls, smoke_name

__all__ = [
    "authorization_policies",
    "consumer_routes",
    "destination_rule",
    "managed_route_names",
    "namespace_policies",
    "request_authentication",
    "service_entry",
    "uses_istio_canary",
    "virtual_service",
]

INT32_MAX = 2**31 - 1
_LB = {"round-robin": "ROUND_ROBIN", "random": "RANDOM", "least-request": "LEAST_REQUEST"}


def uses_istio_canary(ctx: Context, svc: Service) -> bool:
    dep = svc.deployment
    return (
        ctx.mesh
        and dep is not None
        and dep.strategy == "canary"
        and dep.canary is not None
        and dep.canary.traffic_routing == "istio"
    )


def _override(ctx: Context, name: str) -> MeshOverride:
    mesh = ctx.arch.spec.mesh
    return mesh.services.get(name, MeshOverride()) if mesh is not None else MeshOverride()


def _retries(retry: EnvoyRetry | None) -> dict[str, Any]:
    if retry is None or retry.attempts == 0:
        return {"attempts": 0}
    out: dict[str, Any] = {"attempts": retry.attempts}
    if retry.per_try_timeout is not None:
        out["perTryTimeout"] = format_duration(retry.per_try_timeout)
    out["retryOn"] = ",".join(retry.retry_on)
    return out


def _default_retry(ctx: Context, name: str) -> EnvoyRetry | None:
    override = _override(ctx, name)
    if override.retry is not None:
        return override.retry
    mesh = ctx.arch.spec.mesh
    return mesh.retry if mesh is not None else None


NO_RETRY = EnvoyRetry(attempts=0)
"""Explicitly no mesh retry (a route's `attempts: 0`), unlike None, which means the default."""


def _route_policy(policy: ClientPolicy) -> tuple[float | None, EnvoyRetry | None]:
    """Timeout and mesh retry a caller's policy asks for (None: same as the default route).

    A policy whose retry is the application's (Resilience4j) is enforced by the application,
    timeout included: the mesh then neither retries (the retry budgets would multiply: 2
    application attempts × 3 mesh tries = 6 calls) nor times out a second time.
    """
    if policy.retry is not None and not isinstance(policy.retry, EnvoyRetry):
        return None, NO_RETRY
    retry = policy.retry if isinstance(policy.retry, EnvoyRetry) else None
    return policy.timeout, retry


def _plan(
    ctx: Context, name: str
) -> list[tuple[str, list[dict[str, Any]], float | None, EnvoyRetry | None]]:
    """(route name, match, timeout, retry) of the routes to `name` that carry its own traffic."""
    spec = ctx.arch.spec
    default_timeout = _override(ctx, name).timeout
    default_retry = _default_retry(ctx, name)
    plans: list[tuple[str, list[dict[str, Any]], float | None, EnvoyRetry | None]] = []
    seen: set[str] = set()
    sites = sorted(
        (s for s in ctx.graph.call_sites if s.callee == name),
        key=lambda s: (s.caller, s.endpoint),
    )
    for site in sites:
        caller = spec.services.get(site.caller)
        if caller is None or caller.external:
            continue
        policy = caller.client_policy(name).merged(site.policy)
        timeout, retry = _route_policy(policy)
        if timeout is None and retry is None:
            continue
        route_name = k8s_name(f"{site.caller}-{label_value(site.endpoint).lower()}")
        if route_name in seen:
            continue
        seen.add(route_name)
        ep = spec.services[name].endpoints[site.endpoint]
        path = ep.path if ep.path is not None else f"/{site.endpoint}"
        match = [
            {
                "sourceLabels": {"app": site.caller},
                "uri": {"exact": path},
                "method": {"exact": ep.method},
            }
        ]
        plans.append(
            (
                route_name,
                match,
                timeout if timeout is not None else default_timeout,
                retry if retry is not None else default_retry,
            )
        )
    for caller_name in ctx.graph.callers_of(name):
        caller = spec.services.get(caller_name)
        if caller is None or caller.external:
            continue
        timeout, retry = _route_policy(caller.client_policy(name))
        if timeout is None and retry is None:
            continue
        route_name = k8s_name("from", caller_name)
        if route_name in seen:
            continue
        seen.add(route_name)
        plans.append(
            (
                route_name,
                [{"sourceLabels": {"app": caller_name}}],
                timeout if timeout is not None else default_timeout,
                retry if retry is not None else default_retry,
            )
        )
    plans.append(("primary", [], default_timeout, default_retry))
    return plans


def managed_route_names(ctx: Context, name: str) -> list[str]:
    """Routes Argo Rollouts re-weights during a canary (every route carrying the service's traffic)."""
    return [plan[0] for plan in _plan(ctx, name)]


def virtual_service(ctx: Context, name: str, svc: Service) -> Document:
    if svc.protocol == "thrift":
        # TCP to Istio: one TCP route; HTTP timeouts and retries do not apply (README note).
        ctx.note(
            f"Service `{name}` speaks Thrift: Istio routes it as TCP, so its designed timeouts "
            "and retries are the Thrift clients' to apply."
        )
        return {
            "apiVersion": "networking.istio.io/v1",
            "kind": "VirtualService",
            "metadata": ctx.meta(name, ctx.labels(name, "mesh", svc.version)),
            "spec": {"hosts": [name], "tcp": [{"route": [{"destination": {"host": name}}]}]},
        }
    canary = uses_istio_canary(ctx, svc)
    http: list[dict[str, Any]] = []
    gateway = ctx.arch.spec.gateway
    if gateway is not None:
        for route in gateway.routes:
            if route.by_consumer and ingress_backend(ctx.arch, route) == name:
                http += consumer_routes(ctx, route)
            if route.split is None or ingress_backend(ctx.arch, route) != name:
                continue
            weights: dict[str, int] = {}
            for ref, weight in route.targets():
                target = ref.partition(".")[0]
                weights[target] = weights.get(target, 0) + weight
            http.append(
                {
                    "name": k8s_name("split", path_slug(route.path)),
                    # Kong has rewritten the public path to the endpoint's by now.
                    "match": [
                        {
                            "uri": {"exact": upstream_path(ctx.arch, route)},
                            "sourceNamespace": ctx.options.kong_namespace,
                        }
                    ],
                    "route": [
                        {"destination": {"host": ctx.host(t)}, "weight": w}
                        for t, w in weights.items()
                    ],
                }
            )
    for route_name, match, timeout, retry in _plan(ctx, name):
        entry: dict[str, Any] = {"name": route_name}
        if match:
            entry["match"] = match
        if canary:
            entry["route"] = [
                {"destination": {"host": name, "subset": "stable"}, "weight": 100},
                {"destination": {"host": name, "subset": "canary"}, "weight": 0},
            ]
        else:
            entry["route"] = [{"destination": {"host": name}}]
        if timeout is not None:
            entry["timeout"] = format_duration(timeout)
        entry["retries"] = _retries(retry)
        http.append(entry)
    return {
        "apiVersion": "networking.istio.io/v1",
        "kind": "VirtualService",
        "metadata": ctx.meta(name, ctx.labels(name, "mesh")),
        "spec": {"hosts": [name], "http": http},
    }


CONSUMER_HEADER = "x-consumer-username"
"""The header Kong's auth plugins set upstream to the identified consumer's username (with
`X-Consumer-ID` and `X-Consumer-Custom-ID`); Kong replaces any value the client sent."""


def consumer_routes(ctx: Context, route: Route) -> list[dict[str, Any]]:
    """The VirtualService HTTP routes of a gateway route's consumer matches (priority routing).

    Kong picks its route before its auth plugin knows the consumer, so it cannot route by
    consumer itself (Kong Enterprise's route-by-header aside); it forwards to the route's own
    backend with `X-Consumer-Username` set, and the Kong pod's sidecar applies these routes —
    tried in order before the route's own — as Istio's "route based on user identity" task
    does with its `end-user` header. One `match` entry per consumer: entries are ORed.
    """
    upstream = upstream_path(ctx.arch, route)
    out: list[dict[str, Any]] = []
    for i, match in enumerate(route.by_consumer):
        weights: dict[str, int] = {}
        for ref, weight in match.targets():
            target = ref.partition(".")[0]
            weights[target] = weights.get(target, 0) + weight
        entry: dict[str, Any] = {
            "name": k8s_name("consumer", f"{path_slug(route.path)}-{i}"),
            "match": [
                {
                    "uri": {"exact": upstream},
                    "sourceNamespace": ctx.options.kong_namespace,
                    "headers": {CONSUMER_HEADER: {"exact": consumer}},
                }
                for consumer in match.consumers
            ],
            "route": [
                {"destination": {"host": ctx.host(t)}, "weight": w}
                for t, w in weights.items()
                if w > 0
            ],
        }
        if len(entry["route"]) == 1:
            del entry["route"][0]["weight"]
        out.append(entry)
    return out


def _pool(pool: ConnectionPool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    fields = pool.model_fields_set
    if "max_connections" in fields:
        out["tcp"] = {"maxConnections": min(pool.max_connections, INT32_MAX)}
    http: dict[str, Any] = {}
    if "http1_max_pending_requests" in fields:
        http["http1MaxPendingRequests"] = min(pool.http1_max_pending_requests, INT32_MAX)
    if "http2_max_requests" in fields:
        http["http2MaxRequests"] = min(pool.http2_max_requests, INT32_MAX)
    if http:
        out["http"] = http
    return out


def _outlier(od: OutlierDetection) -> dict[str, Any]:
    return {
        "consecutive5xxErrors": od.consecutive_5xx_errors,
        "interval": format_duration(od.interval),
        "baseEjectionTime": format_duration(od.base_ejection_time),
        "maxEjectionPercent": od.max_ejection_percent,
        "minHealthPercent": od.min_health_percent,
    }


def _breaker_outlier(ctx: Context, name: str) -> dict[str, Any]:
    found: list[ConsecutiveFailureBreaker] = []
    for caller_name in ctx.graph.callers_of(name):
        breaker = ctx.arch.spec.services[caller_name].client_policy(name).circuit_breaker
        if isinstance(breaker, ConsecutiveFailureBreaker):
            found.append(breaker)
    if not found:
        return {}
    first = found[0]
    if any((b.fail_max, b.reset_timeout) != (first.fail_max, first.reset_timeout) for b in found):
        ctx.note(
            f"Service `{name}`: callers' consecutive-failure breakers differ; outlierDetection "
            f"follows the first caller's (failMax {first.fail_max})."
        )
    return {
        "consecutive5xxErrors": first.fail_max,
        "interval": "10s",
        "baseEjectionTime": format_duration(first.reset_timeout),
        "maxEjectionPercent": 100,
    }


def destination_rule(ctx: Context, name: str, svc: Service) -> Document:
    mesh = ctx.arch.spec.mesh
    override = _override(ctx, name)
    policy: dict[str, Any] = {"loadBalancer": {"simple": _LB[svc.load_balancer]}}
    pool_model = override.connection_pool or (mesh.connection_pool if mesh else None)
    # Only a designed connectionPool: a caller's bulkhead stays in the caller (clients.yaml).
    # As a DestinationRule limit it would bind every client's sidecar, Kong's included, which
    # carries all external traffic through a few pods and would be throttled to one caller's
    # bulkhead.
    pool = _pool(pool_model) if pool_model is not None else {}
    if pool:
        policy["connectionPool"] = pool
    od_model = override.outlier_detection or (mesh.outlier_detection if mesh else None)
    outlier = _outlier(od_model) if od_model is not None else _breaker_outlier(ctx, name)
    if outlier:
        policy["outlierDetection"] = outlier
    if uses_istio_canary(ctx, svc):
        subsets = [
            {"name": "stable", "labels": {"app": name}},
            {"name": "canary", "labels": {"app": name}},
        ]
    else:
        version = label_value(svc.version)
        subsets = [{"name": _subset(version), "labels": {"version": version}}]
    return {
        "apiVersion": "networking.istio.io/v1",
        "kind": "DestinationRule",
        "metadata": ctx.meta(name, ctx.labels(name, "mesh")),
        "spec": {"host": name, "trafficPolicy": policy, "subsets": subsets},
    }


def _subset(version: str) -> str:
    return "v" + re.sub(r"[^a-z0-9]+", "-", version.lower()).strip("-")


def _operations(ops: set[tuple[str, str]], svc: Service | None = None) -> list[dict[str, Any]]:
    if svc is not None and svc.protocol == "thrift":
        # TCP: HTTP fields would make the rule match nothing; allow the port.
        return [{"operation": {"ports": [str(svc.port)]}}]
    if svc is not None and svc.protocol == "grpc":
        # Every gRPC call is an HTTP/2 POST to /<package.Service>/<Method> (the endpoint's path).
        ops = {("POST", path) for _, path in ops}
    return [
        {"operation": {"methods": [method], "paths": [_istio_path(path)]}}
        for method, path in sorted(ops)
    ]


def _istio_path(path: str) -> str:
    """Istio matches exact paths, or prefixes written `prefix*`; path templates become prefixes."""
    if "{" in path:
        return path[: path.index("{")] + "*"
    return path


def authorization_policies(ctx: Context, name: str, svc: Service) -> Document:
    rules: list[dict[str, Any]] = []
    for caller in ctx.graph.callers_of(name):
        if ctx.arch.spec.services[caller].external:
            continue
        rules.append(
            {
                "from": [{"source": {"principals": [ctx.principal(caller)]}}],
                "to": _operations(ctx.graph.calls[name][caller], svc),
            }
        )
    if has_smoke(svc):
        rules.append(
            {
                "from": [{"source": {"principals": [ctx.principal(smoke_name(name))]}}],
                "to": _operations({(m, p) for m, p in smoke_calls(svc)}),
            }
        )
    routes = ctx.graph.routed.get(name, [])
    jwt = validates_jwt(ctx)
    for needs_token in (True, False):
        to: list[dict[str, Any]] = []
        for route in routes:
            if (jwt and route.auth) != needs_token:
                continue
            # Kong forwards the endpoint's path (gateway.py rewrites the public one).
            operation: dict[str, Any] = {"paths": [_istio_path(upstream_path(ctx.arch, route))]}
            if route.methods:
                operation["methods"] = sorted(route.methods)
            if {"operation": operation} not in to:
                to.append({"operation": operation})
        if not to:
            continue
        source: dict[str, Any] = {"namespaces": [ctx.options.kong_namespace]}
        if needs_token:
            # Only requests whose JWT the RequestAuthentication validated carry a principal.
            source["requestPrincipals"] = [f"{auth_issuer(ctx)}/*"]
        rules.append({"from": [{"source": source}], "to": to})
    if svc.expose is not None:
        # The ingress controller (with a sidecar, or any identity from its namespace).
        rules.append({"from": [{"source": {"namespaces": [svc.expose.controller_namespace]}}]})
    rules.append(
        {
            "from": [{"source": {"namespaces": [ctx.options.monitoring_namespace]}}],
            "to": [{"operation": {"methods": ["GET"], "paths": ["/metrics"]}}],
        }
    )
    return {
        "apiVersion": "security.istio.io/v1",
        "kind": "AuthorizationPolicy",
        "metadata": ctx.meta(name, ctx.labels(name, "mesh")),
        "spec": {
            "selector": {"matchLabels": ctx.selector(name)},
            "action": "ALLOW",
            "rules": rules,
        },
    }


def namespace_policies(ctx: Context) -> dict[str, list[Document]]:
    mesh = ctx.arch.spec.mesh
    mode = mesh.mtls if mesh is not None else "STRICT"
    labels = ctx.labels(ctx.arch.name, "mesh")
    return {
        "peerauthentication.yaml": [
            {
                "apiVersion": "security.istio.io/v1",
                "kind": "PeerAuthentication",
                "metadata": ctx.meta("default", labels),
                "spec": {"mtls": {"mode": mode}},
            }
        ],
        "authorizationpolicy.yaml": [
            {
                "apiVersion": "security.istio.io/v1",
                "kind": "AuthorizationPolicy",
                "metadata": ctx.meta("allow-nothing", labels),
                "spec": {},
            }
        ],
    }


def request_authentication(ctx: Context, name: str, svc: Service) -> Document | None:
    """JWT validation against the issuer for a service the gateway routes authenticated calls to.

    Istio fetches the issuer's keys (jwksUri, or OpenID discovery from the issuer) and rejects
    invalid tokens; the AuthorizationPolicy then requires a valid one on the routes with auth.
    This works with Kong DB-less, where Kong's own OAuth2 plugin cannot.
    """
    if not validates_jwt(ctx) or not any(r.auth for r in ctx.graph.routed.get(name, [])):
        return None
    rule: dict[str, Any] = {"issuer": auth_issuer(ctx)}
    if ctx.options.auth_jwks_uri:
        rule["jwksUri"] = ctx.options.auth_jwks_uri
    rule["forwardOriginalToken"] = True
    return {
        "apiVersion": "security.istio.io/v1",
        "kind": "RequestAuthentication",
        "metadata": ctx.meta(name, ctx.labels(name, "mesh")),
        "spec": {"selector": {"matchLabels": ctx.selector(name)}, "jwtRules": [rule]},
    }


def service_entry(ctx: Context, name: str, svc: Service) -> Document:
    return {
        "apiVersion": "networking.istio.io/v1",
        "kind": "ServiceEntry",
        "metadata": ctx.meta(
            k8s_name(name, "external"),
            ctx.labels(name, "external-service"),
            {"scalesim.dev/replace-host": "set the provider's real host name"},
        ),
        "spec": {
            "hosts": [f"{name}.example.com"],
            "location": "MESH_EXTERNAL",
            "ports": [{"number": 443, "name": "https", "protocol": "TLS"}],
            "resolution": "DNS",
        },
    }
