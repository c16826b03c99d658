"""Cache-aside caches at run time: lookups, misses that read the backing store, fills, outages.

A `cache:` step (model/steps.py `CacheStep`) is compiled flat into its endpoint's steps:
`CacheLookup`, then the `miss:` steps, then `CacheFill`. The lookup pays one GET; on a hit it
jumps past the fill, on a miss the request runs the miss steps and then pays one SET that puts
the key in the cache.

With a fixed `hitRatio` each lookup hits with that probability. With `popularity` the cache is
run key by key: keys are drawn from the Zipf law (ranks beyond 10 000 drawn by bins over which a
key's probability varies by at most 0.1 %, uniformly inside the bin), an LRU of `capacity`
entries evicts the least recently used, and an entry expires `ttl` after it was set (a hit does
not extend it). The cache starts empty: the warm-up should cover its filling.

An outage makes every lookup fail at once (counted as an error) and the request read the backing
store as on a miss — the whole load goes to the database — without filling; when the cache comes
back it is empty (memcached keeps nothing across a restart; Redis loses what it had not
persisted) and refills. A latency fault adds its draw to every GET and SET.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Final

from scalesim_patterns.model.caches import Cache, zipf_bins
from scalesim_patterns.sim.core.kernel import Kernel
from scalesim_patterns.sim.core.rng import Sampler
from scalesim_patterns.sim.network.station import Call, StepRuntime

__all__ = ["DOWN", "CacheFill", "CacheLookup", "CacheRuntime", "CacheRuntimes", "cache_section"]

DOWN: Final = -1
"""The key of a lookup that failed because the cache was down: nothing to fill."""


class CacheRuntime:
    """One cache: its entries (or its fixed hit ratio), whether it is up, and its counters."""

    __slots__ = (
        "bins",
        "capacity",
        "cumulative",
        "entries",
        "errors",
        "extra",
        "firsts",
        "hit_ratio",
        "hits",
        "kernel",
        "lookups",
        "name",
        "rnd",
        "sizes",
        "snap",
        "ttl",
        "up",
        "window",
    )

    def __init__(self, name: str, cache: Cache, kernel: Kernel, rnd: Callable[[], float]) -> None:
        self.name = name
        self.kernel = kernel
        self.rnd = rnd
        self.hit_ratio = cache.hit_ratio
        self.capacity = cache.capacity if cache.capacity is not None else 1 << 62
        self.ttl = cache.ttl if cache.ttl is not None else math.inf
        self.entries: OrderedDict[int, float] = OrderedDict()
        """Key → expiry time, least recently used first."""
        self.firsts: list[int] = []
        self.sizes: list[int] = []
        self.cumulative: list[float] = []
        if cache.popularity is not None:
            firsts, sizes, p = zipf_bins(cache.popularity.keys, cache.popularity.exponent)
            acc = 0.0
            for n, pi in zip(sizes, p, strict=True):
                acc += n * pi
                self.cumulative.append(acc)
            self.firsts = firsts
            self.sizes = sizes
        self.bins = len(self.firsts)
        self.up = True
        self.extra: Sampler | None = None
        """A latency fault's draw, added to every GET and SET."""
        self.lookups = 0
        self.hits = 0
        self.errors = 0
        self.snap = (0, 0, 0)
        """Counters at the end of warm-up."""
        self.window = (0, 0, 0)
        """Counters at the start of the current time-series window."""

    def key(self) -> int:
        i = bisect_right(self.cumulative, self.rnd() * self.cumulative[-1])
        if i >= self.bins:
            i = self.bins - 1
        n = self.sizes[i]
        return self.firsts[i] + (int(self.rnd() * n) if n > 1 else 0)

    def lookup(self) -> int | None:
        """A GET has come back: None on a hit, else the key to fill (`DOWN`: the cache was down)."""
        self.lookups += 1
        if not self.up:
            self.errors += 1
            return DOWN
        if self.hit_ratio is not None:
            if self.rnd() < self.hit_ratio:
                self.hits += 1
                return None
            return 0
        key = self.key()
        expiry = self.entries.get(key)
        if expiry is not None:
            if expiry > self.kernel.now:
                self.entries.move_to_end(key)
                self.hits += 1
                return None
            del self.entries[key]
        return key

    def fill(self, key: int) -> None:
        if not self.up or self.hit_ratio is not None:
            return
        entries = self.entries
        entries[key] = self.kernel.now + self.ttl
        entries.move_to_end(key)
        if len(entries) > self.capacity:
            entries.popitem(last=False)

    def down(self) -> None:
        self.up = False
        self.entries.clear()

    def counters(self) -> tuple[int, int, int]:
        return (self.lookups, self.hits, self.errors)


class CacheRuntimes(dict[str, CacheRuntime]):
    """Plug-in state: the file's caches by name."""


class CacheLookup(StepRuntime):
    """The GET of a cache step; a hit (or the step's probability missed) jumps past the fill."""

    __slots__ = ("cache", "end", "kernel", "latency", "looked_", "prob_rnd", "probability")

    def __init__(
        self,
        kernel: Kernel,
        cache: CacheRuntime,
        latency: Sampler,
        probability: float,
        prob_rnd: Callable[[], float],
    ) -> None:
        self.kernel = kernel
        self.cache = cache
        self.latency = latency
        self.probability = probability
        self.prob_rnd = prob_rnd
        self.end = 0
        """Index just after the matching `CacheFill`."""
        self.looked_ = self.looked

    def start(self, x: Call) -> bool:
        if self.probability < 1.0 and self.prob_rnd() >= self.probability:
            x.pc = self.end
            return True
        cache = self.cache
        delay = 0.0 if not cache.up else self.latency.draw()  # a down cache refuses at once
        if cache.extra is not None and cache.up:
            delay += cache.extra.draw()
        self.kernel.schedule(delay, self.looked_, x)
        return False

    def looked(self, x: Call) -> None:
        key = self.cache.lookup()
        if key is None:
            x.pc = self.end
        else:
            x.cache_key = key
        x.endpoint.advance(x)


class CacheFill(StepRuntime):
    """The SET after a miss's steps."""

    __slots__ = ("cache", "filled_", "kernel", "latency")

    def __init__(self, kernel: Kernel, cache: CacheRuntime, latency: Sampler) -> None:
        self.kernel = kernel
        self.cache = cache
        self.latency = latency
        self.filled_ = self.filled

    def start(self, x: Call) -> bool:
        cache = self.cache
        if x.cache_key == DOWN or not cache.up:
            return True
        delay = self.latency.draw()
        if cache.extra is not None:
            delay += cache.extra.draw()
        self.kernel.schedule(delay, self.filled_, x)
        return False

    def filled(self, x: Call) -> None:
        self.cache.fill(x.cache_key)
        x.endpoint.advance(x)


def cache_section(caches: CacheRuntimes, span: float, series: dict[str, Any]) -> dict[str, Any]:
    """The run's `caches` section: per cache over the measured span, and per window."""
    out: dict[str, Any] = {}
    for name, c in caches.items():
        lookups = c.lookups - c.snap[0]
        hits = c.hits - c.snap[1]
        errors = c.errors - c.snap[2]
        out[name] = {
            "lookups": float(lookups),
            "hits": float(hits),
            "misses": float(lookups - hits - errors),
            "errors": float(errors),
            "hit_ratio": hits / lookups if lookups else None,
            "throughput": lookups / span if span > 0 else 0.0,
            "series": series.get(name, {}),
        }
    return out
