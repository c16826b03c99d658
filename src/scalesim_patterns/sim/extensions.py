"""The simulator's default extensions: what `Engine` installs when not given `extensions=`.

Kept apart from `sim/mechanisms/`, which holds engine-free state machines, so that package stays
importable and testable without the engine. Each entry costs nothing where the architecture
does not configure it: a layer returns the `next` it is given and an installer returns at once,
and the modules behind them are imported only when something is configured (so an unconfigured
run does not even pay for loading them).

Client layers, outermost first: the gateway's rate limit (on the gateway's call to a route's
target), then the caller's own policies (fallback, retry, breaker, bulkhead). Beneath the
caller's timeout, transport layers: the caller's sidecar (mesh), then a network partition.
Installers: faults first (they create the fleets of the services they hit), autoscaling, a
scenario's scheduled changes, the fleets' own reporting, then the cascade analysis.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scalesim_patterns.sim.network.pipeline import (
    CallSite,
    Extensions,
    Installer,
    Invoke,
    LayerFactory,
)
from scalesim_patterns.sim.platform.fleets import Fleets

if TYPE_CHECKING:
    from scalesim_patterns.sim.network.host import Host

__all__ = ["CLIENT_LAYERS", "INSTALLERS", "TRANSPORT_LAYERS", "default_extensions"]


def rate_limit_layer(site: CallSite, nxt: Invoke) -> Invoke:
    gw = site.gateway
    if site.route is None or gw is None:
        return nxt
    if (site.route.rate_limit or gw.rate_limit) is None and not any(
        c.rate_limit is not None for c in gw.consumers.values()
    ):
        return nxt
    from scalesim_patterns.sim.patterns.ratelimiting import rate_limit_layer as layer

    return layer(site, nxt)


def client_layer(site: CallSite, nxt: Invoke) -> Invoke:
    p = site.policy
    if p.retry is None and p.circuit_breaker is None and p.bulkhead is None and p.fallback is None:
        return nxt
    from scalesim_patterns.sim.patterns.resilience import client_layer as layer

    return layer(site, nxt)


def mesh_layer(site: CallSite, nxt: Invoke) -> Invoke:
    if not site.mesh:
        return nxt
    from scalesim_patterns.sim.patterns.mesh import mesh_layer as layer

    return layer(site, nxt)


def partition_layer(site: CallSite, nxt: Invoke) -> Invoke:
    scenario = site.engine.scenario
    if scenario is None or not any(f.type == "partition" for f in scenario.faults):
        return nxt
    from scalesim_patterns.sim.platform.faults import partition_layer as layer

    return layer(site, nxt)


def install_faults(engine: Host) -> None:
    if engine.scenario is None or not engine.scenario.faults:
        return
    from scalesim_patterns.sim.platform.faults import install_faults as install

    install(engine)


def install_autoscaling(engine: Host) -> None:
    if all(s.autoscaling is None for s in engine.arch.spec.services.values()):
        return
    from scalesim_patterns.sim.platform.autoscaling import install_autoscaling as install

    install(engine)


def install_changes(engine: Host) -> None:
    if engine.scenario is None or not engine.scenario.changes:
        return
    from scalesim_patterns.sim.platform.changes import install_changes as install

    install(engine)


def install_lifecycle(engine: Host) -> None:
    # Installers before this one (faults, autoscaling, a user's own) make the fleets.
    if Fleets not in engine.plugins:
        return
    from scalesim_patterns.sim.platform.lifecycle import install_lifecycle as install

    install(engine)


def install_cascade(engine: Host) -> None:
    from scalesim_patterns.sim.reports.cascade import install_cascade as install

    install(engine)


CLIENT_LAYERS: list[LayerFactory] = [rate_limit_layer, client_layer]
TRANSPORT_LAYERS: list[LayerFactory] = [mesh_layer, partition_layer]
INSTALLERS: list[Installer] = [
    install_faults,
    install_autoscaling,
    install_changes,
    install_lifecycle,
    install_cascade,
]


def default_extensions() -> Extensions:
    """The extensions an `Engine` installs when it is not given its own."""
    return Extensions(list(CLIENT_LAYERS), list(INSTALLERS), list(TRANSPORT_LAYERS))
