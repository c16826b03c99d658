"""Text from the architecture file crossing into another language: quoted, or refused.

The generator writes YAML through a serialiser, which quotes for it; but some values land *inside*
strings of other languages, where the serialiser cannot help: PromQL selectors in alert rules and
analysis templates, Go templates in alert annotations, shell commands in the README, paths that
Kong and Istio interpret (a Kong path starting `/~` is a regular expression, an Istio
AuthorizationPolicy path with `*` is a wildcard). Every such value goes through one function here;
those that cannot be quoted safely are refused with a `GenerateError` naming the field.

Namespaces are refused here too: generating into a namespace the cluster runs on would put a
default-deny NetworkPolicy and an allow-nothing AuthorizationPolicy on its pods.
"""

from __future__ import annotations

import json
import re
import shlex

from . import kube_values
from .context import Context, GenerateError
from .graph import split_paths
from .options import GenerateOptions

__all__ = [
    "RESERVED_NAMESPACES",
    "check_design",
    "check_http_path",
    "check_kafka_topic",
    "check_namespace",
    "go_template_text",
    "promql_matcher",
    "promql_string",
    "re2_quote",
    "shell",
]

RESERVED_NAMESPACES = frozenset(
    {
        # Kubernetes' own: the control plane, cluster-wide public data, node heartbeats, and the
        # namespace every unqualified `kubectl` lands in (shared by unrelated workloads).
        "default",
        "kube-system",
        "kube-public",
        "kube-node-lease",
        # The controllers the generated objects need (docs/generate.md, "Controllers expected"),
        # in the namespaces their charts install to: policies there would cut them off.
        "istio-system",
        "istio-ingress",
        "istio-gateways",
        "kong",
        "cert-manager",
        "argo-rollouts",
        "opentelemetry-operator-system",
        "monitoring",
        "observability",
    }
)
"""Namespaces `generate` refuses. Also refused: any `kube-*` or `openshift-*` name (prefixes
Kubernetes and OpenShift reserve for system namespaces) and the namespaces `GenerateOptions` says the
cluster's shared components run in."""

_RESERVED_PREFIXES = ("kube-", "openshift-")


def check_namespace(namespace: str, options: GenerateOptions) -> None:
    """Refuse a namespace the cluster itself (or a controller we rely on) runs in."""
    shared = {
        options.kong_namespace,
        options.monitoring_namespace,
        options.istio_namespace,
        options.trace_backend_namespace,
    }
    if (
        namespace in RESERVED_NAMESPACES
        or namespace in shared
        or namespace.startswith(_RESERVED_PREFIXES)
    ):
        raise GenerateError(
            f"metadata.namespace: {namespace!r} is a system namespace (the cluster or a controller "
            "the manifests need runs there); the generated default-deny NetworkPolicy and "
            "allow-nothing AuthorizationPolicy would apply to every pod in it. Choose a namespace "
            "of your own, e.g. set `metadata.namespace: "
            f"{namespace.removeprefix('kube-')}-app`"
        )


_URL = re.compile(r"https://[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*)?")


def check_options(options: GenerateOptions) -> None:
    """Option values land in YAML, PromQL, shell commands and Istio principals: refuse the
    ones that would not be a valid value there (exit 2 with the option's name)."""
    checks: list[tuple[str, str, str | None]] = [
        (
            "kong_namespace",
            options.kong_namespace,
            kube_values.dns1123_label(options.kong_namespace),
        ),
        (
            "monitoring_namespace",
            options.monitoring_namespace,
            kube_values.dns1123_label(options.monitoring_namespace),
        ),
        (
            "istio_namespace",
            options.istio_namespace,
            kube_values.dns1123_label(options.istio_namespace),
        ),
        (
            "ingress_class",
            options.ingress_class,
            kube_values.dns1123_subdomain(options.ingress_class),
        ),
        ("tls_issuer", options.tls_issuer, kube_values.dns1123_subdomain(options.tls_issuer)),
        (
            "gateway_name",
            options.gateway_name,
            kube_values.dns1123_subdomain(options.gateway_name),
        ),
    ]
    for key, value in options.prometheus_labels:
        checks.append(("prometheus_labels", key, kube_values.label_key(key)))
        checks.append(("prometheus_labels", value, kube_values.label_value(value)))
    for name, url in (
        ("auth_issuer", options.auth_issuer),
        ("auth_jwks_uri", options.auth_jwks_uri),
    ):
        if url is not None and not _URL.fullmatch(url):
            checks.append((name, url, "is not an https:// URL without spaces or quotes"))
    if options.scrape_interval <= 0:
        checks.append(("scrape_interval", str(options.scrape_interval), "must be positive"))
    for name, value, problem in checks:
        if problem is not None:
            option = "--" + name.replace("_", "-").removesuffix("s")
            raise GenerateError(f"{option} {value!r}: {problem}")


def promql_string(value: str) -> str:
    """A PromQL double-quoted string literal holding exactly `value`.

    PromQL strings use Go's escapes; JSON's (`\\"`, `\\\\`, `\\n`, `\\uXXXX`) are a subset of them,
    so a JSON string literal is a PromQL string literal with the same value.
    """
    return json.dumps(value, ensure_ascii=False)


_RE2_META = re.compile(r"([\\.+*?()|\[\]{}^$])")


def re2_quote(value: str) -> str:
    """`value` as an RE2 regular expression matching only itself (Go's `regexp.QuoteMeta`)."""
    return _RE2_META.sub(r"\\\1", value)


def promql_matcher(label: str, value: str, op: str = "=") -> str:
    """`label<op>"value"`, the value quoted; for `=~`/`!~` the caller passes a regex it built."""
    if op not in ("=", "!=", "=~", "!~"):
        raise ValueError(f"not a PromQL matcher operator: {op}")
    if not re.fullmatch(r"[a-zA-Z_][a-zA-Z0-9_]*", label):
        raise ValueError(f"not a Prometheus label name: {label!r}")
    return f"{label}{op}{promql_string(value)}"


def go_template_text(value: str) -> str:
    """Text for a Go template (Prometheus alert annotations) that renders as itself.

    Only `{{` opens an action in Go's text/template; it is written as the action `{{"{{"}}`.
    """
    return value.replace("{{", '{{"{{"}}')


def shell(value: str) -> str:
    """One shell word, quoted when needed (`t$(touch pwned)` → `'t$(touch pwned)'`)."""
    return shlex.quote(value)


# Kafka: "Legal characters are: [a-zA-Z0-9._-]", at most 249 (Kafka's `Topic.validate`).
_KAFKA_TOPIC = re.compile(r"[a-zA-Z0-9._-]{1,249}")


def check_kafka_topic(broker: str, topic: str) -> None:
    if not _KAFKA_TOPIC.fullmatch(topic) or topic in (".", ".."):
        raise GenerateError(
            f"spec.brokers.{broker}.topics: {topic!r} is not a Kafka topic name; Kafka allows "
            "1-249 characters of letters, digits, '.', '_' and '-'"
        )


# What the API server refuses in any Ingress path of type Prefix or Exact (Kubernetes
# pkg/apis/networking/validation/validation.go: `invalidPathSequences = {"//", "/./", "/../",
# "%2f", "%2F"}`, `invalidPathSuffixes = {"/..", "/."}`, and a leading '/'). Characters: RFC 3986
# `pchar` (unreserved, sub-delims, ':', '@', or '%' and two hex digits), the set Gateway API's
# `validPathCharacters` enforces, without '*' (below) and with '{' '}' for endpoint templates.
_PCHAR = r"A-Za-z0-9/\-._~!$&'()+,;=:@"
_BAD_SEQUENCES = ("//", "/./", "/../", "%2f", "%2F")


def check_http_path(field: str, path: str, *, template: bool = False) -> None:
    """Refuse a path that Kubernetes, Kong or Istio would reject or read as a pattern.

    Beyond the API server's rules: `*` is refused (an Istio AuthorizationPolicy path `*`-suffixed is
    a wildcard, so `/admin*` would open every path below), `/~` is refused (Kong reads such a path
    as a regular expression), and `{`/`}` only in endpoint paths (templates like `/orders/{id}`).
    """
    problems: list[str] = []
    chars = _PCHAR + ("{}" if template else "")
    if not re.fullmatch(rf"/(?:[{chars}]|%[0-9A-Fa-f]{{2}})*", path):
        bad = sorted({c for c in path if not re.fullmatch(rf"[{chars}%]", c)})
        problems.append(
            "it must start with '/' and hold only letters, digits, -._~!$&'()+,;=:@ and "
            f"%-escapes{' and {}' if template else ''}"
            + (f" (found {', '.join(repr(c) for c in bad)})" if bad else "")
        )
    if "*" in path:
        problems.append("no '*' (Istio reads it as a wildcard in authorization paths)")
    if any(s in path for s in _BAD_SEQUENCES) or path.endswith(("/..", "/.")):
        problems.append("no '//', '/./', '/../', '%2f' and no trailing '/.' or '/..'")
    if path.startswith("/~"):
        problems.append("no leading '/~' (Kong reads it as a regular expression)")
    if problems:
        raise GenerateError(
            f"{field}: {path!r} cannot be used as an HTTP path: " + "; ".join(problems)
        )


def check_design(ctx: Context) -> None:
    """Refuse, before anything is built, text that would be unsafe in some generated file."""
    arch = ctx.arch
    spec = arch.spec
    check_options(ctx.options)
    check_namespace(ctx.ns, ctx.options)
    for key, broker in sorted(spec.brokers.items()):
        if broker.type == "kafka":
            for topic in sorted(broker.topics):
                check_kafka_topic(key, topic)
    if spec.gateway is not None:
        for i, route in enumerate(spec.gateway.routes):
            check_http_path(f"spec.gateway.routes[{i}].path", route.path)
            paths = sorted(split_paths(arch, route))
            if len(paths) > 1:
                raise GenerateError(
                    f"spec.gateway.routes[{i}] ({route.path}): its targets serve different paths "
                    f"({', '.join(paths)}); Kong rewrites a route to one upstream path, so every "
                    "target of a split must serve the same path"
                )
            if paths and "$" in paths[0]:
                raise GenerateError(
                    f"spec.gateway.routes[{i}] ({route.path}): its endpoint path {paths[0]!r} "
                    "holds `$`, which Kong's rewrite reads as a capture reference ($1); rename it"
                )
    for name, svc in sorted(spec.services.items()):
        where = f"spec.services.{name}"
        for ep_name, ep in sorted(svc.endpoints.items()):
            if ep.path is not None:
                check_http_path(f"{where}.endpoints.{ep_name}.path", ep.path, template=True)
        if svc.health is not None:
            for kind in ("readiness", "liveness", "startup"):
                probe = getattr(svc.health, kind)
                if probe is not None and probe.path is not None:
                    problem = kube_values.http_path(probe.path)
                    if problem is not None:
                        raise GenerateError(f"{where}.health.{kind}.path: {probe.path!r} {problem}")
        images = [(f"{where}.image", svc.image)]
        if svc.deployment is not None and svc.deployment.new_version is not None:
            images.append(
                (f"{where}.deployment.newVersion.image", svc.deployment.new_version.image)
            )
        for field, value in images:
            if value is not None:
                problem = kube_values.image_reference(value)
                if problem is not None:
                    raise GenerateError(f"{field}: {value!r} {problem}")
