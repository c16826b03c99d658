"""Issue 9 at the command line: every hostile input ends in a message and exit 2 (or 130 for
Ctrl-C), before any long work, within bounded memory and CPU."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from scalesim_patterns.cli import catalog_cmds, generate_cmds, simulate_cmds  # noqa: F401
from scalesim_patterns.cli.main import cli
from scalesim_patterns.sim.parallel import Interrupted

from ..model.test_hostile import flow_laughs, laughs
from ..model.test_loader import BASE

SMALL = (
    BASE.replace("rate: 50/s", "rate: 20/s")
    + "  simulation: {duration: 20s, warmup: 2s, seed: 3}\n"
)


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.fixture
def arch_file(tmp_path: Path) -> str:
    return write(tmp_path, "arch.yaml", SMALL)


def no_simulation(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the run started although the input was refused")

    monkeypatch.setattr(simulate_cmds, "simulate", refuse)
    monkeypatch.setattr(simulate_cmds, "compare", refuse)


# -- bounded work, in a child with hard limits on memory and CPU ------------------------------


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (1024**3, 1024**3))
    resource.setrlimit(resource.RLIMIT_CPU, (60, 60))


def scalesim(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The real command, in a process that the kernel stops beyond 1 GiB or 60 s of CPU."""
    return subprocess.run(
        [sys.executable, "-m", "scalesim_patterns.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        preexec_fn=_limited,
        stdin=subprocess.DEVNULL,
        check=False,
    )


@pytest.mark.skipif(sys.platform != "linux", reason="resource limits as on Linux")
def test_small_inputs_with_unbounded_work_are_refused_within_limits(tmp_path: Path) -> None:
    bomb = write(tmp_path, "bomb.yaml", "a: &a [*a, *a]\n")
    lol = write(tmp_path, "lol.yaml", laughs(9, 9))
    big = write(tmp_path, "big.yaml", SMALL.replace("rate: 20/s", "rate: 1000000000000/s"))
    cases = [
        (["validate", bomb], "refers to the collection it is inside of"),
        (["validate", lol], "aliases expand to more than"),
        (["lint", lol], "aliases expand to more than"),
        (["lint", bomb], "refers to the collection it is inside of"),
        (["simulate", big], "the simulation is too large"),
        (["new", "api-gateway", "-o", "x.yaml", "--set", "x=&a [*a]"], "refers to the"),
        (["new", "api-gateway", "-o", "y.yaml", "--set", "x=" + flow_laughs(9, 9)], "aliases"),
    ]
    if os.path.exists("/dev/zero"):
        cases.append((["validate", "/dev/zero"], "larger than 8 MiB"))
    for args, expected in cases:
        done = scalesim(*args, cwd=tmp_path)
        assert done.returncode == 2, (args, done.returncode, done.stderr[-500:])
        assert expected in done.stderr + done.stdout, (args, done.stderr[-500:])
        assert "Traceback" not in done.stderr
    assert not (tmp_path / "x.yaml").exists() and not (tmp_path / "y.yaml").exists()


def test_set_of_a_5000_digit_number_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "n.yaml"
    result = run("new", "api-gateway", "-o", str(out), "--set", "gateway.replicas=" + "9" * 5000)
    assert result.exit_code == 2
    assert "too long to read" in result.output
    assert len(result.output) < 1000 and not out.exists()


def test_escape_sequences_in_keys_are_not_echoed(tmp_path: Path) -> None:
    path = write(tmp_path, "esc.yaml", SMALL.replace("workers: 4", '"\\e[2J\\e[31mred": 4'))
    result = run("validate", path)
    assert result.exit_code == 2
    assert "\x1b" not in result.output
    assert "\\x1b[2J" in result.output


# -- simulate and compare --------------------------------------------------------------------


def test_zero_duration_is_a_usage_error(arch_file: str, monkeypatch: pytest.MonkeyPatch) -> None:
    no_simulation(monkeypatch)
    for value in ("0s", "0ms", "0h"):
        result = run("simulate", arch_file, "--duration", value)
        assert result.exit_code == 2
        assert "must be positive" in result.output


def test_absurd_simulations_name_the_flag_and_the_flag_lifts_the_limit(arch_file: str) -> None:
    refused = run("simulate", arch_file, "--max-events", "10")
    assert refused.exit_code == 2
    assert "the simulation is too large" in refused.output
    assert "--max-events" in refused.output
    lifted = run("simulate", arch_file, "--max-events", "0", "--duration", "5s", "--warmup", "1s")
    assert lifted.exit_code == 0, lifted.output


def test_bad_limit_values_are_usage_errors(arch_file: str) -> None:
    for flag, value in (("--max-events", "lots"), ("--max-memory", "-1"), ("--max-events", "nan")):
        result = run("simulate", arch_file, flag, value)
        assert result.exit_code == 2, (flag, value)


def test_json_into_a_place_that_cannot_be_written_fails_before_the_run(
    arch_file: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_simulation(monkeypatch)
    a_file = tmp_path / "plain"
    a_file.write_text("x")
    for target in (a_file / "out.json", tmp_path):
        result = run("simulate", arch_file, "--json", str(target))
        assert result.exit_code == 2, result.output
    result = run("compare", arch_file, arch_file, "--json", str(a_file / "out.json"))
    assert result.exit_code == 2
    assert a_file.read_text() == "x"


def test_json_into_a_read_only_folder_fails_before_the_run(
    arch_file: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_simulation(monkeypatch)
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        if os.access(folder, os.W_OK):  # root writes anyway: make the probe see a read-only fs
            real = tempfile.TemporaryFile

            def read_only(*args: Any, **kwargs: Any) -> Any:
                if Path(str(kwargs.get("dir"))) == folder:
                    raise OSError(30, "Read-only file system")
                return real(*args, **kwargs)

            monkeypatch.setattr(tempfile, "TemporaryFile", read_only)
        for target in (folder / "out.json", folder / "missing" / "out.json"):
            result = run("simulate", arch_file, "--json", str(target))
            assert result.exit_code == 2
            assert "cannot write" in result.output
    finally:
        folder.chmod(0o755)


def test_jobs_beyond_the_cores_are_capped_with_a_message(
    arch_file: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    seen: dict[str, Any] = {}

    def fake(*args: Any, **kwargs: Any) -> Any:
        seen.update(kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(simulate_cmds, "simulate", fake)
    result = run("simulate", arch_file, "--jobs", "64")
    assert seen["jobs"] == 2
    assert "--jobs 64: using 2" in result.output


def test_ctrl_c_exits_130_and_says_what_finished(
    arch_file: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise Interrupted([0, 1], 5)

    monkeypatch.setattr(simulate_cmds, "simulate", interrupted)
    monkeypatch.setattr(simulate_cmds, "compare", interrupted)
    for args in (("simulate", arch_file), ("compare", arch_file, arch_file)):
        result = run(*args)
        assert result.exit_code == 130
        assert "2 of 5 replications had finished (replications 0, 1)" in result.output


def test_progress_off_a_terminal_is_periodic_lines(
    arch_file: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(simulate_cmds, "PROGRESS_LINE_SECONDS", 0.0)
    result = run("simulate", arch_file, "--progress", "--duration", "5s", "--warmup", "1s")
    assert result.exit_code == 0
    lines = [line for line in result.stderr.splitlines() if line.startswith("simulating mini: ")]
    assert lines and "%" in lines[0]
    quiet = run("simulate", arch_file, "--duration", "5s", "--warmup", "1s")
    assert "simulating mini: " not in quiet.stderr  # a short run off a terminal stays quiet


def test_compare_of_architectures_with_different_entries(arch_file: str, tmp_path: Path) -> None:
    other = write(
        tmp_path,
        "other.yaml",
        SMALL.replace("- endpoint: front.home", "- endpoint: back.get"),
    )
    out = tmp_path / "cmp.json"
    result = run(
        "compare", arch_file, other, "--replications", "2", "--duration", "5s", "--warmup", "1s",
        "--json", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "only in A" in result.stdout and "only in B" in result.stdout
    assert f"only {arch_file} has entry front.home" in result.stderr.replace("\n", " ")
    data = json.loads(out.read_text())
    assert data["difference"]["entries"]["front.home"] is None
    assert data["difference"]["totals"] is not None


def test_schema_to_standard_output_with_dash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("schema", "-o", "-")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["title"]
    assert not (tmp_path / "-").exists()
