"""Which build of the simulator runs: the mypyc-compiled engine or the pure-Python reference.

The compiled build (`make compiled`, see setup.py) puts extension modules next to the sources;
Python prefers them. `SCALESIM_PURE=1` in the environment makes `scalesim_patterns` import its
sources instead, so the reference engine can run beside the compiled one (the benchmark and the
equivalence test compare their JSON byte for byte).
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType

PACKAGE = "scalesim_patterns"


class _SourcesOnly(importlib.abc.MetaPathFinder):
    """Finds `scalesim_patterns.*` in its `.py` files only, never an extension module."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if not fullname.startswith(PACKAGE + ".") or path is None:
            return None
        loaders = [(importlib.machinery.SourceFileLoader, importlib.machinery.SOURCE_SUFFIXES)]
        for entry in path:
            spec = importlib.machinery.FileFinder(entry, *loaders).find_spec(fullname)
            if spec is not None:
                return spec
        return None


def use_pure_python() -> None:
    """From now on, import the package's modules from their sources (call before importing
    any of them; `SCALESIM_PURE=1` does it when the package is imported)."""
    if not any(isinstance(f, _SourcesOnly) for f in sys.meta_path):
        sys.meta_path.insert(0, _SourcesOnly())


def compiled() -> bool:
    """True when the simulator's kernel in use is the compiled extension."""
    from scalesim_patterns.sim.core import kernel

    return not (kernel.__file__ or "").endswith(".py")
