"""Simulated traces: what is recorded, how it is sampled, and that the three formats load."""

from __future__ import annotations

import base64
import itertools
import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from scalesim_patterns import catalog
from scalesim_patterns.model import Architecture, loads
from scalesim_patterns.model.edge import TailSampling
from scalesim_patterns.sim import simulate
from scalesim_patterns.sim.tracing.export import render, to_jaeger, to_otlp, to_zipkin
from scalesim_patterns.sim.tracing.recorder import TraceOptions
from scalesim_patterns.sim.tracing.spans import (
    CLIENT,
    CONSUMER,
    INTERNAL,
    PRODUCER,
    SERVER,
    Span,
    TraceSet,
)

HERE = Path(__file__).parent


def _traced(
    name: str,
    *,
    duration: float = 6.0,
    sampling: float | None = None,
    max_traces: int = 100_000,
    scenario: str | None = None,
    arch: Architecture | None = None,
) -> tuple[Any, TraceSet]:
    model = arch if arch is not None else catalog.template_architecture(name)
    result = simulate(
        model,
        duration=duration,
        warmup=1.0,
        replications=1,
        jobs=1,
        scenario=scenario,
        traces=TraceOptions(max_traces=max_traces, sampling=sampling),
    )
    assert result.traces is not None
    return result, result.traces


@pytest.fixture(scope="module")
def checkout() -> TraceSet:
    return _traced("distributed-tracing", sampling=1.0, duration=4.0, max_traces=300)[1]


@pytest.fixture(scope="module")
def shop() -> TraceSet:
    return _traced("ecommerce", sampling=1.0, duration=5.0, max_traces=600)[1]


def test_a_traced_run_reports_exactly_what_an_untraced_one_does() -> None:
    arch = catalog.template_architecture("ecommerce")
    traced, traces = _traced("ecommerce", arch=arch, sampling=0.5, duration=5.0)
    plain = simulate(arch, duration=5.0, warmup=1.0, replications=1, jobs=1)
    assert plain.traces is None
    assert traces.traces
    assert traced.to_json() == plain.to_json()


def test_the_same_seed_writes_the_same_bytes() -> None:
    a = _traced("distributed-tracing", duration=3.0)[1]
    b = _traced("distributed-tracing", duration=3.0)[1]
    for fmt in ("otlp", "jaeger", "zipkin"):
        assert render(a, fmt) == render(b, fmt)  # type: ignore[arg-type]


def test_a_checkout_trace_has_one_span_per_hop_query_and_call(checkout: TraceSet) -> None:
    """The template's request: gateway -> checkout -> auth (1 query), inventory (2 queries),
    payment, shipping -> carrier-a and carrier-b in parallel."""
    whole = [t for t in checkout.traces if t.complete and not t.has_error]
    assert len(whole) > 100
    for trace in whole[:50]:
        kinds = Counter((s.kind, s.service) for s in trace.spans)
        assert kinds == Counter(
            {
                (CLIENT, "client"): 1,
                (SERVER, "gateway"): 1,
                (CLIENT, "gateway"): 1,
                (SERVER, "checkout"): 1,
                (CLIENT, "checkout"): 4,
                (SERVER, "auth"): 1,
                (CLIENT, "auth"): 1,  # sessions-db
                (SERVER, "inventory"): 1,
                (CLIENT, "inventory"): 2,  # read and write
                (SERVER, "payment"): 1,
                (SERVER, "shipping"): 1,
                (CLIENT, "shipping"): 2,
                (SERVER, "carrier-a"): 1,
                (SERVER, "carrier-b"): 1,
            }
        )
        by_id = {s.span_id: s for s in trace.spans}
        assert len(by_id) == len(trace.spans)
        root = trace.root
        assert root.name == "POST /checkout"
        for span in trace.spans:
            assert span.trace_id == trace.trace_id
            assert span.end >= span.start
            if span is root:
                continue
            parent = by_id[span.parent_id]
            # a child runs within its synchronous parent
            assert parent.start <= span.start + 1e-12
            assert span.end <= parent.end + 1e-12
        db = [s for s in trace.spans if "db.system.name" in s.attributes]
        assert {s.attributes["db.system.name"] for s in db} == {"redis", "postgresql"}
        assert all(s.replica is not None for s in trace.spans if s.kind == SERVER)


def test_server_spans_split_queueing_and_work(checkout: TraceSet) -> None:
    for trace in checkout.traces[:200]:
        for s in trace.spans:
            if s.kind == SERVER and s.error is None:
                queue = float(s.attributes["scalesim.queue_ms"])
                work = float(s.attributes["scalesim.work_ms"])
                assert queue >= 0 and work > 0
                assert (queue + work) / 1000 <= s.duration + 1e-9


def test_head_sampling_keeps_the_files_share_of_requests() -> None:
    """TraceIdRatioBased(0.1) on uniform ids: the sampled count is Binomial(n, 0.1)."""
    _, traces = _traced("distributed-tracing", duration=20.0)
    n, k, p = traces.started, traces.sampled, 0.1
    half = 4 * math.sqrt(n * p * (1 - p))  # 4 sigma: a false failure about once in 16 000 runs
    assert n > 3000
    assert abs(k - n * p) < half
    # parent-based: every span of every kept trace was recorded, none of the rest
    assert len(traces.traces) + traces.dropped_by_cap == k


def test_tail_rules_keep_the_failed_and_the_slow_traces_only() -> None:
    arch = catalog.template_architecture("distributed-tracing")
    tracing = arch.spec.tracing
    assert tracing is not None
    threshold = 0.35
    tail = TailSampling(errors=True, latency_above=threshold, ratio=0.0)
    tailed = arch.model_copy(
        deep=True,
        update={
            "spec": arch.spec.model_copy(
                update={"tracing": tracing.model_copy(update={"sampling": 1.0, "tail": tail})}
            )
        },
    )
    _, everything = _traced(
        "distributed-tracing", arch=arch, sampling=1.0, duration=10.0, scenario="carrier-b-slow"
    )
    _, kept = _traced("distributed-tracing", arch=tailed, duration=10.0, scenario="carrier-b-slow")
    assert kept.tail is not None
    complete = [t for t in kept.traces if t.complete]
    assert complete
    for trace in complete:
        assert trace.has_error or trace.end - trace.start > threshold
    wanted = [
        t.trace_id
        for t in everything.traces
        if t.complete and (t.has_error or t.end - t.start > threshold)
    ]
    assert sorted(t.trace_id for t in complete) == sorted(wanted)
    assert kept.dropped_by_tail == everything.sampled - len(wanted) - kept.incomplete


def test_the_cap_keeps_the_first_traces_and_says_how_many_it_dropped() -> None:
    _, traces = _traced("distributed-tracing", max_traces=5)
    assert len(traces.traces) == 5
    assert traces.dropped_by_cap == traces.sampled - 5 - traces.incomplete
    assert "over the cap of 5" in traces.message()


RETRYING = """
apiVersion: scalesim.dev/v1alpha1
kind: Architecture
metadata: {name: retrying}
spec:
  services:
    front:
      replicas: 1
      workers: 8
      clients:
        back: {retry: {maxAttempts: 3, wait: 10ms, retryOn: [error]}}
      endpoints:
        go:
          work: {type: constant, value: 1ms}
          steps:
            - call: back.do
    back:
      replicas: 2
      workers: 8
      endpoints:
        do:
          work: {type: constant, value: 2ms}
          errorRate: 0.4
  tracing: {enabled: true, sampling: 1.0}
  traffic:
    users:
      type: open
      arrival: {process: poisson, rate: 50/s}
      mix:
        - {endpoint: front.go}
  simulation: {duration: 10s, warmup: 1s, seed: 3}
"""


def test_retries_are_server_spans_under_one_client_span() -> None:
    """Three attempts at most, each failing with probability 0.4: per call the server spans
    are numbered 0, 1, 2 by `http.request.resend_count`, and the call fails only when all do."""
    _, traces = _traced("", arch=loads(RETRYING), duration=10.0)
    attempts: Counter[int] = Counter()
    for trace in traces.traces:
        if not trace.complete:
            continue
        client = next(s for s in trace.spans if s.kind == CLIENT and s.service == "front")
        tries = sorted(
            (s for s in trace.spans if s.kind == SERVER and s.parent_id == client.span_id),
            key=lambda s: s.start,
        )
        counts = [int(s.attributes.get("http.request.resend_count", 0)) for s in tries]
        assert counts == list(range(len(tries)))
        assert all(s.error == "error" for s in tries[:-1])
        assert (client.error is None) == (tries[-1].error is None)
        for before, after in itertools.pairwise(tries):
            assert after.start >= before.end + 0.010 - 1e-9  # the 10ms wait between tries
        attempts[len(tries)] += 1
    n = sum(attempts.values())
    assert n > 300
    # P(1 try) = 0.6, P(2) = 0.24, P(3) = 0.16: each share within 4 sigma of its binomial
    for k, p in ((1, 0.6), (2, 0.24), (3, 0.16)):
        assert abs(attempts[k] - n * p) < 4 * math.sqrt(n * p * (1 - p))


def test_messages_follow_from_their_producer_and_sidecars_cost_the_mesh_share(
    shop: TraceSet,
) -> None:
    consumers = [(t, s) for t in shop.traces for s in t.spans if s.kind == CONSUMER]
    assert consumers
    for trace, span in consumers:
        producer = next(s for s in trace.spans if s.span_id == span.parent_id)
        assert producer.kind == PRODUCER
        assert span.follows_from
        assert (
            span.attributes["messaging.destination.name"]
            == producer.attributes["messaging.destination.name"]
        )
        assert span.start >= producer.end - 1e-12  # delivered after the broker's ack
    sidecars = [s for t in shop.traces for s in t.spans if s.kind == INTERNAL]
    assert sidecars and all(s.duration > 0 for s in sidecars)
    saga = Counter(
        s.attributes["scalesim.saga.role"]
        for t in shop.traces
        for s in t.spans
        if "scalesim.saga.role" in s.attributes
    )
    assert saga["saga-step"] > 0


def _hex_ids_to_base64(doc: Any) -> Any:
    """OTLP/JSON writes ids as hex; protobuf's JSON mapping reads bytes as base64."""
    if isinstance(doc, dict):
        out = {}
        for key, value in doc.items():
            if key in ("traceId", "spanId", "parentSpanId") and isinstance(value, str):
                out[key] = base64.b64encode(bytes.fromhex(value)).decode()
            else:
                out[key] = _hex_ids_to_base64(value)
        return out
    if isinstance(doc, list):
        return [_hex_ids_to_base64(v) for v in doc]
    return doc


def test_otlp_json_loads_as_an_export_trace_service_request(checkout: TraceSet) -> None:
    text = render(checkout, "otlp")
    request = ExportTraceServiceRequest()
    json_format.Parse(json.dumps(_hex_ids_to_base64(json.loads(text))), request)
    spans = [
        (rs.resource, span)
        for rs in request.resource_spans
        for ss in rs.scope_spans
        for span in ss.spans
    ]
    assert len(spans) == checkout.spans
    ids = {span.span_id for _, span in spans}
    partial = {t.trace_id.to_bytes(16, "big") for t in checkout.traces if not t.complete}
    for resource, span in spans:
        assert len(span.trace_id) == 16 and len(span.span_id) == 8
        assert span.end_time_unix_nano >= span.start_time_unix_nano > 1_700_000_000 * 10**9
        assert span.kind in (1, 2, 3, 4, 5)
        if span.trace_id not in partial:
            assert not span.parent_span_id or span.parent_span_id in ids
        assert resource.attributes[0].key == "service.name"
    errors = [s for _, s in spans if s.status.code == 2]
    assert len(errors) == sum(1 for t in checkout.traces for s in t.spans if s.error)


def test_jaeger_upload_file_has_processes_and_references(checkout: TraceSet) -> None:
    doc = json.loads(render(checkout, "jaeger"))
    assert len(doc["data"]) == len(checkout.traces)
    partial = {f"{t.trace_id:032x}" for t in checkout.traces if not t.complete}
    for trace in doc["data"]:
        if trace["traceID"] in partial:
            continue
        ids = {s["spanID"] for s in trace["spans"]}
        for span in trace["spans"]:
            assert span["traceID"] == trace["traceID"]
            assert span["processID"] in trace["processes"]
            assert isinstance(span["startTime"], int) and span["duration"] >= 0
            for ref in span["references"]:
                assert ref["refType"] in ("CHILD_OF", "FOLLOWS_FROM")
                assert ref["spanID"] in ids
        roots = [s for s in trace["spans"] if not s["references"]]
        assert len(roots) <= 1


def test_zipkin_v2_json_matches_zipkins_published_schema(shop: TraceSet) -> None:
    schema = json.loads((HERE / "zipkin2_api_schema.json").read_text(encoding="utf-8"))
    doc = json.loads(render(shop, "zipkin"))
    jsonschema.validate(doc, schema)
    kinds = Counter(s.get("kind") for s in doc)
    assert {"CLIENT", "SERVER", "PRODUCER", "CONSUMER", None} <= set(kinds)
    # a bad span is caught: the schema check can fail
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate([{**doc[0], "id": "xyz"}], schema)


def test_every_format_holds_the_same_spans(shop: TraceSet) -> None:
    n = shop.spans
    assert sum(len(t["spans"]) for t in to_jaeger(shop)["data"]) == n
    assert len(to_zipkin(shop)) == n
    assert sum(len(r["scopeSpans"][0]["spans"]) for r in to_otlp(shop)["resourceSpans"]) == n


def test_a_span_is_a_plain_record() -> None:
    span = Span(1, 2, 0, "x", SERVER, "svc", 1.0, 1.5)
    assert span.duration == 0.5
