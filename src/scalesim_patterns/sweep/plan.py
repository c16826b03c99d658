"""Which points a sweep runs: the `--vary` dimensions, and the grid or sample over them.

A dimension is a path into the architecture file (what `--set` takes) and either a list of
values (`services.order.replicas=1,2,4,8`) or a range with a count (`traffic.shoppers.arrival.
rate=200/s..2000/s:10`, evenly spaced, ends included, the unit kept). A grid is every
combination; a Latin hypercube or Sobol sample (scipy.stats.qmc, seeded, so the same command
gives the same points) draws `n` points over the ranges, for when a grid of six dimensions
would be millions of runs. Integer ranges (`1..8:8`) stay integers.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass
from typing import Literal

__all__ = ["MAX_POINTS", "Dimension", "Plan", "PlanError", "make_plan", "parse_vary"]

MAX_POINTS = 100_000
"""More points than this is a typo, not a sweep (a grid of 10 dimensions of 10 values)."""

_NUMBER = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(.*?)\s*$")

Method = Literal["grid", "lhs", "sobol"]


class PlanError(ValueError):
    """A `--vary` or `--sample` the sweep cannot use; the message says what would be valid."""


@dataclass(frozen=True)
class Dimension:
    path: str
    values: tuple[str, ...] | None = None
    """Listed values, as typed."""
    low: float = 0.0
    high: float = 0.0
    count: int = 0
    unit: str = ""
    integer: bool = False

    def grid_values(self) -> tuple[str, ...]:
        if self.values is not None:
            return self.values
        step = (self.high - self.low) / (self.count - 1)
        return tuple(self.format(self.low + i * step) for i in range(self.count))

    def at(self, u: float) -> str:
        """The value at quantile u in [0, 1) of this dimension (for sampled plans)."""
        if self.values is not None:
            return self.values[min(int(u * len(self.values)), len(self.values) - 1)]
        if self.integer:  # each whole number an equal share of [0, 1)
            return f"{min(int(self.low + u * (self.high - self.low + 1)), int(self.high))}"
        return self.format(self.low + u * (self.high - self.low))

    def format(self, x: float) -> str:
        if self.integer:
            return f"{round(x)}{self.unit}"
        return f"{float(f'{x:.6g}'):g}{self.unit}"

    def numeric(self, value: str) -> float | None:
        """The number in a value of this dimension, for plots and sensitivity (None if not)."""
        m = _NUMBER.match(value)
        return float(m.group(1)) if m else None


def _split_number(text: str, where: str) -> tuple[float, str]:
    m = _NUMBER.match(text)
    if not m:
        raise PlanError(f"{where}: {text!r} is not a number with an optional unit (e.g. 200/s)")
    value = float(m.group(1))
    if not math.isfinite(value):
        raise PlanError(f"{where}: {text!r} is not finite")
    return value, m.group(2)


def parse_vary(text: str) -> Dimension:
    """`path=v1,v2,...` or `path=lo..hi:n`."""
    path, eq, spec = text.partition("=")
    path = path.strip()
    where = f"--vary {text}"
    if not eq or not path or not spec.strip():
        raise PlanError(f"{where}: expected PATH=v1,v2,... or PATH=LOW..HIGH:COUNT")
    spec = spec.strip()
    if ".." in spec:
        bounds, colon, count_text = spec.rpartition(":")
        if not colon:
            raise PlanError(f"{where}: a range needs a count, e.g. {spec}:10")
        lo_text, _, hi_text = bounds.partition("..")
        low, lo_unit = _split_number(lo_text, where)
        high, hi_unit = _split_number(hi_text, where)
        if lo_unit != hi_unit:
            raise PlanError(
                f"{where}: both ends need the same unit, got {lo_unit!r} and {hi_unit!r}"
            )
        try:
            count = int(count_text)
        except ValueError:
            raise PlanError(f"{where}: the count {count_text!r} is not a whole number") from None
        if count < 2 or count > MAX_POINTS:
            raise PlanError(f"{where}: the count must be 2 to {MAX_POINTS}, got {count}")
        if high <= low:
            raise PlanError(f"{where}: the range must rise, got {lo_text}..{hi_text}")
        integer = lo_unit == "" and all(
            re.fullmatch(r"\s*[-+]?\d+\s*", t) for t in (lo_text, hi_text)
        )
        return Dimension(path, None, low, high, count, lo_unit, integer)
    values = tuple(v.strip() for v in spec.split(","))
    if any(not v for v in values):
        raise PlanError(f"{where}: an empty value in the list")
    if len(set(values)) != len(values):
        raise PlanError(f"{where}: a value is listed twice")
    return Dimension(path, values)


@dataclass(frozen=True)
class Plan:
    dimensions: tuple[Dimension, ...]
    method: Method
    points: tuple[tuple[str, ...], ...]
    """One tuple of values per point, in the order of `dimensions`."""

    def settings(self, index: int) -> list[str]:
        """The point's `--set` edits."""
        return [f"{d.path}={v}" for d, v in zip(self.dimensions, self.points[index], strict=True)]


def make_plan(dimensions: list[Dimension], sample: str | None = None, *, seed: int = 0) -> Plan:
    """The grid over `dimensions`, or `sample` (`lhs:N`, `sobol:N`) points drawn over them."""
    if not dimensions:
        raise PlanError("give at least one --vary PATH=VALUES")
    paths = [d.path for d in dimensions]
    if len(set(paths)) != len(paths):
        raise PlanError("a path is varied twice")
    if sample is None:
        total = math.prod(len(d.grid_values()) for d in dimensions)
        if total > MAX_POINTS:
            raise PlanError(
                f"the grid has {total:,} points, more than {MAX_POINTS:,}; use --sample"
            )
        points = tuple(itertools.product(*(d.grid_values() for d in dimensions)))
        return Plan(tuple(dimensions), "grid", points)
    kind, colon, n_text = sample.partition(":")
    if kind not in ("lhs", "sobol") or not colon:
        raise PlanError(f"--sample {sample}: expected lhs:N or sobol:N")
    try:
        n = int(n_text)
    except ValueError:
        raise PlanError(f"--sample {sample}: {n_text!r} is not a whole number") from None
    if not 1 <= n <= MAX_POINTS:
        raise PlanError(f"--sample {sample}: N must be 1 to {MAX_POINTS}")
    from scipy.stats import qmc

    engine: qmc.QMCEngine
    if kind == "lhs":
        engine = qmc.LatinHypercube(d=len(dimensions), seed=seed)
    else:
        engine = qmc.Sobol(d=len(dimensions), scramble=True, seed=seed)
    if kind == "sobol" and n & (n - 1):
        raise PlanError(
            f"--sample {sample}: a Sobol sample keeps its balance at a power of 2 (e.g. {1 << n.bit_length()})"
        )
    units = engine.random(n)
    points = tuple(
        tuple(d.at(float(u)) for d, u in zip(dimensions, row, strict=True)) for row in units
    )
    return Plan(tuple(dimensions), kind, points)  # type: ignore[arg-type]
