"""The samplers of a call's network legs: a hop's latency plus the sidecar proxies' cost.

They run once per call, so they live in a compiled module (`_build.COMPILED_MODULES`) rather than
as closures of the engine's builder, which stays interpreted.
"""

from __future__ import annotations

from typing import Final

from scalesim_patterns.sim.core.histogram import LogHistogram
from scalesim_patterns.sim.core.rng import Constant_, Sampler, Sum

__all__ = ["MESH_SAMPLE_EVERY", "ZERO", "meshed_leg", "sum2"]

MESH_SAMPLE_EVERY: Final = 4
"""The per-hop mesh overhead histogram records one meshed call in this many."""

ZERO: Final = Constant_(0.0)
"""The leg of a network without latency."""


def sum2(a: Sampler, b: Sampler) -> Sampler:
    """One draw of each, added (a gateway route's proxy work plus its auth check)."""
    return Sum(a, b)


class _MeshedLeg(Sampler):
    """A request leg through one proxy: the network's draw, then the proxy's."""

    __slots__ = ("count", "hist", "net", "side")

    def __init__(self, net: Sampler, side: Sampler, hist: LogHistogram, count: list[int]) -> None:
        self.net = net
        self.side = side
        self.hist = hist
        self.count = count

    def draw(self) -> float:
        a = self.net.draw()
        b = self.side.draw()
        count = self.count
        k = count[0] + 1
        if k == MESH_SAMPLE_EVERY:
            k = 0
            self.hist.record(b)
        count[0] = k
        return a + b


class _MeshedLeg2(_MeshedLeg):
    """A request leg through two proxies: the network's draw, then each proxy's."""

    __slots__ = ()

    def draw(self) -> float:
        a = self.net.draw()
        side = self.side
        b = side.draw()
        c = side.draw()
        count = self.count
        k = count[0] + 1
        if k == MESH_SAMPLE_EVERY:
            k = 0
            self.hist.record(b + c)
        count[0] = k
        return a + b + c


def meshed_leg(
    net: Sampler, side: Sampler, hist: LogHistogram, count: list[int], sidecars: int
) -> Sampler:
    """A request leg through `sidecars` proxies (1 or 2): the network's draw, then each proxy's.

    Every MESH_SAMPLE_EVERY-th meshed call (counted in `count[0]`, shared by every call site of
    the run) records the proxies' share in `hist`: the draws are independent, so a systematic
    sample has their distribution at a quarter of the cost.
    """
    if sidecars == 1:
        return _MeshedLeg(net, side, hist, count)
    return _MeshedLeg2(net, side, hist, count)
