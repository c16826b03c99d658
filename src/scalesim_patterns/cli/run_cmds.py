"""`scalesim up`: the generated services as local processes against the machine's servers.

Where the services' Python comes from: the current interpreter when it already has every
requirement (`pip install 'scalesim-patterns[services]'`), because that starts in a second and
needs no network; otherwise a virtualenv `up` creates once per requirements file (under
`--venv`, default `~/.cache/scalesim/services-<digest>`) and fills with pip from PyPI by name.
"""

from __future__ import annotations

import hashlib
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import click

from .main import cli, err, fail, load_or_exit, out
from .servers import server_options

if TYPE_CHECKING:
    from scalesim_patterns.calibrate.scrape import Scraper
    from scalesim_patterns.generate.code.local import LocalSystem, Servers


def _python(requirements: Path, venv: str | None) -> str:
    from scalesim_patterns.generate.code.local import missing_requirements

    if venv is None and not missing_requirements():
        return sys.executable
    text = requirements.read_bytes()
    folder = (
        Path(venv)
        if venv
        else Path.home()
        / ".cache"
        / "scalesim"
        / f"services-{hashlib.sha256(text).hexdigest()[:12]}"
    )
    python = folder / "bin" / "python"
    stamp = folder / ".scalesim-requirements"
    if python.exists() and stamp.exists() and stamp.read_bytes() == text:
        return str(python)
    err.print(f"installing the services' requirements into {folder} (once)…", markup=False)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "-r", str(requirements)], check=True
        )
    except (OSError, subprocess.CalledProcessError) as exc:
        fail(f"could not create the services' virtualenv in {folder}: {exc}")
    stamp.write_bytes(text)
    return str(python)


@cli.command("up")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False),
    help="Generate into this folder and keep it (default: a temporary folder, removed on stop).",
)
@click.option(
    "--force", is_flag=True, help="Replace files in --output that ScaleSim did not write."
)
@click.option(
    "--work",
    type=click.Choice(["cpu", "sleep"]),
    default="cpu",
    show_default=True,
    help="Spend each endpoint's work on the CPU, or wait it out (many services, few cores).",
)
@click.option("--venv", type=click.Path(file_okay=False), help="Virtualenv for the services.")
@click.option("--timeout", default=60.0, show_default=True, help="Seconds to wait for readiness.")
@server_options
def up_cmd(
    file: str,
    output: str | None,
    force: bool,
    servers: Servers,
    work: str,
    venv: str | None,
    timeout: float,
) -> None:
    """Run the generated services locally on loopback against real servers, until Ctrl-C."""
    from scalesim_patterns.generate import GenerateError, WriteRefused, generate, write_tree
    from scalesim_patterns.generate.code.local import (
        LocalSystem,
        ServerUnreachable,
        ServiceFailed,
    )

    arch = load_or_exit(file)
    temporary = output is None
    folder = Path(output) if output else Path(tempfile.mkdtemp(prefix="scalesim-up-"))
    try:
        try:
            files = {k: v for k, v in generate(arch).items() if k.startswith("services/")}
            write_tree(files, folder, force=force)
            system = LocalSystem(arch, folder, servers, work=work)
        except (GenerateError, WriteRefused, ServerUnreachable) as exc:
            fail(str(exc).replace("pass force", "pass --force"))
        for key, why in sorted(system.plan.skipped.items()):
            err.print(f"skipped: {key} ({why})", markup=False)
        if not system.services:
            fail(f"{file}: no deployed services to run")
        first = next(iter(system.services.values()))
        python = _python(first.folder / "requirements.txt", venv)
        system.python = python
        stop = threading.Event()

        def on_signal(signum: int, frame: FrameType | None) -> None:
            stop.set()

        previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            try:
                system.start(timeout, stop.is_set)
            except ServiceFailed as exc:
                system.stop()
                fail(str(exc))
            for name, svc in system.services.items():
                out.print(f"{name:<24} {svc.url}  (log: {svc.log})", markup=False)
            err.print("all services ready; Ctrl-C stops them", markup=False)
            while not stop.wait(0.5):
                dead = [
                    n
                    for n, s in system.services.items()
                    if s.process and s.process.poll() is not None
                ]
                if dead:
                    err.print(f"service {dead[0]} exited:\n{system.tail(dead[0])}", markup=False)
                    break
        finally:
            codes = system.stop()
            for s, handler in previous.items():
                signal.signal(s, handler)
        err.print(
            "stopped: " + ", ".join(f"{n} ({c})" for n, c in sorted(codes.items())), markup=False
        )
    finally:
        if temporary:
            shutil.rmtree(folder, ignore_errors=True)


@cli.command("load")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Write results as JSON.")
@click.option("--force", is_flag=True, help="Overwrite an existing --json file.")
@click.option("--duration", default="30s", show_default=True, help="Load duration.")
@click.option("--warmup", default="5s", show_default=True, help="Excluded from the figures.")
@click.option("--scale", default=1.0, show_default=True, help="Multiplies open-loop rates.")
@click.option("--seed", default=1, show_default=True, help="Seed of arrivals and the mix.")
@click.option("--work", type=click.Choice(["cpu", "sleep"]), default="cpu", show_default=True)
@click.option("--timeout", default=60.0, show_default=True, help="Seconds to wait for readiness.")
@server_options
def load_cmd(
    file: str,
    json_path: str | None,
    force: bool,
    duration: str,
    warmup: str,
    scale: float,
    seed: int,
    servers: Servers,
    work: str,
    timeout: float,
) -> None:
    """Start the generated services (as `up`), drive the file's own traffic at them with Locust,
    print per-entry throughput, latency and errors (JSON in `simulate --json`'s shape)."""
    import json

    from scalesim_patterns.files import check_output_file
    from scalesim_patterns.generate import GenerateError, WriteRefused, generate, write_tree
    from scalesim_patterns.generate.code.loadplan import LoadTooLarge, load_plan
    from scalesim_patterns.generate.code.local import (
        LocalSystem,
        ServerUnreachable,
        ServiceFailed,
    )

    from .main import write_or_exit

    span, warm = load_window("load", duration, warmup)
    if json_path:
        try:
            check_output_file(json_path, force=force)
        except Exception as exc:
            fail(str(exc))
    arch = load_or_exit(file)
    if not arch.spec.traffic:
        fail(f"{file}: no traffic to drive")
    folder = Path(tempfile.mkdtemp(prefix="scalesim-load-"))
    try:
        try:
            files = {k: v for k, v in generate(arch).items() if k.startswith("services/")}
            write_tree(files, folder / "tree")
            system = LocalSystem(arch, folder / "tree", servers, work=work)
        except (GenerateError, WriteRefused, ServerUnreachable) as exc:
            fail(str(exc))
        for key, why in sorted(system.plan.skipped.items()):
            err.print(f"skipped: {key} ({why})", markup=False)
        first = next(iter(system.services.values()))
        system.python = _python(first.folder / "requirements.txt", None)
        base = {n: s.url for n, s in system.services.items()}
        try:
            plan = load_plan(arch, file, base, span, warm, scale, seed)
        except LoadTooLarge as exc:
            fail(f"{file}: {exc}")
        plan["notes"].extend(
            f"skipped: {k} ({why})" for k, why in sorted(system.plan.skipped.items())
        )
        (folder / "plan.json").write_text(json.dumps(plan), "utf-8")
        try:
            system.start(timeout)
        except ServiceFailed as exc:
            system.stop()
            fail(str(exc))
        try:
            results = _drive(folder, span, system if arch.spec.caches else None, warm)
        finally:
            system.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    _print_entries(results)
    if json_path:
        write_or_exit(json_path, json.dumps(results, indent=2) + "\n", force)
        err.print(f"wrote {json_path}", markup=False)


def load_window(command: str, duration: str, warmup: str) -> tuple[float, float]:
    """(duration, warm-up) in seconds of a command that drives load with Locust; exit 2 when
    Locust is missing or the options are not a duration with a shorter warm-up."""
    import importlib.util

    from scalesim_patterns.model.units import parse_duration

    if importlib.util.find_spec("locust") is None:
        fail(f"scalesim {command} needs Locust: pip install 'scalesim-patterns[services]'")
    try:
        span, warm = parse_duration(duration), parse_duration(warmup)
    except ValueError as exc:
        fail(f"--duration/--warmup: {exc}")
    if not 0 <= warm < span:
        fail(f"--warmup {warmup} must be shorter than --duration {duration}")
    return span, warm


def _drive(
    folder: Path, span: float, caches_of: LocalSystem | None = None, warm: float = 0.0
) -> dict[str, object]:
    """Run the Locust driver (its own process: gevent patches its interpreter) with a bar.

    With `caches_of`, its services' cache counters are read during the run and each cache's
    real figures after the warm-up go into `runs[0].caches` (the simulator's section)."""
    from scalesim_patterns.calibrate.scrape import Scraper

    scraper = Scraper(caches_of, warm) if caches_of is not None else None
    try:
        results = _drive_with(folder, span, scraper)
    finally:
        if scraper is not None:
            scraper.stop()
    if scraper is not None:
        runs = results["runs"]
        assert isinstance(runs, list)
        runs[0]["caches"] = {
            name: {"lookups": f.lookups, "hits": f.hits, "hit_ratio": f.hit_ratio}
            for name, f in sorted(scraper.cache_figures().items())
        }
    return results


def _drive_with(folder: Path, span: float, scraper: Scraper | None) -> dict[str, object]:
    from rich.progress import Progress

    from scalesim_patterns.generate.code.drive import DriverFailed, drive

    with Progress(console=err, transient=True) as progress:
        task = progress.add_task("load", total=span)

        def show(clock: float, sent: int, failed: int) -> None:
            progress.update(task, completed=clock, description=f"{sent} requests, {failed} failed")

        try:
            return dict(
                drive(
                    folder / "plan.json",
                    folder / "results.json",
                    on_start=scraper.start if scraper is not None else None,
                    on_progress=show,
                )
            )
        except DriverFailed as exc:
            fail(str(exc))


def _print_entries(results: dict[str, object]) -> None:
    from rich.table import Table

    runs = results["runs"]
    assert isinstance(runs, list)
    report = runs[0]["report"]
    table = Table(title="measured")
    for col in ("entry", "throughput/s", "p50 ms", "p99 ms", "error rate"):
        table.add_column(col, justify="left" if col == "entry" else "right")

    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value * 1000:.1f}"

    for key, e in [*sorted(report["entries"].items()), ("total", report["totals"])]:
        lat = e["latency"]
        table.add_row(
            key,
            f"{e['throughput']:.1f}",
            ms(lat["p50"]),
            ms(lat["p99"]),
            f"{e['error_rate']:.2%}",
        )
    out.print(table)
