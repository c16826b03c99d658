"""ScaleSim Patterns: design microservice systems from proven patterns, simulate them, generate them.

The Python API mirrors the `scalesim` command:

    import scalesim_patterns as ssp
    arch = ssp.load("shop.yaml")                  # validate + load, ArchitectureError otherwise
    arch, diagnostics = ssp.validate("shop.yaml")
    ssp.catalog.patterns()                        # the twelve patterns
    text = ssp.new("ecommerce", ["services.order.replicas=5"])
    result = ssp.simulate(arch)                   # scalesim simulate
    files = ssp.generate(arch)                    # scalesim generate
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._build import compiled, stale_build, use_pure_python

__version__ = "0.1.0"

if os.environ.get("SCALESIM_PURE", "") not in ("", "0"):
    use_pure_python()
elif (_stale := stale_build(Path(__file__).parent)) is not None:
    # Never run an extension built from another source than the one on disk.
    use_pure_python()
    warnings.warn(
        f"scalesim_patterns: {_stale}; running the pure-Python engine "
        "(rebuild the compiled one: make install)",
        RuntimeWarning,
        stacklevel=2,
    )

__all__ = [
    "Architecture",
    "ArchitectureError",
    "Diagnostic",
    "__version__",
    "catalog",
    "compare",
    "compiled",
    "dump",
    "generate",
    "load",
    "loads",
    "new",
    "simulate",
    "validate",
]

_MODEL = frozenset(
    {"Architecture", "ArchitectureError", "Diagnostic", "dump", "load", "loads", "validate"}
)

if TYPE_CHECKING:
    from . import catalog
    from .catalog import new
    from .generate import generate
    from .model import Architecture, ArchitectureError, Diagnostic, dump, load, loads, validate
    from .sim import compare, simulate


def __getattr__(name: str) -> Any:
    # Everything loads on first use: the model's pydantic classes cost a few hundred ms of CPU
    # to build, which `scalesim --help` and `scalesim_patterns.__version__` need not pay.
    import importlib

    if name in _MODEL:
        return getattr(importlib.import_module(".model", __name__), name)
    if name == "catalog":
        return importlib.import_module(".catalog", __name__)
    if name == "new":
        return importlib.import_module(".catalog", __name__).new
    if name in ("simulate", "compare"):
        return getattr(importlib.import_module(".sim", __name__), name)
    if name == "generate":
        return importlib.import_module(".generate", __name__).generate
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
