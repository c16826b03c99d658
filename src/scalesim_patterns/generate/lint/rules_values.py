"""Values the API server (or the kubelet) refuses although the schemas call them strings (SSP050-SSP053).

The rules themselves live in `generate/kube_values.py`, with the Kubernetes sources they follow.
Only fields that exist and hold a string (or an integer port) are checked: a missing or mistyped
field is the schema's finding, not ours.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from scalesim_patterns.generate import kube_values as kv
from scalesim_patterns.generate.lint.context import RuleContext
from scalesim_patterns.generate.lint.document import Document
from scalesim_patterns.generate.lint.emit import finding
from scalesim_patterns.generate.lint.findings import Finding
from scalesim_patterns.generate.lint.paths import FieldPath
from scalesim_patterns.generate.lint.rules_pods import _containers
from scalesim_patterns.generate.lint.shapes import items
from scalesim_patterns.generate.lint.workloads import PodTemplate

# Kinds whose names are DNS-1123 labels (apimachinery `NameIsDNSLabel`) or, for Services,
# DNS-1035 labels (`ValidateServiceName`); every other kind's name is a DNS-1123 subdomain.
_LABEL_NAMED = {("", "Namespace")}
_DNS1035_NAMED = {("", "Service")}
_PROBES = ("readinessProbe", "livenessProbe", "startupProbe")


def _bad(
    doc: Document, rule: str, path: FieldPath, value: Any, problem: str | None
) -> Iterator[Finding]:
    if problem is not None:
        yield finding(doc, rule, path, f"{value!r}: {problem}")


def _names(ctx: RuleContext, doc: Document) -> Iterator[Finding]:
    name = doc.get("metadata", "name")
    if isinstance(name, str) and name:
        key = (doc.group, doc.kind)
        check = (
            kv.dns1123_label
            if key in _LABEL_NAMED
            else kv.dns1035_label
            if key in _DNS1035_NAMED
            else kv.dns1123_subdomain
        )
        yield from _bad(doc, "SSP050", ("metadata", "name"), name, check(name))
    namespace = doc.get("metadata", "namespace")
    if isinstance(namespace, str) and namespace:
        yield from _bad(
            doc, "SSP050", ("metadata", "namespace"), namespace, kv.dns1123_label(namespace)
        )


def _label_map(doc: Document, path: FieldPath, labels: Any) -> Iterator[Finding]:
    if not isinstance(labels, dict):
        return
    for key, value in labels.items():
        key_text = str(key)
        yield from _bad(doc, "SSP051", (*path, key_text), key_text, kv.label_key(key_text))
        if isinstance(value, str):
            yield from _bad(doc, "SSP051", (*path, key_text), value, kv.label_value(value))


def _labels(ctx: RuleContext, doc: Document) -> Iterator[Finding]:
    yield from _label_map(doc, ("metadata", "labels"), doc.get("metadata", "labels"))
    annotations = doc.get("metadata", "annotations")
    if isinstance(annotations, dict):
        for key in annotations:
            text = str(key)
            yield from _bad(
                doc, "SSP051", ("metadata", "annotations", text), text, kv.annotation_key(text)
            )
        sizes = {str(k): str(v) for k, v in annotations.items()}
        yield from _bad(
            doc, "SSP051", ("metadata", "annotations"), "annotations", kv.annotations_size(sizes)
        )
    for path in (("spec", "selector", "matchLabels"), ("spec", "podSelector", "matchLabels")):
        yield from _label_map(doc, path, doc.get(*path))
    if (doc.group, doc.kind) == ("", "Service"):
        yield from _label_map(doc, ("spec", "selector"), doc.get("spec", "selector"))


def _port(doc: Document, path: FieldPath, value: Any, named: bool = True) -> Iterator[Finding]:
    if isinstance(value, int) and not isinstance(value, bool):
        yield from _bad(doc, "SSP052", path, value, kv.port_number(value))
    elif isinstance(value, str) and named:
        yield from _bad(doc, "SSP052", path, value, kv.port_name(value))


def _network(ctx: RuleContext, doc: Document) -> Iterator[Finding]:
    key = (doc.group, doc.kind)
    if key == ("networking.k8s.io", "Ingress"):
        for i, rule in enumerate(items(doc.get("spec", "rules"))):
            if not isinstance(rule, dict):
                continue
            host = rule.get("host")
            if isinstance(host, str):
                host_path: FieldPath = ("spec", "rules", i, "host")
                yield from _bad(doc, "SSP052", host_path, host, kv.ingress_host(host))
            paths = rule.get("http", {}).get("paths") if isinstance(rule.get("http"), dict) else []
            for j, item in enumerate(items(paths)):
                if not isinstance(item, dict) or not isinstance(item.get("path"), str):
                    continue
                where = ("spec", "rules", i, "http", "paths", j, "path")
                kind = item.get("pathType")
                value = item["path"]
                problem = (
                    kv.http_path(value)
                    if kind in ("Prefix", "Exact")
                    else None
                    if value.startswith("/")
                    else "must be an absolute path (start with '/')"
                )
                yield from _bad(doc, "SSP052", where, value, problem)
        for i, tls in enumerate(doc.get("spec", "tls") or []):
            hosts = tls.get("hosts") if isinstance(tls, dict) else None
            for j, host in enumerate(hosts or []):
                if isinstance(host, str):
                    tls_path: FieldPath = ("spec", "tls", i, "hosts", j)
                    yield from _bad(doc, "SSP052", tls_path, host, kv.ingress_host(host))
    if key == ("", "Service"):
        for i, port in enumerate(doc.get("spec", "ports") or []):
            if not isinstance(port, dict):
                continue
            base = ("spec", "ports", i)
            yield from _port(doc, (*base, "port"), port.get("port"), named=False)
            yield from _port(doc, (*base, "targetPort"), port.get("targetPort"))
            if isinstance(port.get("name"), str):
                yield from _bad(
                    doc, "SSP052", (*base, "name"), port["name"], kv.dns1123_label(port["name"])
                )


def _handler_findings(
    doc: Document, path: FieldPath, handler: Any, check_path: Callable[[str], str | None]
) -> Iterator[Finding]:
    if not isinstance(handler, dict):
        return
    http = handler.get("httpGet")
    if isinstance(http, dict):
        if isinstance(http.get("path"), str):
            yield from _bad(
                doc, "SSP053", (*path, "httpGet", "path"), http["path"], check_path(http["path"])
            )
        yield from _port(doc, (*path, "httpGet", "port"), http.get("port"))
    for action in ("tcpSocket", "grpc"):
        if isinstance(handler.get(action), dict):
            yield from _port(
                doc, (*path, action, "port"), handler[action].get("port"), action != "grpc"
            )


def _containers_findings(template: PodTemplate) -> Iterator[Finding]:
    doc = template.doc
    for field, index, container in _containers(template):
        base = (*template.spec_path, field, index)
        image = container.get("image")
        if isinstance(image, str):
            yield from _bad(doc, "SSP053", (*base, "image"), image, kv.image_reference(image))
        for i, port in enumerate(container.get("ports") or []):
            if not isinstance(port, dict):
                continue
            yield from _port(
                doc, (*base, "ports", i, "containerPort"), port.get("containerPort"), named=False
            )
            if "hostPort" in port:
                yield from _port(
                    doc, (*base, "ports", i, "hostPort"), port.get("hostPort"), named=False
                )
            if isinstance(port.get("name"), str):
                yield from _port(doc, (*base, "ports", i, "name"), port["name"])
        for probe in _PROBES:
            yield from _handler_findings(doc, (*base, probe), container.get(probe), kv.http_path)


def check(ctx: RuleContext) -> Iterator[Finding]:
    for doc in ctx.documents:
        yield from _names(ctx, doc)
        yield from _labels(ctx, doc)
        yield from _network(ctx, doc)
    for template in ctx.templates:
        if template.path:
            labels_path = (*template.path, "metadata", "labels")
            yield from _label_map(template.doc, labels_path, template.labels)
        yield from _containers_findings(template)
