"""Load and trouble: who calls the system, how often, and what goes wrong while they do."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator

from .base import Spec
from .changes import Change
from .distributions import Distribution
from .units import Duration, Rate

__all__ = [
    "Arrival",
    "ClosedLoop",
    "ConstantArrival",
    "DiurnalArrival",
    "EntryMix",
    "Fault",
    "OpenLoop",
    "PoissonArrival",
    "RampArrival",
    "RateStep",
    "Scenario",
    "Simulation",
    "SpikeArrival",
    "StepArrival",
    "TrafficOverride",
    "TrafficSource",
]


class PoissonArrival(Spec):
    process: Literal["poisson"] = "poisson"
    rate: Rate


class ConstantArrival(Spec):
    """Evenly spaced arrivals (a load generator at a fixed rate)."""

    process: Literal["constant"] = "constant"
    rate: Rate = Field(gt=0)
    """Positive: evenly spaced arrivals at rate 0 would be spaced infinitely far apart."""


class RampArrival(Spec):
    """Poisson arrivals whose rate moves linearly from `from` to `to` over `over`, then holds."""

    process: Literal["ramp"] = "ramp"
    from_: Rate = Field(alias="from")
    to: Rate
    over: Duration
    start: Duration = 0.0


class RateStep(Spec):
    at: Duration
    rate: Rate


class StepArrival(Spec):
    """Poisson arrivals at piecewise-constant rates."""

    process: Literal["step"] = "step"
    steps: list[RateStep] = Field(min_length=1)

    @model_validator(mode="after")
    def _sorted(self) -> StepArrival:
        times = [s.at for s in self.steps]
        if times != sorted(times):
            raise ValueError("steps must be in increasing order of `at`")
        return self


class SpikeArrival(Spec):
    """Poisson arrivals at `base`, jumping to `peak` at `at` for `duration`."""

    process: Literal["spike"] = "spike"
    base: Rate
    peak: Rate
    at: Duration
    duration: Duration


class DiurnalArrival(Spec):
    """Poisson arrivals with a sinusoidal daily (or `period`) cycle around `mean`."""

    process: Literal["diurnal"] = "diurnal"
    mean: Rate
    amplitude: float = Field(0.5, ge=0, le=1)
    """Swing as a share of the mean: the rate runs from mean(1−a) to mean(1+a)."""
    period: Duration = 86400.0
    peak_at: Duration = 50400.0
    """Time of day of the peak (14:00 by default)."""


Arrival = Annotated[
    PoissonArrival | ConstantArrival | RampArrival | StepArrival | SpikeArrival | DiurnalArrival,
    Field(discriminator="process"),
]


class EntryMix(Spec):
    """One kind of request a source sends: through a gateway route or straight to an endpoint."""

    route: str | None = None
    """Gateway route path, e.g. `/orders`."""
    method: str | None = None
    """Which method of the route, when the route serves several."""
    endpoint: str | None = None
    """`service.endpoint`, bypassing the gateway."""
    weight: float = Field(1.0, gt=0, le=1e9)
    """Relative share of the source's requests (at most 10^9, so that sums stay finite)."""

    @model_validator(mode="after")
    def _one(self) -> EntryMix:
        if (self.route is None) == (self.endpoint is None):
            raise ValueError("a mix entry has either `route` or `endpoint`")
        return self


class OpenLoop(Spec):
    """Requests arrive on their own schedule, whatever the system's state (internet traffic)."""

    type: Literal["open"] = "open"
    arrival: Arrival
    mix: list[EntryMix] = Field(min_length=1)


class ClosedLoop(Spec):
    """A fixed population of users, each waiting for an answer and thinking before the next."""

    type: Literal["closed"] = "closed"
    users: int = Field(ge=1)
    think_time: Distribution
    mix: list[EntryMix] = Field(min_length=1)


def _default_open(value: Any) -> Any:
    if isinstance(value, dict) and "type" not in value:
        return {"type": "closed" if "users" in value else "open", **value}
    return value


TrafficSource = Annotated[
    OpenLoop | ClosedLoop, Field(discriminator="type"), BeforeValidator(_default_open)
]


FaultType = Literal["crash", "latency", "errors", "outage", "partition"]


class Fault(Spec):
    """Something that goes wrong at `at` for `duration` (for ever when absent).

    - crash: `replicas` of `target` stop (all when absent); Kubernetes restarts them after their
      start-up time unless `duration` keeps them down longer.
    - latency: `add` is added to every request `target` serves (service, `service.endpoint`, or
      database).
    - errors: `target` fails a share `rate` of its requests.
    - outage: `target` (service, database or broker) answers nothing: callers see connection
      failures. With `replicas`, only that many pods of a service hang (alive but not answering):
      the case readiness and liveness probes exist for.
    - partition: calls between the two services in `between` fail.
    """

    type: FaultType
    target: str | None = None
    between: list[str] | None = Field(None, min_length=2, max_length=2)
    at: Duration = 0.0
    duration: Duration | None = None
    replicas: int | None = Field(None, ge=1)
    add: Distribution | None = None
    rate: float | None = Field(None, ge=0, le=1)

    @model_validator(mode="after")
    def _fields_for_type(self) -> Fault:
        need: dict[str, tuple[str, ...]] = {
            "crash": ("target",),
            "latency": ("target", "add"),
            "errors": ("target", "rate"),
            "outage": ("target",),
            "partition": ("between",),
        }
        missing = [f for f in need[self.type] if getattr(self, f) is None]
        if missing:
            raise ValueError(f"a {self.type} fault needs {', '.join(missing)}")
        return self


class TrafficOverride(Spec):
    """Replace a source's arrival process, or scale its rate, within a scenario."""

    arrival: Arrival | None = None
    scale: float | None = Field(None, gt=0)
    users: int | None = Field(None, ge=1)


class Scenario(Spec):
    description: str | None = None
    faults: list[Fault] = Field(default_factory=list)
    traffic: dict[str, TrafficOverride] = Field(default_factory=dict)
    duration: Duration | None = None
    changes: list[Change] = Field(default_factory=list)
    """Changes made on purpose during the run, at their times (model/changes.py)."""


class Simulation(Spec):
    duration: Duration = 300.0
    warmup: Duration = 30.0
    seed: int = 1
    window: Duration = 1.0
    replications: int = Field(1, ge=1)

    @model_validator(mode="after")
    def _warmup_inside(self) -> Simulation:
        if self.duration <= 0:
            raise ValueError("duration must be positive")
        if self.warmup >= self.duration:
            raise ValueError("warmup must be shorter than duration")
        if self.window <= 0:
            raise ValueError("window must be positive")
        return self
