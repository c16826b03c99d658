from __future__ import annotations

import math
import random

import pytest

from scalesim_patterns.sim.core.stats import (
    batch_means,
    estimate,
    lag1,
    paired_difference,
    t_quantile,
)


@pytest.mark.parametrize(
    ("df", "value"),
    [
        (1, 12.7062),
        (2, 4.3027),
        (4, 2.7764),
        (9, 2.2622),
        (19, 2.0930),
        (30, 2.0423),
        (120, 1.9799),
    ],
)
def test_t_quantile_matches_tables(df: int, value: float) -> None:
    assert t_quantile(0.975, df) == pytest.approx(value, abs=1e-4)
    assert t_quantile(0.025, df) == pytest.approx(-value, abs=1e-4)


def test_interval_covers_the_mean_about_95_percent_of_the_time() -> None:
    rng = random.Random(3)
    trials = 2000
    hits = sum(estimate([rng.gauss(5, 2) for _ in range(5)]).contains(5.0) for _ in range(trials))
    # Binomial(2000, 0.95): sd 9.7; four of them either side.
    assert abs(hits - 0.95 * trials) < 40


def test_paired_difference_removes_shared_noise() -> None:
    rng = random.Random(4)
    base = [rng.gauss(100, 10) for _ in range(8)]
    shifted = [b + 1.0 + rng.gauss(0, 0.01) for b in base]
    diff = paired_difference(base, shifted)
    assert diff.contains(1.0)
    assert diff.half_width is not None and diff.half_width < 0.05


def test_batch_means_of_independent_windows() -> None:
    rng = random.Random(5)
    counts = [100.0] * 400
    sums = [sum(rng.expovariate(1.0) for _ in range(100)) for _ in counts]
    est = batch_means(sums, counts)
    assert est.n == 20
    assert est.contains(1.0)
    assert est.half_width is not None and est.half_width < 0.05
    assert batch_means(sums[:10], counts[:10]).half_width is None


def test_single_value_has_no_interval() -> None:
    assert estimate([3.0]).half_width is None
    with pytest.raises(ValueError):
        estimate([])


def _ar1(phi: float, n: int, rng: random.Random) -> list[float]:
    """A stationary AR(1) series of mean 0: x_t = φ x_{t-1} + ε_t."""
    x = rng.gauss(0.0, 1.0) / math.sqrt(1 - phi * phi)
    out = []
    for _ in range(n):
        x = phi * x + rng.gauss(0.0, 1.0)
        out.append(x)
    return out


def _wilson(successes: int, n: int) -> tuple[float, float]:
    z = 1.959964
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def test_lag1_autocorrelation_of_a_known_ar1() -> None:
    rng = random.Random(3)
    assert lag1(_ar1(0.6, 20000, rng)) == pytest.approx(0.6, abs=0.02)
    assert lag1(_ar1(0.0, 20000, rng)) == pytest.approx(0.0, abs=0.02)


def test_batch_means_covers_the_mean_of_strongly_correlated_windows() -> None:
    """300 AR(1) series with φ = 0.98 (integrated correlation time 99 windows, 4000 windows
    each): where the run is long enough to give an interval, the 95 % interval must hold the
    true mean 0 in a share whose own 95 % Wilson interval includes 0.95."""
    rng = random.Random(2)
    hits = total = 0
    for _ in range(300):
        xs = _ar1(0.98, 4000, rng)
        est = batch_means(xs, [1.0] * len(xs))
        if est.half_width is not None:
            total += 1
            hits += est.contains(0.0)
    assert total >= 200, "most series this long must get an interval"
    low, high = _wilson(hits, total)
    assert low <= 0.95 <= high, f"coverage {hits}/{total}"


def test_too_correlated_a_run_gets_no_interval() -> None:
    xs = _ar1(0.999, 400, random.Random(1))
    assert batch_means(xs, [1.0] * len(xs)).half_width is None
