"""Which build of the simulator runs: the mypyc-compiled engine or the pure-Python reference.

The compiled build (`make install` builds it, see setup.py) puts extension modules next to the
sources; Python prefers them. `SCALESIM_PURE=1` in the environment makes `scalesim_patterns`
import its sources instead, so the reference engine can run beside the compiled one (the
benchmark and the equivalence test compare their JSON byte for byte).

The build also writes `COMPILED_MANIFEST`: the SHA-256 of every source it compiled. In an
editable install the sources stay editable, and an extension built from an older source would
otherwise run instead of the edited file without a word; `stale_build()` compares the
manifest with the sources at import, and `scalesim_patterns` falls back to the pure-Python
engine, with a warning, when they differ (or when the manifest is missing). The manifest also
notes each source's size, modification and change times as the build saw them: a source whose
`stat` still says exactly that is the one hashed, and is not read again (every process imports
the package; hashing the sources and loading OpenSSL for it was 2 % of `scalesim simulate`'s
start). Writing a file sets its change time to the clock, which no call can set back, so a
source edited since the build is hashed and compared; a copied or installed tree, whose times
are its own, is hashed too.

Standard library only: setup.py loads this file by path before the package's dependencies are
installed.
"""

from __future__ import annotations

import importlib.machinery
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

PACKAGE = "scalesim_patterns"

COMPILED_MODULES: tuple[str, ...] = (
    # The event loop and what every event touches: kernel, samplers, histograms, stations,
    # steps, balancing, the client pipeline, traffic, topics, the time series.
    "sim/core/causes.py",
    "sim/core/histogram.py",
    "sim/core/kernel.py",
    "sim/core/plugins.py",
    "sim/core/rng.py",
    "sim/core/stats.py",
    "sim/network/balancing.py",
    "sim/network/host.py",
    "sim/network/pipeline.py",
    "sim/network/station.py",
    "sim/network/steps.py",
    "sim/network/topics.py",
    "sim/network/traffic.py",
    "sim/network/gateway.py",
    "sim/network/legs.py",
    "sim/reports/timeseries.py",
    "sim/reports/telemetry.py",
    # Resilience on the call path.
    "sim/mechanisms/breaker.py",
    "sim/mechanisms/bulkhead.py",
    "sim/mechanisms/retry.py",
    "sim/mechanisms/subscription.py",
    "sim/patterns/resilience.py",
    "sim/patterns/mesh.py",
    # Subclasses of station classes, compiled with them.
    "sim/patterns/rollout.py",
    "sim/patterns/saga.py",
    "sim/platform/lifecycle.py",
    # Per-request work of the templates that have them: rate limits, faults' patches,
    # CPU-bound services, caches, sessions, outlier ejection, probes, event sourcing, workflows
    # (38 modules). Not `network/loops.py`: its `super().__init__(*args)` into a compiled
    # class passed the tuple as the first argument (a mypyc miscompilation; tests/sim caught it).
    "sim/mechanisms/ratelimit.py",
    "sim/patterns/ratelimiting.py",
    "sim/platform/patches.py",
    "sim/network/processor.py",
    "sim/network/caches.py",
    "sim/network/sessions.py",
    "sim/mechanisms/outlier.py",
    "sim/mechanisms/probes.py",
    "sim/platform/faults.py",
    "sim/patterns/eventsourcing.py",
    "sim/patterns/workflows.py",
    "sim/patterns/workflow_state.py",
)
"""Modules compiled by mypyc, in one group, relative to the package directory. A class of
these that an interpreted module subclasses carries `@mypyc_attr(allow_interpreted_subclasses=
True)` (tests/test_build.py checks it); a dataclass's field types must exist at run time."""

COMPILED_MANIFEST = "compiled-sources.txt"
"""Written next to the extensions by the build: `<sha256>  <module path>  <stamp>` per compiled
module (see `source_stamp`; a line without a stamp, as older builds wrote, is always hashed)."""


def source_digest(path: Path) -> str:
    import hashlib  # only when a source must be read: OpenSSL is loaded for it

    return hashlib.sha256(path.read_bytes()).hexdigest()


def source_stamp(st: os.stat_result) -> str:
    """A source's size, modification and change times (ns): `<size>:<mtime>:<ctime>`."""
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}"


def manifest_text(package_dir: Path, modules: Sequence[str] = COMPILED_MODULES) -> str:
    """The manifest of the sources as they are now (what the build records)."""
    lines = []
    for rel in sorted(modules):
        source = package_dir / rel
        stamp = source_stamp(os.stat(source))
        digest = source_digest(source)
        if source_stamp(os.stat(source)) != stamp:
            stamp = ""  # written while it was read: no stamp, hashed at every import
        lines.append(f"{digest}  {rel}  {stamp}\n" if stamp else f"{digest}  {rel}\n")
    return "".join(lines)


def has_extensions(package_dir: Path) -> bool:
    kernel = os.path.join(package_dir, "sim", "core", "kernel")
    return any(
        os.path.exists(f"{kernel}{suffix}") for suffix in importlib.machinery.EXTENSION_SUFFIXES
    )


def stale_build(package_dir: Path) -> str | None:
    """Why the compiled extensions present must not run (None when there are none, or when
    every compiled source is byte for byte the one they were built from)."""
    if not has_extensions(package_dir):
        return None
    manifest = package_dir / COMPILED_MANIFEST
    try:
        lines = manifest.read_text(encoding="utf-8").splitlines()
    except OSError:
        return f"the compiled engine has no {COMPILED_MANIFEST} (built by an older setup.py)"
    if not lines:
        return f"{COMPILED_MANIFEST} is empty"
    for line in lines:
        digest, _, rest = line.partition("  ")
        rel, _, stamp = rest.partition("  ")
        source = package_dir / rel
        try:
            if stamp and source_stamp(os.stat(source)) == stamp:
                continue  # the very file the build hashed, not written since
            if source_digest(source) != digest:
                return f"{rel} changed since the compiled engine was built"
        except OSError:
            return f"{rel} is missing"
    return None


class _SourcesOnly:
    """Finds `scalesim_patterns.*` in its `.py` files only, never an extension module.

    A meta path finder by its `find_spec` alone: deriving from `importlib.abc.MetaPathFinder`
    imported `importlib.abc`, and with it `importlib.resources`, `tempfile` and `shutil` (0.006 s
    of every pure-Python start). One `FileFinder` per directory, as the import system keeps
    them, lists the directory once instead of once per module imported from it."""

    def __init__(self) -> None:
        self._finders: dict[str, importlib.machinery.FileFinder] = {}

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if not fullname.startswith(PACKAGE + ".") or path is None:
            return None
        for entry in path:
            finder = self._finders.get(entry)
            if finder is None:
                finder = self._finders[entry] = importlib.machinery.FileFinder(
                    entry,
                    (importlib.machinery.SourceFileLoader, importlib.machinery.SOURCE_SUFFIXES),
                )
            spec = finder.find_spec(fullname)
            if spec is not None:
                return spec
        return None

    def invalidate_caches(self) -> None:
        """`importlib.invalidate_caches()`: a module written after the start is found."""
        for finder in self._finders.values():
            finder.invalidate_caches()


def use_pure_python() -> None:
    """From now on, import the package's modules from their sources (call before importing
    any of them; `SCALESIM_PURE=1` does it when the package is imported)."""
    if not any(isinstance(f, _SourcesOnly) for f in sys.meta_path):
        sys.meta_path.insert(0, _SourcesOnly())


def compiled() -> bool:
    """True when the simulator's kernel in use is the compiled extension."""
    from scalesim_patterns.sim.core import kernel

    return not (kernel.__file__ or "").endswith(".py")
