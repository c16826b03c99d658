"""Confidence intervals: Student t across replications, paired differences, batch means.

No SciPy: the t quantile comes from inverting the regularised incomplete beta function, which is
accurate to ~1e-12 and plenty fast for the few calls a result needs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

__all__ = [
    "Estimate",
    "Welford",
    "batch_means",
    "estimate",
    "lag1",
    "paired_difference",
    "t_quantile",
]


@dataclass(frozen=True, slots=True)
class Estimate:
    """A mean with its 95 % confidence half-width (None when it cannot be estimated)."""

    mean: float
    half_width: float | None
    n: int

    @property
    def low(self) -> float | None:
        return None if self.half_width is None else self.mean - self.half_width

    @property
    def high(self) -> float | None:
        return None if self.half_width is None else self.mean + self.half_width

    def contains(self, value: float) -> bool:
        if self.half_width is None:
            return False
        return abs(value - self.mean) <= self.half_width

    def to_json(self) -> dict[str, float | int | None]:
        return {"mean": self.mean, "ci95": self.half_width, "n": self.n}


class Welford:
    """Running mean and variance in one pass without cancellation."""

    __slots__ = ("m2", "mean", "n")

    def __init__(self) -> None:
        self.n = 0
        self.mean = 0.0
        self.m2 = 0.0

    def add(self, x: float) -> None:
        self.n += 1
        d = x - self.mean
        self.mean += d / self.n
        self.m2 += d * (x - self.mean)

    @property
    def variance(self) -> float:
        return self.m2 / (self.n - 1) if self.n > 1 else 0.0


def estimate(values: Sequence[float], confidence: float = 0.95) -> Estimate:
    """Sample mean and Student-t half-width of independent observations."""
    n = len(values)
    if n == 0:
        raise ValueError("no values")
    acc = Welford()
    for v in values:
        acc.add(v)
    if n < 2:
        return Estimate(acc.mean, None, n)
    half = t_quantile(0.5 + confidence / 2, n - 1) * math.sqrt(acc.variance / n)
    return Estimate(acc.mean, half, n)


def paired_difference(a: Sequence[float], b: Sequence[float]) -> Estimate:
    """Estimate of E[b − a] from paired observations (common random numbers)."""
    if len(a) != len(b):
        raise ValueError("paired samples must have equal length")
    return estimate([y - x for x, y in zip(a, b, strict=True)])


BATCHES: Final = 20
"""The interval's batches; the independence test needs at least as many, or it cannot tell."""
START_BATCHES: Final = 1024
"""The search for a batch size starts from at most this many batches."""


def lag1(values: Sequence[float]) -> float:
    """Sample lag-1 autocorrelation (0 for a constant or too short series)."""
    n = len(values)
    if n < 3:
        return 0.0
    mean = sum(values) / n
    dev = [v - mean for v in values]
    var = sum(d * d for d in dev)
    if var == 0:
        return 0.0
    return sum(dev[i] * dev[i + 1] for i in range(n - 1)) / var


def batch_means(
    sums: Sequence[float], counts: Sequence[float], confidence: float = 0.95
) -> Estimate:
    """CI for a ratio mean (Σsums/Σcounts) from one long run of consecutive windows.

    Two steps, each answering a way fixed batches go wrong under heavy load:

    1. the batch size doubles, from at most `START_BATCHES` batches, until the lag-1
       autocorrelation of the batch means is no longer significantly positive at 5 %
       (one-sided, r₁ ≤ 1.645/√k for k batches): batches that are still correlated make the
       t-interval too narrow, the more so the heavier the load;
    2. the windows are then regrouped into `BATCHES` batches (never smaller than the accepted
       size), each batch's ratio linearised (`_linearised`, the delta method for a ratio of
       sums), and the variance of their mean is multiplied by (1 + r₁)/(1 − r₁)
       when their own lag-1 autocorrelation r₁ is positive: the AR(1) correction for what a
       test on k batches cannot detect (as ASAP3 does, Steiger et al. 2005); the t quantile is
       then moved for the batches' skewness (Skart's Cornish-Fisher correction), the wider
       side kept, since a queue's batch means are skewed to the right and a plain t-interval
       misses mostly on one side.

    No warm-up is searched for here (the file's warm-up is cut before): MSER-5 truncation was
    measured and lowered coverage on M/M/1 (it cuts high excursions at the start of strongly
    correlated, skewed output and biases the mean low). Coverage on M/M/1, with and without
    MSER-5, against the previous 20 fixed batches: benchmarks/coverage.py.

    When the test still fails with `BATCHES` batches the run is too short to tell: the
    estimate has no interval (`half_width` None), and whoever judges it must say "uncertain".
    Batches are formed from whole windows, the first ones absorbing any remainder.
    """
    n = len(sums)
    if n != len(counts):
        raise ValueError("sums and counts differ in length")
    total = sum(counts)
    if total == 0:
        raise ValueError("no observations")
    mean = sum(sums) / total
    size = max(1, -(-n // START_BATCHES))
    while n // size >= BATCHES:
        batches = n // size
        r1 = lag1(_linearised(sums, counts, mean, size, batches))
        if r1 <= 1.645 / math.sqrt(batches):
            return _interval(sums, counts, mean, confidence)
        size *= 2
    return Estimate(mean, None, 1)


def _interval(
    sums: Sequence[float], counts: Sequence[float], mean: float, confidence: float
) -> Estimate:
    """Student t on the batches, widened for their lag-1 autocorrelation (AR(1)) and for their
    skewness (Cornish-Fisher, as in Skart: Tafazzoli, Wilson et al. 2011), made symmetric by
    taking the wider side."""
    values = _linearised(sums, counts, mean, len(sums) // BATCHES, BATCHES)
    k = len(values)
    centre = sum(values) / k
    dev = [v - centre for v in values]
    var = sum(d * d for d in dev) / (k - 1)
    if var <= 0:
        return Estimate(mean, 0.0, k)
    r1 = lag1(values)
    inflate = (1 + r1) / (1 - r1) if 0 < r1 < 1 else 1.0
    se = math.sqrt(var * inflate / k)
    t = t_quantile(0.5 + confidence / 2, k - 1)
    skew = k / ((k - 1) * (k - 2)) * sum(d**3 for d in dev) / var**1.5
    beta = skew / (6 * math.sqrt(k))
    low, high = _skew_adjusted(t, beta), -_skew_adjusted(-t, beta)
    return Estimate(mean, max(low, high) * se, k)


def _skew_adjusted(z: float, beta: float) -> float:
    """Skart's G(z) = ((1 + 6β(z − β))^(1/3) − 1) / (2β): the t quantile moved for skewness."""
    if abs(beta) < 1e-12:
        return z
    x = 1 + 6 * beta * (z - beta)
    return (math.copysign(abs(x) ** (1 / 3), x) - 1) / (2 * beta)


def _linearised(
    sums: Sequence[float], counts: Sequence[float], ratio: float, size: int, batches: int
) -> list[float]:
    """Each batch's ratio linearised about the overall one: R + (Sᵢ − R·Cᵢ)/C̄.

    Their spread is the delta-method spread of the ratio estimator Σsums/Σcounts, which plain
    batch ratios Sᵢ/Cᵢ understate when busy batches (large Cᵢ) are also slow ones, as in any
    queue; a batch with no observation is no longer a special case.
    """
    start = len(sums) - size * batches
    totals = [
        (
            sum(sums[start + b * size : start + (b + 1) * size]),
            sum(counts[start + b * size : start + (b + 1) * size]),
        )
        for b in range(batches)
    ]
    mean_count = sum(c for _, c in totals) / batches
    if mean_count == 0:
        return [ratio] * batches
    return [ratio + (s - ratio * c) / mean_count for s, c in totals]


def t_quantile(p: float, df: int) -> float:
    """Inverse CDF of Student's t with `df` degrees of freedom."""
    if not 0 < p < 1:
        raise ValueError("p must be in (0, 1)")
    if p == 0.5:
        return 0.0
    if p < 0.5:
        return -t_quantile(1 - p, df)
    lo, hi = 0.0, 1.0
    while _t_cdf(hi, df) < p:
        hi *= 2
    for _ in range(200):
        mid = (lo + hi) / 2
        if _t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-12 * max(1.0, hi):
            break
    return (lo + hi) / 2


def _t_cdf(t: float, df: int) -> float:
    x = df / (df + t * t)
    tail = 0.5 * _betainc(df / 2, 0.5, x)
    return 1 - tail if t > 0 else tail


def _betainc(a: float, b: float, x: float) -> float:
    """Regularised incomplete beta I_x(a, b) by its continued fraction (modified Lentz)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x > (a + 1) / (a + b + 2):
        return 1.0 - _betainc(b, a, 1 - x)
    front = math.exp(log_front) / a
    tiny = 1e-300
    f, c, d = 1.0, 1.0, 0.0
    for i in range(400):
        m = i // 2
        if i == 0:
            num = 1.0
        elif i % 2 == 0:
            num = (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m))
        else:
            num = -((a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1))
        d = 1.0 + num * d
        d = tiny if abs(d) < tiny else d
        d = 1.0 / d
        c = 1.0 + num / c
        c = tiny if abs(c) < tiny else c
        cd = c * d
        f *= cd
        if abs(1.0 - cd) < 1e-15:
            break
    return front * (f - 1.0)
