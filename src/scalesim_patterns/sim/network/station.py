"""Services as queueing stations: calls, replicas, workers, FIFO queues and load balancing.

This is the hot path. A call is one slotted object that lives from the moment a caller sends it
until the caller has its answer; the server side keeps its state on the same object (which
replica serves it, how far through the endpoint's steps it is), so serving a call allocates
nothing else. Callbacks that go into the event heap are bound once when the engine is built
(`self.arrive_ = self.arrive`) so scheduling them allocates no bound-method objects; the
hottest, a call's work done, is the endpoint itself (a `Handler`).

Concurrency models:

- `thread`: a call holds one worker from the start of its work until its last step returns (a
  thread-per-request server blocked on downstream I/O).
- `async`: a call holds a worker only for its own `work`; while its steps wait on other services
  the worker serves other calls, and the continuation after the steps costs no worker time (an
  event loop whose callbacks are negligible next to the work). A chain of async services is
  therefore a tandem of independent queues.

Each replica keeps a record of the calls it holds (`Replica.held`), so that what happens to a
pod as a whole — its work lost to a crash or an outage (`Replica.kill`), its work finished
after it left the balancer (`Replica.drain`) — is one operation on that record.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Final

from mypy_extensions import i64, mypyc_attr

from scalesim_patterns.sim.core.causes import ERROR, OK, REJECTED, UNAVAILABLE
from scalesim_patterns.sim.core.histogram import INV_LOG_GAMMA, OFFSET, TINY, LogHistogram
from scalesim_patterns.sim.core.kernel import Handler, Kernel
from scalesim_patterns.sim.core.rng import Sampler

__all__ = [
    "ABANDONED",
    "ANSWERED",
    "LOST",
    "Call",
    "CallQueue",
    "EndpointRuntime",
    "EndpointStats",
    "Replica",
    "ServiceRuntime",
    "StepRuntime",
]


PENDING: Final = 0
ANSWERED: Final = 1
"""The caller has its answer."""
ABANDONED: Final = 2
"""The caller stopped waiting (timeout); the server still finishes the work, but the answer is dropped."""


@mypyc_attr(free_list_len=1)  # the next call reuses the memory of the last one freed
class Call:
    """One request from a caller to an endpoint, and that endpoint's execution of it.

    `reply.handle(call)` is how the caller learns the outcome (`status`, 0 = success): a
    `Handler`, so that the compiled engine tells a step or a traffic entry (handlers themselves)
    through a native call; any other caller's function is wrapped once (`FunctionHandler`).
    `parent` is whatever the caller needs to resume (the caller's own call, a traffic source, a
    retry state). `back` is set by the transport: None when the answer reaches the caller at
    once, else the function that carries it back over the network.
    """

    __slots__ = (
        "back",
        "cache_key",
        "endpoint",
        "first",
        "hnext",
        "hprev",
        "loops",
        "parent",
        "pc",
        "pending",
        "rep",
        "replica",
        "reply",
        "state",
        "status",
        "t0",
        "t_arrive",
    )

    def __init__(self, endpoint: EndpointRuntime, reply: Handler, parent: Any, t0: float) -> None:
        self.endpoint = endpoint
        self.reply = reply
        self.parent = parent
        self.t0 = t0
        # The integer fields are machine integers in the compiled engine (no tagged-integer
        # checks on every read, write and free of a call).
        self.status: i64 = OK
        self.state: i64 = PENDING
        self.pc: i64 = 0
        self.back: Callable[[Call], None] | None = None
        self.hprev: Call | None = None
        self.hnext: Call | None = None
        """Neighbours in the record of calls its replica holds (`Replica.hold`)."""
        self.replica: Replica
        self.t_arrive: float
        self.rep: i64
        self.pending: i64
        self.first: i64
        self.loops: list[int]
        """Counts left of the repeated groups the call is inside (sim/network/loops.py); set
        only when a group starts."""
        self.cache_key: i64
        """The key a cache step's lookup missed (sim/network/caches.py); set by the lookup."""


@mypyc_attr(allow_interpreted_subclasses=True)  # loops' and tracing's steps
class StepRuntime(Handler):
    """A compiled step. `start` returns True when the step finished at once (skipped, or
    fire-and-forget); otherwise it resumes the call later through `endpoint.advance` or ends it
    through `endpoint.finish`. A base class, not a protocol: the compiled engine calls `start`
    through the class's table of methods, not by looking the name up on every step. A step that
    sends calls is their `reply`: their answers come to its `handle`."""

    __slots__ = ()

    def start(self, call: Call) -> bool:
        raise NotImplementedError


class EndpointStats:
    """Counters of one endpoint (or entry). Monotonic counters plus the value at warm-up end;
    the latency histogram is cleared at warm-up end and holds successful calls only."""

    __slots__ = ("fails", "fails0", "hist", "n", "n0")

    def __init__(self, causes: int) -> None:
        self.n: i64 = 0
        self.n0: i64 = 0
        self.fails = [0] * causes
        self.fails0 = [0] * causes
        self.hist = LogHistogram()

    def reset(self) -> None:
        self.n0 = self.n
        self.fails0 = list(self.fails)
        self.hist.clear()


@mypyc_attr(allow_interpreted_subclasses=True)  # priority's PriorityQueue
class CallQueue:
    """A replica's queue: first in, first out, in a ring of slots that doubles when full.

    The compiled engine calls these methods through the class's table of methods and reads
    `size` as a C integer; a `deque`'s `append` and `popleft` were looked up by name and called
    through Python's generic call at every queued call. A subclass may order the calls
    otherwise (`network/priority.py`) and keeps `size` up to date."""

    __slots__ = ("head", "items", "size")

    def __init__(self) -> None:
        self.items: list[Call | None] = [None] * 8
        self.head: i64 = 0
        """Where the oldest call is, when `size` > 0."""
        self.size: i64 = 0

    def __len__(self) -> int:
        return self.size

    def append(self, c: Call) -> None:
        items = self.items
        n = len(items)
        size = self.size
        head = self.head
        if size == n:
            items = self.items = items[head:] + items[:head] + [None] * n
            head = self.head = 0
            n += n
        i = head + size
        if i >= n:
            i -= n
        items[i] = c
        self.size = size + 1

    def popleft(self) -> Call:
        """The oldest call, out of the queue (the queue is not empty)."""
        size = self.size
        if not size:
            raise IndexError("pop from an empty queue")
        items = self.items
        head = self.head
        c = items[head]
        items[head] = None
        head += 1
        self.head = 0 if head == len(items) else head
        self.size = size - 1
        assert c is not None
        return c

    def clear(self) -> None:
        self.items = [None] * 8
        self.head = 0
        self.size = 0


@mypyc_attr(allow_interpreted_subclasses=True)  # saga's InProcess, lifecycle's Refusing
class Replica:
    """One pod's container: `workers` servers in front of one FIFO queue, and what it holds.

    It records every call it has accepted and not yet answered — queued, at work, or waiting on
    its steps — oldest first: accepting a call adds it (`hold`), answering or turning it away
    removes it (`unhold`). The record is a list threaded through the calls themselves
    (`Call.hprev`/`hnext`): O(1) each without hashing, and ordered, so a kill answers the lost
    calls in the same order every run. `nheld` is the replica's active calls.

    Its life has two ends that can differ: `removed`, when it left the balancer for good (a
    scale-down deletes its pod, or its container is gone), and `died`, when it stopped working
    (killed, crashed, or — after a scale-down — done with everything it held). Utilisation
    counts the time from `born` to `died`, the time it had workers.

    `area_busy` and `area_q` integrate busy workers and queue length over time (brought up to date
    at every change and by `flush`), giving time-weighted means without sampling.
    """

    __slots__ = (
        "area_busy",
        "area_busy0",
        "area_q",
        "area_q0",
        "born",
        "busy",
        "capacity",
        "cpu",
        "died",
        "hhead",
        "htail",
        "index",
        "kernel",
        "nheld",
        "pools",
        "qmax",
        "queue",
        "removed",
        "service",
        "stopped",
        "t_busy",
        "t_q",
        "workers",
    )

    def __init__(self, service: ServiceRuntime, index: int, workers: int, capacity: int) -> None:
        self.service = service
        self.kernel = service.kernel
        self.index = index
        self.workers: i64 = workers
        self.capacity: i64 = capacity
        self.busy: i64 = 0
        self.hhead: Call | None = None
        self.htail: Call | None = None
        """Oldest and newest of the calls accepted and not yet answered (queued, working or
        waiting on steps)."""
        self.nheld: i64 = 0
        self.stopped: Callable[[Replica], None] | None = None
        """Set while draining: called once the last held call is answered."""
        self.queue = CallQueue()
        now = self.kernel.now
        self.area_busy = 0.0
        self.area_busy0 = 0.0
        self.t_busy = now
        self.area_q = 0.0
        self.area_q0 = 0.0
        self.t_q = now
        self.qmax: i64 = 0
        self.pools: dict[str, Any] = {}
        self.born = now
        self.removed = math.inf
        """When it left the balancer for good (its pod deleted, or its container gone)."""
        self.died = math.inf
        """When it stopped working; utilisation counts its life from `born` to here."""
        self.cpu: Any = None
        """Its processor (sim/network/processor.py) when the service declares `cpu:`: the
        endpoints' work is then CPU demand served by it instead of a delay."""

    @property
    def active(self) -> int:
        """Calls accepted and not yet answered."""
        return self.nheld

    def hold(self, c: Call) -> None:
        """Record `c` as accepted (newest)."""
        tail = self.htail
        if c.hprev is not None or c.hnext is not None or self.hhead is c:
            raise AssertionError(f"a call to {c.endpoint.name} is held twice")
        c.hprev = tail
        if tail is None:
            self.hhead = c
        else:
            tail.hnext = c
        self.htail = c
        self.nheld += 1

    def unhold(self, c: Call) -> None:
        """`c` is answered or turned away: out of the record (a draining replica whose record
        is then empty stops)."""
        before = c.hprev
        after = c.hnext
        if before is None:
            if self.hhead is not c:
                raise AssertionError(f"a call to {c.endpoint.name} is not held here")
            self.hhead = after
        else:
            before.hnext = after
            c.hprev = None
        if after is None:
            self.htail = before
        else:
            after.hprev = before
            c.hnext = None
        self.nheld -= 1
        if self.stopped is not None and self.nheld == 0:
            self.over()

    def held(self) -> list[Call]:
        """The calls held, oldest first."""
        out: list[Call] = []
        c = self.hhead
        while c is not None:
            out.append(c)
            c = c.hnext
        return out

    def accept(self, c: Call) -> None:
        now = self.kernel.now
        c.replica = self
        c.t_arrive = now
        self.hold(c)
        busy = self.busy
        if busy < self.workers:
            self.area_busy += float(busy) * (now - self.t_busy)
            self.t_busy = now
            self.busy = busy + 1
            c.endpoint.begin(c)
            return
        self.enqueue(c, now)

    def enqueue(self, c: Call, now: float) -> None:
        """Every worker is busy: wait in the queue, or be turned away when it is full."""
        q = self.queue
        n = q.size
        if n < self.capacity:
            self.area_q += float(n) * (now - self.t_q)
            self.t_q = now
            q.append(c)
            if n >= self.qmax:
                self.qmax = n + 1
            return
        self.unhold(c)
        c.endpoint.refuse(c, REJECTED)

    def release(self) -> None:
        """A worker is free: give it to the next queued call, or count it idle."""
        q = self.queue
        now = self.kernel.now
        n = q.size
        if n:
            self.area_q += float(n) * (now - self.t_q)
            self.t_q = now
            c = q.popleft()
            c.endpoint.begin(c)
        else:
            busy = self.busy
            self.area_busy += float(busy) * (now - self.t_busy)
            self.t_busy = now
            self.busy = busy - 1

    def flush(self) -> None:
        """Bring the time integrals up to now."""
        if self.cpu is not None:
            self.cpu.sync()
        now = self.kernel.now
        self.area_busy += float(self.busy) * (now - self.t_busy)
        self.t_busy = now
        self.area_q += float(self.queue.size) * (now - self.t_q)
        self.t_q = now

    def reset(self) -> None:
        self.flush()
        if self.cpu is not None:
            self.cpu.reset()
        self.area_busy0 = self.area_busy
        self.area_q0 = self.area_q
        self.qmax = self.queue.size

    # ---- the replica as a whole: losing, finishing, stopping ------------------------------

    def kill(self) -> int:
        """Lose everything held (the container died, or an outage broke it): each call fails
        at once as `unavailable` — its caller's connection is reset — and nothing more happens
        to it (its endpoint becomes `LOST`); the workers are free and the queue is empty.
        A draining replica has then finished. Returns how many calls were lost."""
        self.flush()
        lost = self.held()
        for c in lost:
            c.hprev = c.hnext = None
        self.hhead = self.htail = None
        self.nheld = 0
        self.queue.clear()
        self.busy = 0
        if self.cpu is not None:
            self.cpu.clear()
        if lost and self.pools:
            ids = {id(c) for c in lost}
            for pool in self.pools.values():
                keep = [entry for entry in pool.waiting if id(entry[1]) not in ids]
                pool.waiting.clear()
                pool.waiting.extend(keep)
        endpoints = [c.endpoint for c in lost]
        for c in lost:
            c.endpoint = LOST  # first all: answering one may resume another held here
            c.rep = 1  # a repeated step ends at its current repetition
        for c, ep in zip(lost, endpoints, strict=True):
            ep.refuse(c, UNAVAILABLE)
        if self.stopped is not None:
            self.over()
        return len(lost)

    def drain(self, stopped: Callable[[Replica], None]) -> None:
        """Out of the balancer for good (the caller takes it out of `routable`): finish what is
        held, then stop; `stopped(self)` runs then — at once when nothing is held."""
        if self.died != math.inf or self.stopped is not None:
            return
        self.removed = min(self.removed, self.kernel.now)
        if self.nheld:
            self.stopped = stopped
        else:
            self.stop()
            stopped(self)

    def over(self) -> None:
        """A draining replica has answered everything it held: it stops."""
        stopped = self.stopped
        if self.died == math.inf and stopped is not None:
            self.stop()
            stopped(self)

    def stop(self) -> None:
        """The replica stops working: no more workers from now (its figures stay)."""
        if self.died != math.inf:
            return
        self.flush()
        now = self.kernel.now
        self.removed = min(self.removed, now)
        self.died = now


@mypyc_attr(allow_interpreted_subclasses=True)  # processor's CpuServiceRuntime
class ServiceRuntime:
    """A service's replicas and the load balancer in front of them.

    `routable` is the list the balancer picks from. Mechanisms that take replicas out of rotation
    (outlier ejection, failing readiness, crashes) remove them from it; autoscaling appends to
    `replicas` and `routable`. An empty `routable` fails calls at once as `unavailable`.
    """

    __slots__ = (
        "arrive_",
        "capacity",
        "counted",
        "endpoints",
        "holds",
        "kernel",
        "lb",
        "lb_rnd",
        "make_cpu",
        "make_queue",
        "name",
        "pick",
        "replicas",
        "routable",
        "rr",
        "workers",
    )

    def __init__(
        self,
        name: str,
        kernel: Kernel,
        *,
        replicas: int,
        workers: int,
        queue_capacity: int | None,
        holds: bool,
        lb: str,
        lb_rnd: Callable[[], float],
    ) -> None:
        self.name = name
        self.kernel = kernel
        self.workers = workers
        self.capacity = queue_capacity if queue_capacity is not None else 1 << 62
        self.holds = holds
        self.lb = lb
        self.lb_rnd = lb_rnd
        self.rr = 0
        self.endpoints: dict[str, EndpointRuntime] = {}
        self.replicas: list[Replica] = []
        self.routable: list[Replica] = []
        self.pick: Callable[[list[Replica], int, Call], Replica]
        self.counted = lb == "least-request"
        """Each client counts its own requests, so every call goes through `pick`."""
        if self.counted:
            from scalesim_patterns.sim.network.balancing import LeastRequest

            self.pick = LeastRequest(lb_rnd).pick
        else:
            self.pick = self._round_robin if lb == "round-robin" else self._random
        self.arrive_ = self.arrive
        self.make_cpu: Callable[[], Any] | None = None
        """Builds a replica's processor (sim/network/processor.py), for services with `cpu:`."""
        self.make_queue: Callable[[], CallQueue] | None = None
        """Builds a replica's queue when it is not FIFO (sim/network/priority.py)."""
        for _ in range(replicas):
            self.add_replica()

    def add_replica(self) -> Replica:
        rep = Replica(self, len(self.replicas), self.workers, self.capacity)
        if self.make_cpu is not None:
            rep.cpu = self.make_cpu()
        if self.make_queue is not None:
            rep.queue = self.make_queue()
        self.replicas.append(rep)
        self.routable.append(rep)
        return rep

    def arrive(self, c: Call) -> None:
        reps = self.routable
        n = len(reps)
        if n == 1 and not self.counted:
            rep = reps[0]
        elif n:
            rep = self.pick(reps, n, c)
        else:
            c.t_arrive = self.kernel.now
            c.endpoint.refuse(c, UNAVAILABLE)
            return
        # Replica.accept, inlined: this is the hottest path of the simulator.
        now = self.kernel.now
        c.replica = rep
        c.t_arrive = now
        rep.hold(c)
        busy = rep.busy
        if busy < rep.workers:
            rep.area_busy += float(busy) * (now - rep.t_busy)
            rep.t_busy = now
            rep.busy = busy + 1
            # EndpointRuntime.begin, inlined.
            ep = c.endpoint
            k = self.kernel
            k.seq += 1
            k.push_to(now + ep.work.draw(), k.seq, ep, c)
            return
        rep.enqueue(c, now)

    def _round_robin(self, reps: list[Replica], n: int, _: Call) -> Replica:
        i = self.rr
        self.rr = i + 1
        return reps[i % n]

    def _random(self, reps: list[Replica], n: int, _: Call) -> Replica:
        return reps[int(self.lb_rnd() * n)]


@mypyc_attr(allow_interpreted_subclasses=True)  # rollout's VersionEndpoint
class EndpointRuntime(Handler):
    """The server side of one endpoint: its work, its error draw and its steps. Its event, a
    call's work done, is its own (`handle`)."""

    __slots__ = (
        "error_rate",
        "error_rnd",
        "error_status",
        "holds",
        "kernel",
        "name",
        "nsteps",
        "ref",
        "service",
        "stats",
        "steps",
        "work",
    )

    def __init__(
        self,
        service: ServiceRuntime,
        name: str,
        work: Sampler,
        error_rate: float,
        error_rnd: Callable[[], float],
        causes: int,
    ) -> None:
        self.service = service
        self.kernel = service.kernel
        self.name = name
        self.ref = f"{service.name}.{name}"
        self.work = work
        self.error_rate = error_rate
        self.error_rnd = error_rnd
        self.error_status = ERROR
        """The cause an error draw fails the call with (a gateway's auth check: `unauthorized`)."""
        self.holds = service.holds
        self.steps: list[StepRuntime] = []
        self.nsteps = 0
        self.stats = EndpointStats(causes)

    def set_steps(self, steps: list[StepRuntime]) -> None:
        self.steps = steps
        self.nsteps = len(steps)

    def begin(self, c: Call) -> None:
        """The call has a worker: do the endpoint's own work."""
        cpu = c.replica.cpu
        if cpu is not None:
            cpu.start(c, self.work.draw())
            return
        k = self.kernel
        k.seq += 1
        k.push_to(k.now + self.work.draw(), k.seq, self, c)

    def handle(self, arg: Any) -> None:
        """The call's work is done (`begin`)."""
        self.work_done(arg)

    def work_done(self, c: Call) -> None:
        if c.endpoint is not self:
            return  # lost with its replica (Replica.kill) while at work
        if not self.holds:
            c.replica.release()
        if self.error_rate and self.error_rnd() < self.error_rate:
            self.finish(c, self.error_status)
        elif self.nsteps:
            self.advance(c)
        else:
            self.finish(c, OK)

    def advance(self, c: Call) -> None:
        """Run steps from `c.pc` until one has to wait, or finish when none is left."""
        steps = self.steps
        n = self.nsteps
        pc = c.pc
        while pc < n:
            step = steps[pc]
            pc += 1
            c.pc = pc
            if not step.start(c):
                return
            pc = c.pc  # a group's end may jump back
        self.finish(c, OK)

    def finish(self, c: Call, status: int) -> None:
        rep = c.replica
        if self.holds:
            rep.release()
        rep.unhold(c)
        st = self.stats
        st.n += 1
        if status:
            st.fails[status] += 1
        else:
            # LogHistogram.record, inlined.
            h = st.hist
            value = self.kernel.now - c.t_arrive
            h.count += 1
            h.sum += value
            if value > h.max:
                h.max = value
            if value > TINY:
                key: i64 = int(math.log(value) * INV_LOG_GAMMA + OFFSET)
                i = key - h.lo
                counts = h.counts
                if 0 <= i < len(counts):
                    counts[i] += 1
                    if key < h.kmin:
                        h.kmin = key
                    if key > h.kmax:
                        h.kmax = key
                else:
                    h.add(key, 1)
            else:
                h.zeros += 1
        if c.state == PENDING:
            c.status = status
            back = c.back
            if back is None:
                c.state = ANSWERED
                c.reply.handle(c)
            else:
                back(c)

    def refuse(self, c: Call, status: int) -> None:
        """Turned away before getting a worker (full queue, no replica)."""
        st = self.stats
        st.n += 1
        st.fails[status] += 1
        if c.state == PENDING:
            c.status = status
            back = c.back
            if back is None:
                c.state = ANSWERED
                c.reply.handle(c)
            else:
                back(c)


class _Lost(EndpointRuntime):
    """The endpoint of every call lost with its replica: whatever was still to happen to such a
    call (its work ending, a step's answer, a query's end) does nothing."""

    __slots__ = ()

    def __init__(self) -> None:  # a marker: no service, no figures
        pass

    def begin(self, c: Call) -> None:
        pass

    def work_done(self, c: Call) -> None:
        pass

    def advance(self, c: Call) -> None:
        pass

    def finish(self, c: Call, status: int) -> None:
        pass

    def refuse(self, c: Call, status: int) -> None:
        pass


LOST: Final[EndpointRuntime] = _Lost()
"""Stands in for the endpoint of a call lost with its replica (`Replica.kill`)."""
