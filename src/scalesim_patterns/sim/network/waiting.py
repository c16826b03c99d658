"""Where plug-ins keep calls waiting outside the stations, so a crash can find them.

Calls wait in places the stations do not see (a bulkhead's queue, a sidecar's pending
requests). Each plug-in that keeps such a place registers a function listing the calls waiting
there; `lifecycle.in_flight` walks them when a container dies.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

__all__ = ["WaitingCalls"]


class WaitingCalls:
    """Plug-in state (`engine.plugins.obtain(WaitingCalls)`): the places where calls wait."""

    __slots__ = ("holders",)

    def __init__(self) -> None:
        self.holders: list[Callable[[], Iterable[object]]] = []
