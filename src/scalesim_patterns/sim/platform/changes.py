"""A scenario's `changes:`: what an operator does on purpose during the run, at its time.

| change | what happens at `at` |
|---|---|
| route-weights | the gateway route's next requests are split by the new weights (Kong upstream target weights / an Istio VirtualService's route weights: requests already sent finish where they are) |
| replicas | the service's Deployment is scaled (`kubectl scale`): as the autoscaler does it (sim/platform/lifecycle.py `Fleet.scale_to`) |
| promote / abort | the service's rollout controller is promoted or aborted by hand (sim/patterns/rollout.py) |
| config | the target endpoints' own `work` and/or `errorRate` are replaced; faults active at the time still add to them |

The run's `changes` section holds the log (`[time, index, type, target, detail]`) and, per
route a change touches, per time-series window: the requests each target received (`count`),
their `share`, and the `weight` in force averaged over the window (a change inside a window
counts for the part of the window after it) — the shares over time, to set against the
schedule.
Nothing here runs unless the scenario has changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scalesim_patterns.model.changes import (
    AbortChange,
    Change,
    ConfigChange,
    PromoteChange,
    ReplicasChange,
    RouteWeightsChange,
)
from scalesim_patterns.model.edge import Route
from scalesim_patterns.sim.core.kernel import Kernel
from scalesim_patterns.sim.network.host import SimulationError
from scalesim_patterns.sim.network.station import Call, EndpointRuntime
from scalesim_patterns.sim.network.steps import CallStepRuntime, Invoke
from scalesim_patterns.sim.patterns.workflow_state import Workflows
from scalesim_patterns.sim.platform.change_plan import find_route
from scalesim_patterns.sim.platform.lifecycle import fleet
from scalesim_patterns.sim.platform.patches import error_patch, sampler_patch

if TYPE_CHECKING:
    from scalesim_patterns.sim.network.host import Host, WindowRecorder

__all__ = ["Changes", "install_changes"]


def _route_key(route: Route) -> str:
    # The engine's key of a route's gateway endpoint (sim/engine.py `route_key`).
    return f"{','.join(route.methods)} {route.path}" if route.methods else route.path


class _Counted:
    """A route target's invoke that counts the requests sent to it."""

    __slots__ = ("n", "nxt")

    def __init__(self, nxt: Invoke) -> None:
        self.nxt = nxt
        self.n = 0

    def __call__(self, c: Call) -> None:
        self.n += 1
        self.nxt(c)


class _RouteShares:
    """One route under changes: its split step, its counted targets, its columns per window."""

    def __init__(self, key: str, step: CallStepRuntime, kernel: Kernel) -> None:
        self.key = key
        self.step = step
        self.kernel = kernel
        self.since = kernel.now
        self.window_start = kernel.now
        self.targets = [ep.ref for ep in step.targets]
        self.counted = [_Counted(inv) for inv in step.invokes]
        step.set_invokes(list(self.counted))
        total = step.cumulative[-1]
        prev = 0.0
        self.weights: list[float] = []
        for acc in step.cumulative:
            self.weights.append(round(100.0 * (acc - prev) / total, 9))
            prev = acc
        self.area = [0.0] * len(self.weights)
        self.last = [0] * len(self.counted)
        self.count: dict[str, list[float | None]] = {t: [] for t in self.targets}
        self.weight: dict[str, list[float | None]] = {t: [] for t in self.targets}
        self.share: dict[str, list[float | None]] = {t: [] for t in self.targets}

    def _integrate(self) -> None:
        now = self.kernel.now
        span = now - self.since
        if span > 0:
            self.area = [a + w * span for a, w in zip(self.area, self.weights, strict=True)]
        self.since = now

    def set_weights(self, split: dict[str, int]) -> None:
        self._integrate()
        weights = [float(split.get(t, 0)) for t in self.targets]
        total = sum(weights)
        acc = 0.0
        cumulative: list[float] = []
        for w in weights:
            acc += w / total
            cumulative.append(acc)
        self.step.cumulative = cumulative
        self.weights = weights

    def close(self) -> None:
        start = self.window_start
        self._integrate()
        span = self.since - start
        mean = [a / span for a in self.area] if span > 0 else list(self.weights)
        self.area = [0.0] * len(self.weights)
        self.window_start = self.since
        counts = [c.n - last for c, last in zip(self.counted, self.last, strict=True)]
        self.last = [c.n for c in self.counted]
        total = sum(counts)
        for t, n, w in zip(self.targets, counts, mean, strict=True):
            self.count[t].append(float(n))
            self.weight[t].append(round(w, 9))
            self.share[t].append(n / total if total else None)

    def section(self) -> dict[str, Any]:
        return {
            "targets": list(self.targets),
            "count": self.count,
            "share": self.share,
            "weight": self.weight,
        }


class Changes:
    """Plug-in state: the scenario's change log and the routes whose shares are followed."""

    def __init__(self) -> None:
        self.log: list[list[Any]] = []
        self.routes: dict[str, _RouteShares] = {}


def _label(change: Change) -> str:
    if isinstance(change, RouteWeightsChange):
        return f"{change.method} {change.route}" if change.method else change.route
    if isinstance(change, ConfigChange):
        return change.target
    return change.service


class _Apply:
    """Applies one change at its time."""

    def __init__(self, engine: Host, state: Changes, index: int, change: Change) -> None:
        self.engine = engine
        self.state = state
        self.index = index
        self.change = change
        self.route: _RouteShares | None = None
        self.endpoints: list[EndpointRuntime] = []
        spec = engine.arch.spec
        if isinstance(change, RouteWeightsChange):
            gw = spec.gateway
            found = find_route(gw, change.route, change.method) if gw is not None else None
            if found is None or engine.gateway is None:
                raise SimulationError(f"change {index}: no gateway route '{_label(change)}'")
            key = _route_key(found[1])
            shares = state.routes.get(key)
            if shares is None:
                step = engine.gateway.endpoints[key].steps[0]
                assert isinstance(step, CallStepRuntime)
                shares = state.routes[key] = _RouteShares(key, step, engine.kernel)
            self.route = shares
        elif isinstance(change, ReplicasChange):
            if change.service not in engine.services:
                raise SimulationError(f"change {index}: unknown service '{change.service}'")
            self.fleet = fleet(engine, change.service)
        elif isinstance(change, ConfigChange):
            service, _, endpoint = change.target.partition(".")
            svc = engine.services.get(service)
            if svc is None:
                raise SimulationError(f"change {index}: unknown target '{change.target}'")
            self.endpoints = [
                ep for name, ep in svc.endpoints.items() if not endpoint or name == endpoint
            ]

    def schedule(self) -> None:
        self.engine.kernel.at(float(self.change.at), self.apply, None)

    def apply(self, _: Any) -> None:
        engine = self.engine
        change = self.change
        detail: str
        if isinstance(change, RouteWeightsChange):
            assert self.route is not None
            split = {t.endpoint: t.weight for t in change.split}
            self.route.set_weights(split)
            detail = ", ".join(f"{t.endpoint} {t.weight}%" for t in change.split)
        elif isinstance(change, ReplicasChange):
            before = self.fleet.desired
            self.fleet.scale_to(change.replicas)
            detail = f"replicas {before} -> {change.replicas}"
        elif isinstance(change, PromoteChange | AbortChange):
            ctl = engine.plugins.obtain(Workflows).rollouts.get(change.service)
            if ctl is None:
                detail = "no rollout to act on"
            elif isinstance(change, PromoteChange):
                ctl.promote(change.full)
                detail = ctl.decisions[-1].detail if ctl.decisions else "promote"
            else:
                ctl.abort_by_hand()
                detail = ctl.decisions[-1].detail if ctl.decisions else "abort"
        else:
            parts: list[str] = []
            for ep in self.endpoints:
                if change.work is not None:
                    patch = sampler_patch(engine.plugins, ep, "work")
                    patch.base = engine.streams.sampler(
                        change.work, f"change:{self.index}:{ep.ref}"
                    )
                    patch.rebuild()
                if change.error_rate is not None:
                    errors = error_patch(engine.plugins, ep)
                    errors.base = change.error_rate
                    errors.rebuild()
            if change.work is not None:
                parts.append("work replaced")
            if change.error_rate is not None:
                parts.append(f"errorRate {change.error_rate:g}")
            detail = ", ".join(parts)
        self.state.log.append([engine.kernel.now, self.index, change.type, _label(change), detail])


def install_changes(engine: Host) -> None:
    """Installer (sim/extensions.py): schedule the scenario's changes, follow their routes."""
    scenario = engine.scenario
    if scenario is None or not scenario.changes:
        return
    state = engine.plugins.add(Changes())
    for i, change in enumerate(scenario.changes):
        _Apply(engine, state, i, change).schedule()

    def window(_: WindowRecorder) -> None:
        for shares in state.routes.values():
            shares.close()

    engine.window_hooks.append(window)
    engine.run_extras["changes"] = lambda _series: {
        "log": list(state.log),
        "routes": {key: shares.section() for key, shares in state.routes.items()},
    }
