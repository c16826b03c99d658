"""The local twin: the user's file rewritten to describe what `scalesim up` really runs.

Locally every service is one process, no gateway or mesh runs, and a call to an external service
needs something to answer it. So that the real run and the simulation describe the same system,
both use a copy of the file where:

- every service has one replica, no autoscaling and no rollout (one process each, the current
  version);
- external services are deployed (`external: false`): they run as generated services with the
  latency and error rate the file gives them, as stand-ins for the third party;
- the gateway is removed and each route in the traffic mix becomes the endpoints it serves, with
  the route's weights (locally the load client calls the services directly);
- the mesh is disabled (no sidecars run);
- databases and brokers the local run skips (an engine without a driver, Kafka without a broker)
  cost nothing, because their steps are skipped for real too; a skipped cache (memcached: no
  server here) never hits and costs nothing, as its real lookups go straight to the store;
- a Redis cache runs on the machine's shared Redis, which has no memory limit for the run: its
  `capacity` becomes the whole key space (nothing is evicted for real either); its TTL stays.

Edits go through the same comment-keeping editor as `scalesim new --set`, so the copy keeps the
user's comments, and it is validated again.
"""

from __future__ import annotations

from typing import Any

import yaml

from scalesim_patterns.catalog.errors import CatalogError
from scalesim_patterns.catalog.setpath import Edit, apply_sets
from scalesim_patterns.model import Architecture
from scalesim_patterns.model.traffic import (
    Arrival,
    ConstantArrival,
    DiurnalArrival,
    OpenLoop,
    PoissonArrival,
    RampArrival,
    SpikeArrival,
    StepArrival,
)

__all__ = ["twin_text"]


def _edit(path: tuple[str | int, ...], value: Any) -> Edit:
    return Edit(".".join(str(p) for p in path), path, value, raw_value=True)


def _rate(value: float) -> str:
    return f"{value:.6g}/s"


def _scaled(arrival: Arrival, path: tuple[str | int, ...], scale: float) -> list[Edit]:
    """Edits multiplying every rate of an arrival process by `scale`."""
    if isinstance(arrival, PoissonArrival | ConstantArrival):
        return [_edit((*path, "rate"), _rate(arrival.rate * scale))]
    if isinstance(arrival, RampArrival):
        return [
            _edit((*path, "from"), _rate(arrival.from_ * scale)),
            _edit((*path, "to"), _rate(arrival.to * scale)),
        ]
    if isinstance(arrival, StepArrival):
        return [
            _edit((*path, "steps", i, "rate"), _rate(step.rate * scale))
            for i, step in enumerate(arrival.steps)
        ]
    if isinstance(arrival, SpikeArrival):
        return [
            _edit((*path, "base"), _rate(arrival.base * scale)),
            _edit((*path, "peak"), _rate(arrival.peak * scale)),
        ]
    assert isinstance(arrival, DiurnalArrival)
    return [_edit((*path, "mean"), _rate(arrival.mean * scale))]


def twin_text(
    text: str,
    arch: Architecture,
    filename: str,
    skipped: dict[str, str],
    scale: float = 1.0,
    scenario: str | None = None,
) -> tuple[str, list[str]]:
    """(the twin's YAML text, one note per change made); `scale` multiplies open-loop rates.

    A `scenario`'s traffic changes (another arrival process, a scale, a number of users) are
    written into the twin's traffic and taken out of the scenario, so the load client drives
    what the simulator simulates."""
    spec = arch.spec
    edits: list[Edit] = []
    notes: list[str] = []
    overrides = spec.scenarios[scenario].traffic if scenario is not None else {}
    raw = (yaml.safe_load(text) or {}).get("spec", {}) if overrides else {}
    for sname, source in sorted(spec.traffic.items()):
        override = overrides.get(sname)
        path = ("traffic", sname)
        factor = scale * (override.scale or 1.0 if override is not None else 1.0)
        if isinstance(source, OpenLoop):
            arrival = source.arrival
            if override is not None and override.arrival is not None:
                arrival = override.arrival
                given = raw["scenarios"][scenario]["traffic"][sname]["arrival"]
                edits.append(_edit((*path, "arrival"), given))
            if factor != 1.0:
                edits.extend(_scaled(arrival, (*path, "arrival"), factor))
        elif override is not None and override.users is not None:
            edits.append(_edit((*path, "users"), override.users))
    for sname, other in sorted(spec.scenarios.items()):
        if not other.changes:
            continue
        if sname == scenario:
            raise CatalogError(
                f"scenario {sname}: its scheduled `changes` (route weights, replicas, promote, "
                "config) cannot be made on the local run yet; calibrate a scenario without them"
            )
        # Not run here; route-weight changes would need the gateway the twin no longer has.
        edits.append(_edit(("scenarios", sname, "changes"), []))
    if overrides:
        edits.append(_edit(("scenarios", str(scenario), "traffic"), {}))
        notes.append(f"scenario {scenario}'s traffic written into the traffic it changes")
    if scale != 1.0:
        notes.append(f"open-loop rates multiplied by {scale:g}")
    for name, svc in sorted(spec.services.items()):
        if svc.external:
            edits.append(_edit(("services", name, "external"), False))
            notes.append(
                f"external service {name} runs locally as a stand-in with its file's latency"
            )
        if svc.replicas != 1:
            edits.append(_edit(("services", name, "replicas"), 1))
        if svc.autoscaling is not None:
            edits.append(_edit(("services", name, "autoscaling"), None))
        if svc.deployment is not None:
            edits.append(_edit(("services", name, "deployment"), None))
            notes.append(f"no rollout runs locally: {name} runs its current version only")
    if any(s.replicas != 1 for s in spec.services.values()):
        notes.append("one process per service: replicas set to 1")
    if spec.gateway is not None:
        for sname, source in sorted(spec.traffic.items()):
            mix: list[dict[str, Any]] = []
            for entry in source.mix:
                if entry.endpoint is not None:
                    mix.append({"endpoint": entry.endpoint, "weight": entry.weight})
                    continue
                route = next(r for r in spec.gateway.routes if r.path == entry.route)
                for ref, weight in route.targets():
                    if weight > 0:
                        mix.append({"endpoint": ref, "weight": entry.weight * weight / 100})
            edits.append(_edit(("traffic", sname, "mix"), mix))
        edits.append(_edit(("gateway",), None))
        notes.append("no gateway runs locally: routes became the endpoints they serve")
        on_routes = [slo.name for slo in spec.slos if slo.target.startswith("/")]
        if on_routes:
            kept = [
                slo.model_dump(by_alias=True, exclude_unset=True)
                for slo in spec.slos
                if not slo.target.startswith("/")
            ]
            edits.append(_edit(("slos",), kept))
            notes.append(f"SLOs on gateway routes left out: {', '.join(on_routes)}")
    if spec.mesh is not None and spec.mesh.enabled:
        edits.append(_edit(("mesh", "enabled"), False))
        notes.append("no mesh runs locally: sidecars off")
    for key, cache in sorted(spec.caches.items()):
        if key in skipped:
            edits.append(
                _edit(
                    ("caches", key),
                    {"engine": cache.engine, "owner": cache.owner, "hitRatio": 0, "latency": "0s"},
                )
            )
        elif (
            cache.popularity is not None
            and cache.capacity is not None
            and cache.capacity < cache.popularity.keys
        ):
            edits.append(_edit(("caches", key, "capacity"), cache.popularity.keys))
            notes.append(
                f"cache {key}: the local Redis evicts nothing, so capacity {cache.capacity} "
                f"became the whole key space ({cache.popularity.keys})"
            )
    for key, why in sorted(skipped.items()):
        if key in spec.databases:
            edits.append(_edit(("databases", key, "latency"), {"read": "0s", "write": "0s"}))
        elif key in spec.brokers:
            edits.append(_edit(("brokers", key, "publishLatency"), "0s"))
        notes.append(f"{key} skipped for real ({why}): costs nothing in the simulation either")
    if not edits:
        return text, notes
    return apply_sets(text, edits, filename), notes
