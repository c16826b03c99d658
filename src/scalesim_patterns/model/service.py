"""A service: its replicas, its endpoints and how it is run, scaled, probed and rolled out."""

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator

from .base import Spec, empty_list
from .cpu import CpuModel
from .distributions import Distribution
from .resilience import ClientPolicy
from .steps import Step
from .units import Cpu, Duration, Memory

__all__ = [
    "Analysis",
    "Autoscaling",
    "BlueGreen",
    "Canary",
    "CanaryStep",
    "Deployment",
    "Endpoint",
    "Health",
    "Probe",
    "Resources",
    "ScalingBehavior",
    "ScalingPolicy",
    "ScalingRules",
    "Service",
    "VersionBehaviour",
]

NAME = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
"""A DNS-1123 label: every name here becomes a Kubernetes object name."""


class Endpoint(Spec):
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "GET"
    path: str | None = None
    """HTTP path; defaults to `/<endpoint name>`."""
    work: Distribution
    """The endpoint's own processing time, excluding the calls it makes."""
    error_rate: float = Field(0.0, ge=0, le=1)
    steps: list[Step] = Field(default_factory=empty_list)


class Resources(Spec):
    cpu: Cpu = 0.25
    memory: Memory = 256 * 1024**2
    cpu_limit: Cpu | None = None
    memory_limit: Memory | None = None
    """Limits default to twice the CPU request and the memory request."""


class Probe(Spec):
    """Kubernetes probe with its real defaults."""

    path: str | None = None
    period: Duration = 10.0
    timeout: Duration = 1.0
    failure_threshold: int = Field(3, ge=1)
    success_threshold: int = Field(1, ge=1)
    initial_delay: Duration = 0.0


class Health(Spec):
    readiness: Probe | None = None
    liveness: Probe | None = None
    startup: Probe | None = None
    propagation_delay: Duration = 1.0
    """Time for an endpoint change to reach every load balancer."""


class ScalingPolicy(Spec):
    type: Literal["Pods", "Percent"]
    value: int = Field(ge=1)
    period: Duration = 15.0


class ScalingRules(Spec):
    stabilization_window: Duration | None = None
    select_policy: Literal["Max", "Min", "Disabled"] = "Max"
    policies: list[ScalingPolicy] | None = None


class ScalingBehavior(Spec):
    scale_up: ScalingRules | None = None
    scale_down: ScalingRules | None = None


class Autoscaling(Spec):
    """HorizontalPodAutoscaler (autoscaling/v2) on CPU utilisation or requests per replica."""

    min_replicas: int = Field(1, ge=1)
    max_replicas: int = Field(ge=1)
    metric: Literal["cpu", "requests"] = "cpu"
    target: float = Field(gt=0)
    """Percent of the CPU request (cpu) or requests per second per replica (requests)."""
    behavior: ScalingBehavior | None = None
    sync_period: Duration = 15.0
    tolerance: float = Field(0.1, ge=0, lt=1)

    @model_validator(mode="after")
    def _bounds(self) -> "Autoscaling":
        if self.max_replicas < self.min_replicas:
            raise ValueError("maxReplicas must be at least minReplicas")
        return self


class VersionBehaviour(Spec):
    """How the new version behaves, to rehearse a rollout of a good or a bad release."""

    version: str
    image: str | None = None
    work_scale: float = Field(1.0, gt=0)
    """Multiplies every endpoint's work time."""
    error_rate: float | None = Field(None, ge=0, le=1)
    """Replaces every endpoint's error rate when set."""


class Analysis(Spec):
    """Argo Rollouts-style analysis on the new version's metrics."""

    interval: Duration = 60.0
    count: int = Field(1, ge=1)
    failure_limit: int = Field(0, ge=0)
    success_rate: float = Field(0.99, gt=0, le=1)
    """Minimum share of successful requests."""
    max_latency_p99: Duration | None = 0.5


def _canary_step(value: Any) -> Any:
    if isinstance(value, dict) and "pause" in value and value["pause"] in ({}, None):
        return {**value, "pause": {}}
    return value


class Pause(Spec):
    duration: Duration | None = None
    """Absent: wait until promoted."""


class CanaryStep(Spec):
    set_weight: int | None = Field(None, ge=0, le=100)
    pause: Pause | None = None
    analysis: Analysis | None = None

    @model_validator(mode="after")
    def _one(self) -> "CanaryStep":
        if sum(x is not None for x in (self.set_weight, self.pause, self.analysis)) != 1:
            raise ValueError("a canary step has exactly one of setWeight, pause, analysis")
        return self


class Canary(Spec):
    steps: list[Annotated[CanaryStep, BeforeValidator(_canary_step)]] = Field(min_length=1)
    analysis: Analysis | None = None
    """Background analysis that runs through all steps."""
    traffic_routing: Literal["istio", "replicas"] = "istio"


class BlueGreen(Spec):
    preview_replicas: int | None = Field(None, ge=1)
    auto_promotion: bool = True
    auto_promotion_delay: Duration | None = None
    scale_down_delay: Duration = 30.0
    pre_promotion_analysis: Analysis | None = None
    post_promotion_analysis: Analysis | None = None


class Deployment(Spec):
    strategy: Literal["rolling", "canary", "blue-green"] = "rolling"
    new_version: VersionBehaviour | None = None
    start_at: Duration = 0.0
    """When the rollout begins in the simulation."""
    canary: Canary | None = None
    blue_green: BlueGreen | None = None

    @model_validator(mode="after")
    def _strategy_block(self) -> "Deployment":
        if self.strategy == "canary" and self.canary is None:
            raise ValueError("strategy canary needs a `canary:` block")
        if self.strategy == "blue-green" and self.blue_green is None:
            raise ValueError("strategy blue-green needs a `blueGreen:` block")
        if self.strategy != "rolling" and self.new_version is None:
            raise ValueError(f"strategy {self.strategy} needs `newVersion:`")
        return self


class Expose(Spec):
    """A service exposed directly (a web front end): its own Ingress on `host`, handled by the
    cluster's ingress controller of `ingressClassName`, no API gateway in front."""

    host: str = Field(min_length=1, max_length=253, pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
    path: str = Field("/", pattern=r"^/")
    ingress_class_name: str = Field("nginx", min_length=1, max_length=63)
    controller_namespace: str = Field("ingress-nginx", min_length=1, max_length=63)
    """Namespace of the ingress controller's pods, let in by the NetworkPolicy."""


class Service(Spec):
    description: str | None = None
    version: str = "1.0.0"
    image: str | None = None
    """Container image; defaults to `<name>:<version>`."""
    port: int = Field(8080, ge=1, le=65535)
    protocol: Literal["http", "http2", "grpc", "thrift"] = "http"
    """What the port speaks: HTTP/1.1, HTTP/2 (cleartext), gRPC or Thrift (binary over TCP)."""
    expose: Expose | None = None
    """Reach this service from outside through its own Ingress, without the gateway."""
    language: Literal["python", "node", "go", "java"] = "python"
    replicas: int = Field(1, ge=1)
    workers: int = Field(8, ge=1)
    """Requests one replica serves at once (threads, or event-loop slots)."""
    queue_capacity: int | None = Field(None, ge=0)
    """Requests waiting per replica; none means unbounded."""
    concurrency: Literal["thread", "async"] = "thread"
    """`thread` holds the worker while waiting on calls; `async` frees it."""
    scheduling: Literal["fifo", "priority"] = "fifo"
    """Which waiting request a free worker takes: the oldest (`fifo`), or the oldest of the
    highest priority its consumer carries (`priority`: a thread pool over a priority queue,
    non-preemptive: a request at work is never interrupted)."""
    load_balancer: Literal["round-robin", "random", "least-request"] = "round-robin"
    resources: Resources = Field(default_factory=Resources)
    cpu: CpuModel | None = None
    """The replica's processors (model/cpu.py): present, `workers` is only concurrency and the
    endpoints' `work` is CPU time shared by the replica's cores; absent, a worker is a server."""
    startup_time: Distribution | None = None
    """Pod start (scheduling, image pull, warm-up) for new or restarted replicas."""
    termination_grace_period: Duration = 30.0
    """terminationGracePeriodSeconds: how long a deleted pod may finish the work it holds
    before it is killed."""
    endpoints: dict[Annotated[str, Field(pattern=r"^[A-Za-z0-9][-_A-Za-z0-9]*$")], Endpoint] = (
        Field(min_length=1)
    )
    clients: dict[str, ClientPolicy] = Field(default_factory=dict)
    """Outbound policies keyed by target service, or `*` for every target."""
    autoscaling: Autoscaling | None = None
    health: Health | None = None
    deployment: Deployment | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    external: bool = False
    """A third-party API: simulated, never generated."""

    def client_policy(self, target: str) -> ClientPolicy:
        base = self.clients.get("*", ClientPolicy())
        return base.merged(self.clients.get(target))
