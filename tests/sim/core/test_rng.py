from __future__ import annotations

import bisect
import itertools
import math
import statistics
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import TypeAdapter

from scalesim_patterns.model.distributions import Distribution
from scalesim_patterns.sim.core.rng import (
    Constant_,
    Function,
    Scaled,
    Streams,
    Sum,
    sampler,
    stream_seed,
)
from scalesim_patterns.sim.core.stats import estimate

_DIST: TypeAdapter[Any] = TypeAdapter(Distribution)


def dist(spec: Any) -> Any:
    return _DIST.validate_python(spec)


DISTRIBUTIONS = [
    dist("7ms"),
    dist({"type": "exponential", "mean": "10ms"}),
    dist({"type": "uniform", "min": "1ms", "max": "9ms"}),
    dist({"type": "erlang", "k": 3, "mean": "30ms"}),
    dist({"type": "lognormal", "mean": "20ms", "sd": "10ms"}),
    dist({"type": "lognormal", "p50": "5ms", "p99": "50ms"}),
    dist({"type": "hyperexponential", "mean": "10ms", "scv": 4}),
    dist(
        {
            "type": "hyperexponential",
            "phases": [
                {"probability": 0.2, "mean": "1ms"},
                {"probability": 0.3, "mean": "5ms"},
                {"probability": 0.5, "mean": "9ms"},
            ],
        }
    ),
    dist(
        {
            "type": "empirical",
            "percentiles": {"p50": "10ms", "p90": "30ms", "p99": "80ms", "max": "200ms"},
        }
    ),
]


@pytest.mark.parametrize("d", DISTRIBUTIONS, ids=lambda d: type(d).__name__)
def test_sampler_mean_and_variability_match_the_distribution(d: Any) -> None:
    draw = Streams(1).sampler(d, "x")
    batches = [statistics.fmean(draw() for _ in range(4000)) for _ in range(20)]
    est = estimate(batches)
    mean = d.mean()
    if est.half_width == 0:
        assert est.mean == pytest.approx(mean)
    else:
        assert est.contains(mean), (est, mean)
    values = [draw() for _ in range(100_000)]
    scv = statistics.pvariance(values) / statistics.fmean(values) ** 2
    assert scv == pytest.approx(d.scv(), abs=0.05 + 0.1 * d.scv())


def test_lognormal_by_quantiles_hits_them() -> None:
    draw = Streams(2).sampler(dist({"type": "lognormal", "p50": "5ms", "p99": "50ms"}), "q")
    values = sorted(draw() for _ in range(200_000))
    assert values[100_000] == pytest.approx(0.005, rel=0.02)
    assert values[198_000] == pytest.approx(0.050, rel=0.05)


def test_empirical_interpolates_between_percentiles() -> None:
    draw = Streams(3).sampler(
        dist({"type": "empirical", "percentiles": {"min": "0s", "p50": "10ms", "max": "20ms"}}), "e"
    )
    values = sorted(draw() for _ in range(100_000))
    assert values[25_000] == pytest.approx(0.005, rel=0.03)
    assert values[75_000] == pytest.approx(0.015, rel=0.03)
    assert max(values) <= 0.020


def test_streams_are_keyed_by_name_not_by_creation_order() -> None:
    a, b = Streams(7), Streams(7)
    a.get("first")
    x = [a.get("arrival:web").random() for _ in range(5)]
    y = [b.get("arrival:web").random() for _ in range(5)]
    assert x == y
    assert a.get("arrival:web") is a.get("arrival:web")
    assert (
        Streams(7, replication=1).get("arrival:web").random()
        != Streams(7).get("arrival:web").random()
    )
    assert stream_seed(7, 0, "a") != stream_seed(7, 0, "b")
    assert stream_seed(7, 0, "a") == stream_seed(7, 0, "a")


def test_streams_with_different_names_are_uncorrelated() -> None:
    s = Streams(11)
    u = [s.get("u").random() for _ in range(20_000)]
    v = [s.get("v").random() for _ in range(20_000)]
    r = statistics.correlation(u, v)
    assert abs(r) < 4 / math.sqrt(20_000)


@pytest.mark.parametrize("spec", [{"mean": "20ms", "sd": "10ms"}, {"p50": "5ms", "p99": "50ms"}])
def test_lognormal_draws_are_bit_for_bit_the_standard_librarys(spec: dict[str, str]) -> None:
    """The sampler writes `random.gauss` out (to compile it): the same stream must give exactly
    `exp(gauss(mu, sigma))`, also when other code draws from the stream in between (odd and even
    draws of the Box–Muller pair; plain draws; another lognormal sampler of the same stream,
    which shares the pair's second value as the stream's own `gauss` calls share `gauss_next`)."""
    lognormal = dist({"type": "lognormal", **spec})
    other = dist({"type": "lognormal", "p50": "1s", "p99": "4s"})
    mu, sigma = lognormal.mu_sigma
    mu2, sigma2 = other.mu_sigma
    ours = Streams(7).get("work:x")
    reference = Streams(7).get("work:x")
    draw = Streams(7).sampler(lognormal, "unused")  # a sampler on another stream: independent
    mine = sampler(lognormal, ours)
    theirs = sampler(other, ours)
    for i in range(2001):
        assert mine() == math.exp(reference.gauss(mu, sigma))
        if i % 7 == 0:  # someone else on the stream: a plain draw, or a lognormal of its own
            assert ours.random() == reference.random()
        if i % 11 == 0:
            assert theirs() == math.exp(reference.gauss(mu2, sigma2))
    assert draw() > 0


def _closed_form(d: Any, r: Any) -> Callable[[], float]:
    """Each distribution's draw written out on a plain `random.Random` (what the engine's
    samplers must compute, in the same floating-point operations)."""
    kind = type(d).__name__
    if kind == "Constant":
        return lambda: float(d.value)
    if kind == "Exponential":
        return lambda: -float(d.mean_) * math.log(1.0 - r.random())
    if kind == "Uniform":
        return lambda: float(d.min) + float(d.max - d.min) * r.random()
    if kind == "Erlang":

        def erlang() -> float:
            prod = 1.0
            for _ in range(d.k):
                prod *= 1.0 - r.random()
            return -(float(d.mean_) / d.k) * math.log(prod)

        return erlang
    if kind == "LogNormal":
        mu, sigma = d.mu_sigma
        return lambda: math.exp(r.gauss(mu, sigma))
    if kind == "HyperExponential":
        branches = d.branches()
        cumulative = list(itertools.accumulate(p for p, _ in branches))
        cumulative[-1] = 1.0
        means = [m for _, m in branches]
        return lambda: (
            -means[bisect.bisect_right(cumulative, r.random())] * math.log(1.0 - r.random())
        )
    assert kind == "Empirical"
    qs = [q for q, _ in d.points()]
    vs = [v for _, v in d.points()]

    def empirical() -> float:
        u = r.random()
        i = bisect.bisect_right(qs, u) - 1
        if i >= len(qs) - 1:
            return vs[-1]
        return vs[i] + (vs[i + 1] - vs[i]) * (u - qs[i]) / (qs[i + 1] - qs[i])

    return empirical


@pytest.mark.parametrize("d", [dist("7ms"), *DISTRIBUTIONS], ids=lambda d: type(d).__name__)
def test_every_sampler_draws_its_closed_form_bit_for_bit(d: Any) -> None:
    """`draw()` and calling the sampler give the same sequence as the formula on a twin
    stream: the typed samplers changed how a draw is called, not one bit of what it is."""
    s = sampler(d, Streams(3).get("work:y"))
    want = _closed_form(d, Streams(3).get("work:y"))
    for i in range(3000):
        got = s.draw() if i % 2 else s()
        assert got == want(), i


def test_composed_samplers_add_and_scale_in_order() -> None:
    exp, uni = (
        dist({"type": "exponential", "mean": "10ms"}),
        dist({"type": "uniform", "min": "1ms", "max": "3ms"}),
    )
    a, b = sampler(exp, Streams(4).get("a")), sampler(uni, Streams(4).get("b"))
    draw_a = _closed_form(exp, Streams(4).get("a"))
    draw_b = _closed_form(uni, Streams(4).get("b"))
    both, scaled = Sum(a, b), Scaled(a, 1.5)
    for _ in range(500):
        x = draw_a()
        assert both.draw() == x + draw_b()
        assert scaled.draw() == draw_a() * 1.5
    assert Constant_(2.5).draw() == 2.5
    assert Function(lambda: 4.0).draw() == 4.0
