"""The options that say where Dask runs the tasks of `sweep` and `capacity`: one definition, so
the two commands cannot drift apart in name, default or help."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import click

from scalesim_patterns.sweep.cluster import ENV_SCHEDULER

F = TypeVar("F", bound=Callable[..., object])


def dask_options(command: F) -> F:
    """`--scheduler ADDRESS` (else $SCALESIM_DASK_SCHEDULER, else local) and `--workers N`."""
    command = click.option(
        "--workers",
        type=click.IntRange(min=1),
        help="Local worker processes (default: one per core).",
    )(command)
    return click.option(
        "--scheduler",
        help=f"Dask scheduler address (tcp://HOST:8786); default ${ENV_SCHEDULER}, else all local cores.",
    )(command)
