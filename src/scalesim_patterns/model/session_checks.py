"""Meaning checks on traffic sessions (model/sessions.py): each step's request exists and a
session sends something."""

from __future__ import annotations

from .architecture import Architecture
from .change_checks import suggest
from .diagnostics import Path, Severity

__all__ = ["check_sessions"]

Finding = tuple[Severity, Path, str]
E = Severity.ERROR


def check_sessions(arch: Architecture) -> list[Finding]:
    spec = arch.spec
    out: list[Finding] = []
    gw = spec.gateway
    routes = {r.path for r in gw.routes} if gw is not None else set()
    for tname, src in spec.traffic.items():
        if src.session is None:
            continue
        base: Path = ("spec", "traffic", tname, "session")
        for i, step in enumerate(src.session):
            p: Path = (*base, i)
            if step.endpoint is not None:
                service, sep, endpoint = step.endpoint.partition(".")
                svc = spec.services.get(service)
                if not sep:
                    out.append(
                        (E, (*p, "endpoint"), f"'{step.endpoint}' is not a `service.endpoint`")
                    )
                elif svc is None:
                    out.append(
                        (
                            E,
                            (*p, "endpoint"),
                            f"unknown service '{service}'{suggest(service, spec.services)}",
                        )
                    )
                elif endpoint not in svc.endpoints:
                    out.append(
                        (
                            E,
                            (*p, "endpoint"),
                            f"service '{service}' has no endpoint '{endpoint}'"
                            f"{suggest(endpoint, svc.endpoints)}",
                        )
                    )
            elif step.route is not None:
                if gw is None:
                    out.append(
                        (
                            E,
                            (*p, "route"),
                            "a route needs `spec.gateway`; use `endpoint:` to call a service directly",
                        )
                    )
                elif step.route not in routes:
                    out.append(
                        (
                            E,
                            (*p, "route"),
                            f"no gateway route '{step.route}'{suggest(step.route, routes)}",
                        )
                    )
                elif step.method is not None and not any(
                    r.path == step.route and (r.methods is None or step.method in r.methods)
                    for r in gw.routes
                ):
                    out.append((E, (*p, "method"), f"no gateway route {step.method} {step.route}"))
        if all(step.mean_requests == 0 for step in src.session):
            out.append(
                (
                    E,
                    base,
                    "this session sends no request (every step has probability 0 or repeat 0)",
                )
            )
    return out
