"""Generator output for the architecture language's newer constructs: named Kong consumers,
service protocols (HTTP/1.1, HTTP/2, gRPC, Thrift), services exposed without the gateway."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from scalesim_patterns.generate import generate
from scalesim_patterns.model import load

from .helpers import of_kind
from .test_valid import _lint, _schema_errors

EXAMPLE = Path(__file__).parents[2] / "docs" / "examples" / "shop-sessions.yaml"


def test_each_consumer_gets_a_kong_consumer_with_its_own_limit(tmp_path: Path) -> None:
    files = generate(load(EXAMPLE))
    consumers = {c["username"]: c for c in of_kind(files, "KongConsumer")}
    assert {"storefront", "partner-feed"} <= set(consumers)
    partner = consumers["partner-feed"]
    plugin_name = partner["metadata"]["annotations"]["konghq.com/plugins"]
    (plugin,) = [p for p in of_kind(files, "KongPlugin") if p["metadata"]["name"] == plugin_name]
    assert plugin["plugin"] == "rate-limiting"
    assert plugin["config"] == {"second": 50, "policy": "cluster"}
    assert "konghq.com/plugins" not in consumers["storefront"]["metadata"]["annotations"]
    # credentials are generated Secrets (random, git-ignored files), never values in manifests
    base = yaml.safe_load(files["base/kustomization.yaml"])
    generated = {g["name"] for g in base.get("secretGenerator", [])}
    assert set(partner["credentials"]) <= generated
    assert not [s for s in of_kind(files, "Secret") if s["metadata"]["name"] in generated]
    assert _schema_errors(files) == []
    assert _lint(files, tmp_path) == []


PROTOCOLS = Path(__file__).parents[2] / "docs" / "examples" / "protocols.yaml"


def _one(files: dict[str, str], kind: str, name: str) -> dict[str, Any]:
    (doc,) = [d for d in of_kind(files, kind) if d["metadata"]["name"] == name]
    return doc


def test_protocols_shape_ports_probes_kong_and_istio(tmp_path: Path) -> None:
    files = generate(load(PROTOCOLS))
    ports = {
        name: _one(files, "Service", name)["spec"]["ports"]
        for name in ("web", "api", "graph", "search")
    }
    # Istio reads appProtocol first, then the port name prefix.
    assert [(p["name"], p["appProtocol"]) for p in ports["web"]] == [("http", "http")]
    assert [(p["name"], p["appProtocol"]) for p in ports["search"]] == [("http2", "http2")]
    assert [(p["name"], p["appProtocol"]) for p in ports["api"]] == [
        ("grpc", "grpc"),
        ("metrics", "http"),
    ]
    assert [(p["name"], p["appProtocol"]) for p in ports["graph"]] == [
        ("tcp-thrift", "tcp"),
        ("metrics", "http"),
    ]
    # gRPC: native gRPC probes on the port number; Thrift: TCP connect.
    api = _one(files, "Deployment", "api")["spec"]["template"]["spec"]["containers"][0]
    assert api["readinessProbe"]["grpc"] == {"port": 8080}
    assert api["livenessProbe"]["tcpSocket"] == {"port": "grpc"}
    graph = _one(files, "Deployment", "graph")["spec"]["template"]["spec"]["containers"][0]
    assert graph["readinessProbe"]["httpGet"] == {"path": "/health/ready", "port": "metrics"}
    assert graph["livenessProbe"]["tcpSocket"] == {"port": "tcp-thrift"}
    search = _one(files, "Deployment", "search")["spec"]["template"]["spec"]["containers"][0]
    assert search["readinessProbe"]["httpGet"]["port"] == "http2"
    # Kong: the route accepts gRPC and the upstream Service is marked gRPC.
    route = [i for i in of_kind(files, "Ingress") if i["spec"]["ingressClassName"] == "kong"]
    (kong_route,) = route
    assert kong_route["metadata"]["annotations"]["konghq.com/protocols"] == "grpc,grpcs"
    assert _one(files, "Service", "api")["metadata"]["annotations"]["konghq.com/protocol"] == "grpc"
    # Istio: Thrift is TCP routing and port-only authorization; gRPC calls are POSTs.
    vs = _one(files, "VirtualService", "graph")["spec"]
    assert "http" not in vs and vs["tcp"] == [{"route": [{"destination": {"host": "graph"}}]}]
    graph_rules = _one(files, "AuthorizationPolicy", "graph")["spec"]["rules"]
    assert graph_rules[0]["to"] == [{"operation": {"ports": ["9091"]}}]
    api_rules = _one(files, "AuthorizationPolicy", "api")["spec"]["rules"]
    assert {"operation": {"methods": ["POST"], "paths": ["/shop.Api/GetFeed"]}} in api_rules[0][
        "to"
    ]
    # Metrics of gRPC and Thrift services are scraped on their own HTTP port.
    monitors = {m["metadata"]["name"]: m for m in of_kind(files, "ServiceMonitor")}
    assert monitors["api"]["spec"]["endpoints"][0]["port"] == "metrics"
    assert monitors["web"]["spec"]["endpoints"][0]["port"] == "http"
    assert _schema_errors(files) == []
    assert _lint(files, tmp_path) == []


def test_a_service_exposed_without_the_gateway_gets_its_ingress_and_policy() -> None:
    files = generate(load(PROTOCOLS))
    public = _one(files, "Ingress", "web-public")
    assert public["spec"]["ingressClassName"] == "nginx"
    assert public["spec"]["tls"] == [{"hosts": ["www.example.com"], "secretName": "web-public-tls"}]
    assert public["metadata"]["annotations"]["cert-manager.io/cluster-issuer"] == "letsencrypt"
    (rule,) = public["spec"]["rules"]
    assert rule["host"] == "www.example.com"
    assert rule["http"]["paths"][0]["backend"]["service"] == {
        "name": "web",
        "port": {"name": "http"},
    }
    policy = _one(files, "NetworkPolicy", "web")
    sources = [
        peer.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name")
        for rule in policy["spec"]["ingress"]
        for peer in rule["from"]
    ]
    assert "ingress-nginx" in sources
    # Only the exposed service lets the controller in.
    api_policy = _one(files, "NetworkPolicy", "api")
    assert "ingress-nginx" not in str(api_policy["spec"]["ingress"])
    authz = _one(files, "AuthorizationPolicy", "web")["spec"]["rules"]
    assert {"from": [{"source": {"namespaces": ["ingress-nginx"]}}]} in authz
