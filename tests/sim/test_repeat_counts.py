"""Call counts that depend on the data (model/counts.py, sim/network/loops.py): the mean number
of calls per request against each distribution's mean computed here from its definition.

Each test counts the callee's requests per caller request over 10 replications and asserts the
mean inside the 95 % interval.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from pydantic import ValidationError

from scalesim_patterns.sim import simulate
from scalesim_patterns.sim.core.stats import estimate

from .models import architecture, poisson, service
from .test_queueing_theory import assert_inside


def _per_request(steps: list[Any], callees: tuple[str, ...], *, db: bool = False) -> list[Any]:
    """Mean calls per request of `a.e` to each callee (and database queries), as estimates."""
    extra: dict[str, Any] = {}
    if db:
        extra["databases"] = {"d": {"engine": "postgresql", "owner": "a", "pool": 50}}
    arch = architecture(
        {
            "a": service("0s", workers=1000, concurrency="async", steps=steps),
            **{c: service("0s", workers=1000, concurrency="async") for c in callees},
        },
        poisson("20/s", "a.e"),
        duration="100s",
        **extra,
    )
    result = simulate(arch, replications=10, seed=4)
    out = []
    for callee in callees:
        out.append(
            estimate(
                [
                    r.report.services[callee].throughput / r.report.services["a"].throughput
                    for r in result.runs
                ]
            )
        )
    if db:
        out.append(
            estimate(
                [
                    r.report.databases["d"].throughput / r.report.services["a"].throughput
                    for r in result.runs
                ]
            )
        )
    return out


def test_uniform_repeat_of_a_call() -> None:
    [b] = _per_request(
        [{"call": "b.e", "repeat": {"type": "uniform", "min": 1, "max": 10}}], ("b",)
    )
    assert_inside(b, (1 + 10) / 2, 0.03)


def test_poisson_repeat_of_a_query_and_geometric_of_a_call() -> None:
    # Geometric with mean 2, capped at 5: E[min(K, 5)] = Σ_{k=1..5} q^k with q = 2/3.
    q = 2 / 3
    capped = sum(q**k for k in range(1, 6))
    b, queries = _per_request(
        [
            {"call": "b.e", "repeat": {"type": "geometric", "mean": 2, "max": 5}},
            {"query": "d", "repeat": {"type": "poisson", "mean": 3}},
        ],
        ("b",),
        db=True,
    )
    assert_inside(b, capped, 0.05)
    assert_inside(queries, 3.0, 0.04)


def test_a_group_repeated_by_a_heavy_tailed_count() -> None:
    # Zipf exponent 1.2 on 1..50: each pass calls b once and c with probability 0.5.
    w = [k**-1.2 for k in range(1, 51)]
    mean = math.fsum(k * x for k, x in zip(range(1, 51), w, strict=True)) / math.fsum(w)
    b, c = _per_request(
        [
            {
                "repeat": {"type": "zipf", "exponent": 1.2, "max": 50},
                "steps": [{"call": "b.e"}, {"call": "c.e", "probability": 0.5}],
            }
        ],
        ("b", "c"),
    )
    assert_inside(b, mean, 0.1)
    assert_inside(c, mean / 2, 0.1)


def test_nested_groups_and_parallel_fan_out() -> None:
    # Outer 2..4 passes (mean 3); inner empirical {0: 1, 1: 1, 4: 2} (mean 2.25) calls of b;
    # then a parallel fan-out of 0..5 concurrent calls of c (mean 2.5) once per request.
    b, c = _per_request(
        [
            {
                "repeat": {"type": "uniform", "min": 2, "max": 4},
                "steps": [
                    {
                        "repeat": {"type": "empirical", "values": {0: 1, 1: 1, 4: 2}},
                        "steps": [{"call": "b.e"}],
                    }
                ],
            },
            {"parallel": [{"call": "c.e", "repeat": {"type": "uniform", "min": 0, "max": 5}}]},
        ],
        ("b", "c"),
    )
    assert_inside(b, 3 * 2.25, 0.05)
    assert_inside(c, 2.5, 0.05)


@pytest.mark.parametrize(
    ("repeat", "words"),
    [
        (0, "greater than or equal to 1"),
        ({"type": "uniform", "min": 5, "max": 2}, "max (2) must be at least min (5)"),
        ({"type": "zipf", "exponent": 0, "max": 10}, "greater than 0"),
        ({"type": "binomial", "n": 3}, "binomial"),
        ({"type": "empirical", "values": {1: -1}}, "must not be negative"),
        ({"type": "uniform", "min": 1, "max": 10**7}, "less than or equal to 100000"),
    ],
)
def test_bad_counts_are_refused(repeat: Any, words: str) -> None:
    with pytest.raises(ValidationError) as info:
        architecture(
            {"a": service("1ms", steps=[{"call": "b.e", "repeat": repeat}]), "b": service("1ms")},
            poisson("1/s", "a.e"),
        )
    assert words in str(info.value)
