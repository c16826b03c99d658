"""Generator output for priority by consumer (docs/examples/tenant-priority.yaml): the consumer
matches of a route as Istio header routes on Kong's `X-Consumer-Username`, per-tenant bulkheads
as Resilience4j shared configurations, and what cannot be enforced said in the README."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from scalesim_patterns.generate import generate
from scalesim_patterns.model import load

from .helpers import of_kind
from .test_valid import _lint, _schema_errors

EXAMPLE = Path(__file__).parents[2] / "docs" / "examples" / "tenant-priority.yaml"


def _named(files: dict[str, str], kind: str, name: str) -> dict[str, Any]:
    (doc,) = [d for d in of_kind(files, kind) if d["metadata"]["name"] == name]
    return doc


def test_a_consumer_match_is_an_istio_header_route_tried_first(tmp_path: Path) -> None:
    files = generate(load(EXAMPLE))
    vs = _named(files, "VirtualService", "reports")
    first = vs["spec"]["http"][0]
    assert first["name"] == "consumer-reports-0"
    assert first["match"] == [
        {
            "uri": {"exact": "/render"},
            "sourceNamespace": "kong",
            "headers": {"x-consumer-username": {"exact": "enterprise"}},
        }
    ]
    host = first["route"][0]["destination"]["host"]
    assert host.startswith("reports-dedicated.") and "weight" not in first["route"][0]
    # The dedicated pool takes requests from Kong: its authorization policy lets Kong in.
    policy = _named(files, "AuthorizationPolicy", "reports-dedicated")
    sources = [r["from"][0]["source"] for r in policy["spec"]["rules"]]
    assert {"namespaces": ["kong"]} in sources
    assert _schema_errors(files) == []
    assert _lint(files, tmp_path) == []


def test_per_tenant_bulkheads_are_a_shared_resilience4j_config() -> None:
    files = generate(load(EXAMPLE))
    configmap = _named(files, "ConfigMap", "reports-config")
    spring = yaml.safe_load(configmap["data"]["application.yml"])
    pools = spring["resilience4j"]["thread-pool-bulkhead"]
    assert "instances" not in pools
    assert pools["configs"]["search-per-consumer"] == {
        "coreThreadPoolSize": 8,
        "maxThreadPoolSize": 8,
        "queueCapacity": 20,
        "keepAliveDuration": "20ms",
    }


def test_without_the_mesh_the_consumer_match_is_said_not_written() -> None:
    arch = load(EXAMPLE)
    arch.spec.mesh = None
    files = generate(arch)
    for vs in of_kind(files, "VirtualService"):
        assert not any(h["name"].startswith("consumer-") for h in vs["spec"].get("http", []))
    for route in of_kind(files, "HTTPRoute"):
        assert "headers" not in str(route)
    assert "Kong OSS alone cannot route by consumer" in files["README.md"]
