"""Run `loadgen` (the Locust driver) in its own process and follow it.

Its own process because gevent patches the whole interpreter. The driver writes `started T`
(its time origin on the system's monotonic clock, which every process shares) and one
`progress CLOCK/DURATION SENT FAILED` line a second on standard error; `drive` hands both to the
caller, so `scalesim load` can draw a bar and `scalesim calibrate` can inject faults on the
driver's own clock.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["DriverFailed", "drive"]


class DriverFailed(RuntimeError):
    """The load driver exited with an error; the message ends with its last lines."""


def drive(
    plan: Path,
    results: Path,
    *,
    on_start: Callable[[float], None] | None = None,
    on_progress: Callable[[float, int, int], None] | None = None,
) -> dict[str, Any]:
    """Drive the plan written at `plan`; the measured results (`simulate --json`'s shape)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "scalesim_patterns.generate.code.loadgen", str(plan), str(results)],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stderr is not None
    tail: list[str] = []
    for line in proc.stderr:
        if line.startswith("started ") and on_start is not None:
            on_start(float(line.split()[1]))
        elif line.startswith("progress "):
            _, clock, sent, failed = line.split()[:4]
            if on_progress is not None:
                on_progress(float(clock.split("/")[0]), int(sent), int(failed))
        else:
            tail = [*tail[-20:], line.rstrip()]
    if proc.wait() != 0:
        raise DriverFailed("the load driver failed:\n" + "\n".join(tail))
    data: dict[str, Any] = json.loads(results.read_text("utf-8"))
    return data
