"""Named random streams and distribution samplers.

Every random quantity is drawn from a stream named after what it belongs to (`arrival:web`,
`work:orders.create`, `lb:orders` …) and seeded from `(run seed, replication, name)` through
SHA-256. A stream's draws therefore depend only on its own name and on nothing else in the file:
adding a service, reordering the YAML or giving an endpoint more steps leaves every other
stream's sequence untouched. That is what makes two variants of an architecture see exactly the
same arrivals and the same work times where they agree (common random numbers), so their
difference is measured with far less noise than two independent runs would give.

Samplers are closures with the distribution's parameters and the stream's `random` bound in, so
drawing a value is one Python call.
"""

from __future__ import annotations

import hashlib
import math
import random
from bisect import bisect_right
from collections.abc import Callable
from typing import Final

from scalesim_patterns.model.distributions import (
    Constant,
    Empirical,
    Erlang,
    Exponential,
    HyperExponential,
    LogNormal,
    Uniform,
)

__all__ = ["Sampler", "Streams", "constant_zero", "sampler", "stream_seed"]

Sampler = Callable[[], float]
AnyDistribution = (
    Constant | Exponential | Uniform | Erlang | LogNormal | HyperExponential | Empirical
)


def stream_seed(seed: int, replication: int, name: str) -> int:
    """128-bit seed of the stream `name` in replication `replication` of run seed `seed`."""
    digest = hashlib.sha256(f"scalesim:{seed}:{replication}:{name}".encode()).digest()
    return int.from_bytes(digest[:16], "big")


class Streams:
    """Factory of independent, name-keyed random streams for one replication."""

    __slots__ = ("_made", "replication", "seed")

    def __init__(self, seed: int, replication: int = 0) -> None:
        self.seed = seed
        self.replication = replication
        self._made: dict[str, random.Random] = {}

    def get(self, name: str) -> random.Random:
        """The stream called `name` (the same object when asked twice)."""
        rng = self._made.get(name)
        if rng is None:
            rng = random.Random(stream_seed(self.seed, self.replication, name))
            self._made[name] = rng
        return rng

    def sampler(self, dist: AnyDistribution, name: str) -> Sampler:
        return sampler(dist, self.get(name))


def constant_zero(dist: AnyDistribution | None) -> bool:
    """True when the distribution always yields 0 (so the engine can skip scheduling a delay)."""
    return dist is None or (isinstance(dist, Constant) and dist.value == 0)


def sampler(dist: AnyDistribution, rng: random.Random) -> Sampler:
    """A no-argument function drawing from `dist` with `rng`."""
    rnd = rng.random
    log = math.log
    if isinstance(dist, Constant):
        value = float(dist.value)
        return lambda: value
    if isinstance(dist, Exponential):
        mean = float(dist.mean_)
        return lambda: -mean * log(1.0 - rnd())
    if isinstance(dist, Uniform):
        lo, width = float(dist.min), float(dist.max - dist.min)
        return lambda: lo + width * rnd()
    if isinstance(dist, Erlang):
        return _erlang(dist.k, float(dist.mean_), rnd)
    if isinstance(dist, LogNormal):
        mu, sigma = dist.mu_sigma
        return _LogNormal(rng, mu, sigma).draw
    if isinstance(dist, HyperExponential):
        return _hyperexponential(dist.branches(), rnd)
    if isinstance(dist, Empirical):
        return _empirical(dist.points(), rnd)
    raise TypeError(f"no sampler for {type(dist).__name__}")


class _GaussPair:
    """The Box–Muller pair's second value of one stream, waiting for the next normal draw: what
    `random.Random.gauss` keeps in the stream's `gauss_next`, kept here in typed fields (the
    compiled engine reads and writes them directly, not as attributes of a Python object)."""

    __slots__ = ("has", "spare")

    def __init__(self) -> None:
        self.has = False
        self.spare = 0.0


def _pair_of(rng: random.Random) -> _GaussPair:
    """The stream's one `_GaussPair`, shared by every lognormal sampler drawing from it."""
    pair: _GaussPair | None = getattr(rng, "_scalesim_gauss_pair", None)
    if pair is None:
        pair = _GaussPair()
        setattr(rng, "_scalesim_gauss_pair", pair)  # noqa: B010 (not an attribute of Random)
    return pair


_TAU: Final = math.tau


class _LogNormal:
    """`exp(rng.gauss(mu, sigma))`, with `random.Random.gauss` written out here (CPython's own
    Box–Muller: the same floating-point operations in the same order, so the same draws, bit for
    bit, tests/sim/core/test_rng.py), compiled with the engine instead of running the standard
    library's interpreted `gauss` for every lognormal work time. The pair's second value waits
    in the stream's `_GaussPair` (shared by every lognormal sampler of the stream, as
    `gauss_next` is shared by the stream's `gauss` calls), not in `gauss_next`: the engine draws
    normals only here, and the attribute traffic on the `Random` object was a third of a draw."""

    __slots__ = ("mu", "pair", "rnd", "sigma")

    def __init__(self, rng: random.Random, mu: float, sigma: float) -> None:
        self.pair = _pair_of(rng)
        self.rnd = rng.random
        self.mu = mu
        self.sigma = sigma

    def draw(self) -> float:
        pair = self.pair
        if pair.has:
            pair.has = False
            z = pair.spare
        else:
            rnd = self.rnd
            x2pi = rnd() * _TAU
            g2rad = math.sqrt(-2.0 * math.log(1.0 - rnd()))
            z = math.cos(x2pi) * g2rad
            pair.spare = math.sin(x2pi) * g2rad
            pair.has = True
        return math.exp(self.mu + z * self.sigma)


def _erlang(k: int, mean: float, rnd: Callable[[], float]) -> Sampler:
    phase = mean / k
    log = math.log
    if k == 1:
        return lambda: -phase * log(1.0 - rnd())

    def draw() -> float:
        # One log of a product is cheaper than k logs; stay in sums of logs when the product
        # could underflow (k large).
        if k <= 32:
            prod = 1.0
            for _ in range(k):
                prod *= 1.0 - rnd()
            return -phase * log(prod)
        return -phase * sum(log(1.0 - rnd()) for _ in range(k))

    return draw


def _hyperexponential(branches: list[tuple[float, float]], rnd: Callable[[], float]) -> Sampler:
    cumulative: list[float] = []
    total = 0.0
    for p, _ in branches:
        total += p
        cumulative.append(total)
    cumulative[-1] = 1.0
    means = [m for _, m in branches]
    log = math.log
    if len(branches) == 2:
        p1, m1, m2 = cumulative[0], means[0], means[1]
        return lambda: -(m1 if rnd() < p1 else m2) * log(1.0 - rnd())

    def draw() -> float:
        return -means[bisect_right(cumulative, rnd())] * log(1.0 - rnd())

    return draw


def _empirical(points: list[tuple[float, float]], rnd: Callable[[], float]) -> Sampler:
    """Inverse CDF of a piecewise-linear distribution through the given percentile points."""
    qs = [q for q, _ in points]
    vs = [v for _, v in points]
    last = len(points) - 1

    def draw() -> float:
        u = rnd()
        i = bisect_right(qs, u) - 1
        if i >= last:
            return vs[last]
        q0, q1 = qs[i], qs[i + 1]
        return vs[i] + (vs[i + 1] - vs[i]) * (u - q0) / (q1 - q0)

    return draw
