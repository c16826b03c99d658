"""Log-bucketed latency histogram with a bounded relative error on every quantile.

Bucket k holds values in [γ^k, γ^(k+1)) with γ = (1 + α)/(1 − α); reporting the bucket's
point 2γ^(k+1)/(γ + 1) is within a factor (1 ± α) of every value in it, so any quantile is
reported within α = 1 % of the true sample quantile. Memory depends only on the spread of the
values (about 115 buckets per decade), never on how many were recorded, and two histograms merge
by adding counts, which is how replications and windows are combined.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any, Final

__all__ = ["ALPHA", "INV_LOG_GAMMA", "OFFSET", "TINY", "LogHistogram", "add_counts"]

ALPHA: Final = 0.01
"""Relative accuracy of reported quantiles."""
_GAMMA: Final = (1 + ALPHA) / (1 - ALPHA)
INV_LOG_GAMMA: Final = 1.0 / math.log(_GAMMA)
OFFSET: Final = 4096.0
"""Keeps bucket keys positive for values down to γ^-4096 (about 1e-36) so int() floors them."""
TINY: Final = 1e-12
"""Values at or below this (a picosecond) are counted as zero."""


def add_counts(into: dict[Any, Any], part: dict[Any, Any]) -> None:
    """Add `part`'s bucket counts to `into`'s. Typed `Any`, the compiled loop passes the keys and
    counts on as the objects they are; typed `int`, it unboxed each key and boxed it again for
    the look-up and for the store (a window's close does this for every bucket it saw)."""
    for key, n in part.items():
        into[key] = into.get(key, 0) + n


class LogHistogram:
    __slots__ = ("buckets", "count", "max", "sum", "zeros")

    def __init__(self) -> None:
        self.buckets: defaultdict[int, int] = defaultdict(int)
        self.count = 0
        self.zeros = 0
        self.sum = 0.0
        self.max = 0.0

    def record(self, value: float) -> None:
        self.count += 1
        self.sum += value
        if value > self.max:
            self.max = value
        if value > TINY:
            self.buckets[int(math.log(value) * INV_LOG_GAMMA + OFFSET)] += 1
        else:
            self.zeros += 1

    def clear(self) -> None:
        self.buckets = defaultdict(int)
        self.count = 0
        self.zeros = 0
        self.sum = 0.0
        self.max = 0.0

    def merge(self, other: LogHistogram) -> None:
        add_counts(self.buckets, other.buckets)
        self.count += other.count
        self.zeros += other.zeros
        self.sum += other.sum
        self.max = max(self.max, other.max)

    def minus(self, earlier: LogHistogram) -> LogHistogram:
        """What was recorded since `earlier`, a previous state of this same histogram.

        Its `max` stays this histogram's (an upper bound): quantiles are clamped to it.
        """
        out = LogHistogram()
        old = earlier.buckets
        out.buckets.update(
            (k, n - old.get(k, 0)) for k, n in self.buckets.items() if n > old.get(k, 0)
        )
        out.count = self.count - earlier.count
        out.zeros = self.zeros - earlier.zeros
        out.sum = self.sum - earlier.sum
        out.max = self.max
        return out

    @classmethod
    def merged(cls, parts: Iterable[LogHistogram]) -> LogHistogram:
        out = cls()
        for part in parts:
            out.merge(part)
        return out

    @property
    def mean(self) -> float | None:
        return self.sum / self.count if self.count else None

    def quantile(self, q: float) -> float | None:
        return self.quantiles((q,))[0]

    def quantiles(self, qs: Sequence[float]) -> list[float | None]:
        """Values at the given probabilities (nearest rank), within ALPHA of the sample's own.

        The answer for rank r is the bucket holding the r-th smallest value (r = ⌈q·n⌉), clamped
        to the observed maximum so p100 is exact.
        """
        if self.count == 0:
            return [None] * len(qs)
        order = sorted(range(len(qs)), key=lambda i: qs[i])
        out: list[float | None] = [None] * len(qs)
        keys = sorted(self.buckets)
        seen = self.zeros
        ki = 0
        for i in order:
            rank = max(1, math.ceil(qs[i] * self.count - 1e-9))
            if rank <= self.zeros:
                out[i] = 0.0
                continue
            while ki < len(keys) and seen + self.buckets[keys[ki]] < rank:
                seen += self.buckets[keys[ki]]
                ki += 1
            if ki == len(keys):
                out[i] = self.max
                continue
            upper = math.exp((keys[ki] + 1 - OFFSET) / INV_LOG_GAMMA)
            value = 2 * upper / (_GAMMA + 1)
            out[i] = min(value, self.max)
        return out
