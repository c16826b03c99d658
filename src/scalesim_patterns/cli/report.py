"""Terminal tables for simulation results: the figures an engineer reads first."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from scalesim_patterns.sim import Comparison, SimulationResult
from scalesim_patterns.sim.core.stats import Estimate
from scalesim_patterns.sim.tracing.spans import TraceSet

__all__ = ["comparison_tables", "entries_in_one", "result_tables"]


def _table(
    title: str, columns: tuple[str, ...], *, left: tuple[str, ...] = (), right: tuple[str, ...] = ()
) -> Table:
    """A table whose `left` columns (all but `right` ones, when `right` is given) align left."""
    table = Table(title=title, title_justify="left")
    for col in columns:
        if right:
            table.add_column(col, justify="right" if col in right else "left")
        else:
            table.add_column(col, justify="left" if col in left else "right")
    return table


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
        f"{cause} {e.mean:.0f}" if e.mean >= 1 else f"{cause} {e.mean:.2g}"
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
    entries = _table(
        "Requests (latency in ms, successful requests)",
        (
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
        ),
        left=("entry", "failed by cause"),
    )
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
    services = _table(
        "Services",
        (
            "service",
            "replicas",
            "workers",
            "req/s",
            "utilisation",
            "queue mean",
            "queue max",
            "errors",
        ),
        left=("service",),
    )
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
        dbs = _table(
            "Databases (latency includes the wait for a connection)",
            ("database", "queries/s", "pool utilisation", "wait mean", "p50", "p99", "failures"),
            left=("database",),
        )
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
        topics = _table(
            "Topics per consumer group (backlog: waiting + unacknowledged; lag ms: publish until "
            "consumed; oldest: largest age of the oldest waiting message, s)",
            (
                "topic/group",
                "published",
                "delivered",
                "redelivered",
                "dead-lettered",
                "backlog end",
                "backlog max",
                "oldest max",
                "lag p50",
                "lag p99",
            ),
            left=("topic/group",),
        )
        for name, t in s.topics.items():
            if not t.groups:
                topics.add_row(name, _num(t.published, "{:.0f}"), *["-"] * 8)
            for gname, g in t.groups.items():
                topics.add_row(
                    f"{name}/{gname}",
                    _num(t.published, "{:.0f}"),
                    _num(g.delivered, "{:.0f}"),
                    _num(g.redeliveries, "{:.0f}"),
                    _num(g.dead_lettered, "{:.0f}"),
                    _num(g.backlog_end, "{:.0f}"),
                    _num(g.backlog_max, "{:.0f}"),
                    _num(g.age_max, "{:.2f}"),
                    _ms(g.lag.p50),
                    _ms(g.lag.p99),
                )
        parts.append(topics)
    slos = _slo_table(result)
    if slos is not None:
        parts.append(slos)
    parts.extend(_workflow_tables(result))
    cpu = _cpu_table(result)
    if cpu is not None:
        parts.append(cpu)
    caches = _cache_table(result)
    if caches is not None:
        parts.append(caches)
    consumers = _consumer_table(result)
    if consumers is not None:
        parts.append(consumers)
    clients = _clients_table(result)
    if clients is not None:
        parts.append(clients)
    timeline = _timeline(result)
    if timeline is not None:
        parts.append(timeline)
    if busiest is not None and busiest[1].utilisation is not None:
        parts.append(
            Text(
                f"Busiest: {busiest[0]} at {busiest[1].utilisation.mean:.0%} utilisation.",
                style="bold",
            )
        )
    parts.extend(Text(f"note: {n}", style="yellow") for n in result.notes)
    return Group(*parts)


def _extras_table(
    result: SimulationResult,
    section: str,
    title: str,
    columns: tuple[str, ...],
    cells: Callable[[list[dict[str, Any]]], tuple[str, ...]],
) -> Table | None:
    """A row per name of a per-run `section` of `RunResult.extras` (`{name: {figure: value}}`),
    whose cells `cells` makes from that name's figures in each run that has it; None when no run
    has the section. The first column (the name) aligns left."""
    found = [x for x in (r.extras.get(section) for r in result.runs) if isinstance(x, dict) and x]
    if not found:
        return None
    table = _table(title, columns, left=columns[:1])
    for name in found[0]:
        table.add_row(name, *cells([x[name] for x in found if name in x]))
    return table


def _cpu_table(result: SimulationResult) -> Table | None:
    """Services with `cpu:`: cores per replica, cores used, utilisation, time throttled (means
    over replications of each run's `cpu` section)."""

    def cells(rows: list[dict[str, Any]]) -> tuple[str, ...]:
        n = len(rows)
        return (
            f"{rows[0]['cores']:.0f}",
            f"{sum(r['used'] for r in rows) / n:.2f}",
            f"{sum(r['utilisation'] for r in rows) / n * 100:.1f}%",
            f"{sum(r['throttled'] for r in rows) / n * 100:.1f}%",
        )

    return _extras_table(
        result,
        "cpu",
        "CPU (work shared by each replica's cores; waiting on calls uses none)",
        ("service", "cores/replica", "cores used", "utilisation", "throttled"),
        cells,
    )


def _cache_table(result: SimulationResult) -> Table | None:
    """Cache-aside caches: lookups, hit ratio and failed lookups (outages), means over runs."""

    def cells(rows: list[dict[str, Any]]) -> tuple[str, ...]:
        n = len(rows)
        ratios = [r["hit_ratio"] for r in rows if r["hit_ratio"] is not None]
        return (
            f"{sum(r['throughput'] for r in rows) / n:.1f}",
            f"{sum(ratios) / len(ratios) * 100:.1f}%" if ratios else "-",
            f"{sum(r['misses'] for r in rows) / n:.0f}",
            f"{sum(r['errors'] for r in rows) / n:.0f}",
        )

    return _extras_table(
        result,
        "caches",
        "Caches (a miss or a failed lookup reads the backing store)",
        ("cache", "lookups/s", "hit ratio", "misses", "failed lookups"),
        cells,
    )


def _consumer_table(result: SimulationResult) -> Table | None:
    """Per consumer (tenant): its requests as its clients saw them, means over runs."""
    found = [
        x for x in (r.extras.get("consumers") for r in result.runs) if isinstance(x, dict) and x
    ]
    if not found:
        return None
    table = _table(
        "Consumers (each tenant's requests; latency in ms)",
        ("consumer", "req/s", "errors", "mean", "p99", "failed by cause"),
        left=("consumer", "failed by cause"),
    )
    for name in found[0]:
        rows = [x[name] for x in found if name in x]
        n = len(rows)
        count = sum(r["count"] for r in rows)
        causes: dict[str, float] = {}
        for r in rows:
            for cause, k in r["errors"].items():
                causes[cause] = causes.get(cause, 0.0) + k / n
        failed = sum(r["count"] - r["ok"] for r in rows)
        means = [r["latency"]["mean"] for r in rows if r["latency"]["mean"] is not None]
        p99s = [r["latency"]["p99"] for r in rows if r["latency"]["p99"] is not None]
        table.add_row(
            name,
            f"{sum(r['throughput'] for r in rows) / n:.1f}",
            f"{failed / count * 100:.1f}%" if count else "-",
            f"{sum(means) / len(means) * 1e3:.1f}" if means else "-",
            f"{sum(p99s) / len(p99s) * 1e3:.1f}" if p99s else "-",
            " ".join(f"{c} {k:.0f}" for c, k in sorted(causes.items())) or "-",
        )
    return table


def _diff(e: Estimate | None, scale: float = 1e3, unit: str = "ms") -> str:
    if e is None:
        return "-"
    if e.half_width is None:
        return f"{e.mean * scale:+.1f}{unit}"
    verdict = "" if abs(e.mean) <= e.half_width else " *"
    return f"{e.mean * scale:+.1f} ±{e.half_width * scale:.1f}{unit}{verdict}"


def entries_in_one(cmp: Comparison) -> tuple[list[str], list[str]]:
    """Entries only A has and only B has: compared architectures need not share every entry."""
    a, b = cmp.a.summary.entries, cmp.b.summary.entries
    return [n for n in a if n not in b], [n for n in b if n not in a]


def comparison_tables(cmp: Comparison, names: Iterable[str] = ("A", "B")) -> RenderableType:
    a_name, b_name = names
    table = _table(
        "Difference B − A (* = the 95% interval excludes 0)",
        ("entry", "req/s", "error rate", "mean", "p95", "p99"),
        left=("entry",),
    )
    rows = [*cmp.difference.entries.items(), ("all", cmp.difference.totals)]
    only_a, only_b = entries_in_one(cmp)
    for name, d in rows:
        if d is None:  # an entry of one variant only: nothing to pair it with
            side = "A" if name in only_a else "B" if name in only_b else "neither"
            table.add_row(name, f"only in {side}", "", "", "", "", style="dim")
            continue
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


def _workflow_tables(result: SimulationResult) -> list[RenderableType]:
    s = result.summary
    out: list[RenderableType] = []
    if s.sagas:
        t = _table(
            "Sagas (duration of completed sagas, ms)",
            ("saga", "started", "completed", "compensated", "stuck", "p50", "p99"),
            left=("saga",),
        )
        for name, g in s.sagas.items():
            t.add_row(
                name,
                _num(g.started, "{:.0f}"),
                _num(g.completed, "{:.0f}"),
                _num(g.compensated, "{:.0f}"),
                _num(g.stuck, "{:.0f}"),
                _ms(g.duration.p50),
                _ms(g.duration.p99),
            )
        out.append(t)
    projections = [
        (f"{store}/{name}", p)
        for store, es in s.event_stores.items()
        for name, p in es.projections.items()
    ]
    if s.event_stores:
        t = _table(
            "Event stores and projections (consistency lag, ms)",
            (
                "store / projection",
                "appends",
                "attempts",
                "conflicts",
                "failures",
                "lag p50",
                "lag p99",
                "lag max",
            ),
            left=("store / projection",),
        )
        for name, es in s.event_stores.items():
            t.add_row(
                name,
                _num(es.appends, "{:.0f}"),
                _num(es.attempts_mean, "{:.3f}"),
                _num(es.conflicts, "{:.0f}"),
                _num(es.failures, "{:.0f}"),
                "",
                "",
                "",
            )
        for name, p in projections:
            t.add_row(
                f"  {name}",
                _num(p.applied, "{:.0f}"),
                "",
                "",
                "",
                _ms(p.lag.p50),
                _ms(p.lag.p99),
                _ms(p.lag.max),
            )
        out.append(t)
    if s.rollouts:
        t = _table(
            "Rollouts",
            ("service", "outcome", "at", "final weight", "new-version requests", "of which failed"),
            left=("service", "outcome"),
        )
        for name, r in s.rollouts.items():
            if r.promoted.mean >= 0.5:
                outcome, at = "promoted", r.promoted_at
            elif r.aborted.mean >= 0.5:
                outcome, at = "aborted", r.aborted_at
            elif r.paused.mean >= 0.5:
                outcome, at = "paused (waiting for promotion)", None
            else:
                outcome, at = "in progress", r.started_at
            t.add_row(
                name,
                outcome,
                _num(at, "{:.0f}s"),
                _num(r.final_weight, "{:.0f}%"),
                _num(r.new_requests, "{:.0f}"),
                _num(r.new_errors, "{:.0f}"),
            )
        out.append(t)
    return out


def _clients_table(result: SimulationResult) -> RenderableType | None:
    rows = [
        (name, c)
        for name, c in result.summary.clients.items()
        if c.calls.mean > 0
        or c.mesh_retries.mean > 0
        or c.ejections.mean > 0
        or c.overflow.mean > 0
    ]
    if not rows:
        return None
    t = _table(
        "Resilience per client (caller->target)",
        (
            "client",
            "calls",
            "attempts/call",
            "not permitted",
            "bulkhead full",
            "fallbacks",
            "breaker opened",
            "time open",
            "mesh retries",
            "overflow",
            "ejections",
        ),
        left=("client",),
    )
    for name, c in rows:
        sites, counted = c.call_sites.mean, c.counted_sites.mean
        # A row counts only the steps a policy (or the mesh) wraps: say so when that is not all.
        label = f"{name} ({counted:.0f} of {sites:.0f} call steps)" if counted < sites else name
        t.add_row(
            label,
            _num(c.calls, "{:.0f}"),
            _num(c.attempts_per_call, "{:.2f}"),
            _num(c.not_permitted, "{:.0f}"),
            _num(c.bulkhead_full, "{:.0f}"),
            _num(c.fallbacks, "{:.0f}"),
            _num(c.breaker_opened, "{:.0f}"),
            _pct(c.open_share),
            _num(c.mesh_retries, "{:.0f}"),
            _num(c.overflow, "{:.0f}"),
            _num(c.ejections, "{:.0f}"),
        )
    return t


MAX_TIMELINE = 40


def _timeline(result: SimulationResult) -> RenderableType | None:
    """What happened when, in the first replication: faults, breakers, scaling, rollouts, cascade."""
    run = result.runs[0]
    events: list[tuple[float, str]] = []
    resilience = run.extras.get("resilience") or {}
    for fault in resilience.get("faults", []):
        t, _, kind, target, edge = fault
        events.append((t, f"fault {kind} on {target} {'starts' if edge == 'start' else 'ends'}"))
    for breaker in resilience.get("breakers", []):
        where = f" ({breaker['replica']})" if breaker.get("replica") not in (None, "-") else ""
        for t, old, new in breaker.get("transitions", []):
            events.append((t, f"breaker {breaker['client']}{where}: {old} -> {new}"))
    for scaler in resilience.get("autoscaling", []):
        for t, old, new, *_ in scaler.get("events", []):
            if old != new:
                events.append((t, f"autoscaler scales {scaler['service']} {old} -> {new} replicas"))
    for t, pod, what in resilience.get("pods", []):
        if what not in ("added", "started"):
            events.append((t, f"pod {pod}: {what}"))
    for service, decisions in run.decisions.items():
        for d in decisions:
            if d.action in (
                "started",
                "weight",
                "analysis-failed",
                "aborted",
                "switched",
                "switched-back",
                "promoted",
                "paused",
            ):
                events.append((d.time, f"rollout {service}: {d.action} {d.detail}".rstrip()))
    cascade = run.extras.get("cascade") or {}
    if not events and not cascade.get("cascade"):
        return None
    events.sort(key=lambda e: e[0])
    lines = [f"{t:8.1f}s  {what}" for t, what in events[:MAX_TIMELINE]]
    if len(events) > MAX_TIMELINE:
        lines.append(f"          ... {len(events) - MAX_TIMELINE} more in the JSON results")
    if cascade.get("cascade"):
        lines.append(
            f"cascade: failure started at {cascade.get('origin')} and spread along "
            + " -> ".join(str(p) for p in cascade.get("path", []))
        )
    return Group(Text("Timeline (replication 1)", style="bold"), Text("\n".join(lines)))


_VERDICT_STYLE = {"met": "green", "missed": "bold red", "uncertain": "yellow", "no data": "dim"}


def _slo_table(result: SimulationResult) -> RenderableType | None:
    if not result.slos:
        return None
    t = _table(
        "Service-level objectives",
        ("slo", "target", "objective", "measured", "verdict"),
        right=("measured",),
    )
    for r in result.slos:
        if r.measured is None:
            measured = "-"
        elif r.objective.startswith("availability"):
            measured = f"{r.measured:.3f}%" + (f" ±{r.half_width:.3f}" if r.half_width else "")
        else:
            measured = f"{r.measured * 1e3:.1f}ms" + (
                f" ±{r.half_width * 1e3:.1f}" if r.half_width else ""
            )
        t.add_row(
            r.name,
            r.target,
            r.objective,
            measured,
            Text(r.verdict, style=_VERDICT_STYLE[r.verdict]),
        )
    return t


def critical_path_table(traces: TraceSet, top: int = 3) -> RenderableType:
    """Per entry: the hops and causes that make up the median and the tail (sampled traces)."""
    # Here: only `--traces` shows it, and its dataclasses cost every run 0.002 s to define.
    from scalesim_patterns.sim.tracing.critical_path import summarise as summarise_critical_paths

    table = _table(
        "critical path of sampled traces (what the p50 and p99 are made of)",
        ("entry", "band", "latency", "traces", "hop", "cause", "ms", "share"),
        left=("entry", "band", "hop", "cause"),
    )
    for path in summarise_critical_paths(traces):
        for label, band in (("p50", path.p50), ("p99", path.p99)):
            for i, part in enumerate(band.parts[:top]):
                table.add_row(
                    path.entry if i == 0 and label == "p50" else "",
                    label if i == 0 else "",
                    f"{band.latency_ms:.1f}ms" if i == 0 else "",
                    str(band.traces) if i == 0 else "",
                    part.hop,
                    part.cause,
                    f"{part.ms:.1f}",
                    f"{part.share * 100:.0f}%",
                )
    return table


_BRIEF_VERDICT_STYLE = {"met": "green", "missed": "red", "uncertain": "yellow", "-": ""}


def brief_table(result: SimulationResult) -> RenderableType:
    """The product brief's expected figures beside the run's measurements."""
    table = _table(
        "the brief's expectations (docs/results-format.md, `brief`)",
        ("pattern", "figure", "brief expects", "measured", "verdict", "note"),
        left=("pattern", "figure", "brief expects", "verdict", "note"),
    )
    for fig in result.brief:
        if fig.measured is None:
            measured = "no data"
        else:
            measured = f"{fig.measured:,.2f}"
            if fig.half_width is not None:
                measured += f" ± {fig.half_width:,.2f}"
            measured += f" {fig.unit}"
        style = _BRIEF_VERDICT_STYLE.get(fig.verdict, "")
        verdict = Text(fig.verdict, style=style) if style else Text(fig.verdict)
        table.add_row(fig.pattern, fig.figure, fig.expectation, measured, verdict, fig.note)
    if not result.brief:
        return Text("the brief sets no expectation for what this architecture uses")
    return table
