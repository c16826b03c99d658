"""`scalesim estimate`: the steady state from queueing theory, in milliseconds."""

from __future__ import annotations

import math
from collections.abc import Iterable

import click
from rich.table import Table

from scalesim_patterns.estimate import (
    ConsumerEstimate,
    EntryEstimate,
    Estimate,
    EstimateError,
    estimate,
)

from .main import cli, err, fail, load_or_exit, out, write_or_exit


def _ms(seconds: float) -> str:
    return "saturated" if not math.isfinite(seconds) else f"{seconds * 1000:,.1f} ms"


def _flows_table(
    title: str, what: str, rows: Iterable[tuple[str, EntryEstimate | ConsumerEstimate]]
) -> Table:
    """Arrivals, successes, errors and mean response of each entry or consumer: one layout,
    so the two tables read alike."""
    table = Table(title=title, title_justify="left")
    for col in (what, "arrivals/s", "ok/s", "errors", "response"):
        table.add_column(col, justify="left" if col == what else "right")
    for name, flow in rows:
        table.add_row(
            name,
            f"{flow.arrival_rate:,.1f}",
            f"{flow.throughput:,.1f}",
            f"{flow.error_rate:.2%}",
            _ms(flow.response_mean),
        )
    return table


def estimate_tables(est: Estimate) -> list[Table]:
    entries = _flows_table(
        f"{est.architecture}: entries (steady state, means)", "entry", est.entries.items()
    )
    stations = Table(title="stations, busiest first", title_justify="left")
    for col in ("station", "kind", "replicas × servers", "calls/s", "utilisation", "wait", "hold"):
        stations.add_column(col, justify="left" if col in ("station", "kind") else "right")
    ordered = sorted(est.stations.items(), key=lambda kv: -kv[1].utilisation)
    for name, st in ordered:
        stations.add_row(
            name,
            st.kind,
            f"{st.replicas} × {st.servers}",
            f"{st.throughput:,.1f}",
            f"{st.utilisation:.1%}",
            _ms(st.wait_mean),
            _ms(st.holding_mean),
        )
    tables = [entries, stations]
    if est.consumers:
        tables.append(_flows_table("consumers (tenants)", "consumer", est.consumers.items()))
    return tables


@cli.command("estimate")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--scenario", help="Use a named scenario's traffic (its faults are ignored).")
@click.option(
    "--load",
    type=click.FloatRange(min=0, min_open=True),
    default=1.0,
    show_default=True,
    help="Multiply every source's rate and population.",
)
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Write it as JSON.")
@click.option("--force", is_flag=True, help="Overwrite an existing JSON file.")
def estimate_cmd(
    file: str, scenario: str | None, load: float, json_path: str | None, force: bool
) -> None:
    """Throughput, utilisation, mean response times and the bottleneck from queueing theory,
    without simulating: instant, steady state, means only (see what it ignores below)."""
    arch = load_or_exit(file)
    try:
        est = estimate(arch, scenario=scenario, load=load)
    except EstimateError as exc:
        fail(f"{file}: {exc}")
    for table in estimate_tables(est):
        out.print(table)
    if est.bottleneck is not None:
        bottleneck = est.stations[est.bottleneck]
        line = f"bottleneck: {est.bottleneck} at {bottleneck.utilisation:.1%}"
        if math.isfinite(est.saturation_load):
            line += f"; it saturates at {est.saturation_load:.3g}× this load"
        out.print(line, markup=False)
    if est.saturated:
        out.print(
            f"saturated (queues grow without bound): {', '.join(est.saturated)}", markup=False
        )
    out.print("ignored: " + "; ".join(est.ignored), markup=False, style="dim")
    if json_path:
        write_or_exit(json_path, est.to_json(), force)
        err.print(f"wrote {json_path}")
