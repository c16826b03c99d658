"""The capacity search and the knee on Dask: the same steps on one worker and on two worker
processes (a scheduler started here on loopback), after Ctrl-C and --resume, and with a worker
killed mid-search — no candidate lost, none simulated or journaled twice.

The knee of tests/sweep/capacity.yaml takes six candidates (test_capacity.py says why it lies
below 1×); every figure compared here comes from an undisturbed run on a single worker thread.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from scalesim_patterns.cli import capacity_cmds  # noqa: F401
from scalesim_patterns.cli.main import cli
from scalesim_patterns.files import OutputExistsError
from scalesim_patterns.sweep import JournalError
from scalesim_patterns.sweep.candidates import Candidates, SearchProgress
from scalesim_patterns.sweep.capacity import Cluster, KneeResult, Saved, knee, search_id
from scalesim_patterns.sweep.cluster import ENV_SCHEDULER

from .conftest import assert_both_workers_ran

FILE = Path(__file__).with_name("capacity.yaml")
TEXT = FILE.read_text()
# 40 s of simulated time: runs long enough (0.1-0.3 s) that a worker dies with one in hand
RUN: dict[str, Any] = {"replications": 2, "duration": 40.0, "warmup": 2.0}
TOLERANCE = 0.05


@pytest.fixture(scope="module")
def one_worker() -> Iterator[Any]:
    """One worker with one thread, reachable over TCP (so the CLI can be pointed at it)."""
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=1,
            threads_per_worker=1,
            processes=False,
            protocol="tcp://",
            host="127.0.0.1",
            dashboard_address=None,
            worker_dashboard_address=None,
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


@pytest.fixture(scope="module")
def reference(one_worker: Any) -> KneeResult:
    return knee(TEXT, tolerance=TOLERANCE, cluster=Cluster(client=one_worker), **RUN)


def journal_keys(path: Path) -> list[str]:
    lines = path.read_text().splitlines()
    assert json.loads(lines[0]) == {"search": search_id(TEXT, scenario=None, seed=None, **RUN)}
    return [json.loads(line)["candidate"] for line in lines[1:]]


def same(a: KneeResult, b: KneeResult) -> None:
    assert (a.load, a.broken, a.simulations, a.steps) == (b.load, b.broken, b.simulations, b.steps)


def test_reference_is_a_search_worth_testing(reference: KneeResult) -> None:
    assert reference.simulations >= 5  # the bracket and several bisection steps
    assert 0.0 < reference.load < reference.broken <= 1.0  # back saturates at 1x
    assert (reference.broken - reference.load) <= TOLERANCE * reference.load
    assert reference.resumed == 0


def test_interrupted_search_resumes_to_the_same_steps(
    tmp_path: Path, one_worker: Any, reference: KneeResult
) -> None:
    path = tmp_path / "search.jsonl"
    seen: list[SearchProgress] = []

    def stop_in_the_third(p: SearchProgress) -> None:
        seen.append(p)
        if p.candidate == 3 and p.done == 1:
            raise KeyboardInterrupt

    cluster = Cluster(client=one_worker)
    with pytest.raises(KeyboardInterrupt):
        knee(TEXT, tolerance=TOLERANCE, cluster=cluster, saved=Saved(path), progress=stop_in_the_third, **RUN)  # fmt: skip
    assert len(journal_keys(path)) == 2  # two decided; the third's one run is not a verdict
    assert [(p.candidate, p.done) for p in seen[:3]] == [(1, 0), (1, 1), (1, 2)]
    with pytest.raises(JournalError, match="another search"):
        knee(TEXT, tolerance=TOLERANCE, cluster=cluster, saved=Saved(path, resume=True), **{**RUN, "seed": 8})  # fmt: skip
    with pytest.raises(OutputExistsError):
        knee(TEXT, tolerance=TOLERANCE, cluster=cluster, saved=Saved(path), **RUN)
    again = knee(TEXT, tolerance=TOLERANCE, cluster=cluster, saved=Saved(path, resume=True), **RUN)  # fmt: skip
    same(again, reference)
    assert again.resumed == 2
    keys = journal_keys(path)
    assert len(keys) == len(set(keys)) == reference.simulations


def test_cli_ctrl_c_then_resume_prints_the_same(
    tmp_path: Path, one_worker: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_SCHEDULER, one_worker.scheduler.address)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # the default journal's home
    args = ["capacity", str(FILE), "--knee", "--replications", "2", "--duration", "40s",
            "--warmup", "2s", "--no-progress"]  # fmt: skip
    whole = CliRunner().invoke(cli, [*args, "--journal", str(tmp_path / "whole.jsonl")])
    assert whole.exit_code == 0, whole.output
    real = Candidates._simulate
    calls = [0]

    def interrupt_third(self: Candidates, *a: Any) -> Any:
        calls[0] += 1
        if calls[0] == 3:
            raise KeyboardInterrupt
        return real(self, *a)

    monkeypatch.setattr(Candidates, "_simulate", interrupt_third)
    cut = CliRunner().invoke(cli, args)
    assert cut.exit_code == 130, cut.output
    saved = tmp_path / "cache" / "scalesim-patterns" / "capacity"
    [journal] = saved.iterdir()
    assert f"saved in {journal}" in cut.stderr and "--resume" in cut.stderr
    monkeypatch.setattr(Candidates, "_simulate", real)
    resumed = CliRunner().invoke(cli, [*args, "--resume"])
    assert resumed.exit_code == 0, resumed.output
    assert resumed.stdout == whole.stdout  # byte for byte
    assert "resumed: 2 candidates taken from the journal" in resumed.stderr
    assert resumed.stderr.replace("resumed: 2 candidates taken from the journal\n", "") == (
        whole.stderr
    )


def test_two_worker_processes_on_loopback_give_the_same_search(
    reference: KneeResult, loopback_cluster: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_SCHEDULER, loopback_cluster)  # found through the environment
    result = knee(TEXT, tolerance=TOLERANCE, **RUN)
    same(result, reference)
    assert_both_workers_ran(loopback_cluster)


def test_worker_killed_mid_search_loses_and_repeats_nothing(
    tmp_path: Path, reference: KneeResult, two_processes: Any
) -> None:
    client = two_processes
    path = tmp_path / "search.jsonl"
    killed: list[int] = []
    watchers: list[threading.Thread] = []

    def kill_when_one_holds_a_replication() -> None:
        # Polled, not timed: the replications are submitted just after the progress call, and
        # the compiled engine finishes one in tens of milliseconds.
        deadline = time.monotonic() + 30
        while not killed and time.monotonic() < deadline:
            busy = [w for w, keys in client.processing().items() if keys]
            if busy:
                pid = client.run(os.getpid, workers=busy[:1])[busy[0]]
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            time.sleep(0.002)

    def kill_a_busy_worker(p: SearchProgress) -> None:
        if watchers or p.candidate < 2 or p.done != 0:
            return
        watchers.append(threading.Thread(target=kill_when_one_holds_a_replication, daemon=True))
        watchers[0].start()

    result = knee(TEXT, tolerance=TOLERANCE, cluster=Cluster(client=client), saved=Saved(path), progress=kill_a_busy_worker, **RUN)  # fmt: skip
    for watcher in watchers:
        watcher.join()
    assert killed, "no worker was busy when one could be killed: the test tested nothing"
    same(result, reference)
    keys = journal_keys(path)
    assert len(keys) == len(set(keys)) == reference.simulations


def test_progress_off_a_terminal_is_lines_naming_the_candidate(
    one_worker: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from scalesim_patterns.cli import runs_progress

    monkeypatch.setattr(runs_progress, "PROGRESS_LINE_SECONDS", 0.0)  # every update a line
    monkeypatch.setenv(ENV_SCHEDULER, one_worker.scheduler.address)
    args = ["capacity", str(FILE), "--load", "2x", "--vary", "services.*.replicas",
            "--replications", "2", "--duration", "20s", "--warmup", "2s",
            "--journal", str(tmp_path / "j.jsonl")]  # fmt: skip
    shown = CliRunner().invoke(cli, args)
    assert shown.exit_code == 0, shown.output
    # the estimate's lower bound front=3 back=3 meets the SLO: one candidate, two runs
    lines = [x for x in shown.stderr.splitlines() if x.startswith("capacity: candidate")]
    assert lines == [f"capacity: candidate 1: front=3 back=3 at 2×: {n}/2 runs" for n in (0, 1, 2)]
    quiet = CliRunner().invoke(cli, [*args, "--force", "--no-progress"])
    assert quiet.exit_code == 0 and "capacity: candidate" not in quiet.stderr
    assert quiet.stdout == shown.stdout
