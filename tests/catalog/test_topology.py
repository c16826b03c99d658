"""Topology of an architecture and its four renderings."""

from __future__ import annotations

import json
import re

import pytest

from scalesim_patterns import catalog
from scalesim_patterns.catalog import (
    Topology,
    render_dot,
    render_json,
    render_mermaid,
    render_text,
    topology,
)
from scalesim_patterns.model import loads


@pytest.fixture(scope="module")
def shop() -> Topology:
    return topology(catalog.template_architecture("ecommerce"))


def _one(topo: Topology, source: str, target: str, kind: str) -> list[str]:
    edges = topo.find(source, target, kind)  # type: ignore[arg-type]
    assert edges, f"no {kind} edge {source} -> {target}"
    return [e.label for e in edges]


def test_ecommerce_nodes(shop: Topology) -> None:
    kinds = {n.id: n.kind for n in shop.nodes}
    assert kinds["gateway:gateway"] == "gateway"
    assert kinds["client:shoppers"] == "client"
    assert {n.name for n in shop.nodes if n.kind == "service"} == {
        "user",
        "product",
        "order",
        "payment",
        "notification",
    }
    assert {n.name for n in shop.nodes if n.kind == "database"} == {
        "users-db",
        "products-db",
        "orders-db",
        "payments-db",
    }
    topic = shop.node("topic:order-placed")
    assert topic.group == "events" and "6 partitions" in topic.detail


def test_ecommerce_edges(shop: Topology) -> None:
    assert _one(shop, "shoppers", "gateway", "request")
    assert _one(shop, "gateway", "order", "route") == ["/orders → place"]
    assert _one(shop, "order", "user", "call") == ["place → get"]
    # Order reaches payment through its orchestrated saga.
    assert _one(shop, "order", "payment", "saga-step") == [
        "place-order 3. charge-card (pivot) / undo refund"
    ]
    assert _one(shop, "order", "product", "saga-step") == [
        "place-order 1. reserve-stock / undo release"
    ]
    assert "charge: write" in _one(shop, "payment", "payments-db", "query")
    assert _one(shop, "order", "order-placed", "publish") == ["place"]
    assert _one(shop, "order-placed", "notification", "consume") == ["on-order-placed"]
    assert "place-order: saga state" in _one(shop, "order", "orders-db", "query")
    assert shop.find("user", "payments-db") == []
    assert shop.find("payment", "order") == []


def test_ecommerce_layers_follow_call_depth(shop: Topology) -> None:
    layer = {n.id: n.layer for n in shop.nodes}
    assert layer["client:shoppers"] == 0
    assert layer["gateway:gateway"] == 1
    assert layer["service:order"] == 2
    assert layer["service:user"] > layer["service:order"]
    assert layer["database:payments-db"] > layer["service:payment"]
    assert layer["service:notification"] > layer["topic:order-placed"] > layer["service:order"]
    for e in shop.edges:
        if e.source != e.target:
            assert layer[e.target] > layer[e.source], e


def test_call_probability_and_repeat_are_kept() -> None:
    topo = topology(catalog.template_architecture("strangler-fig"))
    [price] = topo.find("catalog", "monolith", "call")
    assert price.probability == pytest.approx(0.3)
    reads = [e for e in topo.find("monolith", "legacy-db", "query") if e.label == "handle: read"]
    assert reads[0].repeat == 3
    routes = sorted(e.label for e in topo.find("gateway", "monolith", "route"))
    assert routes == ["/admin → admin", "/shop → handle 60%"]
    assert [e.label for e in topo.find("gateway", "catalog", "route")] == ["/shop → handle 25%"]


def test_event_store_edges() -> None:
    topo = catalog.pattern_topology("event-sourcing")
    assert topo.node("event-store:order-events").kind == "event-store"
    assert topo.node("topic:order-events").kind == "topic"
    appends = [e.label for e in topo.find("service:order", "event-store:order-events", "append")]
    assert "place (3 events)" in appends
    projects = {e.label for e in topo.find("event-store:order-events", "order-view", "project")}
    assert projects == {"order-summary", "customer-history"}


def test_choreographed_saga_edges_go_participant_to_participant() -> None:
    text = catalog.new(
        "saga", ["sagas.place-order.mode=choreographed", "sagas.place-order.broker=events"]
    )
    topo = topology(loads(text))
    assert _one(topo, "order", "payment", "saga-step") == ["place-order 2. charge-card via events"]
    assert _one(topo, "payment", "inventory", "saga-step")
    assert _one(topo, "inventory", "shipping", "saga-step")
    assert topo.find("order", "shipping", "saga-step") == []


def test_render_text(shop: Topology) -> None:
    text = render_text(shop)
    assert text.splitlines()[0] == "shop: 5 services, 4 databases, 1 topic, 1 saga"
    assert "── layer 0 " in text and "── layer 4 " in text
    assert re.search(r"order\s+─call───▶ user\s+place → get", text)
    assert re.search(r"order-placed ┄consume▶ notification\s+on-order-placed", text)
    assert "│ payments-db" in text
    assert max(len(line) for line in text.splitlines()) <= 100


MERMAID_NODE = re.compile(
    r'^\s+(\w+)(\(\["|\{\{"|\["|\[\("|>"|\[/")(.+)("\]\)|"\}\}|"\]|"\)\]|"/\])$'
)
MERMAID_EDGE = re.compile(r'^\s+(\w+) (-->|==>|-\.->)\|"([^"|]+)"\| (\w+)$')


@pytest.mark.parametrize("template_id", [t.id for t in catalog.templates()])
def test_render_mermaid_is_a_wellformed_flowchart(template_id: str) -> None:
    topo = topology(catalog.template_architecture(template_id))
    lines = render_mermaid(topo).splitlines()
    assert lines[0] == "flowchart LR"
    declared: set[str] = set()
    edges = 0
    depth = 0
    for line in lines[1:]:
        if line.strip().startswith("subgraph "):
            depth += 1
            continue
        if line.strip() == "end":
            depth -= 1
            continue
        node = MERMAID_NODE.match(line)
        if node:
            assert node.group(1) not in declared
            declared.add(node.group(1))
            continue
        edge = MERMAID_EDGE.match(line)
        assert edge, f"malformed line: {line!r}"
        assert edge.group(1) in declared and edge.group(4) in declared
        edges += 1
    assert depth == 0
    assert len(declared) == len(topo.nodes)
    assert edges == len(topo.merged_edges())


def test_render_mermaid_ecommerce_edges(shop: Topology) -> None:
    text = render_mermaid(shop)
    assert '  service_order -->|"call: place → get"| service_user' in text
    assert '  service_order -.->|"publish: place"| topic_order_placed' in text
    assert '  topic_order_placed -.->|"consume: on-order-placed"| service_notification' in text
    assert '  subgraph broker_events["events"]' in text


def test_render_dot(shop: Topology) -> None:
    text = render_dot(shop)
    assert text.startswith('digraph "shop" {\n') and text.rstrip().endswith("}")
    assert text.count("{") == text.count("}")
    edge = re.compile(r'^  "([^"]+)" -> "([^"]+)" \[(.+)\];$')
    pairs = {(m.group(1), m.group(2)) for m in map(edge.match, text.splitlines()) if m}
    assert ("service:payment", "database:payments-db") in pairs
    assert ("service:order", "topic:order-placed") in pairs
    assert len(pairs) == len(shop.merged_edges())


def test_render_json_round_trips(shop: Topology) -> None:
    data = json.loads(render_json(shop))
    assert data["name"] == "shop"
    assert len(data["nodes"]) == len(shop.nodes)
    assert len(data["edges"]) == len(shop.edges)
    assert {"source": "service:order", "target": "service:user", "kind": "call"}.items() <= next(
        e for e in data["edges"] if e["kind"] == "call"
    ).items()


def test_rendering_is_deterministic() -> None:
    a = topology(catalog.template_architecture("banking"))
    b = topology(catalog.template_architecture("banking"))
    assert render_text(a) == render_text(b)
    assert render_json(a) == render_json(b)
