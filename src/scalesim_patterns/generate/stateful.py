"""StatefulSets for databases, event stores and brokers: one shape, engine-specific contents.

Every data store gets the same hardening as the services (non-root UID 10001, read-only root
filesystem, no capabilities); the directories an image writes to are emptyDirs, and directories
whose defaults the image's entrypoint edits in place are seeded into an emptyDir by an init
container that copies them out of the same image. Data stores stay out of the mesh (no sidecar):
their clients' sidecars send plain TCP to them, and NetworkPolicies decide who may connect.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from scalesim_patterns.model.units import format_cpu, parse_cpu

from .context import Context
from .pods import container_security, pod_security, spread
from .render import Document

__all__ = ["Port", "StoreSpec", "headless_service", "pdb", "service_account", "statefulset"]


@dataclass(frozen=True)
class Port:
    name: str
    number: int
    http: bool = False


@dataclass
class StoreSpec:
    """What differs between engines; `statefulset` turns it into manifests."""

    name: str
    component: str
    image: str
    version: str
    ports: list[Port]
    data_path: str
    storage: str | None
    cpu: str
    memory: str
    replicas: int = 1
    env: list[dict[str, Any]] = field(default_factory=list)
    command: list[str] | None = None
    args: list[str] | None = None
    readiness: dict[str, Any] = field(default_factory=dict)
    liveness: dict[str, Any] = field(default_factory=dict)
    writable: list[str] = field(default_factory=list)
    """Paths mounted as emptyDirs."""
    seeded: list[str] = field(default_factory=list)
    """Paths the entrypoint edits: copied from the image into an emptyDir before start."""
    config_files: dict[str, str] = field(default_factory=dict)
    """mount path → ConfigMap name mounted read-only there."""
    parallel: bool = False


def _volume_name(path: str) -> str:
    return "w" + path.replace("/", "-").replace(".", "-").lower()[:60]


def statefulset(ctx: Context, s: StoreSpec) -> Document:
    selector = ctx.selector(s.name)
    labels = ctx.labels(s.name, s.component, s.version)
    pod_labels = dict(labels)
    if ctx.mesh:
        pod_labels["sidecar.istio.io/inject"] = "false"
    mounts: list[dict[str, Any]] = []
    volumes: list[dict[str, Any]] = []
    if s.storage is not None:
        mounts.append({"name": "data", "mountPath": s.data_path, "subPath": "data"})
    for path in s.writable:
        mounts.append({"name": _volume_name(path), "mountPath": path})
        volumes.append({"name": _volume_name(path), "emptyDir": {}})
    init: list[dict[str, Any]] = []
    if s.seeded:
        seed_mounts = [
            {"name": _volume_name(path), "mountPath": f"/seed/{i}"}
            for i, path in enumerate(s.seeded)
        ]
        script = " && ".join(f"cp -a {path}/. /seed/{i}/" for i, path in enumerate(s.seeded))
        init.append(
            {
                "name": "seed-config",
                "image": s.image,
                "imagePullPolicy": "IfNotPresent",
                "command": ["sh", "-c", script],
                "resources": _resources("50m", "64Mi"),
                "securityContext": container_security(),
                "volumeMounts": seed_mounts,
            }
        )
        for path in s.seeded:
            mounts.append({"name": _volume_name(path), "mountPath": path})
            volumes.append({"name": _volume_name(path), "emptyDir": {}})
    for path, config_map in sorted(s.config_files.items()):
        volume = _volume_name(path)
        mounts.append({"name": volume, "mountPath": path, "readOnly": True})
        volumes.append({"name": volume, "configMap": {"name": config_map}})
    mounts.append({"name": "tmp", "mountPath": "/tmp"})
    volumes.append({"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}})
    container: dict[str, Any] = {"name": s.component, "image": s.image}
    container["imagePullPolicy"] = "IfNotPresent"
    if s.command is not None:
        container["command"] = s.command
    if s.args is not None:
        container["args"] = s.args
    container["ports"] = [
        {"name": p.name, "containerPort": p.number, "protocol": "TCP"} for p in s.ports
    ]
    if s.env:
        container["env"] = s.env
    container["resources"] = _resources(s.cpu, s.memory)
    container["readinessProbe"] = s.readiness
    container["livenessProbe"] = s.liveness
    container["securityContext"] = container_security()
    container["volumeMounts"] = mounts
    pod: dict[str, Any] = {
        "serviceAccountName": s.name,
        "automountServiceAccountToken": False,
        "securityContext": pod_security(),
    }
    if s.replicas > 1:
        pod["topologySpreadConstraints"] = spread(selector)
    if init:
        pod["initContainers"] = init
    pod["containers"] = [container]
    pod["volumes"] = volumes
    spec: dict[str, Any] = {"serviceName": s.name, "replicas": s.replicas}
    if s.parallel:
        spec["podManagementPolicy"] = "Parallel"
    spec["selector"] = {"matchLabels": selector}
    spec["template"] = {"metadata": {"labels": dict(sorted(pod_labels.items()))}, "spec": pod}
    if s.storage is not None:
        claim: dict[str, Any] = {"accessModes": ["ReadWriteOnce"]}
        if ctx.options.storage_class is not None:
            claim["storageClassName"] = ctx.options.storage_class
        claim["resources"] = {"requests": {"storage": s.storage}}
        spec["volumeClaimTemplates"] = [{"metadata": {"name": "data"}, "spec": claim}]
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": ctx.meta(s.name, labels),
        "spec": spec,
    }


def _resources(cpu: str, memory: str) -> dict[str, Any]:
    return {
        "requests": {"cpu": cpu, "memory": memory},
        "limits": {"cpu": format_cpu(2 * parse_cpu(cpu)), "memory": memory},
    }


def headless_service(ctx: Context, s: StoreSpec, publish_not_ready: bool = False) -> Document:
    spec: dict[str, Any] = {"clusterIP": "None"}
    if publish_not_ready:
        spec["publishNotReadyAddresses"] = True
    spec["selector"] = ctx.selector(s.name)
    spec["ports"] = [
        {
            "name": p.name,
            "port": p.number,
            "targetPort": p.name,
            "protocol": "TCP",
            "appProtocol": "http" if p.http else "tcp",
        }
        for p in s.ports
    ]
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": ctx.meta(s.name, ctx.labels(s.name, s.component, s.version)),
        "spec": spec,
    }


def service_account(ctx: Context, s: StoreSpec) -> Document:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": ctx.meta(s.name, ctx.labels(s.name, s.component, s.version)),
        "automountServiceAccountToken": False,
    }


def pdb(ctx: Context, s: StoreSpec) -> Document | None:
    if s.replicas <= 1:
        return None
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": ctx.meta(s.name, ctx.labels(s.name, s.component, s.version)),
        "spec": {
            "minAvailable": s.replicas - 1,
            "selector": {"matchLabels": ctx.selector(s.name)},
        },
    }
