"""Named random streams and distribution samplers.

Every random quantity is drawn from a stream named after what it belongs to (`arrival:web`,
`work:orders.create`, `lb:orders` …) and seeded from `(run seed, replication, name)` through
SHA-256. A stream's draws therefore depend only on its own name and on nothing else in the file:
adding a service, reordering the YAML or giving an endpoint more steps leaves every other
stream's sequence untouched. That is what makes two variants of an architecture see exactly the
same arrivals and the same work times where they agree (common random numbers), so their
difference is measured with far less noise than two independent runs would give.

Samplers are small objects with the distribution's parameters and the stream's `random` bound
in (`Sampler` and its subclasses). Drawing a value is `sampler.draw()`: in the compiled engine a
direct call of a C function that returns an unboxed float, where a closure (what samplers were)
went through Python's generic call protocol and called `math.log` through its argument parser.
`sampler()` still works, for code that only needs a function.
"""

from __future__ import annotations

import hashlib
import math
import random
from bisect import bisect_right
from collections.abc import Callable
from typing import Final

from mypy_extensions import mypyc_attr

from scalesim_patterns.model.distributions import (
    Constant,
    Empirical,
    Erlang,
    Exponential,
    HyperExponential,
    LogNormal,
    Uniform,
)

__all__ = [
    "ZERO",
    "Constant_",
    "Function",
    "Sampler",
    "Scaled",
    "Streams",
    "Sum",
    "constant_zero",
    "sampler",
    "stream_seed",
]

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


@mypyc_attr(allow_interpreted_subclasses=True)
class Sampler:
    """A source of draws from one distribution: `draw()` returns the next value.

    The engine's extension point for anything that yields a duration (work times, gaps between
    arrivals, network legs, fault patches): subclass it and override `draw`."""

    __slots__ = ()

    def draw(self) -> float:
        raise NotImplementedError

    def __call__(self) -> float:
        return self.draw()


class Constant_(Sampler):
    """Always `value`."""

    __slots__ = ("value",)

    def __init__(self, value: float) -> None:
        self.value = value

    def draw(self) -> float:
        return self.value


class Exponential_(Sampler):
    """Inverse transform: `-mean · ln(1 − U)`."""

    __slots__ = ("mean", "rnd")

    def __init__(self, mean: float, rnd: Callable[[], float]) -> None:
        self.mean = mean
        self.rnd = rnd

    def draw(self) -> float:
        return -self.mean * math.log(1.0 - self.rnd())


class Uniform_(Sampler):
    __slots__ = ("lo", "rnd", "width")

    def __init__(self, lo: float, width: float, rnd: Callable[[], float]) -> None:
        self.lo = lo
        self.width = width
        self.rnd = rnd

    def draw(self) -> float:
        return self.lo + self.width * self.rnd()


class Erlang_(Sampler):
    """The sum of `k` exponential phases (k > 1)."""

    __slots__ = ("k", "phase", "rnd")

    def __init__(self, k: int, phase: float, rnd: Callable[[], float]) -> None:
        self.k = k
        self.phase = phase
        self.rnd = rnd

    def draw(self) -> float:
        # One log of a product is cheaper than k logs; stay in sums of logs when the product
        # could underflow (k large).
        rnd = self.rnd
        k = self.k
        if k <= 32:
            prod = 1.0
            for _ in range(k):
                prod *= 1.0 - rnd()
            return -self.phase * math.log(prod)
        return -self.phase * sum([math.log(1.0 - rnd()) for _ in range(k)])


class HyperExponential2_(Sampler):
    """Branch 1 (mean `m1`) with probability `p1`, else branch 2."""

    __slots__ = ("m1", "m2", "p1", "rnd")

    def __init__(self, p1: float, m1: float, m2: float, rnd: Callable[[], float]) -> None:
        self.p1 = p1
        self.m1 = m1
        self.m2 = m2
        self.rnd = rnd

    def draw(self) -> float:
        rnd = self.rnd
        return -(self.m1 if rnd() < self.p1 else self.m2) * math.log(1.0 - rnd())


class HyperExponential_(Sampler):
    __slots__ = ("cumulative", "means", "rnd")

    def __init__(
        self, cumulative: list[float], means: list[float], rnd: Callable[[], float]
    ) -> None:
        self.cumulative = cumulative
        self.means = means
        self.rnd = rnd

    def draw(self) -> float:
        rnd = self.rnd
        return -self.means[bisect_right(self.cumulative, rnd())] * math.log(1.0 - rnd())


class Empirical_(Sampler):
    """Inverse CDF of a piecewise-linear distribution through the given percentile points."""

    __slots__ = ("last", "qs", "rnd", "vs")

    def __init__(self, points: list[tuple[float, float]], rnd: Callable[[], float]) -> None:
        self.qs = [q for q, _ in points]
        self.vs = [v for _, v in points]
        self.last = len(points) - 1
        self.rnd = rnd

    def draw(self) -> float:
        u = self.rnd()
        qs = self.qs
        vs = self.vs
        i = bisect_right(qs, u) - 1
        if i >= self.last:
            return vs[self.last]
        q0, q1 = qs[i], qs[i + 1]
        return vs[i] + (vs[i + 1] - vs[i]) * (u - q0) / (q1 - q0)


class Sum(Sampler):
    """`a` plus `b`, each drawn in that order."""

    __slots__ = ("a", "b")

    def __init__(self, a: Sampler, b: Sampler) -> None:
        self.a = a
        self.b = b

    def draw(self) -> float:
        return self.a.draw() + self.b.draw()


class Scaled(Sampler):
    """`base`'s draw times `factor`."""

    __slots__ = ("base", "factor")

    def __init__(self, base: Sampler, factor: float) -> None:
        self.base = base
        self.factor = factor

    def draw(self) -> float:
        return self.base.draw() * self.factor


class Function(Sampler):
    """Draws by calling `fn`: for a value that is not a distribution's (time left until a
    fault ends, a test's fixed sequence)."""

    __slots__ = ("fn",)

    def __init__(self, fn: Callable[[], float]) -> None:
        self.fn = fn

    def draw(self) -> float:
        return self.fn()


ZERO: Final = Constant_(0.0)
"""Always 0: a leg without latency, an acknowledgement that costs nothing."""


def constant_zero(dist: AnyDistribution | None) -> bool:
    """True when the distribution always yields 0 (so the engine can skip scheduling a delay)."""
    return dist is None or (isinstance(dist, Constant) and dist.value == 0)


def sampler(dist: AnyDistribution, rng: random.Random) -> Sampler:
    """A sampler drawing from `dist` with `rng`."""
    rnd = rng.random
    if isinstance(dist, Constant):
        return Constant_(float(dist.value))
    if isinstance(dist, Exponential):
        return Exponential_(float(dist.mean_), rnd)
    if isinstance(dist, Uniform):
        return Uniform_(float(dist.min), float(dist.max - dist.min), rnd)
    if isinstance(dist, Erlang):
        phase = float(dist.mean_) / dist.k
        return Exponential_(phase, rnd) if dist.k == 1 else Erlang_(dist.k, phase, rnd)
    if isinstance(dist, LogNormal):
        mu, sigma = dist.mu_sigma
        return _LogNormal(rng, mu, sigma)
    if isinstance(dist, HyperExponential):
        return _hyperexponential(dist.branches(), rnd)
    if isinstance(dist, Empirical):
        return Empirical_(dist.points(), rnd)
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


class _LogNormal(Sampler):
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


def _hyperexponential(branches: list[tuple[float, float]], rnd: Callable[[], float]) -> Sampler:
    cumulative: list[float] = []
    total = 0.0
    for p, _ in branches:
        total += p
        cumulative.append(total)
    cumulative[-1] = 1.0
    means = [m for _, m in branches]
    if len(branches) == 2:
        return HyperExponential2_(cumulative[0], means[0], means[1], rnd)
    return HyperExponential_(cumulative, means, rnd)
