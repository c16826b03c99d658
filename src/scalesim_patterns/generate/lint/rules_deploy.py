"""Rules for what passes every schema yet does not work on a cluster (SSP060-SSP069).

Each rule is one class of mistake found reviewing generated output against a cluster with Istio,
Kong (DB-less), Argo Rollouts and the Prometheus operator (issue 13); docs/lint.md gives the
documentation each follows. They look across objects of one namespace, as Kong, the mesh and
Argo do.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from scalesim_patterns.generate.lint.context import RuleContext
from scalesim_patterns.generate.lint.document import Document
from scalesim_patterns.generate.lint.emit import finding
from scalesim_patterns.generate.lint.findings import Finding
from scalesim_patterns.generate.lint.shapes import at, items
from scalesim_patterns.model.units import parse_duration

SYSTEM_NAMESPACES = ("kube-system", "kube-public", "kube-node-lease")
PLACEHOLDER = re.compile(
    r"replace[-_ ]?me|change[-_ ]?me|changeit|placeholder|^todo$|^<.*>$|^x{3,}$|^\*{3,}$",
    re.IGNORECASE,
)
# The last operation of the query: `... or [on()] vector(N)`, or the whole query in scalar().
_GUARD = re.compile(
    r"\bor\s+(?:on\s*\(\s*\)\s*)?vector\s*\(\s*[-+0-9.e]+\s*\)\s*$|^\s*scalar\s*\(.*\)\s*$",
    re.IGNORECASE | re.DOTALL,
)
_RANGE = re.compile(
    r"\b(?:rate|irate|increase|delta|idelta|deriv|[a-z_]+_over_time)\s*\([^\[]*\[([0-9a-z.]+)\]"
)


def _is_kong(ingress: Document) -> bool:
    cls = ingress.get("spec", "ingressClassName") or ingress.get(
        "metadata", "annotations", "kubernetes.io/ingress.class"
    )
    annotations = ingress.get("metadata", "annotations") or {}
    return (isinstance(cls, str) and "kong" in cls) or any(
        str(k).startswith("konghq.com/") for k in annotations
    )


def _annotation(doc: Document, key: str) -> str | None:
    value = doc.get("metadata", "annotations", key)
    return str(value) if value is not None else None


def _meshed_hosts(ctx: RuleContext, namespace: str | None) -> set[str]:
    """Short names of the services a VirtualService in the namespace routes."""
    hosts: set[str] = set()
    for vs in ctx.in_namespace("networking.istio.io", "VirtualService", namespace):
        for host in items(vs.get("spec", "hosts")):
            hosts.add(str(host).split(".")[0])
    return hosts


def _injected(ctx: RuleContext, namespace: str | None) -> bool:
    for ns in ctx.of_kind("", "Namespace"):
        if ns.name == namespace and ns.labels.get("istio-injection") == "enabled":
            return True
    return False


def _backends(ingress: Document) -> Iterator[tuple[tuple[str | int, ...], str, str]]:
    """(path to the backend, service name, public path) of each Ingress path."""
    for i, rule in enumerate(items(ingress.get("spec", "rules"))):
        if not isinstance(rule, dict):
            continue
        for j, path in enumerate(items(at(rule, "http", "paths"))):
            if not isinstance(path, dict):
                continue
            backend = path.get("backend")
            service = backend.get("service") if isinstance(backend, dict) else None
            name = service.get("name") if isinstance(service, dict) else None
            if isinstance(name, str):
                yield (
                    ("spec", "rules", i, "http", "paths", j, "backend", "service", "name"),
                    name,
                    str(path.get("path") or "/"),
                )


def _kong_mesh(ctx: RuleContext) -> Iterator[Finding]:
    """SSP060 Kong to a meshed Service: upstream by Service, in-mesh Host (SSP067: paths)."""
    for ingress in ctx.of_kind("networking.k8s.io", "Ingress"):
        if not _is_kong(ingress):
            continue
        ns = ingress.namespace
        meshed = _meshed_hosts(ctx, ns)
        injected = _injected(ctx, ns)
        rewritten = (
            _annotation(ingress, "konghq.com/rewrite") is not None
            or (_annotation(ingress, "konghq.com/strip-path") or "true") != "false"
        )
        for path, backend, public in _backends(ingress):
            if backend not in meshed and not injected:
                continue
            services = ctx.named("Service", ns, backend)
            service = services[0] if services else None
            upstream = service is not None and (
                _annotation(service, "ingress.kubernetes.io/service-upstream") == "true"
            )
            host_ok = _annotation(ingress, "konghq.com/preserve-host") == "false" or (
                service is not None and _annotation(service, "konghq.com/host-header") is not None
            )
            if not upstream:
                yield finding(
                    ingress,
                    "SSP060",
                    path,
                    f"Kong balances over pod IPs of the meshed Service {backend!r}, past its "
                    "sidecar's routing: annotate the Service "
                    'ingress.kubernetes.io/service-upstream: "true"',
                )
            if not host_ok:
                yield finding(
                    ingress,
                    "SSP060",
                    ("metadata", "annotations"),
                    f"Kong keeps the public Host, so the Kong sidecar finds no route for "
                    f"{backend!r}, sends plain text and STRICT mTLS refuses it: set "
                    'konghq.com/preserve-host: "false" (or the Service\'s konghq.com/host-header)',
                )
            if rewritten:
                yield from _stale_mesh_match(ctx, ingress, backend, public)


def _stale_mesh_match(
    ctx: RuleContext, ingress: Document, backend: str, public: str
) -> Iterator[Finding]:
    """SSP067: a mesh rule on the public path after Kong rewrote or stripped it never matches."""
    for vs in ctx.in_namespace("networking.istio.io", "VirtualService", ingress.namespace):
        if backend not in {str(h).split(".")[0] for h in items(vs.get("spec", "hosts"))}:
            continue
        for i, route in enumerate(items(vs.get("spec", "http"))):
            for j, match in enumerate(items(at(route, "match"))):
                value = at(match, "uri", "prefix") or at(match, "uri", "exact")
                if at(match, "sourceNamespace") and value == public:
                    yield finding(
                        vs,
                        "SSP067",
                        ("spec", "http", i, "match", j, "uri"),
                        f"Kong rewrites or strips {public!r} (Ingress {ingress.name}) before the "
                        "sidecar sees the request, so this match never applies; match the path "
                        "Kong forwards",
                    )


def _kong_plugins(ctx: RuleContext) -> Iterator[Finding]:
    """SSP061: plugins that need Kong's database cannot run under the DB-less controller."""
    for kind in ("KongPlugin", "KongClusterPlugin"):
        for plugin in ctx.of_kind("configuration.konghq.com", kind):
            if plugin.get("plugin") == "oauth2":
                yield finding(
                    plugin,
                    "SSP061",
                    ("plugin",),
                    "the oauth2 plugin stores tokens in Kong's database and does not work with "
                    "the DB-less Kong ingress controller; validate JWTs from your issuer (Istio "
                    "RequestAuthentication, or Kong's jwt plugin with the issuer's key)",
                )


def _ingress_tls(ctx: RuleContext) -> Iterator[Finding]:
    """SSP062: every Ingress host is served over TLS."""
    for ingress in ctx.of_kind("networking.k8s.io", "Ingress"):
        covered: set[str] = set()
        for entry in items(ingress.get("spec", "tls")):
            if isinstance(entry, dict) and entry.get("secretName"):
                covered.update(str(h) for h in items(entry.get("hosts")))
        for i, rule in enumerate(items(ingress.get("spec", "rules"))):
            host = rule.get("host") if isinstance(rule, dict) else None
            if host is None or str(host) not in covered:
                yield finding(
                    ingress,
                    "SSP062",
                    ("spec", "rules", i, "host"),
                    f"host {host or '(any)'} has no spec.tls entry with a secretName: credentials "
                    "and tokens would cross the network in clear text (cert-manager can issue "
                    "the certificate)",
                )


def _queries(doc: Document) -> Iterator[tuple[tuple[str | int, ...], str]]:
    for i, metric in enumerate(items(doc.get("spec", "metrics"))):
        query = at(metric, "provider", "prometheus", "query")
        if isinstance(query, str):
            yield ("spec", "metrics", i, "provider", "prometheus", "query"), query


def _analysis(ctx: RuleContext) -> Iterator[Finding]:
    """SSP063 guarded analysis queries; SSP064 rate windows of at least four scrapes."""
    for kind in ("AnalysisTemplate", "ClusterAnalysisTemplate"):
        for doc in ctx.of_kind("argoproj.io", kind):
            for path, query in _queries(doc):
                if not _GUARD.search(query):
                    yield finding(
                        doc,
                        "SSP063",
                        path,
                        "an empty result (no 5xx series yet, no traffic) is an Error to Argo "
                        "Rollouts and aborts the rollout after consecutiveErrorLimit; guard the "
                        "query (`... or on() vector(0)`, or `scalar(...)`) so a healthy release "
                        "returns a number",
                    )
    scrape = _scrape_intervals(ctx)
    for doc in ctx.documents:
        if (doc.group, doc.kind) not in {
            ("argoproj.io", "AnalysisTemplate"),
            ("argoproj.io", "ClusterAnalysisTemplate"),
            ("monitoring.coreos.com", "PrometheusRule"),
        }:
            continue
        interval = scrape.get(doc.namespace) or scrape.get(None)
        if interval is None:
            continue
        for path, query in _rule_queries(doc):
            for window in _RANGE.findall(query):
                seconds = _seconds(window)
                if seconds is not None and seconds < 4 * interval:
                    yield finding(
                        doc,
                        "SSP064",
                        path,
                        f"rate window [{window}] spans fewer than 4 scrapes of {interval:g}s; "
                        "a rate needs two samples and one missed scrape empties it — use "
                        f"at least [{_fmt(4 * interval)}]",
                    )


def _rule_queries(doc: Document) -> Iterator[tuple[tuple[str | int, ...], str]]:
    if doc.kind == "PrometheusRule":
        for i, group in enumerate(items(doc.get("spec", "groups"))):
            for j, rule in enumerate(items(at(group, "rules"))):
                expr = at(rule, "expr")
                if isinstance(expr, str):
                    yield ("spec", "groups", i, "rules", j, "expr"), expr
    else:
        yield from _queries(doc)


def _seconds(text: str) -> float | None:
    try:
        return float(parse_duration(text))
    except (ValueError, TypeError):
        return None


def _fmt(seconds: float) -> str:
    return f"{int(seconds // 60)}m" if seconds % 60 == 0 else f"{int(seconds)}s"


def _scrape_intervals(ctx: RuleContext) -> dict[str | None, float]:
    """Longest scrape interval of the monitors in each namespace (None: of all of them)."""
    out: dict[str | None, float] = {}
    for kind, key in (("ServiceMonitor", "endpoints"), ("PodMonitor", "podMetricsEndpoints")):
        for monitor in ctx.of_kind("monitoring.coreos.com", kind):
            for endpoint in items(monitor.get("spec", key)):
                value = (endpoint or {}).get("interval") if isinstance(endpoint, dict) else None
                seconds = _seconds(str(value)) if value is not None else None
                if seconds is None:
                    continue
                for ns in (monitor.namespace, None):
                    out[ns] = max(out.get(ns, 0.0), seconds)
    return out


def _metrics_off(ctx: RuleContext) -> Iterator[Finding]:
    """SSP065: OTEL_SDK_DISABLED switches metrics off where analyses or alerts need them."""
    wanted = {
        doc.namespace
        for doc in ctx.documents
        if (doc.group, doc.kind)
        in {
            ("argoproj.io", "AnalysisTemplate"),
            ("monitoring.coreos.com", "ServiceMonitor"),
            ("monitoring.coreos.com", "PrometheusRule"),
        }
    }
    message = (
        "OTEL_SDK_DISABLED=true turns the OpenTelemetry SDK's metrics off too, so the analyses "
        "and alerts of this namespace get no data; switch tracing off with "
        "OTEL_TRACES_EXPORTER=none instead"
    )
    for cm in ctx.of_kind("", "ConfigMap"):
        if cm.namespace in wanted and str(cm.get("data", "OTEL_SDK_DISABLED")).lower() == "true":
            yield finding(cm, "SSP065", ("data", "OTEL_SDK_DISABLED"), message)
    for template in ctx.templates:
        if template.doc.namespace not in wanted:
            continue
        for i, container in enumerate(items(template.spec.get("containers"))):
            for j, env in enumerate(items(at(container, "env"))):
                if (
                    isinstance(env, dict)
                    and env.get("name") == "OTEL_SDK_DISABLED"
                    and str(env.get("value")).lower() == "true"
                ):
                    yield finding(
                        template.doc,
                        "SSP065",
                        (*template.path, "spec", "containers", i, "env", j),
                        message,
                    )


def _secrets(ctx: RuleContext) -> Iterator[Finding]:
    """SSP066: a Secret holding a placeholder applies cleanly and starts with a known password."""
    for secret in ctx.of_kind("", "Secret"):
        if _annotation(secret, "scalesim.dev/placeholder") is not None:
            yield finding(
                secret,
                "SSP066",
                ("metadata", "annotations", "scalesim.dev/placeholder"),
                "marked as a placeholder: generate real values (a secretGenerator fed by "
                "git-ignored files) or reference an external secret store",
            )
            continue
        for field in ("stringData", "data"):
            values: Any = secret.get(field)
            if not isinstance(values, dict):
                continue
            for key, value in values.items():
                text = str(value)
                if field == "data":
                    import base64
                    import binascii

                    try:
                        text = base64.b64decode(text, validate=True).decode("utf-8", "replace")
                    except (binascii.Error, ValueError):
                        continue
                if PLACEHOLDER.search(text.strip()):
                    yield finding(
                        secret,
                        "SSP066",
                        (field, str(key)),
                        f"{key!r} holds a placeholder value: anyone who read the manifest knows "
                        "it; generate a random one or use an external secret store",
                    )


def _system_namespaces(ctx: RuleContext) -> Iterator[Finding]:
    """SSP068: application objects never land in the cluster's own namespaces."""
    for doc in ctx.documents:
        ns = doc.namespace
        if ns is not None and (ns in SYSTEM_NAMESPACES):
            yield finding(
                doc,
                "SSP068",
                ("metadata", "namespace"),
                f"{ns!r} is a system namespace: a default-deny policy or allow-nothing "
                "authorization there cuts off the cluster's own components",
            )


def _hpa_sidecar(ctx: RuleContext) -> Iterator[Finding]:
    """SSP069: a pod-wide CPU target averages the Istio sidecar's request in."""
    for hpa in ctx.of_kind("autoscaling", "HorizontalPodAutoscaler"):
        ref = hpa.get("spec", "scaleTargetRef") or {}
        if not isinstance(ref, dict):
            continue
        targets = ctx.named(str(ref.get("kind")), hpa.namespace, str(ref.get("name")))
        injected = _injected(ctx, hpa.namespace)
        for target in targets:
            annotations = target.get("spec", "template", "metadata", "annotations") or {}
            inject = str(annotations.get("sidecar.istio.io/inject", "")).lower()
            if inject == "false" or (not injected and inject != "true"):
                continue
            for i, metric in enumerate(items(hpa.get("spec", "metrics"))):
                if (
                    isinstance(metric, dict)
                    and metric.get("type") == "Resource"
                    and at(metric, "resource", "name") == "cpu"
                ):
                    yield finding(
                        hpa,
                        "SSP069",
                        ("spec", "metrics", i),
                        "a Resource cpu target is the pod's average, the Istio sidecar's request "
                        "included, so the service's own load is diluted; use a ContainerResource "
                        "metric naming the service's container",
                    )


def check(ctx: RuleContext) -> Iterator[Finding]:
    yield from _hpa_sidecar(ctx)
    yield from _kong_mesh(ctx)
    yield from _kong_plugins(ctx)
    yield from _ingress_tls(ctx)
    yield from _analysis(ctx)
    yield from _metrics_off(ctx)
    yield from _secrets(ctx)
    yield from _system_namespaces(ctx)
