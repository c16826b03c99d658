"""The caller's own resilience policies on a call: fallback, retry, circuit breaker, bulkhead.

One client layer applies a call site's `ClientPolicy` in Resilience4j's aspect order, outermost
first::

    Fallback ( Retry ( CircuitBreaker ( Bulkhead ( timeout ( sidecar / network ( call ))))))

which is Resilience4j's `Retry ( CircuitBreaker ( RateLimiter ( TimeLimiter ( Bulkhead (...)))))`
(aspect orders LOWEST_PRECEDENCE−5 … −1) without a client-side rate limiter, with the fallback
outermost as an annotated method's fallback is, and with the call's `timeout` inside the
bulkhead, as an HTTP client's timeout is (docs/resilience.md explains why not a TimeLimiter).
Every retry passes through the breaker and the bulkhead again, so the breaker counts attempts,
and retries of calls it refused (`circuit_open`) are retried too when `retryOn` says so — as
Resilience4j does by default.

Breakers and bulkheads exist once per application instance in reality, so here once per caller
replica (a restarted container starts with fresh ones); instances are shared by every call site
of the caller whose policy refers to the same breaker or bulkhead (a `clients:` entry), and a
step's inline breaker is its own instance.

Everything is one state object per call and one `Call` per attempt; a site without any of these
policies keeps the `next` it was given (no cost).
"""

from __future__ import annotations

from typing import Any, Final

from scalesim_patterns.model.resilience import (
    ClientPolicy,
    EnvoyRetry,
    Fallback,
    Resilience4jRetry,
)
from scalesim_patterns.model.resilience import (
    ConsecutiveFailureBreaker as ConsecutiveSpec,
)
from scalesim_patterns.model.resilience import (
    FailureRateBreaker as FailureRateSpec,
)
from scalesim_patterns.model.resilience import (
    SemaphoreBulkhead as SemaphoreSpec,
)
from scalesim_patterns.model.resilience import (
    ThreadPoolBulkhead as ThreadPoolSpec,
)
from scalesim_patterns.sim.core.causes import (
    BULKHEAD_FULL,
    CAUSE_NAMES,
    CIRCUIT_OPEN,
    OK,
    TIMEOUT,
    cause_code,
)
from scalesim_patterns.sim.core.kernel import FunctionHandler, Kernel
from scalesim_patterns.sim.core.rng import Sampler
from scalesim_patterns.sim.mechanisms.breaker import (
    CircuitBreaker,
    ConsecutiveFailureBreaker,
    FailureRateBreaker,
)
from scalesim_patterns.sim.mechanisms.bulkhead import (
    QUEUED,
    REJECTED,
    RUN,
    SemaphoreBulkhead,
    ThreadPoolBulkhead,
)
from scalesim_patterns.sim.mechanisms.retry import EnvoyRetryPolicy, RetryPolicy, RetryStyle
from scalesim_patterns.sim.network.balancing import caller_replica
from scalesim_patterns.sim.network.pipeline import CallSite, Invoke
from scalesim_patterns.sim.network.station import (
    ABANDONED,
    ANSWERED,
    PENDING,
    Call,
    EndpointRuntime,
    Replica,
)
from scalesim_patterns.sim.network.traffic import consumer_of
from scalesim_patterns.sim.reports.telemetry import BreakerRecord, ClientStats, client_stats

__all__ = [
    "GuardTable",
    "client_layer",
    "make_breaker",
    "make_bulkhead",
    "make_retry",
]


def make_breaker(spec: Any) -> CircuitBreaker:
    if isinstance(spec, FailureRateSpec):
        return FailureRateBreaker(
            window_type=spec.window_type,
            window_size=spec.window_size,
            minimum_calls=spec.minimum_calls,
            failure_rate_threshold=spec.failure_rate_threshold,
            slow_call_rate_threshold=spec.slow_call_rate_threshold,
            slow_call_duration=spec.slow_call_duration,
            wait_in_open=spec.wait_in_open,
            permitted_in_half_open=spec.permitted_in_half_open,
            wait_multiplier=spec.wait_multiplier,
            max_wait=spec.max_wait,
        )
    return ConsecutiveFailureBreaker(fail_max=spec.fail_max, reset_timeout=spec.reset_timeout)


def make_bulkhead(spec: Any) -> SemaphoreBulkhead[Any] | ThreadPoolBulkhead[Any]:
    if isinstance(spec, SemaphoreSpec):
        return SemaphoreBulkhead(spec.max_concurrent, spec.max_wait)
    assert isinstance(spec, ThreadPoolSpec)
    return ThreadPoolBulkhead(
        core_threads=spec.core_threads,
        max_threads=spec.max_threads,
        queue_capacity=spec.queue_capacity,
        keep_alive=spec.keep_alive,
    )


def make_retry(spec: Resilience4jRetry | EnvoyRetry) -> RetryStyle:
    if isinstance(spec, Resilience4jRetry):
        return RetryPolicy(
            max_attempts=spec.max_attempts,
            wait=spec.wait,
            backoff=spec.backoff,
            multiplier=spec.multiplier,
            randomization=spec.randomization,
            max_wait=spec.max_wait,
            retry_on=spec.retry_on,
        )
    return EnvoyRetryPolicy(
        num_retries=spec.attempts,
        retry_on=spec.retry_on,
        base_interval=spec.base_interval,
        max_interval=spec.max_interval,
        per_try_timeout=spec.per_try_timeout,
    )


_SUCCESS: Final = 0
_FAILURE: Final = 1
_IGNORED: Final = 2


def _verdicts(spec: FailureRateSpec | ConsecutiveSpec | None) -> tuple[int, ...]:
    """Success, failure or ignored for each outcome code, as Resilience4j classifies an
    exception: ignored if in `ignoreExceptions`, else a failure if `recordExceptions` is empty
    or lists it, else a success. Every cause reaching the breaker counts, the rejections of the
    bulkhead inside it included."""
    out = [_SUCCESS] * len(CAUSE_NAMES)
    if spec is None:
        return tuple(out)
    ignored = {cause_code(c) for c in spec.ignore_on}
    recorded = {cause_code(c) for c in spec.record_on} if spec.record_on is not None else None
    for code in range(1, len(CAUSE_NAMES)):
        if code in ignored:
            out[code] = _IGNORED
        elif recorded is None or code in recorded:
            out[code] = _FAILURE
    return tuple(out)


class _Guards:
    """The breaker and bulkhead of one caller replica for one policy."""

    __slots__ = ("breaker", "bulkhead", "semaphore")

    def __init__(
        self,
        breaker: CircuitBreaker | None,
        bulkhead: SemaphoreBulkhead[Any] | ThreadPoolBulkhead[Any] | None,
    ) -> None:
        self.breaker = breaker
        self.bulkhead = bulkhead
        self.semaphore = isinstance(bulkhead, SemaphoreBulkhead)


_UNGUARDED: Final = _Guards(None, None)
"""The guards of a policy with neither breaker nor bulkhead (shared: it holds nothing)."""

GuardKey = tuple[str, str, int, int, Replica | None]
"""(caller, target service, id of the breaker spec, id of the bulkhead spec, caller replica)."""


class GuardTable(dict[GuardKey, _Guards]):
    """Plug-in state: the breakers and bulkheads of every caller replica, by policy."""


class _Client:
    """The compiled policy of one call site."""

    def __init__(self, site: CallSite, nxt: Invoke, policy: ClientPolicy) -> None:
        engine = site.engine
        self.kernel: Kernel = engine.kernel
        self.next = nxt
        self.endpoint: EndpointRuntime = site.endpoint
        self.stats: ClientStats = client_stats(engine, site.caller, site.target_service)
        self.retry: RetryStyle | None = make_retry(policy.retry) if policy.retry else None
        self.retry_rnd = site.stream("retry").random
        self.per_try = (
            policy.retry.per_try_timeout if isinstance(policy.retry, EnvoyRetry) else None
        )
        self.breaker_spec = policy.circuit_breaker
        self.verdicts = _verdicts(policy.circuit_breaker)
        """What the breaker makes of each outcome code (index: `CAUSE_NAMES`)."""
        self.bulkhead_spec = policy.bulkhead
        self.fallback: Fallback | None = policy.fallback
        self.fallback_on: frozenset[int] = frozenset(
            cause_code(c) for c in (policy.fallback.on if policy.fallback else ())
        )
        self.fallback_latency: Sampler | None = (
            engine.streams.sampler(policy.fallback.latency, f"fallback:{site.name}")
            if policy.fallback is not None and policy.fallback.latency is not None
            else None
        )
        self.fallback_ok = policy.fallback is not None and policy.fallback.outcome == "success"
        self.max_wait = (
            policy.bulkhead.max_wait if isinstance(policy.bulkhead, SemaphoreSpec) else 0.0
        )
        # Guards are shared per caller replica by every site whose policy holds the same
        # breaker/bulkhead objects; the table lives on the engine.
        self.guards_table = engine.plugins.obtain(GuardTable)
        self.guard_key = (
            site.caller,
            site.target_service,
            id(policy.circuit_breaker),
            id(policy.bulkhead),
        )
        self.per_consumer = policy.bulkhead is not None and policy.bulkhead.per_consumer
        self.by_replica: dict[Replica | None, _Guards] = {}
        """This site's own index of the shared table, by caller replica: the table's key is a
        tuple built and hashed per call, this one the replica itself."""
        self.tenants: dict[tuple[Replica | None, str | None], _Guards] = {}
        """Per-tenant guards (`perConsumer`), by caller replica and consumer."""
        self.guarded = policy.circuit_breaker is not None or policy.bulkhead is not None
        """False for a retry or fallback alone: no breaker or bulkhead to look up per call."""
        self.reply_ = FunctionHandler(self.reply)
        self.expire_ = self.expire
        self.answer_later_ = self.answer_later
        self.try_later_ = self.try_later
        self.attempt_expired_ = self.attempt_expired

    # -- instances per caller replica -------------------------------------------------------

    def guards(self, c: Call) -> _Guards:
        if self.per_consumer:
            return self.tenant_guards(c)
        rep = caller_replica(c)
        g = self.by_replica.get(rep)
        if g is not None:
            return g
        key: GuardKey = (*self.guard_key, rep)
        g = self.guards_table.get(key)
        if g is None:
            breaker = make_breaker(self.breaker_spec) if self.breaker_spec is not None else None
            bulkhead = make_bulkhead(self.bulkhead_spec) if self.bulkhead_spec is not None else None
            g = self.guards_table[key] = _Guards(breaker, bulkhead)
            if breaker is not None:
                label = f"{rep.service.name}#{rep.index}" if rep is not None else "-"
                kind = "failure-rate" if isinstance(breaker, FailureRateBreaker) else "consecutive"
                self.stats.breakers.append(BreakerRecord(label, kind, breaker, self.kernel.now))
        self.by_replica[rep] = g
        return g

    def tenant_guards(self, c: Call) -> _Guards:
        """A per-tenant bulkhead: the replica's breaker, a bulkhead (semaphore, or thread pool
        with its own queue) of the call's consumer."""
        consumer = consumer_of(c)
        table = self.tenants
        key = (caller_replica(c), consumer)
        g = table.get(key)
        if g is None:
            shared = self.guards_without_tenant(c)
            assert self.bulkhead_spec is not None
            g = table[key] = _Guards(shared.breaker, make_bulkhead(self.bulkhead_spec))
        return g

    def guards_without_tenant(self, c: Call) -> _Guards:
        saved = self.per_consumer
        self.per_consumer = False
        try:
            return self.guards(c)
        finally:
            self.per_consumer = saved

    # -- the call ---------------------------------------------------------------------------

    def invoke(self, o: Call) -> None:
        self.stats.calls += 1
        if self.guarded:
            self.attempt(_Exchange(self, o, self.guards(o)))
        else:
            # The common case of a retry policy that never fires: no guards to find (their
            # table entry would hold nothing), nothing to acquire; `send`, inlined.
            ex = _Exchange(self, o, _UNGUARDED)
            a = Call(self.endpoint, self.reply_, ex, self.kernel.now)
            self.stats.attempts += 1
            if self.per_try is not None:
                self.kernel.schedule(self.per_try, self.attempt_expired_, a)
            self.next(a)

    def attempt(self, ex: _Exchange) -> None:
        now = self.kernel.now
        g = ex.guards
        breaker = g.breaker
        if breaker is not None:
            if not breaker.try_acquire(now):
                self.stats.not_permitted += 1
                self.failed(ex, CIRCUIT_OPEN)
                return
            ex.permitted = True
            ex.t_try = now
        bh = g.bulkhead
        if bh is None:
            self.send(ex)
        elif g.semaphore:
            assert isinstance(bh, SemaphoreBulkhead)
            if bh.try_enter(now):
                ex.holds = True
                self.send(ex)
            elif bh.enqueue(ex, now):
                self.kernel.schedule(self.max_wait, self.expire_, (ex, ex.tries))
            else:
                self.stats.bulkhead_full += 1
                self.done(ex, BULKHEAD_FULL)
        else:
            assert isinstance(bh, ThreadPoolBulkhead)
            decision = bh.submit(ex, now)
            if decision == RUN:
                ex.holds = True
                self.send(ex)
            elif decision == REJECTED:
                self.stats.bulkhead_full += 1
                self.done(ex, BULKHEAD_FULL)
            else:
                assert decision == QUEUED

    def expire(self, arg: tuple[_Exchange, int]) -> None:
        """The attempt's `maxWait` for a permit ran out (if it is still the one waiting)."""
        ex, tries = arg
        if ex.tries != tries:
            return
        bh = ex.guards.bulkhead
        assert isinstance(bh, SemaphoreBulkhead)
        if bh.expire(ex, self.kernel.now):
            self.stats.bulkhead_full += 1
            self.done(ex, BULKHEAD_FULL)

    def send(self, ex: _Exchange) -> None:
        a = Call(self.endpoint, self.reply_, ex, self.kernel.now)
        self.stats.attempts += 1
        if self.per_try is not None:
            self.kernel.schedule(self.per_try, self.attempt_expired_, a)
        self.next(a)

    def attempt_expired(self, a: Call) -> None:
        if a.state == PENDING:
            a.state = ABANDONED
            a.status = TIMEOUT
            self.reply(a)

    def reply(self, a: Call) -> None:
        ex: _Exchange = a.parent
        if not a.status and not ex.permitted and not ex.holds:
            # A success outside any guard: `done` then `answer`, inlined (the common case).
            o = ex.origin
            if o.state == PENDING:
                o.status = OK
                o.state = ANSWERED
                o.reply.handle(o)
            return
        if ex.holds:
            ex.holds = False
            self.release(ex)
        self.done(ex, a.status)

    def release(self, ex: _Exchange) -> None:
        """The attempt left the bulkhead: its permit (or thread) goes to the next waiter."""
        bh = ex.guards.bulkhead
        now = self.kernel.now
        if ex.guards.semaphore:
            assert isinstance(bh, SemaphoreBulkhead)
            woken = bh.release(now)
        else:
            assert isinstance(bh, ThreadPoolBulkhead)
            woken = bh.complete(now)
        if woken is not None:
            woken.holds = True
            woken.client.send(woken)

    def done(self, ex: _Exchange, status: int) -> None:
        """An attempt ended (inside the breaker): record it, then retry or answer."""
        if ex.permitted:
            ex.permitted = False
            breaker = ex.guards.breaker
            assert breaker is not None
            now = self.kernel.now
            verdict = self.verdicts[status]
            if verdict == _FAILURE:
                breaker.on_failure(now, now - ex.t_try)
            elif verdict == _SUCCESS:
                breaker.on_success(now, now - ex.t_try)
            else:
                breaker.on_ignored(now)
        if status == OK:
            self.answer(ex, OK)
        else:
            self.failed(ex, status)

    def failed(self, ex: _Exchange, status: int) -> None:
        retry = self.retry
        if retry is not None and retry.should_retry(ex.tries, CAUSE_NAMES[status]):
            wait = retry.backoff(ex.tries, self.retry_rnd())
            ex.tries += 1
            self.stats.retries += 1
            if wait > 0:
                self.kernel.schedule(wait, self.try_later_, ex)
            else:
                self.attempt(ex)
            return
        if self.fallback is not None and status in self.fallback_on:
            self.stats.fallbacks += 1
            result = OK if self.fallback_ok else status
            if self.fallback_latency is not None:
                ex.result = result
                self.kernel.schedule(self.fallback_latency.draw(), self.answer_later_, ex)
            else:
                self.answer(ex, result)
            return
        self.answer(ex, status)

    def try_later(self, ex: _Exchange) -> None:
        self.attempt(ex)

    def answer_later(self, ex: _Exchange) -> None:
        self.answer(ex, ex.result)

    def answer(self, ex: _Exchange, status: int) -> None:
        if status:
            self.stats.failed += 1
        o = ex.origin
        if o.state == PENDING:
            o.status = status
            o.state = ANSWERED
            o.reply.handle(o)


class _Exchange:
    """One call through the client layer: its attempts, permits and outcome."""

    __slots__ = (
        "client",
        "guards",
        "holds",
        "origin",
        "permitted",
        "result",
        "t_try",
        "tries",
    )

    def __init__(self, client: _Client, origin: Call, guards: _Guards) -> None:
        self.client = client
        self.origin = origin
        """The caller's call."""
        self.guards = guards
        self.tries = 1
        """Attempts started so far, the current one included."""
        self.permitted = False
        self.holds = False
        self.t_try = 0.0
        self.result = OK


def client_layer(site: CallSite, nxt: Invoke) -> Invoke:
    """The layer factory (sim/extensions.py lists it): the site's own policies, if any."""
    policy = site.policy
    if (
        policy.retry is None
        and policy.circuit_breaker is None
        and policy.bulkhead is None
        and policy.fallback is None
    ):
        return nxt
    return _Client(site, nxt, policy).invoke
