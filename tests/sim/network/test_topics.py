"""Brokers under failure: messages wait for their consumer instead of being lost (issue 8, 5)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from scalesim_patterns.sim.api import simulate
from scalesim_patterns.sim.reports.results import RunResult
from tests.sim.models import architecture, poisson

RATE = 20.0


def _arch(
    consumer: dict[str, Any],
    *,
    broker: str = "kafka",
    topic: dict[str, Any] | None = None,
    outage: tuple[str, str] | None = None,
    duration: str = "40s",
    extra_topics: dict[str, Any] | None = None,
) -> Any:
    faults = []
    if outage is not None:
        faults.append({"type": "outage", "target": "c", "at": outage[0], "duration": outage[1]})
    return architecture(
        {
            "p": {
                "workers": 500,
                "endpoints": {"e": {"work": "1ms", "steps": [{"publish": "t"}]}},
            },
            "c": consumer,
        },
        poisson(f"{RATE:g}/s", "p.e"),
        duration=duration,
        brokers={
            "k": {
                "type": broker,
                "publishLatency": "2ms",
                "deliveryLatency": "1ms",
                "topics": {
                    "t": {"consumers": [{"service": "c", "endpoint": "on"}], **(topic or {})},
                    **(extra_topics or {}),
                },
            }
        },
        scenarios={"f": {"faults": faults}},
    )


def _run(arch: Any, seed: int = 1) -> RunResult:
    return simulate(arch, seed=seed, scenario="f").runs[0]


def _published_per_window(run: RunResult) -> list[float]:
    """Publishes acknowledged per window, read off the publisher's own entry (it finishes when
    the broker acknowledges), independently of the topic's figures."""
    return [c or 0.0 for c in run.series.entries["p.e"]["count"]]


def test_a_consumer_outage_builds_a_backlog_that_drains_and_loses_nothing() -> None:
    # Issue 8, defect 5: 20/s into 4 workers x 10 ms, the consumer out from 10 s for 10 s. Before
    # the fix 217 of 822 messages were dropped and the largest lag was 0.1 s.
    run = _run(_arch({"workers": 4, "endpoints": {"on": {"work": "10ms"}}}, outage=("10s", "10s")))
    topic = run.report.topics["t"]
    group = topic.groups["c.on"]
    assert group.delivered + group.dead_lettered + group.backlog_end == topic.published
    assert group.delivered == topic.published and group.dead_lettered == 0
    backlog = run.series.topics["t/c.on"]["backlog"]
    published = _published_per_window(run)
    # At the outage's end (window 19 closes at 20 s) every message published during the outage
    # waits, plus at most the one or two that were being handled when it began.
    during = sum(published[10:20])
    assert during <= (backlog[19] or 0) <= during + 2
    # ... and that is lambda * 10 s of a Poisson stream: 200 +- 4.5 sd.
    assert abs(during - RATE * 10) < 4.5 * math.sqrt(RATE * 10)
    # Lag: the oldest message waited the whole outage.
    assert topic.lag.max is not None and 10.0 < topic.lag.max < 11.5
    assert group.age_max > 10.0
    # Refused deliveries are retried once per reconnect interval (Kafka's 1 s), not dropped.
    assert 5 <= group.redeliveries <= 15


def test_the_backlog_drains_at_capacity_minus_arrivals() -> None:
    # One worker, 25 ms per message: capacity 40/s, arrivals 20/s, so the backlog left by a
    # 10 s outage shrinks by 20 per second.
    run = _run(
        _arch(
            {"workers": 1, "endpoints": {"on": {"work": "25ms"}}},
            outage=("10s", "10s"),
            duration="45s",
        )
    )
    backlog = [b or 0.0 for b in run.series.topics["t/c.on"]["backlog"]]
    published = _published_per_window(run)
    capacity = 1 / 0.025
    # From 22 s to 28 s the consumer is back (reconnect <= 1 s) and the backlog is still large.
    t1, t2 = 21, 27  # windows closing at 22 s and 28 s
    assert backlog[t2] > 20
    arrived = sum(published[t1 + 1 : t2 + 1])
    expected = backlog[t1] + arrived - capacity * (t2 - t1)
    assert abs(backlog[t2] - expected) <= 2
    slope = (backlog[t1] - backlog[t2]) / (t2 - t1)
    sd = math.sqrt(RATE * (t2 - t1)) / (t2 - t1)
    assert abs(slope - (capacity - RATE)) < 4.5 * sd
    assert backlog[-1] <= 3  # drained by the end
    report = run.report.topics["t"].groups["c.on"]
    assert report.delivered + report.backlog_end == run.report.topics["t"].published


def test_dead_letters_only_after_the_configured_limit() -> None:
    always_fails = {"workers": 4, "endpoints": {"on": {"work": "5ms", "errorRate": 1.0}}}
    arch = _arch(
        always_fails,
        topic={"maxDeliveries": 3, "deadLetter": "t.dlq"},
        extra_topics={"t.dlq": {}},
        duration="20s",
    )
    run = _run(arch)
    topic = run.report.topics["t"]
    group = topic.groups["c.on"]
    settled = group.dead_lettered
    assert settled > 0.9 * topic.published
    assert group.delivered == 0
    # Each dead-lettered message was tried exactly 3 times: 2 redeliveries, 3 failed calls.
    in_flight = group.backlog_end
    assert topic.consumed - 3 * settled < 3 * in_flight + 1
    assert group.redeliveries >= 2 * settled
    assert run.report.topics["t.dlq"].published == settled
    assert settled + group.backlog_end == topic.published


def test_dead_letter_share_is_the_chance_of_failing_every_attempt() -> None:
    # Each delivery fails with p = 0.5, independently: a message is dead-lettered after 3
    # failures with probability p^3 = 1/8.
    flaky = {"workers": 8, "endpoints": {"on": {"work": "2ms", "errorRate": 0.5}}}
    run = _run(_arch(flaky, topic={"maxDeliveries": 3}, duration="200s"))
    group = run.report.topics["t"].groups["c.on"]
    n = group.delivered + group.dead_lettered
    share = group.dead_lettered / n
    sd = math.sqrt(0.125 * 0.875 / n)
    assert abs(share - 0.125) < 4.5 * sd
    # Mean deliveries per message: 1 + p + p^2 = 1.75.
    per_message = 1 + group.redeliveries / n
    assert per_message == pytest.approx(1.75, abs=0.1)


@pytest.mark.parametrize(("broker", "limit"), [("rabbitmq", 20), ("kafka", None), ("nats", None)])
def test_each_broker_default_delivery_limit(broker: str, limit: int | None) -> None:
    always_fails = {"workers": 4, "endpoints": {"on": {"work": "10ms", "errorRate": 1.0}}}
    run = _run(_arch(always_fails, broker=broker, duration="15s"))
    topic = run.report.topics["t"]
    group = topic.groups["c.on"]
    if limit is None:
        # Kafka re-polls and NATS redelivers (MaxDeliver -1) forever: a poison message is never
        # dropped, it keeps the consumer busy and the backlog grows.
        assert group.dead_lettered == 0
        assert group.backlog_end == topic.published
    else:
        # RabbitMQ's quorum queue: delivery-limit 20.
        assert group.dead_lettered > 0
        assert topic.consumed <= limit * (group.dead_lettered + group.backlog_end)
        assert topic.consumed >= limit * group.dead_lettered


def test_an_unanswered_delivery_is_redelivered_after_ack_wait() -> None:
    # The consumer takes 5 s per message; with ackWait 1 s each delivery is given up on after
    # 1 s and redelivered, and after 2 deliveries the message is dead-lettered (NATS JetStream:
    # AckWait and MaxDeliver).
    slow = {"workers": 100, "endpoints": {"on": {"work": "5s"}}}
    arch = _arch(slow, broker="nats", topic={"ackWait": "1s", "maxDeliveries": 2}, duration="30s")
    run = _run(arch)
    group = run.report.topics["t"].groups["c.on"]
    assert group.delivered == 0
    assert group.dead_lettered > 0
    assert group.age_max < 2.5  # nobody waits longer than two ack waits (+ latencies)


def test_the_broker_defaults_come_from_the_model() -> None:
    from scalesim_patterns.model.data import BROKER_DELIVERY

    arch = _arch({"workers": 1, "endpoints": {"on": {"work": "1ms"}}}, broker="nats")
    policy = arch.spec.brokers["k"].delivery_policy("t")
    assert (policy.max_deliveries, policy.max_in_flight, policy.ack_wait) == (None, 1000, 30.0)
    assert BROKER_DELIVERY["rabbitmq"].max_deliveries == 20
    assert BROKER_DELIVERY["kafka"].max_deliveries is None


def test_a_handler_failing_on_its_dependency_is_a_failed_delivery_not_a_refusal() -> None:
    # The consumer is up but its database is down: each delivery reaches the handler, whose
    # query fails (`unavailable`). That counts against the limit (RabbitMQ: 20), unlike a
    # consumer that cannot be reached at all.
    handler = {
        "workers": 4,
        "endpoints": {"on": {"work": "5ms", "steps": [{"query": "db"}]}},
    }
    arch = architecture(
        {
            "p": {"workers": 500, "endpoints": {"e": {"work": "1ms", "steps": [{"publish": "t"}]}}},
            "c": handler,
        },
        poisson("10/s", "p.e"),
        duration="10s",
        databases={"db": {"engine": "postgresql", "owner": "c"}},
        brokers={
            "k": {
                "type": "rabbitmq",
                "topics": {"t": {"consumers": [{"service": "c", "endpoint": "on"}]}},
            }
        },
        scenarios={"f": {"faults": [{"type": "outage", "target": "db", "at": "0s"}]}},
    )
    run = _run(arch)
    topic = run.report.topics["t"]
    group = topic.groups["c.on"]
    assert group.delivered == 0 and group.dead_lettered > 0.8 * topic.published
    assert topic.consumed >= 20 * group.dead_lettered
    assert group.dead_lettered + group.backlog_end == topic.published


def test_kafka_retries_hold_the_partitions_instead_of_flooding_the_consumer() -> None:
    # A handler that always fails, on a topic of 2 partitions: at most 2 records are being
    # retried at once, the rest wait at the broker (consumer lag), and the consumer's workers
    # are not all taken by retries.
    always_fails = {"workers": 8, "endpoints": {"on": {"work": "10ms", "errorRate": 1.0}}}
    run = _run(_arch(always_fails, topic={"partitions": 2}, duration="10s"))
    group = run.report.topics["t"].groups["c.on"]
    busy = run.report.services["c"].busy_mean
    assert busy < 2.05  # two retries at a time, 10 ms each
    assert group.backlog_end == run.report.topics["t"].published
