"""`scalesim simulate` and `scalesim compare`."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from scalesim_patterns.model import Architecture
from scalesim_patterns.model.units import parse_duration, parse_memory
from scalesim_patterns.sim import SimulationError, compare, simulate
from scalesim_patterns.sim.api import COMPARE_REPLICATIONS
from scalesim_patterns.sim.budget import (
    DEFAULT_SIMULATION_LIMITS,
    SimulationLimits,
    estimate,
)
from scalesim_patterns.sim.parallel import cap_jobs
from scalesim_patterns.sim.tracing.options import DEFAULT_MAX_TRACES, TraceOptions

from .main import cli, err, fail, interrupted, load_or_exit, out, write_or_exit
from .store import db_option, open_store_or_exit

if TYPE_CHECKING:
    from scalesim_patterns.sim import Progress as SimProgress

# The tables (`.report`, with rich's tables) and the trace exporter are imported where the
# results are shown, after the run: `scalesim simulate` reaches its first event without them
# (0.8 % of its instructions before it).

PROGRESS_LINE_SECONDS = 10.0
"""Off a terminal, a progress line this often (wall time), for runs worth reporting on."""
PROGRESS_LINE_EVENTS = 2e7
"""Estimated events above which a run off a terminal reports progress in lines unasked."""


def _duration(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    if param.name == "duration" and seconds <= 0:
        raise click.BadParameter(f"{value!r}: the simulated time must be positive, e.g. 5m")
    return seconds


def _max_events(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    """A count such as 2e9; 0 lifts the limit."""
    if value is None:
        return DEFAULT_SIMULATION_LIMITS.max_events
    try:
        number = float(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a number; e.g. 2e9, or 0 for no limit"
        ) from None
    if not (math.isfinite(number) and number >= 0):
        raise click.BadParameter(f"{value!r}: give a number of events, or 0 for no limit")
    return number or None


def _max_memory(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    """Bytes as a number or a Kubernetes quantity (8Gi); 0 lifts the limit."""
    if value is None:
        return DEFAULT_SIMULATION_LIMITS.max_memory
    try:
        number = float(value)
    except ValueError:
        try:
            number = parse_memory(value)
        except ValueError as exc:
            raise click.BadParameter(f"{exc}, or 0 for no limit") from None
    if not (math.isfinite(number) and number >= 0):
        raise click.BadParameter(f"{value!r}: give bytes such as 8Gi, or 0 for no limit")
    return number or None


def _status(p: SimProgress) -> str:
    return (
        f"t={p.time:,.0f}/{p.end:,.0f}s · {p.requests_per_second:,.0f} req/s"
        if p.replications == 1
        else f"{p.replication}/{p.replications} replications done · "
        f"{p.requests_per_second:,.0f} req/s"
    )


def _progress_lines(label: str) -> Callable[[SimProgress], None]:
    """Progress for logs and CI: one plain line every PROGRESS_LINE_SECONDS, no bar."""
    last = time.monotonic()

    def update(p: SimProgress) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last >= PROGRESS_LINE_SECONDS:
            last = now
            err.print(f"{label}: {p.fraction:.0%} · {_status(p)}", markup=False, highlight=False)

    return update


@contextmanager
def progress_bar(
    enabled: bool, label: str, lines: bool = False
) -> Iterator[Callable[[SimProgress], None] | None]:
    """A rich bar of simulated time with the simulator's speed on a terminal; periodic lines
    when `lines` (standard error is not a terminal); nothing when neither."""
    if lines:
        yield _progress_lines(label)
        return
    if not enabled:
        yield None
        return
    # Here, not at the top: off a terminal no bar is drawn, and a run need not load it (0.006 s).
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

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
        bar.update(task, completed=p.fraction, status=_status(p))

    with bar:
        yield update


def _file_exporter(arch: Architecture) -> str:
    tracing = arch.spec.tracing
    return tracing.exporter if tracing is not None else "otlp"


def _trace_options(
    arch: Architecture,
    file: str,
    path: str | None,
    fmt: str | None,
    max_traces: int,
) -> TraceOptions | None:
    """The recording asked for, or a clear refusal before the run."""
    if path is None:
        if fmt is not None:
            fail("--trace-format needs --traces FILE")
        return None
    tracing = arch.spec.tracing
    if tracing is None or not tracing.enabled:
        fail(
            f"{file}: --traces needs spec.tracing with enabled: true; add for example "
            "`tracing: {enabled: true, sampling: 0.1}` (sampling is the share of requests traced)"
        )
    return TraceOptions(max_traces=max_traces)


def _refuse_existing(path: str | None, force: bool, folder: bool = False) -> None:
    """Say no before a long run, not after it, when its output could not be written: it would
    overwrite a file, it names a folder, or its folder cannot be created or written."""
    if not path:
        return
    target = Path(path)
    if not folder:
        if target.is_dir():
            fail(f"{path} is a folder; give a file name")
        if target.exists() and not force:
            fail(f"{path} exists; pass --force to overwrite it")
        parent = target.parent
    else:
        parent = target
    existing = parent
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        fail(f"cannot write {path}: {existing} is not a folder")
    import tempfile  # only when there is an output to check (it loads shutil, 0.002 s)

    try:  # an unnamed file where possible (O_TMPFILE): nothing of the user's is touched
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as exc:
        fail(f"cannot write {path}: {existing}: {exc.strerror or exc}")


def _jobs(jobs: int | None) -> int | None:
    """`--jobs` at most one per core, saying so when it asked for more."""
    if jobs is None:
        return None
    capped = cap_jobs(jobs)
    if capped < jobs:
        err.print(
            f"--jobs {jobs}: using {capped}, one process per core of this machine "
            "(more would only share the cores and multiply the memory)"
        )
    return capped


def _show_lines(progress: bool | None, estimated_events: float) -> bool:
    """Lines instead of a bar: off a terminal, when asked or when the run is long."""
    if err.is_terminal:
        return False
    if progress is not None:
        return progress
    return estimated_events >= PROGRESS_LINE_EVENTS


def _estimated_events(arches: list[Architecture], **options: Any) -> float:
    try:
        return sum(estimate(a, **options).events for a in arches)
    except SimulationError:
        return 0.0  # the run itself says what is wrong


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
        "--max-events",
        callback=_max_events,
        help="Refuse runs estimated above this many events (default 1e9; 0: no limit).",
    ),
    click.option(
        "--max-memory",
        callback=_max_memory,
        help="Refuse runs estimated above this memory per replication (default 4Gi; 0: no limit).",
    ),
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
@click.option(
    "--brief",
    "brief_only",
    is_flag=True,
    help="Print only the product brief's expected figures beside the measured ones.",
)
@click.option(
    "--traces",
    "traces_path",
    type=click.Path(dir_okay=False),
    help="Write the sampled requests' traces (replication 0) to this file.",
)
@click.option(
    "--trace-format",
    type=click.Choice(["otlp", "jaeger", "zipkin"]),
    help="OTLP JSON, a Jaeger UI upload file or Zipkin v2 JSON; default: spec.tracing.exporter.",
)
@click.option(
    "--max-traces",
    type=click.IntRange(min=1),
    default=DEFAULT_MAX_TRACES,
    show_default=True,
    help="Traces kept at most; the rest are counted and said.",
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
    max_events: float | None,
    max_memory: float | None,
    brief_only: bool,
    traces_path: str | None,
    trace_format: str | None,
    max_traces: int,
) -> None:
    """Simulate an architecture under its traffic (and a scenario) and report what it does."""
    arch = load_or_exit(file)
    trace_options = _trace_options(arch, file, traces_path, trace_format, max_traces)
    _refuse_existing(traces_path, force)
    store = open_store_or_exit(db) if save else None  # a store that won't open fails before the run
    _check_scenario(dict(arch.spec.scenarios), scenario, file)
    _refuse_existing(json_path, force)
    _refuse_existing(csv_dir, force, folder=True)
    jobs = _jobs(jobs)
    limits = SimulationLimits(max_events=max_events, max_memory=max_memory)
    show = err.is_terminal if progress is None else progress
    count = replications or arch.spec.simulation.replications
    lines = _show_lines(
        progress,
        _estimated_events([arch], duration=duration, scenario=scenario, replications=count),
    )
    try:
        with progress_bar(show, f"simulating {arch.name}", lines) as update:
            result = simulate(
                arch,
                seed=seed,
                duration=duration,
                warmup=warmup,
                replications=replications,
                scenario=scenario,
                progress=update,
                jobs=jobs,
                limits=limits,
                traces=trace_options,
            )
    except KeyboardInterrupt as exc:
        interrupted(exc)
    except (SimulationError, ValueError) as exc:
        fail(f"{file}: {exc}")
    from .report import brief_table, critical_path_table, result_tables

    out.print(brief_table(result) if brief_only else result_tables(result))
    if traces_path and result.traces is not None:
        from scalesim_patterns.sim.tracing.export import render as render_traces

        fmt = trace_format or _file_exporter(arch)
        write_or_exit(traces_path, render_traces(result.traces, fmt), force)  # type: ignore[arg-type]
        err.print(f"wrote {traces_path} ({fmt}): {result.traces.message()}", markup=False)
        out.print(critical_path_table(result.traces))
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
    max_events: float | None,
    max_memory: float | None,
) -> None:
    """Simulate two variants under the same random numbers and show B − A with 95% intervals.

    Entries only one variant has are run and shown, but not paired: the difference covers
    what both have.
    """
    a = load_or_exit(file_a)
    b = load_or_exit(file_b)
    _check_scenario(dict(a.spec.scenarios), scenario, file_a)
    _check_scenario(dict(b.spec.scenarios), scenario, file_b)
    _refuse_existing(json_path, force)
    jobs = _jobs(jobs)
    limits = SimulationLimits(max_events=max_events, max_memory=max_memory)
    show = err.is_terminal if progress is None else progress
    count = replications or max(a.spec.simulation.replications, COMPARE_REPLICATIONS)
    lines = _show_lines(
        progress,
        _estimated_events([a, b], duration=duration, scenario=scenario, replications=count),
    )
    try:
        with progress_bar(show, f"comparing {a.name} and {b.name}", lines) as update:
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
                limits=limits,
            )
    except KeyboardInterrupt as exc:
        interrupted(exc)
    except (SimulationError, ValueError) as exc:
        fail(str(exc))
    from .report import comparison_tables, entries_in_one

    out.print(comparison_tables(cmp, (file_a, file_b)))
    only_a, only_b = entries_in_one(cmp)
    for path, only in ((file_a, only_a), (file_b, only_b)):
        if only:
            err.print(
                f"only {path} has entr{'ies' if len(only) > 1 else 'y'} {', '.join(only)}: "
                "shown, not compared",
                markup=False,
            )
    if json_path:
        write_or_exit(json_path, cmp.to_json(), force)
        err.print(f"wrote {json_path}")
