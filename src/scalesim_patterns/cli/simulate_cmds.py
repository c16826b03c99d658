"""`scalesim simulate` and `scalesim compare`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from scalesim_patterns.model.units import parse_duration
from scalesim_patterns.sim import Progress as SimProgress
from scalesim_patterns.sim import SimulationError, compare, simulate

from .main import cli, err, fail, load_or_exit, out, write_or_exit
from .report import comparison_tables, result_tables
from .serve_cmds import db_option, open_store_or_exit


def _duration(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@contextmanager
def progress_bar(enabled: bool, label: str) -> Iterator[Callable[[SimProgress], None] | None]:
    """A rich bar of simulated time with the simulator's speed; silent when not a terminal."""
    if not enabled:
        yield None
        return
    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )
    task = bar.add_task(label, total=1.0, status="")

    def update(p: SimProgress) -> None:
        bar.update(
            task,
            completed=p.fraction,
            status=(
                f"t={p.time:,.0f}/{p.end:,.0f}s · {p.requests_per_second:,.0f} req/s"
                if p.replications == 1
                else f"{p.replication}/{p.replications} replications done · "
                f"{p.requests_per_second:,.0f} req/s"
            ),
        )

    with bar:
        yield update


def _refuse_existing(path: str | None, force: bool) -> None:
    """Say no before a long run, not after it, when its output would overwrite a file."""
    if path and Path(path).exists() and not force:
        fail(f"{path} exists; pass --force to overwrite it")


def _check_scenario(arch_scenarios: dict[str, object], scenario: str | None, file: str) -> None:
    if scenario is not None and scenario not in arch_scenarios:
        known = ", ".join(sorted(arch_scenarios)) or "none defined"
        fail(f"{file}: no scenario '{scenario}' (scenarios: {known})")


common = [
    click.option(
        "--jobs",
        type=click.IntRange(min=1),
        help="Processes for replications (default: one per core); results do not depend on it.",
    ),
    click.option("--scenario", help="Run under a named scenario of the file (faults, traffic)."),
    click.option("--seed", type=int, help="Override spec.simulation.seed."),
    click.option("--duration", callback=_duration, help="Simulated time, e.g. 5m."),
    click.option("--warmup", callback=_duration, help="Excluded start, e.g. 30s."),
    click.option("--replications", type=click.IntRange(min=1), help="Independent seeded runs."),
    click.option(
        "--json", "json_path", type=click.Path(dir_okay=False), help="Write all results as JSON."
    ),
    click.option("--force", is_flag=True, help="Overwrite existing output files."),
    click.option(
        "--progress/--no-progress", default=None, help="Progress bar (default: on a terminal)."
    ),
]


F = TypeVar("F", bound=Callable[..., Any])


def with_common(fn: F) -> F:
    for option in reversed(common):
        fn = option(fn)
    return fn


@cli.command("simulate")
@click.argument("file", type=click.Path(dir_okay=False))
@with_common
@click.option(
    "--csv", "csv_dir", type=click.Path(file_okay=False), help="Write time series as CSV files."
)
@click.option(
    "--save", is_flag=True, help="Keep the run in the run store (scalesim runs, the web app)."
)
@db_option
def simulate_cmd(
    file: str,
    scenario: str | None,
    seed: int | None,
    duration: float | None,
    warmup: float | None,
    replications: int | None,
    json_path: str | None,
    force: bool,
    progress: bool | None,
    csv_dir: str | None,
    jobs: int | None,
    save: bool,
    db: str | None,
) -> None:
    """Simulate an architecture under its traffic (and a scenario) and report what it does."""
    arch = load_or_exit(file)
    store = open_store_or_exit(db) if save else None  # a store that won't open fails before the run
    _check_scenario(dict(arch.spec.scenarios), scenario, file)
    _refuse_existing(json_path, force)
    show = err.is_terminal if progress is None else progress
    try:
        with progress_bar(show, f"simulating {arch.name}") as update:
            result = simulate(
                arch,
                seed=seed,
                duration=duration,
                warmup=warmup,
                replications=replications,
                scenario=scenario,
                progress=update,
                jobs=jobs,
            )
    except (SimulationError, ValueError) as exc:
        fail(f"{file}: {exc}")
    out.print(result_tables(result))
    if json_path:
        write_or_exit(json_path, result.to_json(), force)
        err.print(f"wrote {json_path}")
    if csv_dir:
        for i in range(result.replications):
            csv_file = Path(csv_dir) / f"timeseries-{i}.csv"
            write_or_exit(csv_file, result.timeseries_csv(i), force)
        err.print(f"wrote {result.replications} time series to {csv_dir}/")
    if store is not None:
        from scalesim_patterns.web.history import save_simulation

        options = {
            "scenario": scenario,
            "duration": duration,
            "replications": replications,
            "seed": seed,
        }
        run = save_simulation(store, Path(file).read_text(encoding="utf-8"), result, options)
        err.print(
            f"saved as run {run.id} ({run.architecture_name} v{run.version}): "
            f"scalesim runs show {run.id}"
        )


@cli.command("compare")
@click.argument("file_a", type=click.Path(dir_okay=False))
@click.argument("file_b", type=click.Path(dir_okay=False))
@with_common
def compare_cmd(
    file_a: str,
    file_b: str,
    scenario: str | None,
    seed: int | None,
    duration: float | None,
    warmup: float | None,
    replications: int | None,
    json_path: str | None,
    force: bool,
    progress: bool | None,
    jobs: int | None,
) -> None:
    """Simulate two variants under the same random numbers and show B − A with 95% intervals."""
    a = load_or_exit(file_a)
    b = load_or_exit(file_b)
    _check_scenario(dict(a.spec.scenarios), scenario, file_a)
    _check_scenario(dict(b.spec.scenarios), scenario, file_b)
    _refuse_existing(json_path, force)
    show = err.is_terminal if progress is None else progress
    try:
        with progress_bar(show, f"comparing {a.name} and {b.name}") as update:
            cmp = compare(
                a,
                b,
                seed=seed,
                duration=duration,
                warmup=warmup,
                replications=replications,
                scenario=scenario,
                progress=update,
                jobs=jobs,
            )
    except (SimulationError, ValueError) as exc:
        fail(str(exc))
    out.print(comparison_tables(cmp, (file_a, file_b)))
    if json_path:
        write_or_exit(json_path, cmp.to_json(), force)
        err.print(f"wrote {json_path}")
