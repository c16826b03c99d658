"""The event loop: a binary heap of `(time, seq, callback, arg)` entries and nothing else.

SimPy builds an Event object, a callback list and a generator resumption for every step of every
process. Here an event is one heap entry: a tuple under `heapq` in pure Python; in the compiled
build, two typed arrays in heap order (`librt.vecs`: the times as C doubles, and the slot of
each event as 64-bit integers), so sifting compares and moves machine numbers with no reference
counting, while the callback and its argument stay put in an `Event` of the slot, filled again
once run instead of freed and allocated anew, and its sequence number in a third array by slot,
read only when two times are equal. Both take events in `(time, seq)` order. What an event runs
is a plain function (`push`, `schedule`: usually a method bound once at build time) or a
`Handler` (`push_to`), whose `handle` the compiled kernel calls natively; `arg` is the one object
it acts on (typically the call being served). The sequence number breaks ties in scheduling
order, so runs are deterministic and same-time events run first-in first-out.

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

from librt.vecs import append, pop, vec
from mypy_extensions import i64, mypyc_attr

__all__ = [
    "Callback",
    "ConstantDelayQueue",
    "Deadlines",
    "FunctionHandler",
    "Handler",
    "Kernel",
    "Timer",
]

Callback = Callable[[Any], None]


@mypyc_attr(allow_interpreted_subclasses=True)
class Handler:
    """What an event does, as an object: `handle(arg)` runs when the event comes due
    (`Kernel.push_to`).

    A plain callback (`Kernel.push`, `schedule`) is called through Python's generic call: the
    bound method, its argument parsing and its result check cost about as much as the rest of a
    small event. The compiled kernel calls a handler through its class's table of methods, as a
    C function. The hottest events (a call's work done, an open source's next arrival) are
    handlers; the other events stay plain callbacks, which is what an extension writes."""

    __slots__ = ()

    def handle(self, arg: Any) -> None:
        raise NotImplementedError

    def __call__(self, arg: Any) -> None:
        """A handler stands wherever a callback does: an extension's layer answers a call with
        `call.reply(call)`."""
        self.handle(arg)


class FunctionHandler(Handler):
    """A plain function where a handler is asked for (`fn(arg)`): made once, when what it
    calls is built, not per event."""

    __slots__ = ("fn",)

    def __init__(self, fn: Callback) -> None:
        self.fn = fn

    def handle(self, arg: Any) -> None:
        self.fn(arg)


def _nothing(_: Any) -> None:
    """The callback of a slot whose event is a handler's (it is never called)."""


_NOTHING: Final[Callback] = _nothing


class Event:
    """A pending event of the compiled engine's heap: `h.handle(arg)`, or `fn(arg)` when `h`
    is None."""

    __slots__ = ("arg", "fn", "h")

    def __init__(self, fn: Callback, h: Handler | None, arg: Any) -> None:
        self.fn = fn
        self.h = h
        self.arg = arg


def _probe() -> None:
    pass


NATIVE_HEAP: Final = type(_probe).__name__ != "function"
"""True in the compiled build: the heap is the typed arrays, ordered by comparisons written
here; in pure Python it holds `(t, seq, fn, arg)` tuples ordered by `heapq`, which is faster
there. Both pop events in `(t, seq)` order, and `seq` is unique, so the order is the same."""


class Kernel:
    """Simulated clock plus the pending-event heap."""

    __slots__ = (
        "free",
        "heap",
        "hole",
        "hslot",
        "ht",
        "n",
        "now",
        "parked",
        "seq",
        "slots",
        "spare_slot",
        "sseq",
        "until",
    )

    def __init__(self) -> None:
        self.now = 0.0
        self.heap: list[tuple[float, int, Callback, Any]] = []
        """`(t, seq, fn, arg)` tuples, a binary heap (pure Python)."""
        self.ht: vec[float] = vec[float]()
        self.hslot: vec[i64] = vec[i64]()
        """The compiled build's heap, `n` entries in heap order: each event's time and its slot
        in `slots`. The arrays only grow (to the most events ever pending)."""
        self.sseq: vec[i64] = vec[i64]()
        """The sequence number of each slot's event: it orders events of equal time, which is
        rare enough that moving it with every sift (a third array in heap order) cost more."""
        self.n: i64 = 0
        self.hole = False
        """The root of the compiled heap is the event running now, taken but not yet removed:
        the first event it schedules takes the root's place and sinks (a heap replace), which
        costs one sift where removing the root and then inserting cost two. Most events
        schedule one more (a worker's next work, a source's next arrival)."""
        self.slots: list[Event] = []
        """The callback of each slot's event; a slot is taken again once its event has run."""
        self.free: vec[i64] = vec[i64]()
        """Slots whose event has run."""
        self.spare_slot: i64 = -1
        """The slot of the event that ran last, when no push has taken it yet (-1: none): most
        events schedule one more, which takes it without touching `free`."""
        self.seq: i64 = 0
        self.parked = 0
        """Events scheduled (their `seq` taken) but held outside the heap (a timeout's FIFO of
        deadlines, `network/pipeline.py`); counted as pending."""
        self.until = 0.0
        """The bound of the current (or last) `run`."""

    def pending(self) -> int:
        """Events in the heap."""
        if NATIVE_HEAP:
            return self.n - 1 if self.hole else self.n
        return len(self.heap)

    def push(self, t: float, seq: i64, fn: Callback, arg: Any) -> None:
        """Put `fn(arg)` at `(t, seq)` in the heap (`seq` taken from `self.seq` by the caller)."""
        if not NATIVE_HEAP:
            heappush(self.heap, (t, seq, fn, arg))
            return
        self._insert(t, seq, fn, None, arg)

    def push_to(self, t: float, seq: i64, h: Handler, arg: Any) -> None:
        """Put `h.handle(arg)` at `(t, seq)` in the heap (`seq` taken from `self.seq`)."""
        if not NATIVE_HEAP:
            heappush(self.heap, (t, seq, h.handle, arg))
            return
        self._insert(t, seq, _NOTHING, h, arg)

    def _insert(self, t: float, seq: i64, fn: Callback, h: Handler | None, arg: Any) -> None:
        """The compiled heap's push (only where `NATIVE_HEAP`): the event takes a free slot, then
        the root left by the event running (`hole`, sinking from there) or a new leaf (sifting
        up)."""
        free = self.free
        slot: i64 = self.spare_slot
        s: i64 = seq
        sseq = self.sseq
        if slot >= 0:
            self.spare_slot = -1
            ev = self.slots[slot]
            ev.fn = fn
            ev.h = h
            ev.arg = arg
            sseq[slot] = s
        elif len(free):
            free, slot = pop(free)
            self.free = free
            ev = self.slots[slot]
            ev.fn = fn
            ev.h = h
            ev.arg = arg
            sseq[slot] = s
        else:
            slot = len(self.slots)
            self.slots.append(Event(fn, h, arg))
            sseq = self.sseq = append(sseq, s)
        if self.hole:
            self.hole = False
            self._sink(t, slot, s, self.n)
            return
        pos = self.n
        ht = self.ht
        hslot = self.hslot
        if pos == len(ht):
            ht = self.ht = append(ht, t)
            hslot = self.hslot = append(hslot, slot)
        self.n = pos + 1
        # The sift-up is written out here and at the end of `_sink`: as one method called from
        # both, the reference model's event loop ran 3.6 % more instructions.
        while pos > 0:
            up = (pos - 1) >> 1
            pt = ht[up]
            if t < pt or (t == pt and s < sseq[hslot[up]]):
                ht[pos] = pt
                hslot[pos] = hslot[up]
                pos = up
            else:
                break
        ht[pos] = t
        hslot[pos] = slot

    def _drop_root(self) -> None:
        """Remove the root of the compiled heap (the event that ran): the last entry takes its
        place and sinks."""
        self.hole = False
        end = self.n - 1
        self.n = end
        if end:
            slot = self.hslot[end]
            self._sink(self.ht[end], slot, self.sseq[slot], end)

    def _sink(self, t: float, slot: i64, s: i64, end: i64) -> None:
        """Put the event `(t, slot)` (sequence `s`) at the root of the heap's first `end`
        entries and restore the order: heapq's bottom-up sift (down to a leaf along the smaller
        children, then up), on the typed arrays."""
        ht = self.ht
        hslot = self.hslot
        if end > 1 and t < ht[1] and (end == 2 or t < ht[2]):
            # Earlier than both children (an event scheduled with no delay, most often): it
            # stays at the root, where the bottom-up sift would walk to a leaf and back.
            ht[0] = t
            hslot[0] = slot
            return
        sseq = self.sseq
        pos: i64 = 0
        child: i64 = 1
        while child < end:
            right = child + 1
            if right < end:
                a = ht[child]
                b = ht[right]
                if not (a < b or (a == b and sseq[hslot[child]] < sseq[hslot[right]])):
                    child = right
            ht[pos] = ht[child]
            hslot[pos] = hslot[child]
            pos = child
            child = 2 * pos + 1
        while pos > 0:
            up = (pos - 1) >> 1
            pt = ht[up]
            if t < pt or (t == pt and s < sseq[hslot[up]]):
                ht[pos] = pt
                hslot[pos] = hslot[up]
                pos = up
            else:
                break
        ht[pos] = t
        hslot[pos] = slot

    def schedule(self, delay: float, fn: Callback, arg: Any) -> None:
        """Run `fn(arg)` after `delay` simulated seconds."""
        self.seq += 1
        self.push(self.now + delay, self.seq, fn, arg)

    def at(self, time: float, fn: Callback, arg: Any) -> None:
        """Run `fn(arg)` at absolute time `time` (never in the past)."""
        self.seq += 1
        self.push(time if time > self.now else self.now, self.seq, fn, arg)

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
        self.push(until, _LAST, _stop, None)
        try:
            if NATIVE_HEAP:
                slots = self.slots
                while True:
                    if self.hole:
                        self._drop_root()
                    slot = self.hslot[0]
                    self.now = self.ht[0]
                    self.hole = True
                    ev = slots[slot]
                    h = ev.h
                    fn = ev.fn
                    arg = ev.arg
                    if self.spare_slot < 0:
                        self.spare_slot = slot
                    else:
                        self.free = append(self.free, slot)
                    if h is None:
                        fn(arg)
                    else:
                        h.handle(arg)
            else:
                heap = self.heap
                pop = heappop
                while True:
                    t, _, fn, arg = pop(heap)
                    self.now = t
                    fn(arg)
        except _Stop:
            pass
        finally:
            if self.hole:  # the sentinel, or the event whose callback raised
                self._drop_root()
        self.now = until

    @property
    def events(self) -> int:
        """Events processed so far (scheduled minus still pending)."""
        return self.seq - self.pending() - self.parked


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
        """It will do nothing; it lets go of its argument at once, which usually refers back to
        the timer (a saga instance and its deadline): without the cycle, both are freed when
        their last other reference goes instead of waiting for the cycle collector."""
        self.active = False
        self.arg = None

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
            k.push(t, k.seq, self.fire_, None)
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
            k.push(t, seq, self.fire_, None)
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
