"""The samplers of a call's network legs: a hop's latency plus the sidecar proxies' cost.

They run once per call, so they live in a compiled module (`_build.COMPILED_MODULES`) rather than
as closures of the engine's builder, which stays interpreted.
"""

from __future__ import annotations

from typing import Final

from scalesim_patterns.sim.core.histogram import LogHistogram
from scalesim_patterns.sim.core.rng import Sampler

__all__ = ["MESH_SAMPLE_EVERY", "meshed_leg"]

MESH_SAMPLE_EVERY: Final = 4
"""The per-hop mesh overhead histogram records one meshed call in this many."""


class _MeshedLeg(Sampler):
    """A request leg through one proxy or two: the network's draw, then each proxy's."""

    __slots__ = ("count", "hist", "net", "side", "two")

    def __init__(
        self, net: Sampler, side: Sampler, hist: LogHistogram, count: list[int], two: bool
    ) -> None:
        self.net = net
        self.side = side
        self.hist = hist
        self.count = count
        self.two = two

    def draw(self) -> float:
        a = self.net.draw()
        b = self.side.draw()
        if self.two:
            c = self.side.draw()
            total = a + b + c
            proxies = b + c
        else:
            total = a + b
            proxies = b
        count = self.count
        k = count[0] + 1
        if k == MESH_SAMPLE_EVERY:
            k = 0
            self.hist.record(proxies)
        count[0] = k
        return total


def meshed_leg(
    net: Sampler, side: Sampler, hist: LogHistogram, count: list[int], sidecars: int
) -> Sampler:
    """A request leg through `sidecars` proxies (1 or 2): the network's draw, then each proxy's.

    Every MESH_SAMPLE_EVERY-th meshed call (counted in `count[0]`, shared by every call site of
    the run) records the proxies' share in `hist`: the draws are independent, so a systematic
    sample has their distribution at a quarter of the cost.
    """
    return _MeshedLeg(net, side, hist, count, sidecars == 2)
