"""What a service's protocol (`protocol:` http, http2, grpc, thrift) changes in its manifests.

| protocol | port name (Istio reads the prefix) | `appProtocol` | probes | metrics scraped on |
|---|---|---|---|---|
| http (HTTP/1.1) | `http` | `http` | HTTP GET on the designed paths | `http` |
| http2 (cleartext) | `http2` | `http2` | HTTP GET (the kubelet speaks HTTP/1.1; h2c servers accept it) | `http2` |
| grpc | `grpc` | `grpc` | readiness and startup: native gRPC probes (`grpc.health.v1.Health/Check`, Kubernetes 1.27+; the port must be a number); liveness: TCP connect | `metrics` (9090) |
| thrift | `tcp-thrift` | `tcp` | readiness and startup: HTTP GET on the designed paths on the `metrics` side port; liveness: TCP connect | `metrics` (9090) |

Istio's protocol selection takes the `appProtocol` field or the port name's prefix (`http`,
`http2`, `grpc`, `tcp`); Thrift is plain TCP to Istio (its Thrift filter was removed), so its
traffic gets TCP routing and authorization by port only. Kong proxies gRPC when the route
accepts `grpc,grpcs` (`konghq.com/protocols`) and the upstream Service is marked
`konghq.com/protocol: grpc`; Kong sends HTTP/1.1 to an `http2` upstream.
"""

from __future__ import annotations

from typing import Any

from scalesim_patterns.model.service import Service

__all__ = [
    "METRICS_PORT",
    "app_protocol",
    "metrics_port_name",
    "port_name",
    "probe_handler",
    "scraped_port",
    "separate_metrics",
]

METRICS_PORT = 9090
"""Where gRPC and Thrift services serve Prometheus metrics (their main port cannot)."""

_NAME = {"http": "http", "http2": "http2", "grpc": "grpc", "thrift": "tcp-thrift"}
_APP = {"http": "http", "http2": "http2", "grpc": "grpc", "thrift": "tcp"}


def port_name(svc: Service) -> str:
    return _NAME[svc.protocol]


def app_protocol(svc: Service) -> str:
    return _APP[svc.protocol]


def separate_metrics(svc: Service) -> bool:
    """gRPC and Thrift servers cannot answer Prometheus' HTTP scrape on their own port."""
    return svc.protocol in ("grpc", "thrift")


def metrics_port_name(svc: Service) -> str:
    return "metrics" if separate_metrics(svc) else port_name(svc)


def scraped_port(svc: Service) -> int:
    return METRICS_PORT if separate_metrics(svc) else svc.port


def probe_handler(svc: Service, path: str) -> dict[str, Any]:
    """The probe action for a health check on `path` (ignored where the protocol has none)."""
    if svc.protocol == "grpc":
        return {"grpc": {"port": svc.port}}
    if svc.protocol == "thrift":
        # Thrift has no health call of its own: the server's HTTP side port answers it.
        return {"httpGet": {"path": path, "port": "metrics"}}
    return {"httpGet": {"path": path, "port": port_name(svc)}}
