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


def test_windows_carry_the_shares_of_routes_under_scheduled_changes() -> None:
    """Strangler-fig `cutover` moves /shop 90/10 -> (80 s) 50/50 -> (140 s) catalog alone: each
    live window carries each target's share of /shop, the window's column of the result's
    `changes.routes`, and the result is the same with or without the hook."""
    path = TEMPLATES / "strangler-fig.yaml"
    settings = {"duration": 150, "warmup": 0, "window": 10.0, "scenario": "cutover", "seed": 5}
    seen: list[Window] = []
    result = simulate(path, jobs=1, on_window=seen.append, **settings)  # type: ignore[arg-type]
    plain = simulate(path, jobs=1, **settings)  # type: ignore[arg-type]
    assert result.to_json() == plain.to_json()
    (run,) = plain.runs
    share = run.extras["changes"]["routes"]["/shop"]["share"]
    assert [w.routes["/shop"]["catalog.handle"] for w in seen] == share["catalog.handle"]
    assert seen == [window_of(run.series, 0, i, run.extras["changes"]) for i in range(len(seen))]
    # Independent of the recorder: the window before 80 s is near 10 %, 90-140 s near 50 %,
    # the window from 140 s all catalog (monolith and customer are off the split).
    by_time = {w.time: w.routes["/shop"] for w in seen}
    assert abs((by_time[60.0]["catalog.handle"] or 0) - 0.10) < 0.03
    assert abs((by_time[100.0]["catalog.handle"] or 0) - 0.50) < 0.05
    assert by_time[140.0] == {"monolith.handle": 0.0, "catalog.handle": 1.0, "customer.handle": 0.0}
