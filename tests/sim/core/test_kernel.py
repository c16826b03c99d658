from __future__ import annotations

from typing import Any

from scalesim_patterns.sim.core.kernel import Kernel


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
