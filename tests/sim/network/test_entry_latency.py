"""`network.entryLatency`: the clients' legs, charged on every request and nothing else."""

from __future__ import annotations

import pytest

from scalesim_patterns.model import loads
from scalesim_patterns.sim import simulate

DESIGN = """
apiVersion: scalesim.dev/v1alpha1
kind: Architecture
metadata: {{name: entry}}
spec:
  {network}
  services:
    a:
      workers: 64
      endpoints:
        go: {{work: 2ms, steps: [{{call: b.get}}]}}
    b:
      workers: 64
      endpoints:
        get: {{work: 3ms}}
  traffic:
    t: {{arrival: {{process: poisson, rate: 20/s}}, mix: [{{endpoint: a.go}}]}}
  simulation: {{duration: 60s, warmup: 5s, seed: 4}}
"""


HISTOGRAM = 0.01
"""The latency histograms' documented relative error bound (docs/simulation.md)."""


def _mean(network: str) -> float:
    result = simulate(loads(DESIGN.format(network=network)))
    mean = result.runs[0].report.entries["a.go"].latency.mean
    assert mean is not None
    return mean


def test_each_request_pays_both_legs_on_top_of_the_calls() -> None:
    # Constant work, no queueing (64 workers at 20/s): the latency is the sum of the parts.
    plain = _mean("network: {hopLatency: 1ms}")
    expected = 0.002 + 2 * 0.001 + 0.003
    assert plain == pytest.approx(expected, rel=HISTOGRAM)
    with_entry = _mean("network: {hopLatency: 1ms, entryLatency: 4ms}")
    bound = HISTOGRAM * (expected + expected + 0.008)
    assert with_entry - plain == pytest.approx(2 * 0.004, abs=bound)
