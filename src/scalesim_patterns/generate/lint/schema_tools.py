"""Helpers shared by the built-in and custom-resource schema stores."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# Keywords whose value is a map of field name -> schema (names must never be rewritten).
SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
# Keywords whose value is one schema.
SCHEMA_SINGLE = (
    "items",
    "additionalProperties",
    "not",
    "additionalItems",
    "contains",
    "if",
    "then",
    "else",
)
# Keywords whose value is a list of schemas.
SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")


def map_schema(node: Any, visit: Callable[[dict[str, Any]], dict[str, Any]]) -> Any:
    """Rebuild a schema bottom-up, calling ``visit`` on every subschema (children first).

    Only schema positions are descended into, so a field literally called ``description`` or
    ``items`` inside ``properties`` is treated as a field name, never as a keyword.
    """
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "description":
            continue  # documentation only; dropping it keeps cached schemas small
        if key in SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: map_schema(sub, visit) for name, sub in value.items()}
        elif key in SCHEMA_SINGLE and isinstance(value, dict):
            out[key] = map_schema(value, visit)
        elif (key in SCHEMA_LISTS or key == "items") and isinstance(value, list):
            out[key] = [map_schema(sub, visit) for sub in value]
        else:
            out[key] = value
    return visit(out)


def merge_type_alternatives(node: dict[str, Any]) -> dict[str, Any]:
    """Rewrite ``oneOf``/``anyOf`` of bare ``{"type": ...}`` branches as one ``type`` list.

    Int-or-string and Quantity fields are written this way, and there are many of them in a pod
    spec; jsonschema evaluates every branch of a ``oneOf`` and builds error objects for the ones
    that fail, so the single-keyword form validates the same values several times faster.
    (A null, which both nullable branches accept, is thereby allowed, as the API server does.)
    """
    for key in ("oneOf", "anyOf"):
        branches = node.get(key)
        if not isinstance(branches, list) or not branches or "type" in node:
            continue
        if not all(isinstance(b, dict) and set(b) == {"type"} for b in branches):
            continue
        types: list[str] = []
        for branch in branches:
            kinds = branch["type"] if isinstance(branch["type"], list) else [branch["type"]]
            types += [k for k in kinds if k not in types]
        del node[key]
        node["type"] = types
    return node
