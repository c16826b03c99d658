"""The HorizontalPodAutoscaler driving a service's fleet.

Every `syncPeriod` (15 s) the controller reads the metric of the last period and applies
`HorizontalPodAutoscaler.reconcile` (docs/mechanisms.md): the ratio to the target with 0.1
tolerance, the scale-up limit, the 300 s scale-down stabilisation, min/max, or the configured
`behavior`. New pods start at once and serve after their start-up time (default lognormal p50
5 s, p99 15 s); they count as unready until their endpoint is in the balancer.

Metrics (docs/resilience.md):

* `cpu`: utilisation % of the CPU request = CPU seconds used in the period / (period × ready
  pods × `resources.cpu`) × 100. CPU seconds are the endpoints' own `work` (one second of work
  is one core-second); time a worker spends waiting on calls, queries or a fault's added latency
  is not CPU. CPU throttling at the limit is not modelled.
* `requests`: requests finished per second per ready pod over the period.

Like metrics-server, the figure is an average over the last period, so it lags the load.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scalesim_patterns.model.service import Autoscaling, ScalingRules
from scalesim_patterns.sim.mechanisms.hpa import (
    HorizontalPodAutoscaler,
    HPABehavior,
    HPAScalingPolicy,
    HPAScalingRules,
)
from scalesim_patterns.sim.platform.lifecycle import Fleet, fleet
from scalesim_patterns.sim.platform.patches import CpuMeter, sampler_patch
from scalesim_patterns.sim.reports.telemetry import add_section

if TYPE_CHECKING:
    from scalesim_patterns.sim.network.host import Host, WindowRecorder

__all__ = ["install_autoscaling"]


def _rules(rules: ScalingRules | None) -> HPAScalingRules:
    if rules is None:
        return HPAScalingRules()
    return HPAScalingRules(
        stabilization_window_seconds=(
            int(rules.stabilization_window) if rules.stabilization_window is not None else None
        ),
        select_policy=rules.select_policy,
        policies=(
            tuple(HPAScalingPolicy(p.type, p.value, int(p.period)) for p in rules.policies)
            if rules.policies is not None
            else None
        ),
    )


class _Controller:
    def __init__(self, engine: Host, name: str, spec: Autoscaling) -> None:
        self.engine = engine
        self.name = name
        self.spec = spec
        self.fleet: Fleet = fleet(engine, name)
        behavior = (
            HPABehavior(_rules(spec.behavior.scale_up), _rules(spec.behavior.scale_down))
            if spec.behavior is not None
            else None
        )
        self.hpa = HorizontalPodAutoscaler(
            min_replicas=spec.min_replicas,
            max_replicas=spec.max_replicas,
            behavior=behavior,
            tolerance=spec.tolerance,
            utilization=spec.metric == "cpu",
            sync_period=spec.sync_period,
        )
        svc = engine.services[name]
        self.cpu_request = float(engine.arch.spec.services[name].resources.cpu)
        self.meters: list[CpuMeter] = []
        if spec.metric == "cpu":
            self.meters = [
                sampler_patch(engine.plugins, ep, "work").metered() for ep in svc.endpoints.values()
            ]
        self.svc = svc
        self.last_value = self._counter()
        self.events: list[list[Any]] = []
        self.metric: float | None = None
        engine.every(spec.sync_period, self.sync)
        engine.window_hooks.append(self._window)

    def _counter(self) -> float:
        if self.meters:
            return sum(m.total for m in self.meters)
        return float(sum(ep.stats.n for ep in self.svc.endpoints.values()))

    def sync(self, now: float) -> None:
        value = self._counter()
        used = (value - self.last_value) / self.spec.sync_period
        self.last_value = value
        ready = self.fleet.ready_count()
        live = len(self.fleet.live)
        metrics: list[float] = []
        if ready:
            per_pod = used / ready
            if self.spec.metric == "cpu":
                per_pod = per_pod / self.cpu_request * 100.0
            metrics = [per_pod] * ready
            self.metric = per_pod
        current = self.fleet.desired
        desired = self.hpa.reconcile(now, current, metrics, max(live - ready, 0), self.spec.target)
        if desired != current:
            self.events.append([now, current, desired, self.hpa.last_reason, self.metric])
            self.fleet.scale_to(desired)

    def _window(self, recorder: WindowRecorder) -> None:
        cols = recorder.services.get(self.name)
        if cols is None:
            return
        n = len(recorder.time)
        for key, value in (("desired", float(self.fleet.desired)), ("hpa_metric", self.metric)):
            col = cols.setdefault(key, [])
            while len(col) < n - 1:
                col.append(None)
            col.append(value)


def install_autoscaling(engine: Host) -> None:
    """Installer (sim/extensions.py): one controller per service with `autoscaling`."""
    controllers = [
        _Controller(engine, name, svc.autoscaling)
        for name, svc in engine.arch.spec.services.items()
        if svc.autoscaling is not None
    ]
    if controllers:
        add_section(
            engine,
            "autoscaling",
            lambda: [{"service": c.name, "events": list(c.events)} for c in controllers],
        )
