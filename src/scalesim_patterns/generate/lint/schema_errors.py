"""Turn jsonschema errors into findings a person can act on.

jsonschema messages start with the repr of the failing value, which for an object is the whole
object; these helpers say what was expected instead, report each unknown field at its own path
(so the finding carries the line of the misspelt key), and suggest the nearest known field name.
"""

from __future__ import annotations

import ast
import difflib
import re
from collections.abc import Iterable, Iterator
from typing import Any

from jsonschema import ValidationError
from jsonschema.exceptions import best_match

from scalesim_patterns.generate.lint.document import Document
from scalesim_patterns.generate.lint.emit import finding
from scalesim_patterns.generate.lint.findings import Finding
from scalesim_patterns.generate.lint.paths import FieldPath

UNKNOWN_FIELD = "unknown field"

_JSON_TYPES = {
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "string",
    list: "array",
    dict: "object",
    type(None): "null",
}


def short(value: Any, limit: int = 60) -> str:
    """A compact rendering of a value for messages."""
    if isinstance(value, dict):
        text = "{" + ", ".join(map(str, value)) + "}" if value else "{}"
        text = "object " + text
    elif isinstance(value, list):
        text = f"array of {len(value)}"
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def json_type(value: Any) -> str:
    return _JSON_TYPES.get(type(value), type(value).__name__)


def _expected_types(value: Any) -> list[str]:
    types = [value] if isinstance(value, str) else list(value or [])
    shown = [t for t in types if t != "null"]
    return shown or types


def describe(error: ValidationError) -> str:
    """One-line description of a single schema error (without its path)."""
    kind = error.validator
    instance = error.instance
    if kind == "type":
        expected = " or ".join(_expected_types(error.validator_value))
        return f"expected {expected}, got {json_type(instance)} {short(instance)}"
    if kind == "enum":
        options = error.validator_value
        allowed = [v for v in options if v is not None] if isinstance(options, list) else []
        return f"{short(instance)} is not one of {short(allowed, 120)}"
    if kind in ("oneOf", "anyOf"):
        causes = list(error.context) if isinstance(error.context, list) else []
        if causes and all(c.validator == "type" and not c.relative_path for c in causes):
            types: list[str] = []
            for cause in causes:
                types += [t for t in _expected_types(cause.validator_value) if t not in types]
            return f"expected {' or '.join(types)}, got {json_type(instance)} {short(instance)}"
        if not causes:
            return "matches more than one of the allowed alternatives; set only one of them"
        best = best_match(causes)
        return f"matches none of the allowed alternatives, e.g. {describe(best)}"
    if kind == "not":
        return "sets fields that may not be combined here"
    if kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        words = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}
        return f"{short(instance)} must be {words[str(kind)]} {error.validator_value}"
    if kind == "pattern":
        return f"{short(instance)} does not match the pattern {error.validator_value!r}"
    message = str(error.message)
    return message if len(message) <= 200 else message[:199] + "…"


def _missing_field(error: ValidationError) -> str | None:
    match = re.match(r"^(.*) is a required property$", str(error.message))
    if match is None:
        return None
    try:
        value = ast.literal_eval(match.group(1))
    except (ValueError, SyntaxError):
        return None
    return value if isinstance(value, str) else None


def _schema_of(error: ValidationError) -> dict[str, Any]:
    schema = error.schema
    return dict(schema) if isinstance(schema, dict) else {}


def _unknown_fields(error: ValidationError) -> list[str]:
    if not isinstance(error.instance, dict):
        return []
    schema = _schema_of(error)
    known = schema.get("properties") or {}
    patterns = list((schema.get("patternProperties") or {}).keys())
    return [
        str(key)
        for key in error.instance
        if key not in known and not any(re.search(p, str(key)) for p in patterns)
    ]


def schema_findings(
    doc: Document,
    errors: Iterable[ValidationError],
    rule: str,
    base: FieldPath = (),
) -> Iterator[Finding]:
    """Findings for every error, with ``base`` prefixed to the error paths."""
    for error in errors:
        path: FieldPath = base + tuple(error.absolute_path)
        if error.validator == "additionalProperties" and error.validator_value is False:
            known = list((_schema_of(error).get("properties") or {}).keys())
            for key in _unknown_fields(error):
                hint = difflib.get_close_matches(key, known, n=1, cutoff=0.75)
                suffix = f"; did you mean {hint[0]!r}?" if hint else ""
                yield finding(doc, rule, (*path, key), f"{UNKNOWN_FIELD} {key!r}{suffix}")
        elif error.validator == "required" and (missing := _missing_field(error)) is not None:
            yield finding(doc, rule, (*path, missing), "required field is missing")
        elif error.validator == "x-kubernetes-validations":
            yield finding(doc, "SSP040", path, str(error.message))
        else:
            yield finding(doc, rule, path, describe(error))
