"""What the estimate tells a designer, and what it leaves out."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "IGNORED",
    "ConsumerEstimate",
    "EndpointEstimate",
    "EntryEstimate",
    "Estimate",
    "StationEstimate",
]

IGNORED: tuple[str, ...] = (
    "faults of the scenario (crashes, outages, latency, errors, partitions): only its traffic is used",
    "resilience policies: timeouts, retries, circuit breakers, bulkheads (but per-tenant "
    "thread-pool ones), rate limits, fallbacks",
    "autoscaling, rollouts, probes and start-up: replicas are as the file sets them",
    "warm-up and transients: time-varying arrivals are taken at their settled rate "
    "(a ramp's end, a step's last rate, a spike's base, a cycle's mean)",
    "bounded queues (queueCapacity) and database maxConnections: nothing is turned away",
    "saga compensations, event-store conflicts and projections, broker redeliveries",
    "percentiles: only means (a p99 needs the whole distribution; simulate for it)",
)
"""What `scalesim estimate` does not model; the simulator does all of it."""


@dataclass(frozen=True)
class EntryEstimate:
    arrival_rate: float
    """Requests per second sent to the entry."""
    throughput: float
    """Successful requests per second (the endpoints' own error rates removed)."""
    error_rate: float
    response_mean: float
    """Seconds, client side; infinite when a station on its path is saturated."""


@dataclass(frozen=True)
class ConsumerEstimate:
    """One consumer's (tenant's) requests: its routes, its class at priority queues, its own
    bulkheads."""

    arrival_rate: float
    throughput: float
    """Successful requests per second: its endpoints' errors and its bulkheads' refusals removed."""
    error_rate: float
    response_mean: float
    """Seconds, client side, over its requests (a refused call counted as answered in full)."""


@dataclass(frozen=True)
class EndpointEstimate:
    rate: float
    response_mean: float
    """From arrival at the replica (queueing included) to the answer."""


@dataclass(frozen=True)
class StationEstimate:
    kind: str
    """service, gateway or pool (a database's connection pool at one service)."""
    replicas: int
    servers: int
    """Per replica: workers, or pool connections."""
    throughput: float
    """Calls per second over all replicas."""
    utilisation: float
    holding_mean: float
    wait_mean: float
    queue_mean: float
    """Calls waiting, summed over replicas."""

    @property
    def saturated(self) -> bool:
        return not self.utilisation < 1.0


@dataclass(frozen=True)
class Estimate:
    """Steady-state means of one architecture at one load, from the file alone."""

    architecture: str
    scenario: str | None
    load: float
    entries: dict[str, EntryEstimate]
    endpoints: dict[str, EndpointEstimate]
    stations: dict[str, StationEstimate]
    bottleneck: str | None
    """The station with the highest utilisation."""
    saturation_load: float
    """Multiplier of the estimated load (`load` × the file's) at which the bottleneck reaches
    100 %: 2.0 means twice what was estimated."""
    iterations: int
    ignored: tuple[str, ...] = field(default=IGNORED)
    consumers: dict[str, ConsumerEstimate] = field(default_factory=dict)
    """Per consumer the traffic sends as; empty when no source names one."""

    @property
    def saturated(self) -> list[str]:
        return [name for name, st in self.stations.items() if st.saturated]

    def to_dict(self) -> dict[str, Any]:
        def num(x: float) -> float | None:
            return x if math.isfinite(x) else None

        return {
            "architecture": self.architecture,
            "scenario": self.scenario,
            "load": self.load,
            "bottleneck": self.bottleneck,
            "saturation_load": num(self.saturation_load),
            "saturated": self.saturated,
            "entries": {
                k: {
                    "arrival_rate": v.arrival_rate,
                    "throughput": v.throughput,
                    "error_rate": v.error_rate,
                    "response_mean": num(v.response_mean),
                }
                for k, v in self.entries.items()
            },
            "endpoints": {
                k: {"rate": v.rate, "response_mean": num(v.response_mean)}
                for k, v in self.endpoints.items()
            },
            "stations": {
                k: {
                    "kind": v.kind,
                    "replicas": v.replicas,
                    "servers": v.servers,
                    "throughput": v.throughput,
                    "utilisation": v.utilisation,
                    "holding_mean": num(v.holding_mean),
                    "wait_mean": num(v.wait_mean),
                    "queue_mean": num(v.queue_mean),
                }
                for k, v in self.stations.items()
            },
            **(
                {
                    "consumers": {
                        k: {
                            "arrival_rate": v.arrival_rate,
                            "throughput": v.throughput,
                            "error_rate": v.error_rate,
                            "response_mean": num(v.response_mean),
                        }
                        for k, v in self.consumers.items()
                    }
                }
                if self.consumers
                else {}
            ),
            "ignored": list(self.ignored),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"
