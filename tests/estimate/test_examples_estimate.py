"""The estimate reads every language construct the examples use (sessions, series, choice,
counts, groups, caches, CPU, protocols) without failing, and gives every entry a load and a
response time."""

from __future__ import annotations

from pathlib import Path

import pytest

from scalesim_patterns.estimate import estimate
from scalesim_patterns.model import load

EXAMPLES = sorted((Path(__file__).parents[2] / "docs" / "examples").glob("*.yaml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_estimates(path: Path) -> None:
    result = estimate(load(path))
    assert result.entries, path.name
    for name, entry in result.entries.items():
        assert entry.arrival_rate > 0, name
        assert entry.response_mean > 0, name
