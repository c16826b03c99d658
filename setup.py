"""Optional compiled build of the simulator's engine (mypyc), opt-in: SCALESIM_COMPILE=1.

Everything is in pyproject.toml; this file only adds the mypyc extensions when asked:

    SCALESIM_COMPILE=1 pip install -e .        # or: make compiled
    SCALESIM_COMPILE=1 python setup.py build_ext --inplace

The modules compiled are the simulator's (`COMPILED` below); the pure-Python sources stay the
reference (set SCALESIM_PURE=1 to run them even when the extensions are present). When mypyc or a C
compiler is missing, or the build fails, the package installs as pure Python with a warning.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

from setuptools import setup

HERE = Path(__file__).resolve().parent
SRC = HERE / "src"
EXCLUDED = {
    # Not on the event loop: orchestration, processes, estimates (compiling them gains nothing).
    "scalesim_patterns/sim/__init__.py",
    "scalesim_patterns/sim/api.py",
    "scalesim_patterns/sim/parallel.py",
    "scalesim_patterns/sim/budget.py",
    # A list subclass (mypyc compiles no subclass of a builtin but dict); read once per run.
    "scalesim_patterns/sim/platform/fault_log.py",
}


def compiled_modules() -> list[str]:
    """Every module of `scalesim_patterns.sim` but the orchestration above."""
    files = sorted(
        p.relative_to(SRC).as_posix() for p in (SRC / "scalesim_patterns/sim").rglob("*.py")
    )
    return [f"src/{f}" for f in files if f not in EXCLUDED]


def ext_modules() -> list[object]:
    if os.environ.get("SCALESIM_COMPILE", "") not in ("1", "true", "yes"):
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        warnings.warn(
            "SCALESIM_COMPILE=1 but mypyc is not installed: installing pure Python", stacklevel=1
        )
        return []
    try:
        # One C file per module (`separate`): `build_ext -j N` compiles them in parallel, where
        # one file for the whole engine took gcc over ten minutes on a loaded 2-core machine.
        return list(mypycify(compiled_modules(), opt_level="3", debug_level="0", separate=True))
    except (Exception, SystemExit) as exc:  # mypyc refused the code: fall back, say so
        warnings.warn(
            f"mypyc could not compile the engine ({exc}): installing pure Python", stacklevel=1
        )
        return []


def cmdclass() -> dict[str, type]:
    from setuptools.command.build_ext import build_ext

    class OptionalBuildExt(build_ext):
        def run(self) -> None:
            try:
                super().run()
            except Exception as exc:
                print(
                    f"warning: compiled engine not built ({exc}); pure Python in use",
                    file=sys.stderr,
                )

        def build_extension(self, ext: object) -> None:
            try:
                super().build_extension(ext)  # type: ignore[arg-type]
            except Exception as exc:
                print(f"warning: {getattr(ext, 'name', ext)} not compiled ({exc})", file=sys.stderr)

    return {"build_ext": OptionalBuildExt}


setup(ext_modules=ext_modules(), cmdclass=cmdclass())
