"""The gateway's route steps: a route's call upstream, after noting the time spent in the gateway.

They run for every request through the gateway, so they are compiled with the step they extend
(`_build.COMPILED_MODULES`) rather than defined in the engine's builder, which stays interpreted.
"""

from __future__ import annotations

from collections.abc import Callable

from scalesim_patterns.sim.core.histogram import LogHistogram
from scalesim_patterns.sim.core.kernel import Kernel
from scalesim_patterns.sim.network.station import Call, EndpointRuntime
from scalesim_patterns.sim.network.steps import CallStepRuntime, Invoke
from scalesim_patterns.sim.network.traffic import consumer_of

__all__ = ["ConsumerRoutedStep", "GatewayStepRuntime"]


class GatewayStepRuntime(CallStepRuntime):
    """A gateway route's call upstream, which first notes how long the request has been in the
    gateway (queueing, proxy work, auth) in `added`: the brief's gateway-added latency."""

    def __init__(
        self,
        kernel: Kernel,
        targets: list[EndpointRuntime],
        invokes: list[Invoke],
        weights: list[float],
        pick: Callable[[], float],
        added: LogHistogram,
    ) -> None:
        super().__init__(kernel, targets, invokes, weights, 1.0, 1, pick, pick)
        self.added = added

    def start(self, x: Call) -> bool:
        self.added.record(self.kernel.now - x.t_arrive)
        return CallStepRuntime.start(self, x)


class ConsumerRoutedStep(GatewayStepRuntime):
    """A gateway route with `byConsumer` matches: a request of a matched consumer takes the
    match's targets (`by_consumer`, set once built), any other the route's own (whose weights
    scheduled changes move)."""

    by_consumer: dict[str, CallStepRuntime]

    def start(self, x: Call) -> bool:
        self.added.record(self.kernel.now - x.t_arrive)
        consumer = consumer_of(x)
        alternative = self.by_consumer.get(consumer) if consumer is not None else None
        if alternative is None:
            return CallStepRuntime.start(self, x)
        return alternative.start(x)
