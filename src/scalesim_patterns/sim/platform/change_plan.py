"""What the engine must know of a scenario's changes while it builds: which extra targets a
gateway route needs (kept apart from `changes.py` so an unconfigured run loads nothing more)."""

from __future__ import annotations

from scalesim_patterns.model.changes import RouteWeightsChange
from scalesim_patterns.model.edge import Gateway, Route
from scalesim_patterns.model.traffic import Scenario

__all__ = ["changed_route_targets", "find_route"]


def find_route(gw: Gateway, path: str, method: str | None) -> tuple[int, Route] | None:
    """The route a change names (the engine's own rule for traffic entries)."""
    for i, route in enumerate(gw.routes):
        if route.path == path and (
            method is None or route.methods is None or method in route.methods
        ):
            return i, route
    return None


def changed_route_targets(scenario: Scenario | None, gw: Gateway, index: int) -> list[str]:
    """Endpoints that some route-weights change of the scenario gives route `index`: the engine
    builds a call site for each, weight 0 until a change raises it."""
    out: list[str] = []
    if scenario is None:
        return out
    for change in scenario.changes:
        if isinstance(change, RouteWeightsChange):
            found = find_route(gw, change.route, change.method)
            if found is not None and found[0] == index:
                out += [t.endpoint for t in change.split if t.endpoint not in out]
    return out
