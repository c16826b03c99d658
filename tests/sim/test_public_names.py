"""`scalesim_patterns.sim`'s public names: the results' classes load on first use, not at import
(start-up: `scalesim simulate` reaches its first event without defining them), and every name
of `__all__` still resolves to the object its own module defines."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

_PROBE = textwrap.dedent(
    """
    import importlib, json, sys
    import scalesim_patterns.sim as sim
    before = sorted(
        m for m in ("scalesim_patterns.sim.reports.results", "scalesim_patterns.sim.reports.live")
        if m in sys.modules
    )
    homes = {}
    for name in sim.__all__:
        value = getattr(sim, name)
        homes[name] = getattr(value, "__module__", None)
    from scalesim_patterns.sim import Report, SimulationResult, Estimate
    from scalesim_patterns.sim.reports.results import Report as R2
    from scalesim_patterns.sim.core.stats import Estimate as E2
    print(json.dumps({"before": before, "homes": homes, "same": Report is R2 and Estimate is E2}))
    """
)


def _probe() -> dict[str, object]:
    out = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True)
    data: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return data


def test_results_load_on_first_use_and_every_public_name_resolves() -> None:
    data = _probe()
    assert data["before"] == [], "importing scalesim_patterns.sim loaded the results' modules"
    homes = data["homes"]
    assert isinstance(homes, dict)
    assert homes["Report"] == "scalesim_patterns.sim.reports.results"
    assert homes["Window"] == "scalesim_patterns.sim.reports.live"
    assert homes["Estimate"] == "scalesim_patterns.sim.core.stats"
    assert data["same"] is True


def test_an_unknown_name_is_an_attribute_error() -> None:
    import scalesim_patterns.sim as sim

    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = sim.Nope  # type: ignore[attr-defined]
