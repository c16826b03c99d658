"""A scenario's scheduled changes: route weights, replicas, rollout promote/abort, config.

Each figure is checked against the schedule the test writes down, not against the code: a
route's measured share per window lies in the binomial interval of the scheduled weight.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from scalesim_patterns.model import Architecture
from scalesim_patterns.sim import simulate

from ..models import architecture

Z = 4.0
"""Per-window two-sided z: with ~30 windows checked, a family-wise false alarm < 0.2 %."""


def split(*pairs: tuple[str, int]) -> list[dict[str, Any]]:
    return [{"endpoint": e, "weight": w} for e, w in pairs]


def strangler(changes: list[dict[str, Any]], *, rate: str = "400/s") -> Architecture:
    svc = {
        "replicas": 2,
        "workers": 16,
        "endpoints": {"h": {"work": {"type": "exponential", "mean": "2ms"}}},
    }
    return architecture(
        {"old": svc, "new": svc},
        {
            "load": {
                "arrival": {"process": "poisson", "rate": rate},
                "mix": [{"route": "/shop"}],
            }
        },
        duration="60s",
        window="5s",
        gateway={"routes": [{"path": "/shop", "endpoint": "old.h"}]},
        scenarios={"cutover": {"changes": changes}},
    )


SCHEDULE = [
    {"type": "route-weights", "at": "10s", "route": "/shop",
     "split": split(("old.h", 90), ("new.h", 10))},
    {"type": "route-weights", "at": "30s", "route": "/shop",
     "split": split(("old.h", 50), ("new.h", 50))},
    {"type": "route-weights", "at": "45s", "route": "/shop", "split": split(("new.h", 100))},
]  # fmt: skip


def scheduled_new_share(t0: float, t1: float) -> float:
    """The new service's share over [t0, t1) from SCHEDULE, written out independently."""
    phases = [(0.0, 10.0, 0.0), (10.0, 30.0, 0.1), (30.0, 45.0, 0.5), (45.0, 60.0, 1.0)]
    covered = sum(max(0.0, min(t1, b) - max(t0, a)) * p for a, b, p in phases)
    return covered / (t1 - t0)


def test_route_shares_follow_the_schedule_window_by_window() -> None:
    result = simulate(strangler(SCHEDULE), scenario="cutover", seed=5)
    run = result.runs[0]
    section = run.extras["changes"]
    route = section["routes"]["/shop"]
    assert route["targets"] == ["old.h", "new.h"]
    times = run.series.time
    assert len(times) == 12
    checked = 0
    for i, t0 in enumerate(times):
        p = scheduled_new_share(t0, t0 + 5.0)
        n_new = route["count"]["new.h"][i]
        n = n_new + route["count"]["old.h"][i]
        assert n > 1500  # 400/s × 5 s
        assert route["weight"]["new.h"][i] == pytest.approx(100 * p)
        if p in (0.0, 1.0):
            assert n_new == p * n  # weight 0 sends nothing, weight 100 everything
        else:
            sd = math.sqrt(n * p * (1 - p))
            assert abs(n_new - n * p) <= Z * sd, (t0, n_new, n, p)
        checked += 1
    assert checked == 12
    # The log says what was done and when.
    assert [(e[0], e[2]) for e in section["log"]] == [
        (10.0, "route-weights"),
        (30.0, "route-weights"),
        (45.0, "route-weights"),
    ]


def test_a_change_inside_a_window_counts_for_its_part_of_the_window() -> None:
    changes = [
        {"type": "route-weights", "at": "12.5s", "route": "/shop",
         "split": split(("old.h", 0), ("new.h", 100))},
    ]  # fmt: skip
    run = simulate(strangler(changes), scenario="cutover", seed=2).runs[0]
    route = run.extras["changes"]["routes"]["/shop"]
    i = run.series.time.index(10.0)
    assert route["weight"]["new.h"][i] == pytest.approx(50.0)
    n_new = route["count"]["new.h"][i]
    n = n_new + route["count"]["old.h"][i]
    # Poisson arrivals: each of the window's requests fell after 12.5 s with probability 1/2.
    assert abs(n_new - n / 2) <= Z * math.sqrt(n / 4)


def test_without_changes_the_result_has_no_changes_section() -> None:
    arch = strangler(SCHEDULE)
    run = simulate(arch, seed=5, duration=5.0).runs[0]
    assert "changes" not in run.extras


def test_replicas_change_scales_the_service_at_its_time() -> None:
    svc = {
        "replicas": 2,
        "workers": 4,
        "endpoints": {"e": {"work": {"type": "exponential", "mean": "5ms"}}},
    }
    arch = architecture(
        {"s": svc},
        {
            "load": {
                "arrival": {"process": "poisson", "rate": "100/s"},
                "mix": [{"endpoint": "s.e"}],
            }
        },
        duration="30s",
        scenarios={
            "scale": {
                "changes": [
                    {"type": "replicas", "at": "10s", "service": "s", "replicas": 5},
                    {"type": "replicas", "at": "20s", "service": "s", "replicas": 1},
                ]
            }
        },
    )
    run = simulate(arch, scenario="scale", seed=1).runs[0]
    pods = dict(zip(run.series.time, run.series.services["s"]["pods"], strict=True))
    assert pods[5.0] == 2 and pods[15.0] == 5 and pods[25.0] == 1
    log = run.extras["changes"]["log"]
    assert [e[4] for e in log] == ["replicas 2 -> 5", "replicas 5 -> 1"]


def rollout(changes: list[dict[str, Any]], steps: list[Any]) -> Architecture:
    svc = {
        "version": "1.0.0",
        "replicas": 4,
        "workers": 8,
        "deployment": {
            "strategy": "canary",
            "startAt": "5s",
            "newVersion": {"version": "2.0.0"},
            "canary": {"steps": steps},
        },
        "endpoints": {"get": {"work": {"type": "exponential", "mean": "5ms"}}},
    }
    return architecture(
        {"r": svc},
        {
            "load": {
                "arrival": {"process": "poisson", "rate": "200/s"},
                "mix": [{"endpoint": "r.get"}],
            }
        },
        duration="60s",
        mesh={"enabled": True},
        scenarios={"by-hand": {"changes": changes}},
    )


def weights(run: Any) -> list[tuple[float, float]]:
    return [(d.time, d.weight) for d in run.decisions["r"] if d.action == "weight"]


def test_promote_by_hand_ends_an_indefinite_pause() -> None:
    steps = [{"setWeight": 20}, {"pause": {}}, {"setWeight": 60}, {"pause": {}}]
    arch = rollout([{"type": "promote", "at": "20s", "service": "r"}], steps)
    run = simulate(arch, scenario="by-hand", seed=1).runs[0]
    # 20 % from the start (5 s), 60 % once promoted (20 s), then paused again: not promoted.
    assert weights(run) == [(5.0, 20.0), (20.0, 60.0)]
    assert run.report.rollouts["r"].paused == 1
    # Without the change the rollout stays at 20 %.
    plain = simulate(arch, seed=1).runs[0]
    assert weights(plain) == [(5.0, 20.0)]


def test_full_promote_skips_every_step_and_abort_returns_traffic() -> None:
    steps = [{"setWeight": 10}, {"pause": {"duration": "1h"}}, {"setWeight": 50}, {"pause": {}}]
    full = rollout([{"type": "promote", "at": "15s", "service": "r", "full": True}], steps)
    run = simulate(full, scenario="by-hand", seed=1).runs[0]
    assert weights(run) == [(5.0, 10.0), (15.0, 100.0)]
    assert run.report.rollouts["r"].promoted == 1
    aborted = rollout([{"type": "abort", "at": "15s", "service": "r"}], steps)
    run = simulate(aborted, scenario="by-hand", seed=1).runs[0]
    assert weights(run) == [(5.0, 10.0), (15.0, 0.0)]
    assert run.report.rollouts["r"].aborted == 1
    assert run.report.rollouts["r"].aborted_at == 15.0


def test_a_config_change_replaces_the_error_rate_from_its_time() -> None:
    svc = {"replicas": 1, "workers": 8, "endpoints": {"e": {"work": "1ms"}}}
    arch = architecture(
        {"s": svc},
        {
            "load": {
                "arrival": {"process": "poisson", "rate": "200/s"},
                "mix": [{"endpoint": "s.e"}],
            }
        },
        duration="40s",
        window="10s",
        scenarios={
            "flag": {
                "changes": [{"type": "config", "at": "20s", "target": "s.e", "errorRate": 0.25}]
            }
        },
    )
    run = simulate(arch, scenario="flag", seed=3).runs[0]
    entry = run.series.entries["s.e"]
    for t, count, errors in zip(run.series.time, entry["count"], entry["errors"], strict=True):
        assert count is not None and errors is not None
        if t < 20:
            assert errors == 0
        else:
            assert abs(errors - 0.25 * count) <= Z * math.sqrt(count * 0.25 * 0.75)
