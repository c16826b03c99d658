"""Kong: one Ingress per route, KongPlugins for auth and rate limits, a consumer with credentials.

One Ingress per route because Kong reads methods, strip-path and plugins per Ingress. Kong allows
one instance of a plugin per route, so a route's own rate limit replaces the gateway-wide one on
that route. With the mesh on, the routed Services carry `ingress.kubernetes.io/service-upstream`
so Kong sends to the Service and the Kong pod's sidecar applies the VirtualService (weighted
strangler splits, canary weights); without the mesh a split route goes to its heaviest target.
"""

from __future__ import annotations

from typing import Any

from scalesim_patterns.model.edge import Gateway, Route
from scalesim_patterns.model.resilience import FixedWindowRateLimit, RateLimit

from .consumers import consumer_files
from .context import Context
from .datastores import PLACEHOLDER, PLACEHOLDER_NOTE
from .graph import ingress_backend
from .names import k8s_name, path_slug
from .render import Document

__all__ = ["gateway_files", "route_names"]

_AUTH_PLUGIN = {"jwt": "jwt", "key-auth": "key-auth", "oauth2": "oauth2"}


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


def _ingress(
    ctx: Context, name: str, route: Route, plugins: list[str], backend: str, port: int
) -> Document:
    annotations = {
        "konghq.com/strip-path": "true" if route.strip_path else "false",
    }
    if route.methods:
        annotations["konghq.com/methods"] = ",".join(route.methods)
    if plugins:
        annotations["konghq.com/plugins"] = ",".join(plugins)
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": ctx.meta(name, ctx.labels(backend, "gateway"), annotations),
        "spec": {
            "ingressClassName": "kong",
            "rules": [
                {
                    "host": ctx.arch.spec.gateway.host if ctx.arch.spec.gateway else "",
                    "http": {
                        "paths": [
                            {
                                "path": route.path,
                                "pathType": "Prefix",
                                "backend": {"service": {"name": backend, "port": {"number": port}}},
                            }
                        ]
                    },
                }
            ],
        },
    }


def _consumer(ctx: Context, auth: str) -> list[Document]:
    name = k8s_name(ctx.arch.name, "client")
    secret = k8s_name(name, auth)
    data: dict[str, str]
    if auth == "jwt":
        data = {"algorithm": "HS256", "key": name, "secret": f"{PLACEHOLDER}-jwt-secret"}
    elif auth == "key-auth":
        data = {"key": f"{PLACEHOLDER}-api-key"}
    else:
        data = {
            "client_id": name,
            "client_secret": f"{PLACEHOLDER}-oauth2-secret",
            "name": name,
            "redirect_uris": f"https://{ctx.arch.spec.gateway.host if ctx.arch.spec.gateway else 'example.com'}/callback",
        }
    return [
        {
            "apiVersion": "configuration.konghq.com/v1",
            "kind": "KongConsumer",
            "metadata": ctx.meta(
                name,
                ctx.labels(ctx.arch.name, "gateway"),
                {"kubernetes.io/ingress.class": "kong"},
            ),
            "username": name,
            "credentials": [secret],
        },
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": ctx.meta(
                secret,
                {**ctx.labels(ctx.arch.name, "gateway"), "konghq.com/credential": auth},
                {"scalesim.dev/placeholder": PLACEHOLDER_NOTE},
            ),
            "type": "Opaque",
            "stringData": dict(sorted(data.items())),
        },
    ]


def gateway_files(ctx: Context) -> dict[str, list[Document]]:
    gateway = ctx.arch.spec.gateway
    if gateway is None:
        return {}
    spec = ctx.arch.spec
    plugins: list[Document] = []
    auth_type = gateway.auth.type if gateway.auth is not None else "none"
    auth_name = k8s_name(ctx.arch.name, "auth")
    if auth_type != "none":
        config: dict[str, Any] = {}
        if auth_type == "jwt":
            config = {"claims_to_verify": ["exp"]}
        elif auth_type == "oauth2":
            config = {"enable_client_credentials": True}
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
    for route, name in zip(gateway.routes, route_names(gateway), strict=True):
        attached: list[str] = []
        if auth_type != "none" and route.auth:
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
        backend = ingress_backend(ctx.arch, route)
        target = spec.services.get(backend)
        if target is None or target.external:
            ctx.note(f"Route `{route.path}`: its target `{backend}` is not deployed; no Ingress.")
            continue
        if route.split is not None and not ctx.mesh:
            ctx.note(
                f"Route `{route.path}`: a weighted split needs the mesh (an Istio VirtualService) or "
                "a Kong upstream with weighted targets; an Ingress cannot weight backends, so all "
                f"traffic goes to `{backend}`, the heaviest target."
            )
        ingresses.append(_ingress(ctx, name, route, attached, backend, target.port))
        if target.protocol == "grpc":  # Kong accepts gRPC on this route (HTTP/2 listener)
            ingresses[-1]["metadata"]["annotations"]["konghq.com/protocols"] = "grpc,grpcs"
    files: dict[str, list[Document]] = {}
    if ingresses:
        files["ingress.yaml"] = ingresses
    if plugins:
        files["kongplugin.yaml"] = plugins
    if auth_type != "none":
        consumer, secret = _consumer(ctx, auth_type)
        files["kongconsumer.yaml"] = [consumer]
        files["secret.yaml"] = [secret]
    named, secrets, own_limits = consumer_files(ctx, _rate_limit)  # gateway.consumers
    if named:
        files["kongconsumer.yaml"] = [*files.get("kongconsumer.yaml", []), *named]
        files["secret.yaml"] = [*files.get("secret.yaml", []), *secrets]
    if own_limits:
        files["kongplugin.yaml"] = [*files.get("kongplugin.yaml", []), *own_limits]
    return files
