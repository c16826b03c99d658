"""Things an operator changes while the system runs: a scenario's `changes:` schedule.

A fault is something that goes wrong; a change is something someone does on purpose, at a
time: shift a strangler fig's route weights (the gateway's `split`, as one edits a Kong
upstream's target weights or an Istio VirtualService's route weights), scale a Deployment
(`kubectl scale`), promote or abort an Argo rollout by hand (`kubectl argo rollouts promote` /
`abort`), or roll out a configuration change that makes an endpoint slower, faster or more
error-prone (a feature flag, a new connection string). Each takes effect at `at` and lasts
until a later change of the same thing.
"""

from typing import Annotated, Literal

from pydantic import Field, model_validator

from .base import Spec
from .distributions import Distribution
from .edge import RouteTarget
from .units import Duration

__all__ = [
    "AbortChange",
    "Change",
    "ConfigChange",
    "PromoteChange",
    "ReplicasChange",
    "RouteWeightsChange",
]


class RouteWeightsChange(Spec):
    """New weights for a gateway route's targets from `at` on (weights sum to 100).

    The targets may differ from the route's own: a route written with `endpoint:` can be split
    later, and a target can be added or dropped (weight 0)."""

    type: Literal["route-weights"]
    at: Duration
    route: str = Field(pattern=r"^/")
    """The gateway route's `path`."""
    method: str | None = None
    """Which route of that path, when several serve different methods."""
    split: list[RouteTarget] = Field(min_length=1)

    @model_validator(mode="after")
    def _sum(self) -> "RouteWeightsChange":
        total = sum(t.weight for t in self.split)
        if total != 100:
            raise ValueError(f"split weights must sum to 100, got {total}")
        names = [t.endpoint for t in self.split]
        if len(set(names)) != len(names):
            raise ValueError("each endpoint appears once in a split")
        return self


class ReplicasChange(Spec):
    """`kubectl scale --replicas=N`: pods are added (serving after their start-up time) or
    removed (leaving the balancer at once, finishing their work within the grace period)."""

    type: Literal["replicas"]
    at: Duration
    service: str
    replicas: int = Field(ge=0)


class PromoteChange(Spec):
    """`kubectl argo rollouts promote <service>`: a paused rollout resumes (an indefinite
    pause ends, a timed pause is skipped, a blue-green rollout waiting for promotion switches);
    with `full: true` (`promote --full`) every remaining step and analysis is skipped."""

    type: Literal["promote"]
    at: Duration
    service: str
    full: bool = False


class AbortChange(Spec):
    """`kubectl argo rollouts abort <service>`: all traffic back to the stable version, the
    new ReplicaSet scaled down."""

    type: Literal["abort"]
    at: Duration
    service: str


class ConfigChange(Spec):
    """A configuration change that alters how an endpoint (or every endpoint of a service)
    behaves from `at` on: its own `work` time, its `errorRate`, or both. The change replaces
    the file's figures; faults active at the same time still add to them."""

    type: Literal["config"]
    at: Duration
    target: str
    """`service` or `service.endpoint`."""
    work: Distribution | None = None
    error_rate: float | None = Field(None, ge=0, le=1)

    @model_validator(mode="after")
    def _something(self) -> "ConfigChange":
        if self.work is None and self.error_rate is None:
            raise ValueError("a config change sets `work`, `errorRate` or both")
        return self


Change = Annotated[
    RouteWeightsChange | ReplicasChange | PromoteChange | AbortChange | ConfigChange,
    Field(discriminator="type"),
]
