"""Traffic for blue-green pre-promotion analyses: the preview pods get no user requests.

Argo Rollouts runs the pre-promotion analysis while the active Service still points at the old
pods, so a query over the preview pods' request metrics has nothing to measure. The analysis
therefore starts a Job (Argo's `job` provider) that calls every endpoint of the service through
the preview Service for the analysis' whole span, and the Prometheus metrics wait one rate window
(`initialDelay`) before measuring that traffic. The Job has its own ServiceAccount (its Istio
identity, allowed exactly the service's endpoints), its own NetworkPolicy, and stops its sidecar
when done (Istio's `/quitquitquit`), or a meshed Job never completes.
"""

from __future__ import annotations

import re
from typing import Any

from scalesim_patterns.model.service import Analysis, Service

from .context import Context
from .graph import endpoint_path
from .names import k8s_name
from .pods import container_security, pod_security
from .render import Document

__all__ = [
    "SMOKE_IMAGE",
    "has_smoke",
    "smoke_calls",
    "smoke_metric",
    "smoke_name",
    "smoke_objects",
    "smoke_selector",
]

SMOKE_IMAGE = "docker.io/curlimages/curl:8.10.1"
_SCRIPT = (
    "end=$(( $(date +%s) + $0 )); ok=0\n"
    'while [ "$(date +%s)" -lt "$end" ]; do\n'
    '  for call in "$@"; do\n'
    '    if curl -s -o /dev/null -m 5 -X "${call%% *}" "${call#* }"; then ok=1; fi\n'
    "  done\n"
    "  sleep 0.2\n"
    "done\n"
)
_QUIT = "curl -s -o /dev/null -X POST http://127.0.0.1:15020/quitquitquit || true\n"


def smoke_name(name: str) -> str:
    return k8s_name(name, "smoke")


def smoke_selector(ctx: Context, name: str) -> dict[str, str]:
    return ctx.selector(smoke_name(name))


def has_smoke(svc: Service) -> bool:
    dep = svc.deployment
    return (
        dep is not None
        and dep.strategy == "blue-green"
        and dep.blue_green is not None
        and dep.blue_green.pre_promotion_analysis is not None
    )


def smoke_calls(svc: Service) -> list[tuple[str, str]]:
    """(method, path) of every endpoint, path templates filled with `1`."""
    calls = {
        (ep.method, re.sub(r"\{[^}]*\}", "1", endpoint_path(name, ep.path)))
        for name, ep in svc.endpoints.items()
    }
    return sorted(calls)


def smoke_metric(
    ctx: Context, name: str, svc: Service, analysis: Analysis, window_seconds: float
) -> dict[str, Any]:
    """The Job metric that sends the preview its traffic for the analysis' span."""
    span = int(window_seconds + analysis.count * analysis.interval) + 1
    preview = f"http://{ctx.host(k8s_name(name, 'preview'))}:{svc.port}"
    calls = [f"{method} {preview}{path}" for method, path in smoke_calls(svc)]
    script = _SCRIPT + (_QUIT if ctx.mesh else "") + '[ "$ok" = 1 ]\n'
    annotations = (
        {"proxy.istio.io/config": '{"holdApplicationUntilProxyStarts": true}'} if ctx.mesh else {}
    )
    metadata: dict[str, Any] = {"labels": ctx.labels(smoke_name(name), "smoke-test")}
    if annotations:
        metadata["annotations"] = annotations
    return {
        "name": "smoke-traffic",
        "provider": {
            "job": {
                "metadata": metadata,
                "spec": {
                    "backoffLimit": 0,
                    "activeDeadlineSeconds": span + 120,
                    "template": {
                        "metadata": metadata,
                        "spec": {
                            "serviceAccountName": smoke_name(name),
                            "automountServiceAccountToken": False,
                            "restartPolicy": "Never",
                            "securityContext": pod_security(),
                            "containers": [
                                {
                                    "name": "smoke",
                                    "image": SMOKE_IMAGE,
                                    "command": ["sh", "-c", script, str(span), *calls],
                                    "resources": {
                                        "requests": {"cpu": "10m", "memory": "16Mi"},
                                        "limits": {"cpu": "100m", "memory": "32Mi"},
                                    },
                                    "securityContext": container_security(),
                                }
                            ],
                        },
                    },
                },
            }
        },
    }


def smoke_objects(ctx: Context, name: str, svc: Service) -> list[Document]:
    """The Job's ServiceAccount and NetworkPolicy (egress to the service's pods only)."""
    labels = ctx.labels(smoke_name(name), "smoke-test")
    return [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": ctx.meta(smoke_name(name), labels),
            "automountServiceAccountToken": False,
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": ctx.meta(smoke_name(name), labels),
            "spec": {
                "podSelector": {"matchLabels": smoke_selector(ctx, name)},
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [],
                "egress": [
                    {
                        "to": [{"podSelector": {"matchLabels": ctx.selector(name)}}],
                        "ports": [{"protocol": "TCP", "port": svc.port}],
                    }
                ],
            },
        },
    ]
