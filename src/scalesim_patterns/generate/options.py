"""Where the generated manifests expect the cluster's shared components to live.

The architecture says nothing about the cluster the system lands in (which namespace runs Kong or
Prometheus, which registry holds the images); these are the assumptions, in one place, with the
defaults of the usual Helm charts, so a team can change them without editing generated files.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["GenerateOptions"]


@dataclass(frozen=True)
class GenerateOptions:
    registry: str | None = None
    """Image registry prefix; defaults to `registry.example.com/<architecture name>`."""
    dev_namespace: str | None = None
    """Namespace of the dev overlay; default `<namespace>-dev`. The base and the prod overlay use
    the architecture's namespace (`metadata.namespace`, else its name; `--namespace`)."""
    kong_namespace: str = "kong"
    """Namespace of the Kong proxy pods (allowed in by NetworkPolicy and AuthorizationPolicy)."""
    monitoring_namespace: str = "monitoring"
    """Namespace of Prometheus (allowed to scrape `/metrics`)."""
    istio_namespace: str = "istio-system"
    """Namespace of istiod, which sidecars must reach (xDS and certificates on 15012)."""
    trust_domain: str = "cluster.local"
    """Istio trust domain used in SPIFFE principals."""
    prometheus_url: str = "http://prometheus-operated.monitoring.svc.cluster.local:9090"
    """Prometheus queried by Argo Rollouts analyses."""
    trace_backend: str = "jaeger-collector.observability.svc.cluster.local:4317"
    """OTLP/gRPC endpoint of the trace store (Jaeger's collector) the OTel collector exports to."""
    trace_backend_namespace: str = "observability"
    """Namespace of that trace store, for the collector's egress NetworkPolicy."""
    storage_class: str | None = None
    """StorageClass of database and broker volumes; none uses the cluster default."""
    ingress_class: str = "kong"
    """IngressClass of the Kong ingress controller."""
    gateway_name: str = "kong"
    """Gateway API Gateway (in `kong_namespace`) that split routes attach to without the mesh."""
    tls_issuer: str = "letsencrypt"
    """cert-manager ClusterIssuer that signs the gateway host's certificate."""
    auth_issuer: str | None = None
    """OIDC issuer (`iss`) whose tokens the gateway accepts; default `https://auth.<gateway domain>`."""
    auth_jwks_uri: str | None = None
    """Where the issuer publishes its keys; default: OpenID discovery from the issuer (Istio)."""
    prometheus_labels: tuple[tuple[str, str], ...] = (("release", "kube-prometheus-stack"),)
    """Labels the Prometheus operator selects ServiceMonitors, PodMonitors and PrometheusRules by
    (kube-prometheus-stack's default selector is `release: <helm release>`)."""
    scrape_interval: float = 30.0
    """Seconds between scrapes; analysis and alert rate windows are at least 4 of them."""
