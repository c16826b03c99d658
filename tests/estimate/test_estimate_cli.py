"""`scalesim estimate` as a user meets it."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from scalesim_patterns.cli import estimate_cmds  # noqa: F401
from scalesim_patterns.cli.main import cli
from scalesim_patterns.estimate import estimate
from scalesim_patterns.model import load
from tests.model.test_loader import BASE


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_estimate_prints_and_writes_json(tmp_path: Path) -> None:
    path = tmp_path / "arch.yaml"
    path.write_text(BASE, encoding="utf-8")
    out = tmp_path / "est.json"
    result = run("estimate", str(path), "--json", str(out), "--load", "2")
    assert result.exit_code == 0, result.output
    assert "bottleneck:" in result.output
    assert "ignored:" in result.output
    data = json.loads(out.read_text())
    expected = estimate(load(path), load=2.0)
    assert data["bottleneck"] == expected.bottleneck
    assert data["load"] == 2.0
    assert set(data["entries"]) == set(expected.entries)
    # the file is not overwritten without --force
    again = run("estimate", str(path), "--json", str(out))
    assert again.exit_code == 2
    assert "--force" in again.output


def test_unknown_scenario_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "arch.yaml"
    path.write_text(BASE, encoding="utf-8")
    result = run("estimate", str(path), "--scenario", "nope")
    assert result.exit_code == 2
    assert "no scenario 'nope'" in result.output


def test_consumers_table_and_json(tmp_path: Path) -> None:
    example = Path(__file__).parents[2] / "docs" / "examples" / "tenant-priority.yaml"
    out = tmp_path / "est.json"
    result = run("estimate", str(example), "--json", str(out))
    assert result.exit_code == 0, result.output
    assert "consumers (tenants)" in result.output
    data = json.loads(out.read_text())
    assert set(data["consumers"]) == {"enterprise", "team", "free"}
    # enterprise goes first at search: its mean is the lowest, free's the highest
    means = {k: v["response_mean"] for k, v in data["consumers"].items()}
    assert means["enterprise"] < means["team"] < means["free"]
    # a file without consumers has no such section (its JSON unchanged)
    path = tmp_path / "arch.yaml"
    path.write_text(BASE, encoding="utf-8")
    plain = run("estimate", str(path), "--json", str(tmp_path / "plain.json"))
    assert "consumers (tenants)" not in plain.output
    assert "consumers" not in json.loads((tmp_path / "plain.json").read_text())
