"""The run queue: a bounded queue of runs and a fixed number of worker threads, each supervising
one simulation process at a time.

A worker thread starts the run's process, copies what it reports into the store (as numbered
events) and wakes the event streams; it kills the process group when the run is cancelled (the
supervision loop looks every `POLL` seconds, so a cancel takes effect well within a second).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import os
import queue
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from .store import Store
from .worker import Job, run_job

__all__ = ["QueueFull", "Runner"]

log = logging.getLogger("scalesim.web")

POLL = 0.1
"""Seconds between looks at a running process (cancel, death)."""
LIVE = frozenset({"progress", "window", "point"})
"""What a run's process reports while it runs (the rest ends it: finished or error)."""
BATCH = 200
"""Most live events stored in one transaction."""


class QueueFull(RuntimeError):
    def __init__(self, waiting: int, maximum: int) -> None:
        self.value = waiting
        self.maximum = maximum
        super().__init__(
            f"the run queue is full ({waiting} runs waiting, limit {maximum}); "
            "try again when some have finished"
        )


@dataclass
class _Active:
    cancel: threading.Event
    process: Any = None


def _context() -> Any:
    """Forkserver where there is one: a new run's process is forked from a small, single-
    threaded server that has the simulator imported, so it starts fast and safely."""
    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["scalesim_patterns.web.worker", "scalesim_patterns.sim"])
        return ctx
    return mp.get_context("spawn")


class Runner:
    def __init__(
        self,
        store: Store,
        *,
        workers: int,
        queue_size: int,
        notify: Callable[[int], None] = lambda run_id: None,
    ) -> None:
        self.store = store
        self.workers = workers
        self.queue_size = queue_size
        self.notify = notify
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._lock = threading.Lock()
        self._waiting = 0
        self._running = 0
        self._active: dict[int, _Active] = {}
        self._threads: list[threading.Thread] = []
        self._ctx = _context()
        self._stopping = False

    # ---- the server's side -----------------------------------------------------------------

    def start(self) -> None:
        threading.Thread(target=self._warm_up, name="scalesim-warm-up", daemon=True).start()
        for i in range(self.workers):
            t = threading.Thread(target=self._work, name=f"scalesim-run-{i}", daemon=True)
            t.start()
            self._threads.append(t)

    def _warm_up(self) -> None:
        """Start the fork server (it imports the simulator) before the first run needs it."""
        try:
            process = self._ctx.Process(target=_noop, name="scalesim-warm-up")
            process.start()
            process.join(timeout=60)
        except Exception:
            log.debug("warm-up failed", exc_info=True)

    def counts(self) -> tuple[int, int]:
        """(waiting, running)."""
        with self._lock:
            return self._waiting, self._running

    def reserve(self) -> None:
        """Claim a queue place before the run is stored; QueueFull when there is none."""
        with self._lock:
            if self._waiting >= self.queue_size:
                raise QueueFull(self._waiting, self.queue_size)
            self._waiting += 1

    def release(self) -> None:
        """Give back a place reserved for a run that was not stored after all."""
        with self._lock:
            self._waiting -= 1

    def submit(self, job: Job) -> None:
        """Queue a stored run whose place was reserved."""
        with self._lock:
            self._active[job.run_id] = _Active(threading.Event())
        self._emit(job.run_id, [("state", {"state": "queued"})])
        self._queue.put(job)

    def cancel(self, run_id: int) -> None:
        """Cancel a queued run at once, a running one within a second (its thread writes it)."""
        with self._lock:
            active = self._active.get(run_id)
            if active is not None:
                active.cancel.set()
                running = active.process is not None
            else:
                running = False
        if not running:
            self._emit(run_id, [("state", {"state": "cancelled"})], state="cancelled")

    def stop(self) -> None:
        """On shutdown: stop taking runs, kill the running ones; the store marks them
        interrupted (the queued ones too) so nothing stays `running`."""
        self._stopping = True
        with self._lock:
            actives = list(self._active.values())
        for active in actives:
            active.cancel.set()
        for _ in self._threads:
            self._queue.put(None)
        for t in self._threads:
            t.join(timeout=5)
        self.store.mark_interrupted()

    # ---- the worker threads ----------------------------------------------------------------

    def _emit(self, run_id: int, events: list[tuple[str, dict[str, Any]]], **kw: Any) -> None:
        try:
            self.store.append_events(run_id, events, **kw)
        except Exception:
            log.exception("run %s: cannot store its events", run_id)
        self.notify(run_id)

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            with self._lock:
                self._waiting -= 1
                active = self._active.get(job.run_id)
            try:
                if active is None or active.cancel.is_set() or self._stopping:
                    continue
                with self._lock:
                    self._running += 1
                try:
                    self._supervise(job, active)
                finally:
                    with self._lock:
                        self._running -= 1
            except Exception:
                log.exception("run %s: supervision failed", job.run_id)
                self._emit(
                    job.run_id,
                    [
                        (
                            "state",
                            {"state": "failed", "error": "internal error", "interrupted": False},
                        )
                    ],
                    state="failed",
                    error="internal error",
                )
            finally:
                with self._lock:
                    self._active.pop(job.run_id, None)

    def _supervise(self, job: Job, active: _Active) -> None:
        run_id = job.run_id
        job = replace(job, server=os.getpid())
        if self.store.run(run_id).state != "queued":
            return
        out = self._ctx.Queue()
        process = self._ctx.Process(target=run_job, args=(job, out), name=f"scalesim-run-{run_id}")
        with self._lock:
            if active.cancel.is_set():
                return
            process.start()
            active.process = process
        self._emit(run_id, [("state", {"state": "running"})], state="running")
        outcome: tuple[str, dict[str, Any]] | None = None
        while outcome is None:
            if active.cancel.is_set():
                _kill(process)
                if self._stopping:
                    return  # stop() marks it interrupted
                self._emit(run_id, [("state", {"state": "cancelled"})], state="cancelled")
                return
            try:
                kind, payload = out.get(timeout=POLL)
            except queue.Empty:
                if not process.is_alive():
                    try:  # it may have reported just before it ended
                        kind, payload = out.get(timeout=POLL)
                    except queue.Empty:
                        code = process.exitcode
                        outcome = (
                            "error",
                            {"error": f"the simulation process ended unexpectedly (exit {code})"},
                        )
                        break
                else:
                    continue
            # Store what has piled up in one transaction: windows close faster than a store
            # write per event would keep up with on a busy machine.
            batch: list[tuple[str, dict[str, Any]]] = []
            latest: dict[str, Any] | None = None
            while True:
                if kind in LIVE:
                    batch.append((kind, payload))
                    if kind == "progress":
                        latest = payload
                else:
                    outcome = (kind, payload)
                    break
                if len(batch) >= BATCH:
                    break
                try:
                    kind, payload = out.get_nowait()
                except queue.Empty:
                    break
            if batch:
                extra = {"progress": latest} if latest is not None else {}
                self._emit(run_id, batch, **extra)
        process.join(timeout=5)
        if process.is_alive():
            _kill(process)
        kind, payload = outcome
        if kind == "finished":
            result_url = f"/api/runs/{run_id}/result"
            self._emit(
                run_id,
                [*payload["events"], ("state", {"state": "done", "result_url": result_url})],
                state="done",
                result=payload["result"],
            )
        else:
            message = payload["error"]
            self._emit(
                run_id,
                [("state", {"state": "failed", "error": message, "interrupted": False})],
                state="failed",
                error=message,
            )


def _noop() -> None:
    pass


def _kill(process: Any) -> None:
    """The process and everything it started (it leads its own process group)."""
    pid = process.pid
    if pid is not None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError, AttributeError, ValueError):
        process.kill()
    process.join(timeout=2)
