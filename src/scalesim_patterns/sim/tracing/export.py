"""Writing traces in the three formats trace backends read.

- `otlp`: OTLP/JSON, the body of an `ExportTraceServiceRequest` as an OpenTelemetry collector's
  OTLP/HTTP receiver takes it (opentelemetry-proto's JSON mapping: ids as hex strings, enums as
  integers, 64-bit integers as strings; spec: opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding).
  Spans are grouped by service (the resource's `service.name`).
- `jaeger`: the JSON the Jaeger UI's "Upload" accepts (its `/api/traces` answer: `data`, one
  object per trace with `spans` and `processes`); a consumer's span refers to its producer with
  `FOLLOWS_FROM`, every other parent with `CHILD_OF`.
- `zipkin`: Zipkin v2 JSON, a list of spans as `POST /api/v2/spans` takes them (zipkin2-api.yaml):
  microsecond timestamps, kinds CLIENT/SERVER/PRODUCER/CONSUMER (absent for local spans),
  string tags.

Traces are written in the order they completed, spans within a trace by start time; output is a
function of the traces alone, so the same run writes the same bytes.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from scalesim_patterns import __version__
from scalesim_patterns.sim.tracing.spans import (
    CLIENT,
    CONSUMER,
    EPOCH_NS,
    INTERNAL,
    PRODUCER,
    SERVER,
    Span,
    TraceSet,
)

__all__ = ["FORMATS", "TraceFormat", "render", "to_jaeger", "to_otlp", "to_zipkin"]

TraceFormat = Literal["otlp", "jaeger", "zipkin"]
FORMATS: tuple[TraceFormat, ...] = ("otlp", "jaeger", "zipkin")

SCOPE = "scalesim-patterns"
_OTLP_KIND = {INTERNAL: 1, SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5}
_ZIPKIN_KIND = {SERVER: "SERVER", CLIENT: "CLIENT", PRODUCER: "PRODUCER", CONSUMER: "CONSUMER"}


def _hex128(n: int) -> str:
    return f"{n:032x}"


def _hex64(n: int) -> str:
    return f"{n:016x}"


def _ns(t: float) -> int:
    return EPOCH_NS + round(t * 1e9)


def _us(t: float) -> int:
    return EPOCH_NS // 1000 + round(t * 1e6)


def _sorted(spans: list[Span]) -> list[Span]:
    return sorted(spans, key=lambda s: (s.start, s.end, s.span_id))


def _all_spans(traces: TraceSet) -> list[Span]:
    return [span for trace in traces.traces for span in _sorted(trace.spans)]


def _attributes(span: Span) -> dict[str, Any]:
    attrs: dict[str, Any] = dict(span.attributes)
    if span.replica is not None:
        attrs.setdefault("k8s.pod.name", span.replica)
    return attrs


# ---- OTLP ------------------------------------------------------------------------------------


def _any_value(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    return {"stringValue": str(value)}


def _kv(attrs: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"key": key, "value": _any_value(value)} for key, value in attrs.items()]


def to_otlp(traces: TraceSet) -> dict[str, Any]:
    by_service: dict[str, list[dict[str, Any]]] = {}
    for span in _all_spans(traces):
        out: dict[str, Any] = {
            "traceId": _hex128(span.trace_id),
            "spanId": _hex64(span.span_id),
        }
        if span.parent_id:
            out["parentSpanId"] = _hex64(span.parent_id)
        out["name"] = span.name
        out["kind"] = _OTLP_KIND[span.kind]
        out["startTimeUnixNano"] = str(_ns(span.start))
        out["endTimeUnixNano"] = str(_ns(span.end))
        out["attributes"] = _kv(_attributes(span))
        if span.follows_from:
            out["links"] = [
                {
                    "traceId": _hex128(span.trace_id),
                    "spanId": _hex64(span.parent_id),
                    "attributes": _kv({"scalesim.link": "follows_from"}),
                }
            ]
        if span.error is not None:
            out["status"] = {"code": 2, "message": span.error}  # STATUS_CODE_ERROR
        else:
            out["status"] = {}
        by_service.setdefault(span.service, []).append(out)
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": _kv({"service.name": service})},
                "scopeSpans": [{"scope": {"name": SCOPE, "version": __version__}, "spans": spans}],
            }
            for service, spans in sorted(by_service.items())
        ]
    }


# ---- Jaeger ----------------------------------------------------------------------------------


def _jaeger_tag(key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"key": key, "type": "bool", "value": value}
    if isinstance(value, int):
        return {"key": key, "type": "int64", "value": value}
    if isinstance(value, float):
        return {"key": key, "type": "float64", "value": value}
    return {"key": key, "type": "string", "value": str(value)}


def to_jaeger(traces: TraceSet) -> dict[str, Any]:
    data = []
    for trace in traces.traces:
        processes: dict[str, str] = {}
        spans = []
        for span in _sorted(trace.spans):
            pid = processes.setdefault(span.service, f"p{len(processes) + 1}")
            tags = [_jaeger_tag(k, v) for k, v in _attributes(span).items()]
            tags.append(_jaeger_tag("span.kind", span.kind))
            if span.error is not None:
                tags.append(_jaeger_tag("error", True))
                tags.append(_jaeger_tag("otel.status_code", "ERROR"))
                tags.append(_jaeger_tag("otel.status_description", span.error))
            refs = []
            if span.parent_id:
                refs.append(
                    {
                        "refType": "FOLLOWS_FROM" if span.follows_from else "CHILD_OF",
                        "traceID": _hex128(span.trace_id),
                        "spanID": _hex64(span.parent_id),
                    }
                )
            spans.append(
                {
                    "traceID": _hex128(span.trace_id),
                    "spanID": _hex64(span.span_id),
                    "operationName": span.name,
                    "references": refs,
                    "startTime": _us(span.start),
                    "duration": max(0, _us(span.end) - _us(span.start)),
                    "tags": tags,
                    "logs": [],
                    "processID": pid,
                    "warnings": None,
                    "flags": 1,
                }
            )
        data.append(
            {
                "traceID": _hex128(trace.trace_id),
                "spans": spans,
                "processes": {
                    pid: {"serviceName": service, "tags": []} for service, pid in processes.items()
                },
                "warnings": None,
            }
        )
    return {"data": data, "total": 0, "limit": 0, "offset": 0, "errors": None}


# ---- Zipkin ----------------------------------------------------------------------------------


def to_zipkin(traces: TraceSet) -> list[dict[str, Any]]:
    out = []
    for span in _all_spans(traces):
        z: dict[str, Any] = {"traceId": _hex128(span.trace_id), "id": _hex64(span.span_id)}
        if span.parent_id:
            z["parentId"] = _hex64(span.parent_id)
        z["name"] = span.name.lower()
        kind = _ZIPKIN_KIND.get(span.kind)
        if kind is not None:
            z["kind"] = kind
        start = _us(span.start)
        z["timestamp"] = start
        z["duration"] = max(1, _us(span.end) - start)  # "durations of less than one are rounded up"
        z["localEndpoint"] = {"serviceName": span.service}
        remote = span.attributes.get("server.address")
        if span.kind == CLIENT and isinstance(remote, str):
            z["remoteEndpoint"] = {"serviceName": remote}
        tags = {k: _zipkin_tag(v) for k, v in _attributes(span).items()}
        if span.error is not None:
            tags["error"] = span.error
        z["tags"] = tags
        out.append(z)
    return out


def _zipkin_tag(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def render(traces: TraceSet, fmt: TraceFormat) -> str:
    """The traces as the text of one file in `fmt`."""
    doc: Any
    if fmt == "otlp":
        doc = to_otlp(traces)
    elif fmt == "jaeger":
        doc = to_jaeger(traces)
    elif fmt == "zipkin":
        doc = to_zipkin(traces)
    else:
        raise ValueError(f"unknown trace format {fmt!r}; one of {', '.join(FORMATS)}")
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False) + "\n"
