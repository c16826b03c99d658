"""Choice steps and probabilistic feedback (model/steps.py `ChoiceStep`, model/feedback.py)
against an open Jackson network's closed form.

Three async single-worker stations with exponential work (M/M/1 nodes), Poisson arrivals at A.
After A: B (weight 50), C (30) or leave (20); after B: back to A (20 %) or leave; after C: back to
A with probability 0.25. Traffic equations λ = γ + Pᵀλ give the visit rates, each node is an
M/M/1 queue at its rate (Jackson's theorem), and the mean time in the network is
Σ Lᵢ / γ with Lᵢ = ρᵢ / (1 − ρᵢ) (Little's law). The entry's latency is that time: an async
caller's continuation costs nothing, so a request's answer comes when its last visit ends.
"""

from __future__ import annotations

from scalesim_patterns.sim import simulate
from scalesim_patterns.sim.core.stats import estimate

from .models import architecture, exp, poisson, service
from .test_queueing_theory import assert_inside, run_latency

GAMMA = 2.0
MU = {"a": 5.0, "b": 3.0, "c": 2.0}


def _jackson() -> tuple[dict[str, float], float]:
    """Visit rates by the traffic equations (solved by hand) and the mean sojourn time."""
    lam_a = GAMMA / (1 - 0.5 * 0.2 - 0.3 * 0.25)
    lam = {"a": lam_a, "b": 0.5 * lam_a, "c": 0.3 * lam_a}
    in_system = sum((lam[n] / MU[n]) / (1 - lam[n] / MU[n]) for n in lam)
    return lam, in_system / GAMMA


def network(duration: str = "2500s") -> object:
    return architecture(
        {
            "a": service(
                exp("200ms"),
                concurrency="async",
                steps=[
                    {
                        "choice": [
                            {"call": "b.e", "weight": 50},
                            {"call": "c.e", "weight": 30},
                            {"weight": 20},
                        ]
                    }
                ],
            ),
            "b": service(
                exp("333.3333ms"),
                concurrency="async",
                steps=[{"choice": [{"call": "a.e", "weight": 2}, {"weight": 8}]}],
            ),
            "c": service(
                exp("500ms"),
                concurrency="async",
                steps=[{"call": "a.e", "probability": 0.25}],
            ),
        },
        poisson(f"{GAMMA}/s", "a.e"),
        duration=duration,
        warmup="100s",
    )


def test_jackson_network_mean_sojourn_time() -> None:
    _, sojourn = _jackson()
    assert abs(sojourn - 1.0952) < 1e-3  # the hand computation above, to 4 places
    assert_inside(run_latency(network(), 10, seed=21), sojourn, 0.08)


def test_jackson_network_visit_rates() -> None:
    lam, _ = _jackson()
    result = simulate(network("1500s"), replications=10, seed=22)
    for node, rate in lam.items():
        est = estimate([r.report.services[node].throughput for r in result.runs])
        assert_inside(est, rate, 0.04)


def _findings(arch: object) -> list[tuple[str, tuple[object, ...], str]]:
    from scalesim_patterns.model.checks import check_architecture

    return [(str(sev), path, msg) for sev, path, msg in check_architecture(arch)]  # type: ignore[arg-type]


def test_the_jackson_network_validates_clean() -> None:
    assert _findings(network()) == []


def test_a_feedback_loop_that_never_ends_is_an_error() -> None:
    # B calls A on 60 % of visits, twice: 1.2 visits of A per visit of B, and A always calls B.
    arch = architecture(
        {
            "a": service("1ms", concurrency="async", steps=[{"call": "b.e"}]),
            "b": service(
                "1ms", concurrency="async", steps=[{"call": "a.e", "probability": 0.6, "repeat": 2}]
            ),
        },
        poisson("1/s", "a.e"),
    )
    [(sev, path, msg)] = _findings(arch)
    assert sev == "error"
    assert path == ("spec", "services", "a", "endpoints", "e")
    assert "feedback loop a.e -> b.e -> a.e does not end" in msg


def test_a_loop_of_certain_calls_is_still_a_call_cycle() -> None:
    arch = architecture(
        {
            "a": service("1ms", steps=[{"call": "b.e"}]),
            "b": service(
                "1ms",
                steps=[{"choice": [{"call": "a.e", "weight": 1}, {"call": "a.e", "weight": 1}]}],
            ),
        },
        poisson("1/s", "a.e"),
    )
    # A choice between two calls to the same endpoint is not certain to this check, but its
    # expected visits are unbounded (1 per visit): the loop is refused either way.
    [(sev, _, msg)] = _findings(arch)
    assert sev == "error" and "does not end" in msg
    certain = architecture(
        {
            "a": service("1ms", steps=[{"call": "b.e"}]),
            "b": service("1ms", steps=[{"call": "a.e"}]),
        },
        poisson("1/s", "a.e"),
    )
    msgs = [m for _, _, m in _findings(certain)]
    assert msgs == ["synchronous call cycle: a.e -> b.e -> a.e"]


def test_feedback_through_a_thread_pool_is_a_warning() -> None:
    arch = architecture(
        {
            "a": service("1ms", workers=4, steps=[{"call": "a.e", "probability": 0.3}]),
        },
        poisson("1/s", "a.e"),
    )
    [(sev, path, msg)] = _findings(arch)
    assert sev == "warning"
    assert path == ("spec", "services", "a", "endpoints", "e")
    assert "feedback loop a.e -> a.e through thread-per-request service(s) a" in msg


def test_choice_misuse_is_refused() -> None:
    import pytest
    from pydantic import ValidationError

    for steps, words in (
        ([{"choice": [{"call": "b.e", "weight": 1}]}], "at least 2"),
        ([{"choice": [{"weight": 1}, {"weight": 2}]}], "at least one option with a `call`"),
        ([{"choice": [{"call": "b.e", "weight": 0}, {"weight": 2}]}], "greater than 0"),
        ([{"choice": [{"call": "b.e"}, {"weight": 2}]}], "weight"),
    ):
        with pytest.raises(ValidationError) as info:
            architecture(
                {"a": service("1ms", steps=steps), "b": service("1ms")}, poisson("1/s", "a.e")
            )
        assert words in str(info.value), (steps, str(info.value))
    arch = architecture(
        {
            "a": service("1ms", steps=[{"choice": [{"call": "b.x", "weight": 1}, {"weight": 1}]}]),
            "b": service("1ms"),
        },
        poisson("1/s", "a.e"),
    )
    [(sev, path, msg)] = _findings(arch)
    assert sev == "error"
    assert path == ("spec", "services", "a", "endpoints", "e", "steps", 0, "choice", 0, "call")
    assert "has no endpoint 'x'" in msg
