"""A mean-value estimate of how busy each service's workers are at a template's base load.

The model's capacity check counts only an endpoint's own work, but a thread-per-request service
also holds its worker while it waits on calls and queries, so a template can pass validation
with a thread pool that could never keep up. This estimate adds that waiting time (mean
response of every synchronous step, no queueing) to decide whether a template's numbers are
plausible. It is a sanity bound for the templates, not a model of the simulator.
"""

from __future__ import annotations

import math
from collections import defaultdict
from statistics import NormalDist

from scalesim_patterns.model import Architecture
from scalesim_patterns.model.data import BROKER_LATENCY, ENGINE_DEFAULTS, Database
from scalesim_patterns.model.steps import (
    AppendStep,
    CallStep,
    ParallelStep,
    PublishStep,
    QueryStep,
    SagaStep,
)
from scalesim_patterns.model.traffic import ClosedLoop, DiurnalArrival, OpenLoop, SpikeArrival

_Z99 = NormalDist().inv_cdf(0.99)
_HOP = 0.0005  # both directions of the default 0.25ms network hop
_DEFAULT_APPEND = 0.005


def _lognormal_mean(p50: float, p99: float) -> float:
    sigma = math.log(p99 / p50) / _Z99
    return p50 * math.exp(sigma**2 / 2)


def _db_mean(db: Database, operation: str) -> float:
    given = getattr(db.latency, operation)
    if given is not None:
        return float(given.mean())
    return _lognormal_mean(*ENGINE_DEFAULTS[db.engine][operation])


class Estimate:
    def __init__(self, arch: Architecture) -> None:
        self.arch = arch
        self.spec = arch.spec
        mesh = self.spec.mesh
        per_proxy = 0.0
        if mesh is not None and mesh.enabled:
            per_proxy = (
                mesh.sidecar_overhead.mean()
                if mesh.sidecar_overhead is not None
                else _lognormal_mean(0.0004, 0.0014)
            )
        self.hop = _HOP + 4 * per_proxy
        self.memo: dict[str, float] = {}
        self.rates: dict[str, float] = defaultdict(float)
        self.topics: dict[str, float] = defaultdict(float)

    def response(self, ref: str) -> float:
        """Mean response time of `service.endpoint`, without queueing."""
        if ref not in self.memo:
            service, _, endpoint = ref.partition(".")
            ep = self.spec.services[service].endpoints[endpoint]
            self.memo[ref] = ep.work.mean() + sum(self._step(s) for s in ep.steps)
        return self.memo[ref]

    def _step(self, step: object) -> float:
        spec = self.spec
        if isinstance(step, CallStep):
            return step.probability * step.repeat * (self.response(step.call) + self.hop)
        if isinstance(step, ParallelStep):
            return step.probability * max(
                c.probability * c.repeat * (self.response(c.call) + self.hop) for c in step.parallel
            )
        if isinstance(step, QueryStep):
            db = spec.databases[step.query]
            return step.probability * step.repeat * _db_mean(db, step.operation)
        if isinstance(step, PublishStep):
            broker_name = self.arch.topic_owner(step.publish)
            assert broker_name is not None
            broker = spec.brokers[broker_name]
            if broker.publish_latency is not None:
                return step.probability * broker.publish_latency.mean()
            return step.probability * _lognormal_mean(*BROKER_LATENCY[broker.type][0])
        if isinstance(step, AppendStep):
            store = spec.event_stores[step.append]
            mean = store.append_latency.mean() if store.append_latency else _DEFAULT_APPEND
            return step.probability * mean
        if isinstance(step, SagaStep):
            saga = spec.sagas[step.saga]
            if saga.mode == "orchestrated":
                return step.probability * sum(
                    self.response(s.action) + self.hop for s in saga.steps
                )
        return 0.0

    def _arrive(self, ref: str, rate: float, depth: int = 0) -> None:
        if depth > 32:
            return
        self.rates[ref] += rate
        service, _, endpoint = ref.partition(".")
        for step in self.spec.services[service].endpoints[endpoint].steps:
            if isinstance(step, CallStep):
                self._arrive(step.call, rate * step.probability * step.repeat, depth + 1)
            elif isinstance(step, ParallelStep):
                for c in step.parallel:
                    share = rate * step.probability * c.probability * c.repeat
                    self._arrive(c.call, share, depth + 1)
            elif isinstance(step, PublishStep):
                self.topics[step.publish] += rate * step.probability
            elif isinstance(step, SagaStep):
                for s in self.spec.sagas[step.saga].steps:
                    self._arrive(s.action, rate * step.probability, depth + 1)

    def _targets(
        self, route: str | None, method: str | None, endpoint: str | None
    ) -> list[tuple[str, float]]:
        if endpoint is not None:
            return [(endpoint, 1.0)]
        assert self.spec.gateway is not None
        for r in self.spec.gateway.routes:
            if r.path == route and (method is None or r.methods is None or method in r.methods):
                return [(t, w / 100) for t, w in r.targets()]
        raise AssertionError(f"no route {route} {method}")

    def busy(self) -> dict[str, float]:
        """Busy share of each internal service's workers at the base (mean) load."""
        for src in self.spec.traffic.values():
            entries = [(m, self._targets(m.route, m.method, m.endpoint)) for m in src.mix]
            total = sum(m.weight for m in src.mix)
            if isinstance(src, OpenLoop):
                a = src.arrival
                if isinstance(a, DiurnalArrival):
                    rate = a.mean
                elif isinstance(a, SpikeArrival):
                    rate = a.base
                else:
                    rate = getattr(a, "rate", None) or max(
                        getattr(a, "to", 0.0), getattr(a, "from_", 0.0)
                    )
            else:
                assert isinstance(src, ClosedLoop)
                cycle = src.think_time.mean() + sum(
                    m.weight / total * sum(w * self.response(t) for t, w in tg) for m, tg in entries
                )
                rate = src.users / cycle
            for m, tg in entries:
                for target, w in tg:
                    self._arrive(target, rate * m.weight / total * w)
        delivered: set[tuple[str, str]] = set()
        for _ in range(4):  # consumers may publish in turn
            for broker in self.spec.brokers.values():
                for tname, topic in broker.topics.items():
                    for c in topic.consumers:
                        key = (tname, f"{c.service}.{c.endpoint}")
                        if key not in delivered and self.topics.get(tname):
                            delivered.add(key)
                            self._arrive(key[1], self.topics[tname])
        out: dict[str, float] = {}
        for name, svc in self.spec.services.items():
            if svc.external:
                continue
            held = 0.0
            for ename, ep in svc.endpoints.items():
                rate = self.rates.get(f"{name}.{ename}", 0.0)
                per = (
                    ep.work.mean()
                    if svc.concurrency == "async"
                    else self.response(f"{name}.{ename}")
                )
                held += rate * per
            replicas = svc.autoscaling.min_replicas if svc.autoscaling else svc.replicas
            out[name] = held / (replicas * svc.workers)
        return out
