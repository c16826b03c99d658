"""`scalesim calibrate` for real: a two-service design, a latency fault made real and simulated.

Runs the generated services against this machine's PostgreSQL (failing under CI when it is not
there, as the smoke test does). The figures checked are the fault's own: 40 % of the measured
requests wait 2 s more (long beside any cost this machine adds, even loaded), so the p99 of both
the real and the simulated run is above 2 s and the p50 of both below it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from scalesim_patterns.generate import generate, write_tree
from scalesim_patterns.generate.code.local import (
    LocalSystem,
    Servers,
    ServerUnreachable,
    missing_requirements,
)
from scalesim_patterns.model import loads
from scalesim_patterns.sim.core.histogram import ALPHA

CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

DESIGN = """
apiVersion: scalesim.dev/v1alpha1
kind: Architecture
metadata: {name: cal}
spec:
  services:
    front:
      concurrency: async
      workers: 32
      endpoints:
        go: {work: 1ms, steps: [{call: back.get, timeout: 5s}]}
    back:
      workers: 128
      endpoints:
        get: {work: 2ms, steps: [{query: db}]}
  databases:
    db: {engine: postgresql, owner: back}
  traffic:
    t: {arrival: {process: poisson, rate: 25/s}, mix: [{endpoint: front.go}]}
  scenarios:
    slow-back:
      faults: [{type: latency, target: back.get, add: 2s, at: 6s, duration: 4s}]
    db-down:
      faults: [{type: outage, target: db, at: 6s}]
"""


def _servers_or_skip() -> None:
    if missing_requirements():
        pytest.fail(f"the services' requirements are not installed: {missing_requirements()}")
    if not Servers().reachable("postgresql"):
        if CI:
            pytest.fail("CI needs the machine's PostgreSQL on 127.0.0.1:5432")
        pytest.skip("no PostgreSQL on 127.0.0.1:5432")


def _scalesim(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scalesim_patterns.cli", *args],
        capture_output=True,
        text=True,
        timeout=240,
    )


def test_a_latency_fault_made_real_and_simulated(tmp_path: Path) -> None:
    _servers_or_skip()
    design = tmp_path / "cal.yaml"
    design.write_text(DESIGN, "utf-8")
    report_path = tmp_path / "report.json"
    run = _scalesim(
        "calibrate", str(design), "--scenario", "slow-back", "--duration", "12s",
        "--warmup", "2s", "--replications", "2",
        "--json", str(report_path),
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    calibrated = loads((tmp_path / "cal.calibrated.yaml").read_text("utf-8"))
    assert calibrated.spec.network.entry_latency is not None
    assert calibrated.spec.network.hop_latency is not None
    assert calibrated.spec.databases["db"].latency.read is not None
    report = json.loads(report_path.read_text("utf-8"))
    kinds = [(kind, service) for _, kind, service in report["faults"]]
    assert kinds == [("set", "back"), ("clear", "back")]
    times = [t for t, _, _ in report["faults"]]
    assert times[0] == pytest.approx(6.0, abs=1.0) and times[1] == pytest.approx(10.0, abs=1.0)
    rows = {(r["entry"], r["figure"]): r for r in report["comparison"]["entries"]}
    # A 2 s slow-down on `back` for 4 of the 10 s measured: p99 is above 2 s. The simulator
    # reports a quantile within ALPHA of its sample's own (its log buckets, core/histogram.py),
    # so a simulated p99 of 2.01 s may read 1.994 s (seen once in CI's suite).
    floor = {"real": 2.0, "simulated": 2.0 * (1 - ALPHA)}
    for side in ("real", "simulated"):
        assert rows[("front.go", "p99")][side] >= floor[side], (side, rows[("front.go", "p99")])
        assert rows[("front.go", "p50")][side] < 2.0, (side, rows[("front.go", "p50")])
    # the load client offered 25/s over the 10 s measured: within 4 Poisson sd of 250
    count = rows[("front.go", "throughput")]["real"] * 10
    assert abs(count - 250) <= 4 * 250**0.5
    assert "real vs simulated" in run.stdout
    # both processes ran and used some CPU, never more than the machine's cores
    assert set(report["cpu"]) == {"front", "back"}
    assert all(0 < share <= (os.cpu_count() or 1) for share in report["cpu"].values())


def test_what_cannot_be_made_real_is_refused_before_anything_runs(tmp_path: Path) -> None:
    _servers_or_skip()
    design = tmp_path / "cal.yaml"
    design.write_text(DESIGN, "utf-8")
    run = _scalesim("calibrate", str(design), "--scenario", "db-down")
    assert run.returncode == 2
    assert "scenarios.db-down.faults[0]" in run.stderr and "only faults on services" in run.stderr
    assert "Traceback" not in run.stderr
    (tmp_path / "cal.calibrated.yaml").write_text("mine", "utf-8")
    run = _scalesim("calibrate", str(design))
    assert run.returncode == 2 and "--force" in run.stderr
    assert (tmp_path / "cal.calibrated.yaml").read_text("utf-8") == "mine"


def test_the_fault_hook_needs_the_runs_token_and_is_absent_without_one(tmp_path: Path) -> None:
    _servers_or_skip()
    arch = loads(DESIGN)
    files = {k: v for k, v in generate(arch).items() if k.startswith("services/")}
    write_tree(files, tmp_path / "tree")
    for token in ("s3cret", ""):
        try:
            system = LocalSystem(
                arch, tmp_path / "tree", Servers(), work="sleep", fault_token=token
            )
        except ServerUnreachable as exc:
            pytest.fail(str(exc))
        with system.running():
            url = system.services["back"].url + "/_scalesim/faults"
            request = urllib.request.Request(
                url, data=b'{"faults": {}}', method="PUT",
                headers={"content-type": "application/json", "x-scalesim-token": "guess"},
            )  # fmt: skip
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(request, timeout=5)
            assert refused.value.code == (403 if token else 404)
