"""HorizontalPodAutoscaler: worked examples of the Kubernetes algorithm, each computed by hand.

Utilisation values are percent of the pod's CPU request; all pods request the same amount, so
the pod average is Kubernetes' sum(usage)/sum(requests), truncated to a whole percent.
"""

from __future__ import annotations

import pytest

from scalesim_patterns.sim.mechanisms import (
    HorizontalPodAutoscaler,
    HPABehavior,
    HPAScalingPolicy,
    HPAScalingRules,
    desired_replicas,
)

# --- the replica calculator ----------------------------------------------------------------


def test_no_change_within_tolerance() -> None:
    # 55 % / 50 % = 1.10: |1.10 − 1| <= 0.1 → keep 4.
    assert desired_replicas(4, [55] * 4, 0, 50) == 4
    # 45 / 50 = 0.90 → keep.
    assert desired_replicas(4, [45] * 4, 0, 50) == 4


def test_just_outside_tolerance_scales() -> None:
    # 56 / 50 = 1.12 → ceil(1.12 × 4) = ceil(4.48) = 5.
    assert desired_replicas(4, [56] * 4, 0, 50) == 5
    # 44 / 50 = 0.88 → ceil(0.88 × 10) = ceil(8.8) = 9.
    assert desired_replicas(10, [44] * 10, 0, 50) == 9


def test_utilisation_is_truncated_to_a_whole_percent() -> None:
    # 55.9 % → 55 %: ratio 1.10, within tolerance (1.118 would have scaled to 5).
    assert desired_replicas(4, [55.9] * 4, 0, 50) == 4
    # Raw values are not truncated: 55.9 / 50 = 1.118 → ceil(4.472) = 5.
    assert desired_replicas(4, [55.9] * 4, 0, 50, utilization=False) == 5


def test_uses_the_ready_pods_not_the_spec_replicas() -> None:
    # spec 6 but only 3 ready pods with metrics (no unready pods reported): 20/50 = 0.4 →
    # ceil(0.4 × 3) = 2.
    assert desired_replicas(6, [20, 20, 20], 0, 50) == 2


def test_unready_pods_count_as_zero_and_block_a_direction_flip() -> None:
    # Ready [60, 60] → 60/50 = 1.2 (scale up). With the 2 unready pods at 0 %:
    # 120/4 = 30 % → 0.6 < 1: the direction would flip, so keep 4.
    assert desired_replicas(4, [60, 60], 2, 50) == 4
    # Ignoring the unready pods would have scaled *down* to ceil(1.2 × 2) = 3.
    assert desired_replicas(4, [60, 60], 0, 50) == 3


def test_unready_pods_dilute_a_scale_up() -> None:
    # Ready [100, 100] → 2.0. With 1 unready at 0: 200/3 = 66.7 → 66 % → 1.32 →
    # ceil(1.32 × 3) = ceil(3.96) = 4.
    assert desired_replicas(3, [100, 100], 1, 50) == 4


def test_unready_pods_are_ignored_when_scaling_down() -> None:
    # Ready [10, 10] → 0.2 < 1: unready pods are left out, ceil(0.2 × 2) = 1.
    assert desired_replicas(4, [10, 10], 2, 50) == 1


def test_missing_pods_count_as_full_use_when_scaling_down() -> None:
    # Ready [20, 20] → 0.4. 2 pods without metrics count as 100 %: 240/4 = 60 % → 1.2 > 1:
    # flip → keep 4.
    assert desired_replicas(4, [20, 20], 0, 50, missing_pods=2) == 4
    # Ready [10]*6 → 0.2; 1 missing at 100 %: 160/7 = 22.9 → 22 % → 0.44 → ceil(3.08) = 4.
    assert desired_replicas(7, [10] * 6, 0, 50, missing_pods=1) == 4
    # Raw values: a missing pod counts as the target: (60 + 50)/7 = 15.71 → 0.314 →
    # ceil(2.2) = 3.
    assert desired_replicas(7, [10] * 6, 0, 50, missing_pods=1, utilization=False) == 3


def test_missing_pods_count_as_zero_when_scaling_up() -> None:
    # Ready [100, 100] → 2.0; 2 missing at 0: 200/4 = 50 % → 1.0 → within tolerance → keep 4.
    assert desired_replicas(4, [100, 100], 0, 50, missing_pods=2) == 4


def test_no_metrics_means_no_decision() -> None:
    assert desired_replicas(4, [], 4, 50) is None
    hpa = HorizontalPodAutoscaler(max_replicas=10)
    assert hpa.reconcile(0.0, 4, [], 4, 50) == 4
    assert hpa.last_reason == "FailedGetMetrics"


# --- the controller: stabilisation, rate limits, bounds -------------------------------------


def run(hpa: HorizontalPodAutoscaler, start: int, syncs: list[tuple[float, float]]) -> list[int]:
    """Reconcile at each (time, per-pod utilisation) with every pod ready; apply the result."""
    current = start
    out = []
    for t, util in syncs:
        current = hpa.reconcile(t, current, [util] * current, 0, 50)
        out.append(current)
    return out


def test_scale_down_waits_for_the_max_of_the_last_300s_without_behavior() -> None:
    # t=0: 50 % of 10 pods → recommendation 10. Then 10 % → ceil(0.2 × 10) = 2 every sync,
    # but the max over the last 300 s stays 10 while the t=0 sample is in the window. The
    # behavior-less path keeps a sample exactly 300 s old (not Before the cutoff).
    hpa = HorizontalPodAutoscaler(max_replicas=20)
    syncs = [(0.0, 50.0)] + [(15.0 * k, 10.0) for k in range(1, 22)]
    result = run(hpa, 10, syncs)
    assert result[:21] == [10] * 21  # t = 0 … 300
    assert result[21] == 2  # t = 315


def test_scale_down_stabilisation_with_default_behavior_drops_the_300s_old_sample() -> None:
    # Same load; the behavior path counts samples strictly newer than now − 300 s.
    hpa = HorizontalPodAutoscaler(max_replicas=20, behavior=HPABehavior())
    syncs = [(0.0, 50.0)] + [(15.0 * k, 10.0) for k in range(1, 21)]
    result = run(hpa, 10, syncs)
    assert result[:20] == [10] * 20  # t = 0 … 285
    assert result[20] == 2  # t = 300
    assert hpa.transitions == [(300.0, "10", "2")]


def test_stabilisation_keeps_the_highest_recent_recommendation() -> None:
    # t=0: 40 % of 10 pods → ceil(0.8 × 10) = 8 (a scale-down, not held back: no earlier
    # samples). Later, lower recommendations are held at the window's max until the 8 leaves it.
    hpa = HorizontalPodAutoscaler(max_replicas=20, behavior=HPABehavior())
    assert hpa.reconcile(0.0, 10, [40] * 10, 0, 50) == 8
    # t=15: 20 % of 8 pods → ceil(0.4 × 8) = 4, but 8 (t=0) is in the window → 8.
    assert hpa.reconcile(15.0, 8, [20] * 8, 0, 50) == 8
    # t=30: 30 % → ceil(0.6 × 8) = 5 → max(8, 4, 5) = 8.
    assert hpa.reconcile(30.0, 8, [30] * 8, 0, 50) == 8
    # t=300: the t=0 sample is out; max(4, 5) = 5.
    assert hpa.reconcile(300.0, 8, [20] * 8, 0, 50) == 5


def test_default_behavior_scale_up_limit_is_max_of_4_pods_and_100_percent() -> None:
    # 200 % of 2 pods → 4.0 → proposal 8. Limit max(2 + 4, ceil(2 × 2)) = 6.
    hpa = HorizontalPodAutoscaler(max_replicas=20, behavior=HPABehavior())
    assert hpa.reconcile(0.0, 2, [200, 200], 0, 50) == 6
    # t=15: the t=0 event is exactly one period old (not After the cutoff), so the period
    # starts at 6: limit max(6 + 4, 12) = 12; proposal ceil(4 × 6) = 24 → 12.
    assert hpa.reconcile(15.0, 6, [200] * 6, 0, 50) == 12


def test_legacy_scale_up_limit_is_max_of_double_and_4() -> None:
    # Without behavior: max(2 × 2, 4) = 4 (not 2 + 4).
    hpa = HorizontalPodAutoscaler(max_replicas=20)
    assert hpa.reconcile(0.0, 2, [200, 200], 0, 50) == 4
    # Then max(2 × 4, 4) = 8 at once (no per-period memory on this path).
    assert hpa.reconcile(15.0, 4, [200] * 4, 0, 50) == 8


def test_rate_policy_is_measured_from_the_replica_count_at_the_start_of_its_period() -> None:
    # At most 4 pods per 60 s. t=0: 2 → 6. At t=15 and t=45 the +4 event of t=0 is inside the
    # 60 s period: period start = 6 − 4 = 2 → limit 6 → no change. At t=60 the event is
    # exactly 60 s old (outside): start 6 → 10.
    behavior = HPABehavior(scale_up=HPAScalingRules(policies=(HPAScalingPolicy("Pods", 4, 60),)))
    hpa = HorizontalPodAutoscaler(max_replicas=50, behavior=behavior)
    result = run(hpa, 2, [(t, 500.0) for t in (0.0, 15.0, 45.0, 60.0)])
    assert result == [6, 6, 6, 10]


def test_scale_down_rate_policy() -> None:
    # At most 1 pod down per 60 s, no stabilisation: 10 → 9 at t=0, held until t=60 → 8.
    behavior = HPABehavior(
        scale_down=HPAScalingRules(
            stabilization_window_seconds=0, policies=(HPAScalingPolicy("Pods", 1, 60),)
        )
    )
    hpa = HorizontalPodAutoscaler(max_replicas=20, behavior=behavior)
    assert run(hpa, 10, [(0.0, 5.0), (15.0, 5.0), (60.0, 5.0)]) == [9, 9, 8]


def test_percent_scale_down_truncates() -> None:
    # 30 % per 15 s from 10 pods: int(10 × 0.7) = 7.
    behavior = HPABehavior(
        scale_down=HPAScalingRules(
            stabilization_window_seconds=0, policies=(HPAScalingPolicy("Percent", 30, 15),)
        )
    )
    hpa = HorizontalPodAutoscaler(max_replicas=20, behavior=behavior)
    assert hpa.reconcile(0.0, 10, [5] * 10, 0, 50) == 7


def test_select_policy_min_and_disabled() -> None:
    # Min picks the smaller scale-up: min(2 + 4, ceil(2 × 2)) = 4.
    low = HPABehavior(scale_up=HPAScalingRules(select_policy="Min"))
    assert (
        HorizontalPodAutoscaler(max_replicas=20, behavior=low).reconcile(0.0, 2, [200, 200], 0, 50)
        == 4
    )
    off = HPABehavior(scale_up=HPAScalingRules(select_policy="Disabled"))
    assert (
        HorizontalPodAutoscaler(max_replicas=20, behavior=off).reconcile(0.0, 2, [200, 200], 0, 50)
        == 2
    )
    no_down = HPABehavior(
        scale_down=HPAScalingRules(select_policy="Disabled", stabilization_window_seconds=0)
    )
    assert (
        HorizontalPodAutoscaler(max_replicas=20, behavior=no_down).reconcile(
            0.0, 10, [5] * 10, 0, 50
        )
        == 10
    )


def test_scale_up_stabilisation_window_uses_the_lowest_recent_recommendation() -> None:
    # 60 s up-window: t=0 recommends 2, so until that sample leaves (strictly newer than
    # now − 60 s) the scale-up is held; at t=60 it is out and 8 → limited to 6.
    behavior = HPABehavior(scale_up=HPAScalingRules(stabilization_window_seconds=60))
    hpa = HorizontalPodAutoscaler(max_replicas=20, behavior=behavior)
    syncs = [(0.0, 50.0), (15.0, 200.0), (30.0, 200.0), (45.0, 200.0), (60.0, 200.0)]
    assert run(hpa, 2, syncs) == [2, 2, 2, 2, 6]


def test_min_and_max_replicas_bound_the_result() -> None:
    hpa = HorizontalPodAutoscaler(min_replicas=2, max_replicas=5)
    # 5 % → ceil(0.1 × 4) = 1 → raised to min 2.
    assert hpa.reconcile(0.0, 4, [5] * 4, 0, 50) == 2
    # Proposal ceil(10 × 4) = 40 → capped at max 5 (the legacy limit would allow 8).
    assert hpa.reconcile(15.0, 4, [500] * 4, 0, 50) == 5
    # Out of range replica counts are corrected without looking at metrics.
    assert hpa.reconcile(30.0, 9, [], 0, 50) == 5
    assert hpa.reconcile(45.0, 1, [], 0, 50) == 2
    assert hpa.reconcile(60.0, 0, [], 0, 50) == 0  # scaled to 0 by hand: autoscaling is off
    assert hpa.last_reason == "ScalingDisabled"


def test_invalid_configuration_is_refused() -> None:
    with pytest.raises(ValueError):
        HorizontalPodAutoscaler(min_replicas=5, max_replicas=2)
    with pytest.raises(ValueError):
        HPAScalingPolicy("Pods", 0, 15)
    with pytest.raises(ValueError):
        HPAScalingPolicy("Replicas", 1, 15)  # type: ignore[arg-type]
