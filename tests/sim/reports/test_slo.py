"""Objectives judged against what the simulator measured, with the interval deciding close calls."""

from __future__ import annotations

import textwrap

from scalesim_patterns.model import loads
from scalesim_patterns.sim import simulate

DOC = textwrap.dedent(
    """\
    apiVersion: scalesim.dev/v1alpha1
    kind: Architecture
    metadata: {name: slo}
    spec:
      services:
        api:
          workers: 64
          endpoints:
            get: {work: 10ms, errorRate: 0.1}
      traffic:
        load:
          arrival: {process: poisson, rate: 50/s}
          mix: [{endpoint: api.get}]
      slos:
        - {name: fast, target: api.get, latency: 12ms, latencyPercentile: 99}
        - {name: too-fast, target: api.get, latency: 8ms, latencyPercentile: 99}
        - {name: lenient, target: api.get, availability: 80}
        - {name: strict, target: api.get, availability: 99}
        - {name: odd-percentile, target: api.get, latency: 1s, latencyPercentile: 97}
      simulation: {duration: 60s, warmup: 5s, seed: 4}
    """
)


def test_each_objective_gets_the_verdict_its_measurement_implies() -> None:
    result = simulate(loads(DOC), replications=3)
    verdicts = {(r.name, r.objective): r.verdict for r in result.slos}
    assert verdicts == {
        ("fast", "p99 <= 12ms"): "met",
        ("too-fast", "p99 <= 8ms"): "missed",
        ("lenient", "availability >= 80%"): "met",
        ("strict", "availability >= 99%"): "missed",
        ("odd-percentile", "p97 <= 1000ms"): "no data",
    }
    availability = next(r for r in result.slos if r.name == "lenient")
    # errorRate 0.1: about 90 % succeed
    assert availability.measured is not None and 88 < availability.measured < 92
    assert '"verdict": "missed"' in result.to_json()


def test_an_unmeasured_percentile_is_flagged_when_validating() -> None:
    from scalesim_patterns.model import validate_text

    _, diags = validate_text(DOC)
    assert [str(d.path[-1]) for d in diags] == ["latencyPercentile"]


def test_a_single_run_decides_only_with_an_interval() -> None:
    """One run gives a percentile without an interval: however far from the objective, one draw
    of a stochastic system does not decide it."""
    result = simulate(loads(DOC), replications=1)
    verdicts = {r.name: r.verdict for r in result.slos}
    assert verdicts["fast"] == "uncertain"
    assert verdicts["too-fast"] == "uncertain"
    assert verdicts["odd-percentile"] == "no data"


def test_a_single_run_gets_an_error_rate_interval_at_its_entries() -> None:
    """So that an availability objective on a route can be decided from one run: errorRate 0.1
    must lie inside the batch-means interval of the entry's error rate."""
    result = simulate(loads(DOC), replications=1)
    rate = result.summary.entries["api.get"].error_rate
    assert rate.half_width is not None and rate.half_width < 0.02
    assert rate.contains(0.1), rate
