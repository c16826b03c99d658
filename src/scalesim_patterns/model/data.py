"""Databases, message brokers, event stores, sagas: where state lives and how it stays consistent."""

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field, model_validator

from .base import Spec, empty_list
from .distributions import Distribution, LogNormal
from .units import Duration, Memory, Rate

__all__ = [
    "BROKER_DELIVERY",
    "BROKER_LATENCY",
    "ENGINE_DEFAULTS",
    "Broker",
    "Consumer",
    "Database",
    "DatabaseLatency",
    "DeliveryDefaults",
    "DeliveryPolicy",
    "EventStore",
    "Projection",
    "Saga",
    "SagaStep",
    "Topic",
]

Engine = Literal[
    "postgresql",
    "mysql",
    "mongodb",
    "cassandra",
    "neo4j",
    "clickhouse",
    "elasticsearch",
    "redis",
    "dynamodb",
    "eventstoredb",
]

ENGINE_DEFAULTS: dict[str, dict[str, tuple[float, float]]] = {
    # (p50, p99) seconds for a simple indexed read and a single-row write on a healthy, warm
    # instance in the same zone: order-of-magnitude figures engineers use for a first design.
    # Override them with measurements as soon as you have any.
    "postgresql": {"read": (0.0015, 0.012), "write": (0.003, 0.025)},
    "mysql": {"read": (0.0015, 0.012), "write": (0.003, 0.025)},
    "mongodb": {"read": (0.0012, 0.010), "write": (0.0025, 0.020)},
    "cassandra": {"read": (0.002, 0.015), "write": (0.001, 0.008)},
    "neo4j": {"read": (0.003, 0.030), "write": (0.005, 0.040)},
    "clickhouse": {"read": (0.010, 0.120), "write": (0.005, 0.050)},
    "elasticsearch": {"read": (0.005, 0.060), "write": (0.008, 0.080)},
    "redis": {"read": (0.0003, 0.002), "write": (0.0004, 0.003)},
    "dynamodb": {"read": (0.004, 0.020), "write": (0.006, 0.030)},
    "eventstoredb": {"read": (0.002, 0.015), "write": (0.003, 0.020)},
}
ENGINE_PORTS: dict[str, int] = {
    "postgresql": 5432,
    "mysql": 3306,
    "mongodb": 27017,
    "cassandra": 9042,
    "neo4j": 7687,
    "clickhouse": 8123,
    "elasticsearch": 9200,
    "redis": 6379,
    "dynamodb": 8000,
    "eventstoredb": 2113,
}


ENGINE_MAX_CONNECTIONS: dict[str, int] = {
    # Each server's default client limit: PostgreSQL max_connections, MySQL max_connections,
    # MongoDB net.maxIncomingConnections (capped by file descriptors), Redis maxclients,
    # Neo4j's Bolt thread pool, ClickHouse max_connections; the others take what clients open.
    "postgresql": 100,
    "mysql": 151,
    "mongodb": 65536,
    "cassandra": 65536,
    "neo4j": 400,
    "clickhouse": 4096,
    "elasticsearch": 65536,
    "redis": 10000,
    "dynamodb": 65536,
    "eventstoredb": 65536,
}


def _engine_limit(value: Any) -> Any:
    if isinstance(value, dict) and "maxConnections" not in value and "max_connections" not in value:
        limit = ENGINE_MAX_CONNECTIONS.get(str(value.get("engine")))
        if limit is not None:
            return {**value, "maxConnections": limit}
    return value


class DatabaseLatency(Spec):
    read: Distribution | None = None
    write: Distribution | None = None


class Database(Spec):
    _limit = model_validator(mode="before")(_engine_limit)

    engine: Engine
    owner: str
    """The one service that owns this database (database per service)."""
    version: str | None = None
    pool: int = Field(10, ge=1)
    """Connections per owner replica (HikariCP's default maximum pool size is 10)."""
    max_connections: int = Field(100, ge=1)
    """Server-side limit on connections from all replicas; defaults to the engine's own default."""
    latency: DatabaseLatency = Field(default_factory=DatabaseLatency)
    storage: Memory = 10 * 1024**3
    shared_with: list[str] = Field(default_factory=empty_list)
    """Other services allowed to reach it (a deliberate exception to database per service)."""

    def latency_of(self, operation: Literal["read", "write"]) -> Distribution:
        """The given latency, or the engine's default as a lognormal from its p50/p99."""
        given = getattr(self.latency, operation)
        if given is not None:
            return given  # type: ignore[no-any-return]
        p50, p99 = ENGINE_DEFAULTS[self.engine][operation]
        return LogNormal(p50=p50, p99=p99)

    @property
    def port(self) -> int:
        return ENGINE_PORTS[self.engine]


class Consumer(Spec):
    service: str
    endpoint: str
    group: str | None = None
    """Consumer group; consumers in one group share the messages, groups each get all."""


BrokerType = Literal["kafka", "rabbitmq", "nats"]

BROKER_LATENCY: dict[str, tuple[tuple[float, float], tuple[float, float]]] = {
    # ((p50, p99) until the broker acknowledges a publish, (p50, p99) from there to the consumer)
    # seconds, replicated and in one zone: first-design figures; override them with measurements.
    "kafka": ((0.002, 0.015), (0.005, 0.050)),
    "rabbitmq": ((0.001, 0.010), (0.002, 0.020)),
    "nats": ((0.0005, 0.004), (0.001, 0.008)),
}


@dataclass(frozen=True)
class DeliveryDefaults:
    """What each broker does, unconfigured, with a message its consumer group has not
    acknowledged (sources in docs/simulation.md, "Brokers"). None means unlimited."""

    max_deliveries: int | None
    max_in_flight: int | None
    ack_wait: float
    reconnect: float


BROKER_DELIVERY: dict[str, DeliveryDefaults] = {
    # RabbitMQ 4 quorum queue: delivery-limit 20; prefetch 0 (no limit); consumer_timeout 30 min;
    # the Java client reconnects every networkRecoveryInterval = 5 s.
    "rabbitmq": DeliveryDefaults(20, None, 1800.0, 5.0),
    # Kafka: no redelivery limit (the consumer re-polls from its committed offset until it
    # succeeds, holding its partition meanwhile: at most `partitions` records of a group are
    # retried at once); max.poll.interval.ms 5 min; reconnect.backoff.max.ms 1 s.
    "kafka": DeliveryDefaults(None, None, 300.0, 1.0),
    # NATS JetStream: MaxDeliver -1 (unlimited), MaxAckPending 1000, AckWait 30 s;
    # the nats.go client's ReconnectWait 2 s.
    "nats": DeliveryDefaults(None, 1000, 30.0, 2.0),
}


@dataclass(frozen=True)
class DeliveryPolicy:
    """A topic's delivery settings with the broker's defaults filled in (None: unlimited)."""

    max_deliveries: int | None
    max_in_flight: int | None
    ack_wait: float
    reconnect: float
    dead_letter: str | None
    max_redelivering: int | None = None
    """Redeliveries in flight at once per group (Kafka: `partitions`, a failing record holds its
    partition while it is retried); None: no bound of its own."""


def _limit(value: int | None, default: int | None) -> int | None:
    if value is None:
        return default
    return None if value == -1 else value


class Topic(Spec):
    partitions: int = Field(3, ge=1)
    consumers: list[Consumer] = Field(default_factory=empty_list)
    max_deliveries: int | None = Field(None, ge=-1)
    """Deliveries of a failing message (the first included) before it is dead-lettered; -1 for
    unlimited. Default: the broker's (RabbitMQ 20, Kafka and NATS unlimited)."""
    dead_letter: str | None = None
    """Topic that receives dead-lettered messages; without it they are discarded (counted)."""
    ack_wait: Duration | None = None
    """A delivery unanswered this long is redelivered. Default: RabbitMQ 30 min, Kafka 5 min,
    NATS 30 s."""
    max_in_flight: int | None = Field(None, ge=-1)
    """Unacknowledged deliveries per consumer group (prefetch, MaxAckPending); -1 for unlimited.
    Default: NATS 1000, RabbitMQ and Kafka unlimited."""
    reconnect: Duration | None = None
    """How soon a consumer that could not be reached is tried again. Default: RabbitMQ 5 s,
    Kafka 1 s, NATS 2 s."""

    @model_validator(mode="after")
    def _no_zero_limits(self) -> "Topic":
        if self.max_deliveries == 0:
            raise ValueError("maxDeliveries is at least 1 (-1 for unlimited)")
        if self.max_in_flight == 0:
            raise ValueError("maxInFlight is at least 1 (-1 for unlimited)")
        if self.ack_wait is not None and self.ack_wait <= 0:
            raise ValueError("ackWait must be positive")
        if self.reconnect is not None and self.reconnect <= 0:
            raise ValueError("reconnect must be positive")
        return self


class Broker(Spec):
    type: BrokerType = "kafka"
    publish_latency: Distribution | None = None
    """Until the broker acknowledges; the publisher waits for this only."""
    delivery_latency: Distribution | None = None
    """From acknowledgement to the consumer receiving the message."""
    replicas: int = Field(3, ge=1)
    topics: dict[str, Topic] = Field(min_length=1)

    def default_latencies(self) -> tuple[Distribution, Distribution]:
        """(publish, delivery): the given latencies, or the broker type's defaults."""
        (p50, p99), (d50, d99) = BROKER_LATENCY[self.type]
        p = self.publish_latency or LogNormal(p50=p50, p99=p99)
        d = self.delivery_latency or LogNormal(p50=d50, p99=d99)
        return p, d

    def delivery_policy(self, topic: str) -> DeliveryPolicy:
        """`topic`'s delivery settings, the broker type's defaults where it sets none."""
        t = self.topics[topic]
        base = BROKER_DELIVERY[self.type]
        return DeliveryPolicy(
            max_deliveries=_limit(t.max_deliveries, base.max_deliveries),
            max_in_flight=_limit(t.max_in_flight, base.max_in_flight),
            ack_wait=float(t.ack_wait) if t.ack_wait is not None else base.ack_wait,
            reconnect=float(t.reconnect) if t.reconnect is not None else base.reconnect,
            dead_letter=t.dead_letter,
            max_redelivering=t.partitions if self.type == "kafka" else None,
        )


class Projection(Spec):
    """Asynchronous read model fed from the store; its lag is the consistency window."""

    name: str
    service: str
    """Service that runs the projection (and owns the read model)."""
    handle: Distribution
    """Time to apply one event."""
    batch: int = Field(1, ge=1)
    poll_interval: Duration = 0.1


class EventStore(Spec):
    owner: str
    append_latency: Distribution | None = None
    read_latency: Distribution | None = None
    conflict_probability: float = Field(0.0, ge=0, lt=1)
    """Chance an append finds another writer moved the stream (expected-version mismatch)."""
    max_append_retries: int = Field(3, ge=0)
    write_rate_limit: Rate | None = None
    projections: list[Projection] = Field(default_factory=empty_list)
    snapshot_every: int | None = Field(None, ge=1)
    """Write a snapshot of the aggregate every this many events; loading then reads the
    snapshot and replays only the events after it (docs/sagas-and-rollouts.md)."""
    stream_length: int | None = Field(None, ge=1, le=10_000_000)
    """Events in an aggregate's stream when it is loaded. Given, every append first loads the
    aggregate (read and replay, as a command handler does) and a conflict loads it again;
    absent, loading is not modelled (a reload costs one read)."""
    replay_cost: Duration = Field(0.00002, ge=0)
    """Applying one event while loading (20 µs: deserialise and mutate in memory)."""
    read_page: int = Field(500, ge=1)
    """Events one read returns; a longer stream takes more reads."""


class SagaStep(Spec):
    name: str
    action: str
    """`service.endpoint` that does the work."""
    compensation: str | None = None
    """`service.endpoint` that undoes it; absent for steps after the pivot."""
    pivot: bool = False
    """The go/no-go step: steps after it must eventually succeed (they are retried)."""


class Saga(Spec):
    mode: Literal["orchestrated", "choreographed"] = "orchestrated"
    orchestrator: str | None = None
    """Service that runs an orchestrated saga."""
    broker: str | None = None
    """Broker that carries a choreographed saga's events."""
    state_store: str | None = None
    """Database of the orchestrator that records saga state."""
    steps: list[SagaStep] = Field(min_length=1)
    compensation_retries: int = Field(5, ge=0)
    compensation_backoff: Duration = 1.0
    timeout: Duration | None = None

    @model_validator(mode="after")
    def _mode_fields(self) -> "Saga":
        if self.mode == "orchestrated" and self.orchestrator is None:
            raise ValueError("an orchestrated saga names its `orchestrator` service")
        if self.mode == "choreographed" and self.broker is None:
            raise ValueError("a choreographed saga names the `broker` that carries its events")
        pivots = [s.name for s in self.steps if s.pivot]
        if len(pivots) > 1:
            raise ValueError(f"a saga has at most one pivot step, found {pivots}")
        return self
