"""Steps whose shape depends on the data: drawn repeat counts, a weighted choice, and repeated
groups of steps.

- A `repeat` drawn from a count distribution (model/counts.py) is drawn per request from the
  step's own stream; a draw of 0 skips the step. `Counted*` are the plain step runtimes with the
  count drawn instead of fixed, so files without distributions run exactly the old code.
- `ChoiceStepRuntime` picks one option by weight and runs that option's call step (or nothing).
- A group (`steps:` with `repeat`) is compiled flat into its endpoint's step list between a
  `GroupStart` and a `GroupEnd`: the end jumps back to the first step of the body until the
  call's count for that group is used up. The counts of the groups a call is inside are a stack
  on the call (`Call.loops`), so groups nest.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from collections.abc import Callable
from typing import Any

from scalesim_patterns.model.counts import (
    EmpiricalCount,
    GeometricCount,
    PoissonCount,
    UniformCount,
    ZipfCount,
)
from scalesim_patterns.sim.network.station import Call, StepRuntime
from scalesim_patterns.sim.network.steps import (
    CallStepRuntime,
    ParallelStepRuntime,
    QueryStepRuntime,
)

__all__ = [
    "ChoiceStepRuntime",
    "CountedCallStep",
    "CountedParallelStep",
    "CountedQueryStep",
    "GroupEnd",
    "GroupStart",
    "count_sampler",
]

CountSampler = Callable[[], int]
AnyCount = int | UniformCount | GeometricCount | PoissonCount | ZipfCount | EmpiricalCount


def _table(values: list[int], weights: list[float], rnd: Callable[[], float]) -> CountSampler:
    """Inversion by a cumulative table."""
    total = math.fsum(weights)
    acc = 0.0
    cumulative: list[float] = []
    for w in weights:
        acc += w / total
        cumulative.append(acc)
    last = len(values) - 1

    def draw() -> int:
        i = bisect_right(cumulative, rnd())
        return values[i if i < last else last]

    return draw


def count_sampler(count: AnyCount, rng: random.Random) -> CountSampler:
    """A no-argument function drawing a repeat count with `rng`."""
    rnd = rng.random
    if isinstance(count, int):
        n = count
        return lambda: n
    if isinstance(count, UniformCount):
        lo, width = count.min, count.max - count.min + 1
        hi = count.max
        return lambda: min(hi, lo + int(rnd() * width))
    if isinstance(count, GeometricCount):
        if count.mean_ == 0:
            return lambda: 0
        # Failures before the first success, success probability p = 1 / (1 + mean).
        log_q = math.log(count.mean_ / (1 + count.mean_))
        cap = count.max
        log = math.log
        return lambda: min(cap, int(log(1.0 - rnd()) / log_q))
    values: list[int]
    weights: list[float]
    if isinstance(count, PoissonCount):
        m = count.mean_
        if m == 0:
            return lambda: 0
        top = int(m + 12 * math.sqrt(m) + 12)
        values = list(range(top + 1))
        weights = [math.exp(k * math.log(m) - m - math.lgamma(k + 1)) for k in values]
    elif isinstance(count, ZipfCount):
        values = list(range(count.min, count.max + 1))
        weights = count.weights()
    else:
        values = sorted(count.values)
        weights = [count.values[k] for k in values]
    return _table(values, weights, rnd)


class CountedCallStep(CallStepRuntime):
    """`call:` with a drawn `repeat`."""

    __slots__ = ("count",)

    def __init__(self, count: CountSampler, *args: Any) -> None:
        super().__init__(*args)
        self.count = count

    def start(self, x: Call) -> bool:
        if self.probability < 1.0 and self.prob_rnd() >= self.probability:
            return True
        n = self.count()
        if n <= 0:
            return True
        x.rep = n
        self.send(x)
        return False


class CountedQueryStep(QueryStepRuntime):
    """`query:` with a drawn `repeat`."""

    __slots__ = ("count",)

    def __init__(self, count: CountSampler, *args: Any) -> None:
        super().__init__(*args)
        self.count = count

    def start(self, x: Call) -> bool:
        if self.probability < 1.0 and self.prob_rnd() >= self.probability:
            return True
        n = self.count()
        if n <= 0:
            return True
        x.rep = n
        self.acquire(x)
        return False


class CountedParallelStep(ParallelStepRuntime):
    """`parallel:` whose members' `repeat` (concurrent calls) may be drawn."""

    __slots__ = ("counts",)

    def __init__(self, counts: list[CountSampler], *args: Any) -> None:
        super().__init__(*args)
        self.counts = counts

    def start(self, x: Call) -> bool:
        rnd = self.prob_rnd
        if self.probability < 1.0 and rnd() >= self.probability:
            return True
        chosen: list[tuple[int, int]] = []
        for i, p in enumerate(self.member_probability):
            if p >= 1.0 or rnd() < p:
                n = self.counts[i]()
                if n > 0:
                    chosen.append((i, n))
        total = sum(n for _, n in chosen)
        if total == 0:
            return True
        x.pending = total
        x.first = 0
        now = self.kernel.now
        for i, n in chosen:
            target, invoke = self.targets[i], self.invokes[i]
            for _ in range(n):
                invoke(Call(target, self, x, now))
        return False


class ChoiceStepRuntime(StepRuntime):
    """`choice:`: one option by weight; its call step runs, or nothing when it has no call."""

    __slots__ = ("cumulative", "options", "pick_rnd")

    def __init__(
        self,
        options: list[StepRuntime | None],
        weights: list[float],
        pick_rnd: Callable[[], float],
    ) -> None:
        self.options = options
        total = math.fsum(weights)
        acc = 0.0
        self.cumulative: list[float] = []
        for w in weights:
            acc += w / total
            self.cumulative.append(acc)
        self.pick_rnd = pick_rnd

    def start(self, x: Call) -> bool:
        i = bisect_right(self.cumulative, self.pick_rnd())
        option = self.options[i if i < len(self.options) else -1]
        if option is None:
            return True
        return option.start(x)

    def calls(self) -> list[CallStepRuntime]:
        """The options' call steps (for reports that look at every call step)."""
        return [o for o in self.options if isinstance(o, CallStepRuntime)]


class GroupStart(StepRuntime):
    """Draw the group's count; 0 (or the probability missed) jumps past its end."""

    __slots__ = ("count", "end", "prob_rnd", "probability")

    def __init__(
        self, count: CountSampler, probability: float, prob_rnd: Callable[[], float]
    ) -> None:
        self.count = count
        self.probability = probability
        self.prob_rnd = prob_rnd
        self.end = 0
        """Index in the endpoint's steps just after the matching `GroupEnd`."""

    def start(self, x: Call) -> bool:
        if self.probability < 1.0 and self.prob_rnd() >= self.probability:
            x.pc = self.end
            return True
        n = self.count()
        if n <= 0:
            x.pc = self.end
            return True
        try:
            x.loops.append(n)
        except AttributeError:
            x.loops = [n]
        return True


class GroupEnd(StepRuntime):
    """One pass of the body is done: go back to its first step, or leave the group."""

    __slots__ = ("body",)

    def __init__(self, body: int) -> None:
        self.body = body
        """Index of the body's first step."""

    def start(self, x: Call) -> bool:
        loops: list[int] = x.loops
        left = loops[-1] - 1
        if left > 0:
            loops[-1] = left
            x.pc = self.body
        else:
            loops.pop()
        return True
