"""Recorded arrival series in CSV: read next to the architecture file, bounded, clear errors."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from scalesim_patterns.cli.main import cli
from scalesim_patterns.model import Severity, load, validate, validate_text
from scalesim_patterns.model.series import MAX_CSV_BYTES, SeriesArrival

ARCH = textwrap.dedent(
    """\
    apiVersion: scalesim.dev/v1alpha1
    kind: Architecture
    metadata: {{name: mini}}
    spec:
      services:
        s:
          endpoints: {{e: {{work: 1ms}}}}
      traffic:
        load:
          arrival: {{process: series, file: {file}, interpolation: step}}
          mix: [{{endpoint: s.e}}]
      simulation: {{duration: 60s, warmup: 0s}}
    """
)

GOOD = "seconds,rate_per_second\n0,10\n30,40\n"


def write(folder: Path, csv: str | None, name: str = "rates.csv", file: str = "rates.csv") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if csv is not None:
        (folder / name).write_text(csv, encoding="utf-8")
    arch = folder / "arch.yaml"
    arch.write_text(ARCH.format(file=file), encoding="utf-8")
    return arch


def errors(path: Path) -> list[str]:
    _, diags = validate(path)
    return [str(d) for d in diags if d.severity is Severity.ERROR]


def test_a_good_file_is_read_into_the_model(tmp_path: Path) -> None:
    arch = load(write(tmp_path, GOOD))
    arrival = arch.spec.traffic["load"].arrival  # type: ignore[union-attr]
    assert isinstance(arrival, SeriesArrival)
    assert arrival.series() == [(0.0, 10.0), (30.0, 40.0)]
    assert arrival.peak() == 40.0


@pytest.mark.parametrize(
    ("csv", "message"),
    [
        ("time,rate\n0,1\n", "line 1: expected the header 'seconds,rate_per_second'"),
        (
            "seconds,rate_per_second\n0,1\n5,abc\n",
            "rates.csv line 3: rate_per_second 'abc' is not a number",
        ),
        (
            "seconds,rate_per_second\n0,1\n5,-2\n",
            "line 3: rate_per_second must be a finite number >= 0",
        ),
        (
            "seconds,rate_per_second\n0,1\n10,1\n10,2\n",
            "line 4: time 10 is not after the previous row's 10",
        ),
        ("seconds,rate_per_second\n0,1,2\n", "line 2: expected 2 values, got 3"),
        ("seconds,rate_per_second\n", "has a header but no rows"),
        ("", "is empty"),
        ("seconds,rate_per_second\n0,nan\n", "must be a finite number"),
    ],
)
def test_bad_rows_name_the_csv_line(tmp_path: Path, csv: str, message: str) -> None:
    found = errors(write(tmp_path, csv))
    assert len(found) == 1 and message in found[0], found
    # The diagnostic points at the `file:` field of the architecture file.
    assert "arch.yaml:10:" in found[0] and "spec.traffic.load.arrival.file" in found[0]


def test_the_file_may_not_leave_the_folder(tmp_path: Path) -> None:
    (tmp_path / "outside.csv").write_text(GOOD)
    inner = tmp_path / "project"
    assert "'..' is not allowed" in errors(write(inner, None, file="../outside.csv"))[0]
    assert (
        "relative to the architecture file"
        in errors(write(inner, None, file=str(tmp_path / "outside.csv")))[0]
    )
    os.symlink(tmp_path / "outside.csv", inner / "link.csv")
    assert (
        "leads outside the architecture file's folder"
        in errors(write(inner, None, file="link.csv"))[0]
    )
    assert "does not exist" in errors(write(inner, None, file="missing.csv"))[0]
    (inner / "dir.csv").mkdir()
    assert "is not a regular file" in errors(write(inner, None, file="dir.csv"))[0]


def test_a_subfolder_is_fine(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "rates.csv").write_text(GOOD)
    arch = write(tmp_path, None, file="data/rates.csv")
    assert errors(arch) == []


def test_size_is_bounded(tmp_path: Path) -> None:
    rows = "seconds,rate_per_second\n" + "".join(f"{i},1\n" for i in range(MAX_CSV_BYTES // 6))
    assert len(rows) > MAX_CSV_BYTES
    found = errors(write(tmp_path, rows))
    assert "is larger than 4 MiB" in found[0]


def test_text_without_a_folder_cannot_name_a_file() -> None:
    _, diags = validate_text(ARCH.format(file="rates.csv"), "upload.yaml")
    (d,) = diags
    assert d.severity is Severity.ERROR and "write the rates inline with `points:`" in d.message


def test_inline_points_are_checked() -> None:
    text = ARCH.format(file="x").replace(
        "{process: series, file: x, interpolation: step}",
        "{process: series, points: [{at: 10s, rate: 1/s}, {at: 5s, rate: 2/s}]}",
    )
    _, diags = validate_text(text, "a.yaml")
    assert any("strictly increasing" in d.message for d in diags)
    text2 = ARCH.format(file="x").replace(
        "{process: series, file: x, interpolation: step}",
        "{process: series, points: [{at: 0s, rate: 1/s}, {at: 25h, rate: 2/s}], period: 24h}",
    )
    _, diags = validate_text(text2, "a.yaml")
    assert any("inside the period" in d.message for d in diags)


def test_cli_validate_exits_2_with_the_message(tmp_path: Path) -> None:
    arch = write(tmp_path, "seconds,rate_per_second\n0,x\n")
    result = CliRunner().invoke(cli, ["validate", str(arch)])
    assert result.exit_code == 2
    assert "rates.csv line 2" in result.output
    assert "Traceback" not in result.output
