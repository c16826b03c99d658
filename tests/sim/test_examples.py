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


def test_the_tenant_priority_example_serves_the_paying_tenants_first() -> None:
    path = next(p for p in EXAMPLES if p.stem == "tenant-priority")
    arch = load(path)
    burst = simulate(arch, scenario="free-tier-burst", jobs=1).runs[0].extras["consumers"]
    arch.spec.services["search"].scheduling = "fifo"
    fifo = simulate(arch, scenario="free-tier-burst", jobs=1).runs[0].extras["consumers"]
    # Same arrivals (common random numbers): only the order of search's queue differs.
    for tenant in ("enterprise", "team"):
        assert burst[tenant]["latency"]["mean"] < 0.9 * fifo[tenant]["latency"]["mean"]
        assert burst[tenant]["latency"]["mean"] < 0.6 * burst["free"]["latency"]["mean"]
    # The free tier's burst fills its own thread pool only.
    assert burst["free"]["errors"]["bulkhead_full"] > 0
    assert "bulkhead_full" not in burst["team"]["errors"]
