"""Finished spans and traces: plain data, independent of any exporter's format.

Times are simulated seconds from the start of the run; exporters turn them into the Unix
nanoseconds (or microseconds) their format wants by adding `EPOCH_NS`, a fixed instant, so the
same run writes the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "CLIENT",
    "CONSUMER",
    "EPOCH_NS",
    "INTERNAL",
    "PRODUCER",
    "SERVER",
    "Span",
    "Trace",
    "TraceSet",
]

EPOCH_NS = 1_767_225_600_000_000_000
"""2026-01-01T00:00:00Z: simulated time 0 in every exported trace."""

INTERNAL = "internal"
SERVER = "server"
CLIENT = "client"
PRODUCER = "producer"
CONSUMER = "consumer"

AttrValue = str | int | float | bool


@dataclass(slots=True, eq=False)
class Span:
    """One span. `parent_id` 0 is a root; `follows_from` marks a parent the span does not wait
    for (a message's consumer after its producer): Jaeger's FOLLOWS_FROM reference, an OTLP link."""

    trace_id: int
    """128 bits."""
    span_id: int
    """64 bits, never 0."""
    parent_id: int
    name: str
    kind: str
    service: str
    start: float
    end: float = -1.0
    """-1 while the span is open."""
    error: str | None = None
    """The cause of a failure (`error`, `timeout`, `rejected`, ...), None for success."""
    attributes: dict[str, AttrValue] = field(default_factory=dict)
    follows_from: bool = False
    replica: str | None = None
    """The pod that did the work (`service-index`), None for spans not tied to one."""

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(slots=True, eq=False)
class Trace:
    """The spans of one trace, in the order they ended (an open span is added when it ends)."""

    trace_id: int
    entry: str
    """The entry (route or endpoint) whose request started it."""
    spans: list[Span] = field(default_factory=list)
    open: int = 0
    """Spans started and not ended, plus messages published and not yet consumed."""
    complete: bool = False

    @property
    def root(self) -> Span:
        return next(s for s in self.spans if s.parent_id == 0)

    @property
    def has_error(self) -> bool:
        return any(s.error is not None for s in self.spans)

    @property
    def start(self) -> float:
        return min(s.start for s in self.spans)

    @property
    def end(self) -> float:
        return max(s.end for s in self.spans)


@dataclass
class TraceSet:
    """What a traced run kept, and what it did not keep and why (said to the user)."""

    traces: list[Trace]
    started: int
    """Requests the run started while recording (every head-sampling decision)."""
    sampled: int
    """Traces the head sampler let through."""
    dropped_by_tail: int
    """Complete traces no tail rule kept."""
    dropped_by_cap: int
    """Traces kept by the sampling but over `max_traces`."""
    incomplete: int
    """Traces still open when the run ended (written, within the cap, with the spans that had
    ended)."""
    max_traces: int
    duration: float
    """Simulated seconds recorded."""
    sampling: float
    tail: str | None
    """The tail rules, as said to the user (None: none)."""

    @property
    def spans(self) -> int:
        return sum(len(t.spans) for t in self.traces)

    @property
    def spans_per_second(self) -> float:
        """Spans the sampling produces per simulated second, kept or not (the load a collector
        and a backend must take): the kept traces' spans per trace times sampled traces per
        second."""
        kept = [t for t in self.traces if t.complete]
        if not kept or self.duration <= 0:
            return 0.0
        per_trace = sum(len(t.spans) for t in kept) / len(kept)
        return per_trace * self.sampled / self.duration

    def message(self) -> str:
        """One line saying what was kept, and the cap when it bit."""
        parts = [
            f"{len(self.traces)} traces ({self.spans} spans) of {self.started} requests "
            f"(head sampling {self.sampling:g}: {self.sampled} sampled"
        ]
        if self.tail is not None:
            parts.append(f"; tail rules {self.tail}: {self.dropped_by_tail} dropped")
        parts.append(")")
        text = "".join(parts) + f"; about {self.spans_per_second:,.0f} spans/s sampled"
        if self.dropped_by_cap:
            text += (
                f"; {self.dropped_by_cap} more traces were over the cap of {self.max_traces} and "
                "were not kept (raise --max-traces, lower tracing.sampling or shorten --duration)"
            )
        if self.incomplete:
            text += f"; {self.incomplete} traces were still open at the end (written partial)"
        return text
