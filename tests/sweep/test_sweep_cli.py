"""`scalesim sweep` as a user meets it: outputs, refusals, exit codes."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from scalesim_patterns.cli import sweep_cmds  # noqa: F401
from scalesim_patterns.cli.main import cli

from .conftest import SMALL


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_sweep_writes_its_outputs_and_refuses_to_overwrite(tmp_path: Path) -> None:
    arch = tmp_path / "small.yaml"
    arch.write_text(SMALL)
    out = tmp_path / "out"
    args = [
        "sweep",
        str(arch),
        "--vary",
        "services.s.workers=1,2",
        "-o",
        str(out),
        "--workers",
        "1",
    ]
    result = run(*args)
    assert result.exit_code == 0, result.output
    assert "services.s.workers" in result.output  # the sensitivity summary
    for name in ("results.csv", "results.parquet", "sensitivity.txt", "p99.png", "throughput.svg"):
        assert (out / name).is_file(), name
    lines = (out / "results.csv").read_text().splitlines()
    assert len(lines) == 1 + 2
    again = run(*args)
    assert again.exit_code == 2 and "--force" in again.output


def test_bad_vary_and_bad_point_exit_2(tmp_path: Path) -> None:
    arch = tmp_path / "small.yaml"
    arch.write_text(SMALL)
    r = run("sweep", str(arch), "--vary", "services.s.workers=1..4", "-o", str(tmp_path / "o"))
    assert r.exit_code == 2 and "needs a count" in r.output
    r = run("sweep", str(arch), "--vary", "services.s.wrokers=1,2", "-o", str(tmp_path / "o"))
    assert r.exit_code == 2 and "did you mean 'workers'" in r.output
    assert not (tmp_path / "o").exists()
