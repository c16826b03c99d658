"""Meaning checks on service protocols and direct exposure (model/service.py `protocol`,
`expose`): HTTP is never routed at a Thrift port."""

from __future__ import annotations

from .architecture import Architecture
from .diagnostics import Path, Severity

__all__ = ["check_protocols"]

Finding = tuple[Severity, Path, str]
E = Severity.ERROR


def check_protocols(arch: Architecture) -> list[Finding]:
    spec = arch.spec
    out: list[Finding] = []
    gw = spec.gateway
    if gw is not None:
        for i, route in enumerate(gw.routes):
            fields: list[tuple[str, Path]] = [
                (ref, ("endpoint",) if route.endpoint is not None else ("split", j, "endpoint"))
                for j, (ref, _) in enumerate(route.targets())
            ]
            for k, match in enumerate(route.by_consumer):
                fields += [
                    (
                        ref,
                        ("byConsumer", k, "endpoint")
                        if match.endpoint is not None
                        else ("byConsumer", k, "split", j, "endpoint"),
                    )
                    for j, (ref, _) in enumerate(match.targets())
                ]
            for ref, field in fields:
                svc = spec.services.get(ref.partition(".")[0])
                if svc is None or svc.protocol != "thrift":
                    continue
                out.append(
                    (
                        E,
                        ("spec", "gateway", "routes", i, *field),
                        f"'{ref}' speaks Thrift (binary over TCP) and a gateway route sends it "
                        "HTTP; call it from a service, or route to an HTTP or gRPC endpoint",
                    )
                )
    hosts: dict[tuple[str, str], str] = {}
    for name, svc in spec.services.items():
        p: Path = ("spec", "services", name)
        if svc.expose is not None:
            if svc.protocol == "thrift":
                out.append(
                    (
                        E,
                        (*p, "expose"),
                        "an Ingress routes HTTP; a Thrift service cannot be exposed by one",
                    )
                )
            if svc.external:
                out.append((E, (*p, "expose"), "an external service is not deployed here"))
            key = (svc.expose.host, svc.expose.path)
            if key in hosts:
                out.append(
                    (
                        E,
                        (*p, "expose", "host"),
                        f"{key[0]}{key[1]} is already exposed by service '{hosts[key]}'",
                    )
                )
            hosts[key] = name
        dep = svc.deployment
        mesh = spec.mesh is not None and spec.mesh.enabled
        if (
            svc.protocol == "thrift"
            and mesh
            and dep is not None
            and dep.canary is not None
            and dep.canary.traffic_routing == "istio"
        ):
            out.append(
                (
                    E,
                    (*p, "deployment", "canary", "trafficRouting"),
                    "a Thrift service is TCP to Istio, whose weights Argo Rollouts sets through "
                    "tcpRoutes, which are not generated; use trafficRouting: replicas",
                )
            )
    return out
