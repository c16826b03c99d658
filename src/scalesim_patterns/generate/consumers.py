"""Kong consumers of `gateway.consumers`: a KongConsumer each, its credential Secret, and its
own `rate-limiting` KongPlugin attached through the consumer's `konghq.com/plugins` annotation
(Kong runs the consumer's plugin configuration over the route's and the global one)."""

from __future__ import annotations

from typing import Any

from .context import Context
from .datastores import PLACEHOLDER, PLACEHOLDER_NOTE
from .names import k8s_name
from .render import Document

__all__ = ["consumer_files"]


def _credential(ctx: Context, username: str, auth: str) -> dict[str, str]:
    if auth == "jwt":
        return {"algorithm": "HS256", "key": username, "secret": f"{PLACEHOLDER}-jwt-secret"}
    if auth == "key-auth":
        return {"key": f"{PLACEHOLDER}-{username}-api-key"}
    host = ctx.arch.spec.gateway.host if ctx.arch.spec.gateway else "example.com"
    return {
        "client_id": username,
        "client_secret": f"{PLACEHOLDER}-oauth2-secret",
        "name": username,
        "redirect_uris": f"https://{host}/callback",
    }


def consumer_files(
    ctx: Context, rate_limit: Any
) -> tuple[list[Document], list[Document], list[Document]]:
    """(KongConsumers, Secrets, KongPlugins) of the designed consumers. `rate_limit(ctx, name,
    limit, where)` is the gateway module's plugin builder (None when Kong cannot express it)."""
    gw = ctx.arch.spec.gateway
    if gw is None or not gw.consumers or gw.auth is None or gw.auth.type == "none":
        return [], [], []
    auth = gw.auth.type
    consumers: list[Document] = []
    secrets: list[Document] = []
    plugins: list[Document] = []
    labels = ctx.labels(ctx.arch.name, "gateway")
    for name in sorted(gw.consumers):
        spec = gw.consumers[name]
        obj = k8s_name(ctx.arch.name, f"consumer-{name}")
        secret = k8s_name(obj, auth)
        annotations = {"kubernetes.io/ingress.class": "kong"}
        if spec.rate_limit is not None:
            plugin = rate_limit(
                ctx, k8s_name(obj, "rate-limit"), spec.rate_limit, f"Consumer `{name}`"
            )
            if plugin is not None:
                plugins.append(plugin)
                annotations["konghq.com/plugins"] = plugin["metadata"]["name"]
        consumers.append(
            {
                "apiVersion": "configuration.konghq.com/v1",
                "kind": "KongConsumer",
                "metadata": ctx.meta(obj, labels, annotations),
                "username": name,
                "credentials": [secret],
            }
        )
        secrets.append(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": ctx.meta(
                    secret,
                    {**labels, "konghq.com/credential": auth},
                    {"scalesim.dev/placeholder": PLACEHOLDER_NOTE},
                ),
                "type": "Opaque",
                "stringData": dict(sorted(_credential(ctx, name, auth).items())),
            }
        )
    return consumers, secrets, plugins
