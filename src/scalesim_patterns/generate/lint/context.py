"""Everything a rule may look at, with the look-ups several rules share."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from scalesim_patterns.generate.lint.crds import CrdSchemas
from scalesim_patterns.generate.lint.document import Document
from scalesim_patterns.generate.lint.kustomize import Kustomization
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
    templates: list[PodTemplate] = field(init=False)
    _by_kind: dict[tuple[str, str], list[Document]] = field(init=False)

    def __post_init__(self) -> None:
        self._by_kind = defaultdict(list)
        for doc in self.documents:
            self._by_kind[(doc.group, doc.kind)].append(doc)
        found = (pod_template(doc) for doc in self.documents)
        self.templates = [t for t in found if t is not None]

    def of_kind(self, group: str, kind: str) -> list[Document]:
        return self._by_kind.get((group, kind), [])

    def in_namespace(self, group: str, kind: str, namespace: str | None) -> list[Document]:
        return [d for d in self._by_kind.get((group, kind), []) if d.namespace == namespace]

    def is_cluster_scoped(self, doc: Document) -> bool:
        if doc.group in self.builtin_groups:
            return doc.kind in CLUSTER_SCOPED_BUILTINS
        scope = self.crds.scope(doc.group, doc.kind)
        if scope is not None:
            return scope == "Cluster"
        return (doc.group, doc.kind) in CLUSTER_SCOPED_CUSTOM or doc.kind.startswith("Cluster")

    def hpas_targeting(self, doc: Document) -> list[Document]:
        out = []
        for hpa in self.in_namespace("autoscaling", "HorizontalPodAutoscaler", doc.namespace):
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
