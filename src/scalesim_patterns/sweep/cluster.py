"""Where the replications run: an embedded Dask cluster, or one the user already has.

By default a `distributed.LocalCluster` with one single-threaded worker process per core (the
simulator is pure Python: threads would share one interpreter lock). `--scheduler
tcp://HOST:8786` or `SCALESIM_DASK_SCHEDULER` connects to an existing cluster instead
(dask-scheduler and dask-worker by hand, or the Dask Kubernetes operator; docs/sweeps.md).
Tasks are submitted all at once and their results taken as they finish (`as_completed`), so
the table and the bar grow while the cluster works. `stream` does this for any task function:
a sweep's points (`run_tasks`) and a capacity search's replications (capacity.py). When a worker dies, the scheduler gives
its unfinished tasks to the others (Dask's own recovery); results already received are kept,
and a task that comes back twice is recorded once.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from .tasks import Task, run_task

__all__ = ["ENV_SCHEDULER", "TaskFailed", "connect", "run_tasks", "stream"]

T = TypeVar("T")
R = TypeVar("R")


class TaskFailed(RuntimeError):
    """A task raised in its worker (not a lost worker: Dask retries those by itself)."""


ENV_SCHEDULER = "SCALESIM_DASK_SCHEDULER"


@contextmanager
def connect(scheduler: str | None = None, workers: int | None = None) -> Iterator[Any]:
    """A `distributed.Client`: to `scheduler` (or $SCALESIM_DASK_SCHEDULER) when given, else
    to a LocalCluster of `workers` processes (default one per core), closed afterwards."""
    from distributed import Client, LocalCluster

    address = scheduler or os.environ.get(ENV_SCHEDULER) or None
    if address:
        client = Client(address, timeout="10s")
        try:
            yield client
        finally:
            client.close()
        return
    cluster = LocalCluster(
        n_workers=workers or os.cpu_count() or 1,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        worker_dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def stream(
    client: Any,
    fn: Callable[[T], R],
    tasks: Sequence[T],
    key: Callable[[T], str],
    on_result: Callable[[T, R], None],
    describe: Callable[[T], str],
) -> None:
    """Submit `fn(task)` for every task under the Dask key `key(task)` and hand each result to
    `on_result` as it arrives (any order); a task that raises stops the rest with TaskFailed,
    whose message starts with `describe(task)`."""
    from distributed import as_completed

    if not tasks:
        return
    futures = {client.submit(fn, t, key=key(t), pure=False): t for t in tasks}
    try:
        for future in as_completed(list(futures)):
            t = futures[future]
            try:
                result = future.result()
            except Exception as exc:  # a task that fails in the worker: say which
                raise TaskFailed(f"{describe(t)}: {exc}") from exc
            on_result(t, result)
    finally:
        for f in futures:
            f.release()


def run_tasks(
    client: Any, tasks: Sequence[Task], on_row: Callable[[dict[str, Any]], None], sweep_id: str
) -> None:
    """Submit every task of a sweep and hand each row to `on_row` as it arrives (any order)."""
    stream(
        client,
        run_task,
        tasks,
        lambda t: f"scalesim-{sweep_id}-{t.key}",
        lambda _t, row: on_row(row),
        lambda t: f"point {t.point} replication {t.replication}",
    )
