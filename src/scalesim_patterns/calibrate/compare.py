"""Real against simulated, per entry and per client, with the relative error of each figure.

Tolerances are the ones the calibration benchmark is held to (issue 12): throughput within 5 %,
mean and p50 latency within 15 %, p99 within 30 %. An error rate is compared in percentage
points against the binomial 95 % interval of the real count, because a relative error of two
small shares means little; so is a cache's hit ratio (its real lookups are the trials).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from .scrape import CacheFigures, ClientFigures

__all__ = [
    "TOLERANCE",
    "Comparison",
    "FigureRow",
    "compare_results",
    "format_error",
    "format_figure",
]

TOLERANCE: dict[str, float] = {"throughput": 0.05, "mean": 0.15, "p50": 0.15, "p99": 0.30}


@dataclass(frozen=True)
class FigureRow:
    entry: str
    figure: str
    real: float | None
    simulated: float | None
    tolerance: float | None
    """Relative tolerance, or None for an error rate (judged by its binomial interval)."""
    allowed: float | None = None
    """For an error rate: the largest difference (absolute) inside the real count's interval."""

    @property
    def error(self) -> float | None:
        """(simulated − real) / real, or the absolute difference for an error rate."""
        if self.real is None or self.simulated is None:
            return None
        if self.tolerance is None:
            return self.simulated - self.real
        return None if self.real == 0 else (self.simulated - self.real) / self.real

    @property
    def within(self) -> bool | None:
        err = self.error
        if err is None:
            return None
        limit = self.tolerance if self.tolerance is not None else self.allowed
        return None if limit is None else abs(err) <= limit

    def to_dict(self) -> dict[str, Any]:
        return {
            "entry": self.entry,
            "figure": self.figure,
            "real": self.real,
            "simulated": self.simulated,
            "error": self.error,
            "tolerance": self.tolerance if self.tolerance is not None else self.allowed,
            "within": self.within,
        }


@dataclass
class Comparison:
    rows: list[FigureRow] = field(default_factory=list)
    clients: dict[str, dict[str, dict[str, float | None]]] = field(default_factory=dict)
    """client → figure → {"real", "simulated"}."""

    @property
    def misses(self) -> list[FigureRow]:
        return [r for r in self.rows if r.within is False]

    def to_dict(self) -> dict[str, Any]:
        return {"entries": [r.to_dict() for r in self.rows], "clients": self.clients}


def _mean(value: Any) -> float | None:
    if isinstance(value, dict):
        value = value.get("mean")
    return None if value is None else float(value)


def _binomial_halfwidth(p: float, n: int) -> float:
    """Half-width of the Wilson 95 % interval around p of n trials (0 with no trials)."""
    if n <= 0:
        return 0.0
    z = 1.959964
    centre_shift = abs((p + z * z / (2 * n)) / (1 + z * z / n) - p)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return half + centre_shift


def compare_results(
    real: dict[str, Any],
    simulated: dict[str, Any],
    real_clients: dict[str, ClientFigures] | None = None,
    real_caches: dict[str, CacheFigures] | None = None,
) -> Comparison:
    """Rows for every entry both results have; clients and caches when the real run was
    scraped."""
    out = Comparison()
    real_entries = real["runs"][0]["report"]["entries"]
    sim_entries = simulated["summary"]["entries"]
    for key in sorted(set(real_entries) & set(sim_entries)):
        r, s = real_entries[key], sim_entries[key]
        out.rows.append(FigureRow(key, "throughput", r["throughput"], _mean(s["throughput"]), 0.05))
        for q in ("mean", "p50", "p99"):
            out.rows.append(
                FigureRow(key, q, r["latency"][q], _mean(s["latency"][q]), TOLERANCE[q])
            )
        p, n = float(r["error_rate"]), int(r["count"])
        out.rows.append(
            FigureRow(key, "error_rate", p, _mean(s["error_rate"]), None, _binomial_halfwidth(p, n))
        )
    for name, cache_fig in sorted((real_caches or {}).items()):
        runs = [r["caches"][name] for r in simulated.get("runs", []) if name in r.get("caches", {})]
        lookups = math.fsum(r["lookups"] for r in runs)
        simulated_ratio = math.fsum(r["hits"] for r in runs) / lookups if lookups else None
        ratio = cache_fig.hit_ratio
        out.rows.append(
            FigureRow(
                f"cache {name}",
                "hit_ratio",
                ratio,
                simulated_ratio,
                None,
                None if ratio is None else _binomial_halfwidth(ratio, int(cache_fig.lookups)),
            )
        )
    if real_clients is not None:
        sim_clients = simulated["summary"].get("clients") or {}
        transitions: dict[str, list[list[Any]]] = {}
        for run in simulated.get("runs", [])[:1]:
            for breaker in (run.get("resilience") or {}).get("breakers", []):
                transitions.setdefault(breaker["client"], []).extend(breaker["transitions"])
        for client in sorted(set(real_clients) | set(sim_clients)):
            fig = real_clients.get(client)
            sc = sim_clients.get(client) or {}
            calls, fallbacks = _mean(sc.get("calls")), _mean(sc.get("fallbacks"))
            opened = [t for t, _, to in sorted(transitions.get(client, [])) if to == "OPEN"]
            out.clients[client] = {
                "calls": {"real": fig.calls if fig else None, "simulated": calls},
                "fallback_share": {
                    "real": fig.fallback_share if fig else None,
                    "simulated": fallbacks / calls if calls and fallbacks is not None else None,
                },
                "breaker_opened": {
                    "real": fig.openings if fig else None,
                    "simulated": _mean(sc.get("breaker_opened")),
                },
                "first_open_s": {
                    "real": fig.first_open if fig else None,
                    "simulated": float(opened[0]) if opened else None,
                },
                "open_share": {
                    "real": fig.open_share if fig else None,
                    "simulated": _mean(sc.get("open_share")),
                },
            }
    return out


def format_figure(figure: str, value: float | None) -> str:
    """A figure as people read it: requests/s, a share, or milliseconds."""
    if value is None:
        return "-"
    if figure == "throughput":
        return f"{value:.2f}/s"
    if figure in ("error_rate", "hit_ratio"):
        return f"{value:.2%}"
    return f"{value * 1000:.1f} ms"


def format_error(figure: str, error: float | None) -> str:
    """A relative error as a signed percentage; an error rate's difference in points."""
    if error is None:
        return "-"
    return f"{error * 100:+.2f} pp" if figure in ("error_rate", "hit_ratio") else f"{error:+.1%}"
