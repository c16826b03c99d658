"""Meaning checks on scenarios' `changes:` (model/changes.py): what each names exists and the
change can act on it."""

from __future__ import annotations

from collections.abc import Iterable

from .architecture import Architecture
from .changes import (
    AbortChange,
    ConfigChange,
    PromoteChange,
    ReplicasChange,
    RouteWeightsChange,
)
from .diagnostics import Path, Severity

__all__ = ["check_changes", "suggest"]

Finding = tuple[Severity, Path, str]
E, W = Severity.ERROR, Severity.WARNING


def suggest(name: str, known: Iterable[str]) -> str:
    import difflib  # for a name that is not known only: a valid file does without it

    known = sorted(known)
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if close:
        return f"; did you mean '{close[0]}'?"
    if known:
        return "; known: " + ", ".join(known[:12]) + (", ..." if len(known) > 12 else "")
    return ""


def check_changes(arch: Architecture) -> list[Finding]:
    spec = arch.spec
    out: list[Finding] = []
    services = spec.services
    for sname, sc in spec.scenarios.items():
        duration = sc.duration if sc.duration is not None else spec.simulation.duration
        seen: dict[tuple[str, str, float], int] = {}
        for i, change in enumerate(sc.changes):
            p: Path = ("spec", "scenarios", sname, "changes", i)
            what: tuple[str, str, float]
            if change.at >= duration:
                out.append(
                    (
                        W,
                        (*p, "at"),
                        f"at {change.at:g}s is not before the run ends "
                        f"({duration:g}s): the change never happens",
                    )
                )
            if isinstance(change, RouteWeightsChange):
                what = (change.type, f"{change.method or ''} {change.route}", change.at)
                gw = spec.gateway
                if gw is None:
                    out.append((E, (*p, "route"), "route weights need `spec.gateway`"))
                    continue
                paths = {r.path for r in gw.routes}
                if not any(
                    r.path == change.route
                    and (change.method is None or r.methods is None or change.method in r.methods)
                    for r in gw.routes
                ):
                    out.append(
                        (
                            E,
                            (*p, "route"),
                            f"no gateway route '{change.route}'{suggest(change.route, paths)}",
                        )
                    )
                for j, target in enumerate(change.split):
                    service, sep, endpoint = target.endpoint.partition(".")
                    tp = (*p, "split", j, "endpoint")
                    if not sep:
                        out.append((E, tp, f"'{target.endpoint}' is not a `service.endpoint`"))
                    elif service not in services:
                        out.append(
                            (E, tp, f"unknown service '{service}'{suggest(service, services)}")
                        )
                    elif endpoint not in services[service].endpoints:
                        eps = services[service].endpoints
                        out.append(
                            (
                                E,
                                tp,
                                f"service '{service}' has no endpoint '{endpoint}'"
                                f"{suggest(endpoint, eps)}",
                            )
                        )
            elif isinstance(change, ReplicasChange):
                what = (change.type, change.service, change.at)
                svc = services.get(change.service)
                sp = (*p, "service")
                if svc is None:
                    out.append(
                        (
                            E,
                            sp,
                            f"unknown service '{change.service}'{suggest(change.service, services)}",
                        )
                    )
                    continue
                if svc.external:
                    out.append((E, sp, f"'{change.service}' is external: not yours to scale"))
                if svc.autoscaling is not None:
                    out.append(
                        (
                            E,
                            sp,
                            f"'{change.service}' has an autoscaler, which owns its replica "
                            "count and would undo the change at its next sync; change "
                            "autoscaling.minReplicas/maxReplicas instead",
                        )
                    )
                dep = svc.deployment
                if dep is not None and dep.strategy != "rolling":
                    out.append(
                        (
                            E,
                            sp,
                            f"'{change.service}' is under a {dep.strategy} rollout, which "
                            "scales its ReplicaSets itself",
                        )
                    )
            elif isinstance(change, PromoteChange | AbortChange):
                what = ("rollout", change.service, change.at)
                svc = services.get(change.service)
                sp = (*p, "service")
                if svc is None:
                    out.append(
                        (
                            E,
                            sp,
                            f"unknown service '{change.service}'{suggest(change.service, services)}",
                        )
                    )
                    continue
                dep = svc.deployment
                if dep is None or dep.strategy == "rolling" or dep.new_version is None:
                    out.append(
                        (
                            E,
                            sp,
                            f"'{change.service}' has no canary or blue-green rollout to "
                            f"{change.type} (deployment.strategy canary or blue-green with "
                            "newVersion)",
                        )
                    )
                elif change.at < dep.start_at:
                    out.append(
                        (
                            E,
                            (*p, "at"),
                            f"the rollout of '{change.service}' starts at "
                            f"{dep.start_at:g}s (deployment.startAt); a {change.type} before "
                            "that has nothing to act on",
                        )
                    )
            else:
                assert isinstance(change, ConfigChange)
                what = (change.type, change.target, change.at)
                service, _, endpoint = change.target.partition(".")
                tp = (*p, "target")
                if service not in services:
                    out.append((E, tp, f"unknown service '{service}'{suggest(service, services)}"))
                elif endpoint and endpoint not in services[service].endpoints:
                    eps = services[service].endpoints
                    out.append(
                        (
                            E,
                            tp,
                            f"service '{service}' has no endpoint '{endpoint}'"
                            f"{suggest(endpoint, eps)}",
                        )
                    )
            if what in seen:
                out.append(
                    (
                        E,
                        (*p, "at"),
                        f"change {seen[what]} changes the same thing at the same "
                        "time; which one wins would depend on the order",
                    )
                )
            seen[what] = i
    return out
