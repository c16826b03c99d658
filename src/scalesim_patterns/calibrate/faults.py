"""A scenario's faults made real, on the load driver's clock.

| fault | made real by |
|---|---|
| `crash`, `outage` of a whole service | SIGKILL of its process at `at` (its port refuses connections: callers see `unavailable`), started again at `at + duration` |
| `latency` on a service or `service.endpoint` | the service's fault hook: each request waits a draw of `add`, holding its worker, as the simulator adds it to the work |
| `errors` on a service or `service.endpoint` | the fault hook: each request fails with probability `rate` |

The hook exists only in local runs: `LocalSystem(fault_token=...)` gives each service a random
token, and without it the route is not there. Faults on databases, brokers, partitions and
outages of some replicas only have no real counterpart here and are refused before anything runs.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from dataclasses import dataclass
from typing import Any

from scalesim_patterns.generate.code.local import LocalSystem
from scalesim_patterns.generate.code.spec import distribution
from scalesim_patterns.model import Architecture

__all__ = ["FaultPlan", "Unsupported", "plan_faults"]


class Unsupported(ValueError):
    """A fault of the scenario that cannot be made real on this machine."""


@dataclass(frozen=True)
class Action:
    at: float
    kind: str
    """kill, restart, set or clear"""
    service: str
    key: str = "*"
    """The endpoint (or "*") a set/clear concerns."""
    fault: tuple[tuple[str, Any], ...] = ()
    ident: int = 0


def plan_faults(arch: Architecture, scenario: str | None) -> list[Action]:
    """The timed actions of `scenario`, or Unsupported naming what cannot be made real."""
    if scenario is None:
        return []
    actions: list[Action] = []
    for i, fault in enumerate(arch.spec.scenarios[scenario].faults):
        where = f"scenarios.{scenario}.faults[{i}] ({fault.type} of {fault.target})"
        target = fault.target or ""
        service, _, endpoint = target.partition(".")
        if fault.type == "partition" or service not in arch.spec.services:
            raise Unsupported(
                f"{where}: only faults on services can be made real here "
                "(crash, outage, latency, errors); not on databases, caches, brokers or partitions"
            )
        end = None if fault.duration is None else fault.at + fault.duration
        if fault.type in ("crash", "outage"):
            if endpoint or fault.replicas not in (None, arch.spec.services[service].replicas):
                raise Unsupported(f"{where}: only a whole service can be killed here")
            actions.append(Action(fault.at, "kill", service))
            if end is not None or fault.type == "crash":
                actions.append(Action(end if end is not None else fault.at, "restart", service))
            continue
        spec: tuple[tuple[str, Any], ...]
        if fault.type == "latency":
            assert fault.add is not None
            spec = (("latency", distribution(fault.add)),)
        else:
            spec = (("error_rate", fault.rate),)
        key = endpoint or "*"
        actions.append(Action(fault.at, "set", service, key, spec, i))
        if end is not None:
            actions.append(Action(end, "clear", service, key, spec, i))
    return sorted(actions, key=lambda a: (a.at, a.kind != "kill"))


class FaultPlan:
    """Runs the actions in a thread from the driver's time origin; logs what it did."""

    def __init__(self, system: LocalSystem, actions: list[Action]) -> None:
        self.system = system
        self.actions = actions
        self.log: list[tuple[float, str, str]] = []
        self.errors: list[str] = []
        self._active: dict[str, dict[int, tuple[str, tuple[tuple[str, Any], ...]]]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, origin: float) -> None:
        if not self.actions:
            return
        self._thread = threading.Thread(target=self._run, args=(origin,), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=70)

    def _run(self, origin: float) -> None:
        for action in self.actions:
            delay = origin + action.at - time.monotonic()
            if delay > 0 and self._stop.wait(delay):
                return
            try:
                self._do(action)
            except Exception as exc:  # a failed action is reported, the run goes on
                self.errors.append(f"{action.kind} {action.service} at {action.at:g}s: {exc}")
            self.log.append((round(time.monotonic() - origin, 3), action.kind, action.service))

    def _do(self, action: Action) -> None:
        if action.kind == "kill":
            self.system.kill(action.service)
        elif action.kind == "restart":
            self.system.restart(action.service)
            self._push(action.service)
        else:
            active = self._active.setdefault(action.service, {})
            if action.kind == "set":
                active[action.ident] = (action.key, action.fault)
            else:
                active.pop(action.ident, None)
            self._push(action.service)

    def _push(self, service: str) -> None:
        merged: dict[str, dict[str, Any]] = {}
        for key, fault in self._active.get(service, {}).values():
            merged.setdefault(key, {}).update(dict(fault))
        svc = self.system.services[service]
        request = urllib.request.Request(
            f"{svc.url}/_scalesim/faults",
            data=json.dumps({"faults": merged}).encode(),
            method="PUT",
            headers={
                "content-type": "application/json",
                "x-scalesim-token": self.system.fault_token,
            },
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            if response.status != 200:
                raise RuntimeError(f"the fault hook answered {response.status}")
