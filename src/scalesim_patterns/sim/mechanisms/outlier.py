"""Istio DestinationRule traffic policy on the client proxy: outlier detection (Envoy's
consecutive-5xx detector) and connection-pool limits (Envoy circuit-breaker thresholds).

Hosts are small integers (indexes into the endpoint list the engine keeps). The engine calls
`on_result` for every finished request, `sweep` every `interval` seconds from the detector's
creation, and asks `is_ejected` when balancing.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "DISPATCH",
    "OVERFLOW",
    "QUEUE",
    "UNLIMITED",
    "ConnectionPoolLimits",
    "OutlierDetector",
]

UNLIMITED: Final = 2**32 - 1
"""Istio's "effectively unlimited" connection-pool default."""

DISPATCH: Final = 0
QUEUE: Final = 1
OVERFLOW: Final = 2


class OutlierDetector:
    """Envoy outlier detection (consecutive_5xx) with Istio's defaults.

    A host's count of consecutive errors (5xx, and local-origin failures such as connect errors
    or timeouts, which Envoy maps to 503/504) is reset by any other result. When it reaches
    `consecutive_5xx_errors` the host is ejected at once if the ejected share *after* ejecting,
    100·(ejected+1)/hosts, stays within `max_ejection_percent` — so with the default 10% no host
    of a pool smaller than 10 is ever ejected (Envoy since 2023), unless `always_eject_one_host`
    (Envoy's opt-in, default off) lets the first ejection through. Either way the counter restarts.

    An ejected host stays out for min(base × multiplier, max_ejection_time); the multiplier
    rises by one per ejection and falls by one at every sweep that finds the host in service
    at least one interval after it came back. Hosts return only at a sweep, so the real ejection
    lasts until the first sweep at or after its end.
    `transitions` records (time, str(host), "EJECTED" | "RETURNED" | "OVERFLOW").
    """

    __slots__ = (
        "_backoff",
        "_consecutive",
        "_ejected",
        "_ejected_at",
        "_last_return",
        "_present",
        "always_eject_one_host",
        "base_ejection_time",
        "consecutive_5xx_errors",
        "ejected_count",
        "ejections",
        "hosts",
        "interval",
        "max_ejection_percent",
        "max_ejection_time",
        "min_health_percent",
        "overflows",
        "transitions",
    )

    def __init__(
        self,
        n_hosts: int,
        *,
        consecutive_5xx_errors: int = 5,
        interval: float = 10.0,
        base_ejection_time: float = 30.0,
        max_ejection_percent: float = 10.0,
        min_health_percent: float = 0.0,
        max_ejection_time: float = 300.0,
        always_eject_one_host: bool = False,
    ) -> None:
        if n_hosts < 0:
            raise ValueError("n_hosts must be >= 0")
        if consecutive_5xx_errors < 0:
            raise ValueError("consecutive_5xx_errors must be >= 0 (0 disables ejection)")
        if interval <= 0 or base_ejection_time <= 0:
            raise ValueError("interval and base_ejection_time must be > 0")
        self.consecutive_5xx_errors = consecutive_5xx_errors
        self.interval = float(interval)
        self.base_ejection_time = float(base_ejection_time)
        self.max_ejection_percent = min(float(max_ejection_percent), 100.0)
        self.min_health_percent = float(min_health_percent)
        # Envoy: max_ejection_time defaults to max(300s, base_ejection_time).
        self.max_ejection_time = max(float(max_ejection_time), self.base_ejection_time)
        self.always_eject_one_host = always_eject_one_host
        self.hosts = 0
        self._present: list[bool] = []
        self._consecutive: list[int] = []
        self._ejected: list[bool] = []
        self._ejected_at: list[float] = []
        self._backoff: list[int] = []
        self._last_return: list[float | None] = []
        self.ejected_count = 0
        self.ejections = 0
        self.overflows = 0
        self.transitions: list[tuple[float, str, str]] = []
        for _ in range(n_hosts):
            self.add_host()

    def add_host(self) -> int:
        """A new endpoint joins the pool (scale-up). Returns its index."""
        self._present.append(True)
        self._consecutive.append(0)
        self._ejected.append(False)
        self._ejected_at.append(0.0)
        self._backoff.append(0)
        self._last_return.append(None)
        self.hosts += 1
        return len(self._present) - 1

    def remove_host(self, host: int) -> None:
        """The endpoint leaves the pool (scale-down, pod deleted)."""
        if not self._present[host]:
            return
        self._present[host] = False
        self.hosts -= 1
        if self._ejected[host]:
            self._ejected[host] = False
            self.ejected_count -= 1

    def is_ejected(self, host: int) -> bool:
        return self._ejected[host]

    def consecutive_errors(self, host: int) -> int:
        return self._consecutive[host]

    def multiplier(self, host: int) -> int:
        """The host's ejection-time multiplier (Envoy's eject time backoff)."""
        return self._backoff[host]

    def ejection_duration(self, host: int) -> float:
        """How long the host's current (or next) ejection lasts before a sweep may return it."""
        d = self.base_ejection_time * self._backoff[host]
        return d if d < self.max_ejection_time else self.max_ejection_time

    def in_panic(self, unhealthy_other: int = 0) -> bool:
        """Istio minHealthPercent = Envoy healthy_panic_threshold: below it, the balancer ignores
        health and uses every host. `unhealthy_other` adds hosts unhealthy for other reasons."""
        if self.hosts == 0 or self.min_health_percent <= 0:
            return False
        healthy = self.hosts - self.ejected_count - unhealthy_other
        return 100.0 * healthy / self.hosts < self.min_health_percent

    def on_result(self, host: int, now: float, is_error: bool) -> bool:
        """Record a finished request. True if this result ejected the host. Results of a host
        that has left the pool are dropped, as Envoy drops events for a removed host monitor."""
        if not self._present[host]:
            return False
        if not is_error:
            self._consecutive[host] = 0
            return False
        count = self._consecutive[host] + 1
        self._consecutive[host] = count
        if count != self.consecutive_5xx_errors:
            return False
        if self._ejected[host]:
            # Envoy drops the event for an already-ejected host without resetting the counter.
            return False
        ejected = self._try_eject(host, now)
        self._consecutive[host] = 0
        return ejected

    def _try_eject(self, host: int, now: float) -> bool:
        share = 100.0 * (self.ejected_count + 1) / self.hosts
        allowed = share <= self.max_ejection_percent or (
            self.always_eject_one_host and self.ejected_count == 0
        )
        if not allowed:
            self.overflows += 1
            self.transitions.append((now, str(host), "OVERFLOW"))
            return False
        self._ejected[host] = True
        self._ejected_at[host] = now
        self.ejected_count += 1
        self.ejections += 1
        if self.base_ejection_time * self._backoff[host] < (
            self.max_ejection_time + self.base_ejection_time
        ):
            self._backoff[host] += 1
        self.transitions.append((now, str(host), "EJECTED"))
        return True

    def sweep(self, now: float) -> list[int]:
        """The interval timer fired: return hosts whose ejection is over; lower the multiplier
        of hosts back in service for at least one interval. Returns the hosts brought back."""
        returned: list[int] = []
        ejected = self._ejected
        if self.ejected_count:
            for host in range(len(ejected)):
                if ejected[host] and self.ejection_duration(host) <= now - self._ejected_at[host]:
                    ejected[host] = False
                    self.ejected_count -= 1
                    self._consecutive[host] = 0
                    self._last_return[host] = now
                    returned.append(host)
                    self.transitions.append((now, str(host), "RETURNED"))
        backoff = self._backoff
        interval = self.interval
        for host in range(len(ejected)):
            if backoff[host] and not ejected[host]:
                back = self._last_return[host]
                if back is not None and now - back >= interval:
                    backoff[host] -= 1
        return returned


class ConnectionPoolLimits:
    """Istio DestinationRule `connectionPool` = Envoy cluster circuit-breaker thresholds.

    Istio leaves every limit at 2^32−1 unless set (raw Envoy would use 1024). Over a limit the proxy answers 503 at once (overflow); it queues only
    requests waiting for an HTTP/1.1 connection, up to `max_pending`.
    """

    __slots__ = ("http2", "max_connections", "max_pending", "max_requests")

    def __init__(
        self,
        max_connections: int = UNLIMITED,
        max_pending: int = UNLIMITED,
        max_requests: int = UNLIMITED,
        *,
        http2: bool = False,
    ) -> None:
        if min(max_connections, max_pending, max_requests) < 0:
            raise ValueError("limits must be >= 0")
        self.max_connections = max_connections
        self.max_pending = max_pending
        self.max_requests = max_requests
        self.http2 = http2

    def admit(self, active: int, pending: int) -> int:
        """DISPATCH, QUEUE or OVERFLOW for a new request given the requests already in flight to
        the cluster (`active`) and those waiting for a connection (`pending`)."""
        if active >= self.max_requests:
            return OVERFLOW
        if self.http2 or active < self.max_connections:
            return DISPATCH
        if pending < self.max_pending:
            return QUEUE
        return OVERFLOW
