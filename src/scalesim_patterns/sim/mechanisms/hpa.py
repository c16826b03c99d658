"""Kubernetes HorizontalPodAutoscaler controller, one reconcile per sync period.

The caller runs `reconcile` every sync period (15s by default) with what the metrics pipeline
would report at that moment, and applies the returned replica count to the workload. The
controller's memory — recent recommendations and recent scale events — lives in the object,
as it lives in kube-controller-manager, and is judged against the `now` passed in.

Two normalisation paths exist in the real controller and both are here:

* `behavior=None` — an HPA without `spec.behavior` (the API server leaves it unset): the max
  recommendation of the last 300s, then at most max(2 × current, 4) replicas, min/max bounds.
* a `HPABehavior` — autoscaling/v2 behaviour: stabilisation windows per direction, rate
  policies (Pods/Percent per periodSeconds) judged against the replica count at the start of
  each period as reconstructed from the scale events of that period, selectPolicy Max/Min/
  Disabled. `HPABehavior()` with no arguments is the documented default behaviour.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "DEFAULT_SCALE_DOWN",
    "DEFAULT_SCALE_UP",
    "HPABehavior",
    "HPAScalingPolicy",
    "HPAScalingRules",
    "HorizontalPodAutoscaler",
    "desired_replicas",
]

_INT32_MAX = 2**31 - 1
_INT32_MIN = -(2**31)


@dataclass(frozen=True, slots=True)
class HPAScalingPolicy:
    """One rate policy: at most `value` pods (Pods) or `value` % (Percent) per `period_seconds`."""

    type: Literal["Pods", "Percent"]
    value: int
    period_seconds: int

    def __post_init__(self) -> None:
        if self.type not in ("Pods", "Percent"):
            raise ValueError("policy type must be 'Pods' or 'Percent'")
        if self.value <= 0 or not 0 < self.period_seconds <= 1800:
            raise ValueError("policy value must be > 0 and periodSeconds in (0, 1800]")


@dataclass(frozen=True, slots=True)
class HPAScalingRules:
    """`scaleUp` / `scaleDown` rules; a None field takes the API default for its direction."""

    stabilization_window_seconds: int | None = None
    select_policy: Literal["Max", "Min", "Disabled"] | None = None
    policies: tuple[HPAScalingPolicy, ...] | None = None


DEFAULT_SCALE_UP = HPAScalingRules(
    stabilization_window_seconds=0,
    select_policy="Max",
    policies=(HPAScalingPolicy("Pods", 4, 15), HPAScalingPolicy("Percent", 100, 15)),
)
DEFAULT_SCALE_DOWN = HPAScalingRules(
    stabilization_window_seconds=None,  # the controller's --horizontal-pod-autoscaler-downscale-stabilization (300s)
    select_policy="Max",
    policies=(HPAScalingPolicy("Percent", 100, 15),),
)


@dataclass(frozen=True, slots=True)
class HPABehavior:
    """autoscaling/v2 `spec.behavior`; unset directions get the API defaults."""

    scale_up: HPAScalingRules = field(default_factory=HPAScalingRules)
    scale_down: HPAScalingRules = field(default_factory=HPAScalingRules)


@dataclass(frozen=True, slots=True)
class _Rules:
    window: float
    select: str
    policies: tuple[HPAScalingPolicy, ...]
    longest_period: float


def _resolve(rules: HPAScalingRules, default: HPAScalingRules, window_default: float) -> _Rules:
    window = rules.stabilization_window_seconds
    if window is None:
        window = default.stabilization_window_seconds
    select = rules.select_policy or default.select_policy or "Max"
    if select not in ("Max", "Min", "Disabled"):
        raise ValueError("selectPolicy must be Max, Min or Disabled")
    policies = rules.policies if rules.policies is not None else default.policies or ()
    longest = max((p.period_seconds for p in policies), default=0)
    return _Rules(
        window_default if window is None else float(window), select, policies, float(longest)
    )


def desired_replicas(
    current_replicas: int,
    ready_pod_metrics: Sequence[float],
    unready_pods: int,
    target: float,
    *,
    missing_pods: int = 0,
    tolerance: float = 0.1,
    utilization: bool = True,
) -> int | None:
    """The replica calculator (GetResourceReplicas / calcPlainMetricReplicas) for one metric.

    `ready_pod_metrics` are the per-pod values of ready pods (percent of request when
    `utilization`, else the raw value, e.g. requests per second); `unready_pods` are pods pending
    or not yet ready (excluded from the average, counted as 0 when scaling up); `missing_pods`
    are ready pods without a metric (0 when scaling up, max(100 %, target) — or the target for
    raw values — when scaling down). Utilisation is truncated to a whole percent as Kubernetes
    does. Returns None when no ready pod has a metric (the controller then does nothing).
    """
    n = len(ready_pod_metrics)
    if n == 0:
        return None
    total = math.fsum(ready_pod_metrics)
    ratio = _usage_ratio(total, n, target, utilization)
    scale_up_with_unready = unready_pods > 0 and ratio > 1.0
    if not scale_up_with_unready and missing_pods == 0:
        if 1.0 - tolerance <= ratio <= 1.0 + tolerance:
            return current_replicas
        return math.ceil(ratio * n)
    count = n
    if missing_pods > 0:
        if ratio < 1.0:
            fallback = max(100.0, target) if utilization else target
            total += fallback * missing_pods
            count += missing_pods
        elif ratio > 1.0:
            count += missing_pods
    if scale_up_with_unready:
        count += unready_pods
    new_ratio = _usage_ratio(total, count, target, utilization)
    if (
        1.0 - tolerance <= new_ratio <= 1.0 + tolerance
        or (ratio < 1.0 < new_ratio)
        or (ratio > 1.0 > new_ratio)
    ):
        return current_replicas
    new_replicas = math.ceil(new_ratio * count)
    if (new_ratio < 1.0 and new_replicas > current_replicas) or (
        new_ratio > 1.0 and new_replicas < current_replicas
    ):
        return current_replicas
    return new_replicas


def _usage_ratio(total: float, count: int, target: float, utilization: bool) -> float:
    mean = total / count
    if utilization:
        # metricsTotal*100/requestsTotal in integer arithmetic: a whole percent.
        mean = float(math.floor(mean + 1e-9))  # float: the same value, one type (mypyc)
    return mean / target


class HorizontalPodAutoscaler:
    """One HPA object plus the controller state kept for it (see the module docstring).

    `reconcile` returns the replica count to set; `last_reason` says why, and `transitions`
    records (time, old replicas, new replicas) for every rescale.
    """

    __slots__ = (
        "_down",
        "_recommendations",
        "_scale_down_events",
        "_scale_up_events",
        "_up",
        "behavior",
        "downscale_stabilization",
        "last_reason",
        "max_replicas",
        "min_replicas",
        "sync_period",
        "tolerance",
        "transitions",
        "utilization",
    )

    def __init__(
        self,
        *,
        max_replicas: int,
        min_replicas: int = 1,
        behavior: HPABehavior | None = None,
        tolerance: float = 0.1,
        utilization: bool = True,
        downscale_stabilization: float = 300.0,
        sync_period: float = 15.0,
    ) -> None:
        if min_replicas < 0 or max_replicas < 1 or max_replicas < min_replicas:
            raise ValueError("need 0 <= min_replicas <= max_replicas and max_replicas >= 1")
        self.min_replicas = min_replicas
        self.max_replicas = max_replicas
        self.behavior = behavior
        self.tolerance = tolerance
        self.utilization = utilization
        self.downscale_stabilization = float(downscale_stabilization)
        self.sync_period = float(sync_period)
        if behavior is not None:
            self._up: _Rules | None = _resolve(behavior.scale_up, DEFAULT_SCALE_UP, 0.0)
            self._down: _Rules | None = _resolve(
                behavior.scale_down, DEFAULT_SCALE_DOWN, self.downscale_stabilization
            )
        else:
            self._up = self._down = None
        self._recommendations: list[list[float]] = []  # [timestamp, replicas]
        self._scale_up_events: list[list[float]] = []  # [timestamp, replica change]
        self._scale_down_events: list[list[float]] = []
        self.last_reason = ""
        self.transitions: list[tuple[float, str, str]] = []

    def reconcile(
        self,
        now: float,
        current_replicas: int,
        ready_pod_metrics: Sequence[float],
        unready_pods: int,
        target: float,
        *,
        missing_pods: int = 0,
    ) -> int:
        """One sync: the replica count the controller sets (`current_replicas` if unchanged).

        `current_replicas` is the workload's spec.replicas; the pod lists describe the pods that
        exist now (see `desired_replicas`).
        """
        if current_replicas == 0 and self.min_replicas != 0:
            self.last_reason = "ScalingDisabled"
            return 0
        if current_replicas > self.max_replicas:
            desired = self.max_replicas
            self.last_reason = "Current number of replicas above Spec.MaxReplicas"
        elif current_replicas < self.min_replicas:
            desired = self.min_replicas
            self.last_reason = "Current number of replicas below Spec.MinReplicas"
        else:
            proposal = desired_replicas(
                current_replicas,
                ready_pod_metrics,
                unready_pods,
                target,
                missing_pods=missing_pods,
                tolerance=self.tolerance,
                utilization=self.utilization,
            )
            if proposal is None:
                self.last_reason = "FailedGetMetrics"
                return current_replicas
            if self._up is None or self._down is None:
                desired = self._normalize_legacy(now, current_replicas, proposal)
            else:
                desired = self._normalize_with_behavior(
                    now, current_replicas, proposal, self._up, self._down
                )
        if desired != current_replicas:
            self._store_scale_event(now, current_replicas, desired)
            self.transitions.append((now, str(current_replicas), str(desired)))
        return desired

    # behavior == nil ---------------------------------------------------------------------

    def _normalize_legacy(self, now: float, current: int, proposal: int) -> int:
        cutoff = now - self.downscale_stabilization
        stabilized = proposal
        old = -1
        for i, (stamp, rec) in enumerate(self._recommendations):
            if stamp < cutoff:
                old = i
            elif rec > stabilized:
                stabilized = int(rec)
        self._remember(old, now, proposal)
        scale_up_limit = max(2 * current, 4)
        maximum = min(self.max_replicas, scale_up_limit)
        if stabilized < self.min_replicas:
            self.last_reason = "TooFewReplicas"
            return self.min_replicas
        if stabilized > maximum:
            self.last_reason = "ScaleUpLimit" if maximum < self.max_replicas else "TooManyReplicas"
            return maximum
        self.last_reason = "DesiredWithinRange"
        return stabilized

    def _remember(self, old: int, now: float, proposal: int) -> None:
        if old >= 0:
            self._recommendations[old] = [now, float(proposal)]
        else:
            self._recommendations.append([now, float(proposal)])

    # autoscaling/v2 behavior ---------------------------------------------------------------

    def _normalize_with_behavior(
        self, now: float, current: int, proposal: int, up: _Rules, down: _Rules
    ) -> int:
        up_cutoff = now - up.window
        down_cutoff = now - down.window
        up_rec = proposal
        down_rec = proposal
        old = -1
        for i, (stamp, rec) in enumerate(self._recommendations):
            if stamp > up_cutoff and rec < up_rec:
                up_rec = int(rec)
            if stamp > down_cutoff and rec > down_rec:
                down_rec = int(rec)
            if stamp < up_cutoff and stamp < down_cutoff:
                old = i
        stabilized = current
        if stabilized < up_rec:
            stabilized = up_rec
        if stabilized > down_rec:
            stabilized = down_rec
        self._remember(old, now, proposal)

        if stabilized > current:
            limit = self._scale_up_limit(now, current, up)
            if limit < current:
                limit = current
            maximum = self.max_replicas
            reason = "TooManyReplicas"
            if maximum > limit:
                maximum = limit
                reason = "ScaleUpLimit"
            if stabilized > maximum:
                self.last_reason = reason
                return maximum
        elif stabilized < current:
            limit = self._scale_down_limit(now, current, down)
            if limit > current:
                limit = current
            minimum = self.min_replicas
            reason = "TooFewReplicas"
            if minimum < limit:
                minimum = limit
                reason = "ScaleDownLimit"
            if stabilized < minimum:
                self.last_reason = reason
                return minimum
        self.last_reason = "DesiredWithinRange"
        return stabilized

    def _period_start(self, now: float, current: int, period: float) -> int:
        """Replicas at the start of the period: undo the scale events inside it."""
        cutoff = now - period
        added = sum(int(c) for stamp, c in self._scale_up_events if stamp > cutoff)
        deleted = sum(int(c) for stamp, c in self._scale_down_events if stamp > cutoff)
        return current - added + deleted

    def _scale_up_limit(self, now: float, current: int, rules: _Rules) -> int:
        if rules.select == "Disabled":
            return current
        use_min = rules.select == "Min"
        result = _INT32_MAX if use_min else _INT32_MIN
        for policy in rules.policies:
            start = self._period_start(now, current, policy.period_seconds)
            if policy.type == "Pods":
                proposed = start + policy.value
            else:
                proposed = math.ceil(start * (1 + policy.value / 100))
            result = min(result, proposed) if use_min else max(result, proposed)
        return result

    def _scale_down_limit(self, now: float, current: int, rules: _Rules) -> int:
        if rules.select == "Disabled":
            return current
        use_min = rules.select == "Min"
        result = _INT32_MIN if use_min else _INT32_MAX
        for policy in rules.policies:
            start = self._period_start(now, current, policy.period_seconds)
            if policy.type == "Pods":
                proposed = start - policy.value
            else:
                proposed = int(start * (1 - policy.value / 100))
            result = max(result, proposed) if use_min else min(result, proposed)
        return result

    def _store_scale_event(self, now: float, previous: int, new: int) -> None:
        if self._up is None or self._down is None:
            return  # without behavior the controller keeps no scale events
        if new > previous:
            events, longest, change = self._scale_up_events, self._up.longest_period, new - previous
        else:
            events, longest, change = (
                self._scale_down_events,
                self._down.longest_period,
                previous - new,
            )
        cutoff = now - longest
        for event in events:
            if event[0] < cutoff:
                event[0] = now
                event[1] = float(change)
                return
        events.append([now, float(change)])
