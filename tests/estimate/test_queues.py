"""The closed forms against textbook values computed independently (by hand or published)."""

from __future__ import annotations

import math

import pytest

from scalesim_patterns.estimate.queues import (
    Station,
    erlang_c,
    fork_join_max,
    mgc_wait,
    mva,
    schweitzer,
)


def test_mm1_wait_is_rho_over_mu_minus_lambda() -> None:
    # M/M/1, lambda 8/s, mean service 0.1 s: Wq = rho/(mu - lambda) = 0.8/2 = 0.4 s.
    assert erlang_c(1, 0.8) == pytest.approx(0.8)
    assert mgc_wait(8.0, 0.1, 1) == pytest.approx(0.4)


def test_erlang_c_published_values() -> None:
    # Validation table (shared/spec/validation.md): C(3, 2 erlangs) = 0.4444,
    # C(12, 10 erlangs) = 0.44939, M/M/12 with lambda 100, mu 10: W = 0.12247 s.
    assert erlang_c(3, 2.0) == pytest.approx(0.4444, abs=1e-4)
    assert erlang_c(12, 10.0) == pytest.approx(0.44939, abs=1e-5)
    assert mgc_wait(100.0, 0.1, 12) + 0.1 == pytest.approx(0.12247, abs=1e-5)


def test_mm2_by_hand() -> None:
    # c = 2, a = 1: P0 = 1/(1 + 1 + 1/(2(1 - 1/2))) = 1/3, C = 1/3, Wq = C/(c mu - lambda) = 1/3.
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)
    assert mgc_wait(1.0, 1.0, 2) == pytest.approx(1 / 3)


def test_md1_is_pollaczek_khinchine() -> None:
    # M/D/1: Wq = rho S / (2 (1 - rho)); rho = 0.5, S = 0.02 -> 0.01.
    assert mgc_wait(25.0, 0.02, 1, ca2=1.0, cs2=0.0) == pytest.approx(0.01)


def test_saturation_is_infinite_wait() -> None:
    assert mgc_wait(10.0, 0.1, 1) == math.inf
    assert erlang_c(4, 5.0) == 1.0


def test_large_station_stays_finite() -> None:
    c = erlang_c(500, 480.0)
    assert 0.0 < c < 1.0


def test_fork_join_of_exponentials() -> None:
    # max of Exp(mean 1), Exp(mean 1): 1 + 1 - 1/2 = 1.5; means 1 and 2: 1 + 2 - 1/(1 + 1/2).
    assert fork_join_max([1.0, 1.0]) == pytest.approx(1.5)
    assert fork_join_max([1.0, 2.0]) == pytest.approx(3 - 2 / 3)
    # three identical: harmonic number H3 = 11/6
    assert fork_join_max([2.0, 2.0, 2.0]) == pytest.approx(2 * 11 / 6)
    assert fork_join_max([]) == 0.0
    assert fork_join_max([1.0, math.inf]) == math.inf


def test_mva_two_stations_by_hand() -> None:
    # D1 = 1, D2 = 0.5, N = 3, Z = 0 (worked by hand in the module's recursion):
    # n=1: R = (1, .5), X = 2/3, Q = (2/3, 1/3); n=2: R = (5/3, 2/3), X = 6/7,
    # Q = (10/7, 4/7); n=3: R = (17/7, 11/14), X = 3 / (45/14) = 14/15.
    result = mva([Station(1.0), Station(0.5)], 3)
    assert result.throughput == pytest.approx(14 / 15)
    assert result.residence == pytest.approx((17 / 7, 11 / 14))
    # Little's law over the whole network: N = X (Z + R).
    assert result.throughput * result.response == pytest.approx(3)


def test_mva_with_think_time_and_delay_station() -> None:
    # Terminal model: D = 0.1 s single server, delay 0.05 s, Z = 0.2 s, N = 2.
    # n=1: R = .1 + .05, X = 1/.35, Q = .1/.35; n=2: R = .1 (1 + 2/7) + .05 = 9/70 + .05,
    # X = 2 / (.2 + 9/70 + .05).
    result = mva([Station(0.1), Station(0.05, servers=0)], 2, think=0.2)
    assert result.throughput == pytest.approx(2 / (0.2 + 9 / 70 + 0.05))


def test_schweitzer_close_to_exact_mva() -> None:
    stations = [Station(0.04), Station(0.03), Station(0.02, servers=0)]
    exact = mva(stations, 30, think=0.5)
    approx = schweitzer(stations, 30, think=0.5)
    # Schweitzer's approximation is known to be within a few per cent on throughput.
    assert approx.throughput == pytest.approx(exact.throughput, rel=0.03)
    # and its asymptote: X -> 1 / D_max = 25/s for a large population
    assert schweitzer(stations, 2000, think=0.5).throughput == pytest.approx(25.0, rel=1e-3)


def test_seidmann_multi_server_single_customer_sees_no_queue() -> None:
    # One customer never waits: residence = demand whatever the servers.
    assert mva([Station(0.3, servers=4)], 1).response == pytest.approx(0.3)
