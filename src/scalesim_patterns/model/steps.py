"""What an endpoint does after its own work: the ordered steps of its call graph.

A step is a mapping named by its one distinctive key (`call:`, `parallel:`, `query:`, `publish:`,
`saga:`, `append:`, `choice:`, and `steps:` for a repeated group), which reads like the sequence
diagram an engineer would draw.
"""

from collections.abc import Iterator, Mapping
from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, model_validator

from .base import Spec, empty_list
from .counts import Count, count_mean
from .resilience import ClientPolicy

__all__ = [
    "STEP_KEYS",
    "AppendStep",
    "CacheStep",
    "CallStep",
    "ChoiceOption",
    "ChoiceStep",
    "GroupStep",
    "ParallelStep",
    "PublishStep",
    "QueryStep",
    "SagaStep",
    "Step",
    "expand",
]

_TARGET = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?\.[A-Za-z0-9][-_A-Za-z0-9]*$"


class CallStep(ClientPolicy):
    """Synchronous request to another service's endpoint; inline policy fields override the client's."""

    call: str = Field(pattern=_TARGET)
    """Target as `service.endpoint`."""
    probability: float = Field(1.0, gt=0, le=1)
    repeat: Count = 1
    """Calls one after another: a whole number, or a distribution of counts (model/counts.py)."""

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
    repeat: Count = 1
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


class ChoiceOption(ClientPolicy):
    """One branch of a choice: a call with its weight, or (no `call`) going on without one."""

    call: str | None = Field(None, pattern=_TARGET)
    weight: float = Field(gt=0)
    repeat: Count = 1

    def as_call(self) -> CallStep:
        """The option's call as a call step (it must have one)."""
        assert self.call is not None
        fields = {
            k: getattr(self, k) for k in ClientPolicy.model_fields if k in self.model_fields_set
        }
        return CallStep.model_construct(
            _fields_set={"call", "repeat", *fields},
            call=self.call,
            probability=1.0,
            repeat=self.repeat,
            **fields,
        )


class ChoiceStep(Spec):
    """Exactly one of the options, by weight: "either A (70 %) or B (30 %)"."""

    choice: list[ChoiceOption] = Field(min_length=2)

    @model_validator(mode="after")
    def _one_call(self) -> "ChoiceStep":
        if all(o.call is None for o in self.choice):
            raise ValueError("a choice needs at least one option with a `call`")
        return self

    def shares(self) -> list[float]:
        total = sum(o.weight for o in self.choice)
        return [o.weight / total for o in self.choice]


class CacheStep(Spec):
    """Cache-aside: look the key up in a cache (model/caches.py); on a miss run `miss` (read the
    backing store), then fill the cache."""

    cache: str
    miss: list["Step"] = Field(default_factory=empty_list)
    probability: float = Field(1.0, gt=0, le=1)


class GroupStep(Spec):
    """Steps repeated together: `repeat` times the whole sequence (items in a cart: for each,
    check stock and reserve it)."""

    steps: list["Step"] = Field(min_length=1)
    repeat: Count
    probability: float = Field(1.0, gt=0, le=1)


STEP_KEYS: tuple[str, ...] = (
    "call",
    "parallel",
    "query",
    "publish",
    "saga",
    "append",
    "choice",
    "steps",
    "cache",
)


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
    "choice": ChoiceStep,
    "steps": GroupStep,
    "cache": CacheStep,
}

Step = Annotated[
    Annotated[CallStep, Tag("call-step")]
    | Annotated[ParallelStep, Tag("parallel-step")]
    | Annotated[QueryStep, Tag("query-step")]
    | Annotated[PublishStep, Tag("publish-step")]
    | Annotated[SagaStep, Tag("saga-step")]
    | Annotated[AppendStep, Tag("append-step")]
    | Annotated[ChoiceStep, Tag("choice-step")]
    | Annotated[GroupStep, Tag("steps-step")]
    | Annotated[CacheStep, Tag("cache-step")],
    Discriminator(
        _step_kind,
        custom_error_type="step_kind",
        custom_error_message="a step needs exactly one of the keys call, parallel, query, publish, "
        "saga, append, choice, steps, cache",
    ),
]

GroupStep.model_rebuild()
CacheStep.model_rebuild()


def expand(
    steps: list[Step], factor: float = 1.0, misses: Mapping[str, float] | None = None
) -> Iterator[tuple[Step, float]]:
    """Every step that does something, with how often it runs per run of `steps` on average:
    groups opened (× their mean count and probability), a choice's options as call steps
    (× their share), a cache step's `miss` steps (× the cache's miss share in `misses`, every
    lookup missing when it is not given). `probability` and `repeat` of the leaves are left to
    the caller; a cache step itself is yielded too (its lookups)."""
    for step in steps:
        if isinstance(step, GroupStep):
            yield from expand(
                step.steps, factor * step.probability * count_mean(step.repeat), misses
            )
        elif isinstance(step, CacheStep):
            yield step, factor
            share = 1.0 if misses is None else misses.get(step.cache, 1.0)
            yield from expand(step.miss, factor * step.probability * share, misses)
        elif isinstance(step, ChoiceStep):
            for option, share in zip(step.choice, step.shares(), strict=True):
                if option.call is not None:
                    yield option.as_call(), factor * share
        else:
            yield step, factor
