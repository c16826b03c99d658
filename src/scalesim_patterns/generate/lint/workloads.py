"""Where pods come from: pod templates of workload kinds, and label-selector matching."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scalesim_patterns.generate.lint.document import Document
from scalesim_patterns.generate.lint.paths import FieldPath

# (group, kind) -> path of the pod template (metadata + spec) inside the object.
TEMPLATE_PATHS: dict[tuple[str, str], FieldPath] = {
    ("apps", "Deployment"): ("spec", "template"),
    ("apps", "StatefulSet"): ("spec", "template"),
    ("apps", "DaemonSet"): ("spec", "template"),
    ("apps", "ReplicaSet"): ("spec", "template"),
    ("", "ReplicationController"): ("spec", "template"),
    ("batch", "Job"): ("spec", "template"),
    ("batch", "CronJob"): ("spec", "jobTemplate", "spec", "template"),
    ("", "Pod"): (),
    ("argoproj.io", "Rollout"): ("spec", "template"),
}
# Kinds with a replica count that an HPA can own and a PDB should protect.
SCALABLE = {
    ("apps", "Deployment"),
    ("apps", "StatefulSet"),
    ("apps", "ReplicaSet"),
    ("argoproj.io", "Rollout"),
}
BATCH = {("batch", "Job"), ("batch", "CronJob")}


@dataclass(frozen=True)
class PodTemplate:
    doc: Document
    path: FieldPath
    labels: dict[str, str]
    spec: dict[str, Any]

    @property
    def spec_path(self) -> FieldPath:
        return (*self.path, "spec")

    @property
    def key(self) -> tuple[str, str]:
        return (self.doc.group, self.doc.kind)

    @property
    def is_batch(self) -> bool:
        return self.key in BATCH


def pod_template(doc: Document) -> PodTemplate | None:
    """The pod template of a workload document (a Pod is its own template); None otherwise."""
    path = TEMPLATE_PATHS.get((doc.group, doc.kind))
    if path is None:
        return None
    template = doc.get(*path) if path else doc.data
    if not isinstance(template, dict):
        return None  # e.g. a Rollout with workloadRef borrows a Deployment's template
    spec = template.get("spec")
    if not isinstance(spec, dict):
        return None
    meta = template.get("metadata")
    raw = meta.get("labels") if isinstance(meta, dict) else None
    labels = {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
    return PodTemplate(doc, path, labels, spec)


def label_text(value: Any) -> str:
    """A selector value as the API server compares it (YAML `true` is the label "true")."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def label_selector_matches(selector: Any, labels: dict[str, str]) -> bool:
    """Kubernetes LabelSelector semantics (matchLabels AND matchExpressions; {} selects all)."""
    if not isinstance(selector, dict):
        return False
    match_labels = selector.get("matchLabels") or {}
    if not isinstance(match_labels, dict):
        return False
    for key, value in match_labels.items():
        if labels.get(str(key)) != label_text(value):
            return False
    for expr in selector.get("matchExpressions") or []:
        if not isinstance(expr, dict):
            return False
        key, op = str(expr.get("key")), expr.get("operator")
        values = [label_text(v) for v in expr.get("values") or []]
        present = key in labels
        if op == "In" and not (present and labels[key] in values):
            return False
        if op == "NotIn" and present and labels[key] in values:
            return False
        if op == "Exists" and not present:
            return False
        if op == "DoesNotExist" and present:
            return False
    return True


def map_selector_matches(selector: Any, labels: dict[str, str]) -> bool:
    """Service-style selector: a plain map that must be a subset of the labels."""
    if not isinstance(selector, dict) or not selector:
        return False
    return all(labels.get(str(k)) == label_text(v) for k, v in selector.items())


def is_empty_selector(selector: Any) -> bool:
    return (
        isinstance(selector, dict)
        and not selector.get("matchLabels")
        and not selector.get("matchExpressions")
    )
