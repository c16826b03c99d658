"""The product brief's expected performance figures, each beside what the run measured.

The brief expects: a gateway at 50 K requests/s adding under 10 ms, circuit-breaker decisions
under 1 ms, a mesh adding under 1 ms per hop, sagas under 5 s end to end, an event store at 10 K
writes/s and 100 K reads/s. A run shows the figures its patterns make meaningful (a file without
a gateway has no gateway figure), and each is judged as the SLOs are (sim/reports/slo.py): "met"
or "missed" only when the whole 95 % interval lies on one side of the expectation, otherwise
"uncertain" — a single replication gives percentiles no interval, so they stay uncertain.

Two kinds of expectation are told apart:

- a *bound* (latency under x): met or missed by the measured figure;
- a *capacity* (50 K requests/s): the run measures capacity only if it offers that load. A gateway's
  capacity is estimated per run as throughput / utilisation (the rate at which its workers would be
  all busy); the event store's rates are the rates the run drove, so they are "met" when the run
  reached them and otherwise "uncertain" (not exercised), never "missed".

Figures with no expectation in the brief (requests refused by auth and by the rate limit, breaker
state, projection lag) are reported with verdict "-".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from scalesim_patterns.model.architecture import Architecture
from scalesim_patterns.sim.core.stats import Estimate, estimate
from scalesim_patterns.sim.reports.results import Latency, Report, RunResult

__all__ = ["BriefFigure", "evaluate_brief"]

Verdict = Literal["met", "missed", "uncertain", "-"]


@dataclass(frozen=True)
class BriefFigure:
    pattern: str
    figure: str
    expectation: str
    """The brief's words, or "-" when the brief sets none."""
    measured: float | None
    """In `unit`."""
    half_width: float | None
    unit: str
    verdict: Verdict
    note: str = ""


def _bound(value: Estimate | None, limit: float) -> Verdict:
    if value is None or value.low is None or value.high is None or value.n < 2:
        return "uncertain"
    return "met" if value.high <= limit else "missed" if value.low > limit else "uncertain"


def _capacity(value: Estimate | None, target: float) -> Verdict:
    if value is None or value.low is None or value.n < 2:
        return "uncertain"
    return "met" if value.low >= target else "uncertain"


def _fig(
    pattern: str,
    figure: str,
    expectation: str,
    value: Estimate | None,
    unit: str,
    verdict: Verdict,
    note: str = "",
    scale: float = 1.0,
) -> BriefFigure:
    return BriefFigure(
        pattern,
        figure,
        expectation,
        value.mean * scale if value is not None else None,
        value.half_width * scale if value is not None and value.half_width is not None else None,
        unit,
        verdict,
        note,
    )


def _latency_pair(
    pattern: str, what: str, latency: Latency[Estimate] | None, limit: float, words: str
) -> list[BriefFigure]:
    if latency is None:
        return []
    return [
        _fig(pattern, f"{what} p50", words, latency.p50, "ms", _bound(latency.p50, limit), "", 1e3),
        _fig(pattern, f"{what} p99", words, latency.p99, "ms", _bound(latency.p99, limit), "", 1e3),
    ]


def _errors(report: Report[float], cause: str) -> float:
    return sum(e.errors.get(cause, 0.0) for e in report.entries.values())


def _per_run(runs: list[RunResult], fn: Callable[[Report[float]], float | None]) -> Estimate | None:
    """The figure of each run, as an estimate over runs (a 95 % interval from two runs on)."""
    values = []
    for run in runs:
        value = fn(run.report)
        if value is not None:
            values.append(float(value))
    return estimate(values) if values else None


def _gateway_capacity(report: Report[float]) -> float | None:
    gw = report.gateway
    if gw is None or gw.utilisation <= 0:
        return None
    return gw.throughput / gw.utilisation


def _store_writes(name: str, span: float) -> Callable[[Report[float]], float | None]:
    def writes(report: Report[float]) -> float | None:
        store = report.event_stores.get(name)
        return store.events / span if store is not None else None

    return writes


def _store_reads(name: str) -> Callable[[Report[float]], float | None]:
    def reads(report: Report[float]) -> float | None:
        store = report.event_stores.get(name)
        if store is None:
            return None
        return sum(p.throughput for p in store.projections.values())

    return reads


def evaluate_brief(
    arch: Architecture, summary: Report[Estimate], runs: list[RunResult], span: float
) -> list[BriefFigure]:
    """The brief's figures this run makes meaningful, each judged."""
    out: list[BriefFigure] = []
    spec = arch.spec
    brief = summary.brief
    if spec.gateway is not None and summary.gateway is not None:
        out += _latency_pair(
            "api-gateway",
            "gateway-added latency",
            brief.gateway_added if brief else None,
            0.010,
            "< 10 ms added",
        )
        capacity = _per_run(runs, _gateway_capacity)
        out.append(
            _fig(
                "api-gateway",
                "gateway capacity (throughput / utilisation)",
                ">= 50 K requests/s",
                capacity,
                "req/s",
                _capacity(capacity, 50_000),
                f"the run offered {summary.gateway.throughput.mean:.0f} req/s",
            )
        )
        auth = _per_run(runs, lambda r: _errors(r, "unauthorized"))
        limited = _per_run(runs, lambda r: _errors(r, "rate_limited"))
        out.append(_fig("api-gateway", "rejected by auth (401)", "-", auth, "requests", "-"))
        out.append(
            _fig("api-gateway", "rejected by the rate limit (429)", "-", limited, "requests", "-")
        )
    if spec.mesh is not None and spec.mesh.enabled:
        out += _latency_pair(
            "service-mesh",
            "sidecar overhead per hop",
            brief.mesh_hop if brief else None,
            0.001,
            "< 1 ms per hop",
        )
    breakers = {k: c for k, c in summary.clients.items() if c.breaker_opened is not None}
    configured = [
        name
        for name, svc in spec.services.items()
        if any(p.circuit_breaker is not None for p in svc.clients.values())
    ]
    if configured:
        out.append(
            BriefFigure(
                "circuit-breaker",
                "breaker decision overhead",
                "< 1 ms",
                0.0,
                None,
                "ms",
                "uncertain",
                "not modelled: the decision is charged no time (Resilience4j's is an in-process "
                "state check of microseconds)",
            )
        )
        for key, client in sorted(breakers.items()):
            if client.breaker_opened.mean == 0 and client.not_permitted.mean == 0:
                continue
            out.append(
                _fig(
                    "circuit-breaker",
                    f"{key}: share of time open",
                    "-",
                    client.open_share,
                    "%",
                    "-",
                    f"opened {client.breaker_opened.mean:g} times",
                    100.0,
                )
            )
    for name, saga in sorted(summary.sagas.items()):
        out += _latency_pair(
            "saga", f"saga {name} end to end (completed)", saga.duration, 5.0, "< 5 s"
        )
    for name, store in sorted(summary.event_stores.items()):
        writes = _per_run(runs, _store_writes(name, span))
        reads = _per_run(runs, _store_reads(name))
        out.append(
            _fig(
                "event-sourcing",
                f"{name}: events written per second",
                ">= 10 K writes/s",
                writes,
                "events/s",
                _capacity(writes, 10_000),
                "the rate the run drove, not the store's limit",
            )
        )
        out.append(
            _fig(
                "event-sourcing",
                f"{name}: events read per second (projections)",
                ">= 100 K reads/s",
                reads,
                "events/s",
                _capacity(reads, 100_000),
                "the rate the run drove, not the store's limit",
            )
        )
        lag = store.consistency_lag_p99
        out.append(
            _fig("event-sourcing", f"{name}: projection lag p99", "-", lag, "ms", "-", "", 1e3)
        )
    return out
