"""Everything a rule may look at, with the look-ups several rules share."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from scalesim_patterns.generate.lint.crds import CrdSchemas
from scalesim_patterns.generate.lint.document import Document
from scalesim_patterns.generate.lint.kustomize import Kustomization
from scalesim_patterns.generate.lint.selectors import SelectorIndex, TemplateIndex
from scalesim_patterns.generate.lint.sources import FileSource
from scalesim_patterns.generate.lint.workloads import PodTemplate, pod_template

# Built-in kinds that live outside namespaces.
CLUSTER_SCOPED_BUILTINS = {
    "APIService",
    "CertificateSigningRequest",
    "ClusterRole",
    "ClusterRoleBinding",
    "ClusterTrustBundle",
    "ComponentStatus",
    "CSIDriver",
    "CSINode",
    "CustomResourceDefinition",
    "DeviceClass",
    "FlowSchema",
    "IngressClass",
    "IPAddress",
    "MutatingAdmissionPolicy",
    "MutatingAdmissionPolicyBinding",
    "MutatingWebhookConfiguration",
    "Namespace",
    "Node",
    "PersistentVolume",
    "PriorityClass",
    "PriorityLevelConfiguration",
    "ResourceSlice",
    "RuntimeClass",
    "ServiceCIDR",
    "StorageClass",
    "StorageVersionMigration",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "ValidatingWebhookConfiguration",
    "VolumeAttachment",
    "VolumeAttributesClass",
}
# Custom kinds known to be cluster-scoped even without their CRD at hand.
CLUSTER_SCOPED_CUSTOM = {("configuration.konghq.com", "KongClusterPlugin")}

ObjectKey = tuple[str, str, str, str]  # group, kind, namespace ("" if none), name


@dataclass
class RuleContext:
    documents: list[Document]
    kustomizations: list[Kustomization]
    source: FileSource
    crds: CrdSchemas
    builtin_groups: set[str]
    prometheus_labels: tuple[tuple[str, str], ...] = ()
    """Labels the Prometheus operator selects monitors and rules by (SSP075), when given."""
    templates: list[PodTemplate] = field(init=False)
    _by_kind: dict[tuple[str, str], list[Document]] = field(init=False)
    _by_namespace: dict[tuple[str, str, str | None], list[Document]] = field(init=False)
    _by_name: dict[tuple[str, str | None, str], list[Document]] = field(init=False)
    _templates_in: dict[str | None, TemplateIndex] = field(init=False)
    _selectors: dict[tuple[str, str, str | None], SelectorIndex[Document]] = field(init=False)
    _hpa_targets: dict[tuple[str | None, str, str], list[Document]] = field(init=False)

    def __post_init__(self) -> None:
        # Every look-up a rule makes per object is a dict access: rules stay linear in the number
        # of documents (a 51 MB manifest used to take minutes in list scans per object).
        self._by_kind = defaultdict(list)
        self._by_namespace = defaultdict(list)
        self._by_name = defaultdict(list)
        for doc in self.documents:
            namespace = doc.namespace
            self._by_kind[(doc.group, doc.kind)].append(doc)
            self._by_namespace[(doc.group, doc.kind, namespace)].append(doc)
            self._by_name[(doc.kind, namespace, doc.name)].append(doc)
        found = (pod_template(doc) for doc in self.documents)
        self.templates = [t for t in found if t is not None]
        by_namespace: dict[str | None, list[PodTemplate]] = defaultdict(list)
        for template in self.templates:
            by_namespace[template.doc.namespace].append(template)
        self._templates_in = {ns: TemplateIndex(items) for ns, items in by_namespace.items()}
        self._selectors = {}
        self._hpa_targets = defaultdict(list)
        for hpa in self.of_kind("autoscaling", "HorizontalPodAutoscaler"):
            ref = hpa.get("spec", "scaleTargetRef")
            if isinstance(ref, dict):
                key = (hpa.namespace, str(ref.get("kind")), str(ref.get("name")))
                self._hpa_targets[key].append(hpa)

    def of_kind(self, group: str, kind: str) -> list[Document]:
        return self._by_kind.get((group, kind), [])

    def in_namespace(self, group: str, kind: str, namespace: str | None) -> list[Document]:
        return self._by_namespace.get((group, kind, namespace), [])

    def named(self, kind: str, namespace: str | None, name: str) -> list[Document]:
        """Objects of `kind` (any group) called `name` in `namespace`."""
        return self._by_name.get((kind, namespace, name), [])

    def templates_in(self, namespace: str | None) -> TemplateIndex:
        index = self._templates_in.get(namespace)
        if index is None:
            index = self._templates_in[namespace] = TemplateIndex(())
        return index

    def selecting(
        self,
        group: str,
        kind: str,
        namespace: str | None,
        *selector_path: str,
        missing_selects_all: bool = False,
    ) -> SelectorIndex[Document]:
        """The objects of a kind in a namespace, indexed by the LabelSelector at `selector_path`.

        `missing_selects_all`: an absent selector counts as `{}` (a NetworkPolicy's podSelector).
        """
        key = (group, kind, namespace)
        index = self._selectors.get(key)
        if index is None:
            entries: list[tuple[Any, Document]] = []
            for doc in self.in_namespace(group, kind, namespace):
                selector = doc.get(*selector_path)
                if selector is None and missing_selects_all:
                    selector = {}
                entries.append((selector, doc))
            counts = self.templates_in(namespace).pair_counts
            index = self._selectors[key] = SelectorIndex(entries, counts)
        return index

    def is_cluster_scoped(self, doc: Document) -> bool:
        if doc.group in self.builtin_groups:
            return doc.kind in CLUSTER_SCOPED_BUILTINS
        scope = self.crds.scope(doc.group, doc.kind)
        if scope is not None:
            return scope == "Cluster"
        return (doc.group, doc.kind) in CLUSTER_SCOPED_CUSTOM or doc.kind.startswith("Cluster")

    def hpas_targeting(self, doc: Document) -> list[Document]:
        out = []
        for hpa in self._hpa_targets.get((doc.namespace, doc.kind, doc.name), []):
            ref = hpa.get("spec", "scaleTargetRef")
            if not isinstance(ref, dict):
                continue
            api_version = ref.get("apiVersion")
            group = api_version.rpartition("/")[0] if isinstance(api_version, str) else None
            if (
                ref.get("kind") == doc.kind
                and ref.get("name") == doc.name
                and (group is None or group == doc.group)
            ):
                out.append(hpa)
        return out
