"""The compiled engine (mypyc, built by `make install`) writes the same results JSON as the pure-Python
reference, byte for byte, on every template and scenario (benchmarks/equivalence.py's short mode:
6 simulated seconds, scenario clocks compressed so every fault happens inside the run).

Runs where the compiled build is present and current (`make install` and `make test` build it);
skips otherwise, e.g. on a machine without a C compiler, where the pure-Python engine runs.
CI (.ci/run) sets SCALESIM_REQUIRE_COMPILED=1: a missing or stale build fails there instead of
skipping. `make bench` runs the same comparison before it reports any compiled figure.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from scalesim_patterns import catalog, compiled

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

from equivalence import differences, dump  # noqa: E402


def _unusable() -> str | None:
    """Why the compiled engine cannot be compared here (None: it is built and current)."""
    import scalesim_patterns
    from scalesim_patterns._build import has_extensions, stale_build

    package_dir = Path(scalesim_patterns.__file__).parent
    if not has_extensions(package_dir):
        return "compiled engine not built (make install builds it)"
    return stale_build(package_dir)


if (_why := _unusable()) is not None:
    if os.environ.get("SCALESIM_REQUIRE_COMPILED") == "1":
        raise RuntimeError(f"SCALESIM_REQUIRE_COMPILED=1 but {_why}")
    pytest.skip(_why, allow_module_level=True)


def test_this_process_runs_the_compiled_engine() -> None:
    assert compiled()


@pytest.mark.parametrize("template", [t.id for t in catalog.templates()])
def test_compiled_json_is_byte_identical_to_pure_python(template: str, tmp_path: Path) -> None:
    pure = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "equivalence.py"),
            "dump",
            str(tmp_path / "pure"),
            "--template",
            template,
        ],
        env={**os.environ, "SCALESIM_PURE": "1"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert "(pure Python)" in pure.stdout
    written = dump(tmp_path / "compiled", only=template)
    assert written
    assert differences(tmp_path / "pure", tmp_path / "compiled") == []
