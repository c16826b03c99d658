"""Report sections for sagas, event stores and rollouts.

They sit in `Report` beside services and databases, so they hold numbers only (each becomes an
estimate over replications in the summary); what is not a number — the rollout controller's
decisions — is kept per run in `Decision` lists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic

from scalesim_patterns.sim.reports.results import Latency, N

__all__ = [
    "Decision",
    "EventStoreReport",
    "ProjectionReport",
    "RolloutReport",
    "SagaReport",
    "SagaStepReport",
]


@dataclass(frozen=True)
class SagaStepReport(Generic[N]):
    attempts: N
    """Calls to the step's action (retries included)."""
    failures: N
    """Action calls that failed (any cause)."""
    compensations: N
    """Compensations of this step that succeeded."""
    compensation_failures: N
    """Compensation calls that failed (each is retried until `compensationRetries` runs out)."""


@dataclass(frozen=True)
class SagaReport(Generic[N]):
    started: N
    completed: N
    """Every step done."""
    compensated: N
    """Failed before or at the pivot and undone."""
    stuck: N
    """A compensation failed past its retries (or a step after the pivot never succeeded)."""
    open_end: N
    """Sagas still running when the simulation ended."""
    compensations: N
    """Compensations that succeeded, all steps together."""
    duration: Latency[N]
    """Start to last step done, completed sagas."""
    compensation_duration: Latency[N]
    """Start to last compensation done, compensated sagas."""
    steps: dict[str, SagaStepReport[N]]


@dataclass(frozen=True)
class ProjectionReport(Generic[N]):
    applied: N
    """Events applied to the read model."""
    throughput: N
    """Events applied per second."""
    lag: Latency[N]
    """Consistency lag: from an event's append until this projection applied it."""
    lag_events_mean: N
    """Head position − checkpoint, time-averaged."""
    lag_events_p99: N
    """99th percentile of head − checkpoint over time."""
    lag_events_max: N
    lag_events_end: N
    age_max: N
    """Largest age of the oldest event not yet applied, seconds."""


@dataclass(frozen=True)
class EventStoreReport(Generic[N]):
    appends: N
    """Appends finished (successfully or not)."""
    events: N
    """Events written."""
    attempts_mean: N | None
    """Attempts per finished append (1 + retries after expected-version conflicts)."""
    conflicts: N
    failures: N
    """Appends that still conflicted after `maxAppendRetries` retries."""
    append_latency: Latency[N]
    """Successful appends, retries and reloads included."""
    consistency_lag_p99: N | None
    """The worst projection's 99th-percentile consistency lag."""
    projections: dict[str, ProjectionReport[N]]


@dataclass(frozen=True)
class RolloutReport(Generic[N]):
    started_at: N | None
    promoted: N
    """1 when the new version took all traffic and the rollout completed, else 0."""
    aborted: N
    paused: N
    """1 when the rollout ended the run waiting in an indefinite pause (manual promotion)."""
    promoted_at: N | None
    aborted_at: N | None
    final_weight: N
    """Share of the service's traffic (percent) sent to the new version at the end."""
    measurements: N
    failed_measurements: N
    new_requests: N
    """Requests the new version served in the measured period (its blast radius)."""
    new_errors: N
    """Of which failed."""


@dataclass(frozen=True)
class Decision:
    """One action of a rollout controller, with the figures it acted on."""

    time: float
    action: str
    """started, scaled, weight, pause, paused, analysis, measurement, analysis-successful,
    analysis-failed, aborted, switched, switched-back, promoted, scaled-down."""
    detail: str
    step: int | None = None
    weight: float | None = None
    success_rate: float | None = None
    p99: float | None = None
    requests: int | None = None
    verdict: str | None = None
