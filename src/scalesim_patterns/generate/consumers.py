"""Kong consumers of `gateway.consumers`: a KongConsumer each, its credential Secret, and its
own `rate-limiting` KongPlugin attached through the consumer's `konghq.com/plugins` annotation
(Kong runs the consumer's plugin configuration over the route's and the global one)."""

from __future__ import annotations

from typing import Any

from .context import Context
from .escape import shell
from .names import k8s_name
from .render import Document
from .secrets import SecretSpec

__all__ = ["consumer_files"]


def consumer_files(ctx: Context, rate_limit: Any) -> tuple[list[Document], list[Document]]:
    """(KongConsumers, KongPlugins) of the designed consumers, when Kong authenticates (key-auth,
    or jwt without the mesh). `rate_limit(ctx, name, limit, where)` is the gateway module's
    plugin builder (None when Kong cannot express it).

    No credential value is written: a key-auth consumer's key is a random git-ignored file fed to
    a secretGenerator (secrets.py); a jwt consumer's credential (its `iss` and the public key it
    signs with) is created by the user, and the README says how."""
    gw = ctx.arch.spec.gateway
    if gw is None or not gw.consumers or gw.auth is None or gw.auth.type == "none":
        return [], []
    auth = gw.auth.type
    if auth != "key-auth" and ctx.mesh:
        ctx.note(
            "Gateway consumers: with the mesh, Istio validates the tokens and Kong knows no "
            "consumer, so per-consumer limits apply per client IP (Kong's fallback)."
        )
        return [], []
    consumers: list[Document] = []
    plugins: list[Document] = []
    labels = ctx.labels(ctx.arch.name, "gateway")
    credential = "key-auth" if auth == "key-auth" else "jwt"
    for name in sorted(gw.consumers):
        spec = gw.consumers[name]
        obj = k8s_name(ctx.arch.name, f"consumer-{name}")
        secret = k8s_name(obj, credential)
        annotations = {"kubernetes.io/ingress.class": ctx.options.ingress_class}
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
        if credential == "key-auth":
            ctx.secrets.append(
                SecretSpec(
                    secret, ("key",), (), (*labels.items(), ("konghq.com/credential", credential))
                )
            )
        else:
            ctx.note(
                f"Gateway consumer `{name}`: create its JWT credential before applying: "
                f"`kubectl -n {ctx.ns} create secret generic {secret} "
                f"{shell('key=' + name)} --from-literal=algorithm=RS256 "
                "--from-file=rsa_public_key=<its public key>.pem` and "
                f"`kubectl -n {ctx.ns} label secret {secret} konghq.com/credential=jwt`."
            )
    return consumers, plugins
