from __future__ import annotations

import itertools
import math
import random

import pytest
from pydantic import TypeAdapter, ValidationError

from scalesim_patterns.model.distributions import Distribution
from scalesim_patterns.model.units import STRICT_UNITS

DIST: TypeAdapter[object] = TypeAdapter(Distribution)


def parse(value: object):  # type: ignore[no-untyped-def]
    """As the file loader validates: numbers need units."""
    return DIST.validate_python(value, context={STRICT_UNITS: True})


def test_from_python_a_number_is_already_in_seconds() -> None:
    assert DIST.validate_python({"type": "exponential", "mean": 0.01}).mean() == 0.01
    with pytest.raises(ValidationError, match="negative"):
        DIST.validate_python({"type": "exponential", "mean": -1})


def test_a_bare_duration_is_a_constant() -> None:
    d = parse("5ms")
    assert d.type == "constant"
    assert d.mean() == pytest.approx(0.005)
    assert d.scv() == 0


def test_lognormal_from_p50_p99_has_those_quantiles() -> None:
    d = parse({"type": "lognormal", "p50": "10ms", "p99": "100ms"})
    mu, sigma = d.mu_sigma
    assert math.exp(mu) == pytest.approx(0.010)
    assert math.exp(mu + 2.3263478740408408 * sigma) == pytest.approx(0.100)


def test_the_99th_percentile_z_is_the_one_statistics_computes() -> None:
    """`_Z99` is written as a number (importing `statistics` cost every start 0.003 s); it must
    be the very float `NormalDist` gives, or every p50/p99 log-normal would move."""
    from statistics import NormalDist

    from scalesim_patterns.model import distributions

    assert NormalDist().inv_cdf(0.99) == distributions._Z99


def test_lognormal_from_mean_sd_has_that_mean_and_variance() -> None:
    d = parse({"type": "lognormal", "mean": "20ms", "sd": "10ms"})
    assert d.mean() == pytest.approx(0.020)
    assert d.scv() == pytest.approx(0.25)


@pytest.mark.parametrize(
    "bad",
    [
        {"type": "lognormal", "p50": "10ms"},
        {"type": "lognormal", "mean": "10ms", "sd": "1ms", "p50": "5ms", "p99": "20ms"},
        {"type": "lognormal", "p50": "10ms", "p99": "5ms"},
        {"type": "uniform", "min": "5ms", "max": "1ms"},
        {"type": "hyperexponential", "mean": "1s"},
        {"type": "hyperexponential", "phases": [{"probability": 0.5, "mean": "1s"}]},
        {"type": "empirical", "percentiles": {"p50": "10ms", "p90": "5ms"}},
        {"type": "empirical", "percentiles": {"median": "10ms"}},
        {"type": "gamma", "mean": "1s"},
        {"type": "exponential", "mean": 5},
    ],
)
def test_inconsistent_parameters_are_rejected(bad: object) -> None:
    with pytest.raises(ValidationError):
        parse(bad)


def test_balanced_hyperexponential_matches_mean_and_scv() -> None:
    d = parse({"type": "hyperexponential", "mean": "1s", "scv": 4})
    assert d.mean() == pytest.approx(1.0)
    assert d.scv() == pytest.approx(4.0)
    branches = d.branches()
    assert sum(p for p, _ in branches) == pytest.approx(1.0)
    # balanced means: each branch carries half the mean
    assert all(p * m == pytest.approx(0.5) for p, m in branches)


def test_empirical_moments_match_sampling_from_its_inverse_cdf() -> None:
    d = parse({"type": "empirical", "percentiles": {"p50": "10ms", "p90": "30ms", "p99": "80ms"}})
    pts = d.points()
    rng = random.Random(7)
    n = 200_000
    total = total2 = 0.0
    for _ in range(n):
        u = rng.random()
        for (q0, v0), (q1, v1) in itertools.pairwise(pts):
            if u <= q1:
                x = v0 + (v1 - v0) * (u - q0) / (q1 - q0)
                break
        total += x
        total2 += x * x
    mean = total / n
    assert d.mean() == pytest.approx(mean, rel=0.01)
    assert d.scv() == pytest.approx((total2 / n) / mean**2 - 1, rel=0.03)


def test_erlang_and_uniform_moments() -> None:
    assert parse({"type": "erlang", "k": 4, "mean": "8ms"}).scv() == pytest.approx(0.25)
    u = parse({"type": "uniform", "min": "0ms", "max": "10ms"})
    assert u.mean() == pytest.approx(0.005)
    assert u.scv() == pytest.approx(1 / 3)


def test_the_shorthand_gives_the_json_schema_and_errors_pydantic_gave_before() -> None:
    """`Distribution` states its input type (`str | _Union`) for the JSON Schema when one is
    made, not as a second core schema per field (model/distributions.py, `_Shorthand`). The
    annotation it replaced, on a field alone, in a union with None and in a list, in both JSON
    Schema modes: the same schema, the same values and the same errors."""
    from typing import Annotated, Any

    from pydantic import BaseModel, BeforeValidator

    from scalesim_patterns.model import distributions as d

    before = Annotated[
        d._Union,
        BeforeValidator(d._shorthand, json_schema_input_type=str | d._Union),
    ]

    def model(dist: Any) -> type[BaseModel]:
        class M(BaseModel):
            one: dist
            maybe: dist | None = None
            many: list[dist] = []

        return M

    ours, theirs = model(Distribution), model(before)
    for mode in ("validation", "serialization"):
        assert ours.model_json_schema(mode=mode) == theirs.model_json_schema(mode=mode)  # type: ignore[arg-type]
    inputs: list[Any] = [
        {"one": "5ms", "maybe": {"type": "exponential", "mean": "2ms"}, "many": ["1ms", "2s"]},
        {"one": {"type": "erlang", "k": 2, "mean": "1ms"}, "maybe": None},
        {"one": 5, "many": [{"type": "nope"}]},
        {"one": {"type": "lognormal", "p50": "2ms"}, "maybe": "soon"},
        {"one": None, "maybe": 3, "many": "1ms"},
    ]
    for data in inputs:
        for context in ({STRICT_UNITS: True}, None):
            try:
                got: Any = ours.model_validate(data, context=context).model_dump()
            except ValidationError as exc:
                got = (exc.errors(include_url=False, include_context=False), str(exc))
            try:
                want: Any = theirs.model_validate(data, context=context).model_dump()
            except ValidationError as exc:
                want = (exc.errors(include_url=False, include_context=False), str(exc))
            assert got == want, data
