"""The log of scenario faults, kept apart from `faults` so readers need not import that module.

Rows are `[time, fault index, fault type, target label, "start" | "end"]`, in time order.
"""

from __future__ import annotations

from typing import Any

__all__ = ["FaultLog"]


class FaultLog(list[list[Any]]):
    """Plug-in state (`engine.plugins.get(FaultLog)`): when each fault started and ended."""
