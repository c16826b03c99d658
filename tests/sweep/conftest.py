"""A small architecture and Dask clusters for the sweep tests."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

SMALL = """\
apiVersion: scalesim.dev/v1alpha1
kind: Architecture
metadata: {name: small}
spec:
  services:
    s:
      replicas: 1
      workers: 2
      endpoints:
        e: {work: {type: exponential, mean: 10ms}}
  traffic:
    load:
      arrival: {process: poisson, rate: 100/s}
      mix: [{endpoint: s.e}]
  network: {hopLatency: 0s}
  simulation: {duration: 20s, warmup: 2s, seed: 7}
"""


@pytest.fixture(scope="module")
def threads_client() -> Iterator[Any]:
    """An in-process cluster: the scheduling is Dask's own, without process start-up."""
    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=1,
        threads_per_worker=2,
        processes=False,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    client = Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.fixture
def two_processes() -> Iterator[Any]:
    """A client of a LocalCluster with two worker processes (one may be killed by the test)."""
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            worker_dashboard_address=None,
            silence_logs=logging.CRITICAL,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


@pytest.fixture
def loopback_cluster(tmp_path: Path) -> Iterator[str]:
    """`dask scheduler` and `dask worker --nworkers 2` as separate processes on 127.0.0.1."""
    bin_dir = Path(sys.executable).parent
    info = tmp_path / "scheduler.json"
    env = {**os.environ, "DASK_LOGGING__DISTRIBUTED": "error"}
    scheduler = subprocess.Popen(
        [str(bin_dir / "dask"), "scheduler", "--host", "127.0.0.1", "--port", "0",
         "--no-dashboard", "--scheduler-file", str(info)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    worker: subprocess.Popen[bytes] | None = None
    try:
        deadline = time.monotonic() + 30
        while not info.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert info.exists(), "the scheduler did not start"
        worker = subprocess.Popen(
            [str(bin_dir / "dask"), "worker", "--scheduler-file", str(info), "--nworkers", "2",
             "--nthreads", "1", "--host", "127.0.0.1", "--no-dashboard"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        from distributed import Client

        with Client(scheduler_file=str(info), timeout="20s") as client:
            client.wait_for_workers(2, timeout=30)
            address = client.scheduler.address
        yield address
    finally:
        for proc in (worker, scheduler):
            if proc is not None:
                proc.terminate()
        for proc in (worker, scheduler):
            if proc is not None:
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()


def assert_both_workers_ran(address: str) -> None:
    """The loopback cluster's two workers are processes of their own and each ran tasks."""
    from distributed import Client

    with Client(address) as client:
        executed: dict[str, int] = client.run(
            lambda dask_worker: len(dask_worker.data) + dask_worker.state.transition_counter
        )
        pids = set(client.run(os.getpid).values())
    assert len(executed) == 2 and len(pids) == 2 and os.getpid() not in pids
    assert all(n > 0 for n in executed.values()), f"a worker ran nothing: {executed}"
