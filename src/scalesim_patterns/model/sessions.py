"""User sessions: a sequence of requests a user makes, with think times and per-session state.

Locust's `SequentialTaskSet` runs a user's tasks in order with `wait_time` between them; a k6
virtual user runs its scenario function — requests with `sleep()` between — once per iteration.
A `session:` here is that sequence: each step sends one kind of request (a gateway route or an
endpoint), waits for the answer, thinks, and goes on. What a user decides for this session — how
many items to add (`repeat: {min: 1, max: 3}`), whether to check out at all (`probability`) — is
drawn when the session reaches the step, and is the session's own state.
"""

from pydantic import Field, model_validator

from .base import Spec
from .distributions import Distribution

__all__ = ["RepeatRange", "SessionStep"]


class RepeatRange(Spec):
    """A whole number drawn uniformly from `min`..`max` (both included) once per session."""

    min: int = Field(ge=0, le=10_000)
    max: int = Field(ge=1, le=10_000)

    @model_validator(mode="after")
    def _ordered(self) -> "RepeatRange":
        if self.max < self.min:
            raise ValueError("max must be at least min")
        return self

    @property
    def mean(self) -> float:
        return (self.min + self.max) / 2


class SessionStep(Spec):
    """One step of a session: the request, how often, and the pause after each answer."""

    name: str | None = Field(None, min_length=1, max_length=63)
    """Label in the results (default: the route or endpoint)."""
    route: str | None = None
    method: str | None = None
    endpoint: str | None = None
    repeat: int | RepeatRange = Field(1)
    """Requests of this step per session: a number, or `{min, max}` drawn per session."""
    probability: float = Field(1.0, ge=0, le=1)
    """Share of sessions that take this step at all (the rest skip it)."""
    think_time: Distribution | None = None
    """Pause after each answer of this step; default: the source's `thinkTime`."""

    @model_validator(mode="after")
    def _one(self) -> "SessionStep":
        if (self.route is None) == (self.endpoint is None):
            raise ValueError("a session step has either `route` or `endpoint`")
        if isinstance(self.repeat, int) and not 0 <= self.repeat <= 10_000:
            raise ValueError("repeat must be between 0 and 10000")
        return self

    @property
    def label(self) -> str:
        if self.name is not None:
            return self.name
        if self.endpoint is not None:
            return self.endpoint
        assert self.route is not None
        return f"{self.method} {self.route}" if self.method else self.route

    @property
    def mean_requests(self) -> float:
        """Expected requests of this step per session."""
        rep = self.repeat.mean if isinstance(self.repeat, RepeatRange) else float(self.repeat)
        return self.probability * rep
