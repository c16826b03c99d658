"""The subscription state machine alone, driven by a scripted clock."""

from __future__ import annotations

import pytest

from scalesim_patterns.sim.mechanisms.subscription import (
    DEAD_LETTERED,
    REQUEUED,
    STALE,
    DeliveryPolicy,
    Message,
    Subscription,
)


def policy(
    max_deliveries: int | None = None,
    max_in_flight: int | None = None,
    ack_wait: float | None = None,
    reconnect: float = 1.0,
) -> DeliveryPolicy:
    return DeliveryPolicy(max_deliveries, max_in_flight, ack_wait, reconnect)


def offered(sub: Subscription, n: int, now: float = 0.0) -> list[Message]:
    msgs = [Message(i, now) for i in range(n)]
    for m in msgs:
        sub.offer(m, now)
    return msgs


def conserved(sub: Subscription) -> bool:
    return sub.offered == sub.delivered + sub.dead_lettered + sub.backlog


def test_ack_settles_and_nothing_is_lost() -> None:
    sub = Subscription(policy(), members=1)
    offered(sub, 3)
    assert sub.backlog == 3 and conserved(sub)
    m = sub.dispatch(1.0)
    assert m is not None and m.id == 0 and sub.in_flight == 1 and sub.backlog == 3
    assert sub.ack(m, 1.0, 2.0)
    assert sub.delivered == 1 and sub.backlog == 2 and conserved(sub)


def test_a_failed_delivery_is_redelivered_first_and_dead_lettered_at_the_limit() -> None:
    sub = Subscription(policy(max_deliveries=3), members=1)
    offered(sub, 2)
    outcomes = []
    for t in (1.0, 2.0, 3.0):
        m = sub.dispatch(t)
        assert m is not None and m.id == 0  # back at the head every time
        outcomes.append(sub.fail(m, t, t + 0.5))
        assert conserved(sub)
    assert outcomes == [REQUEUED, REQUEUED, DEAD_LETTERED]
    assert sub.dead_lettered == 1 and sub.redelivered == 2 and sub.failed == 3
    nxt = sub.dispatch(4.0)
    assert nxt is not None and nxt.id == 1


def test_unlimited_deliveries_never_dead_letter() -> None:
    sub = Subscription(policy(max_deliveries=None), members=1)
    offered(sub, 1)
    for i in range(1000):
        m = sub.dispatch(float(i))
        assert m is not None
        assert sub.fail(m, float(i), float(i)) == REQUEUED
    assert sub.dead_lettered == 0 and sub.backlog == 1


def test_a_refusal_is_not_a_delivery_and_disconnects_the_member() -> None:
    sub = Subscription(policy(max_deliveries=1, reconnect=5.0), members=1)
    offered(sub, 3)
    m = sub.dispatch(0.0)
    assert m is not None
    assert sub.give_back(m, 0.0, 0.1)
    assert m.deliveries == 0 and sub.dead_lettered == 0 and sub.returned == 1
    assert sub.dispatch(1.0) is None  # disconnected until 5.1
    assert sub.next_wake(1.0) == pytest.approx(5.1)
    probe = sub.dispatch(5.1)
    assert probe is not None and probe.id == 0
    assert sub.dispatch(5.1) is None  # one at a time while it reconnects
    assert sub.ack(probe, 5.1, 5.2)
    rest = [sub.dispatch(5.2), sub.dispatch(5.2)]
    assert [r.id for r in rest if r is not None] == [1, 2]
    assert conserved(sub)


def test_members_take_turns_and_a_disconnected_one_is_skipped() -> None:
    sub = Subscription(policy(reconnect=10.0), members=2)
    offered(sub, 4)
    a, b = sub.dispatch(0.0), sub.dispatch(0.0)
    assert a is not None and b is not None and (a.member, b.member) == (0, 1)
    assert sub.give_back(b, 0.0, 0.0)
    c, d = sub.dispatch(0.0), sub.dispatch(0.0)
    assert c is not None and d is not None and (c.member, d.member) == (0, 0)
    assert c.id == 1  # the returned message went back to the head


def test_in_flight_limit_holds_messages_back() -> None:
    sub = Subscription(policy(max_in_flight=2), members=1)
    offered(sub, 5)
    first = [sub.dispatch(0.0), sub.dispatch(0.0)]
    assert sub.dispatch(0.0) is None and sub.next_wake(0.0) is None
    m = first[0]
    assert m is not None and sub.ack(m, 0.0, 1.0)
    assert sub.dispatch(1.0) is not None and sub.backlog == 4


def test_an_unanswered_delivery_expires_counts_and_a_late_answer_is_stale() -> None:
    sub = Subscription(policy(max_deliveries=2, ack_wait=30.0), members=1)
    offered(sub, 1)
    m = sub.dispatch(0.0)
    assert m is not None and sub.next_expiry() == 30.0
    assert sub.expire(29.9) == []
    assert sub.expire(30.0) == [(m, REQUEUED)]
    again = sub.dispatch(30.0)
    assert again is m
    assert not sub.ack(m, 0.0, 31.0)  # the first delivery's answer comes too late
    assert sub.fail(m, 0.0, 31.0) == STALE
    assert sub.expire(60.0) == [(m, DEAD_LETTERED)]
    assert sub.dead_lettered == 1 and sub.expired == 2 and sub.backlog == 0 and conserved(sub)


def test_backlog_integral_and_oldest_age() -> None:
    sub = Subscription(policy(), members=1)
    a, b = Message(0, 0.0), Message(1, 2.0)
    sub.offer(a, 0.0)
    sub.offer(b, 2.0)
    assert sub.oldest_age(5.0) == 5.0
    m = sub.dispatch(5.0)
    assert m is a and sub.ack(a, 5.0, 6.0)
    assert sub.oldest_age(6.0) == 4.0  # b is now the oldest
    sub.flush(10.0)
    assert sub.area == pytest.approx(1 * 2 + 2 * 4 + 1 * 4)
    assert sub.close_window(10.0) == (2, 8.0)
    assert sub.age_max == 8.0


def test_policy_refuses_meaningless_limits() -> None:
    with pytest.raises(ValueError, match="max_deliveries"):
        policy(max_deliveries=0)
    with pytest.raises(ValueError, match="reconnect"):
        policy(reconnect=0.0)
    with pytest.raises(ValueError, match="ack_wait"):
        policy(ack_wait=0.0)


def test_memory_follows_what_is_in_flight_not_the_ack_wait() -> None:
    sub = Subscription(policy(ack_wait=1800.0), members=1)
    for i in range(10_000):
        t = i * 0.001
        sub.offer(Message(i, t), t)
        m = sub.dispatch(t)
        assert m is not None and sub.ack(m, t, t + 0.0005)
    assert len(sub._expiry) <= 1 and len(sub._age_heap) <= 1


def test_redeliveries_in_flight_are_bounded_and_hold_the_head() -> None:
    # Kafka: a failing record holds its partition; with one partition only one retry runs and
    # the messages behind it wait.
    sub = Subscription(DeliveryPolicy(None, None, None, 1.0, max_redelivering=1), members=1)
    offered(sub, 3)
    a, b = sub.dispatch(0.0), sub.dispatch(0.0)
    assert a is not None and b is not None
    assert sub.fail(a, 0.0, 1.0) == REQUEUED and sub.fail(b, 0.0, 1.0) == REQUEUED
    retry = sub.dispatch(1.0)
    assert retry is b and sub.redelivering == 1  # b went back last, so it is the head
    assert sub.dispatch(1.0) is None  # a (a redelivery) waits behind it, and so does message 2
    assert sub.ack(b, 1.0, 2.0) and sub.redelivering == 0
    assert sub.dispatch(2.0) is a


def test_the_oldest_age_is_seen_when_younger_messages_leave_first() -> None:
    sub = Subscription(policy(), members=1)
    a, b, c = Message(0, 0.0), Message(1, 1.0), Message(2, 2.0)
    for m in (a, b, c):
        sub.offer(m, m.t_published)
    for m in (a, b, c):
        assert sub.dispatch(2.0) is m
    assert sub.ack(b, 2.0, 3.0)  # b leaves first: a is still the oldest
    assert sub.ack(a, 2.0, 5.0)  # a leaves at age 5
    assert sub.ack(c, 2.0, 9.0)  # c leaves at age 7, past the stale entry of b
    assert sub.age_max == 7.0
