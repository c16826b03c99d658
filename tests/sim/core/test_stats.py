from __future__ import annotations

import random

import pytest

from scalesim_patterns.sim.core.stats import batch_means, estimate, paired_difference, t_quantile


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
