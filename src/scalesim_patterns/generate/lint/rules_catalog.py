"""The catalogue of lint rules: one id, a short name, a severity and a one-line summary each.

Severities follow generation.md: everything listed under "Best-practice rules" and "Known errors"
is an ``error`` (generated output must pass), conventions and deprecations are ``warning``s, and
``info`` marks what could not be checked at all. docs/lint.md explains each rule at length.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning", "info"]


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    severity: Severity
    summary: str


_ALL = (
    # Containers and pods.
    Rule(
        "SSP001",
        "container-resources",
        "error",
        "containers set CPU and memory requests and limits",
    ),
    Rule(
        "SSP002", "probes-present", "error", "serving containers have readiness and liveness probes"
    ),
    Rule("SSP003", "probes-differ", "error", "readiness and liveness probes use different checks"),
    Rule("SSP004", "probe-port-declared", "error", "probes target a port the container declares"),
    Rule(
        "SSP005", "image-tag-pinned", "error", "images carry a tag other than latest, or a digest"
    ),
    Rule("SSP006", "run-as-non-root", "error", "runAsNonRoot is true (pod or container)"),
    Rule("SSP007", "run-as-high-uid", "error", "runAsUser is set and at least 10000"),
    Rule("SSP008", "read-only-root-fs", "error", "readOnlyRootFilesystem is true"),
    Rule("SSP009", "no-privilege-escalation", "error", "allowPrivilegeEscalation is false"),
    Rule("SSP010", "drop-all-capabilities", "error", "capabilities.drop contains ALL"),
    Rule(
        "SSP011",
        "seccomp-runtime-default",
        "error",
        "seccompProfile is RuntimeDefault or Localhost",
    ),
    Rule("SSP012", "no-automount-sa-token", "error", "automountServiceAccountToken is false"),
    Rule("SSP013", "no-literal-secrets", "error", "secret-looking env vars come from Secrets"),
    Rule("SSP014", "spread-replicas", "error", "multi-replica workloads spread over nodes/zones"),
    # Relations between objects.
    Rule("SSP020", "pdb-required", "error", "multi-replica workloads are covered by a PDB"),
    Rule("SSP021", "pdb-allows-eviction", "error", "a PDB leaves room to evict at least one pod"),
    Rule("SSP022", "hpa-owns-replicas", "error", "an HPA-managed workload does not set replicas"),
    Rule(
        "SSP023", "selector-matches-template", "error", "workload selectors match template labels"
    ),
    Rule(
        "SSP024", "service-selects-pods", "error", "every Service selector matches a pod template"
    ),
    Rule(
        "SSP025", "network-policy-coverage", "error", "every pod template is under a NetworkPolicy"
    ),
    Rule(
        "SSP026",
        "statefulset-headless-service",
        "error",
        "StatefulSet serviceName is a headless Service",
    ),
    Rule(
        "SSP027",
        "explicit-namespace",
        "error",
        "namespaced objects set a namespace other than default",
    ),
    Rule(
        "SSP028", "hpa-target-exists", "error", "an HPA's scaleTargetRef names an object in the set"
    ),
    Rule(
        "SSP029", "unique-objects", "error", "no two objects share group, kind, namespace and name"
    ),
    Rule(
        "SSP030",
        "recommended-labels",
        "warning",
        "workloads carry app.kubernetes.io/name and instance",
    ),
    Rule(
        "SSP031", "service-target-port", "error", "Service targetPorts exist on the selected pods"
    ),
    # Istio, OpenTelemetry and API versions.
    Rule("SSP040", "duration-units", "error", "durations are strings with a unit, such as 30s"),
    Rule(
        "SSP041", "istio-no-circuit-breaker", "error", "DestinationRule has no circuitBreaker field"
    ),
    Rule("SSP042", "istio-deprecated-field", "warning", "deprecated Istio fields are not used"),
    Rule("SSP043", "superseded-api-version", "warning", "objects use the current API version"),
    Rule(
        "SSP044",
        "otel-no-jaeger-exporter",
        "error",
        "collectors do not use the removed jaeger exporter",
    ),
    # Kustomize.
    Rule("SSP045", "kustomize-labels", "warning", "kustomizations use labels, not commonLabels"),
    Rule(
        "SSP046",
        "kustomize-patches",
        "warning",
        "kustomizations use patches, not the old patch fields",
    ),
    Rule("SSP047", "kustomize-path-exists", "error", "paths named in a kustomization exist"),
    # Values the API server or the kubelet refuses although the schemas accept any string.
    Rule("SSP050", "api-names", "error", "object names and namespaces are valid DNS names"),
    Rule("SSP051", "api-labels", "error", "label keys and values and annotation keys are valid"),
    Rule(
        "SSP052", "api-network", "error", "Ingress hosts and paths, ports and port names are valid"
    ),
    Rule(
        "SSP053", "api-containers", "error", "images parse as references; probe paths are absolute"
    ),
    # Works on a cluster: Kong, the mesh, Argo Rollouts and Prometheus together (issue 13).
    Rule(
        "SSP060",
        "kong-mesh-upstream",
        "error",
        "Kong reaches meshed Services through the Service with the in-mesh Host",
    ),
    Rule("SSP061", "kong-db-less-plugin", "error", "no Kong plugin that needs a database"),
    Rule("SSP062", "ingress-tls", "error", "every Ingress host is served over TLS"),
    Rule(
        "SSP063",
        "analysis-query-guarded",
        "error",
        "analysis queries return a number when a series is missing",
    ),
    Rule("SSP064", "rate-window", "error", "rate windows span at least four scrape intervals"),
    Rule(
        "SSP065",
        "metrics-enabled",
        "error",
        "OTEL_SDK_DISABLED is not set where analyses and alerts need metrics",
    ),
    Rule("SSP066", "no-placeholder-secrets", "error", "Secrets hold no placeholder values"),
    Rule(
        "SSP067",
        "mesh-path-after-gateway",
        "error",
        "mesh matches use the path Kong forwards, not the public one",
    ),
    Rule("SSP068", "no-system-namespace", "error", "no object lands in a kube-* namespace"),
    Rule(
        "SSP069",
        "hpa-cpu-sidecar",
        "warning",
        "CPU autoscaling of meshed pods targets the service's container",
    ),
    Rule(
        "SSP070",
        "route-paths-agree",
        "error",
        "the path a gateway forwards is one the backend's sidecar allows",
    ),
    Rule(
        "SSP071",
        "mesh-retries-stacked",
        "error",
        "no mesh retries on calls the caller already retries in its code",
    ),
    Rule(
        "SSP072",
        "worker-alert-on-consumer",
        "warning",
        "no worker-saturation alert on a consumer that serves no HTTP",
    ),
    Rule(
        "SSP073",
        "version-labels",
        "warning",
        "version labels agree with the image tag and are not stale",
    ),
    Rule("SSP074", "yaml-anchors", "warning", "manifests use no YAML anchors or aliases"),
    Rule(
        "SSP075",
        "prometheus-selector-label",
        "error",
        "monitors and rules carry the Prometheus operator's selector labels",
    ),
    # Parsing and schemas.
    Rule("SSP100", "yaml-syntax", "error", "files parse as YAML or JSON"),
    Rule(
        "SSP101", "object-shape", "error", "documents are mappings with apiVersion, kind and a name"
    ),
    Rule("SSP102", "duplicate-key", "error", "no mapping repeats a key"),
    Rule("SSP103", "k8s-schema", "error", "built-in objects match the strict Kubernetes schema"),
    Rule("SSP104", "unknown-api", "error", "built-in groups serve the given apiVersion and kind"),
    Rule("SSP105", "crd-schema", "error", "custom resources match their CRD schema"),
    Rule("SSP106", "unchecked-custom-resource", "info", "custom resources without a known schema"),
)

RULES: dict[str, Rule] = {rule.id: rule for rule in _ALL}
