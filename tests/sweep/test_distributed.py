"""Real Dask processes: a worker killed mid-sweep, and a scheduler with two worker processes on
loopback started here the way a user starts a cluster (dask scheduler / dask worker)."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pytest

from scalesim_patterns.sweep import make_plan, parse_vary, run_sweep
from scalesim_patterns.sweep.cluster import ENV_SCHEDULER

from .conftest import SMALL, assert_both_workers_ran

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
    tmp_path: Path, reference: Path, two_processes: Any
) -> None:
    client = two_processes
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
    assert loopback_cluster.startswith("tcp://127.0.0.1:")
    monkeypatch.setenv(ENV_SCHEDULER, loopback_cluster)  # found through the environment
    result = run_sweep(SLOWER, "small.yaml", PLAN, tmp_path)
    assert len(result.rows) == len(PLAN.points)
    assert (tmp_path / "results.csv").read_bytes() == (reference / "results.csv").read_bytes()
    assert_both_workers_ran(loopback_cluster)
