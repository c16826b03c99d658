from __future__ import annotations

from typing import Any

import pytest

from scalesim_patterns.sim.core.kernel import Deadlines, Kernel, Timer


def test_events_run_in_time_order_and_ties_first_in_first_out() -> None:
    k = Kernel()
    seen: list[tuple[float, Any]] = []

    def note(tag: Any) -> None:
        seen.append((k.now, tag))

    k.schedule(2.0, note, "late")
    k.schedule(1.0, note, "a")
    k.schedule(1.0, note, "b")
    k.at(0.5, note, "first")
    k.run(10)
    assert seen == [(0.5, "first"), (1.0, "a"), (1.0, "b"), (2.0, "late")]
    assert k.now == 10
    assert k.events == 4


def test_run_stops_at_the_horizon_and_resumes() -> None:
    k = Kernel()
    seen: list[float] = []

    def tick(_: Any) -> None:
        seen.append(k.now)
        k.schedule(1.0, tick, None)

    k.schedule(1.0, tick, None)
    k.run(3.5)
    assert seen == [1.0, 2.0, 3.0]
    assert k.now == 3.5
    k.run(5.0)
    assert seen == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert k.events == 5


def test_events_scheduled_during_the_run_at_the_same_time_still_run() -> None:
    k = Kernel()
    seen: list[str] = []
    k.schedule(1.0, lambda _: k.schedule(0.0, seen.append, "zero-delay"), None)
    k.run(2)
    assert seen == ["zero-delay"]


def test_cancelled_timer_never_fires() -> None:
    k = Kernel()
    fired: list[str] = []
    keep = k.timer(1.0, fired.append, "keep")
    drop = k.timer(1.0, fired.append, "drop")
    drop.cancel()
    k.run(2)
    assert fired == ["keep"]
    assert not keep.active


def test_exceptions_from_callbacks_propagate() -> None:
    k = Kernel()

    def boom(_: Any) -> None:
        raise IndexError("from a callback")

    k.schedule(1.0, boom, None)
    try:
        k.run(2)
    except IndexError as exc:
        assert "callback" in str(exc)
    else:
        raise AssertionError("the callback's exception was swallowed")


def _deadline_trace(use_fifo: bool, seed: int) -> tuple[list[tuple[float, str]], list[int]]:
    """A random mix of work events and constant-delay timers (most cancelled early, as a saga's
    deadline is), run in slices; what fired, when, and the event count after each slice."""
    import random

    rng = random.Random(seed)
    k = Kernel()
    fifo = Deadlines(k, 2.5)
    fired: list[tuple[float, str]] = []
    timers: list[Timer] = []

    def expire(name: Any) -> None:
        fired.append((k.now, f"expire {name}"))

    def work(name: Any) -> None:
        fired.append((k.now, f"work {name}"))
        if rng.random() < 0.7:
            timer = fifo.start(expire, name) if use_fifo else k.timer(2.5, expire, name)
            timers.append(timer)
        if timers and rng.random() < 0.6:
            timers.pop(rng.randrange(len(timers))).cancel()
        if rng.random() < 0.9:
            k.schedule(rng.choice((0.0, 0.5, rng.expovariate(2.0))), work, f"{name}.")

    for i in range(40):
        k.schedule(rng.expovariate(1.0), work, str(i))
    counts = []
    for until in (3.0, 7.5, 7.5, 20.0, 60.0):
        k.run(until)
        counts.append(k.events)
    return fired, counts


@pytest.mark.parametrize("seed", range(6))
def test_deadlines_fire_exactly_as_kernel_timers(seed: int) -> None:
    """The FIFO of constant-delay timers changes neither which events run, nor when, nor in
    which order, nor the event count at the end of each run."""
    direct = _deadline_trace(use_fifo=False, seed=seed)
    fifo = _deadline_trace(use_fifo=True, seed=seed)
    assert any(what.startswith("expire") for _, what in direct[0])
    assert fifo == direct


def test_deadlines_keep_the_heap_small_when_timers_are_cancelled() -> None:
    k = Kernel()
    fifo = Deadlines(k, 10.0)
    for _ in range(1000):
        fifo.start(lambda _: None, None).cancel()
    assert k.pending() == 1 and k.parked == 999
    k.run(20.0)
    assert k.events == 1000 and k.pending() == 0 and k.parked == 0


def test_events_run_in_time_then_scheduling_order_under_load() -> None:
    """Thousands of events, many at the same instants, more scheduled while running: each one
    runs after every event that is earlier, or as early and scheduled before it (whichever heap
    the build uses: tuples under heapq in pure Python, typed events in the compiled build)."""
    import random

    rng = random.Random(11)
    k = Kernel()
    order = 0
    ran: list[tuple[float, int]] = []

    def event(key: Any) -> None:
        nonlocal order
        ran.append((k.now, key))
        if rng.random() < 0.6:
            order += 1
            k.schedule(rng.choice((0.0, 0.25, 1.0, rng.random())), event, order)

    for _ in range(3000):
        order += 1
        k.at(rng.choice((1.0, 2.0, 3.0, 10 * rng.random())), event, order)
    k.run(50.0)
    assert len(ran) > 5000
    assert ran == sorted(ran)
    assert k.events == len(ran) and k.pending() == 0


def test_the_compiled_build_uses_the_typed_heap() -> None:
    """The probe that picks the heap sees the build: a compiled kernel whose probe failed would
    silently run the slower tuple heap."""
    import scalesim_patterns
    from scalesim_patterns.sim.core import kernel

    assert kernel.NATIVE_HEAP is scalesim_patterns.compiled()
