"""`scalesim sweep`: one architecture over a grid or sample of settings, on Dask."""

from __future__ import annotations

from pathlib import Path

import click

from scalesim_patterns.files import OutputExistsError
from scalesim_patterns.sweep import (
    JournalError,
    PlanError,
    SweepError,
    make_plan,
    parse_vary,
    run_sweep,
)
from scalesim_patterns.sweep.cluster import TaskFailed

from .dask_options import dask_options
from .main import INTERRUPTED, cli, err, fail, load_or_exit, out
from .runs_progress import runs_progress
from .simulate_cmds import _duration


@cli.command("sweep")
@click.argument("file", type=click.Path(dir_okay=False, exists=False))
@click.option(
    "--vary",
    "varies",
    multiple=True,
    required=True,
    help="PATH=v1,v2,... or PATH=LOW..HIGH:COUNT (e.g. traffic.shoppers.arrival.rate=200/s..2000/s:10).",
)
@click.option("--sample", help="lhs:N or sobol:N points instead of the full grid.")
@click.option("--replications", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--scenario", help="Run every point under a named scenario of the file.")
@click.option("--seed", type=int, help="Override spec.simulation.seed (the same for every point).")
@click.option("--duration", callback=_duration, help="Simulated time per run, e.g. 2m.")
@click.option("--warmup", callback=_duration, help="Excluded start, e.g. 10s.")
@click.option(
    "-o",
    "--output",
    "folder",
    required=True,
    type=click.Path(file_okay=False),
    help="Folder for results.csv/.parquet, plots, sensitivity.txt and the journal.",
)
@click.option("--force", is_flag=True, help="Overwrite results already in the folder.")
@click.option("--resume", is_flag=True, help="Finish an interrupted sweep from its journal.")
@dask_options
@click.option(
    "--progress/--no-progress", default=None, help="Progress bar (default: on a terminal)."
)
def sweep_cmd(
    file: str,
    varies: tuple[str, ...],
    sample: str | None,
    replications: int,
    scenario: str | None,
    seed: int | None,
    duration: float | None,
    warmup: float | None,
    folder: str,
    force: bool,
    resume: bool,
    scheduler: str | None,
    workers: int | None,
    progress: bool | None,
) -> None:
    """Simulate FILE at every point of a grid or sample of settings, with common random
    numbers across points; write a tidy table, plots and which setting matters most."""
    arch = load_or_exit(file)
    text = Path(file).read_text(encoding="utf-8")
    try:
        plan = make_plan([parse_vary(v) for v in varies], sample, seed=arch.spec.simulation.seed)
    except PlanError as exc:
        fail(str(exc))
    err.print(
        f"{len(plan.points)} points × {replications} replication{'s' if replications > 1 else ''} "
        f"({plan.method})",
        markup=False,
    )
    try:
        with runs_progress(
            progress,
            f"sweeping {arch.name}",
            len(plan.points) * replications,
            "sweep: {done}/{total} runs done",
        ) as shown:
            result = run_sweep(
                text,
                file,
                plan,
                folder,
                replications=replications,
                seed=seed,
                duration=duration,
                warmup=warmup,
                scenario=scenario,
                scheduler=scheduler,
                workers=workers,
                resume=resume,
                force=force,
                progress=shown.update,
            )
    except KeyboardInterrupt:
        err.print(
            f"interrupted: the runs finished so far are saved in {folder}/sweep.jsonl; "
            f"run the same command with --resume to finish it",
            markup=False,
        )
        raise SystemExit(INTERRUPTED) from None
    except (SweepError, JournalError, OutputExistsError, TaskFailed) as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"{folder}: {exc}")
    if result.resumed:
        err.print(f"resumed: {result.resumed} runs taken from the journal", markup=False)
    out.print(result.sensitivity.text(), markup=False, highlight=False)
    for path in result.written:
        err.print(f"wrote {path}", markup=False)
