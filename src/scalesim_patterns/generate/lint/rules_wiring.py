"""Rules for pieces that are each valid but do not fit together (SSP070-SSP075), issue 13.

- SSP070: the path a gateway forwards (Kong Ingress rewrite or strip, Gateway API URLRewrite) is
  one the backend's Istio AuthorizationPolicies allow: otherwise every request is a 403.
- SSP071: a VirtualService retries calls whose caller already retries in its own code (its
  ConfigMap's `clients.yaml` or Resilience4j `application.yml`): attempts multiply.
- SSP072: a worker-saturation alert (`http_server_active_requests`) on a workload that serves
  no HTTP (a topic consumer nothing calls): the gauge stays 0 and the alert can never fire.
- SSP073: version labels agree with each other and with the image tag, and objects of the same
  app do not carry a different (stale) version.
- SSP075: ServiceMonitors, PodMonitors and PrometheusRules carry the Prometheus selector labels.

SSP074 (YAML anchors and aliases) is found while parsing (yaml_source.py, loader.py).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import yaml

from scalesim_patterns.generate.lint.context import RuleContext
from scalesim_patterns.generate.lint.document import Document
from scalesim_patterns.generate.lint.emit import finding
from scalesim_patterns.generate.lint.findings import Finding
from scalesim_patterns.generate.lint.shapes import at as _at
from scalesim_patterns.generate.lint.shapes import items as _items
from scalesim_patterns.generate.lint.workloads import PodTemplate

_MONITORING = (("ServiceMonitor", "serviceMonitorSelector"), ("PodMonitor", "podMonitorSelector"))


def _subset(selector: Any, labels: dict[str, Any]) -> bool:
    return isinstance(selector, dict) and all(labels.get(k) == v for k, v in selector.items())


def _istio_path_match(pattern: str, path: str) -> bool:
    """Istio's path matching: exact, `prefix*`, `*suffix`, or `*` (AuthorizationPolicy docs)."""
    if pattern == "*":
        return True
    if pattern.endswith("*"):
        return path.startswith(pattern[:-1])
    if pattern.startswith("*"):
        return path.endswith(pattern[1:])
    return pattern == path


def _selected_templates(ctx: RuleContext, service: Document) -> list[PodTemplate]:
    selector = service.get("spec", "selector")
    if not isinstance(selector, dict) or not selector:
        return []
    return [
        t
        for t in ctx.templates
        if t.doc.namespace == service.namespace and _subset(selector, t.labels)
    ]


def _allowed_paths(ctx: RuleContext, template: PodTemplate) -> list[str] | None:
    """Paths the ALLOW AuthorizationPolicies selecting these pods allow (None: no policy)."""
    found: list[str] | None = None
    for ap in ctx.in_namespace("security.istio.io", "AuthorizationPolicy", template.doc.namespace):
        if ap.get("spec", "action") not in (None, "ALLOW"):
            continue
        selector = ap.get("spec", "selector", "matchLabels")
        if selector is None or not _subset(selector, template.labels):
            continue
        found = found or []
        for rule in _items(ap.get("spec", "rules")):
            tos = _items(_at(rule, "to"))
            if not tos:
                found.append("*")
                continue
            for to in tos:
                paths = _items(_at(to, "operation", "paths"))
                found.extend(str(p) for p in paths) if paths else found.append("*")
    return found


def _overlaps(allowed: str, sent: str) -> bool:
    """Whether an allowed path pattern matches some path the gateway sends (`x*`: any path that
    starts with x, as Istio writes prefixes)."""
    if allowed == "*" or not sent.endswith("*"):
        return _istio_path_match(allowed, sent)
    stem = sent[:-1]
    if allowed.endswith("*"):
        return allowed[:-1].startswith(stem) or stem.startswith(allowed[:-1])
    return allowed.startswith("*") or allowed.startswith(stem)


def _capture_prefix(rewrite: str) -> str:
    """A Kong rewrite with captures (`/items/$1`) sends any path up to the first capture."""
    head, dollar, _ = rewrite.partition("$")
    return head + "*" if dollar else rewrite


def _forwarded(ingress: Document, path: Any) -> str | None:
    """What Kong sends upstream for one Ingress path (`x*` for any path under x); None when it
    strips the matched prefix (the rest is the client's to choose)."""
    rewrite = ingress.get("metadata", "annotations", "konghq.com/rewrite")
    if rewrite is not None:
        return _capture_prefix(str(rewrite))
    strip = str(ingress.get("metadata", "annotations", "konghq.com/strip-path") or "false")
    public = str(_at(path, "path") or "/")
    if strip.lower() == "true" or public.startswith("/~"):
        return None  # stripped, or a Kong regex route without a rewrite
    return public if _at(path, "pathType") == "Exact" else public.rstrip("/") + "*"


def _gateway_paths(ctx: RuleContext) -> Iterator[tuple[Document, tuple[str | int, ...], str, str]]:
    """(object, field, backend Service, path forwarded) of every Kong Ingress and HTTPRoute."""
    for ingress in ctx.of_kind("networking.k8s.io", "Ingress"):
        annotations = ingress.get("metadata", "annotations")
        annotations = annotations if isinstance(annotations, dict) else {}
        if not any(str(k).startswith("konghq.com/") for k in annotations):
            continue
        for i, rule in enumerate(_items(ingress.get("spec", "rules"))):
            for j, path in enumerate(_items(_at(rule, "http", "paths"))):
                name = _at(path, "backend", "service", "name")
                forwarded = _forwarded(ingress, path)
                if isinstance(name, str) and forwarded:
                    where: tuple[str | int, ...] = ("spec", "rules", i, "http", "paths", j, "path")
                    if "konghq.com/rewrite" in annotations:
                        where = ("metadata", "annotations", "konghq.com/rewrite")
                    yield ingress, where, name, forwarded
    for route in ctx.of_kind("gateway.networking.k8s.io", "HTTPRoute"):
        for i, rule in enumerate(_items(route.get("spec", "rules"))):
            if not isinstance(rule, dict):
                continue
            sent: tuple[tuple[str | int, ...], str] | None = None
            exact = any(_at(m, "path", "type") == "Exact" for m in _items(rule.get("matches")))
            for j, f in enumerate(_items(rule.get("filters"))):
                where = ("spec", "rules", i, "filters", j, "urlRewrite", "path")
                full = _at(f, "urlRewrite", "path", "replaceFullPath")
                prefix = _at(f, "urlRewrite", "path", "replacePrefixMatch")
                if full:
                    sent = (where, str(full))
                elif prefix:  # the rest of the request path follows the replaced prefix
                    sent = (where, str(prefix) if exact else str(prefix).rstrip("/") + "*")
            if sent is None:
                for j, match in enumerate(_items(rule.get("matches"))):
                    value = _at(match, "path", "value")
                    if value:
                        value = str(value)
                        kind = _at(match, "path", "type") or "PathPrefix"
                        if kind == "PathPrefix":
                            value = value.rstrip("/") + "*"
                        elif kind != "Exact":
                            break  # RegularExpression: not checked
                        sent = (("spec", "rules", i, "matches", j, "path"), value)
                        break
            if sent is None:
                continue
            for ref in _items(rule.get("backendRefs")):
                if isinstance(ref, dict) and ref.get("kind", "Service") == "Service":
                    yield route, sent[0], str(ref.get("name")), str(sent[1])


def _shown(path: str) -> str:
    return f"paths under {path[:-1]!r}" if path.endswith("*") else repr(path)


def _route_paths(ctx: RuleContext) -> Iterator[Finding]:
    """SSP070: what the gateway forwards is a path the backend's sidecar lets through."""
    for doc, where, backend, path in _gateway_paths(ctx):
        for service in ctx.named("Service", doc.namespace, backend):
            for template in _selected_templates(ctx, service):
                allowed = _allowed_paths(ctx, template)
                if allowed is None or any(_overlaps(p, path) for p in allowed):
                    continue
                valid = ", ".join(sorted(set(allowed))) or "none"
                yield finding(
                    doc,
                    "SSP070",
                    where,
                    f"the gateway forwards {_shown(path)} to {backend!r}, but the "
                    "AuthorizationPolicies "
                    f"of its pods ({template.doc.kind}/{template.doc.name}) allow only: {valid}; "
                    "every request would be refused (403). Rewrite to a path the service serves",
                )


def _app_retries(data: dict[str, Any]) -> set[str]:
    """Targets a caller retries in its own code, from its ConfigMap."""
    out: set[str] = set()
    for key in ("clients.yaml", "application.yml", "application.yaml"):
        text = data.get(key)
        if not isinstance(text, str):
            continue
        try:
            parsed = yaml.safe_load(text)
        except yaml.YAMLError:
            continue
        if not isinstance(parsed, dict):
            continue
        if key == "clients.yaml":
            for target, policy in parsed.items():
                retry = policy.get("retry") if isinstance(policy, dict) else None
                if isinstance(retry, dict) and retry.get("style") == "resilience4j":
                    out.add(str(target))
        else:
            instances = _at(parsed, "resilience4j", "retry", "instances")
            if isinstance(instances, dict):
                for target, policy in instances.items():
                    attempts = _at(policy, "maxAttempts")
                    attempts = 3 if attempts is None else attempts  # Resilience4j's default
                    if isinstance(attempts, int) and attempts > 1:
                        out.add(str(target))
    return out


def _config_maps_of(template: PodTemplate) -> set[str]:
    names: set[str] = set()
    for container in _items(template.spec.get("containers")):
        for source in _items(_at(container, "envFrom")):
            name = _at(source, "configMapRef", "name")
            if name:
                names.add(str(name))
    for volume in _items(template.spec.get("volumes")):
        name = _at(volume, "configMap", "name")
        if name:
            names.add(str(name))
    return names


def _attempts(route: dict[str, Any]) -> int:
    retries = route.get("retries")
    if not isinstance(retries, dict):
        return 2  # Istio's default when a route sets none
    value = retries.get("attempts", 2)
    return value if isinstance(value, int) else 2


def _applies(route: dict[str, Any], labels: dict[str, Any]) -> tuple[bool, bool]:
    """(may apply to this caller, catches all its requests) for one VirtualService route."""
    matches = _items(route.get("match"))
    if not matches:
        return True, True
    applies = whole = False
    for match in matches:
        if not isinstance(match, dict) or match.get("sourceNamespace"):
            continue
        source = match.get("sourceLabels")
        if source is not None and not _subset(source, labels):
            continue
        applies = True
        if set(match) <= {"sourceLabels", "name"}:
            whole = True
    return applies, whole


def _stacked_retries(ctx: RuleContext) -> Iterator[Finding]:
    """SSP071: mesh retries under a caller's own retries multiply the attempts."""
    for template in ctx.templates:
        ns = template.doc.namespace
        targets: set[str] = set()
        for name in _config_maps_of(template):
            for cm in ctx.named("ConfigMap", ns, name):
                data = cm.get("data")
                if isinstance(data, dict):
                    targets |= _app_retries(data)
        for target in sorted(targets):
            for vs in ctx.in_namespace("networking.istio.io", "VirtualService", ns):
                hosts = {str(h).split(".")[0] for h in _items(vs.get("spec", "hosts"))}
                if target not in hosts:
                    continue
                for i, route in enumerate(_items(vs.get("spec", "http"))):
                    if not isinstance(route, dict):
                        continue
                    applies, whole = _applies(route, template.labels)
                    if applies and _attempts(route) > 0:
                        yield finding(
                            vs,
                            "SSP071",
                            ("spec", "http", i, "retries"),
                            f"{template.doc.kind}/{template.doc.name} already retries calls to "
                            f"{target!r} in its own code; this route retries them again "
                            f"({_attempts(route)} attempts, Istio's default is 2 when unset), "
                            "so attempts multiply. Give its calls a route first with "
                            "`retries: {attempts: 0}` (match its sourceLabels)",
                        )
                    if whole and applies:
                        break


_ACTIVE = re.compile(r"http_server_active_requests\s*\{([^}]*)\}")
_NAME = re.compile(r'app_kubernetes_io_name\s*=\s*"([^"]+)"')


def _consumers_without_http(ctx: RuleContext) -> dict[tuple[str | None, str], PodTemplate]:
    """Workloads that consume topics and that no gateway, route or other app's config calls."""
    out: dict[tuple[str | None, str], PodTemplate] = {}
    for template in ctx.templates:
        name = template.labels.get("app.kubernetes.io/name")
        if not isinstance(name, str):
            continue
        ns = template.doc.namespace
        consumes = False
        for cm_name in _config_maps_of(template):
            for cm in ctx.named("ConfigMap", ns, cm_name):
                data = cm.get("data")
                consumes |= bool(_at(data, "TOPICS_CONSUMED") or _at(data, "CONSUMER_GROUP"))
        if consumes:
            out[(ns, name)] = template
    if not out:
        return out
    called: set[tuple[str | None, str]] = set()
    for doc, _, backend, _ in _gateway_paths(ctx):
        called.add((doc.namespace, backend))
    for ingress in ctx.of_kind("networking.k8s.io", "Ingress"):
        for rule in _items(ingress.get("spec", "rules")):
            for p in _items(_at(rule, "http", "paths")):
                name = _at(p, "backend", "service", "name")
                called.add((ingress.namespace, str(name)))
    for cm in ctx.of_kind("", "ConfigMap"):
        data = cm.get("data")
        own = cm.labels.get("app.kubernetes.io/name")
        for key, value in data.items() if isinstance(data, dict) else ():
            if not str(key).endswith("_URL") or not isinstance(value, str):
                continue
            host = re.sub(r"^[a-z]+://", "", value).split(":")[0].split("/")[0]
            short = host.split(".")[0]
            if short != own:
                called.add((cm.namespace, short))
    return {k: v for k, v in out.items() if k not in called}


def _consumer_alerts(ctx: RuleContext) -> Iterator[Finding]:
    """SSP072: a worker-saturation alert on a consumer that serves no HTTP never fires."""
    consumers = _consumers_without_http(ctx)
    if not consumers:
        return
    for doc in ctx.of_kind("monitoring.coreos.com", "PrometheusRule"):
        for i, group in enumerate(_items(doc.get("spec", "groups"))):
            for j, rule in enumerate(_items(_at(group, "rules"))):
                expr = _at(rule, "expr")
                if not isinstance(expr, str):
                    continue
                for selector in _ACTIVE.findall(expr):
                    name = _NAME.search(selector)
                    if name and (doc.namespace, name[1]) in consumers:
                        yield finding(
                            doc,
                            "SSP072",
                            ("spec", "groups", i, "rules", j, "expr"),
                            f"{name[1]!r} consumes topics and serves no HTTP (no route, no caller): "
                            "http_server_active_requests stays 0, so this worker-saturation alert "
                            "never fires; alert on consumer lag or processing time instead",
                        )


def _tag(image: str) -> str | None:
    if "@" in image:
        return None
    last = image.rpartition("/")[2]
    return last.partition(":")[2] or None


def _same_version(label: str, tag: str) -> bool:
    """`1.4.0` names the tags `1.4.0`, `v1.4.0` and variants such as `1.4.0-alpine`; `latest` is
    SSP005's concern."""
    label, tag = label.removeprefix("v"), tag.removeprefix("v")
    return (
        tag == "latest" or tag == label or tag.startswith((label + "-", label + "+", label + "_"))
    )


def _version_labels(ctx: RuleContext) -> Iterator[Finding]:
    """SSP073: version labels agree with the image tag and across one app's objects."""
    current: dict[tuple[str | None, str], str] = {}
    for template in ctx.templates:
        labels = template.labels
        meta = (*template.path, "metadata", "labels")
        app_version = labels.get("app.kubernetes.io/version")
        istio_version = labels.get("version")
        if istio_version is not None and "." not in istio_version:
            istio_version = None  # `v1`, `v2`: Istio subset names by convention, not image versions
        name = labels.get("app.kubernetes.io/name")
        if (
            app_version is not None
            and istio_version is not None
            and not _same_version(istio_version, app_version)
        ):
            yield finding(
                template.doc,
                "SSP073",
                (*meta, "version"),
                f"version {istio_version!r} differs from app.kubernetes.io/version "
                f"{app_version!r}: Istio's telemetry and the dashboards disagree; set both to "
                "the image's tag",
            )
        version = app_version if app_version is not None else istio_version
        if version is None:
            continue
        containers = _items(template.spec.get("containers"))
        main = next(
            (c for c in containers if isinstance(c, dict) and c.get("name") == name),
            containers[0] if containers else None,
        )
        tag = _tag(str(main.get("image"))) if isinstance(main, dict) else None
        if tag is not None and tag != "latest" and not _same_version(str(version), tag):
            key = "app.kubernetes.io/version" if app_version is not None else "version"
            yield finding(
                template.doc,
                "SSP073",
                (*meta, key),
                f"version label {version!r} is stale: the container runs tag {tag!r}; a "
                f"rollout that changed the image left the label behind (valid: {tag!r})",
            )
        if isinstance(name, str):
            current[(template.doc.namespace, name)] = str(version)
            own = template.doc.labels.get("app.kubernetes.io/version")
            if own is not None and str(own) != str(version):
                yield finding(
                    template.doc,
                    "SSP073",
                    ("metadata", "labels", "app.kubernetes.io/version"),
                    f"the workload says version {own!r}, its pods {version!r} (valid: {version!r})",
                )
    for doc in ctx.documents:
        if doc.kind in {"Deployment", "StatefulSet", "DaemonSet", "Rollout", "ReplicaSet"}:
            continue
        name = doc.labels.get("app.kubernetes.io/name")
        own = doc.labels.get("app.kubernetes.io/version")
        expected = current.get((doc.namespace, str(name)))
        if own is not None and expected is not None and str(own) != expected:
            yield finding(
                doc,
                "SSP073",
                ("metadata", "labels", "app.kubernetes.io/version"),
                f"stale version label {own!r}: the {name} pods run {expected!r} (valid: "
                f"{expected!r}, or no version label on objects a rollout does not change)",
            )


def _expected_selector(ctx: RuleContext) -> tuple[dict[str, str], str] | None:
    """The labels monitors must carry, and where that expectation comes from."""
    if ctx.prometheus_labels:
        return dict(ctx.prometheus_labels), "--prometheus-label"
    for prom in ctx.of_kind("monitoring.coreos.com", "Prometheus"):
        wanted: dict[str, str] = {}
        for _, field in (*_MONITORING, ("PrometheusRule", "ruleSelector")):
            labels = prom.get("spec", field, "matchLabels")
            if isinstance(labels, dict):
                wanted.update({str(k): str(v) for k, v in labels.items()})
        if wanted:
            return wanted, f"Prometheus/{prom.name}"
    docs = _monitoring_docs(ctx)
    if len(docs) < 3:
        return None
    counts: Counter[tuple[str, str]] = Counter()
    for doc in docs:
        for k, v in doc.labels.items():
            if not str(k).startswith(("app.kubernetes.io/", "scalesim.dev/")):
                counts[(str(k), str(v))] += 1
    common = {k: v for (k, v), n in counts.items() if 2 * n > len(docs)}
    return (common, "the other monitors and rules of this set") if common else None


def _monitoring_docs(ctx: RuleContext) -> list[Document]:
    kinds = ("ServiceMonitor", "PodMonitor", "PrometheusRule")
    return [d for k in kinds for d in ctx.of_kind("monitoring.coreos.com", k)]


def _selector_labels(ctx: RuleContext) -> Iterator[Finding]:
    """SSP075: monitors and rules carry the label the Prometheus operator selects them by."""
    expected = _expected_selector(ctx)
    if expected is None:
        return
    wanted, source = expected
    for doc in _monitoring_docs(ctx):
        missing = {k: v for k, v in wanted.items() if doc.labels.get(k) != v}
        if missing:
            pairs = ", ".join(f"{k}={v}" for k, v in sorted(missing.items()))
            yield finding(
                doc,
                "SSP075",
                ("metadata", "labels"),
                f"lacks {pairs} (expected from {source}): the Prometheus operator does not "
                f"select this {doc.kind}, so it is never loaded",
            )


def check(ctx: RuleContext) -> Iterator[Finding]:
    yield from _route_paths(ctx)
    yield from _stacked_retries(ctx)
    yield from _consumer_alerts(ctx)
    yield from _version_labels(ctx)
    yield from _selector_labels(ctx)
