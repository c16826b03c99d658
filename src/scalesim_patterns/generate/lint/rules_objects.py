"""Rules about how objects relate (SSP014, SSP020-SSP031): selectors, budgets, autoscalers."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from scalesim_patterns.generate.lint.context import ObjectKey, RuleContext
from scalesim_patterns.generate.lint.document import Document
from scalesim_patterns.generate.lint.emit import finding
from scalesim_patterns.generate.lint.findings import Finding
from scalesim_patterns.generate.lint.workloads import (
    BATCH,
    SCALABLE,
    PodTemplate,
    is_empty_selector,
    label_selector_matches,
    map_selector_matches,
    pod_template,
)

RECOMMENDED_LABELS = ("app.kubernetes.io/name", "app.kubernetes.io/instance")


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _ns(doc: Document) -> str:
    return doc.namespace or "(none)"


def _scaled(value: Any, total: int) -> int | None:
    """IntOrString budget value scaled like the disruption controller does (percent rounds up)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.endswith("%"):
        try:
            return math.ceil(float(value[:-1]) * total / 100)
        except ValueError:
            return None
    return None


def _budget_problem(pdb: Document, pods: int) -> tuple[str, str] | None:
    spec = pdb.get("spec") or {}
    if "minAvailable" in spec:
        need = _scaled(spec["minAvailable"], pods)
        if need is not None and need >= pods:
            return "minAvailable", (
                f"minAvailable {spec['minAvailable']} with {pods} pods leaves none evictable, so "
                f"node drains block; use at most {pods - 1} or maxUnavailable: 1"
            )
    if "maxUnavailable" in spec:
        allowed = _scaled(spec["maxUnavailable"], pods)
        if allowed is not None and allowed < 1:
            return "maxUnavailable", (
                f"maxUnavailable {spec['maxUnavailable']} allows no eviction; use at least 1"
            )
    return None


def _workload_findings(ctx: RuleContext, doc: Document) -> Iterator[Finding]:
    template = pod_template(doc)
    replicas = doc.get("spec", "replicas")
    hpas = ctx.hpas_targeting(doc)
    if hpas:
        hpa = hpas[0]
        pods = _int(hpa.get("spec", "minReplicas"), 1)
        most = _int(hpa.get("spec", "maxReplicas"), pods)
        source = f"HPA {hpa.name} minReplicas"
        if replicas is not None:
            yield finding(
                doc,
                "SSP022",
                ("spec", "replicas"),
                f"replicas is set although HPA {hpa.name} scales this {doc.kind}; every apply "
                "would reset the HPA's choice, so leave replicas out",
            )
    else:
        pods = _int(replicas, 1)
        most, source = pods, "replicas"
    if template is None:
        return
    pdbs = ctx.selecting("policy", "PodDisruptionBudget", doc.namespace, "spec", "selector")
    pdbs_matching = pdbs.matching(template.labels)
    if pods > 1 and not pdbs_matching:
        yield finding(
            doc,
            "SSP020",
            ("spec", "replicas") if replicas is not None else (),
            f"{source} is {pods} but no PodDisruptionBudget in namespace {_ns(doc)} selects "
            "its pods",
        )
    for pdb in pdbs_matching:
        problem = _budget_problem(pdb, pods)
        if problem is not None:
            field, message = problem
            yield finding(
                pdb, "SSP021", ("spec", field), f"{message} ({doc.kind} {doc.name}, {source})"
            )
    if most > 1:
        spec = template.spec
        spread = spec.get("topologySpreadConstraints")
        affinity = spec.get("affinity")
        anti = affinity.get("podAntiAffinity") if isinstance(affinity, dict) else None
        if not spread and not anti:
            yield finding(
                doc,
                "SSP014",
                template.spec_path,
                f"up to {most} replicas but no topologySpreadConstraints or podAntiAffinity; "
                "they may all land on one node or zone",
            )


def _selector_findings(template: PodTemplate) -> Iterator[Finding]:
    doc = template.doc
    if template.path == () or template.key in BATCH:
        return  # Pods have no selector; Jobs generate theirs
    selector = doc.get("spec", "selector")
    if selector is None:
        return  # the schema reports a required selector
    if doc.kind == "ReplicationController":
        ok = map_selector_matches(selector, template.labels)
    elif is_empty_selector(selector):
        yield finding(doc, "SSP023", ("spec", "selector"), "selector is empty")
        return
    else:
        ok = label_selector_matches(selector, template.labels)
    if not ok:
        yield finding(
            doc,
            "SSP023",
            ("spec", "selector"),
            f"selector does not match the pod template labels {template.labels}",
        )


def _service_findings(ctx: RuleContext, svc: Document) -> Iterator[Finding]:
    spec = svc.get("spec") or {}
    selector = spec.get("selector")
    if spec.get("type") == "ExternalName" or not isinstance(selector, dict) or not selector:
        return  # no selector: endpoints are managed by hand
    selected = ctx.templates_in(svc.namespace).selected_by_map(selector)
    if not selected:
        yield finding(
            svc,
            "SSP024",
            ("spec", "selector"),
            f"selector {selector} matches no pod template in namespace {_ns(svc)}",
        )
        return
    numbers: set[Any] = set()
    names: set[Any] = set()
    for template in selected:
        for container in template.spec.get("containers") or []:
            for port in (container or {}).get("ports") or []:
                if isinstance(port, dict):
                    numbers.add(port.get("containerPort"))
                    names.add(port.get("name"))
    for i, port in enumerate(spec.get("ports") or []):
        if not isinstance(port, dict):
            continue
        target = port.get("targetPort", port.get("port"))
        field = "targetPort" if "targetPort" in port else "port"
        if target is None:
            continue
        known = names if isinstance(target, str) else numbers
        if target not in known:
            yield finding(
                svc,
                "SSP031",
                ("spec", "ports", i, field),
                f"target port {target!r} is not declared by any container of the selected pods",
            )


def _statefulset_finding(ctx: RuleContext, doc: Document) -> Finding | None:
    name = doc.get("spec", "serviceName")
    if not isinstance(name, str) or not name:
        return finding(doc, "SSP026", ("spec", "serviceName"), "serviceName is not set")
    for svc in ctx.named("Service", doc.namespace, name):
        if svc.group == "":
            if svc.get("spec", "clusterIP") == "None":
                return None
            return finding(
                doc,
                "SSP026",
                ("spec", "serviceName"),
                f"Service {name} is not headless (set clusterIP: None)",
            )
    return finding(
        doc, "SSP026", ("spec", "serviceName"), f"no Service {name} in namespace {_ns(doc)}"
    )


def _namespace_finding(ctx: RuleContext, doc: Document) -> Finding | None:
    if ctx.is_cluster_scoped(doc):
        return None
    if doc.namespace is None:
        return finding(
            doc,
            "SSP027",
            ("metadata", "namespace"),
            "no namespace (set metadata.namespace or namespace: in the kustomization)",
        )
    if doc.namespace == "default":
        return finding(
            doc, "SSP027", ("metadata", "namespace"), "object is in the default namespace"
        )
    return None


def _hpa_finding(ctx: RuleContext, hpa: Document) -> Finding | None:
    ref = hpa.get("spec", "scaleTargetRef")
    if not isinstance(ref, dict):
        return None
    api_version = ref.get("apiVersion")
    group = api_version.rpartition("/")[0] if isinstance(api_version, str) else None
    for doc in ctx.named(str(ref.get("kind")), hpa.namespace, str(ref.get("name"))):
        if group is None or doc.group == group:
            return None
    return finding(
        hpa,
        "SSP028",
        ("spec", "scaleTargetRef", "name"),
        f"scale target {ref.get('kind')}/{ref.get('name')} is not in namespace {_ns(hpa)}",
    )


def _label_finding(doc: Document, template: PodTemplate) -> Finding | None:
    missing: list[str] = []
    where = {"metadata.labels": doc.labels}
    if template.path:
        where["pod template labels"] = template.labels
    for place, labels in where.items():
        merged = {**labels, **doc.kustomize_labels}
        absent = [label for label in RECOMMENDED_LABELS if label not in merged]
        if absent:
            missing.append(f"{', '.join(absent)} missing from {place}")
    if not missing:
        return None
    return finding(doc, "SSP030", ("metadata", "labels"), "; ".join(missing))


def check(ctx: RuleContext) -> Iterator[Finding]:
    for group, kind in sorted(SCALABLE):
        for doc in ctx.of_kind(group, kind):
            yield from _workload_findings(ctx, doc)
    for template in ctx.templates:
        yield from _selector_findings(template)
        policies = ctx.selecting(
            "networking.k8s.io",
            "NetworkPolicy",
            template.doc.namespace,
            "spec",
            "podSelector",
            missing_selects_all=True,
        )
        covered = policies.any_matches(template.labels)
        if not covered:
            yield finding(
                template.doc,
                "SSP025",
                (*template.path, "metadata", "labels"),
                f"no NetworkPolicy in namespace {_ns(template.doc)} selects these pods",
            )
        label = _label_finding(template.doc, template)
        if label is not None:
            yield label
    for svc in ctx.of_kind("", "Service"):
        yield from _service_findings(ctx, svc)
    for doc in ctx.of_kind("apps", "StatefulSet"):
        if (found := _statefulset_finding(ctx, doc)) is not None:
            yield found
    for hpa in ctx.of_kind("autoscaling", "HorizontalPodAutoscaler"):
        if (found := _hpa_finding(ctx, hpa)) is not None:
            yield found
    seen: dict[ObjectKey, Document] = {}
    for doc in ctx.documents:
        if (found := _namespace_finding(ctx, doc)) is not None:
            yield found
        if not doc.name:
            continue  # generateName objects never collide
        key = (doc.group, doc.kind, doc.namespace or "", doc.name)
        first = seen.setdefault(key, doc)
        if first is not doc:
            yield finding(
                doc,
                "SSP029",
                ("metadata", "name"),
                f"{doc.kind} {doc.name} is already defined at {first.file}:{first.line}",
            )
