"""Compiled steps: what an endpoint does after its own work.

Each step keeps its per-call progress on the calling `Call` (`rep` for repeats, `pending` and
`first` for a parallel group), so a step object is shared by every call of its endpoint.

A failed synchronous call fails the calling endpoint at once with the same cause (the rest of
its steps are skipped): without a fallback a 5xx from a dependency becomes the caller's 5xx, and
the cause that is counted is the root cause (`timeout` stays `timeout` all the way up).

Each step that can fail its caller keeps `caused`: per service (or database) whose failed call
failed the caller, the time of the first such failure and how many. That is the causal link the
cascade report follows (sim/reports/cascade.py); it is written on the failure path only.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import deque
from collections.abc import Callable
from typing import Any

from mypy_extensions import i64, mypyc_attr

from scalesim_patterns.sim.core.causes import OK, UNAVAILABLE
from scalesim_patterns.sim.core.histogram import LogHistogram
from scalesim_patterns.sim.core.kernel import Kernel
from scalesim_patterns.sim.core.rng import Sampler
from scalesim_patterns.sim.network.station import (
    LOST,
    Call,
    EndpointRuntime,
    Replica,
    ServiceRuntime,
    StepRuntime,
)
from scalesim_patterns.sim.network.topics import TopicRuntime

__all__ = [
    "CallStepRuntime",
    "Caused",
    "DatabaseRuntime",
    "ParallelStepRuntime",
    "Pool",
    "PublishStepRuntime",
    "QueryStepRuntime",
    "TopicRuntime",
]

Invoke = Callable[[Call], None]


class Caused:
    """Failures of a caller that one dependency's failed calls caused: first time, how many."""

    __slots__ = ("count", "first")

    def __init__(self, first: float) -> None:
        self.first = first
        self.count = 0


def _blame(caused: dict[str, Caused], dependency: str, now: float) -> None:
    rec = caused.get(dependency)
    if rec is None:
        rec = caused[dependency] = Caused(now)
    rec.count += 1


def _callee(c: Call) -> str:
    """The service a failed call was for: its endpoint's, or, for a call lost with its replica
    (whose endpoint is then the `LOST` marker), the replica's."""
    ep = c.endpoint
    return (c.replica.service if ep is LOST else ep.service).name


@mypyc_attr(allow_interpreted_subclasses=True)  # loops' CountedCallStep, the gateway's step
class CallStepRuntime(StepRuntime):
    """`call:` (and a gateway route): one target, or a weighted choice of targets (route split).

    `probability` skips the step; `repeat` sends that many calls one after another.
    """

    __slots__ = (
        "caused",
        "cumulative",
        "direct0",
        "invoke0",
        "invokes",
        "kernel",
        "pick_rnd",
        "prob_rnd",
        "probability",
        "repeat",
        "single",
        "targets",
    )

    def __init__(
        self,
        kernel: Kernel,
        targets: list[EndpointRuntime],
        invokes: list[Invoke],
        weights: list[float],
        probability: float,
        repeat: int,
        prob_rnd: Callable[[], float],
        pick_rnd: Callable[[], float],
    ) -> None:
        self.kernel = kernel
        self.targets = targets
        self.invokes = invokes
        total = sum(weights)
        acc = 0.0
        self.cumulative: list[float] = []
        for w in weights:
            acc += w / total
            self.cumulative.append(acc)
        self.probability = probability
        self.repeat: i64 = repeat
        self.prob_rnd = prob_rnd
        self.pick_rnd = pick_rnd
        self.single = targets[0] if len(targets) == 1 else None
        self.invoke0 = invokes[0]
        self.direct0: ServiceRuntime | None = None
        """The single target's service when its site's pipeline is a bare zero-latency
        transport (`CallSite.direct`): `invoke0` is then its `arrive`, called directly."""
        self.caused: dict[str, Caused] = {}

    def set_invokes(self, invokes: list[Invoke]) -> None:
        """Send through `invokes` from now on (a layer put in front of the targets')."""
        self.invokes = invokes
        self.invoke0 = invokes[0]
        self.direct0 = None

    def start(self, x: Call) -> bool:
        if self.probability < 1.0 and self.prob_rnd() >= self.probability:
            return True
        x.rep = self.repeat
        self.send(x)
        return False

    def send(self, x: Call) -> None:
        if self.single is not None:
            c = Call(self.single, self, x, self.kernel.now)
            direct = self.direct0
            if direct is None:
                self.invoke0(c)
            else:
                direct.arrive(c)
            return
        i = bisect_right(self.cumulative, self.pick_rnd())
        i = min(i, len(self.targets) - 1)
        self.invokes[i](Call(self.targets[i], self, x, self.kernel.now))

    def handle(self, arg: Any) -> None:
        """A call it sent is answered."""
        c: Call = arg
        x: Call = c.parent
        if c.status:
            _blame(self.caused, _callee(c), self.kernel.now)
            x.endpoint.finish(x, c.status)
            return
        x.rep -= 1
        if x.rep:
            self.send(x)
        else:
            x.endpoint.advance(x)


@mypyc_attr(allow_interpreted_subclasses=True)  # loops' CountedParallelStep
class ParallelStepRuntime(StepRuntime):
    """`parallel:`: all calls sent at once, the caller resumes when the last one has answered.

    A member's `repeat` sends that many concurrent calls; its `probability` may leave it out.
    The group fails with the first failure's cause, but only after every member has answered.
    """

    __slots__ = (
        "caused",
        "invokes",
        "kernel",
        "member_probability",
        "member_repeat",
        "prob_rnd",
        "probability",
        "targets",
    )

    def __init__(
        self,
        kernel: Kernel,
        targets: list[EndpointRuntime],
        invokes: list[Invoke],
        member_probability: list[float],
        member_repeat: list[int],
        probability: float,
        prob_rnd: Callable[[], float],
    ) -> None:
        self.kernel = kernel
        self.targets = targets
        self.invokes = invokes
        self.member_probability = member_probability
        self.member_repeat = member_repeat
        self.probability = probability
        self.prob_rnd = prob_rnd
        self.caused: dict[str, Caused] = {}

    def start(self, x: Call) -> bool:
        rnd = self.prob_rnd
        if self.probability < 1.0 and rnd() >= self.probability:
            return True
        chosen: list[int] = []
        for i, p in enumerate(self.member_probability):
            if p >= 1.0 or rnd() < p:
                chosen.append(i)
        total = sum(self.member_repeat[i] for i in chosen)
        if total == 0:
            return True
        x.pending = total
        x.first = OK
        now = self.kernel.now
        for i in chosen:
            target, invoke = self.targets[i], self.invokes[i]
            for _ in range(self.member_repeat[i]):
                invoke(Call(target, self, x, now))
        return False

    def handle(self, arg: Any) -> None:
        """A call it sent is answered."""
        c: Call = arg
        x: Call = c.parent
        if c.status:
            _blame(self.caused, _callee(c), self.kernel.now)
            if not x.first:
                x.first = c.status
        x.pending -= 1
        if x.pending:
            return
        if x.first:
            x.endpoint.finish(x, x.first)
        else:
            x.endpoint.advance(x)


class Pool:
    """One replica's connection pool to one database (HikariCP: fixed size, FIFO waiters)."""

    __slots__ = ("area", "area0", "busy", "size", "t", "waiting")

    def __init__(self, size: int, now: float) -> None:
        self.size = size
        self.busy = 0
        self.waiting: deque[tuple[Any, Any, float]] = deque()
        """(waiter, its call or saga, since): the waiter's `run(x, waited)` gets the connection."""
        self.area = 0.0
        self.area0 = 0.0
        self.t = now

    def flush(self, now: float) -> None:
        self.area += self.busy * (now - self.t)
        self.t = now

    def take(self, waiter: Any, x: Any, now: float) -> bool:
        """A connection for `x` now (True), or `x` queues FIFO until `waiter.run(x, waited)`.

        The caller checks `size == 0` (no connection could be opened) before asking.
        """
        if self.busy < self.size:
            self.area += self.busy * (now - self.t)
            self.t = now
            self.busy += 1
            return True
        self.waiting.append((waiter, x, now))
        return False

    def give_back(self, now: float) -> None:
        """Hand the connection to the first waiter, or return it to the pool."""
        if self.waiting:
            waiter, nxt, since = self.waiting.popleft()
            waiter.run(nxt, now - since)
        else:
            self.area += self.busy * (now - self.t)
            self.t = now
            self.busy -= 1


class DatabaseRuntime:
    """A database reached through per-replica pools; connections beyond `maxConnections` never open.

    Replicas get their pool when they first query, in that order, each `pool` connections while
    the server has connections left; a replica left with none fails its queries at once as
    `unavailable` (the pool cannot connect).
    """

    __slots__ = (
        "count",
        "count0",
        "fails",
        "fails0",
        "hist",
        "kernel",
        "left",
        "name",
        "pool_size",
        "pools",
        "wait_sum",
        "wait_sum0",
    )

    def __init__(self, name: str, kernel: Kernel, pool: int, max_connections: int) -> None:
        self.name = name
        self.kernel = kernel
        self.pool_size = pool
        self.left = max_connections
        self.pools: list[Pool] = []
        self.count = 0
        self.count0 = 0
        self.fails = 0
        self.fails0 = 0
        self.wait_sum = 0.0
        self.wait_sum0 = 0.0
        self.hist = LogHistogram()

    def served(self, waited: float, latency: float) -> None:
        """Count one operation that waited `waited` for a connection and took `latency`."""
        self.count += 1
        self.wait_sum += waited
        self.hist.record(waited + latency)

    def pool_of(self, replica: Replica) -> Pool:
        pool = replica.pools.get(self.name)
        if pool is None:
            size = min(self.pool_size, self.left)
            self.left -= size
            pool = Pool(size, self.kernel.now)
            replica.pools[self.name] = pool
            self.pools.append(pool)
        return pool

    def reset(self) -> None:
        now = self.kernel.now
        for pool in self.pools:
            pool.flush(now)
            pool.area0 = pool.area
        self.count0 = self.count
        self.fails0 = self.fails
        self.wait_sum0 = self.wait_sum
        self.hist.clear()


@mypyc_attr(allow_interpreted_subclasses=True)  # loops, tracing
class QueryStepRuntime(StepRuntime):
    """`query:`: take a connection from the replica's pool (waiting FIFO), hold it for the
    operation's latency, give it back. Database latency is as the client measures it, so no
    network hop is added."""

    __slots__ = (
        "caused",
        "db",
        "done_",
        "kernel",
        "latency",
        "prob_rnd",
        "probability",
        "repeat",
    )

    def __init__(
        self,
        kernel: Kernel,
        db: DatabaseRuntime,
        latency: Sampler,
        probability: float,
        repeat: int,
        prob_rnd: Callable[[], float],
    ) -> None:
        self.kernel = kernel
        self.db = db
        self.latency = latency
        self.probability = probability
        self.repeat = repeat
        self.prob_rnd = prob_rnd
        self.done_ = self.done
        self.caused: dict[str, Caused] = {}

    def start(self, x: Call) -> bool:
        if self.probability < 1.0 and self.prob_rnd() >= self.probability:
            return True
        x.rep = self.repeat
        self.acquire(x)
        return False

    def acquire(self, x: Call) -> None:
        db = self.db
        pool = db.pool_of(x.replica)
        if pool.size == 0:
            db.count += 1
            db.fails += 1
            _blame(self.caused, db.name, self.kernel.now)
            x.endpoint.finish(x, UNAVAILABLE)
        elif pool.take(self, x, self.kernel.now):
            self.run(x, 0.0)

    def run(self, x: Call, waited: float) -> None:
        k = self.kernel
        latency = self.latency.draw()
        self.db.served(waited, latency)
        k.seq += 1
        k.push(k.now + latency, k.seq, self.done_, x)

    def done(self, x: Call) -> None:
        pool: Pool = x.replica.pools[self.db.name]
        pool.give_back(self.kernel.now)
        x.rep -= 1
        if x.rep:
            self.acquire(x)
        else:
            x.endpoint.advance(x)


@mypyc_attr(allow_interpreted_subclasses=True)  # tracing's TracedPublishStepRuntime
class PublishStepRuntime(StepRuntime):
    """`publish:`: the publisher waits for the broker's acknowledgement only."""

    __slots__ = ("ack", "acked_", "kernel", "prob_rnd", "probability", "topic")

    def __init__(
        self,
        kernel: Kernel,
        topic: TopicRuntime,
        ack: Sampler,
        probability: float,
        prob_rnd: Callable[[], float],
    ) -> None:
        self.kernel = kernel
        self.topic = topic
        self.ack = ack
        self.probability = probability
        self.prob_rnd = prob_rnd
        self.acked_ = self.acked

    def start(self, x: Call) -> bool:
        if self.probability < 1.0 and self.prob_rnd() >= self.probability:
            return True
        ack = self.ack.draw()
        self.topic.publish(ack)
        self.kernel.schedule(ack, self.acked_, x)
        return False

    def acked(self, x: Call) -> None:
        x.endpoint.advance(x)
