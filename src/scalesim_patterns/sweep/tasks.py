"""One task of a sweep: one replication of one point, run wherever the scheduler puts it.

A task carries the point's architecture as text (small, picklable, and checked once by the
caller), so a worker on another machine needs nothing but this package. Every point runs with
the same seed, so replication r of every point draws the same named random streams: the
points differ only where their settings differ (common random numbers, docs/simulation.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from scalesim_patterns.sim.parallel import Replication

__all__ = ["Settings", "Task", "metrics", "replicate", "run_task"]


@dataclass(frozen=True)
class Task:
    point: int
    replication: int
    text: str
    seed: int
    duration: float | None
    warmup: float | None
    scenario: str | None
    sets: tuple[str, ...] = ()
    """The point's `--set` edits, applied to `text` by the worker."""

    @property
    def key(self) -> str:
        return f"{self.point}:{self.replication}"


def metrics(report: Any) -> dict[str, float | None]:
    """The figures a sweep records for one replication: per entry and in total the throughput,
    error rate and latency (mean, p50, p99); per service the utilisation."""
    out: dict[str, float | None] = {}

    def entry(prefix: str, e: Any) -> None:
        out[f"{prefix}throughput"] = e.throughput
        out[f"{prefix}error_rate"] = e.error_rate
        out[f"{prefix}latency_mean"] = e.latency.mean
        out[f"{prefix}p50"] = e.latency.p50
        out[f"{prefix}p99"] = e.latency.p99

    entry("", report.totals)
    for name in sorted(report.entries):
        entry(f"{name}:", report.entries[name])
    for name in sorted(report.services):
        out[f"{name}:utilisation"] = report.services[name].utilisation
    return out


class Settings(Protocol):
    """What a replication needs besides the model: a sweep's Task, a capacity search's Replica."""

    @property
    def seed(self) -> int: ...
    @property
    def replication(self) -> int: ...
    @property
    def duration(self) -> float | None: ...
    @property
    def warmup(self) -> float | None: ...
    @property
    def scenario(self) -> str | None: ...


def replicate(model: Any, task: Settings, replications: int = 1) -> Replication:
    """Replication `task.replication` of `model` as `simulate` runs it (the same engine
    options, so the same numbers); `replications` only scales the engine's progress."""
    from scalesim_patterns.sim.engine import Engine
    from scalesim_patterns.sim.parallel import Replication

    engine = Engine(
        model,
        seed=task.seed,
        replication=task.replication,
        duration=task.duration,
        warmup=task.warmup,
        scenario=task.scenario,
    )
    run = engine.run(None, replications)
    return Replication(run, engine.duration, engine.warmup, engine.window, engine.notes)


def run_task(task: Task) -> dict[str, Any]:
    """Simulate replication `task.replication` of the point; the row it adds to the table."""
    from scalesim_patterns.catalog.setpath import apply_sets
    from scalesim_patterns.model import validate_text
    from scalesim_patterns.sim.budget import check

    where = f"point {task.point} ({', '.join(task.sets)})"
    text = apply_sets(task.text, list(task.sets), where) if task.sets else task.text
    model, diags = validate_text(text, where)
    if model is None:  # pragma: no cover - apply_sets validated it
        raise ValueError(f"{where}: " + "; ".join(str(d) for d in diags))
    check(model, duration=task.duration, scenario=task.scenario)
    run = replicate(model, task).run
    row: dict[str, Any] = {"point": task.point, "replication": task.replication}
    row.update(metrics(run.report))
    row["arrivals"] = run.report.totals.arrivals
    row["events"] = run.events
    return row
