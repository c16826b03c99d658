"""Threads are not cores (`cpu:`, model/cpu.py, sim/network/processor.py) against closed forms.

Processor sharing: the mean response time of M/G/1-PS is E[S]/(1 − ρ) whatever the service
distribution (Kleinrock, *Queueing Systems* vol. 2, §4.4), so constant and high-variance work must
give the same mean as exponential work — where first-come-first-served would give the
Pollaczek–Khinchine figure instead. With c cores (rate min(n, c)·μ in state n) the number in the
system is the M/M/c birth-death chain, so the mean response time is M/M/c's (Erlang C).
Each test asserts the theoretical figure inside the 95 % interval over 10 replications.
"""

from __future__ import annotations

from typing import Any

import pytest

from scalesim_patterns.model import Architecture
from scalesim_patterns.sim import Engine, simulate
from scalesim_patterns.sim.core.stats import estimate

from .models import architecture, exp, poisson, service
from .test_queueing_theory import assert_inside, mmc_w, pk_w, run_latency


def cpu_station(
    rate: str,
    work: Any,
    *,
    cpu: dict[str, Any],
    workers: int = 1000,
    duration: str = "2000s",
    warmup: str = "50s",
    **extra: Any,
) -> Architecture:
    return architecture(
        {"s": service(work, workers=workers, cpu=cpu, **extra)},
        poisson(rate),
        duration=duration,
        warmup=warmup,
    )


ONE_CORE = {"cores": 1, "throttling": False}


def test_mm1_ps_mean_response_time() -> None:
    arch = cpu_station("5/s", exp("125ms"), cpu=ONE_CORE)
    assert_inside(run_latency(arch, 10), 0.125 / (1 - 0.625), 0.06)


def test_mg1_ps_constant_work_is_insensitive() -> None:
    # FIFO would give M/D/1's 0.229 s; processor sharing gives E[S]/(1 − ρ) = 1/3 s.
    arch = cpu_station("5/s", "125ms", cpu=ONE_CORE)
    theory = 0.125 / (1 - 0.625)
    assert abs(theory - pk_w(5, 0.125, 0.125**2)) > 0.1
    assert_inside(run_latency(arch, 10), theory, 0.06)


def test_mg1_ps_high_variance_work_is_insensitive() -> None:
    # Hyperexponential SCV 4: FIFO would give 0.4375 s; PS gives 0.125 / (1 − 0.5) = 0.25 s.
    work = {"type": "hyperexponential", "mean": "125ms", "scv": 4}
    arch = cpu_station("4/s", work, cpu=ONE_CORE, duration="3000s")
    theory = 0.125 / (1 - 0.5)
    assert abs(theory - pk_w(4, 0.125, 0.125**2 * 5)) > 0.15
    assert_inside(run_latency(arch, 10), theory, 0.08)


def test_threads_on_two_cores_are_mm2() -> None:
    # A C++ thread-per-connection server on 2 cores: 16/s of 100 ms work, ρ = 0.8.
    arch = cpu_station(
        "16/s", exp("100ms"), cpu={"cores": 2, "throttling": False}, duration="1000s"
    )
    assert_inside(run_latency(arch, 10), mmc_w(2, 16, 10), 0.06)


def test_async_loop_on_one_core_is_fifo() -> None:
    # One event loop runs each request's work to completion: M/D/1's Pollaczek–Khinchine mean.
    arch = cpu_station("5/s", "125ms", cpu=ONE_CORE, concurrency="async")
    assert_inside(run_latency(arch, 10), pk_w(5, 0.125, 0.125**2), 0.06)


@pytest.mark.parametrize("threads", [10, 50])
def test_gil_saturates_at_one_core_whatever_the_threads(threads: int) -> None:
    # A Python service: gil: true on a 2-core limit. One core serves 1 / 100 ms = 10 requests/s.
    result = simulate(
        cpu_station(
            "15/s",
            exp("100ms"),
            cpu={"gil": True},
            workers=threads,
            duration="600s",
            warmup="30s",
            queueCapacity=50,
            resources={"cpu": 1},
        ),
        replications=5,
        seed=5,
    )
    served = estimate(
        [sum(e.ok for e in r.report.services["s"].endpoints.values()) / 570.0 for r in result.runs]
    )
    assert_inside(served, 10.0, 0.04)
    assert sum(r.report.services["s"].errors for r in result.runs) > 0  # the rest is turned away


def test_without_the_gil_the_same_service_keeps_up_on_two_cores() -> None:
    result = simulate(
        cpu_station(
            "15/s",
            exp("100ms"),
            cpu={},
            workers=10,
            duration="600s",
            warmup="30s",
            queueCapacity=50,
            resources={"cpu": 1},  # limit 2 cores, so 2 cores and a quota that cannot bind
        ),
        replications=5,
        seed=5,
    )
    served = estimate(
        [sum(e.ok for e in r.report.services["s"].endpoints.values()) / 570.0 for r in result.runs]
    )
    assert_inside(served, 15.0, 0.04)


def test_cfs_quota_throttles_a_request_until_the_period_ends() -> None:
    # Limit 0.5 core on 1 core: 50 ms of CPU per 100 ms period. A request arriving at a period
    # start with 60 ms of work runs 50 ms, is throttled 50 ms, runs 10 ms: 110 ms.
    arch = architecture(
        {
            "s": service(
                "60ms",
                workers=4,
                cpu={"cores": 1},
                resources={"cpu": "250m", "cpuLimit": "500m"},
            )
        },
        {"load": {"arrival": {"process": "constant", "rate": "1/s"}, "mix": [{"endpoint": "s.e"}]}},
        duration="20.5s",
    )
    result = simulate(arch, replications=1, seed=1)
    lat = result.runs[0].report.entries["s.e"].latency
    assert lat.max == pytest.approx(0.110, rel=0.011)  # the histogram's 1 % accuracy
    assert lat.p50 == pytest.approx(0.110, rel=0.011)


def test_cfs_quota_caps_throughput_at_the_limit() -> None:
    # 2 cores but a 0.5-core limit: 0.5 CPU-s per second serves 5 requests/s of 100 ms.
    result = simulate(
        cpu_station(
            "10/s",
            exp("100ms"),
            cpu={"cores": 2},
            workers=20,
            duration="600s",
            warmup="30s",
            queueCapacity=50,
            resources={"cpu": "250m", "cpuLimit": "500m"},
        ),
        replications=5,
        seed=5,
    )
    served = estimate(
        [sum(e.ok for e in r.report.services["s"].endpoints.values()) / 570.0 for r in result.runs]
    )
    assert_inside(served, 5.0, 0.04)


def test_waiting_on_a_call_uses_no_cpu() -> None:
    # One core, 10 threads; each request computes 50 ms and then waits 1 s on a slow callee.
    # A worker-as-server model would serve 10 requests/s (each worker held 1.05 s); with a
    # processor only the 50 ms compute, so 8/s are served without a queue: latency ≈ 1.05 s + PS
    # delay, and the CPU is 40 % busy.
    arch = architecture(
        {
            "s": service(
                "50ms",
                workers=100,
                cpu={"cores": 1, "throttling": False},
                steps=[{"call": "slow.e"}],
            ),
            "slow": service("1s", workers=1000, concurrency="async"),
        },
        poisson("8/s"),
        duration="300s",
        warmup="20s",
    )
    engine = Engine(arch, seed=3, replication=0)
    run = engine.run(None)
    cpu = run.report.services["s"]
    # Busy workers: λ·(0.05 s / (1 − 0.4) + 1 s) ≈ 8.67 on average, far below 100.
    assert 7.5 < cpu.busy_mean < 10.0
    rep = engine.services["s"].replicas[0]
    assert rep.cpu is not None
    used = (rep.cpu.area - rep.cpu.area0) / 280.0
    assert used == pytest.approx(0.4, rel=0.1)
