"""The estimate of whole architectures against closed forms computed here by hand."""

from __future__ import annotations

import math

import pytest

from scalesim_patterns.estimate import EstimateError, estimate
from tests.sim.models import architecture, exp, poisson, service, station


def test_mm1_from_a_file() -> None:
    # lambda 50/s, S 10 ms: R = S / (1 - rho) = 0.01 / 0.5 = 20 ms; utilisation 0.5.
    est = estimate(station("50/s", exp("10ms")))
    assert est.entries["s.e"].response_mean == pytest.approx(0.02)
    assert est.stations["s"].utilisation == pytest.approx(0.5)
    assert est.bottleneck == "s"
    assert est.saturation_load == pytest.approx(2.0, rel=2e-3)


def test_saturation_is_a_multiplier_of_the_load_estimated() -> None:
    # The same M/M/1 (rho 0.5 at the file's load) at 1.5x: rho 0.75, saturating at 1/0.75 of it.
    est = estimate(station("50/s", exp("10ms")), load=1.5)
    assert est.stations["s"].utilisation == pytest.approx(0.75)
    assert est.saturation_load == pytest.approx(1 / 0.75, rel=2e-3)


def test_mmc_from_a_file() -> None:
    # M/M/12, lambda 100, mu 10 (published: W = 0.12247 s).
    est = estimate(station("100/s", exp("100ms"), workers=12))
    assert est.entries["s.e"].response_mean == pytest.approx(0.12247, abs=1e-5)


def test_async_tandem_is_a_jackson_network() -> None:
    # a (async) -> b: both M/M/1 with the same lambda; R = S_a/(1-rho_a) + S_b/(1-rho_b).
    arch = architecture(
        {
            "a": service(exp("10ms"), concurrency="async", steps=[{"call": "b.e"}]),
            "b": service(exp("5ms")),
        },
        poisson("40/s", "a.e"),
    )
    est = estimate(arch)
    assert est.entries["a.e"].response_mean == pytest.approx(0.01 / 0.6 + 0.005 / 0.8)
    assert est.stations["a"].utilisation == pytest.approx(0.4)


def test_thread_caller_holds_its_worker_while_it_waits() -> None:
    # a (thread, 4 workers) -> b (M/M/1): a's worker is held for a's work plus b's response.
    arch = architecture(
        {
            "a": service(exp("10ms"), workers=4, steps=[{"call": "b.e"}]),
            "b": service(exp("5ms")),
        },
        poisson("40/s", "a.e"),
    )
    est = estimate(arch)
    rb = 0.005 / (1 - 0.2)
    assert est.endpoints["b.e"].response_mean == pytest.approx(rb)
    assert est.stations["a"].holding_mean == pytest.approx(0.01 + rb)
    assert est.stations["a"].utilisation == pytest.approx(40 * (0.01 + rb) / 4)


def test_error_rate_and_probability_thin_the_calls() -> None:
    arch = architecture(
        {
            "a": {
                "endpoints": {
                    "e": {
                        "work": "1ms",
                        "errorRate": 0.2,
                        "steps": [{"call": "b.e", "probability": 0.5, "repeat": 3}],
                    }
                }
            },
            "b": service("1ms"),
        },
        poisson("100/s", "a.e"),
    )
    est = estimate(arch)
    assert est.endpoints["b.e"].rate == pytest.approx(100 * 0.8 * 0.5 * 3)
    assert est.entries["a.e"].error_rate == pytest.approx(0.2)


def test_closed_population_matches_exact_mva() -> None:
    # 3 users, think 0.2 s, one M/M/1 station of 0.1 s: exact MVA by hand:
    # n=1: R .1, X 1/.3, Q 1/3; n=2: R .1(4/3), X 2/(.2+.4/3) = 6, Q .8;
    # n=3: R .18, X 3/.38. Populations this small get the MVA recursion itself.
    arch = architecture(
        {"s": service(exp("100ms"))},
        {"people": {"users": 3, "thinkTime": exp("200ms"), "mix": [{"endpoint": "s.e"}]}},
    )
    est = estimate(arch)
    assert est.entries["s.e"].arrival_rate == pytest.approx(3 / 0.38, rel=1e-6)
    # and the response-time law holds exactly at the fixed point
    x = est.entries["s.e"].arrival_rate
    assert x * (0.2 + est.entries["s.e"].response_mean) == pytest.approx(3, rel=1e-6)


def test_closed_population_saturates_at_the_bottleneck() -> None:
    # 500 users against 1/D = 10/s: throughput tends to the bottleneck's capacity.
    arch = architecture(
        {"s": service(exp("100ms"))},
        {"people": {"users": 500, "thinkTime": exp("1s"), "mix": [{"endpoint": "s.e"}]}},
    )
    est = estimate(arch, headroom=False)
    assert est.entries["s.e"].arrival_rate == pytest.approx(10.0, rel=0.01)


def test_saturated_station_is_reported() -> None:
    est = estimate(station("200/s", exp("10ms")), headroom=False)
    assert est.saturated == ["s"]
    assert math.isinf(est.entries["s.e"].response_mean)
    assert est.to_dict()["entries"]["s.e"]["response_mean"] is None


def test_load_and_scenario_scale_rates() -> None:
    arch = architecture(
        {"s": service(exp("10ms"))},
        poisson("20/s"),
        scenarios={"double": {"traffic": {"load": {"scale": 2}}}},
    )
    assert estimate(arch, load=1.5).entries["s.e"].arrival_rate == pytest.approx(30)
    assert estimate(arch, scenario="double").entries["s.e"].arrival_rate == pytest.approx(40)
    with pytest.raises(EstimateError, match="no scenario 'nope'"):
        estimate(arch, scenario="nope")


def test_database_pool_is_an_erlang_c_station() -> None:
    # 1 replica, pool of 2 connections, exponential 50 ms queries at 20/s: a = 1 erlang,
    # C(2, 1) = 1/3, Wq = (1/3) * 0.05 / (2 - 1) = 1/60 s.
    arch = architecture(
        {"s": service("1ms", workers=64, steps=[{"query": "db"}])},
        poisson("20/s"),
        databases={
            "db": {
                "engine": "postgresql",
                "owner": "s",
                "pool": 2,
                "latency": {"read": exp("50ms")},
            }
        },
    )
    est = estimate(arch)
    assert est.stations["db@s"].wait_mean == pytest.approx(1 / 60)
    assert est.endpoints["s.e"].response_mean == pytest.approx(0.001 + 1 / 60 + 0.05, rel=1e-3)
