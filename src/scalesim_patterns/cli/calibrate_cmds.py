"""`scalesim calibrate`: the simulator's prediction beside a real run of the generated services."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .main import cli, err, fail, load_or_exit, out, write_or_exit
from .servers import server_options

if TYPE_CHECKING:
    from scalesim_patterns.generate.code.local import Servers


@cli.command("calibrate")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="Write the calibrated copy of the file here (default: FILE's name + .calibrated.yaml).",
)
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Write the report.")
@click.option("--force", is_flag=True, help="Overwrite --output / --json.")
@click.option("--scenario", help="Run a scenario of the file (its faults made real).")
@click.option("--duration", default="60s", show_default=True, help="Length of the real run.")
@click.option("--warmup", default="10s", show_default=True, help="Excluded from the figures.")
@click.option("--scale", default=1.0, show_default=True, help="Multiplies open-loop rates.")
@click.option("--seed", default=1, show_default=True)
@click.option(
    "--replications", default=5, show_default=True, type=click.IntRange(1, 50),
    help="Simulated replications (the real run is one).",
)  # fmt: skip
@click.option(
    "--probe-rate", default=40.0, show_default=True, type=click.FloatRange(1, 500),
    help="Requests/s the cost probe sends, alongside the design's traffic.",
)  # fmt: skip
@click.option(
    "--work",
    type=click.Choice(["sleep", "cpu"]),
    default="sleep",
    show_default=True,
    help="Wait out each endpoint's work (default: many services share few cores) or spin a CPU.",
)
@server_options
def calibrate_cmd(
    file: str,
    output: str | None,
    json_path: str | None,
    force: bool,
    scenario: str | None,
    duration: str,
    warmup: str,
    scale: float,
    seed: int,
    replications: int,
    probe_rate: float,
    work: str,
    servers: Servers,
) -> None:
    """Measure this machine's costs, run the design for real and simulated, compare per entry."""
    import json

    from scalesim_patterns.calibrate import CalibrationError, calibrate
    from scalesim_patterns.files import check_output_file
    from scalesim_patterns.generate import GenerateError, WriteRefused
    from scalesim_patterns.generate.code.drive import DriverFailed
    from scalesim_patterns.generate.code.local import ServerUnreachable, ServiceFailed

    from .run_cmds import _python, load_window

    span, warm = load_window("calibrate", duration, warmup)
    if span > 3600:
        fail(f"--duration {duration}: at most 1h (a real run takes that long)")
    if not 0 < scale <= 100:
        fail(f"--scale {scale:g}: give a factor above 0 and at most 100")
    target = output or str(Path(file).with_suffix("")) + ".calibrated.yaml"
    for path in (target, json_path):
        if path:
            try:
                check_output_file(path, force=force)
            except Exception as exc:
                fail(f"{exc} (pass --force to overwrite)")
    arch = load_or_exit(file)
    if not arch.spec.traffic:
        fail(f"{file}: no traffic to drive")
    text = Path(file).read_text("utf-8")
    first = next((n for n, s in sorted(arch.spec.services.items())), None)
    if first is None:
        fail(f"{file}: no services")
    python = _python_for(arch, _python)
    phases = _Phases(err.is_terminal)
    try:
        with phases:
            report = calibrate(
                text,
                arch,
                file,
                servers=servers,
                python=python,
                duration=span,
                warmup=warm,
                scale=scale,
                seed=seed,
                scenario=scenario,
                work=work,
                replications=replications,
                probe_rate=probe_rate,
                progress=phases.update,
            )
    except (
        CalibrationError,
        GenerateError,
        WriteRefused,
        ServerUnreachable,
        ServiceFailed,
        DriverFailed,
    ) as exc:
        fail(str(exc))
    write_or_exit(target, report.calibrated_text, force)
    err.print(f"wrote {target} (the local twin with the measured costs)", markup=False)
    _print(report)
    if json_path:
        write_or_exit(json_path, json.dumps(report.to_dict(), indent=2) + "\n", force)
        err.print(f"wrote {json_path}", markup=False)


def _python_for(arch: Any, find: Any) -> str:
    """The interpreter for the services: the generator's requirements decide (see `up`)."""
    import tempfile

    from scalesim_patterns.generate.code.files import template

    with tempfile.TemporaryDirectory() as folder:
        req = Path(folder) / "requirements.txt"
        req.write_text(template("requirements.txt.txt"), "utf-8")
        python: str = find(req, None)
        return python


class _Phases:
    """A rich bar per phase on a terminal; a line every 10 seconds of a phase otherwise."""

    LABELS = {"probe": "measuring costs", "real": "real run", "simulate": "simulating"}

    def __init__(self, terminal: bool) -> None:
        from rich.progress import Progress

        self.terminal = terminal
        self.bar = Progress(console=err, transient=True) if terminal else None
        self.tasks: dict[str, Any] = {}
        self.last: dict[str, int] = {}

    def __enter__(self) -> _Phases:
        if self.bar is not None:
            self.bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)

    def update(self, phase: str, done: float, total: float) -> None:
        label = self.LABELS.get(phase, phase)
        if self.bar is not None:
            if phase not in self.tasks:
                self.tasks[phase] = self.bar.add_task(label, total=total)
            self.bar.update(self.tasks[phase], completed=done)
            return
        tick = int(done // 10)
        if self.last.get(phase) != tick:
            self.last[phase] = tick
            err.print(f"{label}: {done:.0f}/{total:.0f}", markup=False)


def _print(report: Any) -> None:
    from rich.table import Table

    from scalesim_patterns.calibrate.compare import format_error, format_figure

    table = Table(
        title=f"real vs simulated ({report.file}{', ' + report.scenario if report.scenario else ''})"
    )
    for col in ("entry", "figure", "real", "simulated", "error", "within"):
        table.add_column(col, justify="left" if col in ("entry", "figure") else "right")
    for row in report.comparison.rows:
        shown = format_error(row.figure, row.error)
        within = {True: "yes", False: "NO", None: "-"}[row.within]
        table.add_row(
            row.entry, row.figure, format_figure(row.figure, row.real),
            format_figure(row.figure, row.simulated),
            shown, within,
        )  # fmt: skip
    out.print(table)
    if report.comparison.clients:
        clients = Table(title="resilience: real vs simulated")
        for col in ("client", "figure", "real", "simulated"):
            clients.add_column(col)
        for client, figures in report.comparison.clients.items():
            for name, pair in figures.items():
                clients.add_row(client, name, _num(pair["real"]), _num(pair["simulated"]))
        out.print(clients)
    if report.cpu:
        busiest = max(report.cpu, key=report.cpu.__getitem__)
        out.print(
            "CPU of the real services: "
            + ", ".join(f"{n} {v:.0%}" for n, v in sorted(report.cpu.items()))
            + f" of a core (busiest: {busiest})",
            markup=False,
        )
    for note in report.notes:
        err.print(f"note: {note}", markup=False)


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"
