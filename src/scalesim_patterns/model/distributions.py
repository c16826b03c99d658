"""Latency and work-time distributions.

Engineers rarely know a service's mean and variance; they know its p50 and p99 from a dashboard.
So besides the textbook parameterisations every distribution here can be given the way people
actually know it, and a bare duration (`5ms`) means "always exactly this".
"""

import itertools
import math
from typing import Annotated, Any, Literal

from pydantic import Field, GetCoreSchemaHandler, GetJsonSchemaHandler, model_validator
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

from .base import Spec
from .units import Duration

__all__ = [
    "Constant",
    "Distribution",
    "Empirical",
    "Erlang",
    "Exponential",
    "HyperExponential",
    "LogNormal",
    "Phase",
    "Uniform",
]

_Z99 = 2.3263478740408408
"""`statistics.NormalDist().inv_cdf(0.99)`, the standard normal's 99th percentile, as that
computes it (tests/model/test_distributions.py checks they are the same float): importing
`statistics` loaded `fractions` with it, 0.003 s of every start."""


class Constant(Spec):
    """Deterministic value (M/D/1-style service)."""

    type: Literal["constant"] = "constant"
    value: Duration

    def mean(self) -> float:
        return self.value

    def scv(self) -> float:
        return 0.0


class Exponential(Spec):
    """Memoryless: the textbook M/M/c service law."""

    type: Literal["exponential"] = "exponential"
    mean_: Duration = Field(alias="mean")

    def mean(self) -> float:
        return self.mean_

    def scv(self) -> float:
        return 1.0


class Uniform(Spec):
    type: Literal["uniform"] = "uniform"
    min: Duration
    max: Duration

    @model_validator(mode="after")
    def _ordered(self) -> "Uniform":
        if self.max < self.min:
            raise ValueError("max must be at least min")
        return self

    def mean(self) -> float:
        return (self.min + self.max) / 2

    def scv(self) -> float:
        m = self.mean()
        return 0.0 if m == 0 else ((self.max - self.min) ** 2 / 12) / m**2


class Erlang(Spec):
    """Sum of k exponential phases: less variable than exponential (SCV = 1/k)."""

    type: Literal["erlang"] = "erlang"
    k: int = Field(ge=1)
    mean_: Duration = Field(alias="mean")

    def mean(self) -> float:
        return self.mean_

    def scv(self) -> float:
        return 1.0 / self.k


class LogNormal(Spec):
    """Right-skewed latency, given by mean/sd or by the p50/p99 a dashboard shows."""

    type: Literal["lognormal"] = "lognormal"
    mean_: Duration | None = Field(default=None, alias="mean")
    sd: Duration | None = None
    p50: Duration | None = None
    p99: Duration | None = None

    @model_validator(mode="after")
    def _one_parameterisation(self) -> "LogNormal":
        by_moments = self.mean_ is not None and self.sd is not None
        by_quantiles = self.p50 is not None and self.p99 is not None
        if (
            by_moments == by_quantiles
            or (by_moments and (self.p50 is not None or self.p99 is not None))
            or (by_quantiles and (self.mean_ is not None or self.sd is not None))
        ):
            raise ValueError("give either mean and sd, or p50 and p99")
        if by_quantiles:
            assert self.p50 is not None and self.p99 is not None
            if not 0 < self.p50 < self.p99:
                raise ValueError("need 0 < p50 < p99")
        elif self.mean_ is not None and self.mean_ <= 0:
            raise ValueError("mean must be positive")
        return self

    @property
    def mu_sigma(self) -> tuple[float, float]:
        """Parameters of the underlying normal distribution."""
        if self.p50 is not None and self.p99 is not None:
            mu = math.log(self.p50)
            return mu, (math.log(self.p99) - mu) / _Z99
        assert self.mean_ is not None and self.sd is not None
        sigma2 = math.log1p((self.sd / self.mean_) ** 2)
        return math.log(self.mean_) - sigma2 / 2, math.sqrt(sigma2)

    def mean(self) -> float:
        mu, sigma = self.mu_sigma
        return math.exp(mu + sigma**2 / 2)

    def scv(self) -> float:
        _, sigma = self.mu_sigma
        return math.expm1(sigma**2)


class Phase(Spec):
    probability: float = Field(gt=0, le=1)
    mean_: Duration = Field(alias="mean")


class HyperExponential(Spec):
    """Mixture of exponentials: more variable than exponential (SCV > 1), for heavy tails.

    Given `mean` and `scv`, two balanced-means phases are used (each phase carries half the mean).
    """

    type: Literal["hyperexponential"] = "hyperexponential"
    mean_: Duration | None = Field(default=None, alias="mean")
    scv_: float | None = Field(default=None, alias="scv", gt=1, le=10_000)
    """Squared coefficient of variation; above 10 000 the rare phase has a probability that
    floating point rounds to zero."""
    phases: list[Phase] | None = None

    @model_validator(mode="after")
    def _one_parameterisation(self) -> "HyperExponential":
        if (self.phases is None) == (self.mean_ is None or self.scv_ is None):
            raise ValueError("give either mean and scv, or phases")
        if self.phases is not None:
            if self.mean_ is not None or self.scv_ is not None:
                raise ValueError("give either mean and scv, or phases")
            total = sum(p.probability for p in self.phases)
            if abs(total - 1) > 1e-9:
                raise ValueError(f"phase probabilities must sum to 1, got {total:g}")
        elif self.mean_ is not None and self.mean_ <= 0:
            raise ValueError("mean must be positive")
        return self

    def branches(self) -> list[tuple[float, float]]:
        """(probability, phase mean) pairs."""
        if self.phases is not None:
            return [(p.probability, p.mean_) for p in self.phases]
        assert self.mean_ is not None and self.scv_ is not None
        p1 = 0.5 * (1 + math.sqrt((self.scv_ - 1) / (self.scv_ + 1)))
        p2 = 1 - p1
        return [(p1, self.mean_ / (2 * p1)), (p2, self.mean_ / (2 * p2))]

    def mean(self) -> float:
        return sum(p * m for p, m in self.branches())

    def scv(self) -> float:
        m1 = self.mean()
        m2 = sum(p * 2 * m * m for p, m in self.branches())
        return m2 / m1**2 - 1


class Empirical(Spec):
    """Percentile table from measurements; values between percentiles are interpolated linearly.

    Keys are percentiles (`p50`, `p90`, `p99`, `p99.9`, `min`, `max`). Without `min` the
    distribution starts at 0; without `max` it ends at the highest percentile given.
    """

    type: Literal["empirical"] = "empirical"
    percentiles: dict[str, Duration]

    @model_validator(mode="after")
    def _monotone(self) -> "Empirical":
        points = self.points()
        if len(points) < 2:
            raise ValueError("give at least one percentile such as p50")
        for (q0, v0), (q1, v1) in itertools.pairwise(points):
            if v1 < v0:
                raise ValueError(f"percentile values must not decrease (q{q0:g} > q{q1:g})")
        return self

    def points(self) -> list[tuple[float, float]]:
        """(cumulative probability, value) pairs, sorted, including the ends."""
        pts: dict[float, float] = {}
        for key, value in self.percentiles.items():
            if key == "min":
                pts[0.0] = value
            elif key == "max":
                pts[1.0] = value
            elif key.startswith("p"):
                try:
                    q = float(key[1:]) / 100
                except ValueError:
                    raise ValueError(
                        f"{key!r} is not a percentile; use keys like p50, p99, p99.9, min, max"
                    ) from None
                if not 0 < q < 1:
                    raise ValueError(f"{key!r}: percentile must be between 0 and 100")
                pts[q] = value
            else:
                raise ValueError(f"{key!r} is not a percentile; use keys like p50, p99, min, max")
        pts.setdefault(0.0, 0.0)
        if 1.0 not in pts:
            top = max(pts)
            pts[1.0] = pts[top]
        return sorted(pts.items())

    def mean(self) -> float:
        pts = self.points()
        return sum((q1 - q0) * (v0 + v1) / 2 for (q0, v0), (q1, v1) in itertools.pairwise(pts))

    def scv(self) -> float:
        pts = self.points()
        m2 = sum(
            (q1 - q0) * (v0 * v0 + v0 * v1 + v1 * v1) / 3
            for (q0, v0), (q1, v1) in itertools.pairwise(pts)
        )
        m = self.mean()
        return 0.0 if m == 0 else m2 / m**2 - 1


def _shorthand(value: Any) -> Any:
    if isinstance(value, str):
        return {"type": "constant", "value": value}
    return value


class _Shorthand:
    """`BeforeValidator(_shorthand, json_schema_input_type=str | _Union)`, with the input type's
    JSON Schema written out when a JSON Schema is made rather than built as a second core schema
    with each field: pydantic generated the seven-way union twice for every distribution field
    (two dozen, 1.7 % of `scalesim simulate`'s instructions before its first event). The same
    validator (a plain before-validator, no info argument) and, in validation mode, the same JSON
    Schema pydantic makes for `str | _Union` (the union of the two, `anyOf`); in serialization
    mode, the distribution's own, as pydantic's. `scalesim schema` prints the same bytes
    (tests/model/test_distributions.py)."""

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_before_validator_function(_shorthand, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        union = handler(schema)
        if handler.mode == "serialization":
            return union
        return {"anyOf": [{"type": "string"}, union]}


_Union = Annotated[
    Constant | Exponential | Uniform | Erlang | LogNormal | HyperExponential | Empirical,
    Field(discriminator="type"),
]
Distribution = Annotated[_Union, _Shorthand()]
"""A latency distribution, or a bare duration meaning a constant."""
