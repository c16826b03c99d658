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

import click

from .main import cli, err, fail, load_or_exit, out


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
    "--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test", show_default=True
)
@click.option("--mysql-url", default="mysql://root@127.0.0.1:3306/test", show_default=True)
@click.option("--redis-url", default="redis://127.0.0.1:6379/0", show_default=True)
@click.option("--rabbitmq-url", default="amqp://guest:guest@127.0.0.1:5672/", show_default=True)
@click.option("--nats-url", default="nats://127.0.0.1:4222", show_default=True)
@click.option("--kafka-url", default="kafka://127.0.0.1:9092", show_default=True)
@click.option(
    "--work",
    type=click.Choice(["cpu", "sleep"]),
    default="cpu",
    show_default=True,
    help="Spend each endpoint's work on the CPU, or wait it out (many services, few cores).",
)
@click.option("--venv", type=click.Path(file_okay=False), help="Virtualenv for the services.")
@click.option("--timeout", default=60.0, show_default=True, help="Seconds to wait for readiness.")
def up_cmd(
    file: str,
    output: str | None,
    force: bool,
    postgres_url: str,
    mysql_url: str,
    redis_url: str,
    rabbitmq_url: str,
    nats_url: str,
    kafka_url: str,
    work: str,
    venv: str | None,
    timeout: float,
) -> None:
    """Run the generated services locally on loopback against real servers, until Ctrl-C."""
    from scalesim_patterns.generate import GenerateError, WriteRefused, generate, write_tree
    from scalesim_patterns.generate.code.local import (
        LocalSystem,
        Servers,
        ServerUnreachable,
        ServiceFailed,
    )

    arch = load_or_exit(file)
    servers = Servers(
        {
            "postgresql": postgres_url,
            "mysql": mysql_url,
            "redis": redis_url,
            "rabbitmq": rabbitmq_url,
            "nats": nats_url,
            "kafka": kafka_url,
        }
    )
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
