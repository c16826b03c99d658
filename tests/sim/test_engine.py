"""Behaviour of the service model: concurrency, calls, failures, data, traffic, results."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from scalesim_patterns.model import loads
from scalesim_patterns.sim import Engine, Extensions, Progress, SimulationError, compare, simulate
from scalesim_patterns.sim.core.causes import ERROR
from scalesim_patterns.sim.core.stats import estimate
from scalesim_patterns.sim.network.pipeline import CallSite, Invoke, Transport
from scalesim_patterns.sim.network.station import ANSWERED, Call

from .models import architecture, exp, poisson, service, station


def chain(concurrency: str, **caller: Any) -> Any:
    return architecture(
        {
            "a": service(
                exp("10ms"), workers=4, concurrency=concurrency, steps=[{"call": "b.e"}], **caller
            ),
            "b": service("40ms", workers=100, concurrency=concurrency),
        },
        poisson("50/s", "a.e"),
        duration="400s",
        warmup="20s",
    )


def test_thread_holds_the_worker_while_waiting_async_frees_it() -> None:
    thread = simulate(chain("thread"), seed=2).runs[0].report.services["a"]
    async_ = simulate(chain("async"), seed=2).runs[0].report.services["a"]
    # Offered work per a-worker: 50/s x 10 ms / 4 = 0.125; thread mode adds 50/s x 40 ms / 4 = 0.5.
    assert async_.utilisation == pytest.approx(0.125, rel=0.05)
    assert thread.utilisation == pytest.approx(0.625, rel=0.05)


def test_timeout_fails_the_caller_but_the_callee_keeps_working() -> None:
    arch = architecture(
        {
            "a": service("1ms", workers=50, steps=[{"call": "b.e", "timeout": "20ms"}]),
            "b": service("40ms", workers=100),
        },
        poisson("20/s", "a.e"),
        duration="200s",
    )
    report = simulate(arch, seed=1).runs[0].report
    entry = report.totals
    assert entry.count > 3000
    assert entry.errors["timeout"] == entry.count
    assert report.services["a"].endpoints["e"].errors["timeout"] == entry.count
    callee = report.services["b"]
    assert callee.endpoints["e"].ok == pytest.approx(entry.count, abs=2)
    # The abandoned work still occupies b: 20/s x 40 ms = 0.8 busy workers.
    assert callee.busy_mean == pytest.approx(0.8, rel=0.05)
    # The caller waited exactly the timeout: its worker time is 1 ms + 20 ms per call.
    assert report.services["a"].busy_mean == pytest.approx(20 * 0.021, rel=0.05)


def test_errors_propagate_to_callers_with_their_cause() -> None:
    arch = architecture(
        {
            "a": service("1ms", workers=10, steps=[{"call": "b.e"}]),
            "b": {"workers": 10, "endpoints": {"e": {"work": "1ms", "errorRate": 0.2}}},
        },
        poisson("100/s", "a.e"),
        duration="500s",
    )
    result = simulate(arch, replications=5, seed=4)
    shares = [r.report.totals.errors["error"] / r.report.totals.count for r in result.runs]
    est = estimate(shares)
    assert est.contains(0.2), est
    for run in result.runs:
        a = run.report.services["a"].endpoints["e"]
        b = run.report.services["b"].endpoints["e"]
        assert a.errors["error"] == b.errors["error"]
        assert a.count == b.count


def test_full_queue_rejects() -> None:
    arch = station("50/s", "100ms", workers=1, queueCapacity=0, duration="100s")
    report = simulate(arch).runs[0].report
    assert report.totals.errors["rejected"] > 0.8 * report.totals.count
    assert report.services["s"].queue_max == 0
    assert report.totals.ok + report.totals.errors["rejected"] == report.totals.count


def test_parallel_waits_for_the_slowest_and_counts_repeats() -> None:
    arch = architecture(
        {
            "a": service(
                "0s",
                workers=100,
                steps=[{"parallel": [{"call": "b.e"}, {"call": "c.e", "repeat": 3}]}],
            ),
            "b": service("10ms", workers=100),
            "c": service("30ms", workers=100),
        },
        poisson("10/s", "a.e"),
        duration="100s",
    )
    report = simulate(arch).runs[0].report
    lat = report.totals.latency
    assert lat.p50 == pytest.approx(0.030, rel=0.011)
    assert lat.max == pytest.approx(0.030, rel=1e-9)
    n = report.totals.count
    assert report.services["b"].endpoints["e"].count == n
    assert report.services["c"].endpoints["e"].count == 3 * n


def test_probability_and_repeat_of_sequential_calls() -> None:
    arch = architecture(
        {
            "a": service(
                "0s", workers=100, steps=[{"call": "b.e", "probability": 0.25, "repeat": 2}]
            ),
            "b": service("5ms", workers=100),
        },
        poisson("200/s", "a.e"),
        duration="200s",
        replications=1,
    )
    report = simulate(arch).runs[0].report
    n = report.totals.count
    calls = report.services["b"].endpoints["e"].count
    # Binomial: calls/2 ~ Bin(n, 0.25); 4 standard deviations.
    assert abs(calls / 2 - 0.25 * n) < 4 * math.sqrt(n * 0.25 * 0.75)
    assert calls % 2 == 0
    lat = report.totals.latency
    assert lat.max == pytest.approx(0.010)


def test_load_balancers_spread_calls() -> None:
    def run(lb: str) -> Any:
        arch = station(
            "300/s",
            exp("10ms"),
            workers=1,
            replicas=4,
            loadBalancer=lb,
            duration="300s",
            warmup="10s",
        )
        return simulate(arch, seed=9).runs[0].report

    rr = run("round-robin")
    served = [r.utilisation for r in rr.services["s"].per_replica]
    assert max(served) - min(served) < 0.02
    random_, least = run("random"), run("least-request")
    assert least.totals.latency.mean < 0.8 * random_.totals.latency.mean
    for rep in random_.services["s"].per_replica:
        assert rep.utilisation == pytest.approx(0.75, abs=0.05)


YAML = """
apiVersion: scalesim.dev/v1alpha1
kind: Architecture
metadata: {name: shop}
spec:
  gateway:
    replicas: 1
    workers: 64
    overhead: 2ms
    routes:
      - path: /orders
        split:
          - {endpoint: orders.create, weight: 75}
          - {endpoint: legacy.create, weight: 25}
  network: {hopLatency: 1ms}
  services:
    orders:
      workers: 8
      endpoints:
        create:
          work: 5ms
          steps:
            - query: orders-db
              operation: write
            - publish: order-created
    legacy:
      workers: 8
      endpoints:
        create: {work: 20ms}
    mailer:
      workers: 1
      concurrency: async
      endpoints:
        send: {work: 3ms}
    audit:
      workers: 2
      endpoints:
        log: {work: 1ms}
  databases:
    orders-db:
      engine: postgresql
      owner: orders
      pool: 2
      latency: {write: 10ms}
  brokers:
    events:
      publishLatency: 4ms
      deliveryLatency: 6ms
      topics:
        order-created:
          consumers:
            - {service: mailer, endpoint: send}
            - {service: audit, endpoint: log, group: audit}
  traffic:
    web:
      arrival: {process: constant, rate: 20/s}
      mix: [{route: /orders}]
  simulation: {duration: 100s, warmup: 10s, seed: 3}
"""


def test_yaml_gateway_split_database_and_broker() -> None:
    result = simulate(loads(YAML))
    report = result.runs[0].report
    entry = report.entries["/orders"]
    assert entry.count == pytest.approx(20 * 90, abs=2)
    orders = report.services["orders"].endpoints["create"].count
    legacy = report.services["legacy"].endpoints["create"].count
    assert orders + legacy == entry.count
    assert abs(orders - 0.75 * entry.count) < 4 * math.sqrt(entry.count * 0.75 * 0.25)
    # Constant everything, light load: each path's latency is exact.
    # orders: gateway 2ms + hop 1ms + work 5ms + write 10ms + ack 4ms + hop 1ms = 23ms
    # legacy: 2 + 1 + 20 + 1 = 24ms
    assert report.gateway is not None
    assert entry.latency.p50 == pytest.approx(0.023, rel=0.011)
    assert entry.latency.max == pytest.approx(0.024, rel=1e-9)
    db = report.databases["orders-db"]
    assert db.queries == orders
    assert db.latency.max == pytest.approx(0.010)
    topic = report.topics["order-created"]
    assert topic.published == orders
    assert topic.consumed == pytest.approx(2 * orders, abs=4)
    # Lag = ack 4ms + delivery 6ms + the consumer's work: 3ms (mailer) or 1ms (audit).
    assert topic.lag.max == pytest.approx(0.013)
    assert topic.lag.p50 == pytest.approx(0.011, rel=0.011)


def test_database_pool_makes_queries_wait() -> None:
    arch = architecture(
        {"s": service("0s", workers=50, steps=[{"query": "db", "operation": "read"}])},
        poisson("80/s"),
        duration="500s",
        warmup="20s",
        databases={
            "db": {"engine": "redis", "owner": "s", "pool": 1, "latency": {"read": exp("10ms")}}
        },
    )
    report = simulate(arch, seed=8).runs[0].report
    # A pool of one connection is an M/M/1 queue: W = 1/(100 - 80) = 50 ms.
    assert report.totals.latency.mean == pytest.approx(0.05, rel=0.15)
    assert report.databases["db"].utilisation == pytest.approx(0.8, rel=0.05)


def test_a_saga_that_starts_itself_is_refused() -> None:
    arch = architecture(
        {"s": service("1ms", steps=[{"saga": "x"}])},
        poisson("1/s"),
        sagas={"x": {"orchestrator": "s", "steps": [{"name": "a", "action": "s.e"}]}},
    )
    with pytest.raises(SimulationError, match="saga"):
        simulate(arch)


def test_warmup_is_excluded() -> None:
    arch = architecture(
        {"s": service("10ms", workers=1)},
        {
            "load": {
                "arrival": {
                    "process": "step",
                    "steps": [{"at": "0s", "rate": "90/s"}, {"at": "50s", "rate": "10/s"}],
                },
                "mix": [{"endpoint": "s.e"}],
            }
        },
        duration="150s",
        warmup="60s",
    )
    report = simulate(arch, seed=2).runs[0].report
    # After warm-up the station is lightly loaded: nothing near the 90/s backlog is counted.
    assert report.totals.throughput == pytest.approx(10, rel=0.1)
    assert report.totals.latency.p99 < 0.05  # type: ignore[operator]


def test_every_arrival_completes_once_arrivals_stop() -> None:
    arch = architecture(
        {
            "a": service(
                exp("5ms"), workers=10, steps=[{"parallel": [{"call": "b.e"}, {"call": "b.e"}]}]
            ),
            "b": service(exp("5ms"), workers=3, concurrency="async", queueCapacity=2),
        },
        {
            "load": {
                "arrival": {
                    "process": "step",
                    "steps": [{"at": "0s", "rate": "150/s"}, {"at": "100s", "rate": "0/s"}],
                },
                "mix": [{"endpoint": "a.e"}],
            }
        },
        duration="200s",
    )
    report = simulate(arch, seed=6).runs[0].report
    t = report.totals
    assert t.arrivals > 14000
    assert t.in_flight_end == 0
    assert t.count == t.arrivals
    assert t.errors["rejected"] > 0
    # Every a request reached b twice (b counts its rejections too), or failed before calling.
    assert report.services["b"].endpoints["e"].count == 2 * (t.count - t.errors["error"])


def test_arrivals_balance_completions_across_the_measured_span() -> None:
    arch = station("95/s", exp("10ms"), workers=1, duration="300s", warmup="37s", queueCapacity=20)
    for run in simulate(arch, replications=3).runs:
        t = run.report.totals
        assert t.in_flight_start + t.arrivals == t.count + t.in_flight_end
        assert t.count == t.ok + sum(t.errors.values())


def test_closed_loop_population_bounds_in_flight() -> None:
    arch = architecture(
        {"s": service(exp("50ms"), workers=1)},
        {"users": {"users": 5, "thinkTime": "200ms", "mix": [{"endpoint": "s.e"}]}},
        duration="200s",
    )
    report = simulate(arch).runs[0].report
    assert report.totals.in_flight_mean <= 5
    assert report.services["s"].queue_max <= 4


def test_traffic_mix_weights() -> None:
    arch = architecture(
        {
            "s": {"workers": 50, "endpoints": {"x": {"work": "1ms"}, "y": {"work": "1ms"}}},
        },
        {
            "load": {
                "arrival": {"process": "poisson", "rate": "100/s"},
                "mix": [{"endpoint": "s.x", "weight": 3}, {"endpoint": "s.y", "weight": 1}],
            }
        },
        duration="200s",
    )
    report = simulate(arch).runs[0].report
    x, y = report.entries["s.x"].count, report.entries["s.y"].count
    n = x + y
    assert abs(x - 0.75 * n) < 4 * math.sqrt(n * 0.75 * 0.25)
    assert report.totals.count == n


def test_nonhomogeneous_arrivals_follow_the_rate() -> None:
    traffic = {
        "load": {
            "arrival": {"process": "ramp", "from": "0/s", "to": "200/s", "over": "100s"},
            "mix": [{"endpoint": "s.e"}],
        }
    }
    arch = architecture({"s": service("0s", workers=1000)}, traffic, duration="100s", window="10s")
    series = simulate(arch).runs[0].series
    counts = series.entries["s.e"]["count"]
    assert len(counts) == 10
    for i, c in enumerate(counts):
        expected = 10 * (20 * i + 10)  # mean rate over window i times 10 s
        assert c is not None and abs(c - expected) < 4 * math.sqrt(expected) + 1


def test_same_seed_gives_identical_json_and_another_seed_differs() -> None:
    arch = chain("thread")
    one = simulate(arch, seed=5, duration=50, replications=2).to_json()
    two = simulate(arch, seed=5, duration=50, replications=2).to_json()
    other = simulate(arch, seed=6, duration=50, replications=2).to_json()
    assert one == two
    assert one != other
    doc = json.loads(one)
    assert doc["format"] == "scalesim.results/v1"
    assert doc["summary"]["totals"]["latency"]["p99"]["ci95"] is not None


def test_common_random_numbers_keep_arrivals_and_work_identical() -> None:
    base = chain("thread")
    faster = chain("thread")
    faster.spec.services["b"].workers = 200  # a variant that changes only the callee
    cmp = compare(base, faster, replications=3, duration=100)
    for ra, rb in zip(cmp.a.runs, cmp.b.runs, strict=True):
        assert ra.report.totals.arrivals == rb.report.totals.arrivals
    diff = cmp.difference.totals.latency.mean
    assert diff is not None and diff.half_width is not None
    # Light load either way: the paired difference is almost exactly zero, far tighter than
    # the spread of either variant across replications.
    assert abs(diff.mean) < 0.001


def test_compare_detects_a_real_difference() -> None:
    slow = station("60/s", exp("10ms"), workers=1, duration="300s", warmup="10s")
    fast = station("60/s", exp("10ms"), workers=2, duration="300s", warmup="10s")
    cmp = compare(slow, fast, replications=4)
    diff = cmp.difference.totals.latency.mean
    assert diff is not None and diff.high is not None
    assert diff.high < 0  # two workers are faster, with confidence
    # M/M/1 vs M/M/2 at λ = 60/s, μ = 100/s: W = 25 ms vs 10.99 ms.
    assert diff.contains(0.0109890 - 0.025)


def test_time_series_csv_and_progress() -> None:
    arch = chain("async")
    seen: list[Progress] = []
    result = simulate(arch, duration=30, warmup=0, progress=seen.append)
    assert seen and seen[-1].time == 30
    assert seen[-1].requests == result.runs[0].report.totals.count
    assert 0 < seen[-1].fraction <= 1
    series = result.runs[0].series
    assert series.time[:3] == [0.0, 1.0, 2.0]
    assert len(series.time) == 30
    assert sum(c or 0 for c in series.entries["a.e"]["count"]) == result.runs[0].report.totals.count
    csv = result.timeseries_csv()
    header = csv.splitlines()[0].split(",")
    assert header[0] == "time"
    assert "entry:a.e:p99" in header and "service:b:utilisation" in header
    assert len(csv.splitlines()) == 31


def test_single_run_gets_a_batch_means_interval() -> None:
    arch = station(
        "5/s",
        exp("125ms"),
        duration="20000s",
        warmup="100s",
    )
    summary = simulate(arch, seed=21, window=10).summary
    mean = summary.totals.latency.mean
    assert mean is not None and mean.half_width is not None
    assert mean.contains(1 / 3), mean


def test_scenario_scales_traffic() -> None:
    arch = station("10/s", "1ms", duration="100s")
    arch.spec.scenarios = {
        "peak": arch.spec.scenarios.get("x") or _scenario({"load": {"scale": 3}})
    }
    base = simulate(arch).runs[0].report.totals.throughput
    peak = simulate(arch, scenario="peak").runs[0].report.totals.throughput
    assert peak == pytest.approx(3 * base, rel=0.1)


def _scenario(traffic: dict[str, Any]) -> Any:
    from scalesim_patterns.model.traffic import Scenario

    return Scenario.model_validate({"traffic": traffic})


def test_unconfigured_pipeline_is_the_bare_transport_and_layers_plug_in() -> None:
    arch = chain("thread")
    engine = Engine(arch, seed=1, extensions=Extensions())
    step = engine.services["a"].endpoints["e"].steps[0]
    invoke = step.invoke0  # type: ignore[attr-defined]
    assert invoke == engine.services["b"].arrive_  # nothing wrapped: no cost

    failed: list[str] = []

    def fail_half(site: CallSite, nxt: Invoke) -> Invoke:
        if site.caller != "a":
            return nxt
        rnd = site.stream("chaos").random

        def invoke(c: Call) -> None:
            if rnd() < 0.5:
                failed.append(site.target)
                c.status = ERROR
                c.state = ANSWERED
                c.reply(c)
            else:
                nxt(c)

        return invoke

    result = simulate(arch, duration=100, extensions=Extensions(layers=[fail_half]))
    total = result.runs[0].report.totals
    assert failed and set(failed) == {"b.e"}
    assert total.errors["error"] == pytest.approx(0.5 * total.count, rel=0.1)
    # Calls the layer answered never reached b.
    reached = result.runs[0].report.services["b"].endpoints["e"].count
    assert reached == pytest.approx(total.count - total.errors["error"], abs=3)
    assert isinstance(Transport, type)


def test_service_latency_per_window_matches_its_constant_work() -> None:
    arch = architecture(
        {"s": service("10ms", workers=64)}, poisson("20/s"), duration="30s", warmup="5s"
    )
    series = simulate(arch, seed=3).runs[0].series
    p50 = [v for v in series.services["s"]["p50"] if v is not None]
    assert len(p50) >= 25
    assert all(v == pytest.approx(0.010, rel=0.01) for v in p50)
    counts = series.services["s"]["throughput"]
    assert sum(c for c in counts if c) > 0
