"""Meaning checks on API consumers (model/consumers.py): named consumers exist and can be
identified."""

from __future__ import annotations

from .architecture import Architecture
from .change_checks import suggest
from .consumers import Consumer
from .diagnostics import Path, Severity

__all__ = ["check_consumers"]

Finding = tuple[Severity, Path, str]
E, W = Severity.ERROR, Severity.WARNING


def check_consumers(arch: Architecture) -> list[Finding]:
    spec = arch.spec
    gw = spec.gateway
    out: list[Finding] = []
    known = gw.consumers if gw is not None else {}
    if gw is not None and gw.consumers and (gw.auth is None or gw.auth.type == "none"):
        out.append(
            (
                E,
                ("spec", "gateway", "consumers"),
                "consumers are identified by the credential an auth plugin checks; set "
                "`gateway.auth` (jwt, key-auth or oauth2)",
            )
        )
    for name, src in spec.traffic.items():
        if src.consumer is None:
            continue
        p: Path = ("spec", "traffic", name, "consumer")
        if gw is None:
            continue  # a tenant id the clients send (per-tenant bulkheads), no gateway to know it
        if src.consumer not in known:
            out.append(
                (
                    E,
                    p,
                    f"unknown consumer '{src.consumer}'{suggest(src.consumer, known)}; "
                    "declare it under gateway.consumers",
                )
            )
        kinds = src.requests()
        if kinds and all(k.endpoint is not None for k in kinds):
            out.append(
                (
                    W,
                    p,
                    "every request of this source goes straight to an endpoint, past the "
                    "gateway: the consumer's limits never apply",
                )
            )
    out += _priorities(arch, known)
    out += _consumer_routes(arch, known)
    out += _tenant_bulkheads(arch)
    return out


def _tenant_bulkheads(arch: Architecture) -> list[Finding]:
    """A per-tenant bulkhead splits calls by the consumer they carry: without any, it is one."""
    spec = arch.spec
    if any(src.consumer is not None for src in spec.traffic.values()):
        return []
    out: list[Finding] = []
    for name, svc in spec.services.items():
        for target, policy in svc.clients.items():
            if policy.bulkhead is not None and policy.bulkhead.per_consumer:
                out.append(
                    (
                        W,
                        ("spec", "services", name, "clients", target, "bulkhead", "perConsumer"),
                        "no traffic source sends as a consumer, so every call shares one "
                        "bulkhead; set traffic.<source>.consumer",
                    )
                )
    return out


def _priorities(arch: Architecture, known: dict[str, Consumer]) -> list[Finding]:
    """A tenant's priority is given once (its gateway consumer's, else its sources'), and a
    service that schedules by priority has a queue to order and classes to order it by."""
    spec = arch.spec
    out: list[Finding] = []
    given: dict[str, tuple[int, str]] = {}
    for name, src in spec.traffic.items():
        if src.priority is None:
            continue
        p: Path = ("spec", "traffic", name, "priority")
        if src.consumer is None:
            out.append(
                (
                    E,
                    p,
                    "a priority belongs to a consumer: set `consumer` (the tenant id its "
                    "requests carry)",
                )
            )
        elif src.consumer in known:
            out.append(
                (
                    E,
                    p,
                    f"'{src.consumer}' is a gateway consumer: give it its priority under "
                    f"gateway.consumers.{src.consumer}.priority",
                )
            )
        elif src.consumer in given and given[src.consumer][0] != src.priority:
            other, source = given[src.consumer]
            out.append(
                (
                    E,
                    p,
                    f"consumer '{src.consumer}' already has priority {other} (traffic "
                    f"{source}); a tenant has one priority",
                )
            )
        else:
            given.setdefault(src.consumer, (src.priority, name))
    levels = {c.priority for c in known.values()} | {v for v, _ in given.values()}
    for name, svc in spec.services.items():
        if svc.scheduling != "priority":
            continue
        p = ("spec", "services", name, "scheduling")
        if svc.queue_capacity == 0:
            out.append(
                (
                    E,
                    p,
                    "priority scheduling orders the queue, and `queueCapacity: 0` leaves "
                    "none (every request finds a free worker or is refused); give it a queue or "
                    "use `fifo`",
                )
            )
        elif levels <= {0}:
            out.append(
                (
                    W,
                    p,
                    "no consumer has a priority above 0, so every request has the same one "
                    "and the queue is served first come first served; set "
                    "gateway.consumers.<name>.priority (or traffic.<source>.priority)",
                )
            )
    return out


def _consumer_routes(arch: Architecture, known: dict[str, Consumer]) -> list[Finding]:
    """Consumer matches name declared consumers, on routes where the gateway identifies them."""
    gw = arch.spec.gateway
    out: list[Finding] = []
    if gw is None:
        return out
    for i, route in enumerate(gw.routes):
        taken: dict[str, int] = {}
        for j, match in enumerate(route.by_consumer):
            p: Path = ("spec", "gateway", "routes", i, "byConsumer", j)
            if not route.auth:
                out.append(
                    (
                        E,
                        p,
                        "this route has `auth: false`: the gateway identifies no consumer on "
                        "it, so no consumer match can apply",
                    )
                )
            for k, consumer in enumerate(match.consumers):
                cp: Path = (*p, "consumers", k)
                if consumer not in known:
                    out.append(
                        (
                            E,
                            cp,
                            f"unknown consumer '{consumer}'{suggest(consumer, known)}; "
                            "declare it under gateway.consumers",
                        )
                    )
                elif consumer in taken:
                    out.append(
                        (
                            W,
                            cp,
                            f"consumer '{consumer}' is matched by byConsumer "
                            f"{taken[consumer]} already; this match never takes its requests",
                        )
                    )
                else:
                    taken[consumer] = j
    return out
