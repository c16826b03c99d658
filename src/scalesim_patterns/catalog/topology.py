"""The shape of an architecture: who calls whom, who stores what, who listens to which topic.

`topology(arch)` turns an Architecture into plain nodes and edges; the renderers draw them for a
terminal (layered by call depth), Mermaid, Graphviz or JSON. Edges are kept one per step of the
file (each call with its probability and repeat), so the JSON is exact; the drawings merge edges
that join the same two nodes the same way, so they stay readable.
"""

from __future__ import annotations

import json
import re
import textwrap
from collections import defaultdict
from dataclasses import asdict, dataclass, field, replace
from typing import Literal

from ..model import Architecture
from ..model.counts import Count, count_mean
from ..model.steps import (
    AppendStep,
    CallStep,
    ParallelStep,
    PublishStep,
    QueryStep,
    SagaStep,
    expand,
)
from ..model.traffic import (
    Arrival,
    ConstantArrival,
    OpenLoop,
    PoissonArrival,
    RampArrival,
    SeriesArrival,
    SpikeArrival,
    StepArrival,
)
from ..model.units import format_rate

__all__ = [
    "Edge",
    "EdgeKind",
    "Node",
    "NodeKind",
    "Topology",
    "render_dot",
    "render_json",
    "render_mermaid",
    "render_text",
    "topology",
]

NodeKind = Literal["client", "gateway", "service", "event-store", "topic", "database"]
EdgeKind = Literal[
    "request", "route", "call", "saga-step", "query", "append", "publish", "consume", "project"
]

_KIND_ORDER: dict[str, int] = {
    "client": 0,
    "gateway": 1,
    "service": 2,
    "event-store": 3,
    "topic": 4,
    "database": 5,
}


@dataclass(frozen=True)
class Node:
    id: str
    """`<kind>:<name>`, unique across kinds (a service and a database may share a name)."""
    kind: NodeKind
    name: str
    detail: str = ""
    group: str | None = None
    """The broker a topic belongs to."""
    external: bool = False
    layer: int = 0
    """Call depth from the traffic sources (longest path, cycles broken)."""


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    kind: EdgeKind
    label: str = ""
    probability: float = 1.0
    repeat: int = 1


@dataclass(frozen=True)
class Topology:
    name: str
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    sagas: tuple[str, ...] = field(default_factory=tuple)

    def node(self, node_id: str) -> Node:
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise KeyError(node_id)

    def find(self, source: str, target: str, kind: EdgeKind | None = None) -> list[Edge]:
        """Edges from the node named (or with id) `source` to `target`, optionally of one kind."""

        def match(node_id: str, name: str) -> bool:
            return node_id == name or node_id.split(":", 1)[1] == name

        return [
            e
            for e in self.edges
            if match(e.source, source)
            and match(e.target, target)
            and (kind is None or e.kind == kind)
        ]

    def layers(self) -> list[list[Node]]:
        depth = max((n.layer for n in self.nodes), default=-1)
        return [[n for n in self.nodes if n.layer == d] for d in range(depth + 1)]

    def merged_edges(self) -> list[Edge]:
        """One edge per (source, target, kind), labels joined, for drawings."""
        groups: dict[tuple[str, str, EdgeKind], list[Edge]] = defaultdict(list)
        for e in self.edges:
            groups[(e.source, e.target, e.kind)].append(e)
        out = []
        for (s, t, k), items in groups.items():
            labels = list(dict.fromkeys(_edge_label(e) for e in items if _edge_label(e)))
            out.append(Edge(source=s, target=t, kind=k, label=", ".join(labels)))
        return out


def _edge_label(e: Edge) -> str:
    extra = []
    if e.probability < 1:
        extra.append(f"p={e.probability:g}")
    if e.repeat > 1:
        extra.append(f"×{e.repeat}")
    return e.label + (f" ({', '.join(extra)})" if extra else "")


def _shown(times: float, repeat: Count) -> tuple[float, int]:
    """An edge's probability (≤ 1) and whole repeat count from a mean number of runs and a
    repeat (a distribution shows as its mean, rounded)."""
    mean = times * count_mean(repeat)
    if times <= 1 and isinstance(repeat, int):
        return times, repeat
    if mean < 1:
        return mean, 1
    return 1.0, max(1, round(mean))


# -- building ---------------------------------------------------------------------------------


def _arrival(a: Arrival) -> str:
    if isinstance(a, PoissonArrival | ConstantArrival):
        return f"{a.process} {format_rate(a.rate)}"
    if isinstance(a, RampArrival):
        return f"ramp {format_rate(a.from_)}→{format_rate(a.to)}"
    if isinstance(a, StepArrival):
        return f"steps up to {format_rate(max(s.rate for s in a.steps))}"
    if isinstance(a, SpikeArrival):
        return f"spike {format_rate(a.base)}→{format_rate(a.peak)}"
    if isinstance(a, SeriesArrival):
        return f"series up to {format_rate(a.peak())}"
    return f"diurnal {format_rate(a.mean)} ±{a.amplitude:.0%}"


class _Builder:
    def __init__(self, arch: Architecture) -> None:
        self.arch = arch
        self.spec = arch.spec
        self.nodes: dict[str, Node] = {}
        self.edges: list[Edge] = []

    def add_node(self, node: Node) -> None:
        self.nodes.setdefault(node.id, node)

    def edge(
        self,
        source: str,
        target: str,
        kind: EdgeKind,
        label: str = "",
        probability: float = 1.0,
        repeat: int = 1,
    ) -> None:
        if source in self.nodes and target in self.nodes:
            e = Edge(source, target, kind, label, probability, repeat)
            if e not in self.edges:
                self.edges.append(e)

    def build(self) -> Topology:
        spec = self.spec
        for name, src in spec.traffic.items():
            detail = (
                f"open {_arrival(src.arrival)}"
                if isinstance(src, OpenLoop)
                else f"closed {src.users} users"
            )
            self.add_node(Node(f"client:{name}", "client", name, detail))
        if spec.gateway is not None:
            gw = spec.gateway
            auth = f" · {gw.auth.type}" if gw.auth is not None and gw.auth.type != "none" else ""
            self.add_node(
                Node("gateway:gateway", "gateway", "gateway", f"{gw.type} ×{gw.replicas}{auth}")
            )
        for name, svc in spec.services.items():
            parts = [
                f"×{svc.autoscaling.min_replicas}-{svc.autoscaling.max_replicas} hpa"
                if svc.autoscaling
                else f"×{svc.replicas}",
                f"{svc.workers} workers" + (" async" if svc.concurrency == "async" else ""),
            ]
            if svc.deployment is not None and svc.deployment.strategy != "rolling":
                parts.append(svc.deployment.strategy)
            if svc.external:
                parts = ["external API"]
            self.add_node(
                Node(f"service:{name}", "service", name, " · ".join(parts), external=svc.external)
            )
        for name, store in spec.event_stores.items():
            n = len(store.projections)
            self.add_node(
                Node(
                    f"event-store:{name}",
                    "event-store",
                    name,
                    f"event store · {n} projection{'s' if n != 1 else ''}",
                )
            )
        for bname, broker in spec.brokers.items():
            for tname, topic in broker.topics.items():
                self.add_node(
                    Node(
                        f"topic:{tname}",
                        "topic",
                        tname,
                        f"{broker.type} · {topic.partitions} partitions",
                        group=bname,
                    )
                )
        for name, db in spec.databases.items():
            self.add_node(
                Node(f"database:{name}", "database", name, f"{db.engine} · pool {db.pool}")
            )

        self.entry_edges()
        self.step_edges()
        self.data_edges()
        nodes = _layered(list(self.nodes.values()), self.edges, self.ownership())
        return Topology(
            name=self.arch.name,
            nodes=tuple(nodes),
            edges=tuple(self.edges),
            sagas=tuple(spec.sagas),
        )

    def entry_edges(self) -> None:
        spec = self.spec
        for name, src in spec.traffic.items():
            sent = src.requests()
            total = sum(e.weight for e in sent)
            for entry in sent:
                share = f"{entry.weight / total:.0%}"
                if entry.route is not None:
                    self.edge(
                        f"client:{name}", "gateway:gateway", "request", f"{entry.route} {share}"
                    )
                elif entry.endpoint is not None:
                    svc, _, ep = entry.endpoint.partition(".")
                    self.edge(f"client:{name}", f"service:{svc}", "request", f"{ep} {share}")
        if spec.gateway is not None:
            for route in spec.gateway.routes:
                for target, weight in route.targets():
                    svc, _, ep = target.partition(".")
                    share = f" {weight}%" if route.split is not None else ""
                    self.edge(
                        "gateway:gateway", f"service:{svc}", "route", f"{route.path} → {ep}{share}"
                    )
                for match in route.by_consumer:
                    who = ", ".join(match.consumers)
                    for target, weight in match.targets():
                        svc, _, ep = target.partition(".")
                        share = f" {weight}%" if match.split is not None else ""
                        self.edge(
                            "gateway:gateway",
                            f"service:{svc}",
                            "route",
                            f"{route.path} → {ep}{share} ({who})",
                        )

    def step_edges(self) -> None:
        spec = self.spec
        for sname, svc in spec.services.items():
            me = f"service:{sname}"
            for ename, ep in svc.endpoints.items():
                # Groups opened and a choice's options as calls: `times` < 1 is a chance, > 1
                # a mean count (model/steps.py `expand`).
                for step, times in expand(ep.steps):
                    if isinstance(step, CallStep):
                        self.call(me, ename, step, step.probability * times)
                    elif isinstance(step, ParallelStep):
                        for c in step.parallel:
                            self.call(me, ename, c, step.probability * c.probability * times, True)
                    elif isinstance(step, QueryStep):
                        self.edge(
                            me,
                            f"database:{step.query}",
                            "query",
                            f"{ename}: {step.operation}",
                            *_shown(step.probability * times, step.repeat),
                        )
                    elif isinstance(step, PublishStep):
                        self.edge(
                            me,
                            f"topic:{step.publish}",
                            "publish",
                            ename,
                            *_shown(step.probability * times, 1),
                        )
                    elif isinstance(step, AppendStep):
                        events = f" ({step.events} events)" if step.events > 1 else ""
                        self.edge(
                            me,
                            f"event-store:{step.append}",
                            "append",
                            f"{ename}{events}",
                            step.probability,
                        )
                    elif isinstance(step, SagaStep):
                        self.saga(me, step.saga)

    def call(
        self, me: str, ename: str, step: CallStep, probability: float, parallel: bool = False
    ) -> None:
        how = " parallel" if parallel else ""
        self.edge(
            me,
            f"service:{step.service}",
            "call",
            f"{ename} → {step.endpoint}{how}",
            *_shown(probability, step.repeat),
        )

    def saga(self, initiator: str, name: str) -> None:
        saga = self.spec.sagas.get(name)
        if saga is None:
            return
        services = [f"service:{s.action.partition('.')[0]}" for s in saga.steps]
        if saga.mode == "orchestrated" and saga.orchestrator is not None:
            orchestrator = f"service:{saga.orchestrator}"
            if initiator != orchestrator:
                self.edge(initiator, orchestrator, "saga-step", f"{name}: start")
            for i, (step, target) in enumerate(zip(saga.steps, services, strict=True)):
                undo = f" / undo {step.compensation.partition('.')[2]}" if step.compensation else ""
                pivot = " (pivot)" if step.pivot else ""
                self.edge(
                    orchestrator, target, "saga-step", f"{name} {i + 1}. {step.name}{pivot}{undo}"
                )
        else:
            via = f" via {saga.broker}" if saga.broker else ""
            if services and initiator != services[0]:
                self.edge(
                    initiator, services[0], "saga-step", f"{name} 1. {saga.steps[0].name}{via}"
                )
            for i in range(1, len(services)):
                self.edge(
                    services[i - 1],
                    services[i],
                    "saga-step",
                    f"{name} {i + 1}. {saga.steps[i].name}{via}",
                )

    def data_edges(self) -> None:
        spec = self.spec
        for broker in spec.brokers.values():
            for tname, topic in broker.topics.items():
                for c in topic.consumers:
                    group = f" (group {c.group})" if c.group else ""
                    self.edge(
                        f"topic:{tname}", f"service:{c.service}", "consume", f"{c.endpoint}{group}"
                    )
        for sname, store in spec.event_stores.items():
            for proj in store.projections:
                self.edge(f"event-store:{sname}", f"service:{proj.service}", "project", proj.name)
        for gname, saga in spec.sagas.items():
            if saga.orchestrator is not None and saga.state_store is not None:
                self.edge(
                    f"service:{saga.orchestrator}",
                    f"database:{saga.state_store}",
                    "query",
                    f"{gname}: saga state",
                )

    def ownership(self) -> list[tuple[str, str]]:
        """owner → store pairs: they place a store that nobody queries next to its owner."""
        pairs = [(f"service:{db.owner}", f"database:{n}") for n, db in self.spec.databases.items()]
        pairs += [
            (f"service:{s.owner}", f"event-store:{n}") for n, s in self.spec.event_stores.items()
        ]
        return pairs


def _layered(nodes: list[Node], edges: list[Edge], extra: list[tuple[str, str]]) -> list[Node]:
    """Longest-path layers from the sources; back edges of cycles are ignored."""
    ids = {n.id for n in nodes}
    succ: dict[str, list[str]] = defaultdict(list)
    for s, t in [(e.source, e.target) for e in edges] + extra:
        if s != t and s in ids and t in ids and t not in succ[s]:
            succ[s].append(t)
    order = sorted(nodes, key=lambda n: (_KIND_ORDER[n.kind], n.name))
    # Drop back edges found by a depth-first search, giving a DAG.
    state: dict[str, int] = {}
    dag: dict[str, list[str]] = defaultdict(list)

    def visit(start: str) -> None:
        stack: list[tuple[str, int]] = [(start, 0)]
        state[start] = 1
        while stack:
            node, i = stack.pop()
            nxt = succ[node]
            if i < len(nxt):
                stack.append((node, i + 1))
                child = nxt[i]
                if state.get(child) == 1:
                    continue  # back edge
                dag[node].append(child)
                if child not in state:
                    state[child] = 1
                    stack.append((child, 0))
            else:
                state[node] = 2

    for n in order:
        if n.id not in state:
            visit(n.id)
    layer: dict[str, int] = {n.id: 0 for n in nodes}
    indeg: dict[str, int] = defaultdict(int)
    for s in dag:
        for t in dag[s]:
            indeg[t] += 1
    ready = [n.id for n in order if indeg[n.id] == 0]
    while ready:
        node = ready.pop(0)
        for t in dag[node]:
            layer[t] = max(layer[t], layer[node] + 1)
            indeg[t] -= 1
            if indeg[t] == 0:
                ready.append(t)
    placed = [replace(n, layer=layer[n.id]) for n in nodes]
    return sorted(placed, key=lambda n: (n.layer, _KIND_ORDER[n.kind], n.name))


def topology(arch: Architecture) -> Topology:
    """Nodes and edges of an architecture, each node placed in a layer by call depth."""
    return _Builder(arch).build()


# -- rendering --------------------------------------------------------------------------------


def _box(node: Node) -> list[str]:
    title = node.name + (" (external)" if node.external else "")
    lines = [title, f"{node.kind}: {node.detail}" if node.detail else node.kind]
    width = max(len(s) for s in lines)
    return (
        ["┌" + "─" * (width + 2) + "┐"]
        + [f"│ {s.ljust(width)} │" for s in lines]
        + ["└" + "─" * (width + 2) + "┘"]
    )


def _side_by_side(boxes: list[list[str]], width: int, indent: str) -> list[str]:
    rows: list[list[list[str]]] = [[]]
    used = len(indent)
    for box in boxes:
        w = len(box[0]) + 2
        if rows[-1] and used + w > width:
            rows.append([])
            used = len(indent)
        rows[-1].append(box)
        used += w
    out: list[str] = []
    for row in rows:
        height = max(len(b) for b in row)
        for i in range(height):
            parts = [b[i] if i < len(b) else " " * len(b[0]) for b in row]
            out.append((indent + "  ".join(parts)).rstrip())
    return out


_EDGE_ORDER: tuple[str, ...] = (
    "request",
    "route",
    "call",
    "saga-step",
    "query",
    "append",
    "publish",
    "consume",
    "project",
)
_TEXT_ARROW: dict[str, str] = {
    "request": "─request─▶",
    "route": "─route──▶",
    "call": "─call───▶",
    "saga-step": "═saga═══▶",
    "query": "─query──▶",
    "append": "─append─▶",
    "publish": "┄publish▶",
    "consume": "┄consume▶",
    "project": "┄project▶",
}


def render_text(topo: Topology, width: int = 100) -> str:
    """A terminal drawing: one band per call-depth layer, its nodes boxed, then their edges."""
    counts: dict[str, int] = defaultdict(int)
    for n in topo.nodes:
        counts[n.kind] += 1
    summary = ", ".join(
        f"{counts[k]} {k.replace('-', ' ')}{'s' if counts[k] != 1 else ''}"
        for k in ("service", "database", "topic", "event-store")
        if counts[k]
    )
    if topo.sagas:
        summary += f", {len(topo.sagas)} saga{'s' if len(topo.sagas) != 1 else ''}"
    out = [f"{topo.name}: {summary}", ""]
    by_id = {n.id: n for n in topo.nodes}
    merged = topo.merged_edges()
    for depth, nodes in enumerate(topo.layers()):
        if not nodes:
            continue
        head = f"── layer {depth} "
        out.append(head + "─" * max(0, width - len(head)))
        out.extend(_side_by_side([_box(n) for n in nodes], width, "  "))
        here = {n.id for n in nodes}
        edges = sorted(
            (e for e in merged if e.source in here),
            key=lambda e: (by_id[e.source].name, _EDGE_ORDER.index(e.kind)),
        )
        if edges:
            sw = max(len(by_id[e.source].name) for e in edges)
            tw = max(len(by_id[e.target].name) for e in edges)
            for e in edges:
                head = (
                    f"    {by_id[e.source].name.ljust(sw)} {_TEXT_ARROW[e.kind]} "
                    f"{by_id[e.target].name.ljust(tw)}  "
                )
                room = max(width - len(head), 30)
                pad = " " * (len(head) if room == width - len(head) else 8)
                parts = textwrap.wrap(e.label, room, break_on_hyphens=False) or [""]
                out.append((head + parts[0]).rstrip())
                out.extend(pad + p for p in parts[1:])
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def _mermaid_id(node_id: str, taken: dict[str, str]) -> str:
    if node_id in taken:
        return taken[node_id]
    base = re.sub(r"[^A-Za-z0-9_]", "_", node_id.replace(":", "_"))
    ident, n = base, 2
    while ident in taken.values():
        ident, n = f"{base}_{n}", n + 1
    taken[node_id] = ident
    return ident


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;")


_MERMAID_SHAPE: dict[str, tuple[str, str]] = {
    "client": ('(["', '"])'),
    "gateway": ('{{"', '"}}'),
    "service": ('["', '"]'),
    "event-store": ('[("', '")]'),
    "topic": ('>"', '"]'),
    "database": ('[("', '")]'),
}
_MERMAID_ARROW: dict[str, str] = {
    "request": "-->",
    "route": "-->",
    "call": "-->",
    "saga-step": "==>",
    "query": "-->",
    "append": "-->",
    "publish": "-.->",
    "consume": "-.->",
    "project": "-.->",
}


def render_mermaid(topo: Topology) -> str:
    """A Mermaid `flowchart LR`: topics grouped by broker, async edges dotted, sagas thick."""
    ids: dict[str, str] = {}
    out = ["flowchart LR"]

    def decl(n: Node) -> str:
        left, right = _MERMAID_SHAPE[n.kind]
        if n.external:
            left, right = '[/"', '"/]'
        label = _mermaid_text(n.name + (f"<br/>{n.detail}" if n.detail else ""))
        return f"{_mermaid_id(n.id, ids)}{left}{label}{right}"

    brokers: dict[str, list[Node]] = defaultdict(list)
    for n in topo.nodes:
        if n.kind == "topic" and n.group:
            brokers[n.group].append(n)
        else:
            out.append(f"  {decl(n)}")
    for broker, topics in brokers.items():
        bid = _mermaid_id(f"broker:{broker}", ids)
        out.append(f'  subgraph {bid}["{_mermaid_text(broker)}"]')
        out.extend(f"    {decl(n)}" for n in topics)
        out.append("  end")
    for e in topo.merged_edges():
        arrow = _MERMAID_ARROW[e.kind]
        label = f'|"{_mermaid_text(e.kind + ": " + e.label if e.label else e.kind)}"|'
        out.append(f"  {_mermaid_id(e.source, ids)} {arrow}{label} {_mermaid_id(e.target, ids)}")
    return "\n".join(out) + "\n"


def _dot(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


_DOT_NODE: dict[str, str] = {
    "client": "shape=oval",
    "gateway": "shape=hexagon",
    "service": 'shape=box, style="rounded"',
    "event-store": 'shape=cylinder, style="bold"',
    "topic": "shape=cds",
    "database": "shape=cylinder",
}
_DOT_EDGE: dict[str, str] = {
    "request": "",
    "route": "",
    "call": "",
    "saga-step": "penwidth=2",
    "query": 'arrowhead="empty"',
    "append": 'arrowhead="empty"',
    "publish": 'style="dashed"',
    "consume": 'style="dashed"',
    "project": 'style="dotted"',
}


def render_dot(topo: Topology) -> str:
    """Graphviz `digraph`, left to right, topics clustered by broker."""
    out = [f"digraph {_dot(topo.name)} {{", "  rankdir=LR;", '  node [fontname="Helvetica"];']

    def decl(n: Node, indent: str) -> str:
        attrs = _DOT_NODE[n.kind]
        if n.external:
            attrs = 'shape=box, style="dashed"'
        label = n.name + (f"\\n{n.detail}" if n.detail else "")
        label = label.replace('"', '\\"')
        return f'{indent}{_dot(n.id)} [label="{label}", {attrs}];'

    brokers: dict[str, list[Node]] = defaultdict(list)
    for n in topo.nodes:
        if n.kind == "topic" and n.group:
            brokers[n.group].append(n)
        else:
            out.append(decl(n, "  "))
    for i, (broker, topics) in enumerate(brokers.items()):
        out.append(f"  subgraph cluster_{i} {{")
        out.append(f"    label={_dot(broker)};")
        out.extend(decl(n, "    ") for n in topics)
        out.append("  }")
    for e in topo.merged_edges():
        attrs = [f"label={_dot(e.label)}"] if e.label else []
        if _DOT_EDGE[e.kind]:
            attrs.append(_DOT_EDGE[e.kind])
        attrs.append(f"tooltip={_dot(e.kind)}")
        out.append(f"  {_dot(e.source)} -> {_dot(e.target)} [{', '.join(attrs)}];")
    out.append("}")
    return "\n".join(out) + "\n"


def render_json(topo: Topology) -> str:
    """Every node and every (unmerged) edge, for the web app and other tools."""
    data = {
        "name": topo.name,
        "sagas": list(topo.sagas),
        "nodes": [asdict(n) for n in topo.nodes],
        "edges": [asdict(e) for e in topo.edges],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
