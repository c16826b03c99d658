"""The process a run is simulated in: never the server's, so the event loop stays free and a
cancel can stop it at once.

The process makes itself a process-group leader (the replication pool it may start is killed
with it), reports progress at most every `PROGRESS_EVERY` seconds through its queue, and exits
by itself when the server that started it is gone. The finished result goes back as the JSON
text `scalesim simulate --json` writes, with its window and timeline events.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
import traceback
from dataclasses import dataclass
from typing import Any

__all__ = ["PROGRESS_EVERY", "Job", "run_job"]

PROGRESS_EVERY = 0.1
"""Seconds between progress events of one run (the last of a replication is always sent)."""


@dataclass(frozen=True)
class Job:
    run_id: int
    kind: str
    """`simulate` or `compare`."""
    text: str
    name: str
    text_b: str | None
    name_b: str | None
    scenario: str | None
    duration: float | None
    replications: int | None
    seed: int | None
    jobs: int
    """Processes for replications inside this run."""
    nice: int = 10
    """Scheduling niceness added to the process, so the server answers promptly under load."""


def _progress_payload(p: Any) -> dict[str, Any]:
    return {
        "fraction": round(p.fraction, 6),
        "replication": p.replication,
        "replications": p.replications,
        "time": p.time,
        "end": p.end,
        "requests": p.requests,
        "events": p.events,
    }


def run_job(job: Job, out: Any) -> None:
    """Entry point of the run's process; everything it says goes to `out` as (kind, payload).

    Its parent is the server (spawn) or the server's fork server, which ends with the server;
    either way a new parent means the server is gone."""
    parent = os.getppid()
    with contextlib.suppress(OSError):
        os.setsid()
    if job.nice:
        with contextlib.suppress(OSError):
            os.nice(job.nice)
    from scalesim_patterns.model import loads
    from scalesim_patterns.sim import SimulationError, compare, simulate

    from .streams import Event, timeline_events, window_events

    last = [0.0]

    def progress(p: Any) -> None:
        if os.getppid() != parent:  # the server is gone: nobody reads what we would report
            os._exit(3)
        now = time.monotonic()
        final = p.end and p.time >= p.end
        if final or now - last[0] >= PROGRESS_EVERY:
            last[0] = now
            out.put(("progress", _progress_payload(p)))

    try:
        arch = loads(job.text, f"{job.name}.yaml")
        events: list[Event] = []
        if job.kind == "compare":
            assert job.text_b is not None
            other = loads(job.text_b, f"{job.name_b}.yaml")
            cmp = compare(
                arch,
                other,
                seed=job.seed,
                duration=job.duration,
                replications=job.replications,
                scenario=job.scenario,
                progress=progress,
                jobs=job.jobs,
            )
            for variant, result in (("a", cmp.a), ("b", cmp.b)):
                for run in result.runs:
                    events += window_events(run.series, run.replication, variant)
            for variant, result in (("a", cmp.a), ("b", cmp.b)):
                for run in result.runs:
                    events += timeline_events(run, variant)
            text = cmp.to_json()
        else:
            res = simulate(
                arch,
                seed=job.seed,
                duration=job.duration,
                replications=job.replications,
                scenario=job.scenario,
                progress=progress,
                jobs=job.jobs,
            )
            for run in res.runs:
                events += window_events(run.series, run.replication, None)
            for run in res.runs:
                events += timeline_events(run, None)
            text = res.to_json()
        out.put(("finished", {"events": events, "result": text}))
    except (SimulationError, ValueError) as exc:
        out.put(("error", {"error": str(exc)}))
    except Exception as exc:  # a bug: the log gets the traceback, the client a sentence
        traceback.print_exc(file=sys.stderr)
        out.put(("error", {"error": f"internal error in the simulator ({type(exc).__name__})"}))
