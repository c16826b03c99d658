"""Topics and consumer groups on the event loop: the thin side of `mechanisms.subscription`.

A message published to a topic enters every consumer group's subscription once the broker has
acknowledged it to the publisher. Each group's `Subscription` (an engine-free state machine)
decides what to deliver, to which member, and what a delivery's outcome means; this module only
turns its decisions into events: a delivery reaches the consumer `deliveryLatency` later through
its service's balancer and queue, an answer is handed back to the state machine, and the timers
it asks for (a member reconnecting, an `ackWait` running out) are scheduled.

How the consumer's answer is read:

- success: acknowledged; `lag` records publish → finished.
- `unavailable` or `rejected` before the handler got past its own work (nothing reachable, a
  full queue, the connection reset under it): the member could not take the message; it goes
  back to the head of the backlog, uncounted.
- any other failure (`error`, or a dependency's `unavailable` propagated from the handler's
  steps, ...): a failed delivery; redelivered until the topic's `maxDeliveries`, then
  dead-lettered (published to `deadLetter` when the file names one).
"""

from __future__ import annotations

from collections.abc import Mapping

from scalesim_patterns.model.data import Broker
from scalesim_patterns.model.data import DeliveryPolicy as ModelPolicy
from scalesim_patterns.sim.core.causes import REJECTED, UNAVAILABLE
from scalesim_patterns.sim.core.histogram import LogHistogram
from scalesim_patterns.sim.core.kernel import FunctionHandler, Kernel
from scalesim_patterns.sim.core.rng import AnyDistribution, Sampler, Streams
from scalesim_patterns.sim.mechanisms.subscription import (
    DEAD_LETTERED,
    DeliveryPolicy,
    Message,
    Subscription,
)
from scalesim_patterns.sim.network.station import Call, EndpointRuntime, ServiceRuntime

__all__ = ["GroupRuntime", "TopicRuntime", "build_topics", "subscription_policy"]

Member = tuple[ServiceRuntime, EndpointRuntime]


def subscription_policy(policy: ModelPolicy) -> DeliveryPolicy:
    """The state machine's policy from the model's (the model stays free of the simulator)."""
    return DeliveryPolicy(
        max_deliveries=policy.max_deliveries,
        max_in_flight=policy.max_in_flight,
        ack_wait=policy.ack_wait,
        reconnect=policy.reconnect,
        max_redelivering=policy.max_redelivering,
    )


class GroupRuntime:
    """One consumer group of a topic: its subscription and the events that drive it."""

    __slots__ = (
        "answered_",
        "base",
        "calls",
        "calls0",
        "dead_letter",
        "delivery",
        "fails",
        "fails0",
        "kernel",
        "lag",
        "members",
        "name",
        "pump_",
        "sub",
        "sweep_",
        "sweep_at",
        "topic",
        "wake_at",
    )

    def __init__(
        self,
        topic: TopicRuntime,
        name: str,
        members: list[Member],
        delivery: Sampler,
        policy: DeliveryPolicy,
    ) -> None:
        self.topic = topic
        self.name = name
        self.kernel = topic.kernel
        self.members = members
        self.delivery = delivery
        self.sub = Subscription(policy, len(members), self.kernel.now)
        self.dead_letter: TopicRuntime | None = None
        self.lag = LogHistogram()
        self.calls = 0
        self.calls0 = 0
        self.fails = 0
        self.fails0 = 0
        self.base: tuple[int, ...] = (0, 0, 0, 0, 0)
        """Subscription counters at warm-up end: offered, delivered, dead-lettered,
        redelivered, backlog."""
        self.wake_at = -1.0
        self.sweep_at = -1.0
        self.answered_ = FunctionHandler(self.answered)
        self.pump_ = self.pump
        self.sweep_ = self.sweep

    def offer(self, msg: Message) -> None:
        self.sub.offer(msg, self.kernel.now)
        self.pump(None)

    def pump(self, _: object) -> None:
        """Make every delivery the subscription allows now, and the timers it asks for."""
        k = self.kernel
        now = k.now
        sub = self.sub
        if sub.ready:
            members = self.members
            delivery = self.delivery
            answered = self.answered_
            ready = sub.ready
            while ready:
                msg = sub.dispatch(now)
                if msg is None:
                    break
                service, endpoint = members[msg.member]
                k.schedule(delivery.draw(), service.arrive_, Call(endpoint, answered, msg, now))
            wake = sub.next_wake(now)
            if wake is not None and not (now < self.wake_at <= wake):
                self.wake_at = wake
                k.at(wake, self.pump_, None)
        if self.sweep_at < now:
            deadline = sub.next_expiry()
            if deadline is not None:
                self.sweep_at = deadline
                k.at(deadline, self.sweep_, None)

    def answered(self, c: Call) -> None:
        """The consumer's answer to a delivery (`c.t0` is when the delivery left the broker)."""
        msg: Message = c.parent
        now = self.kernel.now
        sub = self.sub
        self.calls += 1
        status = c.status
        if not status:
            if sub.ack(msg, c.t0, now):
                self.lag.record(now - msg.t_published)
        else:
            self.fails += 1
            if status in (UNAVAILABLE, REJECTED) and not c.pc:
                # Refused, or reset before the handler got past its own work: not a delivery.
                sub.give_back(msg, c.t0, now)
            elif sub.fail(msg, c.t0, now) == DEAD_LETTERED:
                self._dead(now)
        self.pump(None)

    def sweep(self, _: object) -> None:
        """An `ackWait` deadline: unanswered deliveries count as failed."""
        now = self.kernel.now
        self.sweep_at = -1.0
        for _msg, outcome in self.sub.expire(now):
            if outcome == DEAD_LETTERED:
                self._dead(now)
        self.pump(None)

    def _dead(self, now: float) -> None:
        if self.dead_letter is not None:
            self.dead_letter.accept(now)

    def reset(self) -> None:
        sub = self.sub
        sub.mark(self.kernel.now)
        self.calls0 = self.calls
        self.fails0 = self.fails
        self.base = (sub.offered, sub.delivered, sub.dead_lettered, sub.redelivered, sub.backlog)
        self.lag.clear()


class TopicRuntime:
    """A topic: every consumer group gets each message; the members of a group take turns.

    Consumers are called like any endpoint (through their service's balancer and queue) but no
    publisher waits for them; `lag` is the time from publish until a consumer has finished with
    the message (merged over groups).
    """

    __slots__ = ("accept_", "groups", "kernel", "name", "next_id", "published", "published0")

    def __init__(self, name: str, kernel: Kernel) -> None:
        self.name = name
        self.kernel = kernel
        self.groups: dict[str, GroupRuntime] = {}
        self.published = 0
        """Messages the broker has accepted (acknowledged to their publisher)."""
        self.published0 = 0
        self.next_id = 0
        self.accept_ = self.accept

    def add_group(
        self, name: str, members: list[Member], delivery: Sampler, policy: DeliveryPolicy
    ) -> GroupRuntime:
        group = GroupRuntime(self, name, members, delivery, policy)
        self.groups[name] = group
        return group

    def publish(self, ack: float) -> None:
        """A publish that the broker acknowledges `ack` from now: the message is the broker's
        from then on."""
        k = self.kernel
        k.schedule(ack, self.accept_, k.now)

    def accept(self, t_published: float) -> None:
        """The broker has the message (published at `t_published`): every group gets it."""
        self.published += 1
        for group in self.groups.values():
            self.next_id += 1
            group.offer(Message(self.next_id, t_published))

    def reset(self) -> None:
        self.published0 = self.published
        for group in self.groups.values():
            group.reset()


def build_topics(
    brokers: Mapping[str, Broker],
    services: Mapping[str, ServiceRuntime],
    kernel: Kernel,
    streams: Streams,
) -> tuple[dict[str, TopicRuntime], dict[str, AnyDistribution]]:
    """Every topic with its consumer groups, and each topic's publish-acknowledgement latency.

    Consumers that name no `group` form a group of their own (`service.endpoint`). A topic's
    dead-lettered messages are published to its `deadLetter` topic, on whichever broker.
    """
    topics: dict[str, TopicRuntime] = {}
    acks: dict[str, AnyDistribution] = {}
    dead: dict[str, str] = {}
    for broker in brokers.values():
        publish, delivery = broker.default_latencies()
        for tname, topic in broker.topics.items():
            policy = broker.delivery_policy(tname)
            rt = TopicRuntime(tname, kernel)
            members: dict[str, list[Member]] = {}
            for c in topic.consumers:
                key = c.group or f"{c.service}.{c.endpoint}"
                svc = services[c.service]
                members.setdefault(key, []).append((svc, svc.endpoints[c.endpoint]))
            sampler = streams.sampler(delivery, f"delivery:{tname}")
            for key, listed in members.items():
                rt.add_group(key, listed, sampler, subscription_policy(policy))
            topics[tname] = rt
            acks[tname] = publish
            if policy.dead_letter is not None:
                dead[tname] = policy.dead_letter
    for tname, target in dead.items():
        for g in topics[tname].groups.values():
            g.dead_letter = topics[target]
    return topics, acks
