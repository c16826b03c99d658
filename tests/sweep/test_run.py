"""Sweeps on Dask: common random numbers, byte-identical output, resume, overwrite rules."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from scalesim_patterns.files import OutputExistsError
from scalesim_patterns.sweep import JournalError, SweepError, make_plan, parse_vary, run_sweep

from .conftest import SMALL


def _rows(folder: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((folder / "results.csv").read_text())))


def test_common_random_numbers_across_points(tmp_path: Path, threads_client: Any) -> None:
    plan = make_plan([parse_vary("services.s.workers=1,2,3")])
    result = run_sweep(SMALL, "small.yaml", plan, tmp_path, replications=2, client=threads_client)
    rows = _rows(tmp_path)
    assert len(rows) == 6
    by_rep: dict[str, set[str]] = {}
    for row in rows:
        by_rep.setdefault(row["replication"], set()).add(row["arrivals"])
    # same replication: the very same arrivals at every point (only the workers differ) ...
    assert all(len(v) == 1 for v in by_rep.values())
    # ... and replications are independent draws
    assert by_rep["0"] != by_rep["1"]
    # more workers, shorter waits: with common random numbers the order holds run by run
    for rep in ("0", "1"):
        lat = [float(r["latency_mean"]) for r in rows if r["replication"] == rep]
        assert lat[0] > lat[1] > lat[2]
    strongest = result.sensitivity.strongest("latency_mean")
    assert strongest is not None and strongest[0] == "services.s.workers"


def test_interrupted_sweep_resumes_to_the_same_bytes(tmp_path: Path, threads_client: Any) -> None:
    plan = make_plan(
        [
            parse_vary("services.s.workers=1,2"),
            parse_vary("traffic.load.arrival.rate=50/s..150/s:3"),
        ]
    )
    reference = tmp_path / "reference"
    run_sweep(SMALL, "small.yaml", plan, reference, client=threads_client)

    cut = tmp_path / "cut"
    seen = []

    def stop_after_three(done: int, total: int) -> None:
        seen.append(done)
        if done >= 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(SMALL, "small.yaml", plan, cut, client=threads_client, progress=stop_after_three)
    journal = (cut / "sweep.jsonl").read_text().splitlines()
    assert len(journal) == 1 + 3  # header and the three results received
    assert not (cut / "results.csv").exists()

    resumed = run_sweep(SMALL, "small.yaml", plan, cut, client=threads_client, resume=True)
    assert resumed.resumed == 3
    for name in ("results.csv", "results.parquet", "sensitivity.txt", "p99.svg", "heatmap.png"):
        assert (cut / name).read_bytes() == (reference / name).read_bytes(), name


def test_outputs_are_not_overwritten_without_force(tmp_path: Path, threads_client: Any) -> None:
    plan = make_plan([parse_vary("services.s.workers=1,2")])
    run_sweep(SMALL, "small.yaml", plan, tmp_path, client=threads_client)
    before = (tmp_path / "results.csv").read_bytes()
    with pytest.raises(OutputExistsError, match="--force"):
        run_sweep(SMALL, "small.yaml", plan, tmp_path, client=threads_client)
    assert (tmp_path / "results.csv").read_bytes() == before
    run_sweep(SMALL, "small.yaml", plan, tmp_path, client=threads_client, force=True)


def test_resume_refuses_another_sweeps_journal(tmp_path: Path, threads_client: Any) -> None:
    plan = make_plan([parse_vary("services.s.workers=1,2")])
    with pytest.raises(JournalError, match="nothing to resume"):
        run_sweep(SMALL, "small.yaml", plan, tmp_path, client=threads_client, resume=True)
    run_sweep(SMALL, "small.yaml", plan, tmp_path / "a", client=threads_client)
    other = make_plan([parse_vary("services.s.workers=1,3")])
    with pytest.raises(JournalError, match="another sweep"):
        run_sweep(
            SMALL,
            "small.yaml",
            other,
            tmp_path / "a",
            client=threads_client,
            resume=True,
            force=True,
        )


def test_a_bad_point_is_refused_before_anything_runs(tmp_path: Path, threads_client: Any) -> None:
    plan = make_plan([parse_vary("services.s.workers=1,0")])
    with pytest.raises(SweepError, match=r"point 1 \(services.s.workers=0\)"):
        run_sweep(SMALL, "small.yaml", plan, tmp_path, client=threads_client)
    assert not (tmp_path / "sweep.jsonl").exists()
