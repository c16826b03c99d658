"""`scalesim simulate --traces`: the file written, its format, and the refusals."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from scalesim_patterns.cli import simulate_cmds  # noqa: F401
from scalesim_patterns.cli.main import cli

from ...conftest import TEMPLATES

TRACED = str(TEMPLATES / "distributed-tracing.yaml")
UNTRACED = str(TEMPLATES / "bulkhead.yaml")


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _simulate(*extra: str) -> Result:
    return run(
        "simulate", TRACED, "--duration", "3s", "--warmup", "1s", "--replications", "1",
        "--jobs", "1", *extra,
    )  # fmt: skip


def test_writes_the_files_exporter_format_and_says_what_it_kept(tmp_path: Path) -> None:
    target = tmp_path / "traces.json"
    result = _simulate("--traces", str(target), "--max-traces", "20")
    assert result.exit_code == 0, result.output
    doc = json.loads(target.read_text(encoding="utf-8"))
    assert "resourceSpans" in doc  # the template's exporter is otlp
    assert "20 traces" in result.output
    assert "over the cap of 20" in result.output
    assert "critical path of sampled traces" in result.output
    assert "POST /checkout" in result.output


def test_zipkin_and_jaeger_on_request(tmp_path: Path) -> None:
    for fmt, check in (("zipkin", list), ("jaeger", dict)):
        target = tmp_path / f"{fmt}.json"
        result = _simulate("--traces", str(target), "--trace-format", fmt)
        assert result.exit_code == 0, result.output
        assert isinstance(json.loads(target.read_text(encoding="utf-8")), check)


def test_refuses_to_overwrite_without_force_before_running(tmp_path: Path) -> None:
    target = tmp_path / "traces.json"
    target.write_text("mine", encoding="utf-8")
    result = _simulate("--traces", str(target))
    assert result.exit_code == 2
    assert "exists; pass --force" in result.output
    assert target.read_text(encoding="utf-8") == "mine"
    result = _simulate("--traces", str(target), "--force")
    assert result.exit_code == 0
    assert target.read_text(encoding="utf-8").startswith('{"resourceSpans"')


def test_a_file_without_tracing_is_told_how_to_turn_it_on(tmp_path: Path) -> None:
    result = run("simulate", UNTRACED, "--duration", "2s", "--traces", str(tmp_path / "t.json"))
    assert result.exit_code == 2
    assert "spec.tracing" in result.output and "sampling" in result.output
    assert not (tmp_path / "t.json").exists()


def test_a_format_without_a_file_is_refused() -> None:
    result = _simulate("--trace-format", "zipkin")
    assert result.exit_code == 2
    assert "--trace-format needs --traces FILE" in result.output
