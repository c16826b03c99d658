"""Running `scalesim load` for real, in a child process, as the tests of its JSON need it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any


def run_load(tmp_path: Path, design: str, *, duration: str, warmup: str) -> dict[str, Any]:
    """`scalesim load` of the architecture text `design` with sleeping work, and its JSON.

    In a child process, as a user runs it (the services bind real ports and must be gone after);
    a failure shows load's stderr. The tests read the figures, so how it is run is kept in one
    place."""
    file = tmp_path / "design.yaml"
    file.write_text(design, encoding="utf-8")
    out = tmp_path / "load.json"
    proc = subprocess.run(
        [sys.executable, "-m", "scalesim_patterns.cli", "load", str(file), "--duration", duration,
         "--warmup", warmup, "--work", "sleep", "--json", str(out)],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    data: dict[str, Any] = json.loads(out.read_text())
    return data
