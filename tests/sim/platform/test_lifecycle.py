"""Pods losing and finishing their work: outages, crashes and scale-downs, against hand arithmetic.

Every case is one service `s` whose endpoint `e` does constant work, fed by constant arrivals,
so what each worker does at every moment can be written down by hand.
"""

from __future__ import annotations

from typing import Any

import pytest

from scalesim_patterns.sim import simulate
from scalesim_patterns.sim.core.stats import estimate
from scalesim_patterns.sim.engine import Engine
from scalesim_patterns.sim.extensions import default_extensions
from scalesim_patterns.sim.platform.lifecycle import fleet

from ..models import architecture, service


def _arrivals(rate: str, process: str = "constant") -> dict[str, Any]:
    return {"load": {"arrival": {"process": process, "rate": rate}, "mix": [{"endpoint": "s.e"}]}}


def _one_worker(fault: dict[str, Any], process: str = "constant", **svc: Any) -> Any:
    """The issue's case: 1 worker, 100 ms work, 5/s, a fault at 10.05 s, 40 s."""
    return architecture(
        {"s": service("100ms", **svc)},
        _arrivals("5/s", process),
        duration="40s",
        scenarios={"f": {"faults": [fault]}},
    )


OUTAGE = {"type": "outage", "target": "s", "at": "10.05s", "duration": "5s"}


def test_a_service_recovers_when_its_outage_ends() -> None:
    # Calls arrive at 0.2 s, 0.4 s, ...; each holds the worker for 100 ms, so at 10.05 s the
    # call that arrived at 10.0 s is running. The outage loses it and refuses every call until
    # 15.05 s; from then on each 1 s window serves 5 calls and the worker is busy 5 × 0.1 s.
    run = simulate(_one_worker(OUTAGE), seed=1, scenario="f").runs[0]
    cols = run.series.services["s"]
    entry = run.series.entries["s.e"]
    for w in range(11, 15):
        assert entry["errors"][w] == entry["count"][w] == 5.0
        assert cols["utilisation"][w] == 0.0
    for w in range(16, 40):
        assert cols["throughput"][w] == pytest.approx(5.0)
        assert cols["utilisation"][w] == pytest.approx(0.5)
        assert entry["errors"][w] == 0.0
    report = run.report
    # 199 arrivals (0.2 s … 39.8 s), none left over: the lost call and the 25 that arrived
    # during the outage (10.2 s … 15.0 s) fail.
    assert report.totals.in_flight_end == 0.0
    assert report.totals.count == 199.0
    assert report.totals.errors["unavailable"] == 1.0 + 25.0
    # Busy 0.1 s per call served: 50 before the outage (0.2 … 10.0 s, the last cut at 0.05 s)
    # and 124 after (15.2 … 39.8 s, the last one unfinished at 40 s by 0.0 s: 39.8 + 0.1 < 40).
    busy = 49 * 0.1 + 0.05 + 124 * 0.1
    assert report.services["s"].utilisation == pytest.approx(busy / 40.0)


def test_a_crash_at_the_same_moment_recovers_after_its_start_up() -> None:
    crash = {"type": "crash", "target": "s", "at": "10.05s", "duration": "5s"}
    run = simulate(_one_worker(crash, startupTime="1s"), seed=1, scenario="f").runs[0]
    cols = run.series.services["s"]
    # Down 5 s, then 1 s to start: it serves from 16.05 s.
    for w in range(17, 40):
        assert cols["throughput"][w] == pytest.approx(5.0)
        assert cols["utilisation"][w] == pytest.approx(0.5)
    assert run.report.totals.in_flight_end == 0.0


def test_replications_of_an_outage_agree() -> None:
    # Poisson arrivals: after the outage each replication's worker is busy λ·S = 0.5 of the
    # time and serves λ = 5 calls per second; no replication may keep a stuck worker.
    result = simulate(_one_worker(OUTAGE, process="poisson"), seed=1, scenario="f", replications=10)
    after = range(16, 40)
    utilisation = []
    throughput = []
    for run in result.runs:
        cols = run.series.services["s"]
        utilisation.append(sum(cols["utilisation"][w] or 0.0 for w in after) / len(after))
        throughput.append(sum(cols["throughput"][w] or 0.0 for w in after) / len(after))
    u = estimate(utilisation)
    x = estimate(throughput)
    assert u.contains(0.5)
    assert x.contains(5.0)
    # Sampling error alone: 24 s of M/D/1 at ρ = 0.5 gives about ±7 % for ten replications;
    # a stuck worker (utilisation 1, throughput 0) in one of them would double that.
    assert u.half_width is not None and u.half_width < 0.15 * u.mean
    assert x.half_width is not None and x.half_width < 0.15 * x.mean


# ---- scale-down ---------------------------------------------------------------------------


def _scaled_down(at: float, faults: list[dict[str, Any]] | None = None, **svc: Any) -> Any:
    """2 pods × 1 worker, 10 s work, a call every second (round robin), scaled to 1 at `at`."""
    arch = architecture(
        {"s": service("10s", replicas=2, **svc)},
        _arrivals("1/s"),
        duration="40s",
        scenarios={"f": {"faults": faults or []}},
    )

    def scale_down(engine: Engine) -> None:
        pods = fleet(engine, "s")
        engine.kernel.at(at, lambda _: pods.scale_to(1), None)

    ext = default_extensions()
    ext.installers = [scale_down, *ext.installers]
    return simulate(arch, seed=1, extensions=ext, scenario="f" if faults else None).runs[0]


def test_a_removed_pod_finishes_its_work_and_then_stops() -> None:
    # Pod 0 gets the calls of 1 s, 3 s; pod 1 those of 2 s, 4 s. At 4.5 s pod 1 (the newest)
    # leaves the balancer; it finishes the call of 2 s at 12 s and the queued one of 4 s at
    # 22 s, then stops: busy 20 s of the 22 s it existed. Pod 0 gets every later call and is
    # busy from 1 s to the end.
    run = _scaled_down(4.5)
    s = run.report.services["s"]
    assert [r.utilisation for r in s.per_replica] == pytest.approx([39 / 40, 20 / 22])
    assert s.utilisation == pytest.approx((39 + 20) / (40 + 22))
    assert s.replicas == 1.0
    assert run.report.totals.errors["unavailable"] == 0.0
    pods = [p[1:] for p in run.extras["resilience"]["pods"]]
    assert pods == [["s#1", "deleted"], ["s#1", "stopped"]]
    assert [p[0] for p in run.extras["resilience"]["pods"]] == [4.5, 22.0]


def test_a_removed_pod_is_killed_at_the_end_of_its_grace_period() -> None:
    # terminationGracePeriod 10 s: pod 1 is killed at 14.5 s, 2.5 s into the call of 4 s,
    # which fails as `unavailable`.
    run = _scaled_down(4.5, terminationGracePeriod="10s")
    s = run.report.services["s"]
    assert [r.utilisation for r in s.per_replica] == pytest.approx([39 / 40, 12.5 / 14.5])
    assert run.report.totals.errors["unavailable"] == 1.0
    assert [p[1:] for p in run.extras["resilience"]["pods"]] == [
        ["s#1", "deleted"],
        ["s#1", "killed"],
    ]


def test_a_service_outage_also_loses_the_work_of_a_draining_pod() -> None:
    # An outage of the whole service from 7.5 s to 9.5 s: pod 0 loses the call of 1 s at work
    # and those of 3, 5, 6, 7 s queued; draining pod 1 loses the call of 2 s and the queued one
    # of 4 s, and stops then. The calls of 8 s and 9 s are refused. Pod 0 serves again from
    # 10 s: busy 1 → 7.5 s and 10 → 40 s.
    outage = {"type": "outage", "target": "s", "at": "7.5s", "duration": "2s"}
    run = _scaled_down(4.5, [outage])
    s = run.report.services["s"]
    assert [r.utilisation for r in s.per_replica] == pytest.approx([36.5 / 40, 5.5 / 7.5])
    assert run.report.totals.errors["unavailable"] == 5 + 2 + 2
    pods = [p for p in run.extras["resilience"]["pods"] if p[1] == "s#1"]
    assert pods == [[4.5, "s#1", "deleted"], [7.5, "s#1", "stopped"]]


def test_utilisation_never_exceeds_one_per_replica_under_autoscaling() -> None:
    # A load step up and down with slow calls: pods are added and removed while busy.
    arch = architecture(
        {
            "s": service(
                "2s",
                workers=2,
                startupTime="2s",
                autoscaling={
                    "minReplicas": 1,
                    "maxReplicas": 6,
                    "metric": "requests",
                    "target": 0.5,
                    "behavior": {"scaleDown": {"stabilizationWindow": "0s"}},
                },
            )
        },
        {
            "load": {
                "arrival": {
                    "process": "step",
                    "steps": [
                        {"at": "0s", "rate": "0.5/s"},
                        {"at": "40s", "rate": "2.5/s"},
                        {"at": "100s", "rate": "0.5/s"},
                    ],
                },
                "mix": [{"endpoint": "s.e"}],
            }
        },
        duration="200s",
    )
    run = simulate(arch, seed=3).runs[0]
    s = run.report.services["s"]
    deleted = [p for p in run.extras["resilience"]["pods"] if p[2] == "deleted"]
    assert deleted  # the case exercises scale-downs
    for r in s.per_replica:
        assert r.utilisation <= 1.0 + 1e-9
    for u in run.series.services["s"]["utilisation"]:
        assert u is None or u <= 1.0 + 1e-9
