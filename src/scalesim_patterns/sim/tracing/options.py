"""What a run is asked to trace (`simulate(..., traces=TraceOptions())`).

Apart from the recorder (`sim/tracing/recorder.py`, which gives these names too) so that the
command line and the engine take the options without loading the recorder, its traced runtime
classes and the spans' dataclasses: an untraced run never needs them.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_MAX_TRACES", "TraceOptions"]

DEFAULT_MAX_TRACES = 1000
"""Traces kept at most by default: about 12 kB per trace of the distributed-tracing template in
Jaeger's format (19 spans), so about 12 MB."""


@dataclass(frozen=True)
class TraceOptions:
    """What to record: at most `max_traces` traces of replication 0; `sampling` overrides the
    file's head-sampling ratio when given (and then also traces a file without `spec.tracing`)."""

    max_traces: int = DEFAULT_MAX_TRACES
    sampling: float | None = None
