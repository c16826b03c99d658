"""Rate limiters: Kong's fixed-window `rate-limiting` plugin and Envoy's local token bucket.

One instance is one counter. Kong's `local` policy keeps a counter per gateway node, so the
engine creates one limiter per gateway replica (N replicas let N × limit through); Envoy's local
rate limit is likewise per proxy.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Final, Literal

__all__ = ["KONG_PERIODS", "FixedWindowRateLimiter", "TokenBucket"]

_ONE_TOKEN: Final = 1.0 - 1e-9
"""A whole token, forgiving the rounding that continuous refill accumulates."""

KONG_PERIODS: Final[dict[str, float]] = {
    "second": 1.0,
    "minute": 60.0,
    "hour": 3600.0,
    "day": 86400.0,
}
"""Kong's fixed periods in seconds (month and year are calendar-length, not modelled)."""


class FixedWindowRateLimiter:
    """Kong `rate-limiting`: one fixed window per configured period, aligned to period boundaries
    (multiples of the period counted from t = −`epoch_offset`, i.e. wall-clock `floor(t/period)`).

    A request passes when every window still has room (`count < limit`); then every window
    counts it. A rejected request (429) counts nowhere. Because windows are fixed, up to twice a
    window's limit can pass within a short span straddling a boundary.
    `transitions` records (time, "OPEN", "LIMITED") at the first rejection after a pass, and
    (time, "LIMITED", "OPEN") at the next pass.
    """

    __slots__ = (
        "_counts",
        "_index",
        "_limited",
        "allowed",
        "epoch_offset",
        "limits",
        "periods",
        "rejected",
        "transitions",
    )

    def __init__(self, limits: Iterable[tuple[float, int]], *, epoch_offset: float = 0.0) -> None:
        pairs = sorted((float(p), int(n)) for p, n in limits)
        if not pairs:
            raise ValueError("at least one (period, limit) is needed")
        if any(p <= 0 or n < 0 for p, n in pairs):
            raise ValueError("periods must be > 0 and limits >= 0")
        self.periods = tuple(p for p, _ in pairs)
        self.limits = tuple(n for _, n in pairs)
        self.epoch_offset = float(epoch_offset)
        self._index = [-(2**62)] * len(pairs)
        self._counts = [0] * len(pairs)
        self._limited = False
        self.allowed = 0
        self.rejected = 0
        self.transitions: list[tuple[float, str, str]] = []

    @classmethod
    def kong(
        cls,
        *,
        second: int | None = None,
        minute: int | None = None,
        hour: int | None = None,
        day: int | None = None,
        epoch_offset: float = 0.0,
    ) -> FixedWindowRateLimiter:
        """From Kong's config fields (`config.second`, `config.minute` …)."""
        given = {"second": second, "minute": minute, "hour": hour, "day": day}
        return cls(
            [(KONG_PERIODS[k], v) for k, v in given.items() if v is not None],
            epoch_offset=epoch_offset,
        )

    def allow(self, now: float) -> bool:
        t = now + self.epoch_offset
        periods = self.periods
        index = self._index
        counts = self._counts
        limits = self.limits
        ok = True
        for i in range(len(periods)):
            w = math.floor(t / periods[i])
            if w != index[i]:
                index[i] = w
                counts[i] = 0
            if counts[i] >= limits[i]:
                ok = False
        if not ok:
            self.rejected += 1
            if not self._limited:
                self._limited = True
                self.transitions.append((now, "OPEN", "LIMITED"))
            return False
        for i in range(len(periods)):
            counts[i] += 1
        self.allowed += 1
        if self._limited:
            self._limited = False
            self.transitions.append((now, "LIMITED", "OPEN"))
        return True

    def used(self, now: float) -> tuple[int, ...]:
        """Requests counted in each window at `now` (periods in ascending order)."""
        t = now + self.epoch_offset
        return tuple(
            c if math.floor(t / p) == w else 0
            for p, w, c in zip(self.periods, self._index, self._counts, strict=True)
        )


class TokenBucket:
    """Envoy local rate limit token bucket: starts with `max_tokens`, each request takes one.

    `refill="continuous"` is current Envoy (AtomicTokenBucketImpl, no timer): tokens accrue
    continuously at tokens_per_fill / fill_interval and a request passes when at least one whole
    token is there. `refill="timer"` is the older timer-driven bucket: `tokens_per_fill` tokens
    arrive at each fill_interval boundary counted from `start`, never above max_tokens.
    """

    __slots__ = (
        "_fills",
        "_last",
        "_limited",
        "_rate",
        "_tokens",
        "allowed",
        "continuous",
        "fill_interval",
        "max_tokens",
        "rejected",
        "start",
        "tokens_per_fill",
        "transitions",
    )

    def __init__(
        self,
        max_tokens: int,
        tokens_per_fill: int = 1,
        fill_interval: float = 1.0,
        *,
        refill: Literal["continuous", "timer"] = "continuous",
        start: float = 0.0,
    ) -> None:
        if max_tokens < 0 or tokens_per_fill < 1 or fill_interval <= 0:
            raise ValueError("need max_tokens >= 0, tokens_per_fill >= 1, fill_interval > 0")
        if refill not in ("continuous", "timer"):
            raise ValueError("refill must be 'continuous' or 'timer'")
        self.max_tokens = max_tokens
        self.tokens_per_fill = tokens_per_fill
        self.fill_interval = float(fill_interval)
        self.continuous = refill == "continuous"
        self.start = float(start)
        self._rate = tokens_per_fill / self.fill_interval
        self._tokens = float(max_tokens)
        self._last = self.start
        self._fills = 0
        self._limited = False
        self.allowed = 0
        self.rejected = 0
        self.transitions: list[tuple[float, str, str]] = []

    def tokens(self, now: float) -> float:
        """Tokens in the bucket at `now` (refilled up to `now`)."""
        self._refill(now)
        return self._tokens

    def _refill(self, now: float) -> None:
        if self.continuous:
            if now > self._last:
                tokens = self._tokens + (now - self._last) * self._rate
                self._tokens = tokens if tokens < self.max_tokens else float(self.max_tokens)
                self._last = now
        else:
            fills = math.floor((now - self.start) / self.fill_interval)
            if fills > self._fills:
                tokens = self._tokens + (fills - self._fills) * self.tokens_per_fill
                self._tokens = tokens if tokens < self.max_tokens else float(self.max_tokens)
                self._fills = fills

    def allow(self, now: float) -> bool:
        self._refill(now)
        if self._tokens >= _ONE_TOKEN:
            self._tokens -= 1.0
            self.allowed += 1
            if self._limited:
                self._limited = False
                self.transitions.append((now, "LIMITED", "OPEN"))
            return True
        self.rejected += 1
        if not self._limited:
            self._limited = True
            self.transitions.append((now, "OPEN", "LIMITED"))
        return False
