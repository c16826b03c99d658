"""Kubelet probes: the per-container probe worker's state machine, which the replica lifecycle
runs tick by tick (`platform/lifecycle.py`).

Kubelet probes on a ticker: every `period` from the moment the probe worker started (the
`phase`), skipping ticks until `initial_delay` whole seconds have passed since the container
started. A probe fails if the container answers badly or not within `timeout`. A result only
changes the reported state once it has repeated `failure_threshold` (or `success_threshold`)
times in a row.
"""

from __future__ import annotations

import math
from typing import Final, Literal

__all__ = ["Probe"]

_RESULT_NAMES: Final = {
    "readiness": ("READY", "UNREADY"),
    "liveness": ("LIVE", "RESTART"),
    "startup": ("STARTED", "RESTART"),
}


class Probe:
    """One probe of one container (kubelet prober worker).

    `observe(now, ok)` takes the result of one probe and returns the newly reported state when it
    changes, else None: readiness "READY"/"UNREADY" (it starts UNREADY), liveness "LIVE"/
    "RESTART" (it starts LIVE), startup "STARTED"/"RESTART" (it starts undecided). After a
    RESTART the worker ignores results until `container_restarted` (a new container) — kubelet
    puts the worker on hold. `transitions` records (time, old state, new state).
    """

    __slots__ = (
        "_last_ok",
        "_on_hold",
        "_run",
        "failure_threshold",
        "initial_delay",
        "kind",
        "period",
        "state",
        "success_threshold",
        "timeout",
        "transitions",
    )

    def __init__(
        self,
        kind: Literal["readiness", "liveness", "startup"] = "readiness",
        *,
        period: float = 10.0,
        timeout: float = 1.0,
        failure_threshold: int = 3,
        success_threshold: int = 1,
        initial_delay: float = 0.0,
    ) -> None:
        if kind not in _RESULT_NAMES:
            raise ValueError("kind must be readiness, liveness or startup")
        if period <= 0 or timeout <= 0 or failure_threshold < 1 or success_threshold < 1:
            raise ValueError("need period, timeout > 0 and thresholds >= 1")
        if kind != "readiness" and success_threshold != 1:
            raise ValueError("liveness and startup probes must have success_threshold 1")
        self.kind = kind
        self.period = float(period)
        self.timeout = float(timeout)
        self.failure_threshold = failure_threshold
        self.success_threshold = success_threshold
        self.initial_delay = float(initial_delay)
        self.transitions: list[tuple[float, str, str]] = []
        self.state = ""
        self._last_ok: bool | None = None
        self._run = 0
        self._on_hold = False
        self._initial()

    def _initial(self) -> None:
        self.state = {"readiness": "UNREADY", "liveness": "LIVE", "startup": "UNKNOWN"}[self.kind]
        self._last_ok = None
        self._run = 0
        self._on_hold = False

    def passes(self, response_time: float, healthy: bool = True) -> bool:
        """Whether one probe succeeds: a healthy answer within the timeout."""
        return healthy and response_time <= self.timeout

    def due(self, container_start: float, tick: float) -> bool:
        """Whether a tick at `tick` probes (kubelet skips ticks within the initial delay,
        comparing whole elapsed seconds)."""
        return math.floor(tick - container_start) >= self.initial_delay

    def observe(self, now: float, ok: bool) -> str | None:
        if self._on_hold:
            return None
        if ok == self._last_ok:
            self._run += 1
        else:
            self._last_ok = ok
            self._run = 1
        threshold = self.success_threshold if ok else self.failure_threshold
        if self._run < threshold:
            return None
        good, bad = _RESULT_NAMES[self.kind]
        new = good if ok else bad
        if not ok and self.kind != "readiness":
            self._on_hold = True
            self._run = 0
        if new == self.state:
            return None
        self.transitions.append((now, self.state, new))
        self.state = new
        return new

    def container_restarted(self, now: float) -> None:
        """A new container replaced the old one: results count afresh from the initial state."""
        old = self.state
        self._initial()
        if old != self.state:
            self.transitions.append((now, old, self.state))
