"""The event loop: a binary heap of `(time, seq, callback, arg)` tuples and nothing else.

SimPy builds an Event object, a callback list and a generator resumption for every step of every
process. Here an event is one heap tuple; the callback is a plain function (usually a method bound
once at build time) and `arg` is the one object it acts on (typically the call being served). The
sequence number breaks ties in scheduling order, so runs are deterministic and same-time events
run first-in first-out.

Cancellation is not the kernel's business: a timer that may become stale carries its own flag (see
`Timer`, or the `state` of a call), and its callback returns at once when the flag says so. Stale
entries stay in the heap until their time comes; that costs a little heap depth but keeps the hot
loop free of look-ups.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from heapq import heappop, heappush
from typing import Any, Final

__all__ = ["Callback", "ConstantDelayQueue", "Deadlines", "Kernel", "Timer"]

Callback = Callable[[Any], None]


class Kernel:
    """Simulated clock plus the pending-event heap."""

    __slots__ = ("heap", "now", "parked", "seq", "until")

    def __init__(self) -> None:
        self.now = 0.0
        self.heap: list[tuple[float, int, Callback, Any]] = []
        self.seq = 0
        self.parked = 0
        """Events scheduled (their `seq` taken) but held outside the heap (a timeout's FIFO of
        deadlines, `network/pipeline.py`); counted as pending."""
        self.until = 0.0
        """The bound of the current (or last) `run`."""

    def schedule(self, delay: float, fn: Callback, arg: Any) -> None:
        """Run `fn(arg)` after `delay` simulated seconds."""
        self.seq += 1
        heappush(self.heap, (self.now + delay, self.seq, fn, arg))

    def at(self, time: float, fn: Callback, arg: Any) -> None:
        """Run `fn(arg)` at absolute time `time` (never in the past)."""
        self.seq += 1
        heappush(self.heap, (time if time > self.now else self.now, self.seq, fn, arg))

    def timer(self, delay: float, fn: Callback, arg: Any) -> Timer:
        """Like `schedule`, but the returned timer can be cancelled before it fires."""
        timer = Timer(fn, arg)
        self.schedule(delay, timer.fire, None)
        return timer

    def run(self, until: float) -> None:
        """Process every event with time <= `until`, then leave the clock at `until`.

        The loop has no per-event bound check: a sentinel event at `until` ends it by raising
        (free in CPython until it happens). Its sequence number sorts after every real one, so
        events due at `until` all run first, even those scheduled while running; the heap is
        never empty before the sentinel fires.
        """
        if until < self.now:
            return
        self.until = until
        heappush(self.heap, (until, _LAST, _stop, None))
        heap = self.heap
        pop = heappop
        try:
            while True:
                t, _, fn, arg = pop(heap)
                self.now = t
                fn(arg)
        except _Stop:
            pass
        self.now = until

    @property
    def events(self) -> int:
        """Events processed so far (scheduled minus still pending)."""
        return self.seq - len(self.heap) - self.parked


_LAST: Final = 1 << 62
"""Sequence number of the end-of-run sentinel: after any real event at the same time."""


class _Stop(Exception):
    pass


def _stop(_: Any) -> None:
    raise _Stop


class Timer:
    """A cancellable event: a tombstone flag checked when the heap entry comes due."""

    __slots__ = ("active", "arg", "fn")

    def __init__(self, fn: Callback, arg: Any) -> None:
        self.fn = fn
        self.arg = arg
        self.active = True

    def cancel(self) -> None:
        self.active = False

    def fire(self, _: Any) -> None:
        if self.active:
            self.active = False
            self.fn(self.arg)


class ConstantDelayQueue:
    """Events that all wait the same `delay`, at the cost of one heap entry however many are
    pending: a caller's timeout on every call of a site (network/pipeline.py), a saga's deadline
    (`Deadlines`).

    `add` is exactly one kernel event under its own `(time, seq)`. With a constant delay the
    events fall due in the order they were added, so they wait in a FIFO and only the earliest
    sits in the heap, under the very `(time, seq)` its own event would have had: every event runs
    in the same order as if each had been scheduled. When one falls due (`due`), the following
    ones that are `settled` (their event would do nothing: a cancelled timer, an answered call)
    and fall within the current run are counted as processed (`Kernel.parked`) and never enter
    the heap, which would otherwise hold every one of them (about 1 800 dead saga deadlines for
    about 40 live events in the banking template) for every push and pop to climb through.
    """

    __slots__ = ("delay", "fire_", "kernel", "waiting")

    def __init__(self, kernel: Kernel, delay: float) -> None:
        self.kernel = kernel
        self.delay = delay
        self.waiting: deque[tuple[float, int, Any]] = deque()
        """(time, seq, item); the first is in the kernel's heap, the others are parked."""
        self.fire_: Callback = self.fire

    def add(self, item: Any) -> None:
        """`item`'s event after `delay`: `fire` runs then, and takes it from `due()`."""
        k = self.kernel
        k.seq += 1
        t = k.now + self.delay
        waiting = self.waiting
        if waiting:
            k.parked += 1
        else:
            heappush(k.heap, (t, k.seq, self.fire_, None))
        waiting.append((t, k.seq, item))

    def due(self) -> Any:
        """The item whose event is running; the next one that may still act (or that falls
        after the run) takes its place in the heap."""
        waiting = self.waiting
        item = waiting.popleft()[2]
        k = self.kernel
        until = k.until
        while waiting:
            t, seq, nxt = waiting[0]
            if t <= until and self.settled(nxt):
                waiting.popleft()  # its event would do nothing before the run ends
                k.parked -= 1
                continue
            k.parked -= 1
            heappush(k.heap, (t, seq, self.fire_, None))
            break
        return item

    def settled(self, item: Any) -> bool:
        """True when `item`'s event would do nothing, now and later."""
        raise NotImplementedError

    def fire(self, _: Any) -> None:
        raise NotImplementedError


class Deadlines(ConstantDelayQueue):
    """Cancellable timers that all wait the same `delay` (a saga's deadline): `start` is exactly
    `kernel.timer(delay, fn, arg)`; most are cancelled long before they fall due."""

    __slots__ = ()

    def start(self, fn: Callback, arg: Any) -> Timer:
        """Run `fn(arg)` after `delay`, unless the returned timer is cancelled first."""
        timer = Timer(fn, arg)
        self.add(timer)
        return timer

    def settled(self, item: Any) -> bool:
        timer: Timer = item
        return not timer.active

    def fire(self, _: Any) -> None:
        timer: Timer = self.due()
        timer.fire(None)
