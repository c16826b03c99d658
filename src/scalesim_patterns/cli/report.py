"""Terminal tables for simulation results: the figures an engineer reads first."""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from scalesim_patterns.sim import Comparison, SimulationResult
from scalesim_patterns.sim.stats import Estimate

__all__ = ["comparison_tables", "result_tables"]


def _ms(e: Estimate | None) -> str:
    if e is None:
        return "-"
    if e.half_width is None:
        return f"{e.mean * 1e3:.1f}"
    return f"{e.mean * 1e3:.1f} ±{e.half_width * 1e3:.1f}"


def _num(e: Estimate | None, fmt: str = "{:.1f}", ci: bool = False) -> str:
    if e is None:
        return "-"
    text = fmt.format(e.mean)
    if ci and e.half_width is not None and e.n > 1:
        text += " ±" + fmt.format(e.half_width)
    return text


def _pct(e: Estimate | None) -> str:
    if e is None:
        return "-"
    text = f"{e.mean * 100:.1f}%"
    if e.half_width is not None and e.n > 1:
        text += f" ±{e.half_width * 100:.1f}"
    return text


def _errors(errors: dict[str, Estimate]) -> str:
    parts = [
        f"{cause} {e.mean:.0f}"
        for cause, e in sorted(errors.items())
        if e is not None and e.mean > 0
    ]
    return ", ".join(parts) or "-"


def result_tables(result: SimulationResult) -> RenderableType:
    s = result.summary
    reps = result.replications
    head = Text(
        f"{result.architecture}"
        + (f" · scenario {result.scenario}" if result.scenario else "")
        + f" · {result.duration:g}s simulated (warm-up {result.warmup:g}s excluded)"
        + f" · seed {result.seed} · {reps} replication{'s' if reps != 1 else ''}"
        + (" · ± = 95% confidence half-width" if reps > 1 else ""),
        style="bold",
    )
    entries = Table(title="Requests (latency in ms, successful requests)", title_justify="left")
    for col in (
        "entry",
        "count",
        "req/s",
        "errors",
        "mean",
        "p50",
        "p95",
        "p99",
        "p99.9",
        "max",
        "failed by cause",
    ):
        entries.add_column(col, justify="left" if col in ("entry", "failed by cause") else "right")
    rows = [*s.entries.items(), ("all", s.totals)]
    for name, e in rows:
        lat = e.latency
        entries.add_row(
            name,
            _num(e.count, "{:.0f}"),
            _num(e.throughput, ci=True),
            _pct(e.error_rate),
            _ms(lat.mean),
            _ms(lat.p50),
            _ms(lat.p95),
            _ms(lat.p99),
            _ms(lat.p999),
            _ms(lat.max),
            _errors(e.errors),
            style="bold" if name == "all" else None,
        )
    services = Table(title="Services", title_justify="left")
    for col in (
        "service",
        "replicas",
        "workers",
        "req/s",
        "utilisation",
        "queue mean",
        "queue max",
        "errors",
    ):
        services.add_column(col, justify="left" if col == "service" else "right")
    all_services = list(s.services.items())
    if s.gateway is not None:
        all_services.insert(0, ("(gateway)", s.gateway))
    busiest = max(
        all_services,
        key=lambda kv: kv[1].utilisation.mean if kv[1].utilisation else 0.0,
        default=None,
    )
    for name, svc in all_services:
        services.add_row(
            name,
            _num(svc.replicas, "{:.0f}"),
            _num(svc.workers, "{:.0f}"),
            _num(svc.throughput, ci=True),
            _pct(svc.utilisation),
            _num(svc.queue_mean, "{:.2f}"),
            _num(svc.queue_max, "{:.0f}"),
            _num(svc.errors, "{:.0f}"),
            style="bold red"
            if busiest is not None and name == busiest[0] and svc.utilisation.mean > 0.8
            else None,
        )
    parts: list[RenderableType] = [head, entries, services]
    if s.databases:
        dbs = Table(
            title="Databases (latency includes the wait for a connection)", title_justify="left"
        )
        for col in (
            "database",
            "queries/s",
            "pool utilisation",
            "wait mean",
            "p50",
            "p99",
            "failures",
        ):
            dbs.add_column(col, justify="left" if col == "database" else "right")
        for name, db in s.databases.items():
            dbs.add_row(
                name,
                _num(db.throughput),
                _pct(db.utilisation),
                _ms(db.wait_mean),
                _ms(db.latency.p50),
                _ms(db.latency.p99),
                _num(db.failures, "{:.0f}"),
            )
        parts.append(dbs)
    if s.topics:
        topics = Table(title="Topics (lag: publish until consumed, ms)", title_justify="left")
        for col in ("topic", "published", "consumed", "lag p50", "lag p99", "failures"):
            topics.add_column(col, justify="left" if col == "topic" else "right")
        for name, t in s.topics.items():
            topics.add_row(
                name,
                _num(t.published, "{:.0f}"),
                _num(t.consumed, "{:.0f}"),
                _ms(t.lag.p50),
                _ms(t.lag.p99),
                _num(t.failures, "{:.0f}"),
            )
        parts.append(topics)
    if busiest is not None and busiest[1].utilisation is not None:
        parts.append(
            Text(
                f"Busiest: {busiest[0]} at {busiest[1].utilisation.mean:.0%} utilisation.",
                style="bold",
            )
        )
    parts.extend(Text(f"note: {n}", style="yellow") for n in result.notes)
    return Group(*parts)


def _diff(e: Estimate | None, scale: float = 1e3, unit: str = "ms") -> str:
    if e is None:
        return "-"
    if e.half_width is None:
        return f"{e.mean * scale:+.1f}{unit}"
    verdict = "" if abs(e.mean) <= e.half_width else " *"
    return f"{e.mean * scale:+.1f} ±{e.half_width * scale:.1f}{unit}{verdict}"


def comparison_tables(cmp: Comparison, names: Iterable[str] = ("A", "B")) -> RenderableType:
    a_name, b_name = names
    table = Table(title="Difference B − A (* = the 95% interval excludes 0)", title_justify="left")
    for col in ("entry", "req/s", "error rate", "mean", "p95", "p99"):
        table.add_column(col, justify="left" if col == "entry" else "right")
    rows = [*cmp.difference.entries.items(), ("all", cmp.difference.totals)]
    for name, d in rows:
        table.add_row(
            name,
            _diff(d.throughput, 1, "/s"),
            _diff(d.error_rate, 100, "pp"),
            _diff(d.latency.mean),
            _diff(d.latency.p95),
            _diff(d.latency.p99),
        )
    return Group(
        Text(f"A = {a_name}", style="bold"),
        result_tables(cmp.a),
        Text(f"B = {b_name}", style="bold"),
        result_tables(cmp.b),
        Text(
            f"B − A, paired over {cmp.a.replications} replications under common random numbers",
            style="bold",
        ),
        table,
    )
