"""API consumers: who sends the traffic, as the gateway knows them (Kong's Consumer entity).

Kong identifies a consumer by the credential an auth plugin checked (a JWT's key, an API key,
an OAuth2 client), and its `rate-limiting` plugin counts per consumer by default (`limit_by:
consumer`; a request with no consumer falls back to the client IP). A plugin attached to one
KongConsumer gives that consumer its own limits. A traffic source names the consumer it sends
as (`traffic.<source>.consumer`); every request it sends carries that identity through the
gateway and down the call chain (per-tenant bulkheads use it).
"""

from pydantic import Field

from .base import Spec
from .resilience import RateLimit

__all__ = ["Consumer"]


class Consumer(Spec):
    description: str | None = None
    rate_limit: RateLimit | None = None
    """This consumer's own limits (a KongPlugin attached to its KongConsumer): they replace the
    route's and the gateway's for its requests."""
    tier: str | None = Field(None, min_length=1, max_length=63)
    """A label (a consumer group: `gold`, `free`), shown in results."""
    priority: int = Field(0, ge=0, le=1000)
    """How urgent its requests are: a service with `scheduling: priority` serves the highest
    first (higher number first, as a Kubernetes PriorityClass value); 0 for everyone else."""
