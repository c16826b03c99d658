"""Load and trouble: who calls the system, how often, and what goes wrong while they do."""

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator

from .base import Spec, empty_list
from .changes import Change
from .distributions import Distribution
from .series import SeriesArrival
from .sessions import SessionStep
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
    "SeriesArrival",
    "SessionStep",
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
    def _sorted(self) -> "StepArrival":
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
    PoissonArrival
    | ConstantArrival
    | RampArrival
    | StepArrival
    | SpikeArrival
    | DiurnalArrival
    | SeriesArrival,
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
    def _one(self) -> "EntryMix":
        if (self.route is None) == (self.endpoint is None):
            raise ValueError("a mix entry has either `route` or `endpoint`")
        return self


class _Sends(Spec):
    """What a source sends: a weighted `mix` of single requests, or a `session` per user.
    (The fields are declared on each source, after its own, to keep the file's key order.)"""

    if TYPE_CHECKING:
        mix: list[EntryMix]
        session: list[SessionStep] | None

    @model_validator(mode="after")
    def _mix_or_session(self) -> "_Sends":
        if bool(self.mix) == (self.session is not None):
            raise ValueError("a traffic source has either a non-empty `mix` or a `session`")
        return self

    def requests(self) -> list[EntryMix]:
        """Each kind of request the source sends, weighted by how many it sends of it (for a
        session: the expected requests of each step per session)."""
        if self.session is None:
            return list(self.mix)
        return [
            EntryMix(route=s.route, method=s.method, endpoint=s.endpoint, weight=s.mean_requests)
            for s in self.session
            if s.mean_requests > 0
        ]

    def per_arrival(self) -> float:
        """Requests one arrival sends: 1 for a mix, a session's expected requests otherwise."""
        if self.session is None:
            return 1.0
        return sum(s.mean_requests for s in self.session)


class OpenLoop(_Sends):
    """Requests arrive on their own schedule, whatever the system's state (internet traffic).
    With a `session`, each arrival is a new user who follows it once and leaves."""

    type: Literal["open"] = "open"
    arrival: Arrival
    mix: list[EntryMix] = Field(default_factory=empty_list)
    session: list[SessionStep] | None = Field(None, min_length=1, max_length=1000)
    """A sequence of requests each arrival follows once (model/sessions.py)."""
    consumer: str | None = Field(None, min_length=1, max_length=253)
    """The gateway consumer (`gateway.consumers`) its requests are sent as."""
    priority: int | None = Field(None, ge=0, le=1000)
    """The priority its tenant's requests carry when there is no gateway consumer to hold it
    (model/consumers.py `priority`); needs `consumer`."""


class ClosedLoop(_Sends):
    """A fixed population of users, each waiting for an answer and thinking before the next.
    With a `session`, each user follows it, then starts it again."""

    type: Literal["closed"] = "closed"
    users: int = Field(ge=1)
    think_time: Distribution
    mix: list[EntryMix] = Field(default_factory=empty_list)
    session: list[SessionStep] | None = Field(None, min_length=1, max_length=1000)
    """A sequence of requests each user follows, again and again (model/sessions.py)."""
    consumer: str | None = Field(None, min_length=1, max_length=253)
    """The gateway consumer (`gateway.consumers`) its requests are sent as."""
    priority: int | None = Field(None, ge=0, le=1000)
    """The priority its tenant's requests carry when there is no gateway consumer to hold it
    (model/consumers.py `priority`); needs `consumer`."""


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
    def _fields_for_type(self) -> "Fault":
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
    faults: list[Fault] = Field(default_factory=empty_list)
    traffic: dict[str, TrafficOverride] = Field(default_factory=dict)
    duration: Duration | None = None
    changes: list[Change] = Field(default_factory=empty_list)
    """Changes made on purpose during the run, at their times (model/changes.py)."""


class Simulation(Spec):
    duration: Duration = 300.0
    warmup: Duration = 30.0
    seed: int = 1
    window: Duration = 1.0
    replications: int = Field(1, ge=1)

    @model_validator(mode="after")
    def _warmup_inside(self) -> "Simulation":
        if self.duration <= 0:
            raise ValueError("duration must be positive")
        if self.warmup >= self.duration:
            raise ValueError("warmup must be shorter than duration")
        if self.window <= 0:
            raise ValueError("window must be positive")
        return self
