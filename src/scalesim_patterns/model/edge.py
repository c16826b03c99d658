"""What sits between services: the gateway, the mesh, the network, and tracing."""

from typing import Literal

from pydantic import Field, model_validator

from .base import Spec, empty_list
from .consumers import Consumer
from .distributions import Distribution
from .resilience import EnvoyRetry, RateLimit
from .units import Duration

__all__ = [
    "Auth",
    "ConnectionPool",
    "ConsumerMatch",
    "Gateway",
    "Mesh",
    "Network",
    "OutlierDetection",
    "Route",
    "RouteTarget",
    "TailSampling",
    "Tracing",
]


class Auth(Spec):
    type: Literal["none", "jwt", "key-auth", "oauth2"] = "jwt"
    overhead: Distribution | None = None
    """Time to verify a credential; defaults to 0.2ms."""
    invalid_share: float = Field(0.0, ge=0, le=1)
    """Share of requests on `auth: true` routes that carry an invalid, expired or missing
    credential: the gateway checks it and answers 401 (`unauthorized`) without going upstream."""


class RouteTarget(Spec):
    endpoint: str
    weight: int = Field(ge=0, le=100)


def _check_target(what: str, endpoint: str | None, split: list[RouteTarget] | None) -> None:
    """A route and a consumer match each send to one `endpoint` or a weighted `split` summing to
    100; one rule for both, so they refuse the same mistakes with the same words."""
    if (endpoint is None) == (split is None):
        raise ValueError(f"{what} has either `endpoint` or `split`")
    if split is not None:
        total = sum(t.weight for t in split)
        if total != 100:
            raise ValueError(f"split weights must sum to 100, got {total}")


def _targets(endpoint: str | None, split: list[RouteTarget] | None) -> list[tuple[str, int]]:
    """(endpoint, weight) pairs of a checked target: the endpoint at 100, or the split."""
    if endpoint is not None:
        return [(endpoint, 100)]
    assert split is not None
    return [(t.endpoint, t.weight) for t in split]


class ConsumerMatch(Spec):
    """Where a route sends the requests of some consumers instead (priority routing): Istio
    matches the `x-consumer-username` header Kong sets once it has identified the consumer."""

    consumers: list[str] = Field(min_length=1, max_length=100)
    """Names of `gateway.consumers` whose requests this match takes."""
    endpoint: str | None = None
    split: list[RouteTarget] | None = None

    @model_validator(mode="after")
    def _one_target(self) -> "ConsumerMatch":
        _check_target("a consumer match", self.endpoint, self.split)
        return self

    def targets(self) -> list[tuple[str, int]]:
        return _targets(self.endpoint, self.split)


class Route(Spec):
    path: str = Field(pattern=r"^/")
    methods: list[Literal["GET", "POST", "PUT", "PATCH", "DELETE"]] | None = None
    endpoint: str | None = None
    """`service.endpoint` that serves the route."""
    split: list[RouteTarget] | None = None
    """Weighted targets (strangler fig): weights sum to 100."""
    rate_limit: RateLimit | None = None
    auth: bool = True
    strip_path: bool = False
    by_consumer: list[ConsumerMatch] = Field(default_factory=empty_list, max_length=100)
    """Consumer matches tried in order before the route's own target (priority routing)."""

    @model_validator(mode="after")
    def _one_target(self) -> "Route":
        _check_target("a route", self.endpoint, self.split)
        return self

    def targets(self) -> list[tuple[str, int]]:
        return _targets(self.endpoint, self.split)

    def all_targets(self) -> list[tuple[str, int]]:
        """The route's own targets, then those of its consumer matches: every endpoint the
        route can reach (what the mesh must let the gateway call, on one upstream path)."""
        out = self.targets()
        for match in self.by_consumer:
            out += match.targets()
        return out


class Gateway(Spec):
    type: Literal["kong"] = "kong"
    replicas: int = Field(2, ge=1)
    host: str = "api.example.com"
    overhead: Distribution | None = None
    """Proxying cost per request; defaults to lognormal p50 1ms, p99 4ms."""
    workers: int = Field(2, ge=1)
    """nginx worker processes per replica (Kong: one per core). Each runs one request's proxy
    work (overhead, auth, plugins) at a time and never waits for the upstream: the gateway is
    event-driven, so its capacity is CPU, not connections."""
    auth: Auth | None = None
    rate_limit: RateLimit | None = None
    routes: list[Route] = Field(min_length=1)
    consumers: dict[str, Consumer] = Field(default_factory=dict)
    """API consumers (model/consumers.py), named by `traffic.<source>.consumer`."""


class OutlierDetection(Spec):
    consecutive_5xx_errors: int = Field(5, ge=1, alias="consecutive5xxErrors")
    interval: Duration = 10.0
    base_ejection_time: Duration = 30.0
    max_ejection_percent: int = Field(10, ge=0, le=100)
    min_health_percent: int = Field(0, ge=0, le=100)


class ConnectionPool(Spec):
    """Istio connectionPool; over a limit the proxy answers 503 at once."""

    max_connections: int = Field(2**32 - 1, ge=1)
    http1_max_pending_requests: int = Field(2**32 - 1, ge=1, alias="http1MaxPendingRequests")
    http2_max_requests: int = Field(2**32 - 1, ge=1, alias="http2MaxRequests")


class Mesh(Spec):
    type: Literal["istio"] = "istio"
    enabled: bool = True
    sidecar_overhead: Distribution | None = None
    """Cost of one proxy on a hop (two per hop); defaults to lognormal p50 0.4ms, p99 1.4ms."""
    mtls: Literal["STRICT", "PERMISSIVE", "DISABLE"] = "STRICT"
    retry: EnvoyRetry | None = Field(default_factory=EnvoyRetry)
    outlier_detection: OutlierDetection | None = None
    connection_pool: ConnectionPool | None = None
    services: dict[str, "MeshOverride"] = Field(default_factory=dict)
    """Per-destination overrides of outlierDetection and connectionPool."""


class MeshOverride(Spec):
    outlier_detection: OutlierDetection | None = None
    connection_pool: ConnectionPool | None = None
    retry: EnvoyRetry | None = None
    timeout: Duration | None = None


Mesh.model_rebuild()


class Network(Spec):
    hop_latency: Distribution | None = None
    """One-way service-to-service latency per call; defaults to 0.25ms constant each way."""
    entry_latency: Distribution | None = None
    """One-way latency between the traffic's clients and what they call (a service or the
    gateway), each way per request; defaults to none, because the clients' own network is not
    part of the design. `scalesim calibrate` sets it to the measured cost of one request through
    the load client and the service framework on the machine it measured."""


class TailSampling(Spec):
    """Keep rules applied when a trace is complete, as the OpenTelemetry Collector's
    `tail_sampling` processor does with `status_code`, `latency` and `probabilistic` policies:
    a trace is kept when any rule says so. They act on the traces the head sampler let through,
    so keeping every failed trace needs `sampling: 1`."""

    errors: bool = True
    """Keep every trace with a span whose status is an error."""
    latency_above: Duration | None = None
    """Keep every trace that lasted longer than this (first span's start to last span's end)."""
    ratio: float = Field(0.0, ge=0, le=1)
    """Share of the remaining traces kept (by trace id, as the `probabilistic` policy)."""


class Tracing(Spec):
    enabled: bool = True
    sampling: float = Field(0.01, ge=0, le=1)
    """Head sampling: the share of traces started at the edge (ParentBased(TraceIdRatioBased));
    every span of a sampled trace is recorded, none of an unsampled one."""
    tail: TailSampling | None = None
    exporter: Literal["otlp", "jaeger", "zipkin"] = "otlp"
    collector: str = "otel-collector:4317"
