"""State that plug-ins keep per replication, found by its class instead of a string key.

A plug-in (a pattern such as the mesh, or a platform piece such as faults) that needs state
shared between its call sites, or read by another plug-in, defines a class for it and keeps one
instance per engine here: `engine.plugins.obtain(FaultLog)` returns that engine's `FaultLog`,
making it on first use. The class is the key, so the value's type is known to mypy at every use
and the engine never needs to know which plug-ins exist.
"""

from __future__ import annotations

from typing import TypeVar, cast

__all__ = ["PluginStates"]

T = TypeVar("T")


class PluginStates:
    """One state object per class, for the plug-ins installed on one engine."""

    __slots__ = ("_states",)

    def __init__(self) -> None:
        self._states: dict[type, object] = {}

    def get(self, kind: type[T]) -> T | None:
        """The state of this class, or None when no plug-in has made it."""
        return cast("T | None", self._states.get(kind))

    def obtain(self, kind: type[T]) -> T:
        """The state of this class, made with `kind()` on first use."""
        found = self._states.get(kind)
        if found is None:
            found = self._states[kind] = kind()
        return cast(T, found)

    def add(self, state: T) -> T:
        """Keep `state` as the state of its class (for states built with arguments)."""
        kind = type(state)
        if kind in self._states:
            raise ValueError(f"{kind.__name__} is already held")
        self._states[kind] = state
        return state

    def __contains__(self, kind: type) -> bool:
        return kind in self._states

    def __len__(self) -> int:
        return len(self._states)
