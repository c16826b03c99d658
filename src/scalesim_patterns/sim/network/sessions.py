"""User sessions (model/sessions.py): each user follows a sequence of requests, one at a time.

A `Session` is one pass of one user through the steps and the parent of its requests: the entry
calls `next(call)` with each answer. After every answer, success or failure, the user thinks
(the step's `thinkTime`, else the source's) and goes on — Locust's and k6's users carry on after
a failed request too. What the user does in this session is drawn when it reaches a step:
whether it takes the step (`probability`), and how many times (`repeat`, a number or uniform
`{min, max}`), from stream `session:<source>`.

Closed loop: each user starts after one think time, and after its last step's think time starts
the session again (a session that sent nothing waits one think time first, so a user never spins
at one instant). Open loop: each arrival is a new user who runs the session once.

Counters (since warm-up): sessions started and completed, and per step the requests sent, the
failed answers, and the requests of completed sessions (so `per_session` is the mean number of
requests a whole session made of that step).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from scalesim_patterns.sim.core.kernel import Kernel
from scalesim_patterns.sim.core.rng import Sampler
from scalesim_patterns.sim.network.station import Call
from scalesim_patterns.sim.network.traffic import EntryRuntime, EntryStarter, Picker

__all__ = ["SessionSource", "SessionStepRuntime"]


class SessionStepRuntime:
    __slots__ = (
        "completed_requests",
        "entry",
        "failed",
        "label",
        "probability",
        "repeat_max",
        "repeat_min",
        "requests",
        "think",
    )

    def __init__(
        self,
        label: str,
        entry: EntryRuntime,
        repeat_min: int,
        repeat_max: int,
        probability: float,
        think: Sampler,
    ) -> None:
        self.label = label
        self.entry = entry
        self.repeat_min = repeat_min
        self.repeat_max = repeat_max
        self.probability = probability
        self.think = think
        self.requests = 0
        self.failed = 0
        self.completed_requests = 0


class Session:
    """One user's pass through the steps: where it is, what is left, what it sent."""

    __slots__ = ("counts", "index", "left", "sent", "source")

    def __init__(self, source: SessionSource) -> None:
        self.source = source
        self.index = -1
        self.left = 0
        self.sent = 0
        self.counts = [0] * len(source.steps)

    def next(self, c: Call) -> None:
        self.source.answered(self, c)

    @property
    def consumer(self) -> str | None:
        return self.source.consumer


class _Arrival(EntryStarter):
    """What an open-loop arrival starts: a new user's session."""

    __slots__ = ("source",)

    def __init__(self, source: SessionSource) -> None:
        self.source = source

    def start(self, _parent: Any) -> None:
        self.source.begin()


class SessionSource(Picker):
    """A closed population (`users`) or open arrivals (`pick()` by an `OpenSource`) of users
    following one session definition."""

    def __init__(
        self,
        name: str,
        kernel: Kernel,
        steps: list[SessionStepRuntime],
        rnd: Callable[[], float],
        *,
        users: int | None = None,
        think: Sampler | None = None,
    ) -> None:
        self.name = name
        self.kernel = kernel
        self.steps = steps
        self.rnd = rnd
        self.users = users
        self.think = think
        self.closed = users is not None
        self.started = 0
        self.completed = 0
        self.go_ = self.go
        self.carry_on_ = self.carry_on
        self.arrival = _Arrival(self)
        self.consumer: str | None = None

    # ---- as a traffic source ---------------------------------------------------------------

    def start(self) -> None:
        """Closed loop: every user begins after one think time."""
        if self.users is None:
            return
        assert self.think is not None
        for _ in range(self.users):
            self.kernel.schedule(self.think.draw(), self.go_, None)

    def pick(self) -> _Arrival:
        """Open loop: `OpenSource` picks what an arrival starts; an arrival starts a session."""
        return self.arrival

    def go(self, _: Any) -> None:
        self.begin()

    # ---- one session -----------------------------------------------------------------------

    def begin(self) -> None:
        self.started += 1
        self.advance(Session(self))

    def advance(self, s: Session) -> None:
        """Move to the next step the session takes and send its first request; or end."""
        steps = self.steps
        rnd = self.rnd
        while True:
            s.index += 1
            if s.index >= len(steps):
                self.finish(s)
                return
            step = steps[s.index]
            if step.probability < 1.0 and rnd() >= step.probability:
                continue
            n = step.repeat_min
            if step.repeat_max > n:
                n += min(int(rnd() * (step.repeat_max - n + 1)), step.repeat_max - n)
            if n > 0:
                s.left = n
                self.send(s, step)
                return

    def send(self, s: Session, step: SessionStepRuntime) -> None:
        step.requests += 1
        s.sent += 1
        s.counts[s.index] += 1
        step.entry.start(s)

    def answered(self, s: Session, c: Call) -> None:
        step = self.steps[s.index]
        if c.status:
            step.failed += 1
        s.left -= 1
        self.kernel.schedule(step.think.draw(), self.carry_on_, s)

    def carry_on(self, s: Session) -> None:
        if s.left > 0:
            self.send(s, self.steps[s.index])
        else:
            self.advance(s)

    def finish(self, s: Session) -> None:
        self.completed += 1
        for step, n in zip(self.steps, s.counts, strict=True):
            step.completed_requests += n
        if not self.closed:
            return
        if s.sent:
            self.begin()
        else:
            assert self.think is not None
            self.kernel.schedule(self.think.draw(), self.go_, None)

    # ---- figures ---------------------------------------------------------------------------

    def reset(self) -> None:
        self.started = 0
        self.completed = 0
        for step in self.steps:
            step.requests = 0
            step.failed = 0
            step.completed_requests = 0

    def report(self) -> dict[str, Any]:
        return {
            "started": self.started,
            "completed": self.completed,
            "steps": [
                {
                    "name": step.label,
                    "requests": step.requests,
                    "failed": step.failed,
                    "per_session": (
                        step.completed_requests / self.completed if self.completed else None
                    ),
                }
                for step in self.steps
            ],
        }
