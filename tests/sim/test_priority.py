"""Priority scheduling (`scheduling: priority`) against the non-preemptive priority M/G/1 queue.

Cobham (1954): with classes numbered from the highest priority, class k's mean wait is
W_k = W0 / ((1 − σ_{k−1})(1 − σ_k)), where W0 = Σ_i λ_i E[S_i²] / 2 is the mean residual work
an arrival finds at the server and σ_k = Σ_{i≤k} ρ_i (Kleinrock, *Queueing Systems* vol. 2,
§3.6). Each class's mean response time W_k + E[S] must fall inside the 95 % interval over 10
replications; the FIFO figure (the same for everyone) is far outside each.
"""

from __future__ import annotations

from typing import Any

import pytest

from scalesim_patterns.sim import simulate

from .models import architecture, exp
from .test_queueing_theory import assert_inside

MEAN = 0.1
"""Every class's mean work (exponential: E[S²] = 2 E[S]²)."""

CLASSES = [("gold", 30, 2.0), ("silver", 10, 3.0), ("free", 0, 2.0)]
"""(tenant, priority, arrivals per second), highest priority first: ρ = 0.2 + 0.3 + 0.2."""


def cobham() -> dict[str, float]:
    """Each class's mean response time (wait + work) in an M/M/1 non-preemptive priority queue."""
    w0 = sum(lam * 2 * MEAN**2 for _, _, lam in CLASSES) / 2
    out: dict[str, float] = {}
    sigma = 0.0
    for name, _, lam in CLASSES:
        before = sigma
        sigma += lam * MEAN
        out[name] = w0 / ((1 - before) * (1 - sigma)) + MEAN
    return out


def tenants(scheduling: str) -> Any:
    endpoints = {name: {"work": exp(f"{MEAN * 1000:g}ms")} for name, _, _ in CLASSES}
    services = {"s": {"workers": 1, "scheduling": scheduling, "endpoints": endpoints}}
    traffic = {
        name: {
            "consumer": name,
            "priority": priority,
            "arrival": {"process": "poisson", "rate": f"{lam:g}/s"},
            "mix": [{"endpoint": f"s.{name}"}],
        }
        for name, priority, lam in CLASSES
    }
    return architecture(services, traffic, duration="3000s", warmup="100s")


def test_cobham_per_class_mean_response_time() -> None:
    theory = cobham()
    fifo = MEAN / (1 - sum(lam * MEAN for _, _, lam in CLASSES))
    assert theory["gold"] < 0.6 * fifo < fifo < 0.6 * theory["free"]  # the test can tell
    result = simulate(tenants("priority"), replications=10, seed=7)
    for name, expected in theory.items():
        est = result.summary.services["s"].endpoints[name].latency.mean
        assert est is not None
        assert_inside(est, expected, 0.08)


def test_fifo_serves_every_class_alike() -> None:
    result = simulate(tenants("fifo"), replications=10, seed=7)
    fifo = MEAN / (1 - sum(lam * MEAN for _, _, lam in CLASSES))
    for name, _, _ in CLASSES:
        est = result.summary.services["s"].endpoints[name].latency.mean
        assert est is not None
        assert_inside(est, fifo, 0.08)


def test_the_queue_keeps_priority_then_arrival_order() -> None:
    from scalesim_patterns.sim.core.kernel import FunctionHandler
    from scalesim_patterns.sim.network.priority import PriorityQueue, priority_levels
    from scalesim_patterns.sim.network.station import Call, EndpointRuntime
    from scalesim_patterns.sim.network.traffic import ConsumerTag

    levels, count = priority_levels({"gold": 30, "silver": 10, "free": 0})
    assert (levels, count) == ({"gold": 0, "silver": 1, "free": 2}, 3)
    queue = PriorityQueue(levels, count)
    # The queue never reads the endpoint; an unset one of the real type (the compiled engine
    # checks the type of every argument).
    endpoint = EndpointRuntime.__new__(EndpointRuntime)
    calls = {}
    for name in ["free1", "silver1", "nobody1", "gold1", "free2", "gold2", "silver2"]:
        tenant = name.rstrip("12")
        parent = ConsumerTag(tenant) if tenant != "nobody" else None
        calls[name] = Call(endpoint, FunctionHandler(lambda _c: None), parent, 0.0)
        queue.append(calls[name])
    names = {id(c): n for n, c in calls.items()}
    assert [names[id(queue.popleft())] for _ in range(3)] == ["gold1", "gold2", "silver1"]
    queue.append(calls["gold1"])  # a newcomer of the highest priority goes first
    order = [names[id(queue.popleft())] for _ in range(len(queue))]
    assert order == ["gold1", "silver2", "free1", "nobody1", "free2"]
    queue.append(calls["free1"])
    queue.clear()
    assert len(queue) == 0 and not any(queue.waiting)
    with pytest.raises(IndexError):
        queue.popleft()
