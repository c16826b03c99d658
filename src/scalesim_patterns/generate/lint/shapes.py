"""Reading fields of users' manifests that may have any shape.

The rules run on whatever a directory holds, including documents whose fields have the wrong type
(a string where a list belongs): schema findings report those; the rules must not crash on them.
"""

from __future__ import annotations

from typing import Any

__all__ = ["at", "items"]


def at(value: Any, *keys: str) -> Any:
    """`value[k1][k2]...` through mappings only; None where the manifest has another shape."""
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def items(value: Any) -> list[Any]:
    """A list field, or nothing when it is absent or not a list."""
    return value if isinstance(value, list) else []
