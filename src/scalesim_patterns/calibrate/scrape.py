"""What the real services' resilience mechanisms did, read from their own `/metrics`.

The generated services export `scalesim_client_breaker_state{client}` (0 closed, 1 half-open,
2 open), `scalesim_client_breaker_openings_total{client}`, `scalesim_client_calls_total{client,
outcome}` and `scalesim_client_fallbacks_total{client,outcome}`. A thread reads every service's
metrics twice a second on the driver's clock. Openings and fallbacks are counted by the services
themselves (a half-open state that lasts milliseconds is between two reads); the reads give the
time of the first opening and the share of time open. Cache-aside lookups
(`scalesim_cache_lookups_total{cache,outcome}`, summed over the services that share a cache) give
each cache's real hit ratio over the same span.
"""

from __future__ import annotations

import threading
import time
import urllib.request
from dataclasses import dataclass, field

from prometheus_client.parser import text_string_to_metric_families

from scalesim_patterns.generate.code.local import LocalSystem

__all__ = ["CacheFigures", "ClientFigures", "Scraper"]

STATES = {0: "CLOSED", 1: "HALF_OPEN", 2: "OPEN"}


@dataclass
class ClientFigures:
    """One client (`caller->target`) over the measured span."""

    calls: float = 0.0
    outcomes: dict[str, float] = field(default_factory=dict)
    fallbacks: float = 0.0
    openings: float = 0.0
    transitions: list[tuple[float, str, str]] = field(default_factory=list)
    open_share: float | None = None

    @property
    def fallback_share(self) -> float | None:
        return None if not self.calls else self.fallbacks / self.calls

    @property
    def first_open(self) -> float | None:
        return next((t for t, _, to in self.transitions if to == "OPEN"), None)


@dataclass
class CacheFigures:
    """One cache over the measured span, from every service that looks it up."""

    lookups: float = 0.0
    hits: float = 0.0

    @property
    def hit_ratio(self) -> float | None:
        return self.hits / self.lookups if self.lookups else None


class Scraper:
    def __init__(self, system: LocalSystem, warmup: float, period: float = 0.5) -> None:
        self.system = system
        self.warmup = warmup
        self.period = period
        self.samples: list[tuple[float, dict[str, float], dict[tuple[str, str], float]]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._origin = 0.0

    def start(self, origin: float) -> None:
        self._origin = origin
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _read(self) -> tuple[dict[str, float], dict[tuple[str, str], float]]:
        states: dict[str, float] = {}
        calls: dict[tuple[str, str], float] = {}
        for svc in self.system.services.values():
            try:
                with urllib.request.urlopen(f"{svc.url}/metrics", timeout=1) as r:
                    text = r.read().decode()
            except OSError:
                continue  # killed by a fault: its counters restart with it
            for family in text_string_to_metric_families(text):
                for s in family.samples:
                    if s.name == "scalesim_client_breaker_state":
                        states[s.labels["client"]] = s.value
                    elif s.name == "scalesim_client_calls_total":
                        calls[(s.labels["client"], s.labels["outcome"])] = s.value
                    elif s.name == "scalesim_client_fallbacks_total":
                        calls[(s.labels["client"], "@fallback:" + s.labels["outcome"])] = s.value
                    elif s.name == "scalesim_client_breaker_openings_total":
                        calls[(s.labels["client"], "@openings")] = s.value
                    elif s.name == "scalesim_cache_lookups_total":
                        key = ("@cache:" + s.labels["cache"], s.labels["outcome"])
                        calls[key] = calls.get(key, 0.0) + s.value
        return states, calls

    def _run(self) -> None:
        while not self._stop.is_set():
            t = time.monotonic() - self._origin
            states, calls = self._read()
            self.samples.append((round(t, 3), states, calls))
            self._stop.wait(self.period)

    def figures(self) -> dict[str, ClientFigures]:
        """Per client over the measured span (from the warm-up's end)."""
        measured = [s for s in self.samples if s[0] >= self.warmup]
        if not measured:
            return {}
        out: dict[str, ClientFigures] = {}
        first, last = measured[0][2], measured[-1][2]
        for (client, outcome), value in last.items():
            if client.startswith("@cache:"):
                continue
            fig = out.setdefault(client, ClientFigures())
            got = value - first.get((client, outcome), 0.0)
            if outcome == "@openings":
                fig.openings += got
            elif outcome.startswith("@fallback:"):
                fig.fallbacks += got
            else:
                fig.outcomes[outcome] = got
                fig.calls += got
        previous: dict[str, float] = {}
        counts: dict[str, list[int]] = {}
        for t, states, _ in self.samples:
            for client, state in states.items():
                fig = out.setdefault(client, ClientFigures())
                before = previous.get(client, 0.0)
                if state != before:
                    fig.transitions.append((t, STATES[int(before)], STATES[int(state)]))
                previous[client] = state
                if t >= self.warmup:
                    c = counts.setdefault(client, [0, 0])
                    c[0] += state == 2
                    c[1] += 1
        for client, (opened, seen) in counts.items():
            out[client].open_share = opened / seen if seen else None
        return out

    def cache_figures(self) -> dict[str, CacheFigures]:
        """Per cache over the measured span (from the warm-up's end)."""
        measured = [s for s in self.samples if s[0] >= self.warmup]
        if not measured:
            return {}
        first, last = measured[0][2], measured[-1][2]
        out: dict[str, CacheFigures] = {}
        for (name, outcome), value in sorted(last.items()):
            if not name.startswith("@cache:"):
                continue
            fig = out.setdefault(name.removeprefix("@cache:"), CacheFigures())
            got = value - first.get((name, outcome), 0.0)
            fig.lookups += got
            if outcome == "hit":
                fig.hits += got
        return out
