"""Scenario faults: crash, latency, errors, outage, partition — each at a time, for a duration.

| fault | target | what happens |
|---|---|---|
| crash | service (`replicas`: the first N pods, all by default) | containers exit: work in flight is lost (`unavailable`), endpoints leave the balancer after the propagation delay, kubelet restarts them at once (or after `duration`: a crash loop / lost node) and they serve after their start-up time |
| outage | service (all pods, or the first `replicas`) | pods stay up but refuse every connection: in-flight work lost; readiness probes (if any) take them out, liveness restarts them (which cures a pod-level outage without `duration`) |
| outage | database | queries fail at once (`unavailable`); queries already running finish |
| outage | broker | publishers wait for the acknowledgement until the broker is back |
| latency | service, `service.endpoint`, database, broker | `add` is drawn and added to each call's work (holding its worker), each query (holding its connection) or each publish acknowledgement |
| errors | service, `service.endpoint` | each call fails with probability `rate` on top of its own error rate |
| outage | cache | lookups fail at once and read the backing store as misses, without filling; the cache comes back empty |
| latency | cache | `add` is added to every GET and SET |
| outage | event store | appends fail at once (`unavailable`); projections cannot read and poll again after `pollInterval`, then catch up |
| latency | event store | `add` is added to every append and every read (loads, reloads, projection reads) |
| partition | `between: [a, b]` | calls between a and b in either direction fail at once as `unavailable` (a rejecting network: RST or ICMP unreachable); calls already in flight finish |

Without `duration` a fault lasts to the end of the run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from scalesim_patterns.model.traffic import Fault
from scalesim_patterns.sim.core.causes import UNAVAILABLE
from scalesim_patterns.sim.core.kernel import Kernel
from scalesim_patterns.sim.core.rng import Constant_, Sampler
from scalesim_patterns.sim.network.caches import CacheRuntimes
from scalesim_patterns.sim.network.host import SimulationError
from scalesim_patterns.sim.network.pipeline import CallSite, Invoke
from scalesim_patterns.sim.network.station import ANSWERED, Call
from scalesim_patterns.sim.network.steps import (
    DatabaseRuntime,
    PublishStepRuntime,
    QueryStepRuntime,
)
from scalesim_patterns.sim.patterns.workflow_state import Workflows
from scalesim_patterns.sim.platform.fault_log import FaultLog
from scalesim_patterns.sim.platform.lifecycle import Pod, fleet
from scalesim_patterns.sim.platform.patches import error_patch, sampler_patch
from scalesim_patterns.sim.reports.telemetry import add_section

if TYPE_CHECKING:
    from scalesim_patterns.sim.network.host import Host

__all__ = ["Partition", "Partitions", "install_faults", "partition_between", "partition_layer"]

NEVER_ACKED: Final = Constant_(1e18)
"""The wait of a publisher whose broker never comes back within the run."""


class Partition:
    """Whether calls between two services fail now."""

    __slots__ = ("active", "between")

    def __init__(self, between: tuple[str, str]) -> None:
        self.between = between
        self.active = False


class Partitions(dict[frozenset[str], Partition]):
    """Plug-in state: one flag per partitioned pair of services of the scenario."""


def _partitions(engine: Host) -> Partitions:
    """One flag per partitioned pair of the scenario, made while call sites are built."""
    found = engine.plugins.get(Partitions)
    if found is None:
        found = engine.plugins.add(Partitions())
        if engine.scenario is not None:
            for fault in engine.scenario.faults:
                if fault.type == "partition" and fault.between is not None:
                    a, b = fault.between
                    found.setdefault(frozenset((a, b)), Partition((a, b)))
    return found


def partition_between(engine: Host, a: str, b: str) -> Partition | None:
    return _partitions(engine).get(frozenset((a, b)))


def partition_layer(site: CallSite, nxt: Invoke) -> Invoke:
    """Transport layer for sites between partitioned services (the mesh's sidecar checks the
    same flag itself, so that its retries see the connection failures)."""
    flag = partition_between(site.engine, site.caller, site.target_service)
    if flag is None:
        return nxt
    endpoint = site.endpoint

    def invoke(c: Call) -> None:
        if not flag.active:
            nxt(c)
            return
        st = endpoint.stats
        st.n += 1
        st.fails[UNAVAILABLE] += 1
        c.status = UNAVAILABLE
        c.state = ANSWERED
        c.reply.handle(c)

    return invoke


class _FaultRun:
    """Starts and ends one fault."""

    def __init__(self, engine: Host, index: int, fault: Fault, log: list[list[Any]]) -> None:
        self.engine = engine
        self.index = index
        self.fault = fault
        self.log = log
        self.pods: list[Pod] = []
        self.saved: Any = None
        spec = engine.arch.spec
        target = fault.target or ""
        service, _, endpoint = target.partition(".")
        self.kind: str = fault.type
        if fault.type == "partition":
            assert fault.between is not None
            self.partition = partition_between(engine, fault.between[0], fault.between[1])
        elif fault.type in ("crash", "outage") and target in spec.services:
            self.fleet = fleet(engine, target)
        elif fault.type == "outage" and target in spec.databases:
            self.kind = "db-outage"
        elif fault.type == "outage" and target in spec.brokers:
            self.kind = "broker-outage"
        elif fault.type in ("latency", "errors") and service in spec.services:
            self.endpoints = [
                ep
                for name, ep in engine.services[service].endpoints.items()
                if not endpoint or name == endpoint
            ]
        elif fault.type in ("outage", "latency") and target in spec.caches:
            self.kind = f"cache-{fault.type}"
        elif fault.type in ("outage", "latency") and target in spec.event_stores:
            self.kind = f"store-{fault.type}"
        elif fault.type == "latency" and target in spec.databases:
            self.kind = "db-latency"
        elif fault.type == "latency" and target in spec.brokers:
            self.kind = "broker-latency"
        else:
            raise SimulationError(
                f"fault {index} ({fault.type} on '{target}'): this fault cannot target that; "
                "see docs/resilience.md for what each fault may target"
            )

    def label(self) -> str:
        f = self.fault
        return f.target if f.target is not None else "<->".join(f.between or [])

    def schedule(self) -> None:
        k = self.engine.kernel
        k.at(self.fault.at, self.start, None)
        if self.fault.duration is not None and self.kind != "crash":
            k.at(self.fault.at + self.fault.duration, self.end, None)

    def _note(self, what: str) -> None:
        self.log.append([self.engine.kernel.now, self.index, self.fault.type, self.label(), what])

    # ---- start / end ----------------------------------------------------------------------

    def start(self, _: Any) -> None:
        self._note("start")
        f = self.fault
        kind = self.kind
        engine = self.engine
        if kind == "partition":
            assert self.partition is not None
            self.partition.active = True
        elif kind == "crash":
            live = self.fleet.live
            pods = live[: f.replicas] if f.replicas else live
            self.fleet.crash(pods, f.duration or 0.0)
        elif kind == "outage":
            if f.replicas:
                self.pods = self.fleet.live[: f.replicas]
                if f.duration is None:
                    self.fleet.cured_by_restart.add(self.index)
                self.fleet.break_pods(self.pods, self.index, True)
            else:
                self.fleet.break_service(self.index, True)
        elif kind == "latency":
            assert f.add is not None
            for ep in self.endpoints:
                extra = engine.streams.sampler(f.add, f"fault:{self.index}:{ep.ref}")
                sampler_patch(engine.plugins, ep, "work").add(self, extra)
        elif kind == "errors":
            assert f.rate is not None
            for ep in self.endpoints:
                error_patch(engine.plugins, ep).add(self, f.rate)
        elif kind == "db-latency":
            assert f.add is not None
            for i, step in enumerate(self._query_steps()):
                extra = engine.streams.sampler(f.add, f"fault:{self.index}:{self.label()}:{i}")
                sampler_patch(engine.plugins, step, "latency").add(self, extra)
        elif kind == "db-outage":
            self._db_down(engine.databases[self.label()])
        elif kind == "cache-outage":
            engine.plugins.obtain(CacheRuntimes)[self.label()].down()
        elif kind == "store-outage":
            engine.plugins.obtain(Workflows).event_stores[self.label()].up = False
        elif kind == "store-latency":
            assert f.add is not None
            store = engine.plugins.obtain(Workflows).event_stores[self.label()]
            store.extra = engine.streams.sampler(f.add, f"fault:{self.index}:{self.label()}")
        elif kind == "cache-latency":
            assert f.add is not None
            cache = engine.plugins.obtain(CacheRuntimes)[self.label()]
            cache.extra = engine.streams.sampler(f.add, f"fault:{self.index}:{self.label()}")
        elif kind in ("broker-outage", "broker-latency"):
            end = f.at + f.duration if f.duration is not None else None
            k = engine.kernel
            for i, pub in enumerate(self._publish_steps()):
                if kind == "broker-latency":
                    assert f.add is not None
                    extra = engine.streams.sampler(f.add, f"fault:{self.index}:{self.label()}:{i}")
                elif end is None:
                    extra = NEVER_ACKED
                else:
                    extra = _Until(k, end)
                sampler_patch(engine.plugins, pub, "ack").add(self, extra)

    def end(self, _: Any) -> None:
        self._note("end")
        kind = self.kind
        engine = self.engine
        if kind == "partition":
            assert self.partition is not None
            self.partition.active = False
        elif kind == "outage":
            if self.fault.replicas:
                self.fleet.break_pods(self.pods, self.index, False)
            else:
                self.fleet.break_service(self.index, False)
        elif kind == "latency":
            for ep in self.endpoints:
                sampler_patch(engine.plugins, ep, "work").remove(self)
        elif kind == "errors":
            for ep in self.endpoints:
                error_patch(engine.plugins, ep).remove(self)
        elif kind == "db-latency":
            for step in self._query_steps():
                sampler_patch(engine.plugins, step, "latency").remove(self)
        elif kind == "db-outage":
            self._db_up(engine.databases[self.label()])
        elif kind == "cache-outage":
            engine.plugins.obtain(CacheRuntimes)[self.label()].up = True
        elif kind == "store-outage":
            engine.plugins.obtain(Workflows).event_stores[self.label()].up = True
        elif kind == "store-latency":
            engine.plugins.obtain(Workflows).event_stores[self.label()].extra = None
        elif kind == "cache-latency":
            engine.plugins.obtain(CacheRuntimes)[self.label()].extra = None
        elif kind in ("broker-outage", "broker-latency"):
            for pub in self._publish_steps():
                sampler_patch(engine.plugins, pub, "ack").remove(self)

    # ---- data stores ----------------------------------------------------------------------

    def _steps(self) -> list[Any]:
        out: list[Any] = []
        for svc in self.engine.services.values():
            for ep in svc.endpoints.values():
                out.extend(ep.steps)
        return out

    def _query_steps(self) -> list[QueryStepRuntime]:
        name = self.label()
        return [s for s in self._steps() if isinstance(s, QueryStepRuntime) and s.db.name == name]

    def _publish_steps(self) -> list[PublishStepRuntime]:
        broker = self.label()
        arch = self.engine.arch
        return [
            s
            for s in self._steps()
            if isinstance(s, PublishStepRuntime) and arch.topic_owner(s.topic.name) == broker
        ]

    def _db_down(self, db: DatabaseRuntime) -> None:
        """Every pool connection is gone: a query finding none fails at once (the engine's
        `pool.size == 0` path); queries waiting for a connection fail now."""
        self.saved = (db.pool_size, db.left, len(db.pools), [p.size for p in db.pools])
        db.pool_size = 0
        db.left = 0
        for pool in db.pools:
            pool.size = 0
            keep = []
            for entry in pool.waiting:
                waiter, x, _ = entry
                if isinstance(waiter, QueryStepRuntime) and isinstance(x, Call):
                    db.count += 1
                    db.fails += 1
                    x.endpoint.finish(x, UNAVAILABLE)
                else:
                    keep.append(entry)
            pool.waiting.clear()
            pool.waiting.extend(keep)

    def _db_up(self, db: DatabaseRuntime) -> None:
        pool_size, left, before, sizes = self.saved
        db.pool_size = pool_size
        db.left = left
        for i, pool in enumerate(db.pools):
            if i < before:
                pool.size = sizes[i]
            else:
                pool.size = min(pool_size, db.left)
                db.left -= pool.size


class _Until(Sampler):
    """The wait until `end` (a publisher blocked until the broker is back)."""

    __slots__ = ("end", "kernel")

    def __init__(self, kernel: Kernel, end: float) -> None:
        self.kernel = kernel
        self.end = end

    def draw(self) -> float:
        return max(self.end - self.kernel.now, 0.0)


def install_faults(engine: Host) -> None:
    """Installer (sim/extensions.py): schedule the scenario's faults."""
    scenario = engine.scenario
    if scenario is None or not scenario.faults:
        return
    log = engine.plugins.add(FaultLog())
    for i, fault in enumerate(scenario.faults):
        _FaultRun(engine, i, fault, log).schedule()
    add_section(engine, "faults", lambda: list(log))
