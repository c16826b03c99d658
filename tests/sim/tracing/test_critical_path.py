"""The critical path of a trace, computed by hand on small trees."""

from __future__ import annotations

import pytest

from scalesim_patterns.sim.tracing.critical_path import critical_path, summarise
from scalesim_patterns.sim.tracing.spans import (
    CLIENT,
    CONSUMER,
    SERVER,
    Span,
    Trace,
    TraceSet,
)


def _span(
    i: int, parent: int, start: float, end: float, kind: str = SERVER, **attrs: float
) -> Span:
    span = Span(7, i, parent, f"op{i}", kind, f"s{i}", start, end)
    span.attributes.update(attrs)
    return span


def _trace(spans: list[Span], entry: str = "GET /x") -> Trace:
    return Trace(7, entry, spans, 0, True)


def test_parallel_children_only_the_last_to_finish_counts() -> None:
    # root 0..10; children a 1..4 and b 1..8 in parallel; b has child c 2..7
    root = _span(1, 0, 0.0, 10.0, CLIENT)
    a = _span(2, 1, 1.0, 4.0)
    b = _span(3, 1, 1.0, 8.0)
    c = _span(4, 3, 2.0, 7.0)
    pieces = critical_path(_trace([root, a, b, c]))
    own = {}
    for span, lo, hi in pieces:
        own[span.span_id] = own.get(span.span_id, 0.0) + (hi - lo)
    assert own == pytest.approx({1: 3.0, 3: 2.0, 4: 5.0})  # a is off the path
    assert sum(own.values()) == pytest.approx(10.0)


def test_asynchronous_consumers_are_off_the_path() -> None:
    root = _span(1, 0, 0.0, 2.0, CLIENT)
    consumer = _span(2, 1, 1.0, 9.0, CONSUMER)
    consumer.follows_from = True
    pieces = critical_path(_trace([root, consumer]))
    assert [(s.span_id, lo, hi) for s, lo, hi in pieces] == [(1, 0.0, 2.0)]


def test_causes_split_queue_and_work_and_bands_add_up() -> None:
    traces = []
    for k in range(100):
        latency = 0.010 + k * 0.001  # 10..109 ms
        root = _span(1, 0, 0.0, latency, CLIENT)
        # server span: queue 2ms, work 5ms, then waits (after-work) to latency - 1ms
        server = _span(2, 1, 0.0005, latency - 0.0005, SERVER, **{
            "scalesim.queue_ms": 2.0, "scalesim.work_ms": 5.0})  # fmt: skip
        t = _trace([root, server])
        t.trace_id = k
        traces.append(t)
    ts = TraceSet(traces, 100, 100, 0, 0, 0, 100, 1.0, 1.0, None)
    (path,) = summarise(ts)
    assert path.traces == 100
    assert path.p99.traces == 1 and path.p99.latency_ms == pytest.approx(109.0)
    parts = {(p.hop, p.cause): p.ms for p in path.p99.parts}
    assert parts[("s2: op2", "queue")] == pytest.approx(2.0)
    assert parts[("s2: op2", "work")] == pytest.approx(5.0)
    assert parts[("s2: op2", "wait")] == pytest.approx(109.0 - 1.0 - 7.0)
    assert parts[("s1: op1", "network")] == pytest.approx(1.0)
    assert sum(p.share for p in path.p50.parts) == pytest.approx(1.0)
    assert path.p50.latency_ms == pytest.approx(sum(10 + k for k in range(45, 55)) / 10)
