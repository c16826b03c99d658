"""`simulate(..., on_window=fn)`: each window reaches the caller as it closes, in order, with
the figures the finished series has, and the result is the same with or without the hook."""

from __future__ import annotations

from scalesim_patterns.sim import Window, simulate
from scalesim_patterns.sim.reports.live import window_of

from ...conftest import TEMPLATES

PATH = TEMPLATES / "ecommerce.yaml"
SETTINGS = {"duration": 12, "warmup": 2, "window": 1.0, "scenario": "payment-outage"}


def _check(seen: list[Window], replications: int, result_json: str) -> None:
    plain = simulate(PATH, replications=replications, jobs=1, **SETTINGS)  # type: ignore[arg-type]
    assert result_json == plain.to_json(), "the hook changes nothing in the result"
    for run in plain.runs:
        mine = [w for w in seen if w.replication == run.replication]
        assert [w.index for w in mine] == list(range(len(run.series.time))), "in order, none lost"
        assert mine == [window_of(run.series, run.replication, i) for i in range(len(mine))]
    assert len(seen) == sum(len(r.series.time) for r in plain.runs)


def test_windows_arrive_while_the_run_runs_in_this_process() -> None:
    seen: list[Window] = []
    progress_at: list[int] = []  # windows seen when each progress report came

    result = simulate(
        PATH,
        replications=2,
        jobs=1,
        on_window=seen.append,
        progress=lambda p: progress_at.append(len(seen)),
        **SETTINGS,  # type: ignore[arg-type]
    )
    _check(seen, 2, result.to_json())
    # live: some progress reports came after a few windows and before the last one
    assert any(0 < n < len(seen) for n in progress_at)
    assert seen[0].time == 0.0 and seen[0].window == 1.0
    assert "order" in seen[0].services and seen[0].entries


def test_windows_from_worker_processes_reach_the_caller() -> None:
    seen: list[Window] = []
    result = simulate(PATH, replications=3, jobs=2, on_window=seen.append, **SETTINGS)  # type: ignore[arg-type]
    _check(seen, 3, result.to_json())
