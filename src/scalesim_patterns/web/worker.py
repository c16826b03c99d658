"""The process a run is simulated in: never the server's, so the event loop stays free and a
cancel can stop it at once.

The process makes itself a process-group leader (the replication pool it may start is killed
with it), reports progress at most every `PROGRESS_EVERY` seconds through its queue, and exits
by itself when the server that started it is gone. A simulation's windows go back as they close
(a comparison's at the end); the finished result goes back as the JSON text `scalesim simulate
--json` writes, with its timeline events.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
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
    server: int = 0
    """Pid of the server; the run ends itself when that process is gone."""
    nice: int = 10
    """Scheduling niceness added to the process, so the server answers promptly under load."""
    sweep: dict[str, Any] | None = None
    """For kind `sweep`: `vary` (list of PATH=VALUES), `sample` (or None)."""


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


ORPHAN_CHECK = 0.5
"""Seconds between looks at whether the server is still there."""


def _alive(pid: int) -> bool:
    """Whether process `pid` is running (a zombie, killed and not yet reaped, is not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return True  # no /proc: trust kill(0)


def _orphan_watch(server: int) -> None:
    """End this process group (the run and any replication processes) once the server is gone:
    nobody would read what it reports, and its store entry is marked interrupted on restart.
    (The parent is the fork server, which outlives the server while any run holds its pipe.)"""
    while True:
        time.sleep(ORPHAN_CHECK)
        if not _alive(server):
            with contextlib.suppress(OSError):
                os.killpg(os.getpgid(0), signal.SIGKILL)
            os._exit(3)


def run_job(job: Job, out: Any) -> None:
    """Entry point of the run's process; everything it says goes to `out` as (kind, payload)."""
    with contextlib.suppress(OSError):
        os.setsid()
    if job.nice:
        with contextlib.suppress(OSError):
            os.nice(job.nice)
    from scalesim_patterns.model import loads
    from scalesim_patterns.sim import SimulationError, Window, compare, simulate
    from scalesim_patterns.sim.tracing.recorder import TraceOptions

    from .streams import Event, critical_path_event, timeline_events, window_event, window_events

    last = [0.0]
    threading.Thread(target=_orphan_watch, args=(job.server,), daemon=True).start()

    def progress(p: Any) -> None:
        now = time.monotonic()
        final = p.end and p.time >= p.end
        if final or now - last[0] >= PROGRESS_EVERY:
            last[0] = now
            out.put(("progress", _progress_payload(p)))

    def window(w: Window) -> None:
        out.put(("window", window_event(w, None)[1]))

    try:
        if job.kind == "sweep":
            from .sweep_job import run_sweep_job

            run_sweep_job(job, out)
            return
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
                    events += window_events(
                        run.series, run.replication, variant, run.extras.get("changes")
                    )
            for variant, result in (("a", cmp.a), ("b", cmp.b)):
                for run in result.runs:
                    events += timeline_events(run, variant)
            text = cmp.to_json()
        else:
            # A file that enables tracing gets its critical paths; traced runs draw every other
            # number as untraced ones do, so the result is still byte-identical.
            tracing = arch.spec.tracing
            traced = TraceOptions() if tracing is not None and tracing.enabled else None
            res = simulate(
                arch,
                seed=job.seed,
                duration=job.duration,
                replications=job.replications,
                scenario=job.scenario,
                progress=progress,
                jobs=job.jobs,
                on_window=window,
                traces=traced,
            )
            for run in res.runs:
                events += timeline_events(run, None)
            if res.traces is not None:
                events.append(critical_path_event(res.traces))
            text = res.to_json()
        out.put(("finished", {"events": events, "result": text}))
    except (SimulationError, ValueError) as exc:
        out.put(("error", {"error": str(exc)}))
    except Exception as exc:  # a bug: the log gets the traceback, the client a sentence
        traceback.print_exc(file=sys.stderr)
        out.put(("error", {"error": f"internal error in the simulator ({type(exc).__name__})"}))
