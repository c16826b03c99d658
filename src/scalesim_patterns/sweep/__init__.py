"""Sweeps: one architecture over many settings, every replication a task on a Dask cluster.

`run_sweep` takes the file's text, a `Plan` (plan.py) and an output folder; it checks every
point before anything runs (each is the file with `--set` edits, validated and sized), runs the
replications as tasks (cluster.py), journals each result as it arrives (journal.py) so an
interrupted sweep resumes where it stopped, and writes the table, plots and sensitivity
summary (output.py) once all are in.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scalesim_patterns.files import check_output_file, write_bytes_atomic, write_text_atomic

from .journal import JOURNAL, Journal, JournalError, digest
from .plan import Dimension, Plan, PlanError, make_plan, parse_vary
from .tasks import Task

__all__ = [
    "OUTPUTS",
    "Dimension",
    "JournalError",
    "Plan",
    "PlanError",
    "SweepError",
    "SweepResult",
    "make_plan",
    "parse_vary",
    "prepare",
    "run_sweep",
]

OUTPUTS = ("results.csv", "results.parquet", "sensitivity.txt")
PLOTS = ("p99.png", "p99.svg", "throughput.png", "throughput.svg", "heatmap.png", "heatmap.svg")


class SweepError(ValueError):
    """A point the sweep cannot run; the message names the point and its settings."""


@dataclass
class SweepResult:
    plan: Plan
    rows: list[dict[str, Any]]
    resumed: int
    """Tasks taken from the journal instead of run."""
    written: list[Path] = field(default_factory=list)
    sensitivity: Any = None


def prepare(
    text: str,
    filename: str,
    plan: Plan,
    *,
    replications: int,
    seed: int | None = None,
    duration: float | None = None,
    warmup: float | None = None,
    scenario: str | None = None,
    limits: Any = "default",
) -> tuple[list[Task], str]:
    """Every task of the sweep and the sweep's id; SweepError for the first bad point."""
    from scalesim_patterns.catalog.errors import CatalogError
    from scalesim_patterns.catalog.setpath import apply_sets
    from scalesim_patterns.model import validate_text
    from scalesim_patterns.sim.budget import DEFAULT_SIMULATION_LIMITS, check
    from scalesim_patterns.sim.engine import SimulationError

    base, _ = validate_text(text, filename)
    if base is None:
        raise SweepError(f"{filename} is not a valid architecture (scalesim validate {filename})")
    if scenario is not None and scenario not in base.spec.scenarios:
        known = ", ".join(sorted(base.spec.scenarios)) or "none defined"
        raise SweepError(f"{filename}: no scenario '{scenario}' (scenarios: {known})")
    run_seed = base.spec.simulation.seed if seed is None else seed
    chosen = DEFAULT_SIMULATION_LIMITS if limits == "default" else limits

    def checked(sets: list[str], what: str) -> str:
        try:
            point_text = apply_sets(text, sets, filename)
        except CatalogError as exc:
            raise SweepError(f"{what} ({', '.join(sets)}): {exc}") from None
        model, diags = validate_text(point_text, filename)
        if model is None:  # pragma: no cover - apply_sets validated it
            raise SweepError(f"{what} ({', '.join(sets)}): {diags[0]}")
        try:
            check(model, duration=duration, scenario=scenario, replications=1, limits=chosen)
        except SimulationError as exc:
            raise SweepError(f"{what} ({', '.join(sets)}): {exc}") from None
        return point_text

    # Each value of each dimension is checked alone (a typo, a value out of range), then the
    # point with every dimension at its largest value (the size limits); the workers apply
    # each point's settings themselves, in parallel. Editing a file while keeping its comments
    # takes about 0.1-0.3 s; done here for every point it was most of a sweep's time.
    index = {v: i for i, v in enumerate(plan.points)}
    for k, dim in enumerate(plan.dimensions):
        for value in sorted({p[k] for p in plan.points}, key=lambda v: (dim.numeric(v) or 0.0, v)):
            first = next(i for i, p in enumerate(plan.points) if p[k] == value)
            checked([f"{dim.path}={value}"], f"point {first}")
    largest = [
        max((p[k] for p in plan.points), key=lambda v, d=dim: (d.numeric(v) or 0.0, v))  # type: ignore[misc]
        for k, dim in enumerate(plan.dimensions)
    ]
    where = index.get(tuple(largest))
    checked(
        [f"{d.path}={v}" for d, v in zip(plan.dimensions, largest, strict=True)],
        f"point {where}" if where is not None else "the largest values together",
    )
    sweep_id = digest(
        text,
        plan.method,
        plan.points,
        [d.path for d in plan.dimensions],
        replications,
        run_seed,
        duration,
        warmup,
        scenario,
    )
    tasks = [
        Task(i, r, text, run_seed, duration, warmup, scenario, tuple(plan.settings(i)))
        for i in range(len(plan.points))
        for r in range(replications)
    ]
    return tasks, sweep_id


def check_outputs(folder: Path, *, force: bool, resume: bool) -> None:
    """Refuse before running when a result would overwrite a file without --force."""
    for name in (*OUTPUTS, *PLOTS):
        check_output_file(folder / name, force=force)
    if not resume:
        check_output_file(folder / JOURNAL, force=force)


def run_sweep(
    text: str,
    filename: str,
    plan: Plan,
    folder: str | os.PathLike[str],
    *,
    replications: int = 1,
    seed: int | None = None,
    duration: float | None = None,
    warmup: float | None = None,
    scenario: str | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    resume: bool = False,
    force: bool = False,
    progress: Callable[[int, int], None] | None = None,
    client: Any = None,
) -> SweepResult:
    """Run (or finish, with `resume`) the sweep and write its outputs into `folder`.

    Ctrl-C stops it with KeyboardInterrupt; every result received by then is in the journal.
    """
    from .cluster import connect, run_tasks
    from .output import parquet_bytes, plots, sensitivity, table_csv, table_rows

    out = Path(folder)
    tasks, sweep_id = prepare(
        text,
        filename,
        plan,
        replications=replications,
        seed=seed,
        duration=duration,
        warmup=warmup,
        scenario=scenario,
    )
    check_outputs(out, force=force, resume=resume)
    journal = Journal(out, sweep_id)
    journal.start(resume=resume)
    resumed = len(journal.rows)
    todo = [t for t in tasks if t.key not in journal.rows]
    total = len(tasks)
    if progress is not None:
        progress(len(journal.rows), total)

    def on_row(row: dict[str, Any]) -> None:
        journal.add(row)
        if progress is not None:
            progress(len(journal.rows), total)

    try:
        if todo:
            if client is not None:
                run_tasks(client, todo, on_row, sweep_id)
            else:
                with connect(scheduler, workers) as own:
                    run_tasks(own, todo, on_row, sweep_id)
    finally:
        journal.close()
    rows = table_rows(plan, journal.rows)
    entries = sorted({k.rsplit(":", 1)[0] for r in rows for k in r if k.endswith(":p99")})
    metric_names = ["throughput", "p99", "latency_mean", "error_rate"] + [
        f"{e}:{m}" for e in entries for m in ("throughput", "p99")
    ]
    sens = sensitivity(plan, rows, metric_names)
    written = [
        write_text_atomic(out / "results.csv", table_csv(plan, rows), force=force),
        _write_bytes(out / "results.parquet", parquet_bytes(plan, rows), force),
        write_text_atomic(out / "sensitivity.txt", sens.text(), force=force),
    ]
    for name, data in plots(plan, rows, entries).items():
        written.append(_write_bytes(out / name, data, force))
    return SweepResult(plan, rows, resumed, written, sens)


def _write_bytes(path: Path, data: bytes, force: bool) -> Path:
    check_output_file(path, force=force)
    write_bytes_atomic(path, data, existing=os.lstat(path) if path.exists() else None)
    return path
