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

Each candidate's replications are Dask tasks, like a sweep's (candidates.py, cluster.py): on
an embedded LocalCluster (one worker process per core) or the user's scheduler. The search is
sequential — each step depends on the last verdict — so it is the same for any number of
workers and any order of completion; every verdict is journaled as it is reached, and a
resumed search replays the same steps, taking the verdicts it has from the journal.
"""

from __future__ import annotations

import copy
import fnmatch
import math
import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

import yaml

from scalesim_patterns.files import check_output_file
from scalesim_patterns.model import Architecture, validate_text

from .candidates import Candidates, Replica, SearchProgress, candidate_key, run_replica
from .journal import Journal, digest

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = [
    "CapacityError",
    "CapacityResult",
    "Cluster",
    "KneeResult",
    "Saved",
    "SearchOptions",
    "SearchProgress",
    "capacity",
    "default_journal",
    "knee",
    "parse_load",
    "search_id",
]

LOAD_SCENARIO = "capacity-load"
MAX_STEPS = 40
SEARCH_DIFFERS = "a different file, --scenario, --seed, --duration, --warmup or --replications"
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
    resumed: int = 0
    """Candidates whose verdict came from the journal of an interrupted run."""


@dataclass
class KneeResult:
    load: float
    """The highest load multiplier found to meet every SLO (0 when even the lowest tried fails)."""
    broken: float
    """The lowest load found to break one."""
    steps: list[str] = field(default_factory=list)
    simulations: int = 0
    resumed: int = 0
    """Candidates whose verdict came from the journal of an interrupted run."""


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


@dataclass(frozen=True)
class Cluster:
    """Where the candidates' replications run: `client` (a `distributed.Client` the caller
    owns), else `scheduler` (or $SCALESIM_DASK_SCHEDULER), else a LocalCluster of `workers`
    processes (default one per core) started for the search and closed after it."""

    scheduler: str | None = None
    workers: int | None = None
    client: Any = None


@dataclass(frozen=True)
class Saved:
    """The journal of evaluated candidates: `path` (None: kept in memory only), `resume` to
    read one an interrupted search left, `force` to start over one that exists."""

    path: str | os.PathLike[str] | None = None
    resume: bool = False
    force: bool = False


class SearchOptions(TypedDict, total=False):
    """What `capacity` and `knee` take besides their own arguments (all optional)."""

    scenario: str | None
    """On top of a named scenario of the file."""
    replications: int
    """Runs per candidate (default 3, at least 2: an SLO verdict needs an interval)."""
    seed: int | None
    """Overrides spec.simulation.seed."""
    duration: float | None
    warmup: float | None
    log: Callable[[str], None]
    """Receives each step as it is taken (also kept in the result's `steps`)."""
    cluster: Cluster | None
    """Where the replications run (default: a LocalCluster, one worker per core)."""
    jobs: int | None
    """The older name of `Cluster(workers=...)`, when `cluster` is not given."""
    saved: Saved | None
    """The journal (default: none, verdicts kept in memory)."""
    progress: Callable[[SearchProgress], None] | None
    """Called as each replication of a candidate comes back."""


def _quiet(line: str) -> None:
    """The default `log`: the steps are in the result."""


def search_id(
    text: str,
    *,
    scenario: str | None,
    replications: int,
    seed: int | None,
    duration: float | None,
    warmup: float | None,
) -> str:
    """What a candidate's verdict depends on besides its replicas and load: a journal of the
    same id answers for any search (capacity or knee) over the same file and settings."""
    return digest("capacity", text, scenario, replications, seed, duration, warmup)


def default_journal(identity: str) -> Path:
    """Where `scalesim capacity` keeps its journal when not told: the user's cache folder
    (`$XDG_CACHE_HOME/scalesim-patterns/capacity` on Linux), one file per search id, so the same
    command with `--resume` finds it."""
    from platformdirs import user_cache_path

    return user_cache_path("scalesim-patterns") / "capacity" / f"{identity}.jsonl"


class _Search:
    """What capacity and knee share: the file, the settings, the steps said so far, and the
    candidates (simulated on Dask, journaled)."""

    def __init__(self, text: str, options: SearchOptions) -> None:
        scenario = options.get("scenario")
        replications = options.get("replications", 3)
        seed = options.get("seed")
        duration = options.get("duration")
        warmup = options.get("warmup")
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
        self.id = search_id(
            text, scenario=scenario, replications=replications, seed=seed, duration=duration,
            warmup=warmup,
        )  # fmt: skip
        self.replications = replications
        self.seed = arch.spec.simulation.seed if seed is None else seed
        self.duration = duration
        self.warmup = warmup
        self.log = options.get("log") or _quiet
        jobs = options.get("jobs")
        self.cluster = options.get("cluster") or Cluster(workers=jobs)
        self.saved = options.get("saved") or Saved()
        self.progress = options.get("progress")
        self.steps: list[str] = []
        self.candidates: Candidates | None = None

    def say(self, line: str) -> None:
        self.steps.append(line)
        self.log(line)

    @property
    def simulations(self) -> int:
        return self.candidates.count if self.candidates is not None else 0

    @property
    def resumed(self) -> int:
        return self.candidates.resumed if self.candidates is not None else 0

    @contextmanager
    def running(self) -> Iterator[_Search]:
        """Open the journal and the Dask client for the search; both closed on the way out,
        Ctrl-C included (every candidate finished by then is in the journal)."""
        from .cluster import connect, stream

        cluster, saved = self.cluster, self.saved
        journal: Journal | None = None
        if saved.path is not None:
            path = Path(saved.path)
            if not saved.resume:
                check_output_file(path, force=saved.force)
            journal = Journal(
                path.parent, self.id, name=path.name, key=lambda row: str(row["candidate"]),
                kind="search", differs=SEARCH_DIFFERS,
            )  # fmt: skip
            journal.start(resume=saved.resume)
        try:
            with ExitStack() as stack:
                client = cluster.client
                if client is None:
                    client = stack.enter_context(connect(cluster.scheduler, cluster.workers))

                def run(tasks: list[Replica], arrived: Callable[[Replica, Any], None]) -> None:
                    stream(
                        client,
                        run_replica,
                        tasks,
                        lambda t: f"scalesim-capacity-{t.candidate}-{t.replication}",
                        arrived,
                        lambda t: f"candidate {t.label} replication {t.replication}",
                    )

                self.candidates = Candidates(
                    run, self.id, replications=self.replications, seed=self.seed,
                    duration=self.duration, warmup=self.warmup, scenario=LOAD_SCENARIO,
                    journal=journal, progress=self.progress,
                )  # fmt: skip
                yield self
        finally:
            if journal is not None:
                journal.close()

    def model(self, assignment: dict[str, int], load: float) -> Architecture:
        return self._candidate(assignment, load)[0]

    def _candidate(self, assignment: dict[str, int], load: float) -> tuple[Architecture, str]:
        data = _with_load(copy.deepcopy(self.data), load, self.scenario)
        for name, n in assignment.items():
            data["spec"]["services"][name]["replicas"] = n
        text = yaml.safe_dump(data, sort_keys=False)
        arch, diags = validate_text(text)
        if arch is None:  # pragma: no cover - only replicas and the scenario changed
            raise CapacityError(f"candidate {assignment} is invalid: {diags[0]}")
        return arch, text

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
        assert self.candidates is not None, "simulate inside running()"
        model, text = self._candidate(assignment, load)
        label = f"{_fmt(assignment)} at {load:.3g}×" if assignment else f"{load:.3g}× the load"
        v = self.candidates.verdict(
            candidate_key(assignment, load), label, model, text, list(assignment)
        )
        return v.met, v.words, v.utilisation


def _fmt(assignment: dict[str, int]) -> str:
    return " ".join(f"{k}={v}" for k, v in assignment.items())


def capacity(
    text: str,
    vary: list[str],
    load: float,
    *,
    max_replicas: int = 64,
    **options: Unpack[SearchOptions],
) -> CapacityResult:
    """The cheapest replica counts of the `vary` services meeting every SLO at `load`, each
    at most `max_replicas`; `options` are those of `SearchOptions`."""
    s = _Search(text, options)
    names = services_matching(s.arch, vary)
    with s.running():
        return _cheapest(s, names, load, max_replicas)


def _result(s: _Search, assignment: dict[str, int], met: bool) -> CapacityResult:
    cpu, _ = s.cost(assignment)
    return CapacityResult(assignment, cpu, met, s.steps, s.simulations, s.resumed)


def _cheapest(s: _Search, names: list[str], load: float, max_replicas: int) -> CapacityResult:
    say = s.say
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
            return _result(s, assignment, False)
        busiest = max(growable, key=lambda n: util.get(n, 0.0))
        if util.get(busiest, 0.0) < IDLE:
            say(
                f"every varied service is under {IDLE:.0%} busy and an SLO is still not met: "
                "more replicas cannot help (the work itself, a dependency or a fault sets it)"
            )
            return _result(s, assignment, False)
        assignment[busiest] += 1
        say(f"grow {busiest} (busiest at {util.get(busiest, 0.0):.0%}) to {assignment[busiest]}")
    if not met:
        return _result(s, assignment, False)
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
    return _result(s, assignment, True)


def knee(text: str, *, tolerance: float = 0.05, **options: Unpack[SearchOptions]) -> KneeResult:
    """The highest load multiplier at which every SLO is still met (bisection by simulation
    between a load that meets them and one that breaks one, to within `tolerance`; the
    estimate's saturation load gives the first upper end); `options` as for `capacity`."""
    s = _Search(text, options)
    with s.running():
        return _bisect(s, tolerance)


def _bisect(s: _Search, tolerance: float) -> KneeResult:
    from scalesim_patterns.estimate import Network, saturation_load

    say = s.say

    def meets(load: float) -> bool:
        ok, words, _ = s.simulate({}, load)
        say(f"simulate at {load:.3g}×: {words}")
        return ok

    sat = saturation_load(Network(s.model({}, 1.0), LOAD_SCENARIO))
    say(f"estimate: the busiest station saturates at {sat:.3g}× the load")
    low, high = 0.0, sat if math.isfinite(sat) else 1.0
    # the upper end must break an SLO, the lower one meet them all
    ok = meets(high)
    while ok and high < 1e6:
        low, high = high, high * 2
        ok = meets(high)
    probe = high / 2
    while low == 0.0 and probe > 1e-3:
        if meets(probe):
            low = probe
        else:
            high, probe = probe, probe / 2
    if low == 0.0:
        say("no load tried meets every SLO")
        return KneeResult(0.0, high, s.steps, s.simulations, s.resumed)
    while high - low > tolerance * low:
        mid = (low + high) / 2
        if meets(mid):
            low = mid
        else:
            high = mid
    say(f"knee: every SLO met up to {low:.3g}× the load, one breaks by {high:.3g}×")
    return KneeResult(low, high, s.steps, s.simulations, s.resumed)
