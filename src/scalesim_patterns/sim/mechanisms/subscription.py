"""One consumer group's subscription to a topic: at-least-once delivery with acknowledgement.

The broker keeps every message it has accepted until the group acknowledges it. A message is
*ready* (waiting in the backlog) or *in flight* (delivered, not yet acknowledged). The
state machine decides what the broker does with each outcome of a delivery:

- **ack**: the consumer finished the message; it leaves the subscription (delivered).
- **failed** (the handler ran and failed, or no answer came within `ack_wait`): a delivery that
  counts. The message goes back to the head of the backlog and is redelivered, unless it has
  now been delivered `max_deliveries` times, in which case it is dead-lettered.
- **returned** (the consumer could not take it: no replica reachable, its queue full, the
  connection reset under it): not a delivery. The message goes back to the head of the backlog
  and that member is treated as disconnected for `reconnect` seconds (the client's reconnect
  interval). After that it gets one message at a time until an answer shows it is back (a
  success or a handler failure), so a consumer that stays down costs one refused delivery per
  `reconnect`, not a burst of them.

Nothing is ever dropped silently: at every moment `published = delivered + dead_lettered +
backlog`, where the backlog counts ready and in-flight messages.

Where each broker stands (their own defaults, see docs/simulation.md for the sources):

| | RabbitMQ (quorum queue) | Kafka consumer group | NATS JetStream |
|---|---|---|---|
| failed delivery | `basic.reject`, requeued near the head | offset not committed; the client seeks back and re-polls | `Nak`, redelivered |
| delivery limit | `delivery-limit` 20 | none in Kafka (a dead-letter topic is an application pattern) | `MaxDeliver` -1 (unlimited) |
| in flight | prefetch 0 = unlimited | limited by the consumers' workers | `MaxAckPending` 1000 |
| no answer | `consumer_timeout` 30 min | `max.poll.interval.ms` 5 min | `AckWait` 30 s |

Like the other mechanisms it knows nothing of the event loop: every method takes `now`, and
the caller schedules what the state machine asks for (`next_wake`, `next_expiry`).
"""

from __future__ import annotations

import heapq
from collections import deque
from dataclasses import dataclass
from typing import Final

__all__ = [
    "DEAD_LETTERED",
    "REQUEUED",
    "STALE",
    "DeliveryPolicy",
    "Message",
    "Subscription",
]

REQUEUED: Final = 1
"""The failed message went back to the head of the backlog for redelivery."""
DEAD_LETTERED: Final = 2
"""The failed message reached the delivery limit and left the subscription."""
STALE: Final = 0
"""The outcome was for an earlier delivery of a message already redelivered or settled."""


@dataclass(frozen=True)
class DeliveryPolicy:
    """How the broker treats one consumer group; None means unlimited."""

    max_deliveries: int | None
    """Deliveries (the first included) before a failing message is dead-lettered."""
    max_in_flight: int | None
    """Unacknowledged deliveries at once (prefetch, MaxAckPending)."""
    ack_wait: float | None
    """A delivery with no answer after this long counts as failed and is redelivered."""
    reconnect: float
    """How long a member that could not take a message stays disconnected."""
    max_redelivering: int | None = None
    """Redeliveries in flight at once; when reached, the backlog waits behind the failed
    message at its head (Kafka: a failing record holds its partition while it is retried, so
    at most `partitions` records of a group are being retried)."""

    def __post_init__(self) -> None:
        if self.max_deliveries is not None and self.max_deliveries < 1:
            raise ValueError("max_deliveries must be at least 1 (None: unlimited)")
        if self.max_in_flight is not None and self.max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1 (None: unlimited)")
        if self.ack_wait is not None and self.ack_wait <= 0:
            raise ValueError("ack_wait must be positive (None: never)")
        if self.reconnect <= 0:
            raise ValueError("reconnect must be positive")
        if self.max_redelivering is not None and self.max_redelivering < 1:
            raise ValueError("max_redelivering must be at least 1 (None: unlimited)")


class Message:
    """One message as one group sees it."""

    __slots__ = (
        "again",
        "deliveries",
        "id",
        "in_flight",
        "member",
        "settled",
        "t_dispatch",
        "t_published",
    )

    def __init__(self, id: int, t_published: float) -> None:
        self.id = id
        self.t_published = t_published
        self.deliveries = 0
        """Deliveries that counted (answered with a failure, or unanswered past `ack_wait`)."""
        self.in_flight = False
        self.again = False
        """The current delivery is a redelivery."""
        self.settled = False
        self.member = -1
        self.t_dispatch = -1.0
        """When the current delivery left the broker: the token that tells a late answer to an
        expired delivery from the answer to the current one."""


class Subscription:
    """The backlog and in-flight deliveries of one consumer group (see the module docstring)."""

    __slots__ = (
        "_age_heap",
        "_expiry",
        "_rr",
        "age_max",
        "area",
        "area0",
        "backlog_max",
        "dead_lettered",
        "delivered",
        "dispatched",
        "down_until",
        "expired",
        "failed",
        "in_flight",
        "member_in_flight",
        "members",
        "offered",
        "policy",
        "probing",
        "ready",
        "redelivered",
        "redelivering",
        "returned",
        "size",
        "t_area",
        "w_age_max",
        "w_backlog_max",
    )

    def __init__(self, policy: DeliveryPolicy, members: int, now: float = 0.0) -> None:
        if members < 1:
            raise ValueError("a consumer group has at least one member")
        self.policy = policy
        self.members = members
        self.down_until = [0.0] * members
        self.probing = [False] * members
        """Member reconnecting: one delivery at a time until it answers."""
        self.member_in_flight = [0] * members
        self._rr = 0
        self.ready: deque[Message] = deque()
        self.in_flight = 0
        self.redelivering = 0
        """Deliveries in flight of messages delivered before."""
        self.size = 0
        """Ready plus in flight (the backlog), kept as a counter: it is read at every change."""
        self._expiry: deque[tuple[float, Message]] = deque()
        """(deadline, message) in dispatch order; entries for settled or redelivered messages
        are skipped when they reach the front."""
        self._age_heap: list[tuple[float, int, Message]] = []
        """(published, id, message) of every unsettled message; settled ones are popped lazily."""
        # Counters since the start (monotonic).
        self.offered = 0
        self.delivered = 0
        self.dead_lettered = 0
        self.dispatched = 0
        self.redelivered = 0
        """Dispatches of a message that had been dispatched before."""
        self.failed = 0
        """Deliveries that counted against the limit (failure answers and expiries)."""
        self.expired = 0
        self.returned = 0
        # Backlog integral and window maxima.
        self.area = 0.0
        self.area0 = 0.0
        self.t_area = now
        self.backlog_max = 0
        self.age_max = 0.0
        """Largest age of the oldest unsettled message seen at a settlement or window end."""
        self.w_backlog_max = 0
        self.w_age_max = 0.0

    # ---- reading ---------------------------------------------------------------------------

    @property
    def backlog(self) -> int:
        """Messages not yet settled: waiting plus in flight."""
        return self.size

    def oldest_age(self, now: float) -> float:
        """Age of the oldest unsettled message (0 when there is none)."""
        heap = self._age_heap
        while heap and heap[0][2].settled:
            heapq.heappop(heap)
        return now - heap[0][0] if heap else 0.0

    # ---- changes ---------------------------------------------------------------------------

    def flush(self, now: float) -> None:
        self.area += self.size * (now - self.t_area)
        self.t_area = now

    def offer(self, msg: Message, now: float) -> None:
        """The broker has accepted `msg` for this group: it waits at the tail of the backlog."""
        self.area += self.size * (now - self.t_area)
        self.t_area = now
        self.offered += 1
        self.ready.append(msg)
        heapq.heappush(self._age_heap, (msg.t_published, msg.id, msg))
        n = self.size = self.size + 1
        if n > self.backlog_max:
            self.backlog_max = n
        if n > self.w_backlog_max:
            self.w_backlog_max = n

    def dispatch(self, now: float) -> Message | None:
        """The next delivery to make now (`msg.member` says to whom), or None: nothing waits,
        the in-flight limit is reached, or every member is disconnected (see `next_wake`)."""
        if not self.ready:
            return None
        limit = self.policy.max_in_flight
        if limit is not None and self.in_flight >= limit:
            return None
        again = self.ready[0].t_dispatch >= 0.0
        cap = self.policy.max_redelivering
        if again and cap is not None and self.redelivering >= cap:
            return None
        member = self._pick(now)
        if member < 0:
            return None
        msg = self.ready.popleft()
        if again:
            self.redelivered += 1
            self.redelivering += 1
        self.dispatched += 1
        msg.in_flight = True
        msg.again = again
        msg.member = member
        msg.t_dispatch = now
        self.in_flight += 1
        self.member_in_flight[member] += 1
        if self.policy.ack_wait is not None:
            self._expiry.append((now + self.policy.ack_wait, msg))
        return msg

    def _pick(self, now: float) -> int:
        """Members take turns; a disconnected one is skipped. -1 when all are disconnected."""
        n = self.members
        for k in range(n):
            i = (self._rr + k) % n
            if self.down_until[i] <= now and not (self.probing[i] and self.member_in_flight[i]):
                self._rr = i + 1
                return i
        return -1

    def _current(self, msg: Message, token: float) -> bool:
        return msg.in_flight and msg.t_dispatch == token

    def ack(self, msg: Message, token: float, now: float) -> bool:
        """The consumer finished `msg` (the delivery made at `token`). False for a late answer
        to a delivery already given up on (the message was redelivered: at-least-once)."""
        if not self._current(msg, token):
            return False
        self.probing[msg.member] = False
        self._settle(msg, now)
        self.delivered += 1
        return True

    def fail(self, msg: Message, token: float, now: float) -> int:
        """The handler failed: REQUEUED, DEAD_LETTERED, or STALE for a late answer."""
        if not self._current(msg, token):
            return STALE
        self.probing[msg.member] = False
        return self._failed(msg, now)

    def give_back(self, msg: Message, token: float, now: float) -> bool:
        """The member could not take `msg`: not a delivery. The message returns to the head of
        the backlog and the member is disconnected for `policy.reconnect`."""
        if not self._current(msg, token):
            return False
        self.returned += 1
        self.down_until[msg.member] = now + self.policy.reconnect
        self.probing[msg.member] = True
        self._out(msg, now)
        self.ready.appendleft(msg)
        return True

    def expire(self, now: float) -> list[tuple[Message, int]]:
        """Deliveries unanswered for `ack_wait`: each counts as failed. Returns the messages
        with their outcome (REQUEUED or DEAD_LETTERED)."""
        out: list[tuple[Message, int]] = []
        q = self._expiry
        while q:
            deadline, msg = q[0]
            if msg.in_flight and msg.t_dispatch + (self.policy.ack_wait or 0.0) == deadline:
                if deadline > now:
                    break
                q.popleft()
                self.expired += 1
                out.append((msg, self._failed(msg, now)))
            else:
                q.popleft()
        return out

    def _failed(self, msg: Message, now: float) -> int:
        self.failed += 1
        msg.deliveries += 1
        limit = self.policy.max_deliveries
        if limit is not None and msg.deliveries >= limit:
            self._settle(msg, now)
            self.dead_lettered += 1
            return DEAD_LETTERED
        self._out(msg, now)
        self.ready.appendleft(msg)
        return REQUEUED

    def _settle(self, msg: Message, now: float) -> None:
        heap = self._age_heap
        while heap[0][2].settled:  # messages that left before the oldest one
            heapq.heappop(heap)
        if heap[0][2] is msg:
            # The oldest message leaves: its age is a maximum of the oldest age. (When another
            # one leaves, the oldest is still there and keeps ageing: nothing to record yet.)
            self._age_seen(now - msg.t_published)
            heapq.heappop(heap)
        self._out(msg, now)
        msg.settled = True
        self.size -= 1

    def _out(self, msg: Message, now: float) -> None:
        """`msg` is no longer in flight; deadlines of answered deliveries at the front of the
        expiry queue are dropped at once, so it holds about `in_flight` entries, not every
        delivery of the last `ack_wait`."""
        self.flush(now)
        self.in_flight -= 1
        self.member_in_flight[msg.member] -= 1
        msg.in_flight = False
        if msg.again:
            self.redelivering -= 1
        q = self._expiry
        wait = self.policy.ack_wait or 0.0
        while q:
            deadline, front = q[0]
            if front.in_flight and front.t_dispatch + wait == deadline:
                break
            q.popleft()

    def _age_seen(self, age: float) -> None:
        if age > self.w_age_max:
            self.w_age_max = age
        if age > self.age_max:
            self.age_max = age

    # ---- what the caller schedules ---------------------------------------------------------

    def next_wake(self, now: float) -> float | None:
        """When a disconnected member may take the waiting messages again, if that is what
        holds them back."""
        if not self.ready:
            return None
        limit = self.policy.max_in_flight
        if limit is not None and self.in_flight >= limit:
            return None
        later = [t for t in self.down_until if t > now]
        return min(later) if later else None

    def next_expiry(self) -> float | None:
        """The earliest `ack_wait` deadline of a delivery still in flight."""
        q = self._expiry
        wait = self.policy.ack_wait or 0.0
        while q:
            deadline, msg = q[0]
            if msg.in_flight and msg.t_dispatch + wait == deadline:
                return deadline
            q.popleft()
        return None

    # ---- windows and warm-up ---------------------------------------------------------------

    def close_window(self, now: float) -> tuple[int, float]:
        """(largest backlog, largest age of the oldest message) since the last call; both
        restart from the current values."""
        age = self.oldest_age(now)
        self._age_seen(age)
        out = (self.w_backlog_max, self.w_age_max)
        self.w_backlog_max = self.backlog
        self.w_age_max = age
        return out

    def mark(self, now: float) -> None:
        """Start of the measured period: integrals and maxima restart from here."""
        self.flush(now)
        self.area0 = self.area
        self.backlog_max = self.backlog
        self.age_max = self.oldest_age(now)
