"""Grid and sampled plans: the points a sweep runs."""

from __future__ import annotations

import math

import pytest

from scalesim_patterns.sweep import PlanError, make_plan, parse_vary


def test_list_and_range_dimensions() -> None:
    d = parse_vary("traffic.shoppers.arrival.rate=200/s..2000/s:10")
    assert d.grid_values() == tuple(f"{200 * k}/s" for k in range(1, 11))
    assert parse_vary("services.order.replicas=1,2,4,8").grid_values() == ("1", "2", "4", "8")
    assert parse_vary("a=1..8:8").grid_values() == tuple(str(k) for k in range(1, 9))
    assert parse_vary("a=0.5..1.5:3").grid_values() == ("0.5", "1", "1.5")


def test_grid_is_every_combination_in_order() -> None:
    plan = make_plan([parse_vary("a=1,2"), parse_vary("b=10ms..30ms:3")])
    assert plan.points == (
        ("1", "10ms"), ("1", "20ms"), ("1", "30ms"), ("2", "10ms"), ("2", "20ms"), ("2", "30ms"),
    )  # fmt: skip
    assert plan.settings(4) == ["a=2", "b=20ms"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a", "expected PATH="),
        ("a=1..3", "needs a count"),
        ("a=3..1:3", "must rise"),
        ("a=1/s..3ms:3", "same unit"),
        ("a=1..3:1", "count must be 2"),
        ("a=x..y:3", "not a number"),
        ("a=1,,2", "empty value"),
        ("a=1,1", "listed twice"),
    ],
)
def test_bad_vary_says_what_is_valid(text: str, message: str) -> None:
    with pytest.raises(PlanError, match=message):
        parse_vary(text)


def test_latin_hypercube_fills_each_stratum_once() -> None:
    n = 16
    plan = make_plan([parse_vary("x=0.0..1.0:2"), parse_vary("y=0.0..1.0:2")], "lhs:16", seed=3)
    assert len(plan.points) == n
    for k in range(2):
        strata = sorted(math.floor(float(p[k]) * n) for p in plan.points)
        assert strata == list(range(n))
    # seeded: the same command gives the same points
    again = make_plan([parse_vary("x=0.0..1.0:2"), parse_vary("y=0.0..1.0:2")], "lhs:16", seed=3)
    assert again.points == plan.points


def test_sobol_needs_a_power_of_two_and_covers_each_half() -> None:
    with pytest.raises(PlanError, match="power of 2"):
        make_plan([parse_vary("x=0.0..1.0:2")], "sobol:10")
    plan = make_plan([parse_vary("x=0.0..1.0:2"), parse_vary("n=1..4:4")], "sobol:8", seed=1)
    # a scrambled Sobol' sequence of 2^3 points puts exactly one point in each 1/8 of [0, 1)
    assert sorted(math.floor(float(p[0]) * 8) for p in plan.points) == list(range(8))
    # integer dimension: every whole number of 1..4 gets 2 of the 8 points
    assert sorted(int(p[1]) for p in plan.points) == [1, 1, 2, 2, 3, 3, 4, 4]


def test_too_many_points_and_bad_sample() -> None:
    dims = [parse_vary(f"d{k}=1..10:10") for k in range(6)]
    with pytest.raises(PlanError, match="use --sample"):
        make_plan(dims)
    with pytest.raises(PlanError, match="lhs:N or sobol:N"):
        make_plan(dims[:1], "random:5")
