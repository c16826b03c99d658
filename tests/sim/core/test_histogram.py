from __future__ import annotations

import math
import random
import sys

import pytest

from scalesim_patterns.sim.core.histogram import ALPHA, INV_LOG_GAMMA, OFFSET, TINY, LogHistogram

QS = (0.01, 0.1, 0.5, 0.9, 0.95, 0.99, 0.999)


def exact(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]


def test_quantiles_within_one_percent_of_the_sample_quantiles() -> None:
    rng = random.Random(5)
    values = [rng.lognormvariate(-4, 1.5) for _ in range(50_000)]
    values += [rng.expovariate(1 / 3) for _ in range(10_000)]
    h = LogHistogram()
    for v in values:
        h.record(v)
    for q, got in zip(QS, h.quantiles(QS), strict=True):
        want = exact(values, q)
        assert got is not None
        assert abs(got - want) <= ALPHA * want + 1e-15, (q, got, want)
    assert h.max == max(values)
    assert h.mean == pytest.approx(sum(values) / len(values))
    assert h.quantile(1.0) == max(values)


def test_memory_depends_on_spread_not_on_count() -> None:
    rng = random.Random(1)
    h = LogHistogram()
    for _ in range(200_000):
        h.record(rng.uniform(0.001, 1.0))
    # Three decades at about 115 buckets per decade; the list of counts grows by doubling on
    # the side that widens, so it holds at most twice the spread plus the slack on each side.
    assert len(h.buckets) <= 3 * 116
    assert len(h.counts) <= 2 * 3 * 116 + 2 * 16
    assert h.count == 200_000


def test_the_list_of_counts_is_bounded_whatever_is_recorded() -> None:
    h = LogHistogram()
    for v in (1e308, 2e-12, 1.0, sys.float_info.max, 1.0000001e-12):
        h.record(v)
    floor = int(math.log(TINY) * INV_LOG_GAMMA + OFFSET)
    ceiling = int(math.log(sys.float_info.max) * INV_LOG_GAMMA + OFFSET)
    assert len(h.counts) <= ceiling - floor + 4
    assert h.quantile(1.0) == sys.float_info.max
    assert sum(h.buckets.values()) == 5


def _key(v: float) -> int:
    return int(math.log(v) * INV_LOG_GAMMA + OFFSET)


def test_buckets_after_windows_match_a_dictionary_of_keys() -> None:
    """Random windows of values (some far apart, so the list widens on both sides), each
    window's buckets added to a running total and then emptied: at every step the buckets and
    quantiles agree with counts kept in a plain dictionary by the bucket rule."""
    rng = random.Random(11)
    h = LogHistogram()
    total = LogHistogram()
    want_total: dict[int, int] = {}
    for window in range(40):
        want: dict[int, int] = {}
        scale = 10.0 ** rng.randint(-6, 3)
        for _ in range(rng.randint(0, 300)):
            v = rng.expovariate(1.0) * scale
            h.record(v)
            if v > TINY:
                want[_key(v)] = want.get(_key(v), 0) + 1
        assert h.buckets == want, window
        assert list(h.items()) == sorted(want.items())
        if window % 2:
            total.absorb(h)
            h.empty_buckets()
        else:
            total.take(h)  # the same in one walk
        for k, n in want.items():
            want_total[k] = want_total.get(k, 0) + n
        assert total.buckets == want_total
        assert h.buckets == {} and h.kmin > h.kmax
        assert not any(h.counts)
    total.count = sum(want_total.values())
    total.max = math.inf
    ranked = sorted(k for k, n in want_total.items() for _ in range(n))
    for q, got in zip(QS, total.quantiles(QS), strict=True):
        key = ranked[max(1, math.ceil(q * len(ranked) - 1e-9)) - 1]
        upper = math.exp((key + 1 - OFFSET) / INV_LOG_GAMMA)
        assert got == 2 * upper / ((1 + ALPHA) / (1 - ALPHA) + 1)


def test_merge_equals_recording_everything_in_one() -> None:
    rng = random.Random(2)
    parts = [LogHistogram() for _ in range(3)]
    whole = LogHistogram()
    for i in range(30_000):
        v = rng.expovariate(10)
        parts[i % 3].record(v)
        whole.record(v)
    merged = LogHistogram.merged(parts)
    assert merged.count == whole.count
    assert dict(merged.buckets) == dict(whole.buckets)
    assert merged.quantiles(QS) == whole.quantiles(QS)


def test_zeros_and_empty() -> None:
    h = LogHistogram()
    assert h.quantile(0.5) is None and h.mean is None
    for _ in range(3):
        h.record(0.0)
    h.record(1.0)
    assert h.quantiles((0.5, 0.75, 1.0)) == [0.0, 0.0, 1.0]


def test_minus_gives_what_was_recorded_since_a_snapshot() -> None:
    import copy

    from scalesim_patterns.sim.core.histogram import LogHistogram

    h = LogHistogram()
    for v in (0.001, 0.002, 0.003):
        h.record(v)
    snapshot = copy.deepcopy(h)
    for v in (0.010, 0.020, 0.030, 0.040):
        h.record(v)
    since = h.minus(snapshot)
    assert since.count == 4
    assert since.mean == pytest.approx(0.025)
    assert since.quantile(0.5) == pytest.approx(0.020, rel=0.01)
    assert since.quantile(0.01) == pytest.approx(0.010, rel=0.01)


def test_a_histogram_copies_and_pickles_with_its_buckets() -> None:
    import copy
    import pickle

    h = LogHistogram()
    for v in (0.0, 0.001, 0.5, 0.5, 30.0):
        h.record(v)
    for twin in (copy.deepcopy(h), pickle.loads(pickle.dumps(h)), copy.copy(h)):
        assert twin.buckets == h.buckets and twin.quantiles(QS) == h.quantiles(QS)
        assert (twin.count, twin.zeros, twin.sum, twin.max) == (h.count, h.zeros, h.sum, h.max)
        twin.record(1.0)
        assert twin.count == h.count + 1 and h.buckets != twin.buckets
