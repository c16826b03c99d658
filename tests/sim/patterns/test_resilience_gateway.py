"""Gateway rate limiting at system level: Kong's local policy counts per gateway replica."""

from __future__ import annotations

from typing import Any

import pytest

from scalesim_patterns.sim import simulate

from ..models import architecture, service


def _gateway(limit: dict[str, Any] | None, routes: list[dict[str, Any]] | None = None) -> Any:
    mix = [{"route": "/x", "weight": 1}]
    if routes is not None:
        mix.append({"route": "/y", "weight": 1})
    gateway: dict[str, Any] = {
        "replicas": 2,
        "routes": routes or [{"path": "/x", "endpoint": "s.e", "auth": False}],
    }
    if limit is not None:
        gateway["rateLimit"] = limit
    return architecture(
        {"s": service("1ms", workers=50)},
        {"load": {"arrival": {"process": "constant", "rate": "300/s"}, "mix": mix}},
        duration="30s",
        gateway=gateway,
    )


def test_kong_local_policy_lets_each_gateway_replica_pass_its_limit() -> None:
    # 300 requests a second, alternating between the two gateway replicas; each lets 50 a
    # second through its own fixed window, the rest are answered 429 by the gateway.
    report = simulate(_gateway({"second": 50}), seed=1).runs[0].report
    assert report.totals.ok == pytest.approx(2 * 50 * 30, abs=2)
    assert report.totals.errors["rate_limited"] == report.totals.count - report.totals.ok
    assert report.gateway is not None
    assert (
        report.gateway.endpoints["/x"].errors["rate_limited"]
        == report.totals.errors["rate_limited"]
    )
    assert report.services["s"].throughput == pytest.approx(100.0, rel=0.01)


def test_cluster_policy_shares_one_counter() -> None:
    report = simulate(_gateway({"second": 50, "policy": "cluster"}), seed=1).runs[0].report
    assert report.totals.ok == pytest.approx(50 * 30, abs=2)


def test_token_bucket_refills_continuously_per_replica() -> None:
    limit = {"type": "token-bucket", "maxTokens": 10, "tokensPerFill": 20, "fillInterval": "1s"}
    report = simulate(_gateway(limit), seed=1).runs[0].report
    # 20 tokens a second per replica, plus the 10 each bucket starts with.
    assert report.totals.ok == pytest.approx(2 * (20 * 30 + 10), abs=2)


def test_a_route_limit_replaces_the_global_one() -> None:
    routes = [
        {"path": "/x", "endpoint": "s.e", "auth": False},
        {"path": "/y", "endpoint": "s.e", "auth": False, "rateLimit": {"second": 10}},
    ]
    report = simulate(_gateway({"second": 100}, routes), seed=1).runs[0].report
    x, y = report.entries["/x"], report.entries["/y"]
    # /y counts only against its own 10/s per replica; /x alone uses the global 100/s.
    assert y.ok == pytest.approx(2 * 10 * 30, abs=2)
    assert x.count > 4000  # about 150/s of the 300/s, under 2 × 100/s: all pass
    assert x.ok == x.count
    sections = simulate(_gateway({"second": 100}, routes), seed=1).runs[0].extras["resilience"]
    scopes = {(s["scope"], s["replica"]) for s in sections["rate_limits"]}
    assert scopes == {("gateway", 0), ("gateway", 1), ("route /y", 0), ("route /y", 1)}
