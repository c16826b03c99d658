"""A replica's CPU: cores shared by the requests that are computing, and the CFS quota.

A service with a `cpu:` block (model/cpu.py) gives each replica a processor. A call that has a
worker (a thread, or an event-loop slot) hands its endpoint's `work` to the processor as CPU
demand; when the processor has served it, the endpoint carries on (`work_done`) exactly as after
a plain worker's delay. Steps that wait on other services, databases or brokers use no CPU.

Two disciplines:

- `SharedCpu` (threads): egalitarian processor sharing on `cores` processors — with n requests
  computing, each runs at min(1, cores/n) of a core. Kept as a virtual clock V (the service each
  request has received since it started computing grows at that rate) and a heap of finish tags
  (V at start + demand), so an arrival or a departure costs O(log n) and one rescheduled event.
- `LoopCpu` (async): `cores` event loops, each running one request's work to completion, first
  come first served.

Both apply the CFS quota when one is given: the kernel lets a cgroup use `quota` CPU-seconds per
`period` (periods start at multiples of `period` from time 0); once they are used its threads are
throttled — nothing computes — until the period ends. The time integral of busy cores (`area`)
and the throttled time give utilisation and the throttled share.

A reschedule invalidates the pending event by bumping a generation number; the stale event finds
another generation when it fires and does nothing (the kernel keeps no cancellation).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from heapq import heappop, heappush
from typing import Final

from scalesim_patterns.model.service import Service
from scalesim_patterns.sim.core.causes import UNAVAILABLE
from scalesim_patterns.sim.core.kernel import Kernel
from scalesim_patterns.sim.network.station import Call, ServiceRuntime

__all__ = [
    "CpuServiceRuntime",
    "LoopCpu",
    "Processor",
    "SharedCpu",
    "make_processor",
    "service_runtime",
]

_EPS: Final = 1e-9
"""Relative tolerance on virtual times and quota (floating-point rounding of rescheduled
events); one nanosecond of work per second of virtual time."""


class Processor:
    """Cores, the quota bookkeeping and the rescheduling shared by both disciplines."""

    __slots__ = (
        "area",
        "area0",
        "cores",
        "gen",
        "kernel",
        "period",
        "period_end",
        "period_index",
        "quota",
        "t_last",
        "throttled",
        "throttled_since",
        "throttled_time",
        "throttled_time0",
        "tick_",
        "used",
    )

    def __init__(self, kernel: Kernel, cores: int, quota: float | None, period: float) -> None:
        self.kernel = kernel
        self.cores = cores
        self.quota = quota
        self.period = period
        self.period_index = 0
        self.period_end = period
        self.used = 0.0
        """CPU-seconds used in the current quota period."""
        self.throttled = False
        self.throttled_since = 0.0
        self.throttled_time = 0.0
        self.throttled_time0 = 0.0
        self.t_last = kernel.now
        self.area = 0.0
        """Busy cores integrated over time: CPU-seconds used."""
        self.area0 = 0.0
        self.gen = 0
        self.tick_ = self._tick

    # ---- what a discipline provides ----------------------------------------------------------

    def _busy(self) -> int:
        """Cores computing while not throttled."""
        raise NotImplementedError

    def _advance(self, dt: float) -> None:
        """Serve `dt` seconds at the current rates."""
        raise NotImplementedError

    def _next_done(self) -> float:
        """Seconds until the next request is served at the current rates (inf when none)."""
        raise NotImplementedError

    def _pop_done(self) -> list[Call]:
        """Remove and return the requests whose demand has been served."""
        raise NotImplementedError

    def _add(self, c: Call, demand: float) -> None:
        raise NotImplementedError

    def _clear(self) -> None:
        raise NotImplementedError

    # ---- the shared machinery ----------------------------------------------------------------

    def start(self, c: Call, demand: float) -> None:
        """The call has a worker: serve `demand` CPU-seconds, then `c.endpoint.work_done(c)`."""
        self.sync()
        self._add(c, demand)
        self._reschedule()

    def clear(self) -> None:
        """The replica lost everything it held (a kill): nothing computes any more."""
        self.sync()
        self._clear()
        self._reschedule()

    def sync(self) -> None:
        """Bring the served work, the quota and the integrals up to now."""
        now = self.kernel.now
        dt = now - self.t_last
        if dt > 0:
            if not self.throttled:
                busy = self._busy()
                if busy:
                    self._advance(dt)
                    self.used += dt * busy
                    self.area += dt * busy
            self.t_last = now
        if self.quota is not None and now >= self.period_end:
            idx = int(now // self.period)
            if (idx + 1) * self.period <= now:
                idx += 1
            self.period_index = idx
            self.period_end = (idx + 1) * self.period
            self.used = 0.0
            if self.throttled:
                self.throttled = False
                self.throttled_time += now - self.throttled_since

    def flush(self) -> None:
        self.sync()

    def reset(self) -> None:
        """End of warm-up: the integrals restart."""
        self.sync()
        self.area0 = self.area
        now = self.kernel.now
        if self.throttled:
            self.throttled_time += now - self.throttled_since
            self.throttled_since = now
        self.throttled_time0 = self.throttled_time

    def throttled_seconds(self) -> float:
        """Throttled time since warm-up, up to now."""
        extra = self.kernel.now - self.throttled_since if self.throttled else 0.0
        return self.throttled_time - self.throttled_time0 + extra

    def _reschedule(self) -> None:
        self.gen += 1
        busy = self._busy()
        if not busy:
            return
        k = self.kernel
        quota = self.quota
        if self.throttled:
            at = self.period_end
        else:
            at = k.now + self._next_done()
            if quota is not None:
                at = min(at, k.now + (quota - self.used) / busy, self.period_end)
        k.at(at if at > k.now else k.now, self.tick_, self.gen)

    def _tick(self, gen: int) -> None:
        if gen != self.gen:
            return  # superseded by a later arrival or departure
        self.sync()
        done = self._pop_done()
        quota = self.quota
        if (
            quota is not None
            and not self.throttled
            and self.used >= quota * (1 - _EPS)
            and self.kernel.now < self.period_end
        ):
            self.throttled = True
            self.throttled_since = self.kernel.now
        self._reschedule()
        for c in done:
            c.endpoint.work_done(c)


class SharedCpu(Processor):
    """Processor sharing: threads time-sliced on `cores` processors."""

    __slots__ = ("jobs", "seq", "vt")

    def __init__(self, kernel: Kernel, cores: int, quota: float | None, period: float) -> None:
        super().__init__(kernel, cores, quota, period)
        self.jobs: list[tuple[float, int, Call]] = []
        """Finish tags (virtual time at start + demand), soonest first."""
        self.vt = 0.0
        self.seq = 0

    def _busy(self) -> int:
        n = len(self.jobs)
        return n if n < self.cores else self.cores

    def _advance(self, dt: float) -> None:
        n = len(self.jobs)
        self.vt += dt * (1.0 if n <= self.cores else self.cores / n)

    def _next_done(self) -> float:
        jobs = self.jobs
        n = len(jobs)
        rate = 1.0 if n <= self.cores else self.cores / n
        return max(0.0, jobs[0][0] - self.vt) / rate

    def _pop_done(self) -> list[Call]:
        jobs = self.jobs
        vt = self.vt
        limit = vt + _EPS * max(1.0, vt)
        done: list[Call] = []
        while jobs and jobs[0][0] <= limit:
            done.append(heappop(jobs)[2])
        if not jobs:
            self.vt = 0.0  # idle: restart the clock, keeping its precision
        return done

    def _add(self, c: Call, demand: float) -> None:
        self.seq += 1
        heappush(self.jobs, (self.vt + demand, self.seq, c))

    def _clear(self) -> None:
        self.jobs.clear()
        self.vt = 0.0


class _Job:
    __slots__ = ("call", "left")

    def __init__(self, call: Call, left: float) -> None:
        self.call = call
        self.left = left


class LoopCpu(Processor):
    """Event loops: each runs one request's work to completion, first come first served."""

    __slots__ = ("running", "waiting")

    def __init__(self, kernel: Kernel, cores: int, quota: float | None, period: float) -> None:
        super().__init__(kernel, cores, quota, period)
        self.running: list[_Job] = []
        """The requests on a loop (remaining demand), in start order."""
        self.waiting: deque[_Job] = deque()

    def _busy(self) -> int:
        return len(self.running)

    def _advance(self, dt: float) -> None:
        for job in self.running:
            job.left -= dt

    def _next_done(self) -> float:
        return max(0.0, min(job.left for job in self.running))

    def _pop_done(self) -> list[Call]:
        done: list[Call] = []
        keep: list[_Job] = []
        for job in self.running:
            if job.left <= _EPS:
                done.append(job.call)
            else:
                keep.append(job)
        waiting = self.waiting
        while waiting and len(keep) < self.cores:
            keep.append(waiting.popleft())
        self.running = keep
        return done

    def _add(self, c: Call, demand: float) -> None:
        job = _Job(c, demand)
        if len(self.running) < self.cores:
            self.running.append(job)
        else:
            self.waiting.append(job)

    def _clear(self) -> None:
        self.running.clear()
        self.waiting.clear()


def make_processor(
    kernel: Kernel, discipline: str, cores: int, quota: float | None, period: float
) -> Processor:
    """`shared` for thread pools, `loop` for event loops."""
    if discipline == "loop":
        return LoopCpu(kernel, cores, quota, period)
    return SharedCpu(kernel, cores, quota, period)


class CpuServiceRuntime(ServiceRuntime):
    """A service whose replicas have processors: a worker (thread or event-loop slot) is held
    from arrival to answer, and the endpoints' work is served by the replica's CPU.

    `arrive` does not take the base class's inlined shortcut (which schedules the work as a
    delay); `Replica.accept` starts the work through `EndpointRuntime.begin`, which hands it to
    the processor."""

    __slots__ = ()

    def __init__(
        self,
        name: str,
        kernel: Kernel,
        *,
        replicas: int,
        workers: int,
        queue_capacity: int | None,
        lb: str,
        lb_rnd: Callable[[], float],
        discipline: str,
        cores: int,
        quota: float | None,
        period: float,
    ) -> None:
        super().__init__(
            name,
            kernel,
            replicas=0,
            workers=workers,
            queue_capacity=queue_capacity,
            holds=True,
            lb=lb,
            lb_rnd=lb_rnd,
        )
        self.make_cpu = lambda: make_processor(kernel, discipline, cores, quota, period)
        for _ in range(replicas):
            self.add_replica()

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
        rep.accept(c)


def service_runtime(
    name: str, kernel: Kernel, svc: Service, replicas: int, lb_rnd: Callable[[], float]
) -> ServiceRuntime:
    """The runtime of a service: plain workers, or workers in front of processors when the
    service declares `cpu:`."""
    cpu = svc.cpu
    if cpu is None:
        return ServiceRuntime(
            name,
            kernel,
            replicas=replicas,
            workers=svc.workers,
            queue_capacity=svc.queue_capacity,
            holds=svc.concurrency == "thread",
            lb=svc.load_balancer,
            lb_rnd=lb_rnd,
        )
    res = svc.resources
    return CpuServiceRuntime(
        name,
        kernel,
        replicas=replicas,
        workers=svc.workers,
        queue_capacity=svc.queue_capacity,
        lb=svc.load_balancer,
        lb_rnd=lb_rnd,
        discipline="loop" if svc.concurrency == "async" else "shared",
        cores=cpu.parallelism(res.cpu, res.cpu_limit),
        quota=cpu.quota(res.cpu, res.cpu_limit),
        period=cpu.quota_period,
    )


def cpu_section(services: dict[str, ServiceRuntime], span: float) -> dict[str, dict[str, float]]:
    """The run's `cpu` section: per service with `cpu:`, over the measured span — `cores` per
    replica, `used` (CPU-seconds per second, summed over replicas), `utilisation` (used / the
    replicas' cores) and `throttled` (share of replica-time spent throttled by the quota)."""
    out: dict[str, dict[str, float]] = {}
    for name, rt in services.items():
        procs: list[Processor] = [rep.cpu for rep in rt.replicas if rep.cpu is not None]
        if not procs or span <= 0:
            continue
        for p in procs:
            p.sync()
        used = sum(p.area - p.area0 for p in procs) / span
        cores = sum(p.cores for p in procs)
        out[name] = {
            "cores": float(procs[0].cores),
            "used": used,
            "utilisation": used / cores if cores else 0.0,
            "throttled": sum(p.throttled_seconds() for p in procs) / (span * len(procs)),
        }
    return out
