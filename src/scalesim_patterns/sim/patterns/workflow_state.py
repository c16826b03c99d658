"""The runtimes of sagas, event stores and rollouts of one run, kept as plug-in state.

Kept apart from `workflows` (which imports all three features) so that a plug-in that only
needs to know whether a rollout manages a service need not import them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scalesim_patterns.sim.network.host import Host
    from scalesim_patterns.sim.patterns.eventsourcing import EventStoreRuntime
    from scalesim_patterns.sim.patterns.rollout import RolloutController
    from scalesim_patterns.sim.patterns.saga import SagaRuntime

__all__ = ["Workflows", "under_rollout"]


class Workflows:
    """Plug-in state (`host.plugins.obtain(Workflows)`): each feature's runtimes by name."""

    __slots__ = ("event_stores", "rollouts", "sagas")

    def __init__(self) -> None:
        self.sagas: dict[str, SagaRuntime] = {}
        self.event_stores: dict[str, EventStoreRuntime] = {}
        self.rollouts: dict[str, RolloutController] = {}


def under_rollout(host: Host, service: str) -> bool:
    """Whether a rollout manages the pods of `service` (its router splits the traffic)."""
    found = host.plugins.get(Workflows)
    return found is not None and service in found.rollouts
