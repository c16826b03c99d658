"""Least-request balancing as Envoy does it: each client compares its *own* active requests.

Envoy's LEAST_REQUEST policy draws `choice_count` (default 2) random healthy hosts and sends to
the one with the fewest active requests, where "active" is the proxy's own count of requests it
has in flight to that host (`rq_active` of the host as this proxy sees it), not the host's load
from every client. A client therefore knows nothing of the other clients: a host carrying many
calls from others is chosen as often as any other while this client's counts are equal.

Here a client is the caller's replica (its sidecar, or its client library without a mesh); calls
with no calling replica (traffic entering the system) share one client. A request stays counted
until its caller has an answer or has given up on it (the caller's `reply` runs once).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from scalesim_patterns.sim.core.kernel import Handler
from scalesim_patterns.sim.network.station import Call, Replica

__all__ = ["OwnRequests", "caller_replica", "two_choices"]


def caller_replica(c: Call) -> Replica | None:
    """The replica whose code sent `c` (through any layers' attempt states), if a service did."""
    p: Any = c.parent
    for _ in range(64):
        if p is None:
            return None
        if isinstance(p, Call):
            return getattr(p, "replica", None)
        origin = getattr(p, "origin", None)
        if origin is None:
            return None
        p = origin.parent
    return None


class OwnRequests:
    """One client's requests in flight, per host (a host's record disappears at zero)."""

    __slots__ = ("active",)

    def __init__(self) -> None:
        self.active: dict[Replica, int] = {}

    def started(self, host: Replica) -> None:
        self.active[host] = self.active.get(host, 0) + 1

    def ended(self, host: Replica) -> None:
        left = self.active[host] - 1
        if left:
            self.active[host] = left
        else:
            del self.active[host]


def two_choices(
    hosts: list[Replica], n: int, rnd: Callable[[], float], own: OwnRequests
) -> Replica:
    """Two distinct hosts at random, the one this client has fewer requests on (the first drawn
    on a tie, so equal counts give each host the same chance)."""
    if n == 1:
        return hosts[0]
    i = int(rnd() * n)
    j = int(rnd() * (n - 1))
    if j >= i:
        j += 1
    a, b = hosts[i], hosts[j]
    count = own.active.get
    return b if count(b, 0) < count(a, 0) else a


class _Counted(Handler):
    """The caller's `reply`, wrapped so that the request stops counting when it is answered."""

    __slots__ = ("host", "inner", "own")

    def __init__(self, own: OwnRequests, host: Replica, inner: Handler) -> None:
        self.own = own
        self.host = host
        self.inner = inner

    def handle(self, arg: Any) -> None:
        c: Call = arg
        self.own.ended(self.host)
        c.reply = self.inner
        self.inner.handle(c)


class LeastRequest:
    """A service's client-side least-request balancer: one `OwnRequests` per client."""

    __slots__ = ("clients", "rnd")

    def __init__(self, rnd: Callable[[], float]) -> None:
        self.rnd = rnd
        self.clients: dict[Replica | None, OwnRequests] = {}

    def pick(self, hosts: list[Replica], n: int, c: Call) -> Replica:
        client = caller_replica(c)
        own = self.clients.get(client)
        if own is None:
            own = self.clients[client] = OwnRequests()
        host = two_choices(hosts, n, self.rnd, own)
        own.started(host)
        c.reply = _Counted(own, host, c.reply)
        return host
