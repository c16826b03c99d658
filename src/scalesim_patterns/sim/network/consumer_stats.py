"""What each consumer (tenant) got: its requests' outcomes and latency as its clients saw them.

Priority routing and priority scheduling give consumers different service on the same routes,
which the per-entry figures mix; this section tells them apart. Only runs whose traffic sends as
consumers get it (the results of other files stay as they were), and it costs nothing to the
requests of sources without a consumer: the recording happens in the consumer's own tag (open
loop) or in a closed source made for a consumer. Sessions are reported per step instead.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from scalesim_patterns.sim.core.causes import CAUSE_NAMES
from scalesim_patterns.sim.core.kernel import Kernel
from scalesim_patterns.sim.core.rng import Sampler
from scalesim_patterns.sim.network.station import Call, EndpointStats
from scalesim_patterns.sim.network.traffic import ClosedSource, ConsumerTag, _Mix

__all__ = ["ConsumerClosedSource", "ConsumerOutcomes", "RecordingTag"]


def _record(st: EndpointStats, c: Call, now: float) -> None:
    st.n += 1
    if c.status:
        st.fails[c.status] += 1
    else:
        st.hist.record(now - c.t0)


class ConsumerOutcomes:
    """Per consumer, the outcomes of the requests its sources sent (after the warm-up)."""

    __slots__ = ("by_consumer", "causes")

    def __init__(self, causes: int) -> None:
        self.causes = causes
        self.by_consumer: dict[str, EndpointStats] = {}

    def stats(self, consumer: str) -> EndpointStats:
        st = self.by_consumer.get(consumer)
        if st is None:
            st = self.by_consumer[consumer] = EndpointStats(self.causes)
        return st

    def reset(self) -> None:
        for st in self.by_consumer.values():
            st.reset()

    def report(self, span: float) -> dict[str, dict[str, Any]]:
        """Per consumer: `count`, `ok`, `throughput`, `errors` by cause, `latency` (successful
        requests, from send to answer, as the entries')."""
        from scalesim_patterns.sim.reports.assemble import latency_of  # after the run

        out: dict[str, dict[str, Any]] = {}
        for name in sorted(self.by_consumer):
            st = self.by_consumer[name]
            count = int(st.n - st.n0)
            errors = {
                CAUSE_NAMES[i]: float(st.fails[i] - st.fails0[i])
                for i in range(1, len(CAUSE_NAMES))
                if st.fails[i] - st.fails0[i]
            }
            out[name] = {
                "count": float(count),
                "ok": float(count - sum(errors.values())),
                "throughput": count / span if span > 0 else 0.0,
                "errors": errors,
                "latency": asdict(latency_of(st.hist)),
            }
        return out


class RecordingTag(ConsumerTag):
    """An open-loop consumer's tag that also records each answer in the consumer's figures."""

    __slots__ = ("kernel", "stats")

    def __init__(self, consumer: str, kernel: Kernel, stats: EndpointStats) -> None:
        super().__init__(consumer)
        self.kernel = kernel
        self.stats = stats

    def next(self, c: Call) -> None:
        _record(self.stats, c, self.kernel.now)


class ConsumerClosedSource(ClosedSource):
    """A closed-loop source that sends as a consumer: records each answer, then thinks."""

    __slots__ = ("stats",)

    def __init__(
        self,
        name: str,
        kernel: Kernel,
        users: int,
        think: Sampler,
        mix: _Mix,
        stats: EndpointStats,
    ) -> None:
        super().__init__(name, kernel, users, think, mix)
        self.stats = stats

    def next(self, c: Call) -> None:
        _record(self.stats, c, self.kernel.now)
        super().next(c)
