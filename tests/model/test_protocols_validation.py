"""Protocol and exposure misuse: HTTP is never routed at a Thrift port."""

from __future__ import annotations

from pathlib import Path

from scalesim_patterns.model import Severity, validate_text

EXAMPLE = (Path(__file__).parents[2] / "docs" / "examples" / "protocols.yaml").read_text()


def errors(text: str) -> list[str]:
    _, diags = validate_text(text, "p.yaml")
    return [str(d) for d in diags if d.severity is Severity.ERROR]


def test_the_example_is_clean() -> None:
    _, diags = validate_text(EXAMPLE, "p.yaml")
    assert diags == []


def test_a_gateway_route_to_a_thrift_service_is_an_error() -> None:
    text = EXAMPLE.replace(
        "- {path: /shop.Api/, endpoint: api.get-feed}",
        "- {path: /shop.Api/, endpoint: api.get-feed}\n      - {path: /graph, endpoint: graph.followers}",
    )
    (e,) = errors(text)
    assert "spec.gateway.routes[1].endpoint" in e and "speaks Thrift" in e
    split = EXAMPLE.replace(
        "- {path: /shop.Api/, endpoint: api.get-feed}",
        "- {path: /shop.Api/, endpoint: api.get-feed}\n      - {path: /x, split: "
        "[{endpoint: web.page, weight: 50}, {endpoint: graph.followers, weight: 50}]}",
    )
    (e,) = errors(split)
    assert "routes[1].split[1].endpoint" in e


def test_exposing_thrift_or_two_services_on_one_host_is_an_error() -> None:
    text = EXAMPLE.replace(
        "      port: 9091\n",
        "      port: 9091\n      expose: {host: graph.example.com}\n",
    )
    (e,) = errors(text)
    assert "spec.services.graph.expose" in e and "Thrift service cannot be exposed" in e
    twice = EXAMPLE.replace(
        "      protocol: http2\n",
        "      protocol: http2\n      expose: {host: www.example.com}\n",
    )
    (e,) = errors(twice)
    assert "www.example.com/ is already exposed by service 'web'" in e


def test_unknown_protocol_lists_the_valid_ones() -> None:
    (e,) = errors(EXAMPLE.replace("protocol: http2", "protocol: websocket"))
    assert "'http', 'http2', 'grpc' or 'thrift'" in e
