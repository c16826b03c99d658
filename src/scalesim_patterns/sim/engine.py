"""Build the runtime of one replication from an `Architecture`, run it, and read its figures.

The builder turns every model object into its compiled counterpart (samplers bound to named
streams, steps bound to their call sites' pipelines) so that nothing in the event loop looks up
a name or a model field.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from time import perf_counter
from typing import TYPE_CHECKING, Any

from scalesim_patterns.model.architecture import Architecture
from scalesim_patterns.model.data import ENGINE_DEFAULTS, Database
from scalesim_patterns.model.distributions import Constant, LogNormal
from scalesim_patterns.model.edge import Gateway, Route, Tracing
from scalesim_patterns.model.resilience import ClientPolicy
from scalesim_patterns.model.service import Endpoint
from scalesim_patterns.model.sessions import RepeatRange, SessionStep
from scalesim_patterns.model.steps import (
    AppendStep,
    CacheStep,
    CallStep,
    ChoiceStep,
    GroupStep,
    ParallelStep,
    PublishStep,
    QueryStep,
    SagaStep,
    Step,
)
from scalesim_patterns.model.traffic import ClosedLoop, EntryMix, OpenLoop, TrafficOverride
from scalesim_patterns.sim.core.causes import CAUSE_NAMES, UNAUTHORIZED
from scalesim_patterns.sim.core.collector import young_generation
from scalesim_patterns.sim.core.histogram import LogHistogram
from scalesim_patterns.sim.core.kernel import Kernel
from scalesim_patterns.sim.core.plugins import PluginStates
from scalesim_patterns.sim.core.rng import (
    ZERO,
    AnyDistribution,
    Sampler,
    Streams,
    Sum,
    constant_zero,
)
from scalesim_patterns.sim.extensions import default_extensions
from scalesim_patterns.sim.network.caches import (
    CacheFill,
    CacheLookup,
    CacheRuntime,
    CacheRuntimes,
    cache_section,
)
from scalesim_patterns.sim.network.consumer_stats import (
    ConsumerClosedSource,
    ConsumerOutcomes,
    RecordingTag,
)
from scalesim_patterns.sim.network.gateway import ConsumerRoutedStep, GatewayStepRuntime
from scalesim_patterns.sim.network.host import SimulationError, WindowRecorder
from scalesim_patterns.sim.network.legs import meshed_leg
from scalesim_patterns.sim.network.loops import (
    ChoiceStepRuntime,
    CountedCallStep,
    CountedParallelStep,
    CountedQueryStep,
    GroupEnd,
    GroupStart,
    count_sampler,
)
from scalesim_patterns.sim.network.pipeline import (
    CallSite,
    Extensions,
    Invoke,
    Transport,
    timeout_layer,
)
from scalesim_patterns.sim.network.priority import consumer_priorities, use_priority_queue
from scalesim_patterns.sim.network.processor import cpu_section, service_runtime
from scalesim_patterns.sim.network.sessions import SessionSource, SessionStepRuntime
from scalesim_patterns.sim.network.station import (
    EndpointRuntime,
    ServiceRuntime,
    StepRuntime,
)
from scalesim_patterns.sim.network.steps import (
    CallStepRuntime,
    DatabaseRuntime,
    ParallelStepRuntime,
    PublishStepRuntime,
    QueryStepRuntime,
    TopicRuntime,
)
from scalesim_patterns.sim.network.topics import build_topics
from scalesim_patterns.sim.network.traffic import (
    ClosedSource,
    EntryRuntime,
    OpenSource,
    Picker,
    make_mix,
)
from scalesim_patterns.sim.patterns import workflows
from scalesim_patterns.sim.platform.change_plan import changed_route_targets
from scalesim_patterns.sim.reports.timeseries import SeriesRecorder
from scalesim_patterns.sim.tracing.options import TraceOptions

if TYPE_CHECKING:
    # What a run reports is imported once it has run (`Engine.run`): the results' dataclasses
    # are not defined before the first event. The recorder and the traced runtimes load only
    # for a run that records traces.
    from scalesim_patterns.sim.reports.results import Progress, Report, RunResult, TimeSeries
    from scalesim_patterns.sim.tracing.recorder import TracedQueryStepRuntime, Tracer
    from scalesim_patterns.sim.tracing.workflows import TracedCountedQueryStep

__all__ = ["GATEWAY", "Engine", "SimulationError"]

GATEWAY = "@gateway"
CLIENT = "@client"
DEFAULT_HOP = 0.00025
"""One-way network latency when `spec.network.hopLatency` is not given (0.25 ms)."""
DEFAULT_AUTH = 0.0002
MAX_WINDOWS = 5000
"""Time-series windows are widened so that a run never records more than this many."""


def _lognormal(p50: float, p99: float) -> LogNormal:
    return LogNormal(p50=p50, p99=p99)


def _constant(value: float) -> Constant:
    return Constant(value=value)


ProgressFn = Callable[["Progress"], None]


class Engine:
    """One replication: kernel, random streams and every runtime object, ready to run."""

    def __init__(
        self,
        arch: Architecture,
        *,
        seed: int,
        replication: int = 0,
        duration: float | None = None,
        warmup: float | None = None,
        window: float | None = None,
        scenario: str | None = None,
        extensions: Extensions | None = None,
        traces: TraceOptions | None = None,
    ) -> None:
        sim = arch.spec.simulation
        self.arch = arch
        self.seed = seed
        self.replication = replication
        self.scenario = arch.spec.scenarios[scenario] if scenario is not None else None
        if duration is None and self.scenario is not None:
            duration = self.scenario.duration
        self.duration = float(duration if duration is not None else sim.duration)
        self.warmup = float(warmup if warmup is not None else sim.warmup)
        self.notes: list[str] = []
        if self.warmup >= self.duration:
            if warmup is not None:
                raise SimulationError("warmup must be shorter than the duration")
            self.notes.append(
                f"the file's warm-up ({self.warmup:g}s) is not shorter than the {self.duration:g}s "
                "simulated: nothing is excluded"
            )
            self.warmup = 0.0
        requested = float(window if window is not None else sim.window)
        self.window = max(requested, self.duration / MAX_WINDOWS)
        self.kernel = Kernel()
        self.streams = Streams(seed, replication)
        self.extensions = extensions if extensions is not None else default_extensions()
        self.causes = len(CAUSE_NAMES)
        if self.window > requested:
            self.notes.append(
                f"time-series window widened from {requested:g}s to {self.window:g}s "
                f"to keep at most {MAX_WINDOWS} windows"
            )
        self.services: dict[str, ServiceRuntime] = {}
        self.gateway: ServiceRuntime | None = None
        self.databases: dict[str, DatabaseRuntime] = {}
        self.topics: dict[str, TopicRuntime] = {}
        self.entries: dict[str, EntryRuntime] = {}
        self.sites: list[CallSite] = []
        self.sources: list[OpenSource | ClosedSource | SessionSource] = []
        # Hooks for installed mechanisms (sim/extensions.py); empty when nothing is configured.
        self.reset_hooks: list[Callable[[], None]] = []
        """Run at the end of warm-up, after the engine's own counters are reset."""
        self.window_hooks: list[Callable[[WindowRecorder], None]] = []
        """Run when a time-series window closes, after the engine's own columns."""
        self.report_hooks: list[Callable[[Report[float]], Report[float]]] = []
        """Each may return the run's report with figures added."""
        self.run_extras: dict[str, Callable[[TimeSeries], Any]] = {}
        """Extra per-run sections of the result (`RunResult.extras`), computed after the run."""
        self.plugins = PluginStates()
        """Installed plug-ins' shared state, one object per class (e.g. the fleets of pods)."""
        self.tracer: Tracer | None = None
        """Records spans of sampled requests: only when asked, and in replication 0 only."""
        if traces is not None and replication == 0:
            self.tracer = self.plugins.add(_make_tracer(self, traces))
        self._build()
        self._series = SeriesRecorder(self)

    # ---- building -------------------------------------------------------------------------

    def _build(self) -> None:
        spec = self.arch.spec
        streams = self.streams
        for name, svc in spec.services.items():
            rt = service_runtime(
                name, self.kernel, svc, svc.replicas, streams.get(f"lb:{name}").random
            )
            if svc.scheduling == "priority":
                use_priority_queue(rt, consumer_priorities(spec))
            for ep_name, ep in svc.endpoints.items():
                ref = f"{name}.{ep_name}"
                rt.endpoints[ep_name] = self._endpoint_runtime(
                    rt,
                    ep_name,
                    streams.sampler(ep.work, f"work:{ref}"),
                    ep.error_rate,
                    streams.get(f"error:{ref}").random,
                    self.causes,
                )
            self.services[name] = rt
        workflows.prepare(self)
        for name, db in spec.databases.items():
            self.databases[name] = DatabaseRuntime(name, self.kernel, db.pool, db.max_connections)
        self.topics, self._ack = build_topics(spec.brokers, self.services, self.kernel, streams)
        if spec.caches:
            self._build_caches()
        net = spec.network.hop_latency
        self._net: AnyDistribution = net if net is not None else _constant(DEFAULT_HOP)
        mesh = spec.mesh if spec.mesh is not None and spec.mesh.enabled else None
        self._mesh = mesh is not None
        self._mesh_hop = LogHistogram()
        """Sidecar time per meshed call (the brief's per-hop mesh overhead), every
        MESH_SAMPLE_EVERY-th call: the draws are independent, so a systematic sample has their
        distribution, at a quarter of the cost on the hot path."""
        self._mesh_count = [0]
        self._gateway_added = LogHistogram()
        """Time in the gateway before going upstream (the brief's gateway-added latency)."""
        self._sidecar: AnyDistribution = (
            mesh.sidecar_overhead
            if mesh is not None and mesh.sidecar_overhead is not None
            else _lognormal(0.0004, 0.0014)
        )
        if spec.gateway is not None:
            self._build_gateway(spec.gateway)
        for name, svc in spec.services.items():
            for ep_name, ep in svc.endpoints.items():
                self.services[name].endpoints[ep_name].set_steps(
                    self._compile_steps(name, ep_name, ep)
                )
        self._build_traffic()
        if any(svc.cpu is not None for svc in spec.services.values()):
            # Only files that model CPUs get the section: others' results stay as they were.
            self.run_extras["cpu"] = lambda _series: cpu_section(
                self.services, self.kernel.now - self.warmup
            )
        workflows.start(self)
        for install in self.extensions.installers:
            install(self)

    def _hop(self, site: str, sidecars: int) -> tuple[Sampler, Sampler] | None:
        """Samplers of a call's request leg and reply leg, or None when both are always 0.

        Each leg pays the network's one-way latency; the sidecar proxies' cost (one per proxy on
        the hop, `sidecars` of them) is charged once per call, on the request leg.
        """
        net_zero = constant_zero(self._net)
        with_mesh = self._mesh and sidecars > 0
        if net_zero and not with_mesh:
            return None
        net = ZERO if net_zero else self.streams.sampler(self._net, f"net:{site}")
        if not with_mesh:
            return net, net
        side = self.streams.sampler(self._sidecar, f"sidecar:{site}")
        return meshed_leg(net, side, self._mesh_hop, self._mesh_count, sidecars), net

    def _entry_legs(self, site: str, caller: str) -> tuple[Sampler, Sampler] | None:
        """A client request's two legs when `network.entryLatency` is set, else none at all."""
        entry = self.arch.spec.network.entry_latency
        if caller != CLIENT or entry is None or constant_zero(entry):
            return None
        leg = self.streams.sampler(entry, f"entry:{site}")
        return leg, leg

    def _site(
        self,
        name: str,
        caller: str,
        target: str,
        policy: ClientPolicy,
        *,
        sidecars: int,
        route: Route | None = None,
        hop: bool = True,
    ) -> tuple[CallSite, Invoke]:
        service, _, endpoint = target.partition(".")
        site = CallSite(
            name=name,
            caller=caller,
            target_service=service,
            target_endpoint=endpoint,
            policy=policy,
            engine=self,
            route=route,
            gateway=self.arch.spec.gateway,
            mesh=self._mesh and sidecars > 0,
        )
        svc = self.gateway if service == GATEWAY else self.services[service]
        assert svc is not None
        legs = self._hop(name, sidecars) if hop else self._entry_legs(name, caller)
        site.legs = legs
        transport = Transport(self.kernel, svc, legs)
        invoke: Invoke = transport.send
        for layer in reversed(self.extensions.transport_layers):
            invoke = layer(site, invoke)
        if policy.timeout is not None and policy.timeout > 0:
            invoke = timeout_layer(self.kernel, policy.timeout, invoke)
        for layer in reversed(self.extensions.layers):
            invoke = layer(site, invoke)
        if self.tracer is not None:
            invoke = self.tracer.layer(site, invoke)
        if invoke is transport.send and legs is None and transport.arrive == svc.arrive:
            site.direct = svc  # not a rollout's router (`arrive_` replaced): the service itself
        self.sites.append(site)
        return site, invoke

    def _endpoint_runtime(
        self,
        service: ServiceRuntime,
        name: str,
        work: Sampler,
        error_rate: float,
        error_rnd: Callable[[], float],
        causes: int,
    ) -> EndpointRuntime:
        """The plain runtime, or the traced one when this run records traces."""
        if self.tracer is None:
            return EndpointRuntime(service, name, work, error_rate, error_rnd, causes)
        from scalesim_patterns.sim.tracing.recorder import TracedEndpointRuntime

        ep = TracedEndpointRuntime(service, name, work, error_rate, error_rnd, causes)
        ep.tracer = self.tracer
        return ep

    def call_site(
        self, name: str, caller: str, target: str, policy: ClientPolicy, *, sidecars: int
    ) -> tuple[CallSite, Invoke]:
        """A new call site and its pipeline (`Host.call_site`, for plug-ins that send calls)."""
        return self._site(name, caller, target, policy, sidecars=sidecars)

    def endpoint(self, ref: str) -> EndpointRuntime:
        """The runtime of "service.endpoint" (`Host.endpoint`)."""
        return self._endpoint(ref)

    def _endpoint(self, ref: str) -> EndpointRuntime:
        service, _, endpoint = ref.partition(".")
        if service == GATEWAY:
            assert self.gateway is not None
            return self.gateway.endpoints[endpoint]
        return self.services[service].endpoints[endpoint]

    def _compile_steps(self, service: str, endpoint: str, ep: Endpoint) -> list[StepRuntime]:
        out: list[StepRuntime] = []
        self._compile_into(out, service, endpoint, ep.steps, "")
        return out

    def _compile_into(
        self, out: list[StepRuntime], service: str, endpoint: str, steps: list[Step], prefix: str
    ) -> None:
        """Compile `steps` onto the end of `out`; a group's body goes flat between its start and
        end (sim/network/loops.py). `prefix` names nested steps' streams (`2.0` is the first step
        of the group at index 2), so top-level names are those of a file without groups."""
        for j, step in enumerate(steps):
            index = f"{prefix}{j}"
            if isinstance(step, CacheStep):
                ref = f"{service}.{endpoint}"
                cache = self.plugins.obtain(CacheRuntimes)[step.cache]
                model = self.arch.spec.caches[step.cache]
                lookup = CacheLookup(
                    self.kernel,
                    cache,
                    self.streams.sampler(model.latency_of(), f"cache-get:{ref}:{index}"),
                    step.probability,
                    self.streams.get(f"branch:{ref}:{index}").random,
                )
                out.append(lookup)
                self._compile_into(out, service, endpoint, step.miss, f"{index}.")
                out.append(
                    CacheFill(
                        self.kernel,
                        cache,
                        self.streams.sampler(model.latency_of(), f"cache-set:{ref}:{index}"),
                    )
                )
                lookup.end = len(out)
            elif isinstance(step, GroupStep):
                ref = f"{service}.{endpoint}"
                head = GroupStart(
                    self._count(step.repeat, f"count:{ref}:{index}"),
                    step.probability,
                    self.streams.get(f"branch:{ref}:{index}").random,
                )
                out.append(head)
                body = len(out)
                self._compile_into(out, service, endpoint, step.steps, f"{index}.")
                out.append(GroupEnd(body))
                head.end = len(out)
            else:
                out.append(self._compile_step(service, endpoint, index, step))

    def _build_caches(self) -> None:
        """The file's caches, their warm-up reset, per-window figures and run section."""
        caches = self.plugins.add(CacheRuntimes())
        for name, model in self.arch.spec.caches.items():
            caches[name] = CacheRuntime(
                name, model, self.kernel, self.streams.get(f"cache:{name}").random
            )
        series: dict[str, dict[str, list[float | None]]] = {
            name: {"lookups": [], "hit_ratio": [], "errors": []} for name in caches
        }

        def reset() -> None:
            for c in caches.values():
                c.snap = c.counters()

        def window(_: Any) -> None:
            for name, c in caches.items():
                now = c.counters()
                lookups, hits, errors = (a - b for a, b in zip(now, c.window, strict=True))
                c.window = now
                cols = series[name]
                cols["lookups"].append(float(lookups))
                cols["hit_ratio"].append(hits / lookups if lookups else None)
                cols["errors"].append(float(errors))

        self.reset_hooks.append(reset)
        self.window_hooks.append(window)
        self.run_extras["caches"] = lambda _series: cache_section(
            caches, self.kernel.now - self.warmup, series
        )

    def _count(self, count: Any, stream: str) -> Callable[[], int]:
        return count_sampler(count, self.streams.get(stream))

    def _compile_step(self, service: str, endpoint: str, i: str, step: Step) -> StepRuntime:
        svc_model = self.arch.spec.services[service]
        ref = f"{service}.{endpoint}"
        k = self.kernel
        branch = self.streams.get(f"branch:{ref}:{i}").random
        if isinstance(step, CallStep):
            policy = svc_model.client_policy(step.service).merged(step.policy())
            site, invoke = self._site(
                f"{ref}->{step.call}#{i}", service, step.call, policy, sidecars=2
            )
            args = ([self._endpoint(step.call)], [invoke], [1.0], step.probability)
            if isinstance(step.repeat, int):
                call = CallStepRuntime(k, *args, step.repeat, branch, branch)
            else:
                count = self._count(step.repeat, f"count:{ref}:{i}")
                call = CountedCallStep(count, k, *args, 1, branch, branch)
            call.direct0 = site.direct
            return call
        if isinstance(step, ChoiceStep):
            options: list[StepRuntime | None] = []
            for n, option in enumerate(step.choice):
                if option.call is None:
                    options.append(None)
                else:
                    options.append(
                        self._compile_step(service, endpoint, f"{i}.{n}", option.as_call())
                    )
            return ChoiceStepRuntime(options, [o.weight for o in step.choice], branch)
        if isinstance(step, ParallelStep):
            targets: list[EndpointRuntime] = []
            invokes: list[Invoke] = []
            for j, member in enumerate(step.parallel):
                policy = svc_model.client_policy(member.service).merged(member.policy())
                _, invoke = self._site(
                    f"{ref}->{member.call}#{i}.{j}", service, member.call, policy, sidecars=2
                )
                targets.append(self._endpoint(member.call))
                invokes.append(invoke)
            probabilities = [m.probability for m in step.parallel]
            fixed = [m.repeat for m in step.parallel if isinstance(m.repeat, int)]
            if len(fixed) == len(step.parallel):
                return ParallelStepRuntime(
                    k, targets, invokes, probabilities, fixed, step.probability, branch
                )
            counts = [
                self._count(m.repeat, f"count:{ref}:{i}.{j}") for j, m in enumerate(step.parallel)
            ]
            return CountedParallelStep(
                counts,
                k,
                targets,
                invokes,
                probabilities,
                [1] * len(targets),
                step.probability,
                branch,
            )
        if isinstance(step, QueryStep):
            db_model = self.arch.spec.databases[step.query]
            latency = _db_latency(db_model, step.operation)
            qargs = (
                k,
                self.databases[step.query],
                self.streams.sampler(latency, f"db:{step.query}:{ref}:{i}"),
                step.probability,
            )
            query: TracedQueryStepRuntime | TracedCountedQueryStep
            if not isinstance(step.repeat, int):  # a drawn count
                count = self._count(step.repeat, f"count:{ref}:{i}")
                if self.tracer is None:
                    return CountedQueryStep(count, *qargs, 1, branch)
                from scalesim_patterns.sim.tracing.workflows import TracedCountedQueryStep

                query = TracedCountedQueryStep(count, *qargs, 1, branch)
            elif self.tracer is None:
                return QueryStepRuntime(*qargs, step.repeat, branch)
            else:
                from scalesim_patterns.sim.tracing.recorder import TracedQueryStepRuntime

                query = TracedQueryStepRuntime(*qargs, step.repeat, branch)
            query.tracer = self.tracer
            query.engine_name = db_model.engine
            query.operation = step.operation
            return query
        if isinstance(step, PublishStep):
            publish_args = (
                k,
                self.topics[step.publish],
                self.streams.sampler(self._ack[step.publish], f"ack:{ref}:{i}"),
                step.probability,
                branch,
            )
            if self.tracer is None:
                return PublishStepRuntime(*publish_args)
            from scalesim_patterns.sim.tracing.recorder import TracedPublishStepRuntime

            publish = TracedPublishStepRuntime(*publish_args)
            publish.tracer = self.tracer
            publish.system = _broker_system(self.arch, step.publish)
            return publish
        assert isinstance(step, SagaStep | AppendStep)
        return workflows.compile_step(self, service, endpoint, int(i) if i.isdigit() else i, step)

    def _build_gateway(self, gw: Gateway) -> None:
        rt = ServiceRuntime(
            GATEWAY,
            self.kernel,
            replicas=gw.replicas,
            workers=gw.workers,
            queue_capacity=None,
            holds=False,
            lb="round-robin",
            lb_rnd=self.streams.get(f"lb:{GATEWAY}").random,
        )
        self.gateway = rt
        overhead: AnyDistribution = gw.overhead or _lognormal(0.001, 0.004)
        auth = gw.auth if gw.auth is not None and gw.auth.type != "none" else None
        self._route_keys: dict[int, str] = {}
        for index, route in enumerate(gw.routes):
            key = route_key(route)
            self._route_keys[index] = key
            base = self.streams.sampler(overhead, f"work:{GATEWAY}.{key}")
            work = base
            invalid = 0.0
            if auth is not None and route.auth:
                auth_dist: AnyDistribution = auth.overhead or _constant(DEFAULT_AUTH)
                check = self.streams.sampler(auth_dist, f"auth:{GATEWAY}.{key}")
                work = Sum(base, check)
                invalid = auth.invalid_share
            ep = self._endpoint_runtime(
                rt,
                key,
                work,
                invalid,
                self.streams.get(f"error:{GATEWAY}.{key}").random,
                self.causes,
            )
            ep.error_status = UNAUTHORIZED  # the gateway's only failure of its own: a 401
            rt.endpoints[key] = ep
            # Targets a scheduled change will weight get their call site now, at weight 0.
            later = changed_route_targets(self.scenario, gw, index)
            planned = route.targets()
            planned += [(t, 0) for t in later if t not in {name for name, _ in planned}]
            targets, invokes, weights = self._route_sites(route, key, planned, later)
            pick = self.streams.get(f"split:{GATEWAY}.{key}").random
            kind = ConsumerRoutedStep if route.by_consumer else GatewayStepRuntime
            step = kind(self.kernel, targets, invokes, weights, pick, self._gateway_added)
            if isinstance(step, ConsumerRoutedStep):
                step.by_consumer = self._consumer_matches(route, key)
            ep.set_steps([step])

    def _route_sites(
        self,
        route: Route,
        key: str,
        planned: list[tuple[str, int]],
        later: Collection[str],
    ) -> tuple[list[EndpointRuntime], list[Invoke], list[float]]:
        """The gateway's call site to each target of a route (or of one of its consumer
        matches) with its weight: a target at weight 0 gets one only when a scheduled change
        will weight it (`later`), so an unused target costs nothing."""
        targets: list[EndpointRuntime] = []
        invokes: list[Invoke] = []
        weights: list[float] = []
        for target, weight in planned:
            if weight <= 0 and target not in later:
                continue
            _, invoke = self._site(
                f"{GATEWAY}{key}->{target}",
                GATEWAY,
                target,
                ClientPolicy(),
                sidecars=1,
                route=route,
            )
            targets.append(self._endpoint(target))
            invokes.append(invoke)
            weights.append(float(weight))
        return targets, invokes, weights

    def _consumer_matches(self, route: Route, key: str) -> dict[str, CallStepRuntime]:
        """The call step of each consumer a `byConsumer` match of the route takes (the first
        match that names a consumer wins, as Istio tries HTTP routes in order)."""
        out: dict[str, CallStepRuntime] = {}
        for i, match in enumerate(route.by_consumer):
            targets, invokes, weights = self._route_sites(route, f"{key}#{i}", match.targets(), ())
            pick = self.streams.get(f"split:{GATEWAY}.{key}#{i}").random
            step = CallStepRuntime(self.kernel, targets, invokes, weights, 1.0, 1, pick, pick)
            for consumer in match.consumers:
                out.setdefault(consumer, step)
        return out

    def _find_route(self, path: str, method: str | None) -> tuple[int, Route]:
        gw = self.arch.spec.gateway
        assert gw is not None
        for i, route in enumerate(gw.routes):
            if route.path == path and (
                method is None or route.methods is None or method in route.methods
            ):
                return i, route
        raise SimulationError(f"no gateway route {method or ''} {path}".replace("  ", " "))

    def _entry(self, sname: str, item: EntryMix | SessionStep) -> EntryRuntime:
        """The entry of one kind of request (made once, shared by every source that sends it)."""
        spec = self.arch.spec
        if item.endpoint is not None:
            name = item.endpoint
            target_ref = item.endpoint
            route: Route | None = None
        else:
            if spec.gateway is None or item.route is None:
                raise SimulationError(f"traffic {sname}: a route needs spec.gateway")
            index, route = self._find_route(item.route, item.method)
            name = f"{item.method} {item.route}" if item.method else item.route
            target_ref = f"{GATEWAY}.{self._route_keys[index]}"
        entry = self.entries.get(name)
        if entry is None:
            entry = EntryRuntime(name, self.kernel, self._endpoint(target_ref), self.causes)
            site, invoke = self._site(
                f"{CLIENT}:{name}",
                CLIENT,
                target_ref,
                ClientPolicy(),
                sidecars=0,
                route=route,
                hop=False,
            )
            entry.connect(invoke, site.direct)
            self.entries[name] = entry
        return entry

    def _build_traffic(self) -> None:
        spec = self.arch.spec
        overrides: dict[str, TrafficOverride] = self.scenario.traffic if self.scenario else {}
        sessions: dict[str, SessionSource] = {}
        for sname, src in spec.traffic.items():
            override = overrides.get(sname)
            picker: Picker
            if src.session is not None:
                session = self._session_source(sname, src, override)
                session.consumer = src.consumer
                sessions[sname] = session
                picker = session
                if isinstance(src, ClosedLoop):
                    self.sources.append(session)
                    continue
            else:
                entries = [self._entry(sname, mix) for mix in src.mix]
                weights = [mix.weight for mix in src.mix]
                mixer = make_mix(entries, weights, self.streams.get(f"mix:{sname}").random)
                picker = mixer
            if isinstance(src, OpenLoop):
                arrival = override.arrival if override and override.arrival else src.arrival
                scale = override.scale if override and override.scale else 1.0
                opened = OpenSource(
                    sname,
                    self.kernel,
                    arrival,
                    scale,
                    picker,
                    self.streams.get(f"arrival:{sname}").random,
                    self.streams.get(f"thin:{sname}").random,
                )
                if src.consumer is not None:
                    opened.tag = RecordingTag(
                        src.consumer, self.kernel, self._consumer_outcomes().stats(src.consumer)
                    )
                self.sources.append(opened)
            else:
                assert isinstance(src, ClosedLoop)
                users = override.users if override and override.users else src.users
                think = self.streams.sampler(src.think_time, f"think:{sname}")
                if src.consumer is None:
                    closed = ClosedSource(sname, self.kernel, users, think, mixer)
                else:
                    closed = ConsumerClosedSource(
                        sname,
                        self.kernel,
                        users,
                        think,
                        mixer,
                        self._consumer_outcomes().stats(src.consumer),
                    )
                closed.consumer = src.consumer
                self.sources.append(closed)
        if sessions:
            for session in sessions.values():
                self.reset_hooks.append(session.reset)
            self.run_extras["sessions"] = lambda _series: {
                name: s.report() for name, s in sessions.items()
            }

    def _consumer_outcomes(self) -> ConsumerOutcomes:
        """The run's per-consumer figures (the `consumers` section), made on first use."""
        outcomes = self.plugins.get(ConsumerOutcomes)
        if outcomes is None:
            outcomes = self.plugins.add(ConsumerOutcomes(self.causes))
            self.reset_hooks.append(outcomes.reset)
            self.run_extras["consumers"] = lambda _series: outcomes.report(
                self.kernel.now - self.warmup
            )
        return outcomes

    def _session_source(
        self, sname: str, src: OpenLoop | ClosedLoop, override: TrafficOverride | None
    ) -> SessionSource:
        assert src.session is not None
        default_think = (
            self.streams.sampler(src.think_time, f"think:{sname}")
            if isinstance(src, ClosedLoop)
            else ZERO
        )
        steps: list[SessionStepRuntime] = []
        for i, step in enumerate(src.session):
            repeat = step.repeat
            low, high = (
                (repeat.min, repeat.max) if isinstance(repeat, RepeatRange) else (repeat, repeat)
            )
            think = (
                self.streams.sampler(step.think_time, f"think:{sname}:{i}")
                if step.think_time is not None
                else default_think
            )
            steps.append(
                SessionStepRuntime(
                    step.label, self._entry(sname, step), low, high, step.probability, think
                )
            )
        users: int | None = None
        if isinstance(src, ClosedLoop):
            users = override.users if override and override.users else src.users
        return SessionSource(
            sname,
            self.kernel,
            steps,
            self.streams.get(f"session:{sname}").random,
            users=users,
            think=default_think,
        )

    # ---- hooks for mechanisms ---------------------------------------------------------------

    def every(self, period: float, fn: Callable[[float], None], start: float | None = None) -> None:
        """Call `fn(now)` every `period` simulated seconds from `start` (default: one period)."""
        k = self.kernel

        def tick(_: Any) -> None:
            fn(k.now)
            k.schedule(period, tick, None)

        k.at(period if start is None else start, tick, None)

    # ---- running ---------------------------------------------------------------------------

    def run(self, progress: ProgressFn | None = None, replications: int = 1) -> RunResult:
        k = self.kernel
        for src in self.sources:
            src.start()
        if self.warmup > 0:
            k.at(self.warmup, self._reset, None)
        self._series.start()
        end = self.duration
        chunks = 200 if progress is not None else 1
        wall0 = perf_counter()
        with young_generation():
            for i in range(1, chunks + 1):
                k.run(end * i / chunks)
                if progress is not None:
                    from scalesim_patterns.sim.reports.results import Progress

                    progress(
                        Progress(
                            replication=self.replication,
                            replications=replications,
                            time=k.now,
                            end=end,
                            requests=sum(e.stats.n for e in self.entries.values()),
                            events=k.events,
                            wall=perf_counter() - wall0,
                        )
                    )
        from scalesim_patterns.sim.reports.results import RunResult

        self._series.finish()
        series = self._series.result()
        report = self._report()
        for hook in self.report_hooks:
            report = hook(report)
        return RunResult(
            traces=self.tracer.result(self.duration) if self.tracer is not None else None,
            replication=self.replication,
            seed=self.seed,
            events=k.events,
            report=report,
            series=series,
            decisions=workflows.decisions(self),
            extras={key: fn(series) for key, fn in self.run_extras.items()},
        )

    def _all_services(self) -> list[ServiceRuntime]:
        out = list(self.services.values())
        if self.gateway is not None:
            out.append(self.gateway)
        out.extend(workflows.extra_services(self))
        return out

    def _reset(self, _: Any) -> None:
        for entry in self.entries.values():
            entry.reset()
        for svc in self._all_services():
            for ep in svc.endpoints.values():
                ep.stats.reset()
            for rep in svc.replicas:
                rep.reset()
        for db in self.databases.values():
            db.reset()
        self._mesh_hop.clear()
        self._gateway_added.clear()
        for topic in self.topics.values():
            topic.reset()
        workflows.reset(self)
        self._series.last_hist.clear()  # the histograms it differences were just cleared
        for hook in self.reset_hooks:
            hook()

    # ---- reading the figures ---------------------------------------------------------------

    def _report(self) -> Report[float]:
        from scalesim_patterns.sim.reports.assemble import assemble_report, latency_of
        from scalesim_patterns.sim.reports.results import BriefReport

        span = self.duration - self.warmup
        sagas, event_stores, rollouts = workflows.reports(self, span)
        return assemble_report(
            span,
            self.causes,
            entries=self.entries,
            services=self.services,
            extra_services=workflows.extra_services(self),
            gateway=self.gateway,
            databases=self.databases,
            topics=self.topics,
            sagas=sagas,
            event_stores=event_stores,
            rollouts=rollouts,
            brief=BriefReport(
                gateway_added=latency_of(self._gateway_added) if self.gateway is not None else None,
                mesh_hop=latency_of(self._mesh_hop) if self._mesh else None,
            ),
        )


def _make_tracer(engine: Engine, options: TraceOptions) -> Tracer:
    from scalesim_patterns.sim.tracing.recorder import Tracer

    tracing = engine.arch.spec.tracing
    if (tracing is None or not tracing.enabled) and options.sampling is not None:
        tracing = Tracing(sampling=options.sampling)  # the caller's own ratio, no tail rules
    if tracing is None or not tracing.enabled:
        raise SimulationError(
            "traces need spec.tracing with enabled: true (for example "
            "`tracing: {enabled: true, sampling: 0.1}`); it says how requests are sampled"
        )
    k = engine.kernel
    return Tracer(
        engine.arch,
        tracing,
        options,
        engine.streams.get("trace-ids"),
        engine.arch.spec.network.hop_latency or _constant(DEFAULT_HOP),
        lambda: k.now,
    )


def _broker_system(arch: Architecture, topic: str) -> str:
    """The `messaging.system` of a topic's broker (OpenTelemetry's names)."""
    for broker in arch.spec.brokers.values():
        if topic in broker.topics:
            return str(broker.type)
    return "unknown"


def route_key(route: Route) -> str:
    return f"{','.join(route.methods)} {route.path}" if route.methods else route.path


def _db_latency(db: Database, operation: str) -> AnyDistribution:
    given: AnyDistribution | None = getattr(db.latency, operation)
    if given is not None:
        return given
    p50, p99 = ENGINE_DEFAULTS[db.engine][operation]
    return _lognormal(p50, p99)
