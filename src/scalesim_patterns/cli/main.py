"""`scalesim`: the command line over the Python API.

Every user mistake ends in a message that says what and where, and exit code 2; a traceback means a
bug in ScaleSim Patterns, never in the user's file.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click
from rich.console import Console

from scalesim_patterns import __version__
from scalesim_patterns.files import OutputExistsError, write_text_atomic

if TYPE_CHECKING:
    from scalesim_patterns.model import Architecture, Diagnostic

USAGE_ERROR = 2
INTERRUPTED = 130

out = Console(highlight=False)
err = Console(stderr=True, highlight=False, soft_wrap=True)
if not out.is_terminal:
    out.width = 180  # tables in files and pipes are read whole, not in an 80-column window


def fail(message: str) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", markup=True)
    sys.exit(USAGE_ERROR)


def interrupted(exc: KeyboardInterrupt) -> NoReturn:
    """Ctrl-C: exit 130 (the shell's code for SIGINT) saying what had finished.

    Click would turn it into "Aborted!" and exit 1, so commands that run long call this.
    """
    finished = getattr(exc, "finished", None)
    count = getattr(exc, "count", None)
    if finished is not None and count is not None:
        done = ", ".join(str(i) for i in finished) if finished else "none"
        err.print(
            f"interrupted: {len(finished)} of {count} replications had finished "
            f"(replications {done}); nothing was written",
            markup=False,
        )
    else:
        err.print("interrupted; nothing was written")
    sys.exit(INTERRUPTED)


def print_diagnostics(diags: Sequence[Diagnostic]) -> None:
    from scalesim_patterns.model import Severity

    for d in diags:
        colour = "red" if d.severity is Severity.ERROR else "yellow"
        err.print(str(d), style=colour, markup=False)


def load_or_exit(path: str) -> Architecture:
    from scalesim_patterns.model import Severity, validate

    arch, diags = validate(path)
    if arch is None:
        print_diagnostics(diags)
        errors = sum(d.severity is Severity.ERROR for d in diags)
        fail(f"{path}: {errors} error{'s' if errors != 1 else ''}; nothing was run")
    print_diagnostics([d for d in diags if d.severity is Severity.WARNING])
    return arch


def write_or_exit(path: str | Path, text: str, force: bool) -> Path:
    try:
        return write_text_atomic(path, text, force=force)
    except OutputExistsError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror or exc}")


COMMANDS: dict[str, tuple[str, str]] = {
    "calibrate": (
        "calibrate_cmds",
        "Measure this machine's costs, run the design for real and simulated, compare per entry.",
    ),
    "capacity": (
        "capacity_cmds",
        "Find the cheapest replica counts (by the CPU they request) that meet every SLO of spec.slos at --load, or (--knee) the highest load at which they are all met; the estimate prunes, the simulation decides, and every step is shown. Each candidate's replications run on Dask (all local cores, or --scheduler); Ctrl-C keeps what is decided for --resume.",
    ),
    "catalog": (
        "catalog_cmds",
        "List the twelve patterns by group, and the templates.",
    ),
    "compare": (
        "simulate_cmds",
        "Simulate two variants under the same random numbers and show B − A with 95% intervals.",
    ),
    "estimate": (
        "estimate_cmds",
        "Throughput, utilisation, mean response times and the bottleneck from queueing theory, without simulating: instant, steady state, means only (see what it ignores below).",
    ),
    "generate": (
        "generate_cmds",
        "Generate Kubernetes, Kong, Istio, Argo Rollouts and observability manifests, then lint them.",
    ),
    "lint": (
        "generate_cmds",
        "Validate manifests offline: strict schemas, CRD schemas, best-practice rules. Exit 2 on errors.",
    ),
    "load": (
        "run_cmds",
        "Start the generated services (as `up`), drive the file's own traffic at them with Locust, print per-entry throughput, latency and errors (JSON in `simulate --json`'s shape).",
    ),
    "new": (
        "catalog_cmds",
        "Create an architecture file from a template (see `scalesim catalog`).",
    ),
    "runs": (
        "runs_cmds",
        "The run store: simulations saved with `simulate --save` or started in the web app.",
    ),
    "serve": (
        "serve_cmds",
        "Start the web app and its API (http://127.0.0.1:8000 by default).",
    ),
    "simulate": (
        "simulate_cmds",
        "Simulate an architecture under its traffic (and a scenario) and report what it does.",
    ),
    "sweep": (
        "sweep_cmds",
        "Simulate FILE at every point of a grid or sample of settings, with common random numbers across points; write a tidy table, plots and which setting matters most.",
    ),
    "up": (
        "run_cmds",
        "Run the generated services locally on loopback against real servers, until Ctrl-C.",
    ),
}
"""Commands defined in other modules: (module under `scalesim_patterns.cli`, the first paragraph
of the command's docstring, which `scalesim --help` shortens). A module is imported only when its
command runs (or its own `--help` is asked for), so `scalesim simulate` never imports the generator, the linter, the web app or
calibrate, and `scalesim --help` imports none of them. tests/cli/test_lazy_cli.py checks that
this table matches the commands' own docstrings."""


class LazyGroup(click.Group):
    """A click group that imports a command's module on first use (see `COMMANDS`)."""

    freeze_imports = False
    """Set by `main`, for the `scalesim` process only: a command's module is imported with the
    cycle collector off, then everything alive is frozen (`gc.freeze`, as the web app does once
    it has started). The import builds the model's classes and loads the simulator, about
    60 000 objects that live as long as the process; the collector scanned them at each of its
    ~70 collections during the import and again after (0.015 s of `scalesim simulate`). The
    import leaves some 150 objects of garbage in cycles, which stay. No result depends on when
    the collector runs (sim/core/collector.py)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            import importlib

            module = f"{__package__}.{COMMANDS[cmd_name][0]}"
            if not self.freeze_imports:
                importlib.import_module(module)
            else:
                import gc

                enabled = gc.isenabled()
                gc.disable()
                try:
                    importlib.import_module(module)
                finally:
                    gc.freeze()
                    if enabled:
                        gc.enable()
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list from `COMMANDS` without importing the modules behind it."""
        rows = []
        for name in self.list_commands(ctx):
            if name in self.commands:
                cmd = self.commands[name]
                if cmd.hidden:
                    continue
                rows.append((name, cmd.get_short_help_str(formatter.width - 6 - len(name))))
            else:
                stub = click.Command(name, help=COMMANDS[name][1])
                rows.append((name, stub.get_short_help_str(formatter.width - 6 - len(name))))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="scalesim")
def cli() -> None:
    """Design microservice systems from proven patterns, simulate them, generate them."""


@cli.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print diagnostics as JSON.")
def validate_cmd(files: tuple[str, ...], as_json: bool) -> None:
    """Check architecture files: structure, references, call cycles, capacity.

    Exit 0 when valid (warnings allowed), 2 when any file has an error.
    """
    from scalesim_patterns.model import Severity, validate

    all_diags: list[Diagnostic] = []
    bad = 0
    for f in files:
        arch, diags = validate(f)
        all_diags.extend(diags)
        if arch is None:
            bad += 1
        elif not as_json:
            warnings = len(diags)
            suffix = f" ({warnings} warning{'s' if warnings != 1 else ''})" if warnings else ""
            out.print(
                f"{f}: valid: {len(arch.spec.services)} services, "
                f"{len(arch.spec.databases)} databases, {len(arch.spec.traffic)} traffic sources"
                + suffix
            )
    if as_json:
        import json  # only here and in `schema`: `scalesim simulate` starts without it

        out.print_json(
            json.dumps({"valid": bad == 0, "diagnostics": [d.to_dict() for d in all_diags]})
        )
    else:
        print_diagnostics(all_diags)
    if bad:
        errors = sum(d.severity is Severity.ERROR for d in all_diags)
        err.print(
            f"{errors} error{'s' if errors != 1 else ''} in {bad} file{'s' if bad != 1 else ''}"
        )
        sys.exit(USAGE_ERROR)


@cli.command("schema")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, allow_dash=True),
    help="Write to a file ('-': standard output).",
)
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def schema_cmd(output: str | None, force: bool) -> None:
    """Print the JSON Schema of the architecture file (for yaml-language-server)."""
    import json

    from scalesim_patterns.model import json_schema

    text = json.dumps(json_schema(), indent=2, sort_keys=False) + "\n"
    if output and output != "-":  # `-o -` is standard output, as for every Unix tool
        write_or_exit(output, text, force)
        err.print(f"wrote {output}")
    else:
        click.echo(text, nl=False)


def _no_pydantic_plugins() -> None:
    """This process's pydantic runs no plugins, and does not look for any.

    pydantic looks for plugins when it builds its first class: it imports `importlib.metadata`
    (with `email`, `zipfile`, `csv`...) and reads the entry points of every installed
    distribution, 0.02 s of every command that loads the architecture's model. Those classes
    are scalesim's own and no plugin is meant for them. pydantic's own switch,
    `PYDANTIC_DISABLE_PLUGINS`, skips the reading but not the import (its plugin loader imports
    `importlib.metadata` at the top); so the loader's module is this one's stand-in, whose
    `get_plugins` has none, unless pydantic has loaded the real one already. A user who sets
    `PYDANTIC_DISABLE_PLUGINS` (even to an empty string, which disables none) has pydantic do as
    the variable says. Child processes (the services `scalesim up` starts) are not affected.
    """
    name = "pydantic.plugin._loader"
    if name in sys.modules or "PYDANTIC_DISABLE_PLUGINS" in os.environ:
        return
    import types

    def get_plugins() -> Iterable[object]:
        return ()

    def real(attr: str) -> object:
        """Any other name pydantic may take from its loader: from the real module."""
        if attr.startswith("__"):  # the import system asks for `__path__` and the like
            raise AttributeError(attr)
        import importlib

        del sys.modules[name]
        return getattr(importlib.import_module(name), attr)

    loader = types.ModuleType(name, _no_pydantic_plugins.__doc__)
    loader.__dict__.update(get_plugins=get_plugins, __getattr__=real)
    sys.modules[name] = loader


def main(argv: Sequence[str] | None = None) -> None:
    _no_pydantic_plugins()
    LazyGroup.freeze_imports = True
    try:
        cli.main(
            args=list(argv) if argv is not None else None,
            prog_name="scalesim",
            standalone_mode=True,
        )
    except KeyboardInterrupt as exc:
        interrupted(exc)
