"""Real Dask processes: a worker killed mid-sweep, and a scheduler with two worker processes on
loopback started here the way a user starts a cluster (dask scheduler / dask worker)."""

from __future__ import annotations

import logging
import os
import signal
from pathlib import Path
from typing import Any

import pytest

from scalesim_patterns.sweep import make_plan, parse_vary, run_sweep
from scalesim_patterns.sweep.cluster import ENV_SCHEDULER

from .conftest import SMALL

# runs long enough (about 0.1-0.3 s each) that a worker dies with tasks in hand
SLOWER = SMALL.replace("duration: 20s", "duration: 80s")
PLAN = make_plan(
    [parse_vary("services.s.workers=1,2,3"), parse_vary("traffic.load.arrival.rate=60/s..120/s:2")]
)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory, threads_client: Any) -> Path:
    folder = tmp_path_factory.mktemp("reference")
    run_sweep(SLOWER, "small.yaml", PLAN, folder, client=threads_client)
    return folder


def test_worker_killed_mid_sweep_loses_and_duplicates_nothing(
    tmp_path: Path, reference: Path
) -> None:
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
        pids: dict[str, int] = client.run(os.getpid)
        killed: list[int] = []

        def kill_one(done: int, total: int) -> None:
            if done >= 1 and not killed:
                victim = sorted(pids.values())[0]
                os.kill(victim, signal.SIGKILL)
                killed.append(victim)

        result = run_sweep(SLOWER, "small.yaml", PLAN, tmp_path, client=client, progress=kill_one)
    assert killed, "no worker was killed: the test did not test anything"
    keys = [(r["point"], r["replication"]) for r in result.rows]
    assert len(keys) == len(set(keys)) == len(PLAN.points)
    journal = (tmp_path / "sweep.jsonl").read_text().splitlines()
    assert len(journal) == 1 + len(PLAN.points)  # each result recorded once
    # and the results are those of an undisturbed run, byte for byte
    assert (tmp_path / "results.csv").read_bytes() == (reference / "results.csv").read_bytes()


def test_sweep_on_a_scheduler_with_two_worker_processes(
    tmp_path: Path, reference: Path, loopback_cluster: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from distributed import Client

    assert loopback_cluster.startswith("tcp://127.0.0.1:")
    monkeypatch.setenv(ENV_SCHEDULER, loopback_cluster)  # found through the environment
    result = run_sweep(SLOWER, "small.yaml", PLAN, tmp_path)
    assert len(result.rows) == len(PLAN.points)
    assert (tmp_path / "results.csv").read_bytes() == (reference / "results.csv").read_bytes()
    with Client(loopback_cluster) as client:
        executed: dict[str, int] = client.run(
            lambda dask_worker: len(dask_worker.data) + dask_worker.state.transition_counter
        )
        pids = set(client.run(os.getpid).values())
    assert len(executed) == 2 and len(pids) == 2 and os.getpid() not in pids
    assert all(n > 0 for n in executed.values()), f"a worker ran nothing: {executed}"
