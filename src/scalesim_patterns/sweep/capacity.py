"""Capacity search: the cheapest replica counts that meet every SLO at a load, and the knee.

The estimate prunes, the simulator decides:

1. **Lower bound (estimate).** Every varied service starts at one replica; while the estimate
   at the target load finds a varied service saturated (utilisation ≥ 1), that service gets
   the replicas its utilisation says it needs. No simulation can meet an SLO below this.
2. **Grow (simulation).** The candidate is simulated (`replications` runs, the SLO verdicts of
   `simulate`, 95 % intervals). While an SLO is not *met* (missed, or uncertain: the interval
   straddles the objective), the varied service the simulation found busiest gets one replica.
3. **Shrink (estimate, then simulation).** Each varied service, most expensive first, is tried
   with one replica fewer: a candidate the estimate finds saturated is dropped unsimulated;
   otherwise it is kept if the simulation still meets every SLO.

Cost is the CPU the replicas request (`resources.cpu` × replicas), memory breaking ties. The
load is applied as a scenario that scales every open source's rate and every closed source's
users (on top of `--scenario` when one is given). `knee` bisects on the load between what the
simulation sustains and what breaks an SLO, starting from the estimate's saturation load.
The candidates run in the local process pool of `simulate` (one process per core).
"""

from __future__ import annotations

import copy
import fnmatch
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml

from scalesim_patterns.model import Architecture, validate_text

__all__ = ["CapacityError", "CapacityResult", "KneeResult", "capacity", "knee", "parse_load"]

LOAD_SCENARIO = "capacity-load"
MAX_STEPS = 40
IDLE = 0.25
"""Below this utilisation of the busiest varied service, queueing adds little: an SLO still
missed is not a matter of replicas, and the search stops instead of adding them for ever."""


class CapacityError(ValueError):
    """The search cannot start (no SLOs, nothing matched by --vary, a bad --load)."""


@dataclass
class CapacityResult:
    assignment: dict[str, int]
    cost_cpu: float
    met: bool
    steps: list[str] = field(default_factory=list)
    simulations: int = 0


@dataclass
class KneeResult:
    load: float
    """The highest load multiplier found to meet every SLO (0 when even the lowest tried fails)."""
    broken: float
    """The lowest load found to break one."""
    steps: list[str] = field(default_factory=list)
    simulations: int = 0


def parse_load(text: str) -> float:
    """`2x`, `2`, `150%` → a multiplier."""
    t = text.strip().lower()
    try:
        scale = 100.0 if t.endswith("%") else 1.0
        value = float(t.rstrip("%x")) / scale
    except ValueError:
        raise CapacityError(
            f"--load {text}: expected a multiplier such as 2x, 1.5 or 150%"
        ) from None
    if not (math.isfinite(value) and 0 < value <= 1e6):
        raise CapacityError(f"--load {text}: the multiplier must be positive and at most 1e6")
    return value


def services_matching(arch: Architecture, patterns: list[str]) -> list[str]:
    """`services.*.replicas`, `services.order.replicas`: the services whose replicas vary."""
    found: list[str] = []
    for p in patterns:
        parts = p.split(".")
        if len(parts) != 3 or parts[0] != "services" or parts[2] != "replicas":
            raise CapacityError(
                f"--vary {p}: capacity varies replicas: services.NAME.replicas or services.*.replicas"
            )
        names = [n for n in arch.spec.services if fnmatch.fnmatchcase(n, parts[1])]
        names = [n for n in names if not arch.spec.services[n].external]
        if not names:
            raise CapacityError(f"--vary {p}: no service matches {parts[1]!r}")
        found.extend(n for n in names if n not in found)
    return found


def _with_load(data: dict[str, Any], load: float, scenario: str | None) -> dict[str, Any]:
    """The document with a scenario that is `scenario` (or none) with every source × load."""
    spec = data["spec"]
    scenarios = spec.setdefault("scenarios", {}) or {}
    spec["scenarios"] = scenarios
    base = copy.deepcopy(scenarios.get(scenario, {})) if scenario else {}
    traffic = base.setdefault("traffic", {}) or {}
    base["traffic"] = traffic
    for name, src in spec["traffic"].items():
        override = traffic.setdefault(name, {}) or {}
        traffic[name] = override
        if "users" in src or src.get("type") == "closed":
            users = override.get("users", src.get("users", 1))
            override["users"] = max(1, round(users * load))
        else:
            override["scale"] = float(override.get("scale", 1.0)) * load
    scenarios[LOAD_SCENARIO] = base
    return data


class _Search:
    def __init__(
        self,
        text: str,
        *,
        scenario: str | None,
        replications: int,
        seed: int | None,
        duration: float | None,
        warmup: float | None,
        jobs: int | None,
        log: Callable[[str], None],
    ) -> None:
        arch, diags = validate_text(text)
        if arch is None:
            raise CapacityError(f"the file has errors: {diags[0] if diags else ''}")
        if not arch.spec.slos:
            raise CapacityError("the file has no spec.slos: there is nothing to meet")
        if scenario is not None and scenario not in arch.spec.scenarios:
            known = ", ".join(sorted(arch.spec.scenarios)) or "none defined"
            raise CapacityError(f"no scenario '{scenario}' (scenarios: {known})")
        if replications < 2:
            raise CapacityError("SLO verdicts need at least 2 replications (their interval)")
        self.arch = arch
        self.data = yaml.safe_load(text)
        self.scenario = scenario
        self.options = {
            "replications": replications,
            "seed": seed,
            "duration": duration,
            "warmup": warmup,
            "jobs": jobs,
        }
        self.log = log
        self.simulations = 0

    def model(self, assignment: dict[str, int], load: float) -> Architecture:
        data = _with_load(copy.deepcopy(self.data), load, self.scenario)
        for name, n in assignment.items():
            data["spec"]["services"][name]["replicas"] = n
        arch, diags = validate_text(yaml.safe_dump(data, sort_keys=False))
        if arch is None:  # pragma: no cover - only replicas and the scenario changed
            raise CapacityError(f"candidate {assignment} is invalid: {diags[0]}")
        return arch

    def cost(self, assignment: dict[str, int]) -> tuple[float, float]:
        cpu = mem = 0.0
        for name, svc in self.arch.spec.services.items():
            n = assignment.get(name, svc.replicas)
            cpu += n * svc.resources.cpu
            mem += n * svc.resources.memory
        return cpu, mem

    def saturated(self, assignment: dict[str, int], load: float) -> dict[str, float]:
        from scalesim_patterns.estimate import estimate

        est = estimate(self.model(assignment, load), scenario=LOAD_SCENARIO, headroom=False)
        return {
            name: st.utilisation
            for name, st in est.stations.items()
            if st.kind == "service" and name in assignment and st.saturated
        }

    def simulate(
        self, assignment: dict[str, int], load: float
    ) -> tuple[bool, str, dict[str, float]]:
        """(every SLO met, the verdicts in words, utilisation per varied service)."""
        from scalesim_patterns.sim import simulate

        self.simulations += 1
        result = simulate(self.model(assignment, load), scenario=LOAD_SCENARIO, **self.options)  # type: ignore[arg-type]
        met = all(s.verdict == "met" for s in result.slos)
        words = ", ".join(f"{s.name} {s.verdict}" for s in result.slos)
        util = {
            name: result.summary.services[name].utilisation.mean
            for name in assignment
            if name in result.summary.services
        }
        return met, words, util


def _fmt(assignment: dict[str, int]) -> str:
    return " ".join(f"{k}={v}" for k, v in assignment.items())


def capacity(
    text: str,
    vary: list[str],
    load: float,
    *,
    scenario: str | None = None,
    replications: int = 3,
    seed: int | None = None,
    duration: float | None = None,
    warmup: float | None = None,
    jobs: int | None = None,
    max_replicas: int = 64,
    log: Callable[[str], None] = lambda line: None,
) -> CapacityResult:
    """The cheapest replica counts of the `vary` services meeting every SLO at `load`."""
    s = _Search(
        text, scenario=scenario, replications=replications, seed=seed, duration=duration,
        warmup=warmup, jobs=jobs, log=log,
    )  # fmt: skip
    names = services_matching(s.arch, vary)
    steps: list[str] = []

    def say(line: str) -> None:
        steps.append(line)
        log(line)

    assignment = dict.fromkeys(names, 1)
    for _ in range(MAX_STEPS):
        hot = s.saturated(assignment, load)
        if not hot:
            break
        # a caller saturated only because its callee is (thread mode: its holding time is
        # infinite) waits for the callee's replicas; the finite ones are sized at once
        finite = {n: u for n, u in hot.items() if math.isfinite(u)}
        for name, busy in (finite or hot).items():
            grown = assignment[name] + 1
            if math.isfinite(busy):
                grown = max(grown, math.ceil(assignment[name] * busy * 1.05))
            assignment[name] = min(max_replicas, grown)
        if all(assignment[n] >= max_replicas for n in hot):
            break
        say(f"estimate: saturated {', '.join(sorted(hot))}; lower bound now {_fmt(assignment)}")
    say(f"estimate: start from {_fmt(assignment)} (cpu {s.cost(assignment)[0]:g} cores)")
    met = False
    for _ in range(MAX_STEPS):
        met, words, util = s.simulate(assignment, load)
        say(f"simulate {_fmt(assignment)}: {words}")
        if met:
            break
        growable = [n for n in names if assignment[n] < max_replicas]
        if not growable:
            say(f"every varied service is at {max_replicas} replicas: no assignment found")
            return CapacityResult(assignment, s.cost(assignment)[0], False, steps, s.simulations)
        busiest = max(growable, key=lambda n: util.get(n, 0.0))
        if util.get(busiest, 0.0) < IDLE:
            say(
                f"every varied service is under {IDLE:.0%} busy and an SLO is still not met: "
                "more replicas cannot help (the work itself, a dependency or a fault sets it)"
            )
            return CapacityResult(assignment, s.cost(assignment)[0], False, steps, s.simulations)
        assignment[busiest] += 1
        say(f"grow {busiest} (busiest at {util.get(busiest, 0.0):.0%}) to {assignment[busiest]}")
    if not met:
        return CapacityResult(assignment, s.cost(assignment)[0], False, steps, s.simulations)
    order = sorted(names, key=lambda n: -s.arch.spec.services[n].resources.cpu)
    for name in order:
        while assignment[name] > 1:
            trial = {**assignment, name: assignment[name] - 1}
            hot = s.saturated(trial, load)
            if hot:
                say(
                    f"shrink {name} to {trial[name]}: pruned, the estimate saturates {', '.join(sorted(hot))}"
                )
                break
            ok, words, _ = s.simulate(trial, load)
            say(f"shrink {name} to {trial[name]}: {words}")
            if not ok:
                break
            assignment = trial
    cpu, _ = s.cost(assignment)
    say(f"cheapest found: {_fmt(assignment)} (cpu {cpu:g} cores) after {s.simulations} simulations")
    return CapacityResult(assignment, cpu, True, steps, s.simulations)


def knee(
    text: str,
    *,
    scenario: str | None = None,
    replications: int = 3,
    seed: int | None = None,
    duration: float | None = None,
    warmup: float | None = None,
    jobs: int | None = None,
    tolerance: float = 0.05,
    log: Callable[[str], None] = lambda line: None,
) -> KneeResult:
    """The highest load multiplier at which every SLO is still met (bisection by simulation
    between a load that meets them and one that breaks one; the estimate's saturation load
    gives the first upper end)."""
    from scalesim_patterns.estimate import Network, saturation_load

    s = _Search(
        text, scenario=scenario, replications=replications, seed=seed, duration=duration,
        warmup=warmup, jobs=jobs, log=log,
    )  # fmt: skip
    steps: list[str] = []

    def say(line: str) -> None:
        steps.append(line)
        log(line)

    sat = saturation_load(Network(s.model({}, 1.0), LOAD_SCENARIO))
    say(f"estimate: the busiest station saturates at {sat:.3g}× the load")
    low, high = 0.0, sat if math.isfinite(sat) else 1.0
    # the upper end must break an SLO, the lower one meet them all
    ok, words, _ = s.simulate({}, high)
    say(f"simulate at {high:.3g}×: {words}")
    while ok and high < 1e6:
        low, high = high, high * 2
        ok, words, _ = s.simulate({}, high)
        say(f"simulate at {high:.3g}×: {words}")
    probe = high / 2
    while low == 0.0 and probe > 1e-3:
        ok, words, _ = s.simulate({}, probe)
        say(f"simulate at {probe:.3g}×: {words}")
        if ok:
            low = probe
        else:
            high, probe = probe, probe / 2
    if low == 0.0:
        say("no load tried meets every SLO")
        return KneeResult(0.0, high, steps, s.simulations)
    while high - low > tolerance * low:
        mid = (low + high) / 2
        ok, words, _ = s.simulate({}, mid)
        say(f"simulate at {mid:.3g}×: {words}")
        if ok:
            low = mid
        else:
            high = mid
    say(f"knee: every SLO met up to {low:.3g}× the load, one breaks by {high:.3g}×")
    return KneeResult(low, high, steps, s.simulations)
