"""`scalesim capacity`: the cheapest replicas meeting every SLO at a load, or the knee."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from scalesim_patterns.sim import SimulationError
from scalesim_patterns.sweep.capacity import CapacityError, capacity, knee, parse_load

from .main import cli, err, fail, interrupted, load_or_exit, out
from .simulate_cmds import _duration, _jobs

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
@click.option("--jobs", type=click.IntRange(min=1), help="Processes (default: one per core).")
@click.option("--max-replicas", type=click.IntRange(min=1), default=64, show_default=True)
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
    jobs: int | None,
    max_replicas: int,
) -> None:
    """Find the cheapest replica counts (by the CPU they request) that meet every SLO of
    spec.slos at --load, or (--knee) the highest load at which they are all met; the estimate
    prunes, the simulation decides, and every step is shown."""
    load_or_exit(file)
    text = Path(file).read_text(encoding="utf-8")

    def log(line: str) -> None:
        err.print(line, markup=False, highlight=False)

    options = {
        "scenario": scenario,
        "replications": replications,
        "seed": seed,
        "duration": duration,
        "warmup": warmup,
        "jobs": _jobs(jobs),
        "log": log,
    }
    try:
        if find_knee:
            if varies:
                fail("--knee keeps the file's replicas; leave out --vary")
            k = knee(text, **options)  # type: ignore[arg-type]
            out.print(
                f"knee: every SLO met up to {k.load:.3g}× the file's load "
                f"(one breaks by {k.broken:.3g}×); {k.simulations} simulations",
                markup=False,
            )
            return
        if not varies:
            fail("give --vary services.NAME.replicas (or services.*.replicas), or --knee")
        result = capacity(
            text,
            list(varies),
            parse_load(load_text),
            max_replicas=max_replicas,
            **options,  # type: ignore[arg-type]
        )
    except CapacityError as exc:
        fail(f"{file}: {exc}")
    except KeyboardInterrupt as exc:
        interrupted(exc)
    except (SimulationError, ValueError) as exc:
        fail(f"{file}: {exc}")
    assignment = " ".join(f"{k}={v}" for k, v in result.assignment.items())
    if not result.met:
        out.print(f"no assignment up to {max_replicas} replicas meets every SLO", markup=False)
        sys.exit(NOT_FOUND)
    out.print(
        f"cheapest: {assignment} ({result.cost_cpu:g} CPU cores requested); "
        f"{result.simulations} simulations",
        markup=False,
    )
