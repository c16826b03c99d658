"""Capacity search and the knee on a two-service chain whose limits follow from closed forms.

front (4 workers/replica, 10 ms) calls back (2 workers/replica, 20 ms) at 100/s. At 2× load
back carries 200/s × 20 ms = 4 erlangs: 2 replicas (4 workers) are exactly saturated, so at
least 3 are needed whatever the simulation says; with 1 replica (2 workers) back saturates at
2 / 0.02 s = 100/s, i.e. at 1× the file's load, so the knee lies below 1×.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from scalesim_patterns.cli import capacity_cmds  # noqa: F401
from scalesim_patterns.cli.main import cli
from scalesim_patterns.sweep.capacity import (
    CapacityError,
    Cluster,
    _Search,
    capacity,
    knee,
    parse_load,
)

FILE = Path(__file__).with_name("capacity.yaml")
TEXT = FILE.read_text()


@pytest.fixture
def fast(threads_client: Any) -> dict[str, Any]:
    """Short runs, on the in-process Dask cluster (no worker processes to start)."""
    return {
        "replications": 2,
        "duration": 20.0,
        "warmup": 2.0,
        "cluster": Cluster(client=threads_client),
    }


def test_cheapest_assignment_meets_the_slo_with_the_steps_shown(fast: dict[str, Any]) -> None:
    lines: list[str] = []
    result = capacity(TEXT, ["services.*.replicas"], 2.0, log=lines.append, **fast)
    assert result.met
    assert result.assignment["back"] == 3  # 4 erlangs need more than 4 workers
    assert result.cost_cpu == pytest.approx(
        result.assignment["front"] * 0.5 + result.assignment["back"] * 0.25
    )
    assert any(line.startswith("estimate:") for line in lines)
    assert any("pruned, the estimate saturates back" in line for line in lines)
    assert lines == result.steps


def test_knee_lies_below_the_saturation_of_back(fast: dict[str, Any]) -> None:
    result = knee(TEXT, tolerance=0.1, **fast)
    assert 0.0 < result.load < result.broken
    assert result.load < 1.0  # back saturates at 1x
    assert result.broken <= 1.0 * 1.1


def test_bad_inputs(fast: dict[str, Any]) -> None:
    assert parse_load("2x") == 2.0 and parse_load("150%") == 1.5
    with pytest.raises(CapacityError, match="multiplier"):
        parse_load("lots")
    with pytest.raises(CapacityError, match="no service matches"):
        capacity(TEXT, ["services.nope.replicas"], 1.0, **fast)
    with pytest.raises(CapacityError, match="varies replicas"):
        capacity(TEXT, ["services.front.workers"], 1.0, **fast)
    no_slos = TEXT.split("  slos:")[0] + "  simulation: {duration: 40s, warmup: 4s, seed: 5}\n"
    with pytest.raises(CapacityError, match=r"no spec\.slos"):
        capacity(no_slos, ["services.*.replicas"], 1.0, **fast)


def test_jobs_is_the_older_name_of_workers() -> None:
    assert _Search(TEXT, {"jobs": 3}).cluster == Cluster(workers=3)
    assert _Search(TEXT, {}).cluster == Cluster()  # a LocalCluster, one worker per core


def test_cli_exit_codes() -> None:
    r = CliRunner().invoke(cli, ["capacity", str(FILE), "--vary", "services.x.replicas"])
    assert r.exit_code == 2 and "no service matches" in r.output
    r = CliRunner().invoke(cli, ["capacity", str(FILE)])
    assert r.exit_code == 2 and "--vary" in r.output
