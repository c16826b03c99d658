"""Kong: one Ingress per route, KongPlugins for auth and rate limits, a consumer with credentials.

One Ingress per route because Kong reads methods, strip-path and plugins per Ingress. Kong allows
one instance of a plugin per route, so a route's own rate limit replaces the gateway-wide one on
that route. With the mesh on, the routed Services carry `ingress.kubernetes.io/service-upstream`
so Kong sends to the Service and the Kong pod's sidecar applies the VirtualService (weighted
strangler splits, canary weights); without the mesh a split route goes to its heaviest target.
"""

from __future__ import annotations

import re
from typing import Any

from scalesim_patterns.model.edge import Gateway, Route
from scalesim_patterns.model.resilience import FixedWindowRateLimit, RateLimit

from .consumers import consumer_files
from .context import Context
from .escape import shell
from .graph import ingress_backend, upstream_path
from .names import k8s_name, path_slug
from .render import Document
from .secrets import SecretSpec

__all__ = ["auth_issuer", "gateway_files", "route_names", "tls_secret", "validates_jwt"]

_AUTH_PLUGIN = {"jwt": "jwt", "key-auth": "key-auth", "oauth2": "jwt"}


def route_names(gateway: Gateway) -> list[str]:
    """Object names of the routes' Ingresses: the path's slug, plus the methods when needed."""
    slugs = [path_slug(r.path) for r in gateway.routes]
    names: list[str] = []
    for route, slug in zip(gateway.routes, slugs, strict=True):
        name = k8s_name("route", slug)
        if slugs.count(slug) > 1:
            methods = "-".join(m.lower() for m in sorted(route.methods)) if route.methods else "any"
            name = k8s_name("route", f"{slug}-{methods}")
        names.append(name)
    return names


def _rate_limit_config(limit: FixedWindowRateLimit) -> dict[str, Any]:
    config: dict[str, Any] = {}
    for window in ("second", "minute", "hour", "day"):
        value = getattr(limit, window)
        if value is not None:
            config[window] = value
    config["policy"] = limit.policy
    if limit.limit_by != "consumer":  # Kong's default
        config["limit_by"] = limit.limit_by
    return config


def _plugin(ctx: Context, name: str, plugin: str, config: dict[str, Any]) -> Document:
    doc: dict[str, Any] = {
        "apiVersion": "configuration.konghq.com/v1",
        "kind": "KongPlugin",
        "metadata": ctx.meta(name, ctx.labels(ctx.arch.name, "gateway")),
        "plugin": plugin,
    }
    if config:
        doc["config"] = config
    return doc


def _rate_limit(ctx: Context, name: str, limit: RateLimit, where: str) -> Document | None:
    if not isinstance(limit, FixedWindowRateLimit):
        ctx.note(
            f"{where}: a token-bucket rate limit has no Kong OSS plugin; it was left out "
            "(Kong's `rate-limiting` counts fixed windows)."
        )
        return None
    if limit.policy == "redis":
        ctx.note(
            f"{where}: rate-limiting policy `redis` needs `config.redis.host` set in the plugin."
        )
    if limit.policy == "cluster":
        ctx.note(
            f"{where}: rate-limiting policy `cluster` needs Kong with a database (not DB-less)."
        )
    return _plugin(ctx, name, "rate-limiting", _rate_limit_config(limit))


def tls_secret(ctx: Context) -> str:
    return k8s_name(ctx.arch.name, "tls")


def _ingress(
    ctx: Context, name: str, route: Route, plugins: list[str], backend: str, port: int
) -> Document:
    upstream = upstream_path(ctx.arch, route)
    # Kong keeps the public Host by default; with it the Kong pod's sidecar finds no
    # VirtualService for the request, sends plain text past the mesh and STRICT mTLS refuses it.
    # preserve-host false + the Service's host-header make Kong send the in-mesh host
    # (docs/generate.md, "API gateway").
    annotations = {
        "konghq.com/strip-path": "false",
        "konghq.com/preserve-host": "false",
        "konghq.com/protocols": "https",
        "konghq.com/https-redirect-status-code": "308",
    }
    path, path_type = route.path, "Prefix"
    if "{" in upstream:
        # A templated endpoint (`/items/{id}`): the rest of the public path fills the template
        # (`/products/item/42` -> `/items/42`), through a Kong regex path and its capture.
        path, path_type = (
            "/~" + re.escape(route.path.rstrip("/")) + "/(.*)",
            "ImplementationSpecific",
        )
        annotations["konghq.com/rewrite"] = upstream[: upstream.index("{")] + "$1"
    elif upstream != route.path:
        # The endpoint serves `upstream`, not the public path: Kong rewrites it (KIC's
        # RewriteURIs feature gate), so gateway, mesh and service all see the endpoint's path.
        annotations["konghq.com/rewrite"] = upstream
    if route.methods:
        annotations["konghq.com/methods"] = ",".join(route.methods)
    if plugins:
        annotations["konghq.com/plugins"] = ",".join(plugins)
    host = ctx.arch.spec.gateway.host if ctx.arch.spec.gateway else ""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": ctx.meta(name, ctx.labels(backend, "gateway"), annotations),
        "spec": {
            "ingressClassName": ctx.options.ingress_class,
            "tls": [{"hosts": [host], "secretName": tls_secret(ctx)}],
            "rules": [
                {
                    "host": host,
                    "http": {
                        "paths": [
                            {
                                "path": path,
                                "pathType": path_type,
                                "backend": {"service": {"name": backend, "port": {"number": port}}},
                            }
                        ]
                    },
                }
            ],
        },
    }


def _http_route(ctx: Context, name: str, route: Route, plugins: list[str]) -> Document:
    """A split route without the mesh: weighted backends, rewritten to the endpoint's path."""
    gateway = ctx.arch.spec.gateway
    assert gateway is not None
    upstream = upstream_path(ctx.arch, route)
    weights: dict[str, int] = {}
    for ref, weight in route.targets():
        service = ref.partition(".")[0]
        weights[service] = weights.get(service, 0) + weight
    matches: list[dict[str, Any]] = []
    methods: list[str | None] = list(route.methods) if route.methods else [None]
    for method in methods:
        match: dict[str, Any] = {"path": {"type": "PathPrefix", "value": route.path}}
        if method is not None:
            match["method"] = method
        matches.append(match)
    rule: dict[str, Any] = {"matches": matches}
    if upstream != route.path:
        rule["filters"] = [
            {
                "type": "URLRewrite",
                "urlRewrite": {
                    "path": {"type": "ReplacePrefixMatch", "replacePrefixMatch": upstream}
                },
            }
        ]
    rule["backendRefs"] = [
        {"name": svc, "port": ctx.arch.spec.services[svc].port, "weight": weight}
        for svc, weight in sorted(weights.items())
        if svc in ctx.arch.spec.services and not ctx.arch.spec.services[svc].external
    ]
    annotations = {"konghq.com/strip-path": "false", "konghq.com/protocols": "https"}
    if plugins:
        annotations["konghq.com/plugins"] = ",".join(plugins)
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": ctx.meta(name, ctx.labels(ctx.arch.name, "gateway"), annotations),
        "spec": {
            "parentRefs": [
                {
                    "group": "gateway.networking.k8s.io",
                    "kind": "Gateway",
                    "name": ctx.options.gateway_name,
                    "namespace": ctx.options.kong_namespace,
                }
            ],
            "hostnames": [gateway.host],
            "rules": [rule],
        },
    }


def _certificate(ctx: Context, host: str) -> Document:
    """The gateway host's certificate, issued by cert-manager (one for all Ingresses)."""
    return {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": ctx.meta(tls_secret(ctx), ctx.labels(ctx.arch.name, "gateway")),
        "spec": {
            "secretName": tls_secret(ctx),
            "dnsNames": [host],
            "issuerRef": {
                "name": ctx.options.tls_issuer,
                "kind": "ClusterIssuer",
                "group": "cert-manager.io",
            },
        },
    }


def auth_issuer(ctx: Context) -> str:
    """The OIDC issuer whose tokens the gateway accepts (GenerateOptions.auth_issuer)."""
    if ctx.options.auth_issuer:
        return ctx.options.auth_issuer
    host = ctx.arch.spec.gateway.host if ctx.arch.spec.gateway else "example.com"
    domain = host.split(".", 1)[1] if host.count(".") >= 2 else host
    return f"https://auth.{domain}"


def validates_jwt(ctx: Context) -> bool:
    """JWT / OAuth2 access tokens: validated against the issuer (Istio with the mesh, else Kong)."""
    gateway = ctx.arch.spec.gateway
    return (
        gateway is not None and gateway.auth is not None and gateway.auth.type in ("jwt", "oauth2")
    )


def _consumer(ctx: Context, auth: str) -> list[Document]:
    """Kong's consumer for the issuer (jwt) or the API client (key-auth); its credential Secret
    holds no value in the manifests (secrets.py makes it, or the user does)."""
    if auth == "key-auth":
        name = k8s_name(ctx.arch.name, "client")
    else:
        name = k8s_name(ctx.arch.name, "issuer")
    secret = k8s_name(name, auth)
    if auth == "key-auth":
        # KIC reads credentials from Secrets labelled with their type; the key is random.
        ctx.secrets.append(
            SecretSpec(
                secret,
                ("key",),
                (),
                (*ctx.labels(ctx.arch.name, "gateway").items(), ("konghq.com/credential", auth)),
            )
        )
    return [
        {
            "apiVersion": "configuration.konghq.com/v1",
            "kind": "KongConsumer",
            "metadata": ctx.meta(
                name,
                ctx.labels(ctx.arch.name, "gateway"),
                {"kubernetes.io/ingress.class": ctx.options.ingress_class},
            ),
            "username": name,
            "credentials": [secret],
        }
    ]


def _consumer_match_note(ctx: Context, route: Route, kong_auth: bool) -> None:
    """Say where a route's consumer matches are enforced, or why they cannot be."""
    if not ctx.mesh:
        ctx.note(
            f"Route `{route.path}`: its consumer matches (byConsumer) are not in the generated "
            "configuration: Kong chooses a route before its auth plugin identifies the "
            "consumer, so Kong OSS alone cannot route by consumer (a header match on a Kong "
            "route or HTTPRoute would trust whatever the client sends). Turn the mesh on: the "
            "VirtualService then matches the `X-Consumer-Username` header Kong sets."
        )
    elif not kong_auth:
        ctx.note(
            f"Route `{route.path}`: with the mesh, Istio validates the JWTs and Kong identifies "
            "no consumer, so no `X-Consumer-Username` header reaches the VirtualService's "
            "consumer matches and every request takes the route's own target; use "
            "`auth: {type: key-auth}` to route by consumer."
        )


def gateway_files(ctx: Context) -> dict[str, list[Document]]:
    gateway = ctx.arch.spec.gateway
    if gateway is None:
        return {}
    spec = ctx.arch.spec
    plugins: list[Document] = []
    auth_type = gateway.auth.type if gateway.auth is not None else "none"
    auth_name = k8s_name(ctx.arch.name, "auth")
    kong_auth = auth_type == "key-auth" or (auth_type != "none" and not ctx.mesh)
    if auth_type == "oauth2":
        ctx.note(
            "Gateway: OAuth2 is validated as JWT access tokens from the issuer "
            f"`{auth_issuer(ctx)}` (Kong's oauth2 plugin needs a database; the Kong ingress "
            "controller runs DB-less). Set the issuer with `--auth-issuer`."
        )
    if kong_auth:
        config: dict[str, Any] = {}
        if auth_type in ("jwt", "oauth2"):
            config = {"claims_to_verify": ["exp"], "key_claim_name": "iss"}
        else:
            config = {"hide_credentials": True}
        plugins.append(_plugin(ctx, auth_name, _AUTH_PLUGIN[auth_type], config))
    global_limit: str | None = None
    if gateway.rate_limit is not None:
        doc = _rate_limit(ctx, k8s_name(ctx.arch.name, "rate-limit"), gateway.rate_limit, "Gateway")
        if doc is not None:
            plugins.append(doc)
            global_limit = doc["metadata"]["name"]
            designed = gateway.rate_limit
            if (
                isinstance(designed, FixedWindowRateLimit)
                and designed.policy == "local"
                and gateway.replicas > 1
            ):
                ctx.note(
                    f"Gateway: rate-limiting policy `local` counts per Kong replica; with "
                    f"{gateway.replicas} replicas up to {gateway.replicas}× the limit passes."
                )
    ingresses: list[Document] = []
    http_routes: list[Document] = []
    for route, name in zip(gateway.routes, route_names(gateway), strict=True):
        attached: list[str] = []
        if kong_auth and route.auth:
            attached.append(auth_name)
        limit = global_limit
        if route.rate_limit is not None:
            doc = _rate_limit(
                ctx, k8s_name(name, "rate-limit"), route.rate_limit, f"Route `{route.path}`"
            )
            if doc is not None:
                plugins.append(doc)
                limit = doc["metadata"]["name"]
        if limit is not None:
            attached.append(limit)
        if route.by_consumer:
            _consumer_match_note(ctx, route, kong_auth)
        backend = ingress_backend(ctx.arch, route)
        target = spec.services.get(backend)
        if target is None or target.external:
            ctx.note(f"Route `{route.path}`: its target `{backend}` is not deployed; no Ingress.")
            continue
        if route.split is not None and not ctx.mesh:
            # An Ingress cannot weight backends: without the mesh the split is a Gateway API
            # HTTPRoute, whose weighted backendRefs Kong balances itself.
            http_routes.append(_http_route(ctx, name, route, attached))
            continue
        ingresses.append(_ingress(ctx, name, route, attached, backend, target.port))
        if target.protocol == "grpc":  # Kong accepts gRPC on this route (HTTP/2 listener)
            ingresses[-1]["metadata"]["annotations"]["konghq.com/protocols"] = "grpc,grpcs"
    files: dict[str, list[Document]] = {}
    if ingresses:
        files["ingress.yaml"] = ingresses
    if http_routes:
        files["httproute.yaml"] = http_routes
        ctx.note(
            f"Gateway: split routes are Gateway API HTTPRoutes attached to the Gateway "
            f"`{ctx.options.kong_namespace}/{ctx.options.gateway_name}` (Kong's, with a TLS "
            "listener for the host and `allowedRoutes.namespaces.from: All`); install the "
            "Gateway API CRDs (standard channel, v1.1+)."
        )
    if plugins:
        files["kongplugin.yaml"] = plugins
    if kong_auth:
        files["kongconsumer.yaml"] = _consumer(ctx, auth_type)
        if auth_type != "key-auth":
            consumer = k8s_name(ctx.arch.name, "issuer")
            secret = k8s_name(consumer, "jwt")
            ctx.note(
                f"Gateway: Kong validates RS256 tokens of `{auth_issuer(ctx)}` with the issuer's "
                f"public key; create its credential before applying: `kubectl -n {ctx.ns} create "
                f"secret generic {secret} {shell('key=' + auth_issuer(ctx))} "
                "--from-literal=algorithm=RS256 --from-file=rsa_public_key=issuer.pem` and "
                f"`kubectl -n {ctx.ns} label secret {secret} konghq.com/credential=jwt` "
                "(without the mesh, Kong OSS cannot fetch the issuer's JWKS itself)."
            )
    named, own_limits = consumer_files(ctx, _rate_limit)  # gateway.consumers
    if named:
        files["kongconsumer.yaml"] = [*files.get("kongconsumer.yaml", []), *named]
    if own_limits:
        files["kongplugin.yaml"] = [*files.get("kongplugin.yaml", []), *own_limits]
    if ingresses or http_routes:
        files["certificate.yaml"] = [_certificate(ctx, gateway.host)]
    return files
