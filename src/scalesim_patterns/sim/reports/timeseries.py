"""Time series of a run: per-window figures recorded while the simulation runs.

The recorder closes a window every `engine.window` simulated seconds and keeps one column per
figure, so memory grows with the number of windows only. Installed mechanisms add their own
columns through `engine.window_hooks`.

Closing a window costs what changed in it, not what the run has seen so far: each service
endpoint's latency histogram keeps its running count, sum and maximum, but its buckets are
emptied at every close, so the buckets in hand at a close are the window's own; the recorder
adds them to the endpoint's cumulative buckets (one step per key in the range the window
touched) and hands the cumulative buckets back when the run ends, before the report reads
them. A 100 000 s run used to spend most of its time re-merging and differencing whole
cumulative histograms at every close.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from scalesim_patterns.sim.core.histogram import LogHistogram, bucket_quantiles
from scalesim_patterns.sim.network.station import ServiceRuntime
from scalesim_patterns.sim.patterns import workflows
from scalesim_patterns.sim.reports.capacity import worker_seconds
from scalesim_patterns.sim.reports.topic_reports import TopicSeries

if TYPE_CHECKING:
    from scalesim_patterns.sim.engine import Engine
    from scalesim_patterns.sim.reports.results import TimeSeries

__all__ = ["SeriesRecorder"]


class _Latency:
    """A service's endpoint buckets so far (all windows closed since warm-up), and the running
    count, zeros and sum of its endpoints at the previous close; `window` holds the buckets of
    a service with several endpoints while a window closes (emptied after, so its counts are
    allocated once, not at every close)."""

    __slots__ = ("buckets", "count", "sum", "window", "zeros")

    def __init__(self, endpoints: int) -> None:
        self.buckets: list[LogHistogram] = [LogHistogram() for _ in range(endpoints)]
        self.window = LogHistogram()
        self.count = 0
        self.zeros = 0
        self.sum = 0.0


class SeriesRecorder:
    """Per-window figures, kept as columns; a window's histogram is reduced to a few quantiles
    when it closes, so memory grows with the number of windows only."""

    ENTRY = ("count", "errors", "throughput", "mean", "p50", "p90", "p99", "max")
    SERVICE = (
        "throughput",
        "errors",
        "utilisation",
        "queue",
        "replicas",
        "mean",
        "p50",
        "p90",
        "p99",
    )

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.kernel = engine.kernel
        self.window = engine.window
        self.time: list[float] = []
        names = [*engine.entries, "*"] if len(engine.entries) > 1 else list(engine.entries)
        self.entries: dict[str, dict[str, list[float | None]]] = {
            n: {m: [] for m in self.ENTRY} for n in names
        }
        services = engine._all_services()
        self.services: dict[str, dict[str, list[float | None]]] = {
            s.name: {m: [] for m in self.SERVICE} for s in services
        }
        self.clients: dict[str, dict[str, list[float | None]]] = {}
        """Columns per client (caller->target) that window hooks fill."""
        self.topics = TopicSeries(engine.topics)
        self.all_entries = LogHistogram()
        """The window's latency over every entry ("*"), refilled at each close."""
        self.last: dict[str, tuple[int, int]] = {}
        self.last_hist: dict[str, _Latency] = {}
        """Each service's latency so far; cleared at warm-up end with the histograms it holds."""
        self.last_area: dict[str, tuple[float, float]] = {}
        self.t_last = 0.0
        self.index = 0
        self.tick_ = self.tick
        self.on_close: Callable[[SeriesRecorder], None] | None = None
        """Called after each window is complete, every window hook's columns included."""

    def start(self) -> None:
        for e in self.engine.entries.values():
            e.wn, e.wfails = 0, 0
        for s in self.engine._all_services():
            self.last[s.name] = (0, 0)
            self.last_area[s.name] = (0.0, 0.0)
        self.index = 1
        self.kernel.at(self.window, self.tick_, None)

    def tick(self, _: Any) -> None:
        self.close()
        self.index += 1
        nxt = self.index * self.window
        if nxt <= self.engine.duration + 1e-9 * self.window:
            self.kernel.at(nxt, self.tick_, None)

    def finish(self) -> None:
        if self.kernel.now > self.t_last + 1e-9 * self.window:
            self.close()
        self._restore()

    def _restore(self) -> None:
        """Give every endpoint histogram back its cumulative buckets (and anything recorded
        since the last close), so the report reads the whole measured span."""
        for s in self.engine._all_services():
            held = self.last_hist.get(s.name)
            if held is None:
                continue
            for ep, cumulative in zip(s.endpoints.values(), held.buckets, strict=True):
                ep.stats.hist.absorb(cumulative)
            del self.last_hist[s.name]

    def close(self) -> None:
        now = self.kernel.now
        span = now - self.t_last
        self.time.append(self.t_last)
        entries = list(self.engine.entries.values())
        for e in entries:
            n = e.stats.n
            fails = sum(e.stats.fails)
            self._entry_row(e.name, n - e.wn, fails - e.wfails, e.whist, span)
            e.wn, e.wfails = n, fails
        if "*" in self.entries:
            merged = self.all_entries
            merged.clear()
            for e in entries:
                merged.merge(e.whist)
            count = sum(int(self.entries[e.name]["count"][-1] or 0) for e in entries)
            errors = sum(int(self.entries[e.name]["errors"][-1] or 0) for e in entries)
            self._entry_row("*", count, errors, merged, span)
        for e in entries:
            e.whist.clear()
        for s in self.engine._all_services():
            n = sum(int(ep.stats.n) for ep in s.endpoints.values())
            fails = sum(sum(ep.stats.fails) for ep in s.endpoints.values())
            busy = q = 0.0
            for rep in s.replicas:
                rep.flush()
                busy += rep.area_busy
                q += rep.area_q
            n0, f0 = self.last[s.name]
            b0, q0 = self.last_area[s.name]
            cols = self.services[s.name]
            capacity = worker_seconds(s.replicas, self.t_last, now, span)
            cols["throughput"].append(float(n - n0) / span)
            cols["errors"].append(float(fails - f0))
            cols["utilisation"].append((busy - b0) / capacity if capacity else None)
            cols["queue"].append((q - q0) / span)
            cols["replicas"].append(float(len(s.routable)))
            self._service_latency(s, cols)
            self.last[s.name] = (n, fails)
            self.last_area[s.name] = (busy, q)
        workflows.close_window(self.engine, span)
        self.topics.close(now)
        for hook in self.engine.window_hooks:
            hook(self)
        self.t_last = now
        if self.on_close is not None:
            self.on_close(self)

    def _service_latency(self, s: ServiceRuntime, cols: dict[str, list[float | None]]) -> None:
        """The window's latency at the service's endpoints: the buckets each endpoint filled in
        the window (emptied here) and the change of its running totals.
        Nothing is added to the request path."""
        endpoints = [ep.stats.hist for ep in s.endpoints.values()]
        held = self.last_hist.get(s.name)
        if held is None:
            held = self.last_hist[s.name] = _Latency(len(endpoints))
        single = len(endpoints) == 1
        window = endpoints[0] if single else held.window
        count = zeros = 0
        total = vmax = 0.0
        for hist in endpoints:
            count += hist.count
            zeros += hist.zeros
            total += hist.sum
            vmax = max(vmax, hist.max)
            if not single:
                window.absorb(hist)
        wcount = count - held.count
        wzeros = zeros - held.zeros
        wsum = total - held.sum
        held.count, held.zeros, held.sum = count, zeros, total
        q = bucket_quantiles(window, (0.5, 0.9, 0.99), wcount, wzeros, vmax)
        for hist, cumulative in zip(endpoints, held.buckets, strict=True):
            cumulative.take(hist)
        if not single:
            window.empty_buckets()
        cols["mean"].append(wsum / wcount if wcount else None)
        cols["p50"].append(q[0])
        cols["p90"].append(q[1])
        cols["p99"].append(q[2])

    def _entry_row(
        self, name: str, count: int, errors: int, hist: LogHistogram, span: float
    ) -> None:
        cols = self.entries[name]
        q = hist.quantiles((0.5, 0.9, 0.99))
        cols["count"].append(float(count))
        cols["errors"].append(float(errors))
        cols["throughput"].append(count / span)
        cols["mean"].append(hist.mean)
        cols["p50"].append(q[0])
        cols["p90"].append(q[1])
        cols["p99"].append(q[2])
        cols["max"].append(hist.max if hist.count else None)

    def result(self) -> TimeSeries:
        # Imported here, not at the top: the results' dataclasses load after the first event.
        from scalesim_patterns.sim.reports.results import TimeSeries

        return TimeSeries(
            window=self.window,
            time=self.time,
            entries=self.entries,
            services=self.services,
            clients=self.clients,
            topics=self.topics.columns,
            **workflows.series(self.engine),
        )
