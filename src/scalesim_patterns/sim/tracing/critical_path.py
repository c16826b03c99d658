"""Which hop and which cause account for an entry's median and tail latency.

The critical path of one trace is computed as Jaeger's trace view does (the span, then backwards
from its end through the child that finished last before the cursor, recursively; the time no
child covers is the span's own). Asynchronous children (a consumer following from its producer)
are off the path: nobody waits for them. Each piece of the path is then given a cause from what
the simulator knows of the span: a server span's own time is `queue` (waiting for a worker),
`work` (its endpoint's work) or `wait` (holding the call with no child running, e.g. after a
timeout); a client span's own time is `network` (the hops, and the wait after a timeout or
between retries); a query's (a saga's state write included) is `pool-wait` then `query`; a
sidecar's is `sidecar`; a saga run's own time (backoff between attempts, waiting for a
choreographed event) is `saga`; a publish's `broker-ack`; an event-store append's `append`
(load, conflicts and retries included).

Over the traces of one entry, the traces around the median latency (the middle tenth) and those
at or above the 99th percentile are averaged: the result says, per hop and cause, how many
milliseconds of the p50 and of the p99 they account for.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from scalesim_patterns.sim.tracing.spans import (
    CLIENT,
    INTERNAL,
    PRODUCER,
    SERVER,
    Span,
    Trace,
    TraceSet,
)

__all__ = ["Band", "EntryPath", "Part", "critical_path", "summarise"]


def critical_path(trace: Trace) -> list[tuple[Span, float, float]]:
    """(span, from, to): the pieces of the trace's critical path, each the span's own time."""
    children: dict[int, list[Span]] = defaultdict(list)
    for span in trace.spans:
        if span.parent_id and not span.follows_from:
            children[span.parent_id].append(span)
    for kids in children.values():
        kids.sort(key=lambda s: (s.end, s.start, s.span_id), reverse=True)
    pieces: list[tuple[Span, float, float]] = []
    roots = [s for s in trace.spans if s.parent_id == 0]
    if not roots:
        return pieces
    stack: list[tuple[Span, float]] = [(roots[0], roots[0].end)]
    while stack:
        span, limit = stack.pop()
        cursor = min(span.end, limit)
        for child in children.get(span.span_id, ()):
            if cursor <= span.start:
                break
            if child.start >= cursor:
                continue
            child_end = min(child.end, cursor)
            if cursor > child_end:
                pieces.append((span, child_end, cursor))
            stack.append((child, child_end))
            cursor = max(child.start, span.start)
        if cursor > span.start:
            pieces.append((span, span.start, cursor))
    return pieces


def _overlap(a: float, b: float, lo: float, hi: float) -> float:
    return max(0.0, min(b, hi) - max(a, lo))


def _causes(span: Span, a: float, b: float) -> list[tuple[str, float]]:
    """Split one piece of a span's own time by cause."""
    total = b - a
    attrs = span.attributes
    if span.kind == SERVER or "scalesim.queue_ms" in attrs:
        queue = float(attrs.get("scalesim.queue_ms", 0.0)) / 1000
        work = float(attrs.get("scalesim.work_ms", 0.0)) / 1000
        q = _overlap(a, b, span.start, span.start + queue)
        w = _overlap(a, b, span.start + queue, span.start + queue + work)
        return [("queue", q), ("work", w), ("wait", total - q - w)]
    if span.kind == CLIENT and "db.namespace" in attrs:
        pool = float(attrs.get("scalesim.pool_wait_ms", 0.0)) / 1000
        p = _overlap(a, b, span.start, span.start + pool)
        return [("pool-wait", p), ("query", total - p)]
    if span.kind == INTERNAL:
        return [("saga" if "scalesim.saga" in attrs else "sidecar", total)]
    if span.kind == PRODUCER:
        return [("append" if "db.system.name" in attrs else "broker-ack", total)]
    return [("network", total)]


@dataclass(frozen=True)
class Part:
    hop: str
    """`service: span name`."""
    cause: str
    ms: float
    """Mean milliseconds of the band's latency."""
    share: float
    """Of the band's mean latency, 0..1."""


@dataclass(frozen=True)
class Band:
    latency_ms: float
    """Mean root latency of the band's traces."""
    traces: int
    parts: list[Part]
    """Largest first; the parts add up to the latency."""


@dataclass(frozen=True)
class EntryPath:
    entry: str
    traces: int
    p50: Band
    p99: Band


def _band(traces: list[Trace]) -> Band:
    sums: dict[tuple[str, str], float] = defaultdict(float)
    latency = 0.0
    for trace in traces:
        root = trace.root
        latency += root.duration
        for span, a, b in critical_path(trace):
            for cause, seconds in _causes(span, a, b):
                if seconds > 0:
                    sums[(f"{span.service}: {span.name}", cause)] += seconds
    n = len(traces)
    mean = latency / n
    parts = [
        Part(hop, cause, total / n * 1000, (total / n) / mean if mean > 0 else 0.0)
        for (hop, cause), total in sums.items()
    ]
    parts.sort(key=lambda p: (-p.ms, p.hop, p.cause))
    return Band(mean * 1000, n, parts)


def summarise(traces: TraceSet) -> list[EntryPath]:
    """Per entry, the critical path at the median and at the 99th percentile (successful and
    failed requests alike: a timeout is part of the tail)."""
    by_entry: dict[str, list[Trace]] = defaultdict(list)
    for trace in traces.traces:
        if trace.complete and any(s.parent_id == 0 for s in trace.spans):
            by_entry[trace.entry].append(trace)
    out = []
    for entry, group in sorted(by_entry.items()):
        group.sort(key=lambda t: (t.root.duration, t.trace_id))
        n = len(group)
        lo, hi = int(n * 0.45), max(int(n * 0.45) + 1, int(n * 0.55))
        tail = group[min(int(n * 0.99), n - 1) :]
        out.append(EntryPath(entry, n, _band(group[lo:hi]), _band(tail)))
    return out
