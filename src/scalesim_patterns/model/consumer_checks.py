"""Meaning checks on API consumers (model/consumers.py): named consumers exist and can be
identified."""

from __future__ import annotations

from .architecture import Architecture
from .change_checks import suggest
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
    return out
