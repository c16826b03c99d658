"""The compiled build of the simulator's engine (mypyc and the machine's C compiler).

Everything else is in pyproject.toml; this file adds the mypyc extensions of the engine's hot
modules (`COMPILED_MODULES` in src/scalesim_patterns/_build.py) to every build:

    make install                                   # the venv, then the extensions in place
    python setup.py build_ext --inplace            # what `make install` runs (venv's mypyc)
    pip install --no-build-isolation -e .          # where mypyc and the dependencies are installed
    SCALESIM_COMPILE=0 pip install -e .            # pure Python, on purpose

mypyc type-checks the engine against its dependencies (pydantic, …), so it runs where they are
installed: `make install` installs them first, then builds in place. Where mypyc or a C compiler
is missing, or the build fails, the package installs as pure Python with a warning, and runs
(the pure-Python sources are the reference; SCALESIM_PURE=1 runs them beside a build).

A successful build writes `compiled-sources.txt` next to the extensions (the SHA-256 of each
compiled source); at import, an extension whose source changed since is not used: the package
falls back to the pure-Python engine and warns (`_build.stale_build`).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

from setuptools import setup

HERE = Path(__file__).resolve().parent
PACKAGE_DIR = HERE / "src" / "scalesim_patterns"


def _build_module() -> ModuleType:
    """src/scalesim_patterns/_build.py, loaded by path (the package's dependencies may not be
    installed yet: that file uses the standard library only)."""
    spec = importlib.util.spec_from_file_location("_scalesim_build", PACKAGE_DIR / "_build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BUILD = _build_module()


def warn(message: str) -> None:
    print(f"warning: {message}; the pure-Python engine will run", file=sys.stderr)


def compiled_modules() -> list[str]:
    """Paths relative to the package directory; SCALESIM_COMPILE_MODULES (space-separated)
    tries another set."""
    return os.environ.get("SCALESIM_COMPILE_MODULES", "").split() or list(BUILD.COMPILED_MODULES)


def ext_modules() -> list[object]:
    if os.environ.get("SCALESIM_COMPILE", "1") in ("0", "false", "no"):
        return []
    if not {"build_ext", "bdist_wheel", "editable_wheel", "develop", "install"} & set(sys.argv):
        return []  # egg_info, sdist, --version …: no type-check
    try:
        from mypyc.build import mypycify
    except ImportError:
        warn("mypyc is not installed (pip install mypy), the engine is not compiled")
        return []
    try:
        return list(
            mypycify(
                [f"src/scalesim_patterns/{m}" for m in compiled_modules()],
                opt_level=os.environ.get("SCALESIM_COMPILE_OPT", "3"),
                debug_level=os.environ.get("SCALESIM_COMPILE_DEBUG", "0"),
                separate=os.environ.get("SCALESIM_COMPILE_SEPARATE", "") == "1",
            )
        )
    except (Exception, SystemExit) as exc:  # mypyc refused the code: fall back, say so
        warn(f"mypyc could not compile the engine ({exc})")
        return []


def cmdclass() -> dict[str, type]:
    from setuptools.command.build_ext import build_ext

    class OptionalBuildExt(build_ext):
        """All extensions or none: the modules share one mypyc group, a partial build would
        not import. On success, the source manifest goes next to the extensions."""

        failed: bool = False

        def run(self) -> None:
            self.errors: list[str] = []
            if not self.extensions:
                return
            try:
                super().run()
            except Exception as exc:
                self.failed = True
                warn(f"the compiled engine was not built ({exc})")
            if self.errors:
                warn(
                    f"{len(self.errors)} of {len(self.extensions)} engine extensions did not "
                    f"compile (first: {self.errors[0]})"
                )
            outputs = [Path(self.get_ext_fullpath(ext.name)) for ext in self.extensions]
            package_dirs = {HERE / "src" / "scalesim_patterns"} if self.inplace else set()
            package_dirs.add(Path(self.build_lib) / "scalesim_patterns")
            if getattr(self, "editable_mode", False):
                package_dirs.add(PACKAGE_DIR)
            for package_dir in package_dirs:
                manifest = package_dir / BUILD.COMPILED_MANIFEST
                if self.failed:
                    manifest.unlink(missing_ok=True)
                elif package_dir.is_dir():
                    text = BUILD.manifest_text(PACKAGE_DIR, compiled_modules())
                    manifest.write_text(text, encoding="utf-8")
            if self.failed:
                for path in outputs:
                    path.unlink(missing_ok=True)

        def build_extension(self, ext: object) -> None:
            try:
                super().build_extension(ext)  # type: ignore[arg-type]
            except Exception as exc:
                self.failed = True
                self.errors.append(f"{getattr(ext, 'name', ext)}: {exc}")

    return {"build_ext": OptionalBuildExt}


setup(ext_modules=ext_modules(), cmdclass=cmdclass())
