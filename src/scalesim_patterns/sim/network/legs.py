"""The samplers of a call's network legs: a hop's latency plus the sidecar proxies' cost.

They run once per call, so they live in a compiled module (`_build.COMPILED_MODULES`) rather than
as closures of the engine's builder, which stays interpreted.
"""

from __future__ import annotations

from typing import Final

from scalesim_patterns.sim.core.histogram import LogHistogram
from scalesim_patterns.sim.core.rng import Sampler

__all__ = ["MESH_SAMPLE_EVERY", "meshed_leg", "sum2", "zero"]

MESH_SAMPLE_EVERY: Final = 4
"""The per-hop mesh overhead histogram records one meshed call in this many."""


def zero() -> float:
    return 0.0


def sum2(a: Sampler, b: Sampler) -> Sampler:
    """One draw of each, added (a gateway route's proxy work plus its auth check)."""
    return lambda: a() + b()


def meshed_leg(
    net: Sampler, side: Sampler, hist: LogHistogram, count: list[int], sidecars: int
) -> Sampler:
    """A request leg through `sidecars` proxies (1 or 2): the network's draw, then each proxy's.

    Every MESH_SAMPLE_EVERY-th meshed call (counted in `count[0]`, shared by every call site of
    the run) records the proxies' share in `hist`: the draws are independent, so a systematic
    sample has their distribution at a quarter of the cost.
    """
    if sidecars == 1:

        def one() -> float:
            a = net()
            b = side()
            k = count[0] + 1
            if k == MESH_SAMPLE_EVERY:
                k = 0
                hist.record(b)
            count[0] = k
            return a + b

        return one

    def two() -> float:
        a = net()
        b = side()
        c = side()
        k = count[0] + 1
        if k == MESH_SAMPLE_EVERY:
            k = 0
            hist.record(b + c)
        count[0] = k
        return a + b + c

    return two
