"""The one family of CRD CEL rules we evaluate: durations (``duration(self) >= duration('1ms')``).

CRD schemas carry ``x-kubernetes-validations`` (CEL) that the API server runs but JSON Schema
ignores; Istio declares every duration field as a plain string plus such a rule, so ``"30"``
passes the schema yet is rejected by the cluster. We recognise rules that call
``duration(self)`` and check the value parses as a Go/CEL duration with a unit, and the bound when
the rule compares against a literal. Other CEL rules are not evaluated.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterator
from typing import Any

from jsonschema import Draft202012Validator, ValidationError, validators
from jsonschema.protocols import Validator

_UNITS_NS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "μs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_BOUND = re.compile(r"duration\(self\)\s*(>=|<=|>|<)\s*duration\(['\"]([^'\"]+)['\"]\)")
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
}


def parse_duration_ns(text: str) -> float | None:
    """Nanoseconds in a Go duration string (``1m30s``, ``250ms``), or None if it is not one."""
    body = text.strip()
    sign = -1.0 if body.startswith("-") else 1.0
    body = body.lstrip("+-")
    if body == "0":
        return 0.0
    if not body:
        return None
    total, pos = 0.0, 0
    for match in _PART.finditer(body):
        if match.start() != pos:
            return None
        total += float(match.group(1)) * _UNITS_NS[match.group(2)]
        pos = match.end()
    return sign * total if pos == len(body) else None


def _duration_message(value: str) -> str:
    if re.fullmatch(r"\s*\d+(\.\d+)?\s*", value):
        return f"{value!r} has no unit: durations need one, e.g. '{value.strip()}s' or '250ms'"
    return f"{value!r} is not a duration (expected e.g. '30s', '1m30s', '250ms')"


def _check_rules(
    validator: Validator, rules: Any, instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    if not isinstance(rules, list) or not isinstance(instance, str):
        return
    for rule in rules:
        text = rule.get("rule") if isinstance(rule, dict) else None
        if not isinstance(text, str) or "duration(self)" not in text:
            continue
        value = parse_duration_ns(instance)
        if value is None:
            yield ValidationError(_duration_message(instance))
            return
        bound = _BOUND.search(text)
        limit = parse_duration_ns(bound.group(2)) if bound else None
        if bound and limit is not None and not _COMPARE[bound.group(1)](value, limit):
            message = rule.get("message") or f"must satisfy {text}"
            yield ValidationError(f"{instance!r}: {message}")


CrdValidator: type[Validator] = validators.extend(  # type: ignore[no-untyped-call]
    Draft202012Validator, {"x-kubernetes-validations": _check_rules}
)
