"""Gateway rate limiting: Kong's `rate-limiting` plugin (fixed windows) or a token bucket.

The limit is checked on the gateway node that received the request, after its proxying work,
before it goes upstream; a refused request is answered 429 (`rate_limited`) by the gateway.

* Which limit: a route's own `rateLimit` replaces the gateway-wide one (Kong runs the most
  specific plugin configuration: route over service over global), so a route with its own
  limit is not counted against the global one.
* Whose counter: `policy: local` keeps one counter per gateway replica (N replicas let N ×
  limit through); `cluster` and `redis` share one counter across replicas. The gateway-wide
  limit counts every route that has no limit of its own together (traffic carries no consumer
  identity, so Kong's default `limit_by: consumer` cannot be told apart).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scalesim_patterns.model.resilience import FixedWindowRateLimit, TokenBucketRateLimit
from scalesim_patterns.sim.core.causes import RATE_LIMITED
from scalesim_patterns.sim.mechanisms.ratelimit import FixedWindowRateLimiter, TokenBucket
from scalesim_patterns.sim.network.pipeline import CallSite, Invoke
from scalesim_patterns.sim.network.station import ANSWERED, Call
from scalesim_patterns.sim.reports.telemetry import add_section

if TYPE_CHECKING:
    from scalesim_patterns.sim.network.host import Host

__all__ = ["rate_limit_layer"]

Limiter = FixedWindowRateLimiter | TokenBucket


def _limiter(spec: FixedWindowRateLimit | TokenBucketRateLimit) -> Limiter:
    if isinstance(spec, FixedWindowRateLimit):
        return FixedWindowRateLimiter(spec.limits())
    return TokenBucket(
        spec.max_tokens, spec.tokens_per_fill, spec.fill_interval, refill=spec.refill
    )


class RateLimits(dict[tuple[int, Any], tuple[str, Limiter]]):
    """Plug-in state: every limiter, by (route index, scope key), with its scope's name."""


def _table(engine: Host) -> RateLimits:
    table = engine.plugins.get(RateLimits)
    if table is None:
        table = found = engine.plugins.add(RateLimits())

        def section() -> list[dict[str, Any]]:
            return [
                {
                    "scope": scope,
                    "replica": key[1] if isinstance(key[1], int) else None,
                    "allowed": lim.allowed,
                    "rejected": lim.rejected,
                    "transitions": [list(t) for t in lim.transitions],
                }
                for key, (scope, lim) in found.items()
            ]

        add_section(engine, "rate_limits", section)
    return table


def rate_limit_layer(site: CallSite, nxt: Invoke) -> Invoke:
    """Client layer (sim/extensions.py) on the gateway's calls to a route's target."""
    gw = site.gateway
    if site.caller != "@gateway" or site.route is None or gw is None:
        return nxt
    spec = site.route.rate_limit or gw.rate_limit
    if spec is None:
        return nxt
    scope = f"route {site.route.path}" if site.route.rate_limit is not None else "gateway"
    local = isinstance(spec, TokenBucketRateLimit) or spec.policy == "local"
    table = _table(site.engine)
    kernel = site.kernel
    spec_id = id(spec)

    def invoke(c: Call) -> None:
        node: Any = c.parent.replica.index if local and isinstance(c.parent, Call) else "all"
        entry = table.get((spec_id, node))
        if entry is None:
            entry = table[(spec_id, node)] = (scope, _limiter(spec))
        if entry[1].allow(kernel.now):
            nxt(c)
            return
        c.status = RATE_LIMITED
        c.state = ANSWERED
        c.reply(c)

    return invoke
