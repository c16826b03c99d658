"""A service exposed directly (`expose:`), without the API gateway: its own Ingress for the
cluster's ingress controller. The service's NetworkPolicy lets the controller's namespace in
(generate/network.py), and with the mesh its AuthorizationPolicy does too (generate/mesh.py):
the controller's pods reach the Service like any client.

Kubernetes' Ingress: `ingressClassName` picks the controller, a `Prefix` path on the host sends
to the Service's port. TLS is on, as on the gateway's Ingresses: cert-manager's ingress-shim
(`cert-manager.io/cluster-issuer`, the `--tls-issuer`) issues `<service>-public-tls` for the
host. The controller's own settings are the cluster's.
"""

from __future__ import annotations

from scalesim_patterns.model.service import Service

from .context import Context
from .names import k8s_name
from .protocols import port_name
from .render import Document

__all__ = ["expose_ingress"]


def expose_ingress(ctx: Context, name: str, svc: Service) -> Document | None:
    ex = svc.expose
    if ex is None:
        return None
    if ctx.mesh:
        ctx.note(
            f"Service `{name}` is exposed through ingress class `{ex.ingress_class_name}`: run the "
            f"controller (namespace `{ex.controller_namespace}`) with an Istio sidecar, or the "
            "mesh's mTLS and AuthorizationPolicy refuse its plain connections."
        )
    annotations: dict[str, str] = {"cert-manager.io/cluster-issuer": ctx.options.tls_issuer}
    if svc.protocol == "grpc" and ex.ingress_class_name == "nginx":
        annotations["nginx.ingress.kubernetes.io/backend-protocol"] = "GRPC"
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": ctx.meta(
            k8s_name(name, "public"), ctx.labels(name, "ingress", svc.version), annotations
        ),
        "spec": {
            "ingressClassName": ex.ingress_class_name,
            "tls": [{"hosts": [ex.host], "secretName": k8s_name(name, "public-tls")}],
            "rules": [
                {
                    "host": ex.host,
                    "http": {
                        "paths": [
                            {
                                "path": ex.path,
                                "pathType": "Prefix",
                                "backend": {
                                    "service": {"name": name, "port": {"name": port_name(svc)}}
                                },
                            }
                        ]
                    },
                }
            ],
        },
    }
