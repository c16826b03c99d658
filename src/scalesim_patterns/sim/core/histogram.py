"""Log-bucketed latency histogram with a bounded relative error on every quantile.

Bucket k holds values in [γ^k, γ^(k+1)) with γ = (1 + α)/(1 − α); reporting the bucket's
point 2γ^(k+1)/(γ + 1) is within a factor (1 ± α) of every value in it, so any quantile is
reported within α = 1 % of the true sample quantile. Memory depends only on the spread of the
values (about 115 buckets per decade), never on how many were recorded, and two histograms merge
by adding counts, which is how replications and windows are combined.

The counts live in a typed array of 64-bit integers indexed by key (`counts[k - lo]`,
`librt.vecs`: machine integers in the compiled engine, no boxing), widened when a value falls
outside it, with the range of keys touched so far (`kmin`..`kmax`). Recording a value is an
index and an add, where a dictionary of buckets boxed and hashed the key on every record; a quantile walks the
touched range in key order, where the dictionary's keys had to be sorted first; and emptying the
buckets (a time-series window's close) zeroes the touched range only, so its cost is that of the
values seen since, not of the histogram's whole spread.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable, Iterator, Sequence
from typing import Final

from librt.vecs import vec
from mypy_extensions import i64

__all__ = ["ALPHA", "INV_LOG_GAMMA", "OFFSET", "TINY", "LogHistogram", "bucket_quantiles"]

ALPHA: Final = 0.01
"""Relative accuracy of reported quantiles."""
_GAMMA: Final = (1 + ALPHA) / (1 - ALPHA)
INV_LOG_GAMMA: Final = 1.0 / math.log(_GAMMA)
OFFSET: Final = 4096.0
"""Keeps bucket keys positive for values down to γ^-4096 (about 1e-36) so int() floors them."""
TINY: Final = 1e-12
"""Values at or below this (a picosecond) are counted as zero."""
_KEY_FLOOR: Final = int(math.log(TINY) * INV_LOG_GAMMA + OFFSET) - 1
_KEY_CEILING: Final = int(math.log(sys.float_info.max) * INV_LOG_GAMMA + OFFSET) + 2
"""Every recorded value's key lies in [_KEY_FLOOR, _KEY_CEILING): the list never grows beyond
about 42 600 counts, whatever is recorded."""
_LOG_MAX: Final = math.log(sys.float_info.max)
_NONE: Final = 1 << 62
"""`kmin` of a histogram with no bucket touched (`kmax` is then -1)."""
_SLACK: Final = 16
"""Keys added beyond the one that widens the list, on its side."""
_FIRST: Final = 64
"""Keys on each side of the first one recorded (about 1.1 decades: most latency distributions
need no widening after that)."""


class LogHistogram:
    __slots__ = ("count", "counts", "kmax", "kmin", "lo", "max", "sum", "zeros")

    def __init__(self) -> None:
        self.counts: vec[i64] = vec[i64]()
        """`counts[i]` values in bucket `lo + i`."""
        self.lo: i64 = 0
        self.kmin: i64 = _NONE
        self.kmax: i64 = -1
        """Every nonzero count's key is in `kmin`..`kmax` (machine integers in the compiled
        engine, as are the walks over that range: a window's close walks it)."""
        self.count = 0
        self.zeros = 0
        self.sum = 0.0
        self.max = 0.0

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        """Copied and pickled through its figures (the typed array itself is neither)."""
        return _rebuilt, (
            list(self.counts),
            self.lo,
            self.kmin,
            self.kmax,
            self.count,
            self.zeros,
            self.sum,
            self.max,
        )

    def record(self, value: float) -> None:
        self.count += 1
        self.sum += value
        if value > self.max:
            self.max = value
        if value > TINY:
            self.add(int(math.log(value) * INV_LOG_GAMMA + OFFSET), 1)
        else:
            self.zeros += 1

    def add(self, key: i64, n: i64) -> None:
        """`n` more values in bucket `key` (the count, sum and maximum are the caller's)."""
        i = key - self.lo
        counts = self.counts
        if i < 0 or i >= len(counts):
            self.cover(key, key)
            counts = self.counts
            i = key - self.lo
        counts[i] += n
        if key < self.kmin:
            self.kmin = key
        if key > self.kmax:
            self.kmax = key

    def cover(self, low: i64, high: i64) -> None:
        """Widen the list to hold keys `low`..`high`: at least doubled on the side that grows (so
        widening costs amortised constant time per key), never past the keys a value can have."""
        counts = self.counts
        n: int = len(counts)
        if n == 0:
            lo = max(_KEY_FLOOR, low - _FIRST)
            hi = min(_KEY_CEILING, high + _FIRST + 1)
            self.counts = vec[i64]([0] * (max(hi, high + 1) - min(lo, low)))
            self.lo = min(lo, low)
            return
        lo0 = self.lo
        hi0 = lo0 + n
        lo = lo0
        hi = hi0
        if low < lo0:
            lo = min(low, max(_KEY_FLOOR, min(low - _SLACK, lo0 - n)))
        if high >= hi0:
            hi = max(high + 1, min(_KEY_CEILING, max(high + _SLACK + 1, hi0 + n)))
        if lo < lo0 or hi > hi0:
            self.counts = vec[i64]([0] * (lo0 - lo) + list(counts) + [0] * (hi - hi0))
            self.lo = lo

    def items(self) -> Iterator[tuple[int, int]]:
        """(key, count) of every nonempty bucket, in key order."""
        counts = self.counts
        lo = self.lo
        for key in range(self.kmin, self.kmax + 1):
            n = counts[key - lo]
            if n:
                yield int(key), int(n)

    @property
    def buckets(self) -> dict[int, int]:
        """The nonempty buckets as {key: count} (a copy)."""
        return dict(self.items())

    def absorb(self, other: LogHistogram) -> None:
        """Add `other`'s bucket counts to this one's (not its count, sum or maximum)."""
        self._add_buckets(other, False)

    def take(self, other: LogHistogram) -> None:
        """`absorb(other)`, then `other.empty_buckets()`, in one walk of its range."""
        self._add_buckets(other, True)

    def _add_buckets(self, other: LogHistogram, empty: bool) -> None:
        kmin = other.kmin
        kmax = other.kmax
        if kmin > kmax:
            return
        self.cover(kmin, kmax)
        counts = self.counts
        lo = self.lo
        theirs = other.counts
        their_lo = other.lo
        for key in range(kmin, kmax + 1):
            n = theirs[key - their_lo]
            if n:
                counts[key - lo] += n
                if empty:
                    theirs[key - their_lo] = 0
        if kmin < self.kmin:
            self.kmin = kmin
        if kmax > self.kmax:
            self.kmax = kmax
        if empty:
            other.kmin = _NONE
            other.kmax = -1

    def empty_buckets(self) -> None:
        """Zero every bucket (the count, sum and maximum stay): the touched range only."""
        kmin = self.kmin
        if kmin <= self.kmax:
            counts = self.counts
            lo = self.lo
            for key in range(kmin, self.kmax + 1):
                counts[key - lo] = 0
            self.kmin = _NONE
            self.kmax = -1

    def clear(self) -> None:
        self.empty_buckets()
        self.count = 0
        self.zeros = 0
        self.sum = 0.0
        self.max = 0.0

    def merge(self, other: LogHistogram) -> None:
        self.absorb(other)
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
        for key, n in self.items():
            before = old.get(key, 0)
            if n > before:
                out.add(key, n - before)
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
        return bucket_quantiles(self, qs, self.count, self.zeros, self.max)


def _rebuilt(
    counts: list[int],
    lo: int,
    kmin: int,
    kmax: int,
    count: int,
    zeros: int,
    total: float,
    vmax: float,
) -> LogHistogram:
    h = LogHistogram()
    h.counts = vec[i64](counts)
    h.lo, h.kmin, h.kmax = lo, kmin, kmax
    h.count, h.zeros, h.sum, h.max = count, zeros, total, vmax
    return h


def bucket_quantiles(
    h: LogHistogram, qs: Sequence[float], count: int, zeros: int, vmax: float
) -> list[float | None]:
    """`h.quantiles(qs)` for `h`'s buckets with the given count, zeros and maximum (a window's,
    whose buckets are an endpoint's own)."""
    if count == 0:
        return [None] * len(qs)
    order = sorted(range(len(qs)), key=lambda i: qs[i])
    out: list[float | None] = [None] * len(qs)
    counts = h.counts
    lo = h.lo
    end = h.kmax + 1
    key = h.kmin
    seen: i64 = zeros
    for i in order:
        rank: i64 = max(1, math.ceil(qs[i] * count - 1e-9))
        if rank <= zeros:
            out[i] = 0.0
            continue
        while key < end and seen + counts[key - lo] < rank:
            seen += counts[key - lo]
            key += 1
        if key >= end:
            out[i] = vmax
            continue
        exponent = (float(key + 1) - OFFSET) / INV_LOG_GAMMA
        if exponent > _LOG_MAX:  # the bucket of the largest doubles: its bound is not a float
            out[i] = vmax
            continue
        value = 2 * math.exp(exponent) / (_GAMMA + 1)
        out[i] = min(value, vmax)
    return out
