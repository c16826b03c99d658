"""Pod-level building blocks shared by every workload: hardening, probes, resources, spreading.

The security defaults are the Pod Security Standards' `restricted` profile plus a read-only root
filesystem and a fixed high UID, so no workload depends on an image's USER line; writable paths
are explicit emptyDirs.
"""

from __future__ import annotations

import math
from typing import Any

from scalesim_patterns.model.service import Probe, Resources
from scalesim_patterns.model.units import format_cpu, format_memory

__all__ = [
    "DEFAULT_LIVENESS",
    "DEFAULT_READINESS",
    "RUN_AS",
    "container_security",
    "pod_security",
    "probe",
    "resources",
    "seconds",
    "spread",
]

RUN_AS = 10001

DEFAULT_READINESS = "/health/ready"
DEFAULT_LIVENESS = "/health/live"


def pod_security() -> dict[str, Any]:
    return {
        "runAsNonRoot": True,
        "runAsUser": RUN_AS,
        "runAsGroup": RUN_AS,
        "fsGroup": RUN_AS,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def container_security() -> dict[str, Any]:
    return {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "runAsUser": RUN_AS,
        "runAsGroup": RUN_AS,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def seconds(value: float, minimum: int = 0) -> int:
    """Kubernetes counts probe and delay times in whole seconds: round up, never below minimum."""
    return max(minimum, math.ceil(value - 1e-9))


def probe(p: Probe, handler: dict[str, Any], liveness_like: bool) -> dict[str, Any]:
    """A probe with the model's timings; liveness and startup probes must have successThreshold 1."""
    out: dict[str, Any] = dict(handler)
    if p.initial_delay > 0:
        out["initialDelaySeconds"] = seconds(p.initial_delay)
    out["periodSeconds"] = seconds(p.period, 1)
    out["timeoutSeconds"] = seconds(p.timeout, 1)
    out["successThreshold"] = 1 if liveness_like else p.success_threshold
    out["failureThreshold"] = p.failure_threshold
    return out


def resources(r: Resources, scale: float = 1.0) -> dict[str, Any]:
    """Requests as designed; limits default to 2× the CPU request and exactly the memory request."""
    cpu = r.cpu * scale
    memory = r.memory * scale
    cpu_limit = (r.cpu_limit if r.cpu_limit is not None else 2 * r.cpu) * scale
    memory_limit = (r.memory_limit if r.memory_limit is not None else r.memory) * scale
    return {
        "requests": {"cpu": _cpu(cpu), "memory": _memory(memory)},
        "limits": {"cpu": _cpu(cpu_limit), "memory": _memory(memory_limit)},
    }


def _cpu(cores: float) -> str:
    return format_cpu(max(0.001, round(cores * 1000) / 1000))


def _memory(size: float) -> str:
    mib = max(1, math.ceil(size / 1024**2))
    return format_memory(mib * 1024**2)


def spread(selector: dict[str, str]) -> list[dict[str, Any]]:
    """Spread replicas over nodes and zones; soft, so small clusters still schedule them."""
    return [
        {
            "maxSkew": 1,
            "topologyKey": key,
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": dict(selector)},
        }
        for key in ("kubernetes.io/hostname", "topology.kubernetes.io/zone")
    ]
