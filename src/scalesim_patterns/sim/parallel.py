"""Replications side by side in a local process pool: the embedded default for scale-out.

Replications are independent by construction (each draws every stream from (seed, index, name)),
so running them in other processes changes nothing but the wall-clock time: results are
gathered by index and are byte-identical to a serial run. Progress from the workers comes back
through a queue and is folded into one `Progress` for the caller's bar.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scalesim_patterns.model.architecture import Architecture
from scalesim_patterns.sim.engine import Engine, ProgressFn

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

    from scalesim_patterns.sim.reports.live import Window, WindowFn
    from scalesim_patterns.sim.reports.results import Progress, RunResult

__all__ = ["Interrupted", "Replication", "cap_jobs", "default_jobs", "run_replications"]

_progress_queue: Any = None
_window_queue: Any = None


@dataclass(frozen=True)
class Replication:
    """One finished replication and the settings its engine resolved."""

    run: RunResult
    duration: float
    warmup: float
    window: float
    notes: list[str]


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during the replications: the run stopped at once; `finished` are the indices of
    the replications that had completed (their results are dropped with the rest)."""

    def __init__(self, finished: list[int], count: int) -> None:
        super().__init__(f"{len(finished)} of {count} replications finished")
        self.finished = finished
        self.count = count


def default_jobs(replications: int) -> int:
    """One process per core, never more than there are replications."""
    return max(1, min(replications, os.cpu_count() or 1))


def cap_jobs(jobs: int) -> int:
    """At most one process per core: more only share the cores, and each holds a replication's
    memory (64 processes on 2 cores were 32 times the memory for no speed)."""
    return max(1, min(jobs, os.cpu_count() or 1))


def _one(
    model: Architecture,
    options: dict[str, Any],
    index: int,
    count: int,
    report: ProgressFn | None,
    on_window: WindowFn | None = None,
) -> Replication:
    engine = Engine(model, replication=index, **options)
    if on_window is not None:
        from scalesim_patterns.sim.reports.live import watch_windows

        watch_windows(engine, on_window)
    run = engine.run(report, count)
    return Replication(run, engine.duration, engine.warmup, engine.window, engine.notes)


def _init_worker(progress_queue: Any, window_queue: Any = None) -> None:
    import signal

    global _progress_queue, _window_queue
    _progress_queue = progress_queue
    _window_queue = window_queue
    # Ctrl-C is for the parent, which stops the pool; a worker dying on it mid-pickle only
    # leaves the pool to start the next queued replication.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _worker(model: Architecture, options: dict[str, Any], index: int, count: int) -> Replication:
    q, w = _progress_queue, _window_queue
    rep = _one(
        model,
        options,
        index,
        count,
        q.put if q is not None else None,
        w.put if w is not None else None,
    )
    if w is not None:
        w.put(index)  # after its windows: this replication's are all sent
    return rep


def _drain_windows(window_queue: Any, on_window: WindowFn, ended: set[int], wait: bool) -> None:
    """Pass on the windows the workers sent; with `wait`, until every replication has ended
    (the workers have returned by then, so what they sent is on its way)."""
    import queue as queue_mod

    misses = 0
    while True:
        try:
            item: Window | int = (
                window_queue.get(timeout=1.0) if wait else window_queue.get_nowait()
            )
        except queue_mod.Empty:
            misses += 1
            if wait and misses < 60:
                continue
            return
        if isinstance(item, int):
            ended.discard(item)
            if wait and not ended:
                return
        else:
            on_window(item)


def run_replications(
    model: Architecture,
    options: dict[str, Any],
    count: int,
    *,
    jobs: int,
    progress: ProgressFn | None,
    on_window: WindowFn | None = None,
) -> list[Replication]:
    """Replications 0..count-1 in index order, in `jobs` processes (1 = in this process).
    `on_window` gets each replication's windows in order (replications may interleave)."""
    if jobs <= 1 or count <= 1:
        serial: list[Replication] = []
        try:
            for i in range(count):
                serial.append(_one(model, options, i, count, progress, on_window))
        except KeyboardInterrupt:
            raise Interrupted(list(range(len(serial))), count) from None
        return serial
    # Only a pool needs these (0.01 s of start-up that a serial run does without).
    import multiprocessing as mp
    import queue as queue_mod
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else None)
    progress_queue = ctx.Queue() if progress is not None else None
    window_queue = ctx.Queue() if on_window is not None else None
    unfinished = set(range(count))
    latest: dict[int, Progress] = {}
    done: set[int] = set()
    start = time.perf_counter()
    pool = ProcessPoolExecutor(
        max_workers=min(jobs, count),
        mp_context=ctx,
        initializer=_init_worker,
        initargs=(progress_queue, window_queue),
    )
    try:
        futures: dict[Future[Replication], int] = {
            pool.submit(_worker, model, options, i, count): i for i in range(count)
        }
        pending = set(futures)
        while pending:
            finished, pending = wait(pending, timeout=0.1, return_when=FIRST_COMPLETED)
            done.update(futures[f] for f in finished)
            if on_window is not None:
                _drain_windows(window_queue, on_window, unfinished, wait=False)
            if progress is None or progress_queue is None:
                continue
            while True:
                try:
                    p: Progress = progress_queue.get_nowait()
                except queue_mod.Empty:
                    break
                latest[p.replication] = p
            progress(_combined(latest, done, count, time.perf_counter() - start))
        results = {futures[f]: f.result() for f in futures}
        if on_window is not None and unfinished:
            _drain_windows(window_queue, on_window, unfinished, wait=True)
    except KeyboardInterrupt:
        _stop(pool)
        raise Interrupted(sorted(done), count) from None
    except BaseException:
        _stop(pool)
        raise
    pool.shutdown(wait=True)
    return [results[i] for i in range(count)]


def _stop(pool: ProcessPoolExecutor) -> None:
    """Drop queued replications and end the running ones now, not after they finish."""
    processes = list(getattr(pool, "_processes", {}).values())  # no public handle on workers
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=5)


def _combined(latest: dict[int, Progress], done: set[int], count: int, wall: float) -> Progress:
    """All workers as one: `replication` counts the finished ones, `time / end` is the share
    of the running ones done, and requests per wall second are the pool's together."""
    from scalesim_patterns.sim.reports.results import Progress

    running = [p for i, p in latest.items() if i not in done]
    share = sum(p.time / p.end for p in running if p.end)
    return Progress(
        replication=len(done),
        replications=count,
        time=share,
        end=1.0,
        requests=sum(p.requests for p in latest.values()),
        events=sum(p.events for p in latest.values()),
        wall=wall,
    )
