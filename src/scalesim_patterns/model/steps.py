"""What an endpoint does after its own work: the ordered steps of its call graph.

A step is a mapping named by its one distinctive key (`call:`, `parallel:`, `query:`, `publish:`,
`saga:`, `append:`), which reads like the sequence diagram an engineer would draw.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag

from .base import Spec
from .resilience import ClientPolicy

__all__ = [
    "STEP_KEYS",
    "AppendStep",
    "CallStep",
    "ParallelStep",
    "PublishStep",
    "QueryStep",
    "SagaStep",
    "Step",
]


class CallStep(ClientPolicy):
    """Synchronous request to another service's endpoint; inline policy fields override the client's."""

    call: str = Field(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?\.[A-Za-z0-9][-_A-Za-z0-9]*$")
    """Target as `service.endpoint`."""
    probability: float = Field(1.0, gt=0, le=1)
    repeat: int = Field(1, ge=1)

    @property
    def service(self) -> str:
        return self.call.split(".", 1)[0]

    @property
    def endpoint(self) -> str:
        return self.call.split(".", 1)[1]

    def policy(self) -> ClientPolicy:
        """Only the policy fields set on this step."""
        fields = {
            k: getattr(self, k) for k in ClientPolicy.model_fields if k in self.model_fields_set
        }
        return ClientPolicy.model_construct(_fields_set=set(fields), **fields)


class ParallelStep(Spec):
    """Calls sent together; the caller waits for all of them."""

    parallel: list[CallStep] = Field(min_length=1)
    probability: float = Field(1.0, gt=0, le=1)


class QueryStep(Spec):
    """A database operation through the service's connection pool."""

    query: str
    operation: Literal["read", "write"] = "read"
    repeat: int = Field(1, ge=1)
    probability: float = Field(1.0, gt=0, le=1)


class PublishStep(Spec):
    """Asynchronous publish; the publisher waits only for the broker's acknowledgement."""

    publish: str
    probability: float = Field(1.0, gt=0, le=1)


class SagaStep(Spec):
    """Run a saga from here (this service is its orchestrator or its first participant)."""

    saga: str
    probability: float = Field(1.0, gt=0, le=1)


class AppendStep(Spec):
    """Append events to an event store with optimistic concurrency."""

    append: str
    events: int = Field(1, ge=1)
    probability: float = Field(1.0, gt=0, le=1)


STEP_KEYS: tuple[str, ...] = ("call", "parallel", "query", "publish", "saga", "append")


def _step_kind(value: Any) -> str | None:
    if isinstance(value, dict):
        found = [k for k in STEP_KEYS if k in value]
        return f"{found[0]}-step" if len(found) == 1 else None
    for key, cls in _CLASSES.items():
        if isinstance(value, cls):
            return f"{key}-step"
    return None


_CLASSES: dict[str, type[Spec]] = {
    "call": CallStep,
    "parallel": ParallelStep,
    "query": QueryStep,
    "publish": PublishStep,
    "saga": SagaStep,
    "append": AppendStep,
}

Step = Annotated[
    Annotated[CallStep, Tag("call-step")]
    | Annotated[ParallelStep, Tag("parallel-step")]
    | Annotated[QueryStep, Tag("query-step")]
    | Annotated[PublishStep, Tag("publish-step")]
    | Annotated[SagaStep, Tag("saga-step")]
    | Annotated[AppendStep, Tag("append-step")],
    Discriminator(
        _step_kind,
        custom_error_type="step_kind",
        custom_error_message="a step needs exactly one of the keys call, parallel, query, publish, saga, append",
    ),
]
