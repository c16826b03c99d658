"""The HPA driving replicas: worked examples of the Kubernetes controller under a load step."""

from __future__ import annotations

from typing import Any

import pytest

from scalesim_patterns.sim import simulate

from ..models import architecture, poisson


def _stepped(autoscaling: dict[str, Any], steps: list[tuple[str, str]], **svc: Any) -> Any:
    return architecture(
        {
            "s": {
                "workers": 20,
                "startupTime": "5s",
                "endpoints": {"e": {"work": "10ms"}},
                "autoscaling": autoscaling,
                **svc,
            }
        },
        {
            "load": {
                "arrival": {"process": "step", "steps": [{"at": a, "rate": r} for a, r in steps]},
                "mix": [{"endpoint": "s.e"}],
            }
        },
        duration="600s",
    )


REQUESTS = {"minReplicas": 1, "maxReplicas": 10, "metric": "requests", "target": 50}
STEP = [("0s", "40/s"), ("60s", "200/s"), ("195s", "40/s")]


def test_a_load_step_scales_up_at_the_next_sync_and_down_after_the_stabilisation_window() -> None:
    run = simulate(_stepped(REQUESTS, STEP), seed=2).runs[0]
    (hpa,) = run.extras["resilience"]["autoscaling"]
    events = [(t, a, b) for t, a, b, _, _ in hpa["events"]]
    # Syncs every 15 s. At 75 s the last period is all at 200/s: 4 × the target per pod,
    # ceil(4 × 1) = 4, which the no-behavior limit max(2 × 1, 4) allows. From 210 s the
    # proposal is ceil(10/50 × 4) = 1, but the highest recommendation of the last 300 s wins:
    # the last 4 was made at 195 s, and is more than 300 s old only at 510 s.
    assert events == [(75.0, 1, 4), (510.0, 4, 1)]
    # Columns hold the value at each window's end: window i ends at i + 1 s.
    pods = run.series.services["s"]["pods"]
    ready = run.series.services["s"]["ready"]
    assert pods[73] == 1.0 and pods[74] == 4.0
    # New pods serve after their 5 s start-up (they join the balancer then: no readiness probe).
    assert ready[78] == 1.0 and ready[80] == 4.0
    assert pods[508] == 4.0 and pods[509] == 1.0
    assert run.report.services["s"].replicas == 1.0


def test_behavior_policies_limit_the_scale_up_rate() -> None:
    slow = {
        **REQUESTS,
        "behavior": {"scaleUp": {"policies": [{"type": "Pods", "value": 1, "period": "15s"}]}},
    }
    run = simulate(_stepped(slow, STEP), seed=2).runs[0]
    (hpa,) = run.extras["resilience"]["autoscaling"]
    ups = [(t, a, b) for t, a, b, _, _ in hpa["events"] if b > a]
    assert ups == [(75.0, 1, 2), (90.0, 2, 3), (105.0, 3, 4)]


def test_cpu_utilisation_counts_only_the_endpoints_own_work() -> None:
    # 100/s × 10 ms = 1 core of work. The request is 500m, so one pod is at 200 %: with a 50 %
    # target the controller wants 4 pods at the first sync, and 4 pods are at 50 %.
    # The 1 s call each request waits on (thread mode) holds workers but is not CPU.
    arch = architecture(
        {
            "s": {
                "workers": 200,
                "startupTime": "2s",
                "resources": {"cpu": "500m"},
                "endpoints": {"e": {"work": "10ms", "steps": [{"call": "t.e"}]}},
                "autoscaling": {"minReplicas": 1, "maxReplicas": 10, "metric": "cpu", "target": 50},
            },
            "t": {"workers": 500, "endpoints": {"e": {"work": "1s"}}},
        },
        poisson("100/s", "s.e"),
        duration="100s",
    )
    run = simulate(arch, seed=2).runs[0]
    (hpa,) = run.extras["resilience"]["autoscaling"]
    t, before, after, _, metric = hpa["events"][0]
    assert (t, before, after) == (15.0, 1, 4)
    assert metric == pytest.approx(200.0, rel=0.1)
    assert len(hpa["events"]) == 1
    assert run.series.services["s"]["hpa_metric"][90] == pytest.approx(50.0, rel=0.1)


def test_min_replicas_is_enforced_at_the_first_sync() -> None:
    arch = _stepped({**REQUESTS, "minReplicas": 3}, [("0s", "10/s")], replicas=1)
    run = simulate(arch, seed=1, duration=40).runs[0]
    (hpa,) = run.extras["resilience"]["autoscaling"]
    assert [e[:3] for e in hpa["events"]] == [[15.0, 1, 3]]
