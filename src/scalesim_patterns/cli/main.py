"""`scalesim`: the command line over the Python API.

Every user mistake ends in a message that says what and where, and exit code 2; a traceback means a
bug in ScaleSim Patterns, never in the user's file.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

import click
from rich.console import Console

from scalesim_patterns import __version__
from scalesim_patterns.files import OutputExistsError, write_text_atomic
from scalesim_patterns.model import Architecture, Diagnostic, Severity, json_schema, validate

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
    for d in diags:
        colour = "red" if d.severity is Severity.ERROR else "yellow"
        err.print(str(d), style=colour, markup=False)


def load_or_exit(path: str) -> Architecture:
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


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
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
    text = json.dumps(json_schema(), indent=2, sort_keys=False) + "\n"
    if output and output != "-":  # `-o -` is standard output, as for every Unix tool
        write_or_exit(output, text, force)
        err.print(f"wrote {output}")
    else:
        click.echo(text, nl=False)


def main(argv: Sequence[str] | None = None) -> None:
    from . import (  # noqa: F401  (register commands)
        calibrate_cmds,
        capacity_cmds,
        catalog_cmds,
        estimate_cmds,
        generate_cmds,
        run_cmds,
        runs_cmds,
        serve_cmds,
        simulate_cmds,
        sweep_cmds,
    )

    try:
        cli.main(
            args=list(argv) if argv is not None else None,
            prog_name="scalesim",
            standalone_mode=True,
        )
    except KeyboardInterrupt as exc:
        interrupted(exc)
