"""`scalesim capacity`: the cheapest replicas meeting every SLO at a load, or the knee."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from scalesim_patterns.files import OutputExistsError
from scalesim_patterns.sim import SimulationError
from scalesim_patterns.sweep.capacity import (
    CapacityError,
    Cluster,
    Saved,
    SearchProgress,
    capacity,
    default_journal,
    knee,
    parse_load,
    search_id,
)
from scalesim_patterns.sweep.cluster import TaskFailed
from scalesim_patterns.sweep.journal import JournalError

from .dask_options import dask_options
from .main import INTERRUPTED, cli, err, fail, load_or_exit, out
from .runs_progress import runs_progress
from .simulate_cmds import _duration

NOT_FOUND = 1


@cli.command("capacity")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--load", "load_text", default="1x", show_default=True, help="Target load: 2x, 1.5, 150%."
)
@click.option(
    "--vary",
    "varies",
    multiple=True,
    help="services.NAME.replicas or services.*.replicas (repeatable).",
)
@click.option(
    "--knee", "find_knee", is_flag=True, help="Find the highest load meeting every SLO instead."
)
@click.option("--scenario", help="On top of a named scenario of the file.")
@click.option("--replications", type=click.IntRange(min=2), default=3, show_default=True)
@click.option("--seed", type=int, help="Override spec.simulation.seed.")
@click.option("--duration", callback=_duration, help="Simulated time per candidate, e.g. 2m.")
@click.option("--warmup", callback=_duration, help="Excluded start, e.g. 10s.")
@dask_options
@click.option("--jobs", type=click.IntRange(min=1), hidden=True, help="Older name of --workers.")
@click.option("--max-replicas", type=click.IntRange(min=1), default=64, show_default=True)
@click.option(
    "--journal",
    type=click.Path(dir_okay=False),
    help="Where each candidate's verdict is saved as it is reached (default: a file per search "
    "in the user's cache folder).",
)
@click.option("--resume", is_flag=True, help="Go on from the journal of an interrupted search.")
@click.option("--force", is_flag=True, help="Start over a --journal file that exists.")
@click.option(
    "--progress/--no-progress", default=None, help="Progress bar (default: on a terminal)."
)
def capacity_cmd(
    file: str,
    load_text: str,
    varies: tuple[str, ...],
    find_knee: bool,
    scenario: str | None,
    replications: int,
    seed: int | None,
    duration: float | None,
    warmup: float | None,
    scheduler: str | None,
    workers: int | None,
    jobs: int | None,
    max_replicas: int,
    journal: str | None,
    resume: bool,
    force: bool,
    progress: bool | None,
) -> None:
    """Find the cheapest replica counts (by the CPU they request) that meet every SLO of
    spec.slos at --load, or (--knee) the highest load at which they are all met; the estimate
    prunes, the simulation decides, and every step is shown. Each candidate's replications run
    on Dask (all local cores, or --scheduler); Ctrl-C keeps what is decided for --resume."""
    load_or_exit(file)
    text = Path(file).read_text(encoding="utf-8")
    if find_knee and varies:
        fail("--knee keeps the file's replicas; leave out --vary")
    if not find_knee and not varies:
        fail("give --vary services.NAME.replicas (or services.*.replicas), or --knee")

    def log(line: str) -> None:
        err.print(line, markup=False, highlight=False)

    settings = {
        "scenario": scenario,
        "replications": replications,
        "seed": seed,
        "duration": duration,
        "warmup": warmup,
    }
    # the default journal is ours (a cache): a fresh search starts it over without --force
    path = Path(journal) if journal else default_journal(search_id(text, **settings))  # type: ignore[arg-type]
    saved = Saved(path, resume=resume, force=force or not journal)
    try:
        with runs_progress(
            progress, "capacity search", replications, "capacity: {what}: {done}/{total} runs"
        ) as shown:

            def update(p: SearchProgress) -> None:
                shown.update(p.done, p.total, f"candidate {p.candidate}: {p.label}")

            options = {
                **settings,
                "log": log,
                "cluster": Cluster(scheduler, workers or jobs),
                "saved": saved,
                "progress": update,
            }
            if find_knee:
                k = knee(text, **options)  # type: ignore[arg-type]
            else:
                result = capacity(
                    text,
                    list(varies),
                    parse_load(load_text),
                    max_replicas=max_replicas,
                    **options,  # type: ignore[arg-type]
                )
    except CapacityError as exc:
        fail(f"{file}: {exc}")
    except KeyboardInterrupt:
        err.print(
            f"interrupted: the candidates decided so far are saved in {path}; "
            "run the same command with --resume to go on",
            markup=False,
        )
        raise SystemExit(INTERRUPTED) from None
    except (JournalError, OutputExistsError, TaskFailed) as exc:
        fail(str(exc))
    except (SimulationError, ValueError) as exc:
        fail(f"{file}: {exc}")
    except OSError as exc:
        fail(f"{path}: {exc}")
    if find_knee:
        _resumed(k.resumed)
        out.print(
            f"knee: every SLO met up to {k.load:.3g}× the file's load "
            f"(one breaks by {k.broken:.3g}×); {k.simulations} simulations",
            markup=False,
        )
        return
    _resumed(result.resumed)
    assignment = " ".join(f"{k}={v}" for k, v in result.assignment.items())
    if not result.met:
        out.print(f"no assignment up to {max_replicas} replicas meets every SLO", markup=False)
        sys.exit(NOT_FOUND)
    out.print(
        f"cheapest: {assignment} ({result.cost_cpu:g} CPU cores requested); "
        f"{result.simulations} simulations",
        markup=False,
    )


def _resumed(count: int) -> None:
    if count:
        err.print(f"resumed: {count} candidates taken from the journal", markup=False)
