"""Priority scheduling of a replica's queue (`scheduling: priority`): non-preemptive priority.

A thread pool whose work queue is a priority queue (Java's `ThreadPoolExecutor` over a
`PriorityBlockingQueue` whose comparator reads the request's consumer, a Go worker pool reading
from per-class channels highest first) hands a free worker the oldest waiting request of the
highest priority; a request at work is never interrupted. That is the M/G/1 non-preemptive
priority queue whose per-class mean wait Cobham's formula gives (tests/sim/test_priority.py).

The queue is a `CallQueue` (the replica's FIFO) whose `append`, `popleft` and `clear` keep one
FIFO per priority level, so the replica's code serves it unchanged: only services that ask for
it pay for it, and a FIFO service keeps its plain queue (nothing on the hot path changes). A request's class is its
consumer's (model/consumers.py `priority`, or its traffic source's `priority` for a tenant
without a gateway); a request without one has priority 0.
"""

from __future__ import annotations

from collections import deque

from scalesim_patterns.model.architecture import ArchitectureSpec
from scalesim_patterns.sim.network.station import Call, CallQueue, ServiceRuntime
from scalesim_patterns.sim.network.traffic import consumer_of

__all__ = ["PriorityQueue", "consumer_priorities", "priority_levels", "use_priority_queue"]


def priority_levels(priorities: dict[str, int]) -> tuple[dict[str, int], int]:
    """(consumer → level, number of levels) with level 0 the highest priority; priority 0 (the
    priority of a request without a consumer) always has a level."""
    values = sorted({0, *priorities.values()}, reverse=True)
    rank = {v: i for i, v in enumerate(values)}
    return {name: rank[p] for name, p in priorities.items()}, len(values)


class PriorityQueue(CallQueue):
    """A replica's queue ordered by priority level, first come first served within a level.

    One FIFO per level (`waiting[i]`, level 0 the highest): a new call goes after every call of
    its level, and the head is the oldest call of the highest level present. `size` counts all.
    """

    __slots__ = ("default", "levels", "waiting")

    def __init__(self, levels: dict[str, int], count: int) -> None:
        super().__init__()
        self.levels = levels
        self.default = count - 1
        """The level of priority 0 (no consumer, or one without a priority): the lowest."""
        self.waiting: list[deque[Call]] = [deque() for _ in range(count)]

    def level_of(self, c: Call) -> int:
        """The call's level: its consumer's, found up its chain of callers."""
        consumer = consumer_of(c)
        if consumer is None:
            return self.default
        return self.levels.get(consumer, self.default)

    def append(self, c: Call) -> None:
        self.waiting[self.level_of(c)].append(c)
        self.size += 1

    def popleft(self) -> Call:
        for level in self.waiting:
            if level:
                self.size -= 1
                return level.popleft()
        raise IndexError("pop from an empty queue")

    def clear(self) -> None:
        for level in self.waiting:
            level.clear()
        self.size = 0


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

    def make() -> CallQueue:
        return PriorityQueue(levels, count)

    rt.make_queue = make
    for rep in rt.replicas:
        rep.queue = make()
