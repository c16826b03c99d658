"""One calibration: probe the costs, run the design for real, simulate its calibrated copy.

Everything runs on loopback against the servers `Servers` names; nothing is written outside the
temporary folder but the calibrated copy (and the report), which the caller writes.
"""

from __future__ import annotations

import json
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scalesim_patterns.catalog.errors import CatalogError
from scalesim_patterns.generate import generate, write_tree
from scalesim_patterns.generate.code.drive import drive
from scalesim_patterns.generate.code.loadplan import LoadTooLarge, check_local_load, load_plan
from scalesim_patterns.generate.code.local import LocalSystem, Servers, plan_servers
from scalesim_patterns.model import Architecture, loads
from scalesim_patterns.sim.api import simulate
from scalesim_patterns.sim.budget import check
from scalesim_patterns.sim.network.host import SimulationError

from .compare import Comparison, compare_results
from .costs import Costs, apply_costs, derive_costs, probe_text
from .faults import FaultPlan, Unsupported, plan_faults
from .scrape import Scraper
from .twin import twin_text

__all__ = ["CalibrationError", "CalibrationReport", "Phase", "calibrate"]

Phase = Callable[[str, float, float], None]
"""progress(phase, done, total): phase is `probe`, `real` or `simulate`."""


class CalibrationError(ValueError):
    """The design cannot be calibrated as asked; the message says why and what would do."""


@dataclass
class CalibrationReport:
    file: str
    scenario: str | None
    duration: float
    warmup: float
    scale: float
    seed: int
    work: str
    costs: Costs
    calibrated_text: str
    real: dict[str, Any]
    simulated: dict[str, Any]
    comparison: Comparison
    notes: list[str] = field(default_factory=list)
    fault_log: list[tuple[float, str, str]] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)
    """Share of one core each real service's process used over the real run (Linux)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "scalesim.calibration/v1",
            "file": self.file,
            "scenario": self.scenario,
            "config": {
                "duration": self.duration,
                "warmup": self.warmup,
                "scale": self.scale,
                "seed": self.seed,
                "work": self.work,
            },
            "costs": self.costs.to_dict(),
            "comparison": self.comparison.to_dict(),
            "faults": [list(f) for f in self.fault_log],
            "cpu": self.cpu,
            "notes": self.notes,
        }


def _services(arch: Architecture, folder: Path) -> None:
    files = {k: v for k, v in generate(arch).items() if k.startswith("services/")}
    write_tree(files, folder)


@dataclass
class _Side:
    """One generated system, started, with its load plan written (the design or the probe)."""

    system: LocalSystem
    folder: Path
    scraper: Scraper | None
    faults: FaultPlan | None
    cpu: dict[str, float] = field(default_factory=dict)
    """Share of one core each service's process used over the run (from /proc)."""

    def drive(self, progress: Callable[[float, int, int], None] | None) -> dict[str, Any]:
        before: dict[str, float] = {}
        began = [0.0]

        def started(origin: float) -> None:
            before.update(self.system.cpu_seconds())
            began[0] = time.monotonic()
            if self.scraper is not None:
                self.scraper.start(origin)
            if self.faults is not None:
                self.faults.start(origin)

        results = drive(
            self.folder / "plan.json",
            self.folder / "results.json",
            on_start=started,
            on_progress=progress,
        )
        after, span = self.system.cpu_seconds(), time.monotonic() - began[0]
        if span > 0:
            self.cpu = {  # a service killed and started again by a fault is left out
                n: (after[n] - before[n]) / span
                for n in after
                if n in before and after[n] >= before[n]
            }
        return results

    def stop(self) -> None:
        if self.faults is not None:
            self.faults.stop()
        if self.scraper is not None:
            self.scraper.stop()
        self.system.stop()


def _prepare(
    arch: Architecture,
    text: str,
    folder: Path,
    servers: Servers,
    *,
    work: str,
    duration: float,
    warmup: float,
    seed: int,
    python: str,
    quantiles: bool,
    scenario: str | None,
) -> _Side:
    """Generate `arch`'s services into `folder` and write the load plan of its traffic."""
    actions = plan_faults(arch, scenario)
    folder.mkdir()
    file = folder / "architecture.yaml"
    file.write_text(text, "utf-8")
    _services(arch, folder / "tree")
    system = LocalSystem(
        arch,
        folder / "tree",
        servers,
        python=python,
        work=work,
        fault_token=secrets.token_hex(16) if actions else "",
    )
    base = {n: s.url for n, s in system.services.items()}
    plan = load_plan(arch, str(file), base, duration, warmup, 1.0, seed)
    plan["quantiles"] = quantiles
    (folder / "plan.json").write_text(json.dumps(plan), "utf-8")
    return _Side(
        system,
        folder,
        # Scraped for a scenario's breakers, and for the caches' real hit ratios.
        Scraper(system, warmup) if scenario is not None or arch.spec.caches else None,
        FaultPlan(system, actions) if actions else None,
    )


def _run_both(
    design: _Side, probe: _Side, progress: Callable[[float, int, int], None]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Start both systems, drive both at once (the probe in a thread), stop both."""
    probed: dict[str, Any] = {}
    failure: list[BaseException] = []

    def probe_drive() -> None:
        try:
            probed.update(probe.drive(None))
        except BaseException as exc:  # re-raised in the caller's thread
            failure.append(exc)

    try:
        probe.system.start()
        design.system.start()
        thread = threading.Thread(target=probe_drive, daemon=True)
        thread.start()
        measured = design.drive(progress)
        thread.join()
    finally:
        design.stop()
        probe.stop()
    if failure:
        raise failure[0]
    return measured, probed


def calibrate(
    text: str,
    arch: Architecture,
    file: str,
    *,
    servers: Servers,
    python: str,
    duration: float,
    warmup: float,
    scale: float = 1.0,
    seed: int = 1,
    scenario: str | None = None,
    work: str = "sleep",
    replications: int = 5,
    probe_rate: float = 40.0,
    progress: Phase | None = None,
) -> CalibrationReport:
    """Probe, run for real, simulate the calibrated copy, compare (see the module docs)."""
    say: Phase = progress or (lambda _p, _d, _t: None)
    plan = plan_servers(arch, servers)
    try:
        if scenario is not None and scenario not in arch.spec.scenarios:
            known = ", ".join(sorted(arch.spec.scenarios)) or "none defined"
            raise CalibrationError(f"{file}: no scenario '{scenario}' (scenarios: {known})")
        twin, notes = twin_text(text, arch, file, plan.skipped, scale, scenario)
    except CatalogError as exc:
        raise CalibrationError(f"{file}: cannot describe the local run: {exc}") from None
    twin_arch = loads(twin, file)
    try:
        plan_faults(twin_arch, scenario)
        check_local_load(twin_arch, 1.0)  # before anything starts: the real run
        check(twin_arch, duration=duration, scenario=scenario, replications=replications)
    except (Unsupported, LoadTooLarge, SimulationError) as exc:
        raise CalibrationError(f"{file}: {exc}") from None
    root = Path(tempfile.mkdtemp(prefix="scalesim-calibrate-"))
    try:
        probe_yaml = probe_text(twin_arch, plan.skipped, probe_rate)
        common: dict[str, Any] = {
            "work": work,
            "duration": duration,
            "warmup": warmup,
            "seed": seed,
            "python": python,
        }
        probe_side = _prepare(
            loads(probe_yaml, "<calibration probe>"),
            probe_yaml,
            root / "probe",
            servers,
            quantiles=True,
            scenario=None,
            **common,
        )
        design = _prepare(
            twin_arch, twin, root / "real", servers, quantiles=False, scenario=scenario, **common
        )
        real, measured_probe = _run_both(
            design, probe_side, lambda clock, _s, _f: say("real", clock, duration)
        )
        scraper, faults, cpu = design.scraper, design.faults, design.cpu
    finally:
        shutil.rmtree(root, ignore_errors=True)
    costs = derive_costs(measured_probe)
    calibrated = apply_costs(twin, twin_arch, costs, plan.skipped, file)
    cal_arch = loads(calibrated, file)
    say("simulate", 0, 1)
    result = simulate(
        cal_arch,
        seed=seed,
        duration=duration,
        warmup=warmup,
        replications=replications,
        scenario=scenario,
    )
    say("simulate", 1, 1)
    simulated = result.to_dict()
    comparison = compare_results(
        real,
        simulated,
        scraper.figures() if scraper and scenario is not None else None,
        scraper.cache_figures() if scraper else None,
    )
    if faults is not None:
        notes.extend(faults.errors)
    notes.append(
        f"work spent by {'waiting' if work == 'sleep' else 'spinning a CPU'}; "
        f"simulation: {replications} replications, real: one run"
    )
    return CalibrationReport(
        file=file,
        scenario=scenario,
        duration=duration,
        warmup=warmup,
        scale=scale,
        seed=seed,
        work=work,
        costs=costs,
        calibrated_text=calibrated,
        real=real,
        simulated=simulated,
        comparison=comparison,
        notes=notes,
        fault_log=faults.log if faults else [],
        cpu=cpu,
    )
