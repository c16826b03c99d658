"""Arrival rates that follow a curve: points written in the file, or a recorded series in CSV.

A daily curve is a handful of `{at, rate}` points repeated every `period` (24 h); a recorded
series is a CSV file next to the architecture file, as a load test replays production traffic
(k6's `ramping-arrival-rate` stages, Locust's `LoadTestShape.tick()`). The CSV is read while the
architecture is loaded, so the simulator, the web app and a saved run never open files: the
points live in the model.

CSV format: a header `seconds,rate_per_second`, then one row per point, both plain numbers
(the units are in the header because exported metrics are plain numbers), times increasing from
0. Bounded: at most `MAX_CSV_BYTES` bytes and `MAX_POINTS` rows. The file is named relative to
the architecture file's folder and may not leave it (no absolute path, no `..`, no symbolic link
out).
"""

import math
from bisect import bisect_right
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path as FsPath
from typing import Literal

from pydantic import Field, PrivateAttr, model_validator

from .base import Spec
from .units import Duration, Rate

__all__ = [
    "MAX_CSV_BYTES",
    "MAX_POINTS",
    "RatePoint",
    "SeriesArrival",
    "SeriesFileError",
    "read_series_csv",
]

MAX_CSV_BYTES = 4 * 1024 * 1024
"""A recorded series file may hold at most this many bytes (a week at one row a second fits)."""
MAX_POINTS = 200_000
HEADER = ("seconds", "rate_per_second")


class RatePoint(Spec):
    at: Duration
    rate: Rate


class SeriesArrival(Spec):
    """Poisson arrivals whose rate follows points: written inline (`points`) or read from a CSV
    `file`; `interpolation` linear (a curve) or step (each rate holds until the next point);
    with `period`, the curve repeats (a daily curve: `period: 24h`). Before the first point the
    first rate holds, after the last point the last rate (or, with `period`, the curve wraps)."""

    process: Literal["series"] = "series"
    points: list[RatePoint] | None = Field(None, min_length=1, max_length=MAX_POINTS)
    file: str | None = Field(None, min_length=1, max_length=1024)
    """A CSV file, relative to the architecture file's folder."""
    interpolation: Literal["linear", "step"] = "linear"
    period: Duration | None = None
    _loaded: list[tuple[float, float]] | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _one_source(self) -> "SeriesArrival":
        if (self.points is None) == (self.file is None):
            raise ValueError("a series has either `points` or `file`")
        if self.points is not None:
            times = [p.at for p in self.points]
            if any(b <= a for a, b in pairwise(times)):
                raise ValueError("points must be in strictly increasing order of `at`")
        if self.period is not None:
            if self.period <= 0:
                raise ValueError("period must be positive")
            if self.points is not None and self.points[-1].at >= self.period:
                raise ValueError("every point's `at` must be inside the period")
        return self

    def series(self) -> list[tuple[float, float]]:
        """(time, rate per second) points; a file's once the loader has read it."""
        if self.points is not None:
            return [(p.at, p.rate) for p in self.points]
        if self._loaded is None:
            raise ValueError(f"series file '{self.file}' has not been read (load the file)")
        return self._loaded

    def set_loaded(self, points: list[tuple[float, float]]) -> None:
        self._loaded = points

    def peak(self) -> float:
        return max(r for _, r in self.series())

    def rate_function(self, scale: float = 1.0) -> Callable[[float], float]:
        """Rate at time t (requests per second), times `scale`."""
        pts = [(t, r * scale) for t, r in self.series()]
        period = self.period
        if period is not None:
            # One period's curve with the neighbours' points around it, so that time wraps.
            first, last = pts[0], pts[-1]
            pts = [(last[0] - period, last[1]), *pts, (first[0] + period, first[1])]
        times = [t for t, _ in pts]
        rates = [r for _, r in pts]
        end = len(pts) - 1
        linear = self.interpolation == "linear"

        def rate(t: float) -> float:
            if period is not None:
                t = math.fmod(t, period)
            i = bisect_right(times, t) - 1
            if i < 0:
                return rates[0]
            if i >= end or not linear:
                return rates[min(i, end)]
            x = (t - times[i]) / (times[i + 1] - times[i])
            return rates[i] + (rates[i + 1] - rates[i]) * x

        return rate


class SeriesFileError(ValueError):
    """A series file that cannot be used; the message names the file, the line and the fix."""


def read_series_csv(name: str, base: FsPath) -> list[tuple[float, float]]:
    """The points of CSV file `name`, relative to folder `base`; SeriesFileError otherwise."""
    rel = FsPath(name)
    if rel.is_absolute() or name.startswith("~"):
        raise SeriesFileError(
            f"series file '{name}': write a path relative to the architecture file's folder"
        )
    if ".." in rel.parts:
        raise SeriesFileError(
            f"series file '{name}': '..' is not allowed; the file must be in the architecture "
            "file's folder or below it"
        )
    root = base.resolve()
    path = (root / rel).resolve()
    if not path.is_relative_to(root):
        raise SeriesFileError(
            f"series file '{name}' leads outside the architecture file's folder (a symbolic "
            "link?); copy the file into the folder"
        )
    if not path.is_file():
        what = "does not exist" if not path.exists() else "is not a regular file"
        raise SeriesFileError(f"series file '{name}' {what} (looked in {root})")
    try:
        with path.open("rb") as f:
            data = f.read(MAX_CSV_BYTES + 1)
    except OSError as exc:
        raise SeriesFileError(f"series file '{name}': cannot read: {exc.strerror or exc}") from exc
    if len(data) > MAX_CSV_BYTES:
        raise SeriesFileError(
            f"series file '{name}' is larger than {MAX_CSV_BYTES // (1024 * 1024)} MiB; "
            "aggregate it to coarser steps (one row a minute covers months)"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SeriesFileError(f"series file '{name}' is not UTF-8 text (byte {exc.start})") from exc
    return parse_series_csv(name, text)


def parse_series_csv(name: str, text: str) -> list[tuple[float, float]]:
    lines = text.splitlines()
    rows = [(i + 1, line) for i, line in enumerate(lines) if line.strip()]
    if not rows:
        raise SeriesFileError(
            f"series file '{name}' is empty; expected a header {','.join(HEADER)}"
        )
    lineno, head = rows[0]
    cells = [c.strip().lower() for c in head.split(",")]
    if tuple(cells) != HEADER:
        raise SeriesFileError(
            f"{name} line {lineno}: expected the header '{','.join(HEADER)}' (times in seconds "
            f"from the start, rates in requests per second), got '{head.strip()[:80]}'"
        )
    if len(rows) - 1 > MAX_POINTS:
        raise SeriesFileError(f"series file '{name}' has more than {MAX_POINTS} rows")
    out: list[tuple[float, float]] = []
    for lineno, line in rows[1:]:
        parts = [c.strip() for c in line.split(",")]
        if len(parts) != 2:
            raise SeriesFileError(f"{name} line {lineno}: expected 2 values, got {len(parts)}")
        values: list[float] = []
        for label, cell in zip(HEADER, parts, strict=True):
            try:
                v = float(cell)
            except ValueError:
                raise SeriesFileError(
                    f"{name} line {lineno}: {label} '{cell[:40]}' is not a number"
                ) from None
            if not math.isfinite(v) or v < 0:
                raise SeriesFileError(
                    f"{name} line {lineno}: {label} must be a finite number >= 0, got '{cell[:40]}'"
                )
            values.append(v)
        t, r = values
        if out and t <= out[-1][0]:
            raise SeriesFileError(
                f"{name} line {lineno}: time {t:g} is not after the previous row's {out[-1][0]:g}"
            )
        out.append((t, r))
    if not out:
        raise SeriesFileError(f"series file '{name}' has a header but no rows")
    return out
