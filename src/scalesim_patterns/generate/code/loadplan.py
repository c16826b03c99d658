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

__all__ = ["load_plan"]


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
    """The plan `loadgen` runs; `base` maps each running service to its URL."""
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
            for ref, weight in route.targets():
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
