"""What `scalesim load` sends where: the file's traffic mapped onto locally running services.

A mix entry naming `service.endpoint` goes straight to that service; a `route` goes to the
endpoint the gateway route serves (a split route: to each target with its weight), because
`scalesim up` runs no gateway — Kong's overhead, authentication and rate limits are absent, and
the results' notes say so. Entry keys are those of `simulate --json`: the route path, `METHOD path`
when the mix names a method, or `service.endpoint`.
"""

from __future__ import annotations

from typing import Any

from scalesim_patterns.model import Architecture

from ..graph import endpoint_path
from .spec import _concrete

__all__ = ["MAX_LOCAL_RATE", "MAX_LOCAL_USERS", "LoadTooLarge", "load_plan"]

MAX_LOCAL_RATE = 5000.0
"""Requests per second one local load driver is allowed to offer (open loops, at their peak)."""
MAX_LOCAL_USERS = 10_000
"""Closed-loop users one local load driver runs (one greenlet each)."""


class LoadTooLarge(ValueError):
    """The file's traffic is more than a local run can drive; the message says by how much."""


def check_local_load(arch: Architecture, scale: float) -> None:
    """Refuse traffic a load driver on this machine cannot send, before anything starts."""
    from scalesim_patterns.model.traffic import OpenLoop
    from scalesim_patterns.sim.network.traffic import rate_function

    peak, users = 0.0, 0
    for source in arch.spec.traffic.values():
        if isinstance(source, OpenLoop):
            peak += rate_function(source.arrival, scale)[1] * source.per_arrival()
        else:
            users += source.users
    if peak > MAX_LOCAL_RATE:
        raise LoadTooLarge(
            f"the traffic peaks at {peak:.6g} requests/s, more than the {MAX_LOCAL_RATE:g}/s a "
            f"local run drives; lower the rates or --scale (e.g. --scale {MAX_LOCAL_RATE / peak * scale:.3g})"
        )
    if users > MAX_LOCAL_USERS:
        raise LoadTooLarge(
            f"the traffic has {users} closed-loop users, more than the {MAX_LOCAL_USERS} a local "
            "run drives; lower `users`"
        )


def _target(arch: Architecture, ref: str, base: dict[str, str]) -> dict[str, Any]:
    service, endpoint = ref.split(".", 1)
    ep = arch.spec.services[service].endpoints[endpoint]
    return {
        "base": base[service],
        "method": ep.method,
        "path": _concrete(endpoint_path(endpoint, ep.path)),
    }


def load_plan(
    arch: Architecture,
    file: str,
    base: dict[str, str],
    duration: float,
    warmup: float,
    scale: float,
    seed: int,
) -> dict[str, Any]:
    """The plan `loadgen` runs; `base` maps each running service to its URL. LoadTooLarge
    when the traffic is more than a local driver can send."""
    check_local_load(arch, scale)
    sources: dict[str, list[dict[str, Any]]] = {}
    notes: list[str] = []
    gateway = arch.spec.gateway
    for name, source in sorted(arch.spec.traffic.items()):
        entries: list[dict[str, Any]] = []
        # A session is sent as the mix of its steps' expected requests (no sequence, no state).
        for mix in source.requests():
            if mix.endpoint is not None:
                entries.append(
                    {"key": mix.endpoint, "weight": mix.weight, **_target(arch, mix.endpoint, base)}
                )
                continue
            assert mix.route is not None and gateway is not None
            route = next(r for r in gateway.routes if r.path == mix.route)
            key = f"{mix.method} {mix.route}" if mix.method else mix.route
            targets = route.targets()
            for match in route.by_consumer:  # priority routing, as the mesh would do it
                if source.consumer is not None and source.consumer in match.consumers:
                    targets = match.targets()
                    break
            for ref, weight in targets:
                if weight == 0:
                    continue
                entry = {
                    "key": key,
                    "weight": mix.weight * weight / 100,
                    **_target(arch, ref, base),
                }
                if mix.method:
                    entry["method"] = mix.method
                entries.append(entry)
            note = "routes go straight to their endpoints: no gateway runs locally (no Kong overhead, auth or rate limit)"
            if note not in notes:
                notes.append(note)
        sources[name] = entries
    notes.append(
        "measured on this machine by `scalesim load` (Locust); one run, no confidence intervals"
    )
    return {
        "file": file,
        "duration": duration,
        "warmup": warmup,
        "scale": scale,
        "seed": seed,
        "sources": sources,
        "notes": notes,
    }
