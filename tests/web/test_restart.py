"""Kill the server (SIGKILL) during runs: on restart the store is intact, the runs that were
running or queued are failed and marked interrupted, their streams end, and the simulation
processes the dead server left behind have stopped by themselves."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx

from .conftest import read_events
from .server import serving


def _wait_state(c: httpx.Client, run_id: int, state: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while c.get(f"/api/runs/{run_id}").json()["state"] != state:
        assert time.monotonic() < deadline, f"run {run_id} never became {state}"
        time.sleep(0.05)


def _run_processes() -> set[int]:
    """Pids of processes whose command line names a run of this module (forkserver children
    carry the forkserver's command line, so look for the process title set by multiprocessing
    through the run's name in /proc/<pid>/comm is not possible; use the session leader flag)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        pid, sid = int(entry.name), int(fields[3])
        if pid == sid and b"SCALESIM_RESTART_TEST=1" in environ:
            found.add(pid)
    return found


def test_sigkill_during_runs_marks_them_interrupted(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SCALESIM_RESTART_TEST", "1")  # inherited by the server's run processes
    db = f"sqlite:///{tmp_path / 'store.db'}"
    log = tmp_path / "server.log"
    with serving(db, log, "--workers", "1") as (base, proc):
        with httpx.Client(base_url=base, timeout=30) as c:
            arch = c.post(
                "/api/architectures", json={"name": "shop", "template": "ecommerce"}
            ).json()
            done = c.post(
                "/api/runs", json={"architecture_id": arch["id"], "duration": "3s"}
            ).json()
            _wait_state(c, done["id"], "done")
            running = c.post(
                "/api/runs", json={"architecture_id": arch["id"], "duration": "2h"}
            ).json()
            queued = c.post(
                "/api/runs", json={"architecture_id": arch["id"], "duration": "2h"}
            ).json()
            _wait_state(c, running["id"], "running")
            deadline = time.monotonic() + 30
            while not c.get(f"/api/runs/{running['id']}").json()["progress"]:
                assert time.monotonic() < deadline
                time.sleep(0.05)
            before = c.get(f"/api/runs/{done['id']}/result").text
            leaders = _run_processes()
            assert leaders, "the running simulation's process was not found"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

    # the orphaned simulation process notices and stops by itself
    deadline = time.monotonic() + 30
    while _run_processes() & leaders:
        assert time.monotonic() < deadline, "the dead server's run process kept running"
        time.sleep(0.2)

    with (
        serving(db, log, "--workers", "1") as (base, _),
        httpx.Client(base_url=base, timeout=30) as c,
    ):
        runs = {r["id"]: r for r in c.get("/api/runs").json()}
        assert set(runs) == {done["id"], running["id"], queued["id"]}
        assert runs[done["id"]]["state"] == "done" and not runs[done["id"]]["interrupted"]
        assert c.get(f"/api/runs/{done['id']}/result").text == before
        for run_id, was in ((running["id"], "running"), (queued["id"], "queued")):
            run = runs[run_id]
            assert run["state"] == "failed" and run["interrupted"] is True
            assert f"while this run was {was}" in run["error"]
            with c.stream("GET", f"/api/runs/{run_id}/events") as s:
                events = read_events(s.iter_lines())
            assert [e[0] for e in events] == list(range(1, len(events) + 1))
            assert events[-1][1:] == (
                "state",
                {"state": "failed", "error": run["error"], "interrupted": True},
            )
        archs = c.get("/api/architectures").json()
        assert [(a["name"], a["version"]) for a in archs] == [("shop", 1)]
        # the restarted server runs new work normally
        again = c.post("/api/runs", json={"architecture_id": arch["id"], "duration": "3s"}).json()
        _wait_state(c, again["id"], "done")
