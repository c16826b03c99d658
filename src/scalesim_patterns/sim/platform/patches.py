"""Temporary changes to samplers and rates, for faults and for the autoscaler's CPU meter.

The engine reads an endpoint's `work` sampler and `error_rate`, a query step's `latency` and a
publish step's `ack` afresh on every call, so swapping them changes behaviour from that moment
with no check on the hot path. A patch keeps the original and the additions in force, and
rebuilds the sampler whenever one is added or removed, so overlapping faults end in any order.
"""

from __future__ import annotations

from typing import Any

from scalesim_patterns.sim.core.plugins import PluginStates
from scalesim_patterns.sim.core.rng import Sampler, Sum

__all__ = [
    "CpuMeter",
    "ErrorPatch",
    "ErrorPatches",
    "SamplerPatch",
    "SamplerPatches",
    "error_patch",
    "sampler_patch",
]


class CpuMeter:
    """Seconds of own work drawn (an endpoint's `work`: the CPU time of its calls)."""

    __slots__ = ("total",)

    def __init__(self) -> None:
        self.total = 0.0


class _Added(Sampler):
    """The original's draw plus each added delay's, in order."""

    __slots__ = ("adds", "base")

    def __init__(self, base: Sampler, adds: list[Sampler]) -> None:
        self.base = base
        self.adds = adds

    def draw(self) -> float:
        v = self.base.draw()
        extra = 0.0
        for a in self.adds:
            extra += a.draw()
        return v + extra


class _Metered(_Added):
    """`_Added`, counting the original's draws in `meter`."""

    __slots__ = ("meter",)

    def __init__(self, base: Sampler, adds: list[Sampler], meter: CpuMeter) -> None:
        super().__init__(base, adds)
        self.meter = meter

    def draw(self) -> float:
        v = self.base.draw()
        self.meter.total += v
        if not self.adds:
            return v
        extra = 0.0
        for a in self.adds:
            extra += a.draw()
        return v + extra


class SamplerPatch:
    """The sampler held in `owner.<attr>`: the original, plus added delays, plus a CPU meter
    counting the original's draws only (a fault's extra delay holds the worker, it is not
    counted as CPU)."""

    def __init__(self, owner: Any, attr: str) -> None:
        self.owner = owner
        self.attr = attr
        self.base: Sampler = getattr(owner, attr)
        self.adds: dict[object, Sampler] = {}
        self.meter: CpuMeter | None = None

    def add(self, key: object, extra: Sampler) -> None:
        self.adds[key] = extra
        self.rebuild()

    def remove(self, key: object) -> None:
        self.adds.pop(key, None)
        self.rebuild()

    def metered(self) -> CpuMeter:
        if self.meter is None:
            self.meter = CpuMeter()
            self.rebuild()
        return self.meter

    def rebuild(self) -> None:
        base = self.base
        adds = list(self.adds.values())
        meter = self.meter
        sampler: Sampler
        if meter is None and not adds:
            sampler = base
        elif meter is None:
            sampler = Sum(base, adds[0]) if len(adds) == 1 else _Added(base, adds)
        else:
            sampler = _Metered(base, adds, meter)
        setattr(self.owner, self.attr, sampler)


class ErrorPatch:
    """An endpoint's error rate, raised by faults: 1 − (1 − base) · Π (1 − rate)."""

    def __init__(self, owner: Any) -> None:
        self.owner = owner
        self.base: float = owner.error_rate
        self.rates: dict[object, float] = {}

    def add(self, key: object, rate: float) -> None:
        self.rates[key] = rate
        self.rebuild()

    def remove(self, key: object) -> None:
        self.rates.pop(key, None)
        self.rebuild()

    def rebuild(self) -> None:
        ok = 1.0 - self.base
        for r in self.rates.values():
            ok *= 1.0 - r
        self.owner.error_rate = self.base if not self.rates else 1.0 - ok


class SamplerPatches(dict[tuple[int, str], SamplerPatch]):
    """Plug-in state: the patch of each patched sampler, by (id of its owner, attribute)."""


class ErrorPatches(dict[int, ErrorPatch]):
    """Plug-in state: the patch of each patched error rate, by id of its endpoint."""


def sampler_patch(plugins: PluginStates, owner: Any, attr: str) -> SamplerPatch:
    """The one patch of `owner.<attr>` (made on first use)."""
    table = plugins.obtain(SamplerPatches)
    key = (id(owner), attr)
    patch = table.get(key)
    if patch is None:
        patch = table[key] = SamplerPatch(owner, attr)
    return patch


def error_patch(plugins: PluginStates, owner: Any) -> ErrorPatch:
    """The one patch of `owner.error_rate` (made on first use)."""
    table = plugins.obtain(ErrorPatches)
    patch = table.get(id(owner))
    if patch is None:
        patch = table[id(owner)] = ErrorPatch(owner)
    return patch
