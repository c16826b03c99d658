"""Durations, rates and quantities written the way Kubernetes users write them.

A bare number where a unit is needed is an error: `timeout: 5` could mean five seconds or five
milliseconds, and guessing wrong silently skews every figure the simulator prints. Values are
stored in SI base units (seconds, requests per second, cores, bytes) so the rest of the code never
deals with strings.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler, ValidationInfo
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

__all__ = [
    "Cpu",
    "Duration",
    "Memory",
    "Rate",
    "format_duration",
    "format_rate",
    "parse_cpu",
    "parse_duration",
    "parse_memory",
    "parse_rate",
]

_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_DURATION_FULL = re.compile(r"^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$")
DURATION_FORMS = "a number with a unit: '250ms', '1.5s', '2m', '1h30m' (units ns, us, ms, s, m, h)"

_RATE_UNITS = {
    "s": 1.0,
    "sec": 1.0,
    "second": 1.0,
    "m": 1 / 60,
    "min": 1 / 60,
    "minute": 1 / 60,
    "h": 1 / 3600,
    "hour": 1 / 3600,
    "d": 1 / 86400,
    "day": 1 / 86400,
}
_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*/\s*([a-zµ]+)\s*$")
RATE_FORMS = "a count per time unit: '500/s', '3000/min', '20/h', '1000/d'"

_CPU = re.compile(r"^(\d+(?:\.\d+)?)(m?)$")
CPU_FORMS = "cores as in Kubernetes: '500m', '0.5', '2'"
_MEM_UNITS = {
    "": 1,
    "k": 1000,
    "M": 1000**2,
    "G": 1000**3,
    "T": 1000**4,
    "Ki": 1024,
    "Mi": 1024**2,
    "Gi": 1024**3,
    "Ti": 1024**4,
}
_MEM = re.compile(r"^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$")
MEMORY_FORMS = "bytes as in Kubernetes: '256Mi', '1Gi', '512M'"


MAX_CPU = 1024.0
"""Cores one container may ask for: more than any machine has."""
MAX_MEMORY = 64 * 1024**4
"""Bytes one container may ask for (64Ti): more than any machine has."""


def _r(value: Any) -> str:
    """repr of a value for a message, shortened: a 400-digit number is shown by its length."""
    text = repr(value) if not isinstance(value, int) or abs(value) < 10**40 else "a huge number"
    return text if len(text) <= 40 else f"{text[:20]}...({len(text)} characters)"


def _finite(seconds: float, value: Any, what: str) -> float:
    if not math.isfinite(seconds):
        raise ValueError(f"{_r(value)} is too large for a {what}")
    return seconds


def parse_duration(value: Any) -> float:
    """Seconds from a Kubernetes-style duration string ('250ms', '1m30s').

    Finite always: a 400-digit number of seconds is not a duration, it is a mistake.
    """
    if isinstance(value, bool) or not isinstance(value, str):
        if isinstance(value, int | float) and not isinstance(value, bool) and value == 0:
            return 0.0
        raise ValueError(f"expected a duration with a unit, got {_r(value)}; use {DURATION_FORMS}")
    text = value.strip()
    if not _DURATION_FULL.match(text):
        raise ValueError(f"{_r(value)} is not a duration; use {DURATION_FORMS}")
    seconds = sum(float(n) * _DURATION_UNITS[u] for n, u in _DURATION_PART.findall(text))
    return _finite(seconds, value, "duration")


def format_duration(seconds: float) -> str:
    """The shortest exact string for a duration, so files round-trip stably."""
    if seconds == 0:
        return "0s"
    for unit, factor in (("h", 3600.0), ("m", 60.0), ("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        n = seconds / factor
        if n >= 1 and abs(n - round(n)) < 1e-9:
            return f"{round(n)}{unit}"
    ms = seconds * 1e3
    return f"{ms:.6g}ms" if ms >= 0.001 else f"{seconds * 1e9:.6g}ns"


def parse_rate(value: Any) -> float:
    """Events per second from '500/s' or '3000/min'."""
    if isinstance(value, bool) or not isinstance(value, str):
        raise ValueError(f"expected a rate with a unit, got {_r(value)}; use {RATE_FORMS}")
    m = _RATE.match(value)
    if not m or m.group(2) not in _RATE_UNITS:
        raise ValueError(f"{_r(value)} is not a rate; use {RATE_FORMS}")
    return _finite(float(m.group(1)) * _RATE_UNITS[m.group(2)], value, "rate")


def format_rate(per_second: float) -> str:
    if per_second >= 1 or per_second == 0:
        return f"{per_second:g}/s"
    per_minute = per_second * 60
    if per_minute >= 1:
        return f"{per_minute:g}/min"
    return f"{per_second * 3600:g}/h"


def _cpu_range(cores: float, value: Any) -> float:
    if not 0 < cores <= MAX_CPU:  # False for NaN too
        raise ValueError(
            f"CPU must be more than 0 and at most {MAX_CPU:g} cores, got {_r(value)}; use {CPU_FORMS}"
        )
    return cores


def parse_cpu(value: Any) -> float:
    """Cores from '500m', '0.5' or 2, within (0, MAX_CPU]."""
    if isinstance(value, bool):
        raise ValueError(f"expected CPU, got {_r(value)}; use {CPU_FORMS}")
    if isinstance(value, int | float):
        if isinstance(value, int) and abs(value) > MAX_CPU:
            return _cpu_range(math.inf, value)
        return _cpu_range(float(value), value)
    if isinstance(value, str):
        m = _CPU.match(value.strip())
        if m:
            return _cpu_range(float(m.group(1)) / (1000 if m.group(2) else 1), value)
    raise ValueError(f"{_r(value)} is not a CPU quantity; use {CPU_FORMS}")


def format_cpu(cores: float) -> str:
    milli = cores * 1000
    if abs(milli - round(milli)) < 1e-6 and milli % 1000:
        return f"{round(milli)}m"
    return f"{cores:g}"


def _memory_range(size: float, value: Any) -> float:
    if not 0 < size <= MAX_MEMORY:
        raise ValueError(
            f"memory must be more than 0 and at most 64Ti, got {_r(value)}; use {MEMORY_FORMS}"
        )
    return size


def parse_memory(value: Any) -> float:
    """Bytes from '256Mi', within (0, 64Ti]."""
    if isinstance(value, bool):
        raise ValueError(f"expected memory, got {_r(value)}; use {MEMORY_FORMS}")
    if isinstance(value, int) and value > 0:
        return _memory_range(float(min(value, 2 * MAX_MEMORY)), value)
    if isinstance(value, str):
        m = _MEM.match(value.strip())
        if m and float(m.group(1)) > 0:
            return _memory_range(float(m.group(1)) * _MEM_UNITS[m.group(2) or ""], value)
    raise ValueError(f"{_r(value)} is not a memory quantity; use {MEMORY_FORMS}")


def format_memory(size: float) -> str:
    for unit in ("Ti", "Gi", "Mi", "Ki"):
        n = size / _MEM_UNITS[unit]
        if n >= 1 and abs(n - round(n)) < 1e-9:
            return f"{round(n)}{unit}"
    return f"{round(size)}"


STRICT_UNITS = "strict_units"
"""Validation-context key the file loader sets: in a file a bare number is an error; from Python
code, a number is already in base units (seconds, per second)."""


def _lenient(parse: Any) -> Any:
    def validate(value: Any, info: ValidationInfo) -> Any:
        strict = bool(info.context and info.context.get(STRICT_UNITS))
        if not strict and isinstance(value, int | float) and not isinstance(value, bool):
            if not value >= 0:  # NaN included
                raise ValueError(f"must not be negative, got {_r(value)}")
            try:
                number = float(value)
            except OverflowError:
                number = math.inf
            if not math.isfinite(number):
                raise ValueError(f"must be finite, got {_r(value)}")
            return number
        return parse(value)

    return validate


class _Unit:
    """A unit type's annotation: what `BeforeValidator(parse)`, `PlainSerializer(format,
    return_type=str)` and `WithJsonSchema(json_schema)` did, in that order, as one annotation.
    pydantic applied the three, each inspecting its function and wrapping the schema, to each of
    the ~120 fields of these types (1.4 % of `scalesim simulate`'s instructions before its first
    event); the core schema and the JSON Schema are the same dicts (tests/model/test_units.py
    compares them with the three annotations')."""

    __slots__ = ("format", "info", "json_schema", "parse")

    def __init__(
        self,
        parse: Callable[..., float],
        format: Callable[[float], str],
        json_schema: dict[str, Any],
        *,
        info: bool,
    ) -> None:
        self.parse = parse
        self.format = format
        self.json_schema = json_schema
        self.info = info
        """Whether `parse` takes pydantic's `ValidationInfo` as its second argument."""

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        inner = handler(source)
        schema = (
            core_schema.with_info_before_validator_function(self.parse, inner)
            if self.info
            else core_schema.no_info_before_validator_function(self.parse, inner)
        )
        schema["serialization"] = core_schema.plain_serializer_function_ser_schema(
            self.format, info_arg=False, return_schema=core_schema.str_schema()
        )
        return schema

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return self.json_schema.copy()


Duration = Annotated[
    float,
    _Unit(
        _lenient(parse_duration),
        format_duration,
        {
            "type": "string",
            "pattern": r"^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$",
            "description": DURATION_FORMS,
            "examples": ["250ms", "30s"],
        },
        info=True,
    ),
]
Rate = Annotated[
    float,
    _Unit(
        _lenient(parse_rate),
        format_rate,
        {
            "type": "string",
            "pattern": r"^\s*\d+(\.\d+)?\s*/\s*[a-z]+\s*$",
            "description": RATE_FORMS,
            "examples": ["500/s", "3000/min"],
        },
        info=True,
    ),
]
Cpu = Annotated[
    float,
    _Unit(
        parse_cpu,
        format_cpu,
        {
            "anyOf": [
                {"type": "string", "pattern": r"^\d+(\.\d+)?m?$"},
                {"type": "number", "exclusiveMinimum": 0},
            ],
            "description": CPU_FORMS,
        },
        info=False,
    ),
]
Memory = Annotated[
    float,
    _Unit(
        parse_memory,
        format_memory,
        {
            "anyOf": [
                {"type": "string", "pattern": r"^\d+(\.\d+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$"},
                {"type": "integer", "minimum": 1},
            ],
            "description": MEMORY_FORMS,
        },
        info=False,
    ),
]
