"""The pydantic base every architecture-file model derives from.

Fields are snake_case in Python and camelCase in the file (the Kubernetes convention the audience
reads every day). Unknown keys are errors: a misspelt `timout:` that is silently ignored is the
worst kind of bug in a design tool.
"""

import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, field_validator
from pydantic.alias_generators import to_camel

MAX_INT = 2**53
"""Largest whole number a field takes: exactly representable as a float (the simulator's
arithmetic) and in JSON. A 400-digit `replicas` is a typo, not a plan."""


WHOLE_NUMBER_FIELDS = (
    "attempts",
    "batch",
    "capacity",
    "compensation_retries",
    "consecutive_5xx_errors",
    "core_threads",
    "cores",
    "count",
    "day",
    "events",
    "fail_max",
    "failure_limit",
    "failure_threshold",
    "hour",
    "http1_max_pending_requests",
    "http2_max_requests",
    "k",
    "keys",
    "max",
    "max_append_retries",
    "max_attempts",
    "max_concurrent",
    "max_connections",
    "max_deliveries",
    "max_ejection_percent",
    "max_in_flight",
    "max_replicas",
    "max_threads",
    "max_tokens",
    "min",
    "min_health_percent",
    "min_replicas",
    "minimum_calls",
    "minute",
    "partitions",
    "permitted_in_half_open",
    "pool",
    "port",
    "preview_replicas",
    "priority",
    "queue_capacity",
    "read_page",
    "repeat",
    "replicas",
    "replications",
    "second",
    "seed",
    "set_weight",
    "snapshot_every",
    "stream_length",
    "success_threshold",
    "tokens_per_fill",
    "users",
    "value",
    "weight",
    "window_size",
    "workers",
)
"""The names of the fields, in any class of the model, whose value can be a whole number (an
`int`, alone or in a union): the fields `Spec._bounded_int` checks. The check is the one it was
as `field_validator("*")`, at the same place in each field's validation (after the field's own
constraints), so the same errors at the same line, column and path; a field that cannot hold an
`int` never failed it. Applied to every field, pydantic built the validator into all ~480 fields'
schemas (1.7 % of `scalesim simulate`'s instructions before its first event); these names cover
the ~76 that need it. A field of another type with one of these names gets the check too, which
costs a little and changes nothing. tests/model/test_hostile.py derives the list from the
model's annotations and fails when a field that can hold an `int` is missing from it."""

_F = TypeVar("_F", bound=Callable[..., Any])


def signed(func: _F) -> _F:
    """`func` with its signature worked out once. pydantic inspects a validator's or
    serializer's signature again for each field it wraps: for `_bounded_int`, every field of
    every class (about 480 at import, 0.01 s of every command's start-up); for the unit types'
    parsers and formatters (model/units.py), every field of that type (about 200, 0.003 s)."""
    func.__signature__ = inspect.signature(func)  # type: ignore[attr-defined]
    return func


def empty_list() -> list[Any]:
    """`Field(default_factory=empty_list)` for an empty list: pydantic asks each factory for its
    signature, and `list`'s is parsed from its text each time (0.4 ms a field, 15 fields: 0.006 s
    of every start); a function's is read directly."""
    return []


class Spec(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=False,
        validate_default=False,
        # `.nan` and `.inf` are YAML floats but no field means them: a weight of infinity
        # sent all traffic to one route, a NaN passed every `>` check.
        allow_inf_nan=False,
        # Not `use_attribute_docstrings`: it parses every class's source at import (0.07 s of
        # every command); the JSON Schema reads the field docstrings itself (model/schema.py).
    )

    @field_validator(*WHOLE_NUMBER_FIELDS, mode="after", check_fields=False)
    @staticmethod
    @signed
    def _bounded_int(value: Any) -> Any:
        if type(value) is int and not -MAX_INT <= value <= MAX_INT:
            raise ValueError("whole numbers must be at most 2^53 (9007199254740992)")
        return value
