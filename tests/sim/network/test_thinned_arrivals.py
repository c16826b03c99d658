"""A thinned arrival process decides the candidates that fall within the current run when they
are drawn, without an event each: the arrivals must be exactly those of the textbook
procedure (candidates at the peak rate from the arrival stream, each kept when its own draw
of the thinning stream is below rate(t) / peak), also across runs in several pieces."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest

from scalesim_patterns.model.traffic import DiurnalArrival, SpikeArrival
from scalesim_patterns.sim.core.kernel import Kernel
from scalesim_patterns.sim.network.traffic import EntryStarter, OpenSource, Picker, rate_function


class _Recorder(EntryStarter):
    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel
        self.times: list[float] = []

    def start(self, parent: Any) -> None:
        self.times.append(self.kernel.now)


class _One(Picker):
    def __init__(self, entry: _Recorder) -> None:
        self.entry = entry

    def pick(self) -> EntryStarter:
        return self.entry


def _textbook(arrival: Any, horizon: float) -> list[float]:
    rate, peak = rate_function(arrival)
    gaps, thin = random.Random(1), random.Random(2)
    t, out = 0.0, []
    while True:
        t += -(1.0 / peak) * math.log(1.0 - gaps.random())
        if t > horizon:
            return out
        if thin.random() * peak < rate(t):
            out.append(t)


ARRIVALS = [
    DiurnalArrival.model_validate({"mean": "300/s", "amplitude": 0.6, "period": "20s"}),
    SpikeArrival.model_validate({"base": "20/s", "peak": "400/s", "at": "3s", "duration": "2s"}),
]


@pytest.mark.parametrize("arrival", ARRIVALS, ids=lambda a: a.process)
@pytest.mark.parametrize("pieces", [(30.0,), (0.5, 4.0, 4.0, 17.25, 30.0)])
def test_thinned_arrivals_are_the_textbook_ones(arrival: Any, pieces: tuple[float, ...]) -> None:
    kernel = Kernel()
    entry = _Recorder(kernel)
    source = OpenSource(
        "web", kernel, arrival, 1.0, _One(entry), random.Random(1).random, random.Random(2).random
    )
    source.start()
    for until in pieces:
        kernel.run(until)
    want = _textbook(arrival, 30.0)
    assert len(want) > 500
    assert entry.times == want
    # Rejected candidates within a run cost no event: far fewer events than candidates.
    assert kernel.events < 1.1 * len(want) + len(pieces)
