"""Bulkheads: Resilience4j's SemaphoreBulkhead and ThreadPoolBulkhead (a Java ThreadPoolExecutor).

They return decisions and tokens; the engine owns the clock and the timers. A token is whatever
the engine uses to name a waiting call (the call object itself is fine): the bulkhead keeps it in
FIFO order and hands it back when it may proceed.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable
from typing import Final, Generic, TypeVar

__all__ = [
    "QUEUED",
    "REJECTED",
    "RUN",
    "SemaphoreBulkhead",
    "ThreadPoolBulkhead",
]

T = TypeVar("T", bound=Hashable)

RUN: Final = 0
"""submit(): the task runs now, on a new or an idle thread."""
QUEUED: Final = 1
"""submit(): the task waits in the queue; complete() hands it out later."""
REJECTED: Final = 2
"""submit(): pool and queue are full (BulkheadFullException)."""

_INF: Final = float("inf")


class SemaphoreBulkhead(Generic[T]):
    """Resilience4j SemaphoreBulkhead: at most `max_concurrent` calls inside; callers may wait up to
    `max_wait` for a permit, first come first served (a fair java.util.concurrent.Semaphore).

    Engine protocol::

        if bh.try_enter(now): run
        elif bh.enqueue(call, now): schedule bh.expire(call, now + max_wait)   # waits
        else: reject (bulkhead_full)
        ... when a call inside ends:  woken = bh.release(now); if woken is not None: run woken

    With `max_wait` 0 the permit is taken with a plain tryAcquire (no queue, nothing waits). With a
    wait, newcomers never overtake queued callers: `try_enter` fails while anyone is waiting.
    `transitions` records (time, "AVAILABLE", "FULL") when the last permit goes and the reverse.
    """

    __slots__ = (
        "_waiters",
        "expired",
        "in_use",
        "max_concurrent",
        "max_wait",
        "permitted",
        "rejected",
        "transitions",
    )

    def __init__(self, max_concurrent: int = 25, max_wait: float = 0.0) -> None:
        if max_concurrent < 1:
            raise ValueError("max_concurrent must be >= 1")
        if max_wait < 0:
            raise ValueError("max_wait must be >= 0")
        self.max_concurrent = max_concurrent
        self.max_wait = float(max_wait)
        self.in_use = 0
        self._waiters: dict[T, None] = {}
        self.transitions: list[tuple[float, str, str]] = []
        self.permitted = 0
        self.rejected = 0
        self.expired = 0

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    @property
    def available(self) -> int:
        return self.max_concurrent - self.in_use

    def try_enter(self, now: float) -> bool:
        """Take a permit now if one is free and nobody is queued ahead."""
        if self.in_use < self.max_concurrent and not self._waiters:
            self.in_use += 1
            self.permitted += 1
            if self.in_use == self.max_concurrent:
                self.transitions.append((now, "AVAILABLE", "FULL"))
            return True
        return False

    def enqueue(self, token: T, now: float) -> bool:
        """After a failed try_enter: queue `token` (True) or reject at once when max_wait is 0."""
        if self.max_wait <= 0.0:
            self.rejected += 1
            return False
        self._waiters[token] = None
        return True

    def release(self, now: float) -> T | None:
        """A call inside ended. Returns the waiter that now holds its permit, if any."""
        waiters = self._waiters
        if waiters:
            token = next(iter(waiters))
            del waiters[token]
            self.permitted += 1
            return token
        if self.in_use == self.max_concurrent:
            self.transitions.append((now, "FULL", "AVAILABLE"))
        elif self.in_use == 0:
            raise RuntimeError("release() without a permit held")
        self.in_use -= 1
        return None

    def expire(self, token: T, now: float) -> bool:
        """The waiter's max_wait ran out. True if it was still waiting (it is now rejected)."""
        if token in self._waiters:
            del self._waiters[token]
            self.expired += 1
            self.rejected += 1
            return True
        return False


class _Idle:
    """A worker blocked in getTask(): `deadline` is when its timed poll gives up (inf for take())."""

    __slots__ = ("alive", "deadline")

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.alive = True


class ThreadPoolBulkhead(Generic[T]):
    """Resilience4j FixedThreadPoolBulkhead = java.util.concurrent.ThreadPoolExecutor with a
    bounded queue.

    submit() follows ThreadPoolExecutor.execute: fewer than `core_threads` workers → start a
    worker for the task (even if others idle); otherwise offer to the queue, where an idle worker
    takes it at once; queue full and fewer than `max_threads` workers → start a worker for *this*
    task (it overtakes the queue); otherwise reject. When a task ends its worker takes the queue
    head, or goes idle. An idle worker waits untimed if the pool was at or below core size when it
    went idle, else for `keep_alive`, after which it exits if the pool is still above core size
    (else it waits again, untimed). Idle workers are handed tasks longest-waiting first.

    Resilience4j defaults: max = available processors, core = processors − 1 (at least 1),
    queue 100, keep-alive 20ms. The processor count is the JVM's (a container's CPU limit).
    `transitions` records pool-size changes as (time, old size, new size).
    """

    __slots__ = (
        "_idle",
        "_idle_count",
        "_queue",
        "_timed",
        "busy",
        "completed",
        "core_threads",
        "keep_alive",
        "largest_pool",
        "max_threads",
        "queue_capacity",
        "rejected",
        "submitted",
        "threads",
        "transitions",
    )

    def __init__(
        self,
        *,
        core_threads: int | None = None,
        max_threads: int | None = None,
        queue_capacity: int = 100,
        keep_alive: float = 0.020,
        available_processors: int = 1,
    ) -> None:
        if available_processors < 1:
            raise ValueError("available_processors must be >= 1")
        if max_threads is None:
            max_threads = available_processors
        if core_threads is None:
            core_threads = available_processors - 1 if available_processors > 1 else 1
        if core_threads < 1 or max_threads < core_threads:
            raise ValueError("need 1 <= core_threads <= max_threads")
        if queue_capacity < 0 or keep_alive < 0:
            raise ValueError("queue_capacity and keep_alive must be >= 0")
        self.core_threads = core_threads
        self.max_threads = max_threads
        self.queue_capacity = queue_capacity
        self.keep_alive = float(keep_alive)
        self.threads = 0
        self.busy = 0
        self.largest_pool = 0
        self._queue: deque[T] = deque()
        self._idle: deque[_Idle] = deque()
        self._timed: deque[_Idle] = deque()
        self._idle_count = 0
        self.transitions: list[tuple[float, str, str]] = []
        self.submitted = 0
        self.completed = 0
        self.rejected = 0

    @property
    def queued(self) -> int:
        return len(self._queue)

    @property
    def idle(self) -> int:
        return self._idle_count

    def _resize(self, now: float, new: int) -> None:
        self.transitions.append((now, str(self.threads), str(new)))
        self.threads = new
        if new > self.largest_pool:
            self.largest_pool = new

    def _expire_idle(self, now: float) -> None:
        """Let timed-out pollers exit (or re-wait untimed) up to `now`, in deadline order."""
        timed = self._timed
        while timed and timed[0].deadline <= now:
            waiter = timed.popleft()
            if not waiter.alive:
                continue
            waiter.alive = False
            if self.threads > self.core_threads:
                self._idle_count -= 1
                self._resize(waiter.deadline, self.threads - 1)
            else:
                self._idle.append(_Idle(_INF))

    def _go_idle(self, now: float) -> None:
        if self.threads > self.core_threads:
            waiter = _Idle(now + self.keep_alive)
            self._timed.append(waiter)
        else:
            waiter = _Idle(_INF)
        self._idle.append(waiter)
        self._idle_count += 1

    def _take_idle(self) -> bool:
        idle = self._idle
        while idle:
            waiter = idle.popleft()
            if waiter.alive:
                waiter.alive = False
                self._idle_count -= 1
                return True
        return False

    def submit(self, token: T, now: float) -> int:
        """RUN, QUEUED or REJECTED for a new task (`token` is kept only when QUEUED)."""
        if self._timed:
            self._expire_idle(now)
        self.submitted += 1
        if self.threads < self.core_threads:
            self._resize(now, self.threads + 1)
            self.busy += 1
            return RUN
        if self._idle_count and self._take_idle():
            self.busy += 1
            return RUN
        if len(self._queue) < self.queue_capacity:
            self._queue.append(token)
            return QUEUED
        if self.threads < self.max_threads:
            self._resize(now, self.threads + 1)
            self.busy += 1
            return RUN
        self.rejected += 1
        return REJECTED

    def complete(self, now: float) -> T | None:
        """A running task ended. Returns the queued task its worker starts next, if any."""
        if self._timed:
            self._expire_idle(now)
        if self.busy == 0:
            raise RuntimeError("complete() without a running task")
        self.completed += 1
        if self._queue:
            return self._queue.popleft()
        self.busy -= 1
        self._go_idle(now)
        return None

    def settle(self, now: float) -> None:
        """Apply keep-alive exits due by `now` (for reporting the pool size at a given time)."""
        if self._timed:
            self._expire_idle(now)
