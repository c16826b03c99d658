"""Outlier detection (Envoy consecutive_5xx with Istio defaults) and connection-pool limits."""

from __future__ import annotations

import pytest

from scalesim_patterns.sim.mechanisms import (
    DISPATCH,
    OVERFLOW,
    QUEUE,
    UNLIMITED,
    ConnectionPoolLimits,
    OutlierDetector,
)


def errors(od: OutlierDetector, host: int, n: int, t: float) -> list[bool]:
    return [od.on_result(host, t, True) for _ in range(n)]


def test_fifth_consecutive_error_ejects_and_a_success_resets_the_count() -> None:
    od = OutlierDetector(10)
    assert errors(od, 0, 4, 1.0) == [False] * 4
    assert not od.on_result(0, 1.0, False)  # success: count back to 0
    assert errors(od, 0, 4, 2.0) == [False] * 4
    assert not od.is_ejected(0)
    assert od.on_result(0, 2.0, True)  # the 5th in a row
    assert od.is_ejected(0)
    assert od.transitions == [(2.0, "0", "EJECTED")]


def test_ten_percent_of_a_small_pool_ejects_nobody() -> None:
    # Envoy >= 1.27: the share after ejecting must stay <= max_ejection_percent; 1/3 > 10 %.
    od = OutlierDetector(3)
    assert errors(od, 0, 5, 1.0) == [False] * 5
    assert not od.is_ejected(0)
    assert od.overflows == 1
    assert od.consecutive_errors(0) == 0  # the counter restarts after the attempt
    assert errors(od, 0, 4, 1.0) == [False] * 4
    assert od.overflows == 1


def test_always_eject_one_host_lets_the_first_ejection_through() -> None:
    od = OutlierDetector(3, always_eject_one_host=True)
    assert errors(od, 0, 5, 1.0)[-1]
    assert not errors(od, 1, 5, 1.0)[-1]  # a second one would be 2/3 > 10 %
    assert (od.ejected_count, od.overflows) == (1, 1)


def test_max_ejection_percent_counts_the_host_being_ejected() -> None:
    od = OutlierDetector(10)  # 1 of 10 = 10 % allowed, 2 of 10 = 20 % not
    assert errors(od, 0, 5, 1.0)[-1]
    assert not errors(od, 1, 5, 1.0)[-1]
    od2 = OutlierDetector(4, max_ejection_percent=50)
    assert errors(od2, 0, 5, 1.0)[-1]
    assert errors(od2, 1, 5, 1.0)[-1]
    assert not errors(od2, 2, 5, 1.0)[-1]  # 3/4 = 75 %


def test_host_returns_at_the_first_sweep_after_base_ejection_time() -> None:
    od = OutlierDetector(10)
    errors(od, 0, 5, 3.0)  # ejected at t=3 for 30 s
    assert od.sweep(10.0) == [] and od.sweep(20.0) == [] and od.sweep(30.0) == []
    assert od.sweep(40.0) == [0]  # 37 s >= 30 s
    assert not od.is_ejected(0)
    assert od.transitions[-1] == (40.0, "0", "RETURNED")


def test_reejection_soon_after_return_doubles_the_ejection_time() -> None:
    od = OutlierDetector(10)
    errors(od, 0, 5, 3.0)
    od.sweep(40.0)  # back at 40; multiplier still 1
    errors(od, 0, 5, 45.0)  # re-ejected before any healthy sweep: multiplier 2 → 60 s
    assert od.ejection_duration(0) == 60.0
    assert [od.sweep(t) for t in (50.0, 60.0, 70.0, 80.0, 90.0, 100.0)] == [[]] * 6
    assert od.sweep(110.0) == [0]  # 65 s >= 60 s


def test_a_healthy_sweep_lowers_the_multiplier() -> None:
    od = OutlierDetector(10)
    errors(od, 0, 5, 3.0)
    od.sweep(40.0)  # returned at 40
    assert od.multiplier(0) == 1
    od.sweep(50.0)  # in service for a full interval: multiplier 1 → 0
    assert od.multiplier(0) == 0
    errors(od, 0, 5, 55.0)
    assert od.ejection_duration(0) == 30.0
    assert od.sweep(80.0) == [] and od.sweep(90.0) == [0]


def test_ejection_time_is_capped_at_max_ejection_time() -> None:
    od = OutlierDetector(10, interval=1.0)
    t = 0.0
    for _ in range(15):
        errors(od, 0, 5, t)
        assert od.is_ejected(0)
        while od.is_ejected(0):
            t += 1.0
            od.sweep(t)
    assert od.ejection_duration(0) == 300.0
    assert od.multiplier(0) == 11  # Envoy stops raising it once base × multiplier >= max + base


def test_errors_from_an_ejected_host_do_not_retrigger() -> None:
    od = OutlierDetector(10)
    errors(od, 0, 5, 1.0)
    assert errors(od, 0, 7, 1.5) == [False] * 7  # in-flight requests finishing late
    assert od.consecutive_errors(0) == 7
    od.sweep(40.0)
    assert od.consecutive_errors(0) == 0  # reset on return


def test_pool_size_follows_added_and_removed_hosts() -> None:
    od = OutlierDetector(9)
    assert not errors(od, 0, 5, 1.0)[-1]  # 1/9 = 11 % > 10 %
    assert od.add_host() == 9
    assert errors(od, 0, 5, 2.0)[-1]  # 1/10
    od.remove_host(0)
    assert (od.hosts, od.ejected_count) == (9, 0)
    assert not any(errors(od, 0, 5, 3.0))  # late answers from a removed host are dropped


def test_min_health_percent_is_the_panic_threshold() -> None:
    od = OutlierDetector(4, max_ejection_percent=100, min_health_percent=50)
    errors(od, 0, 5, 1.0)
    assert not od.in_panic()  # 3/4 healthy
    errors(od, 1, 5, 1.0)
    assert not od.in_panic()  # 2/4 = 50 %: not below
    errors(od, 2, 5, 1.0)
    assert od.in_panic()
    assert not OutlierDetector(4, max_ejection_percent=100).in_panic(unhealthy_other=4)


def test_consecutive_errors_zero_disables_ejection() -> None:
    od = OutlierDetector(10, consecutive_5xx_errors=0)
    assert not any(errors(od, 0, 50, 1.0))


def test_istio_connection_pool_defaults_are_effectively_unlimited() -> None:
    pool = ConnectionPoolLimits()
    assert pool.max_requests == UNLIMITED == 2**32 - 1
    assert pool.admit(1_000_000, 1_000_000) == DISPATCH


def test_over_max_requests_overflows_at_once() -> None:
    pool = ConnectionPoolLimits(1024, 1024, 1024)  # raw Envoy's thresholds
    assert pool.admit(1023, 0) == DISPATCH
    assert pool.admit(1024, 0) == OVERFLOW


def test_http1_waits_for_a_connection_up_to_max_pending_then_overflows() -> None:
    pool = ConnectionPoolLimits(max_connections=2, max_pending=1)
    assert pool.admit(1, 0) == DISPATCH
    assert pool.admit(2, 0) == QUEUE
    assert pool.admit(2, 1) == OVERFLOW
    h2 = ConnectionPoolLimits(max_connections=1, max_pending=0, max_requests=3, http2=True)
    assert [h2.admit(a, 0) for a in range(4)] == [DISPATCH, DISPATCH, DISPATCH, OVERFLOW]


def test_invalid_configuration_is_refused() -> None:
    with pytest.raises(ValueError):
        OutlierDetector(3, interval=0.0)
    with pytest.raises(ValueError):
        ConnectionPoolLimits(max_requests=-1)
