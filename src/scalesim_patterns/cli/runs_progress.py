"""Progress of runs coming back from Dask (`sweep`, `capacity`): a bar on a terminal, a plain
line every PROGRESS_LINE_SECONDS in logs and CI, nothing with `--no-progress`."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from .main import err
from .simulate_cmds import PROGRESS_LINE_SECONDS

__all__ = ["RunsProgress", "runs_progress"]


class RunsProgress:
    """`update(done, total)` as results arrive; `line` formats the periodic line."""

    def __init__(self, choice: bool | None, description: str, total: int, line: str) -> None:
        self.bar_shown = err.is_terminal if choice is None else choice
        self.lines = choice is None and not self.bar_shown
        self.line = line
        self.bar = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        )
        self.task = self.bar.add_task(description, total=total)
        self.last = time.monotonic()

    def update(self, done: int, total: int, description: str | None = None) -> None:
        if self.bar_shown:
            if description is None:
                self.bar.update(self.task, completed=done, total=total)
            else:
                self.bar.update(self.task, completed=done, total=total, description=description)
        elif self.lines and time.monotonic() - self.last >= PROGRESS_LINE_SECONDS:
            self.last = time.monotonic()
            err.print(self.line.format(done=done, total=total, what=description), markup=False)


@contextmanager
def runs_progress(
    choice: bool | None, description: str, total: int, line: str
) -> Iterator[RunsProgress]:
    """The bar runs while the block does and is gone after it (Ctrl-C and errors included)."""
    shown = RunsProgress(choice, description, total, line)
    if shown.bar_shown:
        shown.bar.start()
    try:
        yield shown
    finally:
        if shown.bar_shown:  # stopping a bar never started prints a blank line
            shown.bar.stop()
