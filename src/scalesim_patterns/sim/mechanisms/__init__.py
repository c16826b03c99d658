"""Resilience and control mechanisms as standalone state machines driven by the caller's clock.

Nothing here knows about the event loop: every method takes the simulated time `now` and any
randomness as an argument, so each mechanism behaves the same under the engine and under a
scripted test, and costs a few attribute updates per call. Semantics and defaults are those of
the real components (Resilience4j, pybreaker, Envoy/Istio, Kong, Kubernetes, and for a consumer
group's subscription RabbitMQ, Kafka and NATS JetStream); docs/mechanisms.md
gives the source of each and where the real system and the reference notes differ.
"""

from __future__ import annotations

from .breaker import (
    CLOSED,
    HALF_OPEN,
    OPEN,
    CircuitBreaker,
    ConsecutiveFailureBreaker,
    FailureRateBreaker,
)
from .bulkhead import QUEUED, REJECTED, RUN, SemaphoreBulkhead, ThreadPoolBulkhead
from .hpa import (
    HorizontalPodAutoscaler,
    HPABehavior,
    HPAScalingPolicy,
    HPAScalingRules,
    desired_replicas,
)
from .outlier import DISPATCH, OVERFLOW, QUEUE, UNLIMITED, ConnectionPoolLimits, OutlierDetector
from .probes import (
    Probe,
)
from .ratelimit import FixedWindowRateLimiter, TokenBucket
from .retry import CAUSES, ISTIO_DEFAULT_RETRY_ON, EnvoyRetryPolicy, RetryPolicy, RetryStyle
from .subscription import DeliveryPolicy, Subscription

__all__ = [
    "CAUSES",
    "CLOSED",
    "DISPATCH",
    "HALF_OPEN",
    "ISTIO_DEFAULT_RETRY_ON",
    "OPEN",
    "OVERFLOW",
    "QUEUE",
    "QUEUED",
    "REJECTED",
    "RUN",
    "UNLIMITED",
    "CircuitBreaker",
    "ConnectionPoolLimits",
    "ConsecutiveFailureBreaker",
    "DeliveryPolicy",
    "EnvoyRetryPolicy",
    "FailureRateBreaker",
    "FixedWindowRateLimiter",
    "HPABehavior",
    "HPAScalingPolicy",
    "HPAScalingRules",
    "HorizontalPodAutoscaler",
    "OutlierDetector",
    "Probe",
    "RetryPolicy",
    "RetryStyle",
    "SemaphoreBulkhead",
    "Subscription",
    "ThreadPoolBulkhead",
    "TokenBucket",
    "desired_replicas",
]
