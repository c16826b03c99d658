"""The brief's figures: each measured against a closed form, and judged as the SLOs are."""

from __future__ import annotations

import math

import pytest
from click.testing import CliRunner

from scalesim_patterns.cli import simulate_cmds  # noqa: F401
from scalesim_patterns.cli.main import cli
from scalesim_patterns.model import loads
from scalesim_patterns.sim import simulate
from scalesim_patterns.sim.core.stats import Estimate
from scalesim_patterns.sim.reports.brief import _bound, _capacity

from ...conftest import TEMPLATES

GATEWAY = """
apiVersion: scalesim.dev/v1alpha1
kind: Architecture
metadata: {name: gw}
spec:
  gateway:
    replicas: 1
    workers: 1
    overhead: {type: exponential, mean: 1ms}
    auth: {type: jwt, overhead: {type: constant, value: 0s}, invalidShare: INVALID}
    routes:
      - {path: /a, endpoint: a.get, auth: true}
  services:
    a:
      replicas: 1
      workers: 64
      endpoints:
        get: {work: {type: constant, value: 1ms}}
  traffic:
    users:
      type: open
      arrival: {process: poisson, rate: 500/s}
      mix:
        - {route: /a}
  simulation: {duration: 40s, warmup: 5s, seed: 11, replications: 5}
"""


def _figure(result: object, name: str) -> object:
    return next(f for f in result.brief if f.figure == name)  # type: ignore[attr-defined]


def test_gateway_added_latency_is_the_m_m_1_sojourn_time() -> None:
    """One worker, exponential 1 ms work, Poisson 500/s: the time in the gateway is exponential
    with rate mu - lambda = 500/s, so p50 = ln 2 / 500 s and p99 = ln 100 / 500 s."""
    result = simulate(loads(GATEWAY.replace("INVALID", "0")), jobs=1)
    brief = result.summary.brief
    assert brief is not None and brief.gateway_added is not None
    p50, p99 = brief.gateway_added.p50, brief.gateway_added.p99
    assert p50 is not None and p99 is not None
    assert p50.contains(math.log(2) / 500)
    assert p99.contains(math.log(100) / 500)
    assert _figure(result, "gateway-added latency p50").verdict == "met"  # 1.4 ms < 10 ms


def test_auth_rejects_the_invalid_share_as_401_before_upstream() -> None:
    share = 0.2
    result = simulate(loads(GATEWAY.replace("INVALID", str(share))), replications=1, jobs=1)
    entry = result.summary.entries["/a"]
    n = entry.count.mean
    rejected = entry.errors["unauthorized"].mean
    assert abs(rejected - n * share) < 4 * math.sqrt(n * share * (1 - share))
    assert entry.errors["error"].mean == 0
    # a refused request never reaches the service
    served = result.summary.services["a"].endpoints["get"].count.mean
    assert served == pytest.approx(n - rejected, abs=5)  # in flight across the window edges
    assert _figure(result, "rejected by auth (401)").measured == rejected


MESH = """
apiVersion: scalesim.dev/v1alpha1
kind: Architecture
metadata: {name: meshed}
spec:
  mesh: {type: istio, enabled: true, sidecarOverhead: {type: constant, value: 300us}}
  services:
    a:
      replicas: 1
      workers: 64
      endpoints:
        go:
          work: {type: constant, value: 1ms}
          steps:
            - call: b.do
    b:
      replicas: 1
      workers: 64
      endpoints:
        do: {work: {type: constant, value: 1ms}}
  traffic:
    users:
      type: open
      arrival: {process: poisson, rate: 100/s}
      mix:
        - {endpoint: a.go}
  simulation: {duration: 10s, warmup: 1s, seed: 5}
"""


def test_mesh_overhead_per_hop_is_both_proxies() -> None:
    result = simulate(loads(MESH), replications=1, jobs=1)
    brief = result.summary.brief
    assert brief is not None and brief.mesh_hop is not None
    for q in (brief.mesh_hop.p50, brief.mesh_hop.p99):
        assert q is not None
        assert q.mean == pytest.approx(0.0006, rel=0.01)  # the histogram's 1 % accuracy
    assert brief.gateway_added is None  # no gateway, no gateway figure
    # only the hop a -> b is meshed (traffic enters without sidecars): one record per call
    assert brief.mesh_hop.mean is not None


def test_verdicts_need_the_whole_interval_on_one_side() -> None:
    assert _bound(Estimate(0.004, 0.001, 5), 0.010) == "met"
    assert _bound(Estimate(0.020, 0.001, 5), 0.010) == "missed"
    assert _bound(Estimate(0.0095, 0.001, 5), 0.010) == "uncertain"
    assert _bound(Estimate(0.001, None, 1), 0.010) == "uncertain"  # one run decides nothing
    assert _capacity(Estimate(60_000, 100, 5), 50_000) == "met"
    assert _capacity(Estimate(2_000, 100, 5), 50_000) == "uncertain"  # load not offered


def test_simulate_brief_prints_each_figure_beside_the_brief() -> None:
    result = CliRunner().invoke(
        cli,
        [
            "simulate",
            str(TEMPLATES / "saga.yaml"),
            "--brief",
            "--duration",
            "20s",
            "--replications",
            "2",
            "--jobs",
            "1",
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "< 5 s" in result.output and "end to end" in result.output
    assert "met" in result.output
