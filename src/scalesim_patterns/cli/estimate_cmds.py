"""`scalesim estimate`: the steady state from queueing theory, in milliseconds."""

from __future__ import annotations

import math

import click
from rich.table import Table

from scalesim_patterns.estimate import Estimate, EstimateError, estimate

from .main import cli, err, fail, load_or_exit, out, write_or_exit


def _ms(seconds: float) -> str:
    return "saturated" if not math.isfinite(seconds) else f"{seconds * 1000:,.1f} ms"


def estimate_tables(est: Estimate) -> list[Table]:
    entries = Table(
        title=f"{est.architecture}: entries (steady state, means)", title_justify="left"
    )
    for col in ("entry", "arrivals/s", "ok/s", "errors", "response"):
        entries.add_column(col, justify="left" if col == "entry" else "right")
    for name, e in est.entries.items():
        entries.add_row(
            name,
            f"{e.arrival_rate:,.1f}",
            f"{e.throughput:,.1f}",
            f"{e.error_rate:.2%}",
            _ms(e.response_mean),
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
        consumers = Table(title="consumers (tenants)", title_justify="left")
        for col in ("consumer", "arrivals/s", "ok/s", "errors", "response"):
            consumers.add_column(col, justify="left" if col == "consumer" else "right")
        for name, c in est.consumers.items():
            consumers.add_row(
                name,
                f"{c.arrival_rate:,.1f}",
                f"{c.throughput:,.1f}",
                f"{c.error_rate:.2%}",
                _ms(c.response_mean),
            )
        tables.append(consumers)
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
