"""Rollouts in the engine: canary steps and analysis, abort, blue-green switch and scale-down."""

from __future__ import annotations

import math
from typing import Any

import pytest

from scalesim_patterns.model import Architecture
from scalesim_patterns.sim import RunResult, simulate
from scalesim_patterns.sim.reports.workflow_reports import Decision

from ..models import architecture


def rollout_arch(
    deployment: dict[str, Any],
    *,
    mesh: bool = True,
    duration: str = "80s",
    startup: str | None = None,
    replicas: int = 4,
) -> Architecture:
    svc: dict[str, Any] = {
        "version": "1.0.0",
        "replicas": replicas,
        "workers": 8,
        "deployment": deployment,
        "endpoints": {"get": {"work": {"type": "exponential", "mean": "5ms"}}},
    }
    if startup is not None:
        svc["startupTime"] = startup
    spec: dict[str, Any] = {"mesh": {"enabled": True}} if mesh else {}
    return architecture(
        {"r": svc},
        {
            "load": {
                "arrival": {"process": "poisson", "rate": "200/s"},
                "mix": [{"endpoint": "r.get"}],
            }
        },
        duration=duration,
        **spec,
    )


def canary(steps: list[Any], error_rate: float | None = None, **extra: Any) -> dict[str, Any]:
    new: dict[str, Any] = {"version": "2.0.0"}
    if error_rate is not None:
        new["errorRate"] = error_rate
    return {
        "strategy": "canary",
        "startAt": "10s",
        "newVersion": new,
        "canary": {"steps": steps, **extra},
    }


STEPS = [
    {"setWeight": 20},
    {"pause": {"duration": "10s"}},
    {"analysis": {"interval": "5s", "count": 2, "successRate": 0.99, "maxLatencyP99": "200ms"}},
    {"setWeight": 60},
    {"pause": {"duration": "5s"}},
]


def times(run: RunResult, action: str) -> list[float]:
    return [d.time for d in run.decisions["r"] if d.action == action]


def decisions(run: RunResult, action: str) -> list[Decision]:
    return [d for d in run.decisions["r"] if d.action == action]


def test_a_good_canary_is_promoted_after_its_pauses_and_analysis() -> None:
    run = simulate(rollout_arch(canary(STEPS)), seed=3).runs[0]
    ro = run.report.rollouts["r"]
    # 10 s start + 10 s pause + 2 × 5 s analysis + 5 s pause.
    assert ro.promoted == 1 and ro.aborted == 0
    assert ro.started_at == 10
    assert ro.promoted_at == pytest.approx(35)
    assert ro.final_weight == 100
    assert ro.measurements == 2 and ro.failed_measurements == 0
    weights = [(d.time, d.weight) for d in decisions(run, "weight")]
    assert weights == [(10, 20), (pytest.approx(30), 60), (pytest.approx(35), 100)]
    assert times(run, "measurement") == [pytest.approx(25), pytest.approx(30)]
    assert all(d.verdict == "Successful" for d in decisions(run, "measurement"))
    # The old version is scaled down 30 s after promotion.
    assert times(run, "scaled-down") == [pytest.approx(65)]
    series = run.series.rollouts["r"]
    t = run.series.time
    # Istio weights are exact: about 20 % of the calls between 10 s and 30 s.
    new = sum(n or 0 for ti, n in zip(t, series["new_throughput"], strict=True) if 10 <= ti < 30)
    old = sum(n or 0 for ti, n in zip(t, series["old_throughput"], strict=True) if 10 <= ti < 30)
    share = new / (new + old)
    assert abs(share - 0.2) < 1.96 * math.sqrt(0.2 * 0.8 / (new + old))
    assert all(w == 0 for ti, w in zip(t, series["weight"], strict=True) if ti < 10)
    assert all((n or 0) == 0 for ti, n in zip(t, series["old_throughput"], strict=True) if ti >= 36)
    assert run.report.services["r@2.0.0"].throughput > 0


def test_a_bad_canary_aborts_at_the_first_measurement_and_its_weight_returns_to_zero() -> None:
    run = simulate(rollout_arch(canary(STEPS, error_rate=0.2)), seed=3).runs[0]
    ro = run.report.rollouts["r"]
    assert ro.aborted == 1 and ro.promoted == 0
    assert ro.aborted_at == pytest.approx(25)
    assert ro.final_weight == 0
    assert ro.measurements == 1 and ro.failed_measurements == 1
    (m,) = decisions(run, "measurement")
    assert m.verdict == "Failed" and m.success_rate is not None and m.success_rate < 0.9
    assert [d.weight for d in decisions(run, "weight")] == [20, 0]
    assert times(run, "weight")[-1] == pytest.approx(25)
    # The canary's pods stay 30 s after the abort, then go.
    assert times(run, "scaled-down") == [pytest.approx(55)]
    series = run.series.rollouts["r"]
    late = [n for ti, n in zip(run.series.time, series["new_throughput"], strict=True) if ti >= 26]
    assert late and all((n or 0) == 0 for n in late)
    # Its blast radius: only the canary's share of calls met the bad version.
    assert 0 < ro.new_errors < 0.3 * ro.new_requests


def test_background_analysis_aborts_during_a_pause() -> None:
    deployment = canary(
        [{"setWeight": 50}, {"pause": {"duration": "1m"}}],
        error_rate=0.5,
        analysis={"interval": "4s", "count": 10, "failureLimit": 1},
    )
    run = simulate(rollout_arch(deployment), seed=1).runs[0]
    ro = run.report.rollouts["r"]
    # failureLimit 1: the second failed measurement (at 10 + 2 × 4 s) fails the run.
    assert ro.aborted == 1
    assert ro.aborted_at == pytest.approx(18)
    assert ro.failed_measurements == 2


def test_without_a_mesh_the_weight_follows_the_replica_ratio() -> None:
    deployment = canary([{"setWeight": 10}, {"pause": {}}], trafficRouting="replicas")
    run = simulate(rollout_arch(deployment, mesh=False), seed=1).runs[0]
    ro = run.report.rollouts["r"]
    # ceil(4 × 10 %) = 1 canary pod beside 3 stable ones: a quarter of the traffic.
    assert ro.final_weight == 25
    assert ro.paused == 1 and ro.promoted == 0 and ro.aborted == 0
    assert times(run, "paused") == [10]
    series = run.series.rollouts["r"]
    assert series["new_replicas"][-1] == 1 and series["old_replicas"][-1] == 3


def blue_green(error_rate: float | None = None, **extra: Any) -> dict[str, Any]:
    new: dict[str, Any] = {"version": "2.0.0"}
    if error_rate is not None:
        new["errorRate"] = error_rate
    return {
        "strategy": "blue-green",
        "startAt": "10s",
        "newVersion": new,
        "blueGreen": {
            "previewReplicas": 1,
            "scaleDownDelay": "20s",
            "prePromotionAnalysis": {"interval": "5s", "count": 3},
            "postPromotionAnalysis": {"interval": "5s", "count": 2},
            **extra,
        },
    }


def test_blue_green_switches_after_preview_and_scales_blue_down_later() -> None:
    arch = rollout_arch(blue_green(), mesh=False, startup="3s", replicas=2)
    run = simulate(arch, seed=2).runs[0]
    ro = run.report.rollouts["r"]
    # Preview ready at 13 s; 3 × 5 s pre-promotion (nobody sends it traffic: no data);
    # scaled to 2 pods (3 s more); switch at 31 s; 2 × 5 s post-promotion; done at 41 s.
    assert times(run, "preview-ready") == [pytest.approx(13)]
    pre = decisions(run, "measurement")[:3]
    assert [d.verdict for d in pre] == ["NoData"] * 3
    assert times(run, "switched") == [pytest.approx(31)]
    assert ro.promoted == 1 and ro.promoted_at == pytest.approx(41)
    assert times(run, "scaled-down") == [pytest.approx(61)]
    series = run.series.rollouts["r"]
    t = run.series.time
    assert all((n or 0) == 0 for ti, n in zip(t, series["new_throughput"], strict=True) if ti < 31)
    assert all((n or 0) == 0 for ti, n in zip(t, series["old_throughput"], strict=True) if ti >= 32)
    assert all(w == 100 for ti, w in zip(t, series["weight"], strict=True) if ti >= 32)
    assert series["old_replicas"][-1] == 0 and series["new_replicas"][-1] == 2


def test_blue_green_post_promotion_failure_switches_back() -> None:
    arch = rollout_arch(blue_green(error_rate=0.2), mesh=False, startup="3s", replicas=2)
    run = simulate(arch, seed=2).runs[0]
    ro = run.report.rollouts["r"]
    assert ro.aborted == 1 and ro.aborted_at == pytest.approx(36)
    assert times(run, "switched-back") == [pytest.approx(36)]
    assert ro.final_weight == 0
    assert times(run, "scaled-down") == [pytest.approx(66)]
    series = run.series.rollouts["r"]
    t = run.series.time
    assert all((n or 0) == 0 for ti, n in zip(t, series["new_throughput"], strict=True) if ti >= 37)


def test_blue_green_without_auto_promotion_waits() -> None:
    arch = rollout_arch(blue_green(autoPromotion=False), mesh=False, startup="3s", replicas=2)
    run = simulate(arch, seed=2).runs[0]
    ro = run.report.rollouts["r"]
    assert ro.paused == 1 and ro.final_weight == 0
    assert times(run, "paused") == [pytest.approx(28)]
    assert times(run, "switched") == []


def test_auto_promotion_delay_postpones_the_switch() -> None:
    arch = rollout_arch(blue_green(autoPromotionDelay="7s"), mesh=False, startup="3s", replicas=2)
    run = simulate(arch, seed=2).runs[0]
    # Pre-promotion ends at 28 s, 7 s wait, 3 s to start the second pod.
    assert times(run, "switched") == [pytest.approx(38)]


def test_same_seed_same_json_and_no_router_without_a_rollout() -> None:
    arch = rollout_arch(canary(STEPS), duration="40s")
    assert simulate(arch, seed=9).to_json() == simulate(arch, seed=9).to_json()
    plain = rollout_arch(canary(STEPS), duration="40s")
    plain.spec.services["r"].deployment = None
    result = simulate(plain, seed=9)
    assert result.runs[0].report.rollouts == {}
    assert result.runs[0].decisions == {}
