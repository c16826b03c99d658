"""The plug-in state that says which services have fleets (pods that can change).

Kept apart from `lifecycle.py` so the engine's default installers can ask whether any earlier
installer (faults, autoscaling, a user's own) made a fleet without importing the lifecycle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scalesim_patterns.sim.platform.lifecycle import Fleet

__all__ = ["Fleets"]


class Fleets(dict[str, "Fleet"]):
    """Plug-in state: the fleet of every service whose pods can change, by service name."""
