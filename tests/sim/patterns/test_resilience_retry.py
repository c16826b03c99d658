"""Retries at system level: the amplification they put on the callee is what theory says."""

from __future__ import annotations

from typing import Any

from scalesim_patterns.sim import simulate
from scalesim_patterns.sim.core.stats import estimate

from ..models import architecture, poisson, service


def _caller_callee(p: float, clients: dict[str, Any], workers: int = 50, **spec: Any) -> Any:
    return architecture(
        {
            "a": service("1ms", workers=workers, steps=[{"call": "b.e"}], clients=clients),
            "b": {"workers": 50, "endpoints": {"e": {"work": "1ms", "errorRate": p}}},
        },
        poisson("200/s", "a.e"),
        duration="40s",
        **spec,
    )


def test_retry_storm_amplifies_the_callee_load_as_theory_says() -> None:
    # Each attempt fails independently with p; with n attempts at most, a call makes
    # 1 + p + … + p^(n−1) = (1 − p^n)/(1 − p) attempts and fails with probability p^n.
    p, n = 0.5, 3
    arch = _caller_callee(p, {"b": {"retry": {"maxAttempts": n, "wait": "1ms"}}})
    result = simulate(arch, replications=5, seed=3)
    attempts = [r.report.clients["a->b"].attempts_per_call for r in result.runs]
    assert estimate(attempts).contains((1 - p**n) / (1 - p))
    callee = [r.report.services["b"].throughput for r in result.runs]
    assert estimate(callee).contains(200 * (1 - p**n) / (1 - p))
    failed = [r.report.totals.errors["error"] / r.report.totals.count for r in result.runs]
    assert estimate(failed).contains(p**n)
    client = result.runs[0].report.clients["a->b"]
    assert client.retries == client.attempts - client.calls
    # The time series carries the retries per window.
    retries = result.runs[0].series.clients["a->b"]["retries"]
    assert sum(v or 0.0 for v in retries) == client.retries


def test_retry_on_limits_what_is_retried() -> None:
    arch = _caller_callee(
        0.5, {"b": {"retry": {"maxAttempts": 3, "wait": "1ms", "retryOn": ["timeout"]}}}
    )
    report = simulate(arch, seed=1).runs[0].report
    assert report.clients["a->b"].retries == 0
    assert report.clients["a->b"].attempts_per_call == 1.0


def test_exponential_backoff_waits_hold_the_caller() -> None:
    # Every attempt fails: a call waits 100 ms then 200 ms (multiplier 2) before failing, so
    # its latency is 3 attempts of 1 ms of work plus 300 ms of waits (plus its own 1 ms); the
    # fallback answers in its place. 200 workers hold the 200/s × 0.304 s ≈ 61 waiting calls.
    arch = _caller_callee(
        1.0,
        {
            "b": {
                "retry": {
                    "maxAttempts": 3,
                    "wait": "100ms",
                    "backoff": "exponential",
                    "multiplier": 2,
                },
                "fallback": {"on": ["error"]},
            }
        },
        workers=200,
    )
    report = simulate(arch, seed=1, duration=20).runs[0].report
    latency = report.totals.latency
    assert latency.p50 is not None and latency.max is not None
    assert 0.304 <= latency.p50 <= 0.304 * 1.02
    assert report.clients["a->b"].fallbacks == report.totals.count


def _mesh(retry: dict[str, Any] | None) -> dict[str, Any]:
    return {"enabled": True, "sidecarOverhead": "0s", "retry": retry}


def test_mesh_retries_5xx_when_told_and_amplification_matches_theory() -> None:
    p = 0.4
    arch = _caller_callee(p, {}, mesh=_mesh({"style": "envoy", "attempts": 2, "retryOn": ["5xx"]}))
    result = simulate(arch, replications=5, seed=5)
    tries = [
        r.report.clients["a->b"].mesh_attempts / r.report.clients["a->b"].mesh_calls
        for r in result.runs
    ]
    assert estimate(tries).contains((1 - p**3) / (1 - p))


def test_istio_default_retry_leaves_500s_alone_but_retries_refused_connections() -> None:
    # Istio's default retryOn has no 5xx: an application error is not retried.
    errors = simulate(_caller_callee(0.4, {}, mesh=_mesh({})), seed=1).runs[0].report
    assert errors.clients["a->b"].mesh_retries == 0
    # A refused connection (connect-failure) is retried, on another host.
    arch = architecture(
        {
            "a": service("1ms", workers=50, steps=[{"call": "b.e"}]),
            "b": {"replicas": 3, "workers": 20, "endpoints": {"e": {"work": "1ms"}}},
        },
        poisson("200/s", "a.e"),
        duration="30s",
        mesh=_mesh({}),
        scenarios={
            "hang": {"faults": [{"type": "outage", "target": "b", "replicas": 1, "at": "5s"}]}
        },
    )
    report = simulate(arch, seed=1, scenario="hang").runs[0].report
    client = report.clients["a->b"]
    # A third of the calls after 5 s find the refusing pod first; all succeed on a retry.
    assert client.mesh_retries > 0.25 * 200 * 25
    assert report.totals.error_rate == 0.0
    assert report.services["b"].endpoints["e"].errors["unavailable"] == client.mesh_retries
