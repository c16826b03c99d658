"""A replica's record of the calls it holds (a list threaded through the calls): random holds
and answers against an insertion-ordered dictionary, a kill's order, a drain's end."""

from __future__ import annotations

import random

import pytest

from scalesim_patterns.sim.core.kernel import FunctionHandler, Kernel
from scalesim_patterns.sim.core.rng import Constant_
from scalesim_patterns.sim.network.station import Call, EndpointRuntime, Replica, ServiceRuntime


def _service() -> tuple[ServiceRuntime, EndpointRuntime]:
    svc = ServiceRuntime(
        "svc",
        Kernel(),
        replicas=1,
        workers=1,
        queue_capacity=None,
        holds=True,
        lb="round-robin",
        lb_rnd=random.Random(0).random,
    )
    return svc, EndpointRuntime(svc, "work", Constant_(0.0), 0.0, random.Random(1).random, 4)


def _noop(_: Call) -> None:
    pass


NOOP = FunctionHandler(_noop)


def test_holds_and_answers_in_any_order_keep_the_oldest_first_record() -> None:
    svc, ep = _service()
    rep = Replica(svc, 0, 1, 0)
    rng = random.Random(3)
    model: dict[Call, None] = {}
    for step in range(5000):
        if model and rng.random() < 0.5:
            c = rng.choice(list(model))
            del model[c]
            rep.unhold(c)
        else:
            c = Call(ep, NOOP, None, 0.0)
            model[c] = None
            rep.hold(c)
        assert rep.active == len(model), step
        if step % 97 == 0:
            assert rep.held() == list(model)
    assert rep.held() == list(model)


def test_a_call_held_twice_or_answered_twice_is_an_engine_error() -> None:
    svc, ep = _service()
    rep = Replica(svc, 0, 1, 0)
    a, b = Call(ep, NOOP, None, 0.0), Call(ep, NOOP, None, 0.0)
    rep.hold(a)
    with pytest.raises(AssertionError, match="held twice"):
        rep.hold(a)
    rep.hold(b)
    rep.unhold(a)
    with pytest.raises(AssertionError, match="not held"):
        rep.unhold(a)
    assert rep.held() == [b]


def test_a_draining_replica_stops_when_its_last_call_is_answered() -> None:
    svc, ep = _service()
    rep = Replica(svc, 0, 1, 0)
    calls = [Call(ep, NOOP, None, 0.0) for _ in range(3)]
    for c in calls:
        rep.hold(c)
    stopped: list[Replica] = []
    rep.drain(stopped.append)
    rep.unhold(calls[1])
    rep.unhold(calls[0])
    assert stopped == [] and rep.died == float("inf")
    rep.unhold(calls[2])
    assert stopped == [rep] and rep.died == 0.0


def test_the_replica_queue_is_first_in_first_out_through_growth_and_wrap() -> None:
    """`CallQueue` against `collections.deque` under a random mix of appends and pops that
    wraps its ring and doubles it from 8 slots to the power of two that holds the longest queue;
    then `clear`."""
    import math
    from collections import deque

    from scalesim_patterns.sim.network.station import CallQueue

    endpoint = EndpointRuntime.__new__(EndpointRuntime)
    calls = [Call(endpoint, NOOP, None, float(i)) for i in range(200)]
    rnd = random.Random(7)
    queue, model = CallQueue(), deque[Call]()
    longest = 0
    for step in range(6000):
        # Phases that fill (60 % appends) and drain (40 %), so the ring wraps while it grows.
        fill = step // 1500 % 2 == 0
        if model and rnd.random() < (0.4 if fill else 0.6):
            assert queue.popleft() is model.popleft()
        else:
            c = calls[rnd.randrange(len(calls))]
            queue.append(c)
            model.append(c)
        assert len(queue) == queue.size == len(model)
        longest = max(longest, len(model))
    assert longest > 100
    assert len(queue.items) == 8 * 2 ** math.ceil(math.log2(longest / 8))
    while model:
        assert queue.popleft() is model.popleft()
    queue.append(calls[0])
    queue.clear()
    assert queue.size == 0
    with pytest.raises(IndexError):
        queue.popleft()
