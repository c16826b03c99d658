"""How many times: call counts that depend on the data (items in a cart, recommendations shown,
followers to fan out to).

A `repeat` is a whole number, or one of these distributions over whole numbers ≥ 0 (a draw of 0
skips the step). Each has a closed-form mean, which the validator's load estimates use.
"""

import math
from typing import Annotated, Literal

from pydantic import Field, model_validator

from .base import Spec

__all__ = [
    "Count",
    "CountDistribution",
    "EmpiricalCount",
    "GeometricCount",
    "PoissonCount",
    "UniformCount",
    "ZipfCount",
    "count_mean",
]

MAX_COUNT = 100_000
"""Largest count a distribution may produce: a loop of a million calls per request is a typo."""


class UniformCount(Spec):
    """Every whole number from `min` to `max` equally likely (items in a cart: 1–10)."""

    type: Literal["uniform"]
    min: int = Field(ge=0, le=MAX_COUNT)
    max: int = Field(ge=0, le=MAX_COUNT)

    @model_validator(mode="after")
    def _order(self) -> "UniformCount":
        if self.max < self.min:
            raise ValueError(f"max ({self.max}) must be at least min ({self.min})")
        return self

    def mean(self) -> float:
        return (self.min + self.max) / 2


class GeometricCount(Spec):
    """0, 1, 2, … with P(k) = (1 − p)^k p, p = 1 / (1 + mean): "again with a fixed chance"."""

    type: Literal["geometric"]
    mean_: float = Field(alias="mean", ge=0, le=1000)
    max: int = Field(MAX_COUNT, ge=1, le=MAX_COUNT)
    """Draws above this are cut to it."""

    def mean(self) -> float:
        q = self.mean_ / (1 + self.mean_)  # the chance of one more
        return q * (1 - q**self.max) / (1 - q) if q > 0 else 0.0


class PoissonCount(Spec):
    """Poisson-distributed count (independent events per request)."""

    type: Literal["poisson"]
    mean_: float = Field(alias="mean", ge=0, le=1000)

    def mean(self) -> float:
        return self.mean_


class ZipfCount(Spec):
    """Heavy-tailed: P(k) ∝ k^(−exponent) for k = min … max (followers per user, fan-out)."""

    type: Literal["zipf"]
    exponent: float = Field(gt=0, le=10)
    min: int = Field(1, ge=1, le=MAX_COUNT)
    max: int = Field(ge=1, le=MAX_COUNT)

    @model_validator(mode="after")
    def _order(self) -> "ZipfCount":
        if self.max < self.min:
            raise ValueError(f"max ({self.max}) must be at least min ({self.min})")
        return self

    def weights(self) -> list[float]:
        return [k ** (-self.exponent) for k in range(self.min, self.max + 1)]

    def mean(self) -> float:
        w = self.weights()
        return sum((self.min + i) * x for i, x in enumerate(w)) / math.fsum(w)


class EmpiricalCount(Spec):
    """Counts with their weights, as measured: `{0: 10, 1: 60, 2: 30}`."""

    type: Literal["empirical"]
    values: dict[int, float] = Field(min_length=1)

    @model_validator(mode="after")
    def _weights(self) -> "EmpiricalCount":
        for k, w in self.values.items():
            if not 0 <= k <= MAX_COUNT:
                raise ValueError(f"count {k} must lie in 0..{MAX_COUNT}")
            if not w >= 0:
                raise ValueError(f"the weight of count {k} must not be negative")
        if sum(self.values.values()) <= 0:
            raise ValueError("at least one count needs a positive weight")
        return self

    def mean(self) -> float:
        total = math.fsum(self.values.values())
        return math.fsum(k * w for k, w in self.values.items()) / total


CountDistribution = Annotated[
    UniformCount | GeometricCount | PoissonCount | ZipfCount | EmpiricalCount,
    Field(discriminator="type"),
]

Count = Annotated[int, Field(ge=1, le=MAX_COUNT)] | CountDistribution
"""A `repeat`: a whole number (≥ 1), or a distribution of whole numbers (≥ 0)."""


def count_mean(
    count: int | UniformCount | GeometricCount | PoissonCount | ZipfCount | EmpiricalCount,
) -> float:
    """The mean number of repetitions."""
    if isinstance(count, int):
        return float(count)
    return count.mean()
