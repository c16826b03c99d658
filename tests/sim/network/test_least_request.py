"""Least-request balancing counts the client's own requests (issue 8, defect 4).

Envoy's LEAST_REQUEST draws two hosts and takes the one with fewer active requests *as this
proxy counts them*; load that other clients put on a host is invisible to it. So a replica
carrying 100 calls from other clients is chosen by a new client as often as an idle one while
the client's own counts are equal: half the time with two replicas (P2C picks the first host
drawn on a tie, and the first draw is uniform).
"""

from __future__ import annotations

from statistics import NormalDist
from typing import Any

import pytest

from scalesim_patterns.sim import Engine
from scalesim_patterns.sim.core.kernel import FunctionHandler
from scalesim_patterns.sim.network.station import Call

from ..models import architecture

WORK = 0.001
OTHERS = 100
"""Calls from other clients held on replica 0 for the whole run."""


def _arch(mesh: bool) -> Any:
    extra: dict[str, Any] = {}
    if mesh:
        extra["mesh"] = {"enabled": True, "sidecarOverhead": "0s"}
    return architecture(
        {
            "a": {"workers": 10, "endpoints": {"e": {"work": "0s", "steps": [{"call": "b.e"}]}}},
            "b": {
                "replicas": 2,
                "workers": 1000,
                "loadBalancer": "least-request",
                "endpoints": {"e": {"work": "1ms"}, "hold": {"work": "100000s"}},
            },
        },
        {"load": {"arrival": {"process": "poisson", "rate": "2/s"}, "mix": [{"endpoint": "a.e"}]}},
        duration="1000s",
        **extra,
    )


def _share_on_loaded_replica(mesh: bool) -> tuple[int, int]:
    """(calls of the new client served by the loaded replica, all its calls)."""
    engine = Engine(_arch(mesh), seed=5)
    b = engine.services["b"]
    loaded = b.replicas[0]
    hold = b.endpoints["hold"]
    for _ in range(OTHERS):  # another client's calls, already on replica 0
        loaded.accept(Call(hold, FunctionHandler(lambda _c: None), None, 0.0))
    report = engine.run().report
    span = engine.duration - engine.warmup
    per_replica = report.services["b"].per_replica
    # Each call of the new client holds a worker for exactly WORK seconds; the other client's
    # calls hold OTHERS workers of replica 0 throughout.
    served = [
        round((rep.busy_mean * span - (OTHERS * span if i == 0 else 0.0)) / WORK)
        for i, rep in enumerate(per_replica)
    ]
    assert sum(served) == report.services["b"].endpoints["e"].count
    return served[0], sum(served)


def _binomial_interval(n: int, p: float, confidence: float = 0.999) -> tuple[float, float]:
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    half = z * (p * (1 - p) / n) ** 0.5
    return p - half, p + half


@pytest.mark.parametrize("mesh", [False, True], ids=["client-side", "mesh"])
def test_a_replica_loaded_by_other_clients_gets_half_of_a_new_clients_calls(mesh: bool) -> None:
    on_loaded, total = _share_on_loaded_replica(mesh)
    assert total > 1500
    lo, hi = _binomial_interval(total, 0.5)
    assert lo <= on_loaded / total <= hi, (on_loaded, total)
