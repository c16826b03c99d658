"""The client pipeline: how a call leaves its caller, and where resilience mechanisms plug in.

Every place that sends calls (a `call:` step, each call of a `parallel:` step, a gateway route,
a traffic mix entry) is a `CallSite`. Its pipeline is a single function `invoke(call)` built once,
innermost first:

    transport (network hop)  ←  transport layers (sidecar, network faults)  ←  timeout (if the
    policy has one)  ←  extension layers

With no timeout and no extension layer, `invoke` *is* the transport's `send`: an unconfigured
pipeline costs nothing. A layer is a factory `(site, next) -> invoke`; it returns `next` itself
when the site's policy does not concern it. A layer may answer a call without sending it (an
open breaker), send several attempts (retries: each attempt is a new `Call` to the same target,
whose `reply` is the layer's own, wrapped once in a `FunctionHandler`), or change the outcome
the caller sees (fallback). The one contract: the original call's `reply(call)` is invoked
exactly once, with `call.status` set, and a layer that gives up on an attempt marks it
`state = ABANDONED` so a late answer is dropped.

Mechanisms that are not per call (autoscaling, probes, outlier ejection, crashes) are
`Installer`s: functions run once on the built engine before time starts, which may schedule
their own events (`host.every`) and change `ServiceRuntime.routable` / `replicas`. Layers and
installers see the engine only through the narrow `Host` interface (`network/host.py`).

The engine takes its extensions from `scalesim_patterns.sim.extensions` (module attributes
`CLIENT_LAYERS` and `TRANSPORT_LAYERS` — outermost first — and `INSTALLERS`), or from the
`extensions=` argument of `simulate`. Transport layers sit beneath the caller's timeout: they
act on each attempt the application sends, as a sidecar proxy or the network would.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from scalesim_patterns.model.edge import Gateway, Route
from scalesim_patterns.model.resilience import ClientPolicy
from scalesim_patterns.sim.core.causes import TIMEOUT
from scalesim_patterns.sim.core.kernel import ConstantDelayQueue, Kernel
from scalesim_patterns.sim.core.rng import Sampler
from scalesim_patterns.sim.network.host import Host  # at run time: mypyc's dataclass reads it
from scalesim_patterns.sim.network.station import (
    ABANDONED,
    ANSWERED,
    PENDING,
    Call,
    EndpointRuntime,
    ServiceRuntime,
)

if TYPE_CHECKING:
    import random

__all__ = [
    "CallSite",
    "Extensions",
    "Installer",
    "Invoke",
    "LayerFactory",
    "Transport",
    "timeout_layer",
]

Invoke = Callable[[Call], None]
LayerFactory = Callable[["CallSite", Invoke], Invoke]
Installer = Callable[["Host"], None]


@dataclass(eq=False)
class CallSite:
    """One caller→target edge of the call graph, as the pipeline's layers see it."""

    name: str
    """Unique and stable: `caller->service.endpoint#where`; also the prefix of its random streams."""
    caller: str
    """Calling service, `@gateway`, or `@client` for traffic entering the system."""
    target_service: str
    target_endpoint: str
    policy: ClientPolicy
    """Caller's client policy for the target service merged with the step's own fields."""
    engine: Host
    route: Route | None = None
    """Set for the gateway's call to a route target and for traffic sent to a route."""
    gateway: Gateway | None = None
    mesh: bool = False
    """True when the call goes through service-mesh sidecars (mesh retries apply)."""
    legs: tuple[Sampler, Sampler] | None = None
    """The network hop's request and reply legs (None: zero latency), for transport layers that
    send calls themselves (a sidecar choosing the host)."""
    direct: ServiceRuntime | None = None
    """The target service when the site's pipeline is nothing but a zero-latency transport
    (no layer, no timeout, no tracing): its `invoke` is then the service's `arrive`, which the
    compiled caller calls directly (through the class's table of methods) instead of through
    Python's generic call. Set by the engine once the pipeline is built."""

    @property
    def target(self) -> str:
        return f"{self.target_service}.{self.target_endpoint}"

    @property
    def endpoint(self) -> EndpointRuntime:
        return self.engine.services[self.target_service].endpoints[self.target_endpoint]

    @property
    def service(self) -> ServiceRuntime:
        return self.engine.services[self.target_service]

    @property
    def kernel(self) -> Kernel:
        return self.engine.kernel

    def stream(self, purpose: str) -> random.Random:
        """A random stream owned by this site (e.g. purpose='retry-jitter')."""
        return self.engine.streams.get(f"{purpose}:{self.name}")


@dataclass
class Extensions:
    layers: Sequence[LayerFactory] = field(default_factory=list)
    """Outermost first."""
    installers: Sequence[Installer] = field(default_factory=list)
    transport_layers: Sequence[LayerFactory] = field(default_factory=list)
    """Beneath the caller's timeout, above the network hop (outermost first): what a sidecar
    proxy or the network does to each attempt the application sends."""


class Transport:
    """Innermost stage: one network hop to the target service and one back.

    With no latency on either leg the call is handed to the service synchronously and the answer
    comes straight back (`back = None`), so a zero-latency network costs no events.
    """

    __slots__ = ("arrive", "deliver_", "kernel", "leg_back", "leg_there", "return_", "send")

    def __init__(
        self, kernel: Kernel, service: ServiceRuntime, legs: tuple[Sampler, Sampler] | None
    ) -> None:
        self.kernel = kernel
        self.arrive = service.arrive_
        self.deliver_ = self.deliver
        self.return_ = self.go_back
        self.send: Invoke
        self.leg_there: Sampler
        self.leg_back: Sampler
        if legs is None:
            self.send = self.arrive
            self.leg_there = self.leg_back = _never
        else:
            self.leg_there, self.leg_back = legs
            self.send = self.send_later

    def send_later(self, c: Call) -> None:
        c.back = self.return_
        self.kernel.schedule(self.leg_there.draw(), self.arrive, c)

    def go_back(self, c: Call) -> None:
        self.kernel.schedule(self.leg_back.draw(), self.deliver_, c)

    def deliver(self, c: Call) -> None:
        if c.state == PENDING:
            c.state = ANSWERED
            c.reply.handle(c)


class _Never(Sampler):
    __slots__ = ()

    def draw(self) -> float:
        raise AssertionError("a zero-latency transport has no legs")


_never: Final = _Never()


def timeout_layer(kernel: Kernel, timeout: float, nxt: Invoke) -> Invoke:
    """The caller stops waiting after `timeout`: it sees `timeout`, the callee keeps working."""
    return _Timeout(kernel, timeout, nxt).invoke


class _Timeout(ConstantDelayQueue):
    """A caller's timeout on every call of a site, at nearly no cost while it never fires.

    It is exactly one kernel event per call — `kernel.schedule(timeout, expire, c)` — kept in a
    `ConstantDelayQueue`: the deadlines of one site fall due in the order they were set, only the
    earliest is in the heap, and those of calls already answered (a call never becomes PENDING
    again) are never pushed. This runs once per call of every site with a timeout.
    """

    __slots__ = ("next",)

    def __init__(self, kernel: Kernel, delay: float, nxt: Invoke) -> None:
        super().__init__(kernel, delay)
        self.next = nxt

    def invoke(self, c: Call) -> None:
        self.add(c)
        self.next(c)

    def settled(self, item: Any) -> bool:
        c: Call = item
        return c.state != PENDING

    def fire(self, _: Any) -> None:
        c: Call = self.due()
        if c.state == PENDING:  # expire
            c.state = ABANDONED
            c.status = TIMEOUT
            c.reply.handle(c)
