"""Spans of sagas (runs, steps, state writes), event stores (appends, projections) and counted
queries and calls: kinds, parent links, follows-from links and timing, in the recorded traces
and in their OTLP form."""

from __future__ import annotations

import base64
import dataclasses
import itertools
import json
import math
from collections import Counter
from typing import Any

import pytest
from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span as ProtoSpan

from scalesim_patterns import catalog
from scalesim_patterns.model import Architecture, loads
from scalesim_patterns.sim import simulate
from scalesim_patterns.sim.tracing.export import render
from scalesim_patterns.sim.tracing.recorder import TraceOptions
from scalesim_patterns.sim.tracing.spans import (
    CLIENT,
    CONSUMER,
    INTERNAL,
    PRODUCER,
    SERVER,
    Span,
    Trace,
    TraceSet,
)

EPS = 1e-9


def _traces(arch: Architecture, duration: float = 5.0) -> TraceSet:
    result = simulate(
        arch,
        duration=duration,
        warmup=1.0,
        replications=1,
        jobs=1,
        traces=TraceOptions(max_traces=100_000, sampling=1.0),
    )
    assert result.traces is not None
    return result.traces


def _within(child: Span, parent: Span) -> bool:
    return parent.start <= child.start + EPS and child.end <= parent.end + EPS


def _by_id(trace: Trace) -> dict[int, Span]:
    return {s.span_id: s for s in trace.spans}


@pytest.fixture(scope="module")
def store_traces() -> TraceSet:
    return _traces(catalog.template_architecture("event-sourcing"))


@pytest.fixture(scope="module")
def saga_traces() -> TraceSet:
    return _traces(catalog.template_architecture("saga"), duration=4.0)


def test_appends_are_producer_spans_inside_the_server_span_that_appends(
    store_traces: TraceSet,
) -> None:
    appends = [
        (t, s)
        for t in store_traces.traces
        if t.complete
        for s in t.spans
        if s.name.startswith("streams.append")
    ]
    assert len(appends) > 200
    for trace, span in appends:
        parent = _by_id(trace)[span.parent_id]
        assert span.kind == PRODUCER
        assert parent.kind == SERVER and parent.service == "order"
        assert _within(span, parent)
        assert span.attributes["db.system.name"] == "eventstoredb"
        assert span.attributes["db.operation.name"] == "streams.append"
        assert span.attributes["db.eventstoredb.stream"] == "order-events"
        assert int(span.attributes["scalesim.append.attempts"]) >= 1
        assert span.replica == parent.replica
    # `place` appends 3 events, `pay` and `ship` one each
    events = {(_by_id(t)[s.parent_id].name, s.attributes["scalesim.events"]) for t, s in appends}
    assert {e for _, e in events} == {1, 3}


def test_each_projection_applies_each_append_in_a_span_that_follows_from_it(
    store_traces: TraceSet,
) -> None:
    projections = {"order-summary", "customer-history"}
    complete = [t for t in store_traces.traces if t.complete]
    seen = 0
    for trace in complete:
        by_id = _by_id(trace)
        for append in (s for s in trace.spans if s.name.startswith("streams.append")):
            if append.error is not None:
                continue
            applied = [s for s in trace.spans if s.parent_id == append.span_id]
            assert {s.attributes["db.eventstoredb.subscription.id"] for s in applied} == (
                projections
            )
            assert len(applied) == 2
            for span in applied:
                seen += 1
                assert span.kind == CONSUMER and span.follows_from
                assert span.service == "order-view"
                assert span.name == "streams.subscribe order-events"
                assert span.start >= append.end - EPS  # asynchronous: after the append
                assert span.end >= span.start
                lag = float(span.attributes["scalesim.lag_ms"]) / 1000
                assert math.isclose(lag, span.end - append.end, abs_tol=1e-6)
                assert 1 <= int(span.attributes["scalesim.batch"]) <= 50
                assert by_id[span.parent_id] is append
    assert seen > 400
    # a trace whose append a projection has not applied yet is not complete: written partial
    pending = [t for t in store_traces.traces if not t.complete]
    assert all(t.open > 0 for t in pending)
    assert len(pending) <= store_traces.incomplete


def test_a_saga_run_is_a_span_holding_its_steps_and_its_state_writes(
    saga_traces: TraceSet,
) -> None:
    arch = catalog.template_architecture("saga")
    saga = arch.spec.sagas["place-order"]
    n_steps = len(saga.steps)
    checked = 0
    for trace in (t for t in saga_traces.traces if t.complete):
        by_id = _by_id(trace)
        (run,) = [s for s in trace.spans if s.name == "saga place-order"]
        parent = by_id[run.parent_id]
        assert run.kind == INTERNAL
        assert parent.kind == SERVER and parent.service == "order"
        assert run.start >= parent.start - EPS
        children = [s for s in trace.spans if s.parent_id == run.span_id]
        steps = [s for s in children if s.attributes.get("scalesim.saga.role") == "saga-step"]
        writes = [s for s in children if s.attributes.get("scalesim.saga") == "place-order"]
        writes = [s for s in writes if s.kind == CLIENT and s.name == "write orders-db"]
        for span in children:
            assert _within(span, run)
        for w in writes:
            assert w.attributes["db.system.name"] == "postgresql"
            assert w.attributes["db.namespace"] == "orders-db"
        if run.attributes["scalesim.saga.outcome"] == "completed" and all(
            s.error is None for s in trace.spans
        ):
            # one action per step; the state written at the start and after every action
            assert len(steps) == n_steps
            assert len(writes) == n_steps + 1
            assert run.error is None
            checked += 1
        # the steps run in order, each after the previous one's answer
        ordered = sorted(steps, key=lambda s: s.start)
        for before, after in itertools.pairwise(ordered):
            assert after.start >= before.end - EPS
    assert checked > 300


def test_a_compensated_saga_span_says_so() -> None:
    arch = catalog.template_architecture("saga")
    failing = arch.model_copy(deep=True)
    failing.spec.services["shipping"].endpoints["schedule"].error_rate = 0.5
    traces = _traces(failing, duration=4.0)
    outcomes: Counter[str] = Counter()
    compensated = 0
    for trace in (t for t in traces.traces if t.complete):
        for run in (s for s in trace.spans if s.name == "saga place-order"):
            outcome = str(run.attributes["scalesim.saga.outcome"])
            outcomes[outcome] += 1
            undo = [
                s
                for s in trace.spans
                if s.parent_id == run.span_id
                and s.attributes.get("scalesim.saga.role") == "compensate"
            ]
            if outcome == "compensated":
                assert run.error is not None
                # every step that succeeded is undone (and one that timed out, whose outcome
                # is unknown)
                steps = [
                    s
                    for s in trace.spans
                    if s.parent_id == run.span_id
                    and s.attributes.get("scalesim.saga.role") == "saga-step"
                ]
                done = [s for s in steps if s.error is None]
                timed_out = any(s.error == "timeout" for s in steps)
                undone = {s.name.split(" ", 1)[1] for s in undo if s.error is None}
                assert len(undone) == len(done) + timed_out
                assert len(done) < len(steps)
                compensated += 1
            elif outcome == "completed":
                assert not undo and run.error is None
    assert outcomes["compensated"] > 50 and outcomes["completed"] > 50
    assert compensated == outcomes["compensated"]


def test_a_choreographed_sagas_later_steps_follow_from_its_span() -> None:
    text = catalog.new(
        "saga", ["sagas.place-order.mode=choreographed", "sagas.place-order.broker=events"]
    )
    traces = _traces(loads(text), duration=4.0)
    delivered = 0
    for trace in (t for t in traces.traces if t.complete):
        by_id = _by_id(trace)
        for span in trace.spans:
            if span.kind == CONSUMER:
                run = by_id[span.parent_id]
                assert run.name == "saga place-order" and span.follows_from
                assert _within(span, run)
                delivered += 1
    assert delivered > 300


COUNTED = """
apiVersion: scalesim.dev/v1alpha1
kind: Architecture
metadata: {name: counted}
spec:
  services:
    a:
      replicas: 1
      workers: 100
      endpoints:
        e:
          work: 1ms
          steps:
            - {query: d, repeat: {type: uniform, min: 1, max: 5}}
            - {call: b.e, repeat: {type: uniform, min: 0, max: 3}}
    b:
      replicas: 1
      workers: 100
      endpoints:
        e: {work: 2ms}
  databases:
    d: {engine: postgresql, owner: a, pool: 20}
  tracing: {enabled: true, sampling: 1.0}
  traffic:
    users:
      type: open
      arrival: {process: poisson, rate: 100/s}
      mix: [{endpoint: a.e}]
  simulation: {duration: 10s, warmup: 1s, seed: 5}
"""


def test_counted_queries_and_calls_are_traced_one_span_each_in_sequence() -> None:
    traces = _traces(loads(COUNTED), duration=10.0)
    queries: Counter[int] = Counter()
    calls: Counter[int] = Counter()
    for trace in (t for t in traces.traces if t.complete):
        (server,) = [s for s in trace.spans if s.kind == SERVER and s.service == "a"]
        q = sorted(
            (
                s
                for s in trace.spans
                if s.parent_id == server.span_id and "db.namespace" in s.attributes
            ),
            key=lambda s: s.start,
        )
        c = sorted(
            (s for s in trace.spans if s.attributes.get("scalesim.target") == "b.e"),
            key=lambda s: s.start,
        )
        for span in q + c:
            assert span.kind == CLIENT and _within(span, server)
        for before, after in itertools.pairwise(q + c):
            assert after.start >= before.end - EPS  # one after another, calls after queries
        assert all(s.attributes["db.system.name"] == "postgresql" for s in q)
        queries[len(q)] += 1
        calls[len(c)] += 1
    n = sum(queries.values())
    assert n > 700
    # uniform counts: each of 1..5 queries and each of 0..3 calls equally likely
    assert set(queries) == {1, 2, 3, 4, 5} and set(calls) == {0, 1, 2, 3}
    for counts, p in ((queries, 1 / 5), (calls, 1 / 4)):
        for k in counts:
            assert abs(counts[k] - n * p) < 4 * math.sqrt(n * p * (1 - p))


def _otlp_spans(traces: TraceSet) -> list[ProtoSpan]:
    """The spans of the first 300 complete traces, through OTLP/JSON and the protobuf message."""
    kept = [t for t in traces.traces if t.complete][:300]
    doc = json.loads(render(dataclasses.replace(traces, traces=kept), "otlp"))

    def b64(value: Any) -> Any:
        if isinstance(value, dict):
            return {
                k: base64.b64encode(bytes.fromhex(v)).decode()
                if k in ("traceId", "spanId", "parentSpanId") and isinstance(v, str)
                else b64(v)
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [b64(v) for v in value]
        return value

    request = ExportTraceServiceRequest()
    json_format.Parse(json.dumps(b64(doc)), request)
    return [s for rs in request.resource_spans for ss in rs.scope_spans for s in ss.spans]


def test_otlp_carries_the_store_spans_with_parent_and_follows_from_links(
    store_traces: TraceSet,
) -> None:
    spans = _otlp_spans(store_traces)
    by_id = {(s.trace_id, s.span_id): s for s in spans}
    appends = [s for s in spans if s.name == "streams.append order-events"]
    applied = [s for s in spans if s.name == "streams.subscribe order-events"]
    assert appends and applied
    for span in appends:
        assert span.kind == ProtoSpan.SPAN_KIND_PRODUCER
        parent = by_id[(span.trace_id, span.parent_span_id)]
        assert parent.kind == ProtoSpan.SPAN_KIND_SERVER
        assert parent.start_time_unix_nano <= span.start_time_unix_nano
        assert span.end_time_unix_nano <= parent.end_time_unix_nano
        attrs = {a.key: a.value.string_value for a in span.attributes}
        assert attrs["db.system.name"] == "eventstoredb"
    for span in applied:
        assert span.kind == ProtoSpan.SPAN_KIND_CONSUMER
        producer = by_id[(span.trace_id, span.parent_span_id)]
        assert producer.name == "streams.append order-events"
        assert [link.span_id for link in span.links] == [producer.span_id]
        assert span.start_time_unix_nano >= producer.end_time_unix_nano


def test_otlp_carries_saga_runs_and_state_writes(saga_traces: TraceSet) -> None:
    spans = _otlp_spans(saga_traces)
    by_id = {(s.trace_id, s.span_id): s for s in spans}
    runs = [s for s in spans if s.name == "saga place-order"]
    writes = [s for s in spans if s.name == "write orders-db"]
    assert runs and writes
    for run in runs:
        assert run.kind == ProtoSpan.SPAN_KIND_INTERNAL
        assert by_id[(run.trace_id, run.parent_span_id)].kind == ProtoSpan.SPAN_KIND_SERVER
    under_runs = [w for w in writes if by_id[(w.trace_id, w.parent_span_id)].name == runs[0].name]
    assert under_runs
    for w in under_runs:
        run = by_id[(w.trace_id, w.parent_span_id)]
        assert run.start_time_unix_nano <= w.start_time_unix_nano
        assert w.end_time_unix_nano <= run.end_time_unix_nano


@pytest.mark.parametrize("name", ["saga", "event-sourcing", "counted"])
def test_tracing_sagas_stores_and_counts_changes_no_figure(name: str) -> None:
    """The traced runtimes draw the same numbers in the same order as the plain ones."""
    arch = loads(COUNTED) if name == "counted" else catalog.template_architecture(name)
    kwargs: dict[str, Any] = {"duration": 3.0, "warmup": 1.0, "replications": 1, "jobs": 1}
    traced = simulate(arch, traces=TraceOptions(sampling=1.0), **kwargs)
    plain = simulate(arch, **kwargs)
    assert traced.traces is not None and traced.traces.spans > 0
    assert traced.to_json() == plain.to_json()


def test_the_critical_path_names_appends_and_saga_time(store_traces: TraceSet) -> None:
    from scalesim_patterns.sim.tracing.critical_path import summarise

    paths = {p.entry: p for p in summarise(store_traces)}
    place = paths["POST order.place"]
    causes = {part.cause for part in place.p50.parts}
    assert "append" in causes and "broker-ack" in causes
    append = sum(part.ms for part in place.p50.parts if part.cause == "append")
    spans = [
        s.duration
        for t in store_traces.traces
        if t.complete and t.entry == "POST order.place"
        for s in t.spans
        if s.name.startswith("streams.append")
    ]
    assert 0 < append < 1000 * max(spans)


def test_store_and_saga_spans_are_valid_zipkin_and_jaeger(
    store_traces: TraceSet, saga_traces: TraceSet
) -> None:
    import jsonschema

    from tests.sim.tracing.test_traces import HERE

    schema = json.loads((HERE / "zipkin2_api_schema.json").read_text(encoding="utf-8"))
    for traces in (store_traces, saga_traces):
        kept = dataclasses.replace(traces, traces=[t for t in traces.traces if t.complete][:200])
        jsonschema.validate(json.loads(render(kept, "zipkin")), schema)
        for trace in json.loads(render(kept, "jaeger"))["data"]:
            ids = {s["spanID"] for s in trace["spans"]}
            for span in trace["spans"]:
                for ref in span["references"]:
                    assert ref["spanID"] in ids
                if span["operationName"].startswith("streams.subscribe"):
                    assert [r["refType"] for r in span["references"]] == ["FOLLOWS_FROM"]
