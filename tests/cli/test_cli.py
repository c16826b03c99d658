"""The `scalesim` command as a user meets it: exit codes, messages, files it will not overwrite."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from scalesim_patterns.cli import catalog_cmds, generate_cmds, simulate_cmds  # noqa: F401
from scalesim_patterns.cli.main import cli

from ..model.test_loader import BASE

SMALL = (
    BASE.replace("rate: 50/s", "rate: 20/s")
    + "  simulation: {duration: 20s, warmup: 2s, seed: 3}\n"
)


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def arch_file(tmp_path: Path) -> Path:
    path = tmp_path / "arch.yaml"
    path.write_text(SMALL, encoding="utf-8")
    return path


def test_validate_valid_file_exits_0(arch_file: Path) -> None:
    result = run("validate", str(arch_file))
    assert result.exit_code == 0
    assert "valid: 3 services, 2 databases, 1 traffic sources" in result.output


def test_validate_reports_every_error_and_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        SMALL.replace("timeout: 200ms", "timout: 200ms").replace("workers: 4", "workers: 0")
    )
    result = run("validate", str(bad))
    assert result.exit_code == 2
    assert (
        f"{bad}:16:15: error: spec.services.front.endpoints.home.steps[0].timout" in result.output
    )
    assert f"{bad}:10:" in result.output and "2 errors in 1 file" in result.output


def test_validate_json(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(SMALL.replace("engine: redis", "engine: oracle"))
    result = run("validate", "--json", str(bad))
    assert result.exit_code == 2
    data = json.loads(result.stdout)
    assert data["valid"] is False
    assert data["diagnostics"][0]["path"] == "spec.databases.back-db.engine"


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    result = run("validate", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 2
    assert "cannot read file" in result.output


def test_bad_input_never_shows_a_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("spec: [unclosed\n")
    proc = subprocess.run(
        [sys.executable, "-m", "scalesim_patterns.cli", "simulate", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "YAML syntax" in proc.stderr


def test_schema_is_json_and_written_atomically_without_overwriting(tmp_path: Path) -> None:
    result = run("schema")
    assert json.loads(result.stdout)["title"] == "ScaleSim Patterns architecture"
    target = tmp_path / "schema.json"
    target.write_text("mine")
    assert run("schema", "-o", str(target)).exit_code == 2
    assert target.read_text() == "mine"
    assert run("schema", "-o", str(target), "--force").exit_code == 0
    assert json.loads(target.read_text())["$id"].endswith("architecture-v1alpha1.json")


def test_simulate_prints_tables_and_writes_identical_json(arch_file: Path, tmp_path: Path) -> None:
    out1, out2 = tmp_path / "a.json", tmp_path / "b.json"
    result = run("simulate", str(arch_file), "--json", str(out1), "--no-progress")
    assert result.exit_code == 0, result.output
    assert "front.home" in result.output and "Services" in result.output
    topics = result.output[result.output.index("Topics per consumer group") :]
    assert "changed/listener.on-c" in topics and "dead-letter" in topics
    run("simulate", str(arch_file), "--json", str(out2), "--no-progress")
    assert out1.read_bytes() == out2.read_bytes()
    data = json.loads(out1.read_text())
    assert data["config"]["seed"] == 3
    assert run("simulate", str(arch_file), "--json", str(out1)).exit_code == 2  # no --force


def test_simulate_so_short_that_an_slo_has_no_data_says_so(tmp_path: Path) -> None:
    """E-commerce's SLOs over 10 ms: no request finishes, each SLO's verdict is "no data" (the
    table once looked its colour up in the brief's table of verdicts and raised KeyError)."""
    from scalesim_patterns.catalog import template_text

    ecommerce = tmp_path / "ecommerce.yaml"
    ecommerce.write_text(template_text("ecommerce"), encoding="utf-8")
    result = run(
        "simulate", str(ecommerce), "--duration", "10ms", "--warmup", "0s", "--no-progress"
    )
    assert result.exit_code == 0, result.output
    slos = result.output[result.output.index("Service-level objectives") :]
    assert "no data" in slos


def test_simulate_unknown_scenario(arch_file: Path) -> None:
    result = run("simulate", str(arch_file), "--scenario", "nope")
    assert result.exit_code == 2
    assert "no scenario 'nope'" in result.output


def test_simulate_bad_duration_option(arch_file: Path) -> None:
    result = run("simulate", str(arch_file), "--duration", "10")
    assert result.exit_code == 2
    assert "250ms" in result.output


def test_simulate_csv(arch_file: Path, tmp_path: Path) -> None:
    result = run("simulate", str(arch_file), "--csv", str(tmp_path / "ts"), "--replications", "2")
    assert result.exit_code == 0, result.output
    rows = (tmp_path / "ts" / "timeseries-1.csv").read_text().splitlines()
    assert rows[0].startswith("time,") and len(rows) > 10


def test_compare_shows_the_paired_difference(arch_file: Path, tmp_path: Path) -> None:
    faster = tmp_path / "faster.yaml"
    faster.write_text(SMALL.replace("mean: 5ms", "mean: 2ms"))
    result = run("compare", str(arch_file), str(faster), "--replications", "3", "--duration", "10s")
    assert result.exit_code == 0, result.output
    assert "paired over 3 replications" in result.output


def test_generate_writes_validated_manifests_and_refuses_foreign_folders(
    arch_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "deploy"
    result = run("generate", str(arch_file), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "0 errors" in result.output
    assert (out / "base" / "kustomization.yaml").exists()
    assert (out / "base" / "services" / "front" / "deployment.yaml").exists()
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    refused = run("generate", str(arch_file), "-o", str(foreign))
    assert refused.exit_code == 2 and "--force" in refused.output
    assert (foreign / "notes.txt").read_text() == "keep me"


def test_lint_exits_2_on_a_broken_manifest(arch_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "deploy"
    assert run("generate", str(arch_file), "-o", str(out), "--no-lint").exit_code == 0
    assert run("lint", str(out)).exit_code == 0
    deployment = out / "base" / "services" / "front" / "deployment.yaml"
    deployment.write_text(deployment.read_text().replace("readinessProbe:", "readinesProbe:"))
    result = run("lint", str(out))
    assert result.exit_code == 2
    assert "readinesProbe" in result.output and "deployment.yaml" in result.output


def test_simulate_shows_breakers_rollout_and_the_cascade_of_a_fault() -> None:
    from ..conftest import TEMPLATES

    result = run(
        "simulate",
        str(TEMPLATES / "ecommerce.yaml"),
        "--scenario",
        "payment-outage",
        "--duration",
        "100s",
        "--no-progress",
    )
    assert result.exit_code == 0, result.output
    assert "fault outage on payment starts" in result.output
    assert "breaker order->payment: CLOSED -> OPEN" in result.output
    assert "cascade: failure started at payment" in result.output
    assert "Resilience per client" in result.output and "place-order" in result.output
