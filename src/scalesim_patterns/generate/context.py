"""Everything the builders share: the architecture, the options, the call graph and the names.

Built once per `generate()` call, so each builder is a plain function of the context and the
object it emits, and no builder re-derives what another already decided (object names above all).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from scalesim_patterns.model import Architecture
from scalesim_patterns.model.service import Service

from .graph import Graph, build_graph
from .names import MANAGED_BY, k8s_name, label_value
from .options import GenerateOptions
from .secrets import SecretSpec

__all__ = ["Context", "GenerateError"]


class GenerateError(ValueError):
    """The architecture cannot be turned into valid manifests (a name Kubernetes rejects)."""


@dataclass
class Context:
    arch: Architecture
    options: GenerateOptions
    graph: Graph
    db_names: dict[str, str] = field(default_factory=dict)
    broker_names: dict[str, str] = field(default_factory=dict)
    store_names: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    """Caveats for the output README, in the order they were found."""
    secrets: list[SecretSpec] = field(default_factory=list)
    """Secrets the base kustomization generates from random files (secrets.py)."""

    @classmethod
    def build(cls, arch: Architecture, options: GenerateOptions) -> Context:
        ctx = cls(arch, options, build_graph(arch))
        taken = set(arch.spec.services)
        for mapping, source, suffix in (
            (ctx.db_names, arch.spec.databases, "db"),
            (ctx.broker_names, arch.spec.brokers, "broker"),
            (ctx.store_names, arch.spec.event_stores, "store"),
        ):
            for name in sorted(source):
                chosen = name if name not in taken else k8s_name(name, suffix)
                mapping[name] = chosen
                taken.add(chosen)
        bad = sorted(n for n in taken if not n[:1].isalpha())
        if bad:
            raise GenerateError(
                "Kubernetes Service names must start with a letter; rename: " + ", ".join(bad)
            )
        return ctx

    # Names and places -------------------------------------------------------------------------

    @property
    def ns(self) -> str:
        return self.arch.namespace

    @property
    def instance(self) -> str:
        return self.arch.name

    @property
    def mesh(self) -> bool:
        mesh = self.arch.spec.mesh
        return mesh is not None and mesh.enabled

    @property
    def tracing(self) -> bool:
        tracing = self.arch.spec.tracing
        return tracing is not None and tracing.enabled

    @property
    def registry(self) -> str:
        return self.options.registry or f"registry.example.com/{self.arch.name}"

    def deployed(self) -> list[tuple[str, Service]]:
        """Services that run in the cluster (external ones are only called)."""
        return [(n, s) for n, s in sorted(self.arch.spec.services.items()) if not s.external]

    def external(self) -> list[tuple[str, Service]]:
        return [(n, s) for n, s in sorted(self.arch.spec.services.items()) if s.external]

    def host(self, name: str) -> str:
        return f"{name}.{self.ns}.svc.cluster.local"

    def principal(self, service_account: str, namespace: str | None = None) -> str:
        return f"{self.options.trust_domain}/ns/{namespace or self.ns}/sa/{service_account}"

    def collector_name(self) -> str:
        """The OpenTelemetryCollector's name; the operator serves it as `<name>-collector`."""
        tracing = self.arch.spec.tracing
        host = (tracing.collector if tracing else "otel-collector:4317").rpartition(":")[0]
        host = host.split(".")[0] or "otel-collector"
        return host[: -len("-collector")] if host.endswith("-collector") else "otel"

    def otlp_endpoint(self) -> str:
        return f"http://{self.host(self.collector_name() + '-collector')}:4317"

    # Metadata ---------------------------------------------------------------------------------

    def selector(self, name: str) -> dict[str, str]:
        return {"app.kubernetes.io/instance": self.instance, "app.kubernetes.io/name": name}

    def labels(
        self, name: str, component: str, version: str | None = None, istio: bool = False
    ) -> dict[str, str]:
        """Recommended labels. Pass `version` only for workloads and pod templates (and data
        stores, whose pinned image only changes when the output is regenerated): a Service,
        policy or monitor carrying it would go stale at the first `kubectl argo rollouts set
        image`."""
        out = {
            "app.kubernetes.io/component": component,
            "app.kubernetes.io/instance": self.instance,
            "app.kubernetes.io/managed-by": MANAGED_BY,
            "app.kubernetes.io/name": name,
            "app.kubernetes.io/part-of": self.arch.name,
        }
        if version is not None:
            out["app.kubernetes.io/version"] = label_value(version)
        if istio:
            out["app"] = name
            if version is not None:
                out["version"] = label_value(version)
        return dict(sorted(out.items()))

    def meta(
        self,
        name: str,
        labels: dict[str, str] | None = None,
        annotations: dict[str, str] | None = None,
        namespaced: bool = True,
    ) -> dict[str, Any]:
        out: dict[str, Any] = {"name": name}
        if namespaced:
            out["namespace"] = self.ns
        if labels:
            out["labels"] = dict(sorted(labels.items()))
        if annotations:
            out["annotations"] = dict(sorted(annotations.items()))
        return out

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)
