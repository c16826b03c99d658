"""The examples under docs/examples validate cleanly and run (they are what the docs point at)."""

from __future__ import annotations

from pathlib import Path

import pytest

from scalesim_patterns.model import load, validate
from scalesim_patterns.sim import simulate

EXAMPLES = sorted((Path(__file__).parents[2] / "docs" / "examples").glob("*.yaml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_validates_without_findings(path: Path) -> None:
    arch, diags = validate(path)
    assert arch is not None
    assert [str(d) for d in diags] == []


def test_the_shop_sessions_example_runs_its_sessions_and_recorded_rate() -> None:
    path = next(p for p in EXAMPLES if p.stem == "shop-sessions")
    run = simulate(load(path), duration=60.0, warmup=0.0, jobs=1).runs[0]
    steps = {s["name"]: s for s in run.extras["sessions"]["shoppers"]["steps"]}
    assert steps["browse"]["per_session"] == 2.0
    # The recorded series starts at 30 - 25 = 5/s and rises: the partners' route saw traffic.
    assert run.report.entries["GET /products"].count > steps["browse"]["requests"]
