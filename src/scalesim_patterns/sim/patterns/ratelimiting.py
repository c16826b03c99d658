"""Gateway rate limiting: Kong's `rate-limiting` plugin (fixed windows) or a token bucket.

The limit is checked on the gateway node that received the request, after its proxying work,
before it goes upstream; a refused request is answered 429 (`rate_limited`) by the gateway.

* Which limit: a route's own `rateLimit` replaces the gateway-wide one (Kong runs the most
  specific plugin configuration: route over service over global), so a route with its own
  limit is not counted against the global one.
* Whose counter: `policy: local` keeps one counter per gateway replica (N replicas let N ×
  limit through); `cluster` and `redis` share one counter across replicas. The gateway-wide
  limit counts every route that has no limit of its own together.
* Per consumer (`limitBy: consumer`, Kong's default): each consumer a traffic source sends as
  (`traffic.<source>.consumer`) has its own counter; requests without a consumer share one (Kong
  falls back to the client address, and the simulated clients are one). A consumer's own
  `gateway.consumers.<name>.rateLimit` replaces the route's and the gateway's for its requests
  (a KongPlugin attached to the KongConsumer is the most specific configuration). `limitBy: ip`
  counts everybody together.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scalesim_patterns.model.resilience import FixedWindowRateLimit, TokenBucketRateLimit
from scalesim_patterns.sim.core.causes import RATE_LIMITED
from scalesim_patterns.sim.mechanisms.ratelimit import FixedWindowRateLimiter, TokenBucket
from scalesim_patterns.sim.network.pipeline import CallSite, Invoke
from scalesim_patterns.sim.network.station import ANSWERED, Call
from scalesim_patterns.sim.network.traffic import consumer_of
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


class RateLimits(dict[tuple[Any, ...], tuple[str, Limiter]]):
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
    own = {n: c.rate_limit for n, c in gw.consumers.items() if c.rate_limit is not None}
    if own:
        return _per_consumer_layer(site, nxt, spec, own)
    if spec is None:
        return nxt
    if (
        isinstance(spec, FixedWindowRateLimit)
        and spec.limit_by == "consumer"
        and any(getattr(src, "consumer", None) for src in site.engine.arch.spec.traffic.values())
    ):
        return _per_consumer_layer(site, nxt, spec, {})
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
        c.reply.handle(c)

    return invoke


def _per_consumer_layer(
    site: CallSite,
    nxt: Invoke,
    shared: FixedWindowRateLimit | TokenBucketRateLimit | None,
    own: dict[str, FixedWindowRateLimit | TokenBucketRateLimit],
) -> Invoke:
    """The limit layer when requests carry consumers: the consumer's own limit, else the
    route's or gateway's, counted per consumer (`limitBy: consumer`) or for all (`ip`)."""
    route = site.route
    assert route is not None
    table = _table(site.engine)
    kernel = site.kernel
    route_scope = f"route {route.path}" if route.rate_limit is not None else "gateway"

    def invoke(c: Call) -> None:
        consumer = consumer_of(c)
        spec = own.get(consumer) if consumer is not None else None
        if spec is not None:
            scope = f"consumer {consumer}"
            who: Any = consumer
        elif shared is not None:
            spec = shared
            scope = route_scope
            by_consumer = isinstance(spec, FixedWindowRateLimit) and spec.limit_by == "consumer"
            who = consumer if by_consumer else None
        else:
            nxt(c)
            return
        local = isinstance(spec, TokenBucketRateLimit) or spec.policy == "local"
        node: Any = c.parent.replica.index if local and isinstance(c.parent, Call) else "all"
        key = (id(spec), node, who)
        entry = table.get(key)
        if entry is None:
            label = (
                scope if who is None or scope.startswith("consumer") else f"{scope}, consumer {who}"
            )
            entry = table[key] = (label, _limiter(spec))
        if entry[1].allow(kernel.now):
            nxt(c)
            return
        c.status = RATE_LIMITED
        c.state = ANSWERED
        c.reply.handle(c)

    return invoke
