"""benchmarks/baseline.py's failure paths: bad arguments and an engine "then" that cannot be
had give one clear line, never a traceback. No figure is asserted (a benchmark, not a test)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "baseline.py"
sys.path.insert(0, str(ROOT / "benchmarks"))

import baseline  # noqa: E402


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rounds", "0"], "--rounds must be at least 1"),
        (["--seconds", "0"], "--seconds must be above 0"),
        (["--templates", "ecommerce,nope"], "no template nope in today's catalog"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(args: list[str], message: str) -> None:
    out = run(*args)
    assert out.returncode == 2, out.stderr
    assert message in out.stderr
    assert "Traceback" not in out.stderr


def test_a_missing_commit_skips_then_and_still_measures_now() -> None:
    commit = "0123456789abcdef0123456789abcdef01234567"
    out = run("--commit", commit, "--templates", "ecommerce", "--rounds", "1", "--seconds", "0.5")
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    inside = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--is-inside-work-tree"],
        capture_output=True,
        check=False,
    )
    if inside.returncode == 0:
        assert f"commit {commit} is not in this checkout" in out.stdout
    else:
        assert "is not a git checkout" in out.stdout
    row = next(line for line in out.stdout.splitlines() if line.startswith("| ecommerce "))
    cells = [c.strip() for c in row.strip("|").split("|")]
    # requests then, requests now, then req/CPU s, now pure, ...
    assert cells[1] == "-" and cells[3] == "-"
    assert cells[2] != "-" and cells[4] != "-"


def test_outside_a_git_checkout_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(baseline, "ROOT", tmp_path)
    full, why = baseline.locate(baseline.THEN)
    assert full is None
    assert why == f"{tmp_path} is not a git checkout: the engine at {baseline.THEN} is not measured"
