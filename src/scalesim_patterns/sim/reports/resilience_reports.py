"""The report of one client (a caller's policies towards one target), as numbers only, so that
replications summarise it and `compare` differences it like every other figure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from scalesim_patterns.sim.core.stats import Estimate

__all__ = ["ClientReport"]

N = TypeVar("N", float, Estimate)


@dataclass(frozen=True)
class ClientReport(Generic[N]):
    """Calls from `caller` to `target` (keyed `caller->target`) in the measured span.

    Application policies (Resilience4j-style, in the caller) and the caller's sidecar (mesh) are
    counted apart; a figure a client does not configure stays 0.
    """

    calls: N
    """Calls the caller's code made (before retries)."""
    attempts: N
    """Attempts the application sent (first tries plus retries)."""
    retries: N
    attempts_per_call: N
    """attempts / calls: retry amplification seen by the callee (mesh retries come on top)."""
    failed: N
    """Calls that failed after retries and fallback."""
    not_permitted: N
    """Calls an open (or saturated half-open) breaker refused: `circuit_open`."""
    bulkhead_full: N
    fallbacks: N
    """Calls answered by the fallback."""
    breaker_opened: N
    """Transitions to OPEN, over all the caller's replicas' breakers."""
    open_share: N
    """Share of breaker-time (over the caller's replicas) spent OPEN."""
    half_open_share: N
    mesh_calls: N
    """Requests the caller's sidecars received from the application (with the mesh on)."""
    mesh_attempts: N
    """Tries the sidecars sent: mesh_attempts / mesh_calls is the mesh's own amplification."""
    mesh_retries: N
    overflow: N
    """Connection-pool overflows: immediate 503s, reported under `rejected`."""
    no_healthy_upstream: N
    """Nothing to send to (every host ejected or none ready), reported under `unavailable`."""
    ejections: N
    """Hosts of the target ejected by this caller's outlier detection."""
    call_sites: N
    """Call steps from `caller` to `target` (each `call:` and parallel member, and routes)."""
    counted_sites: N
    """Of those, the ones whose calls the figures above count: a step with an application
    policy (retry, breaker, bulkhead or fallback), or every step when the mesh is on. Fewer
    than `call_sites` means the row is not all the calls on that edge."""
