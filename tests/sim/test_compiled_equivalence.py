"""The compiled engine (mypyc, `make compiled`) writes the same results JSON as the pure-Python
reference, byte for byte, on every template and scenario (benchmarks/equivalence.py's short mode:
6 simulated seconds, scenario clocks compressed so every fault happens inside the run).

Runs only where the compiled build is present (`make compiled`); CI that builds it sets
SCALESIM_REQUIRE_COMPILED=1 so that a missing build fails instead of skipping. `make bench`
runs the same comparison before it reports any compiled figure.
"""

from __future__ import annotations

import importlib.machinery
import os
import subprocess
import sys
from pathlib import Path

import pytest

from scalesim_patterns import catalog, compiled

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

from equivalence import differences, dump  # noqa: E402


def _built() -> bool:
    import scalesim_patterns

    core = Path(scalesim_patterns.__file__).parent / "sim" / "core"
    return any(
        (core / f"kernel{suffix}").exists() for suffix in importlib.machinery.EXTENSION_SUFFIXES
    )


if not _built():
    if os.environ.get("SCALESIM_REQUIRE_COMPILED") == "1":
        raise RuntimeError("SCALESIM_REQUIRE_COMPILED=1 but the compiled engine is not built")
    pytest.skip("compiled engine not built (make compiled)", allow_module_level=True)


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
