"""What a finished call leaves behind is freed by reference counting, not by the cycle
collector: a client policy's exchange and a cancelled timer hold no reference back to what
refers to them. Cycles would make every call garbage that waits for a collection (most of a
collection's work, and its memory, in the templates with retries and sagas)."""

from __future__ import annotations

import gc
import weakref
from typing import Any

import pytest

from scalesim_patterns.sim import simulate
from scalesim_patterns.sim.core.kernel import Kernel

from .models import architecture, poisson, service


def _alive(kind: str) -> int:
    return sum(1 for o in gc.get_objects() if type(o).__name__ == kind)


@pytest.mark.parametrize(
    "policy",
    [
        {"retry": {"maxAttempts": 3, "wait": "1ms"}},
        {
            "retry": {"maxAttempts": 3, "wait": "1ms"},
            "circuitBreaker": {"type": "failure-rate", "windowSize": 100, "minimumCalls": 50},
        },
    ],
    ids=["retry", "retry-and-breaker"],
)
def test_exchanges_of_answered_calls_are_freed_without_the_collector(policy: Any) -> None:
    arch = architecture(
        {
            "a": service("1ms", workers=50, steps=[{"call": "b.e"}], clients={"b": policy}),
            "b": {"workers": 50, "endpoints": {"e": {"work": "1ms", "errorRate": 0.2}}},
        },
        poisson("100/s", "a.e"),
        duration="60s",
    )
    gc.collect()
    gc.disable()
    try:
        result = simulate(arch, seed=1)
        left = _alive("_Exchange")
    finally:
        gc.enable()
    client = result.runs[0].report.clients["a->b"]
    assert client.calls > 5000 and client.retries > 500
    # Only the calls still in flight when the run ended (about 100/s x 3 ms) are left.
    assert left < 20, left


class _Holder:
    timer: Any = None


def test_a_cancelled_timer_lets_go_of_what_refers_to_it() -> None:
    k = Kernel()
    holder = _Holder()
    holder.timer = k.timer(1.0, lambda _: None, holder)
    ref = weakref.ref(holder)
    gc.disable()
    try:
        holder.timer.cancel()
        del holder
        freed = ref() is None
    finally:
        gc.enable()
    assert freed
