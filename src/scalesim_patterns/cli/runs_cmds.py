"""`scalesim runs list` and `scalesim runs show`: the run history the web app shows too."""

from __future__ import annotations

import json
from typing import Any

import click
from rich.table import Table

from .main import cli, fail, out
from .store import db_option, open_store_or_exit


@cli.group("runs")
def runs_cmd() -> None:
    """The run store: simulations saved with `simulate --save` or started in the web app."""


def _when(t: Any) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S") if t is not None else "-"


@runs_cmd.command("list")
@db_option
@click.option("--limit", type=click.IntRange(1, 10_000), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the runs as JSON.")
def list_cmd(db: str | None, limit: int, as_json: bool) -> None:
    """The newest runs first."""
    from scalesim_patterns.web.views import run_body

    store = open_store_or_exit(db)
    runs = store.runs(limit=limit)
    if as_json:
        click.echo(json.dumps([run_body(r) for r in runs], indent=2))
        return
    if not runs:
        out.print("no runs yet: scalesim simulate FILE --save, or start one in the web app")
        return
    table = Table(show_edge=False, pad_edge=False)
    for col in ("id", "kind", "state", "from", "architecture", "scenario", "created (UTC)"):
        table.add_column(col, no_wrap=True)
    for r in runs:
        name = f"{r.architecture_name} v{r.version}" if r.version else r.architecture_name
        if r.kind == "compare":
            name += f" vs {r.b_architecture_name} v{r.b_version}"
        table.add_row(
            str(r.id),
            r.kind,
            r.state + (" (interrupted)" if r.interrupted else ""),
            r.source,
            name,
            r.options.get("scenario") or "-",
            _when(r.created_at),
        )
    out.print(table)


@runs_cmd.command("show")
@click.argument("run_id", type=click.IntRange(min=1))
@db_option
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the result JSON (what simulate --json writes).",
)
def show_cmd(run_id: int, db: str | None, as_json: bool) -> None:
    """One run: its settings, state and headline figures."""
    from scalesim_patterns.web.store import NotFound

    store = open_store_or_exit(db)
    try:
        run = store.run(run_id)
        result = store.result(run_id)
    except NotFound as exc:
        fail(str(exc))
    if as_json:
        if result is None:
            fail(f"run {run_id} is {run.state}; it has no result")
        click.echo(result, nl=False)
        return
    lines = [
        f"run {run.id}: {run.kind} of {run.architecture_name} v{run.version}"
        + (f" vs {run.b_architecture_name} v{run.b_version}" if run.kind == "compare" else ""),
        f"state: {run.state}" + (f" ({run.error})" if run.error else ""),
        f"from: {run.source} · created {_when(run.created_at)} · finished {_when(run.finished_at)}",
        "settings: "
        + ", ".join(f"{k}={v}" for k, v in run.options.items() if v is not None)
        + f" · estimated requests {run.estimated_requests:,}",
    ]
    if result is not None and run.kind == "simulate":
        data = json.loads(result)
        totals = data["summary"]["totals"]

        def mean(x: Any) -> float | None:
            value = x["mean"] if isinstance(x, dict) else x
            return None if value is None else float(value)

        p99 = mean(totals["latency"]["p99"])
        lines.append(
            f"totals: {mean(totals['throughput']):,.1f} req/s · error rate "
            f"{mean(totals['error_rate']):.2%} · p99 "
            + (f"{p99 * 1000:,.1f} ms" if p99 is not None else "-")
        )
        lines.append(f"full result: scalesim runs show {run.id} --json")
    for line in lines:
        out.print(line, markup=False)
