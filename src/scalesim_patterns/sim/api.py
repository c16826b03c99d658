"""The simulator's public entry points: `simulate` one architecture, `compare` two."""

from __future__ import annotations

from dataclasses import replace
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING

from scalesim_patterns.model.architecture import Architecture
from scalesim_patterns.sim.budget import DEFAULT_SIMULATION_LIMITS, SimulationLimits, check
from scalesim_patterns.sim.engine import ProgressFn
from scalesim_patterns.sim.network.pipeline import Extensions
from scalesim_patterns.sim.parallel import cap_jobs, default_jobs, run_replications
from scalesim_patterns.sim.tracing.options import TraceOptions

if TYPE_CHECKING:
    # Imported where a result is built: `scalesim simulate` reaches its first event without
    # defining the results' dataclasses (sim/reports/results.py).
    from scalesim_patterns.sim.reports.live import WindowFn
    from scalesim_patterns.sim.reports.results import Comparison, Progress, SimulationResult

__all__ = ["COMPARE_REPLICATIONS", "compare", "simulate"]

COMPARE_REPLICATIONS = 5
"""Paired replications `compare` runs when neither the call nor the files ask for more."""


def _architecture(arch: Architecture | str | PathLike[str]) -> Architecture:
    if isinstance(arch, Architecture):
        return arch
    from scalesim_patterns.model import load

    return load(Path(arch))


def _shifted(progress: ProgressFn | None, offset: int, count: int) -> ProgressFn | None:
    if progress is None:
        return None
    report = progress

    def shifted(p: Progress) -> None:
        report(replace(p, replication=p.replication + offset, replications=2 * count))

    return shifted


def simulate(
    arch: Architecture | str | PathLike[str],
    *,
    seed: int | None = None,
    duration: float | None = None,
    warmup: float | None = None,
    window: float | None = None,
    replications: int | None = None,
    scenario: str | None = None,
    progress: ProgressFn | None = None,
    extensions: Extensions | None = None,
    jobs: int | None = None,
    limits: SimulationLimits | None = DEFAULT_SIMULATION_LIMITS,
    on_window: WindowFn | None = None,
    traces: TraceOptions | None = None,
) -> SimulationResult:
    """Run `replications` independent replications and summarise them with 95 % intervals.

    Unset arguments come from `spec.simulation` (and a scenario's own `duration`). Replication i
    draws every random stream from (seed, i, stream name), so results are reproducible bit for
    bit and independent across replications. They run in `jobs` local processes (default: one
    per core, at most one per replication, never more than the cores); the result does not
    depend on `jobs`. `on_window`, when given, receives each time-series window as it closes
    (`Window`: one replication's figures for that window), for callers that show a run while it
    runs.

    Before anything runs, the work is estimated from the file (`budget.check`) and a run beyond
    `limits` raises SimulationTooLarge with the estimate; `limits=None` lifts every limit.
    """
    model = _architecture(arch)
    sim = model.spec.simulation
    seed = sim.seed if seed is None else seed
    count = replications if replications is not None else sim.replications
    if count < 1:
        raise ValueError("replications must be at least 1")
    check(model, duration=duration, scenario=scenario, replications=count, limits=limits)
    options = {
        "seed": seed,
        "duration": duration,
        "warmup": warmup,
        "window": window,
        "scenario": scenario,
        "extensions": extensions,
        "traces": traces,
    }
    # Extensions passed by the caller may not survive pickling: they run in this process.
    parallel = default_jobs(count) if jobs is None else cap_jobs(jobs)
    reps = run_replications(
        model,
        options,
        count,
        jobs=1 if extensions is not None else parallel,
        progress=progress,
        on_window=on_window,
    )
    # Judged after the runs, so imported here: `scalesim simulate` reaches its first event
    # without the results', the objectives' and the brief's modules.
    from scalesim_patterns.sim.reports.brief import evaluate_brief
    from scalesim_patterns.sim.reports.results import SimulationResult, summarise
    from scalesim_patterns.sim.reports.slo import evaluate_slos

    runs = [r.run for r in reps]
    first = reps[0]
    summary = summarise(runs, first.warmup)
    return SimulationResult(
        architecture=model.name,
        scenario=scenario,
        seed=seed,
        duration=first.duration,
        warmup=first.warmup,
        window=first.window,
        runs=runs,
        summary=summary,
        notes=first.notes,
        slos=evaluate_slos(model, summary),
        brief=evaluate_brief(model, summary, runs, first.duration - first.warmup),
    )


def compare(
    a: Architecture | str | PathLike[str],
    b: Architecture | str | PathLike[str],
    *,
    seed: int | None = None,
    duration: float | None = None,
    warmup: float | None = None,
    replications: int | None = None,
    scenario: str | None = None,
    progress: ProgressFn | None = None,
    extensions: Extensions | None = None,
    jobs: int | None = None,
    limits: SimulationLimits | None = DEFAULT_SIMULATION_LIMITS,
) -> Comparison:
    """Simulate two variants under common random numbers and estimate b − a, paired by
    replication. Settings not given come from `a`'s `spec.simulation`. Both are checked
    against `limits` before either runs."""
    first = _architecture(a)
    second = _architecture(b)
    sim = first.spec.simulation
    count = replications or max(sim.replications, COMPARE_REPLICATIONS)
    for model in (first, second):
        check(model, duration=duration, scenario=scenario, replications=count, limits=limits)
    options = {
        "seed": sim.seed if seed is None else seed,
        "duration": duration,
        "warmup": warmup,
        "replications": count,
        "scenario": scenario,
        "progress": progress,
        "extensions": extensions,
        "jobs": jobs,
        "limits": limits,
    }
    # One bar over both variants: A's replications first, then B's.
    ra = simulate(first, **{**options, "progress": _shifted(progress, 0, count)})  # type: ignore[arg-type]
    rb = simulate(second, **{**options, "progress": _shifted(progress, count, count)})  # type: ignore[arg-type]
    from scalesim_patterns.sim.reports.results import Comparison, difference

    return Comparison(a=ra, b=rb, difference=difference(ra.runs, rb.runs))
