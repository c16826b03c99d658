"""The architecture file: one document every part of ScaleSim Patterns reads."""

from typing import Annotated, Literal

from pydantic import Field

from .base import Spec, empty_list
from .caches import Cache
from .data import Broker, Database, EventStore, Saga
from .edge import Gateway, Mesh, Network, Tracing
from .service import NAME, Endpoint, Service
from .traffic import Scenario, Simulation, TrafficSource
from .units import Duration

__all__ = ["API_VERSION", "Architecture", "ArchitectureSpec", "Metadata", "Slo"]

API_VERSION = "scalesim.dev/v1alpha1"

Name = Annotated[str, Field(pattern=NAME, max_length=63)]


class Metadata(Spec):
    name: Name
    description: str | None = None
    namespace: Name | None = None
    """Kubernetes namespace of the generated objects; defaults to the architecture's name."""
    labels: dict[str, str] = Field(default_factory=dict)
    patterns: list[str] = Field(default_factory=empty_list)
    """Catalog pattern ids this architecture applies (see `scalesim catalog`)."""
    template: str | None = None
    """The template it was created from."""


class Slo(Spec):
    """A service-level objective the generator turns into alerts and the simulator checks."""

    name: Name
    target: str
    """`service.endpoint` or gateway route path."""
    latency_percentile: float = Field(99.0, gt=0, lt=100)
    latency: Duration | None = None
    availability: float | None = Field(None, gt=0, lt=100)
    """Percent of requests that must succeed."""


class ArchitectureSpec(Spec):
    services: dict[Name, Service] = Field(min_length=1)
    databases: dict[Name, Database] = Field(default_factory=dict)
    brokers: dict[Name, Broker] = Field(default_factory=dict)
    event_stores: dict[Name, EventStore] = Field(default_factory=dict)
    caches: dict[Name, Cache] = Field(default_factory=dict)
    """Cache-aside caches (model/caches.py), looked up by `cache:` steps."""
    sagas: dict[Name, Saga] = Field(default_factory=dict)
    gateway: Gateway | None = None
    mesh: Mesh | None = None
    network: Network = Field(default_factory=Network)
    tracing: Tracing | None = None
    traffic: dict[Name, TrafficSource] = Field(min_length=1)
    scenarios: dict[Name, Scenario] = Field(default_factory=dict)
    simulation: Simulation = Field(default_factory=Simulation)
    slos: list[Slo] = Field(default_factory=empty_list)


class Architecture(Spec):
    """A whole system: services, their data, their traffic, and what may go wrong."""

    api_version: Literal["scalesim.dev/v1alpha1"] = Field(
        "scalesim.dev/v1alpha1", alias="apiVersion"
    )
    kind: Literal["Architecture"] = "Architecture"
    metadata: Metadata
    spec: ArchitectureSpec

    @property
    def name(self) -> str:
        return self.metadata.name

    @property
    def namespace(self) -> str:
        return self.metadata.namespace or self.metadata.name

    def endpoint(self, ref: str) -> Endpoint:
        """The endpoint named `service.endpoint`; KeyError if absent."""
        service, _, endpoint = ref.partition(".")
        return self.spec.services[service].endpoints[endpoint]

    def topic_owner(self, topic: str) -> str | None:
        """The broker that carries `topic`."""
        for name, broker in self.spec.brokers.items():
            if topic in broker.topics:
                return name
        return None
