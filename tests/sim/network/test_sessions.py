"""User sessions: request counts per step, and the closed loop's throughput, against closed forms.

Expected figures come from the session as written (a fixed repeat, a uniform 1..3 repeat, a
probability) and from the renewal argument for a closed loop: a user alternates a think time and
a request, so requests per second = users / (E[think] + E[response]).
"""

from __future__ import annotations

import math
from typing import Any

from scalesim_patterns.sim import simulate

from ..models import architecture

Z = 4.0


def shop(session: list[dict[str, Any]], source: dict[str, Any], duration: str) -> Any:
    svc = {
        "replicas": 1,
        "workers": 200,  # more than the users: no queueing, a request's response is its work
        "endpoints": {
            "browse": {"work": "2ms"},
            "add": {"work": "1ms"},
            "checkout": {"work": "5ms"},
        },
    }
    return architecture({"shop": svc}, {"users": {**source, "session": session}}, duration=duration)


SESSION = [
    {"endpoint": "shop.browse", "repeat": 2},
    {"name": "add-to-cart", "endpoint": "shop.add", "repeat": {"min": 1, "max": 3}},
    {"endpoint": "shop.checkout", "probability": 0.6},
]


def steps(run: Any) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in run.extras["sessions"]["users"]["steps"]}


def test_closed_loop_sessions_make_the_written_number_of_requests_per_step() -> None:
    source = {"users": 50, "thinkTime": {"type": "exponential", "mean": "1s"}}
    run = simulate(shop(SESSION, source, "200s"), seed=4).runs[0]
    section = run.extras["sessions"]["users"]
    s = section["completed"]
    assert s > 1500
    by = steps(run)
    # repeat 2: exactly two browses in every session.
    assert by["shop.browse"]["per_session"] == 2.0
    # uniform 1..3: mean 2, variance ((3 - 1 + 1)^2 - 1) / 12 = 2/3.
    assert abs(by["add-to-cart"]["per_session"] - 2.0) <= Z * math.sqrt(2 / 3 / s)
    # probability 0.6: a Bernoulli mean.
    assert abs(by["shop.checkout"]["per_session"] - 0.6) <= Z * math.sqrt(0.24 / s)
    assert all(step["failed"] == 0 for step in by.values())


def test_closed_loop_session_throughput_follows_the_renewal_closed_form() -> None:
    source = {"users": 50, "thinkTime": {"type": "exponential", "mean": "1s"}}
    run = simulate(shop(SESSION, source, "200s"), seed=7).runs[0]
    by = steps(run)
    total = sum(step["requests"] for step in by.values())
    # Expected requests per session: 2 + 2 + 0.6; mean response = their work, weighted.
    mean_response = (2 * 0.002 + 2 * 0.001 + 0.6 * 0.005) / 4.6
    expected = 50 * 200 / (1.0 + mean_response)
    # Each user's count is a renewal count with exponential gaps: variance about its mean.
    assert abs(total - expected) <= Z * math.sqrt(expected), (total, expected)


def test_open_loop_sessions_start_at_the_arrival_rate_and_follow_the_steps() -> None:
    source = {"arrival": {"process": "poisson", "rate": "20/s"}}
    session = [
        {"endpoint": "shop.browse", "thinkTime": "500ms"},
        {"endpoint": "shop.add", "repeat": {"min": 0, "max": 4}, "thinkTime": "200ms"},
        {"endpoint": "shop.checkout", "probability": 0.25},
    ]
    run = simulate(shop(session, source, "300s"), seed=2).runs[0]
    section = run.extras["sessions"]["users"]
    assert abs(section["started"] - 20 * 300) <= Z * math.sqrt(20 * 300)
    s = section["completed"]
    by = steps(run)
    assert by["shop.browse"]["per_session"] == 1.0
    # uniform 0..4: mean 2, variance (5^2 - 1) / 12 = 2.
    assert abs(by["shop.add"]["per_session"] - 2.0) <= Z * math.sqrt(2 / s)
    assert abs(by["shop.checkout"]["per_session"] - 0.25) <= Z * math.sqrt(0.25 * 0.75 / s)


def test_a_session_is_sequential_one_request_at_a_time_per_user() -> None:
    # One user, no think time: its requests follow one another, so the service never has two
    # in progress: busy time = the work of the requests, and the entry's in-flight mean <= 1.
    source = {"users": 1, "thinkTime": "0s"}
    session = [{"endpoint": "shop.browse"}, {"endpoint": "shop.checkout"}]
    run = simulate(shop(session, source, "10s"), seed=1).runs[0]
    entries = run.report.entries
    inflight = sum(e.in_flight_mean for e in entries.values())
    assert inflight <= 1.0 + 1e-9
    by = steps(run)
    # 2 ms + 5 ms a session, nothing else: 10 s hold 10 / 0.007 sessions.
    assert abs(by["shop.browse"]["requests"] - 10 / 0.007) <= 1
