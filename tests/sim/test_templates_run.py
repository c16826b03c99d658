"""Every catalog template simulates: a short run of each, with figures that make sense."""

from __future__ import annotations

import json
import math
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from scalesim_patterns.model import load
from scalesim_patterns.sim import simulate

from ..conftest import TEMPLATES


def _templates() -> list[Path]:
    out = []
    for path in sorted(TEMPLATES.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        if isinstance(doc, dict) and doc.get("kind") == "Architecture":
            out.append(path)
    return out


def _numbers(obj: Any) -> list[float]:
    if is_dataclass(obj) and not isinstance(obj, type):
        return [x for f in fields(obj) for x in _numbers(getattr(obj, f.name))]
    if isinstance(obj, dict):
        return [x for v in obj.values() for x in _numbers(v)]
    if isinstance(obj, list | tuple):
        return [x for v in obj for x in _numbers(v)]
    return [float(obj)] if isinstance(obj, int | float) else []


def test_the_catalog_has_templates() -> None:
    assert len(_templates()) >= 10


@pytest.mark.parametrize("path", _templates(), ids=lambda p: p.stem)
def test_template_simulates(path: Path) -> None:
    result = simulate(load(path), duration=20, warmup=5, replications=1)
    report = result.runs[0].report
    assert report.totals.count > 0
    assert report.totals.ok > 0.9 * report.totals.count
    assert report.totals.latency.p99 is not None and report.totals.latency.p99 > 0
    # Error rates are NaN only where nothing was called; nothing else may be.
    numbers = [x for name, s in report.services.items() for x in _numbers(s.per_replica)]
    numbers += _numbers([report.totals, report.sagas, report.event_stores, report.rollouts])
    assert not [x for x in numbers if math.isnan(x)]
    for saga in report.sagas.values():
        assert saga.started > 0 and saga.completed > 0
        assert saga.completed + saga.compensated + saga.stuck <= saga.started + 20
    for store in report.event_stores.values():
        assert store.appends > 0 and store.events > 0
        for projection in store.projections.values():
            assert projection.applied > 0
            assert projection.lag.p99 is not None
    json.loads(result.to_json())


def _scenarios() -> list[tuple[Path, str]]:
    return [
        (path, name)
        for path in _templates()
        for name in (
            yaml.safe_load(path.read_text(encoding="utf-8"))["spec"].get("scenarios") or {}
        )
    ]


@pytest.mark.parametrize("case", _scenarios(), ids=lambda c: f"{c[0].stem}:{c[1]}")
def test_every_scenario_runs_and_its_fault_shows(case: tuple[Path, str]) -> None:
    path, name = case
    arch = load(path)
    scenario = arch.spec.scenarios[name]
    # The same trouble, sooner: faults and traffic changes start at 5 s in a 25 s run.
    for fault in scenario.faults:
        fault.at = 5.0
    for override in scenario.traffic.values():
        for attr in ("at", "start"):
            if override.arrival is not None and hasattr(override.arrival, attr):
                setattr(override.arrival, attr, 5.0)
    scenario.duration = None
    result = simulate(arch, scenario=name, duration=25, warmup=2, jobs=1)
    run = result.runs[0]
    assert run.report.totals.count > 0
    faults = (run.extras.get("resilience") or {}).get("faults", [])
    assert len([f for f in faults if f[-1] == "start"]) >= len(scenario.faults)
    json.loads(result.to_json())  # every figure is finite or null
