"""Recording spans of sampled requests while a replication runs.

Tracing is opt-in per run (`simulate(..., traces=TraceOptions())`), and only then does the engine
build the traced variants of its runtime classes defined here; an untraced run uses the plain
classes, so its hot path is exactly what it was and costs nothing more. A traced run draws the
same random numbers in the same order as an untraced one (trace and span ids come from their own
stream, `trace-ids`), so its figures are identical: the traces describe the very run reported.

What becomes a span:

- every call a caller sends (a `CLIENT` span from sending until the caller has its answer,
  retries and timeouts included), by the tracing layer, the outermost of each call site;
- every attempt that reaches a service (a `SERVER` span from arrival at the replica until the
  answer, queueing included; `http.request.resend_count` counts the attempts before it), by
  `TracedEndpointRuntime` — the gateway's own pass included, as the service `gateway`;
- the sidecars' share of a meshed hop (an `INTERNAL` span `sidecar` under the client span);
- each database query (`CLIENT`, from asking the pool for a connection until the answer) and each
  publish (`PRODUCER`, until the broker's acknowledgement); a consumer's handling of a message is
  a `CONSUMER` span in the same trace that *follows from* the producer span;
- a saga run (`INTERNAL` `saga <name>`, holding its trace open until the outcome), its steps
  and compensations (the orchestrator's calls, named as such; a choreographed participant's
  handling of the previous step's event follows from the run) and its state writes;
- event-store appends (`PRODUCER` `streams.append <store>`) and, per projection, the applying of
  each traced append (`CONSUMER` `streams.subscribe <store>`, following from the append), by the
  traced runtimes of `sim/tracing/workflows.py`.

Sampling follows OpenTelemetry's `ParentBased(TraceIdRatioBased(ratio))`: the entry request draws
a 128-bit trace id and is sampled when its lower 64 bits are below ratio × 2^64 (as the SDKs
compare), every later span follows its parent's decision. Tail rules (`tracing.tail`) then decide
on each complete trace, as the Collector's `tail_sampling` processor would (without its
`decision_wait`: a trace is complete when its last span has ended).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from scalesim_patterns.model.distributions import Constant
from scalesim_patterns.model.edge import TailSampling, Tracing
from scalesim_patterns.sim.core.causes import CAUSE_NAMES, OK
from scalesim_patterns.sim.core.kernel import FunctionHandler
from scalesim_patterns.sim.mechanisms.subscription import Message
from scalesim_patterns.sim.network.station import Call, EndpointRuntime
from scalesim_patterns.sim.network.steps import PublishStepRuntime, QueryStepRuntime
from scalesim_patterns.sim.network.topics import TopicRuntime
from scalesim_patterns.sim.tracing.options import DEFAULT_MAX_TRACES, TraceOptions
from scalesim_patterns.sim.tracing.spans import (
    CLIENT,
    CONSUMER,
    INTERNAL,
    PRODUCER,
    SERVER,
    Span,
    Trace,
    TraceSet,
)

if TYPE_CHECKING:
    from scalesim_patterns.model.architecture import Architecture
    from scalesim_patterns.sim.network.pipeline import CallSite, Invoke

__all__ = [
    "DEFAULT_MAX_TRACES",
    "QuerySpans",
    "TraceOptions",
    "TracedEndpointRuntime",
    "TracedPublishStepRuntime",
    "TracedQueryStepRuntime",
    "Tracer",
]

_LOW64 = (1 << 64) - 1
_GATEWAY = "@gateway"
_CLIENT = "@client"


def _service_name(name: str) -> str:
    return "gateway" if name == _GATEWAY else "client" if name == _CLIENT else name


def describe_tail(tail: TailSampling | None) -> str | None:
    if tail is None:
        return None
    rules = []
    if tail.errors:
        rules.append("errors")
    if tail.latency_above is not None:
        rules.append(f"latency > {tail.latency_above * 1000:g}ms")
    if tail.ratio:
        rules.append(f"{tail.ratio:g} of the rest")
    return "[" + ", ".join(rules) + "]" if rules else "[none]"


class Tracer:
    """The spans being recorded: open ones keyed by the object they belong to, finished traces
    in the order they completed."""

    def __init__(
        self,
        arch: Architecture,
        tracing: Tracing,
        options: TraceOptions,
        ids: Any,
        network: Any,
        now: Callable[[], float],
    ) -> None:
        self.arch = arch
        self.names: dict[EndpointRuntime, str] = {}
        self.ratio = tracing.sampling if options.sampling is None else options.sampling
        self.bound = round(self.ratio * (_LOW64 + 1))
        self.tail = tracing.tail
        self.max_traces = options.max_traces
        self.rng = ids
        self.now = now
        self.net_const = network.value if isinstance(network, Constant) else None
        """The network's one-way latency when it is constant: a meshed hop's request leg minus it
        is the sidecars' share."""
        self.client: dict[Any, Span] = {}
        """Open client spans by the call the caller sent (the logical call, before retries)."""
        self.server: dict[Any, Span] = {}
        """Open server spans by the call (attempt) being served."""
        self.began: dict[Call, float] = {}
        """When a traced call that had queued got its worker."""
        self.attempts: dict[int, int] = {}
        """Attempts seen per client span id."""
        self.messages: dict[tuple[int, float], Span] = {}
        """Producer span of each traced message (message id, publish time) still unconsumed."""
        self.awaiting: dict[Any, deque[tuple[int, Span]]] = {}
        """Per projection, the traced appends it has not applied yet: (the append's last
        position, its span), in position order."""
        self.trace_of: dict[int, Trace] = {}
        self.kept: list[Trace] = []
        self.started = 0
        self.sampled = 0
        self.dropped_by_tail = 0
        self.dropped_by_cap = 0

    # ---- ids and traces ------------------------------------------------------------------

    def span_id(self) -> int:
        return self.rng.getrandbits(64) or 1

    def _child(
        self,
        parent: Span,
        name: str,
        kind: str,
        service: str,
        start: float,
        end: float = -1.0,
        *,
        follows_from: bool = False,
    ) -> Span:
        """A new span in `parent`'s trace under `parent` (or following from it), with a fresh id.

        Every span but a trace's root is made this way, so none can pair one span's trace with
        another's parent."""
        return Span(
            parent.trace_id,
            self.span_id(),
            parent.span_id,
            name,
            kind,
            service,
            start,
            end,
            follows_from=follows_from,
        )

    def _open(self, span: Span) -> None:
        self.trace_of[span.trace_id].open += 1

    def _close(self, span: Span, status: int) -> None:
        span.end = self.now()
        if status:
            span.error = CAUSE_NAMES[status]
        trace = self.trace_of.get(span.trace_id)
        if trace is None:
            return
        trace.spans.append(span)
        trace.open -= 1
        if trace.open == 0:
            self._complete(trace)

    def _add_finished(self, span: Span) -> None:
        trace = self.trace_of.get(span.trace_id)
        if trace is not None:
            trace.spans.append(span)

    def _complete(self, trace: Trace) -> None:
        del self.trace_of[trace.trace_id]
        trace.complete = True
        if not self._tail_keeps(trace):
            self.dropped_by_tail += 1
            return
        if len(self.kept) >= self.max_traces:
            self.dropped_by_cap += 1
            return
        self.kept.append(trace)

    def _tail_keeps(self, trace: Trace) -> bool:
        tail = self.tail
        if tail is None:
            return True
        if tail.errors and trace.has_error:
            return True
        if tail.latency_above is not None and trace.end - trace.start > tail.latency_above:
            return True
        return (trace.trace_id & _LOW64) < round(tail.ratio * (_LOW64 + 1))

    def result(self, duration: float) -> TraceSet:
        """The kept traces, then the ones still open that have ended spans (partial, within the
        cap). Every sampled trace is counted once: kept complete, dropped by the tail rules,
        dropped by the cap, or incomplete."""
        kept = list(self.kept)
        incomplete = len(self.trace_of)
        for trace in self.trace_of.values():
            if trace.spans and len(kept) < self.max_traces:
                kept.append(trace)
        return TraceSet(
            traces=kept,
            started=self.started,
            sampled=self.sampled,
            dropped_by_tail=self.dropped_by_tail,
            dropped_by_cap=self.dropped_by_cap,
            incomplete=incomplete,
            max_traces=self.max_traces,
            duration=duration,
            sampling=self.ratio,
            tail=describe_tail(self.tail),
        )

    # ---- client side: the layer ------------------------------------------------------------

    def layer(self, site: CallSite, nxt: Invoke) -> Invoke:
        """The outermost layer of a call site: a client span for each traced call."""
        caller = _service_name(site.caller)
        target = site.target_service
        endpoint = site.target_endpoint
        root = site.caller == _CLIENT
        method = _method(site)
        if target == _GATEWAY:
            name = endpoint  # the route: `POST /checkout`
        else:
            name = f"{method} {target}.{endpoint}" if method else f"{target}.{endpoint}"
        mesh = site.mesh
        tracer = self

        def invoke(c: Call) -> None:
            if root:
                parent = None
                tracer.started += 1
                trace_id = tracer.rng.getrandbits(128) or 1
                if (trace_id & _LOW64) >= tracer.bound:
                    nxt(c)
                    return
                tracer.sampled += 1
                tracer.trace_of[trace_id] = Trace(trace_id, name)
            else:
                parent = tracer.parent_span(c.parent)
                if parent is None:
                    nxt(c)
                    return
                trace_id = parent.trace_id
            span = Span(
                trace_id,
                tracer.span_id(),
                parent.span_id if parent is not None else 0,
                name,
                CLIENT,
                caller,
                tracer.now(),
            )
            attrs = span.attributes
            if method:
                attrs["http.request.method"] = method
            attrs["server.address"] = _service_name(target)
            attrs["scalesim.target"] = f"{_service_name(target)}.{endpoint}"
            if mesh:
                attrs["scalesim.mesh"] = True
            role = _saga_role(c)
            if role is not None:
                attrs["scalesim.saga.role"] = role
                span.name = f"{role} {target}.{endpoint}"
            tracer._open(span)
            tracer.client[c] = span
            reply = c.reply

            def replied(cc: Call) -> None:
                tracer.client.pop(cc, None)
                if cc.status:
                    span.attributes["error.type"] = CAUSE_NAMES[cc.status]
                tracer._close(span, cc.status)
                reply.handle(cc)

            c.reply = FunctionHandler(replied)
            nxt(c)

        return invoke

    def parent_span(self, parent: Any) -> Span | None:
        """The open span a call sent on behalf of `parent` hangs under: the server span of the
        caller's call, or of the call that started a saga."""
        span = self.server.get(parent)
        if span is None:
            call = getattr(parent, "call", None)
            if call is not None:
                span = self.server.get(call)
        return span

    # ---- server side ----------------------------------------------------------------------

    def server_name(self, ep: EndpointRuntime) -> str:
        """`{method} {route}`, as OpenTelemetry names HTTP server spans."""
        name = self.names.get(ep)
        if name is None:
            if ep.service.name == _GATEWAY:
                name = ep.name
            else:
                svc = self.arch.spec.services.get(ep.service.name)
                model = svc.endpoints.get(ep.name) if svc is not None else None
                name = ep.name if model is None else f"{model.method} {model.path or '/' + ep.name}"
            self.names[ep] = name
        return name

    def serve(self, c: Call, endpoint: EndpointRuntime | None = None) -> Span | None:
        """The server span of the attempt `c`, opened on first need; None when untraced."""
        span = self.server.get(c)
        if span is not None:
            return span
        x: Any = c
        client = None
        while x is not None:
            client = self.client.get(x)
            if client is not None:
                break
            x = getattr(x.parent, "origin", None)
        ep = endpoint if endpoint is not None else c.endpoint
        service = _service_name(ep.service.name)
        if client is not None:
            attempt = self.attempts.get(client.span_id, 0)
            self.attempts[client.span_id] = attempt + 1
            span = self._child(
                client,
                self.server_name(ep),
                SERVER,
                service,
                c.t_arrive,
            )
            if attempt:
                span.attributes["http.request.resend_count"] = attempt
            if client.attributes.get("scalesim.mesh"):
                self._sidecar(client, c)
        else:
            msg = c.parent
            if not isinstance(msg, Message):
                return self._delivered(c, ep, service)
            producer = self.messages.get((msg.id, msg.t_published))
            if producer is None:
                return None
            span = self._child(
                producer,
                f"process {producer.attributes['messaging.destination.name']}",
                CONSUMER,
                service,
                c.t_arrive,
                follows_from=True,
            )
            span.attributes["messaging.system"] = producer.attributes["messaging.system"]
            span.attributes["messaging.destination.name"] = producer.attributes[
                "messaging.destination.name"
            ]
            span.attributes["messaging.operation.type"] = "process"
            span.attributes["messaging.message.id"] = str(msg.id)
            span.attributes["scalesim.consumed"] = f"{ep.ref}"
        return self._open_server_span(span, c, ep)

    def _open_server_span(self, span: Span, c: Call, ep: EndpointRuntime) -> Span:
        """Open `span` as the one serving `c` at `ep`, named with the replica it runs on.

        The last step of every span an arrival opens (a request, a consumed message, a saga's
        step), kept in one place so they all carry the same attributes in the same order."""
        rep = getattr(c, "replica", None)
        if rep is not None:
            span.replica = f"{_service_name(rep.service.name)}-{rep.index}"
            span.attributes["k8s.pod.name"] = span.replica
        span.attributes["scalesim.endpoint"] = ep.ref
        self._open(span)
        self.server[c] = span
        return span

    def _delivered(self, c: Call, ep: EndpointRuntime, service: str) -> Span | None:
        """A saga step that no call site sent: a choreographed saga's event reaching its next
        participant (a `CONSUMER` span that follows from the saga's span), or a step the
        orchestrator runs in its own thread (an `INTERNAL` child of the saga's span); None for
        anything else."""
        role = _saga_role(c)
        if role is None:  # not a saga's step: its parent is none of ours
            return None
        saga = self.server.get(c.parent)
        if saga is None or saga.kind != INTERNAL:
            return None
        event = _reply_name(c).startswith("choreo")
        span = self._child(
            saga,
            f"{role} {ep.ref}",
            CONSUMER if event else INTERNAL,
            service,
            c.t_arrive,
            follows_from=event,
        )
        span.attributes["scalesim.saga.role"] = role
        span.attributes["scalesim.saga"] = saga.attributes.get("scalesim.saga", "")
        return self._open_server_span(span, c, ep)

    def _sidecar(self, client: Span, c: Call) -> None:
        leg = c.t_arrive - c.t0
        if self.net_const is not None:
            share = max(0.0, leg - self.net_const)
            name = "sidecar"
        else:
            share = leg
            name = "sidecar + network"
        span = self._child(
            client,
            name,
            INTERNAL,
            client.service,
            c.t0,
            c.t0 + share,
        )
        span.attributes["scalesim.hop"] = (
            f"{client.service} -> {client.attributes['server.address']}"
        )
        self._add_finished(span)

    def worked(self, c: Call) -> None:
        """The call's own work has ended: note its queueing and work time."""
        start = self.began.pop(c, None)
        span = self.serve(c)
        if span is None:
            return
        if start is None:
            start = c.t_arrive
        now = self.now()
        span.attributes["scalesim.queue_ms"] = round((start - c.t_arrive) * 1000, 6)
        span.attributes["scalesim.work_ms"] = round((now - start) * 1000, 6)

    def served(self, c: Call, status: int, ep: EndpointRuntime) -> None:
        span = self.server.pop(c, None)
        if span is None:
            span = self.serve(c, ep)  # turned away before any work (queue full, no replica)
            if span is None:
                return
            self.server.pop(c, None)
        self.began.pop(c, None)
        if status:
            span.attributes["error.type"] = CAUSE_NAMES[status]
        msg = c.parent
        if span.kind == CONSUMER and status == OK and isinstance(msg, Message):
            producer = self.messages.pop((msg.id, msg.t_published), None)
            if producer is not None:
                trace = self.trace_of.get(producer.trace_id)
                if trace is not None:
                    trace.open -= 1  # the message is consumed
        self._close(span, status)

    # ---- data ----------------------------------------------------------------------------

    def query(
        self, x: Call, db: str, engine: str, operation: str, waited: float, took: float
    ) -> None:
        parent = self.server.get(x)
        if parent is not None:
            self._db_span(parent, db, engine, operation, waited, took)

    def _db_span(
        self, parent: Span, db: str, engine: str, operation: str, waited: float, took: float
    ) -> Span:
        """A database operation under `parent`: from asking the pool for a connection
        (`waited` ago) until the answer (`took` from now)."""
        now = self.now()
        span = self._child(
            parent,
            f"{operation} {db}",
            CLIENT,
            parent.service,
            now - waited,
            now + took,
        )
        span.attributes.update(
            {
                "db.system.name": engine,
                "db.operation.name": operation,
                "db.namespace": db,
                "server.address": db,
                "scalesim.pool_wait_ms": round(waited * 1000, 6),
            }
        )
        span.replica = parent.replica
        self._add_finished(span)
        return span

    # ---- sagas ---------------------------------------------------------------------------

    def saga_begin(self, inst: Any, name: str, mode: str) -> None:
        """An `INTERNAL` span `saga {name}` from start to outcome, under the server span of the
        call that started it; it keeps its trace open until the saga ends, so steps after the
        pivot (run once the request has its answer) and the state writes are in the trace."""
        parent = self.server.get(inst.call)
        if parent is None:
            return
        span = self._child(
            parent,
            f"saga {name}",
            INTERNAL,
            parent.service,
            self.now(),
        )
        span.attributes["scalesim.saga"] = name
        span.attributes["scalesim.saga.mode"] = mode
        span.replica = parent.replica
        self._open(span)
        self.server[inst] = span  # the saga's calls hang under it (`parent_span`)

    def saga_end(self, inst: Any, outcome: str, status: int) -> None:
        span = self.server.pop(inst, None)
        if span is None:
            return
        span.attributes["scalesim.saga.outcome"] = outcome
        if status:
            span.attributes["error.type"] = CAUSE_NAMES[status]
        self._close(span, status)

    def saga_write(
        self, inst: Any, db: str, engine: str, waited: float, took: float, saga: str
    ) -> None:
        """The orchestrator persisting a transition of the saga (its `stateStore`)."""
        parent = self.server.get(inst)
        if parent is None:
            return
        span = self._db_span(parent, db, engine, "write", waited, took)
        span.attributes["scalesim.saga"] = saga
        span.attributes["scalesim.saga.step"] = inst.step

    # ---- event stores --------------------------------------------------------------------

    def appended(
        self,
        x: Call,
        store: Any,
        t0: float,
        events: int,
        attempts: int,
        status: int,
    ) -> None:
        """An append step has its answer: a `PRODUCER` span `streams.append {store}` from the
        step's start (aggregate load, conflicts and retries included) until now, as the
        EventStoreDB clients' instrumentation names it. A written append is awaited by each
        projection of the store: their spans follow from this one (`projected`)."""
        parent = self.server.get(x)
        if parent is None:
            return
        span = self._child(
            parent,
            f"streams.append {store.name}",
            PRODUCER,
            parent.service,
            t0,
            self.now(),
        )
        span.attributes.update(
            {
                "db.system.name": "eventstoredb",
                "db.operation.name": "streams.append",
                "db.eventstoredb.stream": store.name,
                "server.address": store.name,
                "scalesim.events": events,
                "scalesim.append.attempts": attempts,
            }
        )
        span.replica = parent.replica
        if status:
            span.error = CAUSE_NAMES[status]
            span.attributes["error.type"] = CAUSE_NAMES[status]
        self._add_finished(span)
        if status:
            return
        trace = self.trace_of.get(span.trace_id)
        for projection in store.projections:
            self.awaiting.setdefault(projection, deque()).append((store.head, span))
            if trace is not None:
                trace.open += 1

    def projected(self, projection: Any, start: float, upto: int) -> None:
        """A projection's batch up to position `upto` is applied: a `CONSUMER` span per traced
        append in it, following from the append, from when the read that fetched the batch
        began (not before the append ended) until the batch's checkpoint."""
        waiting = self.awaiting.get(projection)
        if not waiting:
            return
        now = self.now()
        store = projection.store.name
        while waiting and waiting[0][0] <= upto:
            _, producer = waiting.popleft()
            span = self._child(
                producer,
                f"streams.subscribe {store}",
                CONSUMER,
                _service_name(projection.service.name),
                max(start, producer.end),
                now,
                follows_from=True,
            )
            span.attributes.update(
                {
                    "db.system.name": "eventstoredb",
                    "db.operation.name": "streams.subscribe",
                    "db.eventstoredb.stream": store,
                    "db.eventstoredb.subscription.id": projection.name,
                    "scalesim.batch": projection.k,
                    "scalesim.lag_ms": round((now - producer.end) * 1000, 6),
                }
            )
            leader = projection.leader()
            span.replica = f"{_service_name(leader.service.name)}-{leader.index}"
            span.attributes["k8s.pod.name"] = span.replica
            trace = self.trace_of.get(span.trace_id)
            if trace is not None:
                trace.spans.append(span)
                trace.open -= 1
                if trace.open == 0:
                    self._complete(trace)

    def publish(self, x: Call, topic: TopicRuntime, system: str, ack: float) -> Span | None:
        parent = self.server.get(x)
        if parent is None:
            return None
        now = self.now()
        span = self._child(
            parent,
            f"publish {topic.name}",
            PRODUCER,
            parent.service,
            now,
            now + ack,
        )
        span.attributes.update(
            {
                "messaging.system": system,
                "messaging.destination.name": topic.name,
                "messaging.operation.type": "publish",
            }
        )
        span.replica = parent.replica
        self._add_finished(span)
        return span

    def accepted(self, arg: tuple[TopicRuntime, float, Span]) -> None:
        """The broker has a traced message: each group's copy remembers its producer span."""
        topic, t_published, span = arg
        first = topic.next_id + 1
        topic.accept(t_published)
        trace = self.trace_of.get(span.trace_id)
        for msg_id in range(first, topic.next_id + 1):
            self.messages[(msg_id, t_published)] = span
            if trace is not None:
                trace.open += 1


def _method(site: CallSite) -> str:
    if site.target_service == _GATEWAY:
        return site.target_endpoint.split(" ", 1)[0] if " " in site.target_endpoint else ""
    try:
        model = site.engine.arch.spec.services[site.target_service].endpoints[site.target_endpoint]
    except KeyError:
        return ""
    return model.method


def _reply_name(c: Call) -> str:
    """The name of the function the call's reply runs (a saga's `forward_reply`...): "" for a
    step's or an entry's own reply."""
    reply = c.reply
    fn = reply.fn if isinstance(reply, FunctionHandler) else None
    return getattr(fn, "__name__", "")


def _saga_role(c: Call) -> str | None:
    name = _reply_name(c)
    if "comp_reply" in name:
        return "compensate"
    if name in ("forward_reply", "first_reply", "choreo_reply"):
        return "saga-step"
    return None


class TracedEndpointRuntime(EndpointRuntime):
    """An endpoint that reports its calls' server spans to the tracer (traced runs only)."""

    __slots__ = ("tracer",)

    tracer: Tracer

    def begin(self, c: Call) -> None:
        self.tracer.began[c] = self.kernel.now
        super().begin(c)

    def work_done(self, c: Call) -> None:
        if c.endpoint is self:
            self.tracer.worked(c)
        super().work_done(c)

    def finish(self, c: Call, status: int) -> None:
        self.tracer.served(c, status, self)
        super().finish(c, status)

    def refuse(self, c: Call, status: int) -> None:
        self.tracer.served(c, status, self)
        super().refuse(c, status)


class QuerySpans(QueryStepRuntime):
    """The `run` of a traced query step: the plain one, then the query reported as a span.

    Shared by the fixed-`repeat` step here and the drawn-`repeat` one in `workflows.py`, so the
    two report queries alike. It adds no slots, so it can be mixed in before any subclass of
    `QueryStepRuntime`; each traced class declares the three slots it reads."""

    __slots__ = ()

    tracer: Tracer
    engine_name: str
    operation: str

    def run(self, x: Call, waited: float) -> None:
        k = self.kernel
        latency = self.latency.draw()
        self.db.served(waited, latency)
        k.seq += 1
        k.push(k.now + latency, k.seq, self.done_, x)
        self.tracer.query(x, self.db.name, self.engine_name, self.operation, waited, latency)


class TracedQueryStepRuntime(QuerySpans):
    """A query step that reports each query as a span (traced runs only)."""

    __slots__ = ("engine_name", "operation", "tracer")


class TracedPublishStepRuntime(PublishStepRuntime):
    """A publish step whose traced messages carry their producer span to the consumers."""

    __slots__ = ("system", "tracer")

    tracer: Tracer
    system: str

    def start(self, x: Call) -> bool:
        if self.probability < 1.0 and self.prob_rnd() >= self.probability:
            return True
        ack = self.ack.draw()
        span = self.tracer.publish(x, self.topic, self.system, ack)
        if span is None:
            self.topic.publish(ack)
        else:
            self.kernel.schedule(ack, self.tracer.accepted, (self.topic, self.kernel.now, span))
        self.kernel.schedule(ack, self.acked_, x)
        return False
