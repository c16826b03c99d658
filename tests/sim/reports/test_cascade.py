"""The cascade section names where trouble started and how it spread; results carry the
mechanisms' figures; an unconfigured architecture's pipelines are untouched."""

from __future__ import annotations

import json
from typing import Any

import pytest

from scalesim_patterns.sim import Engine, simulate
from scalesim_patterns.sim.network.station import ServiceRuntime
from scalesim_patterns.sim.network.steps import CallStepRuntime
from scalesim_patterns.sim.reports.cascade import analyse

from ..models import architecture, poisson, service


def _chain(web_clients: dict[str, Any] | None = None) -> Any:
    # web → api → store, thread per request: when store slows down, api's threads wait on it
    # and api saturates, then web's threads wait on api and web saturates.
    return architecture(
        {
            "web": service("1ms", workers=30, steps=[{"call": "api.e"}], clients=web_clients or {}),
            "api": service("1ms", workers=20, steps=[{"call": "store.e"}]),
            "store": service("5ms", workers=40),
        },
        poisson("200/s", "web.e"),
        duration="60s",
        scenarios={
            "slow": {
                "faults": [{"type": "latency", "target": "store", "add": "150ms", "at": "20s"}]
            }
        },
    )


def test_a_slow_dependency_saturates_its_callers_one_after_the_other() -> None:
    run = simulate(_chain(), seed=1, scenario="slow").runs[0]
    cascade = run.extras["cascade"]
    assert cascade["cascade"] is True
    assert cascade["origin"] == "store"
    assert cascade["path"] == ["store", "api", "web"]
    events = [(name, what) for _, name, what, _ in cascade["events"]]
    assert events[0] == ("store", "fault")
    saturated = [name for name, what in events if what == "saturated"]
    assert saturated.index("api") < saturated.index("web")
    times = {name: t for t, name, _ in cascade["spread"]}
    assert 20.0 <= times["api"] <= times["web"]


def test_a_healthy_run_has_no_cascade() -> None:
    run = simulate(_chain(), seed=1).runs[0]
    assert run.extras["cascade"] == {
        "events": [],
        "origin": None,
        "spread": [],
        "path": [],
        "cascade": False,
    }


def test_analysis_reads_only_the_series() -> None:
    engine = Engine(_chain(), seed=1, scenario="slow")
    run = engine.run()
    assert analyse(engine, run.series) == run.extras["cascade"]


def test_results_carry_the_mechanisms_in_json_and_csv() -> None:
    arch = _chain({"api": {"timeout": "100ms", "circuitBreaker": {"type": "consecutive"}}})
    result = simulate(arch, seed=1, scenario="slow", duration=30)
    data = json.loads(result.to_json())
    run = data["runs"][0]
    assert set(run["report"]["clients"]) == {"web->api"}
    assert run["report"]["clients"]["web->api"]["breaker_opened"] >= 1
    assert set(data["summary"]["clients"]["web->api"]["calls"]) == {"mean", "ci95", "n"}
    assert run["timeseries"]["clients"]["web->api"]["breaker"][-1] in (1.0, 2.0)
    assert run["resilience"]["faults"] == [[20.0, 0, "latency", "store", "start"]]
    assert run["resilience"]["breakers"][0]["client"] == "web->api"
    assert "cascade" in run
    header = result.timeseries_csv().splitlines()[0].split(",")
    assert "client:web->api:breaker" in header
    assert "client:web->api:not_permitted" in header


def test_unconfigured_pipelines_are_the_bare_service_arrival() -> None:
    # The reference benchmark's shape: nothing configured, zero-latency network. Every call
    # step must send straight to the target service's `arrive`, with no layer in between.
    arch = architecture(
        {
            "a": service("1ms", workers=4, steps=[{"call": "b.e"}]),
            "b": service("1ms", workers=4),
        },
        poisson("10/s", "a.e"),
        duration="1s",
    )
    engine = Engine(arch, seed=1)
    (step,) = engine.services["a"].endpoints["e"].steps
    assert isinstance(step, CallStepRuntime)
    target: ServiceRuntime = engine.services["b"]
    assert step.invoke0 == target.arrive_
    assert len(engine.plugins) == 0
    assert engine.window_hooks == [] and engine.report_hooks == [] and engine.reset_hooks == []
    assert list(engine.run_extras) == ["cascade"]


def _renamed(
    names: dict[str, str],
    calls: dict[str, str | None],
    fault: dict[str, Any] | None,
    error_rate: dict[str, float],
) -> Any:
    """One system, its services named by `names` (role -> name): `calls` maps each role to the
    role it calls; the entry is the first role; `fault` targets a role."""
    roles = list(calls)
    services = {
        names[role]: {
            **service(
                "2ms",
                workers=20,
                steps=[{"call": f"{names[dep]}.e"}] if dep is not None else [],
            ),
            "endpoints": {
                "e": {
                    "work": "2ms",
                    "errorRate": error_rate.get(role, 0.0),
                    "steps": [{"call": f"{names[dep]}.e"}] if dep is not None else [],
                }
            },
        }
        for role, dep in calls.items()
    }
    scenarios = {}
    if fault is not None:
        scenarios["down"] = {"faults": [{**fault, "target": names[fault["target"]]}]}
    return architecture(
        services,
        poisson("50/s", f"{names[roles[0]]}.e"),
        duration="30s",
        scenarios=scenarios,
    )


def _cascade_by_role(names: dict[str, str], arch: Any, scenario: str | None) -> dict[str, Any]:
    """The cascade with every service name replaced by its role, so runs compare as systems."""
    role = {name: r for r, name in names.items()}
    c = simulate(arch, seed=3, scenario=scenario).runs[0].extras["cascade"]
    return {
        "origin": role.get(c["origin"], c["origin"]),
        "path": [role[n] for n in c["path"]],
        "spread": {role[n]: (t, role.get(cause, cause)) for t, n, cause in c["spread"]},
    }


CASES = [
    # (calls, fault, error rates, expected origin, expected path)
    ({"api": "store", "store": None}, None, {"store": 0.5}, "store", ["store", "api"]),
    (
        {"front": "mid", "mid": "back", "back": None},
        {"type": "outage", "at": "10s", "duration": "10s", "target": "back"},
        {},
        "back",
        ["back", "mid", "front"],
    ),
]
NAMINGS = [
    {"api": "a-api", "store": "z-store", "front": "a-front", "mid": "m-mid", "back": "z-back"},
    {"api": "q-api", "store": "b-store", "front": "z-front", "mid": "m-mid", "back": "a-back"},
    {"api": "m-api", "store": "n-store", "front": "m-front", "mid": "a-mid", "back": "z-back"},
]


@pytest.mark.parametrize(("calls", "fault", "errors", "origin", "path"), CASES)
def test_the_cascade_does_not_depend_on_service_names(
    calls: dict[str, str | None],
    fault: dict[str, Any] | None,
    errors: dict[str, float],
    origin: str,
    path: list[str],
) -> None:
    seen = []
    for names in NAMINGS:
        arch = _renamed(names, calls, fault, errors)
        seen.append(_cascade_by_role(names, arch, "down" if fault else None))
    assert seen[0]["origin"] == origin
    assert seen[0]["path"] == path
    assert all(c == seen[0] for c in seen[1:]), seen
