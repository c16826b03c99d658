"""Caches in front of a database: cache-aside on memcached or Redis.

A `cache:` step looks a key up; on a hit the request goes on, on a miss it runs the step's
`miss:` steps (typically the database query) and then fills the cache. The hit ratio is either
given (`hitRatio`) or follows from the keys' popularity: a Zipf law over `keys` keys, a cache of
`capacity` items evicting the least recently used, and entries that expire `ttl` after they were
set (Redis `SET … EX`, memcached's exptime; a hit does not extend them).

`che_hit_ratio` is Che's approximation for an LRU cache under independent requests (Che, Tung and
Wang, IEEE JSAC 20(7), 2002; Fricker, Robert and Roberts, ITC 2012, on its accuracy): the
characteristic time T solves Σᵢ (1 − e^(−pᵢT)) = C and key i hits with probability
1 − e^(−pᵢT). A TTL cache whose entries are not refreshed on hits hits key i with probability
λᵢ·ttl / (1 + λᵢ·ttl) (a renewal cycle: one miss, then the hits within ttl). With both, the
estimate takes the smaller of the two per key (the simulator itself runs the cache, key by key).
"""

import functools
import math
from typing import Literal

from pydantic import Field, model_validator

from .base import Spec
from .distributions import Distribution, LogNormal
from .units import Duration

__all__ = [
    "CACHE_LATENCY",
    "Cache",
    "Popularity",
    "che_characteristic_time",
    "che_hit_ratio",
    "ttl_hit_ratio",
    "zipf_bins",
    "zipf_probabilities",
]

MAX_KEYS = 1_000_000
"""Largest key space the simulator draws keys from (its table is 8 bytes per key)."""

CACHE_LATENCY: dict[str, tuple[float, float]] = {
    # (p50, p99) of a GET or SET as the client sees it, on the same network as the service.
    "redis": (0.0003, 0.002),
    "memcached": (0.0002, 0.0015),
}


class Popularity(Spec):
    """Which keys are asked for: Zipf over `keys` keys, P(rank k) ∝ k^(−exponent)."""

    keys: int = Field(ge=1, le=MAX_KEYS)
    exponent: float = Field(0.8, ge=0, le=5)
    """0 is uniform; web objects typically 0.6–1.0 (Breslau et al., INFOCOM 1999)."""


class Cache(Spec):
    """A cache-aside cache: memcached or Redis, owned by one service."""

    engine: Literal["redis", "memcached"] = "redis"
    owner: str
    hit_ratio: float | None = Field(None, ge=0, le=1)
    """Fixed share of lookups that hit; or give `popularity` and `capacity`."""
    popularity: Popularity | None = None
    capacity: int | None = Field(None, ge=1, le=MAX_KEYS)
    """Items that fit; beyond it the least recently used is evicted (memcached's LRU, Redis
    `maxmemory-policy allkeys-lru`)."""
    ttl: Duration | None = Field(None, gt=0)
    """Entries expire this long after they were set."""
    latency: Distribution | None = None
    """One GET or SET; default the engine's typical figure (lognormal p50/p99 of
    `CACHE_LATENCY`)."""

    @model_validator(mode="after")
    def _one_way(self) -> "Cache":
        if self.hit_ratio is not None and (
            self.popularity is not None or self.capacity is not None or self.ttl is not None
        ):
            raise ValueError(
                "give either `hitRatio` or the keys' `popularity` (with `capacity` and/or `ttl`), "
                "not both"
            )
        if self.hit_ratio is None and self.popularity is None:
            raise ValueError(
                "a cache needs `hitRatio`, or `popularity` with `capacity` and/or `ttl`"
            )
        if self.popularity is not None and self.capacity is None and self.ttl is None:
            raise ValueError("with `popularity`, give `capacity` (LRU) and/or `ttl`")
        return self

    def latency_of(self) -> Distribution:
        if self.latency is not None:
            return self.latency
        p50, p99 = CACHE_LATENCY[self.engine]
        return LogNormal.model_validate({"type": "lognormal", "p50": p50, "p99": p99})

    def expected_hit_ratio(self, lookups_per_second: float | None = None) -> float:
        """The hit ratio the validator's load estimates use (the simulator measures its own)."""
        if self.hit_ratio is not None:
            return self.hit_ratio
        return _expected(self.model_dump_json(), lookups_per_second)

    def _expected(self, lookups_per_second: float | None) -> float:
        assert self.popularity is not None
        if self.capacity is None and lookups_per_second is None:
            return 0.0  # a TTL alone, at an unknown rate: assume every lookup misses
        _, n, p = zipf_bins(self.popularity.keys, self.popularity.exponent)
        per_key = [1.0] * len(p)
        if self.capacity is not None:
            t = che_characteristic_time(p, self.capacity, n)
            per_key = [-math.expm1(-pi * t) if math.isfinite(t) else 1.0 for pi in p]
        if self.ttl is not None and lookups_per_second is not None:
            ttl = self.ttl
            per_key = [
                min(h, lookups_per_second * pi * ttl / (1 + lookups_per_second * pi * ttl))
                for h, pi in zip(per_key, p, strict=True)
            ]
        return math.fsum(ni * pi * h for ni, pi, h in zip(n, p, per_key, strict=True))


@functools.lru_cache(maxsize=64)
def _expected(cache_json: str, lookups_per_second: float | None) -> float:
    """Memoised per cache definition: the estimate is computed once per validation."""
    return Cache.model_validate_json(cache_json)._expected(lookups_per_second)


EXACT_RANKS = 10_000
"""Ranks up to here are kept one by one; beyond, in bins over which a key's probability varies
by at most 0.1 % (a few thousand bins for a million keys, and the sums stay exact to ~1e-6)."""


def zipf_bins(keys: int, exponent: float) -> tuple[list[int], list[int], list[float]]:
    """Ranks of a Zipf law grouped: (first rank, number of keys, probability of each key)."""
    firsts: list[int] = []
    sizes: list[int] = []
    weights: list[float] = []
    k = 1
    while k <= keys:
        if k <= EXACT_RANKS:
            n = 1
            w = float(k) ** -exponent
        else:
            n = min(keys - k + 1, max(1, int(k * 1e-3)))
            # Mean of x^-s over [k, k + n) by the midpoint of the bin (n/k ≤ 0.1 %).
            w = (k + (n - 1) / 2) ** -exponent
        firsts.append(k)
        sizes.append(n)
        weights.append(w)
        k += n
    total = math.fsum(w * n for w, n in zip(weights, sizes, strict=True))
    return firsts, sizes, [w / total for w in weights]


def zipf_probabilities(keys: int, exponent: float) -> list[float]:
    """P(rank k) ∝ k^(−exponent), k = 1 … keys, one entry per key (for tests and small key
    spaces; the estimates use `zipf_bins`)."""
    w = [k**-exponent for k in range(1, keys + 1)]
    total = math.fsum(w)
    return [x / total for x in w]


def che_characteristic_time(p: list[float], capacity: int, sizes: list[int] | None = None) -> float:
    """T with Σ nᵢ (1 − e^(−pᵢT)) = capacity (infinite when everything fits); `sizes` gives
    how many keys share each probability (one each when absent).

    Newton's method from T = capacity: the sum is concave and increasing in T and at most T, so
    the iterates rise monotonically to the root."""
    n = sizes if sizes is not None else [1] * len(p)
    if capacity >= sum(n):
        return math.inf
    t = float(capacity)
    exp = math.exp
    for _ in range(100):
        e = [exp(-pi * t) for pi in p]
        f = math.fsum(ni * (1.0 - ei) for ni, ei in zip(n, e, strict=True)) - capacity
        df = math.fsum(ni * pi * ei for ni, pi, ei in zip(n, p, e, strict=True))
        step = -f / df
        t += step
        if abs(step) <= 1e-13 * t:
            break
    return t


def che_hit_ratio(p: list[float], capacity: int, sizes: list[int] | None = None) -> float:
    """Overall LRU hit ratio by Che's approximation."""
    n = sizes if sizes is not None else [1] * len(p)
    t = che_characteristic_time(p, capacity, n)
    if not math.isfinite(t):
        return 1.0
    return math.fsum(ni * pi * -math.expm1(-pi * t) for ni, pi in zip(n, p, strict=True))


def ttl_hit_ratio(p: list[float], rate: float, ttl: float, sizes: list[int] | None = None) -> float:
    """Overall hit ratio of a cache without capacity limit whose entries live `ttl` from set."""
    n = sizes if sizes is not None else [1] * len(p)
    return math.fsum(
        ni * pi * (rate * pi * ttl) / (1 + rate * pi * ttl) for ni, pi in zip(n, p, strict=True)
    )
