"""The event store's projection-lag alert: one per projection, on the subscription-gap gauge,
with a budget of 30 s of the projection's own work computed from the design."""

from __future__ import annotations

import math
from typing import Any

import yaml

from scalesim_patterns import catalog
from scalesim_patterns.generate import generate
from scalesim_patterns.model import Architecture, loads
from scalesim_patterns.sim import simulate

Z99 = 2.3263478740408408
"""The standard normal's 0.99 quantile."""


def _lognormal_mean(p50: float, p99: float) -> float:
    sigma = math.log(p99 / p50) / Z99
    return p50 * math.exp(sigma * sigma / 2)


def _projection_alerts(text: str | None = None) -> list[dict[str, Any]]:
    arch = catalog.template_architecture("event-sourcing") if text is None else loads(text)
    return _alerts_of(arch)


def test_each_projection_alerts_when_its_gap_stays_above_30s_of_its_work() -> None:
    alerts = {r["labels"]["projection"]: r for r in _projection_alerts()}
    assert set(alerts) == {"order-summary", "customer-history"}
    # The template: reads lognormal p50 2 ms / p99 12 ms, batch 50; handle per event
    # p50 400 us / p99 3 ms (order-summary) and 600 us / 4 ms (customer-history).
    read = _lognormal_mean(0.002, 0.012)
    for name, (p50, p99) in {
        "order-summary": (0.0004, 0.003),
        "customer-history": (0.0006, 0.004),
    }.items():
        capacity = 50 / (read + 50 * _lognormal_mean(p50, p99))
        budget = math.ceil(30 * capacity)
        rule = alerts[name]
        assert rule["alert"] == "ProjectionLagHigh"
        assert rule["for"] == "5m"
        assert rule["labels"]["service"] == "order-view"
        assert rule["labels"]["event_store"] == "order-events"
        expr = rule["expr"].strip()
        assert expr.startswith("max(eventuous_subscription_gap_count_events{")
        assert f'subscription_id="{name}"' in expr
        assert 'app_kubernetes_io_name="order-view"' in expr
        assert expr.endswith(f"> {budget}")
    # the template's own scenario says customer-history applies about 1200 events/s
    capacity = int(alerts["customer-history"]["expr"].strip().rsplit(" ", 1)[1]) / 30
    assert 1000 < capacity < 1300


STORE = """
apiVersion: scalesim.dev/v1alpha1
kind: Architecture
metadata: {name: tiny-es}
spec:
  services:
    writer:
      endpoints:
        go:
          work: 1ms
          steps: [{append: events}]
    reader:
      endpoints:
        get: {work: 1ms}
  eventStores:
    events:
      owner: writer
      projections:
        - {name: fast, service: reader, handle: 0s, batch: 7}
        - {name: slow, service: reader, handle: 100ms, batch: 10}
  traffic:
    users:
      type: open
      arrival: {process: poisson, rate: 1/s}
      mix: [{endpoint: writer.go}]
"""


def test_without_a_read_latency_the_budget_uses_eventstoredbs_read_figure() -> None:
    alerts = {r["labels"]["projection"]: r for r in _projection_alerts(STORE)}
    read = _lognormal_mean(0.002, 0.015)  # the engine default for eventstoredb reads
    fast = int(alerts["fast"]["expr"].strip().rsplit(" ", 1)[1])
    assert fast == math.ceil(30 * 7 / read)
    # 100 ms per event: 10 per ~1 s cycle, 30 s of it is about 300 events
    slow = int(alerts["slow"]["expr"].strip().rsplit(" ", 1)[1])
    assert slow == math.ceil(30 * 10 / (read + 10 * 0.1))
    assert 290 < slow <= 300


def _budget(arch: Architecture, projection: str) -> int:
    (rule,) = [r for r in _alerts_of(arch) if r["labels"]["projection"] == projection]
    return int(rule["expr"].strip().rsplit(" ", 1)[1])


def _alerts_of(arch: Architecture) -> list[dict[str, Any]]:
    tree = generate(arch)
    (rule,) = [
        d
        for path, body in tree.items()
        if path.endswith("prometheusrule.yaml")
        for d in yaml.safe_load_all(body)
        if d and d.get("kind") == "PrometheusRule"
    ]
    return [r for g in rule["spec"]["groups"] for r in g["rules"] if "projection" in r["labels"]]


def test_the_budget_is_quiet_at_base_load_and_crossed_by_a_projection_that_falls_behind() -> None:
    """Simulated: at the template's load the customer-history gap stays far below its budget;
    with each event taking 5 times longer to apply (about 230 events/s against 700 written) the
    gap grows without end and passes the budget the generator computed for that design."""
    arch = catalog.template_architecture("event-sourcing")
    run = simulate(arch, duration=40.0, warmup=5.0, replications=1, jobs=1).runs[0]
    quiet = run.report.event_stores["order-events"].projections["customer-history"]
    assert quiet.lag_events_max < _budget(arch, "customer-history") / 10
    slow = loads(
        catalog.new(
            "event-sourcing",
            [
                "eventStores.order-events.projections.1.handle.p50=3ms",
                "eventStores.order-events.projections.1.handle.p99=20ms",
            ],
        )
    )
    budget = _budget(slow, "customer-history")
    run = simulate(slow, duration=60.0, warmup=5.0, replications=1, jobs=1).runs[0]
    behind = run.report.event_stores["order-events"].projections["customer-history"]
    assert behind.lag_events_end > budget
    lag = [v for v in run.series.projections["order-events/customer-history"]["lag_max"] if v]
    assert lag[-1] > lag[len(lag) // 2] > lag[len(lag) // 4]  # still growing
