"""Read the recorded arrival series an architecture names (model/series.py) while it loads."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path as FsPath

from .architecture import Architecture
from .diagnostics import Path
from .series import SeriesArrival, SeriesFileError, read_series_csv

__all__ = ["resolve_series_files"]


def _series(arch: Architecture) -> Iterator[tuple[Path, SeriesArrival]]:
    spec = arch.spec
    for name, src in spec.traffic.items():
        arrival = getattr(src, "arrival", None)
        if isinstance(arrival, SeriesArrival):
            yield ("spec", "traffic", name, "arrival"), arrival
    for sname, sc in spec.scenarios.items():
        for name, override in sc.traffic.items():
            if isinstance(override.arrival, SeriesArrival):
                yield ("spec", "scenarios", sname, "traffic", name, "arrival"), override.arrival


def resolve_series_files(arch: Architecture, base: FsPath | None) -> list[tuple[Path, str]]:
    """Load every series `file` relative to `base` into its arrival; the problems found."""
    problems: list[tuple[Path, str]] = []
    for path, arrival in _series(arch):
        if arrival.file is None:
            continue
        where = (*path, "file")
        if base is None:
            problems.append(
                (
                    where,
                    f"series file '{arrival.file}' cannot be read here (the document was not "
                    "loaded from a file); write the rates inline with `points:`",
                )
            )
            continue
        try:
            points = read_series_csv(arrival.file, base)
        except SeriesFileError as exc:
            problems.append((where, str(exc)))
            continue
        if arrival.period is not None and points[-1][0] >= arrival.period:
            problems.append(
                (
                    where,
                    f"series file '{arrival.file}': its last time {points[-1][0]:g}s is not "
                    f"inside the period ({arrival.period:g}s)",
                )
            )
            continue
        arrival.set_loaded(points)
    return problems
