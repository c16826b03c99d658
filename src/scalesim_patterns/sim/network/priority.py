"""Priority scheduling of a replica's queue (`scheduling: priority`): non-preemptive priority.

A thread pool whose work queue is a priority queue (Java's `ThreadPoolExecutor` over a
`PriorityBlockingQueue` whose comparator reads the request's consumer, a Go worker pool reading
from per-class channels highest first) hands a free worker the oldest waiting request of the
highest priority; a request at work is never interrupted. That is the M/G/1 non-preemptive
priority queue whose per-class mean wait Cobham's formula gives (tests/sim/test_priority.py).

The queue is a `deque` kept in (priority, arrival) order, so the replica's FIFO code — `append`,
`popleft`, `len`, `clear` — serves it unchanged: only services that ask for it pay for it, and a
FIFO service keeps its plain deque (nothing on the hot path changes). A request's class is its
consumer's (model/consumers.py `priority`, or its traffic source's `priority` for a tenant
without a gateway); a request without one has priority 0.
"""

from __future__ import annotations

from collections import deque

from scalesim_patterns.model.architecture import ArchitectureSpec
from scalesim_patterns.sim.network.station import Call, ServiceRuntime
from scalesim_patterns.sim.network.traffic import consumer_of

__all__ = ["PriorityQueue", "consumer_priorities", "priority_levels", "use_priority_queue"]


def priority_levels(priorities: dict[str, int]) -> tuple[dict[str, int], int]:
    """(consumer → level, number of levels) with level 0 the highest priority; priority 0 (the
    priority of a request without a consumer) always has a level."""
    values = sorted({0, *priorities.values()}, reverse=True)
    rank = {v: i for i, v in enumerate(values)}
    return {name: rank[p] for name, p in priorities.items()}, len(values)


class PriorityQueue(deque[Call]):
    """A replica's queue ordered by priority level, first come first served within a level.

    `counts[i]` is how many waiting calls have level i; a new call goes after every call of its
    level or a higher one, so the head is always the oldest call of the highest level present.
    """

    __slots__ = ("counts", "default", "levels")

    def __init__(self, levels: dict[str, int], count: int) -> None:
        super().__init__()
        self.levels = levels
        self.default = count - 1
        """The level of priority 0 (no consumer, or one without a priority): the lowest."""
        self.counts = [0] * count

    def level_of(self, c: Call) -> int:
        """The call's level: its consumer's, found up its chain of callers."""
        consumer = consumer_of(c)
        if consumer is None:
            return self.default
        return self.levels.get(consumer, self.default)

    def append(self, c: Call) -> None:
        level = self.level_of(c)
        counts = self.counts
        at = 0
        for i in range(level + 1):
            at += counts[i]
        counts[level] += 1
        if at == len(self):
            super().append(c)
        else:
            self.insert(at, c)

    def popleft(self) -> Call:
        c = super().popleft()
        counts = self.counts
        for i, n in enumerate(counts):
            if n:
                counts[i] = n - 1
                break
        return c

    def clear(self) -> None:
        super().clear()
        self.counts = [0] * len(self.counts)


def consumer_priorities(spec: ArchitectureSpec) -> dict[str, int]:
    """Each consumer's priority: a gateway consumer's own, else the `priority` of the traffic
    sources that send as it (validation makes them agree)."""
    out: dict[str, int] = {}
    for src in spec.traffic.values():
        if src.consumer is not None and src.priority is not None:
            out[src.consumer] = src.priority
    if spec.gateway is not None:
        for name, consumer in spec.gateway.consumers.items():
            out[name] = consumer.priority
    return out


def use_priority_queue(rt: ServiceRuntime, priorities: dict[str, int]) -> None:
    """Give every replica of `rt`, present and future, a priority queue."""
    levels, count = priority_levels(priorities)

    def make() -> deque[Call]:
        return PriorityQueue(levels, count)

    rt.make_queue = make
    for rep in rt.replicas:
        rep.queue = make()
